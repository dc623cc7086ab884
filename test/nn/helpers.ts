import { tf } from '../../src/backend';
import { Rng } from '../../src/random';

/**
 * Whether the current backend can compute conv2d and depthwise-conv2d gradients (stock wasm has no
 * Conv2DBackpropFilter kernel until src/backend/gradients.ts overrides land).
 */
export function backendCanTrainConvs(): boolean {
  try {
    tf.tidy(() => {
      const x = tf.ones([1, 4, 4, 2]);
      const f = tf.variable(tf.ones([3, 3, 2, 2]), true);
      const d = tf.variable(tf.ones([3, 3, 2, 1]), true);
      const { grads } = tf.variableGrads(
        () =>
          tf.sum(
            tf.depthwiseConv2d(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same'), d as tf.Tensor4D, 2, 'same'),
          ) as tf.Scalar,
        [f, d],
      );
      Object.values(grads).forEach((g) => g.dataSync());
      f.dispose();
      d.dispose();
    });
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `fn` on the current backend if it can train convolutions, else on `cpu` (restored after).
 * Returns the backend used.
 */
export async function withConvBackend<T>(fn: (backend: string) => Promise<T> | T): Promise<T> {
  const original = tf.getBackend();
  const switchTo = backendCanTrainConvs() ? undefined : 'cpu';
  if (switchTo) await tf.setBackend(switchTo);
  try {
    return await fn(tf.getBackend());
  } finally {
    if (switchTo) await tf.setBackend(original);
  }
}

/** Float32 [n * dim] standard normal features from a seeded Rng. */
export function normalData(rng: Rng, n: number, dim: number): Float32Array {
  return rng.normalArray(n * dim);
}

/** Max absolute difference between two arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxAbsDiff: lengths ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
