/**
 * Per-update diagnostics of the single-step learner (issue 12): what the policy, the trust region
 * and the critic did in one `observe`, and a helper that flattens them into rows for a CSV.
 */

/**
 * Diagnostics of one {@link SingleStepLearner.observe} call (always computed; none of it touches
 * the learning streams or parameters). Per-group arrays are indexed like `groups` (the agents, or
 * one `'joint'` group with `jointAgent`).
 */
export interface UpdateDiagnostics {
  /** 0-based index of this `observe` call. */
  update: number;
  /** Evaluations observed so far, this batch included. */
  evaluations: number;
  /** Rows of the observed batch. */
  batchSize: number;
  /** Policy groups the per-group arrays refer to (agent names, `agent<i>` when unnamed, or `['joint']`). */
  groups: string[];
  /**
   * Entropy (nats) of each group's policy after the update. Factorised: exact (sum of per-token
   * entropies). Autoregressive: exact where the group has at most `enumerateLimit` sequences, else
   * the mean over the observed batch's rows of the summed conditional entropies along each row's
   * prefix (cheap, no sampling; unbiased for rows drawn from the policy, approximate after the update).
   */
  entropy: number[];
  /** `entropy / log(number of the group's actions)` (1 = uniform; 1 for a group with one action). */
  entropyFraction: number[];
  /** `KL(pi_before || pi_after)` per group over this `observe` (autoregressive, non-enumerable groups: along the observed rows' prefixes, as `entropy`). */
  klPrevious: number[];
  /** `KL(pi || rho)` per group after the update (autoregressive: the observed batch's estimate, as `ObserveStats.kl`). */
  klTarget: number[];
  /** Actor steps taken. */
  innerSteps: number;
  /** Whether `klLimit` stopped the inner loop early. */
  klStopped: boolean;
  /** Advantage of the update: 'counterfactual', 'shared' (also the gate's fallback) or 'perAgent'. */
  creditUsed: 'counterfactual' | 'shared' | 'perAgent';
  /** The explained variance the credit gate compared with `minHeldOutEv` (NaN without a gate). */
  gateEv: number;
  /** Critic explained variance `1 - Var(y - Q) / Var(y)` on the whole replay after the update (NaN without critic). */
  criticEvReplay: number;
  /**
   * Held-out explained variance on the observed batch, predicted by the critic BEFORE it was trained
   * on the batch (NaN without critic, before the ridge critic's first fit, or when the rewards of the
   * batch are all equal). Insensitive to a constant offset of Q, like the counterfactual advantage.
   */
  criticEvHeldOut: number;
  /** Held-out `R^2 = 1 - mean((y - Q)^2) / Var(y)` on the same predictions (< 0: worse than predicting the batch mean). */
  criticR2HeldOut: number;
  /** Mean |A| of the raw (not normalised) advantages, averaged over the actor steps. */
  advantageMeanAbs: number;
  /** Standard deviation of the raw advantages, averaged over the actor steps. */
  advantageSd: number;
  /** Distinct joint actions in the observed batch. */
  distinctBatch: number;
  /** Distinct joint actions observed so far (all batches). */
  distinctSoFar: number;
}

/**
 * Explained variance `1 - Var(y - yHat) / Var(y)` (population variances, as SB3's
 * `explained_variance`); NaN when `Var(y)` is 0 or there are no rows.
 *
 * @example
 * ```ts
 * explainedVariance([1, 2, 3], [1, 2, 4]); // 1 - Var([0, 0, -1]) / Var([1, 2, 3]) = 1 - (2/9) / (2/3) = 0.667
 * ```
 */
export function explainedVariance(y: ArrayLike<number>, yHat: ArrayLike<number>): number {
  const s = centredSumsOfSquares(y, yHat);
  return s.y > 0 ? 1 - s.err / s.y : NaN;
}

/**
 * Coefficient of determination `1 - sum (y - yHat)^2 / sum (y - mean y)^2`; NaN when `Var(y)` is 0.
 *
 * @example
 * ```ts
 * rSquared([1, 2, 3], [2, 3, 4]); // 1 - 3 / 2 = -0.5 (an offset counts, unlike explainedVariance)
 * ```
 */
