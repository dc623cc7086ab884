/**
 * Notebook 10's walk through the GANNO environment, as library functions: observation tables,
 * scripted decisions, shared vs difference rewards of one step, the horizon-true difference reward
 * of one LR change, and a brief training of agents with and without a custom feature ("arms"),
 * their learning curves, their evaluation on held-out tasks and the comparison to a constant LR.
 */
import { formatInterval, meanCI, probabilityOfImprovement } from '../../eval';
import type { ProgressSink } from '../../progress';
import { PolicyController, constantController } from '../controllers';
import { LayerLrEnv } from '../env';
import type { LayerLrEnvConfig } from '../env';
import { controllerFromSpec, evaluateController } from '../evaluate';
import type { ControllerRunResult } from '../evaluate';
import type { FeatureRegistry } from '../features';
import { trainGannoAgents } from '../train';
import type { GannoTrainResult } from '../train';
import * as path from 'path';
import * as fs from 'fs';

/**
 * The LR factor of `action` in a multiplicative action set (`apply(lr, action) / lr` at an LR far
 * from the clip bounds); for an absolute set, the level relative to the reference LR.
 *
 * @example
 * ```ts
 * actionFactor(env, 8); // 2 with the default factors9
 * ```
 */
export function actionFactor(env: LayerLrEnv, action: number): number {
  const ref = Math.sqrt(env.actionSet.lrClip[0] * env.actionSet.lrClip[1]);
  return env.actionSet.apply(ref, action, ref) / ref;
}

/**
 * Every agent's observation as a table: one row per feature label, per agent its raw value and the
 * normalised value the policy sees (`observations` from the env's last `reset` or `step`).
 *
 * @example
 * ```ts
 * const obs = env.reset(3).observations;
 * showTable(observationTable(env, obs), { name: 'observations' });
 * ```
 */
export function observationTable(
  env: LayerLrEnv,
  observations: readonly Float32Array[],
): Record<string, string | number>[] {
  const labels = env.features.labels;
  const raws = observations.map((_, i) => env.features.raw(env.state, i));
  return labels.map((label, j) => {
    const row: Record<string, string | number> = { feature: label };
    observations.forEach((v, i) => {
      row[`agent ${i} raw`] = Number.isFinite(raws[i][j]) ? Number(raws[i][j].toPrecision(4)) : String(raws[i][j]);
      row[`agent ${i} obs`] = Number(v[j].toFixed(4));
    });
    return row;
  });
}

/**
 * Plays a fixed script of joint actions (one action per agent per decision) on a reset env: one
 * row per (decision, agent) with the action, its factor, the LR before and after, the interval's
 * mean training loss, the validation loss and the team reward. Returns the last observations too.
 *
 * @example
 * ```ts
 * env.reset(3);
 * const { rows } = playScript(env, [[8, 4], [4, 0], [4, 4]]);
 * ```
 */
export function playScript(
  env: LayerLrEnv,
  script: readonly (readonly number[])[],
): { rows: Record<string, string | number>[]; observations: Float32Array[] } {
  const rows: Record<string, string | number>[] = [];
  let observations: Float32Array[] = [];
  script.forEach((actions, t) => {
    const before = env.state.lrs.slice();
    const r = env.step(actions.slice());
    const info = r.info as { lrs: number[]; valLoss: number; trainLoss: number };
    actions.forEach((a, i) =>
      rows.push({
        decision: t,
        agent: i,
        action: a,
        factor: Number(actionFactor(env, a).toFixed(3)),
        'LR before': Number(before[i].toPrecision(4)),
        'LR after': Number(info.lrs[i].toPrecision(4)),
        'train loss (interval mean)': Number(info.trainLoss.toFixed(4)),
        'val loss': Number(info.valLoss.toFixed(4)),
        'team reward': Number((r.teamReward ?? 0).toFixed(5)),
      }),
    );
    observations = r.observations;
  });
  return { rows, observations };
}

/** What {@link stepCreditComparison} returns. */
export interface StepCreditComparison {
  /** Team reward of the real step. */
  teamReward: number;
  /** The same team reward replayed from the snapshot before the step (equal to the bit). */
  replayed: number;
  /** Per agent: action, factor, shared reward, `G(a_-i, keep)` and the exact (myopic) difference reward. */
  rows: Record<string, string | number>[];
}

