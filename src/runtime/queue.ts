// The PostgreSQL job queue shared by QueueExecutor (the coordinator) and queue workers
// (`npm run worker`): pg-boss holds the messages (SKIP LOCKED fetch, retries, expiry); three
// small tables next to the experiment store hold results by run hash, worker heartbeats and
// which worker runs which message.
import type { Pool, PoolClient } from 'pg';
import type PgBossType from 'pg-boss';
import { AbortError, checkRetries, Executor, ExecutorRunOptions, JobErrorInfo, JobOutcome, report } from './executor';
import { Job, getJobKind, runHash } from './jobs';
import { JsonValue, parseJson } from './json';
import { checkPgUrl, inTransaction, maskSecrets, maskUrl, openPool, pgError } from './pg-connect';
import { PG_STORE_SCHEMA } from './pg-store';

/** pg-boss queue name of marl-automl jobs. */
export const QUEUE_NAME = 'marl-automl-jobs';
/** PostgreSQL schema of pg-boss's own tables. */
export const QUEUE_BOSS_SCHEMA = 'marl_automl_boss';
/** LISTEN/NOTIFY channel on which workers announce results (the payload is the run hash). */
export const RESULTS_CHANNEL = 'marl_automl_results';

/**
 * A queue message: plain JSON, no code. The worker looks the kind up in its own registry (never
 * loads a module named by a message) and refuses a kind or version it does not have.
 */
export interface QueueMessage {
  /** Message format version. */
  v: 1;
  /** Run hash the coordinator computed (the worker recomputes it and refuses a mismatch). */
  hash: string;
  key: string;
  kind: string;
  /** The kind's code version the coordinator has (`JobKindSpec.version`). */
  version: string;
  seed: number;
  config: unknown;
}

const tables = (s: string) => `
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.queue_results (
  hash TEXT PRIMARY KEY,
  key TEXT NOT NULL,
  kind TEXT NOT NULL,
  ok BOOLEAN NOT NULL,
  result_json TEXT,
  error_json TEXT,
  attempts INTEGER NOT NULL,
  duration_ms DOUBLE PRECISION NOT NULL,
  worker TEXT NOT NULL,
  finished_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS ${s}.queue_workers (
  id TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  concurrency INTEGER NOT NULL,
  started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_seen TIMESTAMPTZ NOT NULL DEFAULT now(),
  jobs_done INTEGER NOT NULL DEFAULT 0,
  stopped_at TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS ${s}.queue_claims (
  job_id TEXT PRIMARY KEY,
  hash TEXT NOT NULL,
  worker TEXT NOT NULL,
  started_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
`;

/** Creates the queue tables (idempotent; serialised across machines). */
export async function ensureQueueTables(pool: Pool, schema: string): Promise<void> {
  await inTransaction(pool, async (c) => {
    await c.query(`SELECT pg_advisory_xact_lock(hashtext('marl_automl_queue_init'))`);
    await c.query(tables(schema));
  });
}

/** Starts pg-boss on `url` (its schema and our queue created when missing). */
export async function startBoss(
  url: string,
  options: { supervise: boolean; expireInSeconds: number; retryLimit: number },
): Promise<PgBossType> {
  const PgBoss = require('pg-boss') as typeof PgBossType;
  const boss = new PgBoss({
    connectionString: url,
    schema: QUEUE_BOSS_SCHEMA,
    max: 3,
    application_name: 'marl-automl queue',
    supervise: options.supervise,
    schedule: false,
    // Expired active jobs are checked by the supervising instance; dead workers are caught sooner
    // by the executor's heartbeat check.
    maintenanceIntervalSeconds: 30,
  });
  boss.on('error', () => undefined); // surfaced by the calls that fail; never crash the process
  try {
    await boss.start();
    await boss.createQueue(QUEUE_NAME, {
      name: QUEUE_NAME,
      policy: 'standard',
      retryLimit: options.retryLimit,
      retryDelay: 0,
      expireInSeconds: options.expireInSeconds,
    });
  } catch (err) {
    await boss.stop({ graceful: false, wait: false }).catch(() => undefined);
    throw pgError(url, 'cannot start the job queue (pg-boss)', err);
  }
  return boss;
}

