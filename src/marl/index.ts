export type {
  CreditAssigner,
  CreditContext,
  MultiAgentEnv,
  MultiAgentEnvSpec,
  ResetResult,
  StepResult,
  TeamRewardContext,
} from './env';
export { ParamSet, dense, expandByAgent, gruCell, uniformInit } from './nn';
export type { GruWeights, GruInputGates } from './nn';
export { Adam, AdamConfigSchema, clipGradNorm } from './adam';
export type { AdamConfig, AdamState } from './adam';
export { ActorCritic, PolicyConfigSchema } from './policy';
export type { PolicyConfig, ResolvedPolicyConfig, PolicyStepInput, PolicyStepOutput, SequenceInput } from './policy';
export { computeGae } from './gae';
export { ppoLoss } from './ppo-loss';
export type { PpoLossInputs, PpoLossOptions, PpoLossTerms } from './ppo-loss';
export { PolicyActor, RolloutCollector, evaluatePolicy, selectAction } from './rollout';
export type { Trajectory, EpisodeStats, Rollout, RolloutOptions, CollectorState } from './rollout';
export { ValueNormalizer } from './value-norm';
export type { ValueNormState } from './value-norm';
export {
  PpoTrainer,
  PpoConfigSchema,
  RolloutConfigSchema,
  PpoTrainerConfigSchema,
  loadPolicy,
  normalizeMasked,
} from './ppo';
export type {
  PpoConfig,
  RolloutConfig,
  PpoTrainerConfig,
  ResolvedPpoTrainerConfig,
  UpdateStats,
  ChunkBatch,
} from './ppo';
export { writeCheckpoint, readCheckpoint, expectTensor, CHECKPOINT_FORMAT_VERSION } from './checkpoint';
export type { CheckpointManifest, CheckpointTensorEntry, StoredTensor } from './checkpoint';
export * from './envs';
// Single-step learners (REINFORCE, off-policy actor-critic), owned by the single-step module:
export * from './singlestep';
