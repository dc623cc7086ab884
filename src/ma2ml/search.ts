/**
 * MA2ML search driver: one ask-and-tell loop for every method of the spec (full MA2ML, MA2ML-Lite,
 * MA2ML without credit assignment, independent agents, single-agent RL over the joint token
 * sequence, sequential module search, random search; each a strategy of `./strategies`), each
 * proposed batch evaluated in parallel through a runtime executor with results cached in the
 * experiment store (so repeated pipelines reuse their reward and an interrupted search resumes),
 * plus a synthetic reward for tests and demos.
 */
import { parseConfig, z } from '../config';
import { diagnosticRows } from '../marl/singlestep';
import type { DiagnosticRow, JointAction, ObserveStats, SingleStepConfigInput } from '../marl/singlestep';
import type { ProgressSink } from '../progress';
import { Rng } from '../random';
import { InlineExecutor } from '../runtime/executor';
import type { Executor } from '../runtime/executor';
import { defineJobKind } from '../runtime/jobs';
import type { JobContext, JobKind } from '../runtime/jobs';
import { ExperimentStore } from '../runtime/store';
import { evaluationDefaults, evaluationKind } from './evaluate';
import type { EvalDataConfig } from './evaluate';
import { FlopsConstraintSchema, evaluationBudgetFields, parseFlopsConstraint, rewardRule } from './flops';
import type { FlopsConstraint, FlopsConstraintInput } from './flops';
import { AGENTS, budgetReward, checkPipeline, encodePipeline, vocabSizes } from './pipeline';
import type { AgentName, BudgetRule } from './pipeline';
import { SearchLog } from './search-log';
import type { SearchLogEntry } from './search-log';
import { parseSearchSpace } from './spaces';
import type { Pipeline, SearchSpace } from './spaces';
import { createStrategy, isSearchMethod, searchMethods, strategyContext } from './strategies';
import type { MethodName, SearchStrategy, StrategyContext } from './strategies';

export { METHOD_CONFIGS, SEARCH_METHODS } from './strategies';
export type { MethodName, SearchMethod } from './strategies';
export type { SearchLogEntry } from './search-log';

// ------------------------------------------------------------------ synthetic reward

/**
 * A cheap synthetic reward in [0, 1] of a pipeline's tokens, for tests and demos (no training):
 * `0.7 * additive + 0.3 * interaction`. Additive: mean over all tokens of a per-token utility
 * (one random best value per token scores 1, the others uniform in [0, 0.5]). Interaction: three
 * cross-agent token pairs (aug-nas, nas-hpo, hpo-aug), each scoring 1 when both tokens take a
 * random target pair of values, else 0. All tables are drawn from `seed`; the optimum is 1. An
 * optional FLOPs constraint applies `budgetReward` with its budget and rule to the pipeline's MACs
 * (`hard-mask` scores as `hard`; an invalid pipeline scores 0).
 *
 * @example
 * ```ts
 * syntheticReward(space, pipeline, { seed: 7 }); // in [0, 1]
 * syntheticReward(space, pipeline, { seed: 7, flops: { budget: 45e3, rule: 'soft' } });
 * ```
 */
