/**
 * Observation features of the GANNO layer-LR environment: the training state they read and the
 * registry that turns it into one observation vector per agent.
 */

/** Aggregates of one layer (parameter group) over the last decision interval (K SGD steps). */
export interface LayerIntervalStats {
  /** Mean over the K steps of the L2 norm of the layer's loss gradient. */
  gradNormMean: number;
  /** L2 norm of the layer's weights after the interval (at reset: of the initial weights). */
  weightNorm: number;
  /** Mean over the K steps of the L2 norm of the applied update `w_t - w_{t+1}`. */
  updateNormMean: number;
  /** Mean over the K steps of the update sign agreement with the previous step, in [-1, 1]. */
  signAgreementMean: number;
}

/**
 * Everything a feature may read, updated by {@link LayerLrEnv} after every decision (and at reset).
 * Interval aggregates are NaN at reset (no SGD step yet); feature values that are not finite are
 * emitted as 0 and not used to update running statistics.
 */
export interface GannoTrainingState {
  /** Decisions taken so far in this episode (0 at reset). */
  t: number;
  /** Horizon T = totalSteps / K. */
  horizon: number;
  /** SGD steps per decision. */
  k: number;
  /** SGD steps taken so far. */
  sgdSteps: number;
  /** Number of agents N (parameter groups). */
  numAgents: number;
  /** Number of discrete actions. */
  numActions: number;
  /** Current LR per layer (the LR used in the last interval; at reset the initial LR). */
  lrs: number[];
  /** The episode's initial (reference) LR. */
  referenceLr: number;
  /** LR per layer after each decision: `lrHistory[t][i]`; `lrHistory[0]` holds the initial LRs. */
  lrHistory: number[][];
  /** Previous action per agent (at reset: the default action). */
  prevActions: Int32Array;
  /** Per-layer aggregates of the last interval. */
  layers: LayerIntervalStats[];
  /**
   * Per layer: EMA of log10(gradNormMean) over intervals *before* the last one (NaN until one
   * interval has been seen); updated as `ema = beta * ema + (1 - beta) * x` after features read it.
   */
  logGradNormEma: Float64Array;
  /** EMA (per SGD step, `lossEmaBeta`) of the training loss; NaN at reset. */
  trainLossEma: number;
  /** `trainLossEma` at the start of the last interval (NaN at reset / after the first interval's start). */
  trainLossEmaPrev: number;
  /** Mean training loss over the last interval. */
  trainLossMean: number;
  /** EMA (per SGD step) of the per-sample loss variance of the batches. */
  lossVarEma: number;
  /** Validation loss / accuracy on the episode's fixed validation set, after the last interval. */
  valLoss: number;
  valAccuracy: number;
  /** Validation loss after each decision, `valLossHistory[0]` at reset. */
  valLossHistory: number[];
  /** Training diverged (non-finite loss or weights). */
  diverged: boolean;
  /**
   * Whole-network aggregates of the last interval (set by {@link LayerLrEnv}; optional for
   * hand-built states): the gradient, update and weight norms of all parameters concatenated (per
   * step `sqrt(sum_i x_i^2)` over the layers, then the mean over the K steps) and the
   * parameter-count-weighted mean sign agreement. In the single global-LR mode (`control:
   * 'global'`) the agent's local features read these as its one "layer".
   */
  network?: LayerIntervalStats;
  /** EMA of log10(network.gradNormMean) over intervals before the last one (like {@link logGradNormEma}). */
  networkLogGradNormEma?: number;
}

/** How a feature's raw value is transformed before it enters the observation. */
export type FeatureNormalisation = 'none' | 'log' | 'running';

