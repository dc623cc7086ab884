import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../../src/backend';
import { Rng } from '../../src/random';
import { LayerwiseTrainer, buildMlp, buildSequential } from '../../src/nn';
import type { SequentialModel, SequentialSpec, StepMetrics, TrainerConfig } from '../../src/nn';
import { maxAbsDiff } from './helpers';

interface RefCase {
  optimizer: 'sgd' | 'momentum' | 'adam';
  lrs: number[];
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
  decoupledWeightDecay?: boolean;
  labelSmoothing?: number;
  soft?: boolean;
  gradClipNorm?: number;
  bn?: boolean;
  losses: number[];
  final: Record<string, number[]>;
}
interface Reference {
  sizes: { in: number; hidden: number; out: number; batch: number; steps: number };
  init: Record<string, number[]>;
  xs: number[][];
  ys: number[][];
  soft: number[][];
  cases: Record<string, RefCase>;
}
const ref: Reference = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'optim_reference.json'), 'utf8'));

function setValues(model: SequentialModel, values: Record<string, number[]>): void {
  const [g0, g1] = model.groups;
  const { in: nIn, hidden, out } = ref.sizes;
  g0.variables[0].assign(tf.tensor2d(values.W0, [nIn, hidden]));
  if (g0.roles[1] === 'bias') g0.variables[1].assign(tf.tensor1d(values.b0));
  g1.variables[0].assign(tf.tensor2d(values.W1, [hidden, out]));
  g1.variables[1].assign(tf.tensor1d(values.b1));
}

function readAll(model: SequentialModel): Float32Array[] {
  return [...model.trainableVariables(), ...model.stateVariables()].map((v) => v.dataSync() as Float32Array);
}

