/**
 * Networks with trainable variables grouped per layer, the layerwise trainer (per-group learning
 * rates and optimiser state, per-step metrics, exact snapshot/restore) and the analytic
 * parameter / MAC counter.
 *
 * @example
 * ```ts
 * import { buildMlp, LayerwiseTrainer, countFlops, mlpSpec } from './src/nn';
 * const model = buildMlp({ inputSize: 784, hidden: [256], numClasses: 10, seed: 1 });
 * const trainer = new LayerwiseTrainer(model, { optimizer: 'adam', learningRates: [1e-3, 5e-4] });
 * countFlops(mlpSpec({ inputSize: 784, hidden: [256], numClasses: 10 })).totalMacs; // 203264
 * ```
 */
export { countFlops, countParams, parseSpec, primitives, resolveSpec, SequentialSpecSchema } from './spec';
export type {
  Activation,
  ActivationSpec,
  BatchNormSpec,
  Conv2dSpec,
  DenseSpec,
  DepthwiseConv2dSpec,
  DropoutSpec,
  FlattenSpec,
  GlobalAvgPoolSpec,
  InvertedResidualSpec,
  LayerCount,
  LayerSpec,
  NetworkCount,
  Padding,
  PoolSpec,
  PrimitiveLayerSpec,
  ResidualSpec,
  ResolvedBlock,
  ResolvedLayer,
  ResolvedPrimitive,
  SequentialSpec,
} from './spec';
export { INIT_SCHEMES, initValues } from './init';
export type { InitScheme } from './init';
export { SequentialModel, buildSequential } from './model';
export type { BuildOptions, ForwardOptions, ParamGroup, ParamLayerKind, ParamRole, WeightSnapshot } from './model';
export { buildCnn, buildMlp, cnnSpec, makeDivisible, mlpSpec, mobileNetV2Spec } from './builders';
export type { CnnOptions, MlpOptions, MobileNetV2Options } from './builders';
export { LayerwiseTrainer, TrainerConfigSchema, crossEntropyPerExample, updateSign } from './trainer';
export { VectorisedTrainer } from './vectorised-trainer';
export { TUNING_FREE_OPTIMIZERS, TuningFreeOptionsSchema, tuningFreeRule } from './tuning-free';
export type { TuningFreeOptimizer, TuningFreeOptions, TuningFreeRule } from './tuning-free';
export type { VectorisedStepOptions, VectorisedTrainerOptions } from './vectorised-trainer';
export type { EvalResult, ResolvedTrainerConfig, StepMetrics, TrainerConfig, TrainerSnapshot } from './trainer';
export { runTraining } from './loop';
export type { BatchSource, LearningRatePlan, HistoryRow, TrainingRunResult, TrainingRunOptions } from './loop';