/**
 * One observation feature. `local` features give one value (or `size` values) per agent, `global`
 * ones the same value(s) for every agent. `normalisation`:
 * - `none`: the raw value;
 * - `log`: `log10(max(x, 1e-12))`;
 * - `running`: `(x - mean) / std` with a running mean/std per feature element (Welford, updated
 *   online from every finite value the env emits, all agents pooled, before that value itself is
 *   normalised), clipped to [-5, 5]. Warm-up:
 *   while fewer than `warmup` values (registry option, default 20) have been seen, the divisor is
 *   `max(std, 1)`, so early outputs are centred but not blown up by a tiny std.
 */
export interface FeatureDef {
  name: string;
  scope: 'local' | 'global';
  description: string;
  /** Values per agent (default 1). */
  size?: number;
  normalisation: FeatureNormalisation;
  /**
   * The feature describes one layer among several (e.g. its relative depth) and has no meaning
   * for the single global-LR agent: a registry with `control: 'global'` refuses it.
   */
  layerwiseOnly?: boolean;
  /** Raw value(s) from the state; `agent` is the agent index for local features (0 for global ones). */
  compute(state: GannoTrainingState, agent: number): number | ArrayLike<number>;
}

const LOG_FLOOR = 1e-12;
const lg = (x: number) => Math.log10(Math.max(x, LOG_FLOOR));

/** The spec's default local features, in observation order. */
export const DEFAULT_LOCAL_FEATURES: readonly FeatureDef[] = Object.freeze([
  {
    name: 'log_lr',
    scope: 'local',
    normalisation: 'none',
    description: 'log10 of the layer LR',
    compute: (s, i) => lg(s.lrs[i]),
  },
  {
    name: 'log_grad_norm',
    scope: 'local',
    normalisation: 'running',
    description: 'log10 of the layer gradient norm, mean over the K steps',
    compute: (s, i) => lg(s.layers[i].gradNormMean),
  },
  {
    name: 'log_weight_norm',
    scope: 'local',
    normalisation: 'running',
    description: 'log10 of the layer weight norm',
    compute: (s, i) => lg(s.layers[i].weightNorm),
  },
  {
    name: 'log_update_ratio',
    scope: 'local',
    normalisation: 'running',
    description: 'log10(mean update norm / weight norm); for plain SGD without decay = LR * |g| / |w|',
    compute: (s, i) => lg(s.layers[i].updateNormMean / s.layers[i].weightNorm),
  },
  {
    name: 'grad_norm_change',
    scope: 'local',
    normalisation: 'none',
    description: 'log10(gradNormMean) minus its EMA over earlier intervals (0 on the first interval)',
    compute: (s, i) => {
      const x = lg(s.layers[i].gradNormMean);
      const e = s.logGradNormEma[i];
      return Number.isNaN(s.layers[i].gradNormMean) ? NaN : Number.isFinite(e) ? x - e : 0;
    },
  },
  {
    name: 'grad_alignment',
    scope: 'local',
    normalisation: 'none',
    description: 'mean sign agreement of successive updates over the K steps, in [-1, 1]',
    compute: (s, i) => s.layers[i].signAgreementMean,
  },
  {
    name: 'prev_action',
    scope: 'local',
    normalisation: 'none',
    description: 'previous action index / (numActions - 1), in [0, 1]',
    compute: (s, i) => s.prevActions[i] / Math.max(1, s.numActions - 1),
  },
  {
    name: 'relative_depth',
    scope: 'local',
    normalisation: 'none',
    description: 'layer index / (N - 1), in [0, 1] (0 when N = 1)',
    compute: (s, i) => (s.numAgents > 1 ? i / (s.numAgents - 1) : 0),
    layerwiseOnly: true,
  },
] as FeatureDef[]);

