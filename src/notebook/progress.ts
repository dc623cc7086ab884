import { lineProgress } from '../progress/lines';
import type { ProgressSink } from '../progress/types';

/** Options of {@link notebookProgress}. */
export interface NotebookProgressOptions {
  /** Minimum milliseconds between progress lines (default 2000). */
  intervalMs?: number;
}

/**
 * Progress for long notebook cells: compact periodic lines on stdout (`… training 35/120 (29%)
 * 4.10/s ETA 21s`), which appear live in a Jupyter cell, in the headless runner's terminal output
 * and in the executed notebook. Pass it to any core function that accepts a `ProgressSink`.
 *
 * @example
 * ```ts
 * const progress = notebookProgress();
 * progress.start(seeds.length, 'seeds');
 * for (const s of seeds) { results.push(await train(s)); progress.tick(1, { acc: results.at(-1)!.acc }); }
 * progress.end();
 * ```
 */
export function notebookProgress(options: NotebookProgressOptions = {}): ProgressSink {
  return lineProgress((line) => process.stdout.write(line + '\n'), { intervalMs: options.intervalMs ?? 2000 });
}
