/**
 * The PPO-settings sweep of GANNO training: the documented search that chose
 * {@link GANNO_PPO_DEFAULTS}. Every point trains the default agent (and the shared-reward agent,
 * so the settings do not favour one credit scheme) with the `quick` budget and scores the kept
 * checkpoint on *validation* tasks only: seeds of their own range, never the test tasks and never
 * the tasks that pick the checkpoint. The test file is not read.
 */
import * as path from 'path';
import type { ProgressSink } from '../../progress';
import { runExperiment } from '../../runtime/experiment';
import type { Executor } from '../../runtime/executor';
import { defineJobKind } from '../../runtime/jobs';
import type { ExperimentStore } from '../../runtime/store';
import { controllerFromSpec, isDegenerateRun, runController } from '../evaluate';
import type { ControllerRunResult } from '../evaluate';
import { PolicyController } from '../controllers';
import { POLICY_MOVED_KL, resolveGannoTrainConfig, trainGannoAgents } from '../train';
import type { GannoTrainConfig } from '../train';
import type { GannoPlan } from './plan';
import { trainFolder } from './training';
import { DEFAULT_VARIANT, variantTrainConfig } from './variants';

/** Validation task seeds of the sweep's scores (their own range: 900101+, disjoint from checkpoint-selection 900001+). */
export const SWEEP_VAL_SEEDS: readonly number[] = Object.freeze(Array.from({ length: 8 }, (_, i) => 900_101 + i));

/** One point of the sweep: PPO overrides. */
export interface PpoSweepPoint {
  name: string;
  ppo: Record<string, number>;
}

/**
 * The grid: actor and critic Adam learning rate x epochs per update (the two settings the learning
 * audit found limiting: Adam 2.5e-4 x 4 epochs left the policy uniform). Everything else is
 * {@link GANNO_PPO_DEFAULTS}.
 */
export const PPO_SWEEP_GRID: readonly PpoSweepPoint[] = Object.freeze(
  [3e-4, 1e-3, 3e-3].flatMap((lr) =>
    [4, 8].map((epochs) => ({
      name: `lr=${lr},epochs=${epochs}`,
      ppo: { learningRate: lr, criticLearningRate: lr, epochs },
    })),
  ),
);

/** Config of one sweep job. */
export interface PpoSweepJobConfig {
  train: Omit<GannoTrainConfig, 'dir'>;
  root: string;
  label: string;
  valSeeds: number[];
}

/** Validation scores of one policy mode (greedy or sampled) on the sweep's validation tasks. */
export interface SweepModeScore {
  /** Mean ln(L_val(0) / L_val(T)) over the validation tasks (the team return in the spec's units). */
  logLossRatio: number;
  /** Mean final validation accuracy. */
  valAccuracy: number;
  /** Fraction of runs in which one action took > 90% of some agent's decisions. */
  degenerate: number;
  diverged: number;
}

/** Result of one sweep job. */
export interface PpoSweepResult {
  label: string;
  greedy: SweepModeScore;
  sampled: SweepModeScore;
  /** Diagnostics of the last update: did the learner move? */
  klFromInitial: number;
  policyEntropy: number;
  moved: boolean;
  /** Means over updates. */
  clipFraction: number;
  explainedVariance: number;
  kl: number;
}

function modeScore(runs: ControllerRunResult[]): SweepModeScore {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    logLossRatio: mean(runs.map((r) => (r.diverged ? -1 : Math.log(r.valLoss[0] / r.valLoss[r.valLoss.length - 1])))),
    valAccuracy: mean(runs.map((r) => (r.diverged ? 0 : r.finalValAccuracy))),
    degenerate: mean(runs.map((r) => (isDegenerateRun(r) ? 1 : 0))),
    diverged: mean(runs.map((r) => (r.diverged ? 1 : 0))),
  };
}

/** Work function of {@link gannoPpoSweepKind}: trains one agent and scores its kept checkpoint on the validation tasks. */
export function gannoPpoSweepJob(config: PpoSweepJobConfig): PpoSweepResult {
  const dir = trainFolder(config.root, config.label, config.train);
  const res = trainGannoAgents({ ...config.train, dir });
  if (!res.bestDir) throw new Error(`PPO sweep ${config.label}: no checkpoint was kept`);
  const scores = [true, false].map((greedy) => {
    const c = controllerFromSpec({ type: 'policy', checkpoint: res.bestDir!, greedy }, config.train.env);
    try {
      return modeScore(config.valSeeds.map((seed) => runController(c, seed, { env: config.train.env, testSize: 0 })));
    } finally {
      if (c instanceof PolicyController) c.policy.dispose();
    }
  });
  const d = res.diagnostics;
  const last = d[d.length - 1];
  const mean = (f: (x: (typeof d)[number]) => number) => d.reduce((a, x) => a + f(x), 0) / d.length;
  return {
    label: config.label,
    greedy: scores[0],
    sampled: scores[1],
    klFromInitial: last.klFromInitial,
    policyEntropy: last.policyEntropy,
    moved: last.klFromInitial >= POLICY_MOVED_KL,
    clipFraction: mean((x) => x.clipFraction),
    explainedVariance: mean((x) => x.explainedVariance),
    kl: mean((x) => x.kl),
  };
}

