/**
 * The MA2ML search-comparison summaries of notebook 21: best-so-far curves with bootstrap bands per
 * method, the comparison table (best reward mean and IQM with CIs, probability of improvement,
 * retrained test accuracy) and its display rows.
 */
import {
  aggregateIqm,
  aggregateMean,
  meanCI,
  probabilityOfImprovement,
  sampleEfficiencyCurve,
  stratifiedBootstrapCI,
} from '../../eval';
import type { Interval, SampleEfficiencyCurve } from '../../eval';
import type { RetrainResult } from '../evaluate';
import { pipelineKey } from '../pipeline';
import { selectRuns } from './cells';
import type { SearchRun } from './cells';
import { formatInterval } from './stats';

/**
 * Best-so-far reward vs evaluations of each label at one budget: the mean over seeds with a
 * stratified-bootstrap 95% CI band (`sampleEfficiencyCurve`, statistic mean).
 *
 * @example
 * ```ts
 * const curves = bestSoFarCurves(runs, plan.methods, plan.flops[0].budget);
 * curves.ma2ml.point; // one value per evaluation
 * ```
 */
export function bestSoFarCurves(
  runs: readonly SearchRun[],
  labels: readonly string[],
  flopsBudget: number,
  opts: { reps?: number; seed?: number } = {},
): Record<string, SampleEfficiencyCurve> {
  const out: Record<string, SampleEfficiencyCurve> = {};
  for (const label of labels) {
    const sel = selectRuns(runs, label, flopsBudget);
    if (sel.length === 0) throw new Error(`bestSoFarCurves: no runs of '${label}' at budget ${flopsBudget}`);
    const scores = sel.map((r) => [r.result.log.map((e) => e.bestSoFar)]);
    out[label] = sampleEfficiencyCurve(scores, {
      statistic: aggregateMean,
      steps: scores[0][0].map((_, k) => k + 1),
      reps: opts.reps ?? 2000,
      seed: opts.seed ?? 0,
    });
  }
  return out;
}

/** One row of {@link comparisonRows}. */
export interface ComparisonRow {
  method: string;
  seeds: number;
  /** Mean over seeds of the best validation reward, with its 95% CI. */
  best: Interval;
  /** IQM over seeds of the best reward, with its stratified-bootstrap CI. */
  iqm: Interval;
  /** P(reference > method) over seeds (null for the reference itself). */
  probabilityOfImprovement: Interval | null;
  /** Retrained test accuracy of each seed's best pipeline, mean with its CI (null without retrains). */
  testAccuracy: Interval | null;
  /** Mean distinct pipelines per search and mean proposals masked (over budget or invalid). */
  distinct: number;
  masked: number;
}

/**
 * The comparison table of one budget: per label, the best reward (mean [CI] and IQM [CI] over
 * seeds), the probability that `reference` beats it, and (with `retrains`) the retrained test
 * accuracy of each seed's best pipeline.
 *
 * @example
 * ```ts
 * const rows = comparisonRows(runs, plan.methods, 6e5, { reference: 'ma2ml', retrains });
 * ```
 */
export function comparisonRows(
  runs: readonly SearchRun[],
  labels: readonly string[],
  flopsBudget: number,
  opts: { reference?: string; retrains?: Map<string, RetrainResult>; reps?: number; seed?: number } = {},
): ComparisonRow[] {
  const reference = opts.reference ?? 'ma2ml';
  const bs = { reps: opts.reps ?? 2000, seed: opts.seed ?? 0 };
  const bestOf = (label: string) => selectRuns(runs, label, flopsBudget).map((r) => r.result.best.reward);
  const refScores = labels.includes(reference) ? bestOf(reference).map((v) => [v]) : null;
  return labels.map((label) => {
    const sel = selectRuns(runs, label, flopsBudget);
    if (sel.length === 0) throw new Error(`comparisonRows: no runs of '${label}' at budget ${flopsBudget}`);
    const best = sel.map((r) => r.result.best.reward);
    let test: Interval | null = null;
    if (opts.retrains) {
      const accs = sel
        .map((r) => opts.retrains?.get(pipelineKey(r.result.best.pipeline))?.testAccuracy)
        .filter((a): a is number => typeof a === 'number');
      if (accs.length > 0) test = meanCI(accs, bs);
    }
    return {
      method: label,
      seeds: sel.length,
      best: meanCI(best, bs),
      iqm: stratifiedBootstrapCI(
        best.map((v) => [v]),
        aggregateIqm,
        bs,
      ),
      probabilityOfImprovement:
        refScores && label !== reference
          ? probabilityOfImprovement(
              refScores,
              best.map((v) => [v]),
              bs,
            )
          : null,
      testAccuracy: test,
      distinct: sel.reduce((s, r) => s + r.result.distinct, 0) / sel.length,
      masked: sel.reduce((s, r) => s + r.result.masked, 0) / sel.length,
    };
  });
}

/**
 * Display rows (strings) of {@link comparisonRows} for a table.
 *
 * @example
 * ```ts
 * showTable(formatComparisonRows(rows), { name: 'ma2ml-comparison' });
 * ```
 */
export function formatComparisonRows(
  rows: readonly ComparisonRow[],
  reference = 'ma2ml',
  digits = 3,
): Record<string, string | number>[] {
  return rows.map((r) => ({
    method: r.method,
    seeds: r.seeds,
    'best val reward, mean [95% CI]': formatInterval(r.best, digits),
    'IQM [95% CI]': formatInterval(r.iqm, digits),
    [`P(${reference} > method) [95% CI]`]: r.probabilityOfImprovement
      ? formatInterval(r.probabilityOfImprovement, 2)
      : '-',
    'retrained test acc, mean [95% CI]': r.testAccuracy ? formatInterval(r.testAccuracy, digits) : '-',
    'distinct pipelines (mean)': r.distinct.toFixed(1),
    'masked proposals (mean)': r.masked.toFixed(1),
  }));
}
