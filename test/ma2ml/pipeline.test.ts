import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import { SingleStepLearner } from '../../src/marl';
import { buildSequential } from '../../src/nn';
import { Rng } from '../../src/random';
import {
  agentDimensions,
  augmentBatch,
  budgetReward,
  checkPipeline,
  decodePipeline,
  describePipeline,
  encodePipeline,
  learnerAgents,
  pipelineKey,
  prepareInputs,
  presetSpace,
  samplePipeline,
  sampleTokens,
  spaceSize,
  vocabSizes,
} from '../../src/ma2ml';
import type { Pipeline } from '../../src/ma2ml';

const example: Pipeline = {
  aug: [
    [
      { op: 'Rotate', prob: 0.8, level: 5 },
      { op: 'Equalize', prob: 0.5, level: 0 },
    ],
    [
      { op: 'ShearX', prob: 0.3, level: 9 },
      { op: 'Cutout', prob: 1, level: 2 },
    ],
  ],
  arch: { kind: 'conv', resolution: 24, depth: 2, width: 16, kernel: 5 },
  hpo: {
    optimizer: 'adam',
    learningRate: 3e-3,
    weightDecay: 5e-4,
    batchSize: 128,
    labelSmoothing: 0.1,
    mixupAlpha: 0.2,
    dropout: 0,
  },
};

describe('ma2ml/pipeline: encoding', () => {
  it('token layout: vocab sizes per agent for each preset', () => {
    const q = vocabSizes(presetSpace('quick'));
    assert.deepEqual(q[0], [15, 11, 10, 15, 11, 10, 15, 11, 10, 15, 11, 10]);
    assert.deepEqual(q[1], [3, 3, 3, 2]);
    assert.deepEqual(q[2], [2, 4, 3, 3, 3, 3, 3]);
    const f = vocabSizes(presetSpace('full'));
    assert.equal(f[0].length, 5 * 2 * 3);
    assert.deepEqual(f[1], [3, 3, 2, 3, 3, 3, 2, 3, 3, 3, 2, 3, 3]);
    const names = agentDimensions(presetSpace('full')).nas.map((d) => d.name);
    assert.deepEqual(names.slice(0, 5), [
      'resolution',
      'stage0.depth',
      'stage0.kernel',
      'stage0.expansion',
      'stage0.width',
    ]);
  });

  it('encode then decode is the identity on a hand-written pipeline (known token indices)', () => {
    const space = presetSpace('quick');
    const t = encodePipeline(space, example);
    // Rotate = op 5, prob 0.8 = 8, level 5; Equalize = op 8; ShearX = 1; Cutout = 14
    assert.deepEqual(t[0], [5, 8, 5, 8, 5, 0, 1, 3, 9, 14, 10, 2]);
    assert.deepEqual(t[1], [1, 1, 1, 1]);
    assert.deepEqual(t[2], [1, 2, 2, 1, 1, 1, 0]);
    assert.deepEqual(decodePipeline(space, t), example);
  });

  it('decode then encode is the identity on random tokens of every preset', () => {
    for (const preset of ['smoke', 'quick', 'full'] as const) {
      const space = presetSpace(preset);
      const rng = new Rng(9);
      for (let i = 0; i < 50; i++) {
        const t = sampleTokens(space, rng);
        assert.deepEqual(encodePipeline(space, decodePipeline(space, t)), t);
      }
    }
  });

  it('plugs into SingleStepLearner: proposals decode to pipelines, rewards are observed', () => {
    const space = presetSpace('smoke');
    const learner = new SingleStepLearner({ agents: learnerAgents(space), seed: 3, offPolicy: false });
    const batch = learner.propose(6);
    const pipes = batch.map((a) => decodePipeline(space, a));
    pipes.forEach((p, i) => assert.deepEqual(encodePipeline(space, p), batch[i]));
    const stats = learner.observe(
      batch,
      pipes.map((p) => (p.hpo.optimizer === 'adam' ? 1 : 0)),
    );
    assert.ok(Number.isFinite(stats.meanReward));
    learner.dispose();
  });

  it('errors name the agent, token and value', () => {
    const space = presetSpace('quick');
    assert.throws(
      () => encodePipeline(space, { ...example, arch: { ...example.arch, width: 12 } as Pipeline['arch'] }),
      /nas\.width = 12 is not one of the choices \[8,16,32\]/,
    );
    assert.throws(
      () => encodePipeline(space, { ...example, hpo: { ...example.hpo, learningRate: 0.1 } }),
      /learningRate = 0\.1 is not in the adam grid/,
    );
    assert.throws(
      () => encodePipeline(space, { ...example, aug: [example.aug[0]] }),
      /aug has 1 sub-policies, the space 2/,
    );
    assert.throws(
      () => encodePipeline(space, { ...example, arch: { kind: 'mlp', resolution: 28, depth: 1, width: 64 } }),
      /kind 'mlp' does not match/,
    );
    const t = encodePipeline(space, example);
    assert.throws(() => decodePipeline(space, [t[0], [1, 1, 7, 1], t[2]]), /nas\.width token 7 is out of range 0\.\.2/);
    assert.throws(() => decodePipeline(space, [t[0], t[1]]), /expected 3 token arrays/);
    assert.throws(() => decodePipeline(space, [t[0], [1, 1], t[2]]), /agent nas has 2 tokens, the space 4/);
  });
});

