import * as fs from 'fs';
import { setMaxListeners } from 'events';
import * as os from 'os';
import * as path from 'path';
import { Piscina } from 'piscina';
import { backendInfo, BackendName } from '../backend';
import {
  AbortError,
  checkRetries,
  Executor,
  ExecutorRunOptions,
  JobErrorInfo,
  JobOutcome,
  report,
  toErrorInfo,
} from './executor';
import { Job, JobKindSpec, getJobKind } from './jobs';
import type { WorkerInit, WorkerReply, WorkerTask } from './worker';

/** Options of {@link WorkerPoolExecutor}. */
export interface WorkerPoolOptions {
  /** Number of worker threads (default: one per CPU core, `os.cpus().length`). */
  workers?: number;
  /** Retries after a failed attempt, including a worker that died (default 2: at most 3 attempts). */
  maxRetries?: number;
  /**
   * Backend each worker initialises (default: the main thread's backend if it is initialised,
   * else `auto`, which honours `MARL_AUTOML_BACKEND`).
   */
  backend?: BackendName | 'auto';
  /** Optional per-worker heap limits (`worker_threads` resource limits), e.g. `{ maxOldGenerationSizeMb: 2048 }`. */
  resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number; stackSizeMb?: number };
}

/**
 * Runs jobs in parallel `worker_threads` managed by piscina. Each worker loads its own tfjs and
 * initialises its backend once, then executes any number of jobs; workers stay alive between
 * `run` calls until {@link close} (idle workers do not keep the process alive).
 * Results do not depend on the number of workers: each job seeds itself from its key.
 * A job that throws, or whose worker dies (`process.exit`, a crash), is retried up to
 * `maxRetries` times on a fresh attempt and then reported with its key and error; other jobs
 * continue. Cancelling (the run's signal, or `close()` during a run) drops queued tasks and
 * terminates the workers running this run's jobs at once (piscina aborts them); fresh workers
 * replace them for later runs.
 *
 * @example
 * ```ts
 * const pool = new WorkerPoolExecutor({ workers: 2, maxRetries: 1 });
 * try {
 *   const outcomes = await pool.run(jobs, { progress });
 * } finally {
 *   await pool.close();
 * }
 * ```
 */
export class WorkerPoolExecutor implements Executor {
  readonly workers: number;
  readonly maxRetries: number;
  private readonly pool: Piscina;
  private closed = false;
  /** Controllers of the runs in progress (aborted by `close`). */
  private readonly active = new Set<AbortController>();

  constructor(options: WorkerPoolOptions = {}) {
    const workers = options.workers ?? os.cpus().length;
    if (!Number.isInteger(workers) || workers < 1)
      throw new Error(`WorkerPoolExecutor: workers must be a positive integer, got ${JSON.stringify(workers)}`);
    this.workers = workers;
    this.maxRetries = checkRetries(options.maxRetries ?? 2, 'WorkerPoolExecutor');
    const init: WorkerInit = { backend: options.backend ?? backendInfo()?.name ?? 'auto' };
    // From TypeScript sources (tsx), a .js bootstrap registers tsx inside each worker; a compiled
    // build loads the compiled worker.js directly.
    // Under tslab, __filename ends in .js but only the .ts source exists: check the disk, not the name.
    const compiled = path.join(__dirname, 'worker.js');
    const filename =
      !__filename.endsWith('.ts') && fs.existsSync(compiled) ? compiled : path.join(__dirname, 'worker-bootstrap.js');
    this.pool = new Piscina({
      filename,
      name: 'runTask',
      minThreads: workers,
      maxThreads: workers,
      idleTimeout: 60_000,
      concurrentTasksPerWorker: 1,
      workerData: init,
      resourceLimits: options.resourceLimits,
    });
    // Errors of workers that die while idle are reported through 'error'; without a listener
    // they would crash the process. Tasks running on a dying worker are rejected separately.
    this.pool.on('error', () => undefined);
  }

  /**
   * Waits until the workers have started and initialised their backends (useful before timing).
   *
   * @example
   * ```ts
   * await pool.ready();
   * ```
   */
  async ready(): Promise<void> {
    await Promise.all(Array.from({ length: this.workers }, () => this.pool.run(null, { name: 'ping' })));
  }

  async run(jobs: readonly Job[], options: ExecutorRunOptions = {}): Promise<JobOutcome[]> {
    if (this.closed) throw new Error('WorkerPoolExecutor: run() after close()');
    const specs = jobs.map((j) => getJobKind(j.kind));
    const outcomes: JobOutcome[] = new Array(jobs.length);
    // Internal controller: aborts on the caller's signal or when a callback throws.
    const controller = new AbortController();
    setMaxListeners(0, controller.signal); // one abort listener per queued task is expected
    const onAbort = () => controller.abort();
    if (options.signal?.aborted) throw new AbortError(`0 of ${jobs.length} jobs finished`);
    options.signal?.addEventListener('abort', onAbort);
    this.active.add(controller);
    let callbackError: unknown;
    let finished = 0;
    options.progress?.start(jobs.length, options.label ?? 'jobs');
    try {
      await Promise.all(
        jobs.map(async (job, i) => {
          const outcome = await this.runWithRetries(job, specs[i], options, controller.signal);
          // Aborted: nothing is reported after the abort (no store commits), even a result that just arrived.
          if (!outcome || controller.signal.aborted) return;
          outcomes[i] = outcome;
          finished++;
          try {
            report(job, outcome, options);
          } catch (err) {
            if (callbackError === undefined) callbackError = err;
            controller.abort();
          }
        }),
      );
    } finally {
      this.active.delete(controller);
      options.signal?.removeEventListener('abort', onAbort);
      options.progress?.end();
    }
    if (callbackError !== undefined) throw callbackError;
    if (controller.signal.aborted) throw new AbortError(`${finished} of ${jobs.length} jobs finished`);
    return outcomes;
  }

  private async runWithRetries(
    job: Job,
    spec: JobKindSpec,
    options: ExecutorRunOptions,
    signal: AbortSignal,
  ): Promise<JobOutcome | undefined> {
    // Time spent running attempts inside workers (queueing excluded); a dead worker's attempt counts its wall time.
    let runMs = 0;
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) return undefined;
      let error: JobErrorInfo;
      try {
        const task: WorkerTask = {
          spec,
          job: { key: job.key, kind: job.kind, config: job.config, seed: job.seed },
          attempt,
        };
        const started = Date.now();
        let reply: WorkerReply;
        try {
          reply = (await this.pool.run(task, { signal })) as WorkerReply;
        } catch (err) {
          runMs += Date.now() - started;
          throw err;
        }
        runMs += reply.durationMs;
        if (reply.ok) return { key: job.key, ok: true, result: reply.result, attempts: attempt + 1, durationMs: runMs };
        error = reply.error;
      } catch (err) {
        if (signal.aborted) return undefined;
        // The task was rejected by the pool: the worker died (process.exit, crash, out of memory).
        const info = toErrorInfo(err);
        error = {
          ...info,
          name: 'WorkerError',
          message: `worker failed while running job '${job.key}': ${info.message}`,
        };
      }
      if (attempt >= this.maxRetries)
        return { key: job.key, ok: false, error, attempts: attempt + 1, durationMs: runMs };
      if (signal.aborted) return undefined;
      options.onRetry?.(job, error, attempt);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Cancel runs in progress first: their queued tasks are dropped and running workers terminated
    // without being mistaken for crashed workers (which would be retried and reported as failures).
    for (const c of this.active) c.abort();
    await this.pool.destroy();
  }
}