export function syntheticReward(
  space: SearchSpace,
  pipeline: Pipeline,
  options: { seed: number; flops?: FlopsConstraintInput },
): number {
  const tokens = encodePipeline(space, pipeline);
  const t = syntheticRewardTables(space, options.seed);
  let sum = 0;
  t.utilities.forEach((agent, a) => agent.forEach((util, k) => (sum += util[tokens[a][k]])));
  let inter = 0;
  for (const q of t.pairs)
    if (tokens[q.agents[0]][q.tokens[0]] === q.values[0] && tokens[q.agents[1]][q.tokens[1]] === q.values[1]) inter++;
  const r = (0.7 * sum) / t.numTokens + (0.3 * inter) / t.pairs.length;
  if (options.flops === undefined) return r;
  const check = checkPipeline(space, pipeline);
  if (!check.valid) return 0;
  return budgetReward(
    r,
    check.macs,
    options.flops.budget,
    rewardRule({ budget: options.flops.budget, rule: options.flops.rule ?? 'hard' }),
  );
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
  if (!Array.isArray(probs) || probs.length !== t.utilities.length)
    throw new Error(
      `syntheticExpectedReward: probs must have ${t.utilities.length} agents (aug, nas, hpo), got ${Array.isArray(probs) ? probs.length : typeof probs}`,
    );
  let sum = 0;
  t.utilities.forEach((agent, a) => {
    if (!Array.isArray(probs[a]) || probs[a].length !== agent.length)
      throw new Error(
        `syntheticExpectedReward: probs[${a}] must have ${agent.length} tokens, got ${Array.isArray(probs[a]) ? probs[a].length : typeof probs[a]}`,
      );
    agent.forEach((util, k) => {
      const p = probs[a][k];
      if (!p || p.length !== util.length)
        throw new Error(
          `syntheticExpectedReward: probs[${a}][${k}] must have ${util.length} values, got ${p ? p.length : 'none'}`,
        );
      for (let v = 0; v < util.length; v++) sum += p[v] * util[v];
    });
  });
  let inter = 0;
  for (const q of t.pairs)
    inter += probs[q.agents[0]][q.tokens[0]][q.values[0]] * probs[q.agents[1]][q.tokens[1]][q.values[1]];
  return (0.7 * sum) / t.numTokens + (0.3 * inter) / t.pairs.length;
}

/**
 * {@link syntheticReward} of a joint action given as tokens (`tokens[agent][token]`, the learner's
 * `JointAction`), without a FLOPs constraint.
 *
 * @example
 * ```ts
 * syntheticTokenReward(space, 7, learner.propose(1)[0]); // in [0, 1]
 * ```
 */
export function syntheticTokenReward(space: SearchSpace, seed: number, tokens: readonly ArrayLike<number>[]): number {
  const t = syntheticRewardTables(space, seed);
  let sum = 0;
  t.utilities.forEach((agent, a) => agent.forEach((util, k) => (sum += util[tokens[a][k]])));
  let inter = 0;
  for (const q of t.pairs)
    if (tokens[q.agents[0]][q.tokens[0]] === q.values[0] && tokens[q.agents[1]][q.tokens[1]] === q.values[1]) inter++;
  return (0.7 * sum) / t.numTokens + (0.3 * inter) / t.pairs.length;
}

/**
 * The TRUE counterfactual advantage of each agent in each joint action under a factorised policy,
 * `A_i(a) = R(a) - E_{a_i' ~ pi_i} R(a_i', a_-i)` for the noiseless {@link syntheticTokenReward}
 * (exact: the reward is linear in per-token utilities and cross-agent pair indicators). Returned
 * row-major `[actions.length * 3]` (aug, nas, hpo): the reference the credit-quality check correlates
 * a learner's advantages with.
 *
 * @example
 * ```ts
 * const truth = syntheticCounterfactualAdvantages(space, 7, learner.probabilities(), batch);
 * ```
 */
export function syntheticCounterfactualAdvantages(
  space: SearchSpace,
  seed: number,
  probs: readonly (readonly ArrayLike<number>[])[],
  actions: readonly (readonly ArrayLike<number>[])[],
): Float64Array {
  const t = syntheticRewardTables(space, seed);
  const A = t.utilities.length;
  if (probs.length !== A)
    throw new Error(`syntheticCounterfactualAdvantages: probs must have ${A} agents, got ${probs.length}`);
  // E_{pi_a} util of each token of each agent.
  const expUtil = t.utilities.map((agent, a) =>
    agent.map((util, k) => {
      const p = probs[a][k];
      if (!p || p.length !== util.length)
        throw new Error(`syntheticCounterfactualAdvantages: probs[${a}][${k}] must have ${util.length} values`);
      let e = 0;
      for (let v = 0; v < util.length; v++) e += p[v] * util[v];
      return e;
    }),
  );
  const out = new Float64Array(actions.length * A);
  actions.forEach((x, b) => {
    for (let a = 0; a < A; a++) {
      let add = 0;
      t.utilities[a].forEach((util, k) => (add += util[x[a][k]] - expUtil[a][k]));
      let inter = 0;
      for (const q of t.pairs) {
        if (q.agents[0] !== a && q.agents[1] !== a) continue;
        const side: 0 | 1 = q.agents[0] === a ? 0 : 1;
        const other: 0 | 1 = side === 0 ? 1 : 0;
        if (x[q.agents[other]][q.tokens[other]] !== q.values[other]) continue;
        inter += (x[a][q.tokens[side]] === q.values[side] ? 1 : 0) - probs[a][q.tokens[side]][q.values[side]];
      }
      out[b * A + a] = (0.7 * add) / t.numTokens + (0.3 * inter) / t.pairs.length;
    }
  });
  return out;
}

