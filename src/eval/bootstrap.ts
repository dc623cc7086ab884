import { z, parseConfig } from '../config';
import { Rng } from '../random';
import {
  AggregateFn,
  ScoreMatrix,
  aggregateIqm,
  aggregateMean,
  aggregateMedian,
  checkScoreMatrix,
  checkValues,
  mwProb,
  optimalityGap,
  percentileSorted,
} from './stats';

/** A point estimate with a two-sided confidence interval `[lo, hi]`. */
export interface Interval {
  point: number;
  lo: number;
  hi: number;
}

/** Options shared by every bootstrap estimate. */
export interface BootstrapOptions {
  /** Number of bootstrap resamples (default 2000). */
  reps?: number;
  /** Two-sided confidence level in (0, 1) (default 0.95). */
  confidence?: number;
  /** Seed of the resampling stream (default 0); same seed, same interval. */
  seed?: number;
}

const BootstrapSchema = z
  .object({
    reps: z.number().int().min(10).max(1_000_000).default(2000),
    confidence: z.number().gt(0).lt(1).default(0.95),
    seed: z.number().int().default(0),
  })
  .strict();

type ResolvedOptions = { reps: number; confidence: number; seed: number };

function resolve(opts: BootstrapOptions | undefined, what: string): ResolvedOptions {
  return parseConfig(BootstrapSchema, opts ?? {}, `${what} options`);
}

/** Percentile interval of bootstrap estimates (numpy linear interpolation). */
function percentileInterval(point: number, estimates: Float64Array, confidence: number): Interval {
  const sorted = Float64Array.from(estimates).sort();
  const alpha = (1 - confidence) / 2;
  return { point, lo: percentileSorted(sorted, 100 * alpha), hi: percentileSorted(sorted, 100 * (1 - alpha)) };
}

/** One stratified resample: within each task, runs drawn with replacement. */
function resampleRuns(scores: ScoreMatrix, runs: number, tasks: number, rng: Rng): number[][] {
  const out: number[][] = new Array(runs);
  for (let r = 0; r < runs; r++) out[r] = new Array<number>(tasks);
  for (let t = 0; t < tasks; t++) {
    for (let r = 0; r < runs; r++) out[r][t] = scores[rng.int(runs)][t];
  }
  return out;
}

/**
 * Stratified bootstrap percentile confidence interval of `statistic(scores)`: each replicate
 * resamples runs with replacement independently within each task (rliable `StratifiedBootstrap`).
 *
 * @example
 * ```ts
 * const scores = [[0.8, 0.6], [0.9, 0.5], [0.7, 0.65]]; // 3 runs x 2 tasks
 * const ci = stratifiedBootstrapCI(scores, aggregateIqm, { reps: 2000, seed: 1 });
 * // ci.point === aggregateIqm(scores), ci.lo <= ci.point <= ci.hi
 * ```
 */
export function stratifiedBootstrapCI(scores: ScoreMatrix, statistic: AggregateFn, opts?: BootstrapOptions): Interval {
  const o = resolve(opts, 'stratifiedBootstrapCI');
  const { runs, tasks } = checkScoreMatrix(scores, 'stratifiedBootstrapCI scores');
  const rng = new Rng(o.seed);
  const est = new Float64Array(o.reps);
  for (let b = 0; b < o.reps; b++) est[b] = statistic(resampleRuns(scores, runs, tasks, rng));
  return percentileInterval(statistic(scores), est, o.confidence);
}

/**
 * The four aggregate metrics of Agarwal et al. 2021, by name (optimality gap at gamma = 1).
 *
 * @example
 * ```ts
 * const metrics = { iqm: DEFAULT_AGGREGATES.iqm, mean: DEFAULT_AGGREGATES.mean };
 * aggregateIntervals({ ganno: scores }, metrics);
 * ```
 */
export const DEFAULT_AGGREGATES: Readonly<Record<'mean' | 'median' | 'iqm' | 'optimalityGap', AggregateFn>> = {
  mean: aggregateMean,
  median: aggregateMedian,
  iqm: aggregateIqm,
  optimalityGap: (s) => optimalityGap(s, 1),
};

