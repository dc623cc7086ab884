import { writeFileAtomic } from '../io';
export { writeFileAtomic };
import Database from 'better-sqlite3';
import * as fs from 'fs';
import * as path from 'path';
import { JsonValue, parseJson, stableStringify } from './json';
import type { ExperimentStoreApi } from './store-api';

/** Version of the store's table layout. A store written with another version is refused, never migrated destructively. */
export const STORE_SCHEMA_VERSION = 1;
/** Environment variable naming the default store file. */
export const STORE_ENV = 'MARL_AUTOML_STORE';
/** Default store file (relative to the working directory) when `MARL_AUTOML_STORE` is unset. */
export const DEFAULT_STORE_PATH = path.join('results', 'experiments.sqlite');

/** Options of {@link ExperimentStore.open}. */
export interface StoreOpenOptions {
  /** Open for reading only (default: only when the file is not writable). Writes then raise a clear error. */
  readonly?: boolean;
  /** How long a write waits for another process's write lock before failing (default 5000 ms). */
  busyTimeoutMs?: number;
}

/** Summary of one experiment (see {@link ExperimentStore.listExperiments}). */
export interface ExperimentInfo {
  name: string;
  /** Hash of the experiment's latest configuration (its config and the hashes of its jobs). */
  configHash: string;
  /** The optional configuration object given to the latest `runExperiment` call. */
  config: JsonValue;
  /** Number of jobs in the latest job list. */
  jobs: number;
  /** Jobs of the latest job list with a stored result. */
  done: number;
  /** Jobs of the latest job list whose last attempt failed. */
  failed: number;
  createdAt: string;
  updatedAt: string;
}

/** One stored run (a job's result or failure). */
export interface RunRow {
  experiment: string;
  key: string;
  /** Run identity: SHA-256 of kind, code version, key, seed and configuration. */
  hash: string;
  kind: string;
  seed: number;
  codeVersion: string;
  status: 'done' | 'failed';
  config: JsonValue;
  /** The job's result (null when failed). */
  result: JsonValue;
  /** Error message of the last attempt (null when done). */
  error: string | null;
  attempts: number;
  durationMs: number;
  createdAt: string;
  finishedAt: string;
}

/** What {@link ExperimentStore.recordRun} writes. */
export interface RunRecord {
  key: string;
  hash: string;
  kind: string;
  seed: number;
  codeVersion: string;
  config: unknown;
  status: 'done' | 'failed';
  result?: unknown;
  error?: string;
  attempts: number;
  durationMs: number;
}

/** One job claim (see {@link ExperimentStore.claimRuns}). */
export interface ClaimRow {
  hash: string;
  owner: string;
  /** ISO time after which another process may take the job over. */
  expiresAt: string;
}

/** Identity of one job in an experiment's job list. */
export interface JobEntry {
  key: string;
  hash: string;
}

/**
 * Raised for every store problem; the message names the file and the cause, `code` holds the
 * SQLite error code (e.g. `SQLITE_BUSY`, `SQLITE_READONLY`, `SQLITE_NOTADB`) or `SCHEMA_VERSION`.
 *
 * @example
 * ```ts
 * try { ExperimentStore.open('results/old.sqlite'); } catch (err) { if (err instanceof StoreError && err.code === 'SCHEMA_VERSION') console.log(err.message); }
 * ```
 */
export class StoreError extends Error {
  constructor(
    readonly file: string,
    message: string,
    readonly code?: string,
  ) {
    super(`experiment store ${file}: ${message}`);
    this.name = 'StoreError';
  }
}

const SCHEMA = `
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE experiments (
  name TEXT PRIMARY KEY,
  config_hash TEXT NOT NULL,
  config_json TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE experiment_jobs (
  experiment TEXT NOT NULL REFERENCES experiments(name) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  key TEXT NOT NULL,
  hash TEXT NOT NULL,
  PRIMARY KEY (experiment, position)
);
CREATE TABLE runs (
  experiment TEXT NOT NULL REFERENCES experiments(name) ON DELETE CASCADE,
  hash TEXT NOT NULL,
  key TEXT NOT NULL,
  kind TEXT NOT NULL,
  seed INTEGER NOT NULL,
  code_version TEXT NOT NULL,
  config_json TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
  result_json TEXT,
  error TEXT,
  attempts INTEGER NOT NULL,
  duration_ms REAL NOT NULL,
  created_at TEXT NOT NULL,
  finished_at TEXT NOT NULL,
  PRIMARY KEY (experiment, hash)
);
CREATE INDEX runs_by_key ON runs (experiment, key);
`;

