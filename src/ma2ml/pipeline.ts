/**
 * Pipeline encoding for the MA2ML agents: token dimensions per agent, encode/decode between a
 * {@link Pipeline} and the per-agent token indices of `SingleStepLearner`, validity and the FLOPs
 * budget rule, sampling, space size, descriptions and cache keys.
 */
import { tf } from '../backend';
import type { Tensor } from '../backend';
import { ConfigError } from '../config';
import { countFlops } from '../nn';
import type { SequentialSpec } from '../nn';
import { Rng } from '../random';
import type { AugPolicy, SubPolicy } from './aug';
import { architectureSpec, parseSearchSpace } from './spaces';
import type { Architecture, HpoConfig, HpoOptimizer, NasSpace, Pipeline, SearchSpace } from './spaces';

/**
 * The three agents, in token order.
 *
 * @example
 * ```ts
 * const nasTokens = jointAction[AGENTS.indexOf('nas')];
 * ```
 */
export const AGENTS = ['aug', 'nas', 'hpo'] as const;
/** One agent's name. */
export type AgentName = (typeof AGENTS)[number];

/** One token of an agent's action: a name and its choices (the token value is an index into `choices`). */
export interface Dimension {
  name: string;
  choices: readonly (number | string)[];
}

/**
 * The token dimensions of each agent, in order. AUG: per sub-policy i and op j `sp{i}.op{j}`,
 * `sp{i}.prob{j}`, `sp{i}.level{j}`; NAS: `resolution` then the kind's fields (MobileNetV2: per
 * stage `stage{s}.depth/kernel/expansion/width`); HPO: `optimizer`, `learningRate` (choices are
 * indices into the chosen optimiser's grid), `weightDecay`, `batchSize`, `labelSmoothing`,
 * `mixupAlpha`, `dropout`.
 *
 * @example
 * ```ts
 * agentDimensions(presetSpace('quick')).nas.map((d) => d.name); // ['resolution', 'depth', 'width', 'kernel']
 * ```
 */
export function agentDimensions(space: SearchSpace): Record<AgentName, Dimension[]> {
  const aug: Dimension[] = [];
  for (let i = 0; i < space.aug.subPolicies; i++) {
    for (let j = 0; j < 2; j++) {
      aug.push(
        { name: `sp${i}.op${j}`, choices: space.aug.ops },
        { name: `sp${i}.prob${j}`, choices: space.aug.probabilities },
        { name: `sp${i}.level${j}`, choices: space.aug.levels },
      );
    }
  }
  const n = space.nas;
  const nas: Dimension[] = [{ name: 'resolution', choices: n.resolutions }];
  if (n.kind === 'mobilenetv2') {
    n.stages.forEach((s, i) => {
      nas.push(
        { name: `stage${i}.depth`, choices: s.depths },
        { name: `stage${i}.kernel`, choices: s.kernels },
        { name: `stage${i}.expansion`, choices: s.expansions },
        { name: `stage${i}.width`, choices: s.widths },
      );
    });
  } else if (n.kind === 'conv') {
    nas.push(
      { name: 'depth', choices: n.depths },
      { name: 'width', choices: n.widths },
      { name: 'kernel', choices: n.kernels },
    );
  } else {
    nas.push({ name: 'depth', choices: n.depths }, { name: 'width', choices: n.widths });
  }
  const h = space.hpo;
  const hpo: Dimension[] = [
    { name: 'optimizer', choices: h.optimizers },
    { name: 'learningRate', choices: h.learningRates.momentum.map((_, i) => i) },
    { name: 'weightDecay', choices: h.weightDecays },
    { name: 'batchSize', choices: h.batchSizes },
    { name: 'labelSmoothing', choices: h.labelSmoothings },
    { name: 'mixupAlpha', choices: h.mixupAlphas },
    { name: 'dropout', choices: h.dropouts },
  ];
  return { aug, nas, hpo };
}

/**
 * Token vocabulary sizes per agent (order aug, nas, hpo).
 *
 * @example
 * ```ts
 * vocabSizes(presetSpace('quick'))[0].length; // 12 AUG tokens (2 sub-policies x 2 ops x 3)
 * ```
 */