/**
 * Configuration of one {@link syntheticEvaluationKind} job. The FLOPs fields stay flat (`flopsBudget`,
 * `budgetRule`, see `evaluationBudgetFields`): job configs are hashed into the store's cache keys.
 */
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
export function syntheticEvaluationJob(
  config: SyntheticJobConfig,
  _ctx: JobContext,
): { reward: number; valid: boolean } {
  const flops =
    config.flopsBudget === undefined ? undefined : { budget: config.flopsBudget, rule: config.budgetRule ?? 'hard' };
  const reward = syntheticReward(config.space, config.pipeline, { seed: config.rewardSeed, flops });
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
export const syntheticEvaluationKind = defineJobKind({
  name: 'ma2ml-synthetic',
  module: __filename,
  export: 'syntheticEvaluationJob',
  version: 'ma2ml-synthetic@1',
  fn: syntheticEvaluationJob,
});

// ------------------------------------------------------------------ evaluators

/**
 * What evaluates a pipeline: a job kind, the configuration shared by all its jobs (the job config
 * is `{ ...config, pipeline }`, the job key `pipelineKey(pipeline)`), and the evaluation seed. The
 * job's result must hold a finite `reward`. `flops` is the constraint the evaluator scores with
 * (set by {@link trainingEvaluator} and {@link syntheticEvaluator}); `runSearch` masks at it when
 * its rule is `hard-mask` and the search sets no `flops` of its own.
 */
export interface SearchEvaluator {
  kind: JobKind;
  config: Record<string, unknown>;
  seed: number;
  flops?: FlopsConstraint;
}

/**
 * The evaluator of real proxy training ({@link evaluationKind}) under a FLOPs constraint; data and
 * epochs default to `evaluationDefaults` of the space's preset name (else `quick`).
 *
 * @example
 * ```ts
 * const ev = trainingEvaluator(space, { flops: { budget: 6e5, rule: 'soft' }, seed: 0 });
 * ```
 */
export function trainingEvaluator(
  space: SearchSpace,
  options: { flops: FlopsConstraintInput; seed?: number; data?: EvalDataConfig; epochs?: number },
): SearchEvaluator {
  const flops = parseFlopsConstraint(options?.flops, 'trainingEvaluator flops');
  const preset = space.name === 'smoke' || space.name === 'full' ? space.name : 'quick';
  const d = evaluationDefaults(preset);
  return {
    kind: evaluationKind,
    config: {
      space,
      data: options.data ?? d.data,
      epochs: options.epochs ?? d.epochs,
      ...evaluationBudgetFields(flops),
    },
    seed: options.seed ?? 0,
    flops,
  };
}

/**
 * The evaluator of the synthetic reward ({@link syntheticReward} with `rewardSeed`), optionally
 * under a FLOPs constraint.
 *
 * @example
 * ```ts
 * const ev = syntheticEvaluator(presetSpace('smoke'), 7);
 * const masked = syntheticEvaluator(presetSpace('smoke'), 7, { budget: 45e3, rule: 'hard-mask' });
 * ```
 */
export function syntheticEvaluator(
  space: SearchSpace,
  rewardSeed: number,
  flops?: FlopsConstraintInput,
): SearchEvaluator {
  const config: Record<string, unknown> = { space, rewardSeed };
  if (flops === undefined) return { kind: syntheticEvaluationKind, config, seed: 0 };
  const c = parseFlopsConstraint(flops, 'syntheticEvaluator flops');
  return { kind: syntheticEvaluationKind, config: { ...config, ...evaluationBudgetFields(c) }, seed: 0, flops: c };
}

// ------------------------------------------------------------------ driver

const isEvaluator = (v: unknown): v is SearchEvaluator =>
  typeof v === 'object' && v !== null && typeof (v as SearchEvaluator).kind?.job === 'function';

const SearchSchema = z
  .object({
    /** A built-in method (`SEARCH_METHODS`) or one added with `registerStrategy`. */
    method: z.custom<MethodName>(
      (v) => isSearchMethod(v),
      (v) => ({
        message: `${JSON.stringify(v)} is not a search method (known: ${searchMethods().join(', ')}; add one with registerStrategy)`,
      }),
    ),
    space: z.unknown(),
    /** Evaluation budget (repeated pipelines count). */
    evaluations: z.number().int().min(1),
    /** Pipelines proposed (and evaluated in parallel) per learner update. */
    batchSize: z.number().int().min(1).default(8),
    /** Seed of the search (policies, sampling); the evaluation seed is the evaluator's. */
    seed: z.number().int().default(0),
    /**
     * The search's FLOPs constraint: the budget and rule of the default (training) evaluator, and
     * with rule `hard-mask` the budget proposals are masked at. Default: the evaluator's `flops`.
     */
    flops: FlopsConstraintSchema.optional(),
    evaluator: z
      .custom<SearchEvaluator>(
        (v) => v === undefined || isEvaluator(v),
        'must be a SearchEvaluator { kind, config, seed }',
      )
      .optional(),
    executor: z
      .custom<Executor>(
        (v) =>
          v === undefined ||
          (typeof (v as Executor)?.run === 'function' && typeof (v as Executor)?.close === 'function'),
        'must be an Executor',
      )
      .optional(),
    store: z
      .custom<ExperimentStore>((v) => v === undefined || v instanceof ExperimentStore, 'must be an ExperimentStore')
      .optional(),
    /** Experiment name of the evaluation cache in the store (shared by searches so pipelines are reused across methods and seeds). */
    experiment: z.string().min(1).default('ma2ml-evaluations'),
    progress: z
      .custom<ProgressSink>(
        (v) => v === undefined || typeof (v as ProgressSink)?.tick === 'function',
        'must be a ProgressSink',
      )
      .optional(),
    /** Called after every evaluated batch with the new log entries (throwing aborts the search; finished evaluations stay stored). */
    onBatch: z
      .custom<(entries: unknown[]) => void>((v) => v === undefined || typeof v === 'function', 'must be a function')
      .optional(),
    /** Extra `SingleStepLearner` settings (override the method's defaults, e.g. actorLr). */
    learner: z.record(z.unknown()).optional(),
    /** Proposals drawn per accepted pipeline before a masked search gives up with an Error. */
    maskMaxTries: z.number().int().min(1).default(200),
    /** Search only these agents (learning methods and random); the others stay at `fixedPipeline`'s tokens. Default: all agents. */
    modules: z.array(z.enum(AGENTS)).min(1).optional(),
    /** The pipeline that supplies the tokens of agents outside `modules` (required with `modules`). */
    fixedPipeline: z.unknown().optional(),
    /** Called after every learner update with the current token probabilities `[agent][token][value]` (learning methods; agents outside `modules` are left out). */
    onUpdate: z
      .custom<(info: unknown) => void>((v) => v === undefined || typeof v === 'function', 'must be a function')
      .optional(),
    /** Cancels the search between batches and the evaluation in progress (finished evaluations stay stored). */
    signal: z
      .custom<AbortSignal>((v) => v === undefined || v instanceof AbortSignal, 'must be an AbortSignal')
      .optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    const evFlops = isEvaluator(o.evaluator) ? o.evaluator.flops : undefined;
    if (evFlops !== undefined && !FlopsConstraintSchema.safeParse(evFlops).success)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['evaluator', 'flops'],
        message: 'must be a FLOPs constraint { budget > 0, rule }',
      });
    if (!o.evaluator && o.flops === undefined)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['flops'],
        message: 'required when no evaluator is given (the training evaluator needs a budget)',
      });
    if (
      o.evaluator &&
      o.flops &&
      o.flops.rule !== 'hard-mask' &&
      !(evFlops && evFlops.budget === o.flops.budget && evFlops.rule === o.flops.rule)
    ) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['flops'],
        message: `rule '${o.flops.rule}' is applied by the evaluator, not the search: build the evaluator with this constraint, or use rule 'hard-mask' to mask proposals at sampling`,
      });
    }
    if (o.modules !== undefined) {
      if (o.fixedPipeline === undefined)
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['fixedPipeline'],
          message: 'required with modules (it supplies the tokens of the agents not searched)',
        });
      if (new Set(o.modules).size !== o.modules.length)
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['modules'], message: 'agents must be distinct' });
    }
  });

