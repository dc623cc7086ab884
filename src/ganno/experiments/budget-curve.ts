/**
 * The budget curve of the default GANNO agent (notebook 11): greedy and sampled test accuracy, and
 * the gap to the tuned cosine schedule, after 1x, 3x (and 10x) the plan's decision budget. It tells
 * a budget limit (the gap closes with more training) from a method limit (it does not).
 */
import type { Interval } from '../../eval/bootstrap';
import type { ProgressSink } from '../../progress';
import type { Executor } from '../../runtime/executor';
import type { ExperimentStore } from '../../runtime/store';
import {
  TEST_ACCURACY,
  agentEntries,
  baselineController,
  evaluateClaim,
  evaluateEntries,
  learnerEvidence,
  scoreMatrix,
  summarise,
} from './comparison';
import type { ControllerEntry, EvalRow, TunedBaseline } from './comparison';
import { degenerateShare } from './diagnostics';
import type { GannoPlan } from './plan';
import type { VariantAgent } from './training';

/** One point of the budget curve. */
export interface BudgetCurvePoint {
  /** Multiple of the plan's PPO updates. */
  multiple: number;
  updates: number;
  /** Decisions per agent seed (episodes x decisions per episode). */
  decisions: number;
  greedy: Interval;
  sampled: Interval;
  /** Agent minus tuned baseline, percentage points, paired two-level bootstrap CI. */
  greedyGap: Interval;
  sampledGap: Interval;
  greedyDegenerate: number;
  moved: number;
  agents: number;
}

/**
 * Evaluates the default agents' milestone checkpoints (greedy and sampled) and a tuned baseline on
 * the plan's test tasks, and summarises each budget with CIs.
 *
 * @example
 * ```ts
 * const { points, rows } = await evaluateBudgetCurve({ plan, agents, baseline: tuned[0], executor, store });
 * points.map((p) => `${p.multiple}x: ${p.greedyGap.point.toFixed(1)} pp`);
 * ```
 */
export async function evaluateBudgetCurve(options: {
  plan: GannoPlan;
  agents: readonly VariantAgent[];
  /** The tuned reference (the cosine schedule in notebook 11). */
  baseline: TunedBaseline;
  executor: Executor;
  store: ExperimentStore;
  progress?: ProgressSink;
}): Promise<{ points: BudgetCurvePoint[]; rows: EvalRow[]; baselineLabel: string }> {
  const { plan, agents } = options;
  const task = plan.env.task!;
  const decisionsPerUpdate =
    plan.train.numEnvs * plan.train.episodesPerEnv * ((task.totalSteps ?? 400) / (plan.env.k ?? 10));
  const updates = [
    ...new Set(agents.flatMap((a) => (a.milestones.length ? a.milestones.map((m) => m.update) : [a.budgetUpdates]))),
  ].sort((x, y) => x - y);
  const at = (u: number) =>
    agents.map((a) => {
      const m = a.milestones.find((x) => x.update === u);
      return m ? { ...a, bestDir: m.dir, moved: m.moved } : { ...a };
    });
  const baselineLabel = `${options.baseline.def.name} (tuned)`;
  const entries: ControllerEntry[] = [
    {
      label: baselineLabel,
      controller: baselineController(options.baseline.def, options.baseline.peakLr),
      env: plan.env,
      seeds: plan.testSeeds,
    },
  ];
  for (const u of updates) {
    entries.push(...agentEntries(at(u), `greedy@${u}`, plan.env, plan.testSeeds, true));
    entries.push(...agentEntries(at(u), `sampled@${u}`, plan.env, plan.testSeeds, false));
  }
  const rows = await evaluateEntries({
    name: 'ganno-budget-curve',
    entries,
    executor: options.executor,
    store: options.store,
    progress: options.progress,
  });
  const base = scoreMatrix(rows, baselineLabel, TEST_ACCURACY);
  const points = updates.map((u) => {
    const [greedy, sampled] = summarise(rows, [`greedy@${u}`, `sampled@${u}`], TEST_ACCURACY);
    const learners = learnerEvidence(at(u));
    const gap = (label: string) =>
      evaluateClaim('agent vs baseline', scoreMatrix(rows, label, TEST_ACCURACY), base, TEST_ACCURACY).improvement;
    return {
      multiple: u / plan.train.updates,
      updates: u,
      decisions: u * decisionsPerUpdate,
      greedy: greedy.mean,
      sampled: sampled.mean,
      greedyGap: gap(`greedy@${u}`),
      sampledGap: gap(`sampled@${u}`),
      greedyDegenerate: degenerateShare(rows, `greedy@${u}`),
      moved: learners.moved,
      agents: learners.total,
    };
  });
  return { points, rows, baselineLabel };
}
