/**
 * MA2ML pipeline evaluation: proxy training of one pipeline (augmentation inside the input
 * pipeline, HPO applied, input resized to the architecture's resolution) on a seeded
 * Fashion-MNIST training subset, validation accuracy, reward under a FLOPs budget rule; final
 * retraining on the full training set with test accuracy; a runtime job kind so evaluations run
 * in parallel workers and are cached in the experiment store.
 */
import { tf } from '../backend';
import type { Tensor } from '../backend';
import { parseConfig, z } from '../config';
import { BatchIterator, loadFashionMnist, splitTrainValidation, takeBalanced } from '../data';
import type { ImageDataset } from '../data';
import { LayerwiseTrainer, buildSequential } from '../nn';
import type { SequentialSpec } from '../nn';
import { Rng, deriveSeed } from '../random';
import { defineJobKind } from '../runtime/jobs';
import type { JobContext } from '../runtime/jobs';
import { augmentBatch } from './aug';
import { budgetReward, checkPipeline, encodePipeline, prepareInputs } from './pipeline';
import type { BudgetRule } from './pipeline';
import { parseSearchSpace } from './spaces';
import type { Pipeline, SearchSpace, SpacePreset } from './spaces';

// ------------------------------------------------------------------ data configuration

const DataSchema = z
  .object({
    /** Fashion-MNIST source (see `loadFashionMnist`): 'auto' uses the full set when installed, else the embedded subset. */
    source: z.enum(['auto', 'full', 'embedded']).default('auto'),
    /** Training examples of the proxy training (class-balanced, drawn from the train part after the validation split); must be a multiple of 10. */
    trainSubset: z
      .number()
      .int()
      .min(10)
      .multipleOf(10, 'must be a multiple of 10 (class-balanced subset)')
      .default(2000),
    /** Validation examples held out of the training file (stratified). */
    validationSize: z.number().int().min(10).default(1000),
    /** Seed of the validation split and the training subset (fixed across pipelines so rewards are comparable). */
    dataSeed: z.number().int().default(0),
  })
  .strict();

/** Data configuration of the proxy evaluation (part of the cache key). */
export type EvalDataConfig = z.input<typeof DataSchema>;
/** {@link EvalDataConfig} with defaults filled in. */
export type ResolvedEvalDataConfig = z.output<typeof DataSchema>;

const EvalSchema = z
  .object({
    space: z.unknown(),
    data: DataSchema.default({}),
    /** Seed of the weights, batch order, augmentation draws, mixup and dropout. */
    seed: z.number().int().default(0),
    /** Proxy training epochs over the training subset. */
    epochs: z.number().int().min(1).default(1),
    /** FLOPs (MACs per image) budget B of the reward rule. */
    flopsBudget: z.number().positive(),
    /** 'hard': over budget is not trained and gets reward 0; 'soft': acc * (F / B)^-0.07 over budget. */
    budgetRule: z.enum(['hard', 'soft']).default('hard'),
  })
  .strict();

/** Options of {@link evaluatePipeline}. */
export type EvaluateOptions = z.input<typeof EvalSchema> & { space: SearchSpace };

/** Outcome of one pipeline evaluation (plain JSON; never thrown for invalid or diverging pipelines). */
export interface PipelineEvaluation {
  /** Whether the pipeline was trained (false: shapes collapse, or over a hard budget). */
  valid: boolean;
  /** Why it was not trained, or why it scored 0 (divergence). */
  reason?: string;
  /** Validation accuracy of the proxy training (null when not trained; 0 when diverged). */
  valAccuracy: number | null;
  /** Reward in [0, 1] under the budget rule (0 when invalid or diverged). */
  reward: number;
  /** MACs per image (null when the network cannot be built). */
  macs: number | null;
  params: number | null;
  /** Loss or weights became non-finite during training. */
  diverged: boolean;
  /** Optimiser steps taken. */
  steps: number;
}

