/**
 * The MA2ML monotonic-improvement check of notebook 22: the exact expected synthetic reward after
 * every learner update for each divergence weight, batch-mean rewards of training-evaluator
 * searches, and the per-weight drop summaries with their ablation rows.
 */
import { meanCI } from '../../eval';
import type { Interval } from '../../eval';
import { AGENTS, agentDimensions } from '../pipeline';
import { runSearch, syntheticEvaluator, syntheticExpectedReward } from '../search';
import type { SearchResult } from '../search';
import type { SingleStepConfigInput } from '../../marl/singlestep';
import type { SearchSpace } from '../spaces';
import { claimSentence } from './ablations';
import type { AblationRow } from './ablations';
import { selectRuns } from './cells';
import type { SearchRun } from './cells';
import { parsePlan } from './plan';
import type { Ma2mlPlan } from './plan';
import { differenceCI, dropFraction, formatInterval } from './stats';

/** Per-update expected reward of one monotonic-improvement search. */
export interface MonotonicTrace {
  divergenceWeight: number;
  seed: number;
  /** Expected reward J_k before the first update (k = 0) and after each update. */
  expected: number[];
  /** Fraction of updates with J_{k+1} < J_k (exact on the synthetic reward). */
  dropFraction: number;
}

/**
 * Monotonic-improvement check on the synthetic reward: `ma2ml` (off-policy, counterfactual credit)
 * with each divergence weight w of the plan, for each synthetic seed, `updates` learner updates of
 * `batchSize` evaluations (the plan's `ablations.synthetic` unless `options` override them, e.g. the
 * searches' own batch of 4 for 400 evaluations; `options.method: 'ma2ml-replay'` checks the replay
 * learner instead, `options.learner` adds learner settings); after each update the policy's EXACT expected reward
 * ({@link syntheticExpectedReward}) is recorded, so a drop is a real drop, not sampling noise.
 * Runs inline (cheap).
 *
 * @example
 * ```ts
 * const traces = await monotonicSynthetic(plan, space);
 * traces.filter((t) => t.divergenceWeight === 0).map((t) => t.dropFraction);
 * ```
 */
export async function monotonicSynthetic(
  plan: Ma2mlPlan,
  space: SearchSpace,
  options: {
    batchSize?: number;
    updates?: number;
    method?: 'ma2ml' | 'ma2ml-replay';
    learner?: Partial<SingleStepConfigInput>;
    divergenceWeights?: readonly number[];
  } = {},
): Promise<MonotonicTrace[]> {
  const p = parsePlan(plan);
  const s = p.ablations.synthetic;
  const traces: MonotonicTrace[] = [];
  const vocab = agentDimensions(space);
  const uniform = AGENTS.map((a) => vocab[a].map((d) => new Float32Array(d.choices.length).fill(1 / d.choices.length)));
  const j0 = syntheticExpectedReward(space, s.rewardSeed, uniform);
  const batchSize = options.batchSize ?? s.batchSize;
  const updates = options.updates ?? s.updates;
  for (const w of options.divergenceWeights ?? p.ablations.divergenceWeights) {
    for (const seed of s.seeds) {
      const expected = [j0];
      await runSearch({
        method: options.method ?? 'ma2ml',
        space,
        evaluations: updates * batchSize,
        batchSize,
        seed,
        evaluator: syntheticEvaluator(space, s.rewardSeed),
        learner: { ...(options.learner ?? {}), divergenceWeight: w },
        onUpdate: (info) => expected.push(syntheticExpectedReward(space, s.rewardSeed, info.probabilities)),
      });
      traces.push({ divergenceWeight: w, seed, expected, dropFraction: dropFraction(expected) });
    }
  }
  return traces;
}

/**
 * Per-update batch-mean reward of a search (the training-evaluator estimate of the expected reward
 * under the policy that proposed the batch; noisy: batch size and evaluation noise).
 *
 * @example
 * ```ts
 * batchMeans(run.result); // one value per proposal batch
 * ```
 */
export function batchMeans(result: SearchResult): number[] {
  const sums = new Map<number, { s: number; n: number }>();
  for (const e of result.log) {
    const v = sums.get(e.batch) ?? { s: 0, n: 0 };
    v.s += e.reward;
    v.n++;
    sums.set(e.batch, v);
  }
  return [...sums.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v.s / v.n);
}

