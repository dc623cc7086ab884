import { tf } from '../backend';
import { parseConfig, z } from '../config';
import { Rng, deriveSeed, type RngState } from '../random';
import { Adam, clipGradNorm } from './adam';
import { expectTensor, readCheckpoint, writeCheckpoint } from './checkpoint';
import type { MultiAgentEnv } from './env';
import { computeGae } from './gae';
import { ActorCritic, PolicyConfigSchema, type PolicyConfig, type ResolvedPolicyConfig } from './policy';
import { ppoLoss } from './ppo-loss';
import { RolloutCollector, type CollectorState, type CreditAssigner, type Rollout, type Trajectory } from './rollout';
import { ValueNormalizer, type ValueNormState } from './value-norm';

export const PpoConfigSchema = z
  .object({
    gamma: z.number().min(0).max(1).default(0.99),
    gaeLambda: z.number().min(0).max(1).default(0.95),
    /** Ratio clip ε. */
    clip: z.number().positive().default(0.2),
    /**
     * Clip value predictions around the rollout values (range `valueClipRange`, default = clip),
     * in the critic's output units (standardised when `valueNorm` is on). Off by default: with
     * raw returns of a few units an absolute ±0.2 clip zeroes most of the value gradient.
     */
    clipValue: z.boolean().default(false),
    valueClipRange: z.number().positive().optional(),
    /**
     * Normalise value targets with running return statistics ({@link ValueNormalizer}): the critic
     * predicts standardised returns, GAE uses de-normalised values. Replaces a hand-set reward scale.
     */
    valueNorm: z.boolean().default(true),
    /** Per-update decay of the value-normalisation statistics (MAPPO's 0.99999). */
    valueNormBeta: z.number().min(0).lt(1).default(0.99999),
    valueCoef: z.number().min(0).default(0.5),
    entropyCoef: z.number().min(0).default(0.01),
    /**
     * Gradient-norm clip (null: none). With `gradClip: 'separate'` (default) the actor's and the
     * critic's gradients are clipped each to their own norm (`maxGradNorm`, `criticMaxGradNorm`),
     * so a large value-loss gradient no longer shrinks the policy step; `'joint'` clips the
     * concatenated gradient to `maxGradNorm` (CleanRL).
     */
    maxGradNorm: z.number().positive().nullable().default(0.5),
    criticMaxGradNorm: z.number().positive().nullable().optional(),
    gradClip: z.enum(['separate', 'joint']).default('separate'),
    epochs: z.number().int().positive().default(4),
    minibatches: z.number().int().positive().default(2),
    /** Adam learning rate of the actor (and of the critic unless `criticLearningRate` is set). */
    learningRate: z.number().positive().default(2.5e-4),
    criticLearningRate: z.number().positive().optional(),
    adamEps: z.number().positive().default(1e-8),
    /** Normalise advantages per minibatch (mean 0, std 1 over real samples). */
    normalizeAdvantages: z.boolean().default(true),
    /** Steps per training sequence chunk for recurrent policies (hidden states stored at chunk starts). */
    chunkLength: z.number().int().positive().default(16),
  })
  .strict();
export type PpoConfig = z.input<typeof PpoConfigSchema>;

export const RolloutConfigSchema = z
  .object({
    mode: z.enum(['episodes', 'steps']).default('episodes'),
    episodesPerEnv: z.number().int().positive().default(1),
    numSteps: z.number().int().positive().default(128),
  })
  .strict();
export type RolloutConfig = z.input<typeof RolloutConfigSchema>;

export const PpoTrainerConfigSchema = z
  .object({
    policy: z.record(z.unknown()),
    ppo: z.record(z.unknown()).default({}),
    rollout: z.record(z.unknown()).default({}),
    seed: z.number().int().default(0),
  })
  .strict();

/** Trainer configuration: policy, PPO hyper-parameters, rollout shape, one seed for everything. */
export interface PpoTrainerConfig {
  policy: PolicyConfig;
  ppo?: PpoConfig;
  rollout?: RolloutConfig;
  seed?: number;
}

/** Resolved (defaulted) trainer configuration, as stored in checkpoints. */
export interface ResolvedPpoTrainerConfig {
  policy: ResolvedPolicyConfig;
  ppo: z.output<typeof PpoConfigSchema>;
  rollout: z.output<typeof RolloutConfigSchema>;
  seed: number;
}

