import { z, parseConfig } from '../config';

/**
 * Per-layer statistics a layerwise trainer hands to a {@link LayerwiseRule} each step. Which fields
 * are needed depends on the rule: LARS reads `weightNorm` and `gradNorm`; hypergradient descent reads
 * `gradDotPrev`, or `grad` (then the rule keeps the previous gradient itself).
 */
export interface LayerStats {
  /** L2 norm of the layer's weights `||w_i||`. */
  weightNorm?: number;
  /** L2 norm of the layer's gradient `||g_i||`. */
  gradNorm?: number;
  /** The layer's flattened gradient at this step (copied by rules that need it later). */
  grad?: ArrayLike<number>;
  /** `g_t · g_{t-1}` for this layer, if the trainer computes it (takes precedence over `grad`). */
  gradDotPrev?: number;
}

/**
 * A stateful per-layer learning-rate controller: each training step the trainer computes the layer
 * statistics, calls `update(stats)` (one entry per layer, in layer order) and applies the returned
 * LR to each layer's update.
 *
 * @example
 * ```ts
 * const rule: LayerwiseRule = new HypergradientRule({ initialLr: [0.01, 0.01], beta: 1e-3 });
 * for (const batch of batches) {
 *   const grads = computeGrads(batch); // one flattened gradient per layer
 *   const lrs = rule.update(grads.map((g) => ({ grad: g })));
 *   applySgd(grads, lrs);
 * }
 * ```
 */
export interface LayerwiseRule {
  readonly kind: string;
  /** The LRs returned by the last update (the initial LRs before the first). */
  readonly lrs: number[];
  /** Consumes this step's per-layer statistics and returns this step's per-layer LRs. */
  update(stats: readonly LayerStats[]): number[];
  /** Serialisable state. */
  stateDict(): Record<string, unknown>;
  /** Restores `stateDict()` output. */
  loadStateDict(state: Record<string, unknown>): void;
}

function finiteNonNeg(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    throw new Error(`${what} must be a finite number >= 0, got ${String(v)}`);
  return v;
}

/** Options of the LARS trust ratio. */
export interface LarsOptions {
  /** Trust coefficient eta (default 0.001, You et al. 2017). */
  eta?: number;
  /** Weight decay in the denominator (default 0). */
  weightDecay?: number;
  /** Added to the denominator (default 1e-8). */
  eps?: number;
  /** Clip the trust ratio at 1 (LARC "clip" mode: the layer LR never exceeds the base LR). Default false. */
  clip?: boolean;
}

const LarsOptionsSchema = z
  .object({
    eta: z.number().positive().finite().default(0.001),
    weightDecay: z.number().nonnegative().finite().default(0),
    eps: z.number().nonnegative().finite().default(1e-8),
    clip: z.boolean().default(false),
  })
  .strict();

/**
 * LARS trust ratio of one layer: `eta * ||w|| / (||g|| + weightDecay * ||w|| + eps)`, or 1 when
 * either norm is zero (fresh zero-initialised layers and zero gradients keep the base LR).
 *
 * @example
 * ```ts
 * larsTrustRatio(2, 0.5, { eta: 0.01 }); // 0.01 * 2 / (0.5 + 1e-8) ≈ 0.04
 * larsTrustRatio(0, 0.5); // 1
 * ```
 */
export function larsTrustRatio(weightNorm: number, gradNorm: number, opts: LarsOptions = {}): number {
  const o = parseConfig(LarsOptionsSchema, opts, 'LARS options');
  return trust(
    finiteNonNeg(weightNorm, 'larsTrustRatio: weightNorm'),
    finiteNonNeg(gradNorm, 'larsTrustRatio: gradNorm'),
    o,
  );
}

function trust(w: number, g: number, o: Required<LarsOptions>): number {
  if (!(w > 0 && g > 0)) return 1;
  const r = (o.eta * w) / (g + o.weightDecay * w + o.eps);
  return o.clip ? Math.min(r, 1) : r;
}

/**
 * Per-layer LARS learning rates `lr_i = baseLr_i * trustRatio_i` from per-layer weight and gradient
 * norms. Pure function.
 *
 * @example
 * ```ts
 * larsLearningRates([{ weightNorm: 2, gradNorm: 0.5 }, { weightNorm: 1, gradNorm: 4 }], 0.1, { eta: 0.01, eps: 0 });
 * // [0.1 * 0.04, 0.1 * 0.0025] = [0.004, 0.00025]
 * ```
 */
