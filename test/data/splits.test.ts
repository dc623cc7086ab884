import { strict as assert } from 'assert';
import { balancedIndices, classCounts, ImageDataset, loadDigits, makeSplits, splitTrainValidation, subset, takeBalanced, validateDataset } from '../../src/data';
import { Rng } from '../../src/random';

/** A dataset whose pixel value encodes the example index, with unequal class sizes 50/30/20. */
function indexed(n = 100): ImageDataset {
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = i % 10 < 5 ? 0 : i % 10 < 8 ? 1 : 2;
  const images = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    images[2 * i] = i;
    images[2 * i + 1] = -i;
  }
  return { name: 'toy/train', images, labels, n, height: 1, width: 2, channels: 1, numClasses: 3, source: 'test' };
}

const ids = (ds: ImageDataset) => Array.from({ length: ds.n }, (_, j) => ds.images[2 * j]);

describe('data/splits', () => {
  it('subset copies rows and labels in the given order and rejects bad indices', () => {
    const ds = indexed();
    const s = subset(ds, [7, 3, 99]);
    assert.deepEqual(Array.from(s.images), [7, -7, 3, -3, 99, -99]);
    assert.deepEqual(Array.from(s.labels), [1, 0, 2]);
    assert.equal(s.n, 3);
    validateDataset(s);
    s.images[0] = 1000;
    assert.equal(ds.images[14], 7, 'subset does not alias the source');
    assert.throws(() => subset(ds, [0, 100]), /subset of "toy\/train": index 100 at position 1 is outside \[0, 100\)/);
    assert.throws(() => subset(ds, [1.5]), /index 1.5/);
  });

  it('stratified split keeps class proportions exactly and partitions the data', () => {
    const ds = indexed(100); // classes 50/30/20
    const sp = splitTrainValidation(ds, { validationFraction: 0.2, seed: 1 });
    assert.equal(sp.validation.n, 20);
    assert.equal(sp.train.n, 80);
    assert.deepEqual(Array.from(classCounts(sp.validation)), [10, 6, 4]);
    assert.deepEqual(Array.from(classCounts(sp.train)), [40, 24, 16]);
    const all = [...ids(sp.train), ...ids(sp.validation)].sort((a, b) => a - b);
    assert.deepEqual(all, Array.from({ length: 100 }, (_, i) => i));
    assert.deepEqual(ids(sp.validation), Array.from(sp.validationIndices));
    assert.equal(sp.train.name, 'toy/train');
    assert.equal(sp.validation.name, 'toy/validation');
    // the labels travel with their rows
    for (let j = 0; j < sp.validation.n; j++) assert.equal(sp.validation.labels[j], ds.labels[sp.validationIndices[j]]);
  });

  it('allocates a non-divisible validation size by largest remainder', () => {
    const ds = indexed(100);
    // 7 * (0.5, 0.3, 0.2) = 3.5, 2.1, 1.4 -> floors 3, 2, 1 (6) + 1 to the largest remainder (class 0)
    const sp = splitTrainValidation(ds, { validationSize: 7, seed: 4 });
    assert.deepEqual(Array.from(classCounts(sp.validation)), [4, 2, 1]);
  });

  it('is deterministic for a seed and differs across seeds; an rng gives the same as its seed when fresh', () => {
    const ds = indexed(100);
    const a = splitTrainValidation(ds, { validationSize: 30, seed: 11 });
    const b = splitTrainValidation(ds, { validationSize: 30, seed: 11 });
    const c = splitTrainValidation(ds, { validationSize: 30, seed: 12 });
    assert.deepEqual(a.validationIndices, b.validationIndices);
    assert.notDeepEqual(a.validationIndices, c.validationIndices);
    const r = splitTrainValidation(ds, { validationSize: 30, rng: new Rng(11) });
    assert.deepEqual(r.validationIndices, a.validationIndices);
  });

  it('non-stratified split draws a uniform random subset of the requested size', () => {
    const ds = indexed(100);
    const counts = new Float64Array(100);
    for (let s = 0; s < 200; s++) {
      const sp = splitTrainValidation(ds, { validationSize: 25, seed: s, stratified: false });
      assert.equal(sp.validation.n, 25);
      for (const i of sp.validationIndices) counts[i]++;
    }
    // each example is held out with probability 1/4: expected 50 of 200, sd ~6.1
    const min = Math.min(...counts);
    const max = Math.max(...counts);
    assert.ok(min > 25 && max < 75, `hold-out counts range ${min}..${max}`);
  });

  it('makeSplits draws validation from train and leaves test untouched', () => {
    const train = indexed(100);
    const test = { ...indexed(10), name: 'toy/test' };
    const s = makeSplits({ train, test }, { validationFraction: 0.1, seed: 3 });
    assert.equal(s.test, test);
    assert.equal(s.train.n + s.validation.n, 100);
    assert.equal(s.validation.n, 10);
  });

  it('rejects bad split options naming the field', () => {
    const ds = indexed(10);
    assert.throws(() => splitTrainValidation(ds, { seed: 1 }), /split options: validationFraction: give exactly one of validationFraction and validationSize/);
    assert.throws(() => splitTrainValidation(ds, { validationFraction: 0.1, validationSize: 1, seed: 1 }), /give exactly one/);
    assert.throws(() => splitTrainValidation(ds, { validationFraction: 0.5 }), /seed: give seed or rng/);
    assert.throws(() => splitTrainValidation(ds, { validationFraction: 1, seed: 1 }), /validationFraction: Number must be less than 1/);
    assert.throws(() => splitTrainValidation(ds, { validationSize: 10, seed: 1 }), /validation size 10 must be in \[1, 9\] for "toy\/train" with 10 examples/);
    assert.throws(() => splitTrainValidation(ds, { validationFraction: 0.01, seed: 1 }), /validation size 0 must be in \[1, 9\]/);
  });

  it('takeBalanced draws perClass of every class, seeded, in dataset order', () => {
    const ds = indexed(100);
    const a = takeBalanced(ds, 15, new Rng(5));
    assert.deepEqual(Array.from(classCounts(a)), [15, 15, 15]);
    const got = ids(a);
    assert.deepEqual(got, [...got].sort((x, y) => x - y));
    assert.deepEqual(balancedIndices(ds, 15, new Rng(5)), Int32Array.from(got));
    assert.notDeepEqual(balancedIndices(ds, 15, new Rng(6)), Int32Array.from(got));
    assert.throws(() => takeBalanced(ds, 21, new Rng(1)), /takeBalanced on "toy\/train": class 2 has 20 examples, fewer than perClass=21/);
    assert.throws(() => takeBalanced(ds, 0, new Rng(1)), /perClass must be a positive integer, got 0/);
  });

  it('validateDataset names inconsistent fields', () => {
    const ds = indexed(10);
    assert.throws(() => validateDataset({ ...ds, n: 11 }), /dataset "toy\/train": images has 20 values but n=11 x 1x2x1 needs 22/);
    assert.throws(() => validateDataset({ ...ds, labels: new Int32Array(10).fill(3) }), /label 3 at index 0 is outside \[0, 3\)/);
    assert.throws(() => validateDataset({ ...ds, height: 0 }), /height must be a positive integer, got 0/);
    assert.throws(() => validateDataset({ ...ds, classNames: ['a'] }), /classNames has 1 entries but numClasses=3/);
  });
});

describe('data/splits on the embedded digits', () => {
  it('makeSplits(loadDigits()) gives stratified train/validation and the untouched test file', () => {
    const data = loadDigits({ source: 'embedded' });
    const s = makeSplits(data, { validationSize: 1000, seed: 0 });
    assert.deepEqual([s.train.n, s.validation.n, s.test.n], [4000, 1000, 1000]);
    assert.deepEqual(Array.from(classCounts(s.validation)), Array(10).fill(100));
    assert.equal(s.validation.name, 'digits/validation');
    assert.equal(s.test, data.test);
  });
});
