/**
 * The GANNO experiment plan of each compute preset: one place that fixes the training task
 * distribution, the agents' training budget, the seeds and the evaluation grids shared by the
 * notebooks 11-15, so every table of a preset is computed with the same agents and the same tasks.
 */
import type { LayerLrEnvConfig } from '../env';
import type { RunScheduleSpec } from '../controllers';

import type { PresetName } from '../../config';

/** Training budget of every agent variant of a preset (the same for all, so ablations are fair). */
export interface GannoTrainBudget {
  /** PPO updates. */
  updates: number;
  /** Parallel envs per update (batched policy forwards). */
  numEnvs: number;
  /** Episodes per env per update. */
  episodesPerEnv: number;
  evalEvery: number;
  checkpointEvery: number;
  /** Held-out validation task seeds for best-checkpoint selection (never the test seeds). */
  valSeeds: number[];
}

/** A zero-shot generalisation target: an environment the agents were not trained on. */
export interface GeneralisationTarget {
  name: string;
  description: string;
  env: LayerLrEnvConfig;
}

/** Everything the GANNO notebooks of one preset run (plain JSON). */
export interface GannoPlan {
  preset: PresetName;
  /** The training task distribution (reconstruction; see src/ganno/README.md). */
  env: LayerLrEnvConfig;
  train: GannoTrainBudget;
  /** Agent-training seeds: one independently trained agent per seed. */
  agentSeeds: number[];
  /** Test task seeds (held out: disjoint from training and validation seeds), one run per controller each. */
  testSeeds: number[];
  /** Training task seeds on which baselines' peak LRs are tuned (never the test seeds). */
  tuneSeeds: number[];
  /** Peak-LR grid of the tuned baselines. */
  peakGrid: number[];
  /** Robustness grid: initial LRs and weight decays (notebook 13), with their task seeds. */
  robustness: { initialLrs: number[]; weightDecays: number[]; seeds: number[] };
  /** Zero-shot targets (notebook 14). */
  generalisation: GeneralisationTarget[];
  /** Test task seeds of every zero-shot target (the first of `testSeeds` in `smoke`, all of them otherwise). */
  generalisationSeeds: number[];
  /** Decision intervals K of the ablation (the default K is the plan env's). */
  ablationK: number[];
  /**
   * Budget curve of the default agent (notebook 11): multiples of `train.updates`, 1 first (default
   * `[1]`; `gannoPlan(preset, { budgetCurve: [1, 3, 10] })` for the paper budget curve). The default
   * agent trains to the largest and keeps the best-so-far checkpoint at each (the 1x one is the agent
   * every table evaluates, identical to a run trained for 1x).
   */
  budgetCurve: number[];
}

/**
 * Test task seeds: a fresh range (1,100,001+) that nothing was tuned, selected or diagnosed on. The
 * earlier range (700,001+) was looked at while diagnosing the learners and is retired.
 */
export const TEST_SEED_BASE = 1_100_001;
const TRAIN_SEED_BASE = 0;
const TUNE_SEED_BASE = 500_001;
/** Validation seeds of best-checkpoint selection (the PPO sweep scores on its own range, 900101+). */
const VAL_SEED_BASE = 900_001;

function range(base: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => base + i);
}

/**
 * The plan of a preset. `smoke` runs each notebook in about a minute or less (CI); `quick` trains 3
 * agent seeds x 16 PPO updates (measured with horizon-true difference rewards: notebooks 10-15 in
 * 48 min on 2 cores, over the 30-min target); `full` keeps the 200-step episodes and trains 2.5x
 * longer (40 PPO updates) with 5 agent seeds and 12 test tasks (measured: about 2.5 h on 2 cores;
 * see the README for the parts).
 *
 * @example
 * ```ts
 * const plan = gannoPlan('quick');
 * plan.agentSeeds;      // [0, 1, 2]
 * plan.env.k;          // 10
 * ```
 */
