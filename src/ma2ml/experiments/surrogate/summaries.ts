/**
 * Summaries of the surrogate searches (notebook 23): exact normalised-regret curves with two-level
 * (tasks, then seeds) bootstrap CIs, per-budget tables with the probability of improvement, the
 * paper's claims as rows with a verdict, the monotonic-improvement measure, and diagnostics CSVs.
 */
import { hierarchicalMeanCI, pairedDifferenceCI, probabilityOfImprovement } from '../../../eval';
import type { Interval, SampleEfficiencyCurve } from '../../../eval';
import { writeCsv } from '../../../io';

export { writeCsv };
import { CRITIC_EV_LAST_UPDATES, MIN_CRITIC_HELD_OUT_EV, NOT_MOVED_ENTROPY } from '../learner-evidence';
import { parseSurrogatePlan } from './plan';
import type { SurrogatePlan } from './plan';
import { moduleLabel } from './search';
import type { SurrogateRun, SurrogateSearchResult } from './search';

/** Entropy fraction of uniform above which a learner counts as not having moved (the same rule as notebook 22's). */
export const NOT_MOVED_ENTROPY_FRACTION = NOT_MOVED_ENTROPY;
/** Drop of the exact expected value that counts as a decrease (float32 table rounding is below it). */
export const MONOTONIC_TOLERANCE = 1e-6;

/**
 * Best-so-far noiseless value after each evaluation: `max(values[0..k])` (the best configuration
 * evaluated so far, judged by the exact table).
 *
 * @example
 * ```ts
 * bestSoFar([0.2, 0.5, 0.3]); // [0.2, 0.5, 0.5]
 * ```
 */
export function bestSoFar(values: readonly number[]): number[] {
  const out: number[] = [];
  let b = -Infinity;
  for (const v of values) out.push((b = Math.max(b, v)));
  return out;
}

/**
 * Exact regret after each evaluation, `best - bestSoFar` (accuracy units), or normalised by
 * `best - median` (0 at the optimum, 1 at the grid's median configuration).
 *
 * @example
 * ```ts
 * regretCurve(run.result, { normalised: true });
 * ```
 */
export function regretCurve(
  r: Pick<SurrogateSearchResult, 'values' | 'best' | 'median'>,
  opts: { normalised?: boolean } = {},
): number[] {
  const scale = opts.normalised === false ? 1 : r.best - r.median;
  if (!(scale > 0)) throw new Error(`regretCurve: best ${r.best} equals the median: no scale`);
  return bestSoFar(r.values).map((v) => (r.best - v) / scale);
}

/** The run of a label, task and seed that serves budget `budget` (sequential: the run of that budget; others: the longest run). */
function runFor(
  runs: readonly SurrogateRun[],
  label: string,
  task: string,
  seed: number,
  budget: number,
): SurrogateRun | undefined {
  const sel = runs.filter(
    (r) => r.cell.label === label && r.cell.task === task && r.cell.seed === seed && r.cell.evaluations >= budget,
  );
  const exact = sel.find((r) => r.cell.evaluations === budget);
  if (label === 'sequential') return exact;
  return exact ?? sel.sort((a, b) => b.cell.evaluations - a.cell.evaluations)[0];
}

/**
 * `scores[seed][task]` of a per-run metric at a budget, in the plan's seed and task order (a missing
 * run throws naming it).
 *
 * @example
 * ```ts
 * scoreMatrix(runs, plan, 'ma2ml', 200, (r, b) => regretCurve(r)[b - 1]);
 * ```
 */
export function scoreMatrix(
  runs: readonly SurrogateRun[],
  plan: SurrogatePlan,
  label: string,
  budget: number,
  metric: (r: SurrogateSearchResult, budget: number, run: SurrogateRun) => number,
): number[][] {
  const p = parseSurrogatePlan(plan);
  return p.seeds.map((seed) =>
    p.tasks.map((task) => {
      const run = runFor(runs, label, task, seed, budget);
      if (!run)
        throw new Error(
          `scoreMatrix: no run of '${label}' on task ${task}, seed ${seed} with >= ${budget} evaluations`,
        );
      return metric(run.result, budget, run);
    }),
  );
}

