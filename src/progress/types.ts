/**
 * Where long-running core code reports progress. Core modules accept an optional sink; the
 * terminal (cli-progress) and notebook implementations live outside the core.
 *
 * @example
 * ```ts
 * function trainAll(jobs: Job[], progress: ProgressSink = silentProgress) {
 *   progress.start(jobs.length, 'training');
 *   for (const j of jobs) { run(j); progress.tick(1, { last: j.key }); }
 *   progress.end();
 * }
 * ```
 */
export interface ProgressSink {
  /** Begins a task of `total` units (use 0 when unknown). */
  start(total: number, label: string): void;
  /** Advances by `n` units (default 1); `info` is shown next to the count (e.g. current loss). */
  tick(n?: number, info?: Record<string, string | number>): void;
  /** Ends the task (prints a final line). */
  end(): void;
}

/** A sink that reports nothing. */
export const silentProgress: ProgressSink = {
  start() {},
  tick() {},
  end() {},
};
