import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tf } from '../../src/backend';
import { Rng } from '../../src/random';
import { budgetReward, checkPipeline, pipelineKey, presetSpace } from '../../src/ma2ml';
import type { Pipeline, SearchSpace } from '../../src/ma2ml';
import {
  evaluatePipeline,
  evaluationKind,
  proxyData,
  retrainPipeline,
  sampleMixupLambda,
} from '../../src/ma2ml/evaluate';
import { ExperimentStore, InlineExecutor, runExperiment } from '../../src/runtime';

const DATA = { trainSubset: 500, validationSize: 500 };
const noAug: Pipeline['aug'] = [
  [
    { op: 'Identity', prob: 0, level: 0 },
    { op: 'Identity', prob: 0, level: 0 },
  ],
  [
    { op: 'Identity', prob: 0, level: 0 },
    { op: 'Identity', prob: 0, level: 0 },
  ],
];

function mlp(over: Partial<Pipeline['hpo']> = {}, width = 128, resolution = 28, aug = noAug): Pipeline {
  return {
    aug,
    arch: { kind: 'mlp', resolution, depth: 1, width },
    hpo: {
      optimizer: 'adam',
      learningRate: 3e-3,
      weightDecay: 0,
      batchSize: 64,
      labelSmoothing: 0,
      mixupAlpha: 0,
      dropout: 0,
      ...over,
    },
  };
}

function smokeSpace(): SearchSpace {
  const s = presetSpace('smoke');
  s.hpo = presetSpace('quick').hpo; // full HPO grids (batch 64, mixup 0.4, ...)
  return s;
}

