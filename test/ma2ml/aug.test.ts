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
  return tf.tensor4d(pixels.flat().map((v) => v / 255), [pixels.length, h, w, 1]);
}

/**
 * Tolerance on the 0-255 scale against PIL: geometric and uint8 ops are exact; PIL's enhancers and
 * autocontrast truncate to uint8 (ours stay float, as torchvision on float tensors: up to 1 level);
 * PIL's Contrast also rounds the mean and its smoothing filter rounds the blurred image (at most
 * 0.5 * |1 - factor| <= 0.45 levels more).
 */
const TOLERANCE: Partial<Record<AugOpName, number>> = { Brightness: 1.001, Sharpness: 1.451, Contrast: 1.451, AutoContrast: 1.001 };

describe('ma2ml/aug: ops against PIL (torchvision AutoAugment semantics)', () => {
  const { height: h, width: w } = ref;
  for (const c of ref.cases) {
    it(`${c.op} level ${c.level} sign ${c.sign > 0 ? '+' : '-'}`, () => {
      const wantMag = c.op.startsWith('Translate') ? Math.trunc(c.magnitude) : c.magnitude;
      assert.ok(Math.abs(augMagnitude(c.op, c.level, h, w) - wantMag) < 1e-6, `magnitude ${augMagnitude(c.op, c.level, h, w)} vs torchvision ${wantMag}`);
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
