import { z, parseConfig } from '../config';
import { INIT_SCHEMES } from './init';
import type { InitScheme } from './init';
import { buildSequential } from './model';
import type { SequentialModel } from './model';
import type { Activation, LayerSpec, SequentialSpec } from './spec';

const posInt = z.number().int().positive();
const activation = z.enum(['relu', 'relu6', 'tanh', 'sigmoid', 'identity']);
const initScheme = z.enum(INIT_SCHEMES as [InitScheme, ...InitScheme[]]);

const MlpSchema = z
  .object({
    inputSize: posInt,
    hidden: z.array(posInt),
    numClasses: posInt,
    activation: activation.default('relu'),
    dropout: z.number().min(0).lt(1).default(0),
    batchNorm: z.boolean().default(false),
    seed: z.number().int().default(0),
    init: initScheme.default('torch'),
  })
  .strict();
/** Options of {@link buildMlp} / {@link mlpSpec}. */
export type MlpOptions = z.input<typeof MlpSchema>;

/**
 * Spec of an MLP: `hidden.length` dense layers with `activation` (optionally batch norm before the
 * activation, the dense layer then without bias, and dropout after it), then a dense layer to `numClasses` logits.
 *
 * @example
 * ```ts
 * const spec = mlpSpec({ inputSize: 784, hidden: [256, 256], numClasses: 10 });
 * ```
 */
export function mlpSpec(options: MlpOptions): SequentialSpec {
  const o = parseConfig(MlpSchema, options, 'MLP options');
  const layers: LayerSpec[] = [];
  for (const units of o.hidden) {
    if (o.batchNorm)
      layers.push({ type: 'dense', units, bias: false }, { type: 'batchNorm', activation: o.activation });
    else layers.push({ type: 'dense', units, activation: o.activation });
    if (o.dropout > 0) layers.push({ type: 'dropout', rate: o.dropout });
  }
  layers.push({ type: 'dense', units: o.numClasses });
  return { inputShape: [o.inputSize], layers };
}

/**
 * Builds an MLP whose parameter groups are its dense layers (input `[B, inputSize]`).
 *
 * @example
 * ```ts
 * const model = buildMlp({ inputSize: 784, hidden: [256, 256], numClasses: 10, seed: 1 });
 * model.groups.length; // 3
 * ```
 */
export function buildMlp(options: MlpOptions): SequentialModel {
  const o = parseConfig(MlpSchema, options, 'MLP options');
  return buildSequential(mlpSpec(o), { seed: o.seed, init: o.init });
}

const CnnBlockSchema = z
  .object({
    filters: posInt,
    kernel: posInt,
    stride: posInt.default(1),
    padding: z.enum(['same', 'valid']).default('same'),
    batchNorm: z.boolean().default(false),
    pool: z
      .object({ type: z.enum(['max', 'avg']).default('max'), size: posInt.default(2), stride: posInt.optional() })
      .strict()
      .optional(),
  })
  .strict();
const CnnSchema = z
  .object({
    inputShape: z.tuple([posInt, posInt, posInt]),
    blocks: z.array(CnnBlockSchema).min(1),
    dense: z.array(posInt).default([]),
    numClasses: posInt,
    activation: activation.default('relu'),
    globalPool: z.boolean().default(false),
    dropout: z.number().min(0).lt(1).default(0),
    seed: z.number().int().default(0),
    init: initScheme.default('torch'),
  })
  .strict();
/** Options of {@link buildCnn} / {@link cnnSpec}. */
export type CnnOptions = z.input<typeof CnnSchema>;

/**
 * Spec of a small CNN: per block a conv (optionally followed by batch norm) with `activation` and
 * an optional pooling layer; then flatten (or global average pooling), optional hidden dense layers
 * and a dense layer to `numClasses`.
 *
 * @example
 * ```ts
 * const spec = cnnSpec({ inputShape: [28, 28, 1], blocks: [{ filters: 16, kernel: 3, pool: { type: 'max', size: 2 } }], numClasses: 10 });
 * ```
 */
export function cnnSpec(options: CnnOptions): SequentialSpec {
  const o = parseConfig(CnnSchema, options, 'CNN options');
  const layers: LayerSpec[] = [];
  for (const b of o.blocks) {
    const conv = {
      type: 'conv2d' as const,
      filters: b.filters,
      kernel: b.kernel,
      stride: b.stride,
      padding: b.padding,
    };
    if (b.batchNorm) layers.push({ ...conv, bias: false }, { type: 'batchNorm', activation: o.activation });
    else layers.push({ ...conv, activation: o.activation });
    if (b.pool)
      layers.push({
        type: b.pool.type === 'max' ? 'maxPool' : 'avgPool',
        size: b.pool.size,
        stride: b.pool.stride ?? b.pool.size,
      });
  }
  layers.push(o.globalPool ? { type: 'globalAvgPool' } : { type: 'flatten' });
  for (const units of o.dense) {
    layers.push({ type: 'dense', units, activation: o.activation });
    if (o.dropout > 0) layers.push({ type: 'dropout', rate: o.dropout });
  }
  if (o.dense.length === 0 && o.dropout > 0) layers.push({ type: 'dropout', rate: o.dropout });
  layers.push({ type: 'dense', units: o.numClasses });
  return { inputShape: o.inputShape.slice(), layers };
}

