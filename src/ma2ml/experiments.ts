/**
 * MA2ML experiments: the plans of notebooks 21 (search comparison) and 22 (ablations) per preset,
 * a runner for sets of searches (method x FLOPs budget x seed) through one executor and the
 * experiment store (cached, resumable), retraining of best pipelines as store jobs, reward-noise
 * re-evaluations, and the summaries the notebooks print (best-so-far curves with bootstrap CIs,
 * comparison tables, ablation rows with a "does the paper's claim hold here" sentence).
 */
import * as os from 'os';
import { parseConfig, z } from '../config';
import { aggregateIqm, aggregateMean, meanCI, probabilityOfImprovement, sampleEfficiencyCurve, stratifiedBootstrapCI } from '../eval';
import type { Interval, SampleEfficiencyCurve } from '../eval';
import { Rng } from '../random';
import { InlineExecutor } from '../runtime/executor';
import type { Executor } from '../runtime/executor';
import { runExperiment } from '../runtime/experiment';
import { defineJobKind } from '../runtime/jobs';
import type { JobContext } from '../runtime/jobs';
import type { ExperimentStore } from '../runtime/store';
import { WorkerPoolExecutor } from '../runtime/worker-pool';
import { evaluationDefaults, evaluationKind, retrainPipeline } from './evaluate';
import type { PipelineEvaluation, ResolvedEvalDataConfig, RetrainResult } from './evaluate';
import { AGENTS, agentDimensions, checkPipeline, decodePipeline, describePipeline, pipelineKey } from './pipeline';
import type { AgentName } from './pipeline';
import { SEARCH_METHODS, runSearch, syntheticEvaluator, syntheticExpectedReward, trainingEvaluator } from './search';
import type { SearchEvaluator, SearchMethod, SearchResult } from './search';
import { flopsBudgets, presetSpace } from './spaces';
import type { Pipeline, SearchSpace, SpacePreset } from './spaces';

// ------------------------------------------------------------------ plans

/** Compute presets of the MA2ML notebooks. */
export const MA2ML_PRESETS = ['smoke', 'quick', 'full'] as const;
/** One of {@link MA2ML_PRESETS}. */
export type Ma2mlPreset = (typeof MA2ML_PRESETS)[number];

const IntervalSeeds = z.array(z.number().int()).min(1, 'at least one seed').refine((s) => new Set(s).size === s.length, 'seeds must be distinct');

const PlanSchema = z
  .object({
    preset: z.enum(MA2ML_PRESETS),
    /** Search space preset (`presetSpace`). */
    spacePreset: z.enum(['smoke', 'quick', 'full']),
    /** One sentence on what this configuration is (stated in notebook captions). */
    description: z.string().min(1),
    methods: z.array(z.enum(SEARCH_METHODS)).min(1).refine((m) => new Set(m).size === m.length, 'methods must be distinct'),
    /** Search seeds (policies, sampling); >= 3 for quick, >= 5 for full. */
    seeds: IntervalSeeds,
    /** Evaluations per search (equal for every method). */
    evaluations: z.number().int().min(1),
    /** Pipelines proposed (and evaluated in parallel) per learner update. */
    batchSize: z.number().int().min(1),
    /** The two FLOPs (MAC) budgets, tight then loose. */
    flopsBudgets: z.tuple([z.number().positive(), z.number().positive()]).refine(([a, b]) => a < b, 'tight budget must be below the loose one'),
    /** Budget rule of the searches: hard, masked at sampling (`runSearch` `maskOverBudget`). */
    budgetRule: z.literal('hard-mask'),
    evaluation: z
      .object({
        data: z.object({ source: z.enum(['auto', 'full', 'embedded']), trainSubset: z.number().int().min(10).multipleOf(10), validationSize: z.number().int().min(10), dataSeed: z.number().int() }).strict(),
        epochs: z.number().int().min(1),
        /** Evaluation (training) seed of every search evaluation. */
        seed: z.number().int(),
      })
      .strict(),
    /** Worker threads (0: evaluate inline in this process). */
    workers: z.number().int().min(0),
    retrain: z.object({ epochs: z.number().int().min(1), trainLimit: z.number().int().min(10).multipleOf(10), testLimit: z.number().int().min(1), seed: z.number().int() }).strict(),
    /** Reward-noise check: the best `pipelines` distinct pipelines re-evaluated with these evaluation seeds. */
    noise: z.object({ pipelines: z.number().int().min(1), seeds: IntervalSeeds }).strict(),
    ablations: z
      .object({
        /** Index into flopsBudgets of the budget the ablations use. */
        budgetIndex: z.union([z.literal(0), z.literal(1)]),
        /** Divergence weights w of the monotonic-improvement check (must include 0). */
        divergenceWeights: z.array(z.number().min(0)).min(2).refine((w) => w.includes(0), 'must include 0'),
        /** Synthetic-reward monotonic check: seeds, learner updates, batch size, reward seed. */
        synthetic: z.object({ seeds: IntervalSeeds, updates: z.number().int().min(2), batchSize: z.number().int().min(1), rewardSeed: z.number().int() }).strict(),
      })
      .strict(),
    bootstrap: z.object({ reps: z.number().int().min(10), seed: z.number().int() }).strict(),
  })
  .strict();

/** Everything notebooks 21 and 22 run for one preset (plain JSON; edit a copy, then {@link parsePlan}). */
export type Ma2mlPlan = z.output<typeof PlanSchema>;

/**
 * Validates a plan (e.g. one edited in a notebook cell); throws naming the field.
 *
 * @example
 * ```ts
 * const plan = ma2mlPlan('quick');
 * plan.seeds = [0, 1, 2, 3];
 * parsePlan(plan);
 * ```
 */
export function parsePlan(plan: unknown): Ma2mlPlan {
  return parseConfig(PlanSchema, plan, 'MA2ML plan');
}

