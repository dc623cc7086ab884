import type { Pool } from 'pg';
import { writeFileAtomic } from '../io';
import { JsonValue, parseJson, stableStringify } from './json';
import { inTransaction, maskUrl, openPool, pgError } from './pg-connect';
import {
  checkName,
  ClaimRow,
  ExperimentInfo,
  flattenRuns,
  JobEntry,
  RunDbRow,
  RunRecord,
  RunRow,
  sha256,
  STORE_SCHEMA_VERSION,
  toCsv,
  toRunRow,
} from './store';
import type { ExperimentStoreApi } from './store-api';

/** Default PostgreSQL schema (namespace) of the experiment store tables. */
export const PG_STORE_SCHEMA = 'marl_automl';

/** Options of {@link PgExperimentStore.open}. */
export interface PgStoreOpenOptions {
  /** PostgreSQL schema holding the tables (default `marl_automl`); created when missing. */
  schema?: string;
  /** Connections in the pool (default 4). */
  maxConnections?: number;
}

const ddl = (s: string) => `
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ${s}.experiments (
  name TEXT PRIMARY KEY,
  config_hash TEXT NOT NULL,
  config_json TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ${s}.experiment_jobs (
  experiment TEXT NOT NULL REFERENCES ${s}.experiments(name) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  key TEXT NOT NULL,
  hash TEXT NOT NULL,
  PRIMARY KEY (experiment, position)
);
CREATE TABLE IF NOT EXISTS ${s}.runs (
  seq BIGSERIAL,
  experiment TEXT NOT NULL REFERENCES ${s}.experiments(name) ON DELETE CASCADE,
  hash TEXT NOT NULL,
  key TEXT NOT NULL,
  kind TEXT NOT NULL,
  seed BIGINT NOT NULL,
  code_version TEXT NOT NULL,
  config_json TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
  result_json TEXT,
  error TEXT,
  attempts INTEGER NOT NULL,
  duration_ms DOUBLE PRECISION NOT NULL,
  created_at TEXT NOT NULL,
  finished_at TEXT NOT NULL,
  PRIMARY KEY (experiment, hash)
);
CREATE INDEX IF NOT EXISTS runs_by_key ON ${s}.runs (experiment, key);
CREATE TABLE IF NOT EXISTS ${s}.run_claims (
  experiment TEXT NOT NULL,
  hash TEXT NOT NULL,
  owner TEXT NOT NULL,
  expires_at_ms BIGINT NOT NULL,
  PRIMARY KEY (experiment, hash)
);
`;

/** Milliseconds since the epoch on the database server's clock (claims use one clock for every machine). */
const NOW_MS = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/**
 * The experiment store on PostgreSQL: the same tables, semantics and inspection as the SQLite
 * {@link ExperimentStore} (latest job list, history, failed runs retried, a failure never
 * replacing a success, CSV export, job claims), but shared by every machine that reaches the
 * database. Every method is asynchronous. Errors name the masked URL, never the password.
 *
 * @example
 * ```ts
 * const store = await PgExperimentStore.open(process.env.MARL_AUTOML_DB!);
 * const { results } = await runExperiment({ name: 'sweep', jobs, executor, store });
 * await store.exportCsv('sweep', 'results/sweep.csv');
 * await store.close();
 * ```
 */
export class PgExperimentStore implements ExperimentStoreApi {
  /** The masked URL (password replaced by `***`). */
  readonly location: string;
  private closed = false;

  private constructor(
    private readonly url: string,
    private readonly pool: Pool,
    readonly schema: string,
  ) {
    this.location = maskUrl(url);
    // Never show the URL (and its password) when the store object is logged or inspected.
    Object.defineProperty(this, 'url', { enumerable: false });
  }

