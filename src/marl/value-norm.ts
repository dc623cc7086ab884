/**
 * Running normalisation of value targets (the ValueNorm of MAPPO, Yu et al. 2022): the critic
 * predicts returns in standardised units, so PPO needs no hand-set reward scale and the value
 * loss has the same size whatever the reward units.
 */

/** Serialisable state of a {@link ValueNormalizer}. */
export interface ValueNormState {
  mean: number;
  meanSq: number;
  debias: number;
}

/**
 * Debiased exponential running mean and variance of value targets, updated once per batch with
 * the batch's mean and mean of squares: `m ← β m + (1−β) x̄`, `s ← β s + (1−β) mean(x²)`,
 * `d ← β d + (1−β)`; `μ = m / d`, `σ² = max(s / d − μ², minVariance)`. The debiasing term
 * makes the first batch's statistics exact (as Adam's bias correction does).
 *
 * @example
 * ```ts
 * const vn = new ValueNormalizer();
 * vn.update(Float32Array.of(1, 2, 3));
 * vn.normalize(2);   // 0
 * vn.denormalize(1); // 2 + sqrt(2/3)
 * ```
 */
export class ValueNormalizer {
  private m = 0;
  private s = 0;
  private d = 0;

  /**
   * @param beta per-batch decay (MAPPO's 0.99999: close to the average of all batches seen).
   * @param minVariance floor of the variance (keeps a constant-return batch from dividing by 0).
   */
  constructor(
    readonly beta = 0.99999,
    readonly minVariance = 1e-6,
  ) {
    if (!(beta >= 0 && beta < 1)) throw new Error(`ValueNormalizer: beta must be in [0, 1), got ${beta}`);
    if (!(minVariance > 0)) throw new Error(`ValueNormalizer: minVariance must be > 0, got ${minVariance}`);
  }

  /** True once {@link update} has seen data (before, normalize/denormalize are the identity). */
  get ready(): boolean {
    return this.d > 0;
  }

  get mean(): number {
    return this.d > 0 ? this.m / this.d : 0;
  }

  get std(): number {
    if (this.d === 0) return 1;
    return Math.sqrt(Math.max(this.s / this.d - this.mean ** 2, this.minVariance));
  }

  /** Folds in the entries of `x` whose mask is 1 (all when no mask). */
  update(x: ArrayLike<number>, mask?: ArrayLike<number>): void {
    let n = 0;
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < x.length; i++) {
      if (mask && !mask[i]) continue;
      n++;
      sum += x[i];
      sq += x[i] * x[i];
    }
    if (n === 0) return;
    const b = this.beta;
    this.m = b * this.m + (1 - b) * (sum / n);
    this.s = b * this.s + (1 - b) * (sq / n);
    this.d = b * this.d + (1 - b);
  }

  normalize(x: number): number {
    return (x - this.mean) / this.std;
  }

  denormalize(x: number): number {
    return x * this.std + this.mean;
  }

  getState(): ValueNormState {
    return { mean: this.m, meanSq: this.s, debias: this.d };
  }

  setState(s: ValueNormState): void {
    for (const [k, v] of Object.entries(s))
      if (!Number.isFinite(v)) throw new Error(`ValueNormalizer.setState: ${k} must be finite, got ${v}`);
    this.m = s.mean;
    this.s = s.meanSq;
    this.d = s.debias;
  }
}