describe('ma2ml/evaluate: proxy training', () => {
  const space = smokeSpace();

  it('learns: validation accuracy well above chance, more epochs help, and the reward is the budget rule of it', function () {
    this.timeout(60000);
    const n0 = tf.memory().numTensors;
    const p = mlp();
    const one = evaluatePipeline(p, { space, data: DATA, epochs: 1, seed: 0, flopsBudget: 1e6 });
    const four = evaluatePipeline(p, { space, data: DATA, epochs: 4, seed: 0, flopsBudget: 1e6 });
    console.log(
      `      MLP 784-128-10, 500 examples: val acc ${one.valAccuracy} (1 epoch, ${one.steps} steps), ${four.valAccuracy} (4 epochs)`,
    );
    assert.equal(one.valid, true);
    assert.equal(one.steps, 8);
    assert.equal(four.steps, 32);
    assert.ok((one.valAccuracy as number) > 0.45, `1 epoch: ${one.valAccuracy}`);
    assert.ok((four.valAccuracy as number) > 0.68, `4 epochs: ${four.valAccuracy}`);
    assert.ok((four.valAccuracy as number) > (one.valAccuracy as number) + 0.05);
    assert.equal(one.reward, one.valAccuracy);
    assert.equal(one.macs, checkPipeline(space, p).valid ? (checkPipeline(space, p) as { macs: number }).macs : -1);
    assert.equal(tf.memory().numTensors, n0, 'no tensors leaked');
  });

  it('is deterministic for a seed (augmentation, mixup, label smoothing and dropout all active), and the seed matters', function () {
    this.timeout(60000);
    const n0 = tf.memory().numTensors;
    const aug: Pipeline['aug'] = [
      [
        { op: 'Rotate', prob: 1, level: 6 },
        { op: 'Cutout', prob: 0.5, level: 5 },
      ],
      [
        { op: 'ShearX', prob: 0.8, level: 4 },
        { op: 'Equalize', prob: 0.5, level: 0 },
      ],
    ];
    const p = mlp({ mixupAlpha: 0.4, labelSmoothing: 0.1, dropout: 0.1, weightDecay: 5e-4 }, 128, 14, aug);
    const opts = { space, data: DATA, epochs: 2, seed: 3, flopsBudget: 1e6 };
    const a = evaluatePipeline(p, opts);
    const b = evaluatePipeline(p, opts);
    const c = evaluatePipeline(p, { ...opts, seed: 4 });
    assert.equal(a.valid, true);
    assert.equal(a.diverged, false);
    assert.equal(a.valAccuracy, b.valAccuracy);
    assert.notEqual(a.valAccuracy, c.valAccuracy);
    assert.ok((a.valAccuracy as number) > 0.3, `regularised pipeline still learns (${a.valAccuracy})`);
    assert.equal(tf.memory().numTensors, n0, 'no tensors leaked');
  });

  it('hard budget: over budget is not trained (reward 0); soft budget: trained, reward acc * (F/B)^-0.07', () => {
    const p = mlp({}, 256); // 203,264 MACs
    const hard = evaluatePipeline(p, { space, data: DATA, seed: 0, flopsBudget: 1e5, budgetRule: 'hard' });
    assert.equal(hard.valid, false);
    assert.match(hard.reason as string, /203264 MACs exceed the hard budget of 100000/);
    assert.equal(hard.reward, 0);
    assert.equal(hard.valAccuracy, null);
    assert.equal(hard.steps, 0);
    assert.equal(hard.macs, 203264);
    const soft = evaluatePipeline(p, { space, data: DATA, seed: 0, flopsBudget: 1e5, budgetRule: 'soft' });
    assert.equal(soft.valid, true);
    assert.ok((soft.valAccuracy as number) > 0.3);
    assert.ok(Math.abs(soft.reward - (soft.valAccuracy as number) * Math.pow(203264 / 1e5, -0.07)) < 1e-12);
    assert.equal(soft.reward, budgetReward(soft.valAccuracy as number, 203264, 1e5, 'soft'));
  });

  it('shapes that do not fit the resolution and divergence are outcomes with reward 0, not exceptions', () => {
    const n0 = tf.memory().numTensors;
    const conv = presetSpace('quick');
    conv.nas.resolutions = [4];
    const collapsed: Pipeline = {
      aug: noAug,
      arch: { kind: 'conv', resolution: 4, depth: 3, width: 8, kernel: 3 },
      hpo: mlp().hpo,
    };
    const r = evaluatePipeline(collapsed, { space: conv, data: DATA, seed: 0, flopsBudget: 1e6 });
    assert.equal(r.valid, false);
    assert.match(r.reason as string, /does not fit resolution 4/);
    assert.equal(r.reward, 0);

    const wild = smokeSpace();
    wild.hpo.learningRates = { momentum: [1e8, 0.1, 0.3, 0.03], adam: [1e-3, 3e-3, 1e-2, 3e-4] };
    const d = evaluatePipeline(mlp({ optimizer: 'momentum', learningRate: 1e8 }), {
      space: wild,
      data: DATA,
      seed: 0,
      flopsBudget: 1e6,
      budgetRule: 'soft',
    });
    assert.equal(d.valid, true);
    assert.equal(d.diverged, true);
    assert.equal(d.reward, 0);
    assert.match(d.reason as string, /diverged/);
    assert.ok(d.steps < 8, `training stopped at divergence (${d.steps} steps)`);
    assert.equal(tf.memory().numTensors, n0, 'no tensors leaked');
  });

  it('bad options raise an Error naming the field', () => {
    const p = mlp();
    assert.throws(() => evaluatePipeline(p, { space } as never), /flopsBudget/);
    assert.throws(
      () => evaluatePipeline(p, { space, data: { trainSubset: 55 }, flopsBudget: 1e5 }),
      /data\.trainSubset: must be a multiple of 10/,
    );
    assert.throws(() => evaluatePipeline(p, { space, flopsBudget: 1e5, budgetRule: 'maybe' as never }), /budgetRule/);
    assert.throws(
      () => evaluatePipeline(p, { space, data: { trainSubset: 60000, validationSize: 5000 }, flopsBudget: 1e6 }),
      /trainSubset 60000 \+ validationSize 5000 exceed/,
    );
    assert.throws(
      () =>
        evaluatePipeline(
          { ...p, hpo: { ...p.hpo, optimizer: 'rmsprop' as never } },
          { space, data: DATA, flopsBudget: 1e6 },
        ),
      /hpo\.optimizer = "rmsprop" is not one of/,
    );
    assert.throws(
      () => evaluatePipeline(mlp({}, 100), { space, data: DATA, flopsBudget: 1e6 }),
      /nas\.width = 100 is not one of the choices/,
    );
  });

  it('proxy data: seeded, class-balanced, disjoint train subset and validation split, cached per process', () => {
    const a = proxyData(DATA);
    assert.equal(a.train.n, 500);
    assert.equal(a.validation.n, 500);
    const counts = new Array(10).fill(0);
    a.train.labels.forEach((l) => counts[l]++);
    assert.deepEqual(counts, new Array(10).fill(50));
    assert.equal(proxyData(DATA), proxyData({ ...DATA }), 'same config: the cached object');
    const other = proxyData({ ...DATA, dataSeed: 1 });
    assert.notDeepEqual(Array.from(other.validation.labels.slice(0, 50)), Array.from(a.validation.labels.slice(0, 50)));
  });
});

