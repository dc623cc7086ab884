/**
 * MA2ML search spaces as plain data: the AUG, NAS and HPO agents' choices, the decoded pipeline
 * types, the network spec of an architecture, and the `smoke` / `quick` / `full` presets.
 */
import { z, parseConfig } from '../config';
import type { PresetName } from '../config';
import { makeDivisible } from '../nn';
import type { LayerSpec, SequentialSpec } from '../nn';
import { AUG_LEVELS, AUG_OPS } from './aug';
import type { AugOpName, AugPolicy } from './aug';

/** AUG agent: `subPolicies` sub-policies of two (op, probability, level) triples. */
export interface AugSpace {
  kind: 'autoaugment';
  /** S: sub-policies per policy (2 default, 5 full). */
  subPolicies: number;
  /** Ops the agent can choose. */
  ops: AugOpName[];
  /** Probability choices (default 0, 0.1, ..., 1). */
  probabilities: number[];
  /** Magnitude level choices (default 0..9). */
  levels: number[];
}

/** One stage of the MobileNetV2-style space: fixed stride and base filters, searched depth/kernel/expansion/width. */
export interface MobileNetStageSpace {
  stride: number;
  /** Output channels at width multiplier 1 (scaled and rounded with `makeDivisible(c * width, 8)`). */
  filters: number;
  depths: number[];
  kernels: number[];
  expansions: number[];
  widths: number[];
}
/** MobileNetV2-style NAS space: stem conv, stages of inverted residual blocks, optional head, classifier. */
export interface MobileNetNasSpace {
  kind: 'mobilenetv2';
  /** Global input resolution choices (images are resized to r x r). */
  resolutions: number[];
  /** 3x3 stem conv filters (stride 1, not scaled). */
  stemFilters: number;
  /** 1x1 head conv filters before global pooling (0: none). */
  headFilters: number;
  stages: MobileNetStageSpace[];
  numClasses: number;
  inputChannels: number;
}
/** Plain conv net space: `depth` blocks of conv(kernel, width * 2^i) + BN + ReLU + 2x2 max pool ('valid'), flatten, dense. */
export interface ConvNasSpace {
  kind: 'conv';
  resolutions: number[];
  depths: number[];
  widths: number[];
  kernels: number[];
  numClasses: number;
  inputChannels: number;
}
/** MLP space on the flattened (resized) image: `depth` hidden ReLU layers of `width` units. */
export interface MlpNasSpace {
  kind: 'mlp';
  resolutions: number[];
  depths: number[];
  widths: number[];
  numClasses: number;
  inputChannels: number;
}
/** NAS agent space. */
export type NasSpace = MobileNetNasSpace | ConvNasSpace | MlpNasSpace;

/** Optimisers of the HPO agent (names of `LayerwiseTrainer`: `momentum` = SGD with momentum 0.9). */
export type HpoOptimizer = 'momentum' | 'adam';
/**
 * HPO agent: one grid per hyper-parameter. The learning-rate token indexes the grid of the chosen
 * optimiser (SGD and Adam need different scales), so both grids have the same length.
 */
export interface HpoSpace {
  optimizers: HpoOptimizer[];
  learningRates: Record<HpoOptimizer, number[]>;
  weightDecays: number[];
  batchSizes: number[];
  labelSmoothings: number[];
  mixupAlphas: number[];
  dropouts: number[];
}

/** A whole MA2ML search space (one agent per module). Plain JSON: copy, edit, validate with {@link parseSearchSpace}. */
export interface SearchSpace {
  name: string;
  aug: AugSpace;
  nas: NasSpace;
  hpo: HpoSpace;
}

/** A decoded MobileNetV2-style architecture. */
export interface MobileNetArch {
  kind: 'mobilenetv2';
  resolution: number;
  stages: { depth: number; kernel: number; expansion: number; width: number }[];
}
/** A decoded plain conv architecture. */
export interface ConvArch {
  kind: 'conv';
  resolution: number;
  depth: number;
  width: number;
  kernel: number;
}
/** A decoded MLP architecture. */
export interface MlpArch {
  kind: 'mlp';
  resolution: number;
  depth: number;
  width: number;
}
/** The NAS agent's decoded action. */
export type Architecture = MobileNetArch | ConvArch | MlpArch;

/** The HPO agent's decoded action. */
export interface HpoConfig {
  optimizer: HpoOptimizer;
  learningRate: number;
  weightDecay: number;
  batchSize: number;
  labelSmoothing: number;
  mixupAlpha: number;
  dropout: number;
}

/** One ML pipeline: the joint action of the three agents. */
export interface Pipeline {
  aug: AugPolicy;
  arch: Architecture;
  hpo: HpoConfig;
}

