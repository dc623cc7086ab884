import { tf } from '../backend';
import { parseConfig, z } from '../config';
import type { Batch, BatchIterator } from '../data';
import type { MultiAgentEnv, MultiAgentEnvSpec, ResetResult, StepResult } from '../marl/env';
import { LayerwiseTrainer } from '../nn';
import type { SequentialModel, TrainerSnapshot } from '../nn';
import { ActionSetConfigSchema, makeActionSet } from './actions';
import type { ActionSet } from './actions';
import { DEFAULT_FEATURE_NAMES, FeatureRegistry } from './features';
import type { FeatureDef, GannoTrainingState } from './features';
import { TaskConfigSchema, TaskSampler, buildTaskModel, taskBatches } from './tasks';
import type { SampledTask } from './tasks';

/**
 * Configuration of {@link LayerLrEnv} (all reconstruction defaults, documented per field).
 * - `task`: the task distribution ({@link TaskConfigSchema}).
 * - `actions`: action set (default `'factors9'`), `lrClip` its clip range (default [1e-5, 1]).
 * - `features`: observation feature names (default all built-ins); `featureWarmup`: running-norm warm-up (20).
 * - `divergencePenalty`: the team reward of a step in which training diverges is `-divergencePenalty` (default 1); the episode then terminates.
 * - `terminalAccuracyWeight`: weight of the final validation accuracy added to the last step's reward (default 0 = off).
 * - `lossEmaBeta`: per-SGD-step EMA factor of the training loss and per-sample loss variance (0.9).
 * - `gradEmaBeta`: per-decision EMA factor of log gradient norms (0.9).
 * - `evalBatchSize`: validation evaluation batch size (512; does not change results beyond float rounding order).
 *
 * @example
 * ```ts
 * const cfg = LayerLrEnvConfigSchema.parse({ task: { k: 20, totalSteps: 600 }, actions: 'factors3' });
 * cfg.divergencePenalty; // 1
 * ```
 */
export const LayerLrEnvConfigSchema = z
  .object({
    task: TaskConfigSchema.default({}),
    actions: ActionSetConfigSchema.default('factors9'),
    lrClip: z.tuple([z.number().positive(), z.number().positive()]).default([1e-5, 1]),
    features: z.array(z.string()).default(DEFAULT_FEATURE_NAMES.slice()),
    featureWarmup: z.number().int().nonnegative().default(20),
    divergencePenalty: z.number().nonnegative().finite().default(1),
    terminalAccuracyWeight: z.number().nonnegative().finite().default(0),
    lossEmaBeta: z.number().min(0).lt(1).default(0.9),
    gradEmaBeta: z.number().min(0).lt(1).default(0.9),
    evalBatchSize: z.number().int().positive().default(512),
  })
  .strict();
export type LayerLrEnvConfig = z.input<typeof LayerLrEnvConfigSchema>;

/** Per-step `info` of {@link LayerLrEnv}. */
export type LayerLrInfo = {
  /** LR per layer used in this interval. */
  lrs: number[];
  /** Mean training loss over the interval's K steps (NaN if diverged). */
  trainLoss: number;
  valLoss: number;
  valAccuracy: number;
  diverged: boolean;
  /** SGD steps taken in this episode. */
  sgdSteps: number;
  /** Wall seconds of the factual step (K SGD steps, validation, observations). */
  stepSeconds: number;
  /** Wall seconds spent in counterfactual replays for this decision (0 with shared rewards). */
  counterfactualSeconds: number;
  /** Counterfactual branches replayed for this decision. */
  counterfactualBranches: number;
};

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
}