/** Options of {@link QueueExecutor}. */
export interface QueueExecutorOptions {
  /** PostgreSQL URL (default `$MARL_AUTOML_DB`). Credentials may also come from `PGPASSWORD` or `~/.pgpass`. */
  url?: string;
  /** Retries after a failed attempt, including a worker that died (default 2: at most 3 attempts). */
  maxRetries?: number;
  /** A running job whose worker has not sent a heartbeat for this long is re-queued (default 30 000 ms). */
  heartbeatTimeoutMs?: number;
  /** How often to look for results and dead workers when no notification arrives (default 1000 ms). */
  pollMs?: number;
  /** pg-boss expiry of one attempt: the last resort against a stuck (alive but hung) worker (default 4 h). */
  expireInSeconds?: number;
  /** PostgreSQL schema of the queue tables (default `marl_automl`, the experiment store's). */
  schema?: string;
}

interface Tracked {
  index: number;
  job: Job;
  hash: string;
  jobId: string;
  retries: number;
}

/**
 * Runs jobs on worker processes on any number of machines (`npm run worker -- --db URL`) through
 * a PostgreSQL queue (pg-boss). `run` publishes one message per job (plain JSON: key, kind name,
 * code version, seed, config), reuses a result already stored for the same run hash and adopts a
 * message already queued for it (so a restarted coordinator recomputes only what is missing),
 * reports results as workers commit them, re-queues the job of a worker that stopped sending
 * heartbeats, and resolves with outcomes in job order. Retries (`maxRetries`) are done by the
 * queue: a failed attempt is fetched again by any worker. `signal` cancels outstanding messages.
 * Results do not depend on which machine runs a job (each job seeds itself from its key).
 *
 * @example
 * ```ts
 * const executor = new QueueExecutor({ url: process.env.MARL_AUTOML_DB });
 * await executor.ready(); // fails here, clearly, on a bad URL or password
 * const { results } = await runExperiment({ name: 'sweep', jobs, executor, store });
 * await executor.close();
 * ```
 */
export class QueueExecutor implements Executor {
  readonly maxRetries: number;
  /** The database URL with its password masked. */
  readonly location: string;
  private readonly url: string;
  private readonly heartbeatTimeoutMs: number;
  private readonly pollMs: number;
  private readonly expireInSeconds: number;
  private readonly schema: string;
  private connecting: Promise<{ boss: PgBossType; pool: Pool; listener: PoolClient }> | undefined;
  private closed = false;
  private wake: (() => void) | undefined;

  constructor(options: QueueExecutorOptions = {}) {
    hideSecret(this, 'url');
    this.url = checkPgUrl(
      options.url ?? process.env.MARL_AUTOML_DB,
      options.url ? 'QueueExecutor url' : 'MARL_AUTOML_DB',
    );
    this.location = maskUrl(this.url);
    this.maxRetries = checkRetries(options.maxRetries ?? 2, 'QueueExecutor');
    this.heartbeatTimeoutMs = positive(options.heartbeatTimeoutMs ?? 30_000, 'heartbeatTimeoutMs');
    this.pollMs = positive(options.pollMs ?? 1000, 'pollMs');
    this.expireInSeconds = positive(options.expireInSeconds ?? 4 * 3600, 'expireInSeconds');
    this.schema = options.schema ?? PG_STORE_SCHEMA;
  }

  /**
   * Connects (pg-boss, the queue tables, a LISTEN connection). Called by `run`; call it first to
   * fail early on a bad URL, a wrong password or a database that is down.
   *
   * @example
   * ```ts
   * await new QueueExecutor({ url }).ready();
   * ```
   */
  async ready(): Promise<void> {
    await this.connect();
  }

  private connect() {
    if (this.closed) return Promise.reject(new Error('QueueExecutor: used after close()'));
    if (!this.connecting) {
      this.connecting = (async () => {
        const pool = await openPool(this.url, { max: 3, application: 'marl-automl coordinator' });
        try {
          await ensureQueueTables(pool, this.schema);
          const boss = await startBoss(this.url, {
            supervise: true,
            expireInSeconds: this.expireInSeconds,
            retryLimit: this.maxRetries,
          });
          const listener = await pool.connect();
          listener.on('notification', () => this.wake?.());
          listener.on('error', () => undefined);
          await listener.query(`LISTEN ${RESULTS_CHANNEL}`);
          return { boss, pool, listener };
        } catch (err) {
          await pool.end().catch(() => undefined);
          throw pgError(this.url, 'cannot connect the queue executor', err);
        }
      })();
      this.connecting.catch(() => (this.connecting = undefined));
    }
    return this.connecting;
  }