// ---------------------------------------------------------------- validation

const posInt = z.number().int().positive();
const uniqueNums = (item: z.ZodNumber) =>
  z
    .array(item)
    .min(1, 'needs at least one choice')
    .refine((a) => new Set(a).size === a.length, 'choices must be distinct');

const AugSpaceSchema = z
  .object({
    kind: z.literal('autoaugment'),
    subPolicies: posInt,
    ops: z
      .array(z.enum(AUG_OPS as unknown as [AugOpName, ...AugOpName[]]))
      .min(1, 'needs at least one choice')
      .refine((a) => new Set(a).size === a.length, 'choices must be distinct'),
    probabilities: uniqueNums(z.number().min(0).max(1)),
    levels: uniqueNums(
      z
        .number()
        .int()
        .min(0)
        .max(AUG_LEVELS - 1),
    ),
  })
  .strict();
const StageSchema = z
  .object({
    stride: posInt,
    filters: posInt,
    depths: uniqueNums(posInt),
    kernels: uniqueNums(posInt),
    expansions: uniqueNums(posInt),
    widths: uniqueNums(z.number().positive()),
  })
  .strict();
const NasSpaceSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('mobilenetv2'),
      resolutions: uniqueNums(posInt),
      stemFilters: posInt,
      headFilters: z.number().int().min(0),
      stages: z.array(StageSchema).min(1),
      numClasses: posInt,
      inputChannels: posInt,
    })
    .strict(),
  z
    .object({
      kind: z.literal('conv'),
      resolutions: uniqueNums(posInt),
      depths: uniqueNums(posInt),
      widths: uniqueNums(posInt),
      kernels: uniqueNums(posInt),
      numClasses: posInt,
      inputChannels: posInt,
    })
    .strict(),
  z
    .object({
      kind: z.literal('mlp'),
      resolutions: uniqueNums(posInt),
      depths: uniqueNums(z.number().int().min(0)),
      widths: uniqueNums(posInt),
      numClasses: posInt,
      inputChannels: posInt,
    })
    .strict(),
]);
const HpoSpaceSchema = z
  .object({
    optimizers: z
      .array(z.enum(['momentum', 'adam']))
      .min(1, 'needs at least one choice')
      .refine((a) => new Set(a).size === a.length, 'choices must be distinct'),
    learningRates: z
      .object({ momentum: uniqueNums(z.number().positive()), adam: uniqueNums(z.number().positive()) })
      .strict(),
    weightDecays: uniqueNums(z.number().min(0)),
    batchSizes: uniqueNums(posInt),
    labelSmoothings: uniqueNums(z.number().min(0).lt(1)),
    mixupAlphas: uniqueNums(z.number().min(0)),
    dropouts: uniqueNums(z.number().min(0).lt(1)),
  })
  .strict()
  .refine((h) => h.learningRates.momentum.length === h.learningRates.adam.length, {
    message:
      "learningRates.momentum and learningRates.adam must have the same length (the token indexes the chosen optimiser's grid)",
    path: ['learningRates'],
  });
const SearchSpaceSchema = z
  .object({ name: z.string().min(1), aug: AugSpaceSchema, nas: NasSpaceSchema, hpo: HpoSpaceSchema })
  .strict();

/**
 * Validates a search space (e.g. one edited in a notebook cell); throws an Error naming each bad
 * field (`Invalid search space: nas.stages.1.kernels: choices must be distinct`). Returns it unchanged.
 *
 * @example
 * ```ts
 * const space = quickSpace();
 * space.hpo.batchSizes = [64, 128];
 * parseSearchSpace(space);
 * ```
 */
export function parseSearchSpace(space: unknown): SearchSpace {
  parseConfig(SearchSpaceSchema, space, 'search space');
  return space as SearchSpace;
}

// ---------------------------------------------------------------- presets

const PROBS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
const LEVELS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

/**
 * AUG space: all 15 ops, probabilities 0..1 in steps of 0.1, levels 0..9, `subPolicies` sub-policies.
 *
 * @example
 * ```ts
 * augSpace(5).subPolicies; // 5
 * ```
 */
export function augSpace(subPolicies = 2): AugSpace {
  return { kind: 'autoaugment', subPolicies, ops: [...AUG_OPS], probabilities: PROBS.slice(), levels: LEVELS.slice() };
}

