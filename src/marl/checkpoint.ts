import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../backend';

/** Version of the on-disk checkpoint layout; readers reject any other. */
export const CHECKPOINT_FORMAT_VERSION = 1;

/** One stored tensor's entry in `manifest.json`. */
export interface CheckpointTensorEntry {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  /** Byte offset into `weights.bin`. */
  offset: number;
  /** Byte length. */
  bytes: number;
}

/** `manifest.json` of a checkpoint directory. */
export interface CheckpointManifest {
  format: 'marl-automl-checkpoint';
  version: number;
  /** What wrote it (e.g. `ppo-trainer`). */
  kind: string;
  createdAt: string;
  /** Free JSON metadata of the writer: config, optimiser step, rng states, counters. */
  meta: Record<string, unknown>;
  tensors: CheckpointTensorEntry[];
  weightsFile: 'weights.bin';
  weightsBytes: number;
  weightsSha256: string;
}

/** Decoded checkpoint tensor data (plain arrays: create tensors as needed). */
export interface StoredTensor {
  shape: number[];
  dtype: 'float32' | 'int32';
  data: Float32Array | Int32Array;
}

/**
 * Writes named tensors and JSON metadata to `dir` as `manifest.json` + `weights.bin` (the file
 * handler tfjs lacks without tfjs-node). The directory appears atomically: everything is written
 * to a temporary sibling directory which then replaces `dir`. `extraFiles` (name → text) are
 * written into the same temporary directory, so they appear (or not) together with the weights.
 *
 * @example
 * ```ts
 * writeCheckpoint('runs/ckpt-10', 'ppo-trainer', { step: 10 }, [{ name: 'w', tensor: w }], { 'notes.json': '{}' });
 * ```
 */