/**
 * Job claims (added without a schema-version bump: the table is created when missing, and older
 * code ignores it). A row says "owner is computing this run until expires_at_ms"; the owner
 * refreshes it while it runs (heartbeat), `recordRun` deletes it, and an expired row may be taken
 * over by another process.
 */
const CLAIMS_SCHEMA = `
CREATE TABLE IF NOT EXISTS run_claims (
  experiment TEXT NOT NULL,
  hash TEXT NOT NULL,
  owner TEXT NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  PRIMARY KEY (experiment, hash)
);
`;

/** A `runs` table row as a database driver returns it (PostgreSQL's bigint seed arrives as a string). */
export interface RunDbRow {
  experiment: string;
  hash: string;
  key: string;
  kind: string;
  seed: number | string;
  code_version: string;
  config_json: string;
  status: 'done' | 'failed';
  result_json: string | null;
  error: string | null;
  attempts: number;
  duration_ms: number;
  created_at: string;
  finished_at: string;
}

/**
 * SQLite store of experiments and their runs (one file per project, WAL mode, one transaction
 * per finished job, so a killed process loses only jobs that were still running).
 * Opening validates the file and refuses, with an error naming the file, a non-SQLite or
 * corrupted file, a store of another schema version or a foreign database; it never rewrites or
 * deletes such a file. Usually used through `runExperiment`.
 *
 * @example
 * ```ts
 * const store = ExperimentStore.open(); // $MARL_AUTOML_STORE or results/experiments.sqlite
 * for (const e of store.listExperiments()) console.log(e.name, e.done, '/', e.jobs);
 * const rows = store.loadResults('lr-sweep');
 * store.exportCsv('lr-sweep', 'results/lr-sweep.csv');
 * store.close();
 * ```
 */
export class ExperimentStore implements ExperimentStoreApi {
  /** Absolute path of the store file. */
  readonly file: string;
  /** Where the store lives, for messages: the absolute file path. */
  get location(): string {
    return this.file;
  }
  /** True when the store was opened read-only (explicitly or because the file is not writable). */
  readonly readonly: boolean;
  private readonly db: Database.Database;
  private readonly busyTimeoutMs: number;
  private claimsReady = false;

  private constructor(file: string, db: Database.Database, readonly_: boolean, busyTimeoutMs: number) {
    this.file = file;
    this.db = db;
    this.readonly = readonly_;
    this.busyTimeoutMs = busyTimeoutMs;
  }

  /**
   * Opens (or creates, with its directory) a store file. Default path: `$MARL_AUTOML_STORE`, else
   * `results/experiments.sqlite` under the working directory.
   *
   * @example
   * ```ts
   * const store = ExperimentStore.open('results/ganno.sqlite');
   * ```
   */
  static open(
    file: string = process.env[STORE_ENV] || DEFAULT_STORE_PATH,
    options: StoreOpenOptions = {},
  ): ExperimentStore {
    if (typeof file !== 'string' || file.length === 0)
      throw new Error(`ExperimentStore.open: path must be a non-empty string, got ${JSON.stringify(file)}`);
    const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    if (!Number.isFinite(busyTimeoutMs) || busyTimeoutMs < 0)
      throw new Error(`ExperimentStore.open: busyTimeoutMs must be a non-negative number, got ${busyTimeoutMs}`);
    const abs = path.resolve(file);
    let exists = false;
    try {
      const st = fs.statSync(abs);
      if (!st.isFile()) throw new StoreError(abs, 'exists but is not a regular file');
      exists = true;
    } catch (err) {
      if (err instanceof StoreError) throw err;
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new StoreError(abs, `cannot access: ${(err as Error).message}`);
    }
    let readonly_ = options.readonly ?? false;
    if (exists && !readonly_ && !isWritable(abs)) readonly_ = true;
    if (!exists) {
      if (readonly_) throw new StoreError(abs, 'does not exist (cannot create it read-only)');
      try {
        fs.mkdirSync(path.dirname(abs), { recursive: true });
      } catch (err) {
        throw new StoreError(abs, `cannot create its directory: ${(err as Error).message}`);
      }
    }
    let db: Database.Database;
    try {
      db = new Database(abs, { readonly: readonly_, fileMustExist: exists, timeout: busyTimeoutMs });
    } catch (err) {
      throw wrapSqliteError(abs, err, 'cannot open', busyTimeoutMs);
    }
    try {
      validateOrInit(abs, db, readonly_, !exists || fs.statSync(abs).size === 0, busyTimeoutMs);
    } catch (err) {
      try {
        db.close();
      } catch {
        // already failing; keep the first error
      }
      throw err;
    }
    return new ExperimentStore(abs, db, readonly_, busyTimeoutMs);
  }

