import { tf } from '../backend';
import { parseConfig, z } from '../config';
import type { Batch, BatchIterator } from '../data';
import type { MultiAgentEnv, MultiAgentEnvSpec, ResetResult, StepResult } from '../marl/env';
import { LayerwiseTrainer, VectorisedTrainer } from '../nn';
import type { EvalResult, TrainerConfig, SequentialModel, StepMetrics, TrainerSnapshot } from '../nn';
import type { Tensor } from '../backend';
import { ActionSetConfigSchema, makeActionSet } from './actions';
import type { ActionSet } from './actions';
import { DEFAULT_FEATURE_NAMES, FeatureRegistry, GLOBAL_AGENT_FEATURE_NAMES } from './features';
import type { FeatureDef, GannoTrainingState, LayerIntervalStats, LrControl } from './features';
import { TaskConfigSchema, TaskSampler, buildTaskModel, taskBatches } from './tasks';
import type { SampledTask } from './tasks';

/**
 * Configuration of {@link LayerLrEnv} (all reconstruction defaults, documented per field).
 * - `k`: SGD steps per decision K (default 10); the task's `totalSteps` must be a multiple of it.
 *   The one place K is set: the env's state, the controllers' `ControllerTaskInfo.k` and the
 *   evaluation loop read it from here.
 * - `task`: the task distribution ({@link TaskConfigSchema}).
 * - `control`: `'layerwise'` (default: one agent per layer, GANNO) or `'global'` (one agent whose
 *   action sets the one LR shared by every layer: the single-agent baseline / ablation; see
 *   {@link LayerLrEnv}).
 * - `actions`: action set (default `'factors9'`), `lrClip` its clip range (default [1e-5, 1]).
 * - `features`: observation feature names (default all built-ins; with `control: 'global'`
 *   {@link GLOBAL_AGENT_FEATURE_NAMES}); `featureWarmup`: running-norm warm-up (20).
 * - `divergencePenalty`: the team reward of a step in which training diverges is `-divergencePenalty` (default 1); the episode then terminates.
 * - `terminalAccuracyWeight`: weight of the final validation accuracy added to the last step's reward (default 0 = off).
 * - `rewardScale`: every team reward (the log-ratio, the terminal term and the divergence penalty)
 *   is multiplied by it (default 1 = the spec's units). Per-interval rewards are small (about
 *   1e-4..1e-2 for a slowly training network) next to a fresh critic's outputs (order 1); GANNO
 *   training normalises PPO's value targets by running return statistics instead, so the
 *   experiments keep the spec's units (see src/ganno/README.md, "Reward scale").
 * - `agentRewards`: what `step` returns as each agent's reward. `'team'` (default): the team reward
 *   for every agent. `'difference'`: horizon-true difference rewards from counterfactual
 *   trajectories, `D_i,t = G_t − G_t^(−i)`, where `G^(−i)` is the team reward of a shadow run of the
 *   same network in which agent i keeps its LR at every decision while every other layer follows the
 *   factual LRs, on the same mini-batches and validation set. Summed over an episode, agent i's
 *   rewards are exactly the change of the episode return its choices caused (see {@link LayerLrEnv}).
 * - `vectorise`: with `'difference'` on an MLP task, train the factual run and every shadow as one
 *   {@link VectorisedTrainer} (one set of tensor ops per SGD step for all of them; default true).
 *   The rewards are the same to the bit on wasm (tested); false runs each shadow on its own trainer.
 * - `differenceClip`: heavy-tail rule for `'difference'`: each `D_i,t` is clipped to
 *   ±`differenceClip` in the spec's units (ln of a validation-loss ratio, before `rewardScale`;
 *   default 1 = the divergence penalty, a factor e in validation loss within one interval).
 * - `lossEmaBeta`: per-SGD-step EMA factor of the training loss and per-sample loss variance (0.9).
 * - `gradEmaBeta`: per-decision EMA factor of log gradient norms (0.9).
 * - `evalBatchSize`: validation evaluation batch size (512; does not change results beyond float rounding order).
 *
 * @example
 * ```ts
 * const cfg = LayerLrEnvConfigSchema.parse({ k: 20, task: { totalSteps: 600 }, actions: 'factors3' });
 * cfg.divergencePenalty; // 1
 * ```
 */
export const LayerLrEnvConfigSchema = z
  .object({
    k: z.number().int().positive().default(10),
    task: TaskConfigSchema.default({}),
    control: z.enum(['layerwise', 'global']).default('layerwise'),
    actions: ActionSetConfigSchema.default('factors9'),
    lrClip: z.tuple([z.number().positive(), z.number().positive()]).default([1e-5, 1]),
    features: z.array(z.string()).optional(),
    featureWarmup: z.number().int().nonnegative().default(20),
    divergencePenalty: z.number().nonnegative().finite().default(1),
    terminalAccuracyWeight: z.number().nonnegative().finite().default(0),
    rewardScale: z.number().positive().finite().default(1),
    agentRewards: z.enum(['team', 'difference']).default('team'),
    differenceClip: z.number().positive().default(1),
    vectorise: z.boolean().default(true),
    lossEmaBeta: z.number().min(0).lt(1).default(0.9),
    gradEmaBeta: z.number().min(0).lt(1).default(0.9),
    evalBatchSize: z.number().int().positive().default(512),
  })
  .strict()
  .refine((c) => c.task.totalSteps % c.k === 0, {
    message: 'totalSteps must be a multiple of k (the env config K)',
    path: ['task', 'totalSteps'],
  });
export type LayerLrEnvConfig = z.input<typeof LayerLrEnvConfigSchema>;
/** A parsed {@link LayerLrEnvConfig} with the feature names resolved. */
export type ResolvedLayerLrEnvConfig = z.output<typeof LayerLrEnvConfigSchema> & { features: string[] };

/**
 * Per-SGD-step learning rates for {@link LayerLrEnv.stepWithLearningRates}: how step controllers
 * (schedules, LARS, hypergradient, tuning-free baselines) drive the env's one training-run loop.
 */
export interface StepLrSource {
  /**
   * Per-layer LRs for SGD step `sgdStep` of the run (0-based), given the LRs the previous step ran
   * with (at the start: the initial LRs). The env clips each to `lrClip`, as its action sets do.
   */
  lrs(input: { sgdStep: number; lrs: number[] }): number[];
  /** Called after every SGD step with its metrics (also for the step that diverged). */
  after?(metrics: StepMetrics): void;
}

/** Options of {@link LayerLrEnv.reset}. */
export interface LayerLrResetOptions {
  /**
   * Train with this optimiser instead of the task's (tuning-free baselines: the LRs are then the
   * optimiser's step multipliers). Not with `agentRewards: 'difference'`.
   */
  trainer?: {
    optimizer: NonNullable<TrainerConfig['optimizer']>;
    tuningFree?: TrainerConfig['tuningFree'];
    decoupledWeightDecay?: boolean;
  };
}

