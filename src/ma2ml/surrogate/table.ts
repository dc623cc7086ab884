import * as fs from 'fs';
import * as path from 'path';
import { parseConfig, z } from '../../config';
import { writeFileAtomic } from '../../io';
import { gridHash, gridSizes, gridXCont, parseGrid } from './grid';
import type { LcbenchGrid } from './grid';
import type { LcbenchSurrogate } from './lcbench';

/** Quantile levels reported by every table. */
export const TABLE_QUANTILES = [0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1] as const;

/**
 * The surrogate's reward of every joint configuration of a grid on one task: `rewards[i]` is the
 * predicted validation accuracy (fraction) at `epoch` of joint index `i` (see `gridIndexToTokens`).
 * Because the whole grid is known, the optimum and hence regret are exact.
 */
export interface SurrogateTable {
  taskId: string;
  epoch: number;
  /** sha256 of the grid definition ({@link gridHash}). */
  gridHash: string;
  /** sha256 of the model file that produced the table. */
  modelSha256: string;
  rewards: Float32Array;
  /** Largest reward and its joint index (the first one on ties). */
  best: number;
  bestIndex: number;
  median: number;
  mean: number;
  /** Quantiles at {@link TABLE_QUANTILES} (linear interpolation between order statistics). */
  quantiles: { q: number; value: number }[];
}

/** Options of {@link exhaustiveTable}. */
export interface TableOptions {
  /**
   * Configurations per inference (default 1024: on the 2-core development machine a default-grid table
   * took 0.68-0.76 s at 1024, 0.85-0.88 s at 4096 and 1.1-1.4 s at 16384).
   */
  batchSize?: number;
  /** Epoch at which the reward is read (default 52, the end of LCBench's training). */
  epoch?: number;
}

const TableOptionsSchema = z
  .object({
    batchSize: z
      .number()
      .int()
      .min(1)
      .max(1 << 20)
      .default(1024),
    epoch: z.number().int().min(1).max(52).default(52),
  })
  .strict();

/**
 * Summary statistics of a reward array (best with its first index, mean, median, quantiles).
 *
 * @example
 * ```ts
 * tableStats(Float32Array.of(0.2, 0.9, 0.5)); // { best: 0.9..., bestIndex: 1, median: 0.5, ... }
 * ```
 */
export function tableStats(
  rewards: Float32Array,
): Pick<SurrogateTable, 'best' | 'bestIndex' | 'median' | 'mean' | 'quantiles'> {
  if (rewards.length === 0) throw new Error('tableStats: empty reward table');
  let best = -Infinity;
  let bestIndex = -1;
  let sum = 0;
  for (let i = 0; i < rewards.length; i++) {
    const r = rewards[i];
    if (!Number.isFinite(r))
      throw new Error(`tableStats: reward ${i} is ${r} (the surrogate returned a non-finite value)`);
    sum += r;
    if (r > best) {
      best = r;
      bestIndex = i;
    }
  }
  const sorted = Float32Array.from(rewards).sort();
  const quantile = (q: number): number => {
    const pos = q * (sorted.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
  };
  return {
    best,
    bestIndex,
    mean: sum / rewards.length,
    median: quantile(0.5),
    quantiles: TABLE_QUANTILES.map((q) => ({ q, value: quantile(q) })),
  };
}

/**
 * Evaluates every joint configuration of `grid` on `taskId` with the surrogate, `batchSize` per
 * inference, and returns the reward table (validation accuracy as a fraction at `epoch`).
 *
 * @example
 * ```ts
 * const s = await LcbenchSurrogate.load();
 * const t = await exhaustiveTable(s, '3945', defaultLcbenchGrid());
 * t.rewards.length; // 84000
 * t.best - t.rewards[gridTokensToIndex(grid, tokens)]; // exact regret of `tokens`
 * ```
 */
export async function exhaustiveTable(
  surrogate: LcbenchSurrogate,
  taskId: string,
  grid: LcbenchGrid,
  options: TableOptions = {},
): Promise<SurrogateTable> {
  const g = parseGrid(grid);
  const o = parseConfig(TableOptionsSchema, options, 'exhaustiveTable options');
  surrogate.taskCode(taskId); // unknown task: fail before any work
  const n = gridSizes(g).joint;
  const rewards = new Float32Array(n);
  for (let start = 0; start < n; start += o.batchSize) {
    const count = Math.min(o.batchSize, n - start);
    const out = await surrogate.predictRaw(taskId, gridXCont(g, start, count, o.epoch));
    for (let i = 0; i < count; i++) rewards[start + i] = out[i * 6 + 1] / 100;
  }
  return {
    taskId: String(taskId),
    epoch: o.epoch,
    gridHash: gridHash(g),
    modelSha256: surrogate.modelSha256,
    rewards,
    ...tableStats(rewards),
  };
}

// ------------------------------------------------------------------ cache

const MAGIC = 0x54424346; // 'FCBT' read little-endian: a float32 LCBench table
const FORMAT_VERSION = 1;
const HEADER_BYTES = 16;

/**
 * Cache file of a table: `<cacheDir>/lcbench-<task>-e<epoch>-g<grid hash 16>-m<model sha 16>.f32tab`.
 *
 * @example
 * ```ts
 * tableCachePath('results/cache', '3945', grid, s.modelSha256);
 * ```
 */
export function tableCachePath(
  cacheDir: string,
  taskId: string,
  grid: LcbenchGrid,
  modelSha256: string,
  epoch = 52,
): string {
  if (!/^[0-9A-Za-z_-]+$/.test(String(taskId)))
    throw new Error(`tableCachePath: taskId must be alphanumeric, got ${JSON.stringify(taskId)}`);
  return path.join(
    cacheDir,
    `lcbench-${taskId}-e${epoch}-g${gridHash(grid).slice(0, 16)}-m${modelSha256.slice(0, 16)}.f32tab`,
  );
}

/**
 * Encodes rewards as a cache file: a 16-byte header (magic, format version, count, reserved; uint32
 * little-endian) then the float32 rewards little-endian.
 *
 * @example
 * ```ts
 * const bytes = encodeTable(table.rewards); // 16 + 4 n bytes
 * ```
 */
export function encodeTable(rewards: Float32Array): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES + 4 * rewards.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, FORMAT_VERSION, true);
  view.setUint32(8, rewards.length, true);
  for (let i = 0; i < rewards.length; i++) view.setFloat32(HEADER_BYTES + 4 * i, rewards[i], true);
  return bytes;
}