export function vocabSizes(space: SearchSpace): number[][] {
  parseSearchSpace(space);
  const dims = agentDimensions(space);
  return AGENTS.map((a) => dims[a].map((d) => d.choices.length));
}

/**
 * The `agents` field of a `SingleStepLearner` configuration for this space.
 *
 * @example
 * ```ts
 * const learner = new SingleStepLearner({ agents: learnerAgents(space), seed: 1 });
 * const pipelines = learner.propose(8).map((a) => decodePipeline(space, a));
 * ```
 */
export function learnerAgents(space: SearchSpace): { name: AgentName; vocab: number[] }[] {
  const v = vocabSizes(space);
  return AGENTS.map((name, i) => ({ name, vocab: v[i] }));
}

function indexOf(dim: Dimension, value: number | string, agent: string): number {
  const i = dim.choices.findIndex((c) =>
    typeof c === 'number' && typeof value === 'number'
      ? Math.abs(c - value) <= 1e-12 * Math.max(1, Math.abs(c))
      : c === value,
  );
  if (i < 0)
    throw new Error(
      `encodePipeline: ${agent}.${dim.name} = ${JSON.stringify(value)} is not one of the choices ${JSON.stringify(dim.choices)}`,
    );
  return i;
}

function archValues(arch: Architecture, nas: NasSpace): (number | string)[] {
  if (arch.kind !== nas.kind)
    throw new Error(`encodePipeline: architecture kind '${arch.kind}' does not match the NAS space kind '${nas.kind}'`);
  if (arch.kind === 'mobilenetv2') {
    if (nas.kind !== 'mobilenetv2' || arch.stages.length !== nas.stages.length) {
      throw new Error(
        `encodePipeline: architecture has ${arch.stages.length} stages, the space ${nas.kind === 'mobilenetv2' ? nas.stages.length : 0}`,
      );
    }
    return [arch.resolution, ...arch.stages.flatMap((s) => [s.depth, s.kernel, s.expansion, s.width])];
  }
  if (arch.kind === 'conv') return [arch.resolution, arch.depth, arch.width, arch.kernel];
  return [arch.resolution, arch.depth, arch.width];
}

/**
 * Encodes a pipeline as one token-index array per agent (a `SingleStepLearner` joint action).
 * Throws an Error naming the agent and dimension when a value is not one of the space's choices.
 *
 * @example
 * ```ts
 * const tokens = encodePipeline(space, pipeline); // [[...aug], [...nas], [...hpo]]
 * decodePipeline(space, tokens); // deep-equals pipeline
 * ```
 */
export function encodePipeline(space: SearchSpace, p: Pipeline): number[][] {
  const dims = agentDimensions(space);
  if (!Array.isArray(p.aug) || p.aug.length !== space.aug.subPolicies) {
    throw new Error(
      `encodePipeline: aug has ${Array.isArray(p.aug) ? p.aug.length : 'no'} sub-policies, the space ${space.aug.subPolicies}`,
    );
  }
  const augValues = p.aug.flatMap((sp) => sp.flatMap((o) => [o.op, o.prob, o.level]));
  const lrGrid = space.hpo.learningRates[p.hpo.optimizer];
  if (!lrGrid)
    throw new Error(
      `encodePipeline: hpo.optimizer = ${JSON.stringify(p.hpo.optimizer)} is not one of ${JSON.stringify(space.hpo.optimizers)}`,
    );
  const lrIndex = lrGrid.findIndex((v) => Math.abs(v - p.hpo.learningRate) <= 1e-12 * v);
  if (lrIndex < 0)
    throw new Error(
      `encodePipeline: hpo.learningRate = ${p.hpo.learningRate} is not in the ${p.hpo.optimizer} grid ${JSON.stringify(lrGrid)}`,
    );
  const h = p.hpo;
  const hpoValues = [h.optimizer, lrIndex, h.weightDecay, h.batchSize, h.labelSmoothing, h.mixupAlpha, h.dropout];
  const values: Record<AgentName, (number | string)[]> = {
    aug: augValues,
    nas: archValues(p.arch, space.nas),
    hpo: hpoValues,
  };
  return AGENTS.map((a) => {
    if (values[a].length !== dims[a].length)
      throw new Error(`encodePipeline: ${a} has ${values[a].length} values, the space ${dims[a].length} tokens`);
    return dims[a].map((d, i) => indexOf(d, values[a][i], a));
  });
}

