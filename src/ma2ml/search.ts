/**
 * MA2ML search driver: one loop for every method of the spec (full MA2ML, MA2ML-Lite, MA2ML
 * without credit assignment, independent agents, single-agent RL over the joint token sequence,
 * sequential module search, random search), each proposed batch evaluated in parallel through a
 * runtime executor with results cached in the experiment store (so repeated pipelines reuse their
 * reward and an interrupted search resumes), plus a synthetic reward for tests and demos.
 */
import { parseConfig, z } from '../config';
import { SingleStepLearner } from '../marl/singlestep';
import type { JointAction, SingleStepConfigInput } from '../marl/singlestep';
import type { ProgressSink } from '../progress';
import { Rng } from '../random';
import { InlineExecutor } from '../runtime/executor';
import type { Executor } from '../runtime/executor';
import { runExperiment } from '../runtime/experiment';
import { defineJobKind, runHash } from '../runtime/jobs';
import type { Job, JobContext, JobKind } from '../runtime/jobs';
import type { JsonValue } from '../runtime/json';
import { ExperimentStore } from '../runtime/store';
import { evaluationDefaults, evaluationKind } from './evaluate';
import type { EvalDataConfig } from './evaluate';
import { AGENTS, budgetReward, checkPipeline, decodePipeline, encodePipeline, learnerAgents, pipelineKey, sampleTokens, vocabSizes } from './pipeline';
import type { AgentName, BudgetRule } from './pipeline';
import { parseSearchSpace } from './spaces';
import type { Pipeline, SearchSpace } from './spaces';

/** The search methods of the spec. */
export const SEARCH_METHODS = ['ma2ml', 'ma2ml-lite', 'ma2ml-no-credit', 'independent', 'single-agent', 'sequential', 'random'] as const;
/** One search method. */
export type SearchMethod = (typeof SEARCH_METHODS)[number];

/**
 * The `SingleStepLearner` switches of each learning method (`random` and `sequential` have their
 * own loops; `sequential` runs `independent`'s learner on one agent at a time):
 * - `ma2ml`: counterfactual credit (centralised critic), off-policy replay, target policies w = 0.1, tau = 0.01;
 * - `ma2ml-lite`: on-policy REINFORCE with the counterfactual advantage (the critic takes 8 regression steps on the replay per batch);
 * - `ma2ml-no-credit`: replay and target policies, shared reward minus a moving baseline;
 * - `independent`: on-policy REINFORCE per agent on the shared reward (moving baseline);
 * - `single-agent`: one REINFORCE agent over the joint token sequence (moving baseline) with an
 *   autoregressive policy (a GRU over all tokens, Adam lr 0.01), so it can correlate tokens across
 *   modules; with factorised logits it would make exactly `independent`'s updates.
 *
 * @example
 * ```ts
 * new SingleStepLearner({ agents: learnerAgents(space), seed: 1, ...METHOD_CONFIGS['ma2ml-lite'] });
 * ```
 */
export const METHOD_CONFIGS: Readonly<Record<Exclude<SearchMethod, 'random' | 'sequential'>, Partial<SingleStepConfigInput>>> = Object.freeze({
  ma2ml: { credit: 'counterfactual', offPolicy: true, divergenceWeight: 0.1, tau: 0.01 },
  'ma2ml-lite': { credit: 'counterfactual', offPolicy: false, divergenceWeight: 0, criticSteps: 8 },
  'ma2ml-no-credit': { credit: 'shared', offPolicy: true, divergenceWeight: 0.1, tau: 0.01 },
  independent: { credit: 'shared', offPolicy: false, divergenceWeight: 0 },
  'single-agent': { credit: 'shared', offPolicy: false, divergenceWeight: 0, jointAgent: true, policy: 'autoregressive', actorLr: 0.01 },
});

// ------------------------------------------------------------------ synthetic reward

