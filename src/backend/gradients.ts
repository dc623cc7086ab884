/**
 * Fast, complete gradients for the wasm backend.
 *
 * tfjs's stock gradients for several kernels are missing or slow on wasm (measured on this
 * project's 2-core machine, batch 128):
 * - `Conv2D`: its filter gradient needs `Conv2DBackpropFilter`, which wasm does not register (CNNs
 *   cannot train), and its input gradient runs `Conv2DBackpropInput`, about 8x slower than a conv2d.
 * - `DepthwiseConv2dNative`: neither `DepthwiseConv2dNativeBackpropFilter` nor `...BackpropInput`
 *   exists on wasm.
 * - `BatchMatMul`: the stock gradient uses `matMul(..., transposeA/transposeB)`, which wasm runs
 *   about 10x slower than an explicit `transpose` followed by a plain `matMul`.
 * - `MaxPool`: `MaxPoolGrad` is 2x slower than compositions of forward ops, and wrong next to
 *   'same' padding (it drops the gradient of windows whose values are all negative).
 * - `AvgPool`: `AvgPoolGrad` is 2-3x slower than a broadcast multiply for non-overlapping windows,
 *   and wrong next to padding (on cpu and wasm): the forward pass divides each window by the number
 *   of real inputs in it, the stock gradient by k·k, so inputs next to a padded border got 2-9x too
 *   small gradients.
 * - `Tile`: the stock gradient adds one slice per repetition and throws for rank > 4.
 * - `GatherV2`: the stock gradient needs `UnsortedSegmentSum`, which wasm does not register, and
 *   with `batchDims = 1` it splits the batch into one op per example.
 *
 * The overrides rewrite these gradients as compositions of fast forward ops (conv2d with explicit
 * padding and dilations, depthwiseConv2d, transpose + matMul, argMax/oneHot, reshape + sum) with
 * the same semantics as the stock cpu gradients (ties in max pooling go to the first maximum of
 * the window in row-major order, like the cpu backend). Cases they do not accelerate (NCHW
 * data, overlapping or padded average-pooling windows) are delegated to the
 * stock gradient captured at install time. Unlike the stock gradients, the Conv2D and depthwise
 * overrides also support dilations > 1. Non-finite values (a diverged network) may spread NaN
 * further than the stock gradients do (e.g. 0 * Inf inside a pooling window).
 *
 * Gradients are registered globally (for every backend); the overrides are correct on every
 * backend, but only pay off on wasm. Fused ops (`tf.fused.*`) with a linear activation use their
 * own built-in gradient and are not affected: train with unfused ops.
 */
import { tf } from './tf';

type GradConfig = ReturnType<typeof tf.getGradient>;
type GradFunc = GradConfig['gradFunc'];
type NamedAttrMap = Parameters<GradFunc>[2];
type Tensor = tf.Tensor;
type Tensor4D = tf.Tensor4D;
type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

/**
 * Kernels whose gradients {@link installGradientOverrides} replaces.
 *
 * @example
 * ```ts
 * OVERRIDDEN_KERNELS.includes('Conv2D'); // true
 * ```
 */
export const OVERRIDDEN_KERNELS: readonly string[] = Object.freeze([
  'BatchMatMul',
  'Conv2D',
  'DepthwiseConv2dNative',
  'MaxPool',
  'AvgPool',
  'Tile',
  'GatherV2',
]);

const stock = new Map<string, GradConfig>();
let installed = false;

/**
 * Replaces tfjs's stock gradients of {@link OVERRIDDEN_KERNELS} with fast, complete versions
 * (idempotent). `initBackend()` calls it when it selects wasm unless `gradientOverrides: false`
 * or `MARL_AUTOML_GRAD_OVERRIDES=0`.
 *
 * @example
 * ```ts
 * import { tf, installGradientOverrides } from './src/backend';
 * installGradientOverrides();
 * const g = tf.grad((w: tf.Tensor) => tf.conv2d(x, w as tf.Tensor4D, 1, 'same').square().sum())(w0);
 * ```
 */
export function installGradientOverrides(): void {
  if (installed) return;
  const configs = overrideConfigs();
  for (const name of OVERRIDDEN_KERNELS) {
    const original = tf.getGradient(name);
    if (!original) throw new Error(`installGradientOverrides: no stock gradient registered for kernel '${name}'`);
    stock.set(name, original);
  }
  for (const name of OVERRIDDEN_KERNELS) {
    tf.unregisterGradient(name);
    tf.registerGradient(configs[name]);
  }
  installed = true;
}

