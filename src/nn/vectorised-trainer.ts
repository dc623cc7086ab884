import { tf } from '../backend';
import type { Tensor, Variable } from '../backend';
import { parseConfig } from '../config';
import type { Batch } from '../data/types';
import { activate } from './model';
import type { SequentialModel } from './model';
import type { Activation } from './spec';
import { TrainerConfigSchema, crossEntropyPerExample, updateSign } from './trainer';
import { adamMoments, adamStep } from './adam-rule';
import type { EvalResult, ResolvedTrainerConfig, StepMetrics, TrainerConfig, TrainerSnapshot } from './trainer';

/** One layer of the stacked forward pass (indices point into the trainable-variable list). */
type Op =
  | { kind: 'dense'; w: number; b?: number; units: number; activation?: Activation }
  | { kind: 'activation'; fn: Activation }
  | { kind: 'flatten' };

interface Slot {
  /** `[B, ...shape]`: network b's copy of this variable is entry b. */
  v: Variable;
  /** Shape of one network's variable. */
  shape: number[];
  group: number;
  m?: Variable;
  s?: Variable;
  prevSign?: Variable;
}

/** Options of the {@link VectorisedTrainer} constructor (speed only: results are the same). */
export interface VectorisedTrainerOptions {
  /**
   * How a shared batch meets the first layer: `'batched'` (default) multiplies the one input with
   * each network's kernel (a broadcast batched product); `'wide'` concatenates the B kernels into
   * one `[in, B*units]` product (two transposes of the stacked kernel per step). On the 2-core
   * AMD EPYC wasm machine `'batched'` measured as fast or faster (`npm run bench -- --only vectorised`).
   */
  sharedInput?: 'batched' | 'wide';
}

/** Options of {@link VectorisedTrainer.step}. */
export interface VectorisedStepOptions {
  /**
   * Which networks take this step (default: all). An inactive network keeps its weights, optimiser
   * state and step count exactly; its metrics are NaN. Diverged networks are always inactive.
   */
  active?: readonly boolean[];
}

const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

/**
 * Entry b of the result is `next[b]` where `take[b]`, else `old[b]` (first axis), as slices of
 * contiguous runs joined by one concat: exact for any values (a 0/1 blend would turn an unused
 * NaN into NaN), and far faster on wasm than `tf.where` with a broadcast condition (which tiles
 * the condition: ~50 ms for [4, 784, 64]; wasm's rank-1-condition Select returns wrong values).
 */
function pickNetworks(take: readonly boolean[], next: Tensor, old: Tensor): Tensor {
  const parts: Tensor[] = [];
  let start = 0;
  for (let b = 1; b <= take.length; b++) {
    if (b < take.length && take[b] === take[start]) continue;
    parts.push(tf.slice(take[start] ? next : old, [start], [b - start]));
    start = b;
  }
  return parts.length === 1 ? parts[0] : tf.concat(parts);
}

/**
 * Trains B networks of one MLP architecture at once as stacked weights (`[B, in, out]` per
 * kernel): one forward, one backward and one update for all of them, with per-network, per-layer
 * learning rates, per-network optimiser state and step counts, and the exact semantics of
 * {@link LayerwiseTrainer} (SGD, momentum, Adam; coupled or decoupled weight decay; label
 * smoothing; gradient clipping per network; the same {@link StepMetrics} per network). Small
 * networks are bound by per-op overhead, so one op for B networks is much cheaper than B ops.
 *
 * - **Shared batch** (`step(batch)`): every network sees the same mini-batch (counterfactual
 *   branches of one training run); the input is not copied per network (see {@link VectorisedTrainerOptions}).
 * - **Separate batches** (`step([batch_0, ..., batch_{B-1}])`, equal sizes): batched products.
 * - **Divergence per network:** a network whose loss or weights become non-finite is flagged and
 *   frozen (like {@link LayerwiseTrainer}, later steps are no-ops for it with NaN metrics); the
 *   others are untouched (their arithmetic never reads another network's values).
 * - **Snapshots per network** are {@link TrainerSnapshot}s interchangeable with a
 *   {@link LayerwiseTrainer} of the same model and optimiser, both ways.
 *
 * Supported architectures: dense, activation and flatten layers (and dropout with rate 0), i.e. the
 * MLPs of `buildMlp` without batch norm or dropout; anything else is refused with the layer named.
 * Results equal B separate {@link LayerwiseTrainer}s bit for bit on wasm (every network's arithmetic
 * is the same; measured and tested for every optimiser option), and to float32 rounding elsewhere.
 *
 * @example
 * ```ts
 * const models = [1, 2, 3].map((seed) => buildMlp({ inputSize: 64, hidden: [32], numClasses: 10, seed }));
 * const vt = new VectorisedTrainer(models, { optimizer: 'sgd', learningRates: 0.1 });
 * vt.setLearningRates(2, [0.05, 0.2]); // network 2's per-layer rates
 * const metrics = vt.step({ x, y }); // one StepMetrics per network
 * const snap = vt.snapshot(0);
 * vt.restore(1, snap); // network 1 continues from network 0's state
 * vt.disposeSnapshot(snap);
 * vt.dispose();
 * ```
 */
