import type { CounterfactualEnv } from './types';

/**
 * Shared team reward (no credit assignment): every agent receives `teamReward`.
 * Has the {@link RewardCreditAssigner} signature; `env` is not used.
 *
 * @example
 * ```ts
 * sharedRewards(env, [0, 2, 1], 0.5); // Float32Array [0.5, 0.5, 0.5]
 * ```
 */
export function sharedRewards(
  _env: CounterfactualEnv | undefined,
  actions: ArrayLike<number>,
  teamReward: number,
): Float32Array {
  if (!Number.isFinite(teamReward)) throw new Error(`sharedRewards: teamReward must be finite, got ${teamReward}`);
  return new Float32Array(actions.length).fill(teamReward);
}
