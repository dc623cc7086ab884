/**
 * Running an MA2ML experiment set through one executor and the experiment store (cached,
 * resumable): the searches of a list of cells, the retraining of each search's best pipeline (job
 * kind `ma2ml-retrain`, defined here next to its work function), and the reward-noise
 * re-evaluations of the best pipelines with several training seeds.
 */
import type { Executor } from '../../runtime/executor';
import { runExperiment } from '../../runtime/experiment';
import { defineJobKind } from '../../runtime/jobs';
import type { JobContext } from '../../runtime/jobs';
import type { ExperimentStore } from '../../runtime/store';
import { evaluationKind, retrainPipeline } from '../evaluate';
import type { PipelineEvaluation, RetrainResult } from '../evaluate';
import { describePipeline, pipelineKey } from '../pipeline';
import { parseFlopsConstraint } from '../flops';
import { SEARCH_METHODS, runSearch } from '../search';
import { tunedActorLr } from '../strategies/learner';
import type { Pipeline, SearchSpace } from '../spaces';
import { cellLabel } from './cells';
import type { SearchCell, SearchRun } from './cells';
import { defaultPipeline } from './default-pipeline';
import { parsePlan, planEvaluator } from './plan';
import type { Ma2mlPlan } from './plan';

/** Options of {@link runSearches}. */
export interface RunSearchesOptions {
  space: SearchSpace;
  executor: Executor;
  /** Experiment store (`ExperimentStore.open()`): evaluations are cached, interrupted sets resume. */
  store?: ExperimentStore;
  /** Called after each search (e.g. to print progress). */
  onRun?: (run: SearchRun, index: number, total: number) => void;
}

/**
 * Runs a set of searches one after another, each through `runSearch` with the plan's evaluator
 * ({@link planEvaluator}), the method's actor learning rate tuned for the plan's evaluation budget
 * (`tunedActorLr`; the method's default below the smallest swept budget), hard budget masked at sampling at the cell's constraint, the plan's evaluation
 * count and batch size, the shared `executor` (each batch evaluated in parallel) and `store` (every
 * evaluation cached under experiment `ma2ml-evaluations`, shared by all methods and seeds, so a
 * re-run replays instantly and an interrupted run resumes).
 *
 * @example
 * ```ts
 * const executor = planExecutor(plan);
 * const runs = await runSearches(plan, mainCells(plan), { space: planSpace(plan), executor, store: ExperimentStore.open() });
 * await executor.close();
 * ```
 */
export async function runSearches(
  plan: Ma2mlPlan,
  cells: readonly SearchCell[],
  options: RunSearchesOptions,
): Promise<SearchRun[]> {
  const p = parsePlan(plan);
  const space = options.space;
  const evaluator = planEvaluator(p, space);
  const runs: SearchRun[] = [];
  for (const [i, cell] of cells.entries()) {
    if (!SEARCH_METHODS.includes(cell.method))
      throw new Error(`runSearches: cells[${i}].method '${cell.method}' is not one of ${SEARCH_METHODS.join(', ')}`);
    const flops = parseFlopsConstraint(cell.flops, `runSearches cells[${i}].flops`);
    const loose = p.flops[1].budget;
    if (flops.rule !== 'hard-mask')
      throw new Error(
        `runSearches: cells[${i}].flops.rule '${flops.rule}' must be 'hard-mask' (the searches share the plan's evaluator at the loose budget)`,
      );
    if (flops.budget > loose)
      throw new Error(
        `runSearches: cells[${i}].flops.budget ${flops.budget} must be in (0, ${loose}] (the evaluator's loose budget)`,
      );
    // The actor learning rate tuned for this budget (TUNED_ACTOR_LR; sequential runs independent's learner).
    const lr = tunedActorLr(cell.method === 'sequential' ? 'independent' : cell.method, p.evaluations);
    const learner = {
      ...(lr === undefined ? {} : { actorLr: lr }),
      ...(cell.divergenceWeight !== undefined ? { divergenceWeight: cell.divergenceWeight } : {}),
    };
    const result = await runSearch({
      method: cell.method,
      space,
      evaluations: p.evaluations,
      batchSize: p.batchSize,
      seed: cell.seed,
      flops,
      evaluator,
      executor: options.executor,
      store: options.store,
      learner: Object.keys(learner).length > 0 ? learner : undefined,
      modules: cell.modules,
      fixedPipeline: cell.modules ? defaultPipeline(space, flops.budget) : undefined,
    });
    const run: SearchRun = { cell, label: cellLabel(cell), result };
    runs.push(run);
    options.onRun?.(run, i, cells.length);
  }
  return runs;
}

/** Configuration of one {@link retrainKind} job (the job's seed is the retraining seed). */
export interface RetrainJobConfig {
  pipeline: Pipeline;
  space: SearchSpace;
  epochs: number;
  trainLimit: number;
  testLimit: number;
}

/**
 * Work function of {@link retrainKind}: `retrainPipeline(config.pipeline, { ...config, seed: ctx.seed })`.
 *
 * @example
 * ```ts
 * retrainJob({ pipeline: p, space, epochs: 1, trainLimit: 5000, testLimit: 2000 }, ctx).testAccuracy;
 * ```
 */
export function retrainJob(config: RetrainJobConfig, ctx: JobContext): RetrainResult {
  return retrainPipeline(config.pipeline, {
    space: config.space,
    epochs: config.epochs,
    trainLimit: config.trainLimit,
    testLimit: config.testLimit,
    seed: ctx.seed,
  });
}