/**
 * A cheap synthetic reward in [0, 1] of a pipeline's tokens, for tests and demos (no training):
 * `0.7 * additive + 0.3 * interaction`. Additive: mean over all tokens of a per-token utility
 * (one random best value per token scores 1, the others uniform in [0, 0.5]). Interaction: three
 * cross-agent token pairs (aug-nas, nas-hpo, hpo-aug), each scoring 1 when both tokens take a
 * random target pair of values, else 0. All tables are drawn from `seed`; the optimum is 1. An
 * optional FLOPs budget applies `budgetReward` to the pipeline's MACs.
 *
 * @example
 * ```ts
 * syntheticReward(space, pipeline, { seed: 7 }); // in [0, 1]
 * ```
 */
export function syntheticReward(space: SearchSpace, pipeline: Pipeline, options: { seed: number; flopsBudget?: number; budgetRule?: BudgetRule }): number {
  const tokens = encodePipeline(space, pipeline);
  const t = syntheticRewardTables(space, options.seed);
  let sum = 0;
  t.utilities.forEach((agent, a) => agent.forEach((util, k) => (sum += util[tokens[a][k]])));
  let inter = 0;
  for (const q of t.pairs) if (tokens[q.agents[0]][q.tokens[0]] === q.values[0] && tokens[q.agents[1]][q.tokens[1]] === q.values[1]) inter++;
  const r = (0.7 * sum) / t.numTokens + (0.3 * inter) / t.pairs.length;
  if (options.flopsBudget === undefined) return r;
  const check = checkPipeline(space, pipeline);
  if (!check.valid) return 0;
  return budgetReward(r, check.macs, options.flopsBudget, options.budgetRule ?? 'hard');
}

/** The tables behind {@link syntheticReward} (per-token utilities and the three interaction pairs). */
export interface SyntheticRewardTables {
  /** `utilities[agent][token][value]`: 1 for the token's best value, uniform in [0, 0.5] otherwise. */
  utilities: number[][][];
  /** Cross-agent pairs: the bonus is earned when `tokens[agents[0]][tokens[0]] === values[0]` and likewise for index 1. */
  pairs: { agents: [number, number]; tokens: [number, number]; values: [number, number] }[];
  numTokens: number;
}

/**
 * The reward tables of {@link syntheticReward} for a space and seed (same draws, so
 * `syntheticReward` and {@link syntheticExpectedReward} agree exactly).
 *
 * @example
 * ```ts
 * const t = syntheticRewardTables(presetSpace('smoke'), 7);
 * t.pairs.length; // 3
 * ```
 */
export function syntheticRewardTables(space: SearchSpace, seed: number): SyntheticRewardTables {
  const vocab = vocabSizes(space);
  const cacheKey = `${seed}|${JSON.stringify(vocab)}`;
  const hit = tableCache.get(cacheKey);
  if (hit) return hit;
  const tables = drawTables(vocab, seed);
  if (tableCache.size > 64) tableCache.clear();
  tableCache.set(cacheKey, tables);
  return tables;
}

const tableCache = new Map<string, SyntheticRewardTables>();

function drawTables(vocab: number[][], seed: number): SyntheticRewardTables {
  const rng = new Rng(seed).fork('ma2ml-synthetic');
  let numTokens = 0;
  const utilities = vocab.map((agent) =>
    agent.map((v) => {
      const best = rng.int(v);
      numTokens++;
      return Array.from({ length: v }, (_, k) => (k === best ? 1 : rng.uniform(0, 0.5)));
    }),
  );
  const pairs: SyntheticRewardTables['pairs'] = [];
  for (const [a, b] of [
    [0, 1],
    [1, 2],
    [2, 0],
  ] as [number, number][]) {
    const ta = rng.int(vocab[a].length);
    const tb = rng.int(vocab[b].length);
    const va = rng.int(vocab[a][ta]);
    const vb = rng.int(vocab[b][tb]);
    pairs.push({ agents: [a, b], tokens: [ta, tb], values: [va, vb] });
  }
  return { utilities, pairs, numTokens };
}

