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
import type { BudgetRule } from './pipeline';
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
 * - `single-agent`: one REINFORCE agent over the joint token sequence (moving baseline).
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
  'single-agent': { credit: 'shared', offPolicy: false, divergenceWeight: 0, jointAgent: true },
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
  const vocab = vocabSizes(space);
  const rng = new Rng(options.seed).fork('ma2ml-synthetic');
  let sum = 0;
  let count = 0;
  vocab.forEach((agent, a) =>
    agent.forEach((v, t) => {
      const best = rng.int(v);
      const util = Array.from({ length: v }, (_, k) => (k === best ? 1 : rng.uniform(0, 0.5)));
      sum += util[tokens[a][t]];
      count++;
    }),
  );
  const pairs: [number, number][] = [
    [0, 1],
    [1, 2],
    [2, 0],
  ];
  let inter = 0;
  for (const [a, b] of pairs) {
    const ta = rng.int(vocab[a].length);
    const tb = rng.int(vocab[b].length);
    const va = rng.int(vocab[a][ta]);
    const vb = rng.int(vocab[b][tb]);
    if (tokens[a][ta] === va && tokens[b][tb] === vb) inter++;
  }
  const r = (0.7 * sum) / count + (0.3 * inter) / pairs.length;
  if (options.flopsBudget === undefined) return r;
  const check = checkPipeline(space, pipeline);
  if (!check.valid) return 0;
  return budgetReward(r, check.macs, options.flopsBudget, options.budgetRule ?? 'hard');
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
  })
  .strict()
  .superRefine((o, ctx) => {
    if (!o.evaluator && o.flopsBudget === undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['flopsBudget'], message: 'required when no evaluator is given (the training evaluator needs a budget)' });
  });

/** Options of {@link runSearch}. */
export type SearchOptions = Omit<z.input<typeof SearchSchema>, 'space' | 'onBatch' | 'learner'> & {
  space: SearchSpace;
  onBatch?: (entries: SearchLogEntry[]) => void;
  learner?: Partial<SingleStepConfigInput>;
};

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
  const t0 = Date.now();
  const log: SearchLogEntry[] = [];
  const seen = new Set<string>();
  let cached = 0;
  let computed = 0;
  let bestIndex = -1;
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

  try {
    const remaining = () => o.evaluations - log.length;
    if (o.method === 'random') {
      const rng = new Rng(o.seed).fork('ma2ml-random-search');
      while (remaining() > 0) {
        const n = Math.min(o.batchSize, remaining());
        await evaluateBatch(Array.from({ length: n }, () => sampleTokens(space, rng)));
      }
    } else if (o.method === 'sequential') {
      const rng = new Rng(o.seed).fork('ma2ml-sequential-search');
      const fixed = sampleTokens(space, rng);
      const agents = learnerAgents(space);
      const third = Math.floor(o.evaluations / 3);
      for (let k = 0; k < AGENTS.length; k++) {
        const phaseBudget = k < AGENTS.length - 1 ? third : remaining();
        if (phaseBudget <= 0) continue;
        const learner = new SingleStepLearner({ agents: [agents[k]], seed: rng.int(2 ** 31 - 1), ...METHOD_CONFIGS.independent, ...(o.learner ?? {}) });
        let phaseBest = { reward: Number.NEGATIVE_INFINITY, tokens: fixed[k] };
        try {
          let used = 0;
          while (used < phaseBudget) {
            const n = Math.min(o.batchSize, phaseBudget - used);
            const own = learner.propose(n);
            const actions = own.map((a) => fixed.map((t, j) => (j === k ? a[0] : t)));
            const rewards = await evaluateBatch(actions);
            rewards.forEach((r, i) => {
              if (r > phaseBest.reward) phaseBest = { reward: r, tokens: own[i][0] };
            });
            learner.observe(own, rewards);
            used += n;
          }
        } finally {
          learner.dispose();
        }
        fixed[k] = phaseBest.tokens;
      }
    } else {
      const learner = new SingleStepLearner({ agents: learnerAgents(space), seed: o.seed, ...METHOD_CONFIGS[o.method], ...(o.learner ?? {}) });
      try {
        while (remaining() > 0) {
          const actions = learner.propose(Math.min(o.batchSize, remaining()));
          const rewards = await evaluateBatch(actions);
          learner.observe(actions, rewards);
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
    wallSeconds: (Date.now() - t0) / 1000,
  };
}
