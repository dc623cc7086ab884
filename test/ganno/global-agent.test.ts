import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tf } from '../../src/backend';
import { differenceStepAssigner } from '../../src/credit';
import {
  DEFAULT_LR_FACTORS,
  GLOBAL_AGENT_FEATURE_NAMES,
  LayerLrEnv,
  PolicyController,
  constantController,
  controllerFromSpec,
  evaluateController,
  gannoEvalRun,
  loadGannoPolicy,
  runController,
  trainGannoAgents,
} from '../../src/ganno';
import type { LayerLrEnvConfig, TaskConfig } from '../../src/ganno';

/** A tiny synthetic MLP task (64 inputs, 4 classes). */
function tiny(
  extra: Partial<LayerLrEnvConfig> = {},
  { k = 4, ...task }: Partial<TaskConfig> & { k?: number } = {},
): LayerLrEnvConfig {
  return {
    k,
    task: {
      datasets: ['synthetic'],
      depth: [1, 2],
      widths: [8, 16],
      trainSize: 256,
      valSize: 128,
      batchSize: 32,
      totalSteps: 16,
      initialLr: [0.05, 0.2],
      ...task,
    },
    ...extra,
  };
}

function runEpisode(
  env: LayerLrEnv,
  seed: number,
  action: (t: number) => number[],
): { valLoss: number[]; rewards: number[] } {
  env.reset(seed);
  const valLoss = [env.state.valLoss];
  const rewards: number[] = [];
  for (let t = 0; ; t++) {
    const s = env.step(action(t));
    valLoss.push(s.info.valLoss);
    rewards.push(s.teamReward!);
    if (s.terminated || s.truncated) break;
  }
  return { valLoss, rewards };
}

