import { parseConfig, z } from '../config';
import { ProgressSink, silentProgress } from '../progress';
import { AbortError, Executor, JobErrorInfo, JobOutcome } from './executor';
import { Job, getJobKind, runHash, validateJobs } from './jobs';
import { JsonValue } from './json';
import * as os from 'os';
import { randomBytes } from 'crypto';
import { ExperimentStoreApi, isExperimentStore } from './store-api';

/** Options of {@link runExperiment}. */
export interface RunExperimentOptions {
  /** Experiment name (the cache scope inside the store). */
  name: string;
  /** Jobs to run; results come back in this order. */
  jobs: readonly Job[];
  /** Where jobs run (`InlineExecutor`, `WorkerPoolExecutor`, ...). Not closed by `runExperiment`. */
  executor: Executor;
  /**
   * Where results are cached and committed: the SQLite `ExperimentStore` or a `PgExperimentStore`
   * (any {@link ExperimentStoreApi}). Not closed by `runExperiment`.
   */
  store: ExperimentStoreApi;
  /** Recompute every job even when a stored result exists (default false). */
  force?: boolean;
  /** Return instead of throwing when jobs fail after their retries (failed results are `undefined`). */
  allowFailures?: boolean;
  /** Optional experiment-level configuration, stored for inspection. */
  config?: unknown;
  /** Progress over the jobs that need computing (counts, rate, ETA are the sink's job). */
  progress?: ProgressSink;
  /** Aborts the run (finished jobs stay committed). */
  signal?: AbortSignal;
  /**
   * Job claiming (default on): each job to compute is claimed in the store first, so a second
   * process running the same experiment on the same store skips the jobs this one is computing
   * and waits for their results (taking a job over when its claim expires: the other process died).
   * `false` (and `force`) computes every missing job regardless of other processes.
   */
  claim?: boolean;
  /** How long a claim lives without a heartbeat, in ms (default 120 000; refreshed every third of it). */
  claimTtlMs?: number;
  /** How often to look for results of jobs another process holds, in ms (default 1000). */
  claimPollMs?: number;
}

/** Per-job provenance in an {@link ExperimentResult}. */
export interface JobStatus {
  key: string;
  hash: string;
  /**
   * `cached`: loaded from the store (including results another process computed while this run
   * waited for its claim); `computed`: run now; `failed`: failed after retries.
   */
  source: 'cached' | 'computed' | 'failed';
  attempts: number;
  /** Wall-clock time of the job in this call (0 when cached). */
  durationMs: number;
  /**
   * Wall-clock time of the run that computed the result: this call's for computed jobs, the one
   * the store recorded for cached ones. Timings live here, never inside results (results of the
   * same job are byte-identical whoever computes them).
   */
  recordedDurationMs: number;
  error?: JobErrorInfo;
}

/** What {@link runExperiment} returns. */
export interface ExperimentResult<R = JsonValue> {
  name: string;
  /** One result per job, in job order (`undefined` for failed jobs when `allowFailures`). */
  results: R[];
  jobs: JobStatus[];
  cached: number;
  computed: number;
  failed: number;
}

/**
 * Thrown by {@link runExperiment} when jobs failed after retries (all other results are committed).
 *
 * @example
 * ```ts
 * try { await runExperiment(opts); } catch (err) {
 *   if (err instanceof ExperimentFailedError) for (const f of err.failures) console.log(f.key, f.error.message);
 * }
 * ```
 */
export class ExperimentFailedError extends Error {
  constructor(
    readonly experiment: string,
    readonly failures: { key: string; error: JobErrorInfo; attempts: number }[],
    readonly partial: ExperimentResult<unknown>,
  ) {
    super(
      `experiment '${experiment}': ${failures.length} job(s) failed after retries: ` +
        failures
          .slice(0, 5)
          .map((f) => `'${f.key}' (${f.attempts} attempts): ${f.error.message}`)
          .join('; ') +
        (failures.length > 5 ? `; ... and ${failures.length - 5} more` : '') +
        ' (finished jobs are stored; re-running computes only the missing ones)',
    );
    this.name = 'ExperimentFailedError';
  }
}