/**
 * A {@link LayerLrEnvConfig} validated with every default applied, the feature list included (all
 * built-ins, or {@link GLOBAL_AGENT_FEATURE_NAMES} with `control: 'global'`): exactly the
 * configuration a {@link LayerLrEnv} acts on. Cache keys of GANNO jobs are computed from it, so a
 * changed default changes them.
 *
 * @example
 * ```ts
 * resolveLayerLrEnvConfig({}).features; // DEFAULT_FEATURE_NAMES
 * resolveLayerLrEnvConfig({ control: 'global' }).features; // GLOBAL_AGENT_FEATURE_NAMES
 * ```
 */
export function resolveLayerLrEnvConfig(config: LayerLrEnvConfig = {}): ResolvedLayerLrEnvConfig {
  const legacyK = (config as { task?: { k?: unknown } } | null)?.task?.k;
  if (legacyK !== undefined)
    throw new Error(
      `LayerLrEnv config: task.k is no longer a task field; K (SGD steps per decision) is set at the top of the env config: { k: ${JSON.stringify(legacyK)}, task: { ... } }`,
    );
  const parsed = parseConfig(LayerLrEnvConfigSchema, config, 'LayerLrEnv config');
  const features =
    parsed.features ?? (parsed.control === 'global' ? GLOBAL_AGENT_FEATURE_NAMES : DEFAULT_FEATURE_NAMES).slice();
  return { ...parsed, features: features.slice() };
}

/** Node warning type of {@link initialLrClipWarning} (`process.on('warning', w => w.name === ...)`). */
export const LR_CLIP_WARNING = 'GannoLrClipWarning';
const warnedLrClip = new Set<string>();

/**
 * The warning text when a task's initial LR lies outside the env's LR clip, else null. Such a task
 * is clipped into `lrClip` at its first decision (the "keep" action included; a step controller's
 * LRs from the first step): the task does not run at the initial LR its distribution gives. Widen `lrClip` or narrow `task.initialLr`.
 *
 * @example
 * ```ts
 * initialLrClipWarning({ seed: 3, dataset: 'digits', initialLr: 2 }, [1e-5, 1]);
 * // "GANNO task 3 (digits): initial LR 2 lies outside the env's lrClip [1e-05, 1]; ..."
 * ```
 */
export function initialLrClipWarning(
  task: Pick<SampledTask, 'seed' | 'dataset' | 'initialLr'>,
  lrClip: readonly [number, number],
): string | null {
  const [lo, hi] = lrClip;
  if (task.initialLr >= lo && task.initialLr <= hi) return null;
  const clamped = Math.min(hi, Math.max(lo, task.initialLr));
  return (
    `GANNO task ${task.seed} (${task.dataset}): initial LR ${task.initialLr} lies outside the env's lrClip [${lo}, ${hi}]: ` +
    `LRs are clipped into it (the LR moves to ${clamped} at the first decision, or the first step of a step controller), ` +
    `so the task does not run at the initial LR its distribution gives. ` +
    `Widen lrClip or narrow task.initialLr (later tasks of this task distribution and clip are not reported again)`
  );
}

/**
 * Emits {@link initialLrClipWarning} through Node's warning channel (`process.emitWarning`, type
 * {@link LR_CLIP_WARNING}: printed once on stderr, collectable with `process.on('warning')`), once
 * per process for each (task distribution, LR clip): a sweep over many tasks reports it one time.
 * Called by `LayerLrEnv.reset` and by the step-controller path of `runController`.
 */
export function warnInitialLrClamped(
  task: SampledTask,
  initialLrRange: readonly number[],
  lrClip: readonly [number, number],
): void {
  const message = initialLrClipWarning(task, lrClip);
  if (message === null) return;
  const key = JSON.stringify([initialLrRange, lrClip]);
  if (warnedLrClip.has(key)) return;
  warnedLrClip.add(key);
  process.emitWarning(message, { type: LR_CLIP_WARNING });
}

/** Forgets which LR-clip warnings were emitted (tests). */
export function resetLrClipWarnings(): void {
  warnedLrClip.clear();
}

/** Per-step `info` of {@link LayerLrEnv}. */
export type LayerLrInfo = {
  /** LR per layer used in this interval (all equal with `control: 'global'`). */
  lrs: number[];
  /** Mean training loss over the interval's K steps (NaN if diverged). */
  trainLoss: number;
  valLoss: number;
  valAccuracy: number;
  diverged: boolean;
  /** SGD steps taken in this episode. */
  sgdSteps: number;
  /** The episode's SGD step (1-based) at which training diverged, or null (a validation-only divergence counts as the interval's last step). */
  divergedAtStep: number | null;
  /** Wall seconds of the factual step (K SGD steps, validation, observations). */
  stepSeconds: number;
  /** Wall seconds spent in counterfactual replays for this decision (0 with shared rewards). */
  counterfactualSeconds: number;
  /** Counterfactual branches replayed for this decision (shadow runs of `agentRewards: 'difference'` included). */
  counterfactualBranches: number;
  /**
   * With `agentRewards: 'difference'`: per agent, the team reward of its shadow run in this
   * interval (`G_t^(−i)`), or null while the agent has never left the keep action (its shadow is
   * then the factual run itself and its difference reward exactly 0).
   */
  shadowTeamRewards?: (number | null)[];
};

/**
 * A shadow run of `agentRewards: 'difference'`: the episode with agent `agent` keeping its LR from
 * its first non-keep decision on. With a vectorised episode it is network `agent + 1` of
 * `Episode.vec` (no model or trainer of its own).
 */
interface Shadow {
  model: SequentialModel | null;
  trainer: LayerwiseTrainer | null;
  /** The LR the agent keeps (every layer's with `control: 'global'`). */
  lr: number;
  valLoss: number;
  /** Diverged earlier: its later team rewards are 0. */
  done: boolean;
}

interface Episode {
  task: SampledTask;
  model: SequentialModel;
  trainer: LayerwiseTrainer;
  batches: BatchIterator;
  val: Batch;
  state: GannoTrainingState;
  done: boolean;
  /** Shared by all counterfactual branches of the current decision; freed by step(). */
  snapshot: TrainerSnapshot | null;
  /** The current decision's K mini-batches (shared by the factual step and all replays). */
  intervalBatches: Batch[] | null;
  cfSeconds: number;
  cfBranches: number;
  /** Parameters per layer (weights of the whole-network sign agreement). */
  groupSizes: number[];
  /** Per agent, its shadow run (`agentRewards: 'difference'`), created at its first non-keep action. */
  shadows: (Shadow | null)[];
  /**
   * `agentRewards: 'difference'` on an MLP: the factual run (network 0) and every agent's shadow
   * (network i + 1) trained together, one set of tensor ops per SGD step for all of them.
   */
  vec: VectorisedTrainer | null;
  /** `vec` holds a newer factual state than `trainer` (synced on demand, see `factualTrainer`). */
  factualStale: boolean;
  /** LRs of the last SGD step (per-step LRs of {@link LayerLrEnv.stepWithLearningRates}; else the interval's). */
  lastStepLrs: number[];
  /** Counterfactual branches of one decision trained together ({@link LayerLrEnv.counterfactualTeamRewards}); created on first use. */
  replayVec: VectorisedTrainer | null;
}

