import * as fs from 'fs';
import * as path from 'path';

/** Environment variable naming the folder where a notebook writes its tables and figures. */
export const RESULTS_DIR_ENV = 'MARL_AUTOML_RESULTS_DIR';
/** Environment variable with the running notebook's name (set by the headless runner). */
export const NOTEBOOK_NAME_ENV = 'MARL_AUTOML_NOTEBOOK';

let override: string | undefined;

/**
 * The running notebook's name: `MARL_AUTOML_NOTEBOOK` (set by the headless runner, and by the project
 * kernel from the Jupyter server's session list where the front end does not pass the name, as in
 * classic Notebook 6.4), else the notebook path Jupyter Server 2 passes as `JPY_SESSION_NAME`, else
 * `interactive`.
 *
 * @example
 * ```ts
 * notebookName(); // '03-main-comparison' under `npm run notebooks`
 * ```
 */
export function notebookName(env: NodeJS.ProcessEnv = process.env): string {
  const fromRunner = env[NOTEBOOK_NAME_ENV];
  if (fromRunner) return fromRunner;
  const session = env.JPY_SESSION_NAME;
  if (session && session.endsWith('.ipynb')) return path.basename(session, '.ipynb');
  return 'interactive';
}

/**
 * Folder where the current notebook saves tables, figures and raw data: the value set by
 * {@link setResultsDir}, else `MARL_AUTOML_RESULTS_DIR` (set by the headless runner), else
 * `results/<notebook name>` under the working directory (the repository root in the project
 * kernel). The folder is created when missing.
 *
 * @example
 * ```ts
 * const dir = resultsDir(); // e.g. /repo/results/99-toolchain-check
 * fs.writeFileSync(path.join(dir, 'raw.json'), JSON.stringify(runs));
 * ```
 */
export function resultsDir(): string {
  const dir = override ?? process.env[RESULTS_DIR_ENV] ?? path.resolve('results', notebookName());
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Overrides {@link resultsDir} for this process (pass `undefined` to go back to the default).
 *
 * @example
 * ```ts
 * setResultsDir('results/my-experiment');
 * ```
 */
export function setResultsDir(dir: string | undefined): void {
  if (dir !== undefined && (typeof dir !== 'string' || dir.trim() === '')) {
    throw new Error(`setResultsDir: expected a non-empty folder path, got ${JSON.stringify(dir)}`);
  }
  override = dir === undefined ? undefined : path.resolve(dir);
}
