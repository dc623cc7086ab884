/**
 * Learning-rate controllers: one interface for everything that sets per-layer learning rates
 * during a GANNO training run (a frozen GANNO policy, a `src/schedules` schedule, the LARS rule,
 * a constant), so agents and baselines are evaluated by the same code (`evaluate.ts`).
 */
import type { ActorCritic } from '../marl/policy';
import { PolicyActor } from '../marl/rollout';
import { TUNING_FREE_OPTIMIZERS } from '../nn';
import type { StepMetrics, TuningFreeOptimizer, TuningFreeOptions } from '../nn';
import { Rng, deriveSeed } from '../random';
import { HypergradientRule, createSchedule, larsLearningRates } from '../schedules';
import type { CosineAnnealingLRConfig, LarsOptions, OneCycleLRConfig, Schedule, ScheduleSpec } from '../schedules';
import type { ActionSet } from './actions';
import type { FeatureRegistry } from './features';

/** What a controller learns about a run at {@link LrController.reset}. */
export interface ControllerTaskInfo {
  /** Number of layers (agents, parameter groups). */
  numLayers: number;
  /** The task's initial (reference) learning rate. */
  initialLr: number;
  /** SGD steps in the run. */
  totalSteps: number;
  /** SGD steps per decision K. */
  k: number;
  /** Task seed of the run (seeds a sampling policy, so runs are reproducible). */
  seed: number;
  /** The task's optimiser and weight decay (rules that assume plain SGD check them). */
  optimizer?: 'sgd' | 'momentum' | 'adam';
  weightDecay?: number;
}

/** What a controller sees when it decides. */
export interface DecisionInput {
  /** SGD steps taken so far in the run. */
  sgdStep: number;
  /** Per-layer LRs used in the last interval (at the start: the initial LRs). */
  lrs: number[];
  /** Latest validation loss (measured every K steps; at the start: of the initial network). */
  valLoss: number;
  /** Observations from {@link LayerLrEnv} (`interval: 'decision'` controllers only). */
  observations?: Float32Array[];
  /** Metrics of the previous SGD step (`interval: 'step'` controllers; undefined before the first). */
  last?: StepMetrics;
  /**
   * Per layer `u_t · u_{t-1}` of the last two applied updates `u = w_before - w_after` (flattened
   * over the layer's variables), for controllers with `needsUpdateDots`; undefined until two steps ran.
   */
  updateDots?: number[];
}

/**
 * Something that sets per-layer learning rates during a training run. `interval: 'decision'`
 * controllers (GANNO policies) are called every K SGD steps with the environment's observations
 * and their LRs hold for the next K steps; `interval: 'step'` controllers (schedules, LARS) are
 * called before every SGD step and their LRs hold for that step.
 *
 * @example
 * ```ts
 * const c = scheduleController({ type: 'cosine', tMax: 400 }, { peakLr: 0.1 });
 * c.reset({ numLayers: 3, initialLr: 0.05, totalSteps: 400, k: 10, seed: 1 });
 * c.decide({ sgdStep: 0, lrs: [0.05, 0.05, 0.05], valLoss: 2.3 }); // [0.1, 0.1, 0.1]
 * ```
 */
export interface LrController {
  readonly name: string;
  readonly interval: 'decision' | 'step';
  /** Starts a new run. */
  reset(info: ControllerTaskInfo): void;
  /** Per-layer LRs for the next K steps (`decision`) or the next step (`step`). */
  decide(input: DecisionInput): number[];
  /** For policy controllers: the env action per agent behind the last decision. */
  readonly lastActions?: Int32Array;
  /** Step controllers that read {@link DecisionInput.updateDots} (costs one extra reduction per step). */
  readonly needsUpdateDots?: boolean;
  /** Prepares an evaluation environment (feature set and frozen statistics) before its episodes. */
  prepareEnv?(features: FeatureRegistry): void;
  /**
   * The optimiser the run trains with instead of the task's (tuning-free baselines); its LRs are
   * then that optimiser's multipliers. Step controllers only.
   */
  readonly trainerOptimizer?: {
    optimizer: TuningFreeOptimizer;
    tuningFree?: TuningFreeOptions;
    decoupledWeightDecay?: boolean;
  };
}

