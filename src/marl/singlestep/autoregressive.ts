import { tf } from '../../backend';
import type { Rng } from '../../random';
import { enumerateFactoredActions, factoredActionCount } from '../../credit/counterfactual';
import type { Alternatives } from '../../credit/counterfactual';
import { gruCell, uniformInit } from '../nn';
import { argmax, uid } from './util';

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
 * All groups run in one pass of 2-D ops (wasm runs batched matMul several times slower): the
 * hidden states of all groups side by side `[rows, G * H]`, recurrent and output weights
 * block-diagonal (a fixed mask zeroes, and keeps at zero, the cross-group blocks), embeddings
 * gathered per group. Shorter groups are padded with positions that allow only token 0, whose
 * log-probability is exactly 0. GRU
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
  /** Embedding rows per group: start + one per (position < maxLen - 1, value < vmax). */
  readonly inputRows: number;
  private readonly T: number;
  /** `[maxLen, 1, G, vmax]`: 0 on allowed values, -1e9 elsewhere (padding allows only value 0). */
  private readonly maskBias: tf.Tensor;
  /** Block-diagonal masks of the recurrent `[GH, 3GH]` and output `[GH, GV]` weights. */
  private readonly whhMask: tf.Tensor;
  private readonly woutMask: tf.Tensor;

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
    const D = 1 + (L - 1) * V;
    this.inputRows = D;
    const bound = 1 / Math.sqrt(H);
    // Layouts (wasm runs batched matMul and non-contiguous splits slowly, so every group shares
    // 2-D matMuls with block-diagonal weights): hidden columns (g, j); gate columns (gate, g, j);
    // embedding rows (g, slot) with columns (gate, j); output columns (g, v).
    const whhMask = new Float32Array(G * H * 3 * G * H);
    for (let g = 0; g < G; g++)
      for (let i = 0; i < H; i++)
        for (let gate = 0; gate < 3; gate++)
          for (let j = 0; j < H; j++) whhMask[(g * H + i) * 3 * G * H + (gate * G + g) * H + j] = 1;
    const woutMask = new Float32Array(G * H * G * V);
    for (let g = 0; g < G; g++)
      for (let i = 0; i < H; i++) for (let v = 0; v < V; v++) woutMask[(g * H + i) * G * V + g * V + v] = 1;
    const shapes: Record<string, number[]> = {
      'ar/emb': [G * D, 3 * H],
      'ar/bih': [3 * G * H],
      'ar/whh': [G * H, 3 * G * H],
      'ar/bhh': [3 * G * H],
      'ar/wout': [L, G * H, G * V],
      'ar/bout': [L, G * V],
    };
    for (const name of AUTOREGRESSIVE_PARAM_NAMES) {
      const shape = shapes[name];
      const size = shape.reduce((a, b) => a * b, 1);
      let values: Float32Array;
      if (name === 'ar/wout' || name === 'ar/bout') values = new Float32Array(size);
      else {
        values = uniformInit(rng.fork(name), size, bound);
        if (name === 'ar/whh') for (let k = 0; k < size; k++) values[k] *= whhMask[k];
      }
      this.params.set(
        name,
        tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), true, `singlestep_${name}_${uid()}`)),
      );
      this.target.set(
        name,
        tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), false)),
      );
    }
    this.whhMask = tf.tensor2d(whhMask, [G * H, 3 * G * H]);
    this.woutMask = tf.tensor2d(woutMask, [G * H, G * V]);
    const mask = new Float32Array(L * G * V);
    for (let g = 0; g < G; g++) {
      for (let k = 0; k < L; k++) {
        const allowed = k < groups[g].length ? vocab[groups[g][k]] : 1;
        for (let v = allowed; v < V; v++) mask[(k * G + g) * V + v] = -1e9;
      }
    }
    this.maskBias = tf.tensor4d(mask, [L, 1, G, V]);
  }

  /**
   * Inputs of a teacher-forced pass over flat `[n, T]` tokens: the embedding row read at every
   * step (`[L * n * G]`, order (step, row, group), row index `g * inputRows + slot`) and the one-hot
   * of the token emitted at every step (`[L, n, G, V]`).
   */
  encode(tokens: Int32Array, n: number): { slots: Int32Array; seq: Float32Array } {
    const G = this.numGroups;
    const L = this.maxLen;
    const V = this.vmax;
    const D = this.inputRows;
    const slots = new Int32Array(L * n * G);
    const seq = new Float32Array(L * n * G * V);
    for (let g = 0; g < G; g++) {
      const members = this.groups[g];
      for (let k = 0; k < L; k++) {
        for (let b = 0; b < n; b++) {
          const a = k < members.length ? tokens[b * this.T + members[k]] : 0;
          seq[((k * n + b) * G + g) * V + a] = 1;
          slots[(k * n + b) * G + g] =
            g * D + (k === 0 || k > members.length ? 0 : 1 + (k - 1) * V + tokens[b * this.T + members[k - 1]]);
        }
      }
    }
    return { slots, seq };
  }

  /** Input-gate pre-activations `[rows, 3GH]` (columns (gate, g, j)) of embedding rows `[rows * G]`. */
  private inputGates(p: Map<string, tf.Variable>, slots: tf.Tensor, rows: number): tf.Tensor {
    const G = this.numGroups;
    const H = this.hidden;
    const e = tf.reshape(tf.gather(p.get('ar/emb')!, slots), [rows, G, 3, H]);
    return tf.add(tf.reshape(tf.transpose(e, [0, 2, 1, 3]), [rows, 3 * G * H]), p.get('ar/bih')!);
  }

  /**
   * Log-probability tables `[L, n, G, V]` of every step given each row's prefix (teacher forcing)
   * under `which` parameters. Call inside `tf.tidy`.
   */
  logTables(slots: tf.Tensor, n: number, which: 'pi' | 'rho'): tf.Tensor {
    const p = which === 'pi' ? this.params : this.target;
    const G = this.numGroups;
    const L = this.maxLen;
    const H = this.hidden;
    const V = this.vmax;
    const gi = this.inputGates(p, slots, L * n); // [L*n, 3GH]
    const whh = tf.mul(p.get('ar/whh')!, this.whhMask);
    const wout = tf.mul(p.get('ar/wout')!, this.woutMask);
    const bout = p.get('ar/bout')!;
    let h: tf.Tensor = tf.zeros([n, G * H]);
    const logits: tf.Tensor[] = [];
    for (let k = 0; k < L; k++) {
      h = this.gruStep(tf.slice(gi, [k * n, 0], [n, 3 * G * H]), h, whh, p.get('ar/bhh')!);
      logits.push(
        tf.add(
          tf.matMul(h, tf.reshape(tf.slice(wout, [k, 0, 0], [1, G * H, G * V]), [G * H, G * V])),
          tf.slice(bout, [k, 0], [1, G * V]),
        ),
      );
    }
    return tf.logSoftmax(tf.add(tf.reshape(tf.stack(logits), [L, n, G, V]), this.maskBias));
  }

  /** `[n, G]` log-probability of each row's group sequences from a {@link logTables} table and the one-hot `seq` of {@link encode}. */
  seqLogProb(table: tf.Tensor, seq: tf.Tensor): tf.Tensor {
    return tf.sum(tf.mul(seq, table), [0, 3]);
  }

  /**
   * `[n, G]` sum over steps of `KL(pi(.|a_<k) || rho(.|a_<k))` along each row's own prefix. Its
   * expectation over `a ~ pi` is the sequence KL.
   */
  conditionalKl(piTable: tf.Tensor, rhoTable: tf.Tensor): tf.Tensor {
    return tf.sum(tf.mul(tf.exp(piTable), tf.sub(piTable, rhoTable)), [0, 3]);
  }

  /** The one-hot `seq` of {@link encode} as a tensor. */
  seqTensor(seq: Float32Array, n: number): tf.Tensor {
    return tf.tensor4d(seq, [this.maxLen, n, this.numGroups, this.vmax]);
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
    const D = this.inputRows;
    const p = this.params;
    const tokens = new Int32Array(n * this.T);
    const row0Probs: Float32Array[] = new Array(this.T);
    const slots = new Int32Array(n * G);
    for (let b = 0; b < n; b++) for (let g = 0; g < G; g++) slots[b * G + g] = g * D;
    const [whh, wout] = tf.tidy(() => [
      tf.mul(p.get('ar/whh')!, this.whhMask),
      tf.mul(p.get('ar/wout')!, this.woutMask),
    ]);
    let h: tf.Tensor = tf.zeros([n, G * H]);
    for (let k = 0; k < L; k++) {
      const [hNew, probsT] = tf.tidy(() => {
        const h1 = this.gruStep(this.inputGates(p, tf.tensor1d(slots, 'int32'), n), h, whh, p.get('ar/bhh')!);
        const logits = tf.add(
          tf.matMul(h1, tf.reshape(tf.slice(wout, [k, 0, 0], [1, G * H, G * V]), [G * H, G * V])),
          tf.slice(p.get('ar/bout')!, [k, 0], [1, G * V]),
        );
        const masked = tf.add(
          tf.reshape(logits, [n, G, V]),
          tf.reshape(tf.slice(this.maskBias, [k, 0, 0, 0], [1, 1, G, V]), [1, G, V]),
        );
        return [h1, tf.softmax(masked)];
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
          const row = probs.subarray((b * G + g) * V, (b * G + g) * V + v);
          const a = rng ? rng.categorical(row) : argmax(row);
          tokens[b * this.T + t] = a;
          slots[b * G + g] = g * D + 1 + k * V + a;
          if (b === 0) row0Probs[t] = row.slice();
        }
      }
    }
    h.dispose();
    whh.dispose();
    wout.dispose();
    return { tokens, row0Probs };
  }

  /** `[n * G]` log pi_g (or log rho_g) of flat `[n, T]` tokens. */
  logProbs(tokens: Int32Array, n: number, which: 'pi' | 'rho' = 'pi'): Float32Array {
    const { slots, seq } = this.encode(tokens, n);
    const lp = tf.tidy(() =>
      this.seqLogProb(this.logTables(tf.tensor1d(slots, 'int32'), n, which), this.seqTensor(seq, n)),
    );
    const out = lp.dataSync().slice() as Float32Array;
    lp.dispose();
    return out;
  }

  /**
   * Counterfactual alternatives of every group: the whole space weighted by pi_g when it has at
   * most `enumerateLimit` sequences, else K sequences sampled autoregressively from pi_g with `rng`
   * (weights 1/K). One decoding pass serves every sampled group. With `rows` (flat `[n, T]` tokens),
   * the non-enumerable groups take those n sequences instead of sampling (no decoding, rng unused).
   */
  alternatives(
    samples: number,
    enumerateLimit: number,
    rng: Rng | null,
    rows?: { tokens: Int32Array; n: number },
  ): Alternatives[] {
    const G = this.numGroups;
    const T = this.T;
    const sizes = this.groups.map((m) => factoredActionCount(m.map((t) => this.vocab[t])));
    const exact = sizes.map((s) => s <= enumerateLimit);
    const out: Alternatives[] = new Array(G);
    if (exact.some((e) => !e)) {
      // Given rows (diagnostics) replace the sampled sequences; else `samples` are decoded with rng.
      if (rows) samples = rows.n;
      const { tokens } = rows ? { tokens: rows.tokens } : this.decode(samples, rng);
      for (let g = 0; g < G; g++) {
        if (exact[g]) continue;
        const m = this.groups[g];
        const alt = new Int32Array(samples * m.length);
        for (let k = 0; k < samples; k++)
          for (let j = 0; j < m.length; j++) alt[k * m.length + j] = tokens[k * T + m[j]];
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
        for (let k = 0; k < sizes[g]; k++, r++)
          for (let j = 0; j < m.length; j++) flat[r * T + m[j]] = enums[e][k * m.length + j];
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
      for (let k = 0; k < a.count; k++)
        for (let j = 0; j < m.length; j++) flat[k * T + m[j]] = a.tokens[k * m.length + j];
      const { slots, seq } = this.encode(flat, a.count);
      const res = tf.tidy(() => {
        const s = tf.tensor1d(slots, 'int32');
        const pi = this.logTables(s, a.count, 'pi');
        const rho = this.logTables(s, a.count, 'rho');
        if (a.exact) {
          const sq = this.seqTensor(seq, a.count);
          return tf.sub(this.seqLogProb(pi, sq), this.seqLogProb(rho, sq)); // [count, G]
        }
        return this.conditionalKl(pi, rho);
      });
      const v = res.dataSync();
      res.dispose();
      let s = 0;
      for (let k = 0; k < a.count; k++) s += a.weights[k] * v[k * G + g];
      out[g] = Math.max(0, s);
    });
    return out;
  }

  /**
   * `[G]` entropy (nats) of each group's sequence distribution under pi: exact (enumeration) for
   * groups with at most `enumerateLimit` sequences, else the mean over the given `rows` (flat
   * `[n, T]` tokens, e.g. the batch just sampled from pi) of the summed conditional entropies along
   * each row's prefix (unbiased when the rows are draws from pi; no decoding, so it is cheap).
   */
  entropy(enumerateLimit: number, rows: { tokens: Int32Array; n: number }): Float64Array {
    const G = this.numGroups;
    const out = new Float64Array(G);
    const alts = this.alternatives(rows.n, enumerateLimit, null, rows);
    alts.forEach((a, g) => {
      if (a.exact) {
        let h = 0;
        for (let k = 0; k < a.count; k++) if (a.weights[k] > 0) h -= a.weights[k] * Math.log(a.weights[k]);
        out[g] = h;
        return;
      }
      const { slots } = this.encode(this.groupRows(a, g), a.count);
      const res = tf.tidy(() => {
        const pi = this.logTables(tf.tensor1d(slots, 'int32'), a.count, 'pi');
        return tf.neg(tf.sum(tf.mul(tf.exp(pi), pi), [0, 3])); // [count, G]
      });
      const v = res.dataSync();
      res.dispose();
      let h = 0;
      for (let k = 0; k < a.count; k++) h += v[k * G + g] / a.count;
      out[g] = Math.max(0, h);
    });
    return out;
  }

  /**
   * A snapshot of pi for `KL(pi_snapshot || pi_later)` per group: sequences enumerated (groups with
   * at most `enumerateLimit` sequences, exact) or the given `rows` (then the mean over the rows of
   * the summed conditional KLs along each row's prefix: unbiased when the rows are draws from the
   * snapshot's pi), with their log-probabilities (tables) under the current parameters. `klTo()`
   * evaluates the KL from the snapshot to the parameters at the time of the call.
   */
  klSnapshot(enumerateLimit: number, rows: { tokens: Int32Array; n: number }): { klTo(): Float64Array } {
    const G = this.numGroups;
    const V = this.vmax;
    const alts = this.alternatives(rows.n, enumerateLimit, null, rows);
    const parts = alts.map((a, g) => {
      const { slots, seq } = this.encode(this.groupRows(a, g), a.count);
      const old = tf.tidy(() => {
        const table = this.logTables(tf.tensor1d(slots, 'int32'), a.count, 'pi');
        return a.exact ? this.seqLogProb(table, this.seqTensor(seq, a.count)) : table;
      });
      const values = old.dataSync().slice() as Float32Array;
      old.dispose();
      return { a, slots, seq, values };
    });
    return {
      klTo: () => {
        const out = new Float64Array(G);
        parts.forEach(({ a, slots, seq, values }, g) => {
          const now = tf.tidy(() => {
            const table = this.logTables(tf.tensor1d(slots, 'int32'), a.count, 'pi');
            return a.exact ? this.seqLogProb(table, this.seqTensor(seq, a.count)) : table;
          });
          const v = now.dataSync();
          now.dispose();
          let s = 0;
          if (a.exact) {
            for (let k = 0; k < a.count; k++) s += a.weights[k] * (values[k * G + g] - v[k * G + g]);
          } else {
            // tables [L, count, G, V]: sum over steps and values of p_old (log p_old - log p_new), group g.
            for (let l = 0; l < this.maxLen; l++) {
              for (let k = 0; k < a.count; k++) {
                const at = ((l * a.count + k) * G + g) * V;
                for (let x = 0; x < V; x++) {
                  const lo = values[at + x];
                  const po = Math.exp(lo);
                  if (po > 0) s += (po * (lo - v[at + x])) / a.count;
                }
              }
            }
          }
          out[g] = Math.max(0, s);
        });
        return out;
      },
    };
  }

  /** Flat `[count, T]` rows holding group g's alternative sequences (other tokens 0). */
  private groupRows(a: Alternatives, g: number): Int32Array {
    const m = this.groups[g];
    const flat = new Int32Array(a.count * this.T);
    for (let k = 0; k < a.count; k++)
      for (let j = 0; j < m.length; j++) flat[k * this.T + m[j]] = a.tokens[k * m.length + j];
    return flat;
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
    for (const [name, v] of which === 'pi' ? this.params : this.target)
      out[name] = Array.from(v.dataSync(), (x) => x + 0); // -0 -> 0, as JSON stores it
    return out;
  }

  /** Restores parameters from {@link getValues} output (error naming the field on a size mismatch). */
  setValues(which: 'pi' | 'rho', values: Record<string, number[]> | undefined, what: string): void {
    const map = which === 'pi' ? this.params : this.target;
    for (const [name, v] of map) {
      const vals = values?.[name];
      if (!Array.isArray(vals) || vals.length !== v.size)
        throw new Error(`${what}.${name} must have ${v.size} numbers`);
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
    this.whhMask.dispose();
    this.woutMask.dispose();
  }

  /** One GRU step (PyTorch equations, `gruCell`) of all groups: `gi` `[rows, 3GH]` precomputed, `h` `[rows, GH]`, block-diagonal `whh`. */
  private gruStep(gi: tf.Tensor, h: tf.Tensor, whh: tf.Tensor, bhh: tf.Tensor): tf.Tensor {
    // wih/bih are not read: the input gates arrive precomputed in `gi`.
    return gruCell(null, h as tf.Tensor2D, { wih: whh, bih: bhh, whh, bhh }, undefined, gi as tf.Tensor2D);
  }
}
