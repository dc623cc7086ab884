/**
 * The MLP centralised critic of the single-step learner (`critic: 'mlp'`): Q(a) of a joint action
 * from its one-hot tokens, regressed on observed rewards by Adam, with the two batched evaluations
 * the learner needs: COMA counterfactual advantages over given alternatives, and per-token values
 * for the expected off-policy actor gradient. The ridge critic (`./ridge`) is the alternative.
 */
import { tf } from '../../backend';
import type { Alternatives } from '../../credit/counterfactual';
import type { Rng } from '../../random';
import { Adam } from '../adam';
import type { AdamState } from '../adam';
import { uid } from './util';

/** Where each token's one-hot block starts in the critic's input. */
export interface TokenLayout {
  numTokens: number;
  vocab: readonly number[];
  /** `tokenOffset[t]`: first input column of token t. */
  tokenOffset: readonly number[];
  /** Sum of the vocabularies: the input width. */
  inputSize: number;
}

/**
 * MLP critic `one-hot(a) -> hidden (ReLU) ... -> Q(a)`, initialised uniform in ±1/sqrt(fan-in) from
 * `initRng` (weights then bias, layer by layer).
 *
 * @example
 * ```ts
 * const critic = new MlpCritic(layout, [64], 3e-3, new Rng(0).fork('init'));
 * critic.fit(tokens, rewards, n); // one Adam step on the mean squared error
 * critic.predict(tokens, n);
 * critic.dispose();
 * ```
 */
export class MlpCritic {
  /** Parameters by name (`w0`, `b0`, `w1`, ...). */
  readonly params: Map<string, tf.Variable>;
  private readonly opt: Adam;
  private readonly layers: number;

  constructor(
    private readonly layout: TokenLayout,
    hidden: readonly number[],
    lr: number,
    initRng: Rng,
  ) {
    this.params = new Map();
    const sizes = [layout.inputSize, ...hidden, 1];
    this.layers = sizes.length - 1;
    for (let l = 0; l + 1 < sizes.length; l++) {
      const bound = 1 / Math.sqrt(sizes[l]);
      const w = initRng.uniformArray(sizes[l] * sizes[l + 1], -bound, bound);
      const b = initRng.uniformArray(sizes[l + 1], -bound, bound);
      this.params.set(`w${l}`, ownedVariable(tf.tensor2d(w, [sizes[l], sizes[l + 1]]), `singlestep_w${l}_${uid()}`));
      this.params.set(`b${l}`, ownedVariable(tf.tensor1d(b), `singlestep_b${l}_${uid()}`));
    }
    this.opt = new Adam({ lr }).initState(this.params);
  }

  /** One-hot rows `[n, inputSize]` of flat token rows `[n, numTokens]`. */
  multiHot(tokens: Int32Array, n: number): Float32Array {
    const { numTokens: T, inputSize: D, tokenOffset } = this.layout;
    const x = new Float32Array(n * D);
    for (let b = 0; b < n; b++) for (let t = 0; t < T; t++) x[b * D + tokenOffset[t] + tokens[b * T + t]] = 1;
    return x;
  }

  /** Q of flat token rows. */
  predict(tokens: Int32Array, n: number): Float32Array {
    const x = this.multiHot(tokens, n);
    const q = tf.tidy(() => this.forward(tf.tensor2d(x, [n, this.layout.inputSize])));
    const out = q.dataSync() as Float32Array;
    q.dispose();
    return out;
  }

  /** One Adam step on `mean((Q(a) - y)^2)` over the rows; returns the loss before the step. */
  fit(tokens: Int32Array, y: Float32Array, n: number): number {
    const x = this.multiHot(tokens, n);
    const loss = tf.tidy(() => {
      const xt = tf.tensor2d(x, [n, this.layout.inputSize]);
      const yt = tf.tensor1d(y);
      const vars = [...this.params.values()];
      const { value, grads } = tf.variableGrads(
        () => tf.mean(tf.square(tf.sub(this.forward(xt), yt))) as tf.Scalar,
        vars,
      );
      const byName = new Map<string, tf.Tensor>();
      for (const [name, v] of this.params) byName.set(name, grads[v.name]);
      this.opt.apply(this.params, byName);
      return value;
    });
    const l = loss.dataSync()[0];
    loss.dispose();
    return l;
  }

