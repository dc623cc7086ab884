import type { Rng } from '../random';
import { resolveDefaults } from './difference';
import type { CounterfactualEnv, RewardCreditAssigner, StepCreditAssigner, TeamRewardFn } from './types';

/** Characteristic function of a cooperative game: the value of a coalition (`coalition[i] = 1` for members). */
export type CharacteristicFn = (coalition: Uint8Array) => number;

/** Options for {@link shapleyValues}. */
export interface ShapleyOptions {
  /** 'exact' enumerates all 2^n coalitions; 'permutations' samples; 'auto' is exact up to `exactLimit` agents. */
  method?: 'auto' | 'exact' | 'permutations';
  /** Largest number of agents computed exactly in 'auto' mode (default 10). */
  exactLimit?: number;
  /** Number of sampled permutations (default 64). */
  permutations?: number;
  /** Random stream for sampled permutations (required for 'permutations'). */
  rng?: Rng;
}

/**
 * Shapley values `phi_i = E_perm[v(P_i + i) - v(P_i)]` (P_i: the agents before i in a uniformly
 * random order). Exact by enumerating coalitions (cached, 2^n evaluations of `value`), or
 * estimated from sampled permutations (n evaluations each; every sampled permutation's marginal
 * contributions sum to `v(all) - v(none)`, so the estimate is efficient exactly).
 *
 * @example
 * ```ts
 * // v(S) = |S|^2 for 3 agents: each agent's Shapley value is 3.
 * shapleyValues((c) => { const s = c.reduce((a, b) => a + b, 0); return s * s; }, 3); // [3, 3, 3]
 * ```
 */
export function shapleyValues(value: CharacteristicFn, n: number, options: ShapleyOptions = {}): Float64Array {
  return shapleySplit(value, n, options).phi;
}

/**
 * @internal Shapley values plus, per agent, the weight with which v(all) enters them (exact: 1/n;
 * sampled: the fraction of permutations where the agent came last), so that v(all) can be filled
 * in later by linearity: phi_i(v) = phi_i(v with v(all) = 0) + weight_i * v(all).
 */
export function shapleySplit(
  value: CharacteristicFn,
  n: number,
  options: ShapleyOptions = {},
): { phi: Float64Array; fullWeight: Float64Array } {
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`shapleyValues: n (number of agents) must be a positive integer, got ${n}`);
  const method = options.method ?? 'auto';
  const exactLimit = options.exactLimit ?? 10;
  if (method === 'exact' || (method === 'auto' && n <= exactLimit)) {
    if (n > 20)
      throw new Error(
        `shapleyValues: exact Shapley over ${n} agents needs 2^${n} evaluations; use method 'permutations'`,
      );
    return { phi: exactShapley(value, n), fullWeight: new Float64Array(n).fill(1 / n) };
  }
  const P = options.permutations ?? 64;
  if (!Number.isInteger(P) || P < 1)
    throw new Error(`shapleyValues: permutations must be a positive integer, got ${P}`);
  if (!options.rng) throw new Error("shapleyValues: method 'permutations' needs options.rng");
  const rng = options.rng;
  const phi = new Float64Array(n);
  const fullWeight = new Float64Array(n);
  const coalition = new Uint8Array(n);
  for (let p = 0; p < P; p++) {
    const order = rng.permutation(n);
    fullWeight[order[n - 1]] += 1;
    coalition.fill(0);
    let prev = checkedValue(value, coalition);
    for (let k = 0; k < n; k++) {
      const i = order[k];
      coalition[i] = 1;
      const cur = checkedValue(value, coalition);
      phi[i] += cur - prev;
      prev = cur;
    }
  }
  for (let i = 0; i < n; i++) {
    phi[i] /= P;
    fullWeight[i] /= P;
  }
  return { phi, fullWeight };
}

function exactShapley(value: CharacteristicFn, n: number): Float64Array {
  const total = 1 << n;
  const v = new Float64Array(total);
  const coalition = new Uint8Array(n);
  for (let s = 0; s < total; s++) {
    for (let i = 0; i < n; i++) coalition[i] = (s >> i) & 1;
    v[s] = checkedValue(value, coalition);
  }
  // weight(|S|) = |S|! (n - |S| - 1)! / n!
  const fact = [1];
  for (let k = 1; k <= n; k++) fact.push(fact[k - 1] * k);
  const phi = new Float64Array(n);
  for (let s = 0; s < total; s++) {
    const size = popcount(s);
    for (let i = 0; i < n; i++) {
      if ((s >> i) & 1) continue;
      phi[i] += ((fact[size] * fact[n - size - 1]) / fact[n]) * (v[s | (1 << i)] - v[s]);
    }
  }
  return phi;
}