/**
 * Interval estimates of several aggregate metrics for several algorithms. All metrics of one
 * algorithm share the same bootstrap resamples; each algorithm's stream is forked from `seed` by its
 * name, so adding or reordering algorithms does not change any other algorithm's interval.
 *
 * @param scoresByAlgorithm `{ algorithm: scores[run][task] }` (task columns in the same order for all)
 * @param metrics `{ name: statistic }`; defaults to {@link DEFAULT_AGGREGATES} (mean, median, IQM, optimality gap at gamma = 1)
 * @returns `{ algorithm: { metric: Interval } }`
 *
 * @example
 * ```ts
 * const res = aggregateIntervals({ ganno: [[0.9, 0.8], [0.85, 0.82]], cosine: [[0.8, 0.7], [0.83, 0.75]] });
 * res.ganno.iqm; // { point, lo, hi }
 * ```
 */
export function aggregateIntervals(
  scoresByAlgorithm: Readonly<Record<string, ScoreMatrix>>,
  metrics: Readonly<Record<string, AggregateFn>> = DEFAULT_AGGREGATES,
  opts?: BootstrapOptions,
): Record<string, Record<string, Interval>> {
  const o = resolve(opts, 'aggregateIntervals');
  const names = Object.keys(metrics);
  if (names.length === 0) throw new Error('aggregateIntervals: metrics must name at least one statistic');
  const algs = Object.keys(scoresByAlgorithm);
  if (algs.length === 0) throw new Error('aggregateIntervals: scoresByAlgorithm is empty');
  let nTasks: number | undefined;
  const out: Record<string, Record<string, Interval>> = {};
  for (const alg of algs) {
    const scores = scoresByAlgorithm[alg];
    const { runs, tasks } = checkScoreMatrix(scores, `aggregateIntervals scores of '${alg}'`);
    if (nTasks !== undefined && tasks !== nTasks) {
      throw new Error(
        `aggregateIntervals: '${alg}' has ${tasks} tasks but '${algs[0]}' has ${nTasks}; all algorithms need the same task columns`,
      );
    }
    nTasks = tasks;
    const rng = new Rng(o.seed).fork(`alg:${alg}`);
    const est = names.map(() => new Float64Array(o.reps));
    for (let b = 0; b < o.reps; b++) {
      const m = resampleRuns(scores, runs, tasks, rng);
      for (let k = 0; k < names.length; k++) est[k][b] = metrics[names[k]](m);
    }
    const row: Record<string, Interval> = {};
    names.forEach((name, k) => {
      row[name] = percentileInterval(metrics[name](scores), est[k], o.confidence);
    });
    out[alg] = row;
  }
  return out;
}

function columns(scores: ScoreMatrix, t: number): number[] {
  return scores.map((row) => row[t]);
}

/**
 * Probability of improvement `P(X > Y)` of algorithm X over Y (Agarwal et al. 2021): for each task
 * the Mann-Whitney U statistic of X's runs against Y's runs divided by `n * m` (ties count 1/2),
 * averaged over tasks. The interval comes from a stratified bootstrap that resamples X's and Y's
 * runs independently within each task. X and Y may have different numbers of runs.
 *
 * @example
 * ```ts
 * const p = probabilityOfImprovement([[0.9], [0.8], [0.85]], [[0.7], [0.8], [0.75]], { seed: 3 });
 * // p.point = (1 + 1 + 1 + 1 + 0.5 + 1 + 1 + 1 + 1) / 9 ≈ 0.944
 * ```
 */
export function probabilityOfImprovement(x: ScoreMatrix, y: ScoreMatrix, opts?: BootstrapOptions): Interval {
  const o = resolve(opts, 'probabilityOfImprovement');
  const sx = checkScoreMatrix(x, 'probabilityOfImprovement x');
  const sy = checkScoreMatrix(y, 'probabilityOfImprovement y');
  if (sx.tasks !== sy.tasks) {
    throw new Error(
      `probabilityOfImprovement: x has ${sx.tasks} tasks but y has ${sy.tasks}; shapes [${sx.runs} x ${sx.tasks}] and [${sy.runs} x ${sy.tasks}]`,
    );
  }
  const tasks = sx.tasks;
  const xc = Array.from({ length: tasks }, (_, t) => columns(x, t));
  const yc = Array.from({ length: tasks }, (_, t) => columns(y, t));
  let point = 0;
  for (let t = 0; t < tasks; t++) point += mwProb(xc[t], yc[t]);
  point /= tasks;
  const rng = new Rng(o.seed);
  const est = new Float64Array(o.reps);
  const bx = new Float64Array(sx.runs);
  const by = new Float64Array(sy.runs);
  for (let b = 0; b < o.reps; b++) {
    let s = 0;
    for (let t = 0; t < tasks; t++) {
      for (let i = 0; i < sx.runs; i++) bx[i] = xc[t][rng.int(sx.runs)];
      for (let j = 0; j < sy.runs; j++) by[j] = yc[t][rng.int(sy.runs)];
      s += mwProb(bx, by);
    }
    est[b] = s / tasks;
  }
  return percentileInterval(point, est, o.confidence);
}

