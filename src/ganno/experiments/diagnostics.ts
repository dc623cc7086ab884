/**
 * Learner diagnostics of trained GANNO agents as tables and curves (notebook 11), and the
 * evidence that tables and claims carry: did each policy move, and do its greedy runs collapse onto
 * one action.
 */
import { meanCI } from '../../eval';
import type { Interval } from '../../eval/bootstrap';
import { isDegenerateRun } from '../evaluate';
import { POLICY_MOVED_KL } from '../train';
import type { EvalRow } from './comparison';
import type { GannoJobDiagnostics, VariantAgent } from './training';

/** The numeric diagnostics fields, in table order. */
export const DIAGNOSTIC_FIELDS = [
  'meanTeamReturn',
  'meanAgentReward',
  'klFromInitial',
  'kl',
  'approxKl',
  'clipFraction',
  'policyEntropy',
  'maxProb',
  'explainedVariance',
  'valueLoss',
  'actorGradNorm',
  'actorGradNormMax',
  'criticGradNorm',
  'criticGradNormMax',
] as const satisfies readonly (keyof GannoJobDiagnostics)[];
export type DiagnosticField = (typeof DIAGNOSTIC_FIELDS)[number];

/**
 * One flat row per (agent, PPO update): every diagnostics field and the action shares of the
 * update's rollout (`action k` columns), ready for CSV.
 *
 * @example
 * ```ts
 * writeTable('results/11-ganno-train/learner-diagnostics.csv', diagnosticsRows(agents), Object.keys(diagnosticsRows(agents)[0]), { format: 'csv' });
 * ```
 */
export function diagnosticsRows(agents: readonly VariantAgent[]): Record<string, string | number>[] {
  return agents.flatMap((a) =>
    a.diagnostics.map((d) => {
      const row: Record<string, string | number> = { variant: a.variant, seed: a.seed, update: d.update };
      for (const f of DIAGNOSTIC_FIELDS) row[f] = d[f];
      const total = d.actionCounts.reduce((s, c) => s + c, 0);
      d.actionCounts.forEach((c, k) => (row[`action ${k}`] = total ? c / total : NaN));
      return row;
    }),
  );
}

/**
 * Mean over agents of one diagnostics field per update, with a 95% bootstrap CI over agents
 * (agents with fewer updates end their contribution early).
 *
 * @example
 * ```ts
 * const kl = diagnosticsCurve(agents, 'klFromInitial'); // { x: [1, 2, ...], y, lower, upper }
 * ```
 */
export function diagnosticsCurve(
  agents: readonly VariantAgent[],
  field: DiagnosticField,
): { x: number[]; y: number[]; lower: number[]; upper: number[] } {
  const n = Math.max(0, ...agents.map((a) => a.diagnostics.length));
  const x: number[] = [];
  const cis: Interval[] = [];
  for (let u = 0; u < n; u++) {
    const vals = agents
      .map((a) => a.diagnostics[u]?.[field])
      .filter((v): v is number => v !== undefined && Number.isFinite(v));
    if (!vals.length) continue;
    x.push(u + 1);
    cis.push(vals.length > 1 ? meanCI(vals, { seed: u }) : { point: vals[0], lo: vals[0], hi: vals[0] });
  }
  return { x, y: cis.map((c) => c.point), lower: cis.map((c) => c.lo), upper: cis.map((c) => c.hi) };
}

/**
 * Share of each action in the rollouts of a range of updates (all agents pooled), e.g. the first
 * and the last quarter of training.
 *
 * @example
 * ```ts
 * actionShares(agents, 1, 10); // [0.11, 0.12, ...] (numActions values summing to 1)
 * ```
 */
export function actionShares(agents: readonly VariantAgent[], fromUpdate: number, toUpdate: number): number[] {
  let counts: number[] | null = null;
  for (const a of agents) {
    for (const d of a.diagnostics) {
      if (d.update < fromUpdate || d.update > toUpdate) continue;
      counts ??= new Array<number>(d.actionCounts.length).fill(0);
      d.actionCounts.forEach((c, k) => (counts![k] += c));
    }
  }
  if (!counts) return [];
  const total = counts.reduce((s, c) => s + c, 0);
  return counts.map((c) => c / total);
}

/**
 * "k/n moved" for a set of agents: how many kept checkpoints are at least {@link POLICY_MOVED_KL}
 * away from their initial policy; flagged with a warning sign when some are not.
 *
 * @example
 * ```ts
 * movedText(agents); // '5/5 moved' or '⚠ 3/5 moved (KL from initial < 0.05)'
 * ```
 */
export function movedText(agents: readonly Pick<VariantAgent, 'moved'>[]): string {
  const k = agents.filter((a) => a.moved).length;
  return k === agents.length
    ? `${k}/${agents.length} moved`
    : `⚠ ${k}/${agents.length} moved (KL from initial < ${POLICY_MOVED_KL})`;
}

/**
 * Share of a label's runs in which the greedy-mode guard fires (some agent took one action at more
 * than 90% of its decisions); NaN for labels without actions (step controllers).
 *
 * @example
 * ```ts
 * degenerateShare(rows, 'GANNO (greedy)'); // 0.25
 * ```
 */
export function degenerateShare(rows: readonly EvalRow[], label: string): number {
  const mine = rows.filter((r) => r.label === label && r.actions?.length);
  if (!mine.length) return NaN;
  return mine.filter((r) => isDegenerateRun(r)).length / mine.length;
}
