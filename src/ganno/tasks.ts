import { parseConfig, z } from '../config';
import { BatchIterator, loadDigits, loadFashionMnist, makeSyntheticTrainTest, subset } from '../data';
import type { ImageDataset } from '../data';
import { buildCnn, buildMlp } from '../nn';
import type { SequentialModel } from '../nn';
import { Rng, deriveSeed } from '../random';

const range = (lo: z.ZodNumber) =>
  z.tuple([lo, lo]).refine((r) => r[0] <= r[1], { message: 'range must be [min, max] with min <= max' });
const posInt = z.number().int().positive();

/**
 * The task distribution of {@link TaskSampler} (reconstruction defaults; the paper does not state them).
 * Per episode: dataset (uniform over `datasets`), architecture (`model`: MLP with depth hidden layers
 * of a width from `widths`, or CNN with depth conv blocks of `filters`), initial LR (log-uniform in
 * `initialLr`, the same for every layer), weight decay and optimiser (uniform over the choices),
 * network init seed, data-order seed, and disjoint train / validation subsets of the dataset's
 * training file (`trainSize`, `valSize`; the test file is never used by the environment).
 *
 * @example
 * ```ts
 * const c = TaskConfigSchema.parse({ depth: [2, 4] });
 * c.totalSteps; // 400
 * ```
 */
export const TaskConfigSchema = z
  .object({
    datasets: z
      .array(z.enum(['digits', 'fashion-mnist', 'synthetic']))
      .min(1)
      .default(['digits']),
    model: z.enum(['mlp', 'cnn']).default('mlp'),
    /** Hidden layers (MLP) or conv blocks (CNN): integer uniform in [min, max]. Agents = depth + 1. */
    depth: range(z.number().int().min(0)).default([1, 2]),
    /** MLP hidden width choices (each hidden layer draws its own). */
    widths: z.array(posInt).min(1).default([32, 64, 128]),
    /** CNN filters per block choices (3x3 conv, ReLU, 2x2 max pool). */
    filters: z.array(posInt).min(1).default([8, 16]),
    initialLr: range(z.number().positive().max(1e3)).default([0.01, 0.3]),
    weightDecay: z.array(z.number().nonnegative().finite()).min(1).default([0]),
    optimizer: z
      .array(z.enum(['sgd', 'momentum', 'adam']))
      .min(1)
      .default(['sgd']),
    trainSize: posInt.default(2000),
    valSize: posInt.default(500),
    batchSize: posInt.default(64),
    /** SGD steps per episode (a multiple of the env's K, `LayerLrEnvConfig.k`). */
    totalSteps: posInt.default(400),
    /** Synthetic dataset shape (for tests): images h x w x 1, classes, noise, fixed seed. */
    synthetic: z
      .object({
        size: posInt.default(8),
        numClasses: z.number().int().min(2).default(4),
        noise: z.number().nonnegative().default(0.3),
        seed: z.number().int().default(7),
        n: posInt.default(1200),
      })
      .strict()
      .default({}),
  })
  .strict()
  .refine((c) => c.model === 'mlp' || c.depth[0] >= 1, {
    message: 'a CNN needs depth >= 1 conv block',
    path: ['depth'],
  });
export type TaskConfig = z.input<typeof TaskConfigSchema>;
export type ResolvedTaskConfig = z.output<typeof TaskConfigSchema>;

/** One sampled training task (plain data; build its network with {@link buildTaskModel}). */
export interface SampledTask {
  /** The seed it was sampled from. */
  seed: number;
  dataset: 'digits' | 'fashion-mnist' | 'synthetic';
  model: 'mlp' | 'cnn';
  /** MLP hidden widths or CNN filters per block. */
  hidden: number[];
  initialLr: number;
  weightDecay: number;
  optimizer: 'sgd' | 'momentum' | 'adam';
  /** Network initialisation seed. */
  modelSeed: number;
  /** Mini-batch order seed. */
  dataSeed: number;
  /** Trainer seed (dropout masks; none in the default nets). */
  trainerSeed: number;
  batchSize: number;
  totalSteps: number;
  /** Training subset and fixed validation subset (disjoint, from the dataset's training file). */
  train: ImageDataset;
  validation: ImageDataset;
}

const datasetCache = new Map<string, ImageDataset>();

/**
 * The training file of a dataset, loaded once per process and cached (loading is slow).
 *
 * @example
 * ```ts
 * loadTaskDataset('digits', TaskConfigSchema.parse({})).n; // 5000
 * ```
 */