/** Normalised regret at a budget (metric of {@link scoreMatrix}). */
export const normalisedRegretAt = (r: SurrogateSearchResult, budget: number): number => regretCurve(r)[budget - 1];
/** Regret in accuracy units at a budget. */
export const regretAt = (r: SurrogateSearchResult, budget: number): number =>
  regretCurve(r, { normalised: false })[budget - 1];

/** Learner updates whose evaluations fit in `budget`. */
function diagnosticsWithin(r: SurrogateSearchResult, budget: number): SurrogateSearchResult['diagnostics'] {
  return r.diagnostics.filter(
    (d) => Number(d.evaluations) <= budget || (d.phase !== undefined && r.evaluations <= budget),
  );
}

/**
 * Lowest mean (over agents) entropy fraction of the policy over the updates within `budget` (1 when
 * no update happened; NaN for methods without a learner).
 *
 * @example
 * ```ts
 * minEntropyFraction(run.result, 36) > 0.95; // the learner did not move in 36 evaluations
 * ```
 */
export function minEntropyFraction(r: SurrogateSearchResult, budget: number): number {
  if (r.method === 'random') return NaN;
  const d = diagnosticsWithin(r, budget);
  if (d.length === 0) return 1;
  return Math.min(...d.map((x) => Number(x['entropyFraction.mean'])));
}

/**
 * Fraction of learner updates within `budget` whose exact expected noiseless value decreased (by
 * more than {@link MONOTONIC_TOLERANCE}); NaN without a factorised trace or with no update.
 *
 * @example
 * ```ts
 * monotonicDropFraction(run.result, 200);
 * ```
 */
export function monotonicDropFraction(r: SurrogateSearchResult, budget: number, batchSize: number): number {
  if (!r.expected || r.expected.length < 2) return NaN;
  // sequential: the trace restarts per phase (two initial entries); drops are counted within phases only
  const n =
    r.method === 'sequential' ? r.expected.length : Math.min(r.expected.length, 1 + Math.ceil(budget / batchSize));
  const xs = r.expected.slice(0, n);
  const starts = new Set<number>([0]);
  if (r.method === 'sequential') {
    const e1 = Math.floor(r.evaluations / 2);
    if (e1 > 0) starts.add(1 + Math.ceil(e1 / batchSize));
  }
  let drops = 0;
  let steps = 0;
  for (let i = 1; i < xs.length; i++) {
    if (starts.has(i)) continue;
    steps++;
    if (xs[i] < xs[i - 1] - MONOTONIC_TOLERANCE) drops++;
  }
  return steps > 0 ? drops / steps : NaN;
}

/** Evaluation counts at which curves get CIs: `points` log-spaced in [1, max], plus the budgets. */
export function curveSteps(plan: SurrogatePlan): number[] {
  const p = parseSurrogatePlan(plan);
  const max = p.budgets[p.budgets.length - 1];
  const s = new Set<number>(p.budgets);
  for (let i = 0; i < p.curvePoints; i++)
    s.add(Math.max(1, Math.round(Math.exp((Math.log(max) * i) / (p.curvePoints - 1)))));
  return [...s].filter((x) => x <= max).sort((a, b) => a - b);
}

/**
 * Normalised-regret curve of each label: the mean over tasks and seeds at {@link curveSteps}, with a
 * two-level bootstrap 95% CI (`hierarchicalMeanCI`: tasks drawn, then seeds within each task).
 * `sequential` is read from its run at the largest budget.
 *
 * @example
 * ```ts
 * const curves = regretCurves(runs, plan, surrogateLabels(plan));
 * ```
 */
