import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { DataFileError, encodeIdx, IdxArray, isGzip, parseIdx, readIdxFile, writeIdxFile } from '../../src/data';

const FASHION_DIR = '/usr/share/datasets/fashion-mnist';

describe('data/idx', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'idx-test-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const samples: IdxArray[] = [
    { dtype: 'uint8', dims: [3, 2, 2], data: Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 254, 255]) },
    { dtype: 'int8', dims: [4], data: Int8Array.from([-128, -1, 0, 127]) },
    { dtype: 'int16', dims: [2, 2], data: Int16Array.from([-32768, -2, 513, 32767]) },
    { dtype: 'int32', dims: [3], data: Int32Array.from([-2147483648, 16909060, 2147483647]) },
    { dtype: 'float32', dims: [2], data: Float32Array.from([1.5, -3.25e-7]) },
    { dtype: 'float64', dims: [1, 2], data: Float64Array.from([Math.PI, -1e300]) },
  ];

  it('round-trips every IDX element type, plain and gzip', () => {
    for (const s of samples) {
      for (const gzip of [false, true]) {
        const bytes = encodeIdx(s, { gzip });
        assert.equal(isGzip(bytes), gzip);
        const back = parseIdx(bytes, 'x');
        assert.equal(back.dtype, s.dtype);
        assert.deepEqual(back.dims, s.dims);
        assert.deepEqual(Array.from(back.data), Array.from(s.data), `${s.dtype} gzip=${gzip}`);
      }
    }
  });

  it('writes the big-endian layout of the IDX spec', () => {
    const bytes = encodeIdx({ dtype: 'int32', dims: [2], data: Int32Array.from([1, 258]) });
    assert.deepEqual(Array.from(bytes), [0, 0, 0x0c, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 1, 2]);
  });

  it('detects gzip by magic bytes, not by file extension', () => {
    const arr = samples[0];
    const gzAsBin = path.join(tmp, 'labels.bin');
    const plainAsGz = path.join(tmp, 'plain.gz');
    fs.writeFileSync(gzAsBin, encodeIdx(arr, { gzip: true }));
    fs.writeFileSync(plainAsGz, encodeIdx(arr, { gzip: false }));
    assert.deepEqual(Array.from(readIdxFile(gzAsBin).data), Array.from(arr.data));
    assert.deepEqual(Array.from(readIdxFile(plainAsGz).data), Array.from(arr.data));
  });

  it('writeIdxFile compresses by extension and leaves no temp file behind', () => {
    const f = path.join(tmp, 'out', 'w-idx1-ubyte.gz');
    writeIdxFile(f, samples[0]);
    assert.ok(isGzip(fs.readFileSync(f)));
    assert.deepEqual(fs.readdirSync(path.dirname(f)), ['w-idx1-ubyte.gz']);
    assert.deepEqual(Array.from(readIdxFile(f).data), Array.from(samples[0].data));
  });

  describe('errors name the file and the problem', () => {
    it('missing file', () => {
      const f = path.join(tmp, 'nope-idx1-ubyte.gz');
      assert.throws(() => readIdxFile(f), (e: Error) => e instanceof DataFileError && e.message === `${f}: file not found`);
    });

    it('truncated gzip stream', () => {
      const f = path.join(tmp, 'train-labels-idx1-ubyte.gz');
      const gz = zlib.gzipSync(encodeIdx({ dtype: 'uint8', dims: [1000], data: new Uint8Array(1000).map((_, i) => i % 10) }));
      fs.writeFileSync(f, gz.subarray(0, gz.length - 9));
      assert.throws(() => readIdxFile(f), (e: Error) => e.message.startsWith(`${f}: truncated gzip stream`));
    });

    it('corrupt gzip stream', () => {
      const f = path.join(tmp, 'corrupt.gz');
      const gz = Buffer.from(zlib.gzipSync(Buffer.alloc(5000, 3)));
      gz[12] ^= 0xff;
      fs.writeFileSync(f, gz);
      assert.throws(() => readIdxFile(f), (e: Error) => e.message.startsWith(`${f}: corrupt gzip stream`));
    });

    it('wrong IDX magic', () => {
      const f = path.join(tmp, 'magic-idx3-ubyte');
      const bytes = encodeIdx(samples[0]);
      bytes[1] = 0x08; // e.g. a file that is not IDX at all
      fs.writeFileSync(f, bytes);
      assert.throws(() => readIdxFile(f), (e: Error) => e.message.startsWith(`${f}: wrong IDX magic 0x00080803`));
      const g = path.join(tmp, 'type-idx3-ubyte');
      const b2 = encodeIdx(samples[0]);
      b2[2] = 0x0a; // no such element type
      fs.writeFileSync(g, b2);
      assert.throws(() => readIdxFile(g), /type-idx3-ubyte: wrong IDX magic 0x00000a03: unknown element type code 0x0a/);
      assert.throws(() => parseIdx(Uint8Array.from([0, 0]), 'tiny'), /tiny: too short for an IDX header \(2 bytes\)/);
    });

    it('truncated header', () => {
      assert.throws(() => parseIdx(Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 5]), 'h.idx'), /h\.idx: truncated IDX header: 3 dimensions need 16 bytes, file holds 8/);
    });

    it('header count larger than the data (truncated data)', () => {
      const f = path.join(tmp, 'train-images-idx3-ubyte.gz');
      const full = encodeIdx({ dtype: 'uint8', dims: [5, 2, 2], data: new Uint8Array(20) });
      fs.writeFileSync(f, zlib.gzipSync(full.subarray(0, full.length - 4))); // drop the last image
      assert.throws(() => readIdxFile(f), (e: Error) => e.message === `${f}: header says 5 items (dims [5, 2, 2], uint8) but file holds 4 (16 of 20 data bytes)`);
      fs.writeFileSync(f, full.subarray(0, full.length - 1));
      assert.throws(() => readIdxFile(f), /header says 5 items .* but file holds 4 and 3 bytes of a partial item \(19 of 20 data bytes\)/);
    });

    it('trailing bytes after the declared items', () => {
      const bytes = Buffer.concat([encodeIdx(samples[1]), Buffer.from([1, 2])]);
      assert.throws(() => parseIdx(bytes, 'extra.idx'), /extra\.idx: header says 4 items \(dims \[4\], int8\) but file has 2 trailing bytes/);
    });

    it('reading a directory', () => {
      assert.throws(() => readIdxFile(tmp), new RegExp(`${path.basename(tmp)}: is a directory`));
    });
  });

  (fs.existsSync(FASHION_DIR) ? it : it.skip)('reads the official Fashion-MNIST test files (values checked against numpy)', () => {
    const x = readIdxFile(path.join(FASHION_DIR, 't10k-images-idx3-ubyte.gz'));
    const y = readIdxFile(path.join(FASHION_DIR, 't10k-labels-idx1-ubyte.gz'));
    assert.equal(x.dtype, 'uint8');
    assert.deepEqual(x.dims, [10000, 28, 28]);
    assert.deepEqual(y.dims, [10000]);
    let sum = 0;
    for (let i = 0; i < x.data.length; i++) sum += x.data[i];
    // Reference values from numpy (gzip + np.frombuffer) on the same file.
    assert.equal(sum, 573469082);
    assert.deepEqual(Array.from(y.data.subarray(0, 10)), [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
    let first = 0;
    for (let i = 0; i < 784; i++) first += x.data[i];
    assert.equal(first, 33456);
  });
});