describe('ma2ml/evaluate: mixup lambda', () => {
  it('Beta(alpha, alpha): mean 1/2 and variance 1 / (4 (2 alpha + 1)); alpha 0 gives 1', () => {
    for (const alpha of [0.2, 0.4, 2]) {
      const rng = new Rng(11);
      const xs = Array.from({ length: 20000 }, () => sampleMixupLambda(alpha, rng));
      const m = xs.reduce((a, b) => a + b, 0) / xs.length;
      const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length;
      const want = 1 / (4 * (2 * alpha + 1));
      assert.ok(xs.every((x) => x >= 0 && x <= 1));
      assert.ok(Math.abs(m - 0.5) < 0.01, `alpha ${alpha}: mean ${m}`);
      assert.ok(Math.abs(v - want) < 0.05 * want, `alpha ${alpha}: variance ${v} vs ${want}`);
    }
    assert.equal(sampleMixupLambda(0, new Rng(0)), 1);
    assert.throws(() => sampleMixupLambda(-1, new Rng(0)), /alpha must be finite and >= 0/);
  });
});

describe('ma2ml/evaluate: job kind, store cache, retraining', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ma2ml-eval-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('evaluations run as jobs and are cached in the store by (pipeline key, seed, data config)', async function () {
    this.timeout(60000);
    const space = smokeSpace();
    const store = ExperimentStore.open(path.join(dir, 's.sqlite'));
    const executor = new InlineExecutor();
    try {
      const p = mlp({}, 64, 14);
      const cfg = { pipeline: p, space, data: DATA, epochs: 1, flopsBudget: 1e6, budgetRule: 'hard' as const };
      const first = await runExperiment({
        name: 'e',
        jobs: [evaluationKind.job(pipelineKey(p), cfg, 0)],
        executor,
        store,
      });
      assert.equal(first.computed, 1);
      const direct = evaluatePipeline(p, { space, data: DATA, epochs: 1, seed: 0, flopsBudget: 1e6 });
      assert.deepEqual({ ...(first.results[0] as object), trainSeconds: 0 }, { ...direct, trainSeconds: 0 });
      const again = await runExperiment({
        name: 'e',
        jobs: [evaluationKind.job(pipelineKey(p), cfg, 0)],
        executor,
        store,
      });
      assert.equal(again.cached, 1);
      assert.deepEqual(again.results[0], first.results[0]);
      const otherSeed = await runExperiment({
        name: 'e',
        jobs: [evaluationKind.job(pipelineKey(p), cfg, 1)],
        executor,
        store,
      });
      assert.equal(otherSeed.computed, 1);
      const otherData = await runExperiment({
        name: 'e',
        jobs: [evaluationKind.job(pipelineKey(p), { ...cfg, data: { ...DATA, dataSeed: 1 } }, 0)],
        executor,
        store,
      });
      assert.equal(otherData.computed, 1);
    } finally {
      await executor.close();
      store.close();
    }
  });

  it('retrainPipeline trains on a larger training set and reports test accuracy', function () {
    this.timeout(60000);
    const n0 = tf.memory().numTensors;
    const r = retrainPipeline(mlp(), { space: smokeSpace(), seed: 0, epochs: 1, trainLimit: 3000, testLimit: 1000 });
    console.log(`      retrain MLP 784-128-10 on 3000 examples, 1 epoch: test acc ${r.testAccuracy}`);
    assert.equal(r.valid, true);
    assert.equal(r.trainExamples, 3000);
    assert.equal(r.testExamples, 1000);
    assert.ok((r.testAccuracy as number) > 0.7, `test accuracy ${r.testAccuracy}`);
    assert.equal(tf.memory().numTensors, n0);
  });
});