function popcount(x: number): number {
  let c = 0;
  while (x) {
    x &= x - 1;
    c++;
  }
  return c;
}

function checkedValue(value: CharacteristicFn, coalition: Uint8Array): number {
  const v = value(coalition);
  if (!Number.isFinite(v))
    throw new Error(`shapleyValues: characteristic function returned ${v} for coalition [${Array.from(coalition)}]`);
  return v;
}

/**
 * The characteristic function "members play their actions, the others their default action":
 * `v(S) = G(a_S, c_-S)` from a team-reward function.
 *
 * @example
 * ```ts
 * const v = coalitionValueFromActions(teamReward, actions, 0);
 * const phi = shapleyValues(v, actions.length);
 * ```
 */
export function coalitionValueFromActions(
  teamRewardFn: TeamRewardFn,
  actions: ArrayLike<number>,
  defaults: number | ArrayLike<number> = 0,
): CharacteristicFn {
  const n = actions.length;
  const def = resolveDefaults(n, defaults, undefined);
  const a = new Int32Array(n);
  return (coalition) => {
    if (coalition.length !== n) throw new Error(`coalition has ${coalition.length} entries, expected ${n} agents`);
    for (let i = 0; i < n; i++) a[i] = coalition[i] ? actions[i] : def[i];
    return teamRewardFn(a);
  };
}

/**
 * A {@link RewardCreditAssigner} that gives each agent its Shapley value under the env hook
 * `counterfactualTeamReward` (coalition members keep their actions, others take the default).
 * The per-agent rewards sum to `G(a) - G(defaults)`.
 *
 * @example
 * ```ts
 * const assign = shapleyAssigner({ method: 'permutations', permutations: 32, rng: rng.fork('shapley') });
 * const perAgent = assign(env, actions, teamReward);
 * ```
 */
export function shapleyAssigner(
  options: ShapleyOptions & { defaultAction?: number | ArrayLike<number> } = {},
): RewardCreditAssigner {
  return (env: CounterfactualEnv, actions: ArrayLike<number>, teamReward: number) => {
    const hook = env.counterfactualTeamReward;
    if (typeof hook !== 'function')
      throw new Error('shapleyAssigner: env has no counterfactualTeamReward(actions) hook');
    const n = actions.length;
    const def = resolveDefaults(n, options.defaultAction, env.defaultAction ? (i) => env.defaultAction!(i) : undefined);
    const all = (a: ArrayLike<number>) => {
      let same = true;
      for (let i = 0; i < n && same; i++) same = a[i] === actions[i];
      return same ? teamReward : hook.call(env, a);
    };
    return Float32Array.from(shapleyValues(coalitionValueFromActions(all, actions, def), n, options));
  };
}

/**
 * Shapley credit as a two-phase plug-in for rollout collectors (`prepare` before `env.step`,
 * `assign` after): `prepare` evaluates every coalition except the full one through the env hook
 * (members keep their actions, the others take their default), `assign` adds the step's team
 * reward by linearity. Same values as {@link shapleyAssigner}.
 *
 * @example
 * ```ts
 * const credit = shapleyStepAssigner({ method: 'permutations', permutations: 16, rng });
 * new RolloutCollector({ ..., credit });
 * ```
 */
export function shapleyStepAssigner(
  options: ShapleyOptions & { defaultAction?: number | ArrayLike<number> } = {},
): StepCreditAssigner {
  return {
    prepare(env: CounterfactualEnv, actions: ArrayLike<number>) {
      const hook = env.counterfactualTeamReward;
      if (typeof hook !== 'function')
        throw new Error('shapleyStepAssigner: env has no counterfactualTeamReward(actions) hook');
      const n = actions.length;
      const def = resolveDefaults(
        n,
        options.defaultAction,
        env.defaultAction ? (i) => env.defaultAction!(i) : undefined,
      );
      const base = coalitionValueFromActions((a) => hook.call(env, a), actions, def);
      const split = shapleySplit((c) => (c.every((x) => x === 1) ? 0 : base(c)), n, options);
      return split;
    },
    assign(ctx: { result: { teamReward: number }; prepared: unknown }) {
      const { phi, fullWeight } = ctx.prepared as { phi: Float64Array; fullWeight: Float64Array };
      return Float32Array.from(phi, (p, i) => p + fullWeight[i] * ctx.result.teamReward);
    },
  };
}