/**
 * Shared vs exact per-interval difference rewards of one joint action: replays the next K steps
 * from a snapshot with the joint action and with each agent's action replaced by "keep", then takes
 * the real step. `D_i = G(a) - G(a with a_i = keep)`; an agent that keeps gets exactly 0.
 *
 * @example
 * ```ts
 * const c = stepCreditComparison(env, [7, 4, 2]);
 * c.teamReward === c.replayed; // true
 * ```
 */
export function stepCreditComparison(env: LayerLrEnv, joint: readonly number[]): StepCreditComparison {
  const replayed = env.counterfactualTeamReward(joint.slice());
  const without = joint.map((_, i) => {
    const alt = joint.slice();
    alt[i] = env.defaultAction(i);
    return env.counterfactualTeamReward(alt);
  });
  const g = env.step(joint.slice()).teamReward ?? 0;
  return {
    teamReward: g,
    replayed,
    rows: joint.map((a, i) => ({
      agent: i,
      action: a,
      factor: Number(actionFactor(env, a).toFixed(3)),
      'shared reward': Number(g.toFixed(6)),
      'G(a_-i, keep)': Number(without[i].toFixed(6)),
      'difference reward D_i': Number((g - without[i]).toFixed(6)),
    })),
  };
}

/** What {@link horizonDifferenceDemo} returns (units: ln of validation-loss ratios). */
export interface HorizonDifferenceDemo {
  /** Per-interval (myopic) difference reward of the change: the next K steps only. */
  myopic: number;
  /** Horizon-true difference reward of the agent at every decision. */
  perStep: number[];
  /** Their sum over the episode. */
  episodeSum: number;
  /** Episode return of the run with the change minus that of the all-keep run. */
  effect: number;
}

/**
 * One agent changes its LR once, at the first decision, then every agent keeps: the myopic
 * difference reward of the change, the horizon-true difference rewards (env `agentRewards:
 * 'difference'`, clip off) and the effect on the episode return measured by a separate all-keep
 * run. Summed over the episode the horizon-true rewards equal that effect.
 *
 * @example
 * ```ts
 * const d = horizonDifferenceDemo({ task: { datasets: ['digits'] } }, 3, { agent: 0, action: 8 });
 * d.episodeSum; d.effect; // equal up to float rounding
 * ```
 */
export function horizonDifferenceDemo(
  envConfig: LayerLrEnvConfig,
  seed: number,
  change: { agent: number; action: number } = { agent: 0, action: 8 },
): HorizonDifferenceDemo {
  const run = (cfg: LayerLrEnvConfig, changed: boolean) => {
    const e = new LayerLrEnv(cfg);
    try {
      e.reset(seed);
      if (change.agent < 0 || change.agent >= e.numAgents)
        throw new Error(`horizonDifferenceDemo: agent ${change.agent} is not one of the ${e.numAgents} agents`);
      const keepAll = () => Array.from({ length: e.numAgents }, (_, i) => e.defaultAction(i));
      const first = keepAll();
      if (changed) first[change.agent] = change.action;
      const myopic = changed ? e.counterfactualTeamReward(first) - e.counterfactualTeamReward(keepAll()) : 0;
      let r = e.step(first);
      const perStep = [r.rewards[change.agent]];
      let ret = r.teamReward ?? 0;
      while (!r.terminated) {
        r = e.step(keepAll());
        perStep.push(r.rewards[change.agent]);
        ret += r.teamReward ?? 0;
      }
      return { myopic, perStep, ret };
    } finally {
      e.dispose();
    }
  };
  const changed = run({ ...envConfig, agentRewards: 'difference', differenceClip: 100 }, true);
  const kept = run(envConfig, false);
  return {
    myopic: changed.myopic,
    perStep: changed.perStep,
    episodeSum: changed.perStep.reduce((a, b) => a + b, 0),
    effect: changed.ret - kept.ret,
  };
}

/** One arm of {@link trainFeatureArms}: a name and an optional change of the feature registry. */
export interface FeatureArm {
  name: string;
  /** Edits every env's features (e.g. adds a custom feature); undefined = the default features. */
  setup?: (features: FeatureRegistry) => void;
}

/** An agent trained by {@link trainFeatureArms}. */
export interface ArmAgent {
  arm: string;
  seed: number;
  result: GannoTrainResult;
}