/** The spec's default global features, in observation order (after the local ones). */
export const DEFAULT_GLOBAL_FEATURES: readonly FeatureDef[] = Object.freeze([
  {
    name: 'progress',
    scope: 'global',
    normalisation: 'none',
    description: 'training progress t / T',
    compute: (s) => s.t / s.horizon,
  },
  {
    name: 'log_train_loss',
    scope: 'global',
    normalisation: 'running',
    description: 'log10 of the training-loss EMA',
    compute: (s) => lg(s.trainLossEma),
  },
  {
    name: 'log_val_loss',
    scope: 'global',
    normalisation: 'running',
    description: 'log10 of the validation loss',
    compute: (s) => lg(s.valLoss),
  },
  {
    name: 'val_accuracy',
    scope: 'global',
    normalisation: 'none',
    description: 'validation accuracy in [0, 1]',
    compute: (s) => s.valAccuracy,
  },
  {
    name: 'train_loss_change',
    scope: 'global',
    normalisation: 'none',
    description: 'log10(trainLossEma) - log10(trainLossEma at the start of the interval)',
    compute: (s) => (Number.isFinite(s.trainLossEmaPrev) ? lg(s.trainLossEma) - lg(s.trainLossEmaPrev) : NaN),
  },
  {
    name: 'log_loss_variance',
    scope: 'global',
    normalisation: 'running',
    description: 'log10 of the EMA of the per-sample loss variance',
    compute: (s) => lg(s.lossVarEma),
  },
] as FeatureDef[]);

/** Names of every built-in feature (local then global). */
export const DEFAULT_FEATURE_NAMES: readonly string[] = Object.freeze(
  [...DEFAULT_LOCAL_FEATURES, ...DEFAULT_GLOBAL_FEATURES].map((f) => f.name),
);

/**
 * Default features of the single global-LR agent (`LayerLrEnv` with `control: 'global'`):
 * `log_lr` (of the one shared LR), `prev_action`, then every built-in global feature (8 values).
 * The other local built-ins except `relative_depth` may be added by name; in global mode they read
 * whole-network aggregates ({@link GannoTrainingState.network}), e.g. `log_grad_norm` is the
 * log10 norm of the full gradient.
 *
 * @example
 * ```ts
 * new LayerLrEnv({ control: 'global' }).features.names; // GLOBAL_AGENT_FEATURE_NAMES
 * ```
 */
export const GLOBAL_AGENT_FEATURE_NAMES: readonly string[] = Object.freeze([
  'log_lr',
  'prev_action',
  ...DEFAULT_GLOBAL_FEATURES.map((f) => f.name),
]);

/** Who the observations are for: one agent per layer (`layerwise`) or one agent for a shared LR (`global`). */
export type LrControl = 'layerwise' | 'global';

/**
 * A built-in feature by name (throws, listing the names, for an unknown one).
 *
 * @example
 * ```ts
 * builtinFeature('relative_depth').description; // 'layer index / (N - 1), in [0, 1] (0 when N = 1)'
 * ```
 */
export function builtinFeature(name: string): FeatureDef {
  const f = [...DEFAULT_LOCAL_FEATURES, ...DEFAULT_GLOBAL_FEATURES].find((d) => d.name === name);
  if (!f) throw new Error(`unknown feature "${name}"; built-in features: ${DEFAULT_FEATURE_NAMES.join(', ')}`);
  return f;
}

interface Running {
  count: Float64Array;
  mean: Float64Array;
  m2: Float64Array;
}

/**
 * An ordered set of named observation features with their normalisation state. The observation of
 * agent i is `[local features of i (registration order), global features (registration order)]`.
 * After `add`/`remove`/`replace`, `observationSize` changes at once; call `env.reset(seed)` before
 * stepping again and build the policy with the new `env.spec.observationSize`.
 *
 * @example
 * ```ts
 * const reg = new FeatureRegistry(); // default local + global features
 * reg.add({ name: 'lr_over_ref', scope: 'local', normalisation: 'log', description: 'LR / initial LR',
 *   compute: (s, i) => s.lrs[i] / s.referenceLr });
 * reg.remove('grad_alignment');
 * reg.observationSize; // 14
 * ```
 */