/** Options of {@link runSearch}. */
export type SearchOptions = Omit<
  z.input<typeof SearchSchema>,
  'space' | 'onBatch' | 'learner' | 'modules' | 'fixedPipeline' | 'onUpdate' | 'signal'
> & {
  signal?: AbortSignal;
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
  /**
   * The learner's `observe` statistics of the update, with the per-update `diagnostics` (entropy, KL
   * to the previous and target policies, critic explained variance, ...; `diagnosticRows` flattens them).
   */
  stats?: ObserveStats;
}

/** Result of {@link runSearch} (plain JSON). */
export interface SearchResult {
  method: MethodName;
  seed: number;
  evaluations: number;
  log: SearchLogEntry[];
  best: { evaluation: number; reward: number; pipeline: Pipeline; tokens: number[][] };
  /** Distinct pipelines evaluated. */
  distinct: number;
  /** Evaluations served from the store or the in-memory cache vs computed now. */
  cached: number;
  computed: number;
  /** Proposals rejected before evaluation by masking (invalid or over a `hard-mask` budget; 0 without masking). */
  masked: number;
  /**
   * Learner diagnostics, one row per update (`diagnosticRows`: per-agent entropy, KL to the previous
   * and target policies, critic explained variance on the replay and held out, advantage scale,
   * distinct proposals, inner steps, credit used; `phase` for sequential); empty for random search.
   */
  diagnostics: DiagnosticRow[];
  wallSeconds: number;
}