/**
 * Builds a small CNN (input `[B, h, w, c]`); its parameter groups are the conv layers (with their
 * batch norms) and the dense layers.
 *
 * @example
 * ```ts
 * const model = buildCnn({ inputShape: [28, 28, 1], blocks: [{ filters: 16, kernel: 3, pool: { type: 'max', size: 2 } }], numClasses: 10, seed: 1 });
 * ```
 */
export function buildCnn(options: CnnOptions): SequentialModel {
  const o = parseConfig(CnnSchema, options, 'CNN options');
  return buildSequential(cnnSpec(o), { seed: o.seed, init: o.init });
}

const MobileNetSchema = z
  .object({
    inputShape: z.tuple([posInt, posInt, posInt]),
    numClasses: posInt,
    widthMultiplier: z.number().positive().default(1),
    stemFilters: posInt.default(16),
    stemStride: posInt.default(1),
    stages: z
      .array(
        z
          .object({ depth: posInt, kernel: posInt, expansion: posInt, filters: posInt, stride: posInt.default(1) })
          .strict(),
      )
      .min(1),
    headFilters: z.number().int().min(0).default(0),
    dropout: z.number().min(0).lt(1).default(0),
    activation: activation.default('relu6'),
  })
  .strict();
/** Options of {@link mobileNetV2Spec}. */
export type MobileNetV2Options = z.input<typeof MobileNetSchema>;

/**
 * torchvision's `_make_divisible`: round to a multiple of `divisor`, never more than 10% down.
 *
 * @example
 * ```ts
 * makeDivisible(24 * 0.75); // 24 (16 would lose more than 10% of 18)
 * ```
 */
export function makeDivisible(v: number, divisor = 8): number {
  let out = Math.max(divisor, Math.floor(v + divisor / 2) - (Math.floor(v + divisor / 2) % divisor));
  if (out < 0.9 * v) out += divisor;
  return out;
}

/**
 * Spec of a MobileNetV2-style CNN: 3x3 stem conv (no bias) + BN + relu6, stages of inverted residual
 * blocks (the first block of a stage has the stage's stride), optional 1x1 head conv + BN + relu6,
 * global average pooling, dropout and a dense classifier. Channel counts (stem, stage filters, head)
 * are scaled by `widthMultiplier` and rounded with torchvision's `_make_divisible(c, 8)`.
 *
 * @example
 * ```ts
 * const spec = mobileNetV2Spec({
 *   inputShape: [28, 28, 1], numClasses: 10, widthMultiplier: 0.5,
 *   stages: [{ depth: 1, kernel: 3, expansion: 1, filters: 16, stride: 1 }, { depth: 2, kernel: 5, expansion: 6, filters: 24, stride: 2 }],
 * });
 * countFlops(spec).totalMacs;
 * ```
 */
export function mobileNetV2Spec(options: MobileNetV2Options): SequentialSpec {
  const o = parseConfig(MobileNetSchema, options, 'MobileNetV2 options');
  const w = (c: number) => makeDivisible(c * o.widthMultiplier);
  const act: Activation = o.activation;
  const layers: LayerSpec[] = [
    { type: 'conv2d', filters: w(o.stemFilters), kernel: 3, stride: o.stemStride, padding: 'same', bias: false },
    { type: 'batchNorm', activation: act },
  ];
  for (const st of o.stages) {
    for (let i = 0; i < st.depth; i++) {
      layers.push({
        type: 'invertedResidual',
        filters: w(st.filters),
        expansion: st.expansion,
        kernel: st.kernel,
        stride: i === 0 ? st.stride : 1,
        activation: act,
      });
    }
  }
  if (o.headFilters > 0) {
    layers.push(
      { type: 'conv2d', filters: w(o.headFilters), kernel: 1, bias: false },
      { type: 'batchNorm', activation: act },
    );
  }
  layers.push({ type: 'globalAvgPool' });
  if (o.dropout > 0) layers.push({ type: 'dropout', rate: o.dropout });
  layers.push({ type: 'dense', units: o.numClasses });
  return { inputShape: o.inputShape.slice(), layers };
}
