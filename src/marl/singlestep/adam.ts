import { tf } from '../../backend';

/** Serialisable Adam state (step count and moments by parameter name). */
export interface AdamState {
  step: number;
  m: Record<string, number[]>;
  v: Record<string, number[]>;
}

/**
 * Adam with PyTorch semantics (`m_hat / (sqrt(v_hat) + eps)`, eps 1e-8), one instance per module,
 * moments keyed by parameter name (never by position), synchronous state get/set for checkpoints.
 * Internal to the single-step learners.
 */
export class NamedAdam {
  step = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(
    private readonly params: Map<string, tf.Variable>,
    public lr: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly eps = 1e-8,
  ) {
    for (const [name, p] of params) {
      for (const target of [this.m, this.v]) {
        const z = tf.zerosLike(p);
        target.set(name, tf.variable(z, false));
        z.dispose();
      }
    }
  }

  /** One update from gradients keyed by parameter name (gradients are not disposed). */
  apply(grads: Map<string, tf.Tensor>): void {
    this.step += 1;
    const bc1 = 1 - Math.pow(this.beta1, this.step);
    const sqrtBc2 = Math.sqrt(1 - Math.pow(this.beta2, this.step));
    const stepSize = this.lr / bc1;
    tf.tidy(() => {
      for (const [name, g] of grads) {
        const p = this.params.get(name);
        const m = this.m.get(name);
        const v = this.v.get(name);
        if (!p || !m || !v) throw new Error(`NamedAdam: gradient for unknown parameter '${name}'`);
        const m1 = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
        const v1 = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        m.assign(m1);
        v.assign(v1);
        p.assign(tf.sub(p, tf.mul(tf.div(m1, tf.add(tf.div(tf.sqrt(v1), sqrtBc2), this.eps)), stepSize)));
      }
    });
  }

  getState(): AdamState {
    const m: Record<string, number[]> = {};
    const v: Record<string, number[]> = {};
    for (const [name, t] of this.m) m[name] = Array.from(t.dataSync());
    for (const [name, t] of this.v) v[name] = Array.from(t.dataSync());
    return { step: this.step, m, v };
  }

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

  dispose(): void {
    for (const t of this.m.values()) t.dispose();
    for (const t of this.v.values()) t.dispose();
    this.m.clear();
    this.v.clear();
  }
}
