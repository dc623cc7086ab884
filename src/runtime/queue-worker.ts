// A queue worker process's loop: fetch messages from the PostgreSQL queue, refuse anything that
// is not a job kind registered by this checkout at the same code version, run the rest in the
// local worker-thread pool, and commit each result in its own transaction.
import * as os from 'os';
import { randomBytes } from 'crypto';
import type { Pool } from 'pg';
import type PgBossType from 'pg-boss';
import { Executor, JobErrorInfo } from './executor';
import { Job, getJobKind, runHash } from './jobs';
import { stableStringify } from './json';
import { checkPgUrl, inTransaction, maskSecrets, maskUrl, openPool, pgError } from './pg-connect';
import { PG_STORE_SCHEMA } from './pg-store';
import { ensureQueueTables, QUEUE_NAME, QueueMessage, RESULTS_CHANNEL, startBoss } from './queue';
import { WorkerPoolExecutor } from './worker-pool';

/** Options of {@link startQueueWorker}. */
export interface QueueWorkerOptions {
  /** PostgreSQL URL (default `$MARL_AUTOML_DB`). */
  url?: string;
  /** Jobs run at once, each in its own worker thread (default 1). */
  concurrency?: number;
  /** Heartbeat period (default 5000 ms); the coordinator re-queues a job after its heartbeat timeout (30 s). */
  heartbeatMs?: number;
  /** How often an idle slot polls the queue (default 500 ms). */
  pollMs?: number;
  /** Where log lines go (default stdout); every line is masked. */
  log?: (line: string) => void;
  /** Executor that runs one job (default: a `WorkerPoolExecutor` with `concurrency` threads and no retries). */
  executor?: Executor;
  /** PostgreSQL schema of the queue tables (default `marl_automl`). */
  schema?: string;
  /** Pause between attempts to write a finished result while the database is unreachable (default 2000 ms). */
  retryWriteMs?: number;
}

/** A running worker (see {@link startQueueWorker}). */
export interface QueueWorker {
  /** This worker's id (`host:pid:random`), stored with each result and heartbeat. */
  readonly id: string;
  /** Jobs finished (stored), refused and failed attempts so far. */
  readonly stats: { done: number; refused: number; failed: number };
  /**
   * Stops fetching, waits up to `graceMs` (default 60 000) for running jobs to finish, hands the
   * rest back to the queue (another worker runs them), and disconnects.
   */
  stop(graceMs?: number): Promise<void>;
  /** Resolves when the worker has stopped. */
  readonly stopped: Promise<void>;
}

/**
 * Why a message is refused, or undefined when it names a kind registered in this process at the
 * same code version with a matching run hash. Never loads code: the registry is filled by this
 * checkout's own modules before the worker starts.
 */
export function refuseReason(data: unknown): string | undefined {
  const m = data as Partial<QueueMessage> | null;
  if (m === null || typeof m !== 'object') return 'the message is not an object';
  if (m.v !== 1) return `unsupported message format ${JSON.stringify(m.v)}`;
  for (const f of ['hash', 'key', 'kind', 'version'] as const)
    if (typeof m[f] !== 'string' || m[f]!.length === 0) return `field '${f}' must be a non-empty string`;
  if (!Number.isSafeInteger(m.seed)) return `field 'seed' must be an integer`;
  const extra = Object.keys(m).filter((k) => !['v', 'hash', 'key', 'kind', 'version', 'seed', 'config'].includes(k));
  if (extra.length)
    return `unexpected field(s) ${extra.join(', ')} (a message carries data only, never code or module paths)`;
  let version: string;
  try {
    version = getJobKind(m.kind!).version;
  } catch {
    return `unknown job kind '${m.kind}': not registered by this checkout's modules`;
  }
  if (version !== m.version)
    return `job kind '${m.kind}' is at version '${version}' here but the message asks for '${m.version}' (deploy the same checkout on every machine)`;
  try {
    const h = runHash({ key: m.key!, kind: m.kind!, seed: m.seed!, config: m.config });
    if (h !== m.hash) return `run hash mismatch (message ${m.hash!.slice(0, 12)}…, computed here ${h.slice(0, 12)}…)`;
  } catch (err) {
    return `invalid job: ${(err as Error).message}`;
  }
  return undefined;
}

/**
 * Starts a queue worker: registers a heartbeat, fetches messages with `concurrency` slots, runs
 * each job in a worker thread (the main thread stays free for heartbeats), and writes each result
 * in one transaction (`ON CONFLICT` on the run hash: a job delivered twice is stored once; a
 * success is never replaced). A failed attempt goes back to the queue until its retries are spent;
 * then the failure is stored. Refused messages are logged and stored as failures, never run.
 * Load the modules that define job kinds before calling it (`loadProjectJobKinds`).
 *
 * @example
 * ```ts
 * loadProjectJobKinds();
 * const worker = await startQueueWorker({ url: process.env.MARL_AUTOML_DB, concurrency: 2 });
 * process.on('SIGTERM', () => void worker.stop());
 * await worker.stopped;
 * ```
 */
