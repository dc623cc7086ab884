import { tf } from '../backend';
import type { Tensor, Variable } from '../backend';
import { z, parseConfig } from '../config';
import type { Batch } from '../data/types';
import { Rng, deriveSeed } from '../random';
import type { SequentialModel, WeightSnapshot } from './model';
import { TUNING_FREE_OPTIMIZERS, TuningFreeOptionsSchema, tuningFreeRule } from './tuning-free';
import { adamMoments, adamStep } from './adam-rule';
import type { RuleState, TuningFreeOptimizer, TuningFreeRule } from './tuning-free';

const lrValue = z.number().finite().nonnegative();
/** 2^126: multiplying a normal float32 by it gives magnitude >= 1 (see {@link updateSign}). */
const SIGN_SCALE = 2 ** 126;

/**
 * Per-example cross-entropy over the last axis with optional label smoothing: `logits` `[..., N, C]`,
 * targets int32 labels (`[N]` or `[..., N]`) or float32 soft targets (`[N, C]` or `[..., N, C]`),
 * broadcast against the logits. Returns `[..., N]`.
 *
 * @example
 * ```ts
 * crossEntropyPerExample(tf.zeros([2, 3]), tf.tensor1d([0, 2], 'int32'), 0); // [ln 3, ln 3]
 * ```
 */
export function crossEntropyPerExample(logits: Tensor, y: Tensor, smoothing: number): Tensor {
  const c = logits.shape[logits.rank - 1] as number;
  let target: Tensor;
  if (y.dtype === 'int32') {
    // (wasm's OneHot kernel ignores the dtype argument and writes int32 data: cast explicitly.)
    const hot = tf.cast(tf.oneHot(y as tf.Tensor1D, c), 'float32');
    target = smoothing > 0 ? tf.add(tf.mul(hot, 1 - smoothing), smoothing / c) : hot;
  } else {
    target = smoothing > 0 ? tf.add(tf.mul(y, 1 - smoothing), smoothing / c) : y;
  }
  return tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(logits)), -1));
}

/**
 * `sign(u)` as `clip(u * 2^126, -1, 1)`: exact for every normal float32 and 0 (subnormals count
 * fractionally), and about 15x faster than wasm's Sign kernel.
 *
 * @example
 * ```ts
 * updateSign(tf.tensor1d([-3, 0, 1e-20])); // [-1, 0, 1]
 * ```
 */
export function updateSign(u: Tensor): Tensor {
  return tf.clipByValue(tf.mul(u, SIGN_SCALE), -1, 1);
}

/** The zod schema of {@link TrainerConfig} (shared with {@link VectorisedTrainer}). */
export const TrainerConfigSchema = z
  .object({
    optimizer: z.enum(['sgd', 'momentum', 'adam', ...TUNING_FREE_OPTIMIZERS]),
    learningRates: z.union([lrValue, z.array(lrValue).min(1)]),
    momentum: z.number().gt(0).lt(1).default(0.9),
    nesterov: z.boolean().default(false),
    dampening: z.number().min(0).max(1).default(0),
    betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.9, 0.999]),
    eps: z.number().positive().default(1e-8),
    weightDecay: z.number().finite().nonnegative().default(0),
    decoupledWeightDecay: z.boolean().default(false),
    labelSmoothing: z.number().min(0).lt(1).default(0),
    gradClipNorm: z.number().positive().optional(),
    seed: z.number().int().default(0),
    metrics: z.enum(['full', 'loss']).default('full'),
    tuningFree: TuningFreeOptionsSchema,
  })
  .strict()
  .refine(
    (c) =>
      !(
        c.decoupledWeightDecay &&
        c.weightDecay > 0 &&
        (TUNING_FREE_OPTIMIZERS as readonly string[]).includes(c.optimizer) &&
        c.optimizer !== 'prodigy'
      ),
    {
      message:
        'decoupled weight decay is supported by prodigy only among the tuning-free optimisers (the others use coupled decay, as their references)',
      path: ['decoupledWeightDecay'],
    },
  )
  .refine((c) => !(c.nesterov && (c.optimizer !== 'momentum' || c.dampening !== 0)), {
    message: "nesterov requires optimizer 'momentum' and dampening 0 (as torch.optim.SGD)",
    path: ['nesterov'],
  });

