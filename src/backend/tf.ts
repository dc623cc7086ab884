/**
 * The one tfjs entry point of the library. Everything imports `tf` from here so the whole
 * library shares one tfjs-core instance, with all gradients and chained ops registered, and
 * without pulling in tfjs-layers or the webgl backend (which cannot run in Node).
 *
 * @example
 * ```ts
 * import { tf } from './src/backend';
 * const y = tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2)));
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import '@tensorflow/tfjs-backend-cpu';

export { tf };
export type Tensor = tf.Tensor;
export type Variable = tf.Variable;
