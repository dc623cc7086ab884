/**
 * The CLIs' side of the compiled library that notebooks import (`./dist/src/...`): before
 * `npm run notebooks` or `npm run lab` starts a notebook, `dist/` is rebuilt when it is missing or
 * older than `src/` (see `jupyter/library-build.js`, which the notebooks' first cell also calls).
 */
import * as fs from 'fs';
import * as path from 'path';

interface LibraryBuildModule {
  ensureLibraryBuild(options: { root: string; quiet?: boolean; log?: (line: string) => void }): void;
}

/**
 * Whether a notebook imports the compiled library (its text names `./dist/src/` or the build check).
 *
 * @example
 * ```ts
 * usesCompiledLibrary('notebooks/12-ganno-vs-schedules.ipynb'); // true
 * ```
 */
export function usesCompiledLibrary(notebookFile: string): boolean {
  const text = fs.readFileSync(notebookFile, 'utf8');
  return text.includes('./dist/src/') || text.includes('jupyter/library-build');
}

/**
 * Builds `dist/` under `root` when missing or stale (prints what it does through `log`; nothing
 * when it is current). Throws with the compiler's output when the build fails. Does nothing when
 * `root` has no `jupyter/library-build.js` (not the project's repository).
 *
 * @example
 * ```ts
 * ensureLibraryBuildAt(process.cwd(), (line) => console.log(line));
 * ```
 */
export function ensureLibraryBuildAt(root: string, log: (line: string) => void): void {
  const file = path.join(root, 'jupyter', 'library-build.js');
  if (!fs.existsSync(file)) return;
  (require(file) as LibraryBuildModule).ensureLibraryBuild({ root, quiet: true, log });
}