/**
 * The exact expected {@link syntheticReward} (no FLOPs budget) of a factorised policy: token
 * probabilities `probs[agent][token][value]` (as `SingleStepLearner.probabilities()` returns).
 * Exact because the reward is linear in per-token utilities plus pair indicators of tokens of
 * different agents, which are independent under a factorised policy. Used by the monotonic
 * improvement check (no sampling noise).
 *
 * @example
 * ```ts
 * const J = syntheticExpectedReward(space, 7, learner.probabilities()); // in [0, 1]
 * ```
 */
export function syntheticExpectedReward(space: SearchSpace, seed: number, probs: ArrayLike<number>[][]): number {
  const t = syntheticRewardTables(space, seed);
  if (!Array.isArray(probs) || probs.length !== t.utilities.length) throw new Error(`syntheticExpectedReward: probs must have ${t.utilities.length} agents (aug, nas, hpo), got ${Array.isArray(probs) ? probs.length : typeof probs}`);
  let sum = 0;
  t.utilities.forEach((agent, a) => {
    if (!Array.isArray(probs[a]) || probs[a].length !== agent.length) throw new Error(`syntheticExpectedReward: probs[${a}] must have ${agent.length} tokens, got ${Array.isArray(probs[a]) ? probs[a].length : typeof probs[a]}`);
    agent.forEach((util, k) => {
      const p = probs[a][k];
      if (!p || p.length !== util.length) throw new Error(`syntheticExpectedReward: probs[${a}][${k}] must have ${util.length} values, got ${p ? p.length : 'none'}`);
      for (let v = 0; v < util.length; v++) sum += p[v] * util[v];
    });
  });
  let inter = 0;
  for (const q of t.pairs) inter += probs[q.agents[0]][q.tokens[0]][q.values[0]] * probs[q.agents[1]][q.tokens[1]][q.values[1]];
  return (0.7 * sum) / t.numTokens + (0.3 * inter) / t.pairs.length;
}

/** Configuration of one {@link syntheticEvaluationKind} job. */
export interface SyntheticJobConfig {
  pipeline: Pipeline;
  space: SearchSpace;
  /** Seed of the reward tables (the function being optimised). */
  rewardSeed: number;
  flopsBudget?: number;
  budgetRule?: BudgetRule;
}

/**
 * Work function of {@link syntheticEvaluationKind}: `{ reward: syntheticReward(...) }`.
 *
 * @example
 * ```ts
 * syntheticEvaluationJob({ pipeline: p, space, rewardSeed: 7 }, ctx).reward;
 * ```
 */
export function syntheticEvaluationJob(config: SyntheticJobConfig, _ctx: JobContext): { reward: number; valid: boolean } {
  const reward = syntheticReward(config.space, config.pipeline, { seed: config.rewardSeed, flopsBudget: config.flopsBudget, budgetRule: config.budgetRule });
  return { reward, valid: true };
}

/**
 * Job kind of the synthetic reward (runs through executors and the store like real evaluations).
 *
 * @example
 * ```ts
 * await runSearch({ method: 'ma2ml', space, evaluations: 200, batchSize: 8, seed: 0, evaluator: syntheticEvaluator(space, 7) });
 * ```
 */
export const syntheticEvaluationKind = defineJobKind({ name: 'ma2ml-synthetic', module: __filename, export: 'syntheticEvaluationJob', version: 'ma2ml-synthetic@1', fn: syntheticEvaluationJob });

// ------------------------------------------------------------------ evaluators

/**
 * What evaluates a pipeline: a job kind, the configuration shared by all its jobs (the job config
 * is `{ ...config, pipeline }`, the job key `pipelineKey(pipeline)`), and the evaluation seed. The
 * job's result must hold a finite `reward`.
 */
export interface SearchEvaluator {
  kind: JobKind;
  config: Record<string, unknown>;
  seed: number;
}

/**
 * The evaluator of real proxy training ({@link evaluationKind}); data and epochs default to
 * `evaluationDefaults` of the space's preset name (else `quick`).
 *
 * @example
 * ```ts
 * const ev = trainingEvaluator(space, { flopsBudget: 6e5, budgetRule: 'soft', seed: 0 });
 * ```
 */
