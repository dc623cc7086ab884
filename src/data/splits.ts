import { parseConfig, z } from '../config';
import { Rng } from '../random';
import { indicesByClass, subset, validateDataset } from './dataset';
import type { DatasetSplits, ImageDataset } from './types';

/**
 * `perClass` randomly chosen example indices of every class, returned in ascending (dataset)
 * order. Throws naming the class when one has fewer than `perClass` examples.
 *
 * @example
 * ```ts
 * const idx = balancedIndices(train, 100, new Rng(1)); // 1000 indices for 10 classes
 * ```
 */
export function balancedIndices(ds: ImageDataset, perClass: number, rng: Rng): Int32Array {
  if (!Number.isInteger(perClass) || perClass < 1) throw new Error(`takeBalanced: perClass must be a positive integer, got ${perClass}`);
  const byClass = indicesByClass(ds);
  const out = new Int32Array(perClass * ds.numClasses);
  let k = 0;
  byClass.forEach((idx, c) => {
    if (idx.length < perClass) {
      throw new Error(`takeBalanced on "${ds.name}": class ${c}${ds.classNames ? ` (${ds.classNames[c]})` : ''} has ${idx.length} examples, fewer than perClass=${perClass}`);
    }
    const perm = rng.permutation(idx.length);
    for (let j = 0; j < perClass; j++) out[k++] = idx[perm[j]];
  });
  return out.sort();
}

/**
 * A class-balanced random subset: `perClass` examples of every class, kept in dataset order.
 *
 * @example
 * ```ts
 * const small = takeBalanced(train, 50, new Rng(7)); // 500 examples, 50 per class
 * ```
 */
export function takeBalanced(ds: ImageDataset, perClass: number, rng: Rng): ImageDataset {
  return subset(ds, balancedIndices(ds, perClass, rng), `${ds.name}[balanced ${perClass}/class]`);
}

/** Options of {@link splitTrainValidation} and {@link makeSplits}. Give exactly one of `validationFraction` / `validationSize`, and `seed` or `rng`. */
export interface SplitOptions {
  /** Fraction of examples held out for validation, in (0, 1). */
  validationFraction?: number;
  /** Number of examples held out for validation. */
  validationSize?: number;
  /** Seed of the split (ignored when `rng` is given). */
  seed?: number;
  /** Random stream to draw the split from (consumed). */
  rng?: Rng;
  /** Keep class proportions equal in both parts (largest-remainder allocation). Default true. */
  stratified?: boolean;
}

const SplitSchema = z
  .object({
    validationFraction: z.number().gt(0).lt(1).optional(),
    validationSize: z.number().int().positive().optional(),
    seed: z.number().int().optional(),
    rng: z.instanceof(Rng).optional(),
    stratified: z.boolean().default(true),
  })
  .strict()
  .refine((o) => (o.validationFraction === undefined) !== (o.validationSize === undefined), {
    message: 'give exactly one of validationFraction and validationSize',
    path: ['validationFraction'],
  })
  .refine((o) => o.seed !== undefined || o.rng !== undefined, { message: 'give seed or rng', path: ['seed'] });

/** Result of {@link splitTrainValidation}: both parts plus the indices (into the input) they hold. */
export interface TrainValidationSplit {
  train: ImageDataset;
  validation: ImageDataset;
  trainIndices: Int32Array;
  validationIndices: Int32Array;
}

function partName(name: string, part: string): string {
  return name.endsWith('/train') ? `${name.slice(0, -'/train'.length)}/${part}` : `${name}/${part}`;
}

/**
 * Splits a dataset into train and validation parts with a seeded random draw, stratified by class
 * by default. Both parts keep dataset order. Same seed and input give the same split.
 *
 * @example
 * ```ts
 * const { train, validation } = splitTrainValidation(data.train, { validationSize: 5000, seed: 1 });
 * ```
 */
export function splitTrainValidation(ds: ImageDataset, opts: SplitOptions): TrainValidationSplit {
  const o = parseConfig(SplitSchema, opts, 'split options');
  validateDataset(ds);
  const total = o.validationSize ?? Math.round((o.validationFraction as number) * ds.n);
  if (total < 1 || total >= ds.n) {
    throw new Error(`split options: validation size ${total} must be in [1, ${ds.n - 1}] for "${ds.name}" with ${ds.n} examples`);
  }
  const rng = o.rng ?? new Rng(o.seed as number);
  const isVal = new Uint8Array(ds.n);
  if (o.stratified) {
    const byClass = indicesByClass(ds);
    // Largest-remainder allocation of `total` over classes, ties to the lower class index.
    const quotas = byClass.map((idx) => (total * idx.length) / ds.n);
    const alloc = quotas.map(Math.floor);
    let rest = total - alloc.reduce((a, b) => a + b, 0);
    const order = quotas.map((q, c) => ({ c, r: q - Math.floor(q) })).sort((a, b) => b.r - a.r || a.c - b.c);
    for (let j = 0; rest > 0; j++, rest--) alloc[order[j % order.length].c]++;
    byClass.forEach((idx, c) => {
      const perm = rng.permutation(idx.length);
      for (let j = 0; j < alloc[c]; j++) isVal[idx[perm[j]]] = 1;
    });
  } else {
    const perm = rng.permutation(ds.n);
    for (let j = 0; j < total; j++) isVal[perm[j]] = 1;
  }
  const validationIndices = new Int32Array(total);
  const trainIndices = new Int32Array(ds.n - total);
  let v = 0;
  let t = 0;
  for (let i = 0; i < ds.n; i++) {
    if (isVal[i]) validationIndices[v++] = i;
    else trainIndices[t++] = i;
  }
  return {
    train: subset(ds, trainIndices, partName(ds.name, 'train')),
    validation: subset(ds, validationIndices, partName(ds.name, 'validation')),
    trainIndices,
    validationIndices,
  };
}

/**
 * Train / validation / test splits: train and validation drawn from the train file (seeded,
 * stratified by default), test = the test file unchanged.
 *
 * @example
 * ```ts
 * const splits = makeSplits(loadDigits(), { validationFraction: 0.1, seed: 3 });
 * splits.validation.n; // 500
 * ```
 */
export function makeSplits(data: { train: ImageDataset; test: ImageDataset }, opts: SplitOptions): DatasetSplits {
  const { train, validation } = splitTrainValidation(data.train, opts);
  return { train, validation, test: data.test };
}
