/**
 * MA2ML (AUG, NAS and HPO agents searching ML pipelines under a FLOPs budget), the whole module:
 * - search spaces and pipelines (`spaces.ts`, `pipeline.ts`): the agents' choices as plain data,
 *   token encoding for `SingleStepLearner`, validity, sampling, descriptions, cache keys;
 * - augmentation (`aug.ts`) and the FLOPs constraint (`flops.ts`);
 * - pipeline evaluation (`evaluate.ts`): proxy training, the `ma2ml-evaluate` job kind, retraining;
 * - search (`search.ts`, `search-log.ts`) with its strategies and learners (`strategies/`);
 * - experiments of notebooks 21-22 (`experiments/`: plans, cells, runs, ablations, statistics);
 * - the LCBench surrogate benchmark (`surrogate/`, `experiments/surrogate/`, notebook 23).
 * See src/ma2ml/README.md for the index with links to every part.
 *
 * @example
 * ```ts
 * import { presetSpace, samplePipeline, encodePipeline, checkPipeline, describePipeline } from './src/ma2ml';
 * const space = presetSpace('quick');
 * const p = samplePipeline(space, new Rng(0));
 * describePipeline(p); encodePipeline(space, p); checkPipeline(space, p).valid;
 * const run = await runSearch({ method: 'ma2ml', space, evaluations: 64, batchSize: 8, seed: 0, evaluator: syntheticEvaluator(space, 7) });
 * ```
 */
export {
  AUG_LEVELS,
  AUG_OPS,
  applyDraws,
  applyOp,
  augMagnitude,
  augmentBatch,
  drawAugmentation,
  isSignedOp,
  validatePolicy,
} from './aug';
export type { AugDraw, AugOp, AugOpName, AugPolicy, SubPolicy } from './aug';
export {
  architectureSpec,
  augSpace,
  convSpace,
  flopsBudgets,
  hpoSpace,
  mlpSpace,
  mobileNetSpace,
  parseSearchSpace,
  presetSpace,
} from './spaces';
export type {
  Architecture,
  AugSpace,
  ConvArch,
  ConvNasSpace,
  HpoConfig,
  HpoOptimizer,
  HpoSpace,
  MlpArch,
  MlpNasSpace,
  MobileNetArch,
  MobileNetNasSpace,
  MobileNetStageSpace,
  NasSpace,
  Pipeline,
  SearchSpace,
  SpacePreset,
} from './spaces';
export {
  AGENTS,
  agentDimensions,
  budgetReward,
  checkPipeline,
  decodePipeline,
  describePipeline,
  encodePipeline,
  learnerAgents,
  pipelineKey,
  prepareInputs,
  samplePipeline,
  sampleTokens,
  spaceSize,
  vocabSizes,
} from './pipeline';
export type { AgentName, BudgetRule, Dimension, PipelineCheck, SampleOptions } from './pipeline';
export {
  evaluatePipeline,
  evaluatePipelineJob,
  evaluationDefaults,
  evaluationKind,
  resolveEvaluationJobConfig,
  proxyData,
  retrainPipeline,
  sampleMixupLambda,
} from './evaluate';
export type {
  EvalDataConfig,
  EvaluateOptions,
  EvaluationJobConfig,
  PipelineEvaluation,
  ResolvedEvalDataConfig,
  RetrainOptions,
  RetrainResult,
} from './evaluate';
export {
  METHOD_CONFIGS,
  SEARCH_METHODS,
  runSearch,
  syntheticEvaluationJob,
  syntheticEvaluationKind,
  syntheticEvaluator,
  syntheticCounterfactualAdvantages,
  syntheticExpectedReward,
  syntheticTokenReward,
  syntheticReward,
  syntheticRewardTables,
  trainingEvaluator,
} from './search';
export type {
  MethodName,
  SearchEvaluator,
  SearchLogEntry,
  SearchMethod,
  SearchOptions,
  SearchResult,
  SearchUpdateInfo,
  SyntheticJobConfig,
  SyntheticRewardTables,
} from './search';
export { SearchLog } from './search-log';
export type { SearchLogOptions } from './search-log';
export { FLOPS_RULES, FlopsConstraintSchema, evaluationBudgetFields, parseFlopsConstraint, rewardRule } from './flops';
export type { FlopsConstraint, FlopsConstraintInput, FlopsRule } from './flops';
export {
  createStrategy,
  expandOwn,
  isSearchMethod,
  ISSUE12_SETTINGS,
  TUNED_ACTOR_LR,
  tunedActorLr,
  learnerStrategy,
  randomStrategy,
  registerStrategy,
  searchMethods,
  selectOwn,
  sequentialStrategy,
  strategyContext,
} from './strategies';
export type {
  LearnerMethod,
  SearchStrategy,
  StrategyContext,
  StrategyContextOptions,
  StrategyDiagnostics,
  StrategyFactory,
} from './strategies';
export {
  MEASURED_COSTS,
  ablationCells,
  ablationRow,
  areaUnderCurve,
  batchMeans,
  bestSoFarCurves,
  cellLabel,
  claimSentence,
  comparisonRows,
  defaultPipeline,
  differenceCI,
  dropFraction,
  evaluationsToThreshold,
  formatAblationRows,
  formatComparisonRows,
  formatInterval,
  ma2mlPlan,
  mainCells,
  medianFinalBest,
  monotonicRows,
  monotonicSynthetic,
  parsePlan,
  planCost,
  planEvaluator,
  planExecutor,
  planSpace,
  retrainBest,
  retrainJob,
  retrainKind,
  rewardNoise,
  runSearches,
  selectRuns,
  CREDIT_QUALITY_METHODS,
  creditQuality,
  creditQualitySummary,
  pearson,
  MIN_CRITIC_HELD_OUT_EV,
  NOT_MOVED_ENTROPY,
  diagnosticCurve,
  learnerDiagnosticRows,
  learnerEvidence,
  untestableReason,
  evaluatedPipelines,
  fitRewardSurrogate,
  rewardSurrogateEvaluator,
  runRewardSurrogateSearches,
  surrogateValue,
  augOpGallery,
  augPolicyTiles,
  evaluateUnderBudgets,
  nasMacSample,
  pipelineBetweenBudgets,
  sampledPipelineRows,
  shareWithin,
  spaceSummaryLines,
  tokenSpaceRows,
} from './experiments';
export type {
  BudgetRuleEvaluation,
  EvaluateUnderBudgetsOptions,
  CreditQualityOptions,
  CreditQualityRow,
  CreditQualitySummary,
  EvaluatedPipelines,
  LearnerEvidence,
  RewardSurrogate,
} from './experiments';
export type {
  AblationRow,
  ComparisonRow,
  Ma2mlPlan,
  MonotonicSummary,
  MonotonicTrace,
  NoiseRow,
  PlanUnitCosts,
  RetrainJobConfig,
  RunSearchesOptions,
  SearchCell,
  SearchRun,
} from './experiments';
// The LCBench surrogate benchmark: its own index lists the public names.
export * from './surrogate';
