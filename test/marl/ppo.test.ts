import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import { MemoryCueEnv, PpoTrainer, ValueNormalizer, normalizeMasked, type PpoTrainerConfig } from '../../src/marl';

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
    assert.equal(
      batch.mask.reduce((s, m) => s + m, 0),
      rollout.agentSteps,
    );
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
    const t = new PpoTrainer(
      { ...base, ppo: { ...base.ppo, clipValue: false, maxGradNorm: null }, rollout: { mode: 'steps', numSteps: 5 } },
      envs(3),
    );
    t.train(1);
    const n = tf.memory().numTensors;
    const h = t.train(3);
    assert.equal(tf.memory().numTensors, n);
    assert.ok(h.every((s) => Number.isFinite(s.policyLoss) && s.samples > 0));
    t.dispose();
  });

  it('an aborted signal stops training between updates, keeping the updates done', () => {
    const t = new PpoTrainer(base, envs());
    const controller = new AbortController();
    const seen: number[] = [];
    assert.throws(
      () => t.train(5, (s) => (seen.push(s.update), seen.length === 2 && controller.abort()), controller.signal),
      (err: Error) => err.name === 'AbortError',
    );
    assert.equal(seen.length, 2);
    assert.equal(t.updates, 2);
    t.dispose();
  });

  it('validates its configuration with messages naming the field', () => {
    assert.throws(
      () => new PpoTrainer({ ...base, ppo: { clip: -0.1 } }, envs()),
      /PPO trainer config ppo: clip: Number must be greater than 0/,
    );
    assert.throws(
      () => new PpoTrainer({ ...base, ppo: { epoch: 3 } as never }, envs()),
      /Unrecognized key\(s\) in object: 'epoch'/,
    );
    assert.throws(() => new PpoTrainer({ ...base, rollout: { mode: 'forever' as 'steps' } }, envs()), /rollout: mode/);
    assert.throws(() => new PpoTrainer({ seed: 1 } as PpoTrainerConfig, envs()), /policy: Required/);
    assert.throws(
      () => new PpoTrainer({ ...base, policy: { ...base.policy, numActions: 3 } }, envs()),
      /numActions 2 does not match policy numActions 3/,
    );
  });

  it('reports learner diagnostics: KL from the initial policy, per-update KL, entropy, explained variance, separate gradient norms, action counts', () => {
    const t = new PpoTrainer({ ...base, ppo: { ...base.ppo, learningRate: 1e-2 } }, envs(4));
    const rollout = t.collector.collect();
    const s = t.update(rollout);
    assert.equal(
      s.actionCounts.reduce((a, b) => a + b, 0),
      rollout.agentSteps,
    );
    assert.equal(s.actionCounts.length, 2);
    assert.ok(
      s.klFromInitial > 0 && Number.isFinite(s.klFromInitial),
      `KL from initial after one update ${s.klFromInitial}`,
    );
    assert.ok(
      s.kl > 0 && s.policyEntropy > 0 && s.policyEntropy <= Math.log(2) + 1e-6 && s.maxProb >= 0.5 && s.maxProb <= 1,
    );
    assert.ok(
      s.actorGradNorm > 0 &&
        s.criticGradNorm > 0 &&
        s.actorGradNormMax >= s.actorGradNorm &&
        s.criticGradNormMax >= s.criticGradNorm,
    );
    assert.ok(
      Math.abs(s.gradNorm - Math.hypot(s.actorGradNorm, s.criticGradNorm)) < 0.5 * s.gradNorm,
      'the total norm combines both groups',
    );
    assert.ok(s.explainedVariance <= 1 && Number.isFinite(s.explainedVariance));
    assert.ok(s.clipFraction >= 0 && s.clipFraction <= 1);
    // KL from the initial policy grows as training moves the policy away from it
    const later = t.train(5);
    assert.ok(later[4].klFromInitial > s.klFromInitial, `${later.map((x) => x.klFromInitial)}`);
    t.dispose();
  });

  it('the critic learns standardised returns: with value normalisation its loss hardly depends on the reward scale, without it grows with its square', () => {
    const scaled = (k: number) => ({
      prepare: () => null,
      assign: ({ result }: { result: { rewards: Float32Array } }) => Float32Array.from(result.rewards, (r) => k * r),
    });
    const valueLoss = (k: number, valueNorm: boolean) => {
      const t = new PpoTrainer({ ...base, ppo: { ...base.ppo, valueNorm } }, envs(), { credit: scaled(k) });
      const h = t.train(3);
      t.dispose();
      return h[2];
    };
    const a = valueLoss(1, true);
    const b = valueLoss(1000, true);
    // Not exactly equal: the first rollout's values come from the untrained critic before any statistics exist.
    assert.ok(Math.abs(a.valueLoss - b.valueLoss) < 0.05 * a.valueLoss, `normalised: ${a.valueLoss} vs ${b.valueLoss}`);
    assert.ok(Math.abs(b.returnMean / a.returnMean - 1000) < 1e-2 * 1000, 'the statistics are in raw units');
    const rawA = valueLoss(1, false).valueLoss;
    const rawB = valueLoss(1000, false).valueLoss;
    assert.ok(rawB > 1e4 * rawA, `raw: ${rawA} vs ${rawB}`);
  });

  it('clips actor and critic gradients separately (a huge value loss no longer shrinks the policy step)', () => {
    const huge = {
      prepare: () => null,
      assign: ({ result }: { result: { rewards: Float32Array } }) => Float32Array.from(result.rewards, (r) => 1e4 * r),
    };
    const step = (gradClip: 'separate' | 'joint') => {
      const t = new PpoTrainer(
        { ...base, ppo: { ...base.ppo, valueNorm: false, gradClip, maxGradNorm: 0.5, epochs: 1, minibatches: 1 } },
        envs(),
        { credit: huge },
      );
      const before = [...t.policy.variables()]
        .filter(([n]) => n.startsWith('actor/'))
        .map(([, v]) => Array.from(v.dataSync()));
      const s = t.update(t.collector.collect());
      const after = [...t.policy.variables()]
        .filter(([n]) => n.startsWith('actor/'))
        .map(([, v]) => Array.from(v.dataSync()));
      t.dispose();
      let moved = 0;
      before.forEach((w, i) => w.forEach((v, j) => (moved += (after[i][j] - v) ** 2)));
      return { s, moved: Math.sqrt(moved) };
    };
    const sep = step('separate');
    const joint = step('joint');
    assert.ok(
      sep.s.criticGradNorm > 100 * sep.s.actorGradNorm,
      `critic ${sep.s.criticGradNorm} vs actor ${sep.s.actorGradNorm}`,
    );
    // Adam normalises the step size, but the first Adam step's direction is the clipped gradient: both move the actor;
    // what differs is that the joint clip scales the actor gradient by 0.5 / total norm.
    assert.ok(sep.moved > 0 && joint.moved > 0);
    assert.ok(
      Math.abs(sep.s.actorGradNorm - joint.s.actorGradNorm) < 1e-5,
      'pre-clip norms are the same in both modes',
    );
  });

  it('ValueNormalizer: debiased running mean and variance; exact state round trip', () => {
    const vn = new ValueNormalizer(0.9);
    vn.update(Float32Array.of(1, 2, 3));
    assert.ok(
      Math.abs(vn.mean - 2) < 1e-12 && Math.abs(vn.std - Math.sqrt(2 / 3)) < 1e-12,
      'the first batch is exact (debiased)',
    );
    vn.update(Float32Array.of(10, 10, 999), Float32Array.of(1, 1, 0));
    const m = (0.9 * 0.1 * 2 + 0.1 * 10) / (0.9 * 0.1 + 0.1);
    assert.ok(Math.abs(vn.mean - m) < 1e-9, `masked entries are ignored: ${vn.mean} vs ${m}`);
    assert.ok(Math.abs(vn.denormalize(vn.normalize(3.7)) - 3.7) < 1e-9);
    const copy = new ValueNormalizer(0.9);
    copy.setState(vn.getState());
    assert.equal(copy.normalize(5), vn.normalize(5));
    assert.throws(() => new ValueNormalizer(1), /beta must be in \[0, 1\)/);
  });

  it('normalizeMasked standardises real samples only (unbiased std, like torch)', () => {
    const x = new Float32Array([1, 2, 3, 100]);
    normalizeMasked(x, new Float32Array([1, 1, 1, 0]));
    assert.deepEqual(
      Array.from(x).map((v) => Math.round(v * 1e6) / 1e6),
      [-1, 0, 1, 0],
    );
  });
});
