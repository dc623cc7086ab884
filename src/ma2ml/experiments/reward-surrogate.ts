/**
 * A surrogate of the REAL reward, fitted on the pipelines notebooks 21-22 already trained (issue 12,
 * deliverable 7): when searches of 200+ evaluations with real proxy training do not fit the time
 * budget, the learners are compared at that budget on a ridge model of the real validation reward
 * (one-hot tokens plus cross-agent token pairs, `RidgeCritic`) fitted on every evaluation of the
 * plan's evaluator in the experiment store, with its cross-validated R² reported next to every
 * result. Everything here is a statement about that model, not about real training: the notebook
 * labels it so.
 */
import { RidgeCritic } from '../../marl/singlestep';
import { Rng } from '../../random';
import { InlineExecutor } from '../../runtime/executor';
import { stableStringify } from '../../runtime/json';
import { defineJobKind } from '../../runtime/jobs';
import type { JobContext } from '../../runtime/jobs';
import type { ExperimentStore } from '../../runtime/store';
import { checkPipeline, encodePipeline, pipelineKey, vocabSizes } from '../pipeline';
import { runSearch } from '../search';
import type { SearchEvaluator } from '../search';
import type { Pipeline, SearchSpace } from '../spaces';
import { tunedActorLr } from '../strategies/learner';
import type { SearchMethod } from '../strategies';
import type { SearchRun } from './cells';
import { parsePlan, planEvaluator } from './plan';
import type { Ma2mlPlan } from './plan';

/** Evaluated pipelines of one evaluator: flat token rows and their observed rewards. */
export interface EvaluatedPipelines {
  /** Flat tokens `[n, numTokens]` (aug, nas, hpo tokens concatenated). */
  tokens: Int32Array;
  rewards: number[];
  /** Distinct pipelines (the store holds one run per pipeline and evaluator). */
  n: number;
}

/**
 * Every finished, valid evaluation of the plan's evaluator (`planEvaluator`: same proxy data,
 * epochs, evaluation seed and FLOPs fields) in the store's `ma2ml-evaluations` experiment.
 *
 * @example
 * ```ts
 * const data = evaluatedPipelines(ExperimentStore.open(), plan, space); // after notebooks 21-22
 * ```
 */
export function evaluatedPipelines(store: ExperimentStore, plan: Ma2mlPlan, space: SearchSpace): EvaluatedPipelines {
  const ev = planEvaluator(parsePlan(plan), space);
  // Stored configs went through stableStringify (sorted keys, tagged non-finite numbers): compare in that form.
  const want = stableStringify(ev.config);
  const T = vocabSizes(space).reduce((s, a) => s + a.length, 0);
  const rows: number[][] = [];
  const rewards: number[] = [];
  const seen = new Set<string>();
  const runs = store.listExperiments().some((e) => e.name === 'ma2ml-evaluations')
    ? store.listRuns('ma2ml-evaluations')
    : [];
  for (const r of runs) {
    if (r.status !== 'done' || r.kind !== ev.kind.name || r.seed !== ev.seed) continue;
    const { pipeline, ...rest } = r.config as { pipeline: Pipeline } & Record<string, unknown>;
    if (stableStringify(rest) !== want) continue;
    const res = r.result as { reward?: number; valid?: boolean };
    if (!res || res.valid === false || typeof res.reward !== 'number' || !Number.isFinite(res.reward)) continue;
    const key = pipelineKey(pipeline);
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push(encodePipeline(space, pipeline).flat());
    rewards.push(res.reward);
  }
  const tokens = new Int32Array(rows.length * T);
  rows.forEach((row, i) => tokens.set(row, i * T));
  return { tokens, rewards, n: rows.length };
}

/** A fitted surrogate of the real reward. */
export interface RewardSurrogate {
  model: RidgeCritic;
  /** Rows it was fitted on. */
  rows: number;
  /** K-fold cross-validated R² (1 - SSE / SST over the held-out folds, pooled). */
  cvR2: number;
  /** Ridge penalty. */
  lambda: number;
  /** Mean and sd of the fitted rewards. */
  mean: number;
  sd: number;
  /** Lowest and highest observed reward: predictions are clipped to this range (no extrapolation beyond what was measured). */
  min: number;
  max: number;
}

