/** Messages between the runner (parent) and the notebook process (child) over Node IPC. */

/** Parent → child: run these code cells in order in `rootDir`. */
export interface RunRequest {
  type: 'run';
  rootDir: string;
  cells: { index: number; source: string }[];
}

export type ChildMessage =
  | { type: 'ready' }
  | { type: 'cell-start'; index: number }
  | { type: 'stream'; index: number; name: 'stdout' | 'stderr'; text: string }
  | {
      type: 'display';
      index: number;
      data: Record<string, unknown>;
      metadata: Record<string, unknown>;
      displayId?: string;
      update: boolean;
    }
  | { type: 'error'; index: number; ename: string; evalue: string; traceback: string[] }
  | { type: 'cell-end'; index: number; ok: boolean; durationMs: number }
  | { type: 'done' };

/**
 * Global registry of async clean-up functions (e.g. closing the Chromium used for static figure
 * export). Notebook helpers register here; the headless runner calls them after the last cell so
 * the notebook process can exit promptly. Shared through a global symbol because notebook helpers
 * are compiled by tslab and are separate module instances from the runner's.
 */
export const CLEANUP_KEY = Symbol.for('marl-automl.notebook.cleanup');

/**
 * Registers `fn` to run when the headless runner finishes a notebook.
 *
 * @example
 * ```ts
 * registerCleanup(async () => { await pool.close(); });
 * ```
 */
export function registerCleanup(fn: () => Promise<void> | void): void {
  const g = globalThis as unknown as Record<symbol, Set<() => Promise<void> | void> | undefined>;
  let set = g[CLEANUP_KEY];
  if (!set) {
    set = new Set();
    g[CLEANUP_KEY] = set;
  }
  set.add(fn);
}

/**
 * Runs and clears all registered clean-up functions (errors are returned, not thrown).
 *
 * @example
 * ```ts
 * const errors = await runCleanups();
 * ```
 */
export async function runCleanups(): Promise<string[]> {
  const g = globalThis as unknown as Record<symbol, Set<() => Promise<void> | void> | undefined>;
  const set = g[CLEANUP_KEY];
  const errors: string[] = [];
  if (!set) return errors;
  for (const fn of [...set]) {
    try {
      await fn();
    } catch (err) {
      errors.push((err as Error).message ?? String(err));
    }
  }
  set.clear();
  return errors;
}