/** Options of {@link trainFeatureArms}. */
export interface TrainFeatureArmsOptions {
  env: LayerLrEnvConfig;
  arms: readonly FeatureArm[];
  seeds: readonly number[];
  /** PPO updates per agent; checkpoints and validation every `max(1, floor(updates / 2))`. */
  updates: number;
  /** Parent folder of the run folders (`<dir>/<custom|default>-seed<s>`, removed first: every call trains afresh). */
  dir: string;
  valSeeds?: readonly number[];
  progress?: ProgressSink;
  /** Called after each agent (e.g. to print a line). */
  onAgent?: (agent: ArmAgent) => void;
}

/**
 * Trains one GANNO agent per (arm, seed) with `trainGannoAgents` (the arms differ only in their
 * features; the same seeds give them the same tasks in the same order).
 *
 * @example
 * ```ts
 * const trained = trainFeatureArms({ env, arms: [{ name: 'default' }, { name: '+ f', setup: (f) => void f.add(def) }], seeds: [0], updates: 2, dir: 'results/runs' });
 * ```
 */
export function trainFeatureArms(options: TrainFeatureArmsOptions): ArmAgent[] {
  const { env, arms, seeds, updates, dir } = options;
  const every = Math.max(1, Math.floor(updates / 2));
  const out: ArmAgent[] = [];
  for (const arm of arms) {
    for (const seed of seeds) {
      const runDir = path.join(dir, `${arm.setup ? 'custom' : 'default'}-seed${seed}`);
      fs.rmSync(runDir, { recursive: true, force: true });
      const result = trainGannoAgents(
        {
          env: env as Record<string, unknown>,
          updates,
          seed,
          dir: runDir,
          checkpointEvery: every,
          evalEvery: every,
          valSeeds: [...(options.valSeeds ?? [900001, 900002])],
        },
        { setupFeatures: arm.setup, progress: options.progress },
      );
      const agent = { arm: arm.name, seed, result };
      out.push(agent);
      options.onAgent?.(agent);
    }
  }
  return out;
}

/**
 * Mean team return per PPO update of each arm over its seeds, with the min-max band (for
 * `lineFigure`).
 *
 * @example
 * ```ts
 * await showFigure(lineFigure(armTeamReturnCurves(trained)), { name: 'learning-curves' });
 * ```
 */
export function armTeamReturnCurves(
  trained: readonly ArmAgent[],
): { name: string; x: number[]; y: number[]; lower: number[]; upper: number[] }[] {
  const names = [...new Set(trained.map((t) => t.arm))];
  return names.map((name) => {
    const mine = trained.filter((r) => r.arm === name).map((r) => r.result.teamReturn);
    const x = mine[0].map((_, u) => u + 1);
    const at = (u: number) => mine.map((c) => c[u]);
    return {
      name,
      x,
      y: x.map((_, u) => at(u).reduce((a, b) => a + b, 0) / mine.length),
      lower: x.map((_, u) => Math.min(...at(u))),
      upper: x.map((_, u) => Math.max(...at(u))),
    };
  });
}

/** Evaluation runs of one controller row of {@link evaluateFeatureArms}. */
export interface ArmEvaluation {
  arm: string;
  runs: ControllerRunResult[];
}

/**
 * Evaluates on held-out tasks: the constant-LR baseline first (each task's initial LR), then each
 * arm's best checkpoints, greedy and sampled (the arm's features set up on every env).
 *
 * @example
 * ```ts
 * const rows = evaluateFeatureArms(trained, arms, env, [7001, 7002]);
 * showTable(armEvaluationTable(rows), { name: 'evaluation' });
 * ```
 */
export function evaluateFeatureArms(
  trained: readonly ArmAgent[],
  arms: readonly FeatureArm[],
  env: LayerLrEnvConfig,
  seeds: readonly number[],
): ArmEvaluation[] {
  const out: ArmEvaluation[] = [
    { arm: 'constant (initial LR)', runs: evaluateController(constantController(), { env, seeds: [...seeds] }) },
  ];
  for (const arm of arms) {
    for (const greedy of [true, false]) {
      const runs: ControllerRunResult[] = [];
      for (const t of trained.filter((r) => r.arm === arm.name)) {
        if (!t.result.bestDir)
          throw new Error(`evaluateFeatureArms: ${arm.name}, seed ${t.seed}: no checkpoint was kept`);
        const controller = controllerFromSpec(
          { type: 'policy', checkpoint: t.result.bestDir, greedy, name: arm.name },
          env,
        );
        try {
          runs.push(...evaluateController(controller, { env, seeds: [...seeds], setupFeatures: arm.setup }));
        } finally {
          if (controller instanceof PolicyController) controller.policy.dispose();
        }
      }
      out.push({ arm: `GANNO ${greedy ? 'greedy' : 'sampled'}, ${arm.name}`, runs });
    }
  }
  return out;
}