/**
 * Job kind of the final retraining (runs in workers, cached in the store under `ma2ml-retrains`).
 *
 * @example
 * ```ts
 * const job = retrainKind.job(pipelineKey(p), { pipeline: p, space, epochs: 1, trainLimit: 5000, testLimit: 2000 }, 0);
 * ```
 */
export const retrainKind = defineJobKind({
  name: 'ma2ml-retrain',
  module: __filename,
  export: 'retrainJob',
  version: 'ma2ml-retrain@1',
  fn: retrainJob,
});

/**
 * Retrains the best pipeline of every run (each distinct pipeline once, with the plan's retraining
 * seed, size and epochs) through `executor`, cached in `store` (experiment `ma2ml-retrains`) when
 * given. Returns the results by `pipelineKey`.
 *
 * @example
 * ```ts
 * const retrains = await retrainBest(plan, space, runs, { executor, store });
 * retrains.get(pipelineKey(runs[0].result.best.pipeline))?.testAccuracy;
 * ```
 */
export async function retrainBest(
  plan: Ma2mlPlan,
  space: SearchSpace,
  runs: readonly SearchRun[],
  options: { executor: Executor; store?: ExperimentStore },
): Promise<Map<string, RetrainResult>> {
  const p = parsePlan(plan);
  const byKey = new Map<string, Pipeline>();
  for (const r of runs) byKey.set(pipelineKey(r.result.best.pipeline), r.result.best.pipeline);
  const keys = [...byKey.keys()];
  const jobs = keys.map((k) =>
    retrainKind.job(
      k,
      {
        pipeline: byKey.get(k) as Pipeline,
        space,
        epochs: p.retrain.epochs,
        trainLimit: p.retrain.trainLimit,
        testLimit: p.retrain.testLimit,
      },
      p.retrain.seed,
    ),
  );
  const out = new Map<string, RetrainResult>();
  if (jobs.length === 0) return out;
  let results: RetrainResult[];
  if (options.store) {
    results = (
      await runExperiment<RetrainResult>({
        name: 'ma2ml-retrains',
        jobs,
        executor: options.executor,
        store: options.store,
      })
    ).results;
  } else {
    const outcomes = await options.executor.run(jobs);
    results = outcomes.map((o) => {
      if (!o.ok) throw new Error(`retrainBest: retraining of ${o.key} failed: ${o.error.message}`);
      return o.result as unknown as RetrainResult;
    });
  }
  keys.forEach((k, i) => out.set(k, results[i]));
  return out;
}

/** One pipeline of {@link rewardNoise}. */
export interface NoiseRow {
  pipeline: string;
  /** Validation reward per evaluation seed (in `seeds` order). */
  rewards: number[];
  seeds: number[];
  mean: number;
  /** Sample standard deviation over seeds. */
  sd: number;
  min: number;
  max: number;
}

/**
 * Reward noise: the `plan.noise.pipelines` best distinct pipelines of `runs` (by reward) evaluated
 * again with each of `plan.noise.seeds` (training seed; seed `plan.evaluation.seed` is served from
 * the search cache), through `executor` and `store` (experiment `ma2ml-evaluations`).
 *
 * @example
 * ```ts
 * const rows = await rewardNoise(plan, space, runs, { executor, store });
 * rows[0].sd; // spread of the reward of one pipeline over training seeds
 * ```
 */
export async function rewardNoise(
  plan: Ma2mlPlan,
  space: SearchSpace,
  runs: readonly SearchRun[],
  options: { executor: Executor; store?: ExperimentStore },
): Promise<NoiseRow[]> {
  const p = parsePlan(plan);
  const ev = planEvaluator(p, space);
  const best = new Map<string, { pipeline: Pipeline; reward: number }>();
  for (const r of runs) {
    for (const e of r.result.log) {
      const k = pipelineKey(e.pipeline);
      if (!best.has(k) || (best.get(k) as { reward: number }).reward < e.reward)
        best.set(k, { pipeline: e.pipeline, reward: e.reward });
    }
  }
  const top = [...best.entries()].sort((a, b) => b[1].reward - a[1].reward).slice(0, p.noise.pipelines);
  const rewards: number[][] = top.map(() => []);
  for (const seed of p.noise.seeds) {
    const jobs = top.map(([k, v]) => evaluationKind.job(k, { ...ev.config, pipeline: v.pipeline }, seed));
    let results: PipelineEvaluation[];
    if (options.store) {
      results = (
        await runExperiment<PipelineEvaluation>({
          name: 'ma2ml-evaluations',
          jobs,
          executor: options.executor,
          store: options.store,
        })
      ).results;
    } else {
      results = (await options.executor.run(jobs)).map((o) => {
        if (!o.ok) throw new Error(`rewardNoise: evaluation of ${o.key} failed: ${o.error.message}`);
        return o.result as unknown as PipelineEvaluation;
      });
    }
    results.forEach((r, i) => rewards[i].push(r.reward));
  }
  return top.map(([, v], i) => {
    const xs = rewards[i];
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const sd = xs.length > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1)) : 0;
    return {
      pipeline: describePipeline(v.pipeline),
      rewards: xs,
      seeds: [...p.noise.seeds],
      mean,
      sd,
      min: Math.min(...xs),
      max: Math.max(...xs),
    };
  });
}
