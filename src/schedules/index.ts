export type { GroupsInput, Schedule, ScheduleState } from './core';
export { ParamGroups, LRScheduler } from './core';
export type {
  StepLRConfig,
  MultiStepLRConfig,
  ExponentialLRConfig,
  ConstantLRConfig,
  LinearLRConfig,
  CosineAnnealingLRConfig,
  WarmupCosineConfig,
  OneCycleLRConfig,
} from './lr';
export {
  ConstantSchedule,
  StepLR,
  MultiStepLR,
  ExponentialLR,
  ConstantLR,
  LinearLR,
  CosineAnnealingLR,
  SequentialLR,
  warmupCosine,
  OneCycleLR,
} from './lr';
export type { ReduceLROnPlateauConfig } from './plateau';
export { ReduceLROnPlateau } from './plateau';
export type { LayerStats, LayerwiseRule, LarsOptions, HypergradientConfig } from './layerwise';
export { larsTrustRatio, larsLearningRates, LarsRule, HypergradientRule } from './layerwise';
export type { ScheduleSpec } from './factory';
export { SCHEDULE_TYPES, createSchedule } from './factory';
