/**
 * One search on the LCBench surrogate (job kind `ma2ml-surrogate-search`): a learner method, the
 * sequential baseline, random search or a module-only search, driven directly through
 * `SingleStepLearner` on the `SurrogateSearchProblem`'s agents and reward (runSearch's strategies
 * assume the aug/nas/hpo pipeline). The result holds the noiseless value of every evaluated
 * configuration (so regret is exact), the observed rewards, the exact expected value of the policy
 * after every update (factorised policies) and the learner diagnostics.
 */
import * as path from 'path';
import { SingleStepLearner, diagnosticRows } from '../../../marl/singlestep';
import type { DiagnosticRow, JointAction, ObserveStats, SingleStepConfigInput } from '../../../marl/singlestep';
import { Rng } from '../../../random';
import { InlineExecutor } from '../../../runtime/executor';
import type { Executor } from '../../../runtime/executor';
import { runExperiment } from '../../../runtime/experiment';
import { defineJobKind } from '../../../runtime/jobs';
import type { ExperimentStore } from '../../../runtime/store';
import { WorkerPoolExecutor } from '../../../runtime/worker-pool';
import { modeExecutor } from '../../../runtime/distributed';
import { METHOD_CONFIGS, tunedActorLr } from '../../strategies/learner';
import type { LearnerMethod } from '../../strategies/learner';
import { gridConfigToTokens, gridHash, gridSizes, parseGrid } from '../../surrogate/grid';
import type { LcbenchGrid } from '../../surrogate/grid';
import { LcbenchSurrogate, lcbenchDataDir } from '../../surrogate/lcbench';
import { SurrogateSearchProblem } from '../../surrogate/problem';
import { cachedExhaustiveTable } from '../../surrogate/table';
import type { SurrogateTable } from '../../surrogate/table';
import { parseSurrogatePlan } from './plan';
import type { SurrogateMethod, SurrogatePlan } from './plan';

/** The full learner settings of a cell: its method's (`sequential`: independent's) plus the cell's overrides. */
export function resolvedLearnerConfig(
  method: string,
  overrides?: Partial<SingleStepConfigInput>,
): Partial<SingleStepConfigInput> {
  const base = method === 'sequential' ? METHOD_CONFIGS.independent : surrogateLearnerConfig(method);
  return { ...base, ...(overrides ?? {}) };
}

/** `SingleStepLearner` settings of a surrogate learner method (`METHOD_CONFIGS`). */
export function surrogateLearnerConfig(method: string): Partial<SingleStepConfigInput> {
  const c = METHOD_CONFIGS[method as LearnerMethod];
  if (!c) throw new Error(`surrogateLearnerConfig: '${method}' is not a learner method`);
  return c;
}

/** Configuration of one surrogate search job (hashed into the store's cache key). */
export interface SurrogateSearchConfig {
  task: string;
  grid: LcbenchGrid;
  epoch: number;
  method: SurrogateMethod;
  /** Index of the only searched agent (the other fixed at `fixedTokens`); null: both searched. */
  module: number | null;
  fixedTokens: number[][] | null;
  evaluations: number;
  batchSize: number;
  noiseSd: number;
  /**
   * The learner's settings: the method's `METHOD_CONFIGS` entry with the cell's overrides (a tuned
   * `actorLr`), resolved by `runSurrogateSearches` so the cache key changes when a method's settings
   * do; absent (random search, or a hand-built config): the method's own settings.
   */
  learner?: Partial<SingleStepConfigInput>;
}

/** Result of one surrogate search (plain JSON). */
export interface SurrogateSearchResult {
  task: string;
  method: string;
  module: number | null;
  evaluations: number;
  /** Table optimum and median (noiseless). */
  best: number;
  median: number;
  /** Noiseless value of the configuration of every evaluation, in order. */
  values: number[];
  /** Observed (noisy) reward of every evaluation. */
  rewards: number[];
  /** Exact expected noiseless value of the policy before the first update and after each (null: autoregressive policy or random). */
  expected: number[] | null;
  /** Learner diagnostics, one row per update (`diagnosticRows`), plus `phase` for sequential. */
  diagnostics: DiagnosticRow[];
}

// ------------------------------------------------------------------ tables (per process)

