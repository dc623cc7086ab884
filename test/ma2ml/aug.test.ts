import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../../src/backend';
import { Rng } from '../../src/random';
import { AUG_OPS, applyOp, augMagnitude, augmentBatch, drawAugmentation, validatePolicy } from '../../src/ma2ml';
import type { AugOpName, AugPolicy } from '../../src/ma2ml';

interface RefCase {
  op: AugOpName;
  level: number;
  sign: number;
  magnitude: number;
  outputs: number[][];
}
const ref = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'pil-reference.json'), 'utf8')) as {
  height: number;
  width: number;
  inputs: number[][];
  cases: RefCase[];
};

function images(pixels: number[][], h: number, w: number): tf.Tensor4D {
  return tf.tensor4d(
    pixels.flat().map((v) => v / 255),
    [pixels.length, h, w, 1],
  );
}

/**
 * Tolerance on the 0-255 scale against PIL: geometric and uint8 ops are exact; PIL's enhancers and
 * autocontrast truncate to uint8 (ours stay float, as torchvision on float tensors: up to 1 level);
 * PIL's Contrast also rounds the mean and its smoothing filter rounds the blurred image (at most
 * 0.5 * |1 - factor| <= 0.45 levels more).
 */
const TOLERANCE: Partial<Record<AugOpName, number>> = {
  Brightness: 1.001,
  Sharpness: 1.451,
  Contrast: 1.451,
  AutoContrast: 1.001,
};

describe('ma2ml/aug: ops against PIL (torchvision AutoAugment semantics)', () => {
  const { height: h, width: w } = ref;
  for (const c of ref.cases) {
    it(`${c.op} level ${c.level} sign ${c.sign > 0 ? '+' : '-'}`, () => {
      const wantMag = c.op.startsWith('Translate') ? Math.trunc(c.magnitude) : c.magnitude;
      assert.ok(
        Math.abs(augMagnitude(c.op, c.level, h, w) - wantMag) < 1e-6,
        `magnitude ${augMagnitude(c.op, c.level, h, w)} vs torchvision ${wantMag}`,
      );
      const x = images(ref.inputs, h, w);
      const y = applyOp(x, c.op, c.level, { sign: c.sign });
      const got = Array.from(y.dataSync()).map((v) => v * 255);
      x.dispose();
      y.dispose();
      const want = c.outputs.flat();
      const tol = TOLERANCE[c.op] ?? 1e-3;
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      assert.ok(worst <= tol, `max |ours - PIL| on 0..255 is ${worst} (tolerance ${tol})`);
    });
  }
});