/**
 * Restores the stock tfjs gradients captured by {@link installGradientOverrides} (no-op when
 * the overrides are not installed).
 *
 * @example
 * ```ts
 * uninstallGradientOverrides();
 * gradientOverridesInstalled(); // false
 * ```
 */
export function uninstallGradientOverrides(): void {
  if (!installed) return;
  for (const name of OVERRIDDEN_KERNELS) {
    const original = stock.get(name);
    if (!original) continue;
    tf.unregisterGradient(name);
    tf.registerGradient(original);
  }
  stock.clear();
  installed = false;
}

/**
 * Whether the gradient overrides are currently installed.
 *
 * @example
 * ```ts
 * if (!gradientOverridesInstalled()) installGradientOverrides();
 * ```
 */
export function gradientOverridesInstalled(): boolean {
  return installed;
}

function delegate(name: string, dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) {
  const original = stock.get(name);
  if (!original)
    throw new Error(`gradient override for '${name}': stock gradient not captured (overrides not installed)`);
  return original.gradFunc(dy, saved, attrs);
}

function pair(v: number | [number, number] | undefined, fallback: number): [number, number] {
  if (v === undefined || v === null) return [fallback, fallback];
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

function explicitPad(top: number, bottom: number, left: number, right: number): Pad {
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}

/** Swaps the last two axes (explicit transpose: fast on wasm, unlike matMul's transpose flags). */
function transposeLast2(t: Tensor): Tensor {
  if (t.rank === 2) return tf.transpose(t);
  const perm = t.shape.map((_, i) => i);
  perm[t.rank - 2] = t.rank - 1;
  perm[t.rank - 1] = t.rank - 2;
  return tf.transpose(t, perm);
}

/** Sums a broadcast gradient back to `shape` (as the Add gradient does). */
function reduceTo(g: Tensor, shape: number[]): Tensor {
  if (tf.util.arraysEqual(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    const j = i - lead;
    if (j < 0 || (shape[j] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const summed = axes.length ? tf.sum(g, axes) : g;
  return tf.reshape(summed, shape);
}

/** Inserts `s - 1` zeros after each element along H and W: [N,H,W,C] -> [N,H*sH,W*sW,C]. */
function interleaveZeros(t: Tensor4D, sH: number, sW: number): Tensor4D {
  if (sH === 1 && sW === 1) return t;
  const [n, h, w, c] = t.shape;
  const t6 = tf.reshape(t, [n, h, 1, w, 1, c]);
  const padded = tf.pad(t6, [
    [0, 0],
    [0, 0],
    [0, sH - 1],
    [0, 0],
    [0, sW - 1],
    [0, 0],
  ]);
  return tf.reshape(padded, [n, h * sH, w * sW, c]);
}

interface TransposedPlan {
  pad: Pad;
  /** Window of the zero-interleaved dy to use: rows/columns mapping only to padding are cut. */
  begin: [number, number];
  size: [number, number];
}

/**
 * Padding that turns an input gradient into a stride-1 correlation of the zero-interleaved dy
 * with the rotated filter. Where that padding would be negative (forward padding larger than the
 * filter extent), the corresponding dy rows/columns only reach padding and are cropped instead.
 */
function transposedConvPlan(info: ReturnType<typeof tf.backend_util.computeConv2DInfo>): TransposedPlan {
  const { strideHeight: sH, strideWidth: sW, dilationHeight: dH, dilationWidth: dW } = info;
  const { inHeight: H, inWidth: W, outHeight: Ho, outWidth: Wo } = info;
  const p = info.padInfo;
  const top = (info.filterHeight - 1) * dH - p.top;
  const left = (info.filterWidth - 1) * dW - p.left;
  // The interleaved dy has s-1 trailing zero rows/columns beyond the last real one.
  const bottom = H - ((Ho - 1) * sH + 1) + p.top - (sH - 1);
  const right = W - ((Wo - 1) * sW + 1) + p.left - (sW - 1);
  const cropTop = Math.max(0, -top);
  const cropLeft = Math.max(0, -left);
  return {
    pad: explicitPad(Math.max(top, 0), Math.max(bottom, 0), Math.max(left, 0), Math.max(right, 0)),
    begin: [cropTop, cropLeft],
    size: [Ho * sH - cropTop + Math.min(bottom, 0), Wo * sW - cropLeft + Math.min(right, 0)],
  };
}

function transposedConvSource(
  dy: Tensor4D,
  info: ReturnType<typeof tf.backend_util.computeConv2DInfo>,
  plan: TransposedPlan,
): Tensor4D {
  const src = interleaveZeros(dy, info.strideHeight, info.strideWidth);
  const [h0, w0] = plan.begin;
  const [hn, wn] = plan.size;
  if (h0 === 0 && w0 === 0 && hn === src.shape[1] && wn === src.shape[2]) return src;
  return tf.slice(src, [0, h0, w0, 0], [src.shape[0], hn, wn, src.shape[3]]);
}

/**
 * Padding for the filter gradient computed as a correlation of the input with dy used as the
 * filter (strides and dilations swapped). Crops input rows/columns no output position reads.
 */
function filterGradInput(
  x: Tensor4D,
  info: ReturnType<typeof tf.backend_util.computeConv2DInfo>,
): { src: Tensor4D; pad: Pad } {
  const { strideHeight: sH, strideWidth: sW, dilationHeight: dH, dilationWidth: dW } = info;
  const { inHeight: H, inWidth: W, outHeight: Ho, outWidth: Wo } = info;
  const p = info.padInfo;
  let bottom = (info.filterHeight - 1) * dH + (Ho - 1) * sH + 1 - H - p.top;
  let right = (info.filterWidth - 1) * dW + (Wo - 1) * sW + 1 - W - p.left;
  let src = x;
  if (bottom < 0 || right < 0) {
    const hKeep = H + Math.min(bottom, 0);
    const wKeep = W + Math.min(right, 0);
    src = tf.slice(x, [0, 0, 0, 0], [x.shape[0], hKeep, wKeep, x.shape[3]]);
    bottom = Math.max(bottom, 0);
    right = Math.max(right, 0);
  }
  return { src, pad: explicitPad(p.top, bottom, p.left, right) };
}

function batchMatMulGrad(): GradConfig {
  return {
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const g = dy as Tensor;
      const [a, b] = saved;
      const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
      let da: () => Tensor;
      let db: () => Tensor;
      if (!transposeA && !transposeB) {
        da = () => tf.matMul(g, transposeLast2(b));
        db = () => tf.matMul(transposeLast2(a), g);
      } else if (!transposeA && transposeB) {
        da = () => tf.matMul(g, b);
        db = () => tf.matMul(transposeLast2(g), a);
      } else if (transposeA && !transposeB) {
        da = () => tf.matMul(b, transposeLast2(g));
        db = () => tf.matMul(a, g);
      } else {
        da = () => transposeLast2(tf.matMul(g, b));
        db = () => transposeLast2(tf.matMul(a, g));
      }
      return { a: () => reduceTo(da(), a.shape), b: () => reduceTo(db(), b.shape) };
    },
  };
}

/** Attributes of the Conv2D and DepthwiseConv2dNative kernels. */
type ConvAttrs = {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: Rounding;
};

/** tfjs's own shape/padding bookkeeping for a (depthwise) NHWC convolution. */
function convInfo(x: Tensor4D, filter: Tensor4D, a: ConvAttrs, depthwise: boolean) {
  return tf.backend_util.computeConv2DInfo(
    x.shape,
    filter.shape,
    a.strides,
    pair(a.dilations, 1),
    a.pad,
    a.dimRoundingMode,
    depthwise,
    'channelsLast',
  );
}

function conv2dGrad(): GradConfig {
  return {
    kernelName: 'Conv2D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const { dataFormat } = attrs as ConvAttrs;
      const x = saved[0] as Tensor4D;
      const filter = saved[1] as Tensor4D;
      const g = dy as Tensor4D;
      if ((dataFormat ?? 'NHWC') !== 'NHWC' || x.rank !== 4) return delegate('Conv2D', dy, saved, attrs);
      const info = convInfo(x, filter, attrs as ConvAttrs, false);
      const inputPlan = transposedConvPlan(info);
      const [kH, kW, ci, co] = filter.shape;
      const p = info.padInfo;
      const pointwise =
        kH === 1 &&
        kW === 1 &&
        info.strideHeight === 1 &&
        info.strideWidth === 1 &&
        p.top + p.bottom + p.left + p.right === 0;
      if (pointwise) {
        return {
          x: () => tf.reshape(tf.matMul(tf.reshape(g, [-1, co]), tf.transpose(tf.reshape(filter, [ci, co]))), x.shape),
          filter: () =>
            tf.reshape(tf.matMul(tf.transpose(tf.reshape(x, [-1, ci])), tf.reshape(g, [-1, co])), filter.shape),
        };
      }
      const dil: [number, number] = [info.dilationHeight, info.dilationWidth];
      const str: [number, number] = [info.strideHeight, info.strideWidth];
      return {
        x: () => {
          const src = transposedConvSource(g, info, inputPlan);
          const rotated = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as Tensor4D;
          return tf.conv2d(src, rotated, 1, inputPlan.pad, 'NHWC', dil);
        },
        filter: () => {
          if (ci === 1) {
            // Single input channel (first layers): im2col by a conv with a one-hot filter, then one
            // matMul. 3-5x faster here than the correlation below, whose huge kernel XNNPACK runs slowly.
            const k = kH * kW;
            const eye = new Float32Array(k * k);
            for (let i = 0; i < k; i++) eye[i * k + i] = 1;
            const patches = tf.conv2d(
              x,
              tf.tensor4d(eye, [kH, kW, 1, k]),
              str,
              explicitPad(p.top, p.bottom, p.left, p.right),
              'NHWC',
              dil,
            );
            const dW = tf.matMul(tf.transpose(tf.reshape(patches, [-1, k])), tf.reshape(g, [-1, co]));
            return tf.reshape(dW, filter.shape);
          }
          const plan = filterGradInput(x, info);
          const xT = tf.transpose(plan.src, [3, 1, 2, 0]) as Tensor4D; // [Ci, H, W, N]
          const dyT = tf.transpose(g, [1, 2, 0, 3]) as Tensor4D; // [Ho, Wo, N, Co]
          const out = tf.conv2d(xT, dyT, dil, plan.pad, 'NHWC', str); // [Ci, kH, kW, Co]
          return tf.transpose(out, [1, 2, 0, 3]);
        },
      };
    },
  };
}

function depthwiseGrad(): GradConfig {
  return {
    kernelName: 'DepthwiseConv2dNative',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const { dataFormat } = attrs as ConvAttrs;
      const x = saved[0] as Tensor4D;
      const filter = saved[1] as Tensor4D;
      const g = dy as Tensor4D;
      if ((dataFormat ?? 'NHWC') !== 'NHWC' || x.rank !== 4 || filter.rank !== 4 || x.shape[3] !== filter.shape[2]) {
        return delegate('DepthwiseConv2dNative', dy, saved, attrs);
      }
      const info = convInfo(x, filter, attrs as ConvAttrs, true);
      const inputPlan = transposedConvPlan(info);
      const [kH, kW, c, m] = filter.shape;
      const [n, h, w] = x.shape;
      const dil: [number, number] = [info.dilationHeight, info.dilationWidth];
      const str: [number, number] = [info.strideHeight, info.strideWidth];
      return {
        x: () => {
          const src = transposedConvSource(g, info, inputPlan);
          const rotated = tf.reshape(tf.reverse(filter, [0, 1]), [kH, kW, c * m, 1]) as Tensor4D;
          const out = tf.depthwiseConv2d(src, rotated, 1, inputPlan.pad, 'NHWC', dil); // [N, H, W, C*m]
          return m === 1 ? out : tf.sum(tf.reshape(out, [n, h, w, c, m]), 4);
        },
        filter: () => {
          // Batch folded into channels: one depthwise correlation of x with dy as the filter.
          const plan = filterGradInput(x, info);
          const [, hs, ws] = plan.src.shape;
          const xT = tf.reshape(tf.transpose(plan.src, [1, 2, 0, 3]), [1, hs, ws, n * c]) as Tensor4D;
          const dyT = tf.reshape(tf.transpose(g, [1, 2, 0, 3]), [info.outHeight, info.outWidth, n * c, m]) as Tensor4D;
          const out = tf.depthwiseConv2d(xT, dyT, dil, plan.pad, 'NHWC', str); // [1, kH, kW, N*C*m]
          return tf.sum(tf.reshape(out, [kH, kW, n, c, m]), 2);
        },
      };
    },
  };
}

interface PoolPlan {
  n: number;
  c: number;
  kH: number;
  kW: number;
  outH: number;
  outW: number;
  /** Rows/columns of x beyond the last window (valid padding), to crop and pad back. */
  extraH: number;
  extraW: number;
}

/** Non-overlapping, unpadded windows (filter == stride, no padding): the case we accelerate. */
function tilingPool(x: Tensor4D, attrs: NamedAttrMap): PoolPlan | undefined {
  const { filterSize, strides, pad, dimRoundingMode } = attrs as {
    filterSize: number | [number, number];
    strides: number | [number, number];
    pad: Pad;
    dimRoundingMode?: Rounding;
  };
  if (x.rank !== 4) return undefined;
  const info = tf.backend_util.computePool2DInfo(x.shape, filterSize, strides, 1, pad, dimRoundingMode);
  const p = info.padInfo;
  if (p.top !== 0 || p.bottom !== 0 || p.left !== 0 || p.right !== 0) return undefined;
  if (info.filterHeight !== info.strideHeight || info.filterWidth !== info.strideWidth) return undefined;
  const extraH = info.inHeight - info.outHeight * info.filterHeight;
  const extraW = info.inWidth - info.outWidth * info.filterWidth;
  if (extraH < 0 || extraW < 0 || info.outHeight === 0 || info.outWidth === 0) return undefined;
  return {
    n: info.batchSize,
    c: info.inChannels,
    kH: info.filterHeight,
    kW: info.filterWidth,
    outH: info.outHeight,
    outW: info.outWidth,
    extraH,
    extraW,
  };
}

function cropToWindows(x: Tensor4D, q: PoolPlan): Tensor4D {
  if (q.extraH === 0 && q.extraW === 0) return x;
  return tf.slice(x, [0, 0, 0, 0], [q.n, q.outH * q.kH, q.outW * q.kW, q.c]);
}

function padBack(dx: Tensor4D, q: PoolPlan): Tensor4D {
  if (q.extraH === 0 && q.extraW === 0) return dx;
  return tf.pad(dx, [
    [0, 0],
    [0, q.extraH],
    [0, q.extraW],
    [0, 0],
  ]);
}

/**
 * Exact max-pool gradient for any window, stride and padding: window entries are extracted as
 * channels by a depthwise conv with a one-hot filter (padded entries masked to -Infinity), the
 * first maximum of each window is chosen with argMax, and the chosen dy values are scattered
 * back with the adjoint (transposed) depthwise conv. Used where stock wasm `MaxPoolGrad` is
 * wrong (it drops gradients of negative inputs next to 'same' padding) or slow.
 */
/**
 * The window geometry of a pooling op seen as a depthwise conv with `channelMultiplier` outputs
 * per channel: conv info, the plan of its adjoint, and the window size (shared by the general
 * max- and average-pool gradients).
 */
function poolWindows(x: Tensor4D, attrs: NamedAttrMap, channelMultiplier: (kH: number, kW: number) => number) {
  const { filterSize, strides, pad, dimRoundingMode } = attrs as {
    filterSize: number | [number, number];
    strides: number | [number, number];
    pad: Pad;
    dimRoundingMode?: Rounding;
  };
  const c = x.shape[3];
  const [kH, kW] = pair(filterSize, 1);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape,
    [kH, kW, c, channelMultiplier(kH, kW)],
    strides,
    1,
    pad,
    dimRoundingMode,
    true,
    'channelsLast',
  );
  return { info, plan: transposedConvPlan(info), kH, kW };
}

function generalMaxPoolGrad(x: Tensor4D, dy: Tensor4D, attrs: NamedAttrMap): Tensor {
  const [n, h, w, c] = x.shape;
  const { info, plan, kH, kW } = poolWindows(x, attrs, (a, b) => a * b);
  const k = kH * kW;
  const { outHeight: oh, outWidth: ow, strideHeight: sH, strideWidth: sW } = info;
  const { top, left } = info.padInfo;
  const oneHot = new Float32Array(k * c * k);
  for (let a = 0; a < kH; a++) {
    for (let b = 0; b < kW; b++) {
      const m = a * kW + b;
      for (let ch = 0; ch < c; ch++) oneHot[((a * kW + b) * c + ch) * k + m] = 1;
    }
  }
  const penalty = new Float32Array(oh * ow * k);
  for (let i = 0; i < oh; i++) {
    for (let j = 0; j < ow; j++) {
      for (let a = 0; a < kH; a++) {
        for (let b = 0; b < kW; b++) {
          const r = i * sH + a - top;
          const q = j * sW + b - left;
          if (r < 0 || r >= h || q < 0 || q >= w) penalty[(i * ow + j) * k + a * kW + b] = -Infinity;
        }
      }
    }
  }
  const explicit = explicitPad(top, info.padInfo.bottom, left, info.padInfo.right);
  const filter = tf.tensor4d(oneHot, [kH, kW, c, k]);
  const patches = tf.depthwiseConv2d(x, filter, [sH, sW], explicit); // [N, oh, ow, C*k]
  const scores = tf.add(tf.reshape(patches, [n, oh, ow, c, k]), tf.tensor(penalty, [1, oh, ow, 1, k]));
  const chosen = tf.cast(tf.oneHot(tf.argMax(tf.reshape(scores, [-1, k]), 1), k), 'float32');
  const g = tf.reshape(tf.mul(chosen, tf.reshape(dy, [-1, 1])), [n, oh, ow, c * k]) as Tensor4D;
  const src = transposedConvSource(g, info, plan);
  const rotated = tf.reshape(tf.reverse(filter, [0, 1]), [kH, kW, c * k, 1]) as Tensor4D;
  const spread = tf.depthwiseConv2d(src, rotated, 1, plan.pad); // [N, H, W, C*k]
  return tf.sum(tf.reshape(spread, [n, h, w, c, k]), 4);
}

function maxPoolGrad(): GradConfig {
  return {
    kernelName: 'MaxPool',
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const x = saved[0] as Tensor4D;
      const q = tilingPool(x, attrs);
      if (!q) {
        if (x.rank !== 4) return delegate('MaxPool', dy, saved, attrs);
        return { x: () => generalMaxPoolGrad(x, dy as Tensor4D, attrs) };
      }
      return {
        x: () => {
          const { n, c, kH, kW, outH, outW } = q;
          const k = kH * kW;
          // Windows as rows; argMax picks the first maximum in row-major window order (as cpu does).
          const windows = tf.reshape(
            tf.transpose(tf.reshape(cropToWindows(x, q), [n, outH, kH, outW, kW, c]), [0, 1, 3, 5, 2, 4]),
            [-1, k],
          );
          // (wasm's OneHot ignores its dtype argument and writes int32 data: cast explicitly.)
          const chosen = tf.cast(tf.oneHot(tf.argMax(windows, 1), k), 'float32');
          const back = tf.transpose(tf.reshape(chosen, [n, outH, outW, c, kH, kW]), [0, 1, 4, 2, 5, 3]);
          // Broadcasting over the window axes here is faster on wasm than over a trailing axis.
          const g = tf.mul(back, tf.reshape(dy as Tensor, [n, outH, 1, outW, 1, c]));
          return padBack(tf.reshape(g, [n, outH * kH, outW * kW, c]), q);
        },
      };
    },
  };
}

