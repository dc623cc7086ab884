/**
 * Kernel › Interrupt for notebook work. The project kernel (tslab) is interrupted by SIGINT: tslab
 * ends the running cell at once (it races the cell's promise against the interrupt), but work the
 * cell started keeps going unless something cancels it: worker threads keep training and
 * committing to the store while Jupyter shows "idle". This module listens to the same SIGINT once
 * per process and cancels every run of an {@link interruptible} executor (queued jobs are dropped,
 * running workers terminated, nothing is committed afterwards), prints what it cancelled, and
 * hands out a fresh {@link interruptSignal} for the next cell. Finished results stay in the store,
 * so re-running the cell resumes where it stopped.
 *
 * State lives on a global symbol: tslab may load this module more than once (e.g. after a source
 * edit), and every copy must share one handler and one list of active runs.
 */
import type { Executor, ExecutorRunOptions, JobOutcome } from '../runtime/executor';
import type { Job } from '../runtime/jobs';

/** One run of an {@link interruptible} executor in progress. */
interface ActiveRun {
  label: string;
  total: number;
  finished: number;
  cancel(): void;
}

interface InterruptState {
  controller: AbortController;
  runs: Set<ActiveRun>;
  handlerInstalled: boolean;
  /** Where messages go (stdout by default; tests replace it). */
  write: (line: string) => void;
}

const KEY = Symbol.for('marl-automl.notebook.interrupt');

function state(): InterruptState {
  const g = globalThis as unknown as Record<symbol, InterruptState | undefined>;
  let s = g[KEY];
  if (!s) {
    s = {
      controller: new AbortController(),
      runs: new Set(),
      handlerInstalled: false,
      write: (line) => process.stdout.write(line + '\n'),
    };
    g[KEY] = s;
  }
  return s;
}

/** True inside the project kernel or the headless runner (tslab sets `__tslab__`). */
function inTslab(): boolean {
  return (globalThis as { __tslab__?: unknown }).__tslab__ !== undefined;
}

/**
 * Listens to SIGINT (what Jupyter's Kernel › Interrupt sends to the project kernel) once per
 * process and calls {@link interruptNotebookWork} on it. Only inside a tslab kernel or the headless
 * runner (elsewhere, e.g. in a script or test, Ctrl-C keeps its default meaning) unless `force`.
 * Called by {@link interruptible} and {@link interruptSignal}; calling it again does nothing.
 *
 * @example
 * ```ts
 * installInterruptHandler(); // in a notebook: Kernel › Interrupt now cancels interruptible executors' runs
 * ```
 */
export function installInterruptHandler(force = false): boolean {
  const s = state();
  if (s.handlerInstalled) return true;
  if (!force && !inTslab()) return false;
  s.handlerInstalled = true;
  process.on('SIGINT', () => {
    interruptNotebookWork('interrupted');
  });
  return true;
}

/**
 * The abort signal of the current cell's work: aborted by the next interrupt, after which a fresh
 * signal is handed out. Pass it to long in-thread loops so Kernel › Interrupt stops them between
 * steps, e.g. `trainGannoAgents(config, { signal: interruptSignal() })` or `runSearch({ ..., signal:
 * interruptSignal() })`. (A loop that never yields to the event loop sees the interrupt only when
 * it checks the signal after tslab's own SIGINT break, so prefer async loops for long work.)
 *
 * @example
 * ```ts
 * const result = await runSearch({ method: 'ma2ml', space, evaluations: 64, batchSize: 8, seed: 0, evaluator, signal: interruptSignal() });
 * ```
 */
export function interruptSignal(): AbortSignal {
  installInterruptHandler();
  return state().controller.signal;
}

/** What {@link interruptNotebookWork} cancelled. */
export interface InterruptReport {
  /** One entry per cancelled run: its label, jobs in the run and how many had finished. */
  runs: { label: string; total: number; finished: number }[];
  /** The lines printed. */
  lines: string[];
}

function describe(runs: readonly { label: string; total: number; finished: number }[], reason: string): string[] {
  if (runs.length === 0) return [];
  const lines = runs.map((r) => {
    const left = r.total - r.finished;
    return `  ${r.label}: cancelled ${left} unfinished job(s) of ${r.total} (running ones stopped, queued ones not started); ${r.finished} finished`;
  });
  return [
    `⏹ ${reason}: cancelled ${runs.length} run(s) of this notebook's executor`,
    ...lines,
    '  Finished results are in the experiment store: re-running the cell resumes from there (only missing jobs run).',
  ];
}

