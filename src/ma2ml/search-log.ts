/**
 * The evaluation side of `runSearch`: a batch of proposed pipelines evaluated through an executor
 * (deduplicated, cached in the experiment store or in memory) and recorded in the search log with
 * best-so-far, repeats and cache counts, progress and the `onBatch` callback.
 */
import type { JointAction } from '../marl/singlestep';
import type { ProgressSink } from '../progress';
import type { Executor } from '../runtime/executor';
import { runExperiment } from '../runtime/experiment';
import { runHash } from '../runtime/jobs';
import type { Job } from '../runtime/jobs';
import type { JsonValue } from '../runtime/json';
import type { ExperimentStore } from '../runtime/store';
import { decodePipeline, pipelineKey } from './pipeline';
import type { Pipeline, SearchSpace } from './spaces';
import type { SearchEvaluator } from './search';

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

type BatchEvaluator = (pipelines: Pipeline[]) => Promise<{ results: JsonValue[]; cached: number; computed: number }>;

/**
 * Evaluates batches of pipelines with `ev`: each distinct pipeline of a batch is one job (key
 * `pipelineKey`); with a store, one `runExperiment` call under `experiment` (cached across searches
 * and runs), else the executor with an in-memory cache for this search. Every result must hold a
 * finite `reward`.
 */
function makeBatchEvaluator(
  ev: SearchEvaluator,
  executor: Executor,
  store: ExperimentStore | undefined,
  experiment: string,
  signal?: AbortSignal,
): BatchEvaluator {
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
    let cached: number;
    let computed: number;
    if (store) {
      const res = await runExperiment<JsonValue>({ name: experiment, jobs, executor, store, signal });
      uniqueResults = res.results;
      cached = res.cached;
      computed = res.computed;
    } else {
      const hashes = jobs.map(runHash);
      const missing = jobs.filter((_, i) => !memory.has(hashes[i]));
      if (missing.length > 0) {
        const outcomes = await executor.run(missing, { signal });
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
      if (typeof reward !== 'number' || !Number.isFinite(reward))
        throw new Error(
          `runSearch: evaluator result of pipeline ${jobs[i].key} has no finite 'reward' (got ${JSON.stringify(reward)})`,
        );
    });
    return { results: pipelines.map((p) => uniqueResults[keyIndex.get(pipelineKey(p)) as number]), cached, computed };
  };
}

/** Where {@link SearchLog} evaluates and reports. */
export interface SearchLogOptions {
  space: SearchSpace;
  evaluator: SearchEvaluator;
  executor: Executor;
  store?: ExperimentStore;
  /** Experiment name of the evaluation cache in the store. */
  experiment: string;
  progress?: ProgressSink;
  onBatch?: (entries: SearchLogEntry[]) => void;
  /** Cancels the evaluation of a batch (the executor's run rejects with an AbortError). */
  signal?: AbortSignal;
}

/**
 * The log of one search: `evaluate(proposals)` evaluates a batch of joint proposals (decoded to
 * pipelines), appends one entry per proposal, ticks the progress sink and calls `onBatch`.
 *
 * @example
 * ```ts
 * const log = new SearchLog({ space, evaluator, executor: new InlineExecutor(), experiment: 'ma2ml-evaluations' });
 * const entries = await log.evaluate(strategy.propose(8));
 * log.entries.length; // 8
 * ```
 */
export class SearchLog {
  readonly entries: SearchLogEntry[] = [];
  /** Keys of the distinct pipelines evaluated. */
  readonly seen = new Set<string>();
  /** Evaluations served from the store or the in-memory cache vs computed now. */
  cached = 0;
  computed = 0;
  private bestIndex = -1;
  private readonly evaluateBatch: BatchEvaluator;

  constructor(private readonly options: SearchLogOptions) {
    this.evaluateBatch = makeBatchEvaluator(
      options.evaluator,
      options.executor,
      options.store,
      options.experiment,
      options.signal,
    );
  }

  /** Evaluations so far. */
  get length(): number {
    return this.entries.length;
  }

  /** The best entry so far (the first of equal rewards); undefined before any evaluation. */
  get best(): SearchLogEntry | undefined {
    return this.bestIndex >= 0 ? this.entries[this.bestIndex] : undefined;
  }

  /** Evaluates one batch of joint proposals and returns its new entries (in proposal order). */
  async evaluate(proposals: JointAction[]): Promise<SearchLogEntry[]> {
    const log = this.entries;
    const pipelines = proposals.map((a) => decodePipeline(this.options.space, a));
    const r = await this.evaluateBatch(pipelines);
    this.cached += r.cached;
    this.computed += r.computed;
    const batch = log.length === 0 ? 0 : log[log.length - 1].batch + 1;
    const entries: SearchLogEntry[] = [];
    pipelines.forEach((p, i) => {
      const key = pipelineKey(p);
      const reward = (r.results[i] as { reward: number }).reward;
      const prevBest = this.bestIndex >= 0 ? log[this.bestIndex].reward : Number.NEGATIVE_INFINITY;
      const entry: SearchLogEntry = {
        evaluation: log.length + 1,
        batch,
        tokens: proposals[i].map((t) => Array.from(t)),
        pipeline: p,
        reward,
        bestSoFar: Math.max(prevBest, reward),
        repeat: this.seen.has(key),
        result: r.results[i],
      };
      this.seen.add(key);
      if (reward > prevBest) this.bestIndex = log.length;
      log.push(entry);
      entries.push(entry);
    });
    this.options.progress?.tick(pipelines.length, { best: log[this.bestIndex].reward.toFixed(3) });
    if (this.options.onBatch) this.options.onBatch(entries);
    return entries;
  }
}
