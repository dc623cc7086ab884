import * as fs from 'fs';
import * as path from 'path';

/** Same deterministic inputs as fixtures/torch_reference.py: scale * sin(0.37 i + k), as float32. */
export function f(n: number, k: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => scale * Math.sin(0.37 * i + k));
}

/** Transposes a row-major [rows, cols] matrix. */
export function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

export interface TorchReference {
  gru: { h1: number[] };
  adam: { p5: number[] };
  clip: { total: number; a: number[]; b: number[] };
  ppo: PpoRef;
  ppoNoValueClip: PpoRef;
}
export interface PpoRef {
  oldLogProbs: number[];
  oldValues: number[];
  loss: number;
  policyLoss: number;
  valueLoss: number;
  entropy: number;
  approxKl: number;
  clipFraction: number;
  gradLogits: number[];
  gradValues: number[];
}

export const torchRef: TorchReference = JSON.parse(
  fs.readFileSync(path.join(__dirname, 'fixtures', 'torch-reference.json'), 'utf8'),
);

/** Asserts |a_i - b_i| <= tol for all i, with a message naming the first offending index. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  if (actual.length !== expected.length)
    throw new Error(`${what}: length ${actual.length} vs expected ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol))
      throw new Error(`${what}[${i}] = ${actual[i]}, expected ${expected[i]} (tol ${tol})`);
  }
}