/** A performance profile: at each threshold, the fraction of scores above it, with a CI band. */
export interface PerformanceProfile {
  taus: number[];
  point: number[];
  lo: number[];
  hi: number[];
}

/** Options of {@link performanceProfile}. */
export interface ProfileOptions extends BootstrapOptions {
  /**
   * `'run'` (default): fraction of all run-task scores strictly above tau (run-score distribution);
   * `'average'`: fraction of tasks whose mean score over runs is strictly above tau.
   */
  kind?: 'run' | 'average';
}

function profileValues(scores: ScoreMatrix, taus: readonly number[], kind: 'run' | 'average'): number[] {
  const vals: number[] = [];
  if (kind === 'run') {
    for (const row of scores) for (const v of row) vals.push(v);
  } else {
    const runs = scores.length;
    const tasks = scores[0].length;
    for (let t = 0; t < tasks; t++) {
      let s = 0;
      for (let r = 0; r < runs; r++) s += scores[r][t];
      vals.push(s / runs);
    }
  }
  return taus.map((tau) => {
    let c = 0;
    for (const v of vals) if (v > tau) c++;
    return c / vals.length;
  });
}

/**
 * Performance profile (score distribution) of one algorithm at thresholds `taus`, with stratified
 * bootstrap percentile bands (rliable `create_performance_profile`).
 *
 * @example
 * ```ts
 * const prof = performanceProfile([[0.2, 0.9], [0.6, 0.4]], [0, 0.5, 1], { seed: 0 });
 * prof.point; // [1, 0.5, 0]
 * ```
 */
export function performanceProfile(
  scores: ScoreMatrix,
  taus: readonly number[],
  opts?: ProfileOptions,
): PerformanceProfile {
  const { kind = 'run', ...rest } = opts ?? {};
  if (kind !== 'run' && kind !== 'average')
    throw new Error(`performanceProfile: kind must be 'run' or 'average', got '${String(kind)}'`);
  const o = resolve(rest, 'performanceProfile');
  const { runs, tasks } = checkScoreMatrix(scores, 'performanceProfile scores');
  const tauArr = checkValues(taus, 'performanceProfile taus');
  const point = profileValues(scores, tauArr, kind);
  const rng = new Rng(o.seed);
  const est = tauArr.map(() => new Float64Array(o.reps));
  for (let b = 0; b < o.reps; b++) {
    const p = profileValues(resampleRuns(scores, runs, tasks, rng), tauArr, kind);
    for (let k = 0; k < tauArr.length; k++) est[k][b] = p[k];
  }
  const ints = tauArr.map((_, k) => percentileInterval(point[k], est[k], o.confidence));
  return { taus: tauArr, point, lo: ints.map((i) => i.lo), hi: ints.map((i) => i.hi) };
}

/** Aggregate metric with a CI band at each evaluation step. */
export interface SampleEfficiencyCurve {
  steps: number[];
  point: number[];
  lo: number[];
  hi: number[];
}

/** Options of {@link sampleEfficiencyCurve}. */
export interface CurveOptions extends BootstrapOptions {
  /** The aggregate at each step (default {@link aggregateIqm}). */
  statistic?: AggregateFn;
  /** x-axis values, one per step (default 0, 1, 2, ...). */
  steps?: number[];
}

/**
 * Sample-efficiency curve: the aggregate metric (IQM by default) of the scores at each step with a
 * stratified bootstrap CI. Input is `scores[run][task][step]`; a bootstrap replicate resamples whole
 * runs within each task (the same draw for all steps, so the band is of consistent curves).
 *
 * @example
 * ```ts
 * // 3 runs x 1 task x 4 evaluation steps
 * const curve = sampleEfficiencyCurve([[[0.1, 0.4, 0.6, 0.7]], [[0.2, 0.5, 0.6, 0.8]], [[0.1, 0.3, 0.7, 0.9]]], { steps: [0, 1000, 2000, 3000] });
 * curve.point.length; // 4
 * ```
 */
