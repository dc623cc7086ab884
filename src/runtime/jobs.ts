import * as fs from 'fs';
import * as path from 'path';
import { Rng, deriveSeed } from '../random';
import { hashJson, JsonValue, stableStringify } from './json';

/**
 * One independent unit of work: an episode batch, a pipeline evaluation, one seed of an
 * experiment. Everything a job computes must follow from these four fields (and the code version
 * of its kind), never from which worker runs it or when.
 */
export interface Job {
  /** Unique name of the job inside an experiment, e.g. `"lr=0.1/seed=3"`. Seeds derive from it. */
  key: string;
  /** Name of a kind registered with {@link defineJobKind}. */
  kind: string;
  /** JSON-serialisable configuration passed to the work function. */
  config: unknown;
  /** Integer seed; the job's random streams are `new Rng(seed).fork(key)`. */
  seed: number;
}

/** What a work function receives next to its configuration. */
export interface JobContext {
  key: string;
  kind: string;
  seed: number;
  /** 0 for the first attempt, 1 for the first retry, ... (for diagnostics; results must not depend on it). */
  attempt: number;
  /** Stream seeded from the job's seed and key only: `new Rng(seed).fork(key)`. */
  rng: Rng;
  /** `deriveSeed(seed, key)`: a 32-bit integer for tfjs ops that take a seed. */
  jobSeed: number;
  /**
   * Aborted when the run is cancelled (a notebook interrupt, `Executor.close()`), where the
   * executor runs the job in the caller's thread. Long work functions pass it on to their loops
   * (e.g. `trainGannoAgents`' `hooks.signal`), which stop between steps. Absent in worker threads:
   * the pool stops those by terminating the worker. Results must never depend on it.
   */
  signal?: AbortSignal;
}

/** A work function: runs one job and returns a JSON-serialisable result (typed arrays allowed). */
// `any` on purpose: a work function typed for its own config must be assignable here (parameter bivariance).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type WorkFunction = (config: any, ctx: JobContext) => unknown | Promise<unknown>;

/** Definition of a job kind: where its work function lives and which code version it is. */
export interface JobKindSpec {
  /** Unique kind name, e.g. `ganno-episode`. */
  name: string;
  /** Absolute path of the module exporting the work function (usually `__filename`). */
  module: string;
  /** Name of the exported work function. */
  export: string;
  /**
   * Code-relevant version, e.g. `ganno-env@1`. It is part of every run's hash: bump it when the
   * algorithm changes so cached results are recomputed on purpose. Defaults of the configuration
   * do not need a bump when the kind has a `resolveConfig` (the run hash covers the resolved
   * configuration); the behaviour pins in `test/runtime/job-kind-versions.test.ts` fail when a
   * kind's results change while its version stays the same.
   */
  version: string;
}

/**
 * Turns a job's configuration into the fully resolved configuration the work function acts on:
 * validated, every default applied (e.g. the default GANNO feature list, reward kind, PPO
 * settings). It must be pure and deterministic; its output must be JSON-serialisable. Two
 * configurations that behave the same should resolve to the same value.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ConfigResolver = (config: any) => unknown;

const registry = new Map<string, JobKindSpec>();
/** Config resolvers of the kinds that have one (main thread only: the run hash is computed there). */
const resolvers = new Map<string, ConfigResolver>();
/** Work functions handed to {@link defineJobKind} directly, for executors in this thread. */
const localFunctions = new Map<string, WorkFunction>();
/** Loaded work functions by `module#export`. */
const fnCache = new Map<string, WorkFunction>();

/**
 * Registers a job kind. Workers cannot receive closures, so a kind names a module and an export;
 * the worker `require`s the module (TypeScript works through tsx) and calls the export.
 * Registering the same name again from the same module replaces the definition (a module may be
 * loaded again, e.g. re-evaluated in a notebook with a bumped version); registering it from a
 * different module is an error (two kinds would silently share cached results).
 * Pass `fn` (the exported function itself) so in-thread executors call it directly: required for
 * modules compiled by tslab in a notebook, whose `__filename` does not exist on disk.
 * Pass `resolveConfig` so the cache key follows behaviour: the run hash is computed from the
 * resolved configuration (defaults applied), so changing a default changes the key of every job
 * that relies on it, while two spellings of the same configuration share one key.
 *
 * @example
 * ```ts
 * export function trainOne(config: { lr: number }, ctx: JobContext) { return { loss: ... }; }
 * export const trainKind = defineJobKind({ name: 'train-mlp', module: __filename, export: 'trainOne', version: 'mlp@1', fn: trainOne });
 * const job = trainKind.job('lr=0.1', { lr: 0.1 }, 0);
 * ```
 */
