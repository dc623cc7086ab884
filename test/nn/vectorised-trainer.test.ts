import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import { Rng } from '../../src/random';
import { LayerwiseTrainer, VectorisedTrainer, buildCnn, buildMlp } from '../../src/nn';
import type { SequentialModel, StepMetrics, TrainerConfig } from '../../src/nn';
import type { Batch } from '../../src/data';

const IN = 12;
const HIDDEN = [9, 7];
const CLASSES = 4;
const N = 16;

function makeBatch(seed: number, soft = false): Batch {
  const r = new Rng(seed);
  const x = tf.tensor2d(r.normalArray(N * IN), [N, IN]);
  if (soft) {
    const logits = tf.tensor2d(r.normalArray(N * CLASSES), [N, CLASSES]);
    const y = tf.softmax(logits);
    logits.dispose();
    return { x, y };
  }
  return {
    x,
    y: tf.tensor1d(
      Array.from({ length: N }, () => r.int(CLASSES)),
      'int32',
    ),
  };
}

const models = (seeds: number[]): SequentialModel[] =>
  seeds.map((seed) => buildMlp({ inputSize: IN, hidden: HIDDEN, numClasses: CLASSES, seed }));
const weightsOf = (m: SequentialModel) => m.trainableVariables().map((v) => Array.from(v.dataSync()));
const snapWeights = (vt: VectorisedTrainer, b: number) => {
  const s = vt.snapshot(b);
  const out = s.weights.values.map((t) => Array.from(t.dataSync()));
  vt.disposeSnapshot(s);
  return out;
};

/** Largest |a - b| / max(1, |b|) over two arrays (relative for large values). */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) && Number.isNaN(b[i])) continue;
    d = Math.max(d, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  }
  if (Number.isNaN(d)) return Infinity;
  return d;
}

/** Tolerance of the comparisons with LayerwiseTrainer: 0 on wasm (bit-identical, measured), float32 rounding elsewhere. */
const EXACT_ON_WASM = () => (tf.getBackend() === 'wasm' ? 0 : 1e-4);

function assertMetricsClose(got: StepMetrics, ref: StepMetrics, where: string, tol = 1e-4): void {
  assert.equal(got.step, ref.step, `${where}: step`);
  assert.equal(got.diverged, ref.diverged, `${where}: diverged`);
  assert.ok(
    relDiff([got.loss, got.perSampleLossVar], [ref.loss, ref.perSampleLossVar]) <= tol,
    `${where}: loss ${got.loss} vs ${ref.loss}`,
  );
  for (const key of ['gradNorms', 'weightNorms', 'updateNorms', 'updateSignAgreement'] as const) {
    assert.ok(
      relDiff(got[key], ref[key]) <= tol,
      `${where}: ${key} ${Array.from(got[key])} vs ${Array.from(ref[key])}`,
    );
  }
  assert.deepEqual(got.learningRates, ref.learningRates);
}

const CASES: [string, TrainerConfig][] = [
  ['sgd', { optimizer: 'sgd', learningRates: 0.1 }],
  [
    'sgd + coupled weight decay + clipping',
    { optimizer: 'sgd', learningRates: 0.1, weightDecay: 0.01, gradClipNorm: 0.5 },
  ],
  ['momentum + dampening', { optimizer: 'momentum', learningRates: 0.05, momentum: 0.8, dampening: 0.1 }],
  [
    'nesterov momentum + label smoothing',
    { optimizer: 'momentum', learningRates: 0.05, nesterov: true, labelSmoothing: 0.1 },
  ],
  [
    'adam + decoupled weight decay',
    { optimizer: 'adam', learningRates: 0.01, weightDecay: 0.05, decoupledWeightDecay: true },
  ],
  ["adam, metrics 'loss'", { optimizer: 'adam', learningRates: 0.01, metrics: 'loss' }],
];

