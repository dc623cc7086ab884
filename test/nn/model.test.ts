import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import { Rng } from '../../src/random';
import { LayerwiseTrainer, buildCnn, buildMlp, buildSequential, mobileNetV2Spec, resolveSpec } from '../../src/nn';
import type { SequentialSpec } from '../../src/nn';
import { maxAbsDiff } from './helpers';

function stats(a: Float32Array): { mean: number; std: number; maxAbs: number } {
  let s = 0;
  let s2 = 0;
  let m = 0;
  for (const v of a) {
    s += v;
    s2 += v * v;
    m = Math.max(m, Math.abs(v));
  }
  const mean = s / a.length;
  return { mean, std: Math.sqrt(s2 / a.length - mean * mean), maxAbs: m };
}

describe('nn/SequentialModel and builders', () => {
  it('groups parameters per layer; BN joins the conv before it', () => {
    const model = buildCnn({
      inputShape: [12, 12, 2],
      blocks: [
        { filters: 4, kernel: 3, batchNorm: true, pool: { type: 'max', size: 2 } },
        { filters: 6, kernel: 3, stride: 2 },
      ],
      dense: [8],
      numClasses: 3,
      seed: 1,
    });
    try {
      assert.deepEqual(
        model.groups.map((g) => [g.index, g.name, g.kind, g.layers, g.roles, g.fanIn]),
        [
          [0, 'conv2d_0', 'conv2d', ['conv2d_0', 'batchNorm_0'], ['kernel', 'gamma', 'beta'], 18],
          [1, 'conv2d_1', 'conv2d', ['conv2d_1'], ['kernel', 'bias'], 36],
          [2, 'dense_0', 'dense', ['dense_0'], ['kernel', 'bias'], 3 * 3 * 6],
          [3, 'dense_1', 'dense', ['dense_1'], ['kernel', 'bias'], 8],
        ],
      );
      assert.equal(model.stateVariables().length, 2, 'BN running mean and var');
      const shape = tf.tidy(() => model.forward(tf.zeros([5, 12, 12, 2])).shape);
      assert.deepEqual(shape, [5, 3]);
    } finally {
      model.dispose();
    }
  });

  it('tfjs output shapes agree with the analytic shape inference (same/valid, strides, pools)', () => {
    const spec: SequentialSpec = {
      inputShape: [11, 9, 3],
      layers: [
        { type: 'conv2d', filters: 4, kernel: 3, stride: 2 },
        { type: 'depthwiseConv2d', kernel: 5, stride: 2, multiplier: 2 },
        { type: 'conv2d', filters: 5, kernel: 1, padding: 'valid' },
        { type: 'avgPool', size: 2, stride: 1, padding: 'same' },
        { type: 'maxPool', size: 2, padding: 'valid' },
      ],
    };
    const model = buildSequential(spec, { seed: 0 });
    const shape = tf.tidy(() => model.forward(tf.ones([2, 11, 9, 3])).shape);
    assert.deepEqual(shape, [2, ...resolveSpec(spec).outputShape]);
    assert.deepEqual(resolveSpec(spec).outputShape, [1, 1, 5]);
    model.dispose();
  });

  it('initialisation: seeded, PyTorch bounds by default, He and Glorot options', () => {
    const a = buildMlp({ inputSize: 784, hidden: [256], numClasses: 10, seed: 7 });
    const b = buildMlp({ inputSize: 784, hidden: [256], numClasses: 10, seed: 7 });
    const c = buildMlp({ inputSize: 784, hidden: [256], numClasses: 10, seed: 8 });
    const w = (m: typeof a) => m.groups[0].variables[0].dataSync() as Float32Array;
    assert.deepEqual(w(a), w(b));
    assert.notDeepEqual(w(a), w(c));
    const bound = 1 / Math.sqrt(784);
    const s = stats(w(a));
    assert.ok(s.maxAbs <= bound && s.maxAbs > 0.99 * bound, `torch init bound ${s.maxAbs} vs ${bound}`);
    assert.ok(Math.abs(s.std - bound / Math.sqrt(3)) < 0.01 * bound, `torch init std ${s.std}`);
    const bias = stats(a.groups[0].variables[1].dataSync() as Float32Array);
    assert.ok(bias.maxAbs <= bound && bias.std > 0.4 * bound, 'torch bias init is U(+-1/sqrt(fanIn))');
    const he = buildMlp({ inputSize: 784, hidden: [256], numClasses: 10, seed: 7, init: 'he-normal' });
    const sh = stats(w(he));
    assert.ok(Math.abs(sh.std - Math.sqrt(2 / 784)) < 0.02 * Math.sqrt(2 / 784), `he-normal std ${sh.std}`);
    assert.ok(Math.abs(sh.mean) < 0.002);
    assert.equal(stats(he.groups[0].variables[1].dataSync() as Float32Array).maxAbs, 0);
    const gl = buildMlp({ inputSize: 784, hidden: [256], numClasses: 10, seed: 7, init: 'glorot-uniform' });
    const gb = Math.sqrt(6 / (784 + 256));
    assert.ok(stats(w(gl)).maxAbs <= gb && stats(w(gl)).maxAbs > 0.99 * gb);
    const conv = buildCnn({ inputShape: [8, 8, 3], blocks: [{ filters: 16, kernel: 3 }], numClasses: 2, seed: 1 });
    const cb = 1 / Math.sqrt(27);
    const cs = stats(conv.groups[0].variables[0].dataSync() as Float32Array);
    assert.ok(cs.maxAbs <= cb && cs.maxAbs > 0.9 * cb, 'conv fanIn = k*k*cIn');
    [a, b, c, he, gl, conv].forEach((m) => m.dispose());
    assert.throws(() => buildMlp({ inputSize: 4, hidden: [], numClasses: 2, init: 'xavier' as never }), /init/);
  });

  it('batch norm: batch statistics in training, running statistics (unbiased var, momentum 0.1) in inference', () => {
    const model = buildSequential({ inputShape: [3], layers: [{ type: 'batchNorm' }] });
    const xv = [1, 2, 3, 3, 6, 0, 5, 4, -3, -1, 0, 8];
    const x = tf.tensor2d(xv, [4, 3]);
    const yTrain = tf.tidy(() => model.forward(x, { training: true }).dataSync());
    const col = (j: number) => [0, 1, 2, 3].map((i) => xv[i * 3 + j]);
    const expected: number[] = [];
    const runMean: number[] = [];
    const runVar: number[] = [];
    for (let j = 0; j < 3; j++) {
      const c = col(j);
      const mu = c.reduce((a, v) => a + v, 0) / 4;
      const v = c.reduce((a, q) => a + (q - mu) ** 2, 0) / 4;
      runMean.push(0.1 * mu);
      runVar.push(0.9 + 0.1 * v * (4 / 3));
      c.forEach((q, i) => (expected[i * 3 + j] = (q - mu) / Math.sqrt(v + 1e-5)));
    }
    assert.ok(maxAbsDiff(yTrain, expected) < 1e-5);
    const [rm, rv] = model.stateVariables();
    assert.ok(maxAbsDiff(rm.dataSync(), runMean) < 1e-6);
    assert.ok(maxAbsDiff(rv.dataSync(), runVar) < 1e-5);
    const yEval = tf.tidy(() => model.forward(x).dataSync());
    const expectedEval = xv.map((q, k) => (q - runMean[k % 3]) / Math.sqrt(runVar[k % 3] + 1e-5));
    assert.ok(maxAbsDiff(yEval, expectedEval) < 1e-5);
    assert.deepEqual(
      Array.from(rm.dataSync()),
      Array.from(new Float32Array(runMean)),
      'inference does not update running stats',
    );
    x.dispose();
    model.dispose();
  });

  it('dropout: seeded masks in training (inverted scaling), identity in inference, rng required', () => {
    const model = buildSequential({ inputShape: [2000], layers: [{ type: 'dropout', rate: 0.25 }] });
    const x = tf.ones([2, 2000]);
    const run = (seed: number) => tf.tidy(() => model.forward(x, { training: true, rng: new Rng(seed) }).dataSync());
    const a = run(1);
    assert.deepEqual(a, run(1));
    assert.notDeepEqual(a, run(2));
    const zeros = a.filter((v) => v === 0).length / a.length;
    assert.ok(Math.abs(zeros - 0.25) < 0.03, `dropped fraction ${zeros}`);
    assert.ok(a.every((v) => v === 0 || Math.abs(v - 1 / 0.75) < 1e-6));
    assert.ok(tf.tidy(() => model.forward(x).dataSync()).every((v) => v === 1));
    assert.throws(() => tf.tidy(() => model.forward(x, { training: true })), /rng/);
    x.dispose();
    model.dispose();
  });

  it('residual block adds its input; activations relu6/tanh behave', () => {
    const model = buildSequential({
      inputShape: [4],
      layers: [
        { type: 'residual', body: [{ type: 'dense', units: 4, activation: 'relu6' }] },
        { type: 'activation', fn: 'tanh' },
      ],
    });
    const [W, b] = model.groups[0].variables;
    W.assign(tf.eye(4).mul(10));
    b.assign(tf.zeros([4]));
    const out = tf.tidy(() => model.forward(tf.tensor2d([[1, -1, 0.1, 0.5]])).dataSync());
    const expected = [1, -1, 0.1, 0.5].map((v) => Math.tanh(v + Math.min(6, Math.max(0, 10 * v))));
    assert.ok(maxAbsDiff(out, expected) < 1e-6);
    model.dispose();
  });

  it('a training step of a tiny MobileNetV2 gives the same result on the cpu backend and the current one', async function () {
    this.timeout(60000);
    const spec = mobileNetV2Spec({
      inputShape: [8, 8, 2],
      numClasses: 3,
      stemFilters: 8,
      stages: [
        { depth: 2, kernel: 3, expansion: 3, filters: 8, stride: 1 },
        { depth: 1, kernel: 5, expansion: 2, filters: 16, stride: 2 },
      ],
      headFilters: 16,
      dropout: 0.2,
    });
    const data = new Rng(8).normalArray(6 * 8 * 8 * 2);
    const run = () => {
      const model = buildSequential(spec, { seed: 5 });
      const trainer = new LayerwiseTrainer(model, {
        optimizer: 'momentum',
        learningRates: 0.05,
        weightDecay: 1e-3,
        seed: 2,
      });
      const x = tf.tensor4d(data, [6, 8, 8, 2]);
      const y = tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32');
      const ms = [trainer.step({ x, y }), trainer.step({ x, y })];
      const w = [...model.trainableVariables(), ...model.stateVariables()].map((v) => v.dataSync().slice());
      tf.dispose([x, y]);
      trainer.dispose();
      model.dispose();
      return { ms, w };
    };
    const here = run();
    const backend = tf.getBackend();
    await tf.setBackend('cpu');
    let cpu: ReturnType<typeof run>;
    try {
      cpu = run();
    } finally {
      await tf.setBackend(backend);
    }
    assert.ok(
      Math.abs(here.ms[1].loss - cpu.ms[1].loss) < 1e-4,
      `loss ${here.ms[1].loss} (${backend}) vs ${cpu.ms[1].loss} (cpu)`,
    );
    here.w.forEach((w, i) => assert.ok(maxAbsDiff(w, cpu.w[i]) < 1e-4, `variable ${i}: ${maxAbsDiff(w, cpu.w[i])}`));
    here.ms[1].gradNorms.forEach((g, i) =>
      assert.ok(Math.abs(g - cpu.ms[1].gradNorms[i]) < 1e-3 * (1 + g), `grad norm ${i}`),
    );
  });

  it('snapshotWeights / restoreWeights round-trip; wrong input shapes are rejected with both shapes named', () => {
    const model = buildMlp({ inputSize: 6, hidden: [4], numClasses: 2, seed: 3 });
    const snap = model.snapshotWeights();
    const before = model.groups[0].variables[0].dataSync().slice();
    model.groups[0].variables[0].assign(tf.zeros([6, 4]));
    model.restoreWeights(snap);
    assert.deepEqual(model.groups[0].variables[0].dataSync(), before);
    model.restoreWeights(snap); // reusable
    model.disposeWeightSnapshot(snap);
    assert.throws(() => model.restoreWeights(snap), /disposed/);
    const bad = tf.zeros([3, 6, 1]);
    assert.throws(() => model.forward(bad), /shape \[B, 6\], got \[3, 6, 1\]/);
    const badDtype = tf.zeros([3, 6], 'int32');
    assert.throws(() => model.forward(badDtype), /float32/);
    tf.dispose([bad, badDtype]);
    model.dispose();
    const one = tf.zeros([1, 6]);
    assert.throws(() => model.forward(one), /disposed/);
    one.dispose();
    assert.throws(() => buildSequential({ inputShape: [6], layers: [] }), /layers/);
  });
});