/**
 * Statistics and learner diagnostics of one PPO update. Loss terms are means over the minibatches
 * of the last epoch; `clipFraction` and the gradient norms are over all minibatches of all epochs;
 * the policy diagnostics (`kl`, `klFromInitial`, `policyEntropy`, `maxProb`) are measured after the
 * update on every sample of the rollout.
 */
export interface UpdateStats {
  update: number;
  policyLoss: number;
  /** Value loss in the critic's units (standardised returns when `valueNorm` is on). */
  valueLoss: number;
  /** Mean policy entropy over the last epoch's minibatches (nats). */
  entropy: number;
  /** Approximate KL ((ρ−1) − log ρ) at the last epoch's minibatches. */
  approxKl: number;
  /** Fraction of samples whose ratio was outside 1 ± clip, over all epochs and minibatches. */
  clipFraction: number;
  /** Mean pre-clipping gradient norm over all minibatches: actor and critic together. */
  gradNorm: number;
  /** Mean and max pre-clipping gradient norm of the actor's parameters. */
  actorGradNorm: number;
  actorGradNormMax: number;
  /** Mean and max pre-clipping gradient norm of the critic's parameters. */
  criticGradNorm: number;
  criticGradNormMax: number;
  /** Approximate KL of the updated policy from the behaviour policy over the whole rollout. */
  kl: number;
  /** Mean exact KL(π_θ ‖ π_0) of the updated policy from the initial (untrained) policy over the rollout's observations. */
  klFromInitial: number;
  /** Mean entropy of the updated policy over the rollout's observations (nats; ln A = uniform). */
  policyEntropy: number;
  /** Mean probability of the most probable action under the updated policy. */
  maxProb: number;
  /** 1 − Var(R − V)/Var(R) of the rollout's value predictions against its returns (before the update). */
  explainedVariance: number;
  /** How often each action was taken in the rollout. */
  actionCounts: number[];
  /** Mean and standard deviation of the value targets (raw units). */
  returnMean: number;
  returnStd: number;
  samples: number;
  chunks: number;
  /** Mean team return of the episodes finished in this rollout (NaN if none). */
  meanTeamReturn: number;
  episodes: number;
}

/** A training batch: trajectories cut into equal-length chunks (zero-padded, with a mask). */
export interface ChunkBatch {
  chunks: number;
  length: number;
  observations: Float32Array;
  states?: Float32Array;
  actionMasks?: Float32Array;
  agentIndex: Int32Array;
  actorHidden: Float32Array;
  criticHidden: Float32Array;
  actions: Int32Array;
  oldLogProbs: Float32Array;
  oldValues: Float32Array;
  advantages: Float32Array;
  returns: Float32Array;
  mask: Float32Array;
}

const CHECKPOINT_KIND = 'ppo-trainer';

/**
 * IPPO / MAPPO trainer for {@link ActorCritic} policies on {@link MultiAgentEnv}s: batched
 * rollouts, GAE, the clipped PPO objective with entropy bonus, value targets normalised by running
 * return statistics (optional value clipping in normalised units), PyTorch-exact Adam for actor
 * and critic (own learning rates) with their gradients clipped separately, epochs x minibatches
 * over sequence chunks (recurrent policies train on chunks started from their stored hidden
 * states), optional credit-assignment plug-in, learner diagnostics on every update (KL per update
 * and from the initial policy, entropy, clip fraction, critic explained variance, gradient norms,
 * action histogram) and exact checkpoint/resume. IPPO vs MAPPO is the policy's `critic` option.
 *
 * @example
 * ```ts
 * const envs = [0, 1, 2, 3].map(() => new MemoryCueEnv({ length: 4 }));
 * const trainer = new PpoTrainer({ policy: { observationSize: 4, numActions: 2, torso: 'gru' }, seed: 1 }, envs);
 * const history = trainer.train(50);
 * trainer.saveCheckpoint('runs/memory');
 * trainer.dispose();
 * ```
 */
export class PpoTrainer {
  readonly config: ResolvedPpoTrainerConfig;
  readonly policy: ActorCritic;
  /** Adam of the actor's parameters. */
  readonly optimizer: Adam;
  /** Adam of the critic's parameters. */
  readonly criticOptimizer: Adam;
  readonly collector: RolloutCollector;
  /** Running statistics of the value targets (identity when `valueNorm` is off). */
  readonly valueNorm: ValueNormalizer;
  /** Updates done so far. */
  updates = 0;
  private readonly minibatchRng: Rng;
  /** A frozen copy of the initial policy: the reference of `klFromInitial`. */
  private readonly initialPolicy: ActorCritic;