/**
 * The plan of notebooks 21 and 22 for a preset (a fresh copy each call). Budget arithmetic and the
 * reasons for each number are in `src/ma2ml/README.md` ("Experiments").
 * - `smoke` (CI, < 60 s per notebook): MLP smoke space, 2 seeds x 6 evaluations (batch 3), proxy 200 / 200 examples, inline.
 * - `quick` (< 30 min for both notebooks): plain-conv quick space, 3 seeds x 16 evaluations (batch 4),
 *   proxy 1000 training / 500 validation examples x 1 epoch, 2 workers.
 * - `full` (< 3 h): the quick conv space at its default proxy (2000 / 1000 x 1 epoch), 5 seeds x 36
 *   evaluations (batch 4); the MobileNetV2-style `full` space (about 110 s per evaluation) does not
 *   fit 7 methods x 2 budgets x 5 seeds in 3 hours on 2 cores.
 *
 * @example
 * ```ts
 * const plan = ma2mlPlan('quick');
 * plan.methods.length; // 7
 * ```
 */
export function ma2mlPlan(preset: Ma2mlPreset): Ma2mlPlan {
  const cores = Math.max(1, os.cpus().length);
  const base = {
    preset,
    methods: [...SEARCH_METHODS],
    budgetRule: 'hard-mask' as const,
    bootstrap: { reps: 2000, seed: 0 },
  };
  let plan: unknown;
  if (preset === 'smoke') {
    plan = {
      ...base,
      spacePreset: 'smoke',
      description: 'smoke: MLP search space, 200/200 proxy examples x 1 epoch, 2 seeds x 6 evaluations (checks the code path, not the claims)',
      seeds: [0, 1],
      evaluations: 6,
      batchSize: 3,
      flopsBudgets: flopsBudgets('smoke'),
      evaluation: { data: { source: 'auto', trainSubset: 200, validationSize: 200, dataSeed: 0 }, epochs: 1, seed: 0 },
      workers: 0,
      retrain: { epochs: 1, trainLimit: 200, testLimit: 200, seed: 0 },
      noise: { pipelines: 2, seeds: [0, 1] },
      ablations: { budgetIndex: 0, divergenceWeights: [0, 0.1], synthetic: { seeds: [0, 1, 2], updates: 6, batchSize: 8, rewardSeed: 7 } },
    };
  } else if (preset === 'quick') {
    plan = {
      ...base,
      spacePreset: 'quick',
      description: 'quick: plain-conv search space, proxy 1000 training / 500 validation examples x 1 epoch, 3 seeds x 16 evaluations per search',
      seeds: [0, 1, 2],
      evaluations: 16,
      batchSize: 4,
      flopsBudgets: flopsBudgets('quick'),
      evaluation: { data: { source: 'auto', trainSubset: 1000, validationSize: 500, dataSeed: 0 }, epochs: 1, seed: 0 },
      workers: cores,
      retrain: { epochs: 1, trainLimit: 4000, testLimit: 2000, seed: 0 },
      noise: { pipelines: 3, seeds: [0, 1, 2, 3] },
      ablations: { budgetIndex: 0, divergenceWeights: [0, 0.1, 1], synthetic: { seeds: Array.from({ length: 8 }, (_, i) => i), updates: 30, batchSize: 8, rewardSeed: 7 } },
    };
  } else if (preset === 'full') {
    plan = {
      ...base,
      spacePreset: 'quick',
      description: 'full (reduced, see README): the plain-conv quick space at its default proxy (2000 training / 1000 validation examples x 1 epoch), 5 seeds x 36 evaluations per search; the MobileNetV2-style full space (~110 s per evaluation) does not fit 3 hours',
      seeds: [0, 1, 2, 3, 4],
      evaluations: 36,
      batchSize: 4,
      flopsBudgets: flopsBudgets('quick'),
      evaluation: { ...evaluationDefaults('quick'), seed: 0 },
      workers: cores,
      retrain: { epochs: 1, trainLimit: 10000, testLimit: 10000, seed: 0 },
      noise: { pipelines: 4, seeds: [0, 1, 2, 3, 4] },
      ablations: { budgetIndex: 0, divergenceWeights: [0, 0.1, 1], synthetic: { seeds: Array.from({ length: 10 }, (_, i) => i), updates: 50, batchSize: 8, rewardSeed: 7 } },
    };
  } else {
    throw new Error(`ma2mlPlan: unknown preset ${JSON.stringify(preset)} (expected smoke, quick or full)`);
  }
  return parsePlan(plan);
}

/** Per-unit costs of a plan (seconds in one process with nothing else running; see the README). */
export interface PlanUnitCosts {
  /** One proxy evaluation. */
  secondsPerEvaluation: number;
  /** One retraining of a best pipeline. */
  secondsPerRetrain: number;
  /** One learner update of the synthetic monotonic check (inline, not parallel). */
  secondsPerSyntheticUpdate: number;
  /** Throughput of the worker pool over one process (measured 1.74-1.9 with 2 workers). */
  speedup: number;
}

/**
 * Per-unit costs measured on this project's 2-core machine (README "Budget arithmetic"): smoke MLP
 * evaluations about 0.1 s; quick conv evaluations at the 1000-example proxy about 2.2 s and at the
 * 2000-example proxy (the `full` plan) about 4.4 s; retrains 0.3 / 8 / 20 s; a synthetic learner
 * update about 0.1 s; 2 workers give 1.8x.
 *
 * @example
 * ```ts
 * planCost(ma2mlPlan('quick'), MEASURED_COSTS.quick).totalSeconds / 60; // minutes, upper bound
 * ```
 */
export const MEASURED_COSTS: Readonly<Record<Ma2mlPreset, PlanUnitCosts>> = Object.freeze({
  smoke: { secondsPerEvaluation: 0.1, secondsPerRetrain: 0.3, secondsPerSyntheticUpdate: 0.1, speedup: 1 },
  quick: { secondsPerEvaluation: 2.2, secondsPerRetrain: 8, secondsPerSyntheticUpdate: 0.1, speedup: 1.8 },
  full: { secondsPerEvaluation: 4.4, secondsPerRetrain: 20, secondsPerSyntheticUpdate: 0.1, speedup: 1.8 },
});