/**
 * One batch of `want` proposals or fewer (as many as the strategy's first answer): with a
 * `hard-mask` constraint, infeasible proposals are counted as masked (`ctx.reject`) and the strategy
 * is asked again for the missing ones, up to `maskMaxTries` draws per proposal.
 */
function proposeBatch(strategy: SearchStrategy, ctx: StrategyContext, want: number): JointAction[] {
  const take = (n: number): JointAction[] => {
    const props = strategy.propose(n);
    if (!Array.isArray(props) || props.length < 1 || props.length > n)
      throw new Error(
        `runSearch: strategy '${ctx.method}' proposed ${Array.isArray(props) ? props.length : typeof props} pipelines when asked for ${n} (expected 1 to ${n})`,
      );
    return props;
  };
  let props = take(want);
  if (ctx.flops?.rule !== 'hard-mask') return props;
  const n = props.length;
  const out: JointAction[] = [];
  for (let tries = props.length; ; tries += props.length) {
    for (const a of props) {
      if (ctx.feasible(a)) out.push(a);
      else ctx.reject(1);
    }
    if (out.length >= n) return out;
    if (tries >= ctx.maskMaxTries * n) {
      const hint = ctx.fixedTokens
        ? 'is fixedPipeline over the budget or invalid?'
        : 'is the budget below every architecture of the space?';
      throw new Error(
        `runSearch: masking (flops rule 'hard-mask') found ${out.length} of ${n} pipelines within ${ctx.flops.budget} MACs in ${tries} proposals (maskMaxTries ${ctx.maskMaxTries}); ${hint}`,
      );
    }
    props = take(n - out.length);
  }
}

