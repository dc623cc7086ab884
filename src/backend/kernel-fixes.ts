/**
 * Fixes for forward kernels of `@tensorflow/tfjs-backend-wasm` 4.22 that silently return wrong
 * values (found while writing the gradient overrides):
 * - `GatherV2` with `batchDims > 0` reads the wrong rows (garbage values or out-of-bounds reads),
 *   e.g. `tf.gather(logits, actions, 1, 1)`. Fixed by a JavaScript gather for that case (the
 *   stock kernel already reads the indices back to JavaScript); `batchDims = 0` is unchanged.
 * - `OneHot` ignores its `dtype` and writes int32 data into a float32 tensor
 *   (`tf.oneHot(i, n, 1, 0, 'float32')` reads back as ~1e-45) and truncates non-integer on/off
 *   values. Fixed by a JavaScript one-hot for non-int32 dtypes.
 * - `_FusedMatMul` (`tf.fused.matMul`) adds the bias along the wrong axis when `transposeA` or
 *   `transposeB` is set or when the product is batched (rank 3). Fixed by transposing the operands
 *   explicitly first (also faster on wasm than the flags) and, for batched products with a bias
 *   or prelu weights, adding the bias and applying the activation with separate kernels.
 *
 * And one that is correct but slow:
 * - `BatchMatMul` with a batch (rank-3 operands with a leading dimension > 1) runs a scalar loop,
 *   7x slower than the same products as separate rank-2 matMuls (which use XNNPACK): 7.2 ms vs
 *   0.97 ms for [8,64,64]@[8,64,64]. Replaced by one XNNPACK rank-2 product per batch entry on
 *   copies of the slices (a fresh input per product: XNNPACK caches packed weights by tensor id).
 *   This is what makes training B stacked networks at once ({@link VectorisedTrainer}) pay off.
 * `initBackend()` installs these whenever it selects wasm.
 */
import { tf } from './tf';

type KernelConfig = ReturnType<typeof tf.getKernel>;
type KernelFunc = KernelConfig['kernelFunc'];
type TensorInfo = { dataId: object; shape: number[]; dtype: tf.DataType };
type Writable = { [i: number]: number; length: number };

interface WasmBackendLike {
  readSync(dataId: object): unknown;
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Writable;
  disposeData(dataId: object): boolean;
}

/**
 * Wasm kernels replaced by {@link installWasmKernelFixes}.
 *
 * @example
 * ```ts
 * FIXED_WASM_KERNELS.includes('GatherV2'); // true
 * ```
 */
export const FIXED_WASM_KERNELS: readonly string[] = Object.freeze([
  'GatherV2',
  'OneHot',
  '_FusedMatMul',
  'BatchMatMul',
]);

let installed = false;

/**
 * Re-registers the wasm `GatherV2` and `OneHot` kernels with correct versions (idempotent; a no-op
 * when the wasm backend package is not loaded).
 *
 * @example
 * ```ts
 * require('@tensorflow/tfjs-backend-wasm');
 * installWasmKernelFixes();
 * ```
 */
export function installWasmKernelFixes(): void {
  if (installed) return;
  const gather = tf.getKernel('GatherV2', 'wasm');
  const oneHot = tf.getKernel('OneHot', 'wasm');
  const fusedMatMul = tf.getKernel('_FusedMatMul', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  const batchMatMul = tf.getKernel('BatchMatMul', 'wasm');
  if (!gather || !oneHot || !fusedMatMul || !transpose || !batchMatMul) return;
  tf.unregisterKernel('GatherV2', 'wasm');
  tf.registerKernel({ ...gather, kernelFunc: fixedGather(gather.kernelFunc) });
  tf.unregisterKernel('OneHot', 'wasm');
  tf.registerKernel({ ...oneHot, kernelFunc: fixedOneHot(oneHot.kernelFunc) });
  tf.unregisterKernel('_FusedMatMul', 'wasm');
  tf.registerKernel({ ...fusedMatMul, kernelFunc: fixedFusedMatMul(fusedMatMul.kernelFunc, transpose.kernelFunc) });
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ ...batchMatMul, kernelFunc: slicedBatchMatMul(batchMatMul.kernelFunc, transpose.kernelFunc) });
  installed = true;
}

/**
 * Whether {@link installWasmKernelFixes} has replaced the wasm kernels.
 *
 * @example
 * ```ts
 * if (!wasmKernelFixesInstalled()) installWasmKernelFixes();
 * ```
 */
export function wasmKernelFixesInstalled(): boolean {
  return installed;
}