/**
 * Configuration of {@link LayerwiseTrainer} (validated with zod; defaults follow PyTorch).
 * - `optimizer`: `sgd` (plain), `momentum` (torch.optim.SGD with momentum, dampening, nesterov), `adam`
 *   (torch.optim.Adam), or a tuning-free optimiser: `schedule-free-sgd`, `d-adapt-sgd`, `prodigy`,
 *   `dog`, `ldog`, `dog-group` (rules and defaults in `src/nn/tuning-free.ts`; their learning rates are
 *   multipliers, 1 = the tuning-free setting; options under `tuningFree`). Schedule-Free and DoG with
 *   averaging evaluate at their averaged iterate, not at the weights the gradient is taken at.
 * - `learningRates`: one per parameter group, or one number for all groups; each finite and >= 0.
 * - `weightDecay`: coupled L2 (`g += wd * w`, as torch SGD/Adam) unless `decoupledWeightDecay`
 *   (`w *= 1 - lr * wd` before the step, as torch AdamW; for SGD this is SGDW). Applied to every
 *   parameter (weights, biases, BN gamma/beta), as torch does by default.
 * - `labelSmoothing`: torch CrossEntropyLoss `label_smoothing` (training loss only).
 * - `gradClipNorm`: torch `clip_grad_norm_` over all parameters before the optimiser step.
 * - `seed`: dropout masks of step `t` are drawn from `deriveSeed(seed, t)`, so replaying from a snapshot repeats them.
 * - `metrics`: `full` (default) computes the per-group norms and sign agreement every step; `loss`
 *   computes only the loss statistics (the per-group arrays are NaN), which is cheaper when nobody
 *   reads them (e.g. MA2ML proxy trainings). Divergence is then detected from the loss alone.
 */
export type TrainerConfig = z.input<typeof TrainerConfigSchema>;
/** {@link TrainerConfig} with defaults filled in. */
export type ResolvedTrainerConfig = z.output<typeof TrainerConfigSchema>;

/** Metrics of one {@link LayerwiseTrainer.step}, all read with a single device-to-host transfer. */
export interface StepMetrics {
  /** Steps taken so far including this one (1 after the first step). */
  step: number;
  /** Mean training loss of the batch (with label smoothing if configured; without the L2 term). */
  loss: number;
  /** Same as `loss`. */
  perSampleLossMean: number;
  /** Population variance of the per-sample losses in the batch. */
  perSampleLossVar: number;
  /** Per group: L2 norm of the loss gradient (before weight decay and clipping). */
  gradNorms: Float64Array;
  /** Per group: L2 norm of the weights after the update. */
  weightNorms: Float64Array;
  /** Per group: L2 norm of the applied update `w_t - w_{t+1}`. */
  updateNorms: Float64Array;
  /**
   * Per group: mean over its parameters of `sign(u_t) * sign(u_{t-1})` for the applied updates
   * `u`, in [-1, 1]: 1 = every parameter moved the same way as in the previous step, -1 = all
   * reversed; 0 on the first step (no previous update).
   */
  updateSignAgreement: Float64Array;
  /** Learning rates used in this step. */
  learningRates: number[];
  /** Loss or weights became non-finite in this step (or earlier). */
  diverged: boolean;
}

/** Result of {@link LayerwiseTrainer.evaluate}. */
export interface EvalResult {
  /** Mean cross-entropy (no label smoothing) in inference mode. */
  loss: number;
  /** Fraction of examples whose argmax logit equals the label (argmax of soft targets). */
  accuracy: number;
  n: number;
}

/** Exact training state: weights, BN statistics, optimiser state, step counter, learning rates. */
export interface TrainerSnapshot {
  readonly step: number;
  readonly diverged: boolean;
  readonly learningRates: readonly number[];
  readonly weights: WeightSnapshot;
  readonly optimizerState: readonly Tensor[];
  /** Whether `optimizerState` holds the sign-agreement state (trainers with `metrics: 'full'`). */
  readonly signState: boolean;
  /** Host-side numbers of a tuning-free optimiser (e.g. Schedule-Free's weight sums); absent otherwise. */
  readonly hostState?: readonly number[];
}

