import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import { differenceStepAssigner } from '../../src/credit';
import { LayerLrEnv, TaskSampler, approximateDifferenceAssigner, buildTaskModel, taskBatches } from '../../src/ganno';
import type { LayerLrEnvConfig, TaskConfig } from '../../src/ganno';
import { LayerwiseTrainer, runTraining } from '../../src/nn';

/** A tiny synthetic MLP task: 64 inputs, 1-2 hidden layers of 8-16 units, 4 classes. */
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

function weights(env: LayerLrEnv): Float32Array[] {
  return env.trainer.model.trainableVariables().map((v) => v.dataSync().slice() as Float32Array);
}

function optimizerState(env: LayerLrEnv): Float32Array[] {
  const snap = env.trainer.snapshot();
  const out = snap.optimizerState.map((t) => t.dataSync().slice() as Float32Array);
  env.trainer.disposeSnapshot(snap);
  return out;
}

describe('ganno/LayerLrEnv', () => {
  it('runs an episode: one agent per layer, T = totalSteps / K decisions, reward = -(ln Lval(t+1) - ln Lval(t))', () => {
    const env = new LayerLrEnv(tiny({}, { depth: [2, 2] }));
    assert.equal(env.spec.maxSteps, 4);
    assert.equal(env.spec.numActions, 9);
    assert.equal(env.spec.observationSize, 14);
    const r = env.reset(3);
    assert.equal(r.observations.length, 3);
    assert.equal(env.numAgents, 3);
    for (const o of r.observations) assert.equal(o.length, 14);
    const lr0 = env.task.initialLr;
    assert.ok(lr0 >= 0.05 && lr0 <= 0.2);
    let steps = 0;
    let done = false;
    let sum = 0;
    while (!done) {
      const before = env.state.valLoss;
      const s = env.step([8, 4, 0]); // x2, keep, /2
      steps++;
      assert.equal(s.rewards.length, 3);
      const expected = -(Math.log(s.info.valLoss) - Math.log(before));
      assert.equal(s.teamReward, expected);
      assert.ok(Array.from(s.rewards).every((x) => x === Math.fround(expected)));
      sum += s.teamReward;
      assert.equal(s.info.sgdSteps, 4 * steps);
      // the observation reflects the new state: log_lr (entry 0) and progress (entry 8)
      s.observations.forEach((o, i) => {
        assert.equal(o[0], Math.fround(Math.log10(s.info.lrs[i])));
        assert.equal(o[8], Math.fround(steps / 4));
      });
      done = s.terminated;
    }
    assert.equal(steps, 4);
    const st = env.state;
    assert.ok(Math.abs(st.lrs[0] - Math.min(1, lr0 * 16)) < 1e-12);
    assert.ok(Math.abs(st.lrs[2] - lr0 / 16) < 1e-12);
    assert.equal(st.lrs[1], lr0);
    // rewards telescope to -(ln Lval(T) - ln Lval(0)), and the network learned (loss went down)
    assert.ok(Math.abs(sum + Math.log(st.valLoss / st.valLossHistory[0])) < 1e-9);
    assert.ok(st.valLoss < st.valLossHistory[0], `val loss ${st.valLossHistory[0]} -> ${st.valLoss}`);
    assert.throws(() => env.step([4, 4, 4]), /episode is over; call reset/);
    env.dispose();
  });

  it('counterfactual replay of the factual actions reproduces step() bit for bit; defaults give D_i = 0 exactly', () => {
    const env = new LayerLrEnv(tiny({}, { depth: [2, 2], optimizer: ['momentum'], weightDecay: [1e-3] }));
    env.reset(5);
    env.step([6, 2, 4]); // move away from the start so momentum buffers are non-zero
    const w0 = weights(env);
    const o0 = optimizerState(env);
    const actions = [7, 4, 1];
    const replay = env.counterfactualTeamReward(actions);
    const other = env.counterfactualTeamReward([0, 0, 0]);
    assert.notEqual(other, replay);
    // state restored after the branches
    assert.deepEqual(weights(env), w0);
    assert.deepEqual(optimizerState(env), o0);
    const replayWeights = (() => {
      // one more replay, capturing its weights before restoring, through a second env at the same point
      const twin = new LayerLrEnv(tiny({}, { depth: [2, 2], optimizer: ['momentum'], weightDecay: [1e-3] }));
      twin.reset(5);
      twin.step([6, 2, 4]);
      twin.step(actions);
      const w = weights(twin);
      twin.dispose();
      return w;
    })();
    const credit = differenceStepAssigner();
    const prepared = credit.prepare!(env, actions);
    const result = env.step(actions);
    assert.equal(result.teamReward, replay, 'factual step reward equals its replay exactly');
    assert.deepEqual(
      weights(env),
      replayWeights,
      'weights after a step with counterfactual branches equal those of a step without',
    );
    const d = credit.assign({ result, prepared });
    assert.equal(d[1], 0, 'agent playing the default action gets exactly 0');
    assert.ok(d[0] !== 0 && d[2] !== 0);
    assert.ok(
      result.info.counterfactualBranches === 2 + 2,
      'two manual branches + two from the assigner (the default agent is skipped)',
    );
    env.dispose();
  });

  it('a difference reward equals G(a) - G(a with a_i = keep) computed by independent runs', () => {
    const cfg = tiny({}, { depth: [1, 1] });
    const run = (a: number[]) => {
      const e = new LayerLrEnv(cfg);
      e.reset(11);
      const g = e.step(a).teamReward;
      e.dispose();
      return g;
    };
    const env = new LayerLrEnv(cfg);
    env.reset(11);
    const credit = differenceStepAssigner();
    const prepared = credit.prepare!(env, [8, 0]);
    const result = env.step([8, 0]);
    const d = credit.assign({ result, prepared });
    assert.equal(result.teamReward, run([8, 0]));
    assert.equal(d[0], Math.fround(run([8, 0]) - run([4, 0])));
    assert.equal(d[1], Math.fround(run([8, 0]) - run([8, 4])));
    env.dispose();
  });

  it('approximate difference rewards: m = K equals the exact ones bit for bit; with m < K defaults get 0 and the state is restored', () => {
    const cfg = tiny({ terminalAccuracyWeight: 1 }, { depth: [2, 2], totalSteps: 8 });
    const env = new LayerLrEnv(cfg);
    env.reset(13);
    const actions = [8, 4, 0];
    for (let t = 0; t < 2; t++) {
      const exact = differenceStepAssigner();
      const p = exact.prepare!(env, actions);
      const w0 = weights(env);
      const full = approximateDifferenceAssigner(4).prepare(env, actions);
      const one = env.approximateDifferenceRewards(actions, 1);
      assert.deepEqual(weights(env), w0, 'state restored');
      const s = env.step(actions);
      const d = exact.assign({ result: s, prepared: p });
      assert.deepEqual(Array.from(full), Array.from(d), `decision ${t} (the last one includes the terminal term)`);
      assert.equal(one[1], 0);
      assert.ok(one[0] !== d[0] && Number.isFinite(one[0]) && Number.isFinite(one[2]));
    }
    assert.throws(() => new LayerLrEnv(cfg).approximateDifferenceRewards([4, 4, 4], 1), /no episode/);
    const e2 = new LayerLrEnv(cfg);
    e2.reset(1);
    assert.throws(
      () => e2.approximateDifferenceRewards([4, 4, 4], 5),
      /m \(replayed steps\) must be an integer in \[1, K = 4\], got 5/,
    );
    e2.dispose();
    env.dispose();
  });

  it('"always keep" reproduces constant-LR runTraining exactly (same final weights)', () => {
    const cfg = tiny({}, { depth: [2, 2], k: 5, totalSteps: 20 });
    const env = new LayerLrEnv(cfg);
    env.reset(21);
    let done = false;
    let last = NaN;
    while (!done) {
      const s = env.step(Array.from({ length: env.numAgents }, (_, i) => env.defaultAction(i)));
      done = s.terminated;
      last = s.info.valLoss;
    }
    const w = weights(env);
    const task = new TaskSampler(cfg.task).sample(21);
    const model = buildTaskModel(task);
    const trainer = new LayerwiseTrainer(model, {
      optimizer: task.optimizer,
      learningRates: task.initialLr,
      weightDecay: task.weightDecay,
      seed: task.trainerSeed,
    });
    const it = taskBatches(task);
    const val = {
      x: tf.tensor(task.validation.images, [task.validation.n, 64]),
      y: tf.tensor1d(task.validation.labels, 'int32'),
    };
    const res = runTraining(trainer, it, { steps: 20, validation: val, evalEvery: 20 });
    const w2 = model.trainableVariables().map((v) => v.dataSync().slice() as Float32Array);
    assert.deepEqual(w, w2);
    assert.equal(res.final.valLoss, last);
    tf.dispose([val.x, val.y]);
    it.dispose();
    trainer.dispose();
    model.dispose();
    env.dispose();
  });

  it('per-step LRs (stepWithLearningRates) train exactly as a hand-run trainer setting the LR before every step', () => {
    const cfg = tiny({ lrClip: [1e-5, 0.15] }, { depth: [2, 2], k: 5, totalSteps: 20 });
    // a different LR per layer and per step; step 7's LR is above lrClip and trains at the bound
    const lrAt = (step: number, layer: number) => (step === 7 ? 5 : 0.02 + 0.01 * layer + 0.003 * step);
    const env = new LayerLrEnv(cfg);
    env.reset(21);
    const seen: { sgdStep: number; lrs: number[] }[] = [];
    const metrics: number[] = [];
    const curve: number[] = [env.state.valLoss];
    const firstLrs: number[][] = [];
    let done = false;
    while (!done) {
      const s = env.stepWithLearningRates({
        lrs: (input) => {
          seen.push(input);
          return input.lrs.map((_, i) => lrAt(input.sgdStep, i));
        },
        after: (m) => metrics.push(m.loss),
      });
      done = s.terminated;
      curve.push(s.info.valLoss);
      firstLrs.push(s.info.lrs);
    }
    assert.deepEqual(
      seen.map((x) => x.sgdStep),
      Array.from({ length: 20 }, (_, i) => i),
    );
    // each call sees the LRs the previous step ran with (clipped)
    assert.deepEqual(seen[8].lrs, [0.15, 0.15, 0.15]);
    assert.deepEqual(
      firstLrs[1],
      [0, 1, 2].map((i) => lrAt(5, i)),
    );
    const w = weights(env);

    const task = new TaskSampler(cfg.task).sample(21);
    const model = buildTaskModel(task);
    const trainer = new LayerwiseTrainer(model, {
      optimizer: task.optimizer,
      learningRates: task.initialLr,
      weightDecay: task.weightDecay,
      seed: task.trainerSeed,
    });
    const it = taskBatches(task);
    const val = {
      x: tf.tensor(task.validation.images, [task.validation.n, 64]),
      y: tf.tensor1d(task.validation.labels, 'int32'),
    };
    const hand: number[] = [trainer.evaluate(val.x, val.y, 512).loss];
    const handLosses: number[] = [];
    for (let step = 0; step < 20; step++) {
      trainer.setLearningRates([0, 1, 2].map((i) => Math.min(0.15, lrAt(step, i))));
      const b = it.next();
      handLosses.push(trainer.step(b).loss);
      tf.dispose([b.x, b.y]);
      if ((step + 1) % 5 === 0) hand.push(trainer.evaluate(val.x, val.y, 512).loss);
    }
    assert.deepEqual(
      w,
      model.trainableVariables().map((v) => v.dataSync().slice() as Float32Array),
    );
    assert.deepEqual(curve, hand);
    assert.deepEqual(metrics, handLosses);
    tf.dispose([val.x, val.y]);
    it.dispose();
    trainer.dispose();
    model.dispose();
    env.dispose();
    const diff = new LayerLrEnv(tiny({ agentRewards: 'difference' }));
    diff.reset(1);
    assert.throws(() => diff.stepWithLearningRates({ lrs: ({ lrs }) => lrs }), /team rewards only/);
    diff.dispose();
  });

  it('divergence ends the episode with the penalty and never throws', () => {
    // a linear softmax classifier (no ReLU to die) whose LR doubles every SGD step until the weights overflow
    const env = new LayerLrEnv(
      tiny(
        { lrClip: [1e-5, 1e38], divergencePenalty: 3 },
        { depth: [0, 0], initialLr: [1000, 1000], k: 1, totalSteps: 200 },
      ),
    );
    env.reset(2);
    let s;
    let steps = 0;
    do {
      const up = Array.from({ length: env.numAgents }, () => 8);
      const cf = env.counterfactualTeamReward(up.map(() => 4));
      assert.ok(Number.isFinite(cf));
      s = env.step(up);
      steps++;
    } while (!s.terminated);
    assert.ok(s.info.diverged, `diverged after ${steps} steps (lr ${s.info.lrs})`);
    assert.equal(s.teamReward, -3);
    assert.ok(
      s.observations.every((o) => o.every(Number.isFinite)),
      'observations stay finite',
    );
    env.dispose();
  });

  it('adds the terminal accuracy term on the last step only', () => {
    const env = new LayerLrEnv(tiny({ terminalAccuracyWeight: 2 }, { depth: [1, 1], totalSteps: 8 }));
    env.reset(4);
    let prev = env.state.valLoss;
    const s1 = env.step([4, 4]);
    assert.equal(s1.teamReward, -(Math.log(s1.info.valLoss) - Math.log(prev)));
    prev = s1.info.valLoss;
    const s2 = env.step([4, 4]);
    assert.ok(s2.terminated);
    assert.equal(s2.teamReward, -(Math.log(s2.info.valLoss) - Math.log(prev)) + 2 * s2.info.valAccuracy);
    env.dispose();
  });

  it('is deterministic per seed and samples different tasks for different seeds', () => {
    const cfg = tiny();
    const play = (seed: number) => {
      const env = new LayerLrEnv(cfg);
      env.features.frozen = true; // no running statistics carried between episodes
      const r = env.reset(seed);
      const rs = [r.observations.map((o) => Array.from(o))];
      const g: number[] = [];
      for (let t = 0; t < 4; t++) {
        const s = env.step(Array.from({ length: env.numAgents }, (_, i) => (i + t) % 9));
        g.push(s.teamReward);
      }
      const out = { g, rs, hidden: env.task.hidden, lr: env.task.initialLr };
      env.dispose();
      return out;
    };
    assert.deepEqual(play(8), play(8));
    const tasks = [1, 2, 3, 4, 5, 6].map((s) => new TaskSampler(cfg.task).sample(s));
    assert.ok(new Set(tasks.map((t) => t.initialLr)).size === 6);
    assert.ok(new Set(tasks.map((t) => t.hidden.join(','))).size > 1);
  });

  it('does not leak tensors across episodes with counterfactual branches', () => {
    const credit = differenceStepAssigner();
    const episode = (env: LayerLrEnv, seed: number) => {
      env.reset(seed);
      for (;;) {
        const a = Array.from({ length: env.numAgents }, (_, i) => (seed + i) % 9);
        const p = credit.prepare!(env, a);
        const s = env.step(a);
        credit.assign({ result: s, prepared: p });
        if (s.terminated) break;
      }
    };
    const warm = new LayerLrEnv(tiny());
    episode(warm, 1);
    warm.dispose();
    const before = tf.memory().numTensors;
    // fixed architecture: the count held between episodes is flat
    const fixed = new LayerLrEnv(tiny({}, { depth: [2, 2] }));
    const counts: number[] = [];
    for (let s = 2; s < 5; s++) {
      episode(fixed, s);
      counts.push(tf.memory().numTensors);
    }
    assert.deepEqual(counts, [counts[0], counts[0], counts[0]]);
    fixed.dispose();
    assert.equal(tf.memory().numTensors, before);
    // varying architectures: everything freed at dispose
    const env = new LayerLrEnv(tiny());
    for (let s = 5; s < 9; s++) episode(env, s);
    env.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  it('supports absolute LR levels and the 3-action set', () => {
    const env = new LayerLrEnv(tiny({ actions: 'levels9' }, { depth: [1, 1] }));
    env.reset(1);
    const ref = env.task.initialLr;
    assert.equal(env.defaultAction(0), 4);
    const s = env.step([8, 0]);
    assert.ok(Math.abs(s.info.lrs[0] - ref * 10) < 1e-12 * ref * 10 || s.info.lrs[0] === 1);
    assert.ok(Math.abs(s.info.lrs[1] - ref / 10) < 1e-15);
    assert.equal(env.defaultAction(1), 0);
    env.dispose();
    const env3 = new LayerLrEnv(tiny({ actions: 'factors3' }));
    assert.equal(env3.spec.numActions, 3);
    env3.reset(1);
    assert.equal(env3.defaultAction(0), 1);
    env3.dispose();
  });

  it('runs on digits and Fashion-MNIST MLPs and on a small CNN (one agent per conv/dense layer)', () => {
    for (const dataset of ['digits', 'fashion-mnist'] as const) {
      const env = new LayerLrEnv({
        k: 2,
        task: { datasets: [dataset], depth: [1, 1], widths: [32], trainSize: 256, valSize: 128, totalSteps: 4 },
      });
      const r = env.reset(1);
      assert.equal(r.observations.length, 2);
      assert.equal(env.task.train.height * env.task.train.width, 784);
      const s = env.step([4, 4]);
      assert.ok(Number.isFinite(s.teamReward) && s.info.valAccuracy >= 0 && s.info.valAccuracy <= 1);
      env.dispose();
    }
    const cnn = new LayerLrEnv(tiny({}, { model: 'cnn', depth: [2, 2], filters: [4] }));
    const r = cnn.reset(2);
    assert.equal(r.observations.length, 3);
    assert.deepEqual(
      cnn.trainer.model.groups.map((g) => g.kind),
      ['conv2d', 'conv2d', 'dense'],
    );
    const d = differenceStepAssigner();
    const p = d.prepare!(cnn, [8, 4, 0]);
    const s = cnn.step([8, 4, 0]);
    const dr = d.assign({ result: s, prepared: p });
    assert.equal(dr[1], 0);
    assert.ok(Number.isFinite(dr[0]) && Number.isFinite(dr[2]));
    cnn.dispose();
  });

  it('rejects bad input with messages naming the problem', () => {
    assert.throws(
      () => new LayerLrEnv({ k: 3, task: { totalSteps: 10 } }),
      /task\.totalSteps: totalSteps must be a multiple of k/,
    );
    // K lives at the top of the env config only: the old place is refused with directions
    assert.throws(
      () => new LayerLrEnv({ task: { k: 5, totalSteps: 10 } } as never),
      /task\.k is no longer a task field.*\{ k: 5, task/,
    );
    assert.throws(() => new LayerLrEnv({ features: ['nope'] }), /unknown feature "nope"/);
    assert.throws(() => new LayerLrEnv({ divergencePenalty: -1 } as LayerLrEnvConfig), /divergencePenalty/);
    const env = new LayerLrEnv(tiny({}, { depth: [1, 1] }));
    assert.throws(() => env.step([4, 4]), /no episode; call reset/);
    env.reset(1);
    assert.throws(() => env.step([4]), /got 1 actions for 2 agents/);
    assert.throws(() => env.step([4, 9]), /action 9 of agent 1 is not an integer in \[0, 9\)/);
    assert.throws(() => env.counterfactualTeamReward([4, -1]), /action -1 of agent 1/);
    env.dispose();
    const big = new LayerLrEnv(tiny({}, { trainSize: 5000 }));
    assert.throws(
      () => big.reset(1),
      /trainSize \(5000\) \+ valSize \(128\) exceed the 1200 training examples of synthetic/,
    );
  });
});
