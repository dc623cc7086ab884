/**
 * MA2ML experiments: the plans of notebooks 21 (search comparison) and 22 (ablations) per preset,
 * a runner for sets of searches (method x FLOPs budget x seed) through one executor and the
 * experiment store (cached, resumable), retraining of best pipelines as store jobs, reward-noise
 * re-evaluations, and the summaries the notebooks print (best-so-far curves with bootstrap CIs,
 * comparison tables, ablation rows with a "does the paper's claim hold here" sentence).
 */
export { MEASURED_COSTS, ma2mlPlan, parsePlan, planCost, planEvaluator, planExecutor, planSpace } from './plan';
export type { Ma2mlPlan, PlanUnitCosts } from './plan';
export { defaultPipeline } from './default-pipeline';
export {
  augOpGallery,
  augPolicyTiles,
  evaluateUnderBudgets,
  nasMacSample,
  pipelineBetweenBudgets,
  sampledPipelineRows,
  shareWithin,
  spaceSummaryLines,
  tokenSpaceRows,
} from './walkthrough';
export type { BudgetRuleEvaluation, EvaluateUnderBudgetsOptions } from './walkthrough';
export { ablationCells, cellLabel, mainCells, selectRuns } from './cells';
export type { SearchCell, SearchRun } from './cells';
export { retrainBest, retrainJob, retrainKind, rewardNoise, runSearches } from './runs';
export type { NoiseRow, RetrainJobConfig, RunSearchesOptions } from './runs';
export { areaUnderCurve, differenceCI, dropFraction, evaluationsToThreshold, formatInterval } from './stats';
export { bestSoFarCurves, comparisonRows, formatComparisonRows } from './summaries';
export type { ComparisonRow } from './summaries';
export { ablationRow, claimSentence, formatAblationRows, medianFinalBest } from './ablations';
export type { AblationRow } from './ablations';
export { batchMeans, monotonicRows, monotonicSynthetic } from './monotonic';
export type { MonotonicSummary, MonotonicTrace } from './monotonic';
export { CREDIT_QUALITY_METHODS, creditQuality, creditQualitySummary, pearson } from './credit-quality';
export type { CreditQualityOptions, CreditQualityRow, CreditQualitySummary } from './credit-quality';
export {
  MIN_CRITIC_HELD_OUT_EV,
  NOT_MOVED_ENTROPY,
  diagnosticCurve,
  learnerDiagnosticRows,
  learnerEvidence,
  untestableReason,
} from './learner-evidence';
export type { LearnerEvidence } from './learner-evidence';
export {
  evaluatedPipelines,
  fitRewardSurrogate,
  rewardSurrogateEvaluator,
  rewardSurrogateJob,
  rewardSurrogateKind,
  runRewardSurrogateSearches,
  surrogateValue,
} from './reward-surrogate';
export type { EvaluatedPipelines, RewardSurrogate, RewardSurrogateJobConfig } from './reward-surrogate';
