/**
 * GANNO experiments (notebooks 11-15): per-preset plans, agent variants for the ablations,
 * training them as cached runtime jobs, evaluation grids and claim summaries.
 */
export { gannoPlan, baselineDefs, REWARD_SCALE } from './plan';
export type { GannoPlan, GannoPreset, GannoTrainBudget, GeneralisationTarget, BaselineDef } from './plan';
export { DEFAULT_VARIANT, gannoVariants, variantEnv, variantTrainConfig } from './variants';
export type { GannoVariant } from './variants';
export { gannoTrainJob, gannoTrainKind, trainFolder, trainGannoVariants } from './training';
export type { GannoTrainJobConfig, GannoTrainedAgent, TrainVariantsOptions, VariantAgent } from './training';
export { MIN_CLAIM_TASKS, evaluateEntries, tuneBaselines, baselineController, agentEntries, scoreMatrix, summarise, evaluateClaim, formatInterval, marlEvalRecords, TEST_ACCURACY, VAL_LOSS_AUC } from './comparison';
export type { ControllerEntry, EvalRow, EvaluateEntriesOptions, TunedBaseline, TuneBaselinesOptions, MetricDef, SummaryRow, ClaimVerdict, ClaimResult } from './comparison';