  /**
   * Closes the database (checkpointing the WAL). Further calls raise a StoreError.
   *
   * @example
   * ```ts
   * store.close();
   * ```
   */
  close(): void {
    if (this.db.open) this.db.close();
  }

  /**
   * Records the latest job list of an experiment (creating the experiment if needed), in one
   * transaction. Called by `runExperiment` before any job runs.
   *
   * @example
   * ```ts
   * store.beginExperiment('sweep', [{ key: 'a', hash: runHash(job) }], { note: 'lr sweep' });
   * ```
   */
  beginExperiment(name: string, jobs: readonly JobEntry[], config: unknown = null): void {
    checkName(name);
    const configJson = stableStringify(config, `experiment '${name}' config`);
    const configHash = sha256(
      stableStringify({ config: parseJson(configJson), jobs: jobs.map((j) => [j.key, j.hash]) }),
    );
    const now = new Date().toISOString();
    this.write('record the experiment', () => {
      this.db.transaction(() => {
        this.db
          .prepare(
            `INSERT INTO experiments (name, config_hash, config_json, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT(name) DO UPDATE SET config_hash = excluded.config_hash, config_json = excluded.config_json, updated_at = excluded.updated_at`,
          )
          .run(name, configHash, configJson, now, now);
        this.db.prepare('DELETE FROM experiment_jobs WHERE experiment = ?').run(name);
        const ins = this.db.prepare(
          'INSERT INTO experiment_jobs (experiment, position, key, hash) VALUES (?, ?, ?, ?)',
        );
        jobs.forEach((j, i) => ins.run(name, i, j.key, j.hash));
      })();
    });
  }

  /**
   * Commits one finished job in its own transaction. A failure never replaces a stored success
   * (a forced recompute that fails keeps the earlier result).
   *
   * @example
   * ```ts
   * store.recordRun('sweep', { key: 'a', hash, kind: 'train', seed: 0, codeVersion: 'mlp@1', config, status: 'done', result: { loss: 0.1 }, attempts: 1, durationMs: 812 });
   * ```
   */
  recordRun(experiment: string, run: RunRecord): void {
    const now = new Date().toISOString();
    const resultJson = run.status === 'done' ? stableStringify(run.result ?? null, `result of job '${run.key}'`) : null;
    const configJson = stableStringify(run.config, `config of job '${run.key}'`);
    this.write(`record the result of job '${run.key}'`, () => {
      this.db.transaction(() => {
        this.db
          .prepare(
            `INSERT INTO runs (experiment, hash, key, kind, seed, code_version, config_json, status, result_json, error, attempts, duration_ms, created_at, finished_at)
             VALUES (@experiment, @hash, @key, @kind, @seed, @codeVersion, @config, @status, @result, @error, @attempts, @durationMs, @now, @now)
             ON CONFLICT(experiment, hash) DO UPDATE SET
               status = excluded.status, result_json = excluded.result_json, error = excluded.error,
               attempts = excluded.attempts, duration_ms = excluded.duration_ms, finished_at = excluded.finished_at
             WHERE runs.status <> 'done' OR excluded.status = 'done'`,
          )
          .run({
            experiment,
            hash: run.hash,
            key: run.key,
            kind: run.kind,
            seed: run.seed,
            codeVersion: run.codeVersion,
            config: configJson,
            status: run.status,
            result: resultJson,
            error: run.status === 'failed' ? (run.error ?? 'unknown error') : null,
            attempts: run.attempts,
            durationMs: run.durationMs,
            now,
          });
        this.db.prepare('UPDATE experiments SET updated_at = ? WHERE name = ?').run(now, experiment);
        if (this.hasClaims)
          this.db.prepare('DELETE FROM run_claims WHERE experiment = ? AND hash = ?').run(experiment, run.hash);
      })();
    });
  }

