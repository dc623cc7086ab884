/**
 * Statistics over seeds for the MARL basics experiments: Wilson intervals for success rates,
 * mean curves with bootstrap bands, and per-method summaries with the probability of improvement
 * over a baseline method.
 */
import { aggregateMean, meanCI, probabilityOfImprovement, sampleEfficiencyCurve } from '../../eval';
import type { Interval } from '../../eval';
import type { MatrixSeedResult } from './matrix';
import type { DilutedSeedResult } from './diluted';

// jstat ships no type declarations; only the normal quantile is used.

const jstat = require('jstat') as { normal: { inv(p: number, mean: number, std: number): number } };

/**
 * Wilson score interval of a binomial proportion (`successes` of `n`); unlike the bootstrap it does
 * not collapse to a point at 0 or n successes.
 *
 * @example
 * ```ts
 * wilsonInterval(0, 10); // { point: 0, lo: 0, hi: 0.2775 }
 * wilsonInterval(5, 10); // { point: 0.5, lo: 0.2366, hi: 0.7634 }
 * ```
 */
export function wilsonInterval(successes: number, n: number, confidence = 0.95): Interval {
  if (!Number.isInteger(n) || n < 1) throw new Error(`wilsonInterval: n must be a positive integer, got ${n}`);
  if (!Number.isInteger(successes) || successes < 0 || successes > n)
    throw new Error(`wilsonInterval: successes must be an integer in [0, n = ${n}], got ${successes}`);
  if (!(confidence > 0 && confidence < 1))
    throw new Error(`wilsonInterval: confidence must be in (0, 1), got ${confidence}`);
  const z = jstat.normal.inv(1 - (1 - confidence) / 2, 0, 1);
  const p = successes / n;
  const z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / n + z2n / (4 * n));
  return {
    point: p,
    lo: successes === 0 ? 0 : Math.max(0, centre - half),
    hi: successes === n ? 1 : Math.min(1, centre + half),
  };
}

/** A mean curve over seeds with a bootstrap band, in the shape `lineFigure` series take. */
export interface MeanCurve {
  x: number[];
  y: number[];
  lower: number[];
  upper: number[];
}

/**
 * Mean over seeds of equal-length curves with a percentile-bootstrap band (whole seeds resampled,
 * so the band is of consistent curves); `every` keeps every k-th point (and the last).
 *
 * @example
 * ```ts
 * const c = meanCurve([[0, 1, 2], [0, 2, 4]], { x: [0, 8, 16] });
 * c.y; // [0, 1.5, 3]
 * ```
 */
export function meanCurve(
  curves: readonly (readonly number[])[],
  opts: { x?: readonly number[]; every?: number; seed?: number; reps?: number; confidence?: number } = {},
): MeanCurve {
  if (!Array.isArray(curves) || curves.length === 0)
    throw new Error('meanCurve: curves must be a non-empty array of per-seed curves');
  const len = curves[0].length;
  curves.forEach((c, i) => {
    if (!Array.isArray(c) || c.length !== len)
      throw new Error(
        `meanCurve: curve ${i} has ${Array.isArray(c) ? c.length : typeof c} points, expected ${len} (the length of curve 0)`,
      );
  });
  const every = opts.every ?? 1;
  if (!Number.isInteger(every) || every < 1)
    throw new Error(`meanCurve: every must be a positive integer, got ${every}`);
  const xs = opts.x ?? Array.from({ length: len }, (_, k) => k);
  if (xs.length !== len) throw new Error(`meanCurve: x has ${xs.length} values, expected ${len} (the curve length)`);
  const keep = Array.from({ length: len }, (_, k) => k).filter((k) => k % every === 0 || k === len - 1);
  const scores = curves.map((c) => [keep.map((k) => c[k])]);
  const band = sampleEfficiencyCurve(scores, {
    statistic: aggregateMean,
    steps: keep.map((k) => xs[k]),
    seed: opts.seed ?? 0,
    reps: opts.reps ?? 1000,
    confidence: opts.confidence ?? 0.95,
  });
  return { x: band.steps, y: band.point, lower: band.lo, upper: band.hi };
}

/** Per-method summary of matrix-game runs (see {@link summarizeMatrixRuns}). */
export interface MatrixMethodSummary {
  method: string;
  seeds: number;
  successes: number;
  /** Rate of seeds whose greedy joint action after training is optimal, with a Wilson interval. */
  successRate: Interval;
  /** Mean final expected team reward with a bootstrap interval. */
  finalReward: Interval;
  /** P(a seed of this method succeeds where a baseline seed does not; ties 1/2) = 0.5 + (rate - baseline rate) / 2, bootstrap CI (null for the baseline). */
  successImprovement: Interval | null;
  /** 'better' / 'worse' when `successImprovement` excludes 0.5, else 'no clear difference' (null for the baseline). */
  successVerdict: Verdict | null;
  /** P(this method's final expected team reward > the baseline's; ties 1/2), bootstrap CI (null for the baseline). */
  rewardImprovement: Interval | null;
  /** Verdict of `rewardImprovement`. */
  rewardVerdict: Verdict | null;
}

/** Outcome of a comparison with a baseline: decided only when the probability-of-improvement CI excludes 0.5. */
export type Verdict = 'better' | 'worse' | 'no clear difference';

function verdictOf(p: Interval): Verdict {
  if (p.lo > 0.5) return 'better';
  if (p.hi < 0.5) return 'worse';
  return 'no clear difference';
}

