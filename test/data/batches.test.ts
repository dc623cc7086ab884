import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import { BatchIterator, datasetToTensors, ImageDataset, makeSyntheticClassification } from '../../src/data';
import { Rng } from '../../src/random';

/** n examples of shape 2x2x1 whose first pixel is the example index. */
function indexed(n: number): ImageDataset {
  const images = new Float32Array(n * 4);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    images.set([i, i + 0.25, i + 0.5, i + 0.75], 4 * i);
    labels[i] = i % 3;
  }
  return { name: 'toy', images, labels, n, height: 2, width: 2, channels: 1, numClasses: 3, source: 'test' };
}

function drain(it: BatchIterator, k: number): number[][] {
  return Array.from({ length: k }, () => Array.from(it.nextIndices()));
}

describe('data/BatchIterator', () => {
  for (const storage of ['host', 'backend'] as const) {
    describe(`storage: ${storage}`, () => {
      it('each epoch visits every example exactly once; last batch is the remainder', () => {
        const ds = indexed(103);
        const it = new BatchIterator(ds, { batchSize: 10, seed: 1, storage });
        assert.equal(it.batchesPerEpoch, 11);
        for (let epoch = 0; epoch < 3; epoch++) {
          const seen = new Int32Array(103);
          for (let s = 0; s < 11; s++) {
            assert.deepEqual(it.position(), { epoch, step: s });
            const b = it.next();
            assert.equal(b.epoch, epoch);
            assert.equal(b.step, s);
            assert.deepEqual(b.x.shape, [s === 10 ? 3 : 10, 2, 2, 1]);
            const xs = b.x.dataSync();
            const ys = b.y.dataSync();
            assert.equal(b.y.dtype, 'int32');
            assert.equal(b.x.dtype, 'float32');
            b.indices.forEach((i, j) => {
              seen[i]++;
              assert.equal(xs[4 * j], i, 'x rows are the dataset rows at the indices');
              assert.equal(xs[4 * j + 3], i + 0.75);
              assert.equal(ys[j], ds.labels[i], 'y matches x');
            });
            tf.dispose([b.x, b.y]);
          }
          assert.ok(seen.every((c) => c === 1), `epoch ${epoch} covers each example once`);
        }
        it.dispose();
      });

      it('dropLast drops the remainder and still never repeats within an epoch', () => {
        const it = new BatchIterator(indexed(103), { batchSize: 10, seed: 2, dropLast: true, storage });
        assert.equal(it.batchesPerEpoch, 10);
        const idx = drain(it, 10).flat();
        assert.equal(new Set(idx).size, 100);
        assert.deepEqual(it.position(), { epoch: 1, step: 0 });
        it.dispose();
      });

      it('flatten gives [B, H*W*C] with the same values', () => {
        const ds = makeSyntheticClassification({ n: 40, height: 3, width: 4, channels: 2, numClasses: 4, seed: 9 });
        const a = new BatchIterator(ds, { batchSize: 16, seed: 5, flatten: true, storage });
        const b = new BatchIterator(ds, { batchSize: 16, seed: 5, flatten: false, storage });
        const ba = a.next();
        const bb = b.next();
        assert.deepEqual(ba.x.shape, [16, 24]);
        assert.deepEqual(bb.x.shape, [16, 3, 4, 2]);
        assert.deepEqual(ba.x.dataSync(), bb.x.dataSync());
        const i0 = ba.indices[0];
        assert.deepEqual(ba.x.dataSync().subarray(0, 24), ds.images.subarray(i0 * 24, i0 * 24 + 24));
        tf.dispose([ba.x, ba.y, bb.x, bb.y]);
        a.dispose();
        b.dispose();
      });

      it('does not leak tensors over many batches, and dispose frees what it holds', () => {
        const before = tf.memory().numTensors;
        const it = new BatchIterator(indexed(300), { batchSize: 32, seed: 3, storage });
        const held = tf.memory().numTensors - before;
        assert.equal(held, storage === 'backend' ? 2 : 0);
        for (let s = 0; s < 200; s++) {
          const { x, y } = it.next();
          tf.tidy(() => tf.sum(x)).dispose();
          tf.dispose([x, y]);
        }
        const replay = it.peekIndices(3).map((idx) => it.batchFromIndices(idx));
        replay.forEach((b) => tf.dispose([b.x, b.y]));
        assert.equal(tf.memory().numTensors, before + held);
        it.dispose();
        assert.equal(tf.memory().numTensors, before);
        assert.throws(() => it.next(), /BatchIterator over "toy" was disposed/);
      });
    });
  }

  it('host and backend storage produce identical batches', () => {
    const ds = makeSyntheticClassification({ n: 70, height: 4, width: 4, numClasses: 5, seed: 1 });
    const h = new BatchIterator(ds, { batchSize: 16, seed: 8, storage: 'host' });
    const d = new BatchIterator(ds, { batchSize: 16, seed: 8, storage: 'backend' });
    for (let s = 0; s < 7; s++) {
      const a = h.next();
      const b = d.next();
      assert.deepEqual(a.indices, b.indices);
      assert.deepEqual(a.x.dataSync(), b.x.dataSync());
      assert.deepEqual(a.y.dataSync(), b.y.dataSync());
      assert.deepEqual(a.x.shape, b.x.shape);
      tf.dispose([a.x, a.y, b.x, b.y]);
    }
    h.dispose();
    d.dispose();
  });

  it('same seed gives the same order; other seeds and later epochs differ', () => {
    const ds = indexed(50);
    const a = drain(new BatchIterator(ds, { batchSize: 8, seed: 42 }), 14);
    const b = drain(new BatchIterator(ds, { batchSize: 8, seed: 42 }), 14);
    const c = drain(new BatchIterator(ds, { batchSize: 8, seed: 43 }), 14);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    const epoch0 = a.slice(0, 7).flat();
    const epoch1 = a.slice(7, 14).flat();
    assert.notDeepEqual(epoch0, epoch1, 'reshuffled each epoch');
    assert.deepEqual([...epoch1].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
    assert.notDeepEqual(epoch0, Array.from({ length: 50 }, (_, i) => i), 'shuffled, not dataset order');
  });

  it('an rng consumes one draw: two iterators from one stream differ, a re-created stream repeats', () => {
    const ds = indexed(50);
    const rng = new Rng(7);
    const first = drain(new BatchIterator(ds, { batchSize: 10, rng }), 5);
    const second = drain(new BatchIterator(ds, { batchSize: 10, rng }), 5);
    assert.notDeepEqual(first, second);
    assert.deepEqual(drain(new BatchIterator(ds, { batchSize: 10, rng: new Rng(7) }), 5), first);
  });

  it('peekIndices returns the next K batches (across epochs) without advancing; batchAt/seek/reset replay them', () => {
    const ds = indexed(25);
    const it = new BatchIterator(ds, { batchSize: 10, seed: 9 }); // 3 batches per epoch: 10, 10, 5
    it.nextIndices();
    const peek = it.peekIndices(4).map((a) => Array.from(a));
    assert.deepEqual(it.position(), { epoch: 0, step: 1 }, 'peek does not advance');
    assert.deepEqual(peek.map((p) => p.length), [10, 5, 10, 10]);
    const pos = it.position();
    const taken = drain(it, 4);
    assert.deepEqual(taken, peek);
    assert.deepEqual(Array.from(it.indicesAt(1, 1)), peek[3]);
    const b = it.batchAt(0, 2);
    assert.deepEqual(Array.from(b.indices), peek[1]);
    assert.equal(b.x.shape[0], 5);
    tf.dispose([b.x, b.y]);
    it.seek(pos);
    assert.deepEqual(drain(it, 4), peek);
    it.reset();
    assert.deepEqual(it.globalStep, 0);
    assert.deepEqual(drain(it, 2)[1], peek[0]);
  });

  it('peekBatches gives the tensors of the next K batches, equal to what next() then returns', () => {
    const ds = makeSyntheticClassification({ n: 30, height: 2, width: 2, numClasses: 3, seed: 4 });
    const it = new BatchIterator(ds, { batchSize: 8, seed: 2, flatten: true });
    it.seek({ epoch: 0, step: 3 }); // last (short) batch of epoch 0, then epoch 1
    const peeked = it.peekBatches(2);
    assert.deepEqual(peeked.map((b) => [b.epoch, b.step, b.x.shape[0]]), [[0, 3, 6], [1, 0, 8]]);
    for (const p of peeked) {
      const b = it.next();
      assert.deepEqual(b.indices, p.indices);
      assert.deepEqual(b.x.dataSync(), p.x.dataSync());
      assert.deepEqual(b.y.dataSync(), p.y.dataSync());
      tf.dispose([b.x, b.y, p.x, p.y]);
    }
  });

  it('epochBatches yields the rest of the current epoch', () => {
    const it = new BatchIterator(indexed(25), { batchSize: 10, seed: 1 });
    it.nextIndices();
    const steps: number[] = [];
    for (const b of it.epochBatches()) {
      steps.push(b.step);
      tf.dispose([b.x, b.y]);
    }
    assert.deepEqual(steps, [1, 2]);
    assert.deepEqual(it.position(), { epoch: 1, step: 0 });
  });

  it('shuffle: false keeps dataset order and needs no seed', () => {
    const it = new BatchIterator(indexed(7), { batchSize: 3, shuffle: false });
    assert.deepEqual(drain(it, 4), [[0, 1, 2], [3, 4, 5], [6], [0, 1, 2]]);
  });

  it('rejects bad options and indices naming the problem', () => {
    const ds = indexed(10);
    assert.throws(() => new BatchIterator(ds, { batchSize: 0, seed: 1 }), /BatchIterator options: batchSize: Number must be greater than 0/);
    assert.throws(() => new BatchIterator(ds, { batchSize: 4 }), /BatchIterator options: seed: shuffle needs seed or rng/);
    assert.throws(() => new BatchIterator(ds, { batchSize: 11, seed: 1, dropLast: true }), /batchSize 11 exceeds the 10 examples of "toy" with dropLast/);
    assert.throws(() => new BatchIterator({ ...ds, n: 9 }, { batchSize: 2, seed: 1 }), /dataset "toy": images has 40 values but n=9/);
    const it = new BatchIterator(ds, { batchSize: 4, seed: 1 });
    assert.throws(() => it.batchFromIndices([0, 10]), /index 10 at position 1 is outside \[0, 10\)/);
    assert.throws(() => it.indicesAt(0, 3), /step must be an integer in \[0, 3\), got 3/);
    assert.throws(() => it.seek({ epoch: -1, step: 0 }), /epoch must be a non-negative integer, got -1/);
    assert.throws(() => it.peekIndices(-1), /k must be a non-negative integer/);
  });

  it('datasetToTensors returns the whole set as NHWC or flat tensors', () => {
    const ds = indexed(6);
    const a = datasetToTensors(ds);
    const b = datasetToTensors(ds, { flatten: true });
    assert.deepEqual(a.x.shape, [6, 2, 2, 1]);
    assert.deepEqual(b.x.shape, [6, 4]);
    assert.deepEqual(a.x.dataSync(), ds.images);
    assert.deepEqual(Array.from(b.y.dataSync()), [0, 1, 2, 0, 1, 2]);
    assert.equal(b.y.dtype, 'int32');
    tf.dispose([a.x, a.y, b.x, b.y]);
  });
});