interface VarSlot {
  v: Variable;
  group: number;
  /** Momentum buffer (momentum) or first moment (adam). */
  m?: Variable;
  /** Second moment (adam). */
  s?: Variable;
  /** Sign of the previous applied update (only with `metrics: 'full'`). */
  prevSign?: Variable;
}

/**
 * Trains a {@link SequentialModel} with one learning rate per parameter group and per-group
 * optimiser state (SGD, SGD-momentum or Adam with exact PyTorch semantics), written as tfjs ops in
 * one `tf.tidy` per step. Each step returns the loss, per-sample loss statistics and per-group
 * gradient / weight / update norms and update sign agreement, read with one `dataSync`.
 *
 * Divergence: when the loss or any weight becomes non-finite the step returns `diverged: true`
 * (never throws), and every later `step` is a no-op that returns `diverged: true` with NaN
 * metrics, until {@link restore} loads a finite snapshot.
 *
 * @example
 * ```ts
 * const model = buildMlp({ inputSize: 784, hidden: [256, 256], numClasses: 10, seed: 1 });
 * const trainer = new LayerwiseTrainer(model, { optimizer: 'sgd', learningRates: [0.1, 0.05, 0.02] });
 * const m = trainer.step({ x, y }); // x: float32 [B, 784], y: int32 [B] or float32 [B, 10]
 * trainer.setLearningRate(0, m.gradNorms[0] > 1 ? 0.05 : 0.1);
 * const snap = trainer.snapshot();
 * // ... K steps ...
 * trainer.restore(snap); // replaying the same batches now gives bit-identical results
 * trainer.disposeSnapshot(snap);
 * ```
 */
export class LayerwiseTrainer {
  readonly model: SequentialModel;
  readonly config: ResolvedTrainerConfig;
  private lrs: number[];
  private t = 0;
  private isDiverged = false;
  private readonly slots: VarSlot[] = [];
  private readonly groupSizes: number[];
  private disposed = false;
  private readonly rule: TuningFreeRule | null = null;
  private ruleState: RuleState | null = null;

  constructor(model: SequentialModel, config: TrainerConfig) {
    this.model = model;
    this.config = parseConfig(TrainerConfigSchema, config, 'trainer config');
    const groups = model.groups;
    if (groups.length === 0) throw new Error('LayerwiseTrainer: the model has no trainable parameter groups');
    this.lrs = this.checkLrs(this.config.learningRates, 'trainer config: learningRates');
    this.groupSizes = groups.map((g) => g.numParams);
    const opt = this.config.optimizer;
    for (const g of groups) {
      for (const v of g.variables) {
        const zeros = () => tf.tidy(() => tf.variable(tf.zeros(v.shape), false)); // tidy frees the initial zeros tensor
        this.slots.push({
          v,
          group: g.index,
          m: opt === 'momentum' || opt === 'adam' ? zeros() : undefined,
          s: opt === 'adam' ? zeros() : undefined,
          prevSign: this.config.metrics === 'full' ? zeros() : undefined,
        });
      }
    }
    if ((TUNING_FREE_OPTIMIZERS as readonly string[]).includes(opt)) {
      this.rule = tuningFreeRule(opt as TuningFreeOptimizer, this.config.tuningFree);
      this.ruleState = this.rule.init(this.slots);
    }
  }

  /** Current learning rates, one per group. */
  get learningRates(): number[] {
    return this.lrs.slice();
  }

  /** Steps taken. */
  get stepCount(): number {
    return this.t;
  }

  /** Whether training diverged (see the class description). */
  get diverged(): boolean {
    return this.isDiverged;
  }

  /** Sets all learning rates (one per group, or one number for every group); takes effect at the next step. */
  setLearningRates(lrs: number[] | number): void {
    this.lrs = this.checkLrs(lrs, 'setLearningRates');
  }