  constructor(
    config: PpoTrainerConfig,
    readonly envs: MultiAgentEnv[],
    hooks: { credit?: CreditAssigner } = {},
  ) {
    const raw = parseConfig(PpoTrainerConfigSchema, config, 'PPO trainer config');
    const seed = raw.seed;
    const policyRaw = { ...raw.policy };
    if (policyRaw.seed === undefined) policyRaw.seed = deriveSeed(seed, 'policy') | 0;
    this.config = {
      policy: parseConfig(PolicyConfigSchema, policyRaw, 'PPO trainer config policy'),
      ppo: parseConfig(PpoConfigSchema, raw.ppo, 'PPO trainer config ppo'),
      rollout: parseConfig(RolloutConfigSchema, raw.rollout, 'PPO trainer config rollout'),
      seed,
    };
    this.policy = new ActorCritic(this.config.policy);
    this.initialPolicy = new ActorCritic(this.config.policy);
    const ppo = this.config.ppo;
    this.optimizer = new Adam({ lr: ppo.learningRate, eps: ppo.adamEps });
    this.criticOptimizer = new Adam({ lr: ppo.criticLearningRate ?? ppo.learningRate, eps: ppo.adamEps });
    this.valueNorm = new ValueNormalizer(ppo.valueNormBeta);
    this.collector = new RolloutCollector(envs, this.policy, {
      ...this.config.rollout,
      seed: deriveSeed(seed, 'rollout'),
      credit: hooks.credit,
    });
    this.minibatchRng = new Rng(deriveSeed(seed, 'minibatches'));
  }

  /**
   * Runs `updates` iterations of collect + update; `onUpdate` sees each update's stats. An aborted
   * `signal` stops the loop before the next update (throwing the signal's reason); the updates done
   * so far stay applied to the trainer.
   */
  train(updates: number, onUpdate?: (stats: UpdateStats) => void, signal?: AbortSignal): UpdateStats[] {
    if (!(Number.isInteger(updates) && updates >= 0))
      throw new Error(`PpoTrainer.train: updates must be a non-negative integer, got ${updates}`);
    const history: UpdateStats[] = [];
    for (let i = 0; i < updates; i++) {
      signal?.throwIfAborted();
      const stats = this.update(this.collector.collect());
      history.push(stats);
      onUpdate?.(stats);
    }
    return history;
  }

  /** Turns a rollout into a chunked batch with GAE advantages and returns. */
  buildBatch(rollout: Rollout): ChunkBatch {
    const { gamma, gaeLambda, chunkLength } = this.config.ppo;
    const p = this.config.policy;
    const recurrent = p.torso === 'gru';
    const L = recurrent ? chunkLength : 1;
    const pieces: { traj: Trajectory; start: number; len: number; adv: Float32Array; ret: Float32Array }[] = [];
    const vn = this.config.ppo.valueNorm ? this.valueNorm : null;
    for (const traj of rollout.trajectories) {
      // The critic predicts standardised returns when value normalisation is on: GAE needs raw units.
      const values = vn ? Float32Array.from(traj.values, (v) => vn.denormalize(v)) : traj.values;
      const next = vn && traj.nextValue !== 0 ? vn.denormalize(traj.nextValue) : traj.nextValue;
      const { advantages, returns } = computeGae(traj.rewards, values, next, gamma, gaeLambda);
      for (let s = 0; s < traj.length; s += L)
        pieces.push({ traj, start: s, len: Math.min(L, traj.length - s), adv: advantages, ret: returns });
    }
    const C = pieces.length;
    const O = p.observationSize;
    const S = p.critic === 'centralised' ? p.stateSize : 0;
    const A = p.numActions;
    const ha = this.policy.actorHiddenSize;
    const hc = this.policy.criticHiddenSize;
    const anyMasks = rollout.trajectories.some((t) => t.actionMasks.length > 0);
    const b: ChunkBatch = {
      chunks: C,
      length: L,
      observations: new Float32Array(C * L * O),
      states: S ? new Float32Array(C * L * S) : undefined,
      actionMasks: anyMasks ? new Float32Array(C * L * A).fill(1) : undefined,
      agentIndex: new Int32Array(C),
      actorHidden: new Float32Array(C * ha),
      criticHidden: new Float32Array(C * hc),
      actions: new Int32Array(C * L),
      oldLogProbs: new Float32Array(C * L),
      oldValues: new Float32Array(C * L),
      advantages: new Float32Array(C * L),
      returns: new Float32Array(C * L),
      mask: new Float32Array(C * L),
    };
    pieces.forEach(({ traj, start, len, adv, ret }, c) => {
      b.agentIndex[c] = traj.agent;
      b.actorHidden.set(traj.actorHidden.subarray(start * ha, (start + 1) * ha), c * ha);
      b.criticHidden.set(traj.criticHidden.subarray(start * hc, (start + 1) * hc), c * hc);
      const r0 = c * L;
      b.observations.set(traj.observations.subarray(start * O, (start + len) * O), r0 * O);
      if (b.states) b.states.set(traj.states.subarray(start * S, (start + len) * S), r0 * S);
      if (b.actionMasks && traj.actionMasks.length)
        b.actionMasks.set(traj.actionMasks.subarray(start * A, (start + len) * A), r0 * A);
      for (let t = 0; t < len; t++) {
        b.actions[r0 + t] = traj.actions[start + t];
        b.oldLogProbs[r0 + t] = traj.logProbs[start + t];
        b.oldValues[r0 + t] = traj.values[start + t];
        b.advantages[r0 + t] = adv[start + t];
        b.returns[r0 + t] = ret[start + t];
        b.mask[r0 + t] = 1;
      }
    });
    return b;
  }