export class FeatureRegistry {
  private defs: FeatureDef[] = [];
  private running = new Map<string, Running>();
  /** Values seen before `running` features use their own std (see {@link FeatureDef}). */
  warmup: number;
  /** When true, running statistics are used but not updated (evaluation of a frozen policy). */
  frozen = false;
  /**
   * `layerwise` (default): observations of one agent per layer. `global`: observations of the
   * single global-LR agent; features marked {@link FeatureDef.layerwiseOnly} (`relative_depth`)
   * are refused. A policy records the control it was trained with; `PolicyController` checks it.
   */
  readonly control: LrControl;

  /**
   * `features`: names of built-in features or definitions; default all built-ins
   * ({@link GLOBAL_AGENT_FEATURE_NAMES} with `control: 'global'`).
   */
  constructor(features?: readonly (string | FeatureDef)[], options: { warmup?: number; control?: LrControl } = {}) {
    this.warmup = options.warmup ?? 20;
    if (!Number.isInteger(this.warmup) || this.warmup < 0)
      throw new Error(`FeatureRegistry: warmup must be a non-negative integer, got ${options.warmup}`);
    const control = options.control ?? 'layerwise';
    if (control !== 'layerwise' && control !== 'global')
      throw new Error(`FeatureRegistry: control must be 'layerwise' or 'global', got ${JSON.stringify(control)}`);
    this.control = control;
    if (features === undefined) features = control === 'global' ? GLOBAL_AGENT_FEATURE_NAMES : DEFAULT_FEATURE_NAMES;
    for (const f of features) this.add(typeof f === 'string' ? builtinFeature(f) : f);
  }

  /** The feature definitions in registration order. */
  get features(): readonly FeatureDef[] {
    return this.defs.slice();
  }

  /** Feature names in registration order. */
  get names(): string[] {
    return this.defs.map((d) => d.name);
  }

  /** Length of one agent's observation: sum of the sizes of all features. */
  get observationSize(): number {
    return this.defs.reduce((s, d) => s + (d.size ?? 1), 0);
  }

  /** Labels of the observation entries (`name` or `name[j]` for multi-valued features), in observation order. */
  get labels(): string[] {
    const out: string[] = [];
    for (const d of this.ordered()) {
      const n = d.size ?? 1;
      for (let j = 0; j < n; j++) out.push(n === 1 ? d.name : `${d.name}[${j}]`);
    }
    return out;
  }

  /** Adds a feature (a definition or a built-in name); throws if the name exists. */
  add(def: FeatureDef | string): this {
    const d = typeof def === 'string' ? builtinFeature(def) : def;
    this.validate(d);
    if (this.defs.some((e) => e.name === d.name))
      throw new Error(`FeatureRegistry.add: feature "${d.name}" already exists (use replace)`);
    this.defs.push(d);
    return this;
  }

  /** Removes a feature by name; throws if absent. */
  remove(name: string): this {
    const i = this.defs.findIndex((d) => d.name === name);
    if (i < 0) throw new Error(`FeatureRegistry.remove: no feature "${name}"; features: ${this.names.join(', ')}`);
    this.defs.splice(i, 1);
    this.running.delete(name);
    return this;
  }

  /** Replaces the feature `name` by `def` at the same position (its running statistics are reset). */
  replace(name: string, def: FeatureDef): this {
    const i = this.defs.findIndex((d) => d.name === name);
    if (i < 0) throw new Error(`FeatureRegistry.replace: no feature "${name}"; features: ${this.names.join(', ')}`);
    this.validate(def);
    if (def.name !== name && this.defs.some((e) => e.name === def.name))
      throw new Error(`FeatureRegistry.replace: feature "${def.name}" already exists`);
    this.defs[i] = def;
    this.running.delete(name);
    this.running.delete(def.name);
    return this;
  }

  /** Whether a feature of that name is registered. */
  has(name: string): boolean {
    return this.defs.some((d) => d.name === name);
  }

