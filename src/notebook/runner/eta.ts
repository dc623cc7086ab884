/**
 * Overall progress of a headless notebook run: the expected wall time of each notebook from
 * measured costs, an ETA for the whole run refined as notebooks finish, and the timing history that
 * makes the next ETA on the same machine true to it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../files';
import type { PresetName } from '../presets';

/**
 * Measured wall seconds per notebook and preset on the project's 2-core AMD EPYC machine (wasm
 * backend, fresh experiment store). Sources: smoke from the README's notebook table (CI runs of
 * 2026-11-22 and a quiet run of 2026-12-07); quick: notebooks 10-15 together 47.7 min (2026-12-06),
 * 21-22 together 27.0 min under load, 23 150 s, 00 about 130 s (103 s of training, full data) and
 * 01/20/99 about 70 s together (2026-11-21); full:
 * 10-15 together 147 min (2026-12-06, with notebook 11's 1x budget), 21 3118 s and 22 921 s (2026-12-02,
 * part of the evaluations from the store), 23 38 min (part from the store; 89 min for all 2300 searches
 * with another full run on the cores).
 * Where only a group total was measured, it is split in proportion to the notebooks' smoke times
 * (an estimate). A machine's own history ({@link TimingHistory}) replaces these once it has one.
 *
 * @example
 * ```ts
 * MEASURED_NOTEBOOK_SECONDS.quick['23-ma2ml-surrogate']; // 150
 * ```
 */
export const MEASURED_NOTEBOOK_SECONDS: Readonly<Record<PresetName, Readonly<Record<string, number>>>> = Object.freeze({
  smoke: {
    '00-quickstart': 21,
    '01-marl-basics': 19,
    '10-ganno-environment': 32,
    '11-ganno-train': 30,
    '12-ganno-vs-schedules': 26,
    '13-ganno-robustness': 25,
    '14-ganno-generalisation': 31,
    '15-ganno-ablations': 37,
    '20-ma2ml-search-space': 21,
    '21-ma2ml-search': 41,
    '22-ma2ml-ablations': 38,
    '23-ma2ml-surrogate': 47,
    '99-toolchain-check': 14,
  },
  quick: {
    ...splitGroup(47.7 * 60, {
      '10-ganno-environment': 32,
      '11-ganno-train': 30,
      '12-ganno-vs-schedules': 26,
      '13-ganno-robustness': 25,
      '14-ganno-generalisation': 31,
      '15-ganno-ablations': 37,
    }),
    ...splitGroup(27 * 60, { '21-ma2ml-search': 41, '22-ma2ml-ablations': 38 }),
    '00-quickstart': 130,
    ...splitGroup(70, { '01-marl-basics': 19, '20-ma2ml-search-space': 21, '99-toolchain-check': 14 }),
    '23-ma2ml-surrogate': 150,
  },
  full: {
    ...splitGroup(147 * 60, {
      '10-ganno-environment': 32,
      '11-ganno-train': 30,
      '12-ganno-vs-schedules': 26,
      '13-ganno-robustness': 25,
      '14-ganno-generalisation': 31,
      '15-ganno-ablations': 37,
    }),
    '21-ma2ml-search': 3118,
    '22-ma2ml-ablations': 921,
    '23-ma2ml-surrogate': 38 * 60,
    ...splitGroup(240, {
      '00-quickstart': 21,
      '01-marl-basics': 19,
      '20-ma2ml-search-space': 21,
      '99-toolchain-check': 14,
    }),
  },
});

/** Splits a measured group total over its notebooks in proportion to their weights. */
function splitGroup(totalS: number, weights: Record<string, number>): Record<string, number> {
  const sum = Object.values(weights).reduce((a, b) => a + b, 0);
  return Object.fromEntries(Object.entries(weights).map(([k, w]) => [k, Math.round((totalS * w) / sum)]));
}

/** Wall seconds of notebooks measured on this machine, per preset (the file `timings.json` beside the executed copies). */
export type TimingHistory = Partial<Record<PresetName, Record<string, { seconds: number; measuredAt: string }>>>;

/** Name of the timing history file in the runner's output folder. */
export const TIMING_HISTORY_FILE = 'timings.json';

/**
 * Reads the timing history (an empty one when the file is missing or unreadable: it only guides
 * ETAs, so a corrupt file is ignored with a warning rather than stopping a run).
 */