  /**
   * Connects, creates the schema and tables when missing, and checks the store's schema version
   * (another version is refused, never migrated).
   *
   * @example
   * ```ts
   * const store = await PgExperimentStore.open('postgres://marl@db.lan/marl');
   * ```
   */
  static async open(url: string, options: PgStoreOpenOptions = {}): Promise<PgExperimentStore> {
    const schema = options.schema ?? PG_STORE_SCHEMA;
    if (!/^[a-z_][a-z0-9_]*$/.test(schema))
      throw new Error(`PgExperimentStore.open: schema must match [a-z_][a-z0-9_]*, got ${JSON.stringify(schema)}`);
    const pool = await openPool(url, { max: options.maxConnections ?? 4, application: 'marl-automl store' });
    try {
      await inTransaction(pool, async (c) => {
        // Serialise concurrent first opens from several machines.
        await c.query(`SELECT pg_advisory_xact_lock(hashtext('marl_automl_store_init'))`);
        await c.query(ddl(schema));
        const v = await c.query(`SELECT version FROM ${schema}.schema_version`);
        if (v.rows.length === 0)
          await c.query(`INSERT INTO ${schema}.schema_version (version) VALUES ($1)`, [STORE_SCHEMA_VERSION]);
        else if (v.rows.length !== 1 || v.rows[0].version !== STORE_SCHEMA_VERSION)
          throw new Error(
            `schema ${schema} was written with store schema version ${v.rows.map((r) => r.version).join(', ')} but this code uses version ${STORE_SCHEMA_VERSION}; it is left untouched`,
          );
      });
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw pgError(url, 'cannot open the experiment store', err);
    }
    return new PgExperimentStore(url, pool, schema);
  }

  private t(name: string): string {
    return `${this.schema}.${name}`;
  }

  private async q<T = Record<string, unknown>>(what: string, sql: string, params: unknown[] = []): Promise<T[]> {
    if (this.closed) throw new Error(`experiment store ${this.location}: the store is closed`);
    try {
      return (await this.pool.query(sql, params)).rows as T[];
    } catch (err) {
      throw pgError(this.url, what, err);
    }
  }

  /** See `ExperimentStore.beginExperiment`. @example `await store.beginExperiment('sweep', entries)` */
  async beginExperiment(name: string, jobs: readonly JobEntry[], config: unknown = null): Promise<void> {
    checkName(name);
    const configJson = stableStringify(config, `experiment '${name}' config`);
    const configHash = sha256(
      stableStringify({ config: parseJson(configJson), jobs: jobs.map((j) => [j.key, j.hash]) }),
    );
    const now = new Date().toISOString();
    try {
      await inTransaction(this.pool, async (c) => {
        await c.query(
          `INSERT INTO ${this.t('experiments')} (name, config_hash, config_json, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
           ON CONFLICT (name) DO UPDATE SET config_hash = excluded.config_hash, config_json = excluded.config_json, updated_at = excluded.updated_at`,
          [name, configHash, configJson, now],
        );
        await c.query(`DELETE FROM ${this.t('experiment_jobs')} WHERE experiment = $1`, [name]);
        if (jobs.length > 0)
          await c.query(
            `INSERT INTO ${this.t('experiment_jobs')} (experiment, position, key, hash)
             SELECT $1, p - 1, k, h FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS u(k, h, p)`,
            [name, jobs.map((j) => j.key), jobs.map((j) => j.hash)],
          );
      });
    } catch (err) {
      throw pgError(this.url, 'cannot record the experiment', err);
    }
  }

  /** See `ExperimentStore.recordRun` (one transaction; a failure never replaces a success). @example `await store.recordRun('sweep', run)` */
  async recordRun(experiment: string, run: RunRecord): Promise<void> {
    const now = new Date().toISOString();
    const resultJson = run.status === 'done' ? stableStringify(run.result ?? null, `result of job '${run.key}'`) : null;
    const configJson = stableStringify(run.config, `config of job '${run.key}'`);
    try {
      await inTransaction(this.pool, async (c) => {
        await c.query(
          `INSERT INTO ${this.t('runs')} (experiment, hash, key, kind, seed, code_version, config_json, status, result_json, error, attempts, duration_ms, created_at, finished_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
           ON CONFLICT (experiment, hash) DO UPDATE SET
             status = excluded.status, result_json = excluded.result_json, error = excluded.error,
             attempts = excluded.attempts, duration_ms = excluded.duration_ms, finished_at = excluded.finished_at
           WHERE ${this.t('runs')}.status <> 'done' OR excluded.status = 'done'`,
          [
            experiment,
            run.hash,
            run.key,
            run.kind,
            run.seed,
            run.codeVersion,
            configJson,
            run.status,
            resultJson,
            run.status === 'failed' ? (run.error ?? 'unknown error') : null,
            run.attempts,
            run.durationMs,
            now,
          ],
        );
        await c.query(`UPDATE ${this.t('experiments')} SET updated_at = $1 WHERE name = $2`, [now, experiment]);
        await c.query(`DELETE FROM ${this.t('run_claims')} WHERE experiment = $1 AND hash = $2`, [
          experiment,
          run.hash,
        ]);
      });
    } catch (err) {
      throw pgError(this.url, `cannot record the result of job '${run.key}'`, err);
    }
  }