export function trainingEvaluator(space: SearchSpace, options: { flopsBudget: number; budgetRule?: BudgetRule; seed?: number; data?: EvalDataConfig; epochs?: number }): SearchEvaluator {
  const preset = space.name === 'smoke' || space.name === 'full' ? space.name : 'quick';
  const d = evaluationDefaults(preset);
  return {
    kind: evaluationKind,
    config: { space, data: options.data ?? d.data, epochs: options.epochs ?? d.epochs, flopsBudget: options.flopsBudget, budgetRule: options.budgetRule ?? 'hard' },
    seed: options.seed ?? 0,
  };
}

/**
 * The evaluator of the synthetic reward ({@link syntheticReward} with `rewardSeed`).
 *
 * @example
 * ```ts
 * const ev = syntheticEvaluator(presetSpace('smoke'), 7);
 * ```
 */
export function syntheticEvaluator(space: SearchSpace, rewardSeed: number, budget?: { flopsBudget: number; budgetRule: BudgetRule }): SearchEvaluator {
  const config: Record<string, unknown> = { space, rewardSeed };
  if (budget) Object.assign(config, budget);
  return { kind: syntheticEvaluationKind, config, seed: 0 };
}

// ------------------------------------------------------------------ driver

const SearchSchema = z
  .object({
    method: z.enum(SEARCH_METHODS),
    space: z.unknown(),
    /** Evaluation budget (repeated pipelines count). */
    evaluations: z.number().int().min(1),
    /** Pipelines proposed (and evaluated in parallel) per learner update. */
    batchSize: z.number().int().min(1).default(8),
    /** Seed of the search (policies, sampling); the evaluation seed is the evaluator's. */
    seed: z.number().int().default(0),
    /** FLOPs budget and rule of the default (training) evaluator. */
    flopsBudget: z.number().positive().optional(),
    budgetRule: z.enum(['hard', 'soft']).default('hard'),
    evaluator: z.custom<SearchEvaluator>((v) => v === undefined || (typeof v === 'object' && v !== null && typeof (v as SearchEvaluator).kind?.job === 'function'), 'must be a SearchEvaluator { kind, config, seed }').optional(),
    executor: z.custom<Executor>((v) => v === undefined || (typeof (v as Executor)?.run === 'function' && typeof (v as Executor)?.close === 'function'), 'must be an Executor').optional(),
    store: z.custom<ExperimentStore>((v) => v === undefined || v instanceof ExperimentStore, 'must be an ExperimentStore').optional(),
    /** Experiment name of the evaluation cache in the store (shared by searches so pipelines are reused across methods and seeds). */
    experiment: z.string().min(1).default('ma2ml-evaluations'),
    progress: z.custom<ProgressSink>((v) => v === undefined || typeof (v as ProgressSink)?.tick === 'function', 'must be a ProgressSink').optional(),
    /** Called after every evaluated batch with the new log entries (throwing aborts the search; finished evaluations stay stored). */
    onBatch: z.custom<(entries: unknown[]) => void>((v) => v === undefined || typeof v === 'function', 'must be a function').optional(),
    /** Extra `SingleStepLearner` settings (override the method's defaults, e.g. actorLr). */
    learner: z.record(z.unknown()).optional(),
    /**
     * Hard budget masked at sampling: proposals that are invalid or over the FLOPs budget
     * (`flopsBudget`, else the evaluator's `config.flopsBudget`) are rejected before evaluation and
     * resampled from the same policy; they never reach the evaluator and do not consume
     * evaluations. The learner updates on the accepted proposals only.
     */
    maskOverBudget: z.boolean().default(false),
    /** Proposals drawn per accepted pipeline before a masked search gives up with an Error. */
    maskMaxTries: z.number().int().min(1).default(200),
    /** Search only these agents (learning methods and random); the others stay at `fixedPipeline`'s tokens. Default: all agents. */
    modules: z.array(z.enum(AGENTS)).min(1).optional(),
    /** The pipeline that supplies the tokens of agents outside `modules` (required with `modules`). */
    fixedPipeline: z.unknown().optional(),
    /** Called after every learner update with the current token probabilities `[agent][token][value]` (learning methods; agents outside `modules` are left out). */
    onUpdate: z.custom<(info: unknown) => void>((v) => v === undefined || typeof v === 'function', 'must be a function').optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (!o.evaluator && o.flopsBudget === undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['flopsBudget'], message: 'required when no evaluator is given (the training evaluator needs a budget)' });
    if (o.maskOverBudget && o.flopsBudget === undefined && typeof (o.evaluator as SearchEvaluator | undefined)?.config?.flopsBudget !== 'number') {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['maskOverBudget'], message: 'needs a FLOPs budget: set flopsBudget or use an evaluator whose config has one' });
    }
    if (o.modules !== undefined) {
      if (o.fixedPipeline === undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['fixedPipeline'], message: 'required with modules (it supplies the tokens of the agents not searched)' });
      if (o.method === 'sequential') ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['modules'], message: "not supported with method 'sequential' (it already searches one module at a time)" });
      if (new Set(o.modules).size !== o.modules.length) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['modules'], message: 'agents must be distinct' });
    }
  });