/**
 * Decodes per-agent token indices (e.g. from `SingleStepLearner.propose`) into a pipeline.
 * Throws an Error naming the agent and token when the layout or an index is out of range.
 *
 * @example
 * ```ts
 * const p = decodePipeline(space, learner.propose(1)[0]);
 * describePipeline(p);
 * ```
 */
export function decodePipeline(space: SearchSpace, tokens: ArrayLike<number>[]): Pipeline {
  const dims = agentDimensions(space);
  if (tokens.length !== AGENTS.length)
    throw new Error(`decodePipeline: expected ${AGENTS.length} token arrays (aug, nas, hpo), got ${tokens.length}`);
  const v = AGENTS.map((a, ai) => {
    const t = tokens[ai];
    if (t.length !== dims[a].length)
      throw new Error(`decodePipeline: agent ${a} has ${t.length} tokens, the space ${dims[a].length}`);
    return dims[a].map((d, i) => {
      const k = t[i];
      if (!Number.isInteger(k) || k < 0 || k >= d.choices.length)
        throw new Error(`decodePipeline: ${a}.${d.name} token ${k} is out of range 0..${d.choices.length - 1}`);
      return d.choices[k];
    });
  });
  const [augV, nasV, hpoV] = v;
  const aug: AugPolicy = [];
  for (let i = 0; i < space.aug.subPolicies; i++) {
    const o = (j: number) => {
      const b = i * 6 + j * 3;
      return { op: augV[b] as SubPolicy[0]['op'], prob: augV[b + 1] as number, level: augV[b + 2] as number };
    };
    aug.push([o(0), o(1)]);
  }
  const n = space.nas;
  let arch: Architecture;
  if (n.kind === 'mobilenetv2') {
    arch = {
      kind: 'mobilenetv2',
      resolution: nasV[0] as number,
      stages: n.stages.map((_, s) => ({
        depth: nasV[1 + 4 * s] as number,
        kernel: nasV[2 + 4 * s] as number,
        expansion: nasV[3 + 4 * s] as number,
        width: nasV[4 + 4 * s] as number,
      })),
    };
  } else if (n.kind === 'conv') {
    arch = {
      kind: 'conv',
      resolution: nasV[0] as number,
      depth: nasV[1] as number,
      width: nasV[2] as number,
      kernel: nasV[3] as number,
    };
  } else {
    arch = { kind: 'mlp', resolution: nasV[0] as number, depth: nasV[1] as number, width: nasV[2] as number };
  }
  const optimizer = hpoV[0] as HpoOptimizer;
  const hpo: HpoConfig = {
    optimizer,
    learningRate: space.hpo.learningRates[optimizer][hpoV[1] as number],
    weightDecay: hpoV[2] as number,
    batchSize: hpoV[3] as number,
    labelSmoothing: hpoV[4] as number,
    mixupAlpha: hpoV[5] as number,
    dropout: hpoV[6] as number,
  };
  return { aug, arch, hpo };
}

/**
 * Uniform random token indices per agent (each token independently uniform over its choices).
 *
 * @example
 * ```ts
 * const tokens = sampleTokens(space, new Rng(0));
 * ```
 */
export function sampleTokens(space: SearchSpace, rng: Rng): number[][] {
  return vocabSizes(space).map((v) => v.map((k) => rng.int(k)));
}

/** Options of {@link samplePipeline}. */
export interface SampleOptions {
  /** Only return pipelines within this hard MAC budget (rejection sampling: the "masked at sampling" rule); implies `validOnly`. */
  flopsBudget?: number;
  /** Only return pipelines that pass {@link checkPipeline} (default false: plain uniform tokens). */
  validOnly?: boolean;
  /** Rejection-sampling attempts before giving up with an Error (default 1000). */
  maxTries?: number;
}