export function gannoPlan(preset: PresetName, options: { budgetCurve?: number[] } = {}): GannoPlan {
  if (preset !== 'smoke' && preset !== 'quick' && preset !== 'full')
    throw new Error(`gannoPlan: unknown preset ${JSON.stringify(preset)}; expected smoke, quick or full`);
  const p = {
    smoke: {
      totalSteps: 40,
      trainSize: 500,
      valSize: 200,
      updates: 2,
      evalEvery: 1,
      seeds: 1,
      tests: 2,
      tune: 1,
      grid: [0.03, 0.3],
      valSeeds: 1,
    },
    quick: {
      totalSteps: 200,
      trainSize: 2000,
      valSize: 500,
      updates: 16,
      evalEvery: 4,
      seeds: 3,
      tests: 8,
      tune: 3,
      grid: [0.01, 0.03, 0.1, 0.3, 1],
      valSeeds: 3,
    },
    full: {
      totalSteps: 200,
      trainSize: 2000,
      valSize: 500,
      updates: 40,
      evalEvery: 5,
      seeds: 5,
      tests: 12,
      tune: 4,
      grid: [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1],
      valSeeds: 4,
    },
  }[preset];
  const task = {
    datasets: ['digits' as const],
    model: 'mlp' as const,
    depth: [1, 2] as [number, number],
    widths: [32, 64, 128],
    initialLr: [0.01, 0.3] as [number, number],
    totalSteps: p.totalSteps,
    trainSize: p.trainSize,
    valSize: p.valSize,
    batchSize: 64,
  };
  // Rewards in the spec's units (rewardScale 1): PPO normalises its value targets by running return
  // statistics (GANNO_PPO_DEFAULTS.valueNorm), so no hand-set reward scale is needed.
  const env: LayerLrEnvConfig = { k: 10, task };
  const smoke = preset === 'smoke';
  // 3x and 10x train the default agent 3-10 times longer than every other agent: a separate run
  // (MARL_AUTOML_GANNO_BUDGET_CURVE=1,3,10, the "paper" budget curve; measured wall time in docs/results.md).
  const budgetCurve = options.budgetCurve ?? [1];
  if (budgetCurve[0] !== 1 || budgetCurve.some((m, i) => !Number.isInteger(m) || (i > 0 && m <= budgetCurve[i - 1]))) {
    throw new Error(
      `gannoPlan: budgetCurve must be increasing integers starting with 1, got ${JSON.stringify(budgetCurve)}`,
    );
  }
  return {
    preset,
    env,
    train: {
      updates: p.updates,
      numEnvs: 2,
      episodesPerEnv: 1,
      evalEvery: p.evalEvery,
      checkpointEvery: p.evalEvery,
      valSeeds: range(VAL_SEED_BASE, p.valSeeds),
    },
    agentSeeds: range(TRAIN_SEED_BASE, p.seeds),
    testSeeds: range(TEST_SEED_BASE, p.tests),
    tuneSeeds: range(TUNE_SEED_BASE, p.tune),
    peakGrid: p.grid,
    robustness: smoke
      ? { initialLrs: [1e-3, 0.1, 1], weightDecays: [0, 1e-3], seeds: range(TEST_SEED_BASE, 1) }
      : // Inside the LR bounds every controller runs under ([1e-5, 1], the env's lrClip): a larger initial LR would only test the clip.
        {
          initialLrs: [1e-4, 1e-3, 1e-2, 0.1, 0.5, 1],
          weightDecays: [0, 1e-4, 1e-3, 1e-2],
          seeds: range(TEST_SEED_BASE, preset === 'quick' ? 3 : 5),
        },
    generalisation: [
      {
        name: 'deeper MLP (4-5 hidden layers)',
        description: 'digits, MLP with 4-5 hidden layers: 5-6 layer agents (trained with 2-3)',
        env: { task: { ...task, depth: [4, 5] } },
      },
      {
        name: 'CNN',
        description:
          'digits, CNN with 1-2 conv blocks (3x3 conv, 2x2 pool) and a dense head: conv-layer agents never seen in training',
        env: { task: { ...task, model: 'cnn', depth: smoke ? [1, 1] : [1, 2], filters: smoke ? [8] : [8, 16] } },
      },
      {
        name: 'Fashion-MNIST',
        description: 'Fashion-MNIST (harder images), same MLP distribution',
        env: { task: { ...task, datasets: ['fashion-mnist'] } },
      },
      {
        name: `longer runs (${smoke ? 2 : 3}x steps)`,
        description: `digits, same MLPs, ${smoke ? 2 : 3}x the SGD steps (horizon ${smoke ? 2 : 3}x the training horizon)`,
        env: { task: { ...task, totalSteps: (smoke ? 2 : 3) * p.totalSteps } },
      },
    ],
    generalisationSeeds: range(TEST_SEED_BASE, smoke ? 1 : p.tests),
    ablationK: smoke ? [20] : [5, 20],
    budgetCurve,
  };
}