/** Bootstrap seed of row `k`'s test-accuracy interval in {@link armEvaluationTable} (shared by {@link constantComparisonLines}). */
const ACCURACY_CI_SEED = 10;

/**
 * The evaluation table: per controller row, runs, test accuracy, test loss and validation-loss AUC
 * as means with 95% bootstrap CIs over runs, and the number of diverged runs.
 *
 * @example
 * ```ts
 * showTable(armEvaluationTable(rows), { name: 'evaluation' });
 * ```
 */
export function armEvaluationTable(rows: readonly ArmEvaluation[]): Record<string, string | number>[] {
  const ci = (xs: number[], seed: number, scale = 1, digits = 2) => formatInterval(meanCI(xs, { seed }), digits, scale);
  return rows.map((r, k) => ({
    controller: r.arm,
    runs: r.runs.length,
    'test accuracy % (95% CI)': ci(
      r.runs.map((x) => x.testAccuracy),
      ACCURACY_CI_SEED + k,
      100,
      1,
    ),
    'test loss (95% CI)': ci(
      r.runs.map((x) => (Number.isFinite(x.testLoss) ? x.testLoss : 10)),
      20 + k,
      1,
      3,
    ),
    'val-loss AUC (95% CI)': ci(
      r.runs.map((x) => x.valLossAuc),
      30 + k,
      1,
      3,
    ),
    diverged: r.runs.filter((x) => x.diverged).length,
  }));
}

/**
 * Per arm: observation size, mean team return of the first and last update, mean best validation
 * score and mean training seconds (of this process's `trainGannoAgents` calls).
 *
 * @example
 * ```ts
 * showTable(armTrainingSummary(trained), { name: 'training-summary' });
 * ```
 */
export function armTrainingSummary(trained: readonly ArmAgent[]): Record<string, string | number>[] {
  const names = [...new Set(trained.map((t) => t.arm))];
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return names.map((name) => {
    const mine = trained.filter((r) => r.arm === name).map((r) => r.result);
    return {
      arm: name,
      'observation size': mine[0].observationSize,
      'first-update team return': Number(mean(mine.map((r) => r.teamReturn[0])).toFixed(4)),
      'last-update team return': Number(mean(mine.map((r) => r.teamReturn[r.teamReturn.length - 1])).toFixed(4)),
      'best validation score (mean)': Number(mean(mine.map((r) => (r.best ? r.best.score : NaN))).toFixed(4)),
      'train seconds (mean)': Number(mean(mine.map((r) => r.seconds)).toFixed(1)),
    };
  });
}

/**
 * One sentence per trained controller row: its test accuracy against the constant LR (row 0), with
 * a verdict only when both sides have at least two runs and their 95% CIs (the table's) do not
 * overlap, and the probability of improvement.
 *
 * @example
 * ```ts
 * for (const line of constantComparisonLines(rows)) console.log(line);
 * ```
 */
export function constantComparisonLines(rows: readonly ArmEvaluation[]): string[] {
  if (!rows.length) return [];
  const constantAcc = rows[0].runs.map((r) => r.testAccuracy);
  const c = meanCI(constantAcc, { seed: ACCURACY_CI_SEED });
  const lines: string[] = [];
  rows.forEach((row, k) => {
    if (k === 0) return;
    const acc = row.runs.map((r) => r.testAccuracy);
    const d = meanCI(acc, { seed: ACCURACY_CI_SEED + k });
    const head = `${row.arm}: test accuracy ${(100 * d.point).toFixed(1)}% vs constant ${(100 * c.point).toFixed(1)}%`;
    if (acc.length < 2 || constantAcc.length < 2) {
      lines.push(`${head} (one run per side in this preset: no interval, no verdict)`);
      return;
    }
    const poi = probabilityOfImprovement(
      acc.map((a) => [a]),
      constantAcc.map((a) => [a]),
      { seed: 5 },
    );
    const verdict = d.lo > c.hi ? 'better than' : d.hi < c.lo ? 'worse than' : 'not distinguishable from';
    lines.push(
      `${head} -> ${verdict} the constant LR at this budget (non-overlapping 95% CIs required); P(improvement) = ${poi.point.toFixed(2)} [${poi.lo.toFixed(2)}, ${poi.hi.toFixed(2)}]`,
    );
  });
  return lines;
}
