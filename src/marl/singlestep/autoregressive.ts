import { tf } from '../../backend';
import type { Rng } from '../../random';
import { enumerateFactoredActions, factoredActionCount } from '../../credit/counterfactual';
import type { Alternatives } from '../../credit/counterfactual';
import { uniformInit } from '../nn';

/** Names of the autoregressive policy's parameters (checkpoint and optimiser keys). */
export const AUTOREGRESSIVE_PARAM_NAMES = ['ar/emb', 'ar/bih', 'ar/whh', 'ar/bhh', 'ar/wout', 'ar/bout'] as const;

/** Result of a sequential pass (sampling or greedy decoding) through the autoregressive policy. */
export interface DecodeResult {
  /** Flat `[n, numTokens]` token indices in the learner's global token order. */
  tokens: Int32Array;
  /** For row 0: the conditional distribution of every global token given row 0's prefix. */
  row0Probs: Float32Array[];
}

/**
 * Autoregressive token policies for the single-step learner (internal): one GRU per policy group
 * (agent, or the whole joint sequence with `jointAgent`). At step k of group g the GRU reads the
 * embedding of the group's previous token (a learned start vector at k = 0; one embedding row per
 * (position, value), i.e. the one-hot input of a PyTorch `GRUCell`) and a per-position output head
 * sized to token k's own vocabulary gives its logits, so
 * `log pi_g(a) = sum_k log softmax(W_k h_k + b_k)[a_k]`.
 *
 * All groups run in one batched pass (parameters stacked on a leading group axis; shorter groups
 * are padded with positions that allow only token 0, whose log-probability is exactly 0). GRU
 * equations are PyTorch's (`torch.nn.GRUCell`, gates r, z, n), as in `gruCell` of `src/marl/nn`.
 * Recurrent weights are PyTorch-initialised (U(-1/sqrt(H), 1/sqrt(H))); the output heads start at
 * zero, so the initial policy is uniform like the factorised one.
 *
 * The target policy rho is a second parameter set, moved by Polyak averaging in parameter space
 * (`theta_rho <- (1 - tau) theta_rho + tau theta`): a mixture of autoregressive distributions is
 * not itself autoregressive, so the factorised learner's probability-space update has no exact
 * counterpart here.
 */
export class AutoregressivePolicy {
  /** Trainable parameters by name (see {@link AUTOREGRESSIVE_PARAM_NAMES}). */
  readonly params = new Map<string, tf.Variable>();
  /** Target-policy parameters (same names and shapes, not trainable). */
  readonly target = new Map<string, tf.Variable>();
  readonly numGroups: number;
  /** Longest group (number of sequential GRU steps). */
  readonly maxLen: number;
  readonly hidden: number;
  /** Rows of the input embedding: start + one per (position < maxLen - 1, value < vmax). */
  readonly inputRows: number;
  private readonly T: number;
  /** `[G * maxLen, 1, vmax]`: 0 on allowed values, -1e9 elsewhere (padding allows only value 0). */
  private readonly maskBias: tf.Tensor;