/**
 * Networks stepped together by {@link LayerLrEnv}'s interval loop: one {@link LayerwiseTrainer}
 * (size 1) or a {@link VectorisedTrainer} (the factual run and its shadows).
 */
interface NetworkSet {
  readonly size: number;
  setLearningRates(b: number, lrs: number[]): void;
  isDiverged(b: number): boolean;
  /** One SGD step of the `active` networks on `batch` (metrics of inactive ones are ignored). */
  step(batch: Batch, active: boolean[]): StepMetrics[];
  evaluate(x: Tensor, y: Tensor, batchSize: number): EvalResult[];
}

function layerwiseSet(trainer: LayerwiseTrainer): NetworkSet {
  return {
    size: 1,
    setLearningRates: (_b, lrs) => trainer.setLearningRates(lrs),
    isDiverged: () => trainer.diverged,
    step: (batch) => [trainer.step(batch)],
    evaluate: (x, y, bs) => [trainer.evaluate(x, y, bs)],
  };
}

function vectorisedSet(vec: VectorisedTrainer): NetworkSet {
  return {
    size: vec.size,
    setLearningRates: (b, lrs) => vec.setLearningRates(b, lrs),
    isDiverged: (b) => vec.diverged(b),
    step: (batch, active) => vec.step(batch, { active }),
    evaluate: (x, y, bs) => vec.evaluate(x, y, bs),
  };
}

interface IntervalOutcome {
  diverged: boolean;
  /** A training step diverged (not only the validation loss). */
  stepDiverged: boolean;
  /** LRs of the interval's first SGD step. */
  firstLrs: number[];
  /** LRs of its last SGD step. */
  lastLrs: number[];
  losses: number[];
  vars: number[];
  gradNorm: Float64Array;
  updateNorm: Float64Array;
  signAgreement: Float64Array;
  weightNorm: Float64Array;
  /** Whole-network aggregates (see `GannoTrainingState.network`). */
  net: LayerIntervalStats;
  valLoss: number;
  valAccuracy: number;
  reward: number;
}

/**
 * GANNO's layer learning-rate environment. An episode is one complete training run of a freshly
 * initialised network sampled from a task distribution; agent i controls the LR of parameter
 * group i (a dense or conv layer with its bias). Each step applies all agents' actions at once,
 * runs K SGD steps (the task's optimiser, per-layer state) and evaluates a fixed validation set.
 * Team reward `G_t = -(ln L_val(t+1) - ln L_val(t))`, plus `terminalAccuracyWeight * acc` at the
 * last step; a divergence (non-finite loss or weights) gives `-divergencePenalty` and terminates
 * (all multiplied by `rewardScale`, default 1).
 * The episode terminates after T = totalSteps / K decisions.
 *
 * Difference rewards: {@link counterfactualTeamReward} replays the same K mini-batches from one
 * snapshot (weights + optimiser state) per decision, shared by all branches; the state is restored
 * after every branch, and the factual step is bit-identical to a replay of the factual actions.
 *
 * Observations come from {@link features} (a {@link FeatureRegistry}); after changing it, call
 * `reset(seed)` and size the policy by `spec.observationSize`. Running feature statistics persist
 * across episodes (set `features.frozen = true` for evaluation, `features.resetStatistics()` to forget).
 *
 * Single global-LR agent (`control: 'global'`): the env has exactly one agent; its action (same
 * action set) moves the one LR that every layer shares (all layers start from the task's initial
 * LR), so `step`, `defaultAction`, `counterfactualTeamReward` and the rewards take and give one
 * value. Features read {@link agentState}: the network seen as one layer (the shared LR, the
 * previous action and whole-network gradient/weight/update aggregates); `relative_depth` is
 * refused. The team reward is unchanged, and the difference reward of the one agent is
 * `G(a) - G(keep)` through the same exact replay (0 for keep).
 *
 * @example
 * ```ts
 * const env = new LayerLrEnv({ k: 10, task: { depth: [2, 2], totalSteps: 300 } });
 * let r = env.reset(1);
 * while (true) {
 *   const s = env.step(r.observations.map((_, i) => env.defaultAction(i))); // keep every LR
 *   if (s.terminated || s.truncated) break;
 *   r = s;
 * }
 * env.dispose();
 *
 * const single = new LayerLrEnv({ control: 'global' }); // one agent, one LR for every layer
 * single.reset(1);
 * single.step([8]); // every layer's LR x2
 * single.dispose();
 * ```
 */
export class LayerLrEnv implements MultiAgentEnv<LayerLrInfo> {
  readonly config: ResolvedLayerLrEnvConfig;
  readonly sampler: TaskSampler;
  readonly actionSet: ActionSet;
  /** The observation features; edit from a notebook, then `reset`. */
  readonly features: FeatureRegistry;
  private ep: Episode | null = null;

  constructor(config: LayerLrEnvConfig = {}) {
    this.config = resolveLayerLrEnvConfig(config);
    const features = this.config.features;
    this.sampler = new TaskSampler(this.config.task);
    this.actionSet = makeActionSet(this.config.actions, this.config.lrClip);
    try {
      this.features = new FeatureRegistry(features, {
        warmup: this.config.featureWarmup,
        control: this.config.control,
      });
    } catch (err) {
      throw new Error(`LayerLrEnv config: features: ${(err as Error).message}`, { cause: err });
    }
  }

  /** `'layerwise'` (one agent per layer) or `'global'` (one agent, one shared LR). */
  get control(): LrControl {
    return this.config.control;
  }

  /** Spaces; `observationSize` follows the feature registry. */
  get spec(): MultiAgentEnvSpec {
    return {
      observationSize: this.features.observationSize,
      numActions: this.actionSet.size,
      maxSteps: this.horizon,
    };
  }

  /** Decisions per episode T = `task.totalSteps / k`. */
  get horizon(): number {
    return this.config.task.totalSteps / this.config.k;
  }

  /** The current episode's task (throws before the first reset). */
  get task(): SampledTask {
    return this.episode('task').task;
  }

  /** The current episode's trainer (read-only use: weights, LRs, evaluation on other data). */
  get trainer(): LayerwiseTrainer {
    return this.factualTrainer(this.episode('trainer'));
  }

  /** The factual run's trainer, first brought up to date from the vectorised trainer if that ran ahead. */
  private factualTrainer(ep: Episode): LayerwiseTrainer {
    if (ep.vec && ep.factualStale) {
      const snap = ep.vec.snapshot(0);
      ep.trainer.restore(snap);
      ep.vec.disposeSnapshot(snap);
      ep.factualStale = false;
    }
    return ep.trainer;
  }

  /**
   * The current training state, per layer (`lrs`, `layers`, `prevActions` have one entry per
   * layer in both modes). With `control: 'layerwise'` this is what features read.
   */
  get state(): GannoTrainingState {
    return this.episode('state').state;
  }