function fixedGather(original: KernelFunc): KernelFunc {
  return ((args: { inputs: Record<string, TensorInfo>; backend: WasmBackendLike; attrs: Record<string, unknown> }) => {
    const { inputs, backend, attrs } = args;
    const batchDims = (attrs.batchDims as number | undefined) ?? 0;
    if (batchDims === 0) return (original as (a: unknown) => unknown)(args);
    const { x, indices } = inputs;
    const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0];
    const info = tf.backend_util.segment_util.collectGatherOpShapeInfo(
      x as unknown as tf.TensorInfo as tf.Tensor,
      indices as unknown as tf.TensorInfo as tf.Tensor,
      axis,
      batchDims,
    );
    const xs = backend.readSync(x.dataId) as Writable;
    const ids = backend.readSync(indices.dataId) as Writable;
    const dim = info.dimSize;
    for (let i = 0; i < ids.length; i++) {
      const v = ids[i];
      if (!(v >= 0 && v <= dim - 1)) throw new Error(`GatherV2: the index value ${v} is not in [0, ${dim - 1}]`);
    }
    const { batchSize: nb, outerSize: no, sliceSize: ns } = info;
    const ni = ids.length / nb;
    const out = backend.makeOutput(info.outputShape, x.dtype);
    const os = backend.typedArrayFromHeap(out);
    for (let b = 0; b < nb; b++) {
      for (let o = 0; o < no; o++) {
        for (let i = 0; i < ni; i++) {
          const src = ((b * no + o) * dim + ids[b * ni + i]) * ns;
          const dst = ((b * no + o) * ni + i) * ns;
          for (let s = 0; s < ns; s++) os[dst + s] = xs[src + s];
        }
      }
    }
    return out;
  }) as unknown as KernelFunc;
}

function fixedOneHot(original: KernelFunc): KernelFunc {
  return ((args: { inputs: Record<string, TensorInfo>; backend: WasmBackendLike; attrs: Record<string, unknown> }) => {
    const { inputs, backend, attrs } = args;
    const dtype = (attrs.dtype as tf.DataType | undefined) ?? 'int32';
    if (dtype === 'int32') return (original as (a: unknown) => unknown)(args);
    // The wasm kernel writes int32 data and truncates on/off values: build it here instead.
    const depth = attrs.depth as number;
    const onValue = attrs.onValue as number;
    const offValue = attrs.offValue as number;
    const ids = backend.readSync(inputs.indices.dataId) as Writable;
    const out = backend.makeOutput([...inputs.indices.shape, depth], dtype);
    const os = backend.typedArrayFromHeap(out);
    for (let i = 0; i < os.length; i++) os[i] = offValue;
    for (let i = 0; i < ids.length; i++) {
      const v = ids[i];
      if (v >= 0 && v < depth) os[i * depth + v] = onValue;
    }
    return out;
  }) as unknown as KernelFunc;
}