  /**
   * One PPO update (epochs x minibatches) on a collected rollout, returning its statistics and
   * learner diagnostics. With `valueNorm` the running return statistics take in this rollout's
   * returns first, then the critic is fitted to the standardised returns.
   */
  update(rollout: Rollout): UpdateStats {
    const cfg = this.config.ppo;
    const batch = this.buildBatch(rollout);
    const C = batch.chunks;
    if (C === 0) throw new Error('PpoTrainer.update: the rollout holds no samples');
    const before = this.rolloutDiagnostics(batch);
    if (cfg.valueNorm) {
      this.valueNorm.update(batch.returns, batch.mask);
      for (let i = 0; i < batch.returns.length; i++)
        batch.returns[i] = batch.mask[i] ? this.valueNorm.normalize(batch.returns[i]) : 0;
    }
    const nMb = Math.min(cfg.minibatches, C);
    const vars = this.policy.variables();
    const varList = [...vars.values()];
    const nameOf = new Map<tf.Variable, string>();
    for (const [n, v] of vars) nameOf.set(v, n);
    const norms = { total: 0, actor: 0, critic: 0, actorMax: 0, criticMax: 0 };
    let clipSum = 0;
    let mbCount = 0;
    let last = { policyLoss: 0, valueLoss: 0, entropy: 0, approxKl: 0 };
    for (let epoch = 0; epoch < cfg.epochs; epoch++) {
      const perm = this.minibatchRng.permutation(C);
      const sums = { policyLoss: 0, valueLoss: 0, entropy: 0, approxKl: 0 };
      for (let m = 0; m < nMb; m++) {
        const lo = Math.floor((m * C) / nMb);
        const hi = Math.floor(((m + 1) * C) / nMb);
        const mb = sliceChunks(batch, perm.subarray(lo, hi));
        if (cfg.normalizeAdvantages) normalizeMasked(mb.advantages, mb.mask);
        const { grads, terms } = this.gradients(mb, varList, nameOf);
        const { actor, critic } = splitActorCritic(grads);
        const a = this.clip(actor, cfg.gradClip === 'joint' ? null : cfg.maxGradNorm);
        const c = this.clip(critic, cfg.gradClip === 'joint' ? null : (cfg.criticMaxGradNorm ?? cfg.maxGradNorm));
        let total = Math.hypot(a.norm, c.norm);
        let actorGrads = a.grads;
        let criticGrads = c.grads;
        if (cfg.gradClip === 'joint' && cfg.maxGradNorm !== null) {
          const joint = clipGradNorm(new Map([...a.grads, ...c.grads]), cfg.maxGradNorm);
          total = joint.totalNorm;
          ({ actor: actorGrads, critic: criticGrads } = splitActorCritic(joint.grads));
        }
        this.optimizer.apply(vars, actorGrads);
        this.criticOptimizer.apply(vars, criticGrads);
        for (const t of [...actorGrads.values(), ...criticGrads.values()]) t.dispose();
        norms.total += total;
        norms.actor += a.norm;
        norms.critic += c.norm;
        norms.actorMax = Math.max(norms.actorMax, a.norm);
        norms.criticMax = Math.max(norms.criticMax, c.norm);
        clipSum += terms.clipFraction;
        mbCount++;
        for (const k of Object.keys(sums) as (keyof typeof sums)[]) sums[k] += terms[k];
      }
      last = {
        policyLoss: sums.policyLoss / nMb,
        valueLoss: sums.valueLoss / nMb,
        entropy: sums.entropy / nMb,
        approxKl: sums.approxKl / nMb,
      };
    }
    this.updates++;
    const after = this.policyDiagnostics(batch);
    const returns = rollout.episodes.map((e) => e.teamReturn);
    return {
      update: this.updates,
      ...last,
      clipFraction: clipSum / mbCount,
      gradNorm: norms.total / mbCount,
      actorGradNorm: norms.actor / mbCount,
      actorGradNormMax: norms.actorMax,
      criticGradNorm: norms.critic / mbCount,
      criticGradNormMax: norms.criticMax,
      ...after,
      ...before,
      samples: rollout.agentSteps,
      chunks: C,
      meanTeamReturn: returns.length ? returns.reduce((a, b) => a + b, 0) / returns.length : NaN,
      episodes: returns.length,
    };
  }