  /** Sets the learning rate of group `i`. */
  setLearningRate(i: number, lr: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.lrs.length) {
      throw new Error(`setLearningRate: group index must be an integer in [0, ${this.lrs.length}), got ${i}`);
    }
    if (!(Number.isFinite(lr) && lr >= 0))
      throw new Error(`setLearningRate: learning rate of group ${i} must be finite and >= 0, got ${lr}`);
    this.lrs[i] = lr;
  }

  private checkLrs(lrs: number[] | number, where: string): number[] {
    const n = this.model.groups.length;
    const arr = typeof lrs === 'number' ? new Array<number>(n).fill(lrs) : lrs;
    if (!Array.isArray(arr)) throw new Error(`${where}: expected a number or an array of ${n} numbers`);
    if (arr.length !== n) {
      throw new Error(
        `${where}: expected ${n} learning rates (one per parameter group: ${this.model.groups.map((g) => g.name).join(', ')}), got ${arr.length}`,
      );
    }
    arr.forEach((lr, i) => {
      if (typeof lr !== 'number' || !(Number.isFinite(lr) && lr >= 0))
        throw new Error(
          `${where}: learning rate ${i} (${this.model.groups[i].name}) must be finite and >= 0, got ${lr}`,
        );
    });
    return arr.slice();
  }

  private checkTargets(x: Tensor, y: Tensor, where: string): void {
    const b = x.shape[0];
    const c = this.model.outputShape[0];
    if (y.dtype === 'int32') {
      if (y.rank !== 1 || y.shape[0] !== b)
        throw new Error(`${where}: int32 labels y must have shape [${b}], got [${y.shape.join(', ')}]`);
    } else if (y.dtype === 'float32') {
      if (y.rank !== 2 || y.shape[0] !== b || y.shape[1] !== c) {
        throw new Error(`${where}: float32 soft targets y must have shape [${b}, ${c}], got [${y.shape.join(', ')}]`);
      }
    } else {
      throw new Error(`${where}: y must be int32 labels [B] or float32 soft targets [B, ${c}], got dtype ${y.dtype}`);
    }
  }

  /**
   * One optimiser step on `batch` (`x` float32 `[B, ...inputShape]`; `y` int32 labels `[B]` or
   * float32 soft targets `[B, numClasses]`, e.g. from mixup). The batch tensors are not disposed.
   * Throws only for invalid input (shape, dtype, disposed trainer); divergence is reported in the metrics.
   * Label values are not range-checked on the host (that would cost a data read): a label outside
   * `[0, numClasses)` gives that example a zero target row.
   */
  step(batch: Batch): StepMetrics {
    this.assertAlive('step');
    const n = this.model.groups.length;
    if (this.isDiverged) {
      const nan = () => new Float64Array(n).fill(NaN);
      return {
        step: this.t,
        loss: NaN,
        perSampleLossMean: NaN,
        perSampleLossVar: NaN,
        gradNorms: nan(),
        weightNorms: nan(),
        updateNorms: nan(),
        updateSignAgreement: nan(),
        learningRates: this.lrs.slice(),
        diverged: true,
      };
    }
    const { x, y } = batch;
    this.model.checkInput(x, 'LayerwiseTrainer.step');
    this.checkTargets(x, y, 'LayerwiseTrainer.step');
    const cfg = this.config;
    const t = this.t + 1;
    const lrs = this.lrs.slice();
    const rng = new Rng(deriveSeed(cfg.seed, this.t));
    const vars = this.slots.map((s) => s.v);
    const plainSgd = cfg.optimizer === 'sgd' && cfg.weightDecay === 0 && cfg.gradClipNorm === undefined;
    const metricsTensor = tf.tidy(() => {
      let stats: Tensor | undefined;
      const f = () => {
        const logits = this.model.forward(x, { training: true, rng });
        const ps = crossEntropyPerExample(logits, y, cfg.labelSmoothing);
        const { mean, variance } = tf.moments(ps);
        stats = tf.keep(tf.stack([mean, variance]));
        return mean as tf.Scalar;
      };
      const { grads } = tf.variableGrads(f, vars);
      const raw = vars.map((v) => grads[v.name] ?? tf.zerosLike(v));
      const full = cfg.metrics === 'full';
      const needSsq = full || cfg.gradClipNorm !== undefined;
      const gSsq = needSsq ? raw.map((g) => tf.sum(tf.square(g))) : [];
      let gs = raw;
      if (cfg.gradClipNorm !== undefined) {
        const total = tf.sqrt(tf.addN(gSsq));
        const coef = tf.minimum(tf.div(cfg.gradClipNorm, tf.add(total, 1e-6)), 1);
        gs = raw.map((g) => tf.mul(g, coef));
      }
      const wd = cfg.weightDecay;
      const [b1, b2] = cfg.betas;
      const bc1 = 1 - Math.pow(b1, t);
      const bc2Sqrt = Math.sqrt(1 - Math.pow(b2, t));
      const wSsq: Tensor[] = [];
      const uSsq: Tensor[] = [];
      const signDot: Tensor[] = [];
      // Tuning-free rules compute every slot's new weights at once (they need whole-model norms).
      const ruleWeights =
        this.rule && this.ruleState
          ? this.rule.step(this.ruleState, {
              slots: this.slots,
              grads: gs,
              lrs,
              step: t - 1,
              weightDecay: wd,
              decoupledWeightDecay: cfg.decoupledWeightDecay,
              betas: cfg.betas,
            })
          : null;
      this.slots.forEach((slot, i) => {
        const w = slot.v;
        const lr = lrs[slot.group];
        if (ruleWeights) {
          const newW = ruleWeights[i];
          const u = tf.sub(w, newW);
          w.assign(newW);
          if (!full) return;
          const sign = updateSign(u);
          const prev = slot.prevSign as Variable;
          signDot.push(tf.sum(tf.mul(sign, prev)));
          prev.assign(sign);
          wSsq.push(tf.sum(tf.square(newW)));
          uSsq.push(tf.sum(tf.square(u)));
          return;
        }
        let g = gs[i];
        if (wd > 0 && !cfg.decoupledWeightDecay) g = tf.add(g, tf.mul(w, wd));
        let step: Tensor; // applied as w - step (plus decoupled decay)
        if (cfg.optimizer === 'sgd') {
          step = tf.mul(g, lr);
        } else if (cfg.optimizer === 'momentum') {
          const m = slot.m as Variable;
          const buf =
            t === 1 ? g : tf.add(tf.mul(m, cfg.momentum), cfg.dampening === 0 ? g : tf.mul(g, 1 - cfg.dampening));
          m.assign(buf);
          const d = cfg.nesterov ? tf.add(g, tf.mul(buf, cfg.momentum)) : buf;
          step = tf.mul(d, lr);
        } else {
          const m = slot.m as Variable;
          const s = slot.s as Variable;
          const { m: m1, v: s1 } = adamMoments(m, s, g, b1, b2);
          m.assign(m1);
          s.assign(s1);
          step = adamStep(m1, s1, bc2Sqrt, cfg.eps, lr / bc1);
        }
        let newW: Tensor;
        let u: Tensor;
        if (wd > 0 && cfg.decoupledWeightDecay) {
          newW = tf.sub(tf.mul(w, 1 - lr * wd), step);
          u = tf.sub(w, newW);
        } else {
          newW = tf.sub(w, step);
          u = step;
        }
        w.assign(newW);
        if (!full) return;
        const sign = updateSign(u);
        const prev = slot.prevSign as Variable;
        signDot.push(tf.sum(tf.mul(sign, prev)));
        prev.assign(sign);
        wSsq.push(tf.sum(tf.square(newW)));
        // Plain SGD without clipping: |u|^2 = lr^2 |g|^2, derived on the host (one reduction fewer).
        if (!plainSgd) uSsq.push(tf.sum(tf.square(u)));
      });
      const st = stats as Tensor;
      const out = full ? tf.concat([st, tf.stack([...gSsq, ...wSsq, ...uSsq, ...signDot])]) : tf.clone(st);
      st.dispose();
      return out;
    });
    const data = metricsTensor.dataSync();
    metricsTensor.dispose();
    this.t = t;
    const nv = this.slots.length;
    const loss = data[0];
    const nanArr = () => new Float64Array(n).fill(NaN);
    if (cfg.metrics === 'loss') {
      const diverged = !Number.isFinite(loss);
      if (diverged) this.isDiverged = true;
      return {
        step: t,
        loss,
        perSampleLossMean: loss,
        perSampleLossVar: data[1],
        gradNorms: nanArr(),
        weightNorms: nanArr(),
        updateNorms: nanArr(),
        updateSignAgreement: nanArr(),
        learningRates: lrs,
        diverged,
      };
    }
    // Layout after the 2 loss statistics: gSsq, wSsq, [uSsq unless plain SGD], signDot (nv each).
    const agg = (block: number, fn: (sum: number, g: number) => number) => {
      const out = new Float64Array(n);
      for (let i = 0; i < nv; i++) out[this.slots[i].group] += data[2 + block * nv + i];
      for (let g = 0; g < n; g++) out[g] = fn(out[g], g);
      return out;
    };
    const gradNorms = agg(0, Math.sqrt);
    const weightNorms = agg(1, Math.sqrt);
    const updateNorms = plainSgd ? gradNorms.map((gn, g) => lrs[g] * gn) : agg(2, Math.sqrt);
    const updateSignAgreement = agg(plainSgd ? 2 : 3, (s, g) => s / this.groupSizes[g]);
    const diverged = !Number.isFinite(loss) || weightNorms.some((w) => !Number.isFinite(w));
    if (diverged) this.isDiverged = true;
    return {
      step: t,
      loss,
      perSampleLossMean: loss,
      perSampleLossVar: data[1],
      gradNorms,
      weightNorms,
      updateNorms,
      updateSignAgreement,
      learningRates: lrs,
      diverged,
    };
  }

  /**
   * Loss (plain cross-entropy) and accuracy in inference mode over `x` / `y` (labels or soft
   * targets), in chunks of `batchSize`, with one data read at the end.
   */
  evaluate(x: Tensor, y: Tensor, batchSize = 256): EvalResult {
    this.assertAlive('evaluate');
    this.model.checkInput(x, 'LayerwiseTrainer.evaluate');
    this.checkTargets(x, y, 'LayerwiseTrainer.evaluate');
    if (!Number.isInteger(batchSize) || batchSize <= 0)
      throw new Error(`evaluate: batchSize must be a positive integer, got ${batchSize}`);
    const total = x.shape[0];
    if (total === 0) throw new Error('evaluate: x holds no examples');
    // Schedule-Free and averaged DoG evaluate at their averaged iterate: swap it in, then back.
    const point = this.rule && this.ruleState ? this.rule.evaluationPoint(this.ruleState, this.slots) : null;
    const saved = point ? this.slots.map((s) => tf.clone(s.v)) : null;
    if (point) this.slots.forEach((s, i) => s.v.assign(point[i]));
    try {
      return this.evaluateAtWeights(x, y, batchSize, total);
    } finally {
      if (saved) {
        this.slots.forEach((s, i) => s.v.assign(saved[i]));
        tf.dispose(saved);
      }
    }
  }

  private evaluateAtWeights(x: Tensor, y: Tensor, batchSize: number, total: number): EvalResult {
    let acc: Tensor = tf.zeros([2]);
    for (let start = 0; start < total; start += batchSize) {
      const size = Math.min(batchSize, total - start);
      const next = tf.tidy(() => {
        const xb = size === total ? x : tf.slice(x, start, size);
        const yb = size === total ? y : tf.slice(y, start, size);
        const logits = this.model.forward(xb, { training: false });
        const lossSum = tf.sum(crossEntropyPerExample(logits, yb, 0));
        const labels = yb.dtype === 'int32' ? yb : tf.argMax(yb, 1);
        const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32'));
        return tf.add(acc, tf.stack([lossSum, correct]));
      });
      acc.dispose();
      acc = next;
    }
    const [lossSum, correct] = acc.dataSync();
    acc.dispose();
    return { loss: lossSum / total, accuracy: correct / total, n: total };
  }

  /** Clones the full training state (see {@link TrainerSnapshot}); free it with {@link disposeSnapshot}. */
  snapshot(): TrainerSnapshot {
    this.assertAlive('snapshot');
    const opt: Tensor[] = [];
    for (const s of this.stateVars()) opt.push(tf.keep(s.clone()));
    return {
      step: this.t,
      diverged: this.isDiverged,
      learningRates: this.lrs.slice(),
      weights: this.model.snapshotWeights(),
      optimizerState: opt,
      signState: this.config.metrics === 'full',
      ...(this.ruleState ? { hostState: this.ruleState.host.slice() } : {}),
    };
  }

  /**
   * Restores a {@link snapshot} exactly (weights, BN statistics, optimiser state, step, learning
   * rates, divergence flag). Reusable. A snapshot of a `metrics: 'full'` trainer also restores into a
   * `metrics: 'loss'` trainer of the same model and optimiser (the sign-agreement state is skipped:
   * training itself is identical), so a cheap copy can continue a fully measured run.
   */
  restore(snapshot: TrainerSnapshot): void {
    this.assertAlive('restore');
    const vars = this.stateVars();
    const hasSign = this.config.metrics === 'full';
    let state = snapshot.optimizerState;
    if (snapshot.signState && !hasSign) {
      // Per slot the snapshot holds [m?, s?, prevSign]: drop every prevSign.
      const kept: Tensor[] = [];
      let k = 0;
      for (const slot of this.slots) {
        if (slot.m) kept.push(state[k++]);
        if (slot.s) kept.push(state[k++]);
        k++;
      }
      // A tuning-free rule's tensors follow the per-slot part unchanged.
      const ruleCount = this.ruleState
        ? this.ruleState.perSlot.reduce((n, r) => n + r.length, 0) + this.ruleState.globals.length
        : 0;
      kept.push(...state.slice(k, k + ruleCount));
      k += ruleCount;
      if (k !== state.length)
        throw new Error(
          `restore: snapshot has ${state.length} optimiser tensors, expected ${k} for this model and optimiser (snapshot from another trainer?)`,
        );
      state = kept;
    } else if (!snapshot.signState && hasSign) {
      throw new Error(
        "restore: the snapshot has no sign-agreement state (taken with metrics: 'loss'); restore it into a metrics: 'loss' trainer",
      );
    }
    if (state.length !== vars.length) {
      throw new Error(
        `restore: snapshot has ${state.length} optimiser tensors, this trainer ${vars.length} (snapshot from another trainer?)`,
      );
    }
    this.model.restoreWeights(snapshot.weights);
    vars.forEach((v, i) => {
      const src = state[i];
      if (src.isDisposed) throw new Error('restore: snapshot was disposed');
      v.assign(src);
    });
    if (this.ruleState) {
      const host = snapshot.hostState ?? [];
      if (host.length !== this.ruleState.host.length)
        throw new Error(
          `restore: snapshot has ${host.length} host-side optimiser numbers, this ${this.config.optimizer} trainer ${this.ruleState.host.length} (snapshot from another trainer?)`,
        );
      this.ruleState.host = host.slice();
    }
    this.t = snapshot.step;
    this.isDiverged = snapshot.diverged;
    this.lrs = snapshot.learningRates.slice();
  }

  /** Frees a {@link snapshot}. */
  disposeSnapshot(snapshot: TrainerSnapshot): void {
    this.model.disposeWeightSnapshot(snapshot.weights);
    for (const t of snapshot.optimizerState) t.dispose();
  }

  /** Frees the optimiser state (not the model). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.stateVars()) v.dispose();
  }

  private stateVars(): Variable[] {
    const out: Variable[] = [];
    for (const s of this.slots) {
      if (s.m) out.push(s.m);
      if (s.s) out.push(s.s);
      if (s.prevSign) out.push(s.prevSign);
    }
    if (this.ruleState) {
      for (const row of this.ruleState.perSlot) out.push(...row);
      out.push(...this.ruleState.globals);
    }
    return out;
  }

  private assertAlive(where: string): void {
    if (this.disposed) throw new Error(`LayerwiseTrainer.${where}: trainer was disposed`);
    if (this.model.isDisposed) throw new Error(`LayerwiseTrainer.${where}: model was disposed`);
  }
}
