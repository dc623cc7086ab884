/**
 * Point estimates used by the evaluation protocol (Agarwal et al. 2021, "Deep RL at the Edge of the
 * Statistical Precipice"; the `rliable` library). Scores for one algorithm form a matrix
 * `scores[run][task]` (runs x tasks), usually normalised so that 1 is "good".
 */

/** Scores of one algorithm: `scores[run][task]`, every row the same length. */
export type ScoreMatrix = ReadonlyArray<ReadonlyArray<number>>;

/** A statistic of a score matrix (for example {@link aggregateIqm}). */
export type AggregateFn = (scores: ScoreMatrix) => number;

/**
 * Checks that `scores` is a non-empty rectangular matrix of finite numbers and returns its shape.
 * Throws an Error naming `what` and the offending position otherwise.
 *
 * @example
 * ```ts
 * const { runs, tasks } = checkScoreMatrix([[0.1, 0.2], [0.3, 0.4]], 'scores'); // { runs: 2, tasks: 2 }
 * ```
 */
export function checkScoreMatrix(scores: unknown, what = 'scores'): { runs: number; tasks: number } {
  if (!Array.isArray(scores) || scores.length === 0) {
    throw new Error(`${what}: expected a non-empty [runs x tasks] matrix (array of arrays), got ${describe(scores)}`);
  }
  const first = scores[0];
  if (!Array.isArray(first) || first.length === 0) {
    throw new Error(`${what}: row 0 must be a non-empty array of task scores, got ${describe(first)}`);
  }
  const tasks = first.length;
  for (let r = 0; r < scores.length; r++) {
    const row = scores[r];
    if (!Array.isArray(row)) throw new Error(`${what}: row ${r} is not an array (${describe(row)})`);
    if (row.length !== tasks) {
      throw new Error(
        `${what}: ragged matrix, row ${r} has ${row.length} tasks but row 0 has ${tasks} (expected shape [${scores.length} x ${tasks}])`,
      );
    }
    for (let t = 0; t < tasks; t++) {
      const v = row[t];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new Error(`${what}: value at [run ${r}, task ${t}] must be a finite number, got ${String(v)}`);
      }
    }
  }
  return { runs: scores.length, tasks };
}

/**
 * Checks that `values` is a non-empty array of finite numbers.
 *
 * @example
 * ```ts
 * checkValues([1, 2, 3], 'accuracies'); // ok; checkValues([], 'x') throws "x: expected a non-empty array ..."
 * ```
 */
export function checkValues(values: unknown, what = 'values'): number[] {
  if (!Array.isArray(values) && !ArrayBuffer.isView(values)) {
    throw new Error(`${what}: expected a non-empty array of finite numbers, got ${describe(values)}`);
  }
  const arr = Array.from(values as ArrayLike<number>);
  if (arr.length === 0) throw new Error(`${what}: expected a non-empty array of finite numbers, got an empty array`);
  for (let i = 0; i < arr.length; i++) {
    if (typeof arr[i] !== 'number' || !Number.isFinite(arr[i])) {
      throw new Error(`${what}: element ${i} must be a finite number, got ${String(arr[i])}`);
    }
  }
  return arr;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  return typeof v;
}

/** Arithmetic mean of a non-empty list (no validation; internal). */
function meanOf(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s / values.length;
}

/**
 * Percentile `q` (0..100) with linear interpolation between order statistics — the default method
 * of `numpy.percentile` (Hyndman & Fan type 7).
 *
 * @example
 * ```ts
 * percentile([1, 2, 3, 4], 50); // 2.5
 * percentile([1, 2, 3, 4], 25); // 1.75
 * ```
 */
export function percentile(values: ArrayLike<number>, q: number): number {
  const arr = Float64Array.from(checkValues(values, 'percentile values'));
  if (!(q >= 0 && q <= 100)) throw new Error(`percentile: q must be in [0, 100], got ${q}`);
  return percentileSorted(arr.sort(), q);
}

/** {@link percentile} of an already ascending-sorted array (no validation; internal). */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  const pos = (q / 100) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const frac = pos - lo;
  // numpy's _lerp: a + (b - a) * t, switched to b - (b - a) * (1 - t) for t >= 0.5
  const a = sorted[lo];
  const b = sorted[hi];
  const diff = b - a;
  return frac >= 0.5 ? b - diff * (1 - frac) : a + diff * frac;
}

/**
 * Median (mean of the two middle values for an even count), as `numpy.median`.
 *
 * @example
 * ```ts
 * median([3, 1, 2, 10]); // 2.5
 * ```
 */
export function median(values: ArrayLike<number>): number {
  const arr = Float64Array.from(checkValues(values, 'median values')).sort();
  const n = arr.length;
  return n % 2 === 1 ? arr[(n - 1) / 2] : (arr[n / 2 - 1] + arr[n / 2]) / 2;
}

/**
 * Trimmed mean exactly as `scipy.stats.trim_mean(values, proportion)`: sorts, removes
 * `floor(proportion * n)` values from each end and averages the rest.
 *
 * @example
 * ```ts
 * trimMean([1, 2, 3, 4, 100, 200, 300, 400], 0.25); // mean of [3, 4, 100, 200] = 76.75
 * ```
 */
export function trimMean(values: ArrayLike<number>, proportion: number): number {
  if (!(proportion >= 0 && proportion < 0.5))
    throw new Error(`trimMean: proportion must be in [0, 0.5), got ${proportion}`);
  const arr = Float64Array.from(checkValues(values, 'trimMean values')).sort();
  return trimMeanSorted(arr, proportion);
}