  constructor(
    private readonly groups: number[][],
    private readonly vocab: number[],
    private readonly vmax: number,
    gruSize: number,
    rng: Rng,
  ) {
    const G = groups.length;
    this.numGroups = G;
    this.T = vocab.length;
    this.maxLen = Math.max(...groups.map((g) => g.length));
    this.hidden = gruSize;
    const H = gruSize;
    const V = vmax;
    const L = this.maxLen;
    this.inputRows = 1 + (L - 1) * V;
    const bound = 1 / Math.sqrt(H);
    const shapes: Record<string, number[]> = {
      'ar/emb': [G, this.inputRows, 3 * H],
      'ar/bih': [G, 1, 3 * H],
      'ar/whh': [G, H, 3 * H],
      'ar/bhh': [G, 1, 3 * H],
      'ar/wout': [G * L, H, V],
      'ar/bout': [G * L, 1, V],
    };
    for (const name of AUTOREGRESSIVE_PARAM_NAMES) {
      const shape = shapes[name];
      const size = shape.reduce((a, b) => a * b, 1);
      const values = name === 'ar/wout' || name === 'ar/bout' ? new Float32Array(size) : uniformInit(rng.fork(name), size, bound);
      this.params.set(name, tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), true, `singlestep_${name}_${uid()}`)));
      this.target.set(name, tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), false)));
    }
    const mask = new Float32Array(G * L * V);
    for (let g = 0; g < G; g++) {
      for (let k = 0; k < L; k++) {
        const allowed = k < groups[g].length ? vocab[groups[g][k]] : 1;
        for (let v = allowed; v < V; v++) mask[(g * L + k) * V + v] = -1e9;
      }
    }
    this.maskBias = tf.tensor3d(mask, [G * L, 1, V]);
  }

  /**
   * Int32 inputs of a teacher-forced pass over flat `[n, T]` tokens: the embedding row read at
   * every step (`[G, L * n]`, step-major) and the token emitted at every step (`[G * L, n]`).
   */
  encode(tokens: Int32Array, n: number): { slots: Int32Array; seq: Int32Array } {
    const G = this.numGroups;
    const L = this.maxLen;
    const V = this.vmax;
    const slots = new Int32Array(G * L * n);
    const seq = new Int32Array(G * L * n);
    for (let g = 0; g < G; g++) {
      const members = this.groups[g];
      for (let k = 0; k < members.length; k++) {
        for (let b = 0; b < n; b++) {
          const a = tokens[b * this.T + members[k]];
          seq[(g * L + k) * n + b] = a;
          if (k + 1 < L) slots[(g * L + k + 1) * n + b] = 1 + k * V + a;
        }
      }
    }
    return { slots, seq };
  }

  /**
   * Log-probability tables `[G * L, n, V]` of every step given each row's prefix (teacher forcing)
   * under `which` parameters. Call inside `tf.tidy`.
   */
  logTables(slots: tf.Tensor, n: number, which: 'pi' | 'rho'): tf.Tensor {
    const p = which === 'pi' ? this.params : this.target;
    const G = this.numGroups;
    const L = this.maxLen;
    const H = this.hidden;
    const x = tf.oneHot(slots, this.inputRows, 1, 0, 'float32'); // [G, L*n, D]
    const gi = tf.add(tf.matMul(x, p.get('ar/emb')!), p.get('ar/bih')!); // [G, L*n, 3H]
    const [gr, gz, gn] = tf.split(gi, 3, 2);
    let h: tf.Tensor = tf.zeros([G, n, H]);
    const hs: tf.Tensor[] = [];
    for (let k = 0; k < L; k++) {
      const step = (t: tf.Tensor) => tf.slice(t, [0, k * n, 0], [G, n, H]);
      h = this.gruStep(step(gr), step(gz), step(gn), h, p);
      hs.push(h);
    }
    const hAll = tf.reshape(tf.stack(hs, 1), [G * L, n, H]);
    const logits = tf.add(tf.add(tf.matMul(hAll, p.get('ar/wout')!), p.get('ar/bout')!), this.maskBias);
    return tf.logSoftmax(logits);
  }

  /** `[n, G]` sum over each group's steps of a per-step `[G * L, n]` quantity. */
  sumSteps(perStep: tf.Tensor, n: number): tf.Tensor {
    return tf.transpose(tf.sum(tf.reshape(perStep, [this.numGroups, this.maxLen, n]), 1));
  }

  /** `[n, G]` log-probability of each row's group sequences from a {@link logTables} table. */
  seqLogProb(table: tf.Tensor, seq: tf.Tensor, n: number): tf.Tensor {
    return this.sumSteps(tf.sum(tf.mul(tf.oneHot(seq, this.vmax, 1, 0, 'float32'), table), 2), n);
  }

  /**
   * `[n, G]` sum over steps of `KL(pi(.|a_<k) || rho(.|a_<k))` along each row's own prefix. Its
   * expectation over `a ~ pi` is the sequence KL.
   */
  conditionalKl(piTable: tf.Tensor, rhoTable: tf.Tensor, n: number): tf.Tensor {
    return this.sumSteps(tf.sum(tf.mul(tf.exp(piTable), tf.sub(piTable, rhoTable)), 2), n);
  }

  /**
   * Sequential decoding of `n` rows: each token sampled from its conditional with `rng`
   * (order: step, group, row), or the arg-max when `rng` is null (greedy).
   */
  decode(n: number, rng: Rng | null): DecodeResult {
    const G = this.numGroups;
    const L = this.maxLen;
    const V = this.vmax;
    const H = this.hidden;
    const p = this.params;
    const tokens = new Int32Array(n * this.T);
    const row0Probs: Float32Array[] = new Array(this.T);
    const slots = new Int32Array(G * n);
    let h: tf.Tensor = tf.zeros([G, n, H]);
    for (let k = 0; k < L; k++) {
      const [hNew, probsT] = tf.tidy(() => {
        const x = tf.oneHot(tf.tensor2d(slots, [G, n], 'int32'), this.inputRows, 1, 0, 'float32');
        const gi = tf.add(tf.matMul(x, p.get('ar/emb')!), p.get('ar/bih')!);
        const [gr, gz, gn] = tf.split(gi, 3, 2);
        const h1 = this.gruStep(gr, gz, gn, h, p);
        const pick = (t: tf.Tensor, rows: number) => tf.reshape(tf.slice(tf.reshape(t, [G, L, rows, V]), [0, k, 0, 0], [G, 1, rows, V]), [G, rows, V]);
        const w = tf.reshape(tf.slice(tf.reshape(p.get('ar/wout')!, [G, L, H, V]), [0, k, 0, 0], [G, 1, H, V]), [G, H, V]);
        const logits = tf.add(tf.add(tf.matMul(h1, w), pick(p.get('ar/bout')!, 1)), pick(this.maskBias, 1));
        return [h1, tf.softmax(logits)];
      });
      h.dispose();
      h = hNew;
      const probs = probsT.dataSync() as Float32Array;
      probsT.dispose();
      for (let g = 0; g < G; g++) {
        if (k >= this.groups[g].length) continue;
        const t = this.groups[g][k];
        const v = this.vocab[t];
        for (let b = 0; b < n; b++) {
          const row = probs.subarray((g * n + b) * V, (g * n + b) * V + v);
          const a = rng ? rng.categorical(row) : argmax(row);
          tokens[b * this.T + t] = a;
          slots[g * n + b] = 1 + k * V + a;
          if (b === 0) row0Probs[t] = row.slice();
        }
      }
    }
    h.dispose();
    return { tokens, row0Probs };
  }

  /** `[n * G]` log pi_g (or log rho_g) of flat `[n, T]` tokens. */
  logProbs(tokens: Int32Array, n: number, which: 'pi' | 'rho' = 'pi'): Float32Array {
    const { slots, seq } = this.encode(tokens, n);
    const lp = tf.tidy(() => this.seqLogProb(this.logTables(tf.tensor2d(slots, [this.numGroups, this.maxLen * n], 'int32'), n, which), tf.tensor2d(seq, [this.numGroups * this.maxLen, n], 'int32'), n));
    const out = lp.dataSync().slice() as Float32Array;
    lp.dispose();
    return out;
  }

  /**
   * Counterfactual alternatives of every group: the whole space weighted by pi_g when it has at
   * most `enumerateLimit` sequences, else K sequences sampled autoregressively from pi_g with `rng`
   * (weights 1/K). One decoding pass serves every sampled group.
   */
  alternatives(samples: number, enumerateLimit: number, rng: Rng): Alternatives[] {
    const G = this.numGroups;
    const T = this.T;
    const sizes = this.groups.map((m) => factoredActionCount(m.map((t) => this.vocab[t])));
    const exact = sizes.map((s) => s <= enumerateLimit);
    const out: Alternatives[] = new Array(G);
    if (exact.some((e) => !e)) {
      const { tokens } = this.decode(samples, rng);
      for (let g = 0; g < G; g++) {
        if (exact[g]) continue;
        const m = this.groups[g];
        const alt = new Int32Array(samples * m.length);
        for (let k = 0; k < samples; k++) for (let j = 0; j < m.length; j++) alt[k * m.length + j] = tokens[k * T + m[j]];
        out[g] = { tokens: alt, count: samples, weights: new Float64Array(samples).fill(1 / samples), exact: false };
      }
    }
    const exactGroups = exact.map((e, g) => (e ? g : -1)).filter((g) => g >= 0);
    if (exactGroups.length > 0) {
      const enums = exactGroups.map((g) => enumerateFactoredActions(this.groups[g].map((t) => this.vocab[t])));
      const rows = exactGroups.reduce((s, g) => s + sizes[g], 0);
      const flat = new Int32Array(rows * T);
      let r = 0;
      exactGroups.forEach((g, e) => {
        const m = this.groups[g];
        for (let k = 0; k < sizes[g]; k++, r++) for (let j = 0; j < m.length; j++) flat[r * T + m[j]] = enums[e][k * m.length + j];
      });
      const lp = this.logProbs(flat, rows);
      r = 0;
      exactGroups.forEach((g, e) => {
        const weights = new Float64Array(sizes[g]);
        for (let k = 0; k < sizes[g]; k++, r++) weights[k] = Math.exp(lp[r * G + g]);
        out[g] = { tokens: enums[e], count: sizes[g], weights, exact: true };
      });
    }
    return out;
  }

  /**
   * `[G]` KL(pi_g || rho_g) between the sequence distributions: exact (enumeration) for groups with
   * at most `enumerateLimit` sequences, else the mean over `samples` sequences drawn from pi_g (with
   * `rng`) of the summed per-step conditional KLs (unbiased, and never negative).
   */
  kl(samples: number, enumerateLimit: number, rng: Rng): Float64Array {
    const G = this.numGroups;
    const alts = this.alternatives(samples, enumerateLimit, rng);
    const out = new Float64Array(G);
    const T = this.T;
    alts.forEach((a, g) => {
      const m = this.groups[g];
      const flat = new Int32Array(a.count * T);
      for (let k = 0; k < a.count; k++) for (let j = 0; j < m.length; j++) flat[k * T + m[j]] = a.tokens[k * m.length + j];
      const { slots, seq } = this.encode(flat, a.count);
      const res = tf.tidy(() => {
        const s = tf.tensor2d(slots, [G, this.maxLen * a.count], 'int32');
        const pi = this.logTables(s, a.count, 'pi');
        const rho = this.logTables(s, a.count, 'rho');
        if (a.exact) {
          const sq = tf.tensor2d(seq, [G * this.maxLen, a.count], 'int32');
          return tf.sub(this.seqLogProb(pi, sq, a.count), this.seqLogProb(rho, sq, a.count)); // [count, G]
        }
        return this.conditionalKl(pi, rho, a.count);
      });
      const v = res.dataSync();
      res.dispose();
      let s = 0;
      for (let k = 0; k < a.count; k++) s += a.weights[k] * v[k * G + g];
      out[g] = Math.max(0, s);
    });
    return out;
  }

  /** rho <- (1 - tau) rho + tau pi in parameter space. */
  polyak(tau: number): void {
    tf.tidy(() => {
      for (const [name, t] of this.target) t.assign(tf.add(tf.mul(t, 1 - tau), tf.mul(this.params.get(name)!, tau)));
    });
  }

  /** Parameters (pi or rho) as plain arrays by name. */
  getValues(which: 'pi' | 'rho'): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const [name, v] of which === 'pi' ? this.params : this.target) out[name] = Array.from(v.dataSync());
    return out;
  }

  /** Restores parameters from {@link getValues} output (error naming the field on a size mismatch). */
  setValues(which: 'pi' | 'rho', values: Record<string, number[]> | undefined, what: string): void {
    const map = which === 'pi' ? this.params : this.target;
    for (const [name, v] of map) {
      const vals = values?.[name];
      if (!Array.isArray(vals) || vals.length !== v.size) throw new Error(`${what}.${name} must have ${v.size} numbers`);
    }
    tf.tidy(() => {
      for (const [name, v] of map) v.assign(tf.tensor(values![name], v.shape, 'float32'));
    });
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    for (const v of this.target.values()) v.dispose();
    this.params.clear();
    this.target.clear();
    this.maskBias.dispose();
  }

  /** One batched GRU step (PyTorch equations) over `[G, rows, *]` tensors with per-group weights. */
  private gruStep(ir: tf.Tensor, iz: tf.Tensor, inn: tf.Tensor, h: tf.Tensor, p: Map<string, tf.Variable>): tf.Tensor {
    const [hr, hz, hn] = tf.split(tf.add(tf.matMul(h, p.get('ar/whh')!), p.get('ar/bhh')!), 3, 2);
    const r = tf.sigmoid(tf.add(ir, hr));
    const z = tf.sigmoid(tf.add(iz, hz));
    const nn = tf.tanh(tf.add(inn, tf.mul(r, hn)));
    return tf.add(nn, tf.mul(z, tf.sub(h, nn)));
  }
}

let uidCounter = 0;
function uid(): number {
  return uidCounter++;
}

function argmax(p: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
  return best;
}
