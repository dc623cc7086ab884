/**
 * Notebook 20's walk through a search space before any search runs, as library functions: the
 * agents' token dimensions, sampled pipelines with their MACs and validity, the AUG ops and
 * policies on images, the MAC distribution of the NAS space against the budgets, and one pipeline
 * evaluated under both budgets and both rules over several training seeds.
 */
import { tf } from '../../backend';
import type { Rng } from '../../random';
import { applyOp, augmentBatch } from '../aug';
import type { AugOpName, AugPolicy } from '../aug';
import { evaluatePipeline } from '../evaluate';
import type { EvalDataConfig, PipelineEvaluation } from '../evaluate';
import {
  AGENTS,
  agentDimensions,
  budgetReward,
  checkPipeline,
  describePipeline,
  samplePipeline,
  spaceSize,
} from '../pipeline';
import type { Pipeline, SearchSpace } from '../spaces';

/**
 * One row per token dimension of every agent (AUG: one op slot stands for all 2 x S slots, named
 * `sp*.…*`): agent, token name, number of choices and the choices.
 *
 * @example
 * ```ts
 * showTable(tokenSpaceRows(presetSpace('quick')), { name: 'token-space' });
 * ```
 */
export function tokenSpaceRows(
  space: SearchSpace,
): { agent: string; token: string; '#choices': number; 'choice values': string }[] {
  const dims = agentDimensions(space);
  return AGENTS.flatMap((agent) =>
    dims[agent]
      .filter((_, i) => agent !== 'aug' || i < 3)
      .map((d) => ({
        agent,
        token: agent === 'aug' ? d.name.replace('sp0.', 'sp*.').replace(/0$/, '*') : d.name,
        '#choices': d.choices.length,
        'choice values': d.choices.map(String).join(', '),
      })),
  );
}

/**
 * One line per agent with its token count, and the space sizes (per agent and joint, log10).
 *
 * @example
 * ```ts
 * spaceSummaryLines(presetSpace('smoke')); // ['tokens per agent: aug 12, nas 3, hpo 7', 'pipelines: aug ..., joint 10^...']
 * ```
 */
export function spaceSummaryLines(space: SearchSpace): string[] {
  const dims = agentDimensions(space);
  const size = spaceSize(space);
  return [
    `tokens per agent: ${AGENTS.map((a) => `${a} ${dims[a].length}`).join(', ')}`,
    `pipelines: aug ${size.perAgent.aug}, nas ${size.perAgent.nas}, hpo ${size.perAgent.hpo}; joint 10^${size.log10.toFixed(1)}`,
  ];
}

/**
 * A table of sampled pipelines: description, MACs, parameters and whether each budget's hard rule
 * lets it be trained.
 *
 * @example
 * ```ts
 * const rows = sampledPipelineRows(space, samples, flopsBudgets('quick'));
 * ```
 */
export function sampledPipelineRows(
  space: SearchSpace,
  samples: readonly Pipeline[],
  budgets: readonly number[],
): Record<string, string | number>[] {
  return samples.map((p, i) => {
    const c = checkPipeline(space, p);
    const macs = c.macs ?? NaN;
    const row: Record<string, string | number> = {
      '#': i + 1,
      pipeline: describePipeline(p),
      MACs: macs,
      params: c.params ?? NaN,
    };
    for (const b of budgets) row[`valid @ ${b}`] = c.valid && macs <= b ? 'yes' : 'no';
    return row;
  });
}

/** Pixels of `[n, h, w, 1]` images as `n` arrays of `h * w`. */
function split(t: tf.Tensor, n: number): Float32Array[] {
  const px = t.dataSync() as Float32Array;
  const size = px.length / n;
  return Array.from({ length: n }, (_, i) => Float32Array.from(px.subarray(i * size, (i + 1) * size)));
}

/**
 * Each op at each magnitude level on one image (`pixels`: `height * width` values in [0, 1]),
 * signed ops with a positive sign: one row of tiles per op. No tensors are kept.
 *
 * @example
 * ```ts
 * const tiles = augOpGallery(pick(3), 28, 28, ['Rotate', 'Cutout'], [0, 3, 6, 9]); // tiles[op][level]
 * ```
 */
