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