  /** Norm of a gradient group, clipped to `maxNorm` when given (the group's tensors are replaced when scaled). */
  private clip(
    grads: Map<string, tf.Tensor>,
    maxNorm: number | null | undefined,
  ): { grads: Map<string, tf.Tensor>; norm: number } {
    if (grads.size === 0) return { grads, norm: 0 };
    if (maxNorm === null || maxNorm === undefined) return { grads, norm: globalNorm(grads) };
    const r = clipGradNorm(grads, maxNorm);
    return { grads: r.grads, norm: r.totalNorm };
  }

  /** Critic fit and action histogram of a rollout, before the update (raw return units). */
  private rolloutDiagnostics(
    batch: ChunkBatch,
  ): Pick<UpdateStats, 'explainedVariance' | 'actionCounts' | 'returnMean' | 'returnStd'> {
    const vn = this.config.ppo.valueNorm ? this.valueNorm : null;
    const counts = new Array<number>(this.config.policy.numActions).fill(0);
    const ret: number[] = [];
    const err: number[] = [];
    for (let i = 0; i < batch.mask.length; i++) {
      if (!batch.mask[i]) continue;
      counts[batch.actions[i]]++;
      const v = vn ? vn.denormalize(batch.oldValues[i]) : batch.oldValues[i];
      ret.push(batch.returns[i]);
      err.push(batch.returns[i] - v);
    }
    const varRet = variance(ret);
    return {
      explainedVariance: varRet > 0 ? 1 - variance(err) / varRet : NaN,
      actionCounts: counts,
      returnMean: ret.reduce((a, b) => a + b, 0) / Math.max(1, ret.length),
      returnStd: Math.sqrt(varRet),
    };
  }

  /** KL from the behaviour and the initial policy, entropy and max probability of the current policy over a batch. */
  private policyDiagnostics(
    batch: ChunkBatch,
  ): Pick<UpdateStats, 'kl' | 'klFromInitial' | 'policyEntropy' | 'maxProb'> {
    const input = {
      chunks: batch.chunks,
      length: batch.length,
      observations: batch.observations,
      agentIndex: batch.agentIndex,
      states: batch.states,
      actorHidden: batch.actorHidden,
      criticHidden: batch.criticHidden,
      actionMasks: batch.actionMasks,
    };
    const t = tf.tidy(() => {
      const cur = this.policy.sequence(input).logProbs;
      const ref = this.initialPolicy.sequence(input).logProbs;
      const mask = tf.tensor1d(batch.mask);
      const count = tf.maximum(tf.sum(mask), 1);
      const mmean = (x: tf.Tensor) => tf.div(tf.sum(tf.mul(x, mask)), count);
      const p = tf.exp(cur);
      const newLogp = tf.sum(tf.mul(cur, tf.oneHot(tf.tensor1d(batch.actions, 'int32'), cur.shape[1])), 1);
      const logRatio = tf.sub(newLogp, tf.tensor1d(batch.oldLogProbs));
      // Masked-out actions carry log-probabilities of about -1e9 under both policies: p = 0 there, so they add 0.
      const klInit = tf.sum(tf.mul(p, tf.sub(cur, ref)), 1);
      return tf.stack([
        mmean(tf.sub(tf.sub(tf.exp(logRatio), 1), logRatio)),
        mmean(klInit),
        mmean(tf.neg(tf.sum(tf.mul(p, cur), 1))),
        mmean(tf.max(p, 1)),
      ]);
    });
    const v = t.dataSync();
    t.dispose();
    return { kl: v[0], klFromInitial: v[1], policyEntropy: v[2], maxProb: v[3] };
  }