export function defineJobKind(spec: JobKindSpec & { fn?: WorkFunction; resolveConfig?: ConfigResolver }): JobKind {
  for (const field of ['name', 'module', 'export', 'version'] as const) {
    if (typeof spec?.[field] !== 'string' || spec[field].length === 0) {
      throw new Error(
        `defineJobKind: field '${field}' must be a non-empty string, got ${JSON.stringify(spec?.[field])}`,
      );
    }
  }
  if (!path.isAbsolute(spec.module))
    throw new Error(
      `defineJobKind '${spec.name}': module must be an absolute path (use __filename), got '${spec.module}'`,
    );
  const clean: JobKindSpec = { name: spec.name, module: spec.module, export: spec.export, version: spec.version };
  const prev = registry.get(spec.name);
  if (prev && prev.module !== clean.module) {
    throw new Error(
      `defineJobKind: kind '${spec.name}' is already registered by ${prev.module}#${prev.export} (${prev.version}); ` +
        `cannot register it again from ${clean.module}#${clean.export}: choose another name`,
    );
  }
  if (spec.resolveConfig !== undefined && typeof spec.resolveConfig !== 'function')
    throw new Error(`defineJobKind '${spec.name}': resolveConfig must be a function`);
  registry.set(spec.name, clean);
  if (spec.resolveConfig) resolvers.set(spec.name, spec.resolveConfig);
  else resolvers.delete(spec.name);
  if (spec.fn !== undefined) {
    if (typeof spec.fn !== 'function') throw new Error(`defineJobKind '${spec.name}': fn must be a function`);
    localFunctions.set(spec.name, spec.fn);
  }
  fnCache.delete(`${clean.module}#${clean.export}`);
  return new JobKind(clean);
}

/** Handle returned by {@link defineJobKind}; builds jobs of this kind. */
export class JobKind {
  constructor(readonly spec: JobKindSpec) {}
  get name(): string {
    return this.spec.name;
  }
  /**
   * Builds a job of this kind.
   *
   * @example
   * ```ts
   * const jobs = [0, 1, 2].map((s) => kind.job(`seed=${s}`, { lr: 0.1 }, s));
   * ```
   */
  job(key: string, config: unknown, seed: number): Job {
    return { key, kind: this.spec.name, config, seed };
  }
}

/**
 * Names of every registered job kind (those whose defining module has been loaded), sorted.
 *
 * @example
 * ```ts
 * registeredJobKinds(); // ['ganno-eval-run', 'ganno-train', ...]
 * ```
 */
export function registeredJobKinds(): string[] {
  return [...registry.keys()].sort();
}

/**
 * The registered definition of `kind`, or an Error naming the kind and the registered ones.
 *
 * @example
 * ```ts
 * getJobKind('train-mlp').version; // 'mlp@1'
 * ```
 */
export function getJobKind(kind: string): JobKindSpec {
  const spec = registry.get(kind);
  if (!spec) {
    const known = [...registry.keys()];
    throw new Error(
      `unknown job kind '${kind}' (registered: ${known.length ? known.join(', ') : 'none'}); import the module that calls defineJobKind first`,
    );
  }
  return spec;
}

/**
 * Checks a job list: keys non-empty and unique, kinds registered, seeds integers, configs
 * JSON-serialisable. Throws an Error naming the job index, key and field.
 *
 * @example
 * ```ts
 * validateJobs([kind.job('a', {}, 0), kind.job('a', {}, 1)]); // throws "jobs[1]: duplicate key 'a' (also jobs[0])"
 * ```
 */