describe('nn/LayerwiseTrainer', () => {
  describe('matches torch.optim (fixture from test/nn/fixtures/make_optim_reference.py)', () => {
    for (const [name, c] of Object.entries(ref.cases)) {
      it(`${name}: ${ref.sizes.steps} steps, losses and final weights within 1e-5`, () => {
        const { in: nIn, hidden, out, batch, steps } = ref.sizes;
        const spec: SequentialSpec = c.bn
          ? {
              inputShape: [nIn],
              layers: [
                { type: 'dense', units: hidden, bias: false },
                { type: 'batchNorm', activation: 'relu' },
                { type: 'dense', units: out },
              ],
            }
          : {
              inputShape: [nIn],
              layers: [
                { type: 'dense', units: hidden, activation: 'relu' },
                { type: 'dense', units: out },
              ],
            };
        const model = buildSequential(spec, { seed: 1 });
        setValues(model, ref.init);
        const trainer = new LayerwiseTrainer(model, {
          optimizer: c.optimizer,
          learningRates: c.lrs,
          momentum: c.momentum,
          dampening: c.dampening,
          nesterov: c.nesterov,
          weightDecay: c.weightDecay,
          decoupledWeightDecay: c.decoupledWeightDecay,
          labelSmoothing: c.labelSmoothing,
          gradClipNorm: c.gradClipNorm,
        });
        for (let t = 0; t < steps; t++) {
          const x = tf.tensor2d(ref.xs[t], [batch, nIn]);
          const y = c.soft ? tf.tensor2d(ref.soft[t], [batch, out]) : tf.tensor1d(ref.ys[t], 'int32');
          const m = trainer.step({ x, y });
          x.dispose();
          y.dispose();
          assert.ok(Math.abs(m.loss - c.losses[t]) < 1e-5, `step ${t}: loss ${m.loss} vs torch ${c.losses[t]}`);
          assert.equal(m.diverged, false);
        }
        const [g0, g1] = model.groups;
        const got: Record<string, Float32Array> = {
          W0: g0.variables[0].dataSync() as Float32Array,
          W1: g1.variables[0].dataSync() as Float32Array,
          b1: g1.variables[1].dataSync() as Float32Array,
        };
        if (c.bn) {
          assert.deepEqual(g0.roles, ['kernel', 'gamma', 'beta'], 'BN params join the preceding dense layer group');
          got.gamma = g0.variables[1].dataSync() as Float32Array;
          got.beta = g0.variables[2].dataSync() as Float32Array;
        } else {
          got.b0 = g0.variables[1].dataSync() as Float32Array;
        }
        if (c.bn) {
          const [rm, rv] = model.stateVariables();
          got.runningMean = rm.dataSync() as Float32Array;
          got.runningVar = rv.dataSync() as Float32Array;
        }
        for (const key of Object.keys(c.final)) {
          const d = maxAbsDiff(got[key], c.final[key]);
          assert.ok(d < 1e-5, `${key}: max |diff| ${d} vs torch`);
        }
        // The weights really moved (the comparison is not vacuous).
        assert.ok(maxAbsDiff(got.W0, ref.init.W0) > 1e-3);
        trainer.dispose();
        model.dispose();
      });
    }
  });

  it("a snapshot of a 'full' trainer restores into a 'loss' trainer of the same model, which then continues bit-identically", () => {
    for (const optimizer of ['sgd', 'momentum', 'adam'] as const) {
      const x = tf.tensor2d(new Rng(2).normalArray(10 * 6), [10, 6]);
      const y = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0], 'int32');
      const a = buildMlp({ inputSize: 6, hidden: [5], numClasses: 3, seed: 4 });
      const full = new LayerwiseTrainer(a, { optimizer, learningRates: [0.05, 0.02] });
      full.step({ x, y });
      const snap = full.snapshot();
      const b = buildMlp({ inputSize: 6, hidden: [5], numClasses: 3, seed: 99 });
      const cheap = new LayerwiseTrainer(b, { optimizer, learningRates: 0.3, metrics: 'loss' });
      cheap.restore(snap);
      assert.deepEqual(cheap.learningRates, [0.05, 0.02]);
      for (let k = 0; k < 2; k++) {
        const mf = full.step({ x, y });
        const mc = cheap.step({ x, y });
        assert.equal(mc.loss, mf.loss, `${optimizer} step ${k}`);
      }
      assert.deepEqual(readAll(b), readAll(a), `${optimizer}: same weights`);
      const back = cheap.snapshot();
      assert.throws(() => full.restore(back), /no sign-agreement state/);
      full.disposeSnapshot(snap);
      cheap.disposeSnapshot(back);
      for (const t of [full, cheap]) t.dispose();
      a.dispose();
      b.dispose();
      tf.dispose([x, y]);
    }
  });

  it('per-layer SGD applies exactly w - lr_i * g (g from tf.grads on an independent forward), to 1e-6', () => {
    const model = buildMlp({ inputSize: 6, hidden: [5, 4], numClasses: 3, seed: 3 });
    const lrs = [0.3, 0.01, 0.7];
    const trainer = new LayerwiseTrainer(model, { optimizer: 'sgd', learningRates: lrs });
    const rng = new Rng(5);
    const x = tf.tensor2d(rng.normalArray(8 * 6), [8, 6]);
    const y = tf.tensor1d([0, 1, 2, 0, 1, 2, 2, 1], 'int32');
    const vars = model.trainableVariables();
    const before = vars.map((v) => v.dataSync().slice());
    const grads = tf.tidy(() => {
      const f = (...ws: tf.Tensor[]) => {
        const [W0, b0, W1, b1, W2, b2] = ws;
        const h1 = tf.relu(tf.add(tf.matMul(x, W0), b0));
        const h2 = tf.relu(tf.add(tf.matMul(h1, W1), b1));
        const logits = tf.add(tf.matMul(h2, W2), b2);
        return tf.losses.softmaxCrossEntropy(tf.oneHot(y, 3), logits);
      };
      return tf.grads(f)(vars.map((v) => v.clone()));
    });
    const g = grads.map((t) => t.dataSync().slice());
    tf.dispose(grads);
    trainer.step({ x, y });
    const after = vars.map((v) => v.dataSync());
    const groupOf = model.groups.flatMap((gr) => gr.variables.map(() => gr.index));
    let maxErr = 0;
    let maxMove = 0;
    vars.forEach((_, i) => {
      for (let j = 0; j < after[i].length; j++) {
        const expected = before[i][j] - lrs[groupOf[i]] * g[i][j];
        maxErr = Math.max(maxErr, Math.abs(after[i][j] - expected));
        maxMove = Math.max(maxMove, Math.abs(after[i][j] - before[i][j]));
      }
    });
    assert.ok(maxErr < 1e-6, `max |w' - (w - lr g)| = ${maxErr}`);
    assert.ok(maxMove > 1e-3, 'weights moved');
    // A changed learning rate takes effect at the next step; a zero LR freezes that group.
    trainer.setLearningRate(1, 0);
    const frozen = model.groups[1].variables[0].dataSync().slice();
    trainer.step({ x, y });
    assert.deepEqual(model.groups[1].variables[0].dataSync(), frozen);
    tf.dispose([x, y]);
    trainer.dispose();
    model.dispose();
  });

  it('reports per-group norms and update sign agreement consistent with the weights', () => {
    const model = buildMlp({ inputSize: 6, hidden: [5], numClasses: 3, seed: 4 });
    const lrs = [0.2, 0.05];
    const trainer = new LayerwiseTrainer(model, { optimizer: 'sgd', learningRates: lrs });
    const x = tf.tensor2d(new Rng(1).normalArray(10 * 6), [10, 6]);
    const y = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0], 'int32');
    const norm = (arrs: Float32Array[]) => Math.sqrt(arrs.reduce((a, r) => a + r.reduce((s, v) => s + v * v, 0), 0));
    const before = model.groups.map((g) => g.variables.map((v) => v.dataSync().slice() as Float32Array));
    const m1 = trainer.step({ x, y });
    const after1 = model.groups.map((g) => g.variables.map((v) => v.dataSync().slice() as Float32Array));
    model.groups.forEach((g, i) => {
      assert.ok(Math.abs(m1.weightNorms[i] - norm(after1[i])) < 1e-4 * norm(after1[i]));
      const upd = after1[i].map((a, k) => a.map((v, j) => before[i][k][j] - v));
      assert.ok(Math.abs(m1.updateNorms[i] - norm(upd)) < 1e-3 * norm(upd) + 1e-7);
      // Plain SGD: |update| = lr * |g|.
      assert.ok(Math.abs(m1.updateNorms[i] - lrs[i] * m1.gradNorms[i]) < 1e-4 * m1.updateNorms[i]);
      assert.equal(m1.updateSignAgreement[i], 0, 'no previous update at step 1');
    });
    const m2 = trainer.step({ x, y });
    const after2 = model.groups.map((g) => g.variables.map((v) => v.dataSync().slice() as Float32Array));
    model.groups.forEach((g, i) => {
      let agree = 0;
      let count = 0;
      after2[i].forEach((arr, k) =>
        arr.forEach((v, j) => {
          const u2 = after1[i][k][j] - v;
          const u1 = before[i][k][j] - after1[i][k][j];
          agree += Math.sign(u2) * Math.sign(u1);
          count++;
        }),
      );
      assert.ok(
        Math.abs(m2.updateSignAgreement[i] - agree / count) < 1e-6,
        `group ${i}: ${m2.updateSignAgreement[i]} vs ${agree / count}`,
      );
      assert.ok(m2.updateSignAgreement[i] > 0.5, 'same batch twice: updates mostly agree');
    });
    assert.equal(m2.step, 2);
    tf.dispose([x, y]);
    trainer.dispose();
    model.dispose();
  });

  it("metrics: 'loss' trains identically to 'full' and leaves the per-group arrays NaN", () => {
    const run = (metrics: 'full' | 'loss') => {
      const model = buildMlp({ inputSize: 6, hidden: [5], numClasses: 3, seed: 4 });
      const trainer = new LayerwiseTrainer(model, {
        optimizer: 'adam',
        learningRates: [0.01, 0.02],
        weightDecay: 0.01,
        metrics,
      });
      const x = tf.tensor2d(new Rng(1).normalArray(10 * 6), [10, 6]);
      const y = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0], 'int32');
      const ms = [0, 1, 2].map(() => trainer.step({ x, y }));
      const w = readAll(model);
      tf.dispose([x, y]);
      trainer.dispose();
      model.dispose();
      return { ms, w };
    };
    const full = run('full');
    const lossOnly = run('loss');
    assert.deepEqual(lossOnly.w, full.w);
    assert.deepEqual(
      lossOnly.ms.map((m) => [m.loss, m.perSampleLossVar]),
      full.ms.map((m) => [m.loss, m.perSampleLossVar]),
    );
    assert.ok(Array.from(lossOnly.ms[2].gradNorms).every(Number.isNaN));
    assert.ok(Array.from(full.ms[2].gradNorms).every((g) => g > 0));
    // Adam's update-norm reported in full mode equals the weight change.
    assert.ok(full.ms[2].updateNorms.every((u) => u > 0 && Number.isFinite(u)));
  });

  it('label smoothing and soft targets: loss and per-sample variance match a hand computation', () => {
    const model = buildSequential({ inputShape: [2], layers: [{ type: 'dense', units: 3 }] });
    const [W, b] = model.groups[0].variables;
    W.assign(tf.tensor2d([1, -1, 0.5, 2, 0, -1], [2, 3]));
    b.assign(tf.tensor1d([0.1, 0.2, -0.3]));
    const xs = [
      [1, 2],
      [-1, 0.5],
      [0, -2],
    ];
    const labels = [2, 0, 1];
    const logits = xs.map(([a, c]) => [a * 1 + c * 2 + 0.1, a * -1 + c * 0 + 0.2, a * 0.5 + c * -1 - 0.3]);
    const logSoftmax = (z: number[]) => {
      const mx = Math.max(...z);
      const lse = mx + Math.log(z.reduce((s, v) => s + Math.exp(v - mx), 0));
      return z.map((v) => v - lse);
    };
    const eps = 0.2;
    const perSample = logits.map((z, i) => {
      const lp = logSoftmax(z);
      return -lp.reduce((s, v, k) => s + v * ((k === labels[i] ? 1 - eps : 0) + eps / 3), 0);
    });
    const mean = perSample.reduce((a, v) => a + v, 0) / 3;
    const variance = perSample.reduce((a, v) => a + (v - mean) ** 2, 0) / 3;
    const x = tf.tensor2d(xs);
    const y = tf.tensor1d(labels, 'int32');
    const snapModel = model.snapshotWeights();
    const trainer = new LayerwiseTrainer(model, { optimizer: 'sgd', learningRates: 0.1, labelSmoothing: eps });
    const m = trainer.step({ x, y });
    assert.ok(Math.abs(m.loss - mean) < 1e-5, `loss ${m.loss} vs ${mean}`);
    assert.ok(Math.abs(m.perSampleLossVar - variance) < 1e-5, `var ${m.perSampleLossVar} vs ${variance}`);
    // Soft targets (e.g. mixup): loss = -sum(t * log softmax).
    model.restoreWeights(snapModel);
    const soft = [
      [0.5, 0.5, 0],
      [0.1, 0.2, 0.7],
      [1, 0, 0],
    ];
    const softLoss = logits.map((z, i) => -logSoftmax(z).reduce((s, v, k) => s + v * soft[i][k], 0));
    const softMean = softLoss.reduce((a, v) => a + v, 0) / 3;
    const trainer2 = new LayerwiseTrainer(model, { optimizer: 'sgd', learningRates: 0.1 });
    const ySoft = tf.tensor2d(soft);
    const m2 = trainer2.step({ x, y: ySoft });
    assert.ok(Math.abs(m2.loss - softMean) < 1e-5, `soft loss ${m2.loss} vs ${softMean}`);
    // Evaluation uses plain cross-entropy in inference mode.
    model.restoreWeights(snapModel);
    const ev = trainer2.evaluate(x, y, 2);
    const plain = logits.map((z, i) => -logSoftmax(z)[labels[i]]);
    assert.ok(Math.abs(ev.loss - plain.reduce((a, v) => a + v, 0) / 3) < 1e-5);
    const correct = logits.filter((z, i) => z.indexOf(Math.max(...z)) === labels[i]).length;
    assert.equal(ev.accuracy, correct / 3);
    model.disposeWeightSnapshot(snapModel);
    tf.dispose([x, y, ySoft]);
    trainer.dispose();
    trainer2.dispose();
    model.dispose();
  });

  it('snapshot -> K steps -> restore -> same K steps is bit-identical (weights, BN stats, optimiser state, dropout, metrics)', () => {
    for (const optimizer of ['momentum', 'adam'] as const) {
      const model = buildMlp({ inputSize: 12, hidden: [16, 8], numClasses: 4, seed: 9, batchNorm: true, dropout: 0.2 });
      const trainer = new LayerwiseTrainer(model, {
        optimizer,
        learningRates: [0.05, 0.02, 0.01],
        weightDecay: 1e-3,
        seed: 4,
      });
      const rng = new Rng(11);
      const batches = Array.from({ length: 8 }, () => ({
        x: tf.tensor2d(rng.normalArray(16 * 12), [16, 12]),
        y: tf.tensor1d(
          Array.from({ length: 16 }, () => rng.int(4)),
          'int32',
        ),
      }));
      for (let i = 0; i < 3; i++) trainer.step(batches[i]);
      const snap = trainer.snapshot();
      const run = (lrs: number[]) => {
        trainer.setLearningRates(lrs);
        const ms: StepMetrics[] = [];
        for (let i = 3; i < 8; i++) ms.push(trainer.step(batches[i]));
        return { ms, w: readAll(model) };
      };
      const a = run([0.05, 0.02, 0.01]);
      trainer.restore(snap);
      const counterfactual = run([0.05, 0.2, 0.01]);
      trainer.restore(snap);
      assert.equal(trainer.stepCount, 3);
      const b = run([0.05, 0.02, 0.01]);
      assert.deepEqual(b.w, a.w, `${optimizer}: weights differ after replay`);
      assert.deepEqual(b.ms, a.ms, `${optimizer}: metrics differ after replay`);
      assert.notDeepEqual(counterfactual.w, a.w, 'another LR gives other weights');
      trainer.disposeSnapshot(snap);
      batches.forEach((bt) => tf.dispose([bt.x, bt.y]));
      trainer.dispose();
      model.dispose();
    }
  });

  it('same seed gives bit-identical training from fresh models (dropout, BN, Adam)', () => {
    const run = () => {
      const model = buildMlp({ inputSize: 12, hidden: [16], numClasses: 4, seed: 21, batchNorm: true, dropout: 0.3 });
      const trainer = new LayerwiseTrainer(model, { optimizer: 'adam', learningRates: 0.01, seed: 8 });
      const rng = new Rng(4);
      const losses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const x = tf.tensor2d(rng.normalArray(8 * 12), [8, 12]);
        const y = tf.tensor1d(
          Array.from({ length: 8 }, () => rng.int(4)),
          'int32',
        );
        losses.push(trainer.step({ x, y }).loss);
        tf.dispose([x, y]);
      }
      const w = readAll(model);
      trainer.dispose();
      model.dispose();
      return { losses, w };
    };
    const a = run();
    assert.deepEqual(run(), a);
  });

  it('leaks no tensors over 2000 steps with snapshots, restores and evaluation', function () {
    this.timeout(60000);
    const model = buildMlp({ inputSize: 10, hidden: [8], numClasses: 3, seed: 2, dropout: 0.1, batchNorm: true });
    const trainer = new LayerwiseTrainer(model, {
      optimizer: 'adam',
      learningRates: [1e-3, 1e-3],
      gradClipNorm: 1,
      labelSmoothing: 0.05,
    });
    const rng = new Rng(3);
    const x = tf.tensor2d(rng.normalArray(8 * 10), [8, 10]);
    const y = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32');
    trainer.step({ x, y });
    const start = tf.memory().numTensors;
    let last: StepMetrics | undefined;
    for (let i = 0; i < 2000; i++) {
      last = trainer.step({ x, y });
      if (i % 200 === 0) {
        const s = trainer.snapshot();
        trainer.step({ x, y });
        trainer.restore(s);
        trainer.disposeSnapshot(s);
        trainer.setLearningRates(1e-3 * (1 + (i % 400 === 0 ? 1 : 0)));
        trainer.evaluate(x, y, 3);
      }
    }
    assert.equal(tf.memory().numTensors, start, 'numTensors after 2000 steps');
    assert.ok(last && Number.isFinite(last.loss));
    tf.dispose([x, y]);
    const held = tf.memory().numTensors;
    trainer.dispose();
    model.dispose();
    assert.ok(tf.memory().numTensors < held, 'dispose frees variables');
  });

  it('divergence with a huge LR gives diverged: true without throwing; later steps are no-ops; restore recovers', () => {
    const model = buildMlp({ inputSize: 4, hidden: [8], numClasses: 2, seed: 1 });
    const trainer = new LayerwiseTrainer(model, { optimizer: 'sgd', learningRates: 1e12 });
    const x = tf.tensor2d(
      new Rng(2).normalArray(16 * 4).map((v) => v * 100),
      [16, 4],
    );
    const y = tf.tensor1d(
      Array.from({ length: 16 }, (_, i) => i % 2),
      'int32',
    );
    const snap = trainer.snapshot();
    let m: StepMetrics | undefined;
    for (let i = 0; i < 20 && !(m && m.diverged); i++) m = trainer.step({ x, y });
    assert.ok(m && m.diverged, 'diverged within 20 steps');
    assert.ok(trainer.diverged);
    const stepAt = trainer.stepCount;
    const after = trainer.step({ x, y });
    assert.equal(after.diverged, true);
    assert.ok(Number.isNaN(after.loss));
    assert.equal(trainer.stepCount, stepAt, 'no-op step');
    trainer.restore(snap);
    trainer.setLearningRates(0.01);
    const ok = trainer.step({ x, y });
    assert.equal(ok.diverged, false);
    assert.ok(Number.isFinite(ok.loss));
    trainer.disposeSnapshot(snap);
    tf.dispose([x, y]);
    trainer.dispose();
    model.dispose();
  });

  it('rejects bad configs and inputs with errors that name the problem', () => {
    const model = buildMlp({ inputSize: 5, hidden: [4], numClasses: 3, seed: 1 });
    const bad = (cfg: unknown, re: RegExp) =>
      assert.throws(() => new LayerwiseTrainer(model, cfg as TrainerConfig), re);
    bad({ optimizer: 'sgd', learningRates: -0.1 }, /learningRates/);
    bad({ optimizer: 'sgd', learningRates: [0.1, -1] }, /learningRates.*1/);
    bad({ optimizer: 'sgd', learningRates: [0.1, 0.1, 0.1] }, /expected 2 learning rates.*dense_0, dense_1.*got 3/);
    bad({ optimizer: 'rmsprop', learningRates: 0.1 }, /optimizer/);
    bad({ optimizer: 'sgd', learningRates: 0.1, nesterov: true }, /nesterov/);
    bad({ optimizer: 'adam', learningRates: 0.1, betas: [0.9, 1.5] }, /betas/);
    bad({ optimizer: 'sgd', learningRates: 0.1, lr: 0.1 }, /lr/);
    const trainer = new LayerwiseTrainer(model, { optimizer: 'sgd', learningRates: 0.1 });
    assert.throws(() => trainer.setLearningRates([0.1]), /expected 2 learning rates/);
    assert.throws(() => trainer.setLearningRate(2, 0.1), /group index/);
    assert.throws(() => trainer.setLearningRate(0, NaN), /group 0/);
    const x = tf.zeros([4, 7]);
    const y = tf.tensor1d([0, 1, 2, 0], 'int32');
    assert.throws(() => trainer.step({ x, y }), /shape \[B, 5\], got \[4, 7\]/);
    const x5 = tf.zeros([4, 5]);
    const yBad = tf.tensor1d([0, 1, 2], 'int32');
    assert.throws(() => trainer.step({ x: x5, y: yBad }), /labels y must have shape \[4\], got \[3\]/);
    const ySoftBad = tf.zeros([4, 2]);
    assert.throws(() => trainer.step({ x: x5, y: ySoftBad }), /soft targets y must have shape \[4, 3\], got \[4, 2\]/);
    assert.throws(() => trainer.evaluate(x5, y, 0), /batchSize/);
    tf.dispose([x, y, x5, yBad, ySoftBad]);
    trainer.dispose();
    assert.throws(() => trainer.step({ x: x5, y }), /disposed/);
    model.dispose();
  });
});