  /**
   * The state the features read, seen from the agents: {@link state} itself with `control:
   * 'layerwise'`; with `control: 'global'` the network as one layer: `numAgents` 1, `lrs` = [the
   * shared LR], `prevActions` = [the last action], `layers` = [`state.network`], `logGradNormEma`
   * = [`state.networkLogGradNormEma`], `lrHistory` rows of one LR (a fresh object per call).
   */
  get agentState(): GannoTrainingState {
    return this.agentView(this.episode('agentState').state);
  }

  /** Number of agents in the current episode: the layers, or 1 with `control: 'global'` (0 before reset). */
  get numAgents(): number {
    if (!this.ep) return 0;
    return this.config.control === 'global' ? 1 : this.ep.state.numAgents;
  }

  /** Number of layers (parameter groups) of the current network (0 before reset). */
  get numLayers(): number {
    return this.ep ? this.ep.state.numAgents : 0;
  }

  /**
   * Per-layer LRs from one LR per agent: the same array with `control: 'layerwise'`, the one
   * shared LR repeated for every layer with `control: 'global'`.
   */
  layerLrsOf(agentLrs: ArrayLike<number>): number[] {
    const n = this.numAgents;
    if (!agentLrs || agentLrs.length !== n)
      throw new Error(`LayerLrEnv.layerLrsOf: got ${agentLrs ? agentLrs.length : agentLrs} LRs for ${n} agents`);
    return this.config.control === 'global'
      ? new Array<number>(this.numLayers).fill(agentLrs[0])
      : Array.from(agentLrs);
  }

  /**
   * Starts an episode on the task sampled from `seed`. `options.trainer` trains with another
   * optimiser than the task's (see {@link LayerLrResetOptions}).
   */
  reset(seed: number, options: LayerLrResetOptions = {}): ResetResult {
    const own = options.trainer;
    if (own && this.config.agentRewards === 'difference')
      throw new Error(
        "LayerLrEnv.reset: options.trainer (another optimiser) is not supported with agentRewards: 'difference'",
      );
    this.disposeEpisode();
    const task = this.sampler.sample(seed);
    warnInitialLrClamped(task, this.sampler.config.initialLr, this.config.lrClip);
    const model = buildTaskModel(task);
    const n = model.groups.length;
    const trainer = new LayerwiseTrainer(model, {
      optimizer: own?.optimizer ?? task.optimizer,
      learningRates: task.initialLr,
      weightDecay: task.weightDecay,
      seed: task.trainerSeed,
      ...(own ? { tuningFree: own.tuningFree, decoupledWeightDecay: own.decoupledWeightDecay } : {}),
    });
    const batches = taskBatches(task);
    const val = tf.tidy(() => {
      const v = task.validation;
      const shape =
        task.model === 'mlp' ? [v.n, v.height * v.width * v.channels] : [v.n, v.height, v.width, v.channels];
      return { x: tf.tensor(v.images, shape, 'float32'), y: tf.tensor1d(v.labels, 'int32') };
    });
    const ev = trainer.evaluate(val.x, val.y, this.config.evalBatchSize);
    const lrs = trainer.learningRates;
    const prev = new Int32Array(n);
    for (let i = 0; i < n; i++) prev[i] = this.actionSet.defaultAction(lrs[i], task.initialLr);
    const weightNorms = groupWeightNorms(model);
    const state: GannoTrainingState = {
      network: {
        gradNormMean: NaN,
        weightNorm: Math.sqrt(weightNorms.reduce((a, w) => a + w * w, 0)),
        updateNormMean: NaN,
        signAgreementMean: NaN,
      },
      networkLogGradNormEma: NaN,
      t: 0,
      horizon: this.horizon,
      k: this.config.k,
      sgdSteps: 0,
      numAgents: n,
      numActions: this.actionSet.size,
      lrs,
      referenceLr: task.initialLr,
      lrHistory: [lrs.slice()],
      prevActions: prev,
      layers: Array.from({ length: n }, (_, i) => ({
        gradNormMean: NaN,
        weightNorm: weightNorms[i],
        updateNormMean: NaN,
        signAgreementMean: NaN,
      })),
      logGradNormEma: new Float64Array(n).fill(NaN),
      trainLossEma: NaN,
      trainLossEmaPrev: NaN,
      trainLossMean: NaN,
      lossVarEma: NaN,
      valLoss: ev.loss,
      valAccuracy: ev.accuracy,
      valLossHistory: [ev.loss],
      diverged: !Number.isFinite(ev.loss),
    };
    const agents = this.config.control === 'global' ? 1 : n;
    // Horizon-true difference rewards on an MLP: the factual run and all shadows in one vectorised trainer.
    const vec =
      this.config.agentRewards === 'difference' && this.config.vectorise && VectorisedTrainer.supports(model)
        ? new VectorisedTrainer(new Array<SequentialModel>(agents + 1).fill(model), {
            optimizer: task.optimizer,
            learningRates: task.initialLr,
            weightDecay: task.weightDecay,
            seed: task.trainerSeed,
          })
        : null;
    this.ep = {
      task,
      model,
      trainer,
      batches,
      val,
      state,
      done: false,
      snapshot: null,
      intervalBatches: null,
      cfSeconds: 0,
      cfBranches: 0,
      groupSizes: model.groups.map((g) => g.numParams),
      shadows: new Array<Shadow | null>(agents).fill(null),
      vec,
      factualStale: false,
      lastStepLrs: lrs.slice(),
      replayVec: null,
    };
    return { observations: this.features.observe(this.agentView(state)) };
  }

  /** "Keep LR" for agent `i` (see {@link ActionSet.defaultAction}); with `control: 'global'` only agent 0 exists. */
  defaultAction(agent: number): number {
    const ep = this.episode('defaultAction');
    const n = this.numAgents;
    if (!Number.isInteger(agent) || agent < 0 || agent >= n)
      throw new Error(
        `LayerLrEnv.defaultAction: agent ${agent} is not in [0, ${n})${this.config.control === 'global' ? " (control: 'global' has one agent)" : ''}`,
      );
    return this.actionSet.defaultAction(ep.state.lrs[agent], ep.state.referenceLr);
  }

  /**
   * The team reward this decision would give with `actions`, by exact replay of the same K
   * mini-batches from a snapshot of weights and optimiser state (taken once per decision and
   * shared by all branches); the env's state is restored afterwards.
   */
  counterfactualTeamReward(actions: ArrayLike<number>): number {
    const ep = this.episode('counterfactualTeamReward');
    if (ep.done) throw new Error('LayerLrEnv.counterfactualTeamReward: episode is over; call reset(seed)');
    const lrs = this.nextLrs(actions, 'counterfactualTeamReward');
    const started = performance.now();
    const trainer = this.factualTrainer(ep);
    if (!ep.snapshot) ep.snapshot = trainer.snapshot();
    const out = this.runInterval(ep, trainer, lrs, ep.state.valLoss);
    trainer.restore(ep.snapshot);
    ep.cfSeconds += (performance.now() - started) / 1000;
    ep.cfBranches++;
    return out.reward;
  }