  async run(jobs: readonly Job[], options: ExecutorRunOptions = {}): Promise<JobOutcome[]> {
    if (this.closed) throw new Error('QueueExecutor: run() after close()');
    const hashes = jobs.map(runHash);
    if (options.signal?.aborted) throw new AbortError(`0 of ${jobs.length} jobs finished`);
    const { boss, pool } = await this.connect();
    const s = this.schema;
    const outcomes: JobOutcome[] = new Array(jobs.length);
    const byHash = new Map<string, Tracked>();
    let finished = 0;
    let callbackError: unknown;
    const q = async <T = Record<string, unknown>>(what: string, sql: string, params: unknown[]) => {
      try {
        return (await pool.query(sql, params)).rows as T[];
      } catch (err) {
        throw pgError(this.url, what, err);
      }
    };
    const finish = (t: Tracked, outcome: JobOutcome) => {
      if (outcomes[t.index]) return;
      outcomes[t.index] = outcome;
      byHash.delete(t.hash);
      finished++;
      try {
        report(t.job, outcome, options);
      } catch (err) {
        if (callbackError === undefined) callbackError = err;
      }
    };

    options.progress?.start(jobs.length, options.label ?? 'jobs');
    try {
      // Failed results are retried: drop them. Successes already stored (another coordinator, an
      // earlier run that was killed) are reused.
      await q('clear failed results', `DELETE FROM ${s}.queue_results WHERE hash = ANY($1::text[]) AND NOT ok`, [
        hashes,
      ]);
      const pending = jobs.map((job, index) => ({ index, job, hash: hashes[index], jobId: '', retries: 0 }));
      pending.forEach((t) => byHash.set(t.hash, t));
      await this.collect(q, byHash, finish);
      // Adopt live messages for the same run (a restarted coordinator), publish the rest.
      const live = await q<{ id: string; singleton_key: string }>(
        'look up queued jobs',
        `SELECT id, singleton_key FROM ${QUEUE_BOSS_SCHEMA}.job WHERE name = $1 AND singleton_key = ANY($2::text[]) AND state < 'completed'`,
        [QUEUE_NAME, [...byHash.keys()]],
      );
      for (const r of live) {
        const t = byHash.get(r.singleton_key);
        if (t && !t.jobId) t.jobId = r.id;
      }
      for (const t of [...byHash.values()]) {
        if (t.jobId) continue;
        if (options.signal?.aborted) break;
        t.jobId = await this.publish(boss, t);
      }
      // Wait for results; re-queue jobs of dead workers; notice attempts the queue gave up on.
      while (byHash.size > 0 && callbackError === undefined) {
        if (options.signal?.aborted) {
          const ids = [...byHash.values()].map((t) => t.jobId).filter(Boolean);
          if (ids.length) await boss.cancel(QUEUE_NAME, ids).catch(() => undefined);
          throw new AbortError(`${finished} of ${jobs.length} jobs finished (outstanding messages cancelled)`);
        }
        await this.sleep(options.signal);
        await this.collect(q, byHash, finish);
        if (byHash.size > 0) await this.supervise(q, boss, byHash, finish, options);
      }
    } finally {
      options.progress?.end();
    }
    if (callbackError !== undefined) {
      const ids = [...byHash.values()].map((t) => t.jobId).filter(Boolean);
      if (ids.length) await boss.cancel(QUEUE_NAME, ids).catch(() => undefined);
      throw callbackError;
    }
    return outcomes;
  }

  private async publish(boss: PgBossType, t: Tracked): Promise<string> {
    const spec = getJobKind(t.job.kind);
    const msg: QueueMessage = {
      v: 1,
      hash: t.hash,
      key: t.job.key,
      kind: t.job.kind,
      version: spec.version,
      seed: t.job.seed,
      config: t.job.config,
    };
    try {
      const id = await boss.send(QUEUE_NAME, msg as unknown as object, {
        singletonKey: t.hash,
        retryLimit: this.maxRetries,
        retryDelay: 0,
        expireInSeconds: this.expireInSeconds,
      });
      if (!id) throw new Error('the queue refused the message');
      return id;
    } catch (err) {
      throw pgError(this.url, `cannot publish job '${t.job.key}'`, err);
    }
  }

  /** Reports every stored result of the outstanding jobs. */
  private async collect(
    q: <T>(what: string, sql: string, params: unknown[]) => Promise<T[]>,
    byHash: Map<string, Tracked>,
    finish: (t: Tracked, o: JobOutcome) => void,
  ): Promise<void> {
    if (byHash.size === 0) return;
    const rows = await q<{
      hash: string;
      ok: boolean;
      result_json: string | null;
      error_json: string | null;
      attempts: number;
      duration_ms: number;
    }>(
      'read results',
      `SELECT hash, ok, result_json, error_json, attempts, duration_ms FROM ${this.schema}.queue_results WHERE hash = ANY($1::text[])`,
      [[...byHash.keys()]],
    );
    for (const r of rows) {
      const t = byHash.get(r.hash);
      if (!t) continue;
      if (r.ok)
        finish(t, {
          key: t.job.key,
          ok: true,
          result: parseJson(r.result_json ?? 'null') as JsonValue,
          attempts: r.attempts,
          durationMs: r.duration_ms,
        });
      else
        finish(t, {
          key: t.job.key,
          ok: false,
          error: JSON.parse(r.error_json ?? '{"name":"Error","message":"unknown error"}') as JobErrorInfo,
          attempts: r.attempts,
          durationMs: r.duration_ms,
        });
    }
  }

