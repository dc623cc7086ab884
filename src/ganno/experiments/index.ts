/**
 * GANNO experiments (notebooks 11-15): per-preset plans, agent variants for the ablations,
 * training them as cached runtime jobs, evaluation grids and claim summaries.
 */
export { gannoPlan, baselineDefs, budgetCurveUpdates, TEST_SEED_BASE } from './plan';
export type { GannoPlan, GannoTrainBudget, GeneralisationTarget, BaselineDef } from './plan';
export { DEFAULT_VARIANT, gannoVariants, variantEnv, variantTrainConfig } from './variants';
export type { GannoVariant } from './variants';
export { gannoTrainJob, gannoTrainKind, resolveGannoTrainJobConfig, trainFolder, trainGannoVariants } from './training';
export type {
  GannoJobDiagnostics,
  GannoTrainJobConfig,
  GannoTrainedAgent,
  MilestoneAgent,
  TrainVariantsOptions,
  VariantAgent,
} from './training';
export {
  MIN_CLAIM_TASKS,
  learnerEvidence,
  evaluateEntries,
  tuneBaselines,
  baselineController,
  agentEntries,
  tuningFreeEntries,
  tuningFreeInitialStepEntries,
  tuningFreeInitialStepSpec,
  TUNING_FREE_INITIAL_STEP_KNOB,
  scoreMatrix,
  summarise,
  evaluateClaim,
  formatInterval,
  marlEvalRecords,
  TEST_ACCURACY,
  VAL_LOSS_AUC,
} from './comparison';
export type {
  ControllerEntry,
  EvalRow,
  EvaluateEntriesOptions,
  TunedBaseline,
  TuneBaselinesOptions,
  MetricDef,
  SummaryRow,
  ClaimVerdict,
  ClaimResult,
  LearnerEvidence,
} from './comparison';
export {
  PPO_SWEEP_GRID,
  SWEEP_VAL_SEEDS,
  gannoPpoSweepJob,
  gannoPpoSweepKind,
  runPpoSweep,
  summarisePpoSweep,
} from './sweep';
export type { PpoSweepPoint, PpoSweepJobConfig, PpoSweepResult, PpoSweepRow, SweepModeScore } from './sweep';
export {
  DIAGNOSTIC_FIELDS,
  diagnosticsRows,
  diagnosticsCurve,
  actionShares,
  movedText,
  degenerateShare,
} from './diagnostics';
export type { DiagnosticField } from './diagnostics';
export { evaluateBudgetCurve } from './budget-curve';
export type { BudgetCurvePoint } from './budget-curve';
export {
  actionFactor,
  armEvaluationTable,
  armTeamReturnCurves,
  armTrainingSummary,
  constantComparisonLines,
  evaluateFeatureArms,
  horizonDifferenceDemo,
  observationTable,
  playScript,
  stepCreditComparison,
  trainFeatureArms,
} from './walkthrough';
export type {
  ArmAgent,
  ArmEvaluation,
  FeatureArm,
  HorizonDifferenceDemo,
  StepCreditComparison,
  TrainFeatureArmsOptions,
} from './walkthrough';