  /** Loss terms and gradients (keyed by parameter name) on one minibatch. */
  gradients(
    mb: ChunkBatch,
    varList: tf.Variable[] = [...this.policy.variables().values()],
    nameOf?: Map<tf.Variable, string>,
  ): {
    grads: Map<string, tf.Tensor>;
    terms: Record<'loss' | 'policyLoss' | 'valueLoss' | 'entropy' | 'approxKl' | 'clipFraction', number>;
  } {
    const cfg = this.config.ppo;
    const names = nameOf ?? new Map([...this.policy.variables()].map(([n, v]) => [v, n]));
    let aux: tf.Tensor[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const { logProbs, values } = this.policy.sequence({
        chunks: mb.chunks,
        length: mb.length,
        observations: mb.observations,
        agentIndex: mb.agentIndex,
        states: mb.states,
        actorHidden: mb.actorHidden,
        criticHidden: mb.criticHidden,
        actionMasks: mb.actionMasks,
      });
      const terms = ppoLoss(
        {
          logProbs,
          values,
          actions: tf.tensor1d(mb.actions, 'int32'),
          oldLogProbs: tf.tensor1d(mb.oldLogProbs),
          advantages: tf.tensor1d(mb.advantages),
          returns: tf.tensor1d(mb.returns),
          oldValues: tf.tensor1d(mb.oldValues),
          mask: tf.tensor1d(mb.mask),
        },
        {
          clip: cfg.clip,
          valueClip: cfg.clipValue ? (cfg.valueClipRange ?? cfg.clip) : null,
          valueCoef: cfg.valueCoef,
          entropyCoef: cfg.entropyCoef,
        },
      );
      aux = [terms.policyLoss, terms.valueLoss, terms.entropy, terms.approxKl, terms.clipFraction].map((t) =>
        tf.keep(t),
      );
      return terms.loss;
    }, varList);
    const auxStacked = tf.tidy(() => tf.stack([value, ...aux]));
    const vals = auxStacked.dataSync();
    auxStacked.dispose();
    value.dispose();
    for (const t of aux) t.dispose();
    const out = new Map<string, tf.Tensor>();
    for (const v of varList) {
      const name = names.get(v) as string;
      const g = grads[v.name];
      if (g) out.set(name, g);
    }
    return {
      grads: out,
      terms: {
        loss: vals[0],
        policyLoss: vals[1],
        valueLoss: vals[2],
        entropy: vals[3],
        approxKl: vals[4],
        clipFraction: vals[5],
      },
    };
  }

  /**
   * Saves policy parameters, Adam state, counters, config and every random stream to `dir`
   * (atomically). Resuming with {@link loadCheckpoint} continues exactly; in rollout mode
   * `steps`, episodes in progress are not saved and restart after loading. `extraFiles` (name → text) are
   * written into the same atomic directory swap (e.g. a caller's sidecar state).
   */
  saveCheckpoint(dir: string, extraFiles: Record<string, string> = {}): void {
    const tensors: { name: string; tensor: tf.Tensor }[] = [];
    for (const [name, v] of this.policy.variables()) tensors.push({ name: `policy/${name}`, tensor: v });
    for (const [name, v] of this.initialPolicy.variables()) tensors.push({ name: `initial/${name}`, tensor: v });
    for (const t of this.optimizer.stateTensors()) tensors.push(t);
    for (const t of this.criticOptimizer.stateTensors()) tensors.push(t);
    const meta = {
      config: this.config,
      updates: this.updates,
      adamStep: this.optimizer.step,
      criticAdamStep: this.criticOptimizer.step,
      learningRate: this.optimizer.config.lr,
      criticLearningRate: this.criticOptimizer.config.lr,
      valueNorm: this.valueNorm.getState(),
      rng: { collector: this.collector.getState(), minibatches: this.minibatchRng.getState() },
    };
    writeCheckpoint(dir, CHECKPOINT_KIND, meta, tensors, extraFiles);
  }

  /**
   * Restores a checkpoint written by {@link saveCheckpoint} into this trainer. The stored config
   * must equal this trainer's (otherwise an error names the first differing field); every
   * variable's shape is checked; corrupt files are rejected.
   */
  loadCheckpoint(dir: string): void {
    const { manifest, tensors } = readCheckpoint(dir, CHECKPOINT_KIND);
    const where = `checkpoint ${dir}`;
    const meta = manifest.meta as {
      config: ResolvedPpoTrainerConfig;
      updates: number;
      adamStep: number;
      criticAdamStep: number;
      learningRate: number;
      criticLearningRate: number;
      valueNorm: ValueNormState;
      rng: { collector: CollectorState; minibatches: RngState };
    };
    const diff = firstDifference(meta.config, this.config, 'config');
    if (diff) throw new Error(`${where}: does not match this trainer: ${diff}`);
    const vars = this.policy.variables();
    const values = new Map<string, Float32Array>();
    for (const [name, v] of vars)
      values.set(name, expectTensor(tensors, `policy/${name}`, v.shape, where).data as Float32Array);
    const initial = new Map<string, Float32Array>();
    for (const [name, v] of this.initialPolicy.variables())
      initial.set(name, expectTensor(tensors, `initial/${name}`, v.shape, where).data as Float32Array);
    const adam = { actor: new Map<string, tf.Tensor>(), critic: new Map<string, tf.Tensor>() };
    for (const [name, v] of vars) {
      for (const kind of ['m', 'v']) {
        const key = `adam/${kind}/${name}`;
        if (tensors.has(key))
          adam[name.startsWith('critic/') ? 'critic' : 'actor'].set(
            key,
            tf.tensor(expectTensor(tensors, key, v.shape, where).data, v.shape),
          );
      }
    }
    tf.tidy(() => {
      for (const [name, v] of vars) v.assign(tf.tensor(values.get(name) as Float32Array, v.shape));
      for (const [name, v] of this.initialPolicy.variables())
        v.assign(tf.tensor(initial.get(name) as Float32Array, v.shape));
    });
    this.optimizer.loadState(meta.adamStep, adam.actor);
    this.criticOptimizer.loadState(meta.criticAdamStep, adam.critic);
    for (const t of [...adam.actor.values(), ...adam.critic.values()]) t.dispose();
    this.optimizer.setLearningRate(meta.learningRate);
    this.criticOptimizer.setLearningRate(meta.criticLearningRate);
    this.valueNorm.setState(meta.valueNorm);
    this.updates = meta.updates;
    this.collector.setState(meta.rng.collector);
    this.minibatchRng.setState(meta.rng.minibatches);
  }

  /**
   * Creates a trainer from a checkpoint's stored config and restores it.
   *
   * @example
   * ```ts
   * const resumed = PpoTrainer.fromCheckpoint('runs/memory', envs);
   * resumed.train(10);
   * ```
   */
  static fromCheckpoint(dir: string, envs: MultiAgentEnv[], hooks: { credit?: CreditAssigner } = {}): PpoTrainer {
    const { manifest } = readCheckpoint(dir, CHECKPOINT_KIND);
    const trainer = new PpoTrainer((manifest.meta as { config: PpoTrainerConfig }).config, envs, hooks);
    trainer.loadCheckpoint(dir);
    return trainer;
  }

  /** Frees the policy, its initial copy and the optimiser state. */
  dispose(): void {
    this.policy.dispose();
    this.initialPolicy.dispose();
    this.optimizer.dispose();
    this.criticOptimizer.dispose();
  }
}