const tables = new Map<string, SurrogateTable>();
let surrogatePromise: Promise<LcbenchSurrogate> | undefined;

function tableKey(task: string, grid: LcbenchGrid, epoch: number): string {
  return `${task}|${epoch}|${gridHash(grid)}`;
}

/** Default file cache of the exhaustive tables: `results/23-ma2ml-surrogate/tables` of the repository. */
export function defaultTableCacheDir(): string {
  return path.join(path.dirname(path.dirname(lcbenchDataDir())), 'results', '23-ma2ml-surrogate', 'tables');
}

/**
 * The exhaustive table of a task (memoised in this process, file-cached in `cacheDir`).
 *
 * @example
 * ```ts
 * const t = await surrogateTable('3945', defaultLcbenchGrid(), 52);
 * ```
 */
export async function surrogateTable(
  task: string,
  grid: LcbenchGrid,
  epoch: number,
  cacheDir: string = defaultTableCacheDir(),
): Promise<SurrogateTable> {
  const key = tableKey(task, grid, epoch);
  const hit = tables.get(key);
  if (hit) return hit;
  surrogatePromise ??= LcbenchSurrogate.load();
  const s = await surrogatePromise;
  const t = await cachedExhaustiveTable(s, task, grid, { cacheDir, epoch });
  tables.set(key, t);
  return t;
}

// ------------------------------------------------------------------ exact expected value

/**
 * Exact expected table value of a factorised policy: `sum_x prod_t p_t(x_t) table[x]`, contracting
 * the row-major table one token at a time from the last (about 1.3 x table-size multiply-adds).
 * `probs[agent][token]` are the token distributions in grid order.
 *
 * @example
 * ```ts
 * expectedTableValue(table.rewards, learner.probabilities()); // uniform policy: the table mean
 * ```
 */
export function expectedTableValue(
  rewards: ArrayLike<number>,
  probs: readonly (readonly ArrayLike<number>[])[],
): number {
  const flat = probs.flatMap((a) => a);
  let cur: Float64Array = Float64Array.from(rewards as ArrayLike<number>);
  let n = cur.length;
  for (let t = flat.length - 1; t >= 0; t--) {
    const p = flat[t];
    const k = p.length;
    if (n % k !== 0)
      throw new Error(`expectedTableValue: table of ${n} entries does not split by a vocabulary of ${k}`);
    const m = n / k;
    const next = new Float64Array(m);
    for (let j = 0; j < m; j++) {
      let s = 0;
      const o = j * k;
      for (let v = 0; v < k; v++) s += p[v] * cur[o + v];
      next[j] = s;
    }
    cur = next;
    n = m;
  }
  if (n !== 1)
    throw new Error(
      `expectedTableValue: probabilities cover ${flat.length} tokens, the table has ${rewards.length} entries`,
    );
  return cur[0];
}

function oneHot(k: number, v: number): Float32Array {
  const a = new Float32Array(v);
  a[k] = 1;
  return a;
}

// ------------------------------------------------------------------ one search

/**
 * Work function of {@link surrogateSearchKind}: runs one search. The search seed (`ctx.seed`) seeds
 * the learner, random search and the noise stream (`SurrogateSearchProblem` seed).
 *
 * @example
 * ```ts
 * const r = await surrogateSearchJob({ task: '3945', grid, epoch: 52, method: 'ma2ml', module: null, fixedTokens: null, evaluations: 200, batchSize: 8, noiseSd: 0.01 }, { seed: 0 } as JobContext);
 * ```
 */