/**
 * Proxy-evaluation sizes per preset (reconstruction): `smoke` 500 training / 500 validation
 * examples, 1 epoch; `quick` 2000 / 1000, 1 epoch; `full` 10000 / 5000, 2 epochs.
 *
 * @example
 * ```ts
 * const { data, epochs } = evaluationDefaults('quick');
 * await evaluatePipeline(p, { space, data, epochs, seed: 0, flopsBudget: 6e5 });
 * ```
 */
export function evaluationDefaults(preset: SpacePreset): { data: ResolvedEvalDataConfig; epochs: number } {
  switch (preset) {
    case 'smoke':
      return { data: { source: 'auto', trainSubset: 500, validationSize: 500, dataSeed: 0 }, epochs: 1 };
    case 'quick':
      return { data: { source: 'auto', trainSubset: 2000, validationSize: 1000, dataSeed: 0 }, epochs: 1 };
    case 'full':
      return { data: { source: 'auto', trainSubset: 10000, validationSize: 5000, dataSeed: 0 }, epochs: 2 };
    default:
      throw new Error(`evaluationDefaults: unknown preset ${JSON.stringify(preset)} (expected smoke, quick or full)`);
  }
}

// ------------------------------------------------------------------ per-process data cache

const fileCache = new Map<string, { train: ImageDataset; test: ImageDataset }>();
const splitCache = new Map<string, { train: ImageDataset; validation: ImageDataset }>();

function loadFiles(source: ResolvedEvalDataConfig['source']): { train: ImageDataset; test: ImageDataset } {
  let f = fileCache.get(source);
  if (!f) {
    const raw = loadFashionMnist({ source });
    f = { train: raw.train, test: raw.test };
    fileCache.set(source, f);
  }
  return f;
}

/**
 * The proxy-training data of a data configuration, loaded once per process and cached: a
 * stratified validation split of the Fashion-MNIST training file and a class-balanced training
 * subset of the rest, both from `dataSeed`.
 *
 * @example
 * ```ts
 * const { train, validation } = proxyData({ trainSubset: 500, validationSize: 500 });
 * train.n; // 500
 * ```
 */
export function proxyData(config: EvalDataConfig = {}): { train: ImageDataset; validation: ImageDataset } {
  const c = parseConfig(DataSchema, config, 'MA2ML evaluation data config');
  const key = JSON.stringify(c);
  let s = splitCache.get(key);
  if (!s) {
    const file = loadFiles(c.source).train;
    if (c.validationSize + c.trainSubset > file.n) {
      throw new Error(
        `MA2ML evaluation data config: trainSubset ${c.trainSubset} + validationSize ${c.validationSize} exceed the ${file.n} training examples of ${file.source}`,
      );
    }
    const rng = new Rng(c.dataSeed).fork('ma2ml-proxy-data');
    const split = splitTrainValidation(file, { validationSize: c.validationSize, rng: rng.fork('split') });
    const train = takeBalanced(split.train, c.trainSubset / 10, rng.fork('subset'));
    s = { train, validation: split.validation };
    splitCache.set(key, s);
  }
  return s;
}

// ------------------------------------------------------------------ mixup