describe('ganno/single global-LR agent (control: global)', function () {
  this.timeout(120_000);
  let root: string;
  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'ganno-global-'));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('has one agent whose observation is log_lr, prev_action and the global features, for 1- and 3-layer networks', () => {
    assert.deepEqual(GLOBAL_AGENT_FEATURE_NAMES, [
      'log_lr',
      'prev_action',
      'progress',
      'log_train_loss',
      'log_val_loss',
      'val_accuracy',
      'train_loss_change',
      'log_loss_variance',
    ]);
    for (const [depth, layers] of [
      [0, 1],
      [2, 3],
    ]) {
      const env = new LayerLrEnv(tiny({ control: 'global' }, { depth: [depth, depth] }));
      assert.equal(env.control, 'global');
      assert.equal(env.spec.observationSize, 8);
      assert.equal(env.spec.numActions, 9);
      assert.deepEqual(env.features.names, GLOBAL_AGENT_FEATURE_NAMES);
      const r = env.reset(5);
      assert.equal(env.numAgents, 1);
      assert.equal(env.numLayers, layers);
      assert.equal(env.trainer.learningRates.length, layers);
      assert.equal(r.observations.length, 1);
      assert.equal(r.observations[0].length, 8);
      assert.equal(r.observations[0][0], Math.fround(Math.log10(env.task.initialLr)));
      assert.equal(r.observations[0][1], 0.5, 'prev_action at reset = keep (4 / 8)');
      const s = env.step([8]);
      assert.equal(s.rewards.length, 1);
      assert.equal(s.rewards[0], Math.fround(s.teamReward!));
      assert.equal(s.observations.length, 1);
      assert.equal(s.observations[0][1], 1, 'prev_action = 8 / 8');
      assert.equal(s.observations[0][2], 1 / 4, 'progress = t / T');
      env.dispose();
    }
    // the default layerwise env is unchanged
    const lw = new LayerLrEnv(tiny({}, { depth: [2, 2] }));
    lw.reset(5);
    assert.equal(lw.control, 'layerwise');
    assert.equal(lw.numAgents, 3);
    assert.equal(lw.spec.observationSize, 14);
    lw.dispose();
  });

  it('keeps every layer at one LR that follows the factor arithmetic with clipping (factors9 and levels9)', () => {
    const env = new LayerLrEnv(
      tiny({ control: 'global', lrClip: [0.02, 0.5] }, { depth: [2, 2], initialLr: [0.2, 0.2], totalSteps: 40 }),
    );
    env.reset(3);
    const actions = [8, 8, 5, 0, 0, 0, 0, 0, 4, 7];
    let lr = 0.2;
    for (let t = 0; t < actions.length; t++) {
      lr = Math.min(0.5, Math.max(0.02, lr * DEFAULT_LR_FACTORS[actions[t]]));
      const s = env.step([actions[t]]);
      assert.deepEqual(s.info.lrs, [lr, lr, lr], `step ${t}`);
      assert.deepEqual(env.trainer.learningRates, [lr, lr, lr]);
      assert.deepEqual(env.state.lrs, [lr, lr, lr]);
      assert.deepEqual(Array.from(env.state.prevActions), [actions[t], actions[t], actions[t]]);
      assert.equal(s.observations[0][0], Math.fround(Math.log10(lr)));
    }
    // the clip bounds were reached on both sides
    assert.deepEqual(env.state.lrHistory.map((r) => r[0]).slice(2, 4), [0.5, 0.5]);
    assert.ok(
      env.state.lrHistory.some((r) => r[0] === 0.02),
      `lower clip reached: ${env.state.lrHistory.map((r) => r[0])}`,
    );
    assert.deepEqual(
      env.agentState.lrHistory.map((r) => r.length),
      new Array(actions.length + 1).fill(1),
    );
    env.dispose();

    const lv = new LayerLrEnv(
      tiny({ control: 'global', actions: 'levels9' }, { depth: [1, 1], initialLr: [0.01, 0.01] }),
    );
    lv.reset(4);
    assert.equal(lv.defaultAction(0), 4);
    const s = lv.step([8]);
    assert.deepEqual(s.info.lrs, [0.1, 0.1]);
    assert.equal(lv.defaultAction(0), 8, 'keep = the level nearest the shared LR');
    lv.dispose();
  });

  it('all-keep episodes are bit-identical to the layerwise env with all-keep actions on the same task seed', () => {
    const cfg = (control: 'global' | 'layerwise') => new LayerLrEnv(tiny({ control }, { depth: [2, 2] }));
    const g = cfg('global');
    const l = cfg('layerwise');
    const a = runEpisode(g, 17, () => [g.defaultAction(0)]);
    const b = runEpisode(l, 17, () => Array.from({ length: l.numAgents }, (_, i) => l.defaultAction(i)));
    assert.equal(a.valLoss.length, 5);
    assert.deepEqual(a.valLoss, b.valLoss);
    assert.deepEqual(a.rewards, b.rewards);
    const wg = g.trainer.model.trainableVariables().map((v) => v.dataSync().slice());
    const wl = l.trainer.model.trainableVariables().map((v) => v.dataSync().slice());
    assert.deepEqual(wg, wl);
    // the same holds for a non-trivial action applied to every layer
    const c = runEpisode(g, 18, (t) => [t % 2 ? 2 : 7]);
    const d = runEpisode(l, 18, (t) => new Array(l.numAgents).fill(t % 2 ? 2 : 7));
    assert.deepEqual(c.valLoss, d.valLoss);
    g.dispose();
    l.dispose();
  });

  it('difference reward: exactly 0 for keep, G(a) - G(keep) by exact replay otherwise; one agent only', () => {
    const env = new LayerLrEnv(tiny({ control: 'global' }, { depth: [1, 1] }));
    env.reset(9);
    const credit = differenceStepAssigner();
    const keep = env.defaultAction(0);
    assert.equal(keep, 4);
    assert.throws(() => env.defaultAction(1), /agent 1 is not in \[0, 1\).*one agent/);
    assert.throws(() => env.step([4, 4]), /2 actions for 1 agent \(control: 'global'/);
    assert.throws(() => env.counterfactualTeamReward([9]), /action 9 of agent 0/);

    let prepared = credit.prepare!(env, [keep]);
    let s = env.step([keep]);
    assert.deepEqual(Array.from(credit.assign({ result: s, prepared } as never)), [0]);
    assert.equal(s.info.counterfactualBranches, 0, 'keep costs no replay');

    const gKeep = env.counterfactualTeamReward([keep]);
    const gUp = env.counterfactualTeamReward([8]);
    prepared = credit.prepare!(env, [8]);
    s = env.step([8]);
    assert.equal(s.teamReward, gUp, 'the factual step equals the replay of its action');
    const d = credit.assign({ result: s, prepared } as never);
    assert.equal(d.length, 1);
    assert.equal(d[0], Math.fround(gUp - gKeep));
    assert.notEqual(d[0], 0);
    const approx = env.approximateDifferenceRewards([0], env.state.k);
    const gDown = env.counterfactualTeamReward([0]);
    const gKeep2 = env.counterfactualTeamReward([env.defaultAction(0)]);
    assert.equal(approx[0], Math.fround(gDown - gKeep2), 'approximate with m = K is exact');
    env.dispose();
  });

  it('local features read whole-network aggregates; layer-specific features are refused with a clear error', () => {
    assert.throws(
      () => new LayerLrEnv({ control: 'global', features: ['log_lr', 'relative_depth'] }),
      /LayerLrEnv config: features: feature "relative_depth" is layer-specific.*control: 'global'/,
    );
    assert.throws(
      () => new LayerLrEnv({ control: 'global', features: ['log_lr', 'depth'] }),
      /unknown feature "depth"/,
    );
    assert.throws(() => new LayerLrEnv({ control: 'sideways' as 'global' }), /control/);
    const env = new LayerLrEnv(
      tiny(
        {
          control: 'global',
          features: ['log_lr', 'log_grad_norm', 'log_weight_norm', 'log_update_ratio', 'grad_alignment', 'progress'],
        },
        { depth: [2, 2], k: 1, totalSteps: 3 },
      ),
    );
    assert.throws(() => env.features.add('relative_depth'), /relative_depth.*global/);
    env.features.add({
      name: 'lr_ratio',
      scope: 'local',
      normalisation: 'log',
      description: 'shared LR / initial LR',
      compute: (s, i) => s.lrs[i] / s.referenceLr,
    });
    const r = env.reset(2);
    assert.equal(r.observations[0].length, 7);
    env.step([8]);
    const s = env.state;
    const raw = env.features.raw(env.agentState, 0);
    const net = s.network!;
    const sq = (f: (i: number) => number) => Math.sqrt(s.layers.reduce((a, _, i) => a + f(i) ** 2, 0));
    // k = 1: the interval mean is the one step's value, so the aggregates are exact
    assert.ok(Math.abs(net.gradNormMean - sq((i) => s.layers[i].gradNormMean)) < 1e-9 * net.gradNormMean);
    assert.ok(Math.abs(net.weightNorm - sq((i) => s.layers[i].weightNorm)) < 1e-9 * net.weightNorm);
    assert.ok(Math.abs(net.updateNormMean - sq((i) => s.layers[i].updateNormMean)) < 1e-9 * net.updateNormMean);
    const sizes = env.trainer.model.groups.map((g) => g.numParams);
    const total = sizes.reduce((a, b) => a + b, 0);
    const agree = s.layers.reduce((a, l, i) => a + (l.signAgreementMean * sizes[i]) / total, 0);
    assert.ok(Math.abs(net.signAgreementMean - agree) < 1e-12);
    assert.equal(raw[0], Math.log10(s.lrs[0]));
    assert.equal(raw[1], Math.log10(net.gradNormMean));
    assert.equal(raw[2], Math.log10(net.weightNorm));
    assert.equal(raw[3], Math.log10(net.updateNormMean / net.weightNorm));
    assert.equal(raw[4], net.signAgreementMean);
    assert.ok(Math.abs(raw[5] - 2) < 1e-12, 'lr_ratio = 2 after factor 2');
    // the network gradient norm EMA feeds grad_norm_change like the per-layer one
    env.step([4]);
    assert.equal(env.state.networkLogGradNormEma, Math.log10(net.gradNormMean));
    env.dispose();
  });

  it('trains with trainGannoAgents, records the mode, and the checkpoint evaluates through runController; a layerwise env refuses it', () => {
    const before = tf.memory().numTensors;
    const envCfg = tiny({ control: 'global' }, { depth: [1, 2] });
    const dir = path.join(root, 'train');
    const res = trainGannoAgents({
      env: envCfg,
      numEnvs: 2,
      policy: { hiddenSizes: [16], gruSize: 16 },
      ppo: { chunkLength: 4 },
      seed: 3,
      updates: 2,
      checkpointEvery: 2,
      evalEvery: 2,
      valSeeds: [9001],
      dir,
    });
    assert.equal(res.updates, 2);
    assert.equal(res.observationSize, 8);
    assert.deepEqual(res.featureNames, GLOBAL_AGENT_FEATURE_NAMES);
    assert.ok(res.teamReturn.every(Number.isFinite) && res.validation.every((v) => Number.isFinite(v.score)));
    const loaded = loadGannoPolicy(res.bestDir!);
    assert.equal(loaded.control, 'global');
    assert.equal(loaded.policy.config.observationSize, 8);
    loaded.policy.dispose();

    const spec = { type: 'policy' as const, checkpoint: res.bestDir! };
    const ctrl = controllerFromSpec(spec, envCfg) as PolicyController;
    const runs = evaluateController(ctrl, { env: envCfg, seeds: [31, 32], testSize: 100 });
    for (const r of runs) {
      assert.equal(r.valLoss.length, 5);
      assert.equal(r.lrs.length, 4);
      assert.equal(r.lrs[0].length, r.numLayers);
      assert.ok(r.numLayers >= 2 && r.numLayers <= 3, `numLayers ${r.numLayers} is the network's layer count`);
      for (const row of r.lrs)
        assert.ok(
          row.every((v) => v === row[0]),
          `one LR for all layers: ${row}`,
        );
      assert.ok(Number.isFinite(r.testLoss));
    }
    // deterministic: the job function gives the same run
    const job = gannoEvalRun({ controller: spec, env: envCfg, taskSeed: 31, testSize: 100 });
    assert.deepEqual(job, runs[0]);
    // a layerwise env (same features even) refuses the global policy with a clear message
    const lwCfg = tiny({ features: GLOBAL_AGENT_FEATURE_NAMES.slice() }, { depth: [1, 2] });
    const wrong = controllerFromSpec(spec, lwCfg) as PolicyController;
    assert.throws(
      () => runController(wrong, 31, { env: lwCfg }),
      /trained with control 'global'.*environment uses control 'layerwise'.*control: 'global'/,
    );
    wrong.policy.dispose();
    // and resuming the global run as a layerwise one is refused
    assert.throws(
      () =>
        trainGannoAgents({
          env: lwCfg,
          numEnvs: 2,
          policy: { hiddenSizes: [16], gruSize: 16 },
          ppo: { chunkLength: 4 },
          seed: 3,
          updates: 3,
          valSeeds: [9001],
          dir,
        }),
      /control 'global', this run has control 'layerwise'/,
    );
    ctrl.policy.dispose();
    // MAPPO's centralised critic (summary state of the one observation) trains too
    const mappo = trainGannoAgents({
      env: envCfg,
      numEnvs: 1,
      policy: { hiddenSizes: [16], gruSize: 16, critic: 'centralised' },
      ppo: { chunkLength: 4 },
      seed: 3,
      updates: 1,
      valSeeds: [9001],
      dir: path.join(root, 'mappo'),
    });
    assert.ok(mappo.teamReturn.every(Number.isFinite) && mappo.validation.every((v) => Number.isFinite(v.score)));
    assert.equal(tf.memory().numTensors, before, 'no tensor leak');
  });

  it('rewardScale multiplies every team reward (and so the difference rewards) exactly', () => {
    const a = new LayerLrEnv(tiny({ control: 'global' }, { depth: [1, 1] }));
    const b = new LayerLrEnv(tiny({ control: 'global', rewardScale: 100 }, { depth: [1, 1] }));
    const ra = runEpisode(a, 12, (t) => [t % 2 ? 3 : 8]);
    const rb = runEpisode(b, 12, (t) => [t % 2 ? 3 : 8]);
    assert.deepEqual(rb.valLoss, ra.valLoss, 'training is unchanged');
    assert.deepEqual(
      rb.rewards,
      ra.rewards.map((r) => r * 100),
    );
    assert.throws(() => new LayerLrEnv({ rewardScale: 0 }), /rewardScale/);
    a.dispose();
    b.dispose();
  });

  it('learns: a briefly trained global agent raises a far too small LR and beats the constant initial LR on held-out tasks', function () {
    // Initial LRs 1e-3..3e-3 are about 100x too small for this task: the best this agent can do
    // within T = 8 decisions is to double the LR every time. rewardScale 100 brings the
    // per-interval rewards (1e-4..1e-2) to the critic's scale (without it the same run does not learn).
    const env: LayerLrEnvConfig = {
      control: 'global',
      rewardScale: 100,
      k: 4,
      task: {
        datasets: ['synthetic'],
        depth: [1, 1],
        widths: [16],
        trainSize: 256,
        valSize: 128,
        batchSize: 32,
        totalSteps: 32,
        initialLr: [1e-3, 3e-3],
      },
    };
    const dir = path.join(root, 'learn');
    const res = trainGannoAgents({
      env,
      numEnvs: 2,
      episodesPerEnv: 2,
      policy: { torso: 'mlp', hiddenSizes: [16] },
      ppo: { learningRate: 3e-3, chunkLength: 8 },
      seed: 1,
      updates: 15,
      checkpointEvery: 15,
      evalEvery: 5,
      valSeeds: [777001, 777002],
      dir,
    });
    const seeds = [5001, 5002, 5003, 5004];
    const ctrl = controllerFromSpec({ type: 'policy', checkpoint: res.bestDir! }, env) as PolicyController;
    const agent = evaluateController(ctrl, { env, seeds, testSize: 200 });
    ctrl.policy.dispose();
    const base = evaluateController(constantController(), { env, seeds, testSize: 200 });
    for (let i = 0; i < seeds.length; i++) {
      const lrs = agent[i].lrs.map((r) => r[0]);
      assert.ok(
        lrs[lrs.length - 1] >= 20 * agent[i].initialLr,
        `task ${seeds[i]}: LR raised from ${agent[i].initialLr} to ${lrs[lrs.length - 1]} (${lrs})`,
      );
      assert.ok(
        agent[i].finalValLoss < base[i].finalValLoss - 0.1,
        `task ${seeds[i]}: final val loss ${agent[i].finalValLoss} (agent) vs ${base[i].finalValLoss} (constant)`,
      );
    }
    const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
    assert.ok(
      mean(agent.map((r) => r.testAccuracy)) > mean(base.map((r) => r.testAccuracy)),
      'higher mean test accuracy',
    );
  });

  it('leaks no tensors over episodes with counterfactual replays', () => {
    const start = tf.memory().numTensors;
    const env = new LayerLrEnv(tiny({ control: 'global' }, { depth: [2, 2] }));
    const credit = differenceStepAssigner();
    const counts: number[] = [];
    for (let ep = 0; ep < 4; ep++) {
      env.reset(100 + ep);
      for (let t = 0; ; t++) {
        const a = [(t * 3 + ep) % 9];
        const prepared = credit.prepare!(env, a);
        const s = env.step(a);
        credit.assign({ result: s, prepared } as never);
        if (s.terminated) break;
      }
      counts.push(tf.memory().numTensors);
    }
    assert.ok(counts[0] > start, 'an episode holds tensors');
    assert.deepEqual(counts, new Array(4).fill(counts[0]), `tensors at the end of each episode: ${counts}`);
    env.dispose();
    assert.equal(tf.memory().numTensors, start);
  });
});