export async function surrogateSearchJob(
  config: SurrogateSearchConfig,
  ctx: { seed: number },
): Promise<SurrogateSearchResult> {
  const grid = parseGrid(config.grid);
  const table = await surrogateTable(config.task, grid, config.epoch);
  const problem = new SurrogateSearchProblem(table, grid, { noiseSd: config.noiseSd, seed: ctx.seed });
  const seed = ctx.seed;
  const E = config.evaluations;
  const B = config.batchSize;
  const values: number[] = [];
  const rewards: number[] = [];
  let expected: number[] | null = null;
  const diagnostics: DiagnosticRow[] = [];
  const evaluate = (batch: JointAction[]): number[] => {
    const r = batch.map((a) => problem.reward(a));
    batch.forEach((a, i) => {
      values.push(problem.value(a));
      rewards.push(r[i]);
    });
    return r;
  };
  const vocab = problem.agents.map((a) => a.vocab);

  /** Runs one learner over the agents `searched` (others at `fixed`) for `evals` evaluations. */
  const runLearner = (
    cfg: Partial<SingleStepConfigInput>,
    searched: number[],
    fixed: number[][] | null,
    evals: number,
    trace: number[] | null,
    phase?: string,
  ): JointAction => {
    const learner = new SingleStepLearner({ agents: searched.map((i) => problem.agents[i]), seed, ...cfg });
    const full = (own: number[][]): JointAction =>
      fixed ? fixed.map((t, j) => (searched.includes(j) ? own[searched.indexOf(j)] : t)) : own;
    const probsFull = (): ArrayLike<number>[][] => {
      const own = learner.probabilities();
      return vocab.map((v, j) =>
        searched.includes(j) ? own[searched.indexOf(j)] : v.map((k, ti) => oneHot((fixed as number[][])[j][ti], k)),
      );
    };
    const factorised = cfg.policy !== 'autoregressive';
    if (trace && factorised) trace.push(expectedTableValue(table.rewards, probsFull()));
    const stats: ObserveStats[] = [];
    let best = { reward: -Infinity, action: [] as JointAction };
    try {
      let done = 0;
      while (done < evals) {
        const own = learner.propose(Math.min(B, evals - done));
        const batch = own.map(full);
        const r = evaluate(batch);
        r.forEach((x, i) => {
          if (x > best.reward) best = { reward: x, action: batch[i] };
        });
        done += own.length;
        stats.push(learner.observe(own, r));
        if (trace && factorised) trace.push(expectedTableValue(table.rewards, probsFull()));
      }
    } finally {
      learner.dispose();
    }
    diagnostics.push(...diagnosticRows(stats, phase ? { phase } : {}));
    return best.action;
  };

  if (config.method === 'random') {
    const rng = new Rng(seed).fork('surrogate-random');
    while (values.length < E) {
      const n = Math.min(B, E - values.length);
      evaluate(Array.from({ length: n }, () => vocab.map((v) => v.map((k) => rng.int(k)))));
    }
  } else if (config.method === 'sequential') {
    // Architecture first (half the budget, optimisation fixed at random tokens), then optimisation
    // with the architecture at phase 1's best (by observed reward); independent's learner each phase.
    const rng = new Rng(seed).fork('surrogate-sequential');
    const start = vocab.map((v) => v.map((k) => rng.int(k)));
    expected = [];
    const e1 = Math.floor(E / 2);
    let fixed = start;
    if (e1 > 0) {
      const bestA = runLearner(
        { ...METHOD_CONFIGS.independent, ...(config.learner ?? {}) },
        [0],
        start,
        e1,
        expected,
        'architecture',
      );
      fixed = [bestA[0], start[1]];
    }
    runLearner(
      { ...METHOD_CONFIGS.independent, ...(config.learner ?? {}) },
      [1],
      fixed,
      E - e1,
      expected,
      'optimisation',
    );
  } else {
    const cfg = { ...surrogateLearnerConfig(config.method), ...(config.learner ?? {}) };
    expected = cfg.policy === 'autoregressive' ? null : [];
    if (config.module !== null) {
      if (!config.fixedTokens) throw new Error('surrogateSearchJob: fixedTokens is required with module');
      runLearner(cfg, [config.module], config.fixedTokens, E, expected);
    } else {
      runLearner(
        cfg,
        vocab.map((_, i) => i),
        null,
        E,
        expected,
      );
    }
  }
  return {
    task: config.task,
    method: config.method,
    module: config.module,
    evaluations: E,
    best: table.best,
    median: table.median,
    values,
    rewards,
    expected,
    diagnostics,
  };
}

/** Job kind of one surrogate search (experiment `ma2ml-surrogate-searches` in the store). */
export const surrogateSearchKind = defineJobKind({
  name: 'ma2ml-surrogate-search',
  module: __filename,
  export: 'surrogateSearchJob',
  version: 'ma2ml-surrogate-search@1',
  fn: surrogateSearchJob,
});

