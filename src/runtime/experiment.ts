import { parseConfig, z } from '../config';
import { ProgressSink, silentProgress } from '../progress';
import { Executor, JobErrorInfo, JobOutcome } from './executor';
import { Job, getJobKind, runHash, validateJobs } from './jobs';
import { JsonValue } from './json';
import { ExperimentStore } from './store';

/** Options of {@link runExperiment}. */
export interface RunExperimentOptions {
  /** Experiment name (the cache scope inside the store). */
  name: string;
  /** Jobs to run; results come back in this order. */
  jobs: readonly Job[];
  /** Where jobs run (`InlineExecutor`, `WorkerPoolExecutor`, ...). Not closed by `runExperiment`. */
  executor: Executor;
  /** Where results are cached and committed. Not closed by `runExperiment`. */
  store: ExperimentStore;
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
}

/** Per-job provenance in an {@link ExperimentResult}. */
export interface JobStatus {
  key: string;
  hash: string;
  /** `cached`: loaded from the store; `computed`: run now; `failed`: failed after retries. */
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
  store: z.custom<ExperimentStore>(
    (v) => v instanceof ExperimentStore,
    'must be an ExperimentStore (ExperimentStore.open())',
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
  store.beginExperiment(
    name,
    jobs.map((j, i) => ({ key: j.key, hash: hashes[i] })),
    opts.config ?? null,
  );

  const cached = opts.force
    ? new Map<string, { result: JsonValue; durationMs: number }>()
    : store.doneRuns(name, hashes);
  const results: unknown[] = new Array(jobs.length);
  const statuses: JobStatus[] = new Array(jobs.length);
  const missing: Job[] = [];
  const indexOf = new Map<string, number>();
  jobs.forEach((job, i) => {
    indexOf.set(job.key, i);
    if (cached.has(hashes[i])) {
      const run = cached.get(hashes[i])!;
      results[i] = run.result;
      statuses[i] = {
        key: job.key,
        hash: hashes[i],
        source: 'cached',
        attempts: 0,
        durationMs: 0,
        recordedDurationMs: run.durationMs,
      };
    } else {
      missing.push(job);
    }
  });

  const record = (job: Job, outcome: JobOutcome) => {
    const i = indexOf.get(job.key)!;
    const spec = getJobKind(job.kind);
    store.recordRun(name, {
      key: job.key,
      hash: hashes[i],
      kind: job.kind,
      seed: job.seed,
      codeVersion: spec.version,
      config: job.config,
      status: outcome.ok ? 'done' : 'failed',
      result: outcome.ok ? outcome.result : undefined,
      error: outcome.ok ? undefined : outcome.error.message,
      attempts: outcome.attempts,
      durationMs: outcome.durationMs,
    });
  };

  if (missing.length > 0) {
    const progress = opts.progress ?? silentProgress;
    const label = cached.size > 0 ? `${name} (${cached.size} cached)` : name;
    const outcomes = await opts.executor.run(missing, {
      onResult: record,
      onError: record,
      progress,
      label,
      signal: opts.signal,
    });
    outcomes.forEach((o) => {
      const i = indexOf.get(o.key)!;
      if (o.ok) {
        results[i] = o.result;
        statuses[i] = {
          key: o.key,
          hash: hashes[i],
          source: 'computed',
          attempts: o.attempts,
          durationMs: o.durationMs,
          recordedDurationMs: o.durationMs,
        };
      } else {
        statuses[i] = {
          key: o.key,
          hash: hashes[i],
          source: 'failed',
          attempts: o.attempts,
          durationMs: o.durationMs,
          recordedDurationMs: o.durationMs,
          error: o.error,
        };
      }
    });
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