  /** Forgets all running mean/std statistics. */
  resetStatistics(): void {
    this.running.clear();
  }

  /** Running statistics of a `running` feature (count, mean, std per element), for inspection. */
  statistics(name: string): { count: number[]; mean: number[]; std: number[] } | undefined {
    const r = this.running.get(name);
    if (!r) return undefined;
    return {
      count: Array.from(r.count),
      mean: Array.from(r.mean),
      std: Array.from(r.m2, (m, j) => (r.count[j] > 1 ? Math.sqrt(m / r.count[j]) : 0)),
    };
  }

  /**
   * The running statistics as plain JSON (per feature: count, mean, M2 per element), to store
   * next to a policy checkpoint; {@link setStatisticsState} restores them exactly.
   */
  getStatisticsState(): Record<string, { count: number[]; mean: number[]; m2: number[] }> {
    const out: Record<string, { count: number[]; mean: number[]; m2: number[] }> = {};
    for (const [name, r] of this.running)
      out[name] = { count: Array.from(r.count), mean: Array.from(r.mean), m2: Array.from(r.m2) };
    return out;
  }

  /**
   * Restores {@link getStatisticsState} output (replaces all running statistics). Every entry must
   * name a registered feature and hold its size in values: statistics from another feature set
   * (a corrupt or foreign checkpoint) are refused instead of silently mis-normalising observations.
   */
  setStatisticsState(state: Record<string, { count: number[]; mean: number[]; m2: number[] }>): void {
    if (!state || typeof state !== 'object')
      throw new Error('FeatureRegistry.setStatisticsState: state must be an object');
    const next = new Map<string, Running>();
    for (const [name, r] of Object.entries(state)) {
      const k = r && Array.isArray(r.count) ? r.count.length : -1;
      if (k < 1 || !Array.isArray(r.mean) || !Array.isArray(r.m2) || r.mean.length !== k || r.m2.length !== k) {
        throw new Error(
          `FeatureRegistry.setStatisticsState: statistics of feature "${name}" must hold count, mean and m2 arrays of equal length`,
        );
      }
      const def = this.defs.find((d) => d.name === name);
      if (!def)
        throw new Error(
          `FeatureRegistry.setStatisticsState: statistics for "${name}", which is not a registered feature (registered: ${this.names.join(', ')})`,
        );
      if (k !== (def.size ?? 1))
        throw new Error(
          `FeatureRegistry.setStatisticsState: statistics of feature "${name}" hold ${k} values, the feature has size ${def.size ?? 1}`,
        );
      if ([...r.count, ...r.mean, ...r.m2].some((v) => typeof v !== 'number' || !Number.isFinite(v)))
        throw new Error(`FeatureRegistry.setStatisticsState: statistics of feature "${name}" hold non-finite values`);
      next.set(name, {
        count: Float64Array.from(r.count),
        mean: Float64Array.from(r.mean),
        m2: Float64Array.from(r.m2),
      });
    }
    this.running = next;
  }

  /** Raw (un-normalised) values of every feature for one agent, in observation order. */
  raw(state: GannoTrainingState, agent: number): Float64Array {
    const out = new Float64Array(this.observationSize);
    let o = 0;
    for (const d of this.ordered()) {
      const v = this.computeOne(d, state, agent);
      out.set(v, o);
      o += v.length;
    }
    return out;
  }

