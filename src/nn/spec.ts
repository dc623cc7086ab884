/**
 * Serialisable network specifications, their validation, shape inference, and the analytic
 * parameter / multiply-accumulate (MAC) counter. Everything here is pure JavaScript: no tensors.
 */
import { z, parseConfig } from '../config';

/** Element-wise activations. `identity` is a no-op. */
export type Activation = 'relu' | 'relu6' | 'tanh' | 'sigmoid' | 'identity';
/**
 * Convolution / pooling padding, TensorFlow semantics: `same` gives `ceil(in / stride)` outputs and,
 * when the total padding is odd (e.g. stride 2 on an even size), puts the extra row/column at the
 * bottom/right, where PyTorch's `padding=k // 2` pads symmetrically. `valid` pads nothing.
 */
export type Padding = 'same' | 'valid';

/** Fully connected layer on a rank-1 input `[features]`. */
export interface DenseSpec {
  type: 'dense';
  units: number;
  /** Default true. */
  bias?: boolean;
  /** Applied after the affine map (default identity). */
  activation?: Activation;
}
/** 2-D convolution on `[h, w, c]`, filter `[k, k, cIn, filters]`. */
export interface Conv2dSpec {
  type: 'conv2d';
  filters: number;
  kernel: number;
  /** Default 1. */
  stride?: number;
  /** Default `same`. */
  padding?: Padding;
  /** Default true. */
  bias?: boolean;
  activation?: Activation;
}
/** Depthwise 2-D convolution, filter `[k, k, c, multiplier]`. */
export interface DepthwiseConv2dSpec {
  type: 'depthwiseConv2d';
  kernel: number;
  stride?: number;
  padding?: Padding;
  /** Channel multiplier (default 1). */
  multiplier?: number;
  bias?: boolean;
  activation?: Activation;
}
/** Batch normalisation over the last axis (PyTorch semantics: momentum 0.1, eps 1e-5, unbiased running variance). */
export interface BatchNormSpec {
  type: 'batchNorm';
  momentum?: number;
  eps?: number;
  activation?: Activation;
}
/**
 * Max or average pooling; `stride` defaults to `size`, `padding` to `valid`. With `same` padding,
 * average pooling divides by the number of real (non-padded) inputs (TensorFlow semantics, i.e.
 * PyTorch's `count_include_pad=False`).
 */
export interface PoolSpec {
  type: 'maxPool' | 'avgPool';
  size: number;
  stride?: number;
  padding?: Padding;
}
/** Mean over the spatial axes: `[h, w, c]` to `[c]`. */
export interface GlobalAvgPoolSpec {
  type: 'globalAvgPool';
}
/** Reshape to `[prod(shape)]`. */
export interface FlattenSpec {
  type: 'flatten';
}
/** Inverted dropout (PyTorch semantics): zeroes with probability `rate` and scales by `1/(1-rate)` in training. */
export interface DropoutSpec {
  type: 'dropout';
  rate: number;
}
/** A stand-alone activation. */
export interface ActivationSpec {
  type: 'activation';
  fn: Activation;
}
/** `x + body(x)`; the body must preserve the shape. */
export interface ResidualSpec {
  type: 'residual';
  body: LayerSpec[];
}
/**
 * MobileNetV2 inverted residual block: 1x1 expand conv (skipped when `expansion` is 1), BN,
 * activation, depthwise `kernel` x `kernel` conv with `stride`, BN, activation, 1x1 projection
 * conv to `filters`, BN; a residual add when `stride` is 1 and input channels equal `filters`.
 * Convs have no bias (BN follows).
 */
export interface InvertedResidualSpec {
  type: 'invertedResidual';
  filters: number;
  expansion: number;
  kernel: number;
  stride?: number;
  /** Default `relu6`. */
  activation?: Activation;
}

/** One layer of a {@link SequentialSpec}. */
export type LayerSpec =
  | DenseSpec
  | Conv2dSpec
  | DepthwiseConv2dSpec
  | BatchNormSpec
  | PoolSpec
  | GlobalAvgPoolSpec
  | FlattenSpec
  | DropoutSpec
  | ActivationSpec
  | ResidualSpec
  | InvertedResidualSpec;

/** Layers that hold no sub-layers. */
export type PrimitiveLayerSpec = Exclude<LayerSpec, ResidualSpec | InvertedResidualSpec>;

/**
 * A whole network as plain JSON: input shape without the batch axis (`[features]` or `[h, w, c]`)
 * and the layers in order. The last layer's output is the logits.
 */