export function readTimingHistory(file: string, warn: (m: string) => void = () => {}): TimingHistory {
  if (!fs.existsSync(file)) return {};
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as TimingHistory;
    warn(`timing history ${file}: not a JSON object; ignored`);
  } catch (err) {
    warn(`timing history ${file}: ${(err as Error).message}; ignored`);
  }
  return {};
}

/** Records one notebook's wall time in the history file (atomic write). */
export function recordTiming(
  file: string,
  preset: PresetName,
  notebook: string,
  seconds: number,
  now = new Date(),
): void {
  const history = readTimingHistory(file);
  const byPreset = { ...(history[preset] ?? {}) };
  byPreset[notebook] = { seconds: Number(seconds.toFixed(1)), measuredAt: now.toISOString() };
  writeFileAtomic(file, `${JSON.stringify({ ...history, [preset]: byPreset }, null, 2)}\n`);
}

/** Notebook name without folder and `.ipynb`. */
export function notebookKey(file: string): string {
  return path.basename(file).replace(/\.ipynb$/, '');
}

/**
 * The ETA of a run of several notebooks. Each notebook's expected seconds come from this machine's
 * history for the preset, else {@link MEASURED_NOTEBOOK_SECONDS}, else the mean of the known ones.
 * As notebooks finish, the remaining estimate is scaled by how the finished ones compared with
 * their expectation (a machine twice as slow or twice as loaded doubles the rest).
 *
 * @example
 * ```ts
 * const eta = new RunEta(['notebooks/00-quickstart.ipynb', 'notebooks/23-ma2ml-surrogate.ipynb'], 'quick');
 * eta.remainingS(); // expected seconds of both
 * eta.finished('notebooks/00-quickstart.ipynb', 60);
 * eta.remainingS(); // notebook 23's expectation, scaled by 60 / expected(00)
 * ```
 */
export class RunEta {
  private readonly expected: number[];
  private readonly keys: string[];
  private readonly sources: ('history' | 'measured' | 'guess')[];
  private done = 0;
  private actualDone = 0;
  private expectedDone = 0;

  constructor(files: readonly string[], preset: PresetName, history: TimingHistory = {}) {
    this.keys = files.map(notebookKey);
    const own = history[preset] ?? {};
    const shipped = MEASURED_NOTEBOOK_SECONDS[preset];
    const known = this.keys
      .map((k) => own[k]?.seconds ?? shipped[k])
      .filter((s): s is number => Number.isFinite(s) && s > 0);
    const fallback = known.length ? known.reduce((a, b) => a + b, 0) / known.length : 60;
    this.sources = this.keys.map((k) =>
      Number.isFinite(own[k]?.seconds) ? 'history' : Number.isFinite(shipped[k]) ? 'measured' : 'guess',
    );
    this.expected = this.keys.map((k) => own[k]?.seconds ?? shipped[k] ?? fallback);
  }

  /** Expected seconds of notebook `i` before any refinement. */
  expectedS(i: number): number {
    return this.expected[i];
  }

  /** Where the expectations come from, for the first progress line. */
  describeSources(): string {
    const count = (s: string) => this.sources.filter((x) => x === s).length;
    const parts = [
      count('history') && `${count('history')} from this machine's earlier runs`,
      count('measured') && `${count('measured')} from the project's measured costs`,
      count('guess') && `${count('guess')} without a measured cost (guessed: the mean of the known ones, else 60 s)`,
    ].filter(Boolean);
    return parts.join(', ');
  }

  /** Ratio actual / expected over the finished notebooks (1 before the first finishes). */
  get speedFactor(): number {
    return this.expectedDone > 0 ? this.actualDone / this.expectedDone : 1;
  }

  /** Marks the next notebook finished after `seconds`. */
  finished(_file: string, seconds: number): void {
    this.actualDone += seconds;
    this.expectedDone += this.expected[this.done];
    this.done++;
  }

  /** Estimated seconds left for the unfinished notebooks (the running one counted whole, minus `runningForS`). */
  remainingS(runningForS = 0): number {
    let rest = 0;
    for (let i = this.done; i < this.expected.length; i++) rest += this.expected[i];
    return Math.max(0, rest * this.speedFactor - runningForS);
  }
}

/** `1h02m`, `5m12s`, `41s`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}
