import type { CreditAssigner, MultiAgentEnv, TeamRewardContext } from '../marl/env';

/**
 * The part of a {@link MultiAgentEnv} that reward-level credit assignment needs: the hook that
 * evaluates the current step's team reward for other actions, and the per-agent default action.
 */
export type CounterfactualEnv = Pick<
  MultiAgentEnv,
  'counterfactualTeamReward' | 'counterfactualTeamRewards' | 'defaultAction'
>;

/**
 * A reward-level credit assigner: turns one step's team reward into one reward per agent.
 * Called before `env.step(actions)` (the env's counterfactual hook evaluates from the current
 * state). `sharedRewards`, `differenceRewards` and `shapleyAssigner(...)` all have this type, so a
 * rollout engine takes any of them as a plug-in.
 *
 * @example
 * ```ts
 * const assign: RewardCreditAssigner = differenceRewards;
 * const perAgent = assign(env, actions, teamReward); // Float32Array, one reward per agent
 * ```
 */
export type RewardCreditAssigner = (
  env: CounterfactualEnv,
  actions: ArrayLike<number>,
  teamReward: number,
) => Float32Array;

/** A team-reward function of a joint action (one discrete action per agent). */
export type TeamRewardFn = (actions: ArrayLike<number>) => number;

/**
 * Two-phase credit plug-in: the `CreditAssigner` of src/marl (the one plug-in interface) whose
 * `assign` reads only the team reward, so it serves the rollout collector and manual use alike:
 * `prepare` runs before `env.step(actions)` (counterfactual queries), `assign` after it.
 *
 * @example
 * ```ts
 * const credit: StepCreditAssigner = differenceStepAssigner();
 * const prepared = credit.prepare!(env, actions);
 * const result = env.step(actions);
 * const perAgent = credit.assign({ result, prepared });
 * ```
 */
export type StepCreditAssigner = CreditAssigner<TeamRewardContext>;