  /**
   * {@link counterfactualTeamReward} for several joint actions of this decision at once (the
   * batched hook difference rewards use): on an MLP task (with `vectorise`) all branches run as one
   * {@link VectorisedTrainer} from the decision's shared snapshot, else one replay after another.
   * The values are the same either way (bit for bit on wasm); the env's state is unchanged.
   */
  counterfactualTeamRewards(actionSets: readonly ArrayLike<number>[]): number[] {
    const ep = this.episode('counterfactualTeamRewards');
    if (ep.done) throw new Error('LayerLrEnv.counterfactualTeamRewards: episode is over; call reset(seed)');
    if (!Array.isArray(actionSets))
      throw new Error('LayerLrEnv.counterfactualTeamRewards: expected an array of joint actions');
    const lrs = actionSets.map((a, k) => this.nextLrs(a, `counterfactualTeamRewards (set ${k})`));
    if (!this.config.vectorise || actionSets.length < 2 || !VectorisedTrainer.supports(ep.model))
      return actionSets.map((a) => this.counterfactualTeamReward(a));
    const started = performance.now();
    const trainer = this.factualTrainer(ep);
    if (!ep.snapshot) ep.snapshot = trainer.snapshot();
    if (!ep.replayVec || ep.replayVec.size < actionSets.length) {
      ep.replayVec?.dispose();
      const size = Math.max(actionSets.length, this.numAgents);
      // Only the rewards are read: `metrics: 'loss'` skips the per-layer norms (same training arithmetic).
      ep.replayVec = new VectorisedTrainer(new Array<SequentialModel>(size).fill(ep.model), {
        optimizer: ep.task.optimizer,
        learningRates: ep.task.initialLr,
        weightDecay: ep.task.weightDecay,
        seed: ep.task.trainerSeed,
        metrics: 'loss',
      });
    }
    const vec = ep.replayVec;
    vec.restoreAll(ep.snapshot);
    const active = Array.from({ length: vec.size }, (_, b) => b < actionSets.length);
    const outs = this.runIntervals(
      ep,
      vectorisedSet(vec),
      active.map((_, b) => lrs[b] ?? lrs[0]),
      active.map(() => ep.state.valLoss),
      active,
    );
    ep.cfSeconds += (performance.now() - started) / 1000;
    ep.cfBranches += actionSets.length;
    return outs.slice(0, actionSets.length).map((o) => (o as IntervalOutcome).reward);
  }

  /**
   * **Approximate** difference rewards (a cheaper stand-in for the exact ones, labelled as such):
   * `D~_i = G_m(a) - G_m(a with a_i = keep)`, where `G_m` is the reward after only the first `m`
   * of the K mini-batches of this decision (same batches, same validation set, same snapshot; the
   * terminal accuracy term only when `m = K`). Costs about (branches + 1) * m / K of the exact replay; `m = K` gives exactly the
   * exact difference rewards. Agents already playing the default get exactly 0. Call before
   * {@link step}; the state is restored. Use through {@link approximateDifferenceAssigner}.
   */
  approximateDifferenceRewards(actions: ArrayLike<number>, m: number): Float32Array {
    const ep = this.episode('approximateDifferenceRewards');
    if (ep.done) throw new Error('LayerLrEnv.approximateDifferenceRewards: episode is over; call reset(seed)');
    if (!Number.isInteger(m) || m < 1 || m > ep.state.k)
      throw new Error(
        `LayerLrEnv.approximateDifferenceRewards: m (replayed steps) must be an integer in [1, K = ${ep.state.k}], got ${m}`,
      );
    const lrs = this.nextLrs(actions, 'approximateDifferenceRewards');
    const n = this.numAgents;
    const out = new Float32Array(n);
    const started = performance.now();
    const trainer = this.factualTrainer(ep);
    if (!ep.snapshot) ep.snapshot = trainer.snapshot();
    let factual: number | undefined;
    const alt = Array.from(actions);
    for (let i = 0; i < n; i++) {
      const def = this.defaultAction(i);
      if (alt[i] === def) continue;
      if (factual === undefined) {
        factual = this.runInterval(ep, trainer, lrs, ep.state.valLoss, m).reward;
        trainer.restore(ep.snapshot);
        ep.cfBranches++;
      }
      const keep = alt[i];
      alt[i] = def;
      const g = this.runInterval(
        ep,
        trainer,
        this.nextLrs(alt, 'approximateDifferenceRewards'),
        ep.state.valLoss,
        m,
      ).reward;
      alt[i] = keep;
      trainer.restore(ep.snapshot);
      ep.cfBranches++;
      out[i] = factual - g;
    }
    ep.cfSeconds += (performance.now() - started) / 1000;
    return out;
  }

  step(actions: ArrayLike<number>): StepResult<LayerLrInfo> {
    const ep = this.episode('step');
    if (ep.done) throw new Error('LayerLrEnv.step: episode is over; call reset(seed)');
    const started = performance.now();
    const lrs = this.nextLrs(actions, 'step');
    const s = ep.state;
    const differences = this.config.agentRewards === 'difference';
    let out: IntervalOutcome;
    let shadowRewards: (number | null)[] | undefined;
    if (differences && ep.vec) {
      ({ out, shadowRewards } = this.stepVectorised(ep, ep.vec, actions, lrs));
    } else {
      if (differences) this.forkShadows(ep, actions);
      out = this.runInterval(ep, ep.trainer, lrs, s.valLoss);
      shadowRewards = differences ? this.stepShadows(ep, lrs) : undefined;
    }
    const prevActions =
      this.config.control === 'global' ? new Int32Array(s.numAgents).fill(actions[0]) : Int32Array.from(actions);
    return this.finishStep(ep, out, prevActions, shadowRewards, started);
  }

  /**
   * One interval of the factual run with a learning rate per SGD step instead of per decision:
   * before each of the K SGD steps `source.lrs` gives every layer's LR (clipped to `lrClip`), then
   * the validation set is evaluated, exactly as {@link step} does (same batches, same rewards and
   * state; `info.lrs` and `state.lrs` are the interval's first-step LRs, `prevActions` stays). This
   * is how step controllers (schedules, LARS, hypergradient, tuning-free baselines) run in the
   * env's one training-run loop (`runController`). Team rewards only.
   *
   * @example
   * ```ts
   * const env = new LayerLrEnv({ k: 10, task: { totalSteps: 100 } });
   * env.reset(1);
   * const s = env.stepWithLearningRates({ lrs: ({ sgdStep, lrs }) => lrs.map(() => 0.1 / (1 + sgdStep)) });
   * s.info.valLoss;
   * ```
   */
  stepWithLearningRates(source: StepLrSource): StepResult<LayerLrInfo> {
    const ep = this.episode('stepWithLearningRates');
    if (ep.done) throw new Error('LayerLrEnv.stepWithLearningRates: episode is over; call reset(seed)');
    if (this.config.agentRewards === 'difference')
      throw new Error(
        "LayerLrEnv.stepWithLearningRates: per-step LRs give team rewards only; use agentRewards: 'team'",
      );
    const started = performance.now();
    const s = ep.state;
    const out = this.runIntervals(
      ep,
      layerwiseSet(ep.trainer),
      [ep.lastStepLrs],
      [s.valLoss],
      [true],
      Infinity,
      source,
    )[0] as IntervalOutcome;
    return this.finishStep(ep, out, s.prevActions, undefined, started);
  }

