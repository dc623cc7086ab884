export { toJsonValue, stableStringify, parseJson, normaliseJson, hashJson } from './json';
export type { JsonValue } from './json';
export {
  defineJobKind,
  getJobKind,
  registeredJobKinds,
  validateJobs,
  runHash,
  resolvedJobConfig,
  makeContext,
  JobKind,
} from './jobs';
export type { ConfigResolver, Job, JobContext, JobKindSpec, WorkFunction } from './jobs';
export { InlineExecutor, executeJob, AbortError } from './executor';
export type { Executor, ExecutorRunOptions, JobOutcome, JobErrorInfo, InlineExecutorOptions } from './executor';
export { WorkerPoolExecutor } from './worker-pool';
export type { WorkerPoolOptions } from './worker-pool';
export {
  ExperimentStore,
  StoreError,
  flattenRuns,
  toCsv,
  writeFileAtomic,
  STORE_SCHEMA_VERSION,
  STORE_ENV,
  DEFAULT_STORE_PATH,
} from './store';
export type { StoreOpenOptions, ExperimentInfo, RunRow, RunRecord, JobEntry, FlatRow } from './store';
export { runExperiment, ExperimentFailedError } from './experiment';
export type { RunExperimentOptions, ExperimentResult, JobStatus } from './experiment';
export type { ExperimentStoreApi, MaybePromise } from './store-api';
export { isExperimentStore } from './store-api';
export type { ClaimRow } from './store';
export { PgExperimentStore, PG_STORE_SCHEMA } from './pg-store';
export type { PgStoreOpenOptions } from './pg-store';
export { DB_ENV, distributedDbUrl, maskUrl, maskSecrets, PgError } from './pg-connect';
export { QueueExecutor, QUEUE_NAME, QUEUE_BOSS_SCHEMA } from './queue';
export type { QueueExecutorOptions, QueueMessage } from './queue';
export { startQueueWorker, refuseReason } from './queue-worker';
export type { QueueWorker, QueueWorkerOptions } from './queue-worker';
export { modeExecutor, executorMode } from './distributed';