export function sampleEfficiencyCurve(
  scores: ReadonlyArray<ReadonlyArray<ReadonlyArray<number>>>,
  opts?: CurveOptions,
): SampleEfficiencyCurve {
  const { statistic = aggregateIqm, steps, ...rest } = opts ?? {};
  const o = resolve(rest, 'sampleEfficiencyCurve');
  if (
    !Array.isArray(scores) ||
    scores.length === 0 ||
    !Array.isArray(scores[0]) ||
    scores[0].length === 0 ||
    !Array.isArray(scores[0][0])
  ) {
    throw new Error('sampleEfficiencyCurve: scores must be a non-empty [runs x tasks x steps] array');
  }
  const runs = scores.length;
  const tasks = scores[0].length;
  const nSteps = scores[0][0].length;
  if (nSteps === 0) throw new Error('sampleEfficiencyCurve: scores must have at least one step');
  for (let r = 0; r < runs; r++) {
    if (!Array.isArray(scores[r]) || scores[r].length !== tasks) {
      throw new Error(
        `sampleEfficiencyCurve: run ${r} has ${scores[r]?.length} tasks, expected ${tasks} (shape [${runs} x ${tasks} x ${nSteps}])`,
      );
    }
    for (let t = 0; t < tasks; t++) {
      const s = scores[r][t];
      if (!Array.isArray(s) || s.length !== nSteps) {
        throw new Error(
          `sampleEfficiencyCurve: [run ${r}, task ${t}] has ${s?.length} steps, expected ${nSteps} (shape [${runs} x ${tasks} x ${nSteps}])`,
        );
      }
      for (let k = 0; k < nSteps; k++) {
        if (typeof s[k] !== 'number' || !Number.isFinite(s[k])) {
          throw new Error(
            `sampleEfficiencyCurve: value at [run ${r}, task ${t}, step ${k}] must be a finite number, got ${String(s[k])}`,
          );
        }
      }
    }
  }
  const xs = steps ?? Array.from({ length: nSteps }, (_, k) => k);
  if (xs.length !== nSteps)
    throw new Error(`sampleEfficiencyCurve: steps has ${xs.length} entries but scores have ${nSteps} steps`);
  const atStep = (k: number, idx?: Int32Array[]): number[][] => {
    const m: number[][] = new Array(runs);
    for (let r = 0; r < runs; r++) {
      const row = new Array<number>(tasks);
      for (let t = 0; t < tasks; t++) row[t] = scores[idx ? idx[t][r] : r][t][k];
      m[r] = row;
    }
    return m;
  };
  const point = xs.map((_, k) => statistic(atStep(k)));
  const rng = new Rng(o.seed);
  const est = xs.map(() => new Float64Array(o.reps));
  for (let b = 0; b < o.reps; b++) {
    const idx: Int32Array[] = new Array(tasks);
    for (let t = 0; t < tasks; t++) {
      idx[t] = new Int32Array(runs);
      for (let r = 0; r < runs; r++) idx[t][r] = rng.int(runs);
    }
    for (let k = 0; k < nSteps; k++) est[k][b] = statistic(atStep(k, idx));
  }
  const ints = xs.map((_, k) => percentileInterval(point[k], est[k], o.confidence));
  return { steps: [...xs], point, lo: ints.map((i) => i.lo), hi: ints.map((i) => i.hi) };
}

/**
 * Mean of one configuration's values (e.g. final accuracy over seeds) with a bootstrap percentile CI.
 * With a single value the interval collapses to that value.
 *
 * @example
 * ```ts
 * const ci = meanCI([0.81, 0.79, 0.84, 0.8, 0.83], { confidence: 0.95, reps: 2000, seed: 0 });
 * // { point: 0.814, lo: ~0.797, hi: ~0.83 }
 * ```
 */
export function meanCI(values: ArrayLike<number>, opts?: BootstrapOptions): Interval {
  const o = resolve(opts, 'meanCI');
  const xs = checkValues(values, 'meanCI values');
  const n = xs.length;
  let s = 0;
  for (const v of xs) s += v;
  const point = s / n;
  const rng = new Rng(o.seed);
  const est = new Float64Array(o.reps);
  for (let b = 0; b < o.reps; b++) {
    let acc = 0;
    for (let i = 0; i < n; i++) acc += xs[rng.int(n)];
    est[b] = acc / n;
  }
  return percentileInterval(point, est, o.confidence);
}