interface IntervalOutcome {
  diverged: boolean;
  losses: number[];
  vars: number[];
  gradNorm: Float64Array;
  updateNorm: Float64Array;
  signAgreement: Float64Array;
  weightNorm: Float64Array;
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
 * last step; a divergence (non-finite loss or weights) gives `-divergencePenalty` and terminates.
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
 * @example
 * ```ts
 * const env = new LayerLrEnv({ task: { depth: [2, 2], k: 10, totalSteps: 300 } });
 * let r = env.reset(1);
 * while (true) {
 *   const s = env.step(r.observations.map((_, i) => env.defaultAction(i))); // keep every LR
 *   if (s.terminated || s.truncated) break;
 *   r = s;
 * }
 * env.dispose();
 * ```
 */
export class LayerLrEnv implements MultiAgentEnv<LayerLrInfo> {
  readonly config: z.output<typeof LayerLrEnvConfigSchema>;
  readonly sampler: TaskSampler;
  readonly actionSet: ActionSet;
  /** The observation features; edit from a notebook, then `reset`. */
  readonly features: FeatureRegistry;
  private ep: Episode | null = null;

  constructor(config: LayerLrEnvConfig = {}) {
    this.config = parseConfig(LayerLrEnvConfigSchema, config, 'LayerLrEnv config');
    this.sampler = new TaskSampler(this.config.task);
    this.actionSet = makeActionSet(this.config.actions, this.config.lrClip);
    this.features = new FeatureRegistry(this.config.features, { warmup: this.config.featureWarmup });
  }

  /** Spaces; `observationSize` follows the feature registry. */
  get spec(): MultiAgentEnvSpec {
    return { observationSize: this.features.observationSize, numActions: this.actionSet.size, maxSteps: this.sampler.horizon };
  }

  /** The current episode's task (throws before the first reset). */
  get task(): SampledTask {
    return this.episode('task').task;
  }

  /** The current episode's trainer (read-only use: weights, LRs, evaluation on other data). */
  get trainer(): LayerwiseTrainer {
    return this.episode('trainer').trainer;
  }

  /** The current training state that features read. */
  get state(): GannoTrainingState {
    return this.episode('state').state;
  }

  /** Number of agents in the current episode (0 before reset). */
  get numAgents(): number {
    return this.ep ? this.ep.state.numAgents : 0;
  }