  /** Advances the episode by one decision with the factual interval `out` (shared by {@link step} and {@link stepWithLearningRates}). */
  private finishStep(
    ep: Episode,
    out: IntervalOutcome,
    prevActions: Int32Array,
    shadowRewards: (number | null)[] | undefined,
    started: number,
  ): StepResult<LayerLrInfo> {
    const s = ep.state;
    const lrs = out.firstLrs;
    ep.lastStepLrs = out.lastLrs.slice();
    const sgdBefore = s.sgdSteps;
    // Advance the batch iterator past this interval's K batches, free the shared replay state.
    const g = ep.batches.globalStep + s.k;
    ep.batches.seek({ epoch: Math.floor(g / ep.batches.batchesPerEpoch), step: g % ep.batches.batchesPerEpoch });
    this.freeDecision(ep);

    // Update the training state.
    const beta = this.config.lossEmaBeta;
    s.trainLossEmaPrev = s.trainLossEma;
    for (let j = 0; j < out.losses.length; j++) {
      s.trainLossEma = Number.isNaN(s.trainLossEma)
        ? out.losses[j]
        : beta * s.trainLossEma + (1 - beta) * out.losses[j];
      s.lossVarEma = Number.isNaN(s.lossVarEma) ? out.vars[j] : beta * s.lossVarEma + (1 - beta) * out.vars[j];
    }
    const gb = this.config.gradEmaBeta;
    for (let i = 0; i < s.numAgents; i++) {
      // the EMA the features read is the one *before* this interval: update the previous interval's value in
      const prevG = s.layers[i].gradNormMean;
      if (Number.isFinite(prevG) && prevG > 0) {
        const x = Math.log10(prevG);
        s.logGradNormEma[i] = Number.isFinite(s.logGradNormEma[i]) ? gb * s.logGradNormEma[i] + (1 - gb) * x : x;
      }
      s.layers[i] = {
        gradNormMean: out.gradNorm[i],
        weightNorm: out.weightNorm[i],
        updateNormMean: out.updateNorm[i],
        signAgreementMean: out.signAgreement[i],
      };
    }
    const prevNet = s.network ? s.network.gradNormMean : NaN;
    if (Number.isFinite(prevNet) && prevNet > 0) {
      const x = Math.log10(prevNet);
      const e = s.networkLogGradNormEma ?? NaN;
      s.networkLogGradNormEma = Number.isFinite(e) ? gb * e + (1 - gb) * x : x;
    }
    s.network = out.net;
    s.trainLossMean = out.losses.length ? out.losses.reduce((a, b) => a + b, 0) / out.losses.length : NaN;
    s.t += 1;
    s.sgdSteps += out.losses.length;
    s.lrs = lrs.slice();
    s.lrHistory.push(lrs.slice());
    s.prevActions = prevActions;
    s.valLoss = out.valLoss;
    s.valAccuracy = out.valAccuracy;
    s.valLossHistory.push(out.valLoss);
    s.diverged = out.diverged;
    const terminated = out.diverged || s.t >= s.horizon;
    ep.done = terminated;
    const n = this.numAgents;
    const observations = this.features.observe(this.agentView(s));
    const info: LayerLrInfo = {
      lrs: lrs.slice(),
      trainLoss: out.diverged ? NaN : s.trainLossMean,
      valLoss: out.valLoss,
      valAccuracy: out.valAccuracy,
      diverged: out.diverged,
      sgdSteps: s.sgdSteps,
      divergedAtStep: out.diverged ? sgdBefore + out.losses.length + (out.stepDiverged ? 1 : 0) : null,
      stepSeconds: (performance.now() - started) / 1000,
      counterfactualSeconds: ep.cfSeconds,
      counterfactualBranches: ep.cfBranches,
    };
    ep.cfSeconds = 0;
    ep.cfBranches = 0;
    let rewards = new Float32Array(n).fill(out.reward);
    if (shadowRewards) {
      info.shadowTeamRewards = shadowRewards;
      const c = this.config.differenceClip * this.config.rewardScale;
      rewards = Float32Array.from(shadowRewards, (g) => (g === null ? 0 : Math.max(-c, Math.min(c, out.reward - g))));
    }
    return { observations, rewards, teamReward: out.reward, terminated, truncated: false, info };
  }

  /**
   * Starts the shadow run of every agent that leaves the keep action for the first time now: a copy
   * of the factual network and optimiser state before this interval (until then the shadow and the
   * factual run are the same run, so it need not exist).
   */
  private forkShadows(ep: Episode, actions: ArrayLike<number>): void {
    let snap: TrainerSnapshot | null = null;
    const s = ep.state;
    for (let i = 0; i < ep.shadows.length; i++) {
      if (ep.shadows[i] || actions[i] === this.defaultAction(i)) continue;
      const started = performance.now();
      snap ??= ep.snapshot ?? ep.trainer.snapshot();
      const model = buildTaskModel(ep.task);
      // Shadows only need the loss: `metrics: 'loss'` skips the per-layer norms (same training arithmetic).
      const trainer = new LayerwiseTrainer(model, {
        optimizer: ep.task.optimizer,
        learningRates: ep.task.initialLr,
        weightDecay: ep.task.weightDecay,
        seed: ep.task.trainerSeed,
        metrics: 'loss',
      });
      trainer.restore(snap);
      ep.shadows[i] = { model, trainer, lr: s.lrs[i], valLoss: s.valLoss, done: s.diverged };
      ep.cfSeconds += (performance.now() - started) / 1000;
    }
    if (snap && snap !== ep.snapshot) ep.trainer.disposeSnapshot(snap);
  }

  /**
   * Runs this interval in every shadow (agent i keeps its LR, the other layers use the factual
   * `lrs`, same batches) and returns each agent's shadow team reward (null: no shadow yet).
   */
  private stepShadows(ep: Episode, lrs: number[]): (number | null)[] {
    const started = performance.now();
    const global = this.config.control === 'global';
    const ref = ep.state.referenceLr;
    const out = ep.shadows.map((sh, i) => {
      if (!sh) return null;
      if (sh.done) return 0;
      sh.lr = this.actionSet.apply(sh.lr, this.actionSet.defaultAction(sh.lr, ref), ref);
      const shLrs = global ? lrs.map(() => sh.lr) : lrs.map((lr, j) => (j === i ? sh.lr : lr));
      const r = this.runInterval(ep, sh.trainer as LayerwiseTrainer, shLrs, sh.valLoss);
      sh.valLoss = r.valLoss;
      sh.done = r.diverged;
      ep.cfBranches++;
      return r.reward;
    });
    ep.cfSeconds += (performance.now() - started) / 1000;
    return out;
  }