/**
 * The spec's MobileNetV2-style space (reconstruction of the paper's ImageNet space at 28x28):
 * 3x3 stem conv with 16 filters, 3 stages with strides 1, 2, 2 and base filters 16, 24, 32, per
 * stage depth {1, 2, 3}, kernel {3, 5}, expansion {1, 3, 6}, width {0.5, 0.75, 1}; 1x1 head conv
 * with 128 filters; global average pooling, dropout (from HPO), dense classifier; resolution
 * {20, 24, 28}. 3 * 54^3 = 472,392 architectures.
 *
 * @example
 * ```ts
 * mobileNetSpace().stages.length; // 3
 * ```
 */
export function mobileNetSpace(): MobileNetNasSpace {
  const stage = (stride: number, filters: number): MobileNetStageSpace => ({
    stride,
    filters,
    depths: [1, 2, 3],
    kernels: [3, 5],
    expansions: [1, 3, 6],
    widths: [0.5, 0.75, 1],
  });
  return {
    kind: 'mobilenetv2',
    resolutions: [20, 24, 28],
    stemFilters: 16,
    headFilters: 128,
    stages: [stage(1, 16), stage(2, 24), stage(2, 32)],
    numClasses: 10,
    inputChannels: 1,
  };
}

/**
 * Plain conv space for the `quick` preset: depth {1, 2, 3} blocks, first-block width {8, 16, 32}
 * (doubling per block), kernel {3, 5}, resolution {20, 24, 28}.
 *
 * @example
 * ```ts
 * convSpace().depths; // [1, 2, 3]
 * ```
 */
export function convSpace(): ConvNasSpace {
  return {
    kind: 'conv',
    resolutions: [20, 24, 28],
    depths: [1, 2, 3],
    widths: [8, 16, 32],
    kernels: [3, 5],
    numClasses: 10,
    inputChannels: 1,
  };
}

/**
 * MLP space for the `smoke` preset: depth {1, 2} hidden layers of width {64, 128, 256}, resolution {14, 28}.
 *
 * @example
 * ```ts
 * mlpSpace().widths; // [64, 128, 256]
 * ```
 */
export function mlpSpace(): MlpNasSpace {
  return {
    kind: 'mlp',
    resolutions: [14, 28],
    depths: [1, 2],
    widths: [64, 128, 256],
    numClasses: 10,
    inputChannels: 1,
  };
}

/**
 * HPO grids. `full`: optimiser {SGD-momentum 0.9, Adam}; learning rate SGD {0.01, 0.03, 0.1, 0.3} /
 * Adam {3e-4, 1e-3, 3e-3, 1e-2}; weight decay {0, 5e-5, 5e-4}; batch size {64, 128, 256}; label
 * smoothing {0, 0.1, 0.2}; mixup alpha {0, 0.2, 0.4} (0 = off); dropout {0, 0.1, 0.25} (1944
 * configurations). `smoke`: two choices each (batch size fixed at 128): 64 configurations.
 *
 * @example
 * ```ts
 * hpoSpace('smoke').batchSizes; // [128]
 * ```
 */
export function hpoSpace(size: 'smoke' | 'full' = 'full'): HpoSpace {
  if (size === 'smoke') {
    return {
      optimizers: ['momentum', 'adam'],
      learningRates: { momentum: [0.03, 0.1], adam: [1e-3, 3e-3] },
      weightDecays: [0, 5e-4],
      batchSizes: [128],
      labelSmoothings: [0, 0.1],
      mixupAlphas: [0, 0.2],
      dropouts: [0, 0.1],
    };
  }
  return {
    optimizers: ['momentum', 'adam'],
    learningRates: { momentum: [0.01, 0.03, 0.1, 0.3], adam: [3e-4, 1e-3, 3e-3, 1e-2] },
    weightDecays: [0, 5e-5, 5e-4],
    batchSizes: [64, 128, 256],
    labelSmoothings: [0, 0.1, 0.2],
    mixupAlphas: [0, 0.2, 0.4],
    dropouts: [0, 0.1, 0.25],
  };
}

/** Names of the built-in space presets: the compute presets (`PresetName`), each with its own space size. */
export type SpacePreset = PresetName;

/**
 * A fresh (editable) copy of a preset space: `smoke` = S 2 + MLP space + smoke HPO grids;
 * `quick` = S 2 + plain conv space + full HPO grids; `full` = S 5 + MobileNetV2-style space + full HPO grids.
 *
 * @example
 * ```ts
 * const space = presetSpace('full');
 * space.nas.resolutions = [28]; // edit in a notebook cell
 * parseSearchSpace(space);
 * ```
 */
export function presetSpace(preset: SpacePreset): SearchSpace {
  switch (preset) {
    case 'smoke':
      return { name: 'smoke', aug: augSpace(2), nas: mlpSpace(), hpo: hpoSpace('smoke') };
    case 'quick':
      return { name: 'quick', aug: augSpace(2), nas: convSpace(), hpo: hpoSpace('full') };
    case 'full':
      return { name: 'full', aug: augSpace(5), nas: mobileNetSpace(), hpo: hpoSpace('full') };
    default:
      throw new Error(`presetSpace: unknown preset ${JSON.stringify(preset)} (expected smoke, quick or full)`);
  }
}

