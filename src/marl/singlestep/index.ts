/**
 * Single-step cooperative multi-agent learning over factored token actions: REINFORCE with
 * baselines, counterfactual (COMA/MA2ML) credit from a centralised critic, and the off-policy
 * divergence-regularised actor-critic with replay and target policies (MA2ML), as switches of
 * one learner.
 */
export { SingleStepLearner } from './learner';
export type { JointAction, ObserveStats, RunResult, SingleStepLearnerState } from './learner';
export { SingleStepConfigSchema, parseSingleStepConfig } from './config';
export type { SingleStepConfig, SingleStepConfigInput } from './config';
export { ReplayBuffer } from './replay';
export type { ReplayState } from './replay';
export type { AdamState } from '../adam';
export { tokenCreditRewards } from './credit';
export { MlpCritic } from './mlp-critic';
export type { TokenLayout } from './mlp-critic';
export { RidgeCritic, choleskySolveInPlace } from './ridge';
export type { RidgeCriticOptions } from './ridge';
export {
  diagnosticRows,
  explainedVariance,
  rSquared,
  centredSumsOfSquares,
  categoricalEntropy,
  categoricalKl,
} from './diagnostics';
export type { UpdateDiagnostics, DiagnosticRow } from './diagnostics';
export type { TokenCreditOptions } from './credit';
