import type { CounterfactualEnv, StepCreditAssigner, TeamRewardFn } from './types';

/** Options for {@link differenceRewards}. */
export interface DifferenceRewardOptions {
  /**
   * Default action per agent (or one for all). Wins over `env.defaultAction`; when neither is
   * given, action 0 is the default.
   */
  defaultAction?: number | ArrayLike<number>;
}

/**
 * Difference rewards (Wolpert & Tumer): `D_i = G(a) - G(a with a_i replaced by agent i's default)`,
 * with the counterfactual team rewards from the env hook `counterfactualTeamReward`. Call it
 * before `env.step(actions)`. Has the {@link RewardCreditAssigner} signature.
 *
 * @example
 * ```ts
 * env.reset(seed);
 * const G = env.counterfactualTeamReward!(actions); // or the reward step() will return
 * const d = differenceRewards(env, actions, G);     // one reward per agent
 * env.step(actions);
 * ```
 */
export function differenceRewards(
  env: CounterfactualEnv,
  actions: ArrayLike<number>,
  teamReward: number,
  options: DifferenceRewardOptions = {},
): Float32Array {
  const hook = env.counterfactualTeamReward;
  if (typeof hook !== 'function') {
    throw new Error('differenceRewards: env has no counterfactualTeamReward(actions) hook; difference rewards need it');
  }
  const defaults = resolveDefaults(
    actions.length,
    options.defaultAction,
    env.defaultAction ? (i) => env.defaultAction!(i) : undefined,
  );
  return differenceRewardsFromFn((a) => hook.call(env, a), actions, teamReward, defaults);
}

/**
 * Difference rewards from a team-reward function instead of an env hook (single-step games,
 * cached pipeline evaluations): `D_i = G(a) - G(a_{-i}, c_i)` with default actions `c`.
 * Agents whose action already equals the default get exactly 0 without calling `teamRewardFn`.
 *
 * @example
 * ```ts
 * const G = (a: ArrayLike<number>) => (a[0] + a[1]) / 2;
 * differenceRewardsFromFn(G, [1, 1], G([1, 1]), [0, 0]); // Float32Array [0.5, 0.5]
 * ```
 */
export function differenceRewardsFromFn(
  teamRewardFn: TeamRewardFn,
  actions: ArrayLike<number>,
  teamReward: number,
  defaults: number | ArrayLike<number> = 0,
): Float32Array {
  if (!Number.isFinite(teamReward)) throw new Error(`difference rewards: teamReward must be finite, got ${teamReward}`);
  const n = actions.length;
  const def = resolveDefaults(n, defaults, undefined);
  const out = new Float32Array(n);
  const alt = Array.from(actions);
  for (let i = 0; i < n; i++) {
    if (alt[i] === def[i]) continue;
    const keep = alt[i];
    alt[i] = def[i];
    const g = teamRewardFn(alt);
    alt[i] = keep;
    if (!Number.isFinite(g))
      throw new Error(`difference rewards: counterfactual team reward for agent ${i} is not finite (${g})`);
    out[i] = teamReward - g;
  }
  return out;
}

/** @internal Default action per agent from an explicit option, an env hook, or 0. */
export function resolveDefaults(
  n: number,
  explicit: number | ArrayLike<number> | undefined,
  hook: ((i: number) => number) | undefined,
): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let d: number;
    if (typeof explicit === 'number') d = explicit;
    else if (explicit !== undefined) {
      if (explicit.length !== n)
        throw new Error(`defaultAction: expected ${n} default actions (one per agent), got ${explicit.length}`);
      d = explicit[i];
    } else d = hook ? hook(i) : 0;
    if (!Number.isInteger(d) || d < 0)
      throw new Error(`defaultAction: default action of agent ${i} must be a non-negative integer, got ${d}`);
    out[i] = d;
  }
  return out;
}

/**
 * Difference rewards as a two-phase plug-in for rollout collectors: `prepare` (before `env.step`)
 * queries `G(a_-i, c_i)` for every agent (in one call of the env's batched hook
 * `counterfactualTeamRewards` when it has one), `assign` returns `teamReward - G(a_-i, c_i)` (0 for
 * agents already playing their default).
 *
 * @example
 * ```ts
 * new RolloutCollector({ ..., credit: differenceStepAssigner() });
 * ```
 */
export function differenceStepAssigner(options: DifferenceRewardOptions = {}): StepCreditAssigner {
  return {
    prepare(env: CounterfactualEnv, actions: ArrayLike<number>) {
      const hook = env.counterfactualTeamReward;
      if (typeof hook !== 'function')
        throw new Error('differenceStepAssigner: env has no counterfactualTeamReward(actions) hook');
      const n = actions.length;
      const def = resolveDefaults(
        n,
        options.defaultAction,
        env.defaultAction ? (i) => env.defaultAction!(i) : undefined,
      );
      // One alternative joint action per agent not already playing its default; evaluated together
      // when the env offers the batched hook.
      const agents: number[] = [];
      const sets: number[][] = [];
      for (let i = 0; i < n; i++) {
        if (actions[i] === def[i]) continue;
        const alt = Array.from(actions);
        alt[i] = def[i];
        agents.push(i);
        sets.push(alt);
      }
      const batched = env.counterfactualTeamRewards;
      const values =
        typeof batched === 'function' && sets.length > 1 ? batched.call(env, sets) : sets.map((a) => hook.call(env, a));
      const cf: (number | null)[] = new Array<number | null>(n).fill(null);
      agents.forEach((i, k) => (cf[i] = values[k]));
      return cf;
    },
    assign(ctx: { result: { teamReward: number }; prepared: unknown }) {
      const cf = ctx.prepared as (number | null)[];
      return Float32Array.from(cf, (g) => (g === null ? 0 : ctx.result.teamReward - g));
    },
  };
}

/**
 * Shared team reward as a two-phase plug-in (every agent gets `result.teamReward`).
 *
 * @example
 * ```ts
 * new RolloutCollector({ ..., credit: sharedStepAssigner() });
 * ```
 */
export function sharedStepAssigner(): StepCreditAssigner {
  return {
    prepare: (_env: CounterfactualEnv, actions: ArrayLike<number>) => actions.length,
    assign: (ctx) => new Float32Array(ctx.prepared as number).fill(ctx.result.teamReward),
  };
}
