import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import { LayerLrEnv } from '../../src/ganno';
import type { LayerLrEnvConfig } from '../../src/ganno';
import { Rng } from '../../src/random';

const TASK: LayerLrEnvConfig['task'] = {
  datasets: ['synthetic'],
  depth: [1, 2],
  widths: [8, 16],
  trainSize: 256,
  valSize: 128,
  batchSize: 32,
  totalSteps: 24,
  initialLr: [0.05, 0.5],
  optimizer: ['sgd', 'momentum', 'adam'],
};

/** One episode under a seeded random policy; every step's rewards, team reward, shadow rewards and validation loss. */
function episode(config: LayerLrEnvConfig, seed: number) {
  const env = new LayerLrEnv(config);
  try {
    let r = env.reset(seed);
    const rng = new Rng(seed);
    const rows: {
      rewards: number[];
      team: number;
      shadows: (number | null)[] | undefined;
      valLoss: number;
      obs: number[][];
    }[] = [];
    for (;;) {
      const actions = Array.from({ length: env.numAgents }, (_, i) =>
        rng.uniform(0, 1) < 0.4 ? env.defaultAction(i) : rng.int(env.spec.numActions),
      );
      const s = env.step(actions);
      rows.push({
        rewards: Array.from(s.rewards),
        team: s.teamReward,
        shadows: s.info.shadowTeamRewards,
        valLoss: s.info.valLoss,
        obs: s.observations.map((o) => Array.from(o)),
      });
      if (s.terminated || s.truncated) break;
      r = s;
    }
    void r;
    const weights = env.trainer.model.trainableVariables().map((v) => Array.from(v.dataSync()));
    return { rows, weights };
  } finally {
    env.dispose();
  }
}

describe('ganno/LayerLrEnv on the vectorised trainer (horizon-true difference rewards)', () => {
  it('gives every reward, observation and final weight of the per-shadow trainers, to the bit', function () {
    this.timeout(120_000);
    if (tf.getBackend() !== 'wasm') this.skip(); // bit-identity is a measured property of the wasm kernels
    for (const control of ['layerwise', 'global'] as const) {
      for (const seed of [1, 2, 3, 4]) {
        const config: LayerLrEnvConfig = { k: 4, task: TASK, control, agentRewards: 'difference', differenceClip: 100 };
        const vec = episode(config, seed);
        const plain = episode({ ...config, vectorise: false }, seed);
        assert.deepEqual(vec, plain, `${control}, seed ${seed}`);
        assert.ok(
          vec.rows.some((row) => row.rewards.some((x) => x !== 0)),
          'some difference reward is non-zero (the comparison is not vacuous)',
        );
      }
    }
  });

  it('counterfactualTeamRewards (all branches of a decision as one vectorised run) equals one replay per branch, to the bit', function () {
    this.timeout(60_000);
    if (tf.getBackend() !== 'wasm') this.skip();
    for (const seed of [1, 2, 3]) {
      const env: LayerLrEnv = new LayerLrEnv({ k: 4, task: { ...TASK, depth: [2, 2] } });
      env.reset(seed);
      const rng = new Rng(seed);
      for (let t = 0; t < 3; t++) {
        const sets: number[][] = Array.from({ length: 4 }, () =>
          Array.from({ length: env.numAgents }, () => rng.int(env.spec.numActions)),
        );
        const batched = env.counterfactualTeamRewards(sets);
        const single: number[] = sets.map((a) => env.counterfactualTeamReward(a));
        assert.deepEqual(batched, single, `seed ${seed}, decision ${t}`);
        assert.ok(new Set(single).size > 1, 'the branches differ (not vacuous)');
        const factual = env.counterfactualTeamReward(sets[0]);
        assert.equal(env.step(sets[0]).teamReward, factual, 'the state was left unchanged');
      }
      env.dispose();
    }
  });

  it('leaks no tensors over 1000 vectorised episodes', function () {
    this.timeout(300_000);
    const env = new LayerLrEnv({
      k: 1,
      task: { ...TASK, depth: [1, 1], widths: [4], trainSize: 64, valSize: 32, batchSize: 16, totalSteps: 2 },
      agentRewards: 'difference',
    });
    const run = (seed: number) => {
      env.reset(seed);
      let s = env.step(
        Array.from({ length: env.numAgents }, (_, i) => (env.defaultAction(i) + 1) % env.spec.numActions),
      );
      while (!s.terminated) s = env.step(Array.from({ length: env.numAgents }, (_, i) => env.defaultAction(i)));
    };
    run(0);
    env.dispose();
    const before = tf.memory().numTensors;
    for (let e = 1; e <= 1000; e++) run(e);
    env.dispose();
    assert.equal(tf.memory().numTensors, before);
  });
});
