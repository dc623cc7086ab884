import * as cliProgress from 'cli-progress';
import { lineProgress } from './lines';
import type { ProgressSink } from './types';

/** Options of {@link terminalProgress}. */
export interface TerminalProgressOptions {
  /** Output stream (default `process.stderr`). */
  stream?: NodeJS.WriteStream;
  /** Line interval when the stream is not a TTY (default 5000 ms). */
  intervalMs?: number;
}

/**
 * A {@link ProgressSink} for terminals: a live cli-progress bar (count, percentage, rate, ETA,
 * latest info) when the stream is a TTY, and periodic plain lines otherwise (CI logs, pipes).
 *
 * @example
 * ```ts
 * const progress = terminalProgress();
 * progress.start(jobs.length, 'seeds');
 * for (const job of jobs) { await run(job); progress.tick(1, { acc: job.acc }); }
 * progress.end();
 * ```
 */
export function terminalProgress(options: TerminalProgressOptions = {}): ProgressSink {
  const stream = options.stream ?? process.stderr;
  if (!stream.isTTY)
    return lineProgress((line) => stream.write(line + '\n'), { intervalMs: options.intervalMs ?? 5000 });
  let bar: cliProgress.SingleBar | undefined;
  let count = 0;
  let t0 = 0;
  const infoText = (info?: Record<string, string | number>) =>
    info
      ? Object.entries(info)
          .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(4) : v}`)
          .join(' ')
      : '';
  return {
    start(total: number, label: string) {
      if (!Number.isFinite(total) || total < 0)
        throw new Error(`progress.start: total must be a number >= 0 (0 = unknown), got ${total}`);
      bar?.stop();
      count = 0;
      t0 = Date.now();
      bar = new cliProgress.SingleBar(
        {
          stream,
          format: `${label} [{bar}] {percentage}% | {value}/{total} | {rate}/s | ETA {eta_formatted} {info}`,
          hideCursor: true,
          etaBuffer: 50,
          fps: 5,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total > 0 ? total : 1, 0, { rate: '-', info: '' });
    },
    tick(n = 1, info?: Record<string, string | number>) {
      if (!bar) return;
      count += n;
      const elapsed = (Date.now() - t0) / 1000;
      bar.update(count, { rate: elapsed > 0 ? (count / elapsed).toPrecision(3) : '-', info: infoText(info) });
    },
    end() {
      bar?.stop();
      bar = undefined;
    },
  };
}