  /**
   * COMA/MA2ML marginal contribution `A_g = Q(a) - sum_k w_k Q(a with group g's tokens = alternative k)`
   * for every row and group (`[n * groups]`, row-major), every factual row and every alternative of
   * every group in one critic call per group. The first layer is linear in the one-hot input, so the
   * pre-activation of "row b with group g replaced by alternative k" is `P_b - F_{b,g} + A_{g,k}`: no
   * per-row inputs are built.
   */
  counterfactualAdvantages(
    tokens: Int32Array,
    n: number,
    groups: readonly (readonly number[])[],
    alts: readonly Alternatives[],
  ): Float32Array {
    const { numTokens: T, inputSize: D, tokenOffset } = this.layout;
    const x = this.multiHot(tokens, n);
    const factualParts: Float32Array[] = [];
    const altParts: Float32Array[] = [];
    groups.forEach((members, g) => {
      const f = new Float32Array(n * D);
      for (let b = 0; b < n; b++) for (const t of members) f[b * D + tokenOffset[t] + tokens[b * T + t]] = 1;
      factualParts.push(f);
      const a = alts[g];
      const L = members.length;
      const h = new Float32Array(a.count * D);
      for (let k = 0; k < a.count; k++)
        for (let m = 0; m < L; m++) h[k * D + tokenOffset[members[m]] + a.tokens[k * L + m]] = 1;
      altParts.push(h);
    });
    const advT = tf.tidy(() => {
      const w0 = this.params.get('w0')!;
      const b0 = this.params.get('b0')!;
      const pre = tf.add(tf.matMul(tf.tensor2d(x, [n, D]), w0), b0); // [n, H]
      const H = pre.shape[1] as number;
      const qFactual = this.tail(pre); // [n]
      const cols = groups.map((_, g) => {
        const K = alts[g].count;
        const f = tf.matMul(tf.tensor2d(factualParts[g], [n, D]), w0); // [n, H]
        const a = tf.matMul(tf.tensor2d(altParts[g], [K, D]), w0); // [K, H]
        const rows = tf.add(tf.reshape(tf.sub(pre, f), [n, 1, H]), tf.reshape(a, [1, K, H])); // [n, K, H]
        const q = tf.reshape(this.tail(tf.reshape(rows, [n * K, H])), [n, K]);
        const baseline = tf.matMul(q, tf.tensor2d(Float32Array.from(alts[g].weights), [K, 1])); // [n, 1]
        return tf.sub(tf.reshape(qFactual, [n, 1]), baseline);
      });
      return tf.concat(cols, 1); // [n, G]
    });
    const adv = advT.dataSync().slice() as Float32Array;
    advT.dispose();
    return adv;
  }

  /**
   * For the tokens of one group: `coef[t * vmax + v] = sum_b Q(row b with token t = v)` over the given
   * rows (the learner has already resampled the group's other tokens), one critic call.
   */
  addTokenValues(rows: Int32Array, n: number, members: readonly number[], coef: Float32Array, vmax: number): void {
    const { numTokens: T, inputSize: D, tokenOffset, vocab } = this.layout;
    const cols: number[] = [];
    const colToken: number[] = [];
    for (const t of members) {
      for (let v = 0; v < vocab[t]; v++) {
        cols.push(tokenOffset[t] + v);
        colToken.push(t);
      }
    }
    const Dg = cols.length;
    const cur = new Int32Array(n * Dg);
    for (let b = 0; b < n; b++)
      for (let j = 0; j < Dg; j++) cur[b * Dg + j] = tokenOffset[colToken[j]] + rows[b * T + colToken[j]];
    const x = this.multiHot(rows, n);
    const sums = tf.tidy(() => {
      const w0 = this.params.get('w0')!;
      const b0 = this.params.get('b0')!;
      const pre = tf.add(tf.matMul(tf.tensor2d(x, [n, D]), w0), b0); // [n, H]
      const H = pre.shape[1] as number;
      const z = tf.add(
        tf.sub(tf.reshape(pre, [n, 1, H]), tf.reshape(tf.gather(w0, tf.tensor1d(cur, 'int32')), [n, Dg, H])),
        tf.reshape(tf.gather(w0, tf.tensor1d(Int32Array.from(cols), 'int32')), [1, Dg, H]),
      );
      const q = tf.reshape(this.tail(tf.reshape(z, [n * Dg, H])), [n, Dg]);
      return tf.sum(q, 0);
    });
    const v = sums.dataSync();
    sums.dispose();
    cols.forEach((_, j) => (coef[colToken[j] * vmax + (cols[j] - tokenOffset[colToken[j]])] = v[j]));
  }

  /** Weights by parameter name. */
  getWeights(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const [name, v] of this.params) out[name] = Array.from(v.dataSync());
    return out;
  }

  /** Restores weights from {@link getWeights}; throws naming a missing or mis-sized parameter. */
  setWeights(weights: Record<string, number[]> | undefined, what = 'critic'): void {
    for (const [name, v] of this.params) {
      const vals = weights?.[name];
      if (!Array.isArray(vals) || vals.length !== v.size)
        throw new Error(`${what}.${name} must have ${v.size} numbers`);
      tf.tidy(() => v.assign(tf.tensor(vals, v.shape, 'float32')));
    }
  }

  getOptimizerState(): AdamState {
    return this.opt.getState();
  }

  setOptimizerState(state: AdamState, what: string): void {
    this.opt.setState(state, what);
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.opt.dispose();
  }

  private forward(x: tf.Tensor): tf.Tensor {
    let h = x;
    for (let l = 0; l < this.layers; l++) {
      h = tf.add(tf.matMul(h, this.params.get(`w${l}`)!), this.params.get(`b${l}`)!);
      if (l + 1 < this.layers) h = tf.relu(h);
    }
    return tf.reshape(h, [-1]);
  }

  /** Layers after the first layer's pre-activation: `[rows, H0]` -> `[rows]`. */
  private tail(pre: tf.Tensor): tf.Tensor {
    let h = pre;
    for (let l = 1; l < this.layers; l++)
      h = tf.add(tf.matMul(tf.relu(h), this.params.get(`w${l}`)!), this.params.get(`b${l}`)!);
    return tf.reshape(h, [-1]);
  }
}

function ownedVariable(init: tf.Tensor, name: string): tf.Variable {
  const v = tf.variable(init, true, name);
  init.dispose();
  return v;
}