describe('ma2ml/pipeline: sampling, size, budget rule, keys', () => {
  it('samplePipeline is seeded and uniform over each token', () => {
    const space = presetSpace('quick');
    assert.deepEqual(samplePipeline(space, new Rng(5)), samplePipeline(space, new Rng(5)));
    assert.notDeepEqual(samplePipeline(space, new Rng(5)), samplePipeline(space, new Rng(6)));
    const rng = new Rng(2);
    const counts = new Array(15).fill(0);
    const n = 3000;
    for (let i = 0; i < n; i++) counts[AUGOPS.indexOf(samplePipeline(space, rng).aug[1][0].op)]++;
    // chi-square with 14 dof: 99.9% quantile 36.1
    const e = n / 15;
    const chi2 = counts.reduce((a, c) => a + (c - e) ** 2 / e, 0);
    assert.ok(chi2 < 36.1, `chi2 ${chi2}`);
  });

  it('spaceSize: exact product of the vocabularies', () => {
    const s = spaceSize(presetSpace('quick'));
    const aug = BigInt(15 * 11 * 10) ** BigInt(4);
    assert.equal(s.perAgent.aug, aug);
    assert.equal(s.perAgent.nas, BigInt(54));
    assert.equal(s.perAgent.hpo, BigInt(2 * 4 * 3 ** 5));
    assert.equal(s.total, aug * BigInt(54) * BigInt(1944));
    assert.ok(Math.abs(s.log10 - Math.log10(Number(s.total))) < 1e-9);
    assert.equal(spaceSize(presetSpace('full')).perAgent.nas, BigInt(3 * 54 ** 3));
  });

  it('budgetReward: hard and soft rules', () => {
    assert.equal(budgetReward(0.9, 1e6, 1e6, 'hard'), 0.9);
    assert.equal(budgetReward(0.9, 1e6 + 1, 1e6, 'hard'), 0);
    assert.equal(budgetReward(0.9, 5e5, 1e6, 'soft'), 0.9);
    assert.ok(Math.abs(budgetReward(0.9, 2e6, 1e6, 'soft') - 0.9 * 2 ** -0.07) < 1e-12);
    assert.ok(Math.abs(budgetReward(0.8, 4e6, 1e6, 'soft', -0.5) - 0.4) < 1e-12);
    // soft penalty is continuous at the budget and decreasing above it
    assert.ok(Math.abs(budgetReward(0.9, 1e6 * (1 + 1e-9), 1e6, 'soft') - 0.9) < 1e-9);
    assert.ok(budgetReward(0.9, 3e6, 1e6, 'soft') < budgetReward(0.9, 2e6, 1e6, 'soft'));
    assert.throws(() => budgetReward(0.9, 1, 0, 'soft'), /budget must be positive/);
    assert.throws(() => budgetReward(0.9, 2, 1, 'medium' as 'soft'), /rule must be 'hard' or 'soft'/);
  });

  it('pipelineKey is stable under property order and distinguishes pipelines', () => {
    const shuffled = JSON.parse(
      JSON.stringify({
        hpo: { ...example.hpo },
        arch: { kernel: 5, width: 16, depth: 2, resolution: 24, kind: 'conv' },
        aug: example.aug,
      }),
    ) as Pipeline;
    assert.equal(pipelineKey(shuffled), pipelineKey(example));
    const other = { ...example, hpo: { ...example.hpo, dropout: 0.1 } };
    assert.notEqual(pipelineKey(other), pipelineKey(example));
    const keys = new Set<string>();
    const rng = new Rng(1);
    for (let i = 0; i < 200; i++) keys.add(pipelineKey(samplePipeline(presetSpace('full'), rng)));
    assert.equal(keys.size, 200);
  });

  it('describePipeline: one line with every agent', () => {
    const d = describePipeline(example);
    assert.equal(
      d,
      'AUG [Rotate(p0.8,m5)+Equalize(p0.5,m0) | ShearX(p0.3,m9)+Cutout(p1,m2)] NAS conv r24 d2 w16 k5 HPO adam lr=3e-3 wd=5e-4 bs=128 ls=0.1 mix=0.2 do=0',
    );
    assert.ok(!describePipeline(samplePipeline(presetSpace('full'), new Rng(0))).includes('\n'));
  });

  it('checkPipeline gives the spec, MACs and params of a valid pipeline', () => {
    const c = checkPipeline(presetSpace('quick'), example, { flopsBudget: 1e7 });
    assert.ok(c.valid);
    // conv 5x5 1->16 at 24, BN, pool 12, conv 5x5 16->32, BN, pool 6, dense 1152->10
    assert.equal(c.macs, 24 * 24 * 25 * 16 + 24 * 24 * 16 + 12 * 12 * 25 * 16 * 32 + 12 * 12 * 32 + 6 * 6 * 32 * 10);
    assert.deepEqual(c.spec.inputShape, [24, 24, 1]);
  });

  it('prepareInputs resizes to the chosen resolution (flattened for the MLP) without leaks', () => {
    const x = tf.tidy(() => tf.linspace(0, 1, 2 * 28 * 28).reshape([2, 28, 28, 1]));
    const before = tf.memory().numTensors;
    const a = prepareInputs(x, { kind: 'conv', resolution: 20, depth: 1, width: 8, kernel: 3 });
    assert.deepEqual(a.shape, [2, 20, 20, 1]);
    const b = prepareInputs(x, { kind: 'mlp', resolution: 14, depth: 1, width: 64 });
    assert.deepEqual(b.shape, [2, 196]);
    // 28 -> 14 with half-pixel centres averages each 2x2 block's centre: a linear ramp maps to the mean of the block
    const v = b.dataSync();
    const xv = x.dataSync();
    const want = (xv[0] + xv[1] + xv[28] + xv[29]) / 4;
    assert.ok(Math.abs(v[0] - want) < 1e-6);
    const c = prepareInputs(x, { kind: 'conv', resolution: 28, depth: 1, width: 8, kernel: 3 });
    assert.deepEqual(Array.from(c.dataSync()), Array.from(xv));
    tf.dispose([a, b, c]);
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
  });
});

describe('ma2ml/pipeline: sampled pipelines run end to end', () => {
  it('each preset: augment, resize, build the spec and get [B, 10] logits, without leaks', () => {
    const x = tf.tidy(() => tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 1));
    const before = tf.memory().numTensors;
    for (const preset of ['smoke', 'quick', 'full'] as const) {
      const space = presetSpace(preset);
      for (let s = 0; s < 2; s++) {
        const rng = new Rng(40 + s);
        const p = samplePipeline(space, rng, { validOnly: true });
        const c = checkPipeline(space, p);
        if (!c.valid) throw new Error(c.reason);
        const model = buildSequential(c.spec, { seed: 1 });
        const logits = tf.tidy(() => model.forward(prepareInputs(augmentBatch(x, p.aug, rng), p.arch)));
        assert.deepEqual(logits.shape, [4, 10], describePipeline(p));
        assert.ok(Array.from(logits.dataSync()).every(Number.isFinite));
        logits.dispose();
        model.dispose();
      }
    }
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
  });
});

const AUGOPS = presetSpace('quick').aug.ops as string[];