/** Options of {@link runSearch}. */
export type SearchOptions = Omit<z.input<typeof SearchSchema>, 'space' | 'onBatch' | 'learner' | 'modules' | 'fixedPipeline' | 'onUpdate'> & {
  space: SearchSpace;
  onBatch?: (entries: SearchLogEntry[]) => void;
  learner?: Partial<SingleStepConfigInput>;
  modules?: AgentName[];
  fixedPipeline?: Pipeline;
  onUpdate?: (info: SearchUpdateInfo) => void;
};

/** What {@link SearchOptions.onUpdate} receives after each learner update. */
export interface SearchUpdateInfo {
  /** 0-based learner update (= proposal batch of the learner). */
  update: number;
  /** Evaluations used so far. */
  evaluations: number;
  /** Agents the learner controls, in the order of `probabilities`. */
  agents: AgentName[];
  /** `SingleStepLearner.probabilities()` after the update: `[agent][token][value]`. */
  probabilities: Float32Array[][];
}

/** One evaluation of a search (plain JSON). */
export interface SearchLogEntry {
  /** 1-based evaluation index. */
  evaluation: number;
  /** 0-based proposal batch. */
  batch: number;
  /** Token indices per agent (aug, nas, hpo). */
  tokens: number[][];
  pipeline: Pipeline;
  reward: number;
  /** Best reward so far, this evaluation included. */
  bestSoFar: number;
  /** The pipeline was already evaluated earlier in this search (its stored reward was reused). */
  repeat: boolean;
  /** The evaluator's full result (validity, accuracy, MACs, ...). */
  result: JsonValue;
}

/** Result of {@link runSearch} (plain JSON). */
export interface SearchResult {
  method: SearchMethod;
  seed: number;
  evaluations: number;
  log: SearchLogEntry[];
  best: { evaluation: number; reward: number; pipeline: Pipeline; tokens: number[][] };
  /** Distinct pipelines evaluated. */
  distinct: number;
  /** Evaluations served from the store or the in-memory cache vs computed now. */
  cached: number;
  computed: number;
  /** Proposals rejected before evaluation by `maskOverBudget` (invalid or over the budget; 0 without masking). */
  masked: number;
  wallSeconds: number;
}

type BatchEvaluator = (pipelines: Pipeline[]) => Promise<{ results: JsonValue[]; cached: number; computed: number }>;