/**
 * Upper bound of a plan's compute (both notebooks): nominal evaluations and seconds, assuming every
 * evaluation is distinct (the store's sharing across methods, seeds and budgets only lowers it).
 * Search, noise and retrain costs are divided by the pool `speedup`; the synthetic check runs inline.
 *
 * @example
 * ```ts
 * planCost(ma2mlPlan('quick'), MEASURED_COSTS.quick).totalSeconds;
 * ```
 */
export function planCost(plan: Ma2mlPlan, costs: PlanUnitCosts): {
  searchEvaluations21: number;
  extraEvaluations22: number;
  retrains: number;
  noiseEvaluations: number;
  syntheticUpdates: number;
  totalSeconds: number;
} {
  const p = parsePlan(plan);
  const s = p.seeds.length;
  const searchEvaluations21 = p.methods.length * 2 * s * p.evaluations;
  const extraW = p.ablations.divergenceWeights.filter((w) => w !== 0.1).length;
  const extraEvaluations22 = (extraW + AGENTS.length) * s * p.evaluations;
  const retrains = p.methods.length * 2 * s;
  const noiseEvaluations = p.noise.pipelines * p.noise.seeds.length;
  const syntheticUpdates = p.ablations.divergenceWeights.length * p.ablations.synthetic.seeds.length * p.ablations.synthetic.updates;
  const sp = Math.max(1, costs.speedup);
  const totalSeconds = ((searchEvaluations21 + extraEvaluations22 + noiseEvaluations) * costs.secondsPerEvaluation + retrains * costs.secondsPerRetrain) / sp + syntheticUpdates * costs.secondsPerSyntheticUpdate;
  return { searchEvaluations21, extraEvaluations22, retrains, noiseEvaluations, syntheticUpdates, totalSeconds };
}

/**
 * The executor of a plan: a `WorkerPoolExecutor` with `plan.workers` threads, or inline for 0.
 * Close it when done.
 *
 * @example
 * ```ts
 * const executor = planExecutor(plan);
 * try { ... } finally { await executor.close(); }
 * ```
 */
export function planExecutor(plan: Ma2mlPlan): Executor {
  return plan.workers > 0 ? new WorkerPoolExecutor({ workers: plan.workers }) : new InlineExecutor();
}

/**
 * The search space of a plan (`presetSpace(plan.spacePreset)`).
 *
 * @example
 * ```ts
 * const space = planSpace(ma2mlPlan('full')); // the quick conv space (see ma2mlPlan)
 * ```
 */
export function planSpace(plan: Ma2mlPlan): SearchSpace {
  return presetSpace(plan.spacePreset as SpacePreset);
}

/**
 * The evaluator all searches of a plan share: proxy training under the hard rule at the LOOSE
 * budget. Searches mask at their own budget (`maskOverBudget`), so every evaluated pipeline is
 * within its budget and its reward is its validation accuracy; one cache then serves both budgets.
 *
 * @example
 * ```ts
 * const ev = planEvaluator(plan, space);
 * ```
 */
export function planEvaluator(plan: Ma2mlPlan, space: SearchSpace): SearchEvaluator {
  return trainingEvaluator(space, { flopsBudget: plan.flopsBudgets[1], budgetRule: 'hard', seed: plan.evaluation.seed, data: plan.evaluation.data as ResolvedEvalDataConfig, epochs: plan.evaluation.epochs });
}

// ------------------------------------------------------------------ default pipeline

/**
 * The fixed pipeline of single-module searches (reconstruction, documented in the README): AUG
 * every op slot Identity with probability 0 (no augmentation); HPO every dimension at its middle
 * choice (index `floor((k - 1) / 2)`: SGD-momentum, lr 0.03, wd 5e-5, batch 128, label smoothing 0.1,
 * mixup 0.2, dropout 0.1 in the quick space); NAS every dimension at its middle choice, then, while
 * over `flopsBudget` (or invalid), the token whose lowering by one saves the most MACs is lowered.
 *
 * @example
 * ```ts
 * const p = defaultPipeline(presetSpace('quick'), 6e5);
 * checkPipeline(presetSpace('quick'), p, { flopsBudget: 6e5 }).valid; // true
 * ```
 */
export function defaultPipeline(space: SearchSpace, flopsBudget: number): Pipeline {
  if (!(flopsBudget > 0)) throw new Error(`defaultPipeline: flopsBudget must be positive, got ${flopsBudget}`);
  const dims = agentDimensions(space);
  const mid = (k: number) => Math.floor((k - 1) / 2);
  const aug = dims.aug.map((d) => {
    if (d.name.endsWith('op')) {
      const i = d.choices.indexOf('Identity');
      return i >= 0 ? i : 0;
    }
    const i = d.choices.indexOf(0);
    return i >= 0 ? i : 0;
  });
  const hpo = dims.hpo.map((d) => mid(d.choices.length));
  const nas = dims.nas.map((d) => mid(d.choices.length));
  const macsOf = (n: number[]): number => {
    const c = checkPipeline(space, decodePipeline(space, [aug, n, hpo]));
    return c.valid ? c.macs : Number.POSITIVE_INFINITY;
  };
  for (let guard = 0; macsOf(nas) > flopsBudget; guard++) {
    let best = -1;
    let bestMacs = Number.POSITIVE_INFINITY;
    nas.forEach((t, i) => {
      if (t === 0) return;
      const trial = nas.slice();
      trial[i] = t - 1;
      const m = macsOf(trial);
      if (m < bestMacs) [best, bestMacs] = [i, m];
    });
    if (best < 0 || guard > 1000) throw new Error(`defaultPipeline: no architecture of '${space.name}' reachable by lowering tokens fits ${flopsBudget} MACs`);
    nas[best]--;
  }
  return decodePipeline(space, [aug, nas, hpo]);
}

// ------------------------------------------------------------------ running searches