// ---------------------------------------------------------------- architecture -> network spec

/**
 * The `src/nn` network spec of an architecture (input `[r, r, c]`, or `[r * r * c]` for the MLP;
 * the pipeline resizes images to r x r first, see `prepareInputs`). `dropout` (from the HPO agent)
 * goes before the classifier (after every hidden layer for the MLP). Throws an Error naming the
 * field when `arch` does not match `space`'s kind.
 *
 * @example
 * ```ts
 * const spec = architectureSpec({ kind: 'conv', resolution: 28, depth: 2, width: 16, kernel: 3 }, convSpace(), 0.1);
 * countFlops(spec).totalMacs;
 * ```
 */
export function architectureSpec(arch: Architecture, space: NasSpace, dropout = 0): SequentialSpec {
  if (arch.kind !== space.kind)
    throw new Error(
      `architectureSpec: architecture kind '${arch.kind}' does not match the NAS space kind '${space.kind}'`,
    );
  if (!(dropout >= 0 && dropout < 1)) throw new Error(`architectureSpec: dropout must be in [0, 1), got ${dropout}`);
  const r = arch.resolution;
  const c = space.inputChannels;
  const layers: LayerSpec[] = [];
  if (arch.kind === 'mlp') {
    for (let i = 0; i < arch.depth; i++) {
      layers.push({ type: 'dense', units: arch.width, activation: 'relu' });
      if (dropout > 0) layers.push({ type: 'dropout', rate: dropout });
    }
    layers.push({ type: 'dense', units: space.numClasses });
    return { inputShape: [r * r * c], layers };
  }
  if (arch.kind === 'conv') {
    for (let i = 0; i < arch.depth; i++) {
      layers.push(
        { type: 'conv2d', filters: arch.width * 2 ** i, kernel: arch.kernel, padding: 'same', bias: false },
        { type: 'batchNorm', activation: 'relu' },
        { type: 'maxPool', size: 2, stride: 2, padding: 'valid' },
      );
    }
    layers.push({ type: 'flatten' });
  } else {
    const s = space as MobileNetNasSpace;
    if (arch.stages.length !== s.stages.length)
      throw new Error(`architectureSpec: architecture has ${arch.stages.length} stages, the space ${s.stages.length}`);
    layers.push(
      { type: 'conv2d', filters: s.stemFilters, kernel: 3, stride: 1, padding: 'same', bias: false },
      { type: 'batchNorm', activation: 'relu6' },
    );
    arch.stages.forEach((st, i) => {
      const filters = makeDivisible(s.stages[i].filters * st.width);
      for (let d = 0; d < st.depth; d++) {
        layers.push({
          type: 'invertedResidual',
          filters,
          expansion: st.expansion,
          kernel: st.kernel,
          stride: d === 0 ? s.stages[i].stride : 1,
          activation: 'relu6',
        });
      }
    });
    if (s.headFilters > 0)
      layers.push(
        { type: 'conv2d', filters: s.headFilters, kernel: 1, bias: false },
        { type: 'batchNorm', activation: 'relu6' },
      );
    layers.push({ type: 'globalAvgPool' });
  }
  if (dropout > 0) layers.push({ type: 'dropout', rate: dropout });
  layers.push({ type: 'dense', units: space.numClasses });
  return { inputShape: [r, r, c], layers };
}

/**
 * The two FLOPs (MAC) budgets of a preset, mirroring the paper's 600M / 800M pair (ratio 3 : 4),
 * placed inside each space's MAC distribution (reconstruction; share of the architectures that
 * fit, by enumeration): `smoke` 45k / 60k (MLP: 33% / 58%), `quick` 600k / 800k (plain conv:
 * 48% / 54%), `full` 3M / 4M (MobileNetV2-style: 36% / 51%, from every 20th of the 472,392).
 * MACs per image, as `countFlops`.
 *
 * @example
 * ```ts
 * const [tight, loose] = flopsBudgets('full'); // [3e6, 4e6]
 * ```
 */
export function flopsBudgets(preset: SpacePreset): [number, number] {
  switch (preset) {
    case 'smoke':
      return [45e3, 60e3];
    case 'quick':
      return [600e3, 800e3];
    case 'full':
      return [3e6, 4e6];
    default:
      throw new Error(`flopsBudgets: unknown preset ${JSON.stringify(preset)} (expected smoke, quick or full)`);
  }
}