function trimMeanSorted(sorted: ArrayLike<number>, proportion: number): number {
  const n = sorted.length;
  const cut = Math.floor(proportion * n);
  let s = 0;
  for (let i = cut; i < n - cut; i++) s += sorted[i];
  return s / (n - 2 * cut);
}

/** Flattens a score matrix row by row (runs major) into a Float64Array (numeric `sort()` without a comparator). */
function flatten(scores: ScoreMatrix, tasks: number): Float64Array {
  const out = new Float64Array(scores.length * tasks);
  let k = 0;
  for (const row of scores) for (let t = 0; t < tasks; t++) out[k++] = row[t];
  return out;
}

/**
 * Mean score of each task over runs (length = tasks).
 *
 * @example
 * ```ts
 * taskMeans([[0.2, 0.8], [0.4, 1.0]]); // [0.3, 0.9]
 * ```
 */
export function taskMeans(scores: ScoreMatrix): number[] {
  const { runs, tasks } = checkScoreMatrix(scores);
  const m = new Array<number>(tasks).fill(0);
  for (let r = 0; r < runs; r++) for (let t = 0; t < tasks; t++) m[t] += scores[r][t];
  for (let t = 0; t < tasks; t++) m[t] /= runs;
  return m;
}

/**
 * Mean of the per-task mean scores (rliable `aggregate_mean`).
 *
 * @example
 * ```ts
 * aggregateMean([[0.2, 0.8], [0.4, 1.0]]); // mean of [0.3, 0.9] = 0.6
 * ```
 */
export function aggregateMean(scores: ScoreMatrix): number {
  return meanOf(taskMeans(scores));
}

/**
 * Median of the per-task mean scores (rliable `aggregate_median`; with one task it is that task's
 * mean over runs, not the median over runs).
 *
 * @example
 * ```ts
 * aggregateMedian([[0.1, 0.5, 0.9], [0.3, 0.7, 0.9]]); // median of [0.2, 0.6, 0.9] = 0.6
 * ```
 */
export function aggregateMedian(scores: ScoreMatrix): number {
  return median(taskMeans(scores));
}

/**
 * Interquartile mean: the mean of the middle 50% of all run-task scores pooled together
 * (`scipy.stats.trim_mean(scores, 0.25, axis=None)`, rliable `aggregate_iqm`).
 *
 * @example
 * ```ts
 * aggregateIqm([[1, 2], [3, 4], [5, 6], [7, 8]]); // mean of [3, 4, 5, 6] = 4.5
 * ```
 */
export function aggregateIqm(scores: ScoreMatrix): number {
  const { tasks } = checkScoreMatrix(scores);
  return trimMeanSorted(flatten(scores, tasks).sort(), 0.25);
}

/**
 * Optimality gap: the mean over all run-task scores of `max(gamma - x, 0)` (how far below the
 * target `gamma` the algorithm falls; lower is better). rliable `aggregate_optimality_gap`.
 *
 * @example
 * ```ts
 * optimalityGap([[0.5, 1.2], [0.9, 0.7]], 1); // (0.5 + 0 + 0.1 + 0.3) / 4 = 0.225
 * ```
 */
export function optimalityGap(scores: ScoreMatrix, gamma = 1): number {
  if (!Number.isFinite(gamma)) throw new Error(`optimalityGap: gamma must be a finite number, got ${gamma}`);
  checkScoreMatrix(scores);
  let s = 0;
  let n = 0;
  for (const row of scores) {
    for (const v of row) {
      s += Math.max(gamma - v, 0);
      n++;
    }
  }
  return s / n;
}

/**
 * Mann-Whitney probability that a draw from `x` beats a draw from `y`: the U statistic of `x`
 * divided by `n * m`, counting ties as 1/2 (`scipy.stats.mannwhitneyu(x, y).statistic / (n*m)`).
 *
 * @example
 * ```ts
 * mannWhitneyProbability([3, 4], [1, 3]); // (1 + 0.5 + 1 + 1) / 4 = 0.875
 * ```
 */
export function mannWhitneyProbability(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const xs = checkValues(x, 'mannWhitneyProbability x');
  const ys = checkValues(y, 'mannWhitneyProbability y');
  return mwProb(xs, ys);
}

/** Unchecked U/(n*m); O((n+m) log(n+m)) via sorting. */
export function mwProb(xs: ArrayLike<number>, ys: ArrayLike<number>): number {
  const n = xs.length;
  const m = ys.length;
  if (n * m <= 256) {
    let u = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) u += xs[i] > ys[j] ? 1 : xs[i] === ys[j] ? 0.5 : 0;
    }
    return u / (n * m);
  }
  // rank-sum formula with mid-ranks for ties
  const all: { v: number; fromX: boolean }[] = [];
  for (let i = 0; i < n; i++) all.push({ v: xs[i], fromX: true });
  for (let j = 0; j < m; j++) all.push({ v: ys[j], fromX: false });
  all.sort((a, b) => a.v - b.v);
  let rankSumX = 0;
  for (let i = 0; i < all.length;) {
    let k = i;
    while (k + 1 < all.length && all[k + 1].v === all[i].v) k++;
    const midRank = (i + k) / 2 + 1;
    for (let q = i; q <= k; q++) if (all[q].fromX) rankSumX += midRank;
    i = k + 1;
  }
  return (rankSumX - (n * (n + 1)) / 2) / (n * m);
}
