/**
 * Closed-form ridge-regression critic on one-hot plus pairwise token features, for the single-step
 * learner's `critic: 'ridge'` (issue 12: a lower-variance centralised critic than the MLP).
 */

/** Options of {@link RidgeCritic}. */
export interface RidgeCriticOptions {
  /** L2 penalty lambda on every feature weight (default 1). The intercept is not penalised. */
  lambda?: number;
  /** 'cross-agent' (default): pair features of tokens of different agents; 'all': every token pair. */
  pairs?: 'cross-agent' | 'all';
}

/**
 * Ridge regression `Q(a) = b + w . phi(a)` over single-step joint actions given as flat token
 * indices (`T` tokens, token t in `[0, vocab[t])`, owned by agent `agentOf[t]`). Features `phi(a)`:
 * the one-hot of every token (`sum_t vocab[t]` indicators) plus, for every token pair (t, s) of
 * different agents (`pairs: 'cross-agent'`, default) or every token pair (`'all'`), the one-hot of
 * the value pair `(a_t, a_s)` (`vocab[t] * vocab[s]` indicators). An additive reward with pairwise
 * interactions is therefore representable exactly.
 *
 * Fit (closed form): the intercept `b` is the mean of the fitted rewards, and `w` minimises
 * `sum_j (y_j - b - w . phi(x_j))^2 + lambda * |w|^2`. It is solved in the dual,
 * `alpha = (K + lambda I)^-1 (y - b)`, `w = Phi^T alpha`, with the kernel
 * `K(x, x') = phi(x) . phi(x')` counted from token matches (`m` matching tokens: `m + sum_{i<j} m_i m_j`
 * over agents for cross-agent pairs, `m + m (m - 1) / 2` for all pairs), so the cost is
 * `O(n^2 T + n^3 / 3)` for n rows whatever the number of features. `w` is then materialised (one-hot
 * table and one table per pair), so predictions and expectations cost `O(T + pairs)` per row.
 *
 * Regularisation: `lambda` is in units of the squared-error sum (it does not scale with n); with
 * rewards in [0, 1] and tens to thousands of rows, lambda = 1 shrinks rarely seen features strongly
 * and leaves well-sampled one-hot weights nearly unbiased.
 *
 * @example
 * ```ts
 * const critic = new RidgeCritic([3, 3], [0, 1], { lambda: 0.1 });
 * critic.fit(Int32Array.from([0, 0, 1, 2, 2, 1]), [0.1, 0.9, 0.4], 3);
 * critic.predict(Int32Array.from([1, 2]), 1); // Float64Array [Q([1, 2])]
 * ```
 */
export class RidgeCritic {
  readonly numTokens: number;
  readonly lambda: number;
  readonly pairMode: 'cross-agent' | 'all';
  /** Token pairs with features: `[t, s]`, t < s. */
  readonly pairs: [number, number][];
  /** Offset of each token's one-hot block in {@link w1}. */
  readonly tokenOffset: number[];
  /** Offset of each pair's `vocab[t] x vocab[s]` block (row-major in `a_t`) in {@link w2}. */
  readonly pairOffset: number[];
  /** Intercept (mean of the fitted rewards; NaN before the first fit). */
  intercept = NaN;
  /** One-hot weights. */
  readonly w1: Float64Array;
  /** Pair weights. */
  readonly w2: Float64Array;
  /** Rows of the last fit. */
  fittedRows = 0;
  /** Mean squared error of the last fit on its own rows. */
  trainMse = NaN;
  private readonly numAgents: number;

  constructor(
    readonly vocab: number[],
    readonly agentOf: number[],
    options: RidgeCriticOptions = {},
  ) {
    if (vocab.length !== agentOf.length || vocab.length === 0)
      throw new Error('RidgeCritic: vocab and agentOf must have one entry per token');
    this.numTokens = vocab.length;
    this.lambda = options.lambda ?? 1;
    if (!(this.lambda > 0)) throw new Error(`RidgeCritic: lambda must be positive, got ${this.lambda}`);
    this.pairMode = options.pairs ?? 'cross-agent';
    this.numAgents = Math.max(...agentOf) + 1;
    this.tokenOffset = [];
    let off = 0;
    for (const v of vocab) {
      this.tokenOffset.push(off);
      off += v;
    }
    this.w1 = new Float64Array(off);
    this.pairs = [];
    this.pairOffset = [];
    let poff = 0;
    for (let t = 0; t < this.numTokens; t++) {
      for (let s = t + 1; s < this.numTokens; s++) {
        if (this.pairMode === 'cross-agent' && agentOf[t] === agentOf[s]) continue;
        this.pairs.push([t, s]);
        this.pairOffset.push(poff);
        poff += vocab[t] * vocab[s];
      }
    }
    this.w2 = new Float64Array(poff);
  }

  /** Whether {@link fit} has run. */
  get fitted(): boolean {
    return this.fittedRows > 0;
  }