export function larsLearningRates(
  stats: readonly LayerStats[],
  baseLr: number | readonly number[],
  opts: LarsOptions = {},
): number[] {
  const o = parseConfig(LarsOptionsSchema, opts, 'LARS options');
  if (!Array.isArray(stats) || stats.length === 0)
    throw new Error('larsLearningRates: stats must be a non-empty array (one entry per layer)');
  const base = typeof baseLr === 'number' ? new Array<number>(stats.length).fill(baseLr) : [...baseLr];
  if (base.length !== stats.length)
    throw new Error(`larsLearningRates: ${base.length} base LRs for ${stats.length} layers`);
  return stats.map((s, i) => {
    const b = finiteNonNeg(base[i], `larsLearningRates: baseLr[${i}]`);
    const w = finiteNonNeg(s?.weightNorm, `larsLearningRates: layer ${i} weightNorm`);
    const g = finiteNonNeg(s?.gradNorm, `larsLearningRates: layer ${i} gradNorm`);
    return b * trust(w, g, o);
  });
}

/**
 * {@link larsLearningRates} as a {@link LayerwiseRule} (stateless apart from the base LRs).
 *
 * @example
 * ```ts
 * const lars = new LarsRule([0.1, 0.1, 0.1], { eta: 0.001, weightDecay: 5e-4 });
 * const lrs = lars.update(layers.map((l) => ({ weightNorm: l.wNorm, gradNorm: l.gNorm })));
 * ```
 */
export class LarsRule implements LayerwiseRule {
  readonly kind = 'LarsRule';
  readonly baseLrs: number[];
  private readonly opts: Required<LarsOptions>;
  private current: number[];

  constructor(baseLrs: readonly number[], opts: LarsOptions = {}) {
    if (!Array.isArray(baseLrs) || baseLrs.length === 0)
      throw new Error('LarsRule: baseLrs must be a non-empty array (one per layer)');
    this.baseLrs = baseLrs.map((b, i) => finiteNonNeg(b, `LarsRule: baseLrs[${i}]`));
    this.opts = parseConfig(LarsOptionsSchema, opts, 'LARS options');
    this.current = [...this.baseLrs];
  }

  get lrs(): number[] {
    return [...this.current];
  }

  update(stats: readonly LayerStats[]): number[] {
    if (!Array.isArray(stats) || stats.length !== this.baseLrs.length) {
      throw new Error(
        `LarsRule.update: expected stats for ${this.baseLrs.length} layers, got ${Array.isArray(stats) ? stats.length : typeof stats}`,
      );
    }
    this.current = larsLearningRates(stats, this.baseLrs, this.opts);
    return this.lrs;
  }

  stateDict(): Record<string, unknown> {
    return { kind: this.kind, lrs: [...this.current] };
  }

  loadStateDict(state: Record<string, unknown>): void {
    const lrs = state?.lrs;
    if (state?.kind !== this.kind || !Array.isArray(lrs) || lrs.length !== this.baseLrs.length) {
      throw new Error(`LarsRule.loadStateDict: expected { kind: 'LarsRule', lrs: [${this.baseLrs.length} numbers] }`);
    }
    this.current = lrs.map((v, i) => finiteNonNeg(v, `LarsRule.loadStateDict: lrs[${i}]`));
  }
}

/** Config of {@link HypergradientRule}. */
export interface HypergradientConfig {
  /** Initial LR alpha_0, one value or one per layer. */
  initialLr: number | number[];
  /** Hypergradient learning rate beta (> 0). */
  beta: number;
  /** Number of layers (needed when `initialLr` is a single number). */
  layers?: number;
  /** Lower clamp of alpha (default 0: a learning rate never turns negative). */
  minLr?: number;
  /** Upper clamp of alpha (default Infinity: no clamp). */
  maxLr?: number;
}

const HdSchema = z
  .object({
    initialLr: z.union([z.number().finite().nonnegative(), z.array(z.number().finite().nonnegative()).min(1)]),
    beta: z.number().positive().finite(),
    layers: z.number().int().positive().optional(),
    minLr: z.number().default(0),
    maxLr: z.number().default(Infinity),
  })
  .strict()
  .refine((c) => c.minLr <= c.maxLr, { message: 'minLr must be <= maxLr', path: ['minLr'] });

/**
 * Per-layer hypergradient descent for SGD (Baydin et al. 2018, "Online Learning Rate Adaptation with
 * Hypergradient Descent"): each layer's LR follows `alpha_t = alpha_{t-1} + beta * g_t · g_{t-1}`
 * (the negative hypergradient of the loss with respect to that layer's LR), clamped to
 * `[minLr, maxLr]`. The first update (no previous gradient) returns the initial LRs.
 *
 * Give either `grad` per layer (the rule keeps a float64 copy for the next step) or `gradDotPrev`.
 *
 * @example
 * ```ts
 * const hd = new HypergradientRule({ initialLr: 0.01, layers: 2, beta: 0.001 });
 * hd.update([{ grad: [1, 0] }, { grad: [2] }]); // [0.01, 0.01]
 * hd.update([{ grad: [3, 1] }, { grad: [-1] }]); // [0.01 + 0.001 * 3, 0.01 - 0.001 * 2] = [0.013, 0.008]
 * ```
 */
