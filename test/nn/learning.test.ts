import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import { Rng } from '../../src/random';
import { LayerwiseTrainer, buildCnn, buildMlp, buildSequential, mobileNetV2Spec } from '../../src/nn';
import { withConvBackend } from './helpers';

/** 4 classes from a fixed random 2-layer teacher on 16-d Gaussian inputs. */
function teacherData(rng: Rng, n: number): { x: Float32Array; y: Int32Array } {
  const t = new Rng(99);
  const W1 = t.normalArray(16 * 12);
  const W2 = t.normalArray(12 * 4);
  const x = rng.normalArray(n * 16);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const h = new Float64Array(12);
    for (let j = 0; j < 12; j++) {
      let s = 0;
      for (let k = 0; k < 16; k++) s += x[i * 16 + k] * W1[k * 12 + j];
      h[j] = Math.max(0, s);
    }
    let best = 0;
    let bestV = -Infinity;
    for (let c = 0; c < 4; c++) {
      let s = 0;
      for (let j = 0; j < 12; j++) s += h[j] * W2[j * 4 + c];
      if (s > bestV) [best, bestV] = [c, s];
    }
    y[i] = best;
  }
  return { x, y };
}

/** 8x8 images: a bright 3x3 patch somewhere in quadrant `label` (4 classes), plus noise. */
function quadrantImages(rng: Rng, n: number): { x: Float32Array; y: Int32Array } {
  const x = rng.normalArray(n * 64, 0, 0.3);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const q = rng.int(4);
    y[i] = q;
    const r0 = (q >> 1) * 4 + rng.int(2);
    const c0 = (q & 1) * 4 + rng.int(2);
    for (let r = r0; r < r0 + 3; r++) for (let c = c0; c < c0 + 3; c++) x[i * 64 + r * 8 + c] += 1;
  }
  return { x, y };
}

describe('nn: networks learn with the layerwise trainer', () => {
  it('an MLP learns a nonlinear synthetic task with per-layer SGD-momentum (accuracy far above chance 0.25)', function () {
    this.timeout(60000);
    const rng = new Rng(1);
    const train = teacherData(rng, 2048);
    const test = teacherData(rng, 1024);
    const model = buildMlp({ inputSize: 16, hidden: [64, 32], numClasses: 4, seed: 1 });
    const trainer = new LayerwiseTrainer(model, {
      optimizer: 'momentum',
      learningRates: [0.05, 0.05, 0.02],
      momentum: 0.9,
    });
    const xTest = tf.tensor2d(test.x, [1024, 16]);
    const yTest = tf.tensor1d(test.y, 'int32');
    const before = trainer.evaluate(xTest, yTest);
    const B = 64;
    let losses: number[] = [];
    const order = new Rng(2);
    for (let epoch = 0; epoch < 8; epoch++) {
      const perm = order.permutation(2048);
      for (let s = 0; s + B <= 2048; s += B) {
        const idx = perm.subarray(s, s + B);
        const xb = new Float32Array(B * 16);
        const yb = new Int32Array(B);
        idx.forEach((j, i) => {
          xb.set(train.x.subarray(j * 16, j * 16 + 16), i * 16);
          yb[i] = train.y[j];
        });
        const x = tf.tensor2d(xb, [B, 16]);
        const y = tf.tensor1d(yb, 'int32');
        losses.push(trainer.step({ x, y }).loss);
        tf.dispose([x, y]);
      }
    }
    const after = trainer.evaluate(xTest, yTest);
    assert.ok(after.accuracy > 0.75, `test accuracy ${after.accuracy} (before ${before.accuracy})`);
    assert.ok(after.loss < 0.5 * before.loss, `test loss ${after.loss} vs ${before.loss}`);
    const early = losses.slice(0, 10).reduce((a, v) => a + v, 0) / 10;
    losses = losses.slice(-10);
    assert.ok(losses.reduce((a, v) => a + v, 0) / 10 < 0.4 * early);
    tf.dispose([xTest, yTest]);
    trainer.dispose();
    model.dispose();
  });

  it('a small CNN learns where the bright patch is (wasm with gradient overrides, else cpu)', async function () {
    this.timeout(60000);
    await withConvBackend(() => {
      const rng = new Rng(3);
      const train = quadrantImages(rng, 1024);
      const test = quadrantImages(rng, 512);
      const model = buildCnn({
        inputShape: [8, 8, 1],
        blocks: [
          { filters: 8, kernel: 3, pool: { type: 'max', size: 2 } },
          { filters: 8, kernel: 3, batchNorm: true, pool: { type: 'max', size: 2 } },
        ],
        numClasses: 4,
        seed: 2,
      });
      const trainer = new LayerwiseTrainer(model, {
        optimizer: 'adam',
        learningRates: [0.01, 0.01, 0.005],
        weightDecay: 1e-4,
      });
      const xTest = tf.tensor4d(test.x, [512, 8, 8, 1]);
      const yTest = tf.tensor1d(test.y, 'int32');
      const B = 32;
      for (let epoch = 0; epoch < 3; epoch++) {
        for (let s = 0; s + B <= 1024; s += B) {
          const x = tf.tensor4d(train.x.subarray(s * 64, (s + B) * 64), [B, 8, 8, 1]);
          const y = tf.tensor1d(train.y.subarray(s, s + B), 'int32');
          const m = trainer.step({ x, y });
          assert.equal(m.diverged, false);
          tf.dispose([x, y]);
        }
      }
      const ev = trainer.evaluate(xTest, yTest, 128);
      assert.ok(ev.accuracy > 0.9, `CNN test accuracy ${ev.accuracy}`);
      tf.dispose([xTest, yTest]);
      trainer.dispose();
      model.dispose();
    });
  });

  it('a tiny MobileNetV2 (inverted residuals, depthwise, BN, relu6, dropout) fits a fixed batch without leaks', async function () {
    this.timeout(60000);
    await withConvBackend(() => {
      const spec = mobileNetV2Spec({
        inputShape: [8, 8, 1],
        numClasses: 4,
        widthMultiplier: 0.5,
        stemFilters: 16,
        stages: [
          { depth: 1, kernel: 3, expansion: 1, filters: 8, stride: 1 },
          { depth: 2, kernel: 5, expansion: 3, filters: 16, stride: 2 },
        ],
        dropout: 0.1,
      });
      const model = buildSequential(spec, { seed: 4 });
      const trainer = new LayerwiseTrainer(model, { optimizer: 'adam', learningRates: 0.01, seed: 1 });
      const data = quadrantImages(new Rng(5), 32);
      const x = tf.tensor4d(data.x, [32, 8, 8, 1]);
      const y = tf.tensor1d(data.y, 'int32');
      const first = trainer.step({ x, y });
      const n0 = tf.memory().numTensors;
      let last = first;
      for (let i = 0; i < 40; i++) last = trainer.step({ x, y });
      assert.equal(tf.memory().numTensors, n0, 'no tensor leak');
      assert.ok(last.loss < 0.5 * first.loss, `loss ${first.loss} -> ${last.loss}`);
      assert.ok(
        Array.from(first.gradNorms).every((g) => g > 0 && Number.isFinite(g)),
        'every group gets a gradient',
      );
      assert.ok(trainer.evaluate(x, y).accuracy > 0.8);
      tf.dispose([x, y]);
      trainer.dispose();
      model.dispose();
    });
  });
});