  /**
   * One interval of the factual run and every live shadow as one vectorised training run (network 0
   * factual, network i + 1 agent i's shadow). A shadow starts as an exact copy of the factual
   * network and optimiser state before the interval in which its agent first leaves "keep" (as the
   * snapshot copy of the unvectorised path); the factual network is bit-identical to the layerwise
   * trainer's on wasm, so team rewards do not depend on the shadows.
   */
  private stepVectorised(
    ep: Episode,
    vec: VectorisedTrainer,
    actions: ArrayLike<number>,
    lrs: number[],
  ): { out: IntervalOutcome; shadowRewards: (number | null)[] } {
    const s = ep.state;
    const global = this.config.control === 'global';
    const ref = s.referenceLr;
    const forkStarted = performance.now();
    for (let i = 0; i < ep.shadows.length; i++) {
      if (ep.shadows[i] || actions[i] === this.defaultAction(i)) continue;
      vec.copyNetwork(0, i + 1);
      ep.shadows[i] = { model: null, trainer: null, lr: s.lrs[i], valLoss: s.valLoss, done: s.diverged };
    }
    ep.cfSeconds += (performance.now() - forkStarted) / 1000;
    const netLrs: number[][] = [lrs];
    const prev: number[] = [s.valLoss];
    const active: boolean[] = [true];
    ep.shadows.forEach((sh, i) => {
      const live = !!sh && !sh.done;
      if (live) sh.lr = this.actionSet.apply(sh.lr, this.actionSet.defaultAction(sh.lr, ref), ref);
      netLrs.push(!live ? lrs : global ? lrs.map(() => sh.lr) : lrs.map((lr, j) => (j === i ? sh.lr : lr)));
      prev.push(live ? sh.valLoss : NaN);
      active.push(live);
    });
    const outs = this.runIntervals(ep, vectorisedSet(vec), netLrs, prev, active);
    ep.factualStale = true;
    const shadowRewards = ep.shadows.map((sh, i) => {
      if (!sh) return null;
      const r = outs[i + 1];
      if (!r) return 0; // diverged earlier: its later team rewards are 0
      sh.valLoss = r.valLoss;
      sh.done = r.diverged;
      ep.cfBranches++;
      return r.reward;
    });
    return { out: outs[0] as IntervalOutcome, shadowRewards };
  }

  /** Adds a feature to the registry (shorthand for `env.features.add`); call `reset` afterwards. */
  addFeature(def: FeatureDef | string): this {
    this.features.add(def);
    return this;
  }

  /** Frees the episode's network, optimiser state, validation tensors and replay state. */
  dispose(): void {
    this.disposeEpisode();
  }

  private episode(where: string): Episode {
    if (!this.ep) throw new Error(`LayerLrEnv.${where}: no episode; call reset(seed) first`);
    return this.ep;
  }

  /** The state the features read (see {@link agentState}). */
  private agentView(s: GannoTrainingState): GannoTrainingState {
    if (this.config.control !== 'global') return s;
    const net = s.network ?? { gradNormMean: NaN, weightNorm: NaN, updateNormMean: NaN, signAgreementMean: NaN };
    return {
      ...s,
      numAgents: 1,
      lrs: [s.lrs[0]],
      lrHistory: s.lrHistory.map((row) => [row[0]]),
      prevActions: Int32Array.of(s.prevActions[0]),
      layers: [{ ...net }],
      logGradNormEma: Float64Array.of(s.networkLogGradNormEma ?? NaN),
    };
  }

  private nextLrs(actions: ArrayLike<number>, where: string): number[] {
    const s = this.ep!.state;
    if (this.config.control === 'global') {
      if (!actions || actions.length !== 1)
        throw new Error(
          `LayerLrEnv.${where}: got ${actions ? actions.length : actions} actions for 1 agent (control: 'global': one action sets the LR of all ${s.numAgents} layers)`,
        );
      const a = actions[0];
      if (!Number.isInteger(a) || a < 0 || a >= this.actionSet.size)
        throw new Error(`LayerLrEnv.${where}: action ${a} of agent 0 is not an integer in [0, ${this.actionSet.size})`);
      return new Array<number>(s.numAgents).fill(this.actionSet.apply(s.lrs[0], a, s.referenceLr));
    }
    if (!actions || actions.length !== s.numAgents)
      throw new Error(
        `LayerLrEnv.${where}: got ${actions ? actions.length : actions} actions for ${s.numAgents} agents (one per layer)`,
      );
    const out: number[] = [];
    for (let i = 0; i < s.numAgents; i++) {
      const a = actions[i];
      if (!Number.isInteger(a) || a < 0 || a >= this.actionSet.size)
        throw new Error(
          `LayerLrEnv.${where}: action ${a} of agent ${i} is not an integer in [0, ${this.actionSet.size})`,
        );
      out.push(this.actionSet.apply(s.lrs[i], a, s.referenceLr));
    }
    return out;
  }

  /** The current decision's K batches, created once and shared by every branch of this decision. */
  private batchesFor(ep: Episode): Batch[] {
    if (!ep.intervalBatches)
      ep.intervalBatches = ep.batches.peekIndices(ep.state.k).map((idx) => ep.batches.batchFromIndices(idx));
    return ep.intervalBatches;
  }

  /**
   * Runs this decision's K batches (the first `limit`) with `lrs` on `trainer` (the factual one, or
   * a shadow's) from its current state and evaluates; the reward is relative to `prevValLoss`.
   * Never throws on divergence.
   */
  private runInterval(
    ep: Episode,
    trainer: LayerwiseTrainer,
    lrs: number[],
    prevValLoss: number,
    limit = Infinity,
  ): IntervalOutcome {
    return this.runIntervals(ep, layerwiseSet(trainer), [lrs], [prevValLoss], [true], limit)[0] as IntervalOutcome;
  }