  /** See `ExperimentStore.doneResults`. @example `await store.doneResults('sweep', hashes)` */
  async doneResults(experiment: string, hashes: readonly string[]): Promise<Map<string, JsonValue>> {
    const rows = await this.q<{ hash: string; result_json: string }>(
      'read results',
      `SELECT hash, result_json FROM ${this.t('runs')} WHERE experiment = $1 AND hash = ANY($2::text[]) AND status = 'done'`,
      [experiment, [...hashes]],
    );
    return new Map(rows.map((r) => [r.hash, parseJson(r.result_json)]));
  }

  /** See `ExperimentStore.doneRuns`. @example `(await store.doneRuns('sweep', hashes)).get(hash)?.durationMs` */
  async doneRuns(
    experiment: string,
    hashes: readonly string[],
  ): Promise<Map<string, { result: JsonValue; durationMs: number }>> {
    const rows = await this.q<{ hash: string; result_json: string; duration_ms: string | number }>(
      'read results',
      `SELECT hash, result_json, duration_ms FROM ${this.t('runs')} WHERE experiment = $1 AND hash = ANY($2::text[]) AND status = 'done'`,
      [experiment, [...hashes]],
    );
    return new Map(rows.map((r) => [r.hash, { result: parseJson(r.result_json), durationMs: Number(r.duration_ms) }]));
  }