export function rSquared(y: ArrayLike<number>, yHat: ArrayLike<number>): number {
  const n = y.length;
  if (n === 0 || yHat.length !== n) return NaN;
  let m = 0;
  for (let i = 0; i < n; i++) m += y[i];
  m /= n;
  let sy = 0;
  let se = 0;
  for (let i = 0; i < n; i++) {
    sy += (y[i] - m) ** 2;
    se += (y[i] - yHat[i]) ** 2;
  }
  return sy > 0 ? 1 - se / sy : NaN;
}

/**
 * Centred sums of squares of the rewards and of the prediction errors (the pieces of the explained
 * variance; the credit gate's EMA averages them separately).
 *
 * @example
 * ```ts
 * centredSumsOfSquares([1, 2, 3], [1, 2, 4]); // { y: 2, err: 2/3 }
 * ```
 */
export function centredSumsOfSquares(y: ArrayLike<number>, yHat: ArrayLike<number>): { y: number; err: number } {
  const n = y.length;
  if (n === 0 || yHat.length !== n) return { y: 0, err: 0 };
  let my = 0;
  let me = 0;
  for (let i = 0; i < n; i++) {
    my += y[i];
    me += y[i] - yHat[i];
  }
  my /= n;
  me /= n;
  let sy = 0;
  let se = 0;
  for (let i = 0; i < n; i++) {
    sy += (y[i] - my) ** 2;
    se += (y[i] - yHat[i] - me) ** 2;
  }
  return { y: sy, err: se };
}

/**
 * Entropy (nats) of a categorical distribution (zero probabilities contribute 0).
 *
 * @example
 * ```ts
 * categoricalEntropy([0.5, 0.5]); // ln 2
 * ```
 */
export function categoricalEntropy(p: ArrayLike<number>): number {
  let h = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) h -= p[i] * Math.log(p[i]);
  return h;
}

/**
 * `KL(p || q)` (nats) of two categorical distributions; terms with `p = 0` contribute 0, `q` is
 * floored at 1e-30.
 *
 * @example
 * ```ts
 * categoricalKl([0.5, 0.5], [0.25, 0.75]); // 0.5 ln 2 + 0.5 ln(2/3) = 0.1438
 * ```
 */
export function categoricalKl(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let k = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) k += p[i] * (Math.log(p[i]) - Math.log(Math.max(q[i], 1e-30)));
  return Math.max(0, k);
}

/** One flat row of {@link diagnosticRows}: numbers and strings only (CSV-ready). */
export type DiagnosticRow = Record<string, number | string | boolean>;

/**
 * Flattens per-update diagnostics into one row per update: the scalar fields as columns, the
 * per-group arrays as `entropy.<group>`, `entropyFraction.<group>`, `klPrevious.<group>`,
 * `klTarget.<group>` plus their means over groups (`entropyFraction.mean`, ...). `extra` adds
 * constant columns (method, seed, ...). Accepts `ObserveStats` (its `diagnostics`) or the
 * diagnostics themselves.
 *
 * @example
 * ```ts
 * const stats = [];
 * for (let u = 0; u < 10; u++) { const b = learner.propose(8); stats.push(learner.observe(b, b.map(reward))); }
 * const rows = diagnosticRows(stats, { method: 'ma2ml', seed: 0 });
 * rows[9]['entropyFraction.mean']; // a number in [0, 1]
 * ```
 */
export function diagnosticRows(
  updates: ReadonlyArray<UpdateDiagnostics | { diagnostics: UpdateDiagnostics }>,
  extra: Record<string, number | string | boolean> = {},
): DiagnosticRow[] {
  return updates.map((u) => {
    const d = 'diagnostics' in u ? u.diagnostics : u;
    const row: DiagnosticRow = { ...extra };
    for (const key of [
      'update',
      'evaluations',
      'batchSize',
      'innerSteps',
      'klStopped',
      'creditUsed',
      'gateEv',
      'criticEvReplay',
      'criticEvHeldOut',
      'criticR2HeldOut',
      'advantageMeanAbs',
      'advantageSd',
      'distinctBatch',
      'distinctSoFar',
    ] as const) {
      row[key] = d[key];
    }
    for (const key of ['entropy', 'entropyFraction', 'klPrevious', 'klTarget'] as const) {
      const arr = d[key];
      d.groups.forEach((g, i) => (row[`${key}.${g}`] = arr[i]));
      row[`${key}.mean`] = arr.length ? arr.reduce((s, x) => s + x, 0) / arr.length : NaN;
    }
    return row;
  });
}