/**
 * Fits the ridge surrogate (one-hot tokens plus cross-agent pairs) on evaluated pipelines, after a
 * `folds`-fold cross-validation (seeded shuffle) that gives the R² reported with every result.
 * Throws naming the problem when there are fewer than `2 * folds` rows.
 *
 * @example
 * ```ts
 * const s = fitRewardSurrogate(evaluatedPipelines(store, plan, space), space);
 * s.cvR2; // how much of the real reward's variance the model predicts on pipelines it did not see
 * ```
 */
export function fitRewardSurrogate(
  data: EvaluatedPipelines,
  space: SearchSpace,
  options: { lambda?: number; folds?: number; seed?: number } = {},
): RewardSurrogate {
  const lambda = options.lambda ?? 1;
  const folds = options.folds ?? 5;
  const vocab = vocabSizes(space);
  const flatVocab = vocab.flat();
  const agentOf = vocab.flatMap((a, i) => a.map(() => i));
  const T = flatVocab.length;
  const n = data.n;
  if (n < 2 * folds)
    throw new Error(
      `fitRewardSurrogate: ${n} evaluated pipelines in the store, need at least ${2 * folds} (run notebooks 21-22 with this preset first)`,
    );
  const order = new Rng(options.seed ?? 0).fork('reward-surrogate-cv').permutation(n);
  const mean = data.rewards.reduce((s, x) => s + x, 0) / n;
  let sse = 0;
  let sst = 0;
  for (let f = 0; f < folds; f++) {
    const test = Array.from(order).filter((_, i) => i % folds === f);
    const train = Array.from(order).filter((_, i) => i % folds !== f);
    const pick = (idx: number[]) => {
      const t = new Int32Array(idx.length * T);
      idx.forEach((j, b) => t.set(data.tokens.subarray(j * T, (j + 1) * T), b * T));
      return t;
    };
    const m = new RidgeCritic(flatVocab, agentOf, { lambda, pairs: 'cross-agent' });
    m.fit(
      pick(train),
      train.map((j) => data.rewards[j]),
      train.length,
    );
    const trainMean = train.reduce((s, j) => s + data.rewards[j], 0) / train.length;
    const pred = m.predict(pick(test), test.length);
    test.forEach((j, b) => {
      sse += (data.rewards[j] - pred[b]) ** 2;
      sst += (data.rewards[j] - trainMean) ** 2;
    });
  }
  const model = new RidgeCritic(flatVocab, agentOf, { lambda, pairs: 'cross-agent' });
  model.fit(data.tokens, data.rewards, n);
  const sd = Math.sqrt(data.rewards.reduce((s, x) => s + (x - mean) ** 2, 0) / n);
  return {
    model,
    rows: n,
    cvR2: sst > 0 ? 1 - sse / sst : NaN,
    lambda,
    mean,
    sd,
    min: Math.min(...data.rewards),
    max: Math.max(...data.rewards),
  };
}

// ------------------------------------------------------------------ evaluator (inline only)

const models = new Map<string, RewardSurrogate>();
let nextModel = 0;

/** Configuration of one {@link rewardSurrogateKind} job. */
export interface RewardSurrogateJobConfig {
  /** Id of a surrogate registered in this process by {@link rewardSurrogateEvaluator}. */
  modelId: string;
  space: SearchSpace;
  pipeline: Pipeline;
  /** Observation noise sd; the draw is fixed per pipeline (like a real evaluation with a fixed seed). */
  noiseSd: number;
  noiseSeed: number;
  /** FLOPs budget: a pipeline over it (or invalid) scores 0, as with the `hard` rule of real evaluations. */
  flopsBudget: number;
}

/**
 * Work function of {@link rewardSurrogateKind}: the surrogate's prediction plus the pipeline's
 * fixed noise draw, clipped to [0, 1].
 */
export function rewardSurrogateJob(
  config: RewardSurrogateJobConfig,
  _ctx: JobContext,
): { reward: number; value: number; valid: boolean } {
  const s = models.get(config.modelId);
  if (!s)
    throw new Error(
      `rewardSurrogateJob: no surrogate '${config.modelId}' in this process (the surrogate evaluator runs inline only)`,
    );
  if (!checkPipeline(config.space, config.pipeline, { flopsBudget: config.flopsBudget }).valid)
    return { reward: 0, value: 0, valid: false };
  const value = surrogateValue(s, encodePipeline(config.space, config.pipeline));
  const noise =
    config.noiseSd > 0 ? config.noiseSd * new Rng(config.noiseSeed).fork(pipelineKey(config.pipeline)).normal() : 0;
  return { reward: Math.min(1, Math.max(0, value + noise)), value, valid: true };
}