export function augOpGallery(
  pixels: Float32Array,
  height: number,
  width: number,
  ops: readonly AugOpName[],
  levels: readonly number[],
  center: [number, number] = [Math.floor(height / 2) - 2, Math.floor(width / 2) - 2],
): Float32Array[][] {
  if (pixels.length !== height * width)
    throw new Error(`augOpGallery: expected ${height * width} pixels (${height} x ${width}), got ${pixels.length}`);
  const image = tf.tensor4d(pixels, [1, height, width, 1]);
  try {
    return ops.map((op) =>
      levels.map((level) => {
        const out = applyOp(image, op, level, { sign: 1, center });
        try {
          return split(out, 1)[0];
        } finally {
          out.dispose();
        }
      }),
    );
  } finally {
    image.dispose();
  }
}

/**
 * Whole AUG policies applied to the same images (`images`: `n * height * width` pixels): the first
 * row is the originals, then one row per policy (each image draws one sub-policy; each op fires with
 * its probability, as in training; draws from `rng`). No tensors are kept.
 *
 * @example
 * ```ts
 * const rows = augPolicyTiles(six, 6, 28, 28, samples.slice(0, 3).map((p) => p.aug), new Rng(7));
 * ```
 */
export function augPolicyTiles(
  images: Float32Array,
  n: number,
  height: number,
  width: number,
  policies: readonly AugPolicy[],
  rng: Rng,
): Float32Array[][] {
  if (images.length !== n * height * width)
    throw new Error(
      `augPolicyTiles: expected ${n * height * width} pixels (${n} x ${height} x ${width}), got ${images.length}`,
    );
  const x = tf.tensor4d(images, [n, height, width, 1]);
  try {
    const rows = [split(x, n)];
    for (const policy of policies) {
      const out = augmentBatch(x, policy, rng);
      try {
        rows.push(split(out, n));
      } finally {
        out.dispose();
      }
    }
    return rows;
  } finally {
    x.dispose();
  }
}

/**
 * MACs per image of the NAS space's architectures, each at its own input resolution (dropout off):
 * every distinct architecture when the space has at most `max`, else a uniform sample of `max`.
 *
 * @example
 * ```ts
 * const macs = nasMacSample(presetSpace('quick'), new Rng(11)); // 54 values
 * shareWithin(macs, flopsBudgets('quick')[0]);
 * ```
 */
export function nasMacSample(space: SearchSpace, rng: Rng, max = 3000): number[] {
  const nasCount = Number(spaceSize(space).perAgent.nas);
  const want = Math.min(nasCount, max);
  const macs: number[] = [];
  const seen = new Set<string>();
  for (let tries = 0; macs.length < want && tries < 20 * want; tries++) {
    const p = samplePipeline(space, rng);
    const key = JSON.stringify(p.arch);
    if (nasCount <= max && seen.has(key)) continue; // small spaces: each distinct architecture once
    seen.add(key);
    const c = checkPipeline(space, { ...p, hpo: { ...p.hpo, dropout: 0 } });
    if (c.macs !== undefined) macs.push(c.macs);
  }
  return macs;
}

/**
 * The share of `macs` at most `budget`.
 *
 * @example
 * ```ts
 * shareWithin([1, 2, 3, 4], 2); // 0.5
 * ```
 */
export function shareWithin(macs: readonly number[], budget: number): number {
  return macs.length ? macs.filter((m) => m <= budget).length / macs.length : NaN;
}

/**
 * The first sample whose MACs lie between the two budgets (so the hard rules disagree on it), else
 * the first valid one, else the first.
 *
 * @example
 * ```ts
 * const chosen = pipelineBetweenBudgets(space, samples, tight, loose);
 * ```
 */
export function pipelineBetweenBudgets(
  space: SearchSpace,
  samples: readonly Pipeline[],
  tight: number,
  loose: number,
): Pipeline {
  if (!samples.length) throw new Error('pipelineBetweenBudgets: no samples');
  const between = samples.find((p) => {
    const c = checkPipeline(space, p);
    return c.valid && c.macs > tight && c.macs <= loose;
  });
  return between ?? samples.find((p) => checkPipeline(space, p).valid) ?? samples[0];
}

