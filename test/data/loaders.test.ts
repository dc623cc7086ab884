import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  classCounts,
  DIGIT_CLASSES,
  embeddedDataDir,
  encodeIdx,
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_DEBIAN_DIR,
  FASHION_MNIST_ENV,
  IDX_FILE_NAMES,
  ImageDataset,
  loadDigits,
  loadFashionMnist,
  locateDataset,
  MNIST_ENV,
  readIdxFile,
  validateDataset,
} from '../../src/data';

const hasDebian = fs.existsSync(FASHION_MNIST_DEBIAN_DIR);

let fullCache: ReturnType<typeof loadFashionMnist> | undefined;
/** The full Debian copy, loaded once for the whole file (about 1 s). */
function fullFashion(): ReturnType<typeof loadFashionMnist> {
  if (!fullCache) fullCache = withEnv(FASHION_MNIST_ENV, undefined, () => loadFashionMnist());
  return fullCache;
}

function pixelRange(ds: ImageDataset): { min: number; max: number; mean: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < ds.images.length; i++) {
    const v = ds.images[i];
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { min, max, mean: sum / ds.images.length };
}

/** Nearest-class-mean accuracy: a cheap check that labels belong to their images. */
function nearestCentroidAccuracy(train: ImageDataset, test: ImageDataset): number {
  const d = train.height * train.width * train.channels;
  const K = train.numClasses;
  const mu = new Float64Array(K * d);
  const cnt = classCounts(train);
  for (let i = 0; i < train.n; i++) {
    const o = train.labels[i] * d;
    for (let j = 0; j < d; j++) mu[o + j] += train.images[i * d + j] / cnt[train.labels[i]];
  }
  let ok = 0;
  for (let i = 0; i < test.n; i++) {
    let best = -1;
    let bestD = Infinity;
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const t = test.images[i * d + j] - mu[k * d + j];
        s += t * t;
      }
      if (s < bestD) {
        bestD = s;
        best = k;
      }
    }
    if (best === test.labels[i]) ok++;
  }
  return ok / test.n;
}