function checkGroups<T>(
  runsByMethod: Readonly<Record<string, readonly T[]>>,
  baseline: string,
  what: string,
): string[] {
  const methods = Object.keys(runsByMethod ?? {});
  if (methods.length === 0) throw new Error(`${what}: runsByMethod is empty`);
  if (!methods.includes(baseline))
    throw new Error(`${what}: baseline '${baseline}' is not one of the methods (${methods.join(', ')})`);
  for (const m of methods)
    if (!Array.isArray(runsByMethod[m]) || runsByMethod[m].length === 0)
      throw new Error(`${what}: method '${m}' has no runs`);
  return methods;
}

/**
 * Success rates (Wilson CI), final expected team reward (bootstrap CI) and the probability of
 * improvement over `baseline` on both (success indicator, final expected team reward) for each method.
 *
 * @example
 * ```ts
 * const rows = summarizeMatrixRuns({ independent: ilRuns, counterfactual: cfRuns }, 'independent');
 * rows[1].successVerdict; // 'no clear difference'
 * ```
 */
export function summarizeMatrixRuns(
  runsByMethod: Readonly<Record<string, readonly MatrixSeedResult[]>>,
  baseline: string,
  opts: { seed?: number; confidence?: number } = {},
): MatrixMethodSummary[] {
  const methods = checkGroups(runsByMethod, baseline, 'summarizeMatrixRuns');
  const confidence = opts.confidence ?? 0.95;
  const seed = opts.seed ?? 0;
  const finals = (m: string) => runsByMethod[m].map((r) => [r.expectedReward[r.expectedReward.length - 1]]);
  const hits = (m: string) => runsByMethod[m].map((r) => [r.optimal ? 1 : 0]);
  return methods.map((m, i) => {
    const runs = runsByMethod[m];
    const successes = runs.filter((r) => r.optimal).length;
    const isBase = m === baseline;
    const successImprovement = isBase
      ? null
      : probabilityOfImprovement(hits(m), hits(baseline), { seed: seed + 200 + i, confidence });
    const rewardImprovement = isBase
      ? null
      : probabilityOfImprovement(finals(m), finals(baseline), { seed: seed + 100 + i, confidence });
    return {
      method: m,
      seeds: runs.length,
      successes,
      successRate: wilsonInterval(successes, runs.length, confidence),
      finalReward: meanCI(
        finals(m).map((v) => v[0]),
        { seed: seed + i, confidence },
      ),
      successImprovement,
      successVerdict: successImprovement ? verdictOf(successImprovement) : null,
      rewardImprovement,
      rewardVerdict: rewardImprovement ? verdictOf(rewardImprovement) : null,
    };
  });
}

/** Per-method summary of diluted-game runs (see {@link summarizeDilutedRuns}). */
export interface DilutedMethodSummary {
  method: string;
  seeds: number;
  /** Seeds that reached the threshold within the budget. */
  reached: number;
  /** Mean episodes to threshold with a bootstrap CI; seeds that never reached it count as the budget (a lower bound). */
  episodesToThreshold: Interval;
  /** Mean final expected team reward with a bootstrap CI. */
  finalReward: Interval;
  /** P(this method needs fewer episodes than the baseline) with a bootstrap CI (null for the baseline). */
  improvement: Interval | null;
  /** Verdict of `improvement`. */
  verdict: Verdict | null;
}

/**
 * Episodes to threshold (mean, bootstrap CI; unreached seeds counted at the budget), final expected
 * team reward, and P(fewer episodes than `baseline`) for each method of the diluted game.
 *
 * @example
 * ```ts
 * const rows = summarizeDilutedRuns({ shared: sharedRuns, difference: diffRuns }, 'shared', 1600);
 * rows[1].episodesToThreshold.point; // about 300
 * ```
 */
export function summarizeDilutedRuns(
  runsByMethod: Readonly<Record<string, readonly DilutedSeedResult[]>>,
  baseline: string,
  budgetEpisodes: number,
  opts: { seed?: number; confidence?: number } = {},
): DilutedMethodSummary[] {
  const methods = checkGroups(runsByMethod, baseline, 'summarizeDilutedRuns');
  if (!Number.isFinite(budgetEpisodes) || budgetEpisodes <= 0)
    throw new Error(`summarizeDilutedRuns: budgetEpisodes must be a positive number, got ${budgetEpisodes}`);
  const confidence = opts.confidence ?? 0.95;
  const eps = (m: string) => runsByMethod[m].map((r) => r.episodesToThreshold ?? budgetEpisodes);
  const base = eps(baseline).map((v) => [-v]);
  return methods.map((m, i) => {
    const runs = runsByMethod[m];
    const improvement =
      m === baseline
        ? null
        : probabilityOfImprovement(
            eps(m).map((v) => [-v]),
            base,
            { seed: (opts.seed ?? 0) + 100 + i, confidence },
          );
    return {
      method: m,
      seeds: runs.length,
      reached: runs.filter((r) => r.episodesToThreshold !== null).length,
      episodesToThreshold: meanCI(eps(m), { seed: (opts.seed ?? 0) + i, confidence }),
      finalReward: meanCI(
        runs.map((r) => r.expectedReward[r.expectedReward.length - 1]),
        { seed: (opts.seed ?? 0) + 50 + i, confidence },
      ),
      improvement,
      verdict: improvement ? verdictOf(improvement) : null,
    };
  });
}