export function validateJobs(jobs: readonly Job[]): void {
  if (!Array.isArray(jobs)) throw new Error(`jobs must be an array, got ${typeof jobs}`);
  const seen = new Map<string, number>();
  jobs.forEach((job, i) => {
    if (job === null || typeof job !== 'object')
      throw new Error(`jobs[${i}]: must be an object {key, kind, config, seed}`);
    if (typeof job.key !== 'string' || job.key.length === 0)
      throw new Error(`jobs[${i}].key: must be a non-empty string, got ${JSON.stringify(job.key)}`);
    const prev = seen.get(job.key);
    if (prev !== undefined) throw new Error(`jobs[${i}]: duplicate key '${job.key}' (also jobs[${prev}])`);
    seen.set(job.key, i);
    if (typeof job.kind !== 'string')
      throw new Error(`jobs[${i}] '${job.key}'.kind: must be a string naming a registered job kind`);
    try {
      getJobKind(job.kind);
    } catch (err) {
      throw new Error(`jobs[${i}] '${job.key}': ${(err as Error).message}`, { cause: err });
    }
    if (!Number.isSafeInteger(job.seed))
      throw new Error(`jobs[${i}] '${job.key}'.seed: must be an integer, got ${JSON.stringify(job.seed)}`);
    stableStringify(job.config, `jobs[${i}] '${job.key}'.config`);
  });
}

/**
 * The configuration a job's cache key is computed from: its kind's `resolveConfig(job.config)`
 * (every default applied), or the configuration itself for kinds without a resolver. Errors of the
 * resolver (an invalid configuration) are raised naming the job.
 *
 * @example
 * ```ts
 * resolvedJobConfig(gannoTrainKind.job('a', { train: { updates: 1 }, root: 'r', label: 'a' }, 0));
 * // { train: { env: { features: [...all default features], agentRewards: 'team', ... }, credit: 'difference', ... }, ... }
 * ```
 */
export function resolvedJobConfig(job: Job): unknown {
  getJobKind(job.kind);
  const resolve = resolvers.get(job.kind);
  if (!resolve) return job.config;
  try {
    return resolve(job.config);
  } catch (err) {
    throw new Error(`job '${job.key}' (kind '${job.kind}'): invalid configuration: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * Stable identity of a run: SHA-256 of the sorted-key JSON of kind, code version, key, seed and
 * the resolved configuration ({@link resolvedJobConfig}: defaults applied). Equal hash means the
 * stored result can be reused; changing a default of a kind with a `resolveConfig` changes the hash.
 *
 * @example
 * ```ts
 * runHash(kind.job('a', { lr: 0.1 }, 0)); // '3f1c...' (64 hex chars)
 * ```
 */
export function runHash(job: Job): string {
  const spec = getJobKind(job.kind);
  return hashJson(
    {
      kind: job.kind,
      version: spec.version,
      key: job.key,
      seed: job.seed,
      config: resolvedJobConfig(job) as JsonValue,
    },
    `job '${job.key}'`,
  );
}

/**
 * The context a work function receives for `job` at `attempt`.
 *
 * @example
 * ```ts
 * const ctx = makeContext(kind.job('a', {}, 7), 0);
 * ctx.rng.next(); // same value in every thread, process and attempt
 * ```
 */
export function makeContext(job: Job, attempt: number, signal?: AbortSignal): JobContext {
  const ctx: JobContext = {
    key: job.key,
    kind: job.kind,
    seed: job.seed,
    attempt,
    rng: new Rng(job.seed).fork(job.key),
    jobSeed: deriveSeed(job.seed, job.key),
  };
  if (signal) ctx.signal = signal;
  return ctx;
}

/**
 * A job module path as it exists on disk. Under tslab, `__filename` of a TypeScript source is
 * reported with a `.js` extension that does not exist; fall back to the `.ts` source then (the
 * worker bootstrap registers tsx, so it can be required).
 */
export function resolveSourceModule(modulePath: string): string {
  if (!modulePath.endsWith('.js') || fs.existsSync(modulePath)) return modulePath;
  const ts = modulePath.slice(0, -3) + '.ts';
  return fs.existsSync(ts) ? ts : modulePath;
}

/** Loads the work function of a kind spec (`require(module)[export]`), with a clear error. */
export function loadWorkFunction(spec: JobKindSpec): WorkFunction {
  const id = `${spec.module}#${spec.export}`;
  const cached = fnCache.get(id);
  if (cached) return cached;
  const local = localFunctions.get(spec.name);
  if (local && registry.get(spec.name)?.module === spec.module) return local;
  let mod: Record<string, unknown>;
  try {
    mod = require(resolveSourceModule(spec.module));
  } catch (err) {
    throw new Error(`job kind '${spec.name}': cannot load module '${spec.module}': ${(err as Error).message}`, {
      cause: err,
    });
  }
  const fn = mod[spec.export];
  if (typeof fn !== 'function') {
    throw new Error(`job kind '${spec.name}': module '${spec.module}' has no exported function '${spec.export}'`);
  }
  fnCache.set(id, fn as WorkFunction);
  return fn as WorkFunction;
}