/** Drop statistics of one divergence weight (see {@link monotonicRows}). */
export interface MonotonicSummary {
  divergenceWeight: number;
  /** Exact synthetic check: drops over all updates and seeds, and the per-seed drop fraction (mean [CI]). */
  syntheticDrops: number;
  syntheticUpdates: number;
  syntheticDropFraction: Interval;
  /** Mean exact expected reward per update over seeds (index 0: the uniform policy). */
  syntheticMeanCurve: number[];
  /** Training evaluator: per-seed fraction of batches whose mean reward is below the previous batch's (noisy estimate), mean [CI]; null without runs. */
  trainingDropFraction: Interval | null;
  /** The sentence on the paper's monotonic-improvement claim for this w. */
  claim: string;
}

/**
 * Summaries of the monotonic-improvement check per divergence weight w: exact drop counts on the
 * synthetic reward (from {@link monotonicSynthetic}) and the batch-mean drop fraction of the
 * training-evaluator runs labelled `ma2ml w=<w>` at `budget` (when present), plus ablation rows
 * comparing each w > 0 with w = 0 (fewer drops is better).
 *
 * @example
 * ```ts
 * const { summaries, rows } = monotonicRows(traces, runs, plan.flops[0].budget, plan.bootstrap);
 * ```
 */
export function monotonicRows(
  traces: readonly MonotonicTrace[],
  runs: readonly SearchRun[],
  budget: number,
  bs: { reps?: number; seed?: number } = {},
): { summaries: MonotonicSummary[]; rows: AblationRow[] } {
  const o = { reps: bs.reps ?? 2000, seed: bs.seed ?? 0 };
  const weights = [...new Set(traces.map((t) => t.divergenceWeight))];
  if (weights.length === 0) throw new Error('monotonicRows: no traces');
  const drops = (w: number) => traces.filter((t) => t.divergenceWeight === w).map((t) => t.dropFraction);
  const trainingDrops = (w: number) => {
    const sel = selectRuns(runs, `ma2ml w=${w}`, budget);
    return sel.map((r) => dropFraction(batchMeans(r.result)));
  };
  const summaries: MonotonicSummary[] = weights.map((w) => {
    const tr = traces.filter((t) => t.divergenceWeight === w);
    const updates = tr.reduce((s, t) => s + t.expected.length - 1, 0);
    const count = tr.reduce((s, t) => s + Math.round(t.dropFraction * (t.expected.length - 1)), 0);
    const len = tr[0].expected.length;
    const curve = Array.from({ length: len }, (_, k) => tr.reduce((s, t) => s + t.expected[k], 0) / tr.length);
    const frac = meanCI(drops(w), o);
    const td = trainingDrops(w);
    const claim =
      count === 0
        ? `holds here (w = ${w}): the exact expected reward never dropped in ${updates} updates (${tr.length} seeds)`
        : `does not hold exactly (w = ${w}): the exact expected reward dropped in ${count} of ${updates} updates, per-seed fraction ${formatInterval(frac)}`;
    return {
      divergenceWeight: w,
      syntheticDrops: count,
      syntheticUpdates: updates,
      syntheticDropFraction: frac,
      syntheticMeanCurve: curve,
      trainingDropFraction: td.length > 0 ? meanCI(td, o) : null,
      claim,
    };
  });
  const rows: AblationRow[] = [];
  if (weights.includes(0)) {
    const d0 = drops(0);
    for (const w of weights.filter((x) => x !== 0)) {
      const dw = drops(w);
      const diff = differenceCI(dw, d0, o);
      const s = summaries.find((x) => x.divergenceWeight === w) as MonotonicSummary;
      rows.push({
        ablation: 'monotonic improvement (synthetic, exact)',
        comparison: `w=${w} vs w=0`,
        metric: 'fraction of updates where the expected reward drops',
        a: s.syntheticDropFraction,
        b: meanCI(d0, o),
        difference: diff,
        claim: `${s.claim}; vs w = 0: ${claimSentence({ a: `w=${w}`, b: 'w=0', metric: 'drop fraction', diff, higherIsBetter: false })}`,
      });
      const t0 = trainingDrops(0);
      const tw = trainingDrops(w);
      if (t0.length > 0 && tw.length > 0) {
        const dt = differenceCI(tw, t0, o);
        rows.push({
          ablation: 'monotonic improvement (training, batch means)',
          comparison: `w=${w} vs w=0`,
          metric: 'fraction of batches whose mean reward drops',
          a: meanCI(tw, o),
          b: meanCI(t0, o),
          difference: dt,
          claim: claimSentence({
            a: `w=${w}`,
            b: 'w=0',
            metric: 'batch-mean drop fraction',
            diff: dt,
            higherIsBetter: false,
          }),
        });
      }
    }
  }
  return { summaries, rows };
}