  /** Number of features (one-hot plus pair indicators). */
  get numFeatures(): number {
    return this.w1.length + this.w2.length;
  }

  /** Kernel `phi(x) . phi(x')` of rows `j` and `l` of flat tokens. */
  private kernel(tokens: Int32Array, j: number, l: number, m: Float64Array): number {
    const T = this.numTokens;
    if (this.pairMode === 'all') {
      let c = 0;
      for (let t = 0; t < T; t++) if (tokens[j * T + t] === tokens[l * T + t]) c++;
      return c + (c * (c - 1)) / 2;
    }
    m.fill(0);
    for (let t = 0; t < T; t++) if (tokens[j * T + t] === tokens[l * T + t]) m[this.agentOf[t]] += 1;
    let lin = 0;
    let sq = 0;
    for (let a = 0; a < m.length; a++) {
      lin += m[a];
      sq += m[a] * m[a];
    }
    return lin + (lin * lin - sq) / 2;
  }

  /**
   * Fits on `n` rows of flat tokens `[n, T]` and their rewards (replaces the previous fit).
   *
   * @example
   * ```ts
   * critic.fit(tokens, rewards, rewards.length);
   * ```
   */
  fit(tokens: Int32Array, y: ArrayLike<number>, n: number): void {
    const T = this.numTokens;
    if (n < 1 || tokens.length < n * T || y.length < n)
      throw new Error(`RidgeCritic.fit: need ${n} rows of ${T} tokens and ${n} rewards`);
    let mean = 0;
    for (let j = 0; j < n; j++) mean += y[j];
    mean /= n;
    const K = new Float64Array(n * n);
    const m = new Float64Array(this.numAgents);
    for (let j = 0; j < n; j++) {
      for (let l = 0; l <= j; l++) {
        const k = this.kernel(tokens, j, l, m);
        K[j * n + l] = k;
        K[l * n + j] = k;
      }
      K[j * n + j] += this.lambda;
    }
    const alpha = new Float64Array(n);
    for (let j = 0; j < n; j++) alpha[j] = y[j] - mean;
    choleskySolveInPlace(K, alpha, n);
    this.intercept = mean;
    this.w1.fill(0);
    this.w2.fill(0);
    for (let j = 0; j < n; j++) {
      const a = alpha[j];
      const row = j * T;
      for (let t = 0; t < T; t++) this.w1[this.tokenOffset[t] + tokens[row + t]] += a;
      for (let p = 0; p < this.pairs.length; p++) {
        const [t, s] = this.pairs[p];
        this.w2[this.pairOffset[p] + tokens[row + t] * this.vocab[s] + tokens[row + s]] += a;
      }
    }
    this.fittedRows = n;
    const pred = this.predict(tokens, n);
    let se = 0;
    for (let j = 0; j < n; j++) se += (pred[j] - y[j]) ** 2;
    this.trainMse = se / n;
  }

  /** `Q` of `n` rows of flat tokens (NaN before the first fit). */
  predict(tokens: Int32Array, n: number): Float64Array {
    const T = this.numTokens;
    const out = new Float64Array(n);
    for (let b = 0; b < n; b++) {
      const row = b * T;
      let q = this.intercept;
      for (let t = 0; t < T; t++) q += this.w1[this.tokenOffset[t] + tokens[row + t]];
      for (let p = 0; p < this.pairs.length; p++) {
        const [t, s] = this.pairs[p];
        q += this.w2[this.pairOffset[p] + tokens[row + t] * this.vocab[s] + tokens[row + s]];
      }
      out[b] = q;
    }
    return out;
  }