export function regretCurves(
  runs: readonly SurrogateRun[],
  plan: SurrogatePlan,
  labels: readonly string[],
): Record<string, SampleEfficiencyCurve> {
  const p = parseSurrogatePlan(plan);
  const max = p.budgets[p.budgets.length - 1];
  const steps = curveSteps(p);
  const out: Record<string, SampleEfficiencyCurve> = {};
  for (const label of labels) {
    const curves = p.seeds.map((seed) =>
      p.tasks.map((task) => {
        const run = runFor(runs, label, task, seed, max);
        if (!run) throw new Error(`regretCurves: no run of '${label}' on task ${task}, seed ${seed}`);
        return regretCurve(run.result);
      }),
    );
    const ints = steps.map((k) =>
      hierarchicalMeanCI(
        curves.map((row) => row.map((c) => c[k - 1])),
        p.bootstrap,
      ),
    );
    out[label] = { steps, point: ints.map((i) => i.point), lo: ints.map((i) => i.lo), hi: ints.map((i) => i.hi) };
  }
  return out;
}

/** One row of {@link budgetRows}. */
export interface BudgetRow {
  method: string;
  budget: number;
  runs: number;
  /** Mean normalised regret with its two-level bootstrap CI. */
  normalisedRegret: Interval;
  /** Mean regret in accuracy units with its CI. */
  regret: Interval;
  /** P(reference has lower regret than this method), tasks as strata (null for the reference). */
  pReferenceBetter: Interval | null;
  /** Fraction of runs whose learner moved (min entropy fraction <= 0.95); null without a learner. */
  moved: number | null;
  /** Mean wall seconds of one search (the store's recorded durations: cached runs keep their original time). */
  wallSeconds: number;
}

/**
 * Per budget and label: normalised and raw regret (mean [two-level CI]) and P(reference better).
 *
 * @example
 * ```ts
 * budgetRows(runs, plan, surrogateLabels(plan), 'ma2ml');
 * ```
 */
export function budgetRows(
  runs: readonly SurrogateRun[],
  plan: SurrogatePlan,
  labels: readonly string[],
  reference = 'ma2ml',
): BudgetRow[] {
  const p = parseSurrogatePlan(plan);
  const rows: BudgetRow[] = [];
  for (const b of p.budgets) {
    const ref = labels.includes(reference) ? scoreMatrix(runs, p, reference, b, normalisedRegretAt) : null;
    for (const label of labels) {
      const nr = scoreMatrix(runs, p, label, b, normalisedRegretAt);
      const ef = scoreMatrix(runs, p, label, b, minEntropyFraction).flat();
      const wall = scoreMatrix(runs, p, label, b, (_r, _b, run) => run.seconds).flat();
      rows.push({
        method: label,
        budget: b,
        runs: nr.length * nr[0].length,
        normalisedRegret: hierarchicalMeanCI(nr, p.bootstrap),
        regret: hierarchicalMeanCI(scoreMatrix(runs, p, label, b, regretAt), p.bootstrap),
        pReferenceBetter: ref && label !== reference ? probabilityOfImprovement(neg(ref), neg(nr), p.bootstrap) : null,
        moved: ef.every((x) => Number.isNaN(x))
          ? null
          : ef.filter((x) => x <= NOT_MOVED_ENTROPY_FRACTION).length / ef.length,
        wallSeconds: wall.reduce((s, x) => s + x, 0) / wall.length,
      });
    }
  }
  return rows;
}

const neg = (m: number[][]): number[][] => m.map((r) => r.map((v) => -v));

/** Verdict of a claim row. */
export type ClaimVerdict = 'holds' | 'not shown' | 'contradicted' | 'untestable';

/**
 * Verdict from the CI of the difference `A - B` of a metric: `untestable` when a learner involved did
 * not move (`moved` false) or, for a credit claim, A's critic predicts fresh evaluations no better
 * than a constant (`criticOk` false), else `holds` when the CI lies on A's better side of 0, `contradicted` on
 * the other side, `not shown` when it includes 0.
 *
 * @example
 * ```ts
 * claimVerdict({ diff: { point: -0.1, lo: -0.2, hi: -0.05 }, higherIsBetter: false, moved: true }); // 'holds'
 * ```
 */