function makeBatchEvaluator(ev: SearchEvaluator, executor: Executor, store: ExperimentStore | undefined, experiment: string): BatchEvaluator {
  const memory = new Map<string, JsonValue>();
  return async (pipelines) => {
    const jobs: Job[] = [];
    const keyIndex = new Map<string, number>();
    for (const p of pipelines) {
      const key = pipelineKey(p);
      if (!keyIndex.has(key)) {
        keyIndex.set(key, jobs.length);
        jobs.push(ev.kind.job(key, { ...ev.config, pipeline: p }, ev.seed));
      }
    }
    let uniqueResults: JsonValue[];
    let cached = 0;
    let computed = 0;
    if (store) {
      const res = await runExperiment<JsonValue>({ name: experiment, jobs, executor, store });
      uniqueResults = res.results;
      cached = res.cached;
      computed = res.computed;
    } else {
      const hashes = jobs.map(runHash);
      const missing = jobs.filter((_, i) => !memory.has(hashes[i]));
      if (missing.length > 0) {
        const outcomes = await executor.run(missing);
        for (const o of outcomes) {
          if (!o.ok) throw new Error(`runSearch: evaluation of pipeline ${o.key} failed: ${o.error.message}`);
          memory.set(hashes[jobs.findIndex((j) => j.key === o.key)], o.result);
        }
      }
      computed = missing.length;
      cached = jobs.length - missing.length;
      uniqueResults = hashes.map((h) => memory.get(h) as JsonValue);
    }
    uniqueResults.forEach((r, i) => {
      const reward = (r as { reward?: unknown } | null)?.reward;
      if (typeof reward !== 'number' || !Number.isFinite(reward)) throw new Error(`runSearch: evaluator result of pipeline ${jobs[i].key} has no finite 'reward' (got ${JSON.stringify(reward)})`);
    });
    return { results: pipelines.map((p) => uniqueResults[keyIndex.get(pipelineKey(p)) as number]), cached, computed };
  };
}

/**
 * Runs one search method for `evaluations` pipeline evaluations. Each proposed batch of
 * `batchSize` pipelines is evaluated through `executor` (default inline; a `WorkerPoolExecutor`
 * evaluates the batch in parallel) and, with a `store`, cached in it under the experiment
 * `experiment`: a pipeline evaluated before (in this search, another method's or an earlier,
 * interrupted run) reuses its stored result and still counts against the budget. Because every
 * method is deterministic given its seed and the rewards, re-running an interrupted search with the
 * same options and store replays the stored evaluations (instantly) and continues: the log equals
 * an uninterrupted run's.
 *
 * Methods: `ma2ml`, `ma2ml-lite`, `ma2ml-no-credit`, `independent`, `single-agent` are
 * `SingleStepLearner` configurations ({@link METHOD_CONFIGS}); `random` samples tokens uniformly;
 * `sequential` searches AUG, then NAS, then HPO (a third of the budget each, remainder to HPO), each
 * phase with `independent`'s learner on that agent while the other agents stay fixed (initially a
 * uniformly drawn pipeline; a finished module is fixed at its best evaluated tokens).
 * The evaluator defaults to real proxy training ({@link trainingEvaluator} with `flopsBudget` and
 * `budgetRule`); pass {@link syntheticEvaluator} for a cheap known reward.
 *
 * `maskOverBudget: true` is the hard budget "masked at sampling": proposals that are invalid or over
 * the FLOPs budget are rejected and redrawn from the same policy before evaluation (they never reach
 * the evaluator and do not count as evaluations; `result.masked` counts them). The learner updates
 * on the accepted proposals only (rejection sampling from the policy restricted to the feasible set;
 * the gradient of the restriction's normaliser is not followed). The budget is `flopsBudget`, else the
 * evaluator's `config.flopsBudget`, so an evaluator configured with a looser budget (hard rule: reward
 * = accuracy within it) can be shared, with its cache, by searches masked at tighter budgets.
 * `modules` restricts the search to some agents (the others keep `fixedPipeline`'s tokens), for
 * single-module ablations. `onUpdate` reports the policy after each learner update.
 *
 * @example
 * ```ts
 * const space = presetSpace('smoke');
 * const res = await runSearch({ method: 'ma2ml', space, evaluations: 64, batchSize: 8, seed: 0, flopsBudget: 45e3, budgetRule: 'soft', store, executor });
 * res.best.reward; res.log.map((e) => e.bestSoFar);
 * ```
 */
