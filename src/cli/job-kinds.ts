/**
 * The job kinds a queue worker accepts: exactly those registered by this checkout's own modules
 * (listed here), at the code versions these modules declare. A queue message only names a kind;
 * the worker never loads a module a message names.
 */
import * as fs from 'fs';
import * as path from 'path';

/** Modules of this project that define job kinds (paths relative to src/). */
export const PROJECT_JOB_MODULES = [
  'bench/ganno',
  'bench/runtime',
  'ganno/evaluate',
  'ganno/experiments/sweep',
  'ganno/experiments/training',
  'ma2ml/evaluate',
  'ma2ml/experiments/reward-surrogate',
  'ma2ml/experiments/runs',
  'ma2ml/experiments/surrogate/search',
  'ma2ml/search',
  'marl/experiments/diluted',
  'marl/experiments/matrix',
] as const;

/** Root of this checkout (the folder holding package.json). */
export const CHECKOUT_ROOT = path.resolve(__dirname, '..', '..');

/**
 * Loads the project's job-kind modules, plus `extra` modules given by the operator on the
 * command line (`--kinds`), which must be files inside this checkout.
 *
 * @example
 * ```ts
 * loadProjectJobKinds(); // every kind of src/ganno, src/ma2ml, src/marl, src/bench is registered
 * ```
 */
export function loadProjectJobKinds(extra: readonly string[] = []): void {
  for (const m of PROJECT_JOB_MODULES) require(path.join(__dirname, '..', m));
  for (const m of extra) {
    const abs = path.resolve(m);
    const rel = path.relative(CHECKOUT_ROOT, abs);
    if (rel.startsWith('..') || path.isAbsolute(rel))
      throw new Error(`--kinds ${m}: must be a module inside this checkout (${CHECKOUT_ROOT})`);
    if (!fs.existsSync(abs)) throw new Error(`--kinds ${m}: no such file`);
    require(abs);
  }
}