export function claimVerdict(args: {
  diff: Interval;
  higherIsBetter: boolean;
  moved: boolean;
  criticOk?: boolean;
}): ClaimVerdict {
  const { diff } = args;
  for (const k of ['point', 'lo', 'hi'] as const)
    if (!Number.isFinite(diff[k])) throw new Error(`claimVerdict: diff.${k} must be finite, got ${diff[k]}`);
  if (!args.moved || args.criticOk === false) return 'untestable';
  const better = args.higherIsBetter ? diff.lo > 0 : diff.hi < 0;
  const worse = args.higherIsBetter ? diff.hi < 0 : diff.lo > 0;
  return better ? 'holds' : worse ? 'contradicted' : 'not shown';
}

/**
 * Whether the learner of a label moved at a budget: in at least half its runs the lowest entropy
 * fraction within the budget is at most {@link NOT_MOVED_ENTROPY_FRACTION} (always true for random search).
 *
 * @example
 * ```ts
 * learnerMoved(runs, plan, 'ma2ml', 36);
 * ```
 */
export function learnerMoved(
  runs: readonly SurrogateRun[],
  plan: SurrogatePlan,
  label: string,
  budget: number,
): boolean {
  const ef = scoreMatrix(runs, plan, label, budget, minEntropyFraction).flat();
  if (ef.every((x) => Number.isNaN(x))) return true;
  return ef.filter((x) => x <= NOT_MOVED_ENTROPY_FRACTION).length >= ef.length / 2;
}

/**
 * Mean over a label's runs of the critic's held-out explained variance over its last 3 updates
 * within `budget` (NaN for labels without a critic).
 *
 * @example
 * ```ts
 * criticHeldOutEv(runs, plan, 'ma2ml', 200) > 0; // the critic predicts fresh pipelines better than a constant
 * ```
 */
export function criticHeldOutEv(
  runs: readonly SurrogateRun[],
  plan: SurrogatePlan,
  label: string,
  budget: number,
): number {
  const per = scoreMatrix(runs, plan, label, budget, (r, b) => {
    const ev = diagnosticsWithin(r, b)
      .slice(-CRITIC_EV_LAST_UPDATES)
      .map((d) => Number(d.criticEvHeldOut))
      .filter(Number.isFinite);
    return ev.length ? ev.reduce((x, y) => x + y, 0) / ev.length : NaN;
  })
    .flat()
    .filter(Number.isFinite);
  return per.length ? per.reduce((x, y) => x + y, 0) / per.length : NaN;
}

/** One claim row. */
export interface ClaimRow {
  claim: string;
  a: string;
  b: string;
  budget: number;
  metric: string;
  aMean: Interval;
  bMean: Interval;
  /** `A - B`, paired by task, two-level bootstrap. */
  difference: Interval;
  /** P(A better than B), tasks as strata. */
  pABetter: Interval;
  /** Credit claims: A's critic held-out explained variance at this budget ({@link criticHeldOutEv}); null otherwise. */
  criticEv: number | null;
  verdict: ClaimVerdict;
}

