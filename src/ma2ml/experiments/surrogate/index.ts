/**
 * Notebook 23: the YAHPO LCBench surrogate as a joint two-agent search problem (architecture agent,
 * optimisation agent): plans per preset, one cached store job per search with exact regret, and the
 * summaries (regret curves with two-level bootstrap CIs, probability of improvement, claim rows).
 */
export {
  MODULE_DEFAULT_CONFIG,
  gridSizesOf,
  SURROGATE_LEARNER_METHODS,
  SURROGATE_METHODS,
  TASK_SHUFFLE_SEED,
  parseSurrogatePlan,
  shuffledTasks,
  surrogatePlan,
} from './plan';
export type { SurrogateMethod, SurrogatePlan } from './plan';
export {
  defaultTableCacheDir,
  expectedTableValue,
  moduleLabel,
  resolvedLearnerConfig,
  runSurrogateSearches,
  surrogateJobs,
  surrogateCells,
  surrogateExecutor,
  surrogateLabels,
  surrogateLearnerConfig,
  surrogateSearchJob,
  surrogateSearchKind,
  surrogateTable,
} from './search';
export type { SurrogateCell, SurrogateRun, SurrogateSearchConfig, SurrogateSearchResult } from './search';
export {
  MONOTONIC_TOLERANCE,
  NOT_MOVED_ENTROPY_FRACTION,
  bestSoFar,
  budgetRows,
  claimRows,
  claimVerdict,
  criticHeldOutEv,
  curveSteps,
  diagnosticsSummaryRows,
  diagnosticsUpdateRows,
  formatBudgetRows,
  formatClaimRows,
  learnerMoved,
  minEntropyFraction,
  monotonicDropFraction,
  normalisedRegretAt,
  regretAt,
  regretCurve,
  regretCurves,
  scoreMatrix,
  surrogateClaims,
  writeCsv,
} from './summaries';
export type { BudgetRow, ClaimRow, ClaimVerdict } from './summaries';