/** One search of a set: method, FLOPs budget (masked at sampling), seed and ablation switches. */
export interface SearchCell {
  method: SearchMethod;
  flopsBudget: number;
  seed: number;
  /** Override of the learner's divergence weight w (monotonic-improvement ablation). */
  divergenceWeight?: number;
  /** Search only these agents (others at {@link defaultPipeline}). */
  modules?: AgentName[];
  /** Group label in summaries (default: the method, plus `w=` / `only ` when set). */
  label?: string;
}

/** A finished search with its cell (plain JSON). */
export interface SearchRun {
  cell: SearchCell;
  label: string;
  result: SearchResult;
}

/**
 * The label of a cell: `label`, else the method with `w=...` or `only aug+nas` appended.
 *
 * @example
 * ```ts
 * cellLabel({ method: 'ma2ml', flopsBudget: 6e5, seed: 0, divergenceWeight: 0 }); // 'ma2ml w=0'
 * ```
 */
export function cellLabel(cell: SearchCell): string {
  if (cell.label) return cell.label;
  let s: string = cell.method;
  if (cell.divergenceWeight !== undefined) s += ` w=${cell.divergenceWeight}`;
  if (cell.modules) s = `${s} only ${cell.modules.join('+')}`;
  return s;
}

/**
 * The searches of notebook 21: every method x both budgets x every seed.
 *
 * @example
 * ```ts
 * mainCells(ma2mlPlan('quick')).length; // 7 x 2 x 3 = 42
 * ```
 */
export function mainCells(plan: Ma2mlPlan): SearchCell[] {
  const p = parsePlan(plan);
  return p.flopsBudgets.flatMap((b) => p.methods.flatMap((method) => p.seeds.map((seed) => ({ method, flopsBudget: b, seed }))));
}

/**
 * The searches of notebook 22 (all at the ablation budget; those equal to notebook 21's runs are
 * served from the store): credit and off-policy (ma2ml, ma2ml-no-credit, ma2ml-lite, independent),
 * the divergence weights (ma2ml with each w), single-module ma2ml (aug, nas, hpo) and sequential.
 *
 * @example
 * ```ts
 * const cells = ablationCells(ma2mlPlan('smoke'));
 * ```
 */
export function ablationCells(plan: Ma2mlPlan): SearchCell[] {
  const p = parsePlan(plan);
  const b = p.flopsBudgets[p.ablations.budgetIndex];
  const cells: SearchCell[] = [];
  for (const seed of p.seeds) {
    for (const method of ['ma2ml', 'ma2ml-no-credit', 'ma2ml-lite', 'independent', 'sequential'] as SearchMethod[]) cells.push({ method, flopsBudget: b, seed });
    for (const w of p.ablations.divergenceWeights) cells.push({ method: 'ma2ml', flopsBudget: b, seed, divergenceWeight: w });
    for (const a of AGENTS) cells.push({ method: 'ma2ml', flopsBudget: b, seed, modules: [a] });
  }
  return cells;
}

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
 * ({@link planEvaluator}), hard budget masked at sampling at the cell's budget, the plan's evaluation
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
export async function runSearches(plan: Ma2mlPlan, cells: readonly SearchCell[], options: RunSearchesOptions): Promise<SearchRun[]> {
  const p = parsePlan(plan);
  const space = options.space;
  const evaluator = planEvaluator(p, space);
  const runs: SearchRun[] = [];
  for (const [i, cell] of cells.entries()) {
    if (!SEARCH_METHODS.includes(cell.method)) throw new Error(`runSearches: cells[${i}].method '${cell.method}' is not one of ${SEARCH_METHODS.join(', ')}`);
    if (!(cell.flopsBudget > 0) || cell.flopsBudget > p.flopsBudgets[1]) throw new Error(`runSearches: cells[${i}].flopsBudget ${cell.flopsBudget} must be in (0, ${p.flopsBudgets[1]}] (the evaluator's loose budget)`);
    const result = await runSearch({
      method: cell.method,
      space,
      evaluations: p.evaluations,
      batchSize: p.batchSize,
      seed: cell.seed,
      flopsBudget: cell.flopsBudget,
      maskOverBudget: true,
      evaluator,
      executor: options.executor,
      store: options.store,
      learner: cell.divergenceWeight !== undefined ? { divergenceWeight: cell.divergenceWeight } : undefined,
      modules: cell.modules,
      fixedPipeline: cell.modules ? defaultPipeline(space, cell.flopsBudget) : undefined,
    });
    const run: SearchRun = { cell, label: cellLabel(cell), result };
    runs.push(run);
    options.onRun?.(run, i, cells.length);
  }
  return runs;
}

/**
 * The runs of one label at one budget, ordered by seed.
 *
 * @example
 * ```ts
 * selectRuns(runs, 'ma2ml', 6e5).map((r) => r.result.best.reward);
 * ```
 */
export function selectRuns(runs: readonly SearchRun[], label: string, flopsBudget: number): SearchRun[] {
  return runs.filter((r) => r.label === label && r.cell.flopsBudget === flopsBudget).sort((a, b) => a.cell.seed - b.cell.seed);
}

// ------------------------------------------------------------------ statistics

/**
 * `point [lo, hi]` with `digits` decimals.
 *
 * @example
 * ```ts
 * formatInterval({ point: 0.7123, lo: 0.69, hi: 0.73 }); // '0.712 [0.690, 0.730]'
 * ```
 */
export function formatInterval(i: Interval, digits = 3): string {
  return `${i.point.toFixed(digits)} [${i.lo.toFixed(digits)}, ${i.hi.toFixed(digits)}]`;
}

/**
 * Percentile bootstrap CI of `mean(x) - mean(y)`, resampling `x` and `y` independently (the runs of
 * two methods are independent samples over seeds).
 *
 * @example
 * ```ts
 * differenceCI([0.8, 0.82, 0.79], [0.7, 0.72, 0.71], { seed: 0 }); // point 0.093, CI above 0
 * ```
 */