/**
 * Loads only the policy of a trainer checkpoint (for frozen evaluation).
 *
 * @example
 * ```ts
 * const policy = loadPolicy('runs/memory');
 * const collector = new RolloutCollector(envs, policy, { seed: 7, greedy: true });
 * ```
 */
export function loadPolicy(dir: string): ActorCritic {
  const { manifest, tensors } = readCheckpoint(dir, CHECKPOINT_KIND);
  const config = (manifest.meta as { config: ResolvedPpoTrainerConfig }).config;
  const policy = new ActorCritic(config.policy);
  try {
    for (const [name, v] of policy.variables()) {
      const t = expectTensor(tensors, `policy/${name}`, v.shape, `checkpoint ${dir}`);
      tf.tidy(() => v.assign(tf.tensor(t.data, v.shape)));
    }
  } catch (err) {
    policy.dispose();
    throw err;
  }
  return policy;
}

function sliceChunks(b: ChunkBatch, idx: Int32Array): ChunkBatch {
  const L = b.length;
  const pick = <T extends Float32Array | Int32Array>(src: T, per: number): T => {
    const out = new (src.constructor as { new (n: number): T })(idx.length * per);
    for (let i = 0; i < idx.length; i++) out.set(src.subarray(idx[i] * per, (idx[i] + 1) * per), i * per);
    return out;
  };
  const ha = b.actorHidden.length / b.chunks;
  const hc = b.criticHidden.length / b.chunks;
  return {
    chunks: idx.length,
    length: L,
    observations: pick(b.observations, (b.observations.length / b.chunks) | 0),
    states: b.states ? pick(b.states, (b.states.length / b.chunks) | 0) : undefined,
    actionMasks: b.actionMasks ? pick(b.actionMasks, (b.actionMasks.length / b.chunks) | 0) : undefined,
    agentIndex: pick(b.agentIndex, 1),
    actorHidden: pick(b.actorHidden, ha),
    criticHidden: pick(b.criticHidden, hc),
    actions: pick(b.actions, L),
    oldLogProbs: pick(b.oldLogProbs, L),
    oldValues: pick(b.oldValues, L),
    advantages: pick(b.advantages, L),
    returns: pick(b.returns, L),
    mask: pick(b.mask, L),
  };
}

