/**
 * Small statistics of the MA2ML summaries: interval formatting, the bootstrap CI of a difference of
 * means between two independent sets of seeds, and per-curve measures (evaluations to a threshold,
 * area under a best-so-far curve, fraction of drops in a series).
 */
import type { Interval } from '../../eval';
import { Rng } from '../../random';

// The one interval formatter lives in src/eval (re-exported here for the MA2ML tables).
export { formatInterval } from '../../eval/format';

/**
 * Percentile bootstrap CI of `mean(x) - mean(y)`, resampling `x` and `y` independently (the runs of
 * two methods are independent samples over seeds).
 *
 * @example
 * ```ts
 * differenceCI([0.8, 0.82, 0.79], [0.7, 0.72, 0.71], { seed: 0 }); // point 0.093, CI above 0
 * ```
 */
export function differenceCI(
  x: readonly number[],
  y: readonly number[],
  opts: { reps?: number; seed?: number; confidence?: number } = {},
): Interval {
  for (const [name, v] of [
    ['x', x],
    ['y', y],
  ] as [string, readonly number[]][]) {
    if (!Array.isArray(v) || v.length === 0 || v.some((e) => typeof e !== 'number' || !Number.isFinite(e)))
      throw new Error(`differenceCI: ${name} must be a non-empty array of finite numbers`);
  }
  const reps = opts.reps ?? 2000;
  const conf = opts.confidence ?? 0.95;
  if (!Number.isInteger(reps) || reps < 10) throw new Error(`differenceCI: reps must be an integer >= 10, got ${reps}`);
  if (!(conf > 0 && conf < 1)) throw new Error(`differenceCI: confidence must be in (0, 1), got ${conf}`);
  const mean = (a: readonly number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  const rng = new Rng(opts.seed ?? 0).fork('difference-ci');
  const est = new Float64Array(reps);
  for (let b = 0; b < reps; b++) {
    let sx = 0;
    for (let i = 0; i < x.length; i++) sx += x[rng.int(x.length)];
    let sy = 0;
    for (let i = 0; i < y.length; i++) sy += y[rng.int(y.length)];
    est[b] = sx / x.length - sy / y.length;
  }
  est.sort();
  const q = (p: number) => {
    const pos = p * (reps - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, reps - 1);
    return est[lo] + (est[hi] - est[lo]) * (pos - lo);
  };
  const alpha = (1 - conf) / 2;
  return { point: mean(x) - mean(y), lo: q(alpha), hi: q(1 - alpha) };
}

/**
 * The 1-based evaluation at which a best-so-far curve first reaches `threshold` (null: never).
 *
 * @example
 * ```ts
 * evaluationsToThreshold([0.1, 0.5, 0.7], 0.5); // 2
 * ```
 */
export function evaluationsToThreshold(curve: readonly number[], threshold: number): number | null {
  const i = curve.findIndex((v) => v >= threshold);
  return i < 0 ? null : i + 1;
}

/**
 * Normalised area under a best-so-far curve: its mean over evaluations (in reward units; higher =
 * reaches good pipelines sooner).
 *
 * @example
 * ```ts
 * areaUnderCurve([0.2, 0.6, 0.6, 1]); // 0.6
 * ```
 */
export function areaUnderCurve(curve: readonly number[]): number {
  if (curve.length === 0) throw new Error('areaUnderCurve: empty curve');
  return curve.reduce((s, v) => s + v, 0) / curve.length;
}

/**
 * Fraction of consecutive steps of `series` where it drops by more than `tolerance`.
 *
 * @example
 * ```ts
 * dropFraction([0.5, 0.6, 0.55, 0.7]); // 1/3
 * ```
 */
export function dropFraction(series: readonly number[], tolerance = 0): number {
  if (series.length < 2) throw new Error(`dropFraction: need at least 2 values, got ${series.length}`);
  let drops = 0;
  for (let i = 1; i < series.length; i++) if (series[i] < series[i - 1] - tolerance) drops++;
  return drops / (series.length - 1);
}