/** Plain-JSON running feature statistics (see `FeatureRegistry.getStatisticsState`). */
export type FeatureStatisticsState = Record<string, { count: number[]; mean: number[]; m2: number[] }>;

/** Options of {@link PolicyController}. */
export interface PolicyControllerOptions {
  /** Action set the policy was trained with (the env's `actionSet`). */
  actionSet: ActionSet;
  /** Most probable action (default) or sample from the policy. */
  greedy?: boolean;
  /** Feature names the policy was trained on (checked against the eval env's registry). */
  featureNames?: string[];
  /** Running feature statistics the policy was trained with (loaded and frozen in the eval env). */
  featureStatistics?: FeatureStatisticsState;
  /**
   * Control mode the policy was trained with (`layerwise`: one agent per layer; `global`: one
   * agent for a shared LR); when given, the eval env's mode must match (checked in `prepareEnv`).
   */
  control?: 'layerwise' | 'global';
  name?: string;
}

/**
 * A frozen GANNO policy as a controller: each decision feeds all agents' observations through the
 * policy in one batched forward (the GRU hidden state carried across decisions, reset per run),
 * takes the greedy or a sampled action per agent and returns the LRs the action set gives. A
 * sampling controller draws from an `Rng` seeded by the task seed, so runs are reproducible.
 * A policy of the single global-LR agent (`control: 'global'`) runs the same way in an env with
 * `control: 'global'` (one agent, one observation, one LR for every layer); `options.control`
 * makes a mode mismatch a clear error.
 *
 * @example
 * ```ts
 * const c = new PolicyController(loadPolicy('runs/ganno/best'), { actionSet: env.actionSet, greedy: true });
 * ```
 */
export class PolicyController implements LrController {
  readonly name: string;
  readonly interval = 'decision' as const;
  readonly greedy: boolean;
  lastActions: Int32Array = new Int32Array(0);
  private readonly actor: PolicyActor;
  private info: ControllerTaskInfo | null = null;

  constructor(
    readonly policy: ActorCritic,
    readonly options: PolicyControllerOptions,
  ) {
    this.greedy = options.greedy ?? true;
    this.name = options.name ?? `ganno-${this.greedy ? 'greedy' : 'sampled'}`;
    this.actor = new PolicyActor(policy, { greedy: this.greedy });
  }

  prepareEnv(features: FeatureRegistry): void {
    const control = this.options.control;
    if (control !== undefined && control !== features.control) {
      const what = (c: string) =>
        c === 'global'
          ? "control 'global' (one agent setting one LR shared by all layers)"
          : "control 'layerwise' (one agent per layer)";
      throw new Error(
        `PolicyController ${this.name}: the policy was trained with ${what(control)} but the environment uses ${what(features.control)}; evaluate it with env config { control: '${control}' }`,
      );
    }
    const want = this.options.featureNames;
    if (want && want.join(',') !== features.names.join(',')) {
      throw new Error(
        `PolicyController ${this.name}: the policy was trained on features [${want.join(', ')}] but the environment has [${features.names.join(', ')}]`,
      );
    }
    if (this.options.featureStatistics) features.setStatisticsState(this.options.featureStatistics);
    features.frozen = true;
  }

  reset(info: ControllerTaskInfo): void {
    this.info = info;
    this.actor.reset(info.numLayers, new Rng(deriveSeed(info.seed, 'policy-controller-sampling')));
    this.lastActions = new Int32Array(info.numLayers);
  }

  decide(input: DecisionInput): number[] {
    const info = this.info;
    if (!info) throw new Error(`PolicyController ${this.name}: call reset() before decide()`);
    const obs = input.observations;
    if (!obs || obs.length !== info.numLayers)
      throw new Error(
        `PolicyController ${this.name}: needs one observation per layer (${info.numLayers}), got ${obs ? obs.length : 'none'}`,
      );
    const O = this.policy.config.observationSize;
    obs.forEach((o, i) => {
      if (o.length !== O)
        throw new Error(
          `PolicyController ${this.name}: observation of layer ${i} has ${o.length} values, the policy expects ${O}`,
        );
    });
    // The one greedy/sampled policy step (src/marl PolicyActor), shared with GANNO's validation runs.
    this.lastActions = this.actor.act(obs);
    const lrs = Array.from(this.lastActions, (a, i) => this.options.actionSet.apply(input.lrs[i], a, info.initialLr));
    return lrs;
  }
}