/**
 * In-place (x − mean) / (std + 1e-8) over entries with mask 1 (std unbiased, as torch.std);
 * masked-out entries become 0.
 *
 * @example
 * ```ts
 * const adv = new Float32Array([1, 2, 3, 100]);
 * normalizeMasked(adv, new Float32Array([1, 1, 1, 0])); // [-1, 0, 1, 0]
 * ```
 */
export function normalizeMasked(x: Float32Array, mask: Float32Array): void {
  let n = 0;
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    if (!mask[i]) continue;
    n++;
    s += x[i];
  }
  if (n === 0) return;
  const mean = s / n;
  let ss = 0;
  for (let i = 0; i < x.length; i++) if (mask[i]) ss += (x[i] - mean) ** 2;
  const std = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
  for (let i = 0; i < x.length; i++) x[i] = mask[i] ? (x[i] - mean) / (std + 1e-8) : 0;
}

/** Splits gradients keyed by parameter name into the actor's and the critic's (`critic/...`). */
function splitActorCritic(grads: Map<string, tf.Tensor>): {
  actor: Map<string, tf.Tensor>;
  critic: Map<string, tf.Tensor>;
} {
  const actor = new Map<string, tf.Tensor>();
  const critic = new Map<string, tf.Tensor>();
  for (const [name, g] of grads) (name.startsWith('critic/') ? critic : actor).set(name, g);
  return { actor, critic };
}

/** Unbiased variance (as torch.var); 0 for fewer than 2 values. */
function variance(x: number[]): number {
  if (x.length < 2) return 0;
  const m = x.reduce((a, b) => a + b, 0) / x.length;
  return x.reduce((a, b) => a + (b - m) ** 2, 0) / (x.length - 1);
}

function globalNorm(grads: Map<string, tf.Tensor>): number {
  const sq = tf.tidy(() => tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g)))));
  const v = Math.sqrt(sq.dataSync()[0]);
  sq.dispose();
  return v;
}

function firstDifference(a: unknown, b: unknown, path: string): string | undefined {
  if (typeof a !== typeof b) return `${path} is ${JSON.stringify(a)} in the checkpoint, ${JSON.stringify(b)} here`;
  if (a === null || b === null || typeof a !== 'object') {
    return a === b ? undefined : `${path} is ${JSON.stringify(a)} in the checkpoint, ${JSON.stringify(b)} here`;
  }
  const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  for (const k of new Set([...ka, ...kb])) {
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    if (d) return d;
  }
  return undefined;
}