  /**
   * The one "K SGD steps, then validate" loop: runs this decision's K batches (the first `limit`)
   * on every `active` network of `set` (network b with `lrs[b]`, from its current state; each
   * stops at its divergence) and evaluates them on the validation set; each reward is relative to
   * `prevValLoss[b]`. With `perStep` (one network only) the LRs are set before every SGD step from
   * it instead (`lrs[0]` is then the previous step's LRs). Returns null for inactive networks.
   * Never throws on divergence.
   */
  private runIntervals(
    ep: Episode,
    set: NetworkSet,
    lrs: number[][],
    prevValLoss: number[],
    active: boolean[],
    limit = Infinity,
    perStep?: StepLrSource,
  ): (IntervalOutcome | null)[] {
    if (perStep && set.size !== 1) throw new Error('LayerLrEnv: per-step LRs drive one network only');
    const s = ep.state;
    const n = s.numAgents;
    const batches = this.batchesFor(ep);
    const totalParams = ep.groupSizes.reduce((a, b) => a + b, 0);
    const acc = active.map((on, b) => {
      if (!on) return null;
      if (!perStep) set.setLearningRates(b, lrs[b]);
      return {
        firstLrs: lrs[b],
        lastLrs: lrs[b],
        gradNorm: new Float64Array(n),
        updateNorm: new Float64Array(n),
        signAgreement: new Float64Array(n),
        weightNorm: new Float64Array(n),
        losses: [] as number[],
        vars: [] as number[],
        netGrad: 0,
        netUpdate: 0,
        netSign: 0,
        netWeight: NaN,
        diverged: set.isDiverged(b),
      };
    });
    for (let j = 0; j < Math.min(batches.length, limit); j++) {
      const live = acc.map((a) => !!a && !a.diverged);
      if (!live.some(Boolean)) break;
      if (perStep) {
        const a0 = acc[0]!;
        const [lo, hi] = this.config.lrClip;
        const next = perStep.lrs({ sgdStep: s.sgdSteps + j, lrs: a0.lastLrs.slice() });
        if (!Array.isArray(next) || next.length !== n)
          throw new Error(
            `LayerLrEnv.stepWithLearningRates: got ${Array.isArray(next) ? next.length : typeof next} LRs for ${n} layers at SGD step ${s.sgdSteps + j}`,
          );
        a0.lastLrs = next.map((lr) => Math.min(hi, Math.max(lo, lr)));
        if (j === 0) a0.firstLrs = a0.lastLrs;
        set.setLearningRates(0, a0.lastLrs.slice());
      }
      const metrics = set.step(batches[j], live);
      perStep?.after?.(metrics[0]);
      acc.forEach((a, b) => {
        if (!a || !live[b]) return;
        const m = metrics[b];
        if (m.diverged) {
          a.diverged = true;
          return;
        }
        a.losses.push(m.loss);
        a.vars.push(m.perSampleLossVar);
        let g2 = 0;
        let u2 = 0;
        let w2 = 0;
        let sg = 0;
        for (let i = 0; i < n; i++) {
          a.gradNorm[i] += m.gradNorms[i];
          a.updateNorm[i] += m.updateNorms[i];
          a.signAgreement[i] += m.updateSignAgreement[i];
          g2 += m.gradNorms[i] * m.gradNorms[i];
          u2 += m.updateNorms[i] * m.updateNorms[i];
          w2 += m.weightNorms[i] * m.weightNorms[i];
          sg += m.updateSignAgreement[i] * ep.groupSizes[i];
        }
        a.netGrad += Math.sqrt(g2);
        a.netUpdate += Math.sqrt(u2);
        a.netSign += sg / totalParams;
        a.netWeight = Math.sqrt(w2);
        a.weightNorm = Float64Array.from(m.weightNorms);
      });
    }
    const evals = acc.some((a) => a && !a.diverged) ? set.evaluate(ep.val.x, ep.val.y, this.config.evalBatchSize) : [];
    return acc.map((a, b) => {
      if (!a) return null;
      let diverged = a.diverged;
      const steps = a.losses.length;
      for (let i = 0; i < n; i++) {
        a.gradNorm[i] = diverged ? NaN : a.gradNorm[i] / steps;
        a.updateNorm[i] = diverged ? NaN : a.updateNorm[i] / steps;
        a.signAgreement[i] = diverged ? NaN : a.signAgreement[i] / steps;
        if (diverged) a.weightNorm[i] = NaN;
      }
      const net: LayerIntervalStats = diverged
        ? { gradNormMean: NaN, weightNorm: NaN, updateNormMean: NaN, signAgreementMean: NaN }
        : {
            gradNormMean: a.netGrad / steps,
            weightNorm: a.netWeight,
            updateNormMean: a.netUpdate / steps,
            signAgreementMean: a.netSign / steps,
          };
      let valLoss = NaN;
      let valAccuracy = NaN;
      if (!diverged) {
        valLoss = evals[b].loss;
        valAccuracy = evals[b].accuracy;
        if (!Number.isFinite(valLoss)) diverged = true;
      }
      let reward: number;
      if (diverged) reward = -this.config.divergencePenalty;
      else {
        reward = -(Math.log(valLoss) - Math.log(prevValLoss[b]));
        if (s.t + 1 >= s.horizon && limit >= s.k) reward += this.config.terminalAccuracyWeight * valAccuracy;
      }
      if (this.config.rewardScale !== 1) reward *= this.config.rewardScale;
      return {
        diverged,
        stepDiverged: a.diverged,
        firstLrs: a.firstLrs,
        lastLrs: a.lastLrs,
        losses: a.losses,
        vars: a.vars,
        gradNorm: a.gradNorm,
        updateNorm: a.updateNorm,
        signAgreement: a.signAgreement,
        weightNorm: a.weightNorm,
        net,
        valLoss,
        valAccuracy,
        reward,
      };
    });
  }

  private freeDecision(ep: Episode): void {
    if (ep.snapshot) ep.trainer.disposeSnapshot(ep.snapshot);
    ep.snapshot = null;
    if (ep.intervalBatches) for (const b of ep.intervalBatches) tf.dispose([b.x, b.y]);
    ep.intervalBatches = null;
  }

  private disposeEpisode(): void {
    const ep = this.ep;
    if (!ep) return;
    this.freeDecision(ep);
    for (const sh of ep.shadows) {
      sh?.trainer?.dispose();
      sh?.model?.dispose();
    }
    ep.vec?.dispose();
    ep.replayVec?.dispose();
    ep.trainer.dispose();
    ep.model.dispose();
    ep.batches.dispose();
    tf.dispose([ep.val.x, ep.val.y]);
    this.ep = null;
  }
}

/** L2 norm of each parameter group's variables. */
function groupWeightNorms(model: SequentialModel): Float64Array {
  const t = tf.tidy(() =>
    tf.stack(model.groups.map((g) => tf.sqrt(tf.addN(g.variables.map((v) => tf.sum(tf.square(v))))))),
  );
  const out = Float64Array.from(t.dataSync());
  t.dispose();
  return out;
}

/**
 * Credit plug-in for **approximate** difference rewards (see
 * {@link LayerLrEnv.approximateDifferenceRewards}): replays only the first `m` of the K
 * mini-batches per branch. Not the exact difference reward unless `m = K`; use
 * `differenceStepAssigner()` from src/credit for the exact one.
 *
 * @example
 * ```ts
 * new PpoTrainer(config, envs, { credit: approximateDifferenceAssigner(3) });
 * ```
 */
export function approximateDifferenceAssigner(m: number): {
  prepare(env: unknown, actions: ArrayLike<number>): Float32Array;
  assign(ctx: { prepared: unknown }): Float32Array;
} {
  return {
    prepare(env, actions) {
      if (!(env instanceof LayerLrEnv))
        throw new Error('approximateDifferenceAssigner: works only with LayerLrEnv environments');
      return env.approximateDifferenceRewards(actions, m);
    },
    assign: (ctx) => ctx.prepared as Float32Array,
  };
}