function withEnv<T>(name: string, value: string | undefined, fn: () => T): T {
  const old = process.env[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
  try {
    return fn();
  } finally {
    if (old === undefined) delete process.env[name];
    else process.env[name] = old;
  }
}

describe('data/loaders', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'loaders-test-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('locateDataset names the source the loaders use, without loading (env, Debian, embedded, full required)', () => {
    const saved = { fm: process.env[FASHION_MNIST_ENV], mn: process.env[MNIST_ENV] };
    try {
      delete process.env[FASHION_MNIST_ENV];
      delete process.env[MNIST_ENV];
      assert.equal(locateDataset('fashion-mnist').source, fs.existsSync(FASHION_MNIST_DEBIAN_DIR) ? 'debian' : 'embedded');
      assert.equal(locateDataset('fashion-mnist', { source: 'embedded' }).source, 'embedded');
      assert.deepEqual(locateDataset('digits'), { source: 'embedded', dir: embeddedDataDir('digits'), label: `embedded subset ${embeddedDataDir('digits')}` });
      assert.throws(() => locateDataset('digits', { source: 'full' }), /no full MNIST copy/);
      process.env[MNIST_ENV] = tmp;
      assert.deepEqual(locateDataset('digits'), { source: 'env', dir: tmp, label: path.resolve(tmp) });
      assert.equal(locateDataset('fashion-mnist', { dir: tmp }).source, 'dir');
    } finally {
      if (saved.fm === undefined) delete process.env[FASHION_MNIST_ENV];
      else process.env[FASHION_MNIST_ENV] = saved.fm;
      if (saved.mn === undefined) delete process.env[MNIST_ENV];
      else process.env[MNIST_ENV] = saved.mn;
    }
  });

  /** Writes a tiny MNIST-style directory; `nTrainLabels` lets a test break the label count. */
  function writeTinyDir(name: string, opts: { nTrain?: number; nTrainLabels?: number; badLabel?: number; skip?: string } = {}): string {
    const dir = path.join(tmp, name);
    fs.mkdirSync(dir, { recursive: true });
    const nTrain = opts.nTrain ?? 6;
    const nLab = opts.nTrainLabels ?? nTrain;
    const files: [string, Buffer][] = [
      [IDX_FILE_NAMES.trainImages, encodeIdx({ dtype: 'uint8', dims: [nTrain, 2, 3], data: new Uint8Array(nTrain * 6).map((_, i) => (i * 37) % 256) }, { gzip: true })],
      [IDX_FILE_NAMES.trainLabels, encodeIdx({ dtype: 'uint8', dims: [nLab], data: new Uint8Array(nLab).map((_, i) => (i === 2 && opts.badLabel !== undefined ? opts.badLabel : i % 10)) }, { gzip: true })],
      [IDX_FILE_NAMES.testImages, encodeIdx({ dtype: 'uint8', dims: [2, 2, 3], data: Uint8Array.from([0, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) })],
      [IDX_FILE_NAMES.testLabels, encodeIdx({ dtype: 'uint8', dims: [2], data: Uint8Array.from([3, 4]) })],
    ];
    for (const [base, bytes] of files) {
      if (base === opts.skip) continue;
      // train files gzip-compressed with .gz, test files plain without: both layouts are accepted
      fs.writeFileSync(path.join(dir, base.startsWith('train') ? `${base}.gz` : base), bytes);
    }
    return dir;
  }

  describe('Fashion-MNIST', () => {
    (hasDebian ? it : it.skip)('loads the full Debian copy: shapes, counts, balance, pixel range', () => {
      const fm = fullFashion();
      assert.equal(fm.source, 'debian');
      assert.equal(fm.dir, FASHION_MNIST_DEBIAN_DIR);
      const { train, test } = fm;
      assert.equal(train.n, 60000);
      assert.equal(test.n, 10000);
      for (const ds of [train, test]) {
        validateDataset(ds);
        assert.deepEqual([ds.height, ds.width, ds.channels, ds.numClasses], [28, 28, 1, 10]);
        assert.deepEqual(ds.classNames, FASHION_MNIST_CLASSES);
        assert.equal(ds.source, FASHION_MNIST_DEBIAN_DIR);
      }
      assert.deepEqual(Array.from(classCounts(train)), Array(10).fill(6000));
      assert.deepEqual(Array.from(classCounts(test)), Array(10).fill(1000));
      const r = pixelRange(train);
      assert.equal(r.min, 0);
      assert.equal(r.max, 1);
      // numpy: (x.astype(float32) / 255).mean() over the train images = 0.2860406
      assert.ok(Math.abs(r.mean - 0.2860406) < 1e-6, `mean ${r.mean}`);
      assert.deepEqual(Array.from(train.labels.subarray(0, 10)), [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
      // scaling is exactly byte / 255 in float32 (as torchvision ToTensor)
      const raw = readIdxFile(path.join(FASHION_MNIST_DEBIAN_DIR, 't10k-images-idx3-ubyte.gz')).data;
      for (let i = 0; i < 784 * 3; i++) assert.equal(test.images[i], Math.fround(raw[i] / 255));
    });

    (hasDebian ? it : it.skip)('limit keeps the first examples of each file', () => {
      const fm = loadFashionMnist({ source: 'full', limit: { train: 100, test: 7 } });
      assert.equal(fm.train.n, 100);
      assert.equal(fm.test.n, 7);
      assert.equal(fm.train.images.length, 100 * 784);
      assert.deepEqual(Array.from(fm.test.labels), [9, 2, 1, 1, 6, 1, 4]);
    });

    it('loads the embedded subset: 600/200 per class, shapes and pixel range', () => {
      const fm = loadFashionMnist({ source: 'embedded' });
      assert.equal(fm.source, 'embedded');
      assert.equal(fm.dir, embeddedDataDir('fashion-mnist-subset'));
      assert.equal(fm.train.n, 6000);
      assert.equal(fm.test.n, 2000);
      assert.match(fm.train.source, /^embedded subset .*data\/fashion-mnist-subset$/);
      for (const ds of [fm.train, fm.test]) {
        validateDataset(ds);
        assert.deepEqual([ds.height, ds.width, ds.channels, ds.numClasses], [28, 28, 1, 10]);
        const r = pixelRange(ds);
        assert.equal(r.min, 0);
        assert.equal(r.max, 1);
        assert.ok(r.mean > 0.25 && r.mean < 0.32, `mean ${r.mean} (full set: 0.286)`);
      }
      assert.deepEqual(Array.from(classCounts(fm.train)), Array(10).fill(600));
      assert.deepEqual(Array.from(classCounts(fm.test)), Array(10).fill(200));
      // labels belong to their images: nearest class mean gets ~66% (chance 10%)
      const acc = nearestCentroidAccuracy(fm.train, fm.test);
      assert.ok(acc > 0.6, `nearest-centroid accuracy ${acc}`);
    });

    (hasDebian ? it : it.skip)('embedded subset holds the original examples at the manifest indices', () => {
      const manifest = JSON.parse(fs.readFileSync(path.join(embeddedDataDir('fashion-mnist-subset'), 'manifest.json'), 'utf8'));
      const emb = loadFashionMnist({ source: 'embedded' });
      const full = fullFashion();
      for (const part of ['train', 'test'] as const) {
        const idx: number[] = manifest[`${part}Indices`];
        assert.equal(idx.length, emb[part].n);
        for (let j = 1; j < idx.length; j++) assert.ok(idx[j] > idx[j - 1], 'indices ascending (file order kept)');
        for (let j = 0; j < idx.length; j += 97) {
          assert.equal(emb[part].labels[j], full[part].labels[idx[j]]);
          assert.deepEqual(emb[part].images.subarray(j * 784, (j + 1) * 784), full[part].images.subarray(idx[j] * 784, (idx[j] + 1) * 784));
        }
      }
    });

    it('resolution order: explicit dir, then FASHION_MNIST_DIR, then Debian/embedded', () => {
      const tiny = writeTinyDir('tiny');
      const emb = embeddedDataDir('fashion-mnist-subset');
      const fromEnv = withEnv(FASHION_MNIST_ENV, emb, () => loadFashionMnist({ limit: 5 }));
      assert.equal(fromEnv.source, 'env');
      assert.equal(fromEnv.dir, emb);
      assert.equal(fromEnv.train.n, 5);
      const fromDir = withEnv(FASHION_MNIST_ENV, emb, () => loadFashionMnist({ dir: tiny }));
      assert.equal(fromDir.source, 'dir');
      assert.equal(fromDir.train.n, 6);
      assert.deepEqual([fromDir.train.height, fromDir.train.width], [2, 3]);
      assert.deepEqual(Array.from(fromDir.test.images.subarray(0, 2)), [0, 1]);
      const auto = withEnv(FASHION_MNIST_ENV, '', () => loadFashionMnist({ limit: 3 }));
      assert.equal(auto.source, hasDebian ? 'debian' : 'embedded');
      const embeddedWins = withEnv(FASHION_MNIST_ENV, tiny, () => loadFashionMnist({ source: 'embedded', limit: 3 }));
      assert.equal(embeddedWins.source, 'embedded');
    });

    it('a FASHION_MNIST_DIR that does not exist is an error, not a silent fallback', () => {
      const missing = path.join(tmp, 'no-such-dir');
      assert.throws(() => withEnv(FASHION_MNIST_ENV, missing, () => loadFashionMnist()), (e: Error) => e.message === `${missing}: directory not found`);
    });

    it('rejects bad options naming the field', () => {
      assert.throws(() => loadFashionMnist({ source: 'web' as 'auto' }), /Fashion-MNIST load options: source/);
      assert.throws(() => loadFashionMnist({ limit: 0 }), /Fashion-MNIST load options: limit/);
      assert.throws(() => loadFashionMnist({ limt: 5 } as never), /Unrecognized key.*limt/);
    });
  });

  describe('bad data directories', () => {
    it('label and image counts differ: names both files and counts', () => {
      const dir = writeTinyDir('mismatch', { nTrain: 6, nTrainLabels: 5 });
      const lab = path.join(dir, `${IDX_FILE_NAMES.trainLabels}.gz`);
      const img = path.join(dir, `${IDX_FILE_NAMES.trainImages}.gz`);
      assert.throws(() => loadFashionMnist({ dir }), (e: Error) => e.message === `labels (5, ${lab}) and images (6, ${img}) counts differ`);
    });

    it('a missing file names the directory and both accepted names', () => {
      const dir = writeTinyDir('missing', { skip: IDX_FILE_NAMES.testLabels });
      assert.throws(() => loadDigits({ dir }), (e: Error) => e.message.includes(`looked for t10k-labels-idx1-ubyte and t10k-labels-idx1-ubyte.gz in ${dir}`) && e.message.includes('file not found'));
    });

    it('a label outside [0, numClasses) names the file and index', () => {
      const dir = writeTinyDir('badlabel', { badLabel: 12 });
      assert.throws(() => loadFashionMnist({ dir }), new RegExp(`train-labels-idx1-ubyte\\.gz: label 12 at index 2 is outside \\[0, 10\\)`));
    });

    it('wrong element type or rank names the file', () => {
      const dir = writeTinyDir('wrongrank');
      fs.writeFileSync(path.join(dir, IDX_FILE_NAMES.testImages), encodeIdx({ dtype: 'uint8', dims: [2, 6], data: new Uint8Array(12) }));
      assert.throws(() => loadFashionMnist({ dir }), /t10k-images-idx3-ubyte: expected image dims \[n, rows, cols\] or \[n, rows, cols, channels\], got \[2, 6\]/);
      fs.writeFileSync(path.join(dir, IDX_FILE_NAMES.testImages), encodeIdx({ dtype: 'float32', dims: [2, 2, 3], data: new Float32Array(12) }));
      assert.throws(() => loadFashionMnist({ dir }), /t10k-images-idx3-ubyte: expected uint8 pixels, got float32/);
    });

    it('a truncated gzip file in a data directory names the file', () => {
      const dir = writeTinyDir('truncgz');
      const f = path.join(dir, `${IDX_FILE_NAMES.trainImages}.gz`);
      const gz = fs.readFileSync(f);
      fs.writeFileSync(f, gz.subarray(0, gz.length - 6));
      assert.throws(() => loadDigits({ dir }), (e: Error) => e.message.startsWith(`${f}: truncated gzip stream`));
    });
  });

  describe('digits', () => {
    it('loads the embedded subset: 500/100 per class, 28x28, disjoint train/test, learnable labels', () => {
      const d = withEnv(MNIST_ENV, undefined, () => loadDigits());
      assert.equal(d.source, 'embedded');
      assert.equal(d.train.n, 5000);
      assert.equal(d.test.n, 1000);
      for (const ds of [d.train, d.test]) {
        validateDataset(ds);
        assert.deepEqual([ds.height, ds.width, ds.channels, ds.numClasses], [28, 28, 1, 10]);
        assert.deepEqual(ds.classNames, DIGIT_CLASSES);
        const r = pixelRange(ds);
        assert.equal(r.min, 0);
        assert.equal(r.max, 1);
        assert.ok(r.mean > 0.1 && r.mean < 0.16, `mean ${r.mean} (MNIST: 0.1307)`);
      }
      assert.deepEqual(Array.from(classCounts(d.train)), Array(10).fill(500));
      assert.deepEqual(Array.from(classCounts(d.test)), Array(10).fill(100));
      const manifest = JSON.parse(fs.readFileSync(path.join(embeddedDataDir('digits'), 'manifest.json'), 'utf8'));
      const key = (x: [number, number]) => `${x[0]}/${x[1]}`;
      const trainKeys = new Set((manifest.trainItems as [number, number][]).map(key));
      assert.equal(trainKeys.size, 5000);
      for (const it of manifest.testItems as [number, number][]) assert.ok(!trainKeys.has(key(it)), `test item ${key(it)} also in train`);
      (manifest.trainItems as [number, number][]).forEach(([digit], j) => assert.equal(d.train.labels[j], digit));
      const acc = nearestCentroidAccuracy(d.train, d.test);
      assert.ok(acc > 0.75, `nearest-centroid accuracy ${acc} (measured 0.83; chance 0.1)`);
    });

    it('uses MNIST_DIR or dir when given, and source "full" requires one', () => {
      const tiny = writeTinyDir('tinydigits');
      const fromEnv = withEnv(MNIST_ENV, tiny, () => loadDigits());
      assert.equal(fromEnv.source, 'env');
      assert.equal(fromEnv.train.name, 'digits/train');
      assert.equal(fromEnv.train.n, 6);
      assert.throws(() => withEnv(MNIST_ENV, undefined, () => loadDigits({ source: 'full' })), /digits \(source 'full'\): no full MNIST copy/);
      assert.equal(withEnv(MNIST_ENV, tiny, () => loadDigits({ source: 'embedded', limit: 10 })).train.n, 10);
    });
  });
});
