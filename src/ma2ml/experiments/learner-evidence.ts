/**
 * Evidence that a search's learner moved and that its critic earns its credit (issue 12): the
 * per-update learner diagnostics of real-reward searches as rows for a CSV, per-label summaries
 * (moved share, final entropy fraction, critic held-out explained variance, KL to the target
 * policy), mean diagnostic curves for a figure, and the rule that turns an ablation row into
 * "untestable at this budget" when its learners did not move or its critic predicts fresh pipelines
 * worse than a constant.
 */
import type { DiagnosticRow } from '../../marl/singlestep';
import { selectRuns } from './cells';
import type { SearchRun } from './cells';

/** Mean entropy fraction of uniform above which a learner counts as not having moved (same as notebook 23). */
export const NOT_MOVED_ENTROPY = 0.95;
/** Critic held-out explained variance at or below which counterfactual credit counts as noise (a constant predicts as well). */
export const MIN_CRITIC_HELD_OUT_EV = 0;
/** Updates at the end of a search (or budget) whose critic held-out explained variance is averaged. */
export const CRITIC_EV_LAST_UPDATES = 3;

/**
 * Every update of every run that has diagnostics, flattened with its label, seed and FLOPs budget
 * (what notebook 22 writes to `learner-diagnostics.csv`).
 *
 * @example
 * ```ts
 * writeCsv('results/22-ma2ml-ablations/learner-diagnostics.csv', learnerDiagnosticRows(runs));
 * ```
 */
export function learnerDiagnosticRows(runs: readonly SearchRun[]): DiagnosticRow[] {
  return runs.flatMap((r) =>
    r.result.diagnostics.map((d) => ({ label: r.label, seed: r.cell.seed, flopsBudget: r.cell.flops.budget, ...d })),
  );
}

/** What the diagnostics of one label's runs at one budget say. */
export interface LearnerEvidence {
  label: string;
  runs: number;
  /** Share of runs whose mean entropy fraction fell below {@link NOT_MOVED_ENTROPY} at some update. */
  moved: number;
  /** Mean over runs of the last update's mean entropy fraction (1 = uniform). */
  finalEntropyFraction: number;
  /** Mean over runs of the mean critic held-out explained variance of the last 3 updates (NaN: no critic). */
  criticHeldOutEv: number;
  /** Mean over runs of the last update's mean KL to the target policy. */
  finalKlTarget: number;
  /** Mean learner updates per run. */
  updates: number;
}

const num = (d: DiagnosticRow, k: string): number => {
  const v = d[k];
  return typeof v === 'number' ? v : NaN;
};
const mean = (xs: number[]): number => {
  const f = xs.filter(Number.isFinite);
  return f.length ? f.reduce((a, b) => a + b, 0) / f.length : NaN;
};

/**
 * Summary of the learner diagnostics of a label's runs at a FLOPs budget (runs without diagnostics,
 * e.g. random search, give `runs: 0`).
 *
 * @example
 * ```ts
 * learnerEvidence(runs, 'ma2ml', 6e5).criticHeldOutEv; // < 0: the critic is worse than a constant on fresh pipelines
 * ```
 */
export function learnerEvidence(runs: readonly SearchRun[], label: string, budget: number): LearnerEvidence {
  const sel = selectRuns(runs, label, budget).filter((r) => r.result.diagnostics.length > 0);
  const ds = sel.map((r) => r.result.diagnostics);
  return {
    label,
    runs: sel.length,
    moved: sel.length
      ? ds.filter((d) => d.some((u) => num(u, 'entropyFraction.mean') < NOT_MOVED_ENTROPY)).length / sel.length
      : NaN,
    finalEntropyFraction: mean(ds.map((d) => num(d[d.length - 1], 'entropyFraction.mean'))),
    criticHeldOutEv: mean(ds.map((d) => mean(d.slice(-CRITIC_EV_LAST_UPDATES).map((u) => num(u, 'criticEvHeldOut'))))),
    finalKlTarget: mean(ds.map((d) => num(d[d.length - 1], 'klTarget.mean'))),
    updates: mean(ds.map((d) => d.length)),
  };
}

/**
 * Why a comparison of `a` with `b` cannot be decided at this budget, or null when it can: one of
 * the two learners did not move its policy in most runs, or (with `critic: a`) a's critic predicts
 * fresh pipelines no better than a constant (held-out explained variance of its last updates at
 * most {@link MIN_CRITIC_HELD_OUT_EV}), so its counterfactual advantage is noise, not credit.
 * Labels without learner diagnostics (random search) never make a row untestable.
 *
 * @example
 * ```ts
 * untestableReason(runs, { a: 'ma2ml', b: 'ma2ml-no-credit', budget: 6e5, critic: 'ma2ml' });
 * // "the critic of ma2ml predicts fresh pipelines worse than a constant (held-out EV -0.74)"
 * ```
 */
export function untestableReason(
  runs: readonly SearchRun[],
  args: { a: string; b: string; budget: number; critic?: string },
): string | null {
  const reasons: string[] = [];
  for (const label of [args.a, args.b]) {
    const e = learnerEvidence(runs, label, args.budget);
    if (e.runs > 0 && e.moved < 0.5)
      reasons.push(
        `${label} did not move its policy in ${Math.round((1 - e.moved) * e.runs)} of ${e.runs} runs (final entropy ${e.finalEntropyFraction.toFixed(2)} of uniform)`,
      );
  }
  if (args.critic) {
    const e = learnerEvidence(runs, args.critic, args.budget);
    if (e.runs > 0 && !(e.criticHeldOutEv > MIN_CRITIC_HELD_OUT_EV)) {
      reasons.push(
        `the critic of ${args.critic} predicts fresh pipelines ${Number.isFinite(e.criticHeldOutEv) ? `worse than a constant (held-out EV ${e.criticHeldOutEv.toFixed(2)} over its last ${CRITIC_EV_LAST_UPDATES} updates)` : 'with no measurable explained variance'}`,
      );
    }
  }
  return reasons.length ? reasons.join('; ') : null;
}

/**
 * Mean over a label's runs of one diagnostic per update (updates aligned by index), for a figure.
 *
 * @example
 * ```ts
 * diagnosticCurve(runs, 'ma2ml', 6e5, 'entropyFraction.mean'); // { evaluations: [4, 8, ...], value: [...] }
 * ```
 */
export function diagnosticCurve(
  runs: readonly SearchRun[],
  label: string,
  budget: number,
  key: string,
): { evaluations: number[]; value: number[] } {
  const ds = selectRuns(runs, label, budget)
    .map((r) => r.result.diagnostics)
    .filter((d) => d.length > 0);
  const n = ds.length ? Math.min(...ds.map((d) => d.length)) : 0;
  const evaluations: number[] = [];
  const value: number[] = [];
  for (let k = 0; k < n; k++) {
    evaluations.push(mean(ds.map((d) => num(d[k], 'evaluations'))));
    value.push(mean(ds.map((d) => num(d[k], key))));
  }
  return { evaluations, value };
}