  /**
   * `E_{a_g ~ p} Q(a_g, a_-g)` for every row: the tokens in `members` are replaced by independent
   * draws from `probs(t)` (a distribution over token t's vocabulary), the others kept. Exact (the
   * model is multilinear in the token indicators).
   *
   * @example
   * ```ts
   * const baseline = critic.expectation(tokens, n, [0, 1], (t) => probsOfToken[t]);
   * ```
   */
  expectation(tokens: Int32Array, n: number, members: number[], probs: (t: number) => ArrayLike<number>): Float64Array {
    const T = this.numTokens;
    const inG = new Uint8Array(T);
    for (const t of members) inG[t] = 1;
    const P = members.map(probs);
    const pOf: (ArrayLike<number> | null)[] = new Array(T).fill(null);
    members.forEach((t, k) => (pOf[t] = P[k]));
    // Row-independent part: the group's own one-hot and within-group pair terms.
    let constant = this.intercept;
    for (const t of members) {
      const p = pOf[t]!;
      for (let v = 0; v < this.vocab[t]; v++) constant += p[v] * this.w1[this.tokenOffset[t] + v];
    }
    const mixed: number[] = [];
    const outside: number[] = [];
    this.pairs.forEach(([t, s], q) => {
      if (inG[t] && inG[s]) {
        const pt = pOf[t]!;
        const ps = pOf[s]!;
        const Vs = this.vocab[s];
        for (let v = 0; v < this.vocab[t]; v++)
          for (let w = 0; w < Vs; w++) constant += pt[v] * ps[w] * this.w2[this.pairOffset[q] + v * Vs + w];
      } else if (inG[t] || inG[s]) mixed.push(q);
      else outside.push(q);
    });
    const out = new Float64Array(n).fill(constant);
    for (let b = 0; b < n; b++) {
      const row = b * T;
      let q = 0;
      for (let t = 0; t < T; t++) if (!inG[t]) q += this.w1[this.tokenOffset[t] + tokens[row + t]];
      for (const k of outside) {
        const [t, s] = this.pairs[k];
        q += this.w2[this.pairOffset[k] + tokens[row + t] * this.vocab[s] + tokens[row + s]];
      }
      for (const k of mixed) {
        const [t, s] = this.pairs[k];
        const Vs = this.vocab[s];
        const base = this.pairOffset[k];
        if (inG[t]) {
          const pt = pOf[t]!;
          const xs = tokens[row + s];
          for (let v = 0; v < this.vocab[t]; v++) q += pt[v] * this.w2[base + v * Vs + xs];
        } else {
          const ps = pOf[s]!;
          const xt = tokens[row + t];
          for (let w = 0; w < Vs; w++) q += ps[w] * this.w2[base + xt * Vs + w];
        }
      }
      out[b] += q;
    }
    return out;
  }

  /**
   * The terms of `sum_b E_{a_g ~ pi} Q(a_g, a_-g^b)` for the expected-gradient actor, per policy
   * group g (token sets `groups`, disjoint): the linear coefficients `C[t][v] = sum_b (w1_t(v) +
   * sum_{pairs (t, s), s outside t's group} w2_ts(v, a_s^b))` (one array per token), and the pairs
   * with both tokens in one group (their `vocab[t] x vocab[s]` weight blocks, counted once per row,
   * so the caller multiplies them by n). The expectation over a factorised policy is
   * `const + sum_t pi_t . C[t] / n + sum_within pi_t^T W_ts pi_s` per row on average.
   */
  actorTerms(
    tokens: Int32Array,
    n: number,
    groups: number[][],
  ): { linear: Float64Array[]; within: { t: number; s: number; weights: Float64Array }[] } {
    const T = this.numTokens;
    const groupOf = new Int32Array(T).fill(-1);
    groups.forEach((g, gi) => g.forEach((t) => (groupOf[t] = gi)));
    const linear = this.vocab.map((v) => new Float64Array(v));
    for (let t = 0; t < T; t++)
      for (let v = 0; v < this.vocab[t]; v++) linear[t][v] = n * this.w1[this.tokenOffset[t] + v];
    const within: { t: number; s: number; weights: Float64Array }[] = [];
    this.pairs.forEach(([t, s], q) => {
      const Vs = this.vocab[s];
      const base = this.pairOffset[q];
      if (groupOf[t] === groupOf[s]) {
        within.push({ t, s, weights: this.w2.subarray(base, base + this.vocab[t] * Vs) });
        return;
      }
      for (let b = 0; b < n; b++) {
        const xt = tokens[b * T + t];
        const xs = tokens[b * T + s];
        for (let v = 0; v < this.vocab[t]; v++) linear[t][v] += this.w2[base + v * Vs + xs];
        for (let w = 0; w < Vs; w++) linear[s][w] += this.w2[base + xt * Vs + w];
      }
    });
    return { linear, within };
  }
}

/**
 * Solves `A x = b` for symmetric positive-definite `A` (`n x n`, row-major, overwritten by its
 * Cholesky factor); `b` is overwritten by x. Throws when a pivot is not positive.
 *
 * @example
 * ```ts
 * const b = Float64Array.from([1, 2]);
 * choleskySolveInPlace(Float64Array.from([4, 2, 2, 3]), b, 2); // b = [-0.125, 0.75]
 * ```
 */
export function choleskySolveInPlace(A: Float64Array, b: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let d = A[rj + j];
    for (let k = 0; k < j; k++) d -= A[rj + k] * A[rj + k];
    if (!(d > 0)) throw new Error(`choleskySolveInPlace: matrix is not positive definite (pivot ${j}: ${d})`);
    const ljj = Math.sqrt(d);
    A[rj + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = A[ri + j];
      for (let k = 0; k < j; k++) s -= A[ri + k] * A[rj + k];
      A[ri + j] = s / ljj;
    }
  }
  for (let i = 0; i < n; i++) {
    let s = b[i];
    const ri = i * n;
    for (let k = 0; k < i; k++) s -= A[ri + k] * b[k];
    b[i] = s / A[ri + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < n; k++) s -= A[k * n + i] * b[k];
    b[i] = s / A[i * n + i];
  }
}