  /**
   * Claims runs for `owner` (one immediate transaction): a run is claimed when nobody holds it,
   * its holder's claim expired, or `owner` already holds it; runs with a stored success are never
   * claimed. Returns the hashes `owner` now holds, until `Date.now() + ttlMs` (refresh with
   * {@link refreshClaims}). Lets two processes that run the same experiment on one store split
   * the work instead of each computing every job.
   *
   * @example
   * ```ts
   * const mine = store.claimRuns('sweep', hashes, 'host:1234:ab12', 120_000);
   * ```
   */
  claimRuns(experiment: string, hashes: readonly string[], owner: string, ttlMs: number): string[] {
    checkName(experiment);
    const now = Date.now();
    const mine: string[] = [];
    this.write('claim jobs', () => {
      this.ensureClaims();
      const done = this.db.prepare(`SELECT 1 FROM runs WHERE experiment = ? AND hash = ? AND status = 'done'`);
      const upsert = this.db.prepare(
        `INSERT INTO run_claims (experiment, hash, owner, expires_at_ms) VALUES (?, ?, ?, ?)
         ON CONFLICT(experiment, hash) DO UPDATE SET owner = excluded.owner, expires_at_ms = excluded.expires_at_ms
         WHERE run_claims.expires_at_ms < ? OR run_claims.owner = excluded.owner`,
      );
      const holder = this.db.prepare('SELECT owner FROM run_claims WHERE experiment = ? AND hash = ?');
      this.db
        .transaction(() => {
          for (const h of hashes) {
            if (done.get(experiment, h)) continue;
            upsert.run(experiment, h, owner, now + ttlMs, now);
            if ((holder.get(experiment, h) as { owner: string } | undefined)?.owner === owner) mine.push(h);
          }
        })
        .immediate();
    });
    return mine;
  }

  /**
   * Extends every claim of `owner` to `Date.now() + ttlMs` (the heartbeat of a running experiment).
   *
   * @example
   * ```ts
   * setInterval(() => store.refreshClaims(owner, 120_000), 20_000);
   * ```
   */
  refreshClaims(owner: string, ttlMs: number): void {
    if (!this.hasClaims) return;
    this.write('refresh job claims', () => {
      this.db.prepare('UPDATE run_claims SET expires_at_ms = ? WHERE owner = ?').run(Date.now() + ttlMs, owner);
    });
  }

  /**
   * Drops claims of `owner` (all of them, or only `hashes` of `experiment`).
   *
   * @example
   * ```ts
   * store.releaseClaims(owner);
   * ```
   */
  releaseClaims(owner: string): void {
    if (!this.hasClaims || this.readonly || !this.db.open) return;
    this.write('release job claims', () => {
      this.db.prepare('DELETE FROM run_claims WHERE owner = ?').run(owner);
    });
  }

  /**
   * Current claims of an experiment (for inspection and tests): hash, owner, expiry.
   *
   * @example
   * ```ts
   * store.listClaims('sweep').map((c) => c.owner);
   * ```
   */
  listClaims(experiment: string): ClaimRow[] {
    if (!this.hasClaims) return [];
    return this.read(() =>
      (
        this.db
          .prepare('SELECT hash, owner, expires_at_ms FROM run_claims WHERE experiment = ? ORDER BY hash')
          .all(experiment) as { hash: string; owner: string; expires_at_ms: number }[]
      ).map((r) => ({ hash: r.hash, owner: r.owner, expiresAt: new Date(r.expires_at_ms).toISOString() })),
    );
  }

