import { parseConfig, z } from '../config';
import { Rng } from '../random';
import type { ImageDataset } from './types';

/** Options of {@link makeSyntheticClassification}. */
export interface SyntheticClassificationOptions {
  /** Number of examples (default 1000). Labels are balanced: counts differ by at most one. */
  n?: number;
  height?: number;
  width?: number;
  channels?: number;
  numClasses?: number;
  /** Seed of templates, labels and noise. */
  seed: number;
  /** Standard deviation of the per-pixel Gaussian noise added to the class template (default 0.3). */
  noise?: number;
  /** Dataset name (default `synthetic`). */
  name?: string;
}

const SyntheticSchema = z
  .object({
    n: z.number().int().positive().default(1000),
    height: z.number().int().positive().default(8),
    width: z.number().int().positive().default(8),
    channels: z.number().int().positive().default(1),
    numClasses: z.number().int().min(2).default(10),
    seed: z.number().int(),
    noise: z.number().nonnegative().finite().default(0.3),
    name: z.string().min(1).default('synthetic'),
  })
  .strict();

/**
 * Class-dependent random images for fast tests: each class has a template with pixels drawn
 * uniformly from [0, 1]; an example is its class template plus N(0, noise^2) per pixel, clipped
 * to [0, 1]. Learnable by linear models and CNNs; `noise` sets the difficulty. Templates depend
 * only on `seed` and the shape; for train and test sets that share templates use
 * {@link makeSyntheticTrainTest}.
 *
 * @example
 * ```ts
 * const ds = makeSyntheticClassification({ n: 512, height: 8, width: 8, numClasses: 4, seed: 1 });
 * ```
 */
export function makeSyntheticClassification(opts: SyntheticClassificationOptions): ImageDataset {
  const o = parseConfig(SyntheticSchema, opts, 'synthetic dataset options');
  const root = new Rng(o.seed);
  const size = o.height * o.width * o.channels;
  const tplRng = root.fork('templates');
  const templates = tplRng.uniformArray(o.numClasses * size, 0, 1);
  const labels = new Int32Array(o.n);
  for (let i = 0; i < o.n; i++) labels[i] = i % o.numClasses;
  root.fork('labels').shuffleInPlace(labels);
  const images = new Float32Array(o.n * size);
  if (o.noise > 0) {
    const noise = root.fork('noise').normalArray(o.n * size, 0, o.noise);
    images.set(noise);
  }
  for (let i = 0; i < o.n; i++) {
    const t = labels[i] * size;
    const off = i * size;
    for (let j = 0; j < size; j++) {
      const v = images[off + j] + templates[t + j];
      images[off + j] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  return {
    name: o.name,
    images,
    labels,
    n: o.n,
    height: o.height,
    width: o.width,
    channels: o.channels,
    numClasses: o.numClasses,
    classNames: Array.from({ length: o.numClasses }, (_, c) => `class ${c}`),
    source: `synthetic (seed ${o.seed}, noise ${o.noise})`,
  };
}

/**
 * Train and test sets drawn from the same class templates (same `seed`), with independent
 * labels and noise.
 *
 * @example
 * ```ts
 * const { train, test } = makeSyntheticTrainTest({ nTrain: 1000, nTest: 200, seed: 5 });
 * ```
 */
export function makeSyntheticTrainTest(
  opts: Omit<SyntheticClassificationOptions, 'n'> & { nTrain: number; nTest: number },
): { train: ImageDataset; test: ImageDataset } {
  const { nTrain, nTest, ...rest } = opts;
  if (!Number.isInteger(nTrain) || nTrain < 1) throw new Error(`synthetic dataset options: nTrain must be a positive integer, got ${nTrain}`);
  if (!Number.isInteger(nTest) || nTest < 1) throw new Error(`synthetic dataset options: nTest must be a positive integer, got ${nTest}`);
  const name = rest.name ?? 'synthetic';
  // One draw of nTrain + nTest examples, split by position: shared templates, disjoint noise.
  const all = makeSyntheticClassification({ ...rest, n: nTrain + nTest, name });
  const size = all.height * all.width * all.channels;
  const part = (from: number, to: number, suffix: string): ImageDataset => ({
    ...all,
    name: `${name}/${suffix}`,
    images: all.images.slice(from * size, to * size),
    labels: all.labels.slice(from, to),
    n: to - from,
  });
  return { train: part(0, nTrain, 'train'), test: part(nTrain, nTrain + nTest, 'test') };
}

/** Options of {@link makeSyntheticFeatures}. */
export interface SyntheticFeaturesOptions {
  n?: number;
  numFeatures?: number;
  numClasses?: number;
  seed: number;
  noise?: number;
  name?: string;
}

/**
 * Flat-feature variant: `numFeatures` values in [0, 1] per example (stored as a
 * `1 x numFeatures x 1` image so every iterator and trainer accepts it), class centres drawn
 * uniformly, Gaussian noise of std `noise`.
 *
 * @example
 * ```ts
 * const ds = makeSyntheticFeatures({ n: 256, numFeatures: 16, numClasses: 3, seed: 2 });
 * ds.width; // 16
 * ```
 */
export function makeSyntheticFeatures(opts: SyntheticFeaturesOptions): ImageDataset {
  const { numFeatures = 20, ...rest } = opts;
  if (!Number.isInteger(numFeatures) || numFeatures < 1) throw new Error(`synthetic features options: numFeatures must be a positive integer, got ${numFeatures}`);
  return makeSyntheticClassification({ ...rest, height: 1, width: numFeatures, channels: 1, name: rest.name ?? 'synthetic-features' });
}