export class VectorisedTrainer {
  /** Number of networks B. */
  readonly size: number;
  readonly config: ResolvedTrainerConfig;
  /** Input shape of one example (without the batch dimension). */
  readonly inputShape: number[];
  readonly numClasses: number;
  /** Parameter group (layer) names, in learning-rate order. */
  readonly groupNames: string[];
  private readonly groupSizes: number[];
  private readonly ops: Op[];
  private readonly slots: Slot[] = [];
  private lrs: number[][];
  private steps: number[];
  private divergedFlags: boolean[];
  private disposed = false;
  private readonly sharedInput: 'batched' | 'wide';

  /**
   * `models` (at least one, one architecture) give the initial weights of the B networks; they are
   * copied and not used afterwards (the caller still owns and disposes them).
   */
  constructor(models: readonly SequentialModel[], config: TrainerConfig, options: VectorisedTrainerOptions = {}) {
    this.sharedInput = options.sharedInput ?? 'batched';
    if (this.sharedInput !== 'batched' && this.sharedInput !== 'wide')
      throw new Error(
        `VectorisedTrainer: options.sharedInput must be 'batched' or 'wide', got ${JSON.stringify(options.sharedInput)}`,
      );
    if (!models || models.length === 0) throw new Error('VectorisedTrainer: expected a non-empty array of models');
    const first = models[0];
    const specText = JSON.stringify(first.spec);
    models.forEach((m, i) => {
      if (m.isDisposed) throw new Error(`VectorisedTrainer: model ${i} was disposed`);
      if (JSON.stringify(m.spec) !== specText)
        throw new Error(
          `VectorisedTrainer: model ${i} has a different architecture from model 0 (all networks must share one spec)`,
        );
    });
    this.config = parseConfig(TrainerConfigSchema, config, 'vectorised trainer config');
    if (!['sgd', 'momentum', 'adam'].includes(this.config.optimizer))
      throw new Error(
        `VectorisedTrainer: optimizer '${this.config.optimizer}' is not supported (sgd, momentum and adam are; use LayerwiseTrainer for the tuning-free optimisers)`,
      );
    this.size = models.length;
    this.inputShape = first.inputShape.slice();
    this.numClasses = first.outputShape[0];
    if (first.outputShape.length !== 1)
      throw new Error(
        `VectorisedTrainer: the network must output logits [B, classes], got output shape ${shapeText(first.outputShape)}`,
      );
    if (first.stateVariables().length)
      throw new Error('VectorisedTrainer: networks with batch norm are not supported (use LayerwiseTrainer)');
    const vars = first.trainableVariables();
    const indexOf = new Map(vars.map((v, i) => [v, i]));
    this.ops = [];
    for (const layer of first.layers) {
      if (layer.kind !== 'primitive')
        throw new Error(
          `VectorisedTrainer: supports MLPs (dense, activation, flatten layers); layer ${layer.name} is a block`,
        );
      const spec = layer.spec;
      if (spec.type === 'dense') {
        const group = first.groups.find((g) => g.name === layer.name);
        if (!group) throw new Error(`VectorisedTrainer: no parameter group for layer ${layer.name}`);
        const k = group.roles.indexOf('kernel');
        const b = group.roles.indexOf('bias');
        this.ops.push({
          kind: 'dense',
          w: indexOf.get(group.variables[k])!,
          b: b >= 0 ? indexOf.get(group.variables[b]) : undefined,
          units: spec.units,
          activation: spec.activation,
        });
      } else if (spec.type === 'activation') this.ops.push({ kind: 'activation', fn: spec.fn });
      else if (spec.type === 'flatten') this.ops.push({ kind: 'flatten' });
      else if (spec.type === 'dropout' && spec.rate === 0) continue;
      else
        throw new Error(
          `VectorisedTrainer: supports MLPs (dense, activation, flatten layers); layer ${layer.name} is ${spec.type}`,
        );
    }
    this.groupNames = first.groups.map((g) => g.name);
    this.groupSizes = first.groups.map((g) => g.numParams);
    const initial = this.checkLrs(this.config.learningRates, 'vectorised trainer config: learningRates');
    this.lrs = Array.from({ length: this.size }, () => initial.slice());
    this.steps = new Array<number>(this.size).fill(0);
    this.divergedFlags = new Array<boolean>(this.size).fill(false);
    const opt = this.config.optimizer;
    const full = this.config.metrics === 'full';
    for (const g of first.groups) {
      for (const v of g.variables) {
        const i = indexOf.get(v)!;
        const stacked = tf.tidy(() => tf.variable(tf.stack(models.map((m) => m.trainableVariables()[i])), true));
        const zeros = () => tf.tidy(() => tf.variable(tf.zerosLike(stacked), false));
        this.slots[i] = {
          v: stacked,
          shape: v.shape.slice(),
          group: g.index,
          m: opt === 'sgd' ? undefined : zeros(),
          s: opt === 'adam' ? zeros() : undefined,
          prevSign: full ? zeros() : undefined,
        };
      }
    }
  }