/** Job kind `ganno-ppo-sweep`. */
export const gannoPpoSweepKind = defineJobKind({
  name: 'ganno-ppo-sweep',
  module: __filename,
  export: 'gannoPpoSweepJob',
  version: 'ganno-ppo-sweep@1',
  fn: gannoPpoSweepJob,
  // the cache key follows the resolved training config (defaults applied)
  resolveConfig: (config: PpoSweepJobConfig) => ({
    ...config,
    train: resolveGannoTrainConfig(config.train) as PpoSweepJobConfig['train'],
  }),
});

/** One row of the sweep table. */
export interface PpoSweepRow extends PpoSweepResult {
  point: string;
  credit: 'difference' | 'shared';
  seed: number;
  /** Wall seconds of the job, as the experiment store recorded them (not part of the cached result). */
  seconds: number;
}

/**
 * Runs the sweep: every grid point x credit (`difference`, `shared`) x agent seed, with the plan's
 * training budget (use the `quick` plan), cached in the store.
 *
 * @example
 * ```ts
 * const rows = await runPpoSweep({ plan: gannoPlan('quick'), executor, store });
 * summarisePpoSweep(rows)[0]; // the best point by mean validation log-loss ratio
 * ```
 */
export async function runPpoSweep(options: {
  plan: GannoPlan;
  executor: Executor;
  store: ExperimentStore;
  grid?: readonly PpoSweepPoint[];
  seeds?: readonly number[];
  progress?: ProgressSink;
}): Promise<PpoSweepRow[]> {
  const grid = options.grid ?? PPO_SWEEP_GRID;
  const seeds = options.seeds ?? options.plan.agentSeeds;
  const root = path.resolve(path.join(path.dirname(options.store.file), 'ganno-ppo-sweep', options.plan.preset));
  const meta: { point: string; credit: 'difference' | 'shared'; seed: number }[] = [];
  const jobs = grid.flatMap((p) =>
    (['difference', 'shared'] as const).flatMap((credit) =>
      seeds.map((seed) => {
        const base = variantTrainConfig(options.plan, { ...DEFAULT_VARIANT, credit }, seed);
        const label = `${credit}-${p.name.replace(/[^A-Za-z0-9.-]+/g, '_')}-s${seed}`;
        meta.push({ point: p.name, credit, seed });
        const cfg: PpoSweepJobConfig = {
          train: { ...base, ppo: { ...(base.ppo ?? {}), ...p.ppo } },
          root,
          label,
          valSeeds: [...SWEEP_VAL_SEEDS],
        };
        return gannoPpoSweepKind.job(`${options.plan.preset}/${label}`, cfg, seed);
      }),
    ),
  );
  const res = await runExperiment<PpoSweepResult>({
    name: 'ganno-ppo-sweep',
    jobs,
    executor: options.executor,
    store: options.store,
    progress: options.progress,
  });
  return res.results.map((r, i) => ({ ...r, ...meta[i], seconds: res.jobs[i].recordedDurationMs / 1000 }));
}

/** Per grid point: means over credits and seeds, best first (by the mean of the greedy and sampled validation log-loss ratios). */
export function summarisePpoSweep(rows: readonly PpoSweepRow[]): {
  point: string;
  runs: number;
  greedy: number;
  sampled: number;
  score: number;
  greedyDifference: number;
  greedyShared: number;
  degenerate: number;
  moved: number;
  klFromInitial: number;
  clipFraction: number;
  explainedVariance: number;
}[] {
  const points = [...new Set(rows.map((r) => r.point))];
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  return points
    .map((point) => {
      const rs = rows.filter((r) => r.point === point);
      const greedy = mean(rs.map((r) => r.greedy.logLossRatio));
      const sampled = mean(rs.map((r) => r.sampled.logLossRatio));
      return {
        point,
        runs: rs.length,
        greedy,
        sampled,
        score: (greedy + sampled) / 2,
        greedyDifference: mean(rs.filter((r) => r.credit === 'difference').map((r) => r.greedy.logLossRatio)),
        greedyShared: mean(rs.filter((r) => r.credit === 'shared').map((r) => r.greedy.logLossRatio)),
        degenerate: mean(rs.map((r) => r.greedy.degenerate)),
        moved: mean(rs.map((r) => (r.moved ? 1 : 0))),
        klFromInitial: mean(rs.map((r) => r.klFromInitial)),
        clipFraction: mean(rs.map((r) => r.clipFraction)),
        explainedVariance: mean(rs.map((r) => r.explainedVariance)),
      };
    })
    .sort((a, b) => b.score - a.score);
}