function avgPoolGrad(): GradConfig {
  return {
    kernelName: 'AvgPool',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const x = saved[0] as Tensor4D;
      const q = tilingPool(x, attrs);
      if (!q) {
        if (x.rank !== 4) return delegate('AvgPool', dy, saved, attrs);
        return { x: () => generalAvgPoolGrad(x, dy as Tensor4D, attrs) };
      }
      return {
        x: () => {
          const { n, c, kH, kW, outH, outW } = q;
          const spread = tf.mul(
            tf.reshape(dy as Tensor, [n, outH, 1, outW, 1, c]),
            tf.fill([1, 1, kH, 1, kW, 1], 1 / (kH * kW)),
          );
          return padBack(tf.reshape(spread, [n, outH * kH, outW * kW, c]), q);
        },
      };
    },
  };
}

/**
 * Exact average-pool gradient for any window, stride and padding, consistent with the forward
 * pass (each window divided by the number of real inputs it covers, as PyTorch's
 * `count_include_pad=False`): dy is divided by each window's count, then spread back over the
 * window with the adjoint of a depthwise conv with a ones filter.
 */
function generalAvgPoolGrad(x: Tensor4D, dy: Tensor4D, attrs: NamedAttrMap): Tensor {
  const [, h, w, c] = x.shape;
  const { info, plan, kH, kW } = poolWindows(x, attrs, () => 1);
  const { outHeight: oh, outWidth: ow, strideHeight: sH, strideWidth: sW } = info;
  const { top, left } = info.padInfo;
  const real = (start: number, size: number, limit: number) => Math.min(start + size, limit) - Math.max(start, 0);
  const count = new Float32Array(oh * ow);
  for (let i = 0; i < oh; i++)
    for (let j = 0; j < ow; j++) count[i * ow + j] = real(i * sH - top, kH, h) * real(j * sW - left, kW, w);
  const scaled = tf.div(dy, tf.tensor4d(count, [1, oh, ow, 1])) as Tensor4D;
  const src = transposedConvSource(scaled, info, plan);
  return tf.depthwiseConv2d(src, tf.ones([kH, kW, c, 1]) as Tensor4D, 1, plan.pad);
}

