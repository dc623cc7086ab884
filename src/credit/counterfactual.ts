import { tf } from '../backend';
import type { Tensor } from '../backend';
import type { Rng } from '../random';

/**
 * COMA-style counterfactual advantages for one agent with a small action space:
 * `A(a) = Q(a) - sum_a' pi(a') Q(a')`, where `q[a]` is the centralised critic's value of the joint
 * action with this agent's action replaced by `a` (the other agents' actions fixed).
 * Returns the advantage of every action; index it with the action taken.
 *
 * @example
 * ```ts
 * counterfactualAdvantages([1, 3], [0.5, 0.5]); // Float32Array [-1, 1]
 * ```
 */
export function counterfactualAdvantages(q: ArrayLike<number>, probs: ArrayLike<number>): Float32Array {
  if (q.length !== probs.length)
    throw new Error(`counterfactualAdvantages: q has ${q.length} entries but probs has ${probs.length}`);
  if (q.length === 0) throw new Error('counterfactualAdvantages: empty action space');
  const b = counterfactualBaseline(q, probs);
  const out = new Float32Array(q.length);
  for (let a = 0; a < q.length; a++) out[a] = q[a] - b;
  return out;
}

/**
 * Batched COMA advantage as a tensor op (for PPO/actor-critic losses): `q` and `probs` are
 * `[..., A]` (critic values per alternative action of the agent, and the agent's policy), and
 * `actions` (int32, shape `[...]`) the actions taken. Returns `Q(a) - sum pi Q`, shape `[...]`.
 * Without `actions`, returns the advantages of all actions, shape `[..., A]`.
 *
 * @example
 * ```ts
 * const adv = tf.tidy(() => counterfactualAdvantageTensor(qBatch, probBatch, actionBatch)); // [B]
 * ```
 */
export function counterfactualAdvantageTensor(q: Tensor, probs: Tensor, actions?: Tensor): Tensor {
  if (q.shape.length < 1 || q.shape.join(',') !== probs.shape.join(',')) {
    throw new Error(
      `counterfactualAdvantageTensor: q shape [${q.shape}] and probs shape [${probs.shape}] must match (rank >= 1)`,
    );
  }
  const numActions = q.shape[q.shape.length - 1];
  if (actions && actions.shape.join(',') !== q.shape.slice(0, -1).join(',')) {
    throw new Error(
      `counterfactualAdvantageTensor: actions shape [${actions.shape}] must be q's shape without the last axis [${q.shape.slice(0, -1)}]`,
    );
  }
  return tf.tidy(() => {
    const baseline = tf.sum(tf.mul(q, probs), -1, true);
    const all = tf.sub(q, baseline);
    if (!actions) return all;
    const mask = tf.oneHot(tf.cast(actions, 'int32'), numActions);
    return tf.sum(tf.mul(all, mask), -1);
  });
}

/**
 * The counterfactual baseline `sum_k w_k q_k` (the exact expectation when the weights are the
 * policy's probabilities of enumerated alternatives; the Monte-Carlo mean when they are 1/K).
 *
 * @example
 * ```ts
 * counterfactualBaseline([1, 3], [0.25, 0.75]); // 2.5
 * ```
 */
export function counterfactualBaseline(q: ArrayLike<number>, weights: ArrayLike<number>): number {
  if (q.length !== weights.length)
    throw new Error(`counterfactualBaseline: ${q.length} values but ${weights.length} weights`);
  let s = 0;
  for (let k = 0; k < q.length; k++) s += q[k] * weights[k];
  return s;
}

/** Number of distinct factored actions (product of the token vocabulary sizes). */
export function factoredActionCount(vocab: ArrayLike<number>): number {
  let n = 1;
  for (let t = 0; t < vocab.length; t++) {
    if (!Number.isInteger(vocab[t]) || vocab[t] < 1)
      throw new Error(`vocab[${t}] must be a positive integer, got ${vocab[t]}`);
    n *= vocab[t];
  }
  return n;
}

/**
 * All factored actions of an agent as a flat `Int32Array` of `count x vocab.length` token indices
 * (mixed radix, last token fastest).
 *
 * @example
 * ```ts
 * enumerateFactoredActions([2, 3]); // [0,0, 0,1, 0,2, 1,0, 1,1, 1,2]
 * ```
 */
export function enumerateFactoredActions(vocab: ArrayLike<number>, limit = 1 << 20): Int32Array {
  const count = factoredActionCount(vocab);
  if (count > limit) throw new Error(`enumerateFactoredActions: ${count} actions exceed the limit ${limit}`);
  const L = vocab.length;
  const out = new Int32Array(count * L);
  for (let m = 0; m < count; m++) {
    let r = m;
    for (let t = L - 1; t >= 0; t--) {
      out[m * L + t] = r % vocab[t];
      r = Math.floor(r / vocab[t]);
    }
  }
  return out;
}

