import { createHash } from 'crypto';

/**
 * A JSON value as stored by the runtime: what job configurations and job results must be made of.
 * Typed arrays are accepted on input and become plain arrays; `NaN` and `±Infinity` survive a
 * round trip through the store (they are encoded as `{"$num":"NaN"}` etc. in the stored text).
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const NON_FINITE_TAG = '$num';

/**
 * Converts `value` into a plain JSON value (typed arrays to arrays, `undefined` object fields
 * dropped) and throws an Error naming the offending path when something cannot be represented
 * (functions, symbols, bigints, class instances such as tensors, Maps, cycles).
 *
 * @example
 * ```ts
 * toJsonValue({ w: new Float32Array([1, 2]) }, 'result'); // { w: [1, 2] }
 * toJsonValue({ f: () => 1 }, 'config');                   // throws "config.f: a function is not JSON-serialisable"
 * ```
 */
export function toJsonValue(value: unknown, path = 'value'): JsonValue {
  return convert(value, path, new Set());
}

function convert(value: unknown, path: string, seen: Set<object>): JsonValue {
  if (value === null) return null;
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return value;
    case 'number':
      return value;
    case 'undefined':
      throw new Error(`${path}: undefined is not JSON-serialisable (use null)`);
    case 'function':
      throw new Error(`${path}: a function is not JSON-serialisable`);
    case 'bigint':
      throw new Error(`${path}: a bigint is not JSON-serialisable`);
    case 'symbol':
      throw new Error(`${path}: a symbol is not JSON-serialisable`);
  }
  const obj = value as object;
  if (seen.has(obj)) throw new Error(`${path}: circular reference is not JSON-serialisable`);
  if (ArrayBuffer.isView(obj) && !(obj instanceof DataView)) {
    if (obj instanceof BigInt64Array || obj instanceof BigUint64Array)
      throw new Error(`${path}: a BigInt typed array is not JSON-serialisable`);
    return Array.from(obj as unknown as ArrayLike<number>);
  }
  seen.add(obj);
  try {
    if (Array.isArray(obj)) return obj.map((v, i) => (v === undefined ? null : convert(v, `${path}[${i}]`, seen)));
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      const name = (obj as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      throw new Error(`${path}: a ${name} instance is not JSON-serialisable (convert it to plain data first)`);
    }
    const out: { [key: string]: JsonValue } = {};
    for (const k of Object.keys(obj)) {
      const v = (obj as Record<string, unknown>)[k];
      if (v === undefined) continue;
      out[k] = convert(v, `${path}.${k}`, seen);
    }
    return out;
  } finally {
    seen.delete(obj);
  }
}

/**
 * JSON text with object keys sorted at every level, so equal values always give equal text.
 * Non-finite numbers are encoded losslessly (see {@link parseJson}).
 *
 * @example
 * ```ts
 * stableStringify({ b: 1, a: [NaN] }); // '{"a":[{"$num":"NaN"}],"b":1}'
 * ```
 */
export function stableStringify(value: unknown, path = 'value'): string {
  return JSON.stringify(sortKeys(toJsonValue(value, path)));
}

function sortKeys(v: JsonValue): unknown {
  if (typeof v === 'number') return Number.isFinite(v) ? v : { [NON_FINITE_TAG]: String(v) };
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(sortKeys);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k]);
  return out;
}

/**
 * Parses text written by {@link stableStringify}, restoring `NaN` and `±Infinity`.
 *
 * @example
 * ```ts
 * parseJson(stableStringify({ loss: NaN })); // { loss: NaN }
 * ```
 */
export function parseJson(text: string): JsonValue {
  return JSON.parse(text, (_k, v) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === NON_FINITE_TAG && typeof v[NON_FINITE_TAG] === 'string')
        return Number(v[NON_FINITE_TAG]);
    }
    return v;
  }) as JsonValue;
}

/**
 * Normalises a value to exactly what a store round trip returns (plain JSON, sorted keys,
 * non-finite numbers kept), so freshly computed and cached results compare equal.
 *
 * @example
 * ```ts
 * normaliseJson({ b: new Float32Array([0.5]), a: 1 }); // { a: 1, b: [0.5] }
 * ```
 */
export function normaliseJson(value: unknown, path = 'value'): JsonValue {
  return parseJson(stableStringify(value, path));
}

/**
 * Hex SHA-256 of the stable JSON text of `value`: the identity of a configuration.
 *
 * @example
 * ```ts
 * hashJson({ a: 1, b: 2 }) === hashJson({ b: 2, a: 1 }); // true
 * ```
 */
export function hashJson(value: unknown, path = 'value'): string {
  return createHash('sha256').update(stableStringify(value, path)).digest('hex');
}