/**
 * A schedule spec for a run: any `ScheduleSpec`, where `cosine.tMax` and `onecycle.totalSteps` /
 * `maxLr` may be left out (filled from the run: its SGD steps and the peak LR).
 *
 * @example
 * ```ts
 * const spec: RunScheduleSpec = { type: 'cosine', etaMin: 1e-4 };
 * ```
 */
export type RunScheduleSpec =
  | ScheduleSpec
  | ({ type: 'cosine' } & Partial<CosineAnnealingLRConfig>)
  | ({ type: 'onecycle' } & Partial<OneCycleLRConfig>);

/** Options of {@link scheduleController}. */
export interface ScheduleControllerOptions {
  /** Peak (base) LR of every layer; default the task's initial LR. For `onecycle` it sets `maxLr`. */
  peakLr?: number;
  name?: string;
}

/**
 * Fills run-length fields a schedule spec may leave out: `cosine.tMax`, `onecycle.totalSteps`
 * (default: the run's SGD steps), and `onecycle.maxLr` from `peakLr`.
 */
function resolveSpec(spec: RunScheduleSpec, info: ControllerTaskInfo, peakLr: number | undefined): ScheduleSpec {
  const s = { ...spec } as Record<string, unknown>;
  if (s.type === 'cosine' && s.tMax === undefined) s.tMax = info.totalSteps;
  if (s.type === 'onecycle') {
    if (s.totalSteps === undefined && s.epochs === undefined) s.totalSteps = info.totalSteps;
    if (peakLr !== undefined) s.maxLr = peakLr;
    else if (s.maxLr === undefined) s.maxLr = info.initialLr;
  }
  return s as unknown as ScheduleSpec;
}

/**
 * A `src/schedules` schedule (given as data) as a controller, stepped once per SGD step with
 * PyTorch semantics: the LR of step 0 is the schedule's initial `lastLr`, and `step()` is called
 * after every SGD step. `plateau` (ReduceLROnPlateau) is stepped once per decision interval with
 * the validation loss, as PyTorch steps it once per validation. `cosine.tMax` and
 * `onecycle.totalSteps` default to the run's SGD steps.
 *
 * @example
 * ```ts
 * const cos = scheduleController({ type: 'cosine', etaMin: 0 }, { peakLr: 0.1 }); // tMax = run length
 * const step = scheduleController({ type: 'step', stepSize: 100, gamma: 0.5 });    // from the task's initial LR
 * ```
 */
export function scheduleController(spec: RunScheduleSpec, options: ScheduleControllerOptions = {}): LrController {
  if (spec === null || typeof spec !== 'object' || typeof (spec as { type?: unknown }).type !== 'string')
    throw new Error('scheduleController: spec must be an object with a type');
  if (options.peakLr !== undefined && !(Number.isFinite(options.peakLr) && options.peakLr > 0))
    throw new Error(`scheduleController: peakLr must be a positive number, got ${options.peakLr}`);
  let schedule: Schedule | null = null;
  let info: ControllerTaskInfo | null = null;
  let lastMetricStep = 0;
  return {
    name: options.name ?? (options.peakLr !== undefined ? `${spec.type}@${options.peakLr}` : spec.type),
    interval: 'step',
    reset(i: ControllerTaskInfo) {
      info = i;
      const base = options.peakLr ?? i.initialLr;
      schedule = createSchedule(resolveSpec(spec, i, options.peakLr), new Array<number>(i.numLayers).fill(base));
      lastMetricStep = 0;
    },
    decide(input: DecisionInput) {
      if (!schedule || !info) throw new Error(`scheduleController ${spec.type}: call reset() before decide()`);
      if (spec.type === 'plateau') {
        if (input.sgdStep > 0 && input.sgdStep % info.k === 0 && input.sgdStep !== lastMetricStep) {
          schedule.step(input.valLoss);
          lastMetricStep = input.sgdStep;
        }
      } else if (input.sgdStep > 0) {
        schedule.step();
      }
      return schedule.lastLr;
    },
  };
}