export interface SequentialSpec {
  inputShape: number[];
  layers: LayerSpec[];
}

const posInt = z.number().int().positive();
const activation = z.enum(['relu', 'relu6', 'tanh', 'sigmoid', 'identity']);
const padding = z.enum(['same', 'valid']);

const LayerSchema: z.ZodType<LayerSpec> = z.lazy(() =>
  z.discriminatedUnion('type', [
    z
      .object({
        type: z.literal('dense'),
        units: posInt,
        bias: z.boolean().optional(),
        activation: activation.optional(),
      })
      .strict(),
    z
      .object({
        type: z.literal('conv2d'),
        filters: posInt,
        kernel: posInt,
        stride: posInt.optional(),
        padding: padding.optional(),
        bias: z.boolean().optional(),
        activation: activation.optional(),
      })
      .strict(),
    z
      .object({
        type: z.literal('depthwiseConv2d'),
        kernel: posInt,
        stride: posInt.optional(),
        padding: padding.optional(),
        multiplier: posInt.optional(),
        bias: z.boolean().optional(),
        activation: activation.optional(),
      })
      .strict(),
    z
      .object({
        type: z.literal('batchNorm'),
        momentum: z.number().min(0).max(1).optional(),
        eps: z.number().positive().optional(),
        activation: activation.optional(),
      })
      .strict(),
    z
      .object({ type: z.literal('maxPool'), size: posInt, stride: posInt.optional(), padding: padding.optional() })
      .strict(),
    z
      .object({ type: z.literal('avgPool'), size: posInt, stride: posInt.optional(), padding: padding.optional() })
      .strict(),
    z.object({ type: z.literal('globalAvgPool') }).strict(),
    z.object({ type: z.literal('flatten') }).strict(),
    z.object({ type: z.literal('dropout'), rate: z.number().min(0).lt(1) }).strict(),
    z.object({ type: z.literal('activation'), fn: activation }).strict(),
    z.object({ type: z.literal('residual'), body: z.array(LayerSchema).min(1) }).strict(),
    z
      .object({
        type: z.literal('invertedResidual'),
        filters: posInt,
        expansion: posInt,
        kernel: posInt,
        stride: posInt.optional(),
        activation: activation.optional(),
      })
      .strict(),
  ]),
);

/** zod schema of {@link SequentialSpec}. */
export const SequentialSpecSchema: z.ZodType<SequentialSpec> = z
  .object({
    inputShape: z.array(posInt).min(1).max(3),
    layers: z.array(LayerSchema).min(1),
  })
  .strict()
  .refine((s) => s.inputShape.length !== 2, {
    message: 'must be [features] or [height, width, channels]',
    path: ['inputShape'],
  });

/**
 * Validates a spec (throws a `ConfigError` naming the bad field) and returns it.
 *
 * @example
 * ```ts
 * parseSpec({ inputShape: [4], layers: [{ type: 'dense', units: 0 }] }); // throws "Invalid network spec: layers.0.units: ..."
 * ```
 */
export function parseSpec(spec: unknown): SequentialSpec {
  return parseConfig(SequentialSpecSchema, spec, 'network spec');
}

/** A layer after shape inference: primitive, or a block (sequence with optional residual add). */
export type ResolvedLayer = ResolvedPrimitive | ResolvedBlock;

export interface ResolvedPrimitive {
  kind: 'primitive';
  /** Unique within the model, e.g. `conv2d_1`. */
  name: string;
  /** Where it came from in the spec, e.g. `layers[3].body[1]`. */
  path: string;
  spec: PrimitiveLayerSpec;
  inShape: number[];
  outShape: number[];
  /** Trainable parameters (BN running statistics are buffers, not counted). */
  params: number;
  /** Forward multiply-accumulates per example (see {@link countFlops} for the conventions). */
  macs: number;
}

export interface ResolvedBlock {
  kind: 'block';
  name: string;
  path: string;
  residual: boolean;
  body: ResolvedLayer[];
  inShape: number[];
  outShape: number[];
}

function convOut(size: number, k: number, s: number, pad: Padding, where: string): number {
  const out = pad === 'same' ? Math.ceil(size / s) : Math.floor((size - k) / s) + 1;
  if (out < 1)
    throw new Error(`${where}: kernel ${k} with stride ${s} and padding '${pad}' does not fit input size ${size}`);
  return out;
}

const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