  /** Re-queues jobs of workers without a recent heartbeat; reports jobs the queue gave up on. */
  private async supervise(
    q: <T>(what: string, sql: string, params: unknown[]) => Promise<T[]>,
    boss: PgBossType,
    byHash: Map<string, Tracked>,
    finish: (t: Tracked, o: JobOutcome) => void,
    options: ExecutorRunOptions,
  ): Promise<void> {
    const ids = [...byHash.values()].map((t) => t.jobId).filter(Boolean);
    if (ids.length === 0) return;
    const rows = await q<{
      id: string;
      hash: string;
      state: string;
      retry_count: number;
      output: { message?: string; name?: string } | null;
      worker: string | null;
      dead: boolean;
      silent_s: number | null;
    }>(
      'check running jobs',
      `SELECT j.id, j.singleton_key AS hash, j.state, j.retry_count, j.output, c.worker,
         (j.state = 'active' AND COALESCE(w.last_seen, c.started_at, j.started_on) < now() - make_interval(secs => $3::double precision / 1000)) AS dead,
         extract(epoch from now() - COALESCE(w.last_seen, c.started_at, j.started_on)) AS silent_s
       FROM ${QUEUE_BOSS_SCHEMA}.job j
       LEFT JOIN ${this.schema}.queue_claims c ON c.job_id = j.id::text
       LEFT JOIN ${this.schema}.queue_workers w ON w.id = c.worker
       WHERE j.name = $1 AND j.id = ANY($2::uuid[])`,
      [QUEUE_NAME, ids, this.heartbeatTimeoutMs],
    );
    for (const r of rows) {
      const t = byHash.get(r.hash);
      if (!t || t.jobId !== r.id) continue;
      if (r.dead) {
        const error: JobErrorInfo = {
          name: 'WorkerError',
          message: `worker ${r.worker ?? '(unknown)'} stopped sending heartbeats while running job '${t.job.key}' (silent for ${Math.round(Number(r.silent_s))} s)`,
        };
        await boss.fail(QUEUE_NAME, r.id, error).catch(() => undefined);
        await q('release a dead worker claim', `DELETE FROM ${this.schema}.queue_claims WHERE job_id = $1`, [r.id]);
        if (r.retry_count < this.maxRetries) options.onRetry?.(t.job, error, r.retry_count);
      } else if (r.state === 'failed' || r.state === 'cancelled' || r.state === 'completed') {
        // The queue gave up (retries spent on dead workers or expiry) or the job ended without a
        // stored result; results written just before are collected first.
        await this.collect(q, new Map([[t.hash, t]]), finish);
        if (!byHash.has(t.hash)) continue;
        if (r.state === 'completed') {
          t.jobId = await this.publish(boss, t); // ended without a result (should not happen): run it again
          continue;
        }
        finish(t, {
          key: t.job.key,
          ok: false,
          error: {
            name: r.output?.name ?? 'WorkerError',
            message: maskSecrets(r.output?.message ?? `job '${t.job.key}' ${r.state} in the queue`, this.url),
          },
          attempts: r.retry_count + 1,
          durationMs: 0,
        });
      }
    }
  }

  private sleep(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.pollMs);
      this.wake = done;
      signal?.addEventListener('abort', done);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const c = this.connecting;
    if (!c) return;
    try {
      const { boss, pool, listener } = await c;
      listener.release();
      await boss.stop({ graceful: false, wait: true, timeout: 5000 }).catch(() => undefined);
      await pool.end().catch(() => undefined);
    } catch {
      // connection never succeeded: nothing to release
    }
  }
}

/** Makes `obj[field]` non-enumerable, so logging or inspecting the object never prints the URL's password. */
export function hideSecret(obj: object, field: string): void {
  Object.defineProperty(obj, field, { enumerable: false, writable: true, configurable: true });
}

function positive(n: number, name: string): number {
  if (!Number.isFinite(n) || n <= 0)
    throw new Error(`QueueExecutor: ${name} must be a positive number, got ${JSON.stringify(n)}`);
  return n;
}