export class HypergradientRule implements LayerwiseRule {
  readonly kind = 'HypergradientRule';
  readonly beta: number;
  readonly minLr: number;
  readonly maxLr: number;
  private alpha: number[];
  private prev: (Float64Array | undefined)[];
  private steps = 0;

  constructor(config: HypergradientConfig) {
    const c = parseConfig(HdSchema, config, 'HypergradientRule config');
    let init: number[];
    if (typeof c.initialLr === 'number') {
      if (c.layers === undefined)
        throw new Error('HypergradientRule config: layers: required when initialLr is a single number');
      init = new Array<number>(c.layers).fill(c.initialLr);
    } else {
      if (c.layers !== undefined && c.layers !== c.initialLr.length) {
        throw new Error(
          `HypergradientRule config: layers (${c.layers}) does not match initialLr length (${c.initialLr.length})`,
        );
      }
      init = [...c.initialLr];
    }
    this.beta = c.beta;
    this.minLr = c.minLr;
    this.maxLr = c.maxLr;
    this.alpha = init.map((a) => Math.min(Math.max(a, this.minLr), this.maxLr));
    this.prev = init.map(() => undefined);
  }

  get lrs(): number[] {
    return [...this.alpha];
  }

  /** Number of updates so far. */
  get updates(): number {
    return this.steps;
  }

  update(stats: readonly LayerStats[]): number[] {
    const n = this.alpha.length;
    if (!Array.isArray(stats) || stats.length !== n) {
      throw new Error(
        `HypergradientRule.update: expected stats for ${n} layers, got ${Array.isArray(stats) ? stats.length : typeof stats}`,
      );
    }
    stats.forEach((s, i) => {
      let dot: number | undefined;
      if (s?.gradDotPrev !== undefined) {
        if (typeof s.gradDotPrev !== 'number' || Number.isNaN(s.gradDotPrev)) {
          throw new Error(
            `HypergradientRule.update: layer ${i} gradDotPrev must be a number, got ${String(s.gradDotPrev)}`,
          );
        }
        dot = this.steps > 0 ? s.gradDotPrev : undefined;
      } else if (s?.grad !== undefined) {
        const g = s.grad;
        const p = this.prev[i];
        if (p) {
          if (p.length !== g.length)
            throw new Error(
              `HypergradientRule.update: layer ${i} gradient has ${g.length} elements, previous step had ${p.length}`,
            );
          let d = 0;
          for (let k = 0; k < g.length; k++) d += g[k] * p[k];
          dot = d;
        }
        this.prev[i] = Float64Array.from(g);
      } else {
        throw new Error(`HypergradientRule.update: layer ${i} needs 'grad' or 'gradDotPrev'`);
      }
      // A non-finite dot (diverged gradients) leaves the LR unchanged rather than poisoning it.
      if (dot !== undefined && Number.isFinite(dot)) {
        this.alpha[i] = Math.min(Math.max(this.alpha[i] + this.beta * dot, this.minLr), this.maxLr);
      }
    });
    this.steps++;
    return this.lrs;
  }

  stateDict(): Record<string, unknown> {
    return {
      kind: this.kind,
      alpha: [...this.alpha],
      steps: this.steps,
      prev: this.prev.map((p) => (p ? Array.from(p) : null)),
    };
  }

  loadStateDict(state: Record<string, unknown>): void {
    const n = this.alpha.length;
    const { alpha, prev, steps } = state ?? {};
    if (
      state?.kind !== this.kind ||
      !Array.isArray(alpha) ||
      alpha.length !== n ||
      !Array.isArray(prev) ||
      prev.length !== n ||
      !Number.isInteger(steps)
    ) {
      throw new Error(
        `HypergradientRule.loadStateDict: expected { kind: 'HypergradientRule', alpha: [${n}], prev: [${n}], steps: integer }`,
      );
    }
    this.alpha = alpha.map((v, i) => {
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new Error(`HypergradientRule.loadStateDict: alpha[${i}] must be finite`);
      return v;
    });
    this.prev = prev.map((p) => (Array.isArray(p) ? Float64Array.from(p as number[]) : undefined));
    this.steps = steps as number;
  }
}