  /**
   * Whether `model`'s architecture can be vectorised (dense, activation and flatten layers only;
   * no batch norm, no dropout).
   *
   * @example
   * ```ts
   * VectorisedTrainer.supports(buildMlp({ inputSize: 4, hidden: [8], numClasses: 2 })); // true
   * ```
   */
  static supports(model: SequentialModel): boolean {
    if (model.stateVariables().length || model.outputShape.length !== 1) return false;
    return model.layers.every(
      (l) =>
        l.kind === 'primitive' &&
        (['dense', 'activation', 'flatten'].includes(l.spec.type) || (l.spec.type === 'dropout' && l.spec.rate === 0)),
    );
  }

  /** B copies of one model's initial weights. */
  static replicate(
    model: SequentialModel,
    size: number,
    config: TrainerConfig,
    options: VectorisedTrainerOptions = {},
  ): VectorisedTrainer {
    if (!Number.isInteger(size) || size < 1)
      throw new Error(`VectorisedTrainer.replicate: size must be a positive integer, got ${size}`);
    return new VectorisedTrainer(new Array<SequentialModel>(size).fill(model), config, options);
  }

  /** Learning rates of network `b`, one per group. */
  learningRates(b: number): number[] {
    return this.lrs[this.checkIndex(b, 'learningRates')].slice();
  }

  /** Sets network `b`'s learning rates (one per group, or one number for every group). */
  setLearningRates(b: number, lrs: number[] | number): void {
    this.lrs[this.checkIndex(b, 'setLearningRates')] = this.checkLrs(lrs, `setLearningRates(${b})`);
  }

  /** Steps network `b` has taken. */
  stepCount(b: number): number {
    return this.steps[this.checkIndex(b, 'stepCount')];
  }

  /** Whether network `b` diverged. */
  diverged(b: number): boolean {
    return this.divergedFlags[this.checkIndex(b, 'diverged')];
  }

