import { ProgressSink } from '../progress';
import { Job, JobKindSpec, getJobKind, loadWorkFunction, makeContext } from './jobs';
import { JsonValue, normaliseJson } from './json';

/** A job's error as reported by an executor (plain data: it may cross a thread or machine boundary). */
export interface JobErrorInfo {
  message: string;
  name: string;
  stack?: string;
}

/** How one job ended. `result` is already normalised to what the store returns. */
export type JobOutcome =
  | { key: string; ok: true; result: JsonValue; attempts: number; durationMs: number }
  | { key: string; ok: false; error: JobErrorInfo; attempts: number; durationMs: number };

/** Callbacks and controls for one {@link Executor.run} call. */
export interface ExecutorRunOptions {
  /**
   * Called once per job as soon as it succeeds (in completion order). The experiment runner
   * commits the result to the store here; if this callback throws, the run fails with that error.
   */
  onResult?: (job: Job, outcome: Extract<JobOutcome, { ok: true }>) => void;
  /** Called once per job that failed its last attempt (after retries). */
  onError?: (job: Job, outcome: Extract<JobOutcome, { ok: false }>) => void;
  /** Called after each failed attempt that will be retried. */
  onRetry?: (job: Job, error: JobErrorInfo, attempt: number) => void;
  /**
   * Aborting stops scheduling, cancels running jobs and rejects `run` with an {@link AbortError}.
   * From the moment of the abort no callback (`onResult`, `onError`, `onRetry`) is called any more,
   * so nothing is committed to a store afterwards; outcomes reported before it stay.
   */
  signal?: AbortSignal;
  /** Started with the number of jobs, ticked once per finished job (success or final failure), ended at the end. */
  progress?: ProgressSink;
  /** Label shown by the progress sink (default `jobs`). */
  label?: string;
}

/**
 * Runs independent jobs and reports each outcome. This is the seam between experiment code and
 * where jobs physically run: experiment code only builds {@link Job}s (plain JSON plus a
 * registered kind name) and consumes {@link JobOutcome}s, so an executor may run them inline,
 * in worker threads, or on other machines.
 *
 * Contract for implementations:
 * - resolve with one outcome per job, in the order of `jobs` (not completion order);
 * - call `onResult`/`onError` exactly once per job, as soon as it is final, and await nothing from them;
 * - a job must compute the same result wherever it runs: pass only `{key, kind, config, seed}`
 *   and the attempt number to the work function (via `makeContext`), never scheduling state;
 * - a failed attempt (throw, or the worker/machine dying) is retried up to the executor's limit,
 *   and never loses other jobs' outcomes;
 * - results are normalised with `normaliseJson` before they are reported;
 * - cancellation: when `options.signal` aborts, or `close()` is called while runs are in progress,
 *   queued jobs never start, running jobs are stopped (a worker terminated, a remote job revoked;
 *   in-thread jobs see `JobContext.signal` and stop between steps), no callback is called any more,
 *   and `run` rejects with an {@link AbortError}. Notebooks rely on this for Kernel › Interrupt
 *   (see `interruptible` in src/notebook).
 *
 * A queue-backed multi-machine executor (see src/runtime/README.md) would push `{job, kindSpec}`
 * messages to a queue, have remote workers call `executeJob`, and map replies to outcomes.
 *
 * @example
 * ```ts
 * const executor: Executor = new WorkerPoolExecutor({ workers: 2 });
 * try {
 *   const outcomes = await executor.run(jobs, { onResult: (job, o) => console.log(job.key, o.result) });
 * } finally {
 *   await executor.close();
 * }
 * ```
 */
export interface Executor {
  run(jobs: readonly Job[], options?: ExecutorRunOptions): Promise<JobOutcome[]>;
  /**
   * Releases threads/connections. Runs still in progress are cancelled first (as by their signal:
   * they reject with an {@link AbortError} and report nothing more). The executor cannot be used afterwards.
   */
  close(): Promise<void>;
}

/**
 * Runs one attempt of a job in the current thread: loads the kind's work function, calls it with
 * the job's config and context, and normalises the result to JSON. Used by every executor
 * (inline, worker threads, and any remote worker). `signal` becomes `JobContext.signal`.
 *
 * @example
 * ```ts
 * const result = await executeJob(getJobKind(job.kind), job, 0);
 * ```
 */
export async function executeJob(
  spec: JobKindSpec,
  job: Job,
  attempt: number,
  signal?: AbortSignal,
): Promise<JsonValue> {
  const fn = loadWorkFunction(spec);
  const result = await fn(job.config, makeContext(job, attempt, signal));
  return normaliseJson(result === undefined ? null : result, `result of job '${job.key}'`);
}

