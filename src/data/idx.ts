import { writeFileAtomic } from '../io';
export { writeFileAtomic };
import * as fs from 'fs';
import * as zlib from 'zlib';

/**
 * IDX file format (LeCun et al., used by MNIST and Fashion-MNIST): a 4-byte magic
 * `0x00 0x00 <type> <ndims>`, then `ndims` big-endian uint32 sizes, then the data in row-major
 * order, big-endian. Files may be gzip-compressed; compression is detected from the gzip magic
 * bytes (`1f 8b`), never from the file name.
 */

/** Element types of the IDX format, named after the typed array they decode to. */
export type IdxDataType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** Typed array holding decoded IDX data (host byte order). */
export type IdxTypedArray = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A decoded IDX file: element type, dimensions (first = number of items) and flat data. */
export interface IdxArray {
  dtype: IdxDataType;
  dims: number[];
  data: IdxTypedArray;
}

/**
 * Raised for unreadable or malformed data files. The message starts with the file path and
 * names the problem; `file` holds the path.
 */
export class DataFileError extends Error {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'DataFileError';
  }
}

interface TypeInfo {
  code: number;
  dtype: IdxDataType;
  bytes: number;
}

const TYPES: TypeInfo[] = [
  { code: 0x08, dtype: 'uint8', bytes: 1 },
  { code: 0x09, dtype: 'int8', bytes: 1 },
  { code: 0x0b, dtype: 'int16', bytes: 2 },
  { code: 0x0c, dtype: 'int32', bytes: 4 },
  { code: 0x0d, dtype: 'float32', bytes: 4 },
  { code: 0x0e, dtype: 'float64', bytes: 8 },
];

function hex(bytes: Uint8Array, n: number): string {
  return (
    '0x' +
    Array.from(bytes.subarray(0, n))
      .map((b) => b.toString(16).padStart(2, '0'))
      .join('')
  );
}

/** True when `bytes` starts with the gzip magic `1f 8b`. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Decompresses gzip data, or returns `bytes` unchanged when it has no gzip magic. Errors name
 * `file` and say whether the stream is truncated or corrupt.
 *
 * @example
 * ```ts
 * const raw = maybeGunzip(fs.readFileSync(f), f);
 * ```
 */
export function maybeGunzip(bytes: Uint8Array, file = '<buffer>'): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return zlib.gunzipSync(bytes);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(err.message)) {
      throw new DataFileError(file, `truncated gzip stream (${bytes.length} compressed bytes; ${err.message})`);
    }
    throw new DataFileError(file, `corrupt gzip stream: ${err.message}`);
  }
}

/**
 * Parses IDX bytes (plain or gzip) into a typed array. Validates the magic number, the element
 * type, the header length and that the data length matches the header exactly.
 *
 * @param bytes file contents
 * @param file name used in error messages
 * @example
 * ```ts
 * const labels = parseIdx(fs.readFileSync('t10k-labels-idx1-ubyte.gz'), 't10k-labels-idx1-ubyte.gz');
 * labels.dims; // [10000]
 * ```
 */