/** Options for {@link counterfactualAlternatives}. */
export interface AlternativesOptions {
  /** 'exact' enumerates, 'monteCarlo' samples, 'auto' enumerates when the space has at most `enumerateLimit` actions. */
  mode?: 'auto' | 'exact' | 'monteCarlo';
  /** Monte-Carlo sample count K (default 32). */
  samples?: number;
  /** Largest action space enumerated in 'auto' mode (default 64). */
  enumerateLimit?: number;
  /** Required for Monte-Carlo sampling. */
  rng?: Rng;
}

/** Alternative actions of one agent with the weights that turn their critic values into the baseline. */
export interface Alternatives {
  /** Flat `count x numTokens` token indices. */
  tokens: Int32Array;
  /** Number of alternatives. */
  count: number;
  /** Weight per alternative (policy probabilities when exact, 1/K when sampled). */
  weights: Float64Array;
  /** Whether the alternatives enumerate the whole space. */
  exact: boolean;
}

/**
 * The alternatives `a_i'` of a factored policy `pi_i(a) = prod_t p_t(a_t)` over which the
 * counterfactual baseline `E_{a_i' ~ pi_i} Q(a_i', a_-i)` is taken: every action weighted by its
 * probability (exact), or K samples weighted 1/K (Monte-Carlo, unbiased).
 *
 * @example
 * ```ts
 * const alts = counterfactualAlternatives([p0, p1], { mode: 'monteCarlo', samples: 32, rng });
 * const b = counterfactualBaseline(criticValuesOf(alts.tokens), alts.weights);
 * ```
 */
export function counterfactualAlternatives(
  tokenProbs: ArrayLike<number>[],
  options: AlternativesOptions = {},
): Alternatives {
  const L = tokenProbs.length;
  if (L === 0) throw new Error('counterfactualAlternatives: an agent needs at least one token');
  const vocab = tokenProbs.map((p) => p.length);
  const mode = options.mode ?? 'auto';
  const limit = options.enumerateLimit ?? 64;
  const size = factoredActionCount(vocab);
  const exact = mode === 'exact' || (mode === 'auto' && size <= limit);
  if (exact) {
    const tokens = enumerateFactoredActions(vocab);
    const weights = new Float64Array(size);
    for (let m = 0; m < size; m++) {
      let w = 1;
      for (let t = 0; t < L; t++) w *= tokenProbs[t][tokens[m * L + t]];
      weights[m] = w;
    }
    return { tokens, count: size, weights, exact: true };
  }
  const K = options.samples ?? 32;
  if (!Number.isInteger(K) || K < 1)
    throw new Error(`counterfactualAlternatives: samples must be a positive integer, got ${K}`);
  const rng = options.rng;
  if (!rng) throw new Error('counterfactualAlternatives: Monte-Carlo mode needs options.rng');
  const tokens = new Int32Array(K * L);
  for (let k = 0; k < K; k++) for (let t = 0; t < L; t++) tokens[k * L + t] = rng.categorical(tokenProbs[t]);
  return { tokens, count: K, weights: new Float64Array(K).fill(1 / K), exact: false };
}

/** Critic values of `count` alternative actions of one agent given flat `count x numTokens` tokens. */
export type AlternativeValuesFn = (tokens: Int32Array, count: number) => ArrayLike<number>;

/**
 * Counterfactual baseline `E_{a' ~ pi} Q(a')` of one agent with a factored policy, exact
 * (enumeration) or Monte-Carlo (K samples); `valuesOf` is called once with all alternatives.
 *
 * @example
 * ```ts
 * const exact = factoredCounterfactualBaseline(valuesOf, [p0, p1], { mode: 'exact' });
 * const mc = factoredCounterfactualBaseline(valuesOf, [p0, p1], { mode: 'monteCarlo', samples: 256, rng });
 * ```
 */
export function factoredCounterfactualBaseline(
  valuesOf: AlternativeValuesFn,
  tokenProbs: ArrayLike<number>[],
  options: AlternativesOptions = {},
): number {
  const alts = counterfactualAlternatives(tokenProbs, options);
  const q = valuesOf(alts.tokens, alts.count);
  if (q.length !== alts.count)
    throw new Error(
      `factoredCounterfactualBaseline: valuesOf returned ${q.length} values for ${alts.count} alternatives`,
    );
  return counterfactualBaseline(q, alts.weights);
}