export function loadTaskDataset(name: SampledTask['dataset'], config: ResolvedTaskConfig): ImageDataset {
  const s = config.synthetic;
  const key = name === 'synthetic' ? `synthetic:${s.size}:${s.numClasses}:${s.noise}:${s.seed}:${s.n}` : name;
  let ds = datasetCache.get(key);
  if (!ds) {
    if (name === 'digits') ds = loadDigits().train;
    else if (name === 'fashion-mnist') ds = loadFashionMnist().train;
    else
      ds = makeSyntheticTrainTest({
        nTrain: s.n,
        nTest: 1,
        height: s.size,
        width: s.size,
        numClasses: s.numClasses,
        noise: s.noise,
        seed: s.seed,
      }).train;
    datasetCache.set(key, ds);
  }
  return ds;
}

/**
 * Samples training tasks from a {@link TaskConfigSchema} distribution; `sample(seed)` is a pure
 * function of the config and the seed.
 *
 * @example
 * ```ts
 * const sampler = new TaskSampler({ depth: [2, 3], initialLr: [1e-3, 1] });
 * const task = sampler.sample(42);
 * const model = buildTaskModel(task); // task.hidden.length + 1 parameter groups
 * ```
 */
export class TaskSampler {
  readonly config: ResolvedTaskConfig;

  constructor(config: TaskConfig = {}) {
    this.config = parseConfig(TaskConfigSchema, config, 'GANNO task config');
  }

  sample(seed: number): SampledTask {
    if (!Number.isInteger(seed)) throw new Error(`TaskSampler.sample: seed must be an integer, got ${seed}`);
    const c = this.config;
    const rng = new Rng(seed).fork('ganno-task');
    const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)];
    const dataset = pick(c.datasets);
    const depth = c.depth[0] + rng.int(c.depth[1] - c.depth[0] + 1);
    const hidden = Array.from({ length: depth }, () => pick(c.model === 'mlp' ? c.widths : c.filters));
    const initialLr =
      c.initialLr[0] === c.initialLr[1] ? c.initialLr[0] : rng.logUniform(c.initialLr[0], c.initialLr[1]);
    const weightDecay = pick(c.weightDecay);
    const optimizer = pick(c.optimizer);
    const full = loadTaskDataset(dataset, c);
    if (c.trainSize + c.valSize > full.n) {
      throw new Error(
        `GANNO task config: trainSize (${c.trainSize}) + valSize (${c.valSize}) exceed the ${full.n} training examples of ${dataset}`,
      );
    }
    const perm = rng.fork('subsets').permutation(full.n);
    const trainIdx = perm.slice(0, c.trainSize);
    const valIdx = perm.slice(c.trainSize, c.trainSize + c.valSize);
    return {
      seed,
      dataset,
      model: c.model,
      hidden,
      initialLr,
      weightDecay,
      optimizer,
      modelSeed: deriveSeed(seed, 'model'),
      dataSeed: deriveSeed(seed, 'data-order'),
      trainerSeed: deriveSeed(seed, 'trainer'),
      batchSize: c.batchSize,
      totalSteps: c.totalSteps,
      train: subset(full, trainIdx, `${dataset}/train[task ${seed}]`),
      validation: subset(full, valIdx, `${dataset}/validation[task ${seed}]`),
    };
  }
}

/**
 * Builds the (freshly initialised) network of a task; the caller disposes it.
 *
 * @example
 * ```ts
 * const model = buildTaskModel(new TaskSampler().sample(1));
 * model.dispose();
 * ```
 */
export function buildTaskModel(task: SampledTask): SequentialModel {
  const ds = task.train;
  if (task.model === 'mlp') {
    return buildMlp({
      inputSize: ds.height * ds.width * ds.channels,
      hidden: task.hidden,
      numClasses: ds.numClasses,
      seed: task.modelSeed,
    });
  }
  return buildCnn({
    inputShape: [ds.height, ds.width, ds.channels],
    blocks: task.hidden.map((filters) => ({ filters, kernel: 3, pool: { type: 'max' as const, size: 2 } })),
    numClasses: ds.numClasses,
    seed: task.modelSeed,
  });
}

/**
 * The task's seeded mini-batch iterator over its training subset (flattened for MLPs); the
 * caller disposes it. The environment uses exactly this iterator.
 *
 * @example
 * ```ts
 * const it = taskBatches(task);
 * const batch = it.next();
 * ```
 */
export function taskBatches(task: SampledTask): BatchIterator {
  return new BatchIterator(task.train, {
    batchSize: task.batchSize,
    seed: task.dataSeed,
    flatten: task.model === 'mlp',
  });
}