/** The paper's claims as (claim, A, B, metric) tuples; rows whose labels were not run are skipped. */
export function surrogateClaims(
  plan: SurrogatePlan,
): { claim: string; a: string; b: string; metric: 'regret' | 'drops'; critic?: boolean }[] {
  const p = parseSurrogatePlan(plan);
  const mod = p.moduleOnly;
  const modules = mod ? p.grid.agents.map((a) => moduleLabel(mod.method, a.name)) : [];
  const jointMethod = mod ? mod.method : 'ma2ml';
  return [
    ...modules.map((m) => ({
      claim: 'joint search beats single-module search',
      a: jointMethod,
      b: m,
      metric: 'regret' as const,
    })),
    { claim: 'multi-agent beats one agent over the joint space', a: 'ma2ml', b: 'single-agent', metric: 'regret' },
    { claim: 'credit assignment helps (off-policy)', a: 'ma2ml', b: 'ma2ml-no-credit', metric: 'regret', critic: true },
    {
      claim: 'credit assignment helps (off-policy, replay learner: only the credit differs)',
      a: 'ma2ml-replay',
      b: 'ma2ml-no-credit',
      metric: 'regret',
      critic: true,
    },
    { claim: 'credit assignment helps (on-policy)', a: 'ma2ml-lite', b: 'independent', metric: 'regret', critic: true },
    { claim: 'off-policy beats on-policy', a: 'ma2ml', b: 'ma2ml-lite', metric: 'regret' },
    { claim: 'off-policy beats on-policy (replay learner)', a: 'ma2ml-replay', b: 'ma2ml-lite', metric: 'regret' },
    { claim: 'MA2ML beats random search', a: 'ma2ml', b: 'random', metric: 'regret' },
    { claim: 'the issue-12 learner improves on the replay learner', a: 'ma2ml', b: 'ma2ml-replay', metric: 'regret' },
    { claim: 'monotonic improvement (fewer drops than on-policy)', a: 'ma2ml', b: 'ma2ml-lite', metric: 'drops' },
    {
      claim: 'monotonic improvement (fewer drops than on-policy)',
      a: 'ma2ml-replay',
      b: 'ma2ml-lite',
      metric: 'drops',
    },
  ];
}

/**
 * The claim rows at every budget: A and B means with two-level CIs, the paired difference A - B
 * (lower is better for both metrics: normalised regret, and the fraction of updates where the exact
 * expected value of the policy dropped), P(A better than B) and the verdict ({@link claimVerdict};
 * `untestable` when A's or B's learner did not move within the budget, {@link learnerMoved}).
 *
 * @example
 * ```ts
 * claimRows(runs, plan).filter((r) => r.verdict === 'holds');
 * ```
 */
export function claimRows(runs: readonly SurrogateRun[], plan: SurrogatePlan): ClaimRow[] {
  const p = parseSurrogatePlan(plan);
  const have = new Set(runs.map((r) => r.cell.label));
  const rows: ClaimRow[] = [];
  for (const c of surrogateClaims(p)) {
    if (!have.has(c.a) || !have.has(c.b)) continue;
    for (const b of p.budgets) {
      const metric =
        c.metric === 'regret'
          ? normalisedRegretAt
          : (r: SurrogateSearchResult, budget: number) => monotonicDropFraction(r, budget, p.batchSize);
      const xa = scoreMatrix(runs, p, c.a, b, metric);
      const xb = scoreMatrix(runs, p, c.b, b, metric);
      if (xa.flat().some((v) => !Number.isFinite(v)) || xb.flat().some((v) => !Number.isFinite(v))) continue;
      const difference = pairedDifferenceCI(xa, xb, p.bootstrap);
      const moved = learnerMoved(runs, p, c.a, b) && learnerMoved(runs, p, c.b, b);
      const criticEv = c.critic ? criticHeldOutEv(runs, p, c.a, b) : null;
      rows.push({
        claim: c.claim,
        a: c.a,
        b: c.b,
        budget: b,
        metric:
          c.metric === 'regret' ? 'normalised regret' : 'fraction of updates where the exact expected value dropped',
        aMean: hierarchicalMeanCI(xa, p.bootstrap),
        bMean: hierarchicalMeanCI(xb, p.bootstrap),
        difference,
        pABetter: probabilityOfImprovement(neg(xa), neg(xb), p.bootstrap),
        criticEv,
        verdict: claimVerdict({
          diff: difference,
          higherIsBetter: false,
          moved,
          criticOk: criticEv === null ? undefined : criticEv > MIN_CRITIC_HELD_OUT_EV,
        }),
      });
    }
  }
  return rows;
}