  private get hasClaims(): boolean {
    if (this.claimsReady) return true;
    const row = this.db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'run_claims'`).get();
    this.claimsReady = row !== undefined;
    return this.claimsReady;
  }

  private ensureClaims(): void {
    if (this.hasClaims) return;
    this.db.exec(CLAIMS_SCHEMA);
    this.claimsReady = true;
  }

  /**
   * Stored successful results of `experiment` whose run hash is in `hashes` (hash → result).
   *
   * @example
   * ```ts
   * const cached = store.doneResults('sweep', jobs.map(runHash));
   * ```
   */
  doneResults(experiment: string, hashes: readonly string[]): Map<string, JsonValue> {
    const out = new Map<string, JsonValue>();
    for (const [h, run] of this.doneRuns(experiment, hashes)) out.set(h, run.result);
    return out;
  }

  /**
   * Like {@link doneResults}, with the duration the store recorded for the run that computed each
   * result (wall-clock time is kept here, never inside results, so results stay reproducible).
   *
   * @example
   * ```ts
   * const runs = store.doneRuns('sweep', jobs.map(runHash));
   * runs.get(hash)?.durationMs; // 812
   * ```
   */
  doneRuns(experiment: string, hashes: readonly string[]): Map<string, { result: JsonValue; durationMs: number }> {
    const out = new Map<string, { result: JsonValue; durationMs: number }>();
    this.read(() => {
      const stmt = this.db.prepare(
        `SELECT result_json, duration_ms FROM runs WHERE experiment = ? AND hash = ? AND status = 'done'`,
      );
      for (const h of hashes) {
        const row = stmt.get(experiment, h) as { result_json: string; duration_ms: number } | undefined;
        if (row) out.set(h, { result: parseJson(row.result_json), durationMs: row.duration_ms });
      }
    });
    return out;
  }

  /**
   * All experiments in the store, most recently updated first.
   *
   * @example
   * ```ts
   * store.listExperiments().map((e) => `${e.name}: ${e.done}/${e.jobs}`);
   * ```
   */
  listExperiments(): ExperimentInfo[] {
    return this.read(() =>
      (
        this.db
          .prepare(
            `SELECT e.name, e.config_hash, e.config_json, e.created_at, e.updated_at,
               (SELECT COUNT(*) FROM experiment_jobs j WHERE j.experiment = e.name) AS jobs,
               (SELECT COUNT(*) FROM experiment_jobs j JOIN runs r ON r.experiment = j.experiment AND r.hash = j.hash WHERE j.experiment = e.name AND r.status = 'done') AS done,
               (SELECT COUNT(*) FROM experiment_jobs j JOIN runs r ON r.experiment = j.experiment AND r.hash = j.hash WHERE j.experiment = e.name AND r.status = 'failed') AS failed
             FROM experiments e ORDER BY e.updated_at DESC, e.name`,
          )
          .all() as {
          name: string;
          config_hash: string;
          config_json: string;
          created_at: string;
          updated_at: string;
          jobs: number;
          done: number;
          failed: number;
        }[]
      ).map((r) => ({
        name: r.name,
        configHash: r.config_hash,
        config: parseJson(r.config_json),
        jobs: r.jobs,
        done: r.done,
        failed: r.failed,
        createdAt: r.created_at,
        updatedAt: r.updated_at,
      })),
    );
  }

  /**
   * Every stored run of an experiment, including runs of earlier configurations, oldest first.
   *
   * @example
   * ```ts
   * store.listRuns('sweep').filter((r) => r.status === 'failed').map((r) => [r.key, r.error]);
   * ```
   */
  listRuns(experiment: string): RunRow[] {
    this.requireExperiment(experiment);
    return this.read(() =>
      (
        this.db
          .prepare('SELECT * FROM runs WHERE experiment = ? ORDER BY created_at, rowid')
          .all(experiment) as RunDbRow[]
      ).map(toRunRow),
    );
  }

  /**
   * Results of the experiment's latest job list, in job order: one row per job that has a stored
   * run (done or failed); jobs never finished are absent.
   *
   * @example
   * ```ts
   * const losses = store.loadResults('sweep').map((r) => (r.result as { loss: number }).loss);
   * ```
   */
  loadResults(experiment: string): RunRow[] {
    this.requireExperiment(experiment);
    return this.read(() =>
      (
        this.db
          .prepare(
            `SELECT r.* FROM experiment_jobs j JOIN runs r ON r.experiment = j.experiment AND r.hash = j.hash
             WHERE j.experiment = ? ORDER BY j.position`,
          )
          .all(experiment) as RunDbRow[]
      ).map(toRunRow),
    );
  }

  /**
   * Writes {@link loadResults} as CSV (flattened with {@link flattenRuns}) atomically: a temporary
   * file in the same directory, then a rename. Returns the number of data rows.
   *
   * @example
   * ```ts
   * store.exportCsv('sweep', 'results/sweep.csv');
   * ```
   */
  exportCsv(experiment: string, file: string): number {
    const rows = flattenRuns(this.loadResults(experiment));
    writeFileAtomic(file, toCsv(rows));
    return rows.length;
  }

  private requireExperiment(name: string): void {
    checkName(name);
    const row = this.read(() => this.db.prepare('SELECT 1 FROM experiments WHERE name = ?').get(name));
    if (!row) {
      const names = this.read(() =>
        (this.db.prepare('SELECT name FROM experiments ORDER BY name').all() as { name: string }[]).map((r) => r.name),
      );
      throw new StoreError(
        this.file,
        `no experiment named '${name}' (experiments: ${names.length ? names.join(', ') : 'none'})`,
      );
    }
  }

  private read<T>(fn: () => T): T {
    if (!this.db.open) throw new StoreError(this.file, 'the store is closed');
    try {
      return fn();
    } catch (err) {
      throw wrapSqliteError(this.file, err, 'read failed', this.busyTimeoutMs);
    }
  }

  private write(what: string, fn: () => void): void {
    if (!this.db.open) throw new StoreError(this.file, 'the store is closed');
    if (this.readonly)
      throw new StoreError(
        this.file,
        `is read-only (opened read-only${isWritable(this.file) ? '' : ': the file is not writable'}); cannot ${what}`,
        'SQLITE_READONLY',
      );
    try {
      fn();
    } catch (err) {
      throw wrapSqliteError(this.file, err, `cannot ${what}`, this.busyTimeoutMs);
    }
  }
}

/** A {@link RunDbRow} as the store's public {@link RunRow} (shared by the SQLite and PostgreSQL stores). */
export function toRunRow(r: RunDbRow): RunRow {
  return {
    experiment: r.experiment,
    key: r.key,
    hash: r.hash,
    kind: r.kind,
    seed: Number(r.seed),
    codeVersion: r.code_version,
    status: r.status,
    config: parseJson(r.config_json),
    result: r.result_json === null ? null : parseJson(r.result_json),
    error: r.error,
    attempts: r.attempts,
    durationMs: r.duration_ms,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
  };
}

function validateOrInit(
  file: string,
  db: Database.Database,
  readonly_: boolean,
  fresh: boolean,
  busyTimeoutMs: number,
): void {
  let tables: string[];
  try {
    tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map(
      (r) => r.name,
    );
  } catch (err) {
    throw wrapSqliteError(file, err, 'cannot read', busyTimeoutMs);
  }
  if (tables.length === 0) {
    if (!fresh)
      throw new StoreError(
        file,
        'is an SQLite database without tables but not an empty file; refusing to initialise it (delete it or choose another path)',
      );
    if (readonly_) throw new StoreError(file, 'is empty and read-only; cannot initialise the store');
    try {
      db.pragma('journal_mode = WAL');
      db.transaction(() => {
        db.exec(SCHEMA);
        db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(STORE_SCHEMA_VERSION);
      })();
    } catch (err) {
      throw wrapSqliteError(file, err, 'cannot initialise', busyTimeoutMs);
    }
  } else {
    if (!tables.includes('schema_version')) {
      throw new StoreError(
        file,
        `is an SQLite database but not a marl-automl experiment store (tables: ${tables.slice(0, 10).join(', ')}); refusing to modify it`,
      );
    }
    let versions: number[];
    try {
      versions = (db.prepare('SELECT version FROM schema_version').all() as { version: number }[]).map(
        (r) => r.version,
      );
    } catch (err) {
      throw wrapSqliteError(file, err, 'cannot read the schema version', busyTimeoutMs);
    }
    if (versions.length !== 1 || versions[0] !== STORE_SCHEMA_VERSION) {
      throw new StoreError(
        file,
        `was written with store schema version ${versions.length ? versions.join(', ') : '(none)'} but this code uses version ${STORE_SCHEMA_VERSION}; ` +
          'it is left untouched: open it with a matching version of marl-automl or choose another store path',
        'SCHEMA_VERSION',
      );
    }
    let check: string[];
    try {
      check = (db.pragma('quick_check') as { quick_check: string }[]).map((r) => r.quick_check);
    } catch (err) {
      throw wrapSqliteError(file, err, 'integrity check failed', busyTimeoutMs);
    }
    if (check.length !== 1 || check[0] !== 'ok') {
      throw new StoreError(
        file,
        `is corrupted (integrity check: ${check.slice(0, 3).join('; ')}); it is left untouched`,
        'SQLITE_CORRUPT',
      );
    }
    if (!readonly_) {
      try {
        db.pragma('journal_mode = WAL');
      } catch (err) {
        throw wrapSqliteError(file, err, 'cannot enable WAL mode', busyTimeoutMs);
      }
    }
  }
  // FULL: every committed job survives even an OS crash (one fsync per finished job).
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
}

function wrapSqliteError(file: string, err: unknown, what: string, busyTimeoutMs: number): Error {
  if (err instanceof StoreError) return err;
  const e = err as { code?: string; message?: string };
  const code = e.code ?? '';
  const msg = e.message ?? String(err);
  if (code === 'SQLITE_NOTADB')
    return new StoreError(
      file,
      `is not an SQLite database, or is encrypted or corrupted (${msg}); it is left untouched`,
      code,
    );
  if (code.startsWith('SQLITE_CORRUPT'))
    return new StoreError(file, `is corrupted (${msg}); it is left untouched`, code);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreError(
      file,
      `${what}: the database is locked by another connection or process (waited ${busyTimeoutMs} ms); try again when it finishes`,
      code,
    );
  }
  if (code === 'SQLITE_READONLY_DIRECTORY') {
    return new StoreError(
      file,
      `${what}: its directory is not writable, and SQLite must create the WAL index (${path.basename(file)}-shm) next to it; copy the store to a writable directory to read it`,
      code,
    );
  }
  if (code.startsWith('SQLITE_READONLY'))
    return new StoreError(file, `${what}: the file (or its directory) is read-only (${msg})`, code);
  if (code.startsWith('SQLITE_CANTOPEN')) return new StoreError(file, `${what}: cannot open the file (${msg})`, code);
  return new StoreError(file, `${what}: ${msg}`, code || undefined);
}

function isWritable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Throws a clear error for an empty experiment name (both stores). */
export function checkName(name: string): void {
  if (typeof name !== 'string' || name.trim().length === 0)
    throw new Error(`experiment name must be a non-empty string, got ${JSON.stringify(name)}`);
}

/** Hex SHA-256 of a string (experiment config hashes, both stores). */
export function sha256(text: string): string {
  return require('crypto').createHash('sha256').update(text).digest('hex');
}

/** A flat table row: column name → scalar. */
export type FlatRow = Record<string, string | number | boolean | null>;

/**
 * Flattens run rows for tables, CSV and DataFrames: fixed columns (`experiment, key, kind, seed,
 * status, code_version, attempts, duration_ms, finished_at, hash, error`), then `config.<path>`
 * and `result.<path>` columns for nested object fields (arrays become JSON text). Columns are the
 * union over rows; missing cells are null.
 *
 * @example
 * ```ts
 * flattenRuns(store.loadResults('sweep'))[0]['result.loss']; // 0.123
 * ```
 */
export function flattenRuns(rows: readonly RunRow[]): FlatRow[] {
  const flat = rows.map((r) => {
    const out: FlatRow = {
      experiment: r.experiment,
      key: r.key,
      kind: r.kind,
      seed: r.seed,
      status: r.status,
      code_version: r.codeVersion,
      attempts: r.attempts,
      duration_ms: r.durationMs,
      finished_at: r.finishedAt,
      hash: r.hash,
      error: r.error,
    };
    flattenInto(out, 'config', r.config);
    flattenInto(out, 'result', r.result);
    return out;
  });
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const row of flat) {
    for (const c of Object.keys(row)) {
      if (seen.has(c)) continue;
      seen.add(c);
      columns.push(c);
    }
  }
  return flat.map((row) => Object.fromEntries(columns.map((c) => [c, c in row ? row[c] : null])));
}

function flattenInto(out: FlatRow, prefix: string, v: JsonValue): void {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const k of Object.keys(v)) flattenInto(out, `${prefix}.${k}`, v[k]);
  } else if (Array.isArray(v)) {
    out[prefix] = stableStringify(v);
  } else {
    out[prefix] = v;
  }
}

/**
 * CSV text (RFC 4180: comma-separated, CRLF-free `\n` lines, quotes doubled) with a header from the
 * first row's columns.
 *
 * @example
 * ```ts
 * toCsv([{ a: 1, b: 'x,y' }]); // 'a,b\n1,"x,y"\n'
 * ```
 */
export function toCsv(rows: readonly FlatRow[]): string {
  if (rows.length === 0) return '';
  const columns = Object.keys(rows[0]);
  const cell = (v: FlatRow[string]): string => {
    if (v === null || v === undefined) return '';
    const s = String(v);
    return /[",\n\r]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [columns.map(cell).join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}
