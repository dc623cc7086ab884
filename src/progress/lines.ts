import type { ProgressSink } from './types';

/** Options of {@link lineProgress}. */
export interface LineProgressOptions {
  /** Minimum milliseconds between two progress lines (default 2000; the first and last always print). */
  intervalMs?: number;
  /** Clock in milliseconds (default `Date.now`; injectable for tests). */
  now?: () => number;
}

/**
 * Formats seconds compactly.
 *
 * @example
 * ```ts
 * formatDuration(185); // '3m05s'
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 60) return seconds < 10 ? `${seconds.toFixed(1)}s` : `${Math.round(seconds)}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m${String(Math.round(seconds - m * 60)).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h${String(m - h * 60).padStart(2, '0')}m`;
}

function formatInfo(info: Record<string, string | number> | undefined): string {
  if (!info) return '';
  const parts = Object.entries(info).map(
    ([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(4) : v}`,
  );
  return parts.length ? `  ${parts.join(' ')}` : '';
}

/**
 * A {@link ProgressSink} that writes compact, periodic plain-text lines (count, percentage, rate,
 * ETA and the latest info) through `write`. It works wherever only appended text is visible:
 * notebook cells, CI logs, files, pipes.
 *
 * @example
 * ```ts
 * const p = lineProgress((line) => process.stdout.write(line + '\n'), { intervalMs: 1000 });
 * p.start(100, 'episodes');
 * for (let i = 0; i < 100; i++) p.tick(1, { reward: 0.5 });
 * p.end(); // "✓ episodes 100/100 in 3.2s (31.2/s)"
 * ```
 */
export function lineProgress(write: (line: string) => void, options: LineProgressOptions = {}): ProgressSink {
  const intervalMs = options.intervalMs ?? 2000;
  if (!Number.isFinite(intervalMs) || intervalMs < 0)
    throw new Error(`lineProgress: intervalMs must be a number >= 0, got ${intervalMs}`);
  const now = options.now ?? Date.now;
  let total = 0;
  let label = '';
  let count = 0;
  let t0 = 0;
  let lastPrint = 0;
  let lastInfo: Record<string, string | number> | undefined;
  let active = false;

  const line = (final: boolean): string => {
    const elapsed = (now() - t0) / 1000;
    const rate = elapsed > 0 ? count / elapsed : 0;
    const rateText = rate > 0 ? `${rate >= 100 ? rate.toFixed(0) : rate.toPrecision(3)}/s` : '-/s';
    if (final)
      return `✓ ${label} ${count}${total > 0 ? `/${total}` : ''} in ${formatDuration(elapsed)} (${rateText})${formatInfo(lastInfo)}`;
    const pct = total > 0 ? ` (${Math.floor((100 * count) / total)}%)` : '';
    const eta = total > 0 && rate > 0 ? ` ETA ${formatDuration((total - count) / rate)}` : '';
    return `… ${label} ${count}${total > 0 ? `/${total}` : ''}${pct} ${rateText}${eta} elapsed ${formatDuration(elapsed)}${formatInfo(lastInfo)}`;
  };

  return {
    start(n: number, name: string) {
      if (!Number.isFinite(n) || n < 0)
        throw new Error(`progress.start: total must be a number >= 0 (0 = unknown), got ${n}`);
      total = n;
      label = name;
      count = 0;
      lastInfo = undefined;
      t0 = now();
      lastPrint = t0;
      active = true;
      write(`▸ ${label}: ${total > 0 ? `0/${total}` : 'started'}`);
    },
    tick(n = 1, info?: Record<string, string | number>) {
      if (!active) return;
      count += n;
      if (info) lastInfo = info;
      const t = now();
      if (t - lastPrint >= intervalMs) {
        lastPrint = t;
        write(line(false));
      }
    },
    end() {
      if (!active) return;
      active = false;
      write(line(true));
    },
  };
}