/**
 * Cancels the work of every {@link interruptible} executor's run in progress and of everything
 * listening to {@link interruptSignal}, prints what was cancelled, and starts a fresh signal. This
 * is what Kernel › Interrupt calls; tests and `session.close()` may call it directly.
 *
 * @example
 * ```ts
 * const report = interruptNotebookWork('interrupted');
 * report.runs; // [{ label: 'ganno-train', total: 6, finished: 2 }]
 * ```
 */
export function interruptNotebookWork(reason = 'interrupted'): InterruptReport {
  const s = state();
  const runs = [...s.runs];
  const snapshot = runs.map((r) => ({ label: r.label, total: r.total, finished: r.finished }));
  const old = s.controller;
  s.controller = new AbortController();
  for (const r of runs) r.cancel();
  old.abort(new InterruptedError(reason));
  const lines = describe(snapshot, reason);
  for (const line of lines) s.write(line);
  return { runs: snapshot, lines };
}

/**
 * Where {@link interruptNotebookWork} prints (default stdout); returns the previous writer. For tests.
 *
 * @example
 * ```ts
 * const lines: string[] = [];
 * const previous = setInterruptWriter((l) => lines.push(l));
 * ```
 */
export function setInterruptWriter(write: (line: string) => void): (line: string) => void {
  const s = state();
  const prev = s.write;
  s.write = write;
  return prev;
}

/**
 * The reason of signals aborted by a notebook interrupt (`signal.reason`).
 *
 * @example
 * ```ts
 * if (interruptSignal().reason instanceof InterruptedError) console.log('stopped by an interrupt');
 * ```
 */
export class InterruptedError extends Error {
  constructor(reason: string) {
    super(`${reason}: work cancelled; re-run the cell to resume from the store`);
    this.name = 'InterruptedError';
  }
}

/**
 * Wraps an executor so that Kernel › Interrupt (and `close()`) cancels its runs: each `run` gets an
 * abort signal that fires on the next interrupt, on the caller's own `signal`, or on `close()`.
 * The wrapped executor then drops queued jobs, stops running ones and commits nothing more (the
 * {@link Executor} contract), and the interrupt prints what was cancelled. Any executor works
 * (inline, worker pool, a queue executor). The notebook session helpers (`openGannoSession`) wrap
 * their executor already; wrap one you create yourself in a cell.
 *
 * @example
 * ```ts
 * const executor = interruptible(new WorkerPoolExecutor({ workers: 2 }));
 * await runExperiment({ name: 'sweep', jobs, executor, store }); // Kernel › Interrupt stops it within a second or two
 * ```
 */
export function interruptible(executor: Executor, options: { label?: string } = {}): Executor {
  installInterruptHandler();
  const own = new Set<ActiveRun>();
  let closed = false;
  return {
    async run(jobs: readonly Job[], runOptions: ExecutorRunOptions = {}): Promise<JobOutcome[]> {
      if (closed) throw new Error('interruptible executor: run() after close()');
      const s = state();
      const controller = new AbortController();
      const interrupt = s.controller.signal;
      const abort = () => controller.abort();
      if (interrupt.aborted || runOptions.signal?.aborted) controller.abort();
      interrupt.addEventListener('abort', abort);
      runOptions.signal?.addEventListener('abort', abort);
      const active: ActiveRun = {
        label: runOptions.label ?? options.label ?? 'jobs',
        total: jobs.length,
        finished: 0,
        cancel: abort,
      };
      const live = () => !controller.signal.aborted;
      s.runs.add(active);
      own.add(active);
      try {
        return await executor.run(jobs, {
          ...runOptions,
          signal: controller.signal,
          // Nothing is forwarded after the abort, whatever the inner executor does.
          onResult: (job, outcome) => {
            if (!live()) return;
            active.finished++;
            runOptions.onResult?.(job, outcome);
          },
          onError: (job, outcome) => {
            if (!live()) return;
            active.finished++;
            runOptions.onError?.(job, outcome);
          },
          onRetry: (job, error, attempt) => {
            if (live()) runOptions.onRetry?.(job, error, attempt);
          },
        });
      } finally {
        s.runs.delete(active);
        own.delete(active);
        interrupt.removeEventListener('abort', abort);
        runOptions.signal?.removeEventListener('abort', abort);
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      const runs = [...own];
      const snapshot = runs.map((r) => ({ label: r.label, total: r.total, finished: r.finished }));
      for (const r of runs) r.cancel();
      for (const line of describe(snapshot, 'closed')) state().write(line);
      await executor.close();
    },
  };
}
