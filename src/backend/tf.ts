/**
 * The one tfjs entry point of the library. Everything imports `tf` from here so the whole
 * library shares one tfjs-core instance, with all gradients and chained ops registered.
 *
 * @example
 * ```ts
 * import { tf } from './src/backend';
 * const y = tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2)));
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
// Gradients and chained ops are registered on the shared tfjs-core by the CommonJS bundle of
// @tensorflow/tfjs. tfjs-core's per-file `dist/register_all_*` modules are ES modules with
// extensionless imports: they load under tsx but not under plain Node, tslab notebooks or `dist/`.
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';

export { tf };
export type Tensor = tf.Tensor;
export type Variable = tf.Variable;