  reset(seed: number): ResetResult {
    this.disposeEpisode();
    const task = this.sampler.sample(seed);
    const model = buildTaskModel(task);
    const n = model.groups.length;
    const trainer = new LayerwiseTrainer(model, {
      optimizer: task.optimizer,
      learningRates: task.initialLr,
      weightDecay: task.weightDecay,
      seed: task.trainerSeed,
    });
    const batches = taskBatches(task);
    const val = tf.tidy(() => {
      const v = task.validation;
      const shape = task.model === 'mlp' ? [v.n, v.height * v.width * v.channels] : [v.n, v.height, v.width, v.channels];
      return { x: tf.tensor(v.images, shape, 'float32'), y: tf.tensor1d(v.labels, 'int32') };
    });
    const ev = trainer.evaluate(val.x, val.y, this.config.evalBatchSize);
    const lrs = trainer.learningRates;
    const prev = new Int32Array(n);
    for (let i = 0; i < n; i++) prev[i] = this.actionSet.defaultAction(lrs[i], task.initialLr);
    const weightNorms = groupWeightNorms(model);
    const state: GannoTrainingState = {
      t: 0,
      horizon: this.sampler.horizon,
      k: task.k,
      sgdSteps: 0,
      numAgents: n,
      numActions: this.actionSet.size,
      lrs,
      referenceLr: task.initialLr,
      lrHistory: [lrs.slice()],
      prevActions: prev,
      layers: Array.from({ length: n }, (_, i) => ({ gradNormMean: NaN, weightNorm: weightNorms[i], updateNormMean: NaN, signAgreementMean: NaN })),
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
    this.ep = { task, model, trainer, batches, val, state, done: false, snapshot: null, intervalBatches: null, cfSeconds: 0, cfBranches: 0 };
    return { observations: this.features.observe(state) };
  }

  /** "Keep LR" for agent `i` (see {@link ActionSet.defaultAction}). */
  defaultAction(agent: number): number {
    const ep = this.episode('defaultAction');
    if (!Number.isInteger(agent) || agent < 0 || agent >= ep.state.numAgents) throw new Error(`LayerLrEnv.defaultAction: agent ${agent} is not in [0, ${ep.state.numAgents})`);
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
    if (!ep.snapshot) ep.snapshot = ep.trainer.snapshot();
    const out = this.runInterval(ep, lrs);
    ep.trainer.restore(ep.snapshot);
    ep.cfSeconds += (performance.now() - started) / 1000;
    ep.cfBranches++;
    return out.reward;
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
    if (!Number.isInteger(m) || m < 1 || m > ep.state.k) throw new Error(`LayerLrEnv.approximateDifferenceRewards: m (replayed steps) must be an integer in [1, K = ${ep.state.k}], got ${m}`);
    const lrs = this.nextLrs(actions, 'approximateDifferenceRewards');
    const n = ep.state.numAgents;
    const out = new Float32Array(n);
    const started = performance.now();
    if (!ep.snapshot) ep.snapshot = ep.trainer.snapshot();
    let factual: number | undefined;
    const alt = Array.from(actions);
    for (let i = 0; i < n; i++) {
      const def = this.defaultAction(i);
      if (alt[i] === def) continue;
      if (factual === undefined) {
        factual = this.runInterval(ep, lrs, m).reward;
        ep.trainer.restore(ep.snapshot);
        ep.cfBranches++;
      }
      const keep = alt[i];
      alt[i] = def;
      const g = this.runInterval(ep, this.nextLrs(alt, 'approximateDifferenceRewards'), m).reward;
      alt[i] = keep;
      ep.trainer.restore(ep.snapshot);
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
    const out = this.runInterval(ep, lrs);
    // Advance the batch iterator past this interval's K batches, free the shared replay state.
    const g = ep.batches.globalStep + s.k;
    ep.batches.seek({ epoch: Math.floor(g / ep.batches.batchesPerEpoch), step: g % ep.batches.batchesPerEpoch });
    this.freeDecision(ep);

    // Update the training state.
    const beta = this.config.lossEmaBeta;
    s.trainLossEmaPrev = s.trainLossEma;
    for (let j = 0; j < out.losses.length; j++) {
      s.trainLossEma = Number.isNaN(s.trainLossEma) ? out.losses[j] : beta * s.trainLossEma + (1 - beta) * out.losses[j];
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
      s.layers[i] = { gradNormMean: out.gradNorm[i], weightNorm: out.weightNorm[i], updateNormMean: out.updateNorm[i], signAgreementMean: out.signAgreement[i] };
    }
    s.trainLossMean = out.losses.length ? out.losses.reduce((a, b) => a + b, 0) / out.losses.length : NaN;
    s.t += 1;
    s.sgdSteps += out.losses.length;
    s.lrs = lrs.slice();
    s.lrHistory.push(lrs.slice());
    s.prevActions = Int32Array.from(actions);
    s.valLoss = out.valLoss;
    s.valAccuracy = out.valAccuracy;
    s.valLossHistory.push(out.valLoss);
    s.diverged = out.diverged;
    const terminated = out.diverged || s.t >= s.horizon;
    ep.done = terminated;
    const n = s.numAgents;
    const observations = this.features.observe(s);
    const info: LayerLrInfo = {
      lrs: lrs.slice(),
      trainLoss: out.diverged ? NaN : s.trainLossMean,
      valLoss: out.valLoss,
      valAccuracy: out.valAccuracy,
      diverged: out.diverged,
      sgdSteps: s.sgdSteps,
      stepSeconds: (performance.now() - started) / 1000,
      counterfactualSeconds: ep.cfSeconds,
      counterfactualBranches: ep.cfBranches,
    };
    ep.cfSeconds = 0;
    ep.cfBranches = 0;
    return { observations, rewards: new Float32Array(n).fill(out.reward), teamReward: out.reward, terminated, truncated: false, info };
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

  private nextLrs(actions: ArrayLike<number>, where: string): number[] {
    const s = this.ep!.state;
    if (!actions || actions.length !== s.numAgents) throw new Error(`LayerLrEnv.${where}: got ${actions ? actions.length : actions} actions for ${s.numAgents} agents (one per layer)`);
    const out: number[] = [];
    for (let i = 0; i < s.numAgents; i++) {
      const a = actions[i];
      if (!Number.isInteger(a) || a < 0 || a >= this.actionSet.size) throw new Error(`LayerLrEnv.${where}: action ${a} of agent ${i} is not an integer in [0, ${this.actionSet.size})`);
      out.push(this.actionSet.apply(s.lrs[i], a, s.referenceLr));
    }
    return out;
  }

  /** The current decision's K batches, created once and shared by every branch of this decision. */
  private batchesFor(ep: Episode): Batch[] {
    if (!ep.intervalBatches) ep.intervalBatches = ep.batches.peekIndices(ep.state.k).map((idx) => ep.batches.batchFromIndices(idx));
    return ep.intervalBatches;
  }

  /** Runs K steps with `lrs` from the trainer's current state and evaluates; never throws on divergence. */
  private runInterval(ep: Episode, lrs: number[], limit = Infinity): IntervalOutcome {
    const s = ep.state;
    const n = s.numAgents;
    ep.trainer.setLearningRates(lrs);
    const batches = this.batchesFor(ep);
    const gradNorm = new Float64Array(n);
    const updateNorm = new Float64Array(n);
    const signAgreement = new Float64Array(n);
    let weightNorm = new Float64Array(n);
    const losses: number[] = [];
    const vars: number[] = [];
    let diverged = ep.trainer.diverged;
    for (let j = 0; j < Math.min(batches.length, limit) && !diverged; j++) {
      const m = ep.trainer.step(batches[j]);
      if (m.diverged) {
        diverged = true;
        break;
      }
      losses.push(m.loss);
      vars.push(m.perSampleLossVar);
      for (let i = 0; i < n; i++) {
        gradNorm[i] += m.gradNorms[i];
        updateNorm[i] += m.updateNorms[i];
        signAgreement[i] += m.updateSignAgreement[i];
      }
      weightNorm = Float64Array.from(m.weightNorms);
    }
    const steps = losses.length;
    for (let i = 0; i < n; i++) {
      gradNorm[i] = diverged ? NaN : gradNorm[i] / steps;
      updateNorm[i] = diverged ? NaN : updateNorm[i] / steps;
      signAgreement[i] = diverged ? NaN : signAgreement[i] / steps;
      if (diverged) weightNorm[i] = NaN;
    }
    let valLoss = NaN;
    let valAccuracy = NaN;
    if (!diverged) {
      const ev = ep.trainer.evaluate(ep.val.x, ep.val.y, this.config.evalBatchSize);
      valLoss = ev.loss;
      valAccuracy = ev.accuracy;
      if (!Number.isFinite(valLoss)) diverged = true;
    }
    let reward: number;
    if (diverged) reward = -this.config.divergencePenalty;
    else {
      reward = -(Math.log(valLoss) - Math.log(s.valLoss));
      if (s.t + 1 >= s.horizon && limit >= s.k) reward += this.config.terminalAccuracyWeight * valAccuracy;
    }
    return { diverged, losses, vars, gradNorm, updateNorm, signAgreement, weightNorm, valLoss, valAccuracy, reward };
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
    ep.trainer.dispose();
    ep.model.dispose();
    ep.batches.dispose();
    tf.dispose([ep.val.x, ep.val.y]);
    this.ep = null;
  }
}

/** L2 norm of each parameter group's variables. */
function groupWeightNorms(model: SequentialModel): Float64Array {
  const t = tf.tidy(() => tf.stack(model.groups.map((g) => tf.sqrt(tf.addN(g.variables.map((v) => tf.sum(tf.square(v))))))));
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
export function approximateDifferenceAssigner(m: number): { prepare(env: unknown, actions: ArrayLike<number>): Float32Array; assign(ctx: { prepared: unknown }): Float32Array } {
  return {
    prepare(env, actions) {
      if (!(env instanceof LayerLrEnv)) throw new Error('approximateDifferenceAssigner: works only with LayerLrEnv environments');
      return env.approximateDifferenceRewards(actions, m);
    },
    assign: (ctx) => ctx.prepared as Float32Array,
  };
}