export function writeCheckpoint(
  dir: string,
  kind: string,
  meta: Record<string, unknown>,
  tensors: { name: string; tensor: tf.Tensor }[],
  extraFiles: Record<string, string> = {},
): void {
  for (const name of Object.keys(extraFiles)) {
    if (name !== path.basename(name) || name === 'weights.bin' || name === 'manifest.json' || name.startsWith('.'))
      throw new Error(
        `writeCheckpoint: extra file name '${name}' must be a plain file name other than weights.bin and manifest.json`,
      );
  }
  const seen = new Set<string>();
  const entries: CheckpointTensorEntry[] = [];
  const buffers: Buffer[] = [];
  let offset = 0;
  for (const { name, tensor } of tensors) {
    if (seen.has(name)) throw new Error(`writeCheckpoint: duplicate tensor name '${name}'`);
    seen.add(name);
    if (tensor.dtype !== 'float32' && tensor.dtype !== 'int32')
      throw new Error(`writeCheckpoint: tensor '${name}' has unsupported dtype ${tensor.dtype}`);
    const data = tensor.dataSync() as Float32Array | Int32Array;
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    entries.push({ name, shape: [...tensor.shape], dtype: tensor.dtype, offset, bytes: buf.length });
    buffers.push(Buffer.from(buf)); // copy: the typed array may be a view into the wasm heap
    offset += buf.length;
  }
  const weights = Buffer.concat(buffers);
  const manifest: CheckpointManifest = {
    format: 'marl-automl-checkpoint',
    version: CHECKPOINT_FORMAT_VERSION,
    kind,
    createdAt: new Date().toISOString(),
    meta,
    tensors: entries,
    weightsFile: 'weights.bin',
    weightsBytes: weights.length,
    weightsSha256: createHash('sha256').update(weights).digest('hex'),
  };
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  fs.mkdirSync(parent, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(parent, `.${path.basename(target)}.tmp-`));
  try {
    fs.writeFileSync(path.join(tmp, 'weights.bin'), weights);
    fs.writeFileSync(path.join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2));
    for (const [name, text] of Object.entries(extraFiles)) fs.writeFileSync(path.join(tmp, name), text);
    if (fs.existsSync(target)) {
      const old = `${tmp}.old`;
      fs.renameSync(target, old);
      fs.renameSync(tmp, target);
      fs.rmSync(old, { recursive: true, force: true });
    } else {
      fs.renameSync(tmp, target);
    }
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Reads and verifies a checkpoint directory: format and version, the weights file's size and
 * sha256, and every tensor's byte range against its shape. Any problem is an Error naming the
 * directory and what is wrong.
 *
 * @example
 * ```ts
 * const { manifest, tensors } = readCheckpoint('runs/ckpt-10');
 * const w = tensors.get('w'); // { shape, dtype, data }
 * ```
 */
export function readCheckpoint(
  dir: string,
  expectedKind?: string,
): { manifest: CheckpointManifest; tensors: Map<string, StoredTensor> } {
  const where = `checkpoint ${dir}`;
  const manifestPath = path.join(dir, 'manifest.json');
  if (!fs.existsSync(manifestPath)) throw new Error(`${where}: manifest.json not found`);
  let manifest: CheckpointManifest;
  try {
    manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as CheckpointManifest;
  } catch (err) {
    throw new Error(`${where}: manifest.json is not valid JSON (${(err as Error).message})`, { cause: err });
  }
  if (manifest?.format !== 'marl-automl-checkpoint')
    throw new Error(`${where}: manifest.json is not a marl-automl checkpoint manifest`);
  if (manifest.version !== CHECKPOINT_FORMAT_VERSION) {
    throw new Error(
      `${where}: format version ${manifest.version} is not supported (this library reads version ${CHECKPOINT_FORMAT_VERSION})`,
    );
  }
  if (expectedKind !== undefined && manifest.kind !== expectedKind)
    throw new Error(`${where}: holds a '${manifest.kind}' checkpoint, expected '${expectedKind}'`);
  if (!Array.isArray(manifest.tensors)) throw new Error(`${where}: manifest.json has no tensor list`);
  const weightsPath = path.join(dir, 'weights.bin');
  if (!fs.existsSync(weightsPath)) throw new Error(`${where}: weights.bin not found`);
  const weights = fs.readFileSync(weightsPath);
  if (weights.length !== manifest.weightsBytes) {
    throw new Error(
      `${where}: weights.bin has ${weights.length} bytes, manifest says ${manifest.weightsBytes} (truncated or corrupt file)`,
    );
  }
  const sha = createHash('sha256').update(weights).digest('hex');
  if (sha !== manifest.weightsSha256)
    throw new Error(
      `${where}: weights.bin sha256 ${sha} does not match the manifest (${manifest.weightsSha256}): the file is corrupt or was modified`,
    );
  const tensors = new Map<string, StoredTensor>();
  for (const e of manifest.tensors) {
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (e.bytes !== count * 4 || e.offset < 0 || e.offset + e.bytes > weights.length) {
      throw new Error(
        `${where}: tensor '${e.name}' entry (shape [${e.shape}], offset ${e.offset}, ${e.bytes} bytes) is inconsistent with weights.bin`,
      );
    }
    const copy = new Uint8Array(e.bytes);
    copy.set(weights.subarray(e.offset, e.offset + e.bytes));
    const data = e.dtype === 'int32' ? new Int32Array(copy.buffer) : new Float32Array(copy.buffer);
    tensors.set(e.name, { shape: e.shape, dtype: e.dtype, data });
  }
  return { manifest, tensors };
}

/**
 * Looks up `name` in checkpoint tensors and checks its shape, with an error naming the variable,
 * the expected and the stored shape.
 *
 * @example
 * ```ts
 * const { tensors } = readCheckpoint(dir);
 * const w = expectTensor(tensors, 'policy/actor/head/w', [64, 9], `checkpoint ${dir}`);
 * ```
 */
export function expectTensor(
  tensors: Map<string, StoredTensor>,
  name: string,
  shape: readonly number[],
  where: string,
): StoredTensor {
  const t = tensors.get(name);
  if (!t) throw new Error(`${where}: variable '${name}' is missing from the checkpoint`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`${where}: variable '${name}' has shape [${t.shape}] in the checkpoint, expected [${shape}]`);
  }
  return t;
}
