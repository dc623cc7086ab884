/**
 * Credit assignment for cooperative multi-agent learning: shared team reward, difference rewards
 * (env hook), COMA-style counterfactual advantages from a centralised critic (exact or
 * Monte-Carlo over factored token actions) and Shapley values (exact or sampled permutations).
 */
export type { CounterfactualEnv, RewardCreditAssigner, StepCreditAssigner, TeamRewardFn } from './types';
export { sharedRewards } from './shared';
export { differenceRewards, differenceRewardsFromFn, differenceStepAssigner, sharedStepAssigner } from './difference';
export type { DifferenceRewardOptions } from './difference';
export {
  counterfactualAdvantages,
  counterfactualAdvantageTensor,
  counterfactualBaseline,
  counterfactualAlternatives,
  factoredCounterfactualBaseline,
  factoredActionCount,
  enumerateFactoredActions,
} from './counterfactual';
export type { Alternatives, AlternativesOptions, AlternativeValuesFn } from './counterfactual';
export { shapleyValues, coalitionValueFromActions, shapleyAssigner, shapleyStepAssigner } from './shapley';
export type { CharacteristicFn, ShapleyOptions } from './shapley';
