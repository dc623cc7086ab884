/**
 * The per-budget learning-rate sweep of the MA2ML learners (issue 12, deliverable 2), on the LCBench
 * surrogate's VALIDATION tasks and seeds (disjoint from the tasks and seeds of notebook 23's plans):
 * every learner method gets the same grid of actor learning rates (the same multiples of its own
 * default), the same tasks, seeds and budgets, i.e. equal tuning effort; each budget's choice is the
 * rate with the lowest mean normalised regret at that budget. The chosen rates are committed as
 * {@link TUNED_ACTOR_LR} (re-run with `npm run ma2ml-sweep`).
 */
import { hierarchicalMeanCI } from '../../../eval';
import type { Interval } from '../../../eval';
import type { Executor } from '../../../runtime/executor';
import type { ExperimentStore } from '../../../runtime/store';
import { surrogateLearnerConfig } from './search';
import { runSurrogateSearches } from './search';
import type { SurrogateCell, SurrogateRun } from './search';
import { parseSurrogatePlan, shuffledTasks, surrogatePlan, SURROGATE_LEARNER_METHODS } from './plan';
import type { SurrogatePlan } from './plan';
import { normalisedRegretAt, scoreMatrix } from './summaries';

/** Multiples of each method's default actor learning rate tried by the sweep (same for every method). */
export const LR_SWEEP_FACTORS = [0.25, 1, 4, 16, 64] as const;

/**
 * The sweep's plan: the `full` plan's settings (grid, noise, batch 8, budgets 36 / 200 / 1000 unless given) on
 * validation tasks 11-15 of the fixed task shuffle (notebook 23 uses tasks 1-10) and validation seeds
 * 1000-1002 (notebook 23 uses 0-9), learner methods only, no module-only searches.
 *
 * @example
 * ```ts
 * lrSweepPlan().tasks.length; // 5
 * ```
 */
export function lrSweepPlan(budgets: readonly number[] = [36, 200, 1000]): SurrogatePlan {
  const full = surrogatePlan('full');
  return parseSurrogatePlan({
    ...full,
    budgets: [...budgets],
    description: `learning-rate sweep: validation tasks 11-15 of the task shuffle x validation seeds 1000-1002, budgets ${budgets.join(' / ')} (batch 8), noise sd 0.01`,
    tasks: shuffledTasks().slice(10, 15),
    seeds: [1000, 1001, 1002],
    methods: [...SURROGATE_LEARNER_METHODS],
    moduleOnly: null,
  });
}

/** The actor learning rate a method's default settings use. */
export function defaultActorLr(method: (typeof SURROGATE_LEARNER_METHODS)[number]): number {
  return surrogateLearnerConfig(method).actorLr ?? 0.05;
}

/** Cells of the sweep: every learner method x factor x task x seed, one run to the largest budget. */
export function lrSweepCells(plan: SurrogatePlan = lrSweepPlan()): SurrogateCell[] {
  const p = parseSurrogatePlan(plan);
  const max = p.budgets[p.budgets.length - 1];
  const cells: SurrogateCell[] = [];
  for (const method of p.methods) {
    if (method === 'sequential' || method === 'random') continue;
    const lr0 = defaultActorLr(method);
    for (const f of LR_SWEEP_FACTORS)
      for (const task of p.tasks)
        for (const seed of p.seeds)
          cells.push({
            task,
            label: lrLabel(method, f * lr0),
            method,
            module: null,
            seed,
            evaluations: max,
            learner: { actorLr: f * lr0 },
          });
  }
  return cells;
}

function lrLabel(method: string, lr: number): string {
  return `${method} lr=${Number(lr.toPrecision(6))}`;
}

/** One sweep point at one budget. */
export interface LrSweepRow {
  method: string;
  budget: number;
  actorLr: number;
  /** Multiple of the method's default actor learning rate. */
  factor: number;
  /** Mean normalised regret with its two-level (tasks, then seeds) bootstrap CI. */
  regret: Interval;
  /** Whether this is the chosen rate of (method, budget). */
  chosen: boolean;
}

/**
 * Mean normalised regret of every (method, rate, budget) and the chosen rate per (method, budget):
 * the lowest mean (ties: the smaller rate).
 *
 * @example
 * ```ts
 * const rows = summariseLrSweep(runs, lrSweepPlan());
 * rows.filter((r) => r.chosen);
 * ```
 */
export function summariseLrSweep(runs: readonly SurrogateRun[], plan: SurrogatePlan = lrSweepPlan()): LrSweepRow[] {
  const p = parseSurrogatePlan(plan);
  const rows: LrSweepRow[] = [];
  for (const method of p.methods) {
    if (method === 'sequential' || method === 'random') continue;
    const lr0 = defaultActorLr(method);
    for (const budget of p.budgets) {
      const group = LR_SWEEP_FACTORS.map((f) => {
        const m = scoreMatrix(runs, p, lrLabel(method, f * lr0), budget, (r, b) => normalisedRegretAt(r, b));
        return {
          method,
          budget,
          actorLr: f * lr0,
          factor: f,
          regret: hierarchicalMeanCI(m, p.bootstrap),
          chosen: false,
        };
      });
      let best = group[0];
      for (const g of group) if (g.regret.point < best.regret.point - 1e-12) best = g;
      best.chosen = true;
      rows.push(...group);
    }
  }
  return rows;
}

/**
 * Runs the sweep (cached per search in the store: a re-run computes only what is missing).
 *
 * @example
 * ```ts
 * const { rows } = await runLrSweep({ executor, store });
 * ```
 */
export async function runLrSweep(options: {
  executor: Executor;
  store?: ExperimentStore;
  plan?: SurrogatePlan;
}): Promise<{ rows: LrSweepRow[]; runs: SurrogateRun[]; computed: number }> {
  const plan = options.plan ?? lrSweepPlan();
  const { runs, computed } = await runSurrogateSearches(plan, lrSweepCells(plan), {
    executor: options.executor,
    store: options.store,
  });
  return { rows: summariseLrSweep(runs, plan), runs, computed };
}