  /** See `ExperimentStore.listExperiments`. @example `(await store.listExperiments()).map((e) => e.name)` */
  async listExperiments(): Promise<ExperimentInfo[]> {
    const rows = await this.q<{
      name: string;
      config_hash: string;
      config_json: string;
      created_at: string;
      updated_at: string;
      jobs: string;
      done: string;
      failed: string;
    }>(
      'list experiments',
      `SELECT e.name, e.config_hash, e.config_json, e.created_at, e.updated_at,
         (SELECT COUNT(*) FROM ${this.t('experiment_jobs')} j WHERE j.experiment = e.name) AS jobs,
         (SELECT COUNT(*) FROM ${this.t('experiment_jobs')} j JOIN ${this.t('runs')} r ON r.experiment = j.experiment AND r.hash = j.hash WHERE j.experiment = e.name AND r.status = 'done') AS done,
         (SELECT COUNT(*) FROM ${this.t('experiment_jobs')} j JOIN ${this.t('runs')} r ON r.experiment = j.experiment AND r.hash = j.hash WHERE j.experiment = e.name AND r.status = 'failed') AS failed
       FROM ${this.t('experiments')} e ORDER BY e.updated_at DESC, e.name`,
    );
    return rows.map((r) => ({
      name: r.name,
      configHash: r.config_hash,
      config: parseJson(r.config_json),
      jobs: Number(r.jobs),
      done: Number(r.done),
      failed: Number(r.failed),
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }

  /** See `ExperimentStore.listRuns` (history included, oldest first). @example `await store.listRuns('sweep')` */
  async listRuns(experiment: string): Promise<RunRow[]> {
    await this.requireExperiment(experiment);
    const rows = await this.q<RunDbRow>(
      'list runs',
      `SELECT * FROM ${this.t('runs')} WHERE experiment = $1 ORDER BY created_at, seq`,
      [experiment],
    );
    return rows.map(toRunRow);
  }

  /** See `ExperimentStore.loadResults` (the latest job list, in job order). @example `await store.loadResults('sweep')` */
  async loadResults(experiment: string): Promise<RunRow[]> {
    await this.requireExperiment(experiment);
    const rows = await this.q<RunDbRow>(
      'load results',
      `SELECT r.* FROM ${this.t('experiment_jobs')} j JOIN ${this.t('runs')} r ON r.experiment = j.experiment AND r.hash = j.hash
       WHERE j.experiment = $1 ORDER BY j.position`,
      [experiment],
    );
    return rows.map(toRunRow);
  }

  /** See `ExperimentStore.exportCsv` (atomic write). @example `await store.exportCsv('sweep', 'results/sweep.csv')` */
  async exportCsv(experiment: string, file: string): Promise<number> {
    const rows = flattenRuns(await this.loadResults(experiment));
    writeFileAtomic(file, toCsv(rows));
    return rows.length;
  }

  /** See `ExperimentStore.claimRuns` (expiry on the database server's clock). @example `await store.claimRuns('sweep', hashes, owner, 120_000)` */
  async claimRuns(experiment: string, hashes: readonly string[], owner: string, ttlMs: number): Promise<string[]> {
    checkName(experiment);
    if (hashes.length === 0) return [];
    try {
      return await inTransaction(this.pool, async (c) => {
        const r = await c.query(
          `INSERT INTO ${this.t('run_claims')} (experiment, hash, owner, expires_at_ms)
           SELECT $1, h, $3, ${NOW_MS} + $4 FROM unnest($2::text[]) AS u(h)
           WHERE NOT EXISTS (SELECT 1 FROM ${this.t('runs')} r WHERE r.experiment = $1 AND r.hash = u.h AND r.status = 'done')
           ON CONFLICT (experiment, hash) DO UPDATE SET owner = excluded.owner, expires_at_ms = excluded.expires_at_ms
           WHERE ${this.t('run_claims')}.expires_at_ms < ${NOW_MS} OR ${this.t('run_claims')}.owner = excluded.owner
           RETURNING hash`,
          [experiment, [...hashes], owner, ttlMs],
        );
        const got = new Set(r.rows.map((x: { hash: string }) => x.hash));
        return hashes.filter((h) => got.has(h));
      });
    } catch (err) {
      throw pgError(this.url, 'cannot claim jobs', err);
    }
  }

  /** See `ExperimentStore.refreshClaims`. @example `await store.refreshClaims(owner, 120_000)` */
  async refreshClaims(owner: string, ttlMs: number): Promise<void> {
    await this.q(
      'refresh job claims',
      `UPDATE ${this.t('run_claims')} SET expires_at_ms = ${NOW_MS} + $2 WHERE owner = $1`,
      [owner, ttlMs],
    );
  }

  /** See `ExperimentStore.releaseClaims`. @example `await store.releaseClaims(owner)` */
  async releaseClaims(owner: string): Promise<void> {
    if (this.closed) return;
    await this.q('release job claims', `DELETE FROM ${this.t('run_claims')} WHERE owner = $1`, [owner]);
  }

  /** See `ExperimentStore.listClaims`. @example `await store.listClaims('sweep')` */
  async listClaims(experiment: string): Promise<ClaimRow[]> {
    const rows = await this.q<{ hash: string; owner: string; expires_at_ms: string }>(
      'list job claims',
      `SELECT hash, owner, expires_at_ms FROM ${this.t('run_claims')} WHERE experiment = $1 ORDER BY hash`,
      [experiment],
    );
    return rows.map((r) => ({
      hash: r.hash,
      owner: r.owner,
      expiresAt: new Date(Number(r.expires_at_ms)).toISOString(),
    }));
  }

  /** Closes the connection pool. @example `await store.close()` */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private async requireExperiment(name: string): Promise<void> {
    checkName(name);
    const names = (
      await this.q<{ name: string }>('list experiments', `SELECT name FROM ${this.t('experiments')} ORDER BY name`)
    ).map((r) => r.name);
    if (!names.includes(name))
      throw new Error(
        `experiment store ${this.location}: no experiment named '${name}' (experiments: ${names.length ? names.join(', ') : 'none'})`,
      );
  }
}
