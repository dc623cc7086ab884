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
// Loaded with require (not `import '...'`) so that the declaration file (dist/src/backend/tf.d.ts)
// does not pull the types of all of @tensorflow/tfjs (layers, converter, data, webgl: ~300
// declaration files) into every notebook that imports the compiled library: the notebooks'
// setup cells type-check faster. Only the chained-op methods (`x.add(y)`) are needed for typing:
// the exported type below keeps them in the declaration file.
require('@tensorflow/tfjs');
require('@tensorflow/tfjs-backend-cpu');

export { tf };
export type Tensor = tf.Tensor;
export type Variable = tf.Variable;
/** Type-only link to tfjs-core's chained-op declarations (`x.add(y)` on a Tensor); nothing at run time. */
export type TfjsChainedOps = typeof import('@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops');