/**
 * A uniformly random pipeline (uniform over tokens; with `flopsBudget`, uniform over the valid
 * pipelines by rejection).
 *
 * @example
 * ```ts
 * const p = samplePipeline(presetSpace('full'), new Rng(3), { flopsBudget: 2e6 });
 * ```
 */
export function samplePipeline(space: SearchSpace, rng: Rng, options: SampleOptions = {}): Pipeline {
  const tries = options.maxTries ?? 1000;
  for (let t = 0; t < tries; t++) {
    const p = decodePipeline(space, sampleTokens(space, rng));
    if (options.flopsBudget === undefined && !options.validOnly) return p;
    if (checkPipeline(space, p, { flopsBudget: options.flopsBudget }).valid) return p;
  }
  throw new Error(`samplePipeline: no valid pipeline in ${tries} tries (flopsBudget ${options.flopsBudget})`);
}

/**
 * Number of pipelines in the space (product of all vocab sizes), exact as a bigint and as log10.
 *
 * @example
 * ```ts
 * spaceSize(presetSpace('full')).log10; // about 77
 * ```
 */
export function spaceSize(space: SearchSpace): { total: bigint; log10: number; perAgent: Record<AgentName, bigint> } {
  const v = vocabSizes(space);
  const per = v.map((a) => a.reduce((acc, k) => acc * BigInt(k), BigInt(1)));
  const total = per.reduce((a, b) => a * b, BigInt(1));
  const log10 = v.flat().reduce((acc, k) => acc + Math.log10(k), 0);
  return { total, log10, perAgent: { aug: per[0], nas: per[1], hpo: per[2] } };
}

/** Result of {@link checkPipeline}. */
export type PipelineCheck =
  | { valid: true; spec: SequentialSpec; macs: number; params: number }
  | { valid: false; reason: string; macs?: number; params?: number };

/**
 * Whether a pipeline's network can be built and is within a hard MAC budget — an outcome, never an
 * exception for shape problems: an architecture whose feature map collapses below 1 pixel at the
 * chosen resolution gives `{ valid: false, reason }` naming the layer and size; `macs > flopsBudget`
 * gives `{ valid: false, reason, macs, params }`. (Malformed input, such as a value outside the
 * space, still throws.) MACs are `countFlops` multiply-accumulates per image.
 *
 * @example
 * ```ts
 * const c = checkPipeline(space, p, { flopsBudget: 3e6 });
 * if (!c.valid) console.log(c.reason);
 * ```
 */
export function checkPipeline(space: SearchSpace, p: Pipeline, options: { flopsBudget?: number } = {}): PipelineCheck {
  const spec = architectureSpec(p.arch, space.nas, p.hpo.dropout);
  let counted;
  try {
    counted = countFlops(spec);
  } catch (e) {
    if (e instanceof ConfigError) throw e; // a malformed spec (e.g. 0 filters) is bad input, not an outcome
    return {
      valid: false,
      reason: `architecture does not fit resolution ${p.arch.resolution}: ${(e as Error).message}`,
    };
  }
  const macs = counted.totalMacs;
  const params = counted.totalParams;
  const b = options.flopsBudget;
  if (b !== undefined) {
    if (!(b > 0)) throw new Error(`checkPipeline: flopsBudget must be positive, got ${b}`);
    if (macs > b) return { valid: false, reason: `${macs} MACs exceed the hard budget of ${b}`, macs, params };
  }
  return { valid: true, spec, macs, params };
}

/** FLOPs budget rule: `hard` (over budget: reward 0) or `soft` (`acc * (F / B)^exponent` when F > B). */
export type BudgetRule = 'hard' | 'soft';

/**
 * The reward of a pipeline under a FLOPs (MAC) budget `B`: within budget the accuracy itself; over
 * budget `hard` gives 0 and `soft` gives `acc * (F / B)^exponent` (default exponent -0.07, the
 * MnasNet-style penalty of the spec).
 *
 * @example
 * ```ts
 * budgetReward(0.9, 2e6, 1e6, 'soft'); // 0.9 * 2^-0.07 = 0.8573
 * budgetReward(0.9, 2e6, 1e6, 'hard'); // 0
 * ```
 */