describe('ma2ml/aug: semantics, batching, determinism, memory', () => {
  const h = 28;
  const w = 28;
  function fashionLike(n: number, seed: number): tf.Tensor4D {
    // quantised [0, 1] images on a black background with a bright blob (like Fashion-MNIST)
    const rng = new Rng(seed);
    const v = new Float32Array(n * h * w);
    for (let b = 0; b < n; b++) {
      const cy = 8 + rng.int(12);
      const cx = 8 + rng.int(12);
      for (let r = 0; r < h; r++)
        for (let c = 0; c < w; c++) {
          const d = ((r - cy) ** 2 + (c - cx) ** 2) / 30;
          v[b * h * w + r * w + c] = Math.round(255 * Math.min(1, Math.exp(-d) * (0.5 + rng.next()))) / 255;
        }
    }
    return tf.tensor4d(v, [n, h, w, 1]);
  }
  const maxDiff = (a: tf.Tensor, b: tf.Tensor) => {
    const x = a.dataSync();
    const y = b.dataSync();
    let m = 0;
    for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
    return m;
  };

  it('level 0 is the identity for the magnitude ops (shear, translate, rotate, enhancers, posterize, cutout)', () => {
    const x = fashionLike(4, 1);
    for (const op of [
      'Identity',
      'ShearX',
      'ShearY',
      'TranslateX',
      'TranslateY',
      'Rotate',
      'Brightness',
      'Contrast',
      'Sharpness',
      'Posterize',
      'Cutout',
    ] as AugOpName[]) {
      for (const sign of [1, -1]) {
        const y = applyOp(x, op, 0, { sign });
        assert.ok(maxDiff(x, y) < 1e-6, `${op} level 0 sign ${sign} changed the image by ${maxDiff(x, y)}`);
        y.dispose();
      }
    }
    // and not the identity at level 9
    for (const op of [
      'ShearX',
      'ShearY',
      'TranslateX',
      'TranslateY',
      'Rotate',
      'Brightness',
      'Contrast',
      'Sharpness',
      'Posterize',
      'Cutout',
    ] as AugOpName[]) {
      const y = applyOp(x, op, 9);
      assert.ok(maxDiff(x, y) > 0.05, `${op} level 9 left the image unchanged`);
      y.dispose();
    }
    x.dispose();
  });

  it('Cutout zeroes the clipped square 2*floor(size/2) around the centre (hand-computed)', () => {
    const x = tf.ones([1, h, w, 1]);
    // level 9: size int(0.625 * 28) = 17 -> half 8; centre (3, 20): rows 0..10, cols 12..27
    assert.equal(augMagnitude('Cutout', 9), 17);
    const y = applyOp(x, 'Cutout', 9, { center: [3, 20] });
    const v = y.dataSync();
    let zeros = 0;
    for (let r = 0; r < h; r++)
      for (let c = 0; c < w; c++) {
        const inside = r >= 0 && r < 11 && c >= 12 && c < 28;
        assert.equal(v[r * w + c], inside ? 0 : 1, `pixel (${r}, ${c})`);
        if (inside) zeros++;
      }
    assert.equal(zeros, 11 * 16);
    x.dispose();
    y.dispose();
  });

  it('augmentBatch applies to each image exactly its drawn sub-policy (batched result = per-image ops)', () => {
    const policy: AugPolicy = [
      [
        { op: 'Rotate', prob: 0.7, level: 6 },
        { op: 'Equalize', prob: 0.6, level: 0 },
      ],
      [
        { op: 'ShearX', prob: 0.8, level: 4 },
        { op: 'Cutout', prob: 0.5, level: 5 },
      ],
      [
        { op: 'Solarize', prob: 0.5, level: 4 },
        { op: 'TranslateY', prob: 0.9, level: 7 },
      ],
      [
        { op: 'Contrast', prob: 0.9, level: 8 },
        { op: 'Sharpness', prob: 0.7, level: 9 },
      ],
      [
        { op: 'Posterize', prob: 0.6, level: 9 },
        { op: 'AutoContrast', prob: 0.8, level: 0 },
      ],
    ];
    const n = 24;
    const x = fashionLike(n, 2);
    const y = augmentBatch(x, policy, new Rng(7));
    const draws = drawAugmentation(policy, n, new Rng(7), h, w);
    const used = new Set(draws.map((d) => d.subPolicy));
    assert.ok(used.size >= 4, 'the test should exercise several sub-policies');
    for (let b = 0; b < n; b++) {
      const d = draws[b];
      let img: tf.Tensor = x.slice([b, 0, 0, 0], [1, h, w, 1]);
      for (let j = 0; j < 2; j++) {
        if (!d.ops[j].applied) continue;
        const o = policy[d.subPolicy][j];
        const next = applyOp(img, o.op, o.level, { sign: d.ops[j].sign, center: d.ops[j].center });
        img.dispose();
        img = next;
      }
      const got = y.slice([b, 0, 0, 0], [1, h, w, 1]);
      assert.ok(maxDiff(img, got) < 1e-6, `image ${b} (sub-policy ${d.subPolicy}) differs from its per-image ops`);
      img.dispose();
      got.dispose();
    }
    x.dispose();
    y.dispose();
  });

  it('probabilities and signs: prob 0 never, prob 1 always, prob 0.3 about 30% of images; signs balanced', () => {
    const mk = (p: number): AugPolicy => [
      [
        { op: 'Invert', prob: p, level: 0 },
        { op: 'Rotate', prob: 1, level: 3 },
      ],
    ];
    const count = (p: number) => drawAugmentation(mk(p), 4000, new Rng(3)).filter((d) => d.ops[0].applied).length;
    assert.equal(count(0), 0);
    assert.equal(count(1), 4000);
    const c = count(0.3);
    assert.ok(Math.abs(c / 4000 - 0.3) < 0.03, `applied fraction ${c / 4000}`); // 4 sigma = 0.029
    const draws = drawAugmentation(mk(1), 4000, new Rng(4));
    const neg = draws.filter((d) => d.ops[1].sign === -1).length;
    assert.ok(Math.abs(neg / 4000 - 0.5) < 0.032, `negative sign fraction ${neg / 4000}`);
    assert.ok(
      draws.every((d) => d.ops[0].sign === 1),
      'unsigned ops keep sign +1',
    );
  });

  it('same seed gives the same batch; another seed another one', () => {
    const policy: AugPolicy = [
      [
        { op: 'Rotate', prob: 0.5, level: 9 },
        { op: 'Cutout', prob: 0.5, level: 9 },
      ],
      [
        { op: 'TranslateX', prob: 0.5, level: 9 },
        { op: 'Brightness', prob: 0.5, level: 9 },
      ],
    ];
    const x = fashionLike(16, 5);
    const a = augmentBatch(x, policy, new Rng(11));
    const b = augmentBatch(x, policy, new Rng(11));
    const c = augmentBatch(x, policy, new Rng(12));
    assert.equal(maxDiff(a, b), 0);
    assert.ok(maxDiff(a, c) > 0.1);
    tf.dispose([x, a, b, c]);
  });

  it('no tensor leaks over repeated batches with every op', () => {
    const policy: AugPolicy = [];
    for (let i = 0; i < AUG_OPS.length; i += 2)
      policy.push([
        { op: AUG_OPS[i], prob: 0.8, level: 7 },
        { op: AUG_OPS[(i + 1) % AUG_OPS.length], prob: 0.8, level: 5 },
      ]);
    const x = fashionLike(32, 6);
    const rng = new Rng(1);
    tf.dispose(augmentBatch(x, policy, rng)); // warm-up (kernel constants)
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) tf.dispose(augmentBatch(x, policy, rng));
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
  });

  it('bad input raises errors naming the problem', () => {
    const x = tf.zeros([2, 28, 28, 3]);
    assert.throws(
      () =>
        augmentBatch(
          x,
          [
            [
              { op: 'Invert', prob: 1, level: 0 },
              { op: 'Invert', prob: 1, level: 0 },
            ],
          ],
          new Rng(0),
        ),
      /\[batch, height, width, 1\].*\[2, 28, 28, 3\]/,
    );
    x.dispose();
    assert.throws(
      () =>
        validatePolicy([
          [
            { op: 'Blur' as AugOpName, prob: 1, level: 0 },
            { op: 'Invert', prob: 1, level: 0 },
          ],
        ]),
      /sub-policy 0 op 0: unknown op "Blur"/,
    );
    assert.throws(
      () =>
        validatePolicy([
          [
            { op: 'Rotate', prob: 1.5, level: 0 },
            { op: 'Invert', prob: 1, level: 0 },
          ],
        ]),
      /sub-policy 0 op 0 \(Rotate\): prob/,
    );
    assert.throws(
      () =>
        validatePolicy([
          [
            { op: 'Rotate', prob: 1, level: 10 },
            { op: 'Invert', prob: 1, level: 0 },
          ],
        ]),
      /level must be an integer in 0\.\.9, got 10/,
    );
    assert.throws(() => validatePolicy([]), /non-empty/);
  });
});