/**
 * A tuning-free optimiser as a baseline: the run trains with `optimizer` (DoG, LDoG, per-layer DoG,
 * Prodigy, D-Adaptation SGD, Schedule-Free SGD; `src/nn/tuning-free.ts`) at its default settings
 * instead of the task's optimiser, with a constant step multiplier `lr` (default 1: no tuning) for
 * every layer; nothing is tuned on the training tasks. DoG, LDoG, D-Adaptation and Prodigy set
 * their own step size; Schedule-Free removes the schedule but not the step size (1 is its
 * reference default, normally tuned).
 *
 * @example
 * ```ts
 * runController(tuningFreeController('dog'), 7, { env: envConfig });
 * ```
 */
export function tuningFreeController(
  optimizer: TuningFreeOptimizer,
  options: { lr?: number; name?: string; tuningFree?: TuningFreeOptions } = {},
): LrController {
  if (!(TUNING_FREE_OPTIMIZERS as readonly string[]).includes(optimizer))
    throw new Error(
      `tuningFreeController: optimizer must be one of ${TUNING_FREE_OPTIMIZERS.join(', ')}, got ${JSON.stringify(optimizer)}`,
    );
  const lr = options.lr ?? 1;
  if (!(Number.isFinite(lr) && lr > 0))
    throw new Error(`tuningFreeController: lr (the step multiplier) must be a positive number, got ${lr}`);
  let layers = 0;
  return {
    name: options.name ?? optimizer,
    interval: 'step',
    // Prodigy's reference decouples weight decay; the others couple it (as their references).
    trainerOptimizer: { optimizer, tuningFree: options.tuningFree, decoupledWeightDecay: optimizer === 'prodigy' },
    reset: (info) => void (layers = info.numLayers),
    decide: () => new Array<number>(layers).fill(lr),
  };
}

/**
 * A constant LR for every layer (the task's initial LR, or `lr`).
 *
 * @example
 * ```ts
 * const c = constantController(0.05); // name 'constant@0.05'
 * ```
 */
export function constantController(lr?: number): LrController {
  return scheduleController(
    { type: 'constant' },
    { peakLr: lr, name: lr === undefined ? 'constant' : `constant@${lr}` },
  );
}

/**
 * The "always keep" decision controller: every agent takes the keep action at every decision, in
 * the environment, so its LRs pass through the same action set and clip as a policy's. It is the
 * control row of the robustness grid: whatever an agent gains over a baseline only because the
 * clip moved a far-off initial LR into range, "always keep" gains too.
 *
 * @example
 * ```ts
 * const keep = keepController(new LayerLrEnv(envConfig).actionSet);
 * runController(keep, 7, { env: envConfig });
 * ```
 */
export function keepController(actionSet: ActionSet): LrController {
  let info: ControllerTaskInfo | null = null;
  const c: LrController & { lastActions: Int32Array } = {
    name: 'always keep',
    interval: 'decision',
    lastActions: new Int32Array(0),
    reset(i) {
      info = i;
    },
    decide(input) {
      if (!info) throw new Error('keepController.decide: call reset first');
      const ref = info.initialLr;
      c.lastActions = Int32Array.from(input.lrs, (lr) => actionSet.defaultAction(lr, ref));
      return input.lrs.map((lr, i) => actionSet.apply(lr, c.lastActions[i], ref));
    },
  };
  return c;
}

/** Options of {@link larsController}. */
export interface LarsControllerOptions extends LarsOptions {
  /** Base LR of every layer; default the task's initial LR. */
  peakLr?: number;
  name?: string;
}

/**
 * The LARS trust-ratio rule as a controller: layer i's LR for the next step is
 * `base * eta * ||w_i|| / (||g_i|| + wd ||w_i|| + eps)` (see `larsLearningRates`). `||w_i||` is
 * the current weight norm (exact); `||g_i||` is the gradient norm of the *previous* SGD step — the
 * layerwise trainer applies the LR inside its step, so the current batch's gradient is not known
 * before it (a one-step lag; the first step uses the base LR).
 *
 * @example
 * ```ts
 * const lars = larsController({ eta: 0.02, peakLr: 1 });
 * ```
 */