  /**
   * One optimiser step of every active network: on one shared `batch`, or on `batches[b]` for
   * network b (B batches of equal size). Batch tensors are not disposed. Returns one
   * {@link StepMetrics} per network (NaN metrics for inactive or diverged networks).
   */
  step(batch: Batch | readonly Batch[], options: VectorisedStepOptions = {}): StepMetrics[] {
    this.assertAlive('step');
    const B = this.size;
    const shared = !Array.isArray(batch);
    const batches = shared ? [batch as Batch] : (batch as readonly Batch[]);
    if (!shared && batches.length !== B)
      throw new Error(
        `VectorisedTrainer.step: got ${batches.length} batches for ${B} networks (pass one shared batch or one per network)`,
      );
    const n = batches[0]?.x?.shape?.[0];
    batches.forEach((bt, i) => {
      this.checkBatch(bt, `VectorisedTrainer.step (batch ${i})`);
      if (bt.x.shape[0] !== n)
        throw new Error(
          `VectorisedTrainer.step: batch ${i} has ${bt.x.shape[0]} examples, batch 0 has ${n} (separate batches must be of one size)`,
        );
    });
    const active = options.active ?? new Array<boolean>(B).fill(true);
    if (!Array.isArray(active) || active.length !== B || active.some((a) => typeof a !== 'boolean'))
      throw new Error(`VectorisedTrainer.step: options.active must be ${B} booleans`);
    const live = active.map((a, b) => a && !this.divergedFlags[b]);
    const groups = this.groupNames.length;
    const nanMetrics = (b: number): StepMetrics => {
      const nan = () => new Float64Array(groups).fill(NaN);
      return {
        step: this.steps[b],
        loss: NaN,
        perSampleLossMean: NaN,
        perSampleLossVar: NaN,
        gradNorms: nan(),
        weightNorms: nan(),
        updateNorms: nan(),
        updateSignAgreement: nan(),
        learningRates: this.lrs[b].slice(),
        diverged: this.divergedFlags[b],
      };
    };
    if (!live.some(Boolean)) return live.map((_, b) => nanMetrics(b));
    const frozen = live.some((l) => !l);
    const cfg = this.config;
    const ts = this.steps.map((s) => s + 1);
    const lrs = this.lrs.map((r) => r.slice());
    const plainSgd = cfg.optimizer === 'sgd' && cfg.weightDecay === 0 && cfg.gradClipNorm === undefined;
    const full = cfg.metrics === 'full';
    const vars = this.slots.map((s) => s.v);
    const metricsTensor = tf.tidy(() => {
      // Per-network scalars as [B, 1, ...] tensors broadcasting against a stacked variable.
      // Created in its broadcast shape directly (no reshape op: small ops cost dispatch time, not arithmetic).
      const perNet = (values: ArrayLike<number>, rank: number) =>
        tf.tensor(Float32Array.from(values), [B, ...new Array<number>(rank).fill(1)]);
      const x = shared ? batches[0].x : tf.stack(batches.map((bt) => bt.x));
      const y = shared ? batches[0].y : tf.stack(batches.map((bt) => bt.y));
      let stats: Tensor | undefined;
      const f = () => {
        const logits = this.forward(x, shared);
        const ps = crossEntropyPerExample(logits, y, cfg.labelSmoothing);
        const { mean, variance } = tf.moments(ps, 1);
        stats = tf.keep(tf.stack([mean, variance]));
        return tf.sum(mean) as tf.Scalar;
      };
      const { grads } = tf.variableGrads(f, vars);
      const raw = vars.map((v) => grads[v.name] ?? tf.zerosLike(v));
      const ssq = (t: Tensor) =>
        tf.sum(
          tf.square(t),
          t.shape.slice(1).map((_, i) => i + 1),
        );
      const needSsq = full || cfg.gradClipNorm !== undefined;
      const gSsq = needSsq ? raw.map(ssq) : [];
      let gs = raw;
      if (cfg.gradClipNorm !== undefined) {
        const total = tf.sqrt(tf.addN(gSsq));
        const coef = tf.minimum(tf.div(cfg.gradClipNorm, tf.add(total, 1e-6)), 1);
        gs = raw.map((g) => tf.mul(g, tf.reshape(coef, [B, ...new Array<number>(g.rank - 1).fill(1)])));
      }
      const write = (target: Variable, next: Tensor) => target.assign(frozen ? pickNetworks(live, next, target) : next);
      const wd = cfg.weightDecay;
      const [b1, b2] = cfg.betas;
      const wSsq: Tensor[] = [];
      const uSsq: Tensor[] = [];
      const signDot: Tensor[] = [];
      this.slots.forEach((slot, i) => {
        const w = slot.v;
        const r = slot.shape.length;
        const lr = lrs.map((row) => row[slot.group]);
        let g = gs[i];
        if (wd > 0 && !cfg.decoupledWeightDecay) g = tf.add(g, tf.mul(w, wd));
        let step: Tensor;
        if (cfg.optimizer === 'sgd') {
          step = tf.mul(g, perNet(lr, r));
        } else if (cfg.optimizer === 'momentum') {
          const m = slot.m as Variable;
          // First step of a network: buf = g (as torch); later: momentum * m + (1 - dampening) * g.
          const cm = perNet(
            ts.map((t) => (t === 1 ? 0 : cfg.momentum)),
            r,
          );
          const cg =
            cfg.dampening === 0
              ? undefined
              : perNet(
                  ts.map((t) => (t === 1 ? 1 : 1 - cfg.dampening)),
                  r,
                );
          const buf = tf.add(tf.mul(m, cm), cg ? tf.mul(g, cg) : g);
          write(m, buf);
          const d = cfg.nesterov ? tf.add(g, tf.mul(buf, cfg.momentum)) : buf;
          step = tf.mul(d, perNet(lr, r));
        } else {
          const m = slot.m as Variable;
          const s = slot.s as Variable;
          const { m: m1, v: s1 } = adamMoments(m, s, g, b1, b2);
          write(m, m1);
          write(s, s1);
          const bc2Sqrt = perNet(
            ts.map((t) => Math.sqrt(1 - Math.pow(b2, t))),
            r,
          );
          const stepSize = perNet(
            ts.map((t, b) => lr[b] / (1 - Math.pow(b1, t))),
            r,
          );
          step = adamStep(m1, s1, bc2Sqrt, cfg.eps, stepSize);
        }
        let newW: Tensor;
        let u: Tensor;
        if (wd > 0 && cfg.decoupledWeightDecay) {
          newW = tf.sub(
            tf.mul(
              w,
              perNet(
                lr.map((l) => 1 - l * wd),
                r,
              ),
            ),
            step,
          );
          u = tf.sub(w, newW);
        } else {
          newW = tf.sub(w, step);
          u = step;
        }
        write(w, newW);
        if (!full) return;
        const sign = updateSign(u);
        const prev = slot.prevSign as Variable;
        signDot.push(
          tf.sum(
            tf.mul(sign, prev),
            sign.shape.slice(1).map((_, k) => k + 1),
          ),
        );
        write(prev, sign);
        wSsq.push(ssq(newW));
        if (!plainSgd) uSsq.push(ssq(u));
      });
      const st = stats as Tensor;
      const out = full ? tf.concat([st, tf.stack([...gSsq, ...wSsq, ...uSsq, ...signDot])]) : tf.clone(st);
      st.dispose();
      return out;
    });
    const data = metricsTensor.dataSync();
    metricsTensor.dispose();
    const nv = this.slots.length;
    return live.map((isLive, b) => {
      if (!isLive) return nanMetrics(b);
      const at = (row: number) => data[row * B + b];
      const loss = at(0);
      this.steps[b] = ts[b];
      const nanArr = () => new Float64Array(groups).fill(NaN);
      if (!full) {
        const diverged = !Number.isFinite(loss);
        if (diverged) this.divergedFlags[b] = true;
        return {
          step: ts[b],
          loss,
          perSampleLossMean: loss,
          perSampleLossVar: at(1),
          gradNorms: nanArr(),
          weightNorms: nanArr(),
          updateNorms: nanArr(),
          updateSignAgreement: nanArr(),
          learningRates: lrs[b],
          diverged,
        };
      }
      const agg = (block: number, fn: (sum: number, g: number) => number) => {
        const out = new Float64Array(groups);
        for (let i = 0; i < nv; i++) out[this.slots[i].group] += at(2 + block * nv + i);
        for (let g = 0; g < groups; g++) out[g] = fn(out[g], g);
        return out;
      };
      const gradNorms = agg(0, Math.sqrt);
      const weightNorms = agg(1, Math.sqrt);
      const updateNorms = plainSgd ? gradNorms.map((gn, g) => lrs[b][g] * gn) : agg(2, Math.sqrt);
      const updateSignAgreement = agg(plainSgd ? 2 : 3, (s, g) => s / this.groupSizes[g]);
      const diverged = !Number.isFinite(loss) || weightNorms.some((w) => !Number.isFinite(w));
      if (diverged) this.divergedFlags[b] = true;
      return {
        step: ts[b],
        loss,
        perSampleLossMean: loss,
        perSampleLossVar: at(1),
        gradNorms,
        weightNorms,
        updateNorms,
        updateSignAgreement,
        learningRates: lrs[b],
        diverged,
      };
    });
  }