// ------------------------------------------------------------------ cells and runs

/** One search of a plan. */
export interface SurrogateCell {
  task: string;
  label: string;
  method: SurrogateMethod;
  module: number | null;
  seed: number;
  evaluations: number;
  /** Learner settings on top of the method's (a tuned `actorLr` per budget); absent: the method's own. */
  learner?: Partial<SingleStepConfigInput>;
}

/** A finished search with its cell. */
export interface SurrogateRun {
  cell: SurrogateCell;
  result: SurrogateSearchResult;
  /** Wall seconds of the search: the store's recorded duration of the run that computed it (timings are not part of results). */
  seconds: number;
}

/** Label of a module-only search: `<method> only <agent name>`. */
export function moduleLabel(method: string, agentName: string): string {
  return `${method} only ${agentName}`;
}

/**
 * The searches of a plan: every method, task and seed once at the largest budget (a learner does not
 * know its budget, so the prefix of a longer run is the shorter run), `sequential` once per budget
 * (its phases split the budget), and the two module-only searches. With `actorLr: 'tuned'`, each
 * learner run carries the tuned rate of its budget, and a smaller budget whose tuned rate differs
 * from the largest budget's gets its own run of exactly that length.
 *
 * @example
 * ```ts
 * surrogateCells(surrogatePlan('quick')).length;
 * ```
 */
export function surrogateCells(plan: SurrogatePlan): SurrogateCell[] {
  const p = parseSurrogatePlan(plan);
  const max = p.budgets[p.budgets.length - 1];
  const lrAt = (method: string, b: number): number | undefined =>
    p.actorLr === 'tuned' ? tunedActorLr(method === 'sequential' ? 'independent' : method, b) : undefined;
  const learnerAt = (method: string, b: number): Partial<SingleStepConfigInput> | undefined => {
    const lr = lrAt(method, b);
    return lr === undefined ? undefined : { actorLr: lr };
  };
  // One run at the largest budget, plus a run of exactly b evaluations for each smaller budget whose
  // tuned rate differs (the summaries read a budget from the run of exactly that length first).
  const runsOf = (base: Omit<SurrogateCell, 'evaluations' | 'learner'>, method: string): SurrogateCell[] => {
    const out: SurrogateCell[] = [{ ...base, evaluations: max, ...optional(learnerAt(method, max)) }];
    for (const b of p.budgets.slice(0, -1))
      if (lrAt(method, b) !== lrAt(method, max))
        out.push({ ...base, evaluations: b, ...optional(learnerAt(method, b)) });
    return out;
  };
  const cells: SurrogateCell[] = [];
  for (const task of p.tasks) {
    for (const seed of p.seeds) {
      for (const method of p.methods) {
        if (method === 'sequential')
          for (const b of p.budgets)
            cells.push({
              task,
              label: method,
              method,
              module: null,
              seed,
              evaluations: b,
              ...optional(learnerAt(method, b)),
            });
        else if (method === 'random') cells.push({ task, label: method, method, module: null, seed, evaluations: max });
        else cells.push(...runsOf({ task, label: method, method, module: null, seed }, method));
      }
      const mod = p.moduleOnly;
      if (mod)
        p.grid.agents.forEach((a, i) =>
          cells.push(
            ...runsOf(
              { task, label: moduleLabel(mod.method, a.name), method: mod.method, module: i, seed },
              mod.method,
            ),
          ),
        );
    }
  }
  return cells;
}

function optional(learner: Partial<SingleStepConfigInput> | undefined): { learner?: Partial<SingleStepConfigInput> } {
  return learner ? { learner } : {};
}

/** Labels of a plan in display order (methods, then module-only searches). */
export function surrogateLabels(plan: SurrogatePlan): string[] {
  const p = parseSurrogatePlan(plan);
  return [
    ...p.methods,
    ...(p.moduleOnly ? p.grid.agents.map((a) => moduleLabel((p.moduleOnly as { method: string }).method, a.name)) : []),
  ];
}