function tileGrad(): GradConfig {
  return {
    kernelName: 'Tile',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const { reps } = attrs as { reps: number[] };
      return {
        x: () => {
          // Split each repeated axis into [reps, size] and sum the reps axes; merge runs of
          // unrepeated axes to keep the rank low.
          const shape: number[] = [];
          const axes: number[] = [];
          let run = 1;
          for (let i = 0; i < x.rank; i++) {
            if (reps[i] === 1) {
              run *= x.shape[i];
              continue;
            }
            if (run !== 1 || shape.length === 0) shape.push(run);
            axes.push(shape.length);
            shape.push(reps[i]);
            run = x.shape[i];
          }
          shape.push(run);
          const g = dy as Tensor;
          if (axes.length === 0) return tf.reshape(g, x.shape);
          return tf.reshape(tf.sum(tf.reshape(g, shape), axes), x.shape);
        },
      };
    },
  };
}

/**
 * Gather gradient as one scatter-add (`scatterND` sums duplicate indices) into a [batch * V, rest]
 * matrix, for any axis and batchDims.
 */
function gatherGrad(): GradConfig {
  return {
    kernelName: 'GatherV2',
    inputsToSave: ['x', 'indices'],
    gradFunc: (dy, saved, attrs) => {
      const [x, indices] = saved;
      const { axis, batchDims } = attrs as { axis: number; batchDims: number };
      const a = tf.util.parseAxisParam(axis, x.shape)[0];
      const b = batchDims < 0 ? batchDims + indices.rank : (batchDims ?? 0);
      return {
        x: () => {
          const prod = (d: number[]) => d.reduce((p, q) => p * q, 1);
          const bn = prod(x.shape.slice(0, b));
          const on = prod(x.shape.slice(b, a));
          const v = x.shape[a];
          const qn = prod(x.shape.slice(a + 1));
          const inn = indices.size / bn;
          let values = tf.reshape(dy as Tensor, [bn, on, inn, qn]);
          if (on > 1) values = tf.transpose(values, [0, 2, 1, 3]); // [bn, inn, on, qn]
          let ids = tf.reshape(tf.cast(indices, 'int32'), [bn, inn]);
          if (bn > 1)
            ids = tf.add(ids, tf.mul(tf.reshape(tf.range(0, bn, 1, 'int32'), [bn, 1]), tf.scalar(v, 'int32')));
          const summed = tf.scatterND(tf.reshape(ids, [bn * inn, 1]), tf.reshape(values, [bn * inn, on * qn]), [
            bn * v,
            on * qn,
          ]);
          let out = tf.reshape(summed, [bn, v, on, qn]);
          if (on > 1) out = tf.transpose(out, [0, 2, 1, 3]);
          return tf.reshape(out, x.shape);
        },
        // As the stock gradient does (indices are integers and never on a differentiable path).
        indices: () => indices,
      };
    },
  };
}

function overrideConfigs(): Record<string, GradConfig> {
  return {
    BatchMatMul: batchMatMulGrad(),
    Conv2D: conv2dGrad(),
    DepthwiseConv2dNative: depthwiseGrad(),
    MaxPool: maxPoolGrad(),
    AvgPool: avgPoolGrad(),
    Tile: tileGrad(),
    GatherV2: gatherGrad(),
  };
}