const OptionsSchema = z.object({
  name: z.string().trim().min(1, 'must be a non-empty string'),
  jobs: z.array(z.any()),
  executor: z.custom<Executor>(
    (v) => typeof (v as Executor)?.run === 'function' && typeof (v as Executor)?.close === 'function',
    'must be an Executor (with run and close)',
  ),
  store: z.custom<ExperimentStoreApi>(
    (v) => isExperimentStore(v),
    'must be an ExperimentStore (ExperimentStore.open()) or a PgExperimentStore (PgExperimentStore.open(url))',
  ),
  force: z.boolean().default(false),
  allowFailures: z.boolean().default(false),
  config: z.unknown().optional(),
  progress: z
    .custom<ProgressSink>(
      (v) =>
        v === undefined ||
        (typeof (v as ProgressSink).tick === 'function' && typeof (v as ProgressSink).start === 'function'),
      'must be a ProgressSink',
    )
    .optional(),
  signal: z
    .custom<AbortSignal>((v) => v === undefined || v instanceof AbortSignal, 'must be an AbortSignal')
    .optional(),
  claim: z.boolean().default(true),
  claimTtlMs: z.number().int().min(100, 'must be at least 100 ms').default(120_000),
  claimPollMs: z.number().int().min(10, 'must be at least 10 ms').default(1000),
});

let ownerCounter = 0;
/** A claim owner unique to this call: host, pid, a counter and random bits. */
function newOwner(): string {
  return `${os.hostname()}:${process.pid}:${++ownerCounter}:${randomBytes(4).toString('hex')}`;
}

/** True for a claim owner of this host whose process no longer exists. */
function isDeadLocalOwner(owner: string): boolean {
  const [host, pidText] = owner.split(':');
  const pid = Number(pidText);
  if (host !== os.hostname() || !Number.isInteger(pid) || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done);
  });

/**
 * Runs an experiment with caching and crash-safe resume: jobs whose run hash (kind, code version,
 * key, seed, full config) already has a stored result are not recomputed; the others run on the
 * executor and each result is committed in its own transaction as soon as it finishes. Re-running
 * with an unchanged job list is instant; after a change, or after the process was killed, only
 * missing jobs run. `force` recomputes everything.
 *
 * @example
 * ```ts
 * const store = ExperimentStore.open();
 * const executor = new WorkerPoolExecutor();
 * const jobs = [0, 1, 2].map((seed) => trainKind.job(`seed=${seed}`, { lr: 0.1 }, seed));
 * const { results, cached, computed } = await runExperiment({ name: 'lr-0.1', jobs, executor, store });
 * await executor.close();
 * ```
 */
