import { coalitionValueFromActions, differenceRewardsFromFn, shapleyValues } from '../../credit';
import type { ShapleyOptions } from '../../credit';
import type { JointAction } from './learner';

/** Options for {@link tokenCreditRewards}. */
export interface TokenCreditOptions {
  /** 'difference': G(a) - G(a with agent i's tokens set to its default); 'shapley': Shapley values over agents. */
  method: 'difference' | 'shapley';
  /** The default ("absent") token sequence of every agent. */
  defaults: JointAction;
  /** Shapley options (exact up to `exactLimit` agents, else sampled permutations with `rng`). */
  shapley?: ShapleyOptions;
}

/**
 * Per-agent rewards for token agents from a team-reward function, for the learner's
 * `credit: 'perAgent'` mode: difference rewards or Shapley values where an absent agent emits its
 * default tokens. Costs extra evaluations of `reward` (n for difference, up to 2^n for exact
 * Shapley), so use it with cheap or cached rewards.
 *
 * @example
 * ```ts
 * const batch = learner.propose(8);
 * const team = batch.map(reward);
 * const perAgent = batch.map((a, b) => Array.from(tokenCreditRewards(reward, a, team[b], { method: 'difference', defaults })));
 * learner.observe(batch, team, perAgent);
 * ```
 */
export function tokenCreditRewards(
  reward: (a: JointAction) => number,
  action: JointAction,
  teamReward: number,
  options: TokenCreditOptions,
): Float32Array {
  const n = action.length;
  if (!Array.isArray(options.defaults) || options.defaults.length !== n)
    throw new Error(`tokenCreditRewards: defaults must list ${n} agents' token sequences`);
  options.defaults.forEach((d, i) => {
    if (!Array.isArray(d) || d.length !== action[i].length)
      throw new Error(`tokenCreditRewards: defaults[${i}] must have ${action[i].length} tokens`);
  });
  // Agent i's "action" is 1 (its tokens) or 0 (its default tokens).
  const evaluate = (present: ArrayLike<number>) => {
    let all = true;
    for (let i = 0; i < n && all; i++) all = present[i] === 1;
    return all ? teamReward : reward(action.map((toks, i) => (present[i] === 1 ? toks : options.defaults[i])));
  };
  const ones = new Array(n).fill(1);
  if (options.method === 'difference') return differenceRewardsFromFn(evaluate, ones, teamReward, 0);
  if (options.method === 'shapley')
    return Float32Array.from(shapleyValues(coalitionValueFromActions(evaluate, ones, 0), n, options.shapley));
  throw new Error(
    `tokenCreditRewards: method must be 'difference' or 'shapley', got ${String((options as { method: unknown }).method)}`,
  );
}