/**
 * Runs one search method for `evaluations` pipeline evaluations: a loop over the method's strategy
 * (`./strategies`): propose a batch of `batchSize` joint proposals, evaluate it, tell the strategy
 * the rewards. Each batch is evaluated through `executor` (default inline; a `WorkerPoolExecutor`
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
 * uniformly drawn pipeline; a finished module is fixed at its best evaluated tokens); any name
 * added with `registerStrategy` runs its strategy.
 * The evaluator defaults to real proxy training ({@link trainingEvaluator} with `flops`); pass
 * {@link syntheticEvaluator} for a cheap known reward.
 *
 * `flops: { budget, rule: 'hard-mask' }` is the hard budget "masked at sampling": proposals that are
 * invalid or over the budget are rejected and redrawn from the same strategy before evaluation (they
 * never reach the evaluator and do not count as evaluations; `result.masked` counts them). The
 * strategy observes the accepted proposals only (rejection sampling from the policy restricted to
 * the feasible set; the gradient of the restriction's normaliser is not followed). Without `flops`
 * the search takes the evaluator's constraint, so an evaluator at a looser budget (hard rule:
 * reward = accuracy within it) can be shared, with its cache, by searches masked at tighter budgets.
 * `modules` restricts the search to some agents (the others keep `fixedPipeline`'s tokens), for
 * single-module ablations. `onUpdate` reports the policy after each learner update. `signal`
 * cancels the search between batches (throwing its reason) and the batch being evaluated; re-running
 * replays the stored evaluations and continues.
 *
 * @example
 * ```ts
 * const space = presetSpace('smoke');
 * const res = await runSearch({ method: 'ma2ml', space, evaluations: 64, batchSize: 8, seed: 0, flops: { budget: 45e3, rule: 'soft' }, store, executor });
 * res.best.reward; res.log.map((e) => e.bestSoFar);
 * ```
 */
export async function runSearch(options: SearchOptions): Promise<SearchResult> {
  const o = parseConfig(SearchSchema, options, 'runSearch options');
  const space = parseSearchSpace(o.space);
  const flops = o.flops ?? o.evaluator?.flops;
  const evaluator = o.evaluator ?? trainingEvaluator(space, { flops: flops as FlopsConstraint });
  const ownExecutor = o.executor === undefined;
  const executor = o.executor ?? new InlineExecutor();
  const onUpdate = o.onUpdate as ((info: SearchUpdateInfo) => void) | undefined;
  const log = new SearchLog({
    space,
    evaluator,
    executor,
    store: o.store,
    experiment: o.experiment,
    progress: o.progress,
    onBatch: o.onBatch as SearchOptions['onBatch'],
    signal: o.signal,
  });
  const t0 = Date.now();
  let masked = 0;
  let updates = 0;
  const diagnostics: DiagnosticRow[] = [];
  let strategy: SearchStrategy | undefined;
  o.progress?.start(o.evaluations, `${o.method} seed ${o.seed}`);
  try {
    const ctx = strategyContext({
      space,
      method: o.method,
      seed: o.seed,
      evaluations: o.evaluations,
      batchSize: o.batchSize,
      flops,
      maskMaxTries: o.maskMaxTries,
      modules: o.modules,
      fixedPipeline: o.fixedPipeline as Pipeline | undefined,
      learner: o.learner as SearchOptions['learner'],
      onReject: (n) => (masked += n),
    });
    strategy = createStrategy(o.method, ctx);
    while (log.length < o.evaluations) {
      o.signal?.throwIfAborted();
      const proposals = proposeBatch(strategy, ctx, Math.min(o.batchSize, o.evaluations - log.length));
      const entries = await log.evaluate(proposals);
      strategy.observe(
        proposals,
        entries.map((e) => e.reward),
        entries.map((e) => e.result),
      );
      const d = strategy.diagnostics?.();
      if (d) diagnostics.push(...diagnosticRows([d.stats], o.method === 'sequential' ? { phase: d.agents[0] } : {}));
      if (onUpdate && d)
        onUpdate({
          update: updates++,
          evaluations: log.length,
          agents: d.agents,
          probabilities: d.probabilities,
          stats: d.stats,
        });
    }
  } finally {
    strategy?.dispose();
    o.progress?.end();
    if (ownExecutor) await executor.close();
  }
  const b = log.best as SearchLogEntry;
  const best = { evaluation: b.evaluation, reward: b.reward, pipeline: b.pipeline, tokens: b.tokens };
  return {
    method: o.method,
    seed: o.seed,
    evaluations: log.length,
    log: log.entries,
    best,
    distinct: log.seen.size,
    cached: log.cached,
    computed: log.computed,
    masked,
    diagnostics,
    wallSeconds: (Date.now() - t0) / 1000,
  };
}