export function differenceCI(x: readonly number[], y: readonly number[], opts: { reps?: number; seed?: number; confidence?: number } = {}): Interval {
  for (const [name, v] of [['x', x], ['y', y]] as [string, readonly number[]][]) {
    if (!Array.isArray(v) || v.length === 0 || v.some((e) => typeof e !== 'number' || !Number.isFinite(e))) throw new Error(`differenceCI: ${name} must be a non-empty array of finite numbers`);
  }
  const reps = opts.reps ?? 2000;
  const conf = opts.confidence ?? 0.95;
  if (!Number.isInteger(reps) || reps < 10) throw new Error(`differenceCI: reps must be an integer >= 10, got ${reps}`);
  if (!(conf > 0 && conf < 1)) throw new Error(`differenceCI: confidence must be in (0, 1), got ${conf}`);
  const mean = (a: readonly number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  const rng = new Rng(opts.seed ?? 0).fork('difference-ci');
  const est = new Float64Array(reps);
  for (let b = 0; b < reps; b++) {
    let sx = 0;
    for (let i = 0; i < x.length; i++) sx += x[rng.int(x.length)];
    let sy = 0;
    for (let i = 0; i < y.length; i++) sy += y[rng.int(y.length)];
    est[b] = sx / x.length - sy / y.length;
  }
  est.sort();
  const q = (p: number) => {
    const pos = p * (reps - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, reps - 1);
    return est[lo] + (est[hi] - est[lo]) * (pos - lo);
  };
  const alpha = (1 - conf) / 2;
  return { point: mean(x) - mean(y), lo: q(alpha), hi: q(1 - alpha) };
}

/**
 * The sentence of an ablation row, from the CI of the difference `a - b` of a metric:
 * - lower end above 0 (`higherIsBetter`; upper end below 0 otherwise): `holds here: ...`;
 * - the CI on the wrong side of 0: `contradicted here: ...`;
 * - the CI includes 0: `not shown here: the 95% CI of the difference [lo, hi] includes 0`.
 *
 * @example
 * ```ts
 * claimSentence({ a: 'ma2ml', b: 'ma2ml-no-credit', metric: 'best-so-far at 20 evaluations', diff: { point: 0.03, lo: 0.01, hi: 0.05 } });
 * // 'holds here: ma2ml best-so-far at 20 evaluations exceeds ma2ml-no-credit by 0.030 [0.010, 0.050]'
 * ```
 */
export function claimSentence(args: { a: string; b: string; metric: string; diff: Interval; higherIsBetter?: boolean; digits?: number }): string {
  const { a, b, metric, diff } = args;
  const hib = args.higherIsBetter ?? true;
  const d = args.digits ?? 3;
  for (const k of ['point', 'lo', 'hi'] as const) if (!Number.isFinite(diff[k])) throw new Error(`claimSentence: diff.${k} must be finite, got ${diff[k]}`);
  if (diff.lo > diff.hi) throw new Error(`claimSentence: diff.lo ${diff.lo} exceeds diff.hi ${diff.hi}`);
  const ci = `${diff.point.toFixed(d)} [${diff.lo.toFixed(d)}, ${diff.hi.toFixed(d)}]`;
  const better = hib ? diff.lo > 0 : diff.hi < 0;
  const worse = hib ? diff.hi < 0 : diff.lo > 0;
  if (better) return `holds here: ${a} ${metric} ${hib ? 'exceeds' : 'is below'} ${b} by ${ci}`;
  if (worse) return `contradicted here: ${a} ${metric} ${hib ? 'is below' : 'exceeds'} ${b} (difference ${ci})`;
  return `not shown here: the 95% CI of the difference ${a} - ${b} in ${metric}, ${ci}, includes 0`;
}

/**
 * The 1-based evaluation at which a best-so-far curve first reaches `threshold` (null: never).
 *
 * @example
 * ```ts
 * evaluationsToThreshold([0.1, 0.5, 0.7], 0.5); // 2
 * ```
 */
export function evaluationsToThreshold(curve: readonly number[], threshold: number): number | null {
  const i = curve.findIndex((v) => v >= threshold);
  return i < 0 ? null : i + 1;
}

/**
 * Normalised area under a best-so-far curve: its mean over evaluations (in reward units; higher =
 * reaches good pipelines sooner).
 *
 * @example
 * ```ts
 * areaUnderCurve([0.2, 0.6, 0.6, 1]); // 0.6
 * ```
 */
export function areaUnderCurve(curve: readonly number[]): number {
  if (curve.length === 0) throw new Error('areaUnderCurve: empty curve');
  return curve.reduce((s, v) => s + v, 0) / curve.length;
}

/**
 * Fraction of consecutive steps of `series` where it drops by more than `tolerance`.
 *
 * @example
 * ```ts
 * dropFraction([0.5, 0.6, 0.55, 0.7]); // 1/3
 * ```
 */
export function dropFraction(series: readonly number[], tolerance = 0): number {
  if (series.length < 2) throw new Error(`dropFraction: need at least 2 values, got ${series.length}`);
  let drops = 0;
  for (let i = 1; i < series.length; i++) if (series[i] < series[i - 1] - tolerance) drops++;
  return drops / (series.length - 1);
}

/**
 * Best-so-far reward vs evaluations of each label at one budget: the mean over seeds with a
 * stratified-bootstrap 95% CI band (`sampleEfficiencyCurve`, statistic mean).
 *
 * @example
 * ```ts
 * const curves = bestSoFarCurves(runs, plan.methods, plan.flopsBudgets[0]);
 * curves.ma2ml.point; // one value per evaluation
 * ```
 */
export function bestSoFarCurves(runs: readonly SearchRun[], labels: readonly string[], flopsBudget: number, opts: { reps?: number; seed?: number } = {}): Record<string, SampleEfficiencyCurve> {
  const out: Record<string, SampleEfficiencyCurve> = {};
  for (const label of labels) {
    const sel = selectRuns(runs, label, flopsBudget);
    if (sel.length === 0) throw new Error(`bestSoFarCurves: no runs of '${label}' at budget ${flopsBudget}`);
    const scores = sel.map((r) => [r.result.log.map((e) => e.bestSoFar)]);
    out[label] = sampleEfficiencyCurve(scores, { statistic: aggregateMean, steps: scores[0][0].map((_, k) => k + 1), reps: opts.reps ?? 2000, seed: opts.seed ?? 0 });
  }
  return out;
}

/** One row of {@link comparisonRows}. */
export interface ComparisonRow {
  method: string;
  seeds: number;
  /** Mean over seeds of the best validation reward, with its 95% CI. */
  best: Interval;
  /** IQM over seeds of the best reward, with its stratified-bootstrap CI. */
  iqm: Interval;
  /** P(reference > method) over seeds (null for the reference itself). */
  probabilityOfImprovement: Interval | null;
  /** Retrained test accuracy of each seed's best pipeline, mean with its CI (null without retrains). */
  testAccuracy: Interval | null;
  /** Mean distinct pipelines per search and mean proposals masked (over budget or invalid). */
  distinct: number;
  masked: number;
}

/**
 * The comparison table of one budget: per label, the best reward (mean [CI] and IQM [CI] over
 * seeds), the probability that `reference` beats it, and (with `retrains`) the retrained test
 * accuracy of each seed's best pipeline.
 *
 * @example
 * ```ts
 * const rows = comparisonRows(runs, plan.methods, 6e5, { reference: 'ma2ml', retrains });
 * ```
 */
export function comparisonRows(
  runs: readonly SearchRun[],
  labels: readonly string[],
  flopsBudget: number,
  opts: { reference?: string; retrains?: Map<string, RetrainResult>; reps?: number; seed?: number } = {},
): ComparisonRow[] {
  const reference = opts.reference ?? 'ma2ml';
  const bs = { reps: opts.reps ?? 2000, seed: opts.seed ?? 0 };
  const bestOf = (label: string) => selectRuns(runs, label, flopsBudget).map((r) => r.result.best.reward);
  const refScores = labels.includes(reference) ? bestOf(reference).map((v) => [v]) : null;
  return labels.map((label) => {
    const sel = selectRuns(runs, label, flopsBudget);
    if (sel.length === 0) throw new Error(`comparisonRows: no runs of '${label}' at budget ${flopsBudget}`);
    const best = sel.map((r) => r.result.best.reward);
    let test: Interval | null = null;
    if (opts.retrains) {
      const accs = sel.map((r) => opts.retrains?.get(pipelineKey(r.result.best.pipeline))?.testAccuracy).filter((a): a is number => typeof a === 'number');
      if (accs.length > 0) test = meanCI(accs, bs);
    }
    return {
      method: label,
      seeds: sel.length,
      best: meanCI(best, bs),
      iqm: stratifiedBootstrapCI(best.map((v) => [v]), aggregateIqm, bs),
      probabilityOfImprovement: refScores && label !== reference ? probabilityOfImprovement(refScores, best.map((v) => [v]), bs) : null,
      testAccuracy: test,
      distinct: sel.reduce((s, r) => s + r.result.distinct, 0) / sel.length,
      masked: sel.reduce((s, r) => s + r.result.masked, 0) / sel.length,
    };
  });
}

// ------------------------------------------------------------------ retraining and noise

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
  return retrainPipeline(config.pipeline, { space: config.space, epochs: config.epochs, trainLimit: config.trainLimit, testLimit: config.testLimit, seed: ctx.seed });
}