/** The executor of a plan: a worker pool with `plan.workers` threads, or inline for 0. Close it when done. */
export function surrogateExecutor(plan: SurrogatePlan): Executor {
  return modeExecutor(() =>
    plan.workers > 0 ? new WorkerPoolExecutor({ workers: plan.workers }) : new InlineExecutor(),
  );
}

/**
 * The store jobs of a plan's cells (one `surrogateSearchKind` job each; the configuration carries the
 * resolved learner settings, see {@link SurrogateSearchConfig.learner}).
 *
 * @example
 * ```ts
 * surrogateJobs(plan, surrogateCells(plan))[0].config.learner;
 * ```
 */
export function surrogateJobs(plan: SurrogatePlan, cells: readonly SurrogateCell[]) {
  const p = parseSurrogatePlan(plan);
  const size = gridSizes(p.grid).joint;
  const fixedTokens = p.moduleOnly ? gridConfigToTokens(p.grid, p.moduleOnly.config) : null;
  return cells.map((c, i) => {
    if (!(c.evaluations >= 1)) throw new Error(`runSurrogateSearches: cells[${i}].evaluations must be >= 1`);
    const config: SurrogateSearchConfig = {
      task: c.task,
      grid: p.grid,
      epoch: p.epoch,
      method: c.method,
      module: c.module,
      fixedTokens: c.module === null ? null : fixedTokens,
      evaluations: c.evaluations,
      batchSize: p.batchSize,
      noiseSd: p.noiseSd,
    };
    // The resolved learner settings are part of the job's configuration, so its cache key follows
    // behaviour: a changed METHOD_CONFIGS entry (ma2ml became the issue-12 learner) is a new job.
    if (c.method !== 'random') config.learner = resolvedLearnerConfig(c.method, c.learner);
    const tag =
      c.learner && Object.keys(c.learner).length > 0
        ? `/${Object.entries(c.learner)
            .map(([k, v]) => `${k}=${v}`)
            .join(',')}`
        : '';
    return surrogateSearchKind.job(
      `${c.task}/${c.label}${tag}/e${c.evaluations}/b${p.batchSize}/n${p.noiseSd}/g${size}/s${c.seed}`,
      config,
      c.seed,
    );
  });
}

/**
 * Runs the searches of a plan as jobs of {@link surrogateSearchKind} (experiment
 * `ma2ml-surrogate-searches`): with a store every search is cached (a re-run computes nothing, an
 * interrupted set resumes); the exhaustive tables are computed (or read from `tableCacheDir`) first.
 *
 * @example
 * ```ts
 * const { runs, computed } = await runSurrogateSearches(plan, surrogateCells(plan), { executor, store });
 * ```
 */
export async function runSurrogateSearches(
  plan: SurrogatePlan,
  cells: readonly SurrogateCell[],
  options: { executor: Executor; store?: ExperimentStore; tableCacheDir?: string },
): Promise<{ runs: SurrogateRun[]; computed: number; cached: number; tables: Map<string, SurrogateTable> }> {
  const p = parseSurrogatePlan(plan);
  const out = new Map<string, SurrogateTable>();
  for (const task of new Set(cells.map((c) => c.task)))
    out.set(task, await surrogateTable(task, p.grid, p.epoch, options.tableCacheDir));
  const jobs = surrogateJobs(p, cells);
  let results: SurrogateSearchResult[];
  let seconds: number[];
  let computed = jobs.length;
  let cached = 0;
  if (options.store) {
    const r = await runExperiment<SurrogateSearchResult>({
      name: 'ma2ml-surrogate-searches',
      jobs,
      executor: options.executor,
      store: options.store,
    });
    results = r.results;
    seconds = r.jobs.map((j) => j.recordedDurationMs / 1000);
    computed = r.computed;
    cached = r.cached;
  } else {
    const outcomes = await options.executor.run(jobs);
    results = outcomes.map((o) => {
      if (!o.ok) throw new Error(`runSurrogateSearches: ${o.key} failed: ${o.error.message}`);
      return o.result as unknown as SurrogateSearchResult;
    });
    seconds = outcomes.map((o) => o.durationMs / 1000);
  }
  return {
    runs: cells.map((cell, i) => ({ cell, result: results[i], seconds: seconds[i] })),
    computed,
    cached,
    tables: out,
  };
}