  /**
   * Observations of all agents (normalised; non-finite values become 0). Updates the running
   * statistics with this call's finite values (all agents) unless {@link frozen}.
   */
  observe(state: GannoTrainingState): Float32Array[] {
    const n = state.numAgents;
    const size = this.observationSize;
    const obs = Array.from({ length: n }, () => new Float32Array(size));
    let o = 0;
    for (const d of this.ordered()) {
      const k = d.size ?? 1;
      const rows =
        d.scope === 'global'
          ? [this.computeOne(d, state, 0)]
          : Array.from({ length: n }, (_, i) => this.computeOne(d, state, i));
      if (d.normalisation === 'running' && !this.frozen) this.update(d.name, k, rows);
      const stats = d.normalisation === 'running' ? this.running.get(d.name) : undefined;
      for (let i = 0; i < n; i++) {
        const row = d.scope === 'global' ? rows[0] : rows[i];
        for (let j = 0; j < k; j++) obs[i][o + j] = this.normalise(d.normalisation, row[j], stats, j);
      }
      o += k;
    }
    return obs;
  }

  private ordered(): FeatureDef[] {
    return [...this.defs.filter((d) => d.scope === 'local'), ...this.defs.filter((d) => d.scope === 'global')];
  }

  private computeOne(d: FeatureDef, state: GannoTrainingState, agent: number): Float64Array {
    const v = d.compute(state, agent);
    const k = d.size ?? 1;
    const arr = typeof v === 'number' ? Float64Array.of(v) : Float64Array.from(v);
    if (arr.length !== k)
      throw new Error(`feature "${d.name}": compute returned ${arr.length} values, its size is ${k}`);
    return arr;
  }

  private update(name: string, k: number, rows: Float64Array[]): void {
    let r = this.running.get(name);
    if (!r) {
      r = { count: new Float64Array(k), mean: new Float64Array(k), m2: new Float64Array(k) };
      this.running.set(name, r);
    }
    for (const row of rows) {
      for (let j = 0; j < k; j++) {
        const x = row[j];
        if (!Number.isFinite(x)) continue;
        r.count[j] += 1;
        const delta = x - r.mean[j];
        r.mean[j] += delta / r.count[j];
        r.m2[j] += delta * (x - r.mean[j]);
      }
    }
  }

  private normalise(kind: FeatureNormalisation, x: number, stats: Running | undefined, j: number): number {
    if (!Number.isFinite(x)) return 0;
    if (kind === 'none') return x;
    if (kind === 'log') return Math.log10(Math.max(x, LOG_FLOOR));
    if (!stats || stats.count[j] === 0) return 0;
    const c = stats.count[j];
    const std = Math.sqrt(stats.m2[j] / c);
    const div = c < this.warmup ? Math.max(std, 1) : Math.max(std, 1e-8);
    return Math.min(5, Math.max(-5, (x - stats.mean[j]) / div));
  }

  private validate(d: FeatureDef): void {
    if (!d || typeof d !== 'object') throw new Error('feature definition must be an object');
    if (typeof d.name !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(d.name))
      throw new Error(`feature name must be a non-empty identifier ([A-Za-z0-9_.-]), got ${JSON.stringify(d.name)}`);
    if (d.scope !== 'local' && d.scope !== 'global')
      throw new Error(`feature "${d.name}": scope must be 'local' or 'global', got ${JSON.stringify(d.scope)}`);
    if (!['none', 'log', 'running'].includes(d.normalisation))
      throw new Error(
        `feature "${d.name}": normalisation must be 'none', 'log' or 'running', got ${JSON.stringify(d.normalisation)}`,
      );
    if (typeof d.compute !== 'function')
      throw new Error(`feature "${d.name}": compute must be a function (state, agent) => number | number[]`);
    if (typeof d.description !== 'string' || d.description.length === 0)
      throw new Error(`feature "${d.name}": description must be a non-empty string`);
    if (d.size !== undefined && !(Number.isInteger(d.size) && d.size >= 1))
      throw new Error(`feature "${d.name}": size must be a positive integer, got ${d.size}`);
    if (this.control === 'global' && d.layerwiseOnly) {
      throw new Error(
        `feature "${d.name}" is layer-specific (${d.description}) and has no meaning for the single global-LR agent (control: 'global'); remove it, or use a layerwise env. Local features in global mode read whole-network aggregates (the network as one layer).`,
      );
    }
  }
}