export async function runSearch(options: SearchOptions): Promise<SearchResult> {
  const o = parseConfig(SearchSchema, options, 'runSearch options');
  const space = parseSearchSpace(o.space);
  const evaluator = o.evaluator ?? trainingEvaluator(space, { flopsBudget: o.flopsBudget as number, budgetRule: o.budgetRule });
  const ownExecutor = o.executor === undefined;
  const executor = o.executor ?? new InlineExecutor();
  const evaluate = makeBatchEvaluator(evaluator, executor, o.store, o.experiment);
  const onBatch = o.onBatch as ((entries: SearchLogEntry[]) => void) | undefined;
  const onUpdate = o.onUpdate as ((info: SearchUpdateInfo) => void) | undefined;
  const t0 = Date.now();
  const log: SearchLogEntry[] = [];
  const seen = new Set<string>();
  let cached = 0;
  let computed = 0;
  let masked = 0;
  let bestIndex = -1;
  let updates = 0;

  // Hard budget masked at sampling: the budget of the rejection test.
  const maskBudget = o.maskOverBudget ? (o.flopsBudget ?? (evaluator.config.flopsBudget as number)) : undefined;
  // Agents searched (indices into AGENTS) and the fixed tokens of the others.
  const searched = o.modules ? AGENTS.map((a, i) => ((o.modules as AgentName[]).includes(a) ? i : -1)).filter((i) => i >= 0) : AGENTS.map((_, i) => i);
  const fixedTokens = o.modules ? encodePipeline(space, o.fixedPipeline as Pipeline) : undefined;
  const expand = (own: number[][]): number[][] => (fixedTokens ? fixedTokens.map((t, j) => (searched.includes(j) ? own[searched.indexOf(j)] : t)) : own);
  const acceptable = (joint: number[][]): boolean => maskBudget === undefined || checkPipeline(space, decodePipeline(space, joint), { flopsBudget: maskBudget }).valid;
  /** `n` proposals (own tokens) from `draw`, resampling rejected ones when masking. */
  const drawAccepted = (n: number, draw: (m: number) => number[][][], toJoint: (own: number[][]) => number[][]): number[][][] => {
    if (maskBudget === undefined) return draw(n);
    const out: number[][][] = [];
    let tries = 0;
    while (out.length < n) {
      const props = draw(n - out.length);
      tries += props.length;
      for (const a of props) {
        if (acceptable(toJoint(a))) out.push(a);
        else masked++;
      }
      if (out.length < n && tries >= o.maskMaxTries * n) {
        throw new Error(`runSearch: maskOverBudget found ${out.length} of ${n} pipelines within ${maskBudget} MACs in ${tries} proposals (maskMaxTries ${o.maskMaxTries}); ${fixedTokens ? 'is fixedPipeline over the budget or invalid?' : 'is the budget below every architecture of the space?'}`);
      }
    }
    return out;
  };
  o.progress?.start(o.evaluations, `${o.method} seed ${o.seed}`);

  const evaluateBatch = async (actions: JointAction[]): Promise<number[]> => {
    const pipelines = actions.map((a) => decodePipeline(space, a));
    const r = await evaluate(pipelines);
    cached += r.cached;
    computed += r.computed;
    const batch = log.length === 0 ? 0 : log[log.length - 1].batch + 1;
    const entries: SearchLogEntry[] = [];
    pipelines.forEach((p, i) => {
      const key = pipelineKey(p);
      const reward = (r.results[i] as { reward: number }).reward;
      const prevBest = bestIndex >= 0 ? log[bestIndex].reward : Number.NEGATIVE_INFINITY;
      const entry: SearchLogEntry = {
        evaluation: log.length + 1,
        batch,
        tokens: actions[i].map((t) => Array.from(t)),
        pipeline: p,
        reward,
        bestSoFar: Math.max(prevBest, reward),
        repeat: seen.has(key),
        result: r.results[i],
      };
      seen.add(key);
      if (reward > prevBest) bestIndex = log.length;
      log.push(entry);
      entries.push(entry);
    });
    o.progress?.tick(pipelines.length, { best: log[bestIndex].reward.toFixed(3) });
    if (onBatch) onBatch(entries);
    return entries.map((e) => e.reward);
  };
  const reportUpdate = (learner: SingleStepLearner, agents: AgentName[]) => {
    if (onUpdate) onUpdate({ update: updates, evaluations: log.length, agents, probabilities: learner.probabilities() });
    updates++;
  };

  try {
    const remaining = () => o.evaluations - log.length;
    if (o.method === 'random') {
      const rng = new Rng(o.seed).fork('ma2ml-random-search');
      const draw = (m: number) => Array.from({ length: m }, () => {
        const t = sampleTokens(space, rng);
        return searched.map((i) => t[i]);
      });
      while (remaining() > 0) {
        const n = Math.min(o.batchSize, remaining());
        await evaluateBatch(drawAccepted(n, draw, expand).map(expand));
      }
    } else if (o.method === 'sequential') {
      const rng = new Rng(o.seed).fork('ma2ml-sequential-search');
      let fixed = sampleTokens(space, rng);
      for (let tries = 1; !acceptable(fixed); tries++) {
        masked++;
        if (tries >= o.maskMaxTries) throw new Error(`runSearch: sequential found no starting pipeline within ${maskBudget} MACs in ${tries} draws`);
        fixed = sampleTokens(space, rng);
      }
      const agents = learnerAgents(space);
      const third = Math.floor(o.evaluations / 3);
      for (let k = 0; k < AGENTS.length; k++) {
        const phaseBudget = k < AGENTS.length - 1 ? third : remaining();
        if (phaseBudget <= 0) continue;
        const learner = new SingleStepLearner({ agents: [agents[k]], seed: rng.int(2 ** 31 - 1), ...METHOD_CONFIGS.independent, ...(o.learner ?? {}) });
        let phaseBest = { reward: Number.NEGATIVE_INFINITY, tokens: fixed[k] };
        const toJoint = (own: number[][]) => fixed.map((t, j) => (j === k ? own[0] : t));
        try {
          let used = 0;
          while (used < phaseBudget) {
            const n = Math.min(o.batchSize, phaseBudget - used);
            const own = drawAccepted(n, (m) => learner.propose(m), toJoint);
            const rewards = await evaluateBatch(own.map(toJoint));
            rewards.forEach((r, i) => {
              if (r > phaseBest.reward) phaseBest = { reward: r, tokens: own[i][0] };
            });
            learner.observe(own, rewards);
            reportUpdate(learner, [AGENTS[k]]);
            used += n;
          }
        } finally {
          learner.dispose();
        }
        fixed[k] = phaseBest.tokens;
      }
    } else {
      const all = learnerAgents(space);
      const agents = searched.map((i) => all[i]);
      const learner = new SingleStepLearner({ agents, seed: o.seed, ...METHOD_CONFIGS[o.method], ...(o.learner ?? {}) });
      try {
        while (remaining() > 0) {
          const own = drawAccepted(Math.min(o.batchSize, remaining()), (m) => learner.propose(m), expand);
          const rewards = await evaluateBatch(own.map(expand));
          learner.observe(own, rewards);
          reportUpdate(learner, searched.map((i) => AGENTS[i]));
        }
      } finally {
        learner.dispose();
      }
    }
  } finally {
    o.progress?.end();
    if (ownExecutor) await executor.close();
  }
  const b = log[bestIndex];
  return {
    method: o.method,
    seed: o.seed,
    evaluations: log.length,
    log,
    best: { evaluation: b.evaluation, reward: b.reward, pipeline: b.pipeline, tokens: b.tokens },
    distinct: seen.size,
    cached,
    computed,
    masked,
    wallSeconds: (Date.now() - t0) / 1000,
  };
}