const fmt = (i: Interval, d = 3): string => `${i.point.toFixed(d)} [${i.lo.toFixed(d)}, ${i.hi.toFixed(d)}]`;

/** Display rows of {@link budgetRows}. */
export function formatBudgetRows(rows: readonly BudgetRow[], reference = 'ma2ml'): Record<string, string | number>[] {
  return rows.map((r) => ({
    budget: r.budget,
    method: r.method,
    'runs (tasks x seeds)': r.runs,
    'normalised regret, mean [95% CI]': fmt(r.normalisedRegret),
    'regret (accuracy), mean [95% CI]': fmt(r.regret, 4),
    [`P(${reference} better) [95% CI]`]: r.pReferenceBetter ? fmt(r.pReferenceBetter, 2) : '-',
    'learner moved (fraction of runs)': r.moved === null ? '-' : r.moved.toFixed(2),
    's per search (mean)': r.wallSeconds.toFixed(2),
  }));
}

/** Display rows of {@link claimRows}. */
export function formatClaimRows(rows: readonly ClaimRow[]): Record<string, string | number>[] {
  return rows.map((r) => ({
    claim: r.claim,
    'A vs B': `${r.a} vs ${r.b}`,
    budget: r.budget,
    metric: r.metric,
    'A mean [95% CI]': fmt(r.aMean),
    'B mean [95% CI]': fmt(r.bMean),
    'A - B [95% CI]': fmt(r.difference),
    'P(A better) [95% CI]': fmt(r.pABetter, 2),
    'A critic held-out EV': r.criticEv === null ? '-' : r.criticEv.toFixed(2),
    verdict: r.verdict,
  }));
}

/** Summary per run of the learner diagnostics (one row per label, task and seed, at the largest budget). */
export function diagnosticsSummaryRows(
  runs: readonly SurrogateRun[],
  plan: SurrogatePlan,
): Record<string, string | number>[] {
  const p = parseSurrogatePlan(plan);
  const max = p.budgets[p.budgets.length - 1];
  return runs
    .filter((r) => r.cell.evaluations === max && r.result.diagnostics.length > 0)
    .map((r) => {
      const d = r.result.diagnostics;
      const last = d[d.length - 1];
      const num = (k: string) => d.map((x) => Number(x[k])).filter((v) => Number.isFinite(v));
      const mean = (xs: number[]) => (xs.length ? xs.reduce((s, v) => s + v, 0) / xs.length : NaN);
      return {
        label: r.cell.label,
        task: r.cell.task,
        seed: r.cell.seed,
        updates: d.length,
        minEntropyFraction: minEntropyFraction(r.result, max),
        finalEntropyFraction: Number(last['entropyFraction.mean']),
        finalKlTarget: Number(last['klTarget.mean']),
        meanKlPrevious: mean(num('klPrevious.mean')),
        finalCriticEvHeldOut: Number(last.criticEvHeldOut),
        meanInnerSteps: mean(num('innerSteps')),
        klStoppedFraction: mean(d.map((x) => (x.klStopped === true ? 1 : 0))),
        monotonicDropFraction: monotonicDropFraction(r.result, max, p.batchSize),
        finalNormalisedRegret: normalisedRegretAt(r.result, max),
        wallSeconds: r.seconds,
      };
    });
}

/** Per-update diagnostic rows of the runs selected by `filter` (with label, task, seed columns). */
export function diagnosticsUpdateRows(
  runs: readonly SurrogateRun[],
  filter: (r: SurrogateRun) => boolean,
): Record<string, string | number | boolean>[] {
  return runs.filter(filter).flatMap((r) =>
    r.result.diagnostics.map((d) => ({
      label: r.cell.label,
      task: r.cell.task,
      seed: r.cell.seed,
      evaluationsInSearch: r.cell.evaluations,
      ...d,
    })),
  );
}