/** Gamma(shape, 1) by Marsaglia-Tsang (shape < 1 via the U^(1/shape) boost). */
function sampleGamma(shape: number, rng: Rng): number {
  if (shape < 1) return sampleGamma(shape + 1, rng) * Math.pow(1 - rng.next(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng.next();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/**
 * A Beta(alpha, alpha) draw from a seeded stream: the mixup weight lambda (alpha = 0 gives 1, no mixing).
 *
 * @example
 * ```ts
 * const lam = sampleMixupLambda(0.2, new Rng(0)); // in (0, 1), mostly near 0 or 1
 * ```
 */
export function sampleMixupLambda(alpha: number, rng: Rng): number {
  if (!(alpha >= 0) || !Number.isFinite(alpha))
    throw new Error(`sampleMixupLambda: alpha must be finite and >= 0, got ${alpha}`);
  if (alpha === 0) return 1;
  const a = sampleGamma(alpha, rng);
  const b = sampleGamma(alpha, rng);
  return a + b > 0 ? a / (a + b) : 0.5;
}

// ------------------------------------------------------------------ training core

interface TrainOutcome {
  accuracy: number;
  diverged: boolean;
  steps: number;
}

/** Trains `spec` on `train` with the pipeline's AUG + HPO and scores it on `evalSet`. No tensors kept. */
function trainAndScore(
  p: Pipeline,
  spec: SequentialSpec,
  train: ImageDataset,
  evalSet: ImageDataset,
  seed: number,
  epochs: number,
): TrainOutcome {
  const rng = new Rng(seed).fork('ma2ml-eval');
  const augRng = rng.fork('aug');
  const mixRng = rng.fork('mixup');
  const model = buildSequential(spec, { seed: deriveSeed(seed, 'weights') });
  const h = p.hpo;
  const trainer = new LayerwiseTrainer(model, {
    optimizer: h.optimizer,
    learningRates: h.learningRate,
    weightDecay: h.weightDecay,
    labelSmoothing: h.labelSmoothing,
    seed: deriveSeed(seed, 'dropout'),
    metrics: 'loss',
  });
  const batches = new BatchIterator(train, {
    batchSize: Math.min(h.batchSize, train.n),
    seed: deriveSeed(seed, 'batches'),
  });
  const numClasses = model.outputShape[0] as number;
  let diverged = false;
  let steps = 0;
  try {
    const total = epochs * batches.batchesPerEpoch;
    for (let s = 0; s < total && !diverged; s++) {
      const b = batches.next();
      const lam = h.mixupAlpha > 0 ? sampleMixupLambda(h.mixupAlpha, mixRng) : 1;
      let x: Tensor | undefined;
      let y: Tensor | undefined;
      try {
        const xAug = augmentBatch(b.x, p.aug, augRng);
        x = tf.tidy(() => {
          const input = prepareInputs(xAug, p.arch);
          // mixup with the batch in reverse order (batches are already shuffled)
          return lam < 1 ? tf.add(tf.mul(input, lam), tf.mul(tf.reverse(input, 0), 1 - lam)) : input;
        });
        xAug.dispose();
        y =
          lam < 1
            ? tf.tidy(() => {
                const hot = tf.cast(tf.oneHot(b.y as tf.Tensor1D, numClasses), 'float32');
                return tf.add(tf.mul(hot, lam), tf.mul(tf.reverse(hot, 0), 1 - lam));
              })
            : b.y;
        const m = trainer.step({ x, y });
        steps++;
        if (m.diverged) diverged = true;
      } finally {
        if (x) x.dispose();
        if (y && y !== b.y) y.dispose();
        b.x.dispose();
        b.y.dispose();
      }
    }
    let accuracy = 0;
    if (!diverged) {
      const xs = tf.tensor4d(evalSet.images, [evalSet.n, evalSet.height, evalSet.width, evalSet.channels]);
      const ys = tf.tensor1d(evalSet.labels, 'int32');
      const input = prepareInputs(xs, p.arch);
      xs.dispose();
      try {
        const r = trainer.evaluate(input, ys, 500);
        accuracy = r.accuracy;
        if (!Number.isFinite(r.loss)) diverged = true;
      } finally {
        input.dispose();
        ys.dispose();
      }
    }
    return { accuracy: diverged ? 0 : accuracy, diverged, steps };
  } finally {
    batches.dispose();
    trainer.dispose();
    model.dispose();
  }
}

// ------------------------------------------------------------------ public evaluation

/**
 * Evaluates one pipeline by proxy training: the pipeline's network (`checkPipeline`) trained for
 * `epochs` on the seeded training subset of {@link proxyData}, with the AUG policy applied per batch
 * (`augmentBatch`, seeded), the HPO choices (optimiser, learning rate, weight decay, batch size,
 * label smoothing, mixup with Beta(alpha, alpha) lambda and soft targets, dropout in the spec) and
 * inputs resized to the architecture's resolution (`prepareInputs`); validation accuracy on the
 * held-out split; reward by `budgetReward`. Invalid pipelines (shapes that collapse, or over a hard
 * budget: not trained) and divergence are outcomes with reward 0, never exceptions; malformed
 * options, and pipeline values outside the space, throw naming the field. Same seed, same backend: same result. No tensors are kept.
 *
 * @example
 * ```ts
 * const space = presetSpace('smoke');
 * const p = samplePipeline(space, new Rng(1));
 * const r = evaluatePipeline(p, { space, ...evaluationDefaults('smoke'), seed: 0, flopsBudget: flopsBudgets('smoke')[0] });
 * r.valid; r.valAccuracy; r.reward; r.macs;
 * ```
 */
export function evaluatePipeline(pipeline: Pipeline, options: EvaluateOptions): PipelineEvaluation {
  const o = parseConfig(EvalSchema, options, 'evaluatePipeline options');
  const space = parseSearchSpace(o.space);
  encodePipeline(space, pipeline); // throws naming the agent and dimension when a value is outside the space
  const check = checkPipeline(space, pipeline);
  if (!check.valid) {
    return {
      valid: false,
      reason: check.reason,
      valAccuracy: null,
      reward: 0,
      macs: check.macs ?? null,
      params: check.params ?? null,
      diverged: false,
      steps: 0,
    };
  }
  const { macs, params } = check;
  if (o.budgetRule === 'hard' && macs > o.flopsBudget) {
    return {
      valid: false,
      reason: `${macs} MACs exceed the hard budget of ${o.flopsBudget}: not trained`,
      valAccuracy: null,
      reward: 0,
      macs,
      params,
      diverged: false,
      steps: 0,
    };
  }
  const { train, validation } = proxyData(o.data);
  const r = trainAndScore(pipeline, check.spec, train, validation, o.seed, o.epochs);
  const out: PipelineEvaluation = {
    valid: true,
    valAccuracy: r.accuracy,
    reward: r.diverged ? 0 : budgetReward(r.accuracy, macs, o.flopsBudget, o.budgetRule),
    macs,
    params,
    diverged: r.diverged,
    steps: r.steps,
  };
  if (r.diverged) out.reason = 'training diverged (non-finite loss or weights)';
  return out;
}

const RetrainSchema = z
  .object({
    space: z.unknown(),
    /** Fashion-MNIST source (see `loadFashionMnist`). */
    source: z.enum(['auto', 'full', 'embedded']).default('auto'),
    seed: z.number().int().default(0),
    epochs: z.number().int().min(1).default(5),
    /** Train on at most this many examples of the training file (class-balanced; default: all of it). */
    trainLimit: z.number().int().min(10).multipleOf(10).optional(),
    /** Score on at most the first this many test examples (default: all). */
    testLimit: z.number().int().min(1).optional(),
  })
  .strict();

/** Options of {@link retrainPipeline}. */
export type RetrainOptions = z.input<typeof RetrainSchema> & { space: SearchSpace };

/** Result of {@link retrainPipeline}. */
export interface RetrainResult {
  valid: boolean;
  reason?: string;
  /** Test-set accuracy (null when the pipeline cannot be built; 0 when diverged). */
  testAccuracy: number | null;
  macs: number | null;
  params: number | null;
  trainExamples: number;
  testExamples: number;
  epochs: number;
  diverged: boolean;
  steps: number;
}

/**
 * Final retraining of a pipeline on the full Fashion-MNIST training file (or a class-balanced
 * `trainLimit` subset) with its AUG and HPO, scored on the test file. No budget rule is applied
 * (the search already did); invalid pipelines and divergence are outcomes, not exceptions.
 *
 * @example
 * ```ts
 * const best = search.best.pipeline;
 * const final = retrainPipeline(best, { space, seed: 0, epochs: 5 });
 * final.testAccuracy;
 * ```
 */
export function retrainPipeline(pipeline: Pipeline, options: RetrainOptions): RetrainResult {
  const o = parseConfig(RetrainSchema, options, 'retrainPipeline options');
  const space = parseSearchSpace(o.space);
  encodePipeline(space, pipeline);
  const check = checkPipeline(space, pipeline);
  const base = { trainExamples: 0, testExamples: 0, epochs: o.epochs, diverged: false, steps: 0 };
  if (!check.valid)
    return {
      ...base,
      valid: false,
      reason: check.reason,
      testAccuracy: null,
      macs: check.macs ?? null,
      params: check.params ?? null,
    };
  const files = loadFiles(o.source);
  const train =
    o.trainLimit !== undefined && o.trainLimit < files.train.n
      ? takeBalanced(files.train, o.trainLimit / 10, new Rng(o.seed).fork('retrain-subset'))
      : files.train;
  let test = files.test;
  if (o.testLimit !== undefined && o.testLimit < test.n) {
    const n = o.testLimit;
    const size = test.height * test.width * test.channels;
    test = {
      ...test,
      name: `${test.name}[:${n}]`,
      n,
      images: test.images.subarray(0, n * size),
      labels: test.labels.subarray(0, n),
    };
  }
  const r = trainAndScore(pipeline, check.spec, train, test, o.seed, o.epochs);
  const out: RetrainResult = {
    valid: true,
    testAccuracy: r.accuracy,
    macs: check.macs,
    params: check.params,
    trainExamples: train.n,
    testExamples: test.n,
    epochs: o.epochs,
    diverged: r.diverged,
    steps: r.steps,
  };
  if (r.diverged) out.reason = 'training diverged (non-finite loss or weights)';
  return out;
}

// ------------------------------------------------------------------ job kind

/** Configuration of one {@link evaluationKind} job (the job's seed is the evaluation seed). */
export interface EvaluationJobConfig {
  pipeline: Pipeline;
  space: SearchSpace;
  data: EvalDataConfig;
  epochs: number;
  flopsBudget: number;
  budgetRule: BudgetRule;
}

/**
 * Work function of {@link evaluationKind}: `evaluatePipeline(config.pipeline, { ...config, seed: ctx.seed })`.
 *
 * @example
 * ```ts
 * const job = evaluationKind.job(pipelineKey(p), { pipeline: p, space, data, epochs: 1, flopsBudget: 6e5, budgetRule: 'hard' }, 0);
 * ```
 */
export function evaluatePipelineJob(config: EvaluationJobConfig, ctx: JobContext): PipelineEvaluation {
  const { pipeline, ...rest } = config;
  return evaluatePipeline(pipeline, { ...rest, seed: ctx.seed });
}

/**
 * The resolved configuration of an {@link evaluationKind} job (its cache key is computed from it):
 * data, epochs and budget rule with their defaults applied. A configuration that already spells
 * every field (as `evaluationDefaults` and the plans do) resolves to itself, so its key is unchanged.
 *
 * @example
 * ```ts
 * resolveEvaluationJobConfig({ pipeline: p, space, data: {}, epochs: 1, flopsBudget: 6e5, budgetRule: 'hard' }).data;
 * // { source: 'auto', trainSubset: 2000, validationSize: 1000, dataSeed: 0 }
 * ```
 */
export function resolveEvaluationJobConfig(config: EvaluationJobConfig): EvaluationJobConfig {
  const { pipeline, space, ...rest } = config;
  const o = parseConfig(EvalSchema, { ...rest, space }, 'ma2ml-evaluate job config');
  return { ...config, pipeline, data: o.data, epochs: o.epochs, budgetRule: o.budgetRule };
}

/**
 * Runtime job kind of one pipeline evaluation: run through an executor (inline or a worker pool)
 * and cached by `runExperiment` in the experiment store under (pipeline key, seed, data and budget
 * configuration). Bump the version when the evaluation changes.
 *
 * @example
 * ```ts
 * const jobs = pipelines.map((p) => evaluationKind.job(pipelineKey(p), { pipeline: p, space, data, epochs: 1, flopsBudget: B, budgetRule: 'soft' }, 0));
 * const { results } = await runExperiment({ name: 'ma2ml-eval', jobs, executor, store });
 * ```
 */
export const evaluationKind = defineJobKind({
  name: 'ma2ml-evaluate',
  module: __filename,
  export: 'evaluatePipelineJob',
  version: 'ma2ml-evaluate@1',
  fn: evaluatePipelineJob,
  resolveConfig: resolveEvaluationJobConfig,
});
