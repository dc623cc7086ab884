import { tf } from '../backend';
import type { Rng } from '../random';

/**
 * Building blocks of the MARL policies, written with plain tf ops so hidden states and
 * parameter layouts are explicit: PyTorch-initialised dense layers, a PyTorch-exact GRU cell,
 * and optional per-agent (unshared) parameters selected by a one-hot agent matrix, so that a
 * whole batch of agents still runs as one matMul per layer.
 */

/**
 * An ordered set of named trainable variables (the order is the checkpoint and optimiser order).
 *
 * @example
 * ```ts
 * const params = new ParamSet();
 * params.add('fc/w', [3, 2], uniformInit(new Rng(1), 6, 1 / Math.sqrt(3)));
 * params.get('fc/w').shape; // [3, 2]
 * params.dispose();
 * ```
 */
export class ParamSet {
  private readonly vars = new Map<string, tf.Variable>();

  /** Creates a variable `name` from `values` with `shape` (names must be unique). */
  add(name: string, shape: number[], values: Float32Array): tf.Variable {
    if (this.vars.has(name)) throw new Error(`ParamSet: duplicate parameter name '${name}'`);
    const v = tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), true, `${name}_${uniqueId()}`));
    this.vars.set(name, v);
    return v;
  }

  /** The variable called `name` (error naming it when missing). */
  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`ParamSet: no parameter named '${name}'`);
    return v;
  }

  /** Parameter names in creation order. */
  names(): string[] {
    return [...this.vars.keys()];
  }

  /** Variables in creation order. */
  list(): tf.Variable[] {
    return [...this.vars.values()];
  }

  /** Total number of scalar parameters. */
  size(): number {
    let n = 0;
    for (const v of this.vars.values()) n += v.size;
    return n;
  }

  /** Disposes every variable. */
  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}

let nextId = 0;
function uniqueId(): number {
  return nextId++;
}

/**
 * `n` samples of U(-bound, bound) (PyTorch's default Linear/GRU init uses bound = 1/sqrt(fan_in)).
 *
 * @example
 * ```ts
 * const w = uniformInit(new Rng(0).fork('fc0/w'), 64 * 32, 1 / Math.sqrt(64));
 * ```
 */
export function uniformInit(rng: Rng, n: number, bound: number): Float32Array {
  return rng.uniformArray(n, -bound, bound);
}

/**
 * Dense layer `x @ W + b`. With `agents` (a [B, N] one-hot matrix) the layer has N independent
 * weight sets stored as W [N, in, out], b [N, out]; row i uses the set of its agent. This is
 * computed as one matMul of the one-hot-expanded input ([B, N*in]) so it stays a single call.
 *
 * @example
 * ```ts
 * const y = tf.tidy(() => dense(x, w, b));              // shared: w [in, out], b [out]
 * const z = tf.tidy(() => dense(x, w3, b2, agentsOneHot)); // per agent: w3 [N, in, out], b2 [N, out]
 * ```
 */
export function dense(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor, agents?: tf.Tensor2D): tf.Tensor2D {
  if (!agents) return tf.add(tf.matMul(x, w as tf.Tensor2D), b) as tf.Tensor2D;
  const [n, inDim, outDim] = w.shape;
  const xe = expandByAgent(x, agents);
  return tf.add(
    tf.matMul(xe, tf.reshape(w, [n * inDim, outDim]) as tf.Tensor2D),
    tf.matMul(agents, b as tf.Tensor2D),
  ) as tf.Tensor2D;
}

/**
 * [B, D] and one-hot [B, N] -> [B, N*D] where row i holds x_i in the block of its agent.
 *
 * @example
 * ```ts
 * expandByAgent(tf.tensor2d([[1, 2]]), tf.tensor2d([[0, 1]])); // [[0, 0, 1, 2]]
 * ```
 */
export function expandByAgent(x: tf.Tensor2D, agents: tf.Tensor2D): tf.Tensor2D {
  const [bsz, d] = x.shape;
  const n = agents.shape[1];
  return tf.reshape(tf.mul(tf.reshape(agents, [bsz, n, 1]), tf.reshape(x, [bsz, 1, d])), [bsz, n * d]) as tf.Tensor2D;
}

/** GRU parameters, PyTorch layout transposed: wih [in, 3H], whh [H, 3H], biases [3H]; gates (r, z, n). */
export interface GruWeights {
  wih: tf.Tensor;
  whh: tf.Tensor;
  bih: tf.Tensor;
  bhh: tf.Tensor;
}

/**
 * One GRU step with PyTorch's equations (`torch.nn.GRUCell`):
 * r = σ(x W_ir + b_ir + h W_hr + b_hr), z = σ(x W_iz + b_iz + h W_hz + b_hz),
 * n = tanh(x W_in + b_in + r ⊙ (h W_hn + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h.
 * `gi` may be passed precomputed (x W_ih + b_ih, whole or split by gate), e.g. computed for a
 * whole sequence at once.
 *
 * @example
 * ```ts
 * const h1 = tf.tidy(() => gruCell(x, h0, weights));
 * ```
 */
export function gruCell(
  x: tf.Tensor2D | null,
  h: tf.Tensor2D,
  w: GruWeights,
  agents?: tf.Tensor2D,
  gi?: tf.Tensor2D | GruInputGates,
): tf.Tensor2D {
  const hid = h.shape[1];
  let ir: tf.Tensor;
  let iz: tf.Tensor;
  let inn: tf.Tensor;
  if (gi && !(gi instanceof tf.Tensor)) {
    ({ r: ir, z: iz, n: inn } = gi);
  } else {
    [ir, iz, inn] = tf.split(gi ?? dense(x as tf.Tensor2D, w.wih, w.bih, agents), [hid, hid, hid], 1);
  }
  const [hr, hz, hn] = tf.split(dense(h, w.whh, w.bhh, agents), [hid, hid, hid], 1);
  const r = tf.sigmoid(tf.add(ir, hr));
  const z = tf.sigmoid(tf.add(iz, hz));
  const n = tf.tanh(tf.add(inn, tf.mul(r, hn)));
  // (1 - z) * n + z * h  ==  n + z * (h - n)
  return tf.add(n, tf.mul(z, tf.sub(h, n))) as tf.Tensor2D;
}

/** Input-side gate pre-activations (x W_i* + b_i*) for one step, already split by gate. */
export interface GruInputGates {
  r: tf.Tensor2D;
  z: tf.Tensor2D;
  n: tf.Tensor2D;
}