export function parseIdx(bytes: Uint8Array, file = '<buffer>'): IdxArray {
  const buf = maybeGunzip(bytes, file);
  if (buf.length < 4) throw new DataFileError(file, `too short for an IDX header (${buf.length} bytes)`);
  if (buf[0] !== 0 || buf[1] !== 0) {
    throw new DataFileError(file, `wrong IDX magic ${hex(buf, 4)} (expected 0x0000 followed by a type code 08/09/0B/0C/0D/0E and ndims)`);
  }
  const info = TYPES.find((t) => t.code === buf[2]);
  if (!info) throw new DataFileError(file, `wrong IDX magic ${hex(buf, 4)}: unknown element type code 0x${buf[2].toString(16).padStart(2, '0')}`);
  const ndims = buf[3];
  if (ndims === 0) throw new DataFileError(file, `wrong IDX magic ${hex(buf, 4)}: zero dimensions`);
  const headerBytes = 4 + 4 * ndims;
  if (buf.length < headerBytes) {
    throw new DataFileError(file, `truncated IDX header: ${ndims} dimensions need ${headerBytes} bytes, file holds ${buf.length}`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const itemElems = dims.slice(1).reduce((a, b) => a * b, 1);
  const itemBytes = itemElems * info.bytes;
  const expected = dims[0] * itemBytes;
  const actual = buf.length - headerBytes;
  if (actual !== expected) {
    if (actual < expected) {
      const held = itemBytes > 0 ? Math.floor(actual / itemBytes) : 0;
      const partial = itemBytes > 0 && actual % itemBytes !== 0 ? ` and ${actual % itemBytes} bytes of a partial item` : '';
      throw new DataFileError(
        file,
        `header says ${dims[0]} items (dims [${dims.join(', ')}], ${info.dtype}) but file holds ${held}${partial} (${actual} of ${expected} data bytes)`,
      );
    }
    throw new DataFileError(file, `header says ${dims[0]} items (dims [${dims.join(', ')}], ${info.dtype}) but file has ${actual - expected} trailing bytes after them`);
  }
  const count = dims[0] * itemElems;
  let data: IdxTypedArray;
  switch (info.dtype) {
    case 'uint8':
      data = new Uint8Array(count);
      data.set(buf.subarray(headerBytes, headerBytes + count));
      break;
    case 'int8':
      data = new Int8Array(count);
      data.set(new Int8Array(buf.buffer, buf.byteOffset + headerBytes, count));
      break;
    case 'int16': {
      const a = new Int16Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getInt16(headerBytes + 2 * i, false);
      data = a;
      break;
    }
    case 'int32': {
      const a = new Int32Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getInt32(headerBytes + 4 * i, false);
      data = a;
      break;
    }
    case 'float32': {
      const a = new Float32Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getFloat32(headerBytes + 4 * i, false);
      data = a;
      break;
    }
    case 'float64': {
      const a = new Float64Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getFloat64(headerBytes + 8 * i, false);
      data = a;
      break;
    }
  }
  return { dtype: info.dtype, dims, data };
}

/**
 * Reads and parses an IDX file (plain or gzip). A missing or unreadable file raises a
 * {@link DataFileError} naming the path.
 *
 * @example
 * ```ts
 * const imgs = readIdxFile('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz');
 * imgs.dims; // [10000, 28, 28]
 * ```
 */
export function readIdxFile(file: string): IdxArray {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new DataFileError(file, 'file not found');
    if (err.code === 'EISDIR') throw new DataFileError(file, 'is a directory, expected an IDX file');
    throw new DataFileError(file, `cannot read file: ${err.message}`);
  }
  return parseIdx(bytes, file);
}

/**
 * Encodes an {@link IdxArray} as IDX bytes, gzip-compressed (level 9) when `gzip` is true.
 *
 * @example
 * ```ts
 * const bytes = encodeIdx({ dtype: 'uint8', dims: [3], data: new Uint8Array([1, 2, 3]) }, { gzip: true });
 * ```
 */
export function encodeIdx(arr: IdxArray, opts: { gzip?: boolean } = {}): Buffer {
  const info = TYPES.find((t) => t.dtype === arr.dtype);
  if (!info) throw new Error(`encodeIdx: unknown dtype "${arr.dtype}"`);
  if (arr.dims.length < 1 || arr.dims.length > 255) throw new Error(`encodeIdx: dims must have 1..255 entries, got [${arr.dims.join(', ')}]`);
  const count = arr.dims.reduce((a, b) => a * b, 1);
  if (arr.data.length !== count) {
    throw new Error(`encodeIdx: data has ${arr.data.length} elements but dims [${arr.dims.join(', ')}] need ${count}`);
  }
  const header = 4 + 4 * arr.dims.length;
  const out = Buffer.alloc(header + count * info.bytes);
  out[2] = info.code;
  out[3] = arr.dims.length;
  arr.dims.forEach((d, i) => out.writeUInt32BE(d, 4 + 4 * i));
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i < count; i++) {
    const v = arr.data[i];
    const o = header + i * info.bytes;
    switch (info.dtype) {
      case 'uint8':
        view.setUint8(o, v);
        break;
      case 'int8':
        view.setInt8(o, v);
        break;
      case 'int16':
        view.setInt16(o, v, false);
        break;
      case 'int32':
        view.setInt32(o, v, false);
        break;
      case 'float32':
        view.setFloat32(o, v, false);
        break;
      case 'float64':
        view.setFloat64(o, v, false);
        break;
    }
  }
  return opts.gzip ? zlib.gzipSync(out, { level: 9 }) : out;
}

/**
 * Writes an IDX file atomically; gzip-compressed when the name ends in `.gz` (or `gzip` says so).
 *
 * @example
 * ```ts
 * writeIdxFile('/tmp/labels-idx1-ubyte.gz', { dtype: 'uint8', dims: [2], data: new Uint8Array([3, 7]) });
 * ```
 */
export function writeIdxFile(file: string, arr: IdxArray, opts: { gzip?: boolean } = {}): void {
  writeFileAtomic(file, encodeIdx(arr, { gzip: opts.gzip ?? file.endsWith('.gz') }));
}