export function larsController(options: LarsControllerOptions = {}): LrController {
  const { peakLr, name, ...lars } = options;
  if (peakLr !== undefined && !(Number.isFinite(peakLr) && peakLr > 0))
    throw new Error(`larsController: peakLr must be a positive number, got ${peakLr}`);
  let base = NaN;
  let n = 0;
  return {
    name: name ?? (peakLr !== undefined ? `lars@${peakLr}` : 'lars'),
    interval: 'step',
    reset(i: ControllerTaskInfo) {
      base = peakLr ?? i.initialLr;
      n = i.numLayers;
    },
    decide(input: DecisionInput) {
      if (!Number.isFinite(base)) throw new Error('larsController: call reset() before decide()');
      const m = input.last;
      if (!m || m.diverged) return new Array<number>(n).fill(base);
      return larsLearningRates(
        Array.from({ length: n }, (_, i) => ({ weightNorm: m.weightNorms[i], gradNorm: m.gradNorms[i] })),
        base,
        lars,
      );
    },
  };
}

/** Options of {@link hypergradientController}. */
export interface HypergradientControllerOptions {
  /** Hypergradient learning rate beta (> 0). */
  beta: number;
  /** Initial LR of every layer; default the task's initial LR. */
  initialLr?: number;
  /** Clamp of the LRs (default [0, Infinity)). */
  minLr?: number;
  maxLr?: number;
  name?: string;
}

/**
 * Per-layer hypergradient descent (Baydin et al. 2018, `HypergradientRule`) as a controller, for
 * plain SGD without weight decay: `alpha_i <- alpha_i + beta * g_t · g_{t-1}` per layer, with the
 * gradient dot product recovered exactly from the applied updates (`u = alpha g`, so
 * `g_t · g_{t-1} = u_t · u_{t-1} / (alpha_t alpha_{t-1})`). The layerwise trainer applies the LR
 * inside its step, so the hypergradient of step t is used for step t + 1 (a one-step lag; the first
 * two steps use the initial LR). Refuses tasks with momentum, Adam or weight decay.
 *
 * @example
 * ```ts
 * const hd = hypergradientController({ beta: 1e-3 });
 * ```
 */
export function hypergradientController(options: HypergradientControllerOptions): LrController {
  if (!options || !(Number.isFinite(options.beta) && options.beta > 0))
    throw new Error(`hypergradientController: beta must be a positive number, got ${options ? options.beta : options}`);
  let rule: HypergradientRule | null = null;
  let prevLrs: number[] = [];
  let lastLrs: number[] = [];
  return {
    name: options.name ?? `hypergradient(beta=${options.beta})`,
    interval: 'step',
    needsUpdateDots: true,
    reset(i: ControllerTaskInfo) {
      if ((i.optimizer !== undefined && i.optimizer !== 'sgd') || (i.weightDecay ?? 0) !== 0) {
        throw new Error(
          `hypergradientController: needs plain SGD without weight decay, the task uses ${i.optimizer} with weight decay ${i.weightDecay}`,
        );
      }
      rule = new HypergradientRule({
        initialLr: options.initialLr ?? i.initialLr,
        layers: i.numLayers,
        beta: options.beta,
        minLr: options.minLr ?? 0,
        maxLr: options.maxLr ?? Infinity,
      });
      // The rule's first update stands for g_0 (no previous gradient: LRs unchanged); every later
      // update carries g_t . g_{t-1}, which is available from the second applied update on.
      rule.update(Array.from({ length: i.numLayers }, () => ({ gradDotPrev: 0 })));
      prevLrs = [];
      lastLrs = [];
    },
    decide(input: DecisionInput) {
      if (!rule) throw new Error('hypergradientController: call reset() before decide()');
      // lastLrs = the LRs of the step that produced u_t, prevLrs = those of u_{t-1}
      if (input.updateDots && prevLrs.length) {
        const dots = input.updateDots.map((d, i) =>
          lastLrs[i] > 0 && prevLrs[i] > 0 ? d / (lastLrs[i] * prevLrs[i]) : 0,
        );
        rule.update(dots.map((d) => ({ gradDotPrev: d })));
      }
      const out = rule.lrs;
      prevLrs = lastLrs;
      lastLrs = out.slice();
      return out;
    },
  };
}