/** Job kind of the real-reward surrogate (inline executor only: the model lives in this process). */
export const rewardSurrogateKind = defineJobKind({
  name: 'ma2ml-reward-surrogate',
  module: __filename,
  export: 'rewardSurrogateJob',
  version: 'ma2ml-reward-surrogate@1',
  fn: rewardSurrogateJob,
});

/**
 * A search evaluator that scores pipelines with a fitted surrogate (registered in this process).
 *
 * @example
 * ```ts
 * const ev = rewardSurrogateEvaluator(surrogate, space, { noiseSd: 0.02 });
 * await runSearch({ method: 'ma2ml', space, evaluations: 200, evaluator: ev, flops: { budget: 6e5, rule: 'hard-mask' } });
 * ```
 */
export function rewardSurrogateEvaluator(
  surrogate: RewardSurrogate,
  space: SearchSpace,
  options: { noiseSd: number; flopsBudget: number; noiseSeed?: number },
): SearchEvaluator {
  if (!(options.noiseSd >= 0))
    throw new Error(`rewardSurrogateEvaluator: noiseSd must be >= 0, got ${options.noiseSd}`);
  if (!(options.flopsBudget > 0))
    throw new Error(`rewardSurrogateEvaluator: flopsBudget must be positive, got ${options.flopsBudget}`);
  const modelId = `reward-surrogate-${nextModel++}`;
  models.set(modelId, surrogate);
  return {
    kind: rewardSurrogateKind,
    config: {
      modelId,
      space,
      noiseSd: options.noiseSd,
      noiseSeed: options.noiseSeed ?? 0,
      flopsBudget: options.flopsBudget,
    },
    seed: 0,
    flops: { budget: options.flopsBudget, rule: 'hard' },
  };
}

/**
 * The surrogate's noiseless value of a pipeline given as per-agent tokens, clipped to the range of
 * the observed rewards (a ridge model with pair features extrapolates far above anything measured
 * in corners no search visited; the searches would otherwise optimise that error).
 */
export function surrogateValue(surrogate: RewardSurrogate, tokens: readonly (readonly number[])[]): number {
  const v = surrogate.model.predict(Int32Array.from(tokens.flat()), 1)[0];
  return Math.min(surrogate.max, Math.max(surrogate.min, v));
}

/**
 * Searches of every method and seed on the surrogate, at the plan's tight FLOPs budget (rule `hard`:
 * an over-budget proposal is evaluated and scores 0) and batch size, with the actor learning rates tuned for `evaluations`
 * (`tunedActorLr`). Each run's `result.best` is the best OBSERVED pipeline; score it with
 * {@link surrogateValue}.
 *
 * @example
 * ```ts
 * const runs = await runRewardSurrogateSearches(plan, space, surrogate, { evaluations: 200, seeds: [0, 1, 2], methods: ['ma2ml', 'random'], noiseSd: 0.02 });
 * ```
 */
export async function runRewardSurrogateSearches(
  plan: Ma2mlPlan,
  space: SearchSpace,
  surrogate: RewardSurrogate,
  options: { evaluations: number; seeds: readonly number[]; methods: readonly SearchMethod[]; noiseSd: number },
): Promise<SearchRun[]> {
  const p = parsePlan(plan);
  // Rule 'hard' (an over-budget pipeline is evaluated and scores 0), not the real plans' 'hard-mask':
  // over 200 evaluations a learner fed only feasible pipelines can drift to where nothing fits the
  // budget, and masking then finds no proposal to evaluate.
  const flops = { budget: p.flops[p.ablations.budgetIndex].budget, rule: 'hard' as const };
  const evaluator = rewardSurrogateEvaluator(surrogate, space, { noiseSd: options.noiseSd, flopsBudget: flops.budget });
  const executor = new InlineExecutor();
  const runs: SearchRun[] = [];
  try {
    for (const method of options.methods) {
      for (const seed of options.seeds) {
        const lr = tunedActorLr(method === 'sequential' ? 'independent' : method, options.evaluations);
        const result = await runSearch({
          method,
          space,
          evaluations: options.evaluations,
          batchSize: p.batchSize,
          seed,
          evaluator,
          executor,
          learner: lr === undefined ? undefined : { actorLr: lr },
        });
        runs.push({ cell: { method, flops, seed }, label: method, result });
      }
    }
  } finally {
    await executor.close();
    models.delete(evaluator.config.modelId as string);
  }
  return runs;
}