  /**
   * Loss (plain cross-entropy) and accuracy of every network in inference mode on one shared
   * `x` / `y` (labels or soft targets), in chunks of `batchSize`, with one data read at the end.
   */
  evaluate(x: Tensor, y: Tensor, batchSize = 256): EvalResult[] {
    this.assertAlive('evaluate');
    this.checkBatch({ x, y }, 'VectorisedTrainer.evaluate');
    if (!Number.isInteger(batchSize) || batchSize <= 0)
      throw new Error(`evaluate: batchSize must be a positive integer, got ${batchSize}`);
    const total = x.shape[0];
    if (total === 0) throw new Error('evaluate: x holds no examples');
    const B = this.size;
    let acc: Tensor = tf.zeros([2, B]);
    for (let start = 0; start < total; start += batchSize) {
      const size = Math.min(batchSize, total - start);
      const next = tf.tidy(() => {
        const xb = size === total ? x : tf.slice(x, start, size);
        const yb = size === total ? y : tf.slice(y, start, size);
        const logits = this.forward(xb, true);
        const lossSum = tf.sum(crossEntropyPerExample(logits, yb, 0), 1);
        const labels = yb.dtype === 'int32' ? yb : tf.argMax(yb, 1);
        const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 2), labels), 'float32'), 1);
        return tf.add(acc, tf.stack([lossSum, correct]));
      });
      acc.dispose();
      acc = next;
    }
    const data = acc.dataSync();
    acc.dispose();
    return Array.from({ length: B }, (_, b) => ({ loss: data[b] / total, accuracy: data[B + b] / total, n: total }));
  }

  /**
   * Network `b`'s full training state as a {@link TrainerSnapshot}, restorable here (into any
   * network) or into a {@link LayerwiseTrainer} of the same model and optimiser. Free it with
   * {@link disposeSnapshot}.
   */
  snapshot(b: number): TrainerSnapshot {
    this.assertAlive('snapshot');
    this.checkIndex(b, 'snapshot');
    const take = (v: Variable, shape: number[]) => tf.keep(tf.tidy(() => tf.reshape(tf.slice(v, [b], [1]), shape)));
    const weights = { values: this.slots.map((s) => take(s.v, s.shape)) };
    const optimizerState: Tensor[] = [];
    for (const s of this.slots) for (const v of [s.m, s.s, s.prevSign]) if (v) optimizerState.push(take(v, s.shape));
    return {
      step: this.steps[b],
      diverged: this.divergedFlags[b],
      learningRates: this.lrs[b].slice(),
      weights,
      optimizerState,
      signState: this.config.metrics === 'full',
    };
  }

  /**
   * Loads a snapshot (from {@link snapshot} or {@link LayerwiseTrainer.snapshot}) into network
   * `b`: weights, optimiser state, step count, learning rates, divergence flag. The snapshot stays
   * valid. A `metrics: 'full'` snapshot also loads into a `metrics: 'loss'` trainer (the
   * sign-agreement state is skipped), as with {@link LayerwiseTrainer.restore}.
   */
  restore(b: number, snapshot: TrainerSnapshot): void {
    this.assertAlive('restore');
    this.checkIndex(b, 'restore');
    this.checkSnapshot(snapshot);
    const parts = this.snapshotParts(snapshot);
    this.slots.forEach((s, i) => {
      this.writeEntry(s.v, b, parts[i].w);
      if (s.m && parts[i].m) this.writeEntry(s.m, b, parts[i].m!);
      if (s.s && parts[i].s) this.writeEntry(s.s, b, parts[i].s!);
      if (s.prevSign && parts[i].sign) this.writeEntry(s.prevSign, b, parts[i].sign!);
    });
    this.steps[b] = snapshot.step;
    this.divergedFlags[b] = snapshot.diverged;
    this.lrs[b] = this.checkLrs(snapshot.learningRates.slice(), 'restore: snapshot learningRates');
  }

  /**
   * Loads one snapshot into every network at once (one op per variable instead of one write per
   * network): B identical copies, e.g. the counterfactual branches of one decision.
   */
  restoreAll(snapshot: TrainerSnapshot): void {
    this.assertAlive('restoreAll');
    this.checkSnapshot(snapshot);
    const parts = this.snapshotParts(snapshot);
    this.slots.forEach((s, i) => {
      for (const [v, t] of [
        [s.v, parts[i].w],
        [s.m, parts[i].m],
        [s.s, parts[i].s],
        [s.prevSign, parts[i].sign],
      ] as [Variable | undefined, Tensor | undefined][]) {
        // B copies by concat: broadcastTo (a Tile) is ~40x slower on wasm.
        if (v && t) tf.tidy(() => v.assign(tf.concat(new Array<Tensor>(this.size).fill(tf.expandDims(t, 0)))));
      }
    });
    const lrs = this.checkLrs(snapshot.learningRates.slice(), 'restoreAll: snapshot learningRates');
    for (let b = 0; b < this.size; b++) {
      this.steps[b] = snapshot.step;
      this.divergedFlags[b] = snapshot.diverged;
      this.lrs[b] = lrs.slice();
    }
  }

  /** Makes network `to` an exact copy of network `from` (weights, optimiser state, step, LRs, divergence). */
  copyNetwork(from: number, to: number): void {
    this.assertAlive('copyNetwork');
    this.checkIndex(from, 'copyNetwork');
    this.checkIndex(to, 'copyNetwork');
    if (from === to) return;
    for (const s of this.slots) {
      for (const v of [s.v, s.m, s.s, s.prevSign]) {
        if (!v) continue;
        const entry = tf.tidy(() => tf.reshape(tf.slice(v, [from], [1]), s.shape));
        this.writeEntry(v, to, entry);
        entry.dispose();
      }
    }
    this.steps[to] = this.steps[from];
    this.divergedFlags[to] = this.divergedFlags[from];
    this.lrs[to] = this.lrs[from].slice();
  }

  /** Frees a {@link snapshot}. */
  disposeSnapshot(snapshot: TrainerSnapshot): void {
    tf.dispose([...snapshot.weights.values, ...snapshot.optimizerState]);
  }

  /** Frees all stacked weights and optimiser state. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.slots) tf.dispose([s.v, ...[s.m, s.s, s.prevSign].filter((v): v is Variable => !!v)]);
  }

  /** Logits `[B, N, classes]`: `x` is `[N, ...inputShape]` (shared) or `[B, N, ...inputShape]`. */
  private forward(x: Tensor, shared: boolean): Tensor {
    const B = this.size;
    const n = (shared ? x.shape[0] : x.shape[1]) as number;
    let h = x;
    let stacked = !shared;
    for (const op of this.ops) {
      if (op.kind === 'flatten') h = tf.reshape(h, stacked ? [B, n, -1] : [n, -1]);
      else if (op.kind === 'activation') h = activate(h, op.fn);
      else {
        const W = this.slots[op.w].v;
        const [fanIn, units] = this.slots[op.w].shape as [number, number];
        let z: Tensor;
        if (stacked) z = tf.matMul(h, W);
        else if (B === 1) z = tf.reshape(tf.matMul(h, tf.reshape(W, [fanIn, units])), [1, n, units]);
        else if (this.sharedInput === 'wide') {
          // One wide product [N, in] x [in, B*units] (costs two transposes of the stacked kernel).
          const wide = tf.reshape(tf.transpose(W, [1, 0, 2]), [fanIn, B * units]);
          z = tf.transpose(tf.reshape(tf.matMul(h, wide), [n, B, units]), [1, 0, 2]);
        } else z = tf.matMul(tf.reshape(h, [1, n, fanIn]), W); // the input broadcast over the B kernels
        stacked = true;
        if (op.b !== undefined) z = tf.add(z, tf.reshape(this.slots[op.b].v, [B, 1, units]));
        h = activate(z, op.activation);
      }
    }
    return h;
  }

  /** Throws a clear error unless `snapshot` fits this trainer's model and optimiser. */
  private checkSnapshot(snapshot: TrainerSnapshot): void {
    const hasSign = this.config.metrics === 'full';
    if (!snapshot.signState && hasSign)
      throw new Error(
        "restore: the snapshot has no sign-agreement state (taken with metrics: 'loss'); restore it into a metrics: 'loss' trainer",
      );
    const perSlot =
      (this.config.optimizer === 'sgd' ? 0 : 1) +
      (this.config.optimizer === 'adam' ? 1 : 0) +
      (snapshot.signState ? 1 : 0);
    if (
      snapshot.weights.values.length !== this.slots.length ||
      snapshot.optimizerState.length !== perSlot * this.slots.length
    ) {
      throw new Error(
        `restore: snapshot holds ${snapshot.weights.values.length} weights and ${snapshot.optimizerState.length} optimiser tensors, this trainer expects ${this.slots.length} and ${perSlot * this.slots.length} (snapshot from another model or optimiser?)`,
      );
    }
    if ([...snapshot.weights.values, ...snapshot.optimizerState].some((t) => t.isDisposed))
      throw new Error('restore: snapshot was disposed');
    this.slots.forEach((s, i) => {
      const src = snapshot.weights.values[i];
      if (shapeText(src.shape) !== shapeText(s.shape))
        throw new Error(`restore: variable ${i} has shape ${shapeText(s.shape)}, snapshot ${shapeText(src.shape)}`);
    });
  }

  /** A checked snapshot's tensors per variable slot (its optimiser state is laid out [m?, s?, sign?] per slot). */
  private snapshotParts(snapshot: TrainerSnapshot): { w: Tensor; m?: Tensor; s?: Tensor; sign?: Tensor }[] {
    let k = 0;
    return this.slots.map((_, i) => ({
      w: snapshot.weights.values[i],
      m: this.config.optimizer === 'sgd' ? undefined : snapshot.optimizerState[k++],
      s: this.config.optimizer === 'adam' ? snapshot.optimizerState[k++] : undefined,
      sign: snapshot.signState ? snapshot.optimizerState[k++] : undefined,
    }));
  }

  /** Replaces entry `b` of a stacked variable with `value` (one network's shape). */
  private writeEntry(v: Variable, b: number, value: Tensor): void {
    tf.tidy(() => {
      const entry = tf.expandDims(value, 0);
      const parts = [
        b > 0 ? tf.slice(v, [0], [b]) : null,
        entry,
        b < this.size - 1 ? tf.slice(v, [b + 1], [this.size - b - 1]) : null,
      ].filter((t): t is Tensor => t !== null);
      v.assign(parts.length === 1 ? entry : tf.concat(parts));
    });
  }

  private checkBatch(batch: Batch, where: string): void {
    const { x, y } = batch ?? ({} as Batch);
    if (!x || !y) throw new Error(`${where}: expected a batch { x, y }`);
    const expected = shapeText(['N', ...this.inputShape] as unknown as number[]);
    const ok = x.rank === this.inputShape.length + 1 && this.inputShape.every((d, i) => x.shape[i + 1] === d);
    if (!ok) throw new Error(`${where}: input x must have shape ${expected}, got ${shapeText(x.shape)}`);
    if (x.dtype !== 'float32') throw new Error(`${where}: input x must be float32, got ${x.dtype}`);
    const n = x.shape[0];
    const c = this.numClasses;
    if (y.dtype === 'int32') {
      if (y.rank !== 1 || y.shape[0] !== n)
        throw new Error(`${where}: int32 labels y must have shape [${n}], got ${shapeText(y.shape)}`);
    } else if (y.dtype === 'float32') {
      if (y.rank !== 2 || y.shape[0] !== n || y.shape[1] !== c)
        throw new Error(`${where}: float32 soft targets y must have shape [${n}, ${c}], got ${shapeText(y.shape)}`);
    } else
      throw new Error(`${where}: y must be int32 labels [N] or float32 soft targets [N, ${c}], got dtype ${y.dtype}`);
  }

  private checkLrs(lrs: number[] | number, where: string): number[] {
    const n = this.groupNames.length;
    const arr = typeof lrs === 'number' ? new Array<number>(n).fill(lrs) : lrs;
    if (!Array.isArray(arr)) throw new Error(`${where}: expected a number or an array of ${n} numbers`);
    if (arr.length !== n)
      throw new Error(
        `${where}: expected ${n} learning rates (one per parameter group: ${this.groupNames.join(', ')}), got ${arr.length}`,
      );
    arr.forEach((lr, i) => {
      if (typeof lr !== 'number' || !(Number.isFinite(lr) && lr >= 0))
        throw new Error(`${where}: learning rate ${i} (${this.groupNames[i]}) must be finite and >= 0, got ${lr}`);
    });
    return arr.slice();
  }

  private checkIndex(b: number, where: string): number {
    if (!Number.isInteger(b) || b < 0 || b >= this.size)
      throw new Error(`VectorisedTrainer.${where}: network index must be an integer in [0, ${this.size}), got ${b}`);
    return b;
  }

  private assertAlive(where: string): void {
    if (this.disposed) throw new Error(`VectorisedTrainer.${where}: trainer was disposed`);
  }
}