/**
 * Decodes a cache file written by {@link encodeTable}; throws naming `what` when the header is not
 * ours, the count differs from `expected`, or the size is not `16 + 4 * expected` bytes (truncated).
 *
 * @example
 * ```ts
 * decodeTable(fs.readFileSync(file), 84000, file);
 * ```
 */
export function decodeTable(bytes: Uint8Array, expected: number, what = 'table cache'): Float32Array {
  const want = HEADER_BYTES + 4 * expected;
  if (bytes.length !== want)
    throw new Error(
      `${what}: ${bytes.length} bytes, expected ${want} (16-byte header + ${expected} float32 rewards): truncated or from another grid`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC || view.getUint32(4, true) !== FORMAT_VERSION)
    throw new Error(`${what}: not a version ${FORMAT_VERSION} LCBench table file (bad header)`);
  const n = view.getUint32(8, true);
  if (n !== expected) throw new Error(`${what}: holds ${n} rewards, expected ${expected}`);
  const rewards = new Float32Array(n);
  for (let i = 0; i < n; i++) rewards[i] = view.getFloat32(HEADER_BYTES + 4 * i, true);
  return rewards;
}

/** Options of {@link cachedExhaustiveTable}. */
export interface CachedTableOptions extends TableOptions {
  /** Directory of the cache files (created when missing). */
  cacheDir: string;
}

/**
 * {@link exhaustiveTable} through a file cache keyed by task, epoch, grid hash and model sha256
 * ({@link tableCachePath}): a hit is read and size-checked (a truncated or foreign file throws naming
 * it; delete it to recompute), a miss is computed and written atomically. `fromCache` says which.
 *
 * @example
 * ```ts
 * const t = await cachedExhaustiveTable(s, '3945', defaultLcbenchGrid(), { cacheDir: 'results/cache/lcbench' });
 * ```
 */
export async function cachedExhaustiveTable(
  surrogate: LcbenchSurrogate,
  taskId: string,
  grid: LcbenchGrid,
  options: CachedTableOptions,
): Promise<SurrogateTable & { fromCache: boolean; file: string }> {
  const { cacheDir, ...rest } = parseConfig(
    TableOptionsSchema.extend({ cacheDir: z.string().min(1) }),
    options,
    'cachedExhaustiveTable options',
  );
  const g = parseGrid(grid);
  surrogate.taskCode(taskId);
  const file = tableCachePath(cacheDir, taskId, g, surrogate.modelSha256, rest.epoch);
  if (fs.existsSync(file)) {
    const rewards = decodeTable(fs.readFileSync(file), gridSizes(g).joint, `table cache ${file}`);
    return {
      taskId: String(taskId),
      epoch: rest.epoch,
      gridHash: gridHash(g),
      modelSha256: surrogate.modelSha256,
      rewards,
      ...tableStats(rewards),
      fromCache: true,
      file,
    };
  }
  const table = await exhaustiveTable(surrogate, taskId, g, rest);
  writeFileAtomic(file, encodeTable(table.rewards));
  return { ...table, fromCache: false, file };
}
