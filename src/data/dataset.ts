import type { ImageDataset } from './types';

/**
 * Number of values per example (`height * width * channels`).
 *
 * @example
 * ```ts
 * exampleSize({ height: 28, width: 28, channels: 1 }); // 784
 * ```
 */
export function exampleSize(ds: Pick<ImageDataset, 'height' | 'width' | 'channels'>): number {
  return ds.height * ds.width * ds.channels;
}

/**
 * Checks that a dataset is internally consistent (array lengths, integer shape fields, labels in
 * `[0, numClasses)`) and throws an `Error` naming the dataset and the problem otherwise.
 * Pixel values are not scanned (that would cost a pass over the data); loaders guarantee [0, 1].
 *
 * @example
 * ```ts
 * validateDataset(makeSyntheticClassification({ n: 10 }));
 * ```
 */
export function validateDataset(ds: ImageDataset, what = `dataset "${ds?.name}"`): void {
  if (!ds || typeof ds !== 'object') throw new Error(`${what}: expected an ImageDataset object, got ${ds}`);
  for (const k of ['n', 'height', 'width', 'channels', 'numClasses'] as const) {
    const v = ds[k];
    if (!Number.isInteger(v) || v < (k === 'n' ? 0 : 1)) throw new Error(`${what}: ${k} must be a ${k === 'n' ? 'non-negative' : 'positive'} integer, got ${v}`);
  }
  if (!(ds.images instanceof Float32Array)) throw new Error(`${what}: images must be a Float32Array`);
  if (!(ds.labels instanceof Int32Array)) throw new Error(`${what}: labels must be an Int32Array`);
  const size = exampleSize(ds);
  if (ds.images.length !== ds.n * size) {
    throw new Error(`${what}: images has ${ds.images.length} values but n=${ds.n} x ${ds.height}x${ds.width}x${ds.channels} needs ${ds.n * size}`);
  }
  if (ds.labels.length !== ds.n) throw new Error(`${what}: labels has ${ds.labels.length} entries but n=${ds.n}`);
  for (let i = 0; i < ds.n; i++) {
    const y = ds.labels[i];
    if (y < 0 || y >= ds.numClasses) throw new Error(`${what}: label ${y} at index ${i} is outside [0, ${ds.numClasses})`);
  }
  if (ds.classNames && ds.classNames.length !== ds.numClasses) {
    throw new Error(`${what}: classNames has ${ds.classNames.length} entries but numClasses=${ds.numClasses}`);
  }
}

/**
 * Number of examples per class, indexed by class.
 *
 * @example
 * ```ts
 * classCounts(ds); // Int32Array [600, 600, ...]
 * ```
 */
export function classCounts(ds: Pick<ImageDataset, 'labels' | 'numClasses'>): Int32Array {
  const counts = new Int32Array(ds.numClasses);
  for (let i = 0; i < ds.labels.length; i++) counts[ds.labels[i]]++;
  return counts;
}

/**
 * Example indices of each class, in dataset order.
 *
 * @example
 * ```ts
 * const [zeros, ones] = indicesByClass(ds); // Int32Array per class
 * ```
 */
export function indicesByClass(ds: Pick<ImageDataset, 'labels' | 'numClasses'>): Int32Array[] {
  const counts = classCounts(ds);
  const out = Array.from(counts, (c) => new Int32Array(c));
  const fill = new Int32Array(ds.numClasses);
  for (let i = 0; i < ds.labels.length; i++) {
    const y = ds.labels[i];
    out[y][fill[y]++] = i;
  }
  return out;
}

/**
 * A new dataset holding the examples at `indices` (in that order; copies the data, one
 * contiguous row copy per example). Throws if an index is out of range or not an integer.
 *
 * @example
 * ```ts
 * const firstTen = subset(train, Int32Array.from({ length: 10 }, (_, i) => i));
 * ```
 */
export function subset(ds: ImageDataset, indices: ArrayLike<number>, name = `${ds.name}[subset]`): ImageDataset {
  const size = exampleSize(ds);
  const m = indices.length;
  const images = new Float32Array(m * size);
  const labels = new Int32Array(m);
  for (let j = 0; j < m; j++) {
    const i = indices[j];
    if (!Number.isInteger(i) || i < 0 || i >= ds.n) throw new Error(`subset of "${ds.name}": index ${i} at position ${j} is outside [0, ${ds.n})`);
    images.set(ds.images.subarray(i * size, (i + 1) * size), j * size);
    labels[j] = ds.labels[i];
  }
  return { ...ds, name, images, labels, n: m };
}