export async function startQueueWorker(options: QueueWorkerOptions = {}): Promise<QueueWorker> {
  const url = checkPgUrl(options.url ?? process.env.MARL_AUTOML_DB, options.url ? '--db' : 'MARL_AUTOML_DB');
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new Error(`queue worker: concurrency must be a positive integer, got ${JSON.stringify(concurrency)}`);
  const heartbeatMs = options.heartbeatMs ?? 5000;
  const pollMs = options.pollMs ?? 500;
  const retryWriteMs = options.retryWriteMs ?? 2000;
  const schema = options.schema ?? PG_STORE_SCHEMA;
  const out = options.log ?? ((line: string) => console.log(line));
  const log = (line: string) => out(`[worker ${new Date().toISOString()}] ${maskSecrets(line, url)}`);
  const id = `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

  const pool: Pool = await openPool(url, { max: concurrency + 2, application: `marl-automl worker ${id}` });
  let boss: PgBossType;
  try {
    await ensureQueueTables(pool, schema);
    boss = await startBoss(url, { supervise: false, expireInSeconds: 4 * 3600, retryLimit: 2 });
    await pool.query(
      `INSERT INTO ${schema}.queue_workers (id, host, pid, concurrency) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET last_seen = now()`,
      [id, os.hostname(), process.pid, concurrency],
    );
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw pgError(url, 'cannot start the worker', err);
  }
  const executor = options.executor ?? new WorkerPoolExecutor({ workers: concurrency, maxRetries: 0 });
  const stats = { done: 0, refused: 0, failed: 0 };
  log(`${id} started: ${concurrency} slot(s), queue '${QUEUE_NAME}' on ${maskUrl(url)}`);

  const heartbeat = setInterval(() => {
    pool
      .query(`UPDATE ${schema}.queue_workers SET last_seen = now() WHERE id = $1`, [id])
      .catch((err) => log(`heartbeat failed: ${(err as Error).message}`));
  }, heartbeatMs);

  let stopping = false;
  const running = new Map<string, Promise<void>>();
  let wakeSlots: (() => void) | undefined;

  const writeResult = async (
    msg: QueueMessage,
    jobId: string,
    ok: boolean,
    result: unknown,
    error: JobErrorInfo | undefined,
    attempts: number,
    durationMs: number,
  ) => {
    await inTransaction(pool, async (c) => {
      await c.query(
        `INSERT INTO ${schema}.queue_results (hash, key, kind, ok, result_json, error_json, attempts, duration_ms, worker)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (hash) DO UPDATE SET ok = excluded.ok, result_json = excluded.result_json, error_json = excluded.error_json,
           attempts = excluded.attempts, duration_ms = excluded.duration_ms, worker = excluded.worker, finished_at = now()
         WHERE NOT ${schema}.queue_results.ok AND excluded.ok`,
        [
          msg.hash,
          String(msg.key),
          String(msg.kind),
          ok,
          ok ? stableStringify(result ?? null) : null,
          ok ? null : JSON.stringify(error),
          attempts,
          durationMs,
          id,
        ],
      );
      await c.query(`DELETE FROM ${schema}.queue_claims WHERE job_id = $1`, [jobId]);
      await c.query(`UPDATE ${schema}.queue_workers SET jobs_done = jobs_done + 1, last_seen = now() WHERE id = $1`, [
        id,
      ]);
      await c.query(`SELECT pg_notify($1, $2)`, [RESULTS_CHANNEL, msg.hash]);
    });
  };

  /**
   * Runs a database write until it succeeds: a finished result is kept in memory while the
   * database is unreachable (restarting, network cut) and written once it is back. After a stop
   * was requested it gives up after three more failures.
   */
  const persist = async (what: string, fn: () => Promise<unknown>) => {
    for (let failures = 0; ; failures++) {
      try {
        await fn();
        if (failures > 0) log(`${what}: written after ${failures} failed attempt(s)`);
        return;
      } catch (err) {
        if (stopping && failures >= 3) throw err;
        log(
          `cannot ${what}: ${(err as Error).message}; retrying in ${Math.round(retryWriteMs / 1000)} s (the result is kept)`,
        );
        await new Promise((r) => setTimeout(r, retryWriteMs));
      }
    }
  };

  const handle = async (job: PgBossType.JobWithMetadata<QueueMessage>) => {
    const msg = job.data;
    const attempt = job.retryCount;
    const label = typeof msg?.key === 'string' ? `'${msg.key}'` : `message ${job.id}`;
    const refused = refuseReason(msg);
    if (refused) {
      stats.refused++;
      log(`REFUSED ${label} (kind ${JSON.stringify((msg as { kind?: unknown })?.kind)}): ${refused}`);
      const error = { name: 'RefusedJob', message: `refused by worker ${id}: ${refused}` };
      if (typeof msg?.hash === 'string')
        await writeResult(
          { ...msg, key: String(msg.key), kind: String(msg.kind) },
          job.id,
          false,
          null,
          error,
          attempt + 1,
          0,
        );
      await boss.complete(QUEUE_NAME, job.id, error);
      return;
    }
    await pool.query(
      `INSERT INTO ${schema}.queue_claims (job_id, hash, worker) VALUES ($1, $2, $3)
       ON CONFLICT (job_id) DO UPDATE SET worker = excluded.worker, started_at = now()`,
      [job.id, msg.hash, id],
    );
    log(`start ${label} (${msg.kind}, attempt ${attempt + 1})`);
    const j: Job = { key: msg.key, kind: msg.kind, seed: msg.seed, config: msg.config };
    const [outcome] = await executor.run([j]);
    if (outcome.ok) {
      await persist(`store the result of ${label}`, () =>
        writeResult(msg, job.id, true, outcome.result, undefined, attempt + 1, outcome.durationMs),
      );
      await persist(`complete ${label} in the queue`, () => boss.complete(QUEUE_NAME, job.id));
      stats.done++;
      log(`done ${label} in ${Math.round(outcome.durationMs)} ms`);
      return;
    }
    stats.failed++;
    const error = { ...outcome.error, message: maskSecrets(outcome.error.message, url), stack: undefined };
    if (attempt >= job.retryLimit) {
      await persist(`store the failure of ${label}`, () =>
        writeResult(msg, job.id, false, null, error, attempt + 1, outcome.durationMs),
      );
      await persist(`complete ${label} in the queue`, () => boss.complete(QUEUE_NAME, job.id, error));
      log(`FAILED ${label} after ${attempt + 1} attempt(s): ${error.message}`);
    } else {
      await pool.query(`DELETE FROM ${schema}.queue_claims WHERE job_id = $1`, [job.id]);
      await boss.fail(QUEUE_NAME, job.id, error);
      log(`attempt ${attempt + 1} of ${label} failed (will be retried): ${error.message}`);
    }
  };

  const slot = async (n: number) => {
    while (!stopping) {
      let jobs: PgBossType.JobWithMetadata<QueueMessage>[];
      try {
        jobs = await boss.fetch<QueueMessage>(QUEUE_NAME, { batchSize: 1, includeMetadata: true });
      } catch (err) {
        log(`slot ${n}: cannot fetch from the queue: ${(err as Error).message} (retrying)`);
        await new Promise((r) => setTimeout(r, retryWriteMs));
        continue;
      }
      if (jobs.length === 0) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, pollMs);
          wakeSlots = () => {
            clearTimeout(t);
            r();
          };
        });
        continue;
      }
      const job = jobs[0];
      const p = handle(job).catch(async (err) => {
        log(`error on ${job.id}: ${(err as Error).message}; handing it back to the queue`);
        await boss
          .fail(QUEUE_NAME, job.id, { message: maskSecrets((err as Error).message, url) })
          .catch(() => undefined);
      });
      running.set(job.id, p);
      await p;
      running.delete(job.id);
    }
  };
  const slots = Array.from({ length: concurrency }, (_, n) => slot(n));

  let stoppedResolve!: () => void;
  const stopped = new Promise<void>((r) => (stoppedResolve = r));
  let stopCalled: Promise<void> | undefined;
  const stop = (graceMs = 60_000) => {
    if (stopCalled) return stopCalled;
    stopCalled = (async () => {
      stopping = true;
      wakeSlots?.();
      log(`stopping: ${running.size} job(s) running, waiting up to ${Math.round(graceMs / 1000)} s`);
      const all = Promise.all(slots);
      const timedOut = await Promise.race([
        all.then(() => false),
        new Promise<boolean>((r) => setTimeout(() => r(true), graceMs).unref()),
      ]);
      if (timedOut && running.size > 0) {
        const ids = [...running.keys()];
        log(`handing ${ids.length} unfinished job(s) back to the queue`);
        for (const jobId of ids)
          await boss
            .fail(QUEUE_NAME, jobId, { message: `worker ${id} stopped before the job finished` })
            .catch(() => undefined);
        await pool
          .query(`DELETE FROM ${schema}.queue_claims WHERE job_id = ANY($1::text[])`, [ids])
          .catch(() => undefined);
      }
      clearInterval(heartbeat);
      await pool
        .query(`UPDATE ${schema}.queue_workers SET stopped_at = now() WHERE id = $1`, [id])
        .catch(() => undefined);
      await boss.stop({ graceful: false, wait: true, timeout: 5000 }).catch(() => undefined);
      if (!options.executor) await executor.close().catch(() => undefined);
      await pool.end().catch(() => undefined);
      log(`${id} stopped: ${stats.done} done, ${stats.failed} failed attempt(s), ${stats.refused} refused`);
      stoppedResolve();
    })();
    return stopCalled;
  };
  return { id, stats, stop, stopped };
}
