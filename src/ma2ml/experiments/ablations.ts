/**
 * The MA2ML ablation rows of notebook 22: a comparison of two labels on a per-run metric with the
 * CI of the difference, the sentence saying whether the paper's claim holds here, the reward
 * threshold of the sample-efficiency ablation, and the display rows of the ablation table.
 */
import { meanCI } from '../../eval';
import type { Interval } from '../../eval';
import { selectRuns } from './cells';
import type { SearchRun } from './cells';
import { untestableReason } from './learner-evidence';
import { differenceCI, formatInterval } from './stats';

/** One row of the ablation summary (notebook 22). */
export interface AblationRow {
  ablation: string;
  comparison: string;
  metric: string;
  a: Interval;
  b: Interval;
  difference: Interval;
  claim: string;
}

function perSeed(runs: readonly SearchRun[], label: string, budget: number, f: (r: SearchRun) => number): number[] {
  const sel = selectRuns(runs, label, budget);
  if (sel.length === 0) throw new Error(`ablation: no runs of '${label}' at budget ${budget}`);
  return sel.map(f);
}

/**
 * An ablation row comparing labels `a` and `b` at `budget` on a per-run metric: both means with CIs,
 * the difference `a - b` with its CI ({@link differenceCI}) and the {@link claimSentence}.
 *
 * @example
 * ```ts
 * ablationRow(runs, { ablation: 'credit assignment', a: 'ma2ml', b: 'ma2ml-no-credit', budget: 6e5, metric: 'best-so-far at 20 evaluations', value: (r) => r.result.best.reward });
 * ```
 */
export function ablationRow(
  runs: readonly SearchRun[],
  args: {
    ablation: string;
    a: string;
    b: string;
    budget: number;
    metric: string;
    value: (r: SearchRun) => number;
    higherIsBetter?: boolean;
    reps?: number;
    seed?: number;
    digits?: number;
    /** Learner evidence guard: check that both learners moved and, with `critic`, that this label's critic beats a constant on fresh pipelines ({@link untestableReason}). */
    guard?: { critic?: string };
  },
): AblationRow {
  const bs = { reps: args.reps ?? 2000, seed: args.seed ?? 0 };
  const xa = perSeed(runs, args.a, args.budget, args.value);
  const xb = perSeed(runs, args.b, args.budget, args.value);
  const difference = differenceCI(xa, xb, bs);
  const reason = args.guard
    ? untestableReason(runs, { a: args.a, b: args.b, budget: args.budget, critic: args.guard.critic })
    : null;
  const d = args.digits ?? 3;
  const sentence = claimSentence({
    a: args.a,
    b: args.b,
    metric: args.metric,
    diff: difference,
    higherIsBetter: args.higherIsBetter,
    digits: args.digits,
  });
  return {
    ablation: args.ablation,
    comparison: `${args.a} vs ${args.b}`,
    metric: args.metric,
    a: meanCI(xa, bs),
    b: meanCI(xb, bs),
    difference,
    claim: reason
      ? `untestable at this budget: ${reason} (difference ${difference.point.toFixed(d)} [${difference.lo.toFixed(d)}, ${difference.hi.toFixed(d)}])`
      : sentence,
  };
}

/**
 * The reward threshold of the sample-efficiency ablation: the median over the given runs of their
 * final best reward (so about half the runs reach it).
 *
 * @example
 * ```ts
 * const thr = medianFinalBest([...selectRuns(runs, 'ma2ml', b), ...selectRuns(runs, 'ma2ml-lite', b)]);
 * ```
 */
export function medianFinalBest(runs: readonly SearchRun[]): number {
  if (runs.length === 0) throw new Error('medianFinalBest: no runs');
  const v = runs.map((r) => r.result.best.reward).sort((a, b) => a - b);
  const n = v.length;
  return n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/**
 * The sentence of an ablation row, from the CI of the difference `a - b` of a metric:
 * - lower end above 0 (`higherIsBetter`; upper end below 0 otherwise): `holds here: ...`;
 * - the CI on the wrong side of 0: `contradicted here: ...`;
 * - the CI includes 0: `not shown here: the 95% CI of the difference [lo, hi] includes 0`.
 *
 * @example
 * ```ts
 * claimSentence({ a: 'ma2ml', b: 'ma2ml-no-credit', metric: 'best-so-far at 20 evaluations', diff: { point: 0.03, lo: 0.01, hi: 0.05 } });
 * // 'holds here: ma2ml best-so-far at 20 evaluations exceeds ma2ml-no-credit by 0.030 [0.010, 0.050]'
 * ```
 */
export function claimSentence(args: {
  a: string;
  b: string;
  metric: string;
  diff: Interval;
  higherIsBetter?: boolean;
  digits?: number;
}): string {
  const { a, b, metric, diff } = args;
  const hib = args.higherIsBetter ?? true;
  const d = args.digits ?? 3;
  for (const k of ['point', 'lo', 'hi'] as const)
    if (!Number.isFinite(diff[k])) throw new Error(`claimSentence: diff.${k} must be finite, got ${diff[k]}`);
  if (diff.lo > diff.hi) throw new Error(`claimSentence: diff.lo ${diff.lo} exceeds diff.hi ${diff.hi}`);
  const ci = `${diff.point.toFixed(d)} [${diff.lo.toFixed(d)}, ${diff.hi.toFixed(d)}]`;
  const better = hib ? diff.lo > 0 : diff.hi < 0;
  const worse = hib ? diff.hi < 0 : diff.lo > 0;
  if (better) return `holds here: ${a} ${metric} ${hib ? 'exceeds' : 'is below'} ${b} by ${ci}`;
  if (worse) return `contradicted here: ${a} ${metric} ${hib ? 'is below' : 'exceeds'} ${b} (difference ${ci})`;
  return `not shown here: the 95% CI of the difference ${a} - ${b} in ${metric}, ${ci}, includes 0`;
}

/**
 * Display rows (strings) of ablation rows for the summary table, one claim sentence each.
 *
 * @example
 * ```ts
 * showTable(formatAblationRows(rows), { name: 'ma2ml-ablations' });
 * ```
 */
export function formatAblationRows(rows: readonly AblationRow[], digits = 3): Record<string, string>[] {
  return rows.map((r) => ({
    ablation: r.ablation,
    comparison: r.comparison,
    metric: r.metric,
    'A mean [95% CI]': formatInterval(r.a, digits),
    'B mean [95% CI]': formatInterval(r.b, digits),
    'A - B [95% CI]': formatInterval(r.difference, digits),
    "paper's claim here": r.claim,
  }));
}