/**
 * The PPO updates at the points of a plan's budget curve (the default agent trains to the last).
 *
 * @example
 * ```ts
 * budgetCurveUpdates(gannoPlan('full', { budgetCurve: [1, 3, 10] })); // [40, 120, 400]
 * ```
 */
export function budgetCurveUpdates(plan: GannoPlan): number[] {
  return plan.budgetCurve.map((m) => m * plan.train.updates);
}

/** A named hand-designed baseline: a schedule spec (stepped per SGD step) or a layerwise rule. */
export interface BaselineDef {
  name: string;
  kind: 'schedule' | 'lars' | 'hypergradient';
  /** For schedules: the `scheduleController` spec (run-length fields resolved from `totalSteps`). */
  schedule?: RunScheduleSpec;
  /** For the rules: their options besides the peak (base) LR. */
  options?: Record<string, number>;
  /** The peak-LR grid is multiplied by this (LARS: its base LR is scaled by eta x the trust ratio, so its useful base LRs are larger). Default 1. */
  gridScale?: number;
}

/**
 * The hand-designed baselines of the main table for runs of `totalSteps` SGD steps, in PyTorch
 * terms (each is tuned for its peak LR on the training tasks): constant; StepLR (step every third
 * of the run, gamma 0.1); MultiStepLR (milestones at 50% and 75%, gamma 0.1); ExponentialLR (gamma
 * so the LR ends at 1% of the peak); CosineAnnealingLR (T_max = run length, eta_min 0); LinearLR
 * warm-up (5% of the run from 0.1x) then cosine; OneCycleLR (cos, default pct_start 0.3);
 * ReduceLROnPlateau (factor 0.5, patience 2 validations); LARS trust ratio (eta 0.02, base-LR grid
 * x10); per-layer hypergradient descent (beta 1e-3, initial LR tuned).
 *
 * @example
 * ```ts
 * baselineDefs(200).map((b) => b.name); // ['constant', 'step', 'multistep', ...]
 * ```
 */
export function baselineDefs(totalSteps: number): BaselineDef[] {
  if (!Number.isInteger(totalSteps) || totalSteps < 4)
    throw new Error(`baselineDefs: totalSteps must be an integer >= 4, got ${totalSteps}`);
  const third = Math.max(1, Math.round(totalSteps / 3));
  const warm = Math.max(1, Math.round(0.05 * totalSteps));
  return [
    { name: 'constant', kind: 'schedule', schedule: { type: 'constant' } },
    { name: 'step', kind: 'schedule', schedule: { type: 'step', stepSize: third, gamma: 0.1 } },
    {
      name: 'multistep',
      kind: 'schedule',
      schedule: {
        type: 'multistep',
        milestones: [Math.round(0.5 * totalSteps), Math.round(0.75 * totalSteps)],
        gamma: 0.1,
      },
    },
    { name: 'exponential', kind: 'schedule', schedule: { type: 'exponential', gamma: Math.pow(0.01, 1 / totalSteps) } },
    { name: 'cosine', kind: 'schedule', schedule: { type: 'cosine', tMax: totalSteps, etaMin: 0 } },
    {
      name: 'warmup+cosine',
      kind: 'schedule',
      schedule: { type: 'warmupCosine', warmupSteps: warm, startFactor: 0.1, tMax: totalSteps - warm, etaMin: 0 },
    },
    { name: 'onecycle', kind: 'schedule', schedule: { type: 'onecycle', totalSteps, annealStrategy: 'cos' } },
    { name: 'plateau', kind: 'schedule', schedule: { type: 'plateau', factor: 0.5, patience: 2 } },
    { name: 'LARS', kind: 'lars', options: { eta: 0.02 }, gridScale: 10 },
    { name: 'hypergradient', kind: 'hypergradient', options: { beta: 1e-3 } },
  ];
}
