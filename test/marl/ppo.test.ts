import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import { MemoryCueEnv, PpoTrainer, normalizeMasked, type PpoTrainerConfig } from '../../src/marl';

const base: PpoTrainerConfig = {
  policy: { observationSize: 4, numActions: 2, torso: 'gru', hiddenSizes: [8], gruSize: 8 },
  ppo: { chunkLength: 2, epochs: 2, minibatches: 3, learningRate: 1e-3 },
  seed: 3,
};
const envs = (n = 2) => Array.from({ length: n }, () => new MemoryCueEnv({ length: 3 }));
const params = (t: PpoTrainer) => [...t.policy.variables()].map(([, v]) => Array.from(v.dataSync()));

describe('marl/PpoTrainer', () => {
  it('is reproducible: same seed gives identical parameters, another seed different ones', () => {
    const run = (seed: number) => {
      const t = new PpoTrainer({ ...base, seed }, envs());
      t.train(2);
      const p = params(t);
      t.dispose();
      return p;
    };
    assert.deepEqual(run(3), run(3));
    assert.notDeepEqual(run(3), run(4));
  });

  it('first minibatch of an update sees ratio 1 (approx KL 0) and parameters move', () => {
    const t = new PpoTrainer(base, envs());
    const rollout = t.collector.collect();
    const batch = t.buildBatch(rollout);
    assert.equal(batch.mask.reduce((s, m) => s + m, 0), rollout.agentSteps);
    const { grads, terms } = t.gradients(batch);
    assert.ok(Math.abs(terms.approxKl) < 1e-6, `approx KL before any step ${terms.approxKl}`);
    assert.equal(terms.clipFraction, 0);
    assert.ok(terms.entropy > 0.6 && terms.entropy <= Math.log(2) + 1e-6, `initial entropy ${terms.entropy}`);
    assert.equal(grads.size, t.policy.params.names().length);
    grads.forEach((g) => g.dispose());
    const before = params(t);
    const stats = t.update(rollout);
    assert.notDeepEqual(params(t), before);
    assert.ok(stats.approxKl > 0 && stats.gradNorm > 0 && Number.isFinite(stats.valueLoss));
    assert.equal(t.optimizer.step, 2 * 3);
    t.dispose();
  });

  it('trains in steps mode (windows cut mid-episode, bootstrapped) without value or gradient clipping, leaking nothing', () => {
    const t = new PpoTrainer({ ...base, ppo: { ...base.ppo, clipValue: false, maxGradNorm: null }, rollout: { mode: 'steps', numSteps: 5 } }, envs(3));
    t.train(1);
    const n = tf.memory().numTensors;
    const h = t.train(3);
    assert.equal(tf.memory().numTensors, n);
    assert.ok(h.every((s) => Number.isFinite(s.policyLoss) && s.samples > 0));
    t.dispose();
  });

  it('validates its configuration with messages naming the field', () => {
    assert.throws(() => new PpoTrainer({ ...base, ppo: { clip: -0.1 } }, envs()), /PPO trainer config ppo: clip: Number must be greater than 0/);
    assert.throws(() => new PpoTrainer({ ...base, ppo: { epoch: 3 } as never }, envs()), /Unrecognized key\(s\) in object: 'epoch'/);
    assert.throws(() => new PpoTrainer({ ...base, rollout: { mode: 'forever' as 'steps' } }, envs()), /rollout: mode/);
    assert.throws(() => new PpoTrainer({ seed: 1 } as PpoTrainerConfig, envs()), /policy: Required/);
    assert.throws(() => new PpoTrainer({ ...base, policy: { ...base.policy, numActions: 3 } }, envs()), /numActions 2 does not match policy numActions 3/);
  });

  it('normalizeMasked standardises real samples only (unbiased std, like torch)', () => {
    const x = new Float32Array([1, 2, 3, 100]);
    normalizeMasked(x, new Float32Array([1, 1, 1, 0]));
    assert.deepEqual(Array.from(x).map((v) => Math.round(v * 1e6) / 1e6), [-1, 0, 1, 0]);
  });
});