/**
 * Job kind of the final retraining (runs in workers, cached in the store under `ma2ml-retrains`).
 *
 * @example
 * ```ts
 * const job = retrainKind.job(pipelineKey(p), { pipeline: p, space, epochs: 1, trainLimit: 5000, testLimit: 2000 }, 0);
 * ```
 */
export const retrainKind = defineJobKind({ name: 'ma2ml-retrain', module: __filename, export: 'retrainJob', version: 'ma2ml-retrain@1', fn: retrainJob });

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
export async function retrainBest(plan: Ma2mlPlan, space: SearchSpace, runs: readonly SearchRun[], options: { executor: Executor; store?: ExperimentStore }): Promise<Map<string, RetrainResult>> {
  const p = parsePlan(plan);
  const byKey = new Map<string, Pipeline>();
  for (const r of runs) byKey.set(pipelineKey(r.result.best.pipeline), r.result.best.pipeline);
  const keys = [...byKey.keys()];
  const jobs = keys.map((k) => retrainKind.job(k, { pipeline: byKey.get(k) as Pipeline, space, epochs: p.retrain.epochs, trainLimit: p.retrain.trainLimit, testLimit: p.retrain.testLimit }, p.retrain.seed));
  const out = new Map<string, RetrainResult>();
  if (jobs.length === 0) return out;
  let results: RetrainResult[];
  if (options.store) {
    results = (await runExperiment<RetrainResult>({ name: 'ma2ml-retrains', jobs, executor: options.executor, store: options.store })).results;
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
export async function rewardNoise(plan: Ma2mlPlan, space: SearchSpace, runs: readonly SearchRun[], options: { executor: Executor; store?: ExperimentStore }): Promise<NoiseRow[]> {
  const p = parsePlan(plan);
  const ev = planEvaluator(p, space);
  const best = new Map<string, { pipeline: Pipeline; reward: number }>();
  for (const r of runs) {
    for (const e of r.result.log) {
      const k = pipelineKey(e.pipeline);
      if (!best.has(k) || (best.get(k) as { reward: number }).reward < e.reward) best.set(k, { pipeline: e.pipeline, reward: e.reward });
    }
  }
  const top = [...best.entries()].sort((a, b) => b[1].reward - a[1].reward).slice(0, p.noise.pipelines);
  const rewards: number[][] = top.map(() => []);
  for (const seed of p.noise.seeds) {
    const jobs = top.map(([k, v]) => evaluationKind.job(k, { ...ev.config, pipeline: v.pipeline }, seed));
    let results: PipelineEvaluation[];
    if (options.store) {
      results = (await runExperiment<PipelineEvaluation>({ name: 'ma2ml-evaluations', jobs, executor: options.executor, store: options.store })).results;
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
    return { pipeline: describePipeline(v.pipeline), rewards: xs, seeds: [...p.noise.seeds], mean, sd, min: Math.min(...xs), max: Math.max(...xs) };
  });
}

// ------------------------------------------------------------------ ablations

/** One row of the ablation summary (notebook 22). */
export interface AblationRow {
  ablation: string;
  comparison: string;
  metric: string;
  a: Interval;
  b: Interval;
  difference: Interval;
  claim: string;
}

function perSeed(runs: readonly SearchRun[], label: string, budget: number, f: (r: SearchRun) => number): number[] {
  const sel = selectRuns(runs, label, budget);
  if (sel.length === 0) throw new Error(`ablation: no runs of '${label}' at budget ${budget}`);
  return sel.map(f);
}

/**
 * An ablation row comparing labels `a` and `b` at `budget` on a per-run metric: both means with CIs,
 * the difference `a - b` with its CI ({@link differenceCI}) and the {@link claimSentence}.
 *
 * @example
 * ```ts
 * ablationRow(runs, { ablation: 'credit assignment', a: 'ma2ml', b: 'ma2ml-no-credit', budget: 6e5, metric: 'best-so-far at 20 evaluations', value: (r) => r.result.best.reward });
 * ```
 */
export function ablationRow(
  runs: readonly SearchRun[],
  args: { ablation: string; a: string; b: string; budget: number; metric: string; value: (r: SearchRun) => number; higherIsBetter?: boolean; reps?: number; seed?: number; digits?: number },
): AblationRow {
  const bs = { reps: args.reps ?? 2000, seed: args.seed ?? 0 };
  const xa = perSeed(runs, args.a, args.budget, args.value);
  const xb = perSeed(runs, args.b, args.budget, args.value);
  const difference = differenceCI(xa, xb, bs);
  return {
    ablation: args.ablation,
    comparison: `${args.a} vs ${args.b}`,
    metric: args.metric,
    a: meanCI(xa, bs),
    b: meanCI(xb, bs),
    difference,
    claim: claimSentence({ a: args.a, b: args.b, metric: args.metric, diff: difference, higherIsBetter: args.higherIsBetter, digits: args.digits }),
  };
}

/**
 * The reward threshold of the sample-efficiency ablation: the median over the given runs of their
 * final best reward (so about half the runs reach it).
 *
 * @example
 * ```ts
 * const thr = medianFinalBest([...selectRuns(runs, 'ma2ml', b), ...selectRuns(runs, 'ma2ml-lite', b)]);
 * ```
 */
export function medianFinalBest(runs: readonly SearchRun[]): number {
  if (runs.length === 0) throw new Error('medianFinalBest: no runs');
  const v = runs.map((r) => r.result.best.reward).sort((a, b) => a - b);
  const n = v.length;
  return n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/** Per-update expected reward of one monotonic-improvement search. */
export interface MonotonicTrace {
  divergenceWeight: number;
  seed: number;
  /** Expected reward J_k before the first update (k = 0) and after each update. */
  expected: number[];
  /** Fraction of updates with J_{k+1} < J_k (exact on the synthetic reward). */
  dropFraction: number;
}

/**
 * Monotonic-improvement check on the synthetic reward: `ma2ml` (off-policy, counterfactual credit)
 * with each divergence weight w of the plan, for each synthetic seed, `updates` learner updates of
 * `batchSize` evaluations; after each update the policy's EXACT expected reward
 * ({@link syntheticExpectedReward}) is recorded, so a drop is a real drop, not sampling noise.
 * Runs inline (cheap).
 *
 * @example
 * ```ts
 * const traces = await monotonicSynthetic(plan, space);
 * traces.filter((t) => t.divergenceWeight === 0).map((t) => t.dropFraction);
 * ```
 */
export async function monotonicSynthetic(plan: Ma2mlPlan, space: SearchSpace): Promise<MonotonicTrace[]> {
  const p = parsePlan(plan);
  const s = p.ablations.synthetic;
  const traces: MonotonicTrace[] = [];
  const vocab = agentDimensions(space);
  const uniform = AGENTS.map((a) => vocab[a].map((d) => new Float32Array(d.choices.length).fill(1 / d.choices.length)));
  const j0 = syntheticExpectedReward(space, s.rewardSeed, uniform);
  for (const w of p.ablations.divergenceWeights) {
    for (const seed of s.seeds) {
      const expected = [j0];
      await runSearch({
        method: 'ma2ml',
        space,
        evaluations: s.updates * s.batchSize,
        batchSize: s.batchSize,
        seed,
        evaluator: syntheticEvaluator(space, s.rewardSeed),
        learner: { divergenceWeight: w },
        onUpdate: (info) => expected.push(syntheticExpectedReward(space, s.rewardSeed, info.probabilities)),
      });
      traces.push({ divergenceWeight: w, seed, expected, dropFraction: dropFraction(expected) });
    }
  }
  return traces;
}

/**
 * Per-update batch-mean reward of a search (the training-evaluator estimate of the expected reward
 * under the policy that proposed the batch; noisy: batch size and evaluation noise).
 *
 * @example
 * ```ts
 * batchMeans(run.result); // one value per proposal batch
 * ```
 */
export function batchMeans(result: SearchResult): number[] {
  const sums = new Map<number, { s: number; n: number }>();
  for (const e of result.log) {
    const v = sums.get(e.batch) ?? { s: 0, n: 0 };
    v.s += e.reward;
    v.n++;
    sums.set(e.batch, v);
  }
  return [...sums.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v.s / v.n);
}

/** Drop statistics of one divergence weight (see {@link monotonicRows}). */
export interface MonotonicSummary {
  divergenceWeight: number;
  /** Exact synthetic check: drops over all updates and seeds, and the per-seed drop fraction (mean [CI]). */
  syntheticDrops: number;
  syntheticUpdates: number;
  syntheticDropFraction: Interval;
  /** Mean exact expected reward per update over seeds (index 0: the uniform policy). */
  syntheticMeanCurve: number[];
  /** Training evaluator: per-seed fraction of batches whose mean reward is below the previous batch's (noisy estimate), mean [CI]; null without runs. */
  trainingDropFraction: Interval | null;
  /** The sentence on the paper's monotonic-improvement claim for this w. */
  claim: string;
}

/**
 * Summaries of the monotonic-improvement check per divergence weight w: exact drop counts on the
 * synthetic reward (from {@link monotonicSynthetic}) and the batch-mean drop fraction of the
 * training-evaluator runs labelled `ma2ml w=<w>` at `budget` (when present), plus ablation rows
 * comparing each w > 0 with w = 0 (fewer drops is better).
 *
 * @example
 * ```ts
 * const { summaries, rows } = monotonicRows(traces, runs, plan.flopsBudgets[0], plan.bootstrap);
 * ```
 */
export function monotonicRows(
  traces: readonly MonotonicTrace[],
  runs: readonly SearchRun[],
  budget: number,
  bs: { reps?: number; seed?: number } = {},
): { summaries: MonotonicSummary[]; rows: AblationRow[] } {
  const o = { reps: bs.reps ?? 2000, seed: bs.seed ?? 0 };
  const weights = [...new Set(traces.map((t) => t.divergenceWeight))];
  if (weights.length === 0) throw new Error('monotonicRows: no traces');
  const drops = (w: number) => traces.filter((t) => t.divergenceWeight === w).map((t) => t.dropFraction);
  const trainingDrops = (w: number) => {
    const sel = selectRuns(runs, `ma2ml w=${w}`, budget);
    return sel.map((r) => dropFraction(batchMeans(r.result)));
  };
  const summaries: MonotonicSummary[] = weights.map((w) => {
    const tr = traces.filter((t) => t.divergenceWeight === w);
    const updates = tr.reduce((s, t) => s + t.expected.length - 1, 0);
    const count = tr.reduce((s, t) => s + Math.round(t.dropFraction * (t.expected.length - 1)), 0);
    const len = tr[0].expected.length;
    const curve = Array.from({ length: len }, (_, k) => tr.reduce((s, t) => s + t.expected[k], 0) / tr.length);
    const frac = meanCI(drops(w), o);
    const td = trainingDrops(w);
    const claim =
      count === 0
        ? `holds here (w = ${w}): the exact expected reward never dropped in ${updates} updates (${tr.length} seeds)`
        : `does not hold exactly (w = ${w}): the exact expected reward dropped in ${count} of ${updates} updates, per-seed fraction ${formatInterval(frac)}`;
    return { divergenceWeight: w, syntheticDrops: count, syntheticUpdates: updates, syntheticDropFraction: frac, syntheticMeanCurve: curve, trainingDropFraction: td.length > 0 ? meanCI(td, o) : null, claim };
  });
  const rows: AblationRow[] = [];
  if (weights.includes(0)) {
    const d0 = drops(0);
    for (const w of weights.filter((x) => x !== 0)) {
      const dw = drops(w);
      const diff = differenceCI(dw, d0, o);
      const s = summaries.find((x) => x.divergenceWeight === w) as MonotonicSummary;
      rows.push({
        ablation: 'monotonic improvement (synthetic, exact)',
        comparison: `w=${w} vs w=0`,
        metric: 'fraction of updates where the expected reward drops',
        a: s.syntheticDropFraction,
        b: meanCI(d0, o),
        difference: diff,
        claim: `${s.claim}; vs w = 0: ${claimSentence({ a: `w=${w}`, b: 'w=0', metric: 'drop fraction', diff, higherIsBetter: false })}`,
      });
      const t0 = trainingDrops(0);
      const tw = trainingDrops(w);
      if (t0.length > 0 && tw.length > 0) {
        const dt = differenceCI(tw, t0, o);
        rows.push({
          ablation: 'monotonic improvement (training, batch means)',
          comparison: `w=${w} vs w=0`,
          metric: 'fraction of batches whose mean reward drops',
          a: meanCI(tw, o),
          b: meanCI(t0, o),
          difference: dt,
          claim: claimSentence({ a: `w=${w}`, b: 'w=0', metric: 'batch-mean drop fraction', diff: dt, higherIsBetter: false }),
        });
      }
    }
  }
  return { summaries, rows };
}

/**
 * Display rows (strings) of {@link comparisonRows} for a table.
 *
 * @example
 * ```ts
 * showTable(formatComparisonRows(rows), { name: 'ma2ml-comparison' });
 * ```
 */
export function formatComparisonRows(rows: readonly ComparisonRow[], reference = 'ma2ml', digits = 3): Record<string, string | number>[] {
  return rows.map((r) => ({
    method: r.method,
    seeds: r.seeds,
    'best val reward, mean [95% CI]': formatInterval(r.best, digits),
    'IQM [95% CI]': formatInterval(r.iqm, digits),
    [`P(${reference} > method) [95% CI]`]: r.probabilityOfImprovement ? formatInterval(r.probabilityOfImprovement, 2) : '-',
    'retrained test acc, mean [95% CI]': r.testAccuracy ? formatInterval(r.testAccuracy, digits) : '-',
    'distinct pipelines (mean)': r.distinct.toFixed(1),
    'masked proposals (mean)': r.masked.toFixed(1),
  }));
}

/**
 * Display rows (strings) of ablation rows for the summary table, one claim sentence each.
 *
 * @example
 * ```ts
 * showTable(formatAblationRows(rows), { name: 'ma2ml-ablations' });
 * ```
 */
export function formatAblationRows(rows: readonly AblationRow[], digits = 3): Record<string, string>[] {
  return rows.map((r) => ({
    ablation: r.ablation,
    comparison: r.comparison,
    metric: r.metric,
    'A mean [95% CI]': formatInterval(r.a, digits),
    'B mean [95% CI]': formatInterval(r.b, digits),
    'A - B [95% CI]': formatInterval(r.difference, digits),
    "paper's claim here": r.claim,
  }));
}
