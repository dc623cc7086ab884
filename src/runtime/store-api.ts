import type { JsonValue } from './json';
import type { ClaimRow, ExperimentInfo, JobEntry, RunRecord, RunRow } from './store';

/** A value or a promise of it: the SQLite store answers synchronously, the PostgreSQL store asynchronously. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * What `runExperiment` and inspection code need from an experiment store. Two implementations
 * share these semantics (and one behavioural test suite): the embedded SQLite `ExperimentStore`
 * (synchronous, no service needed) and `PgExperimentStore` (PostgreSQL, shared by several
 * machines). Callers that accept both `await` every call; awaiting a plain value is harmless.
 *
 * Semantics: `beginExperiment` replaces the experiment's latest job list (earlier runs stay as
 * history); `recordRun` commits one run in its own transaction, upserting by run hash, and a
 * failure never replaces a stored success; `doneResults` returns only successes (failed runs are
 * retried); `loadResults` follows the latest job list; `exportCsv` writes it atomically; claims
 * let two coordinators split one experiment's jobs.
 *
 * @example
 * ```ts
 * async function summary(store: ExperimentStoreApi) {
 *   for (const e of await store.listExperiments()) console.log(e.name, e.done, '/', e.jobs);
 * }
 * await summary(ExperimentStore.open());
 * await summary(await PgExperimentStore.open(process.env.MARL_AUTOML_DB!));
 * ```
 */
export interface ExperimentStoreApi {
  /** Where the store lives, for messages (a file path, or a URL with its password masked). */
  readonly location: string;
  beginExperiment(name: string, jobs: readonly JobEntry[], config?: unknown): MaybePromise<void>;
  recordRun(experiment: string, run: RunRecord): MaybePromise<void>;
  doneResults(experiment: string, hashes: readonly string[]): MaybePromise<Map<string, JsonValue>>;
  /** Like `doneResults`, with the duration the store recorded for each run (timings never live in results). */
  doneRuns(
    experiment: string,
    hashes: readonly string[],
  ): MaybePromise<Map<string, { result: JsonValue; durationMs: number }>>;
  listExperiments(): MaybePromise<ExperimentInfo[]>;
  listRuns(experiment: string): MaybePromise<RunRow[]>;
  loadResults(experiment: string): MaybePromise<RunRow[]>;
  exportCsv(experiment: string, file: string): MaybePromise<number>;
  claimRuns(experiment: string, hashes: readonly string[], owner: string, ttlMs: number): MaybePromise<string[]>;
  refreshClaims(owner: string, ttlMs: number): MaybePromise<void>;
  releaseClaims(owner: string): MaybePromise<void>;
  listClaims(experiment: string): MaybePromise<ClaimRow[]>;
  close(): MaybePromise<void>;
}

/** True for objects that implement {@link ExperimentStoreApi} (duck-typed: both stores, and test doubles). */
export function isExperimentStore(v: unknown): v is ExperimentStoreApi {
  const s = v as Record<string, unknown> | null;
  return (
    s !== null &&
    typeof s === 'object' &&
    [
      'beginExperiment',
      'recordRun',
      'doneResults',
      'doneRuns',
      'loadResults',
      'claimRuns',
      'refreshClaims',
      'releaseClaims',
    ].every((m) => typeof s[m] === 'function')
  );
}