/** Options of {@link evaluateUnderBudgets}. */
export interface EvaluateUnderBudgetsOptions {
  space: SearchSpace;
  data: EvalDataConfig;
  epochs: number;
  /** Training seeds (one proxy training each). */
  seeds: readonly number[];
  /** Named budgets, e.g. `[{ name: 'tight', budget: 45e3 }, { name: 'loose', budget: 60e3 }]`; the last is the one trained under (soft). */
  budgets: readonly { name: string; budget: number }[];
}

/** What {@link evaluateUnderBudgets} returns. */
export interface BudgetRuleEvaluation {
  /** One row per (seed, budget, rule): trained?, validation accuracy, reward, MACs, seconds of the seed's training, note. */
  rows: Record<string, string | number>[];
  /** The trained evaluation of each seed (soft rule, last budget). */
  trained: PipelineEvaluation[];
  /** Wall seconds of each seed's proxy training (measured here: timings are not part of results). */
  trainSeconds: number[];
  /** Validation accuracy over seeds: mean and sample standard deviation (the reward noise). */
  meanAccuracy: number;
  sdAccuracy: number;
}

/**
 * One pipeline under every (budget, rule) pair over several training seeds. The training does not
 * depend on the budget, so each seed trains once (soft rule, last budget) and every cell reuses it
 * through `budgetReward`; a hard budget the pipeline exceeds is a separate call that does not train.
 *
 * @example
 * ```ts
 * const r = evaluateUnderBudgets(chosen, { space, ...evaluationDefaults('smoke'), seeds: [0, 1], budgets: [{ name: 'tight', budget: 45e3 }, { name: 'loose', budget: 60e3 }] });
 * showTable(r.rows, { name: 'one-evaluation' }); r.meanAccuracy; r.sdAccuracy;
 * ```
 */
export function evaluateUnderBudgets(pipeline: Pipeline, options: EvaluateUnderBudgetsOptions): BudgetRuleEvaluation {
  const { space, data, epochs, seeds, budgets } = options;
  if (!budgets.length) throw new Error('evaluateUnderBudgets: no budgets');
  if (!seeds.length) throw new Error('evaluateUnderBudgets: no seeds');
  const trainBudget = budgets[budgets.length - 1].budget;
  const rows: Record<string, string | number>[] = [];
  const trained: PipelineEvaluation[] = [];
  const trainSeconds: number[] = [];
  for (const seed of seeds) {
    const t0 = Date.now();
    const t = evaluatePipeline(pipeline, { space, data, epochs, seed, flopsBudget: trainBudget, budgetRule: 'soft' });
    const seconds = (Date.now() - t0) / 1000;
    trained.push(t);
    trainSeconds.push(seconds);
    const macs = t.macs ?? NaN;
    for (const { name, budget } of budgets) {
      for (const rule of ['hard', 'soft'] as const) {
        const over = rule === 'hard' && macs > budget;
        const r: PipelineEvaluation =
          t.valid && !t.diverged && !over
            ? { ...t, reward: budgetReward(t.valAccuracy as number, macs, budget, rule) }
            : over
              ? evaluatePipeline(pipeline, { space, data, epochs, seed, flopsBudget: budget, budgetRule: 'hard' })
              : t;
        rows.push({
          seed,
          budget: `${name} (${budget})`,
          rule,
          trained: r.valid ? 'yes' : 'no',
          'val accuracy': r.valAccuracy === null ? '-' : r.valAccuracy.toFixed(3),
          reward: r.reward.toFixed(3),
          MACs: r.macs ?? NaN,
          'train s': r.valid ? seconds.toFixed(2) : '-',
          note: r.reason ?? '',
        });
      }
    }
  }
  const accs = trained.map((r) => r.valAccuracy ?? 0);
  const meanAccuracy = accs.reduce((a, b) => a + b, 0) / accs.length;
  const sdAccuracy = Math.sqrt(accs.reduce((a, b) => a + (b - meanAccuracy) ** 2, 0) / Math.max(1, accs.length - 1));
  return { rows, trained, trainSeconds, meanAccuracy, sdAccuracy };
}