/**
 * Shape inference over a spec: every layer with its input/output shape, parameter count and MACs,
 * invertedResidual blocks expanded into primitives. Throws an Error naming the layer and the shape
 * on any mismatch (e.g. a dense layer on an image without `flatten`).
 *
 * @example
 * ```ts
 * const { layers, outputShape } = resolveSpec({ inputShape: [4], layers: [{ type: 'dense', units: 3 }] });
 * // outputShape = [3], layers[0].params = 15
 * ```
 */
export function resolveSpec(
  spec: SequentialSpec,
  inputShape?: number[],
): { layers: ResolvedLayer[]; outputShape: number[] } {
  const parsed = parseSpec(inputShape ? { ...spec, inputShape } : spec);
  const counters = new Map<string, number>();
  const nextName = (type: string) => {
    const n = counters.get(type) ?? 0;
    counters.set(type, n + 1);
    return `${type}_${n}`;
  };
  const walk = (
    layers: LayerSpec[],
    inShape: number[],
    basePath: string,
  ): { out: ResolvedLayer[]; shape: number[] } => {
    const out: ResolvedLayer[] = [];
    let shape = inShape;
    layers.forEach((layer, i) => {
      const path = `${basePath}[${i}]`;
      if (layer.type === 'residual') {
        const name = nextName('residual');
        const body = walk(layer.body, shape, `${path}.body`);
        if (shapeText(body.shape) !== shapeText(shape)) {
          throw new Error(
            `${path} (${name}): residual body maps ${shapeText(shape)} to ${shapeText(body.shape)}; it must preserve the shape`,
          );
        }
        out.push({ kind: 'block', name, path, residual: true, body: body.out, inShape: shape, outShape: body.shape });
      } else if (layer.type === 'invertedResidual') {
        const name = nextName('invertedResidual');
        if (shape.length !== 3)
          throw new Error(`${path} (${name}): expects an input [height, width, channels], got ${shapeText(shape)}`);
        const cin = shape[2];
        const stride = layer.stride ?? 1;
        const act: Activation = layer.activation ?? 'relu6';
        const prims: LayerSpec[] = [];
        if (layer.expansion !== 1) {
          prims.push(
            { type: 'conv2d', filters: cin * layer.expansion, kernel: 1, bias: false },
            { type: 'batchNorm', activation: act },
          );
        }
        prims.push(
          { type: 'depthwiseConv2d', kernel: layer.kernel, stride, padding: 'same', bias: false },
          { type: 'batchNorm', activation: act },
          { type: 'conv2d', filters: layer.filters, kernel: 1, bias: false },
          { type: 'batchNorm' },
        );
        const body = walk(prims, shape, `${path}.expanded`);
        const residual = stride === 1 && cin === layer.filters;
        out.push({ kind: 'block', name, path, residual, body: body.out, inShape: shape, outShape: body.shape });
        shape = body.shape;
      } else {
        const name = nextName(layer.type);
        const r = resolvePrimitive(layer, shape, `${path} (${name})`);
        out.push({
          kind: 'primitive',
          name,
          path,
          spec: layer,
          inShape: shape,
          outShape: r.outShape,
          params: r.params,
          macs: r.macs,
        });
        shape = r.outShape;
      }
    });
    return { out, shape };
  };
  const res = walk(parsed.layers, parsed.inputShape, 'layers');
  return { layers: res.out, outputShape: res.shape };
}

