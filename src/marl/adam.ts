import { tf } from '../backend';
import { parseConfig, z } from '../config';
import { adamMoments, adamStep } from '../nn/adam-rule';

/** Serialisable Adam state (step count and moments by parameter name), for JSON checkpoints. */
export interface AdamState {
  step: number;
  m: Record<string, number[]>;
  v: Record<string, number[]>;
}

export const AdamConfigSchema = z
  .object({
    lr: z.number().positive().default(2.5e-4),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.999),
    eps: z.number().positive().default(1e-8),
  })
  .strict();
export type AdamConfig = z.input<typeof AdamConfigSchema>;

/**
 * Adam with `torch.optim.Adam` semantics (eps outside the square root, bias corrections as in
 * PyTorch, default eps 1e-8), keeping its moments *by parameter name*, so state never mixes
 * between variables and checkpoints round-trip exactly.
 *
 * @example
 * ```ts
 * const opt = new Adam({ lr: 1e-3 });
 * const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(w)), [w]);
 * opt.apply(new Map([['w', w]]), new Map([['w', grads[w.name]]]));
 * ```
 */
export class Adam {
  readonly config: Required<z.output<typeof AdamConfigSchema>>;
  /** Number of steps taken (PyTorch's `state['step']`). */
  step = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(config: AdamConfig = {}) {
    this.config = parseConfig(AdamConfigSchema, config, 'Adam config');
  }

  /** Sets the learning rate (schedules). */
  setLearningRate(lr: number): void {
    if (!(lr > 0) || !Number.isFinite(lr))
      throw new Error(`Adam.setLearningRate: lr must be a positive finite number, got ${lr}`);
    this.config.lr = lr;
  }

  /**
   * One update: `params[name] -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps)` for every gradient given.
   * Gradients are not disposed.
   */
  apply(params: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>): void {
    this.step += 1;
    const { lr, beta1, beta2, eps } = this.config;
    const bc1 = 1 - Math.pow(beta1, this.step);
    const bc2 = 1 - Math.pow(beta2, this.step);
    const stepSize = lr / bc1;
    const sqrtBc2 = Math.sqrt(bc2);
    for (const [name, g] of grads) {
      const p = params.get(name);
      if (!p) throw new Error(`Adam.apply: gradient for unknown parameter '${name}'`);
      if (!arraysEqual(p.shape, g.shape))
        throw new Error(`Adam.apply: gradient for '${name}' has shape [${g.shape}], parameter has [${p.shape}]`);
      let m = this.m.get(name);
      let v = this.v.get(name);
      if (!m || !v) {
        m = tf.tidy(() => tf.variable(tf.zerosLike(p), false));
        v = tf.tidy(() => tf.variable(tf.zerosLike(p), false));
        this.m.set(name, m);
        this.v.set(name, v);
      }
      const mm = m;
      const vv = v;
      tf.tidy(() => {
        const { m: m1, v: v1 } = adamMoments(mm, vv, g, beta1, beta2);
        mm.assign(m1);
        vv.assign(v1);
        p.assign(tf.sub(p, adamStep(m1, v1, sqrtBc2, eps, stepSize)));
      });
    }
  }

  /**
   * Creates zero moments for every parameter now (otherwise they appear at a parameter's first
   * gradient), so {@link getState} lists every parameter from the start.
   */
  initState(params: Map<string, tf.Variable>): this {
    for (const [name, p] of params) {
      if (this.m.has(name)) continue;
      this.m.set(
        name,
        tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
      );
      this.v.set(
        name,
        tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
      );
    }
    return this;
  }

  /** Step count and moments as plain numbers (JSON checkpoints). */
  getState(): AdamState {
    const m: Record<string, number[]> = {};
    const v: Record<string, number[]> = {};
    for (const [name, t] of this.m) m[name] = Array.from(t.dataSync());
    for (const [name, t] of this.v) v[name] = Array.from(t.dataSync());
    return { step: this.step, m, v };
  }

  /** Restores {@link getState} output into the existing moments (sizes checked; `what` names the caller in errors). */
  setState(state: AdamState, what: string): void {
    if (!state || !Number.isInteger(state.step) || state.step < 0)
      throw new Error(`${what}: optimiser state.step must be a non-negative integer`);
    for (const [key, target] of [
      ['m', this.m],
      ['v', this.v],
    ] as const) {
      for (const [name, t] of target) {
        const vals = state[key]?.[name];
        if (!Array.isArray(vals) || vals.length !== t.size)
          throw new Error(`${what}: optimiser state.${key}.${name} must have ${t.size} numbers`);
        tf.tidy(() => t.assign(tf.tensor(vals, t.shape, 'float32')));
      }
    }
    this.step = state.step;
  }

  /** Moment buffers by parameter name (for checkpoints). */
  stateTensors(): { name: string; tensor: tf.Tensor }[] {
    const out: { name: string; tensor: tf.Tensor }[] = [];
    for (const [name, m] of this.m) out.push({ name: `adam/m/${name}`, tensor: m });
    for (const [name, v] of this.v) out.push({ name: `adam/v/${name}`, tensor: v });
    return out;
  }

  /** Restores step count and moments produced by {@link stateTensors} (values are copied). */
  loadState(step: number, tensors: Map<string, tf.Tensor>): void {
    this.disposeState();
    this.step = step;
    for (const [key, t] of tensors) {
      const match = /^adam\/(m|v)\/(.+)$/.exec(key);
      if (!match) continue;
      const target = match[1] === 'm' ? this.m : this.v;
      target.set(
        match[2],
        tf.tidy(() => tf.variable(t.clone(), false)),
      );
    }
  }

  private disposeState(): void {
    for (const t of this.m.values()) t.dispose();
    for (const t of this.v.values()) t.dispose();
    this.m.clear();
    this.v.clear();
  }

  /** Frees the moment buffers. */
  dispose(): void {
    this.disposeState();
  }
}

/**
 * Global L2 gradient-norm clipping with `torch.nn.utils.clip_grad_norm_` semantics: scales all
 * gradients by `maxNorm / (total + 1e-6)` when that is below 1. Returns the new gradients (the
 * inputs are disposed when replaced) and the pre-clipping total norm.
 *
 * @example
 * ```ts
 * const { grads: clipped, totalNorm } = clipGradNorm(grads, 0.5);
 * ```
 */
export function clipGradNorm(
  grads: Map<string, tf.Tensor>,
  maxNorm: number,
): { grads: Map<string, tf.Tensor>; totalNorm: number } {
  if (!(maxNorm > 0)) throw new Error(`clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  const sq = tf.tidy(() => tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g)))));
  const totalNorm = Math.sqrt(sq.dataSync()[0]);
  sq.dispose();
  const coef = maxNorm / (totalNorm + 1e-6);
  if (!(coef < 1)) return { grads, totalNorm };
  const out = new Map<string, tf.Tensor>();
  for (const [name, g] of grads) {
    out.set(
      name,
      tf.tidy(() => tf.mul(g, coef)),
    );
    g.dispose();
  }
  return { grads: out, totalNorm };
}

function arraysEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