describe('nn/VectorisedTrainer', () => {
  describe('matches B separate LayerwiseTrainers step by step (different per-network, per-layer learning rates)', () => {
    for (const [name, config] of CASES) {
      for (const mode of ['shared batch', 'shared batch, wide first layer', 'separate batches'] as const) {
        it(`${name}, ${mode}`, () => {
          const seeds = [1, 2, 3];
          const ref = models(seeds);
          const init = models(seeds);
          const vt = new VectorisedTrainer(init, config, {
            sharedInput: mode === 'shared batch, wide first layer' ? 'wide' : 'batched',
          });
          const shared = mode !== 'separate batches';
          const trainers = ref.map((m) => new LayerwiseTrainer(m, config));
          const lrsOf = (b: number) => [0.5, 1, 2].map((f) => f * (b + 1) * (config.learningRates as number));
          trainers.forEach((t, b) => t.setLearningRates(lrsOf(b)));
          seeds.forEach((_, b) => vt.setLearningRates(b, lrsOf(b)));
          for (let step = 0; step < 8; step++) {
            const batches = seeds.map((_, b) => makeBatch(100 * step + (shared ? 0 : b), step % 3 === 2));
            const got = vt.step(shared ? batches[0] : batches);
            // On wasm the arithmetic per network is the same as the layerwise trainer's, to the bit.
            trainers.forEach((t, b) =>
              assertMetricsClose(
                got[b],
                t.step(shared ? batches[0] : batches[b]),
                `step ${step}, network ${b}`,
                EXACT_ON_WASM(),
              ),
            );
            for (const bt of batches) tf.dispose([bt.x, bt.y]);
          }
          ref.forEach((m, b) => {
            const want = weightsOf(m);
            const have = snapWeights(vt, b);
            want.forEach((w, i) => assert.ok(relDiff(have[i], w) <= EXACT_ON_WASM(), `network ${b}, variable ${i}`));
            assert.ok(
              relDiff(want[0], weightsOf(init[b])[0]) > 1e-3,
              'the weights moved (the comparison is not vacuous)',
            );
          });
          const ev = makeBatch(999);
          const evals = vt.evaluate(ev.x, ev.y, 5);
          trainers.forEach((t, b) => {
            const e = t.evaluate(ev.x, ev.y, 5);
            assert.ok(
              Math.abs(evals[b].loss - e.loss) <= EXACT_ON_WASM() &&
                evals[b].accuracy === e.accuracy &&
                evals[b].n === e.n,
              `evaluate network ${b}`,
            );
          });
          tf.dispose([ev.x, ev.y]);
          vt.dispose();
          trainers.forEach((t) => t.dispose());
          [...ref, ...init].forEach((m) => m.dispose());
        });
      }
    }
  });

  it('a diverging network is flagged and frozen; the others train exactly as without it', () => {
    const config: TrainerConfig = { optimizer: 'momentum', learningRates: 0.05 };
    const withBad = new VectorisedTrainer(models([1, 2, 3]), config);
    const alone = new VectorisedTrainer(models([1, 3]), config);
    withBad.setLearningRates(1, 1e30);
    let flaggedAt = -1;
    for (let step = 0; step < 6; step++) {
      const bt = makeBatch(step);
      const m = withBad.step(bt);
      const a = alone.step(bt);
      if (m[1].diverged && flaggedAt < 0) flaggedAt = step;
      if (flaggedAt >= 0 && step > flaggedAt) {
        assert.ok(Number.isNaN(m[1].loss), 'a diverged network reports NaN metrics');
        assert.equal(m[1].step, flaggedAt + 1, 'its step count stops');
      }
      assert.equal(m[0].loss, a[0].loss);
      assert.equal(m[2].loss, a[1].loss);
      tf.dispose([bt.x, bt.y]);
    }
    assert.ok(flaggedAt >= 0, 'the 1e30 learning rate diverged');
    assert.deepEqual(snapWeights(withBad, 2), snapWeights(alone, 1));
    assert.equal(withBad.diverged(0), false);
    withBad.dispose();
    alone.dispose();
  });

  it('inactive networks keep their exact state; snapshots move between the vectorised and the layerwise trainer both ways', () => {
    for (const optimizer of ['sgd', 'momentum', 'adam'] as const) {
      const config: TrainerConfig = { optimizer, learningRates: [0.05, 0.02, 0.1] };
      const vt = new VectorisedTrainer(models([1, 2]), config);
      const b0 = makeBatch(1);
      vt.step(b0);
      const before = snapWeights(vt, 1);
      const m = vt.step(b0, { active: [true, false] });
      assert.ok(Number.isNaN(m[1].loss));
      assert.deepEqual(snapWeights(vt, 1), before, `${optimizer}: inactive network unchanged`);
      assert.equal(vt.stepCount(1), 1);
      // vectorised -> layerwise: both continue identically from network 0's state.
      const model = buildMlp({ inputSize: IN, hidden: HIDDEN, numClasses: CLASSES, seed: 50 });
      const lw = new LayerwiseTrainer(model, { optimizer, learningRates: 1 });
      const snap = vt.snapshot(0);
      lw.restore(snap);
      vt.disposeSnapshot(snap);
      assert.deepEqual(lw.learningRates, [0.05, 0.02, 0.1]);
      const b1 = makeBatch(2);
      assertMetricsClose(vt.step(b1)[0], lw.step(b1), `${optimizer}: after vectorised -> layerwise`);
      // layerwise -> vectorised network 1, and copyNetwork 1 -> 0.
      const back = lw.snapshot();
      vt.restore(1, back);
      lw.disposeSnapshot(back);
      vt.copyNetwork(1, 0);
      assert.equal(vt.stepCount(0), lw.stepCount);
      const b2 = makeBatch(3);
      const both = vt.step(b2);
      const ref = lw.step(b2);
      assertMetricsClose(both[0], ref, `${optimizer}: after layerwise -> vectorised (copy)`);
      assertMetricsClose(both[1], ref, `${optimizer}: after layerwise -> vectorised`);
      tf.dispose([b0.x, b0.y, b1.x, b1.y, b2.x, b2.y]);
      vt.dispose();
      lw.dispose();
      model.dispose();
    }
  });

  it('is deterministic: two runs from the same models give bit-identical weights and metrics', () => {
    const run = () => {
      const vt = new VectorisedTrainer(models([4, 5, 6, 7]), { optimizer: 'adam', learningRates: 0.01 });
      const losses: number[] = [];
      for (let step = 0; step < 4; step++) {
        const bt = makeBatch(step);
        losses.push(...vt.step(bt).map((m) => m.loss));
        tf.dispose([bt.x, bt.y]);
      }
      const w = [0, 1, 2, 3].map((b) => snapWeights(vt, b));
      vt.dispose();
      return { losses, w };
    };
    assert.deepEqual(run(), run());
  });

  it('leaks no tensors over many steps, evaluations, snapshots and copies', () => {
    const vt = new VectorisedTrainer(models([1, 2, 3]), { optimizer: 'adam', learningRates: 0.01 });
    const bt = makeBatch(1);
    const separate = [makeBatch(2), makeBatch(3), makeBatch(4)];
    const round = () => {
      vt.step(bt);
      vt.step(separate, { active: [true, false, true] });
      vt.evaluate(bt.x, bt.y, 7);
      const s = vt.snapshot(2);
      vt.restore(0, s);
      vt.restoreAll(s);
      vt.disposeSnapshot(s);
      vt.copyNetwork(0, 1);
    };
    round();
    const before = tf.memory().numTensors;
    for (let k = 0; k < 20; k++) round();
    assert.equal(tf.memory().numTensors, before);
    vt.dispose();
    tf.dispose([bt.x, bt.y, ...separate.flatMap((b) => [b.x, b.y])]);
  });

  it('refuses bad input with clear errors', () => {
    const ms = models([1, 2]);
    const other = buildMlp({ inputSize: IN, hidden: [3], numClasses: CLASSES, seed: 1 });
    const cnn = buildCnn({ inputShape: [8, 8, 1], blocks: [{ filters: 2, kernel: 3 }], numClasses: 3, seed: 1 });
    assert.throws(
      () => new VectorisedTrainer([], { optimizer: 'sgd', learningRates: 0.1 }),
      /non-empty array of models/,
    );
    assert.throws(
      () => new VectorisedTrainer([ms[0], other], { optimizer: 'sgd', learningRates: 0.1 }),
      /model 1 has a different architecture/,
    );
    assert.throws(
      () => new VectorisedTrainer([cnn], { optimizer: 'sgd', learningRates: 0.1 }),
      /supports MLPs.*conv2d/,
    );
    assert.throws(
      () => new VectorisedTrainer(ms, { optimizer: 'sgd', learningRates: [0.1, 0.1] }),
      /expected 3 learning rates/,
    );
    assert.throws(
      () => new VectorisedTrainer(ms, { optimizer: 'sgd', learningRates: 0.1 }, { sharedInput: 'tall' as 'wide' }),
      /sharedInput must be 'batched' or 'wide'/,
    );
    const vt = new VectorisedTrainer(ms, { optimizer: 'sgd', learningRates: 0.1 });
    assert.throws(() => vt.setLearningRates(2, 0.1), /network index must be an integer in \[0, 2\)/);
    assert.throws(() => vt.setLearningRates(0, -1), /must be finite and >= 0/);
    const bad = { x: tf.zeros([N, IN + 1]), y: tf.zeros([N], 'int32') };
    assert.throws(() => vt.step(bad), /input x must have shape \[N, 12\]/);
    const bt = makeBatch(1);
    assert.throws(() => vt.step([bt]), /got 1 batches for 2 networks/);
    assert.throws(() => vt.step(bt, { active: [true] }), /options.active must be 2 booleans/);
    tf.dispose([bad.x, bad.y, bt.x, bt.y]);
    vt.dispose();
    assert.throws(() => vt.step(makeBatch(1)), /trainer was disposed/);
    [...ms, other, cnn].forEach((m) => m.dispose());
  });
});