/** Converts anything thrown into plain {@link JobErrorInfo}. */
export function toErrorInfo(err: unknown): JobErrorInfo {
  if (err instanceof Error) return { message: err.message, name: err.name, stack: err.stack };
  return { message: String(err), name: 'Error' };
}

/**
 * Error thrown by `Executor.run` when its signal aborts (finished jobs were already reported).
 *
 * @example
 * ```ts
 * const controller = new AbortController();
 * setTimeout(() => controller.abort(), 60_000);
 * try { await executor.run(jobs, { signal: controller.signal }); } catch (err) { if (err instanceof AbortError) console.log(err.message); }
 * ```
 */
export class AbortError extends Error {
  constructor(detail: string) {
    super(`run aborted: ${detail}`);
    this.name = 'AbortError';
  }
}

/** Options of {@link InlineExecutor}. */
export interface InlineExecutorOptions {
  /** Retries after a failed attempt (default 2, so at most 3 attempts). */
  maxRetries?: number;
}

/**
 * Runs jobs one after another in the calling thread, with the same retry and reporting rules as
 * the worker pool. Best for notebooks, debugging (breakpoints and stack traces work) and small
 * jobs. The tfjs backend must already be initialised (`await initBackend()`).
 * Cancellation (signal or `close`) takes effect between jobs (the executor yields to the event loop
 * there, so a notebook interrupt is seen) and inside a job that honours `JobContext.signal`; a
 * job that finishes after the abort is not reported.
 *
 * @example
 * ```ts
 * const outcomes = await new InlineExecutor().run([kind.job('a', { lr: 0.1 }, 0)]);
 * ```
 */
export class InlineExecutor implements Executor {
  readonly maxRetries: number;
  private closed = false;
  /** Controllers of the runs in progress (aborted by `close`). */
  private readonly active = new Set<AbortController>();

  constructor(options: InlineExecutorOptions = {}) {
    this.maxRetries = checkRetries(options.maxRetries ?? 2, 'InlineExecutor');
  }

  async run(jobs: readonly Job[], options: ExecutorRunOptions = {}): Promise<JobOutcome[]> {
    if (this.closed) throw new Error('InlineExecutor: run() after close()');
    const specs = jobs.map((j) => getJobKind(j.kind));
    const outcomes: JobOutcome[] = [];
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    if (options.signal?.aborted) throw new AbortError(`0 of ${jobs.length} jobs finished`);
    options.signal?.addEventListener('abort', onAbort);
    this.active.add(controller);
    options.progress?.start(jobs.length, options.label ?? 'jobs');
    try {
      await this.runAll(jobs, specs, options, outcomes, controller.signal);
    } finally {
      this.active.delete(controller);
      options.signal?.removeEventListener('abort', onAbort);
      options.progress?.end();
    }
    return outcomes;
  }

  private async runAll(
    jobs: readonly Job[],
    specs: JobKindSpec[],
    options: ExecutorRunOptions,
    outcomes: JobOutcome[],
    signal: AbortSignal,
  ): Promise<void> {
    const aborted = () => new AbortError(`${outcomes.length} of ${jobs.length} jobs finished`);
    for (let i = 0; i < jobs.length; i++) {
      // Let signals (a notebook interrupt arrives as SIGINT) and timers run between in-thread jobs.
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      if (signal.aborted) throw aborted();
      const job = jobs[i];
      const t0 = Date.now();
      let outcome: JobOutcome | undefined;
      for (let attempt = 0; attempt <= this.maxRetries && !outcome; attempt++) {
        try {
          const result = await executeJob(specs[i], job, attempt, signal);
          outcome = { key: job.key, ok: true, result, attempts: attempt + 1, durationMs: Date.now() - t0 };
        } catch (err) {
          if (signal.aborted) throw aborted();
          const info = toErrorInfo(err);
          if (attempt < this.maxRetries) options.onRetry?.(job, info, attempt);
          else outcome = { key: job.key, ok: false, error: info, attempts: attempt + 1, durationMs: Date.now() - t0 };
        }
      }
      if (signal.aborted) throw aborted();
      outcomes.push(outcome!);
      report(job, outcome!, options);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.active) c.abort();
  }
}

/** Dispatches an outcome to the callbacks and ticks progress. */
export function report(job: Job, outcome: JobOutcome, options: ExecutorRunOptions): void {
  if (outcome.ok) options.onResult?.(job, outcome);
  else options.onError?.(job, outcome);
  options.progress?.tick(1, outcome.ok ? { last: job.key } : { failed: job.key });
}

export function checkRetries(n: number, who: string): number {
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`${who}: maxRetries must be a non-negative integer, got ${JSON.stringify(n)}`);
  return n;
}