function resolvePrimitive(
  layer: PrimitiveLayerSpec,
  shape: number[],
  where: string,
): { outShape: number[]; params: number; macs: number } {
  const needImage = () => {
    if (shape.length !== 3)
      throw new Error(`${where}: expects an input [height, width, channels], got ${shapeText(shape)}`);
    return shape as [number, number, number];
  };
  const elements = shape.reduce((a, b) => a * b, 1);
  switch (layer.type) {
    case 'dense': {
      if (shape.length !== 1)
        throw new Error(
          `${where}: expects an input [features], got ${shapeText(shape)} (add a flatten or globalAvgPool layer first)`,
        );
      const bias = layer.bias ?? true;
      return {
        outShape: [layer.units],
        params: shape[0] * layer.units + (bias ? layer.units : 0),
        macs: shape[0] * layer.units,
      };
    }
    case 'conv2d': {
      const [h, w, c] = needImage();
      const s = layer.stride ?? 1;
      const p = layer.padding ?? 'same';
      const ho = convOut(h, layer.kernel, s, p, where);
      const wo = convOut(w, layer.kernel, s, p, where);
      const k2 = layer.kernel * layer.kernel;
      const bias = layer.bias ?? true;
      return {
        outShape: [ho, wo, layer.filters],
        params: k2 * c * layer.filters + (bias ? layer.filters : 0),
        macs: ho * wo * k2 * c * layer.filters,
      };
    }
    case 'depthwiseConv2d': {
      const [h, w, c] = needImage();
      const s = layer.stride ?? 1;
      const p = layer.padding ?? 'same';
      const m = layer.multiplier ?? 1;
      const ho = convOut(h, layer.kernel, s, p, where);
      const wo = convOut(w, layer.kernel, s, p, where);
      const k2 = layer.kernel * layer.kernel;
      const bias = layer.bias ?? true;
      return { outShape: [ho, wo, c * m], params: k2 * c * m + (bias ? c * m : 0), macs: ho * wo * k2 * c * m };
    }
    case 'batchNorm': {
      const c = shape[shape.length - 1];
      return { outShape: shape, params: 2 * c, macs: elements };
    }
    case 'maxPool':
    case 'avgPool': {
      const [h, w, c] = needImage();
      const s = layer.stride ?? layer.size;
      const p = layer.padding ?? 'valid';
      const ho = convOut(h, layer.size, s, p, where);
      const wo = convOut(w, layer.size, s, p, where);
      return {
        outShape: [ho, wo, c],
        params: 0,
        macs: layer.type === 'avgPool' ? ho * wo * c * layer.size * layer.size : 0,
      };
    }
    case 'globalAvgPool': {
      const [h, w, c] = needImage();
      return { outShape: [c], params: 0, macs: h * w * c };
    }
    case 'flatten':
      return { outShape: [elements], params: 0, macs: 0 };
    case 'dropout':
    case 'activation':
      return { outShape: shape, params: 0, macs: 0 };
  }
}

/**
 * Flattens resolved layers into primitives, in execution order.
 *
 * @example
 * ```ts
 * primitives(resolveSpec(spec).layers).filter((p) => p.spec.type === 'conv2d').length;
 * ```
 */
export function primitives(layers: ResolvedLayer[]): ResolvedPrimitive[] {
  const out: ResolvedPrimitive[] = [];
  for (const l of layers) {
    if (l.kind === 'primitive') out.push(l);
    else out.push(...primitives(l.body));
  }
  return out;
}

/** One row of a {@link countFlops} / {@link countParams} breakdown. */
export interface LayerCount {
  name: string;
  type: PrimitiveLayerSpec['type'];
  path: string;
  inShape: number[];
  outShape: number[];
  params: number;
  macs: number;
}

/** Per-layer breakdown and totals. */
export interface NetworkCount {
  layers: LayerCount[];
  /** Trainable parameters. */
  totalParams: number;
  /** Forward multiply-accumulates per example. */
  totalMacs: number;
  outputShape: number[];
}

function count(spec: SequentialSpec, inputShape?: number[]): NetworkCount {
  const { layers, outputShape } = resolveSpec(spec, inputShape);
  const rows = primitives(layers).map((p) => ({
    name: p.name,
    type: p.spec.type,
    path: p.path,
    inShape: p.inShape,
    outShape: p.outShape,
    params: p.params,
    macs: p.macs,
  }));
  return {
    layers: rows,
    totalParams: rows.reduce((a, r) => a + r.params, 0),
    totalMacs: rows.reduce((a, r) => a + r.macs, 0),
    outputShape,
  };
}

/**
 * Trainable parameters of a spec, per layer and in total (weights + biases + BN gamma/beta;
 * BN running statistics are buffers and not counted, as in PyTorch's `parameters()`).
 *
 * @example
 * ```ts
 * countParams({ inputShape: [784], layers: [{ type: 'dense', units: 256 }] }).totalParams; // 200960
 * ```
 */
export function countParams(spec: SequentialSpec): NetworkCount {
  return count(spec);
}

/**
 * Analytic forward multiply-accumulates (MACs) per example, per layer and in total. Conventions:
 * dense `in * out`; conv2d `hOut * wOut * k * k * cIn * cOut` (padding included); depthwise
 * `hOut * wOut * k * k * c * multiplier`; batch norm one MAC per element (a folded scale + shift);
 * average pooling `k * k` accumulates per output element; global average pooling one per input
 * element; max pooling, activations, dropout, flatten and residual adds count 0. Biases are not
 * counted. `inputShape` overrides the spec's (e.g. another input resolution).
 *
 * @example
 * ```ts
 * countFlops({ inputShape: [28, 28, 1], layers: [{ type: 'conv2d', filters: 16, kernel: 3 }] }).totalMacs; // 28*28*9*16
 * ```
 */
export function countFlops(spec: SequentialSpec, inputShape?: number[]): NetworkCount {
  return count(spec, inputShape);
}