export function budgetReward(
  accuracy: number,
  macs: number,
  budget: number,
  rule: BudgetRule,
  exponent = -0.07,
): number {
  if (!Number.isFinite(accuracy)) throw new Error(`budgetReward: accuracy must be finite, got ${accuracy}`);
  if (!(macs >= 0)) throw new Error(`budgetReward: macs must be >= 0, got ${macs}`);
  if (!(budget > 0)) throw new Error(`budgetReward: budget must be positive, got ${budget}`);
  if (macs <= budget) return accuracy;
  if (rule === 'hard') return 0;
  if (rule === 'soft') return accuracy * Math.pow(macs / budget, exponent);
  throw new Error(`budgetReward: rule must be 'hard' or 'soft', got ${JSON.stringify(rule)}`);
}

const fmt = (v: number) => (v === 0 ? '0' : Math.abs(v) < 0.01 ? v.toExponential(0) : String(+v.toPrecision(3)));

function describeArch(a: Architecture): string {
  if (a.kind === 'mobilenetv2')
    return (
      `mbv2 r${a.resolution} ` +
      a.stages.map((s, i) => `s${i}(d${s.depth} k${s.kernel} e${s.expansion} w${s.width})`).join(' ')
    );
  if (a.kind === 'conv') return `conv r${a.resolution} d${a.depth} w${a.width} k${a.kernel}`;
  return `mlp r${a.resolution} d${a.depth} w${a.width}`;
}

/**
 * One human-readable line: `AUG [Rotate(p0.8,m5)+Equalize(p0.5,m0) | ...] NAS conv r28 d2 w16 k3 HPO adam lr=1e-3 wd=0 bs=128 ls=0.1 mix=0.2 do=0`.
 *
 * @example
 * ```ts
 * console.log(describePipeline(samplePipeline(space, new Rng(0))));
 * ```
 */
export function describePipeline(p: Pipeline): string {
  const aug = p.aug.map((sp) => sp.map((o) => `${o.op}(p${fmt(o.prob)},m${o.level})`).join('+')).join(' | ');
  const h = p.hpo;
  const hpo = `${h.optimizer} lr=${fmt(h.learningRate)} wd=${fmt(h.weightDecay)} bs=${h.batchSize} ls=${fmt(h.labelSmoothing)} mix=${fmt(h.mixupAlpha)} do=${fmt(h.dropout)}`;
  return `AUG [${aug}] NAS ${describeArch(p.arch)} HPO ${hpo}`;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * A stable cache key for a pipeline: canonical JSON (sorted keys), independent of property order
 * and of the search space it came from (equal pipelines from edited spaces share the key).
 *
 * @example
 * ```ts
 * pipelineKey(p) === pipelineKey(JSON.parse(JSON.stringify(p))); // true
 * ```
 */
export function pipelineKey(p: Pipeline): string {
  return canonical({ aug: p.aug, arch: p.arch, hpo: p.hpo });
}

/**
 * Model input for an architecture: images `[B, H, W, C]` resized to `r x r` (bilinear, half-pixel
 * centres as PyTorch's `align_corners=False`; unchanged when already r x r), flattened to
 * `[B, r * r * C]` for the MLP. Returns a new tensor; the input is not disposed.
 *
 * @example
 * ```ts
 * const input = prepareInputs(batch.x, { kind: 'conv', resolution: 20, depth: 2, width: 16, kernel: 3 }); // [B, 20, 20, 1]
 * ```
 */
export function prepareInputs(x: Tensor, arch: Architecture): Tensor {
  if (x.rank !== 4)
    throw new Error(
      `prepareInputs: expects images [batch, height, width, channels], got shape [${x.shape.join(', ')}]`,
    );
  const r = arch.resolution;
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const resized = h === r && w === r ? x.clone() : tf.image.resizeBilinear(x as tf.Tensor4D, [r, r], false, true);
    return arch.kind === 'mlp' ? resized.reshape([b, r * r * c]) : resized;
  });
}