function fixedFusedMatMul(original: KernelFunc, transpose: KernelFunc): KernelFunc {
  return ((args: { inputs: Record<string, TensorInfo>; backend: WasmBackendLike; attrs: Record<string, unknown> }) => {
    const { inputs, backend, attrs } = args;
    const run = original as (a: unknown) => TensorInfo;
    const { bias, preluActivationWeights } = inputs;
    const batched = inputs.a.shape[0] > 1 || inputs.b.shape[0] > 1;
    const needsEpilogue = batched && (bias != null || preluActivationWeights != null);
    if (!attrs.transposeA && !attrs.transposeB && !needsEpilogue) return run(args);
    const call = (
      name: string,
      kernelInputs: Record<string, TensorInfo>,
      kernelAttrs: Record<string, unknown> = {},
    ): TensorInfo => {
      const k = tf.getKernel(name, 'wasm');
      if (!k) throw new Error(`_FusedMatMul fix: wasm kernel '${name}' is not registered`);
      return (k.kernelFunc as (a: unknown) => TensorInfo)({ inputs: kernelInputs, backend, attrs: kernelAttrs });
    };
    const swap = (t: TensorInfo): TensorInfo => {
      const perm = t.shape.map((_, i) => i);
      const r = t.shape.length;
      perm[r - 2] = r - 1;
      perm[r - 1] = r - 2;
      return (transpose as (a: unknown) => TensorInfo)({ inputs: { x: t }, backend, attrs: { perm } });
    };
    const temps: TensorInfo[] = [];
    let { a, b } = inputs;
    if (attrs.transposeA) temps.push((a = swap(a)));
    if (attrs.transposeB) temps.push((b = swap(b)));
    try {
      const flat = { ...attrs, transposeA: false, transposeB: false };
      if (!needsEpilogue) return run({ inputs: { ...inputs, a, b }, backend, attrs: flat });
      // Batched with bias/prelu: the wasm kernel adds them along the wrong axis. Multiply, then
      // add the bias and apply the activation with the separate kernels.
      let out = run({ inputs: { a, b }, backend, attrs: { ...flat, activation: 'linear' } });
      const step = (next: TensorInfo) => {
        temps.push(out);
        out = next;
      };
      if (bias != null) step(call('Add', { a: out, b: bias }));
      const activation = (attrs.activation as string | undefined) ?? 'linear';
      if (activation === 'relu') step(call('Relu', { x: out }));
      else if (activation === 'relu6') step(call('Relu6', { x: out }));
      else if (activation === 'elu') step(call('Elu', { x: out }));
      else if (activation === 'sigmoid') step(call('Sigmoid', { x: out }));
      else if (activation === 'leakyrelu') step(call('LeakyRelu', { x: out }, { alpha: attrs.leakyreluAlpha ?? 0.2 }));
      else if (activation === 'prelu') step(call('Prelu', { x: out, alpha: preluActivationWeights }));
      else if (activation !== 'linear')
        throw new Error(`_FusedMatMul: activation '${activation}' is not supported on wasm`);
      return out;
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
  }) as unknown as KernelFunc;
}

/**
 * `BatchMatMul` as one rank-2 (XNNPACK) product per batch entry. Handles equal batches and a batch
 * of 1 on either side (broadcast); any other broadcast goes to the stock kernel. Transpose flags
 * become explicit transposes first (the flagged products are slow on wasm too).
 */
function slicedBatchMatMul(original: KernelFunc, transpose: KernelFunc): KernelFunc {
  return ((args: { inputs: Record<string, TensorInfo>; backend: WasmBackendLike; attrs: Record<string, unknown> }) => {
    const { inputs, backend, attrs } = args;
    const run = original as (a: unknown) => TensorInfo;
    const { a, b } = inputs;
    const outerA = a.shape.slice(0, -2);
    const outerB = b.shape.slice(0, -2);
    const batchA = tf.util.sizeFromShape(outerA);
    const batchB = tf.util.sizeFromShape(outerB);
    const sameOuter = outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i]);
    if (
      Math.max(batchA, batchB) <= 1 ||
      !(sameOuter || batchA === 1 || batchB === 1) ||
      a.dtype !== 'float32' ||
      b.dtype !== 'float32'
    )
      return run(args);
    const temps: TensorInfo[] = [];
    const swap = (t: TensorInfo): TensorInfo => {
      const perm = t.shape.map((_, i) => i);
      const r = t.shape.length;
      perm[r - 2] = r - 1;
      perm[r - 1] = r - 2;
      const out = (transpose as (x: unknown) => TensorInfo)({ inputs: { x: t }, backend, attrs: { perm } });
      temps.push(out);
      return out;
    };
    try {
      const aa = attrs.transposeA ? swap(a) : a;
      const bb = attrs.transposeB ? swap(b) : b;
      const m = aa.shape[aa.shape.length - 2];
      const k = aa.shape[aa.shape.length - 1];
      const n = bb.shape[bb.shape.length - 1];
      if (bb.shape[bb.shape.length - 2] !== k) return run(args); // the stock kernel names the mismatch
      const batch = Math.max(batchA, batchB);
      const outer = batchA >= batchB ? outerA : outerB;
      const out = backend.makeOutput([...outer, m, n], 'float32');
      // Views of the wasm heap are re-read after every allocation: the heap may grow and detach them.
      const heap = (t: TensorInfo) => backend.typedArrayFromHeap(t) as unknown as Float32Array;
      for (let i = 0; i < batch; i++) {
        const ia = batchA === 1 ? 0 : i;
        const ib = batchB === 1 ? 0 : i;
        const a2 = backend.makeOutput([m, k], 'float32');
        const b2 = backend.makeOutput([k, n], 'float32');
        heap(a2).set(heap(aa).subarray(ia * m * k, (ia + 1) * m * k));
        heap(b2).set(heap(bb).subarray(ib * k * n, (ib + 1) * k * n));
        const o = run({ inputs: { a: a2, b: b2 }, backend, attrs: { transposeA: false, transposeB: false } });
        heap(out).set(heap(o), i * m * n);
        backend.disposeData(o.dataId);
        backend.disposeData(a2.dataId);
        backend.disposeData(b2.dataId);
      }
      return out;
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
  }) as unknown as KernelFunc;
}
