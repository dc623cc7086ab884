import { tf } from '../backend';
import type { Tensor } from '../backend';

/**
 * The Adam moment update of `torch.optim.Adam`: `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`. The one
 * implementation of the Adam arithmetic in the project: the layerwise and vectorised trainers and
 * the MARL `Adam` (PPO, single-step learners, critics) all call it and {@link adamStep}.
 *
 * @example
 * ```ts
 * const { m, v } = adamMoments(m0, v0, grad, 0.9, 0.999);
 * ```
 */
export function adamMoments(m: Tensor, v: Tensor, g: Tensor, beta1: number, beta2: number): { m: Tensor; v: Tensor } {
  return {
    m: tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)),
    v: tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)),
  };
}

/**
 * The Adam step `stepSize · m / (√v / √bc₂ + ε)` with `stepSize = lr / bc₁` (eps outside the square
 * root, as PyTorch); `sqrtBc2` and `stepSize` may be per-network tensors (vectorised trainer).
 *
 * @example
 * ```ts
 * const t = 3;
 * const update = adamStep(m, v, Math.sqrt(1 - 0.999 ** t), 1e-8, 1e-3 / (1 - 0.9 ** t)); // w ← w − update
 * ```
 */
export function adamStep(
  m: Tensor,
  v: Tensor,
  sqrtBc2: number | Tensor,
  eps: number,
  stepSize: number | Tensor,
): Tensor {
  return tf.mul(tf.div(m, tf.add(tf.div(tf.sqrt(v), sqrtBc2), eps)), stepSize);
}
