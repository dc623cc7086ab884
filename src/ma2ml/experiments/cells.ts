/**
 * The searches of an MA2ML experiment set: a cell (method, FLOPs budget, seed, ablation switches) and
 * its finished run, the labels that group runs in summaries, the cells of notebooks 21 and 22, and
 * the selection of the runs of one label at one budget.
 */
import type { FlopsConstraint } from '../flops';
import type { AgentName } from '../pipeline';
import { AGENTS } from '../pipeline';
import type { SearchMethod, SearchResult } from '../search';
import { parsePlan } from './plan';
import type { Ma2mlPlan } from './plan';

/** One search of a set: method, FLOPs constraint (a plan's: rule `hard-mask`), seed and ablation switches. */
export interface SearchCell {
  method: SearchMethod;
  flops: FlopsConstraint;
  seed: number;
  /** Override of the learner's divergence weight w (monotonic-improvement ablation). */
  divergenceWeight?: number;
  /** Search only these agents (others at {@link defaultPipeline}). */
  modules?: AgentName[];
  /** Group label in summaries (default: the method, plus `w=` / `only ` when set). */
  label?: string;
}

/** A finished search with its cell (plain JSON). */
export interface SearchRun {
  cell: SearchCell;
  label: string;
  result: SearchResult;
}

/**
 * The label of a cell: `label`, else the method with `w=...` or `only aug+nas` appended.
 *
 * @example
 * ```ts
 * cellLabel({ method: 'ma2ml', flops: { budget: 6e5, rule: 'hard-mask' }, seed: 0, divergenceWeight: 0 }); // 'ma2ml w=0'
 * ```
 */
export function cellLabel(cell: SearchCell): string {
  if (cell.label) return cell.label;
  let s: string = cell.method;
  if (cell.divergenceWeight !== undefined) s += ` w=${cell.divergenceWeight}`;
  if (cell.modules) s = `${s} only ${cell.modules.join('+')}`;
  return s;
}

/**
 * The searches of notebook 21: every method x both budgets x every seed.
 *
 * @example
 * ```ts
 * mainCells(ma2mlPlan('quick')).length; // 7 x 2 x 3 = 42
 * ```
 */
export function mainCells(plan: Ma2mlPlan): SearchCell[] {
  const p = parsePlan(plan);
  return p.flops.flatMap((f) =>
    p.methods.flatMap((method) => p.seeds.map((seed) => ({ method, flops: { ...f }, seed }))),
  );
}

/**
 * The searches of notebook 22 (all at the ablation budget; those equal to notebook 21's runs are
 * served from the store): credit and off-policy (ma2ml, ma2ml-replay, ma2ml-no-credit, ma2ml-lite, independent),
 * the divergence weights (ma2ml with each w), single-module ma2ml (aug, nas, hpo) and sequential.
 *
 * @example
 * ```ts
 * const cells = ablationCells(ma2mlPlan('smoke'));
 * ```
 */
export function ablationCells(plan: Ma2mlPlan): SearchCell[] {
  const p = parsePlan(plan);
  const f = p.flops[p.ablations.budgetIndex];
  const cells: SearchCell[] = [];
  for (const seed of p.seeds) {
    for (const method of [
      'ma2ml',
      'ma2ml-replay',
      'ma2ml-no-credit',
      'ma2ml-lite',
      'independent',
      'sequential',
    ] as SearchMethod[])
      cells.push({ method, flops: { ...f }, seed });
    for (const w of p.ablations.divergenceWeights)
      cells.push({ method: 'ma2ml', flops: { ...f }, seed, divergenceWeight: w });
    for (const a of AGENTS) cells.push({ method: 'ma2ml', flops: { ...f }, seed, modules: [a] });
  }
  return cells;
}

/**
 * The runs of one label at one FLOPs budget (`cell.flops.budget`), ordered by seed.
 *
 * @example
 * ```ts
 * selectRuns(runs, 'ma2ml', 6e5).map((r) => r.result.best.reward);
 * ```
 */
export function selectRuns(runs: readonly SearchRun[], label: string, budget: number): SearchRun[] {
  return runs
    .filter((r) => r.label === label && r.cell.flops.budget === budget)
    .sort((a, b) => a.cell.seed - b.cell.seed);
}
