import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import {
  BatchIterator,
  classCounts,
  datasetToTensors,
  ImageDataset,
  makeSyntheticClassification,
  makeSyntheticFeatures,
  makeSyntheticTrainTest,
  validateDataset,
} from '../../src/data';
import { Rng } from '../../src/random';

/** Trains softmax regression with minibatch SGD from a BatchIterator; returns test accuracy. */
function trainSoftmax(train: ImageDataset, test: ImageDataset, epochs: number, seed: number): number {
  const d = train.height * train.width * train.channels;
  const K = train.numClasses;
  const rng = new Rng(seed);
  const w0 = tf.tensor2d(rng.normalArray(d * K, 0, 0.01), [d, K]);
  const b0 = tf.zeros([K]);
  const W = tf.variable(w0);
  const b = tf.variable(b0);
  tf.dispose([w0, b0]);
  const it = new BatchIterator(train, { batchSize: 32, rng: rng.fork('data'), flatten: true });
  const lr = 0.5;
  for (let s = 0; s < epochs * it.batchesPerEpoch; s++) {
    const { x, y } = it.next();
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(tf.oneHot(y as tf.Tensor1D, K), tf.add(tf.matMul(x as tf.Tensor2D, W), b)) as tf.Scalar, [W, b]);
      W.assign(tf.sub(W, tf.mul(grads[W.name], lr)));
      b.assign(tf.sub(b, tf.mul(grads[b.name], lr)));
    });
    tf.dispose([x, y]);
  }
  it.dispose();
  const t = datasetToTensors(test, { flatten: true });
  const correct = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(tf.add(tf.matMul(t.x as tf.Tensor2D, W), b), 1), t.y), 'int32')));
  const acc = correct.dataSync()[0] / test.n;
  tf.dispose([t.x, t.y, correct, W, b]);
  return acc;
}

describe('data/synthetic', () => {
  it('is deterministic per seed, balanced, in [0, 1], with the requested shape', () => {
    const a = makeSyntheticClassification({ n: 103, height: 5, width: 6, channels: 2, numClasses: 4, seed: 3 });
    const b = makeSyntheticClassification({ n: 103, height: 5, width: 6, channels: 2, numClasses: 4, seed: 3 });
    const c = makeSyntheticClassification({ n: 103, height: 5, width: 6, channels: 2, numClasses: 4, seed: 4 });
    validateDataset(a);
    assert.deepEqual(a.images, b.images);
    assert.deepEqual(a.labels, b.labels);
    assert.notDeepEqual(a.images, c.images);
    assert.equal(a.images.length, 103 * 60);
    assert.deepEqual(Array.from(classCounts(a)), [26, 26, 26, 25]);
    assert.ok(a.images.every((v) => v >= 0 && v <= 1));
    assert.notDeepEqual(Array.from(a.labels.subarray(0, 8)), [0, 1, 2, 3, 0, 1, 2, 3], 'labels are shuffled');
  });

  it('without noise every example equals its class template; classes differ', () => {
    const ds = makeSyntheticClassification({ n: 40, height: 3, width: 3, numClasses: 4, seed: 1, noise: 0 });
    const size = 9;
    const first = new Map<number, Float32Array>();
    for (let i = 0; i < ds.n; i++) {
      const row = ds.images.subarray(i * size, (i + 1) * size);
      const y = ds.labels[i];
      if (!first.has(y)) first.set(y, row);
      else assert.deepEqual(row, first.get(y));
    }
    assert.notDeepEqual(first.get(0), first.get(1));
  });

  it('train and test from makeSyntheticTrainTest share templates: softmax regression learns it', function () {
    this.timeout(60000);
    const { train, test } = makeSyntheticTrainTest({ nTrain: 600, nTest: 300, height: 6, width: 6, numClasses: 5, seed: 11, noise: 0.4 });
    assert.equal(train.name, 'synthetic/train');
    assert.equal(test.n, 300);
    const before = tf.memory().numTensors;
    const acc = trainSoftmax(train, test, 3, 1);
    assert.equal(tf.memory().numTensors, before, 'training loop leaks no tensors');
    assert.ok(acc > 0.9, `test accuracy ${acc} (measured 0.99, chance 0.2)`);
    // Templates from a different seed share nothing with these: the same model is near chance.
    const other = makeSyntheticClassification({ n: 300, height: 6, width: 6, numClasses: 5, seed: 12, noise: 0.4 });
    const accOther = trainSoftmax(train, other, 3, 1);
    assert.ok(accOther < 0.45, `accuracy on unrelated templates ${accOther} (measured 0.34)`);
  });

  it('flat-feature variant is a 1 x numFeatures x 1 dataset', () => {
    const ds = makeSyntheticFeatures({ n: 64, numFeatures: 12, numClasses: 3, seed: 2 });
    assert.deepEqual([ds.height, ds.width, ds.channels, ds.n, ds.numClasses], [1, 12, 1, 64, 3]);
    assert.equal(ds.name, 'synthetic-features');
    validateDataset(ds);
  });

  it('rejects bad options naming the field', () => {
    assert.throws(() => makeSyntheticClassification({ n: 0, seed: 1 }), /synthetic dataset options: n: Number must be greater than 0/);
    assert.throws(() => makeSyntheticClassification({ numClasses: 1, seed: 1 }), /numClasses: Number must be greater than or equal to 2/);
    assert.throws(() => makeSyntheticClassification({ noise: -1, seed: 1 }), /noise: Number must be greater than or equal to 0/);
    assert.throws(() => makeSyntheticClassification({} as never), /seed: Required/);
    assert.throws(() => makeSyntheticFeatures({ numFeatures: 0, seed: 1 }), /numFeatures must be a positive integer, got 0/);
    assert.throws(() => makeSyntheticTrainTest({ nTrain: 5, nTest: 0, seed: 1 }), /nTest must be a positive integer, got 0/);
  });
});
