/**
 * GANNO (layerwise learning-rate agents): the layer-LR multi-agent environment, its task
 * distribution, observation feature registry and action sets.
 *
 * @example
 * ```ts
 * import { LayerLrEnv } from './src/ganno';
 * const env = new LayerLrEnv({ k: 10, task: { datasets: ['digits'], totalSteps: 400 } });
 * env.features.add({ name: 'lr_ratio', scope: 'local', normalisation: 'log', description: 'LR / initial LR',
 *   compute: (s, i) => s.lrs[i] / s.referenceLr });
 * const first = env.reset(1); // observations sized env.spec.observationSize
 * ```
 */
export {
  LayerLrEnv,
  LayerLrEnvConfigSchema,
  LR_CLIP_WARNING,
  approximateDifferenceAssigner,
  initialLrClipWarning,
  resetLrClipWarnings,
  resolveLayerLrEnvConfig,
} from './env';
export type { LayerLrEnvConfig, LayerLrInfo, ResolvedLayerLrEnvConfig } from './env';
export {
  FeatureRegistry,
  DEFAULT_LOCAL_FEATURES,
  DEFAULT_GLOBAL_FEATURES,
  DEFAULT_FEATURE_NAMES,
  GLOBAL_AGENT_FEATURE_NAMES,
  builtinFeature,
} from './features';
export type { FeatureDef, FeatureNormalisation, GannoTrainingState, LayerIntervalStats, LrControl } from './features';
export { makeActionSet, ActionSetConfigSchema, DEFAULT_LR_FACTORS, SMALL_LR_FACTORS } from './actions';
export type { ActionSet, ActionSetConfig } from './actions';
export { TaskSampler, TaskConfigSchema, buildTaskModel, taskBatches, loadTaskDataset } from './tasks';
export type { TaskConfig, ResolvedTaskConfig, SampledTask } from './tasks';
export {
  PolicyController,
  scheduleController,
  constantController,
  keepController,
  larsController,
  hypergradientController,
  tuningFreeController,
} from './controllers';
export type {
  LrController,
  ControllerTaskInfo,
  DecisionInput,
  PolicyControllerOptions,
  ScheduleControllerOptions,
  LarsControllerOptions,
  HypergradientControllerOptions,
  RunScheduleSpec,
  FeatureStatisticsState,
} from './controllers';
export {
  evaluateController,
  runController,
  tunePeakLr,
  scorePeak,
  bestPeak,
  taskTestSet,
  controllerFromSpec,
  gannoEvalRun,
  gannoEvalRunKind,
  isDegenerateRun,
  resolveGannoEvalRunConfig,
} from './evaluate';
export type { ControllerRunResult, EvaluateOptions, PeakLrScore, ControllerSpec, GannoEvalRunConfig } from './evaluate';
export {
  trainGannoAgents,
  GannoTrainConfigSchema,
  GANNO_PPO_DEFAULTS,
  POLICY_MOVED_KL,
  DEGENERATE_SHARE,
  dominantActionShare,
  loadGannoPolicy,
  latestGannoCheckpoint,
  layerSummaryState,
  removeCrashLeftovers,
  resolveGannoTrainConfig,
} from './train';
export type {
  ResolvedGannoTrainConfig,
  GannoTrainConfig,
  GannoTrainHooks,
  GannoTrainResult,
  GannoValidationPoint,
  GannoUpdateDiagnostics,
} from './train';
export * from './experiments';
