import { strict as assert } from 'assert';
import {
  tf,
  wasmKernelFixesInstalled,
  installGradientOverrides,
  uninstallGradientOverrides,
  gradientOverridesInstalled,
  OVERRIDDEN_KERNELS,
} from '../../src/backend';
import { Rng } from '../../src/random';

type T = tf.Tensor;
type T4 = tf.Tensor4D;
type Fn = (...xs: T[]) => T;
type Pad4 = [[number, number], [number, number], [number, number], [number, number]];

const REL_TOL = 1e-4;

interface Case {
  name: string;
  shapes: number[][];
  /** Function differentiated with the overrides on wasm. */
  f: Fn;
  /** Reference function for the stock gradients on cpu (defaults to `f`). */
  ref?: Fn;
  /** Input values (defaults to N(0, 1)). */
  values?: (rng: Rng, size: number, index: number) => Float32Array;
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Gradients of sum(f(xs) * dy) for a seeded dy, read back as arrays. */
function gradients(f: Fn, shapes: number[][], data: Float32Array[], seed: number): Float32Array[] {
  const xs = data.map((d, i) => tf.tensor(d, shapes[i]));
  const outShape = tf.tidy(() => f(...xs)).shape;
  const dyTensor = tf.tensor(new Rng(seed).normalArray(size(outShape)), outShape);
  const gs = tf.grads(f)(xs, dyTensor);
  const out = gs.map((g) => g.dataSync() as Float32Array);
  for (let i = 0; i < gs.length; i++) assert.deepEqual(gs[i].shape, shapes[i], 'gradient shape');
  tf.dispose([...xs, dyTensor, ...gs]);
  return out;
}

function relErr(got: Float32Array, ref: Float32Array): { err: number; scale: number } {
  assert.equal(got.length, ref.length);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    err = Math.max(err, Math.abs(got[i] - ref[i]));
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  return { err, scale };
}

/** Override gradients on wasm vs stock gradients on cpu. */
async function check(c: Case, seed = 1): Promise<void> {
  const rng = new Rng(seed);
  const data = c.shapes.map((s, i) => (c.values ? c.values(rng, size(s), i) : rng.normalArray(size(s))));
  await tf.setBackend('cpu');
  uninstallGradientOverrides();
  const ref = gradients(c.ref ?? c.f, c.shapes, data, seed + 1000);
  installGradientOverrides();
  await tf.setBackend('wasm');
  const got = gradients(c.f, c.shapes, data, seed + 1000);
  for (let i = 0; i < ref.length; i++) {
    const { err, scale } = relErr(got[i], ref[i]);
    assert.ok(scale > 0, `${c.name}: reference gradient of input ${i} is all zero (test would be vacuous)`);
    assert.ok(err <= REL_TOL * scale, `${c.name}: input ${i} max abs error ${err} > ${REL_TOL} x ${scale}`);
    for (const v of got[i]) assert.ok(Number.isFinite(v), `${c.name}: non-finite gradient`);
  }
}

/** Average pooling that excludes padding from each window's count, from ops with correct stock gradients. */
function countExcludingAvgPool(
  x: T4,
  k: number | [number, number],
  s: number | [number, number],
  pad: 'same' | 'valid' | number,
): T {
  const [kh, kw] = typeof k === 'number' ? [k, k] : k;
  const c = x.shape[3];
  const ones = tf.ones([kh, kw, c, 1]) as T4;
  const sum = tf.depthwiseConv2d(x, ones, s, pad);
  const count = tf.depthwiseConv2d(tf.onesLike(x) as T4, ones, s, pad);
  return tf.div(sum, count);
}

/** Inserts zeros into a filter so a dilation-1 conv equals a dilated conv (stock grads cannot dilate). */
function dilateFilter(w: T, dH: number, dW: number): T4 {
  const [kh, kw, a, b] = w.shape;
  const w6 = tf.reshape(w, [kh, 1, kw, 1, a, b]);
  const padded = tf.reshape(
    tf.pad(w6, [
      [0, 0],
      [0, dH - 1],
      [0, 0],
      [0, dW - 1],
      [0, 0],
      [0, 0],
    ]),
    [kh * dH, kw * dW, a, b],
  );
  return tf.slice(padded, [0, 0, 0, 0], [(kh - 1) * dH + 1, (kw - 1) * dW + 1, a, b]) as T4;
}

let wasInstalled = false;

describe('backend/gradient overrides', function () {
  before(() => {
    wasInstalled = gradientOverridesInstalled();
    assert.equal(tf.getBackend(), 'wasm', 'these tests compare wasm against cpu; run them with the wasm backend');
  });
  after(async () => {
    await tf.setBackend('wasm');
    if (wasInstalled) installGradientOverrides();
    else uninstallGradientOverrides();
  });

  describe('install / uninstall', () => {
    it('is idempotent and restores the exact stock gradient configs', () => {
      uninstallGradientOverrides();
      assert.equal(gradientOverridesInstalled(), false);
      const stock = OVERRIDDEN_KERNELS.map((k) => tf.getGradient(k));
      installGradientOverrides();
      installGradientOverrides();
      assert.equal(gradientOverridesInstalled(), true);
      OVERRIDDEN_KERNELS.forEach((k, i) => assert.notEqual(tf.getGradient(k), stock[i], `${k} not overridden`));
      uninstallGradientOverrides();
      uninstallGradientOverrides();
      assert.equal(gradientOverridesInstalled(), false);
      OVERRIDDEN_KERNELS.forEach((k, i) => assert.equal(tf.getGradient(k), stock[i], `${k} not restored`));
      installGradientOverrides();
    });

    it('makes conv2d trainable on wasm, where the stock gradient has no kernel', async () => {
      await tf.setBackend('wasm');
      const x = tf.ones([1, 4, 4, 1]) as T4;
      const w = tf.ones([3, 3, 1, 2]) as T4;
      const f = (ww: T) => tf.sum(tf.conv2d(x, ww as T4, 1, 'same'));
      uninstallGradientOverrides();
      assert.throws(() => tf.grad(f)(w), /Conv2DBackpropFilter/);
      installGradientOverrides();
      const g = tf.grad(f)(w);
      // Corner taps see a 3x3 part of the 4x4 ones image (9), the centre tap all of it (16).
      assert.deepEqual(Array.from(g.dataSync()).slice(0, 2), [9, 9]);
      assert.equal(g.dataSync()[4 * 2], 16);
      tf.dispose([x, w, g]);
    });
  });

  describe('BatchMatMul', () => {
    const cases: Case[] = [];
    for (const [ta, tb] of [
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ] as [boolean, boolean][]) {
      const a2 = ta ? [7, 5] : [5, 7];
      const b2 = tb ? [6, 7] : [7, 6];
      cases.push({ name: `rank 2 tA=${ta} tB=${tb}`, shapes: [a2, b2], f: (a, b) => tf.matMul(a, b, ta, tb) });
      cases.push({
        name: `rank 3 tA=${ta} tB=${tb}`,
        shapes: [
          [3, ...a2],
          [3, ...b2],
        ],
        f: (a, b) => tf.matMul(a, b, ta, tb),
      });
    }
    cases.push({
      name: 'broadcast rank-3 a with rank-2 b',
      shapes: [
        [4, 5, 7],
        [7, 6],
      ],
      f: (a, b) => tf.matMul(a, b),
      // Stock gradients reject broadcasting; the reference tiles b explicitly.
      ref: (a, b) => tf.matMul(a, tf.tile(tf.reshape(b, [1, 7, 6]), [4, 1, 1])),
    });
    cases.push({
      name: 'MLP-sized 128x784 @ 784x64',
      shapes: [
        [128, 784],
        [784, 64],
      ],
      f: (a, b) => tf.matMul(a, b),
    });
    for (const c of cases) it(c.name, () => check(c));
  });

  describe('Conv2D', () => {
    type Cfg = [
      string,
      number[],
      number[],
      number | [number, number],
      'same' | 'valid' | number | Pad4,
      number | [number, number],
    ];
    const cfgs: Cfg[] = [
      ['3x3 s1 same', [2, 7, 7, 3], [3, 3, 3, 4], 1, 'same', 1],
      ['3x3 s1 valid', [2, 7, 6, 3], [3, 3, 3, 4], 1, 'valid', 1],
      ['3x3 s2 same (odd input)', [2, 7, 7, 3], [3, 3, 3, 4], 2, 'same', 1],
      ['3x3 s2 same (even input)', [2, 8, 8, 3], [3, 3, 3, 4], 2, 'same', 1],
      ['3x3 s2 valid', [2, 8, 9, 3], [3, 3, 3, 4], 2, 'valid', 1],
      ['5x5 s1 same', [2, 9, 9, 2], [5, 5, 2, 3], 1, 'same', 1],
      ['5x5 s2 valid (unused border)', [2, 10, 11, 2], [5, 5, 2, 3], 2, 'valid', 1],
      ['5x5 s2 same', [2, 10, 10, 2], [5, 5, 2, 3], 2, 'same', 1],
      ['3x2 strides [1,2] same', [2, 7, 8, 3], [3, 2, 3, 2], [1, 2], 'same', 1],
      ['1x1 s1 (pointwise path)', [2, 5, 5, 6], [1, 1, 6, 4], 1, 'valid', 1],
      ['1x1 s2 same', [2, 5, 6, 6], [1, 1, 6, 4], 2, 'same', 1],
      ['3x3 s1 numeric pad 1', [2, 6, 6, 3], [3, 3, 3, 4], 1, 1, 1],
      [
        '3x3 s2 explicit pad',
        [2, 7, 8, 3],
        [3, 3, 3, 4],
        2,
        [
          [0, 0],
          [2, 1],
          [0, 2],
          [0, 0],
        ],
        1,
      ],
      [
        '3x3 s2 explicit pad larger than the filter',
        [2, 7, 8, 3],
        [3, 3, 3, 4],
        2,
        [
          [0, 0],
          [4, 3],
          [0, 5],
          [0, 0],
        ],
        1,
      ],
      ['3x3 s1 pad 3 > filter extent', [2, 5, 5, 2], [3, 3, 2, 3], 1, 3, 1],
      ['3x3 s1 same dilation 2', [2, 9, 9, 3], [3, 3, 3, 4], 1, 'same', 2],
      ['3x3 s1 valid dilation [2,3]', [2, 9, 10, 3], [3, 3, 3, 4], 1, 'valid', [2, 3]],
      ['CNN layer 2 sized', [8, 14, 14, 16], [3, 3, 16, 32], 1, 'same', 1],
      ['1 input channel (im2col path) 3x3 s1 same', [4, 9, 9, 1], [3, 3, 1, 5], 1, 'same', 1],
      ['1 input channel 5x5 s2 valid', [4, 11, 12, 1], [5, 5, 1, 3], 2, 'valid', 1],
      [
        '1 input channel 3x3 dilation 2 explicit pad',
        [4, 9, 9, 1],
        [3, 3, 1, 2],
        1,
        [
          [0, 0],
          [1, 2],
          [2, 0],
          [0, 0],
        ],
        2,
      ],
      ['8 input channels 3x3 s2 same', [2, 9, 9, 8], [3, 3, 8, 4], 2, 'same', 1],
    ];
    for (const [name, xs, ws, s, pad, d] of cfgs) {
      const dil: [number, number] = typeof d === 'number' ? [d, d] : d;
      const dilated = dil[0] > 1 || dil[1] > 1;
      it(name, () =>
        check({
          name,
          shapes: [xs, ws],
          f: (x, w) => tf.conv2d(x as T4, w as T4, s, pad, 'NHWC', dil),
          ref: dilated ? (x, w) => tf.conv2d(x as T4, dilateFilter(w, dil[0], dil[1]), s, pad) : undefined,
        }),
      );
    }
  });

  describe('DepthwiseConv2dNative', () => {
    type Cfg = [string, number[], number[], number, 'same' | 'valid' | Pad4, number];
    const cfgs: Cfg[] = [
      ['3x3 s1 same', [2, 8, 8, 4], [3, 3, 4, 1], 1, 'same', 1],
      ['3x3 s2 same', [2, 8, 8, 4], [3, 3, 4, 1], 2, 'same', 1],
      ['3x3 s2 same (odd input)', [2, 7, 9, 4], [3, 3, 4, 1], 2, 'same', 1],
      ['5x5 s1 same', [2, 9, 9, 3], [5, 5, 3, 1], 1, 'same', 1],
      ['5x5 s2 same', [2, 10, 10, 3], [5, 5, 3, 1], 2, 'same', 1],
      ['3x3 s1 valid', [2, 7, 7, 4], [3, 3, 4, 1], 1, 'valid', 1],
      ['3x3 s2 valid, multiplier 2', [2, 8, 9, 3], [3, 3, 3, 2], 2, 'valid', 1],
      [
        '3x3 s1 explicit pad',
        [2, 6, 6, 2],
        [3, 3, 2, 1],
        1,
        [
          [0, 0],
          [0, 2],
          [1, 1],
          [0, 0],
        ],
        1,
      ],
      [
        '3x3 s2 explicit pad larger than the filter',
        [2, 6, 7, 2],
        [3, 3, 2, 1],
        2,
        [
          [0, 0],
          [3, 4],
          [5, 0],
          [0, 0],
        ],
        1,
      ],
      ['3x3 s1 same dilation 2', [2, 9, 9, 3], [3, 3, 3, 1], 1, 'same', 2],
    ];
    for (const [name, xs, ws, s, pad, d] of cfgs) {
      it(name, () =>
        check({
          name,
          shapes: [xs, ws],
          f: (x, w) => tf.depthwiseConv2d(x as T4, w as T4, s, pad, 'NHWC', d),
          ref: d > 1 ? (x, w) => tf.depthwiseConv2d(x as T4, dilateFilter(w, d, d), s, pad) : undefined,
        }),
      );
    }
  });

  describe('MaxPool / AvgPool', () => {
    type Cfg = [string, number[], number | [number, number], number | [number, number], 'same' | 'valid' | number];
    const cfgs: Cfg[] = [
      ['2x2 s2 valid', [2, 8, 8, 3], 2, 2, 'valid'],
      ['2x2 s2 valid, odd input (unused border)', [2, 9, 7, 3], 2, 2, 'valid'],
      ['2x2 s2 same, even input', [2, 6, 8, 3], 2, 2, 'same'],
      ['3x3 s3 valid', [2, 9, 10, 2], 3, 3, 'valid'],
      ['2x3 window [2,3] strides', [2, 6, 9, 2], [2, 3], [2, 3], 'valid'],
      ['3x3 s1 same (general path)', [2, 6, 6, 2], 3, 1, 'same'],
      ['3x3 s2 same (general path)', [2, 7, 7, 2], 3, 2, 'same'],
      ['2x2 s2 same, odd input (general path)', [2, 7, 7, 2], 2, 2, 'same'],
      ['3x3 s2 numeric pad 1 (general path)', [2, 8, 7, 2], 3, 2, 1],
      ['2x2 s2 numeric pad 1 (general path)', [2, 6, 6, 2], 2, 2, 1],
    ];
    for (const [name, xs, k, s, pad] of cfgs) {
      it(`maxPool ${name}`, () => check({ name, shapes: [xs], f: (x) => tf.maxPool(x as T4, k, s, pad) }));
      // Reference: the same average with padding excluded from each window's count, written as a
      // sum-pool (depthwise conv with ones) divided by the count map, whose stock cpu gradients are right.
      it(`avgPool ${name}`, () =>
        check({
          name,
          shapes: [xs],
          f: (x) => tf.avgPool(x as T4, k, s, pad),
          ref: (x) => countExcludingAvgPool(x as T4, k, s, pad),
        }));
    }
    it('avgPool next to same padding: the issue reproducer gives the PyTorch count_include_pad=False gradient, on cpu and wasm', async () => {
      for (const backend of ['cpu', 'wasm']) {
        await tf.setBackend(backend);
        const g = tf.grad((v: T) => tf.sum(tf.avgPool(v as T4, 2, 1, 'same')))(tf.ones([1, 3, 3, 1]));
        const got = Array.from(g.dataSync());
        const torch = [0.25, 0.5, 0.75, 0.5, 1, 1.5, 0.75, 1.5, 2.25];
        got.forEach((v, i) =>
          assert.ok(Math.abs(v - torch[i]) < 1e-6, `${backend}: element ${i}: ${v} vs ${torch[i]}`),
        );
        g.dispose();
      }
      await tf.setBackend('wasm');
    });
    it('avgPool gradients with padding match central finite differences', async () => {
      await tf.setBackend('wasm');
      const rng = new Rng(5);
      for (const [k, st, pad] of [
        [3, 2, 'same'],
        [2, 1, 'same'],
        [3, 2, 1],
      ] as [number, number, 'same' | number][]) {
        const x0 = rng.normalArray(1 * 5 * 6 * 2);
        const dy = rng.normalArray(size(tf.tidy(() => tf.avgPool(tf.zeros([1, 5, 6, 2]) as T4, k, st, pad)).shape));
        const loss = (xs: Float32Array) =>
          tf.tidy(
            () =>
              tf
                .sum(
                  tf.mul(
                    tf.avgPool(tf.tensor4d(xs, [1, 5, 6, 2]), k, st, pad),
                    tf.tensor(dy, tf.avgPool(tf.zeros([1, 5, 6, 2]) as T4, k, st, pad).shape),
                  ),
                )
                .dataSync()[0],
          );
        const g = tf.tidy(() =>
          tf
            .grad((v: T) =>
              tf.sum(tf.mul(tf.avgPool(v as T4, k, st, pad), tf.tensor(dy, tf.avgPool(v as T4, k, st, pad).shape))),
            )(tf.tensor4d(x0, [1, 5, 6, 2]))
            .dataSync(),
        );
        const h = 1e-2;
        for (let i = 0; i < x0.length; i += 7) {
          const up = Float32Array.from(x0);
          const down = Float32Array.from(x0);
          up[i] += h;
          down[i] -= h;
          const fd = (loss(up) - loss(down)) / (2 * h);
          assert.ok(
            Math.abs(fd - g[i]) < 2e-3 * Math.max(1, Math.abs(fd)),
            `k ${k} s ${st} pad ${pad}, element ${i}: ${g[i]} vs finite difference ${fd}`,
          );
        }
      }
    });
    it('maxPool ties go to the first maximum of each window, as on cpu', () =>
      check({
        name: 'ties',
        shapes: [[2, 8, 8, 3]],
        // Small integers (and zeros, as after relu): most windows hold repeated maxima.
        values: (rng, n) => Float32Array.from({ length: n }, () => Math.max(0, rng.int(4) - 1)),
        f: (x) => tf.maxPool(x as T4, 2, 2, 'valid'),
      }));
    it('maxPool ties with overlapping padded windows (general path) match cpu', () =>
      check({
        name: 'ties, 3x3 s2 same',
        shapes: [[2, 7, 8, 3]],
        values: (rng, n) => Float32Array.from({ length: n }, () => Math.max(0, rng.int(4) - 1)),
        f: (x) => tf.maxPool(x as T4, 3, 2, 'same'),
      }));
    it('maxPool of all-negative inputs next to same padding (stock wasm MaxPoolGrad drops these)', () =>
      check({
        name: 'negative, 2x2 s2 same',
        shapes: [[2, 5, 5, 2]],
        values: (rng, n) => Float32Array.from({ length: n }, () => -1 - rng.next()),
        f: (x) => tf.maxPool(x as T4, 2, 2, 'same'),
      }));
  });

  describe('Tile', () => {
    const cfgs: [string, number[], number[]][] = [
      ['rank 1', [5], [3]],
      ['rank 2', [3, 4], [2, 3]],
      ['rank 3, some reps 1', [2, 3, 4], [1, 3, 2]],
      ['rank 4 broadcast-like', [1, 3, 1, 4], [16, 1, 5, 1]],
    ];
    for (const [name, xs, reps] of cfgs) it(name, () => check({ name, shapes: [xs], f: (x) => tf.tile(x, reps) }));

    it('rank 5 (stock gradient throws) matches a direct sum over repetitions', () => {
      const shape = [2, 1, 3, 2, 2];
      const reps = [2, 3, 1, 2, 3];
      const rng = new Rng(5);
      const x = tf.tensor(rng.normalArray(size(shape)), shape);
      const outShape = shape.map((d, i) => d * reps[i]);
      const dyData = rng.normalArray(size(outShape));
      const dy = tf.tensor(dyData, outShape);
      const g = tf.grad((t: T) => tf.tile(t, reps))(x, dy);
      const expected = new Float32Array(size(shape));
      const idx = new Array(5).fill(0);
      for (let flat = 0; flat < dyData.length; flat++) {
        let rem = flat;
        for (let a = 4; a >= 0; a--) {
          idx[a] = rem % outShape[a];
          rem = Math.floor(rem / outShape[a]);
        }
        let src = 0;
        for (let a = 0; a < 5; a++) src = src * shape[a] + (idx[a] % shape[a]);
        expected[src] += dyData[flat];
      }
      const { err, scale } = relErr(g.dataSync() as Float32Array, expected);
      assert.ok(err <= REL_TOL * scale, `max abs error ${err}`);
      tf.dispose([x, dy, g]);
    });
  });

  describe('GatherV2', () => {
    const idx = (n: number, v: number, seed: number) => {
      const r = new Rng(seed);
      return Float32Array.from({ length: n }, () => r.int(v));
    };
    // Indices are constants created inside f (duplicates included); only x is differentiated.
    const cfgs: [string, number[], number[], number, number][] = [
      ['axis 0 (embedding rows, duplicates)', [6, 4], [9], 0, 0],
      ['axis 1', [3, 5, 2], [4], 1, 0],
      ['axis 2 with 2-D indices', [2, 3, 4], [2, 3], 2, 0],
      ['batchDims 1 (one action per row)', [8, 5], [8], 1, 1],
      ['batchDims 1, axis 2', [4, 3, 6], [4, 2], 2, 1],
    ];
    for (const [name, xs, is, axis, bd] of cfgs) {
      it(name, () =>
        check({
          name,
          shapes: [xs],
          f: (x) => tf.gather(x, tf.tensor(idx(size(is), xs[axis], 77), is, 'int32'), axis, bd),
        }),
      );
    }
    it('negative axis gives the same gradient as the positive axis (stock mishandles it)', async () => {
      await tf.setBackend('wasm');
      const x = tf.tensor(new Rng(3).normalArray(24), [2, 3, 4]);
      const i = tf.tensor1d([3, 0, 3], 'int32');
      const gNeg = tf.grad((t: T) => tf.sum(tf.mul(tf.gather(t, i, -1), tf.range(0, 18).reshape([2, 3, 3]))))(x);
      const gPos = tf.grad((t: T) => tf.sum(tf.mul(tf.gather(t, i, 2), tf.range(0, 18).reshape([2, 3, 3]))))(x);
      assert.deepEqual(Array.from(gNeg.dataSync()), Array.from(gPos.dataSync()));
      assert.ok(gPos.dataSync().some((v) => v !== 0));
      tf.dispose([x, i, gNeg, gPos]);
    });
    it('stock gather gradient has no wasm kernel; the override works', async () => {
      await tf.setBackend('wasm');
      const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
      const i = tf.tensor1d([1, 1, 0], 'int32');
      const f = (t: T) => tf.sum(tf.gather(t, i));
      uninstallGradientOverrides();
      assert.throws(() => tf.grad(f)(x), /UnsortedSegmentSum/);
      installGradientOverrides();
      const g = tf.grad(f)(x);
      assert.deepEqual(Array.from(g.dataSync()), [1, 1, 2, 2]);
      tf.dispose([x, i, g]);
    });
  });

  describe('wasm forward kernel fixes (GatherV2 batchDims, OneHot dtype, fused matMul transposes, batched matMul)', () => {
    async function onBoth(f: () => T): Promise<[number[], number[]]> {
      await tf.setBackend('cpu');
      const ref = tf.tidy(f);
      const refData = Array.from(ref.dataSync());
      ref.dispose();
      await tf.setBackend('wasm');
      const got = tf.tidy(f);
      const gotData = Array.from(got.dataSync());
      assert.equal(got.dtype, 'float32');
      got.dispose();
      return [gotData, refData];
    }
    const xs = Array.from({ length: 120 }, (_, i) => i * 0.5 - 7);

    it('initBackend installed them', () => assert.equal(wasmKernelFixesInstalled(), true));

    const cases: [string, number[], number[], number[], number, number][] = [
      ['batchDims 1: one action per row', [8, 15], [8], [0, 3, 14, 7, 7, 1, 2, 9], 1, 1],
      ['batchDims 1, 2-D indices, axis 2 (outer dims)', [2, 4, 15], [2, 3], [0, 1, 2, 14, 3, 2], 2, 1],
      ['batchDims 2, axis 2 with trailing slice', [2, 3, 5, 4], [2, 3, 2], [0, 4, 1, 1, 2, 3, 4, 4, 0, 0, 3, 2], 2, 2],
      ['batchDims 0 still uses the stock kernel', [6, 20], [3], [5, 0, 5], 0, 0],
    ];
    for (const [name, xShape, iShape, ids, axis, bd] of cases) {
      it(`gather ${name} matches cpu`, async () => {
        const [got, ref] = await onBoth(() =>
          tf.gather(tf.tensor(xs.slice(0, size(xShape)), xShape), tf.tensor(ids, iShape, 'int32'), axis, bd),
        );
        assert.deepEqual(got, ref);
      });
    }
    it('gather with batchDims rejects out-of-range indices with a clear error', async () => {
      await tf.setBackend('wasm');
      assert.throws(
        () => tf.tidy(() => tf.gather(tf.zeros([2, 3]), tf.tensor1d([0, 3], 'int32'), 1, 1)),
        /index value 3 is not in \[0, 2\]/,
      );
    });
    it('oneHot honours a float32 dtype', async () => {
      const [got, ref] = await onBoth(() => tf.oneHot(tf.tensor1d([2, 0, 1], 'int32'), 3, 2.5, -1, 'float32'));
      assert.deepEqual(got, ref);
      assert.deepEqual(ref, [-1, -1, 2.5, 2.5, -1, -1, -1, 2.5, -1]);
    });
    for (const [ta, tb] of [
      [true, false],
      [false, true],
      [true, true],
    ] as [boolean, boolean][]) {
      it(`fused matMul with bias, transposeA=${ta} transposeB=${tb} matches cpu`, async () => {
        const r = new Rng(8);
        const a = tf.tensor(r.normalArray(4 * 5), ta ? [5, 4] : [4, 5]);
        const b = tf.tensor(r.normalArray(5 * 3), tb ? [3, 5] : [5, 3]);
        const bias = tf.tensor1d(r.normalArray(3));
        const [got, ref] = await onBoth(() =>
          tf.fused.matMul({ a, b, transposeA: ta, transposeB: tb, bias, activation: 'relu6' }),
        );
        ref.forEach((v, i) => assert.ok(Math.abs(v - got[i]) < 1e-5, `element ${i}: ${got[i]} vs ${v}`));
        tf.dispose([a, b, bias]);
      });
    }
    const batched: [string, number[], number[], boolean, boolean, number[] | null, string][] = [
      ['rank-3 a, rank-2 b, bias', [2, 3, 5], [5, 4], false, false, [4], 'linear'],
      ['rank-3 a and b, bias, relu', [2, 3, 5], [2, 5, 4], false, false, [4], 'relu'],
      ['rank-3, transposeB, bias, sigmoid', [2, 3, 5], [2, 4, 5], false, true, [4], 'sigmoid'],
      ['rank-3, transposeA, bias, leakyrelu', [2, 5, 3], [5, 4], true, false, [4], 'leakyrelu'],
      ['rank-3, prelu weights, no bias', [2, 3, 5], [5, 4], false, false, null, 'prelu'],
    ];
    for (const [name, as, bs, ta, tb, biasShape, activation] of batched) {
      it(`fused matMul ${name} matches cpu`, async () => {
        const r = new Rng(9);
        const a = tf.tensor(r.normalArray(size(as)), as);
        const b = tf.tensor(r.normalArray(size(bs)), bs);
        const bias = biasShape ? tf.tensor(r.normalArray(size(biasShape)), biasShape) : undefined;
        const prelu = activation === 'prelu' ? tf.tensor1d(r.normalArray(4)) : undefined;
        const [got, ref] = await onBoth(() =>
          tf.fused.matMul({
            a,
            b,
            transposeA: ta,
            transposeB: tb,
            bias,
            activation: activation as 'linear',
            preluActivationWeights: prelu,
            leakyreluAlpha: 0.1,
          }),
        );
        ref.forEach((v, i) => assert.ok(Math.abs(v - got[i]) < 1e-5, `element ${i}: ${got[i]} vs ${v}`));
        tf.dispose([a, b, ...(bias ? [bias] : []), ...(prelu ? [prelu] : [])]);
      });
    }
    const batchedPlain: [string, number[], number[], boolean, boolean][] = [
      ['equal batches', [3, 4, 5], [3, 5, 2], false, false],
      ['a batch of 1 broadcast', [1, 4, 5], [3, 5, 2], false, false],
      ['rank-2 b broadcast', [3, 4, 5], [5, 2], false, false],
      ['rank-4, equal outer dims', [2, 3, 4, 5], [2, 3, 5, 2], false, false],
      ['transposeA and transposeB', [3, 5, 4], [3, 2, 5], true, true],
      ['other broadcasts go to the stock kernel', [2, 1, 4, 5], [1, 3, 5, 2], false, false],
    ];
    for (const [name, as, bs, ta, tb] of batchedPlain) {
      it(`batched matMul (${name}) matches cpu`, async () => {
        const r = new Rng(10);
        const a = tf.tensor(r.normalArray(size(as)), as);
        const b = tf.tensor(r.normalArray(size(bs)), bs);
        const [got, ref] = await onBoth(() => tf.matMul(a, b, ta, tb));
        assert.equal(got.length, ref.length);
        ref.forEach((v, i) => assert.ok(Math.abs(v - got[i]) < 1e-5, `element ${i}: ${got[i]} vs ${v}`));
        tf.dispose([a, b]);
      });
    }
    it('batched matMul with new weights of the same shape uses the new values (no stale packed weights)', async () => {
      await tf.setBackend('wasm');
      const a = tf.ones([2, 3, 4]);
      const first = tf.tidy(() => tf.matMul(a, tf.fill([2, 4, 2], 1)).dataSync()[0]);
      const second = tf.tidy(() => tf.matMul(a, tf.fill([2, 4, 2], 2)).dataSync()[0]);
      assert.equal(first, 4);
      assert.equal(second, 8);
      a.dispose();
    });
    it('the fixed kernels leak no tensors or wasm buffers', async () => {
      await tf.setBackend('wasm');
      const x = tf.tensor2d(xs.slice(0, 40), [8, 5]);
      const i = tf.tensor1d([0, 1, 2, 3, 4, 0, 1, 2], 'int32');
      const bias = tf.ones([5]);
      const bias4 = tf.ones([4]);
      const x3 = tf.reshape(x, [2, 4, 5]);
      const run = () =>
        tf.dispose([
          tf.gather(x, i, 1, 1),
          tf.oneHot(i, 5, 1, 0, 'float32'),
          tf.fused.matMul({ a: x, b: x, transposeA: true, bias }),
          tf.fused.matMul({ a: x3, b: x3, transposeB: true, bias: bias4 }),
          tf.fused.matMul({ a: x3, b: x3, transposeA: true, bias, activation: 'elu' }),
          tf.matMul(x3, x3, false, true),
          tf.tidy(() => tf.matMul(x3, tf.transpose(x3, [0, 2, 1]))),
        ]);
      run();
      const before = tf.memory();
      for (let k = 0; k < 5; k++) run();
      const after = tf.memory();
      assert.equal(after.numTensors, before.numTensors);
      assert.equal(after.numDataBuffers, before.numDataBuffers);
      tf.dispose([x, i, bias, bias4, x3]);
    });
  });

  describe('memory', () => {
    it('overridden gradients leak no tensors', async () => {
      await tf.setBackend('wasm');
      const rng = new Rng(9);
      const x = tf.tensor(rng.normalArray(2 * 8 * 8 * 4), [2, 8, 8, 4]) as T4;
      const w = tf.tensor(rng.normalArray(3 * 3 * 4 * 4), [3, 3, 4, 4]) as T4;
      const dw = tf.tensor(rng.normalArray(3 * 3 * 4 * 1), [3, 3, 4, 1]) as T4;
      const m = tf.tensor(rng.normalArray(16 * 4), [16, 4]);
      const step = () =>
        tf.tidy(() => {
          const f = (a: T, b: T, c: T, d: T) => {
            let h = tf.relu(tf.conv2d(a as T4, b as T4, 2, 'same'));
            h = tf.depthwiseConv2d(h, c as T4, 1, 'same');
            h = tf.add(tf.maxPool(h, 2, 2, 'valid'), tf.avgPool(h, 2, 2, 'valid'));
            return tf.sum(tf.matMul(tf.reshape(h, [2, 16]), tf.tile(d, [1, 2])));
          };
          return tf.grads(f)([x, w, dw, m]);
        });
      tf.dispose(step());
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) tf.dispose(step());
      assert.equal(tf.memory().numTensors, before);
      tf.dispose([x, w, dw, m]);
    });
  });

  describe('determinism', () => {
    it('the same inputs give bit-identical override gradients', async () => {
      await tf.setBackend('wasm');
      const rng = new Rng(21);
      const x = tf.tensor(rng.normalArray(4 * 9 * 9 * 3), [4, 9, 9, 3]) as T4;
      const w = tf.tensor(rng.normalArray(3 * 3 * 3 * 6), [3, 3, 3, 6]) as T4;
      const dw = tf.tensor(rng.normalArray(5 * 5 * 6), [5, 5, 6, 1]) as T4;
      const emb = tf.tensor(rng.normalArray(10 * 6), [10, 6]);
      const ids = tf.tensor1d([3, 3, 1, 9], 'int32');
      const run = () =>
        tf.tidy(() =>
          tf.grads((a: T, b: T, c: T, e: T) => {
            let h = tf.conv2d(a as T4, b as T4, 2, 'same');
            h = tf.maxPool(tf.depthwiseConv2d(h, c as T4, 1, 'same'), 3, 2, 'same');
            return tf.sum(tf.mul(tf.mean(h, [1, 2]), tf.gather(e, ids)));
          })([x, w, dw, emb]),
        );
      const first = run();
      const second = run();
      first.forEach((g, i) => assert.deepEqual(Array.from(second[i].dataSync()), Array.from(g.dataSync())));
      tf.dispose([x, w, dw, emb, ids, ...first, ...second]);
    });
  });

  describe('training on wasm', () => {
    function init(rng: Rng, shape: number[], fanIn: number): tf.Variable {
      return tf.variable(tf.tensor(rng.normalArray(size(shape), 0, Math.sqrt(2 / fanIn)), shape));
    }

    /** Plain SGD on a fixed batch; returns the losses. */
    function train(vars: tf.Variable[], loss: () => tf.Scalar, steps: number, lr: number): number[] {
      const losses: number[] = [];
      for (let i = 0; i < steps; i++) {
        const value = tf.tidy(() => {
          const { value: l, grads } = tf.variableGrads(loss, vars);
          for (const v of vars) v.assign(tf.sub(v, tf.mul(grads[v.name], lr)));
          return l;
        });
        losses.push(value.dataSync()[0]);
        value.dispose();
      }
      return losses;
    }

    function batch(rng: Rng, shape: number[], classes: number): { x: T; y: T } {
      const n = shape[0];
      const labels = Array.from({ length: n }, () => rng.int(classes));
      return { x: tf.tensor(rng.normalArray(size(shape)), shape), y: tf.oneHot(tf.tensor1d(labels, 'int32'), classes) };
    }

    it('a small CNN (conv-maxpool-conv-avgpool-dense) learns a fixed batch', async () => {
      await tf.setBackend('wasm');
      const rng = new Rng(11);
      const { x, y } = batch(rng, [16, 12, 12, 3], 4);
      const vars = [
        init(rng, [3, 3, 3, 8], 27),
        init(rng, [5, 5, 8, 16], 200),
        init(rng, [3 * 3 * 16, 4], 144),
        tf.variable(tf.zeros([4])),
      ];
      const [w1, w2, w3, b3] = vars;
      const loss = () => {
        let h = tf.relu(tf.conv2d(x as T4, w1 as T4, 1, 'same'));
        h = tf.maxPool(h, 2, 2, 'valid');
        h = tf.relu(tf.conv2d(h, w2 as T4, 1, 'same'));
        h = tf.avgPool(h, 2, 2, 'valid');
        const logits = tf.add(tf.matMul(tf.reshape(h, [16, -1]), w3), b3);
        return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
      };
      const before = tf.memory().numTensors;
      const losses = train(vars, loss, 30, 0.05);
      assert.equal(tf.memory().numTensors, before, 'training leaked tensors');
      assert.ok(losses.every(Number.isFinite), `non-finite loss: ${losses}`);
      assert.ok(losses[29] < 0.5 * losses[0], `loss ${losses[0]} -> ${losses[29]} did not halve`);
      tf.dispose([x, y, ...vars]);
    });

    it('a MobileNetV2-style block (1x1 expand, depthwise, BN, relu6, residual, stride-2 depthwise) learns', async () => {
      await tf.setBackend('wasm');
      const rng = new Rng(12);
      const { x, y } = batch(rng, [16, 8, 8, 8], 4);
      const vars = [
        init(rng, [1, 1, 8, 24], 8), // expand
        init(rng, [3, 3, 24, 1], 9), // depthwise 3x3 s1
        init(rng, [1, 1, 24, 8], 24), // project
        init(rng, [5, 5, 8, 1], 25), // depthwise 5x5 s2
        init(rng, [8, 4], 8),
        tf.variable(tf.ones([24])), // BN gammas/betas
        tf.variable(tf.zeros([24])),
        tf.variable(tf.ones([8])),
        tf.variable(tf.zeros([8])),
      ];
      const [we, wd, wp, wd2, wo, g1, b1, g2, b2] = vars;
      const bn = (h: T, g: T, b: T) => {
        const { mean, variance } = tf.moments(h, [0, 1, 2]);
        return tf.add(tf.mul(tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
      };
      const relu6 = (h: T) => tf.clipByValue(h, 0, 6);
      const loss = () => {
        let h = relu6(bn(tf.conv2d(x as T4, we as T4, 1, 'valid'), g1, b1));
        h = tf.minimum(tf.relu(tf.depthwiseConv2d(h as T4, wd as T4, 1, 'same')), 6);
        h = bn(tf.conv2d(h as T4, wp as T4, 1, 'valid'), g2, b2);
        h = tf.add(h, x); // residual
        h = relu6(tf.depthwiseConv2d(h as T4, wd2 as T4, 2, 'same'));
        h = tf.dropout(h, 0.1, undefined, 7);
        const pooled = tf.mean(h, [1, 2]);
        return tf.losses.softmaxCrossEntropy(y, tf.matMul(pooled, wo)) as tf.Scalar;
      };
      const losses = train(vars, loss, 30, 0.1);
      assert.ok(losses.every(Number.isFinite), `non-finite loss: ${losses}`);
      assert.ok(losses[29] < 0.6 * losses[0], `loss ${losses[0]} -> ${losses[29]} did not drop by 40%`);
      tf.dispose([x, y, ...vars]);
    });
  });
});