export async function runExperiment<R = JsonValue>(options: RunExperimentOptions): Promise<ExperimentResult<R>> {
  const opts = parseConfig(OptionsSchema, options, 'runExperiment options');
  const jobs = opts.jobs as Job[];
  validateJobs(jobs);
  const hashes = jobs.map(runHash);
  const { store, name } = opts;
  await store.beginExperiment(
    name,
    jobs.map((j, i) => ({ key: j.key, hash: hashes[i] })),
    opts.config ?? null,
  );

  const cached = opts.force
    ? new Map<string, { result: JsonValue; durationMs: number }>()
    : await store.doneRuns(name, hashes);
  const results: unknown[] = new Array(jobs.length);
  const statuses: JobStatus[] = new Array(jobs.length);
  let missing: Job[] = [];
  const indexOf = new Map<string, number>();
  const useCached = (i: number, run: { result: JsonValue; durationMs: number }) => {
    results[i] = run.result;
    statuses[i] = {
      key: jobs[i].key,
      hash: hashes[i],
      source: 'cached',
      attempts: 0,
      durationMs: 0,
      recordedDurationMs: run.durationMs,
    };
  };
  jobs.forEach((job, i) => {
    indexOf.set(job.key, i);
    if (cached.has(hashes[i])) useCached(i, cached.get(hashes[i])!);
    else missing.push(job);
  });

  // Store writes may be asynchronous (PostgreSQL): chain them in completion order, and stop the
  // executor when one fails (the write error is then the run's error).
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  opts.signal?.addEventListener('abort', onAbort);
  if (opts.signal?.aborted) controller.abort();
  let writes: Promise<void> = Promise.resolve();
  let writeError: unknown;
  const record = (job: Job, outcome: JobOutcome) => {
    const i = indexOf.get(job.key)!;
    const spec = getJobKind(job.kind);
    const run = {
      key: job.key,
      hash: hashes[i],
      kind: job.kind,
      seed: job.seed,
      codeVersion: spec.version,
      config: job.config,
      status: outcome.ok ? ('done' as const) : ('failed' as const),
      result: outcome.ok ? outcome.result : undefined,
      error: outcome.ok ? undefined : outcome.error.message,
      attempts: outcome.attempts,
      durationMs: outcome.durationMs,
    };
    const written = store.recordRun(name, run);
    if (written instanceof Promise) {
      writes = writes
        .then(() => written)
        .catch((err) => {
          if (writeError === undefined) writeError = err;
          controller.abort();
        });
    }
  };
  const execute = async (batch: Job[], label: string) => {
    const outcomes = await opts.executor
      .run(batch, {
        onResult: record,
        onError: record,
        progress: opts.progress ?? silentProgress,
        label,
        signal: controller.signal,
      })
      .catch(async (err) => {
        await writes;
        throw writeError ?? err;
      });
    await writes;
    if (writeError !== undefined) throw writeError;
    outcomes.forEach((o) => {
      const i = indexOf.get(o.key)!;
      statuses[i] = o.ok
        ? {
            key: o.key,
            hash: hashes[i],
            source: 'computed',
            attempts: o.attempts,
            durationMs: o.durationMs,
            recordedDurationMs: o.durationMs,
          }
        : {
            key: o.key,
            hash: hashes[i],
            source: 'failed',
            attempts: o.attempts,
            durationMs: o.durationMs,
            recordedDurationMs: o.durationMs,
            error: o.error,
          };
      if (o.ok) results[i] = o.result;
    });
  };
  const label = cached.size > 0 ? `${name} (${cached.size} cached)` : name;

  // A forced recompute ignores stored results, so it does not coordinate through claims either.
  const claiming = opts.claim && !opts.force;
  const owner = newOwner();
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  try {
    if (missing.length > 0 && claiming) {
      heartbeat = setInterval(
        () => {
          Promise.resolve()
            .then(() => store.refreshClaims(owner, opts.claimTtlMs))
            .catch(() => undefined); // a missed heartbeat only lets another process take a job over
        },
        Math.max(50, Math.floor(opts.claimTtlMs / 3)),
      );
      heartbeat.unref?.();
    }
    let round = 0;
    while (missing.length > 0) {
      if (controller.signal.aborted)
        throw writeError ?? new AbortError(`experiment '${name}' stopped while waiting for jobs`);
      let mine = missing;
      if (claiming) {
        const held = new Set(
          await store.claimRuns(
            name,
            missing.map((j) => hashes[indexOf.get(j.key)!]),
            owner,
            opts.claimTtlMs,
          ),
        );
        mine = missing.filter((j) => held.has(hashes[indexOf.get(j.key)!]));
      }
      if (mine.length > 0) {
        await execute(mine, round === 0 ? label : `${name} (taken over)`);
        round++;
      }
      const taken = new Set(mine.map((j) => j.key));
      missing = missing.filter((j) => !taken.has(j.key));
      if (missing.length === 0) break;
      // The rest is held by another process: use its results as they arrive, take over expired claims.
      const done = await store.doneRuns(
        name,
        missing.map((j) => hashes[indexOf.get(j.key)!]),
      );
      missing = missing.filter((j) => {
        const i = indexOf.get(j.key)!;
        if (!done.has(hashes[i])) return true;
        useCached(i, done.get(hashes[i])!);
        return false;
      });
      if (missing.length > 0 && mine.length === 0) {
        // A holder on this machine whose process is gone (killed) will never finish: free its jobs now.
        for (const c of await store.listClaims(name)) if (isDeadLocalOwner(c.owner)) await store.releaseClaims(c.owner);
        await sleep(opts.claimPollMs, controller.signal);
      }
    }
  } finally {
    if (heartbeat) clearInterval(heartbeat);
    opts.signal?.removeEventListener('abort', onAbort);
    if (claiming) await Promise.resolve(store.releaseClaims(owner)).catch(() => undefined);
  }
  const count = (s: JobStatus['source']) => statuses.filter((x) => x.source === s).length;
  const out: ExperimentResult<R> = {
    name,
    results: results as R[],
    jobs: statuses,
    cached: count('cached'),
    computed: count('computed'),
    failed: count('failed'),
  };
  if (out.failed > 0 && !opts.allowFailures) {
    const failures = statuses
      .filter((s) => s.source === 'failed')
      .map((s) => ({ key: s.key, error: s.error!, attempts: s.attempts }));
    throw new ExperimentFailedError(name, failures, out as ExperimentResult<unknown>);
  }
  return out;
}
