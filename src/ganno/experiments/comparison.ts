/**
 * Evaluation grids for the GANNO notebooks: controllers (trained agents, tuned schedules,
 * layerwise rules) run on the same test tasks as runtime jobs (parallel, cached), peak-LR tuning on
 * training tasks only, and summaries with two-level bootstrap CIs and "does the paper's claim hold
 * here" verdicts.
 */
import type { ProgressSink } from '../../progress';
import { runExperiment } from '../../runtime/experiment';
import type { Executor } from '../../runtime/executor';
import type { ExperimentStore } from '../../runtime/store';
import { aggregateIqm } from '../../eval/stats';
import type { ScoreMatrix } from '../../eval/stats';
import { probabilityOfImprovement } from '../../eval/bootstrap';
import type { Interval } from '../../eval/bootstrap';
import type { MarlEvalRecord } from '../../eval/export';
import { hierarchicalCI, hierarchicalMeanCI, pairedDifferenceCI } from '../../eval/hierarchical';
import { TUNING_FREE_OPTIMIZERS } from '../../nn/tuning-free';
import type { TuningFreeOptimizer } from '../../nn/tuning-free';
import type { LayerLrEnvConfig } from '../env';
import { bestPeak, gannoEvalRunKind, scorePeak } from '../evaluate';
import type { ControllerRunResult, ControllerSpec, GannoEvalRunConfig, PeakLrScore } from '../evaluate';
import type { BaselineDef } from './plan';
import type { VariantAgent } from './training';

/** One controller to evaluate on a set of task seeds. */
export interface ControllerEntry {
  /** Row label (e.g. `GANNO (greedy)`, `cosine`). */
  label: string;
  controller: ControllerSpec;
  env: LayerLrEnvConfig;
  seeds: readonly number[];
  /** Run index within the label (e.g. the agent-training seed); 0 for deterministic baselines. */
  run?: number;
  /** Free-form tags copied into every row (e.g. `{ initialLr: 0.1 }`). */
  tags?: Record<string, string | number>;
}

/** One evaluated run: the controller run result plus its label, run index and tags. */
export type EvalRow = ControllerRunResult & { label: string; run: number; tags: Record<string, string | number> };

/** Options of {@link evaluateEntries}. */
export interface EvaluateEntriesOptions {
  /** Experiment name in the store. */
  name: string;
  entries: readonly ControllerEntry[];
  executor: Executor;
  store: ExperimentStore;
  /** Test examples evaluated per run (default 2000). */
  testSize?: number;
  progress?: ProgressSink;
}

/**
 * Runs every entry on each of its task seeds as one `ganno-eval-run` job (cached by controller,
 * env, task seed and test size) and returns one row per run, in entry order.
 *
 * @example
 * ```ts
 * const rows = await evaluateEntries({ name: 'ganno-12', entries: [{ label: 'cosine', controller: { type: 'schedule', schedule: { type: 'cosine' }, peakLr: 0.1 }, env, seeds: [1, 2] }], executor, store });
 * ```
 */
export async function evaluateEntries(options: EvaluateEntriesOptions): Promise<EvalRow[]> {
  const jobs = [];
  const meta: { label: string; run: number; tags: Record<string, string | number> }[] = [];
  const keys = new Set<string>();
  for (const e of options.entries) {
    if (!e.seeds.length) throw new Error(`evaluateEntries: entry ${JSON.stringify(e.label)} has no task seeds`);
    const run = e.run ?? 0;
    for (const seed of e.seeds) {
      const tagKey = e.tags ? JSON.stringify(e.tags) : '';
      const key = `${e.label}/run${run}/task${seed}${tagKey ? `/${tagKey}` : ''}`;
      if (keys.has(key)) throw new Error(`evaluateEntries: duplicate (label, run, task, tags): ${key}`);
      keys.add(key);
      const cfg: GannoEvalRunConfig = {
        controller: e.controller,
        env: e.env,
        taskSeed: seed,
        testSize: options.testSize,
      };
      jobs.push(gannoEvalRunKind.job(key, cfg, seed));
      meta.push({ label: e.label, run, tags: e.tags ?? {} });
    }
  }
  const res = await runExperiment<ControllerRunResult>({
    name: options.name,
    jobs,
    executor: options.executor,
    store: options.store,
    progress: options.progress,
  });
  return res.results.map((r, i) => ({ ...r, ...meta[i] }));
}

/** Result of tuning one baseline. */
export interface TunedBaseline {
  def: BaselineDef;
  peakLr: number;
  scores: PeakLrScore[];
}

/** Options of {@link tuneBaselines}. */
export interface TuneBaselinesOptions {
  baselines: readonly BaselineDef[];
  /** The *training* task distribution. */
  env: LayerLrEnvConfig;
  grid: readonly number[];
  /** Training task seeds (never test seeds). */
  seeds: readonly number[];
  executor: Executor;
  store: ExperimentStore;
  name?: string;
  progress?: ProgressSink;
}

/**
 * The controller spec of a baseline at a peak (base) LR.
 *
 * @example
 * ```ts
 * baselineController(baselineDefs(200)[4], 0.1); // { type: 'schedule', schedule: { type: 'cosine', ... }, peakLr: 0.1, name: 'cosine' }
 * ```
 */
export function baselineController(def: BaselineDef, peakLr: number): ControllerSpec {
  if (def.kind === 'schedule') {
    if (!def.schedule) throw new Error(`baselineController: schedule baseline ${def.name} has no schedule`);
    return { type: 'schedule', schedule: def.schedule, peakLr, name: def.name };
  }
  if (def.kind === 'lars') return { type: 'lars', ...(def.options ?? {}), peakLr, name: def.name };
  return {
    type: 'hypergradient',
    beta: def.options?.beta ?? 1e-3,
    ...(def.options ?? {}),
    initialLr: peakLr,
    name: def.name,
  };
}

/**
 * Entries for the tuning-free optimisers as baselines (`tuningFreeController`: default settings,
 * step multiplier 1, nothing tuned), labelled `<optimizer> (untuned)`.
 *
 * @example
 * ```ts
 * const entries = [...tunedEntries, ...tuningFreeEntries(plan.env, plan.testSeeds)];
 * ```
 */
export function tuningFreeEntries(
  env: LayerLrEnvConfig,
  seeds: readonly number[],
  optimizers: readonly TuningFreeOptimizer[] = TUNING_FREE_OPTIMIZERS,
  tags?: Record<string, string | number>,
): ControllerEntry[] {
  return optimizers.map((optimizer) => ({
    label: `${optimizer} (untuned)`,
    controller: { type: 'tuning-free', optimizer, name: optimizer },
    env,
    seeds,
    tags,
  }));
}

/**
 * Which knob of each tuning-free optimiser plays the role of "the initial step size" in the
 * robustness grid (notebook 13). A reconstruction (the papers do not define such a grid): each
 * optimiser gets the knob its own paper claims robustness to, set to the grid's initial LR.
 * - `schedule-free-sgd`: its learning rate (it has a real step size; warm-up and averaging remove
 *   only the schedule).
 * - `d-adapt-sgd`, `prodigy`: `d0`, the initial estimate of the distance to the solution (the first
 *   steps are proportional to it until d grows).
 * - `dog`, `ldog`, `dog-group`: `repsRel`, the relative size of the first move
 *   (`r_eps = repsRel * (1 + ||x0||)`, first step `r_eps / ||g0||`).
 * The step multiplier of the optimisers whose knob is not the learning rate stays 1; weight decay
 * comes from the task, as for every controller.
 */
export const TUNING_FREE_INITIAL_STEP_KNOB: Readonly<Record<TuningFreeOptimizer, 'lr' | 'd0' | 'repsRel'>> =
  Object.freeze({
    'schedule-free-sgd': 'lr',
    'd-adapt-sgd': 'd0',
    prodigy: 'd0',
    dog: 'repsRel',
    ldog: 'repsRel',
    'dog-group': 'repsRel',
  });

/**
 * The controller spec of a tuning-free optimiser with its initial-step knob
 * ({@link TUNING_FREE_INITIAL_STEP_KNOB}) set to `initialStep`, every other setting at its default.
 *
 * @example
 * ```ts
 * tuningFreeInitialStepSpec('dog', 1e-3); // { type: 'tuning-free', optimizer: 'dog', tuningFree: { dog: { repsRel: 1e-3 } }, ... }
 * ```
 */
export function tuningFreeInitialStepSpec(optimizer: TuningFreeOptimizer, initialStep: number): ControllerSpec {
  if (!(TUNING_FREE_OPTIMIZERS as readonly string[]).includes(optimizer))
    throw new Error(
      `tuningFreeInitialStepSpec: optimizer must be one of ${TUNING_FREE_OPTIMIZERS.join(', ')}, got ${JSON.stringify(optimizer)}`,
    );
  if (!(Number.isFinite(initialStep) && initialStep > 0))
    throw new Error(`tuningFreeInitialStepSpec: initialStep must be a positive number, got ${initialStep}`);
  const name = `${optimizer}@${initialStep}`;
  switch (TUNING_FREE_INITIAL_STEP_KNOB[optimizer]) {
    case 'lr':
      return { type: 'tuning-free', optimizer, lr: initialStep, name };
    case 'd0':
      return {
        type: 'tuning-free',
        optimizer,
        name,
        tuningFree: optimizer === 'prodigy' ? { prodigy: { d0: initialStep } } : { dAdapt: { d0: initialStep } },
      };
    case 'repsRel':
      return { type: 'tuning-free', optimizer, name, tuningFree: { dog: { repsRel: initialStep } } };
  }
}

/**
 * Entries of the tuning-free optimisers for one cell of the robustness grid: each with its
 * initial-step knob at `initialStep` ({@link tuningFreeInitialStepSpec}), labelled by optimizer.
 *
 * @example
 * ```ts
 * entries.push(...tuningFreeInitialStepEntries(cellEnv(lr, wd), lr, grid.seeds, undefined, { initialLr: lr, weightDecay: wd }));
 * ```
 */
export function tuningFreeInitialStepEntries(
  env: LayerLrEnvConfig,
  initialStep: number,
  seeds: readonly number[],
  optimizers: readonly TuningFreeOptimizer[] = TUNING_FREE_OPTIMIZERS,
  tags?: Record<string, string | number>,
): ControllerEntry[] {
  return optimizers.map((optimizer) => ({
    label: optimizer,
    controller: tuningFreeInitialStepSpec(optimizer, initialStep),
    env,
    seeds,
    tags,
  }));
}

/**
 * Grid-searches every baseline's peak LR on the training tasks (lowest mean final validation loss;
 * a grid value with any divergence is excluded), each grid point one cached job per task seed.
 *
 * @example
 * ```ts
 * const tuned = await tuneBaselines({ baselines: baselineDefs(200), env: plan.env, grid: plan.peakGrid, seeds: plan.tuneSeeds, executor, store });
 * tuned.map((t) => `${t.def.name}: ${t.peakLr}`);
 * ```
 */
export async function tuneBaselines(options: TuneBaselinesOptions): Promise<TunedBaseline[]> {
  const entries: ControllerEntry[] = [];
  const grids = options.baselines.map((def) => options.grid.map((g) => g * (def.gridScale ?? 1)));
  options.baselines.forEach((def, b) =>
    grids[b].forEach((peak) =>
      entries.push({
        label: `${def.name}@${peak}`,
        controller: baselineController(def, peak),
        env: options.env,
        seeds: options.seeds,
      }),
    ),
  );
  const rows = await evaluateEntries({
    name: options.name ?? 'ganno-tuning',
    entries,
    executor: options.executor,
    store: options.store,
    testSize: 0,
    progress: options.progress,
  });
  return options.baselines.map((def, b) => {
    const scores = grids[b].map((peak) =>
      scorePeak(
        peak,
        rows.filter((r) => r.label === `${def.name}@${peak}`),
      ),
    );
    return { def, peakLr: bestPeak(scores), scores };
  });
}

/**
 * The entries of trained agents: one per agent (run = its seed), greedy or sampled.
 *
 * @example
 * ```ts
 * agentEntries(agents, 'GANNO (greedy)', env, plan.testSeeds, true);
 * ```
 */
export function agentEntries(
  agents: readonly VariantAgent[],
  label: string,
  env: LayerLrEnvConfig,
  seeds: readonly number[],
  greedy = true,
  tags?: Record<string, string | number>,
): ControllerEntry[] {
  return agents.map((a) => ({
    label,
    controller: { type: 'policy', checkpoint: a.bestDir, greedy, name: label },
    env,
    seeds,
    run: a.seed,
    tags,
  }));
}

/** A metric of a run and its direction. */
export interface MetricDef {
  name: string;
  get: (r: ControllerRunResult) => number;
  higherIsBetter: boolean;
}

/** Test accuracy (diverged runs count 0), higher is better. */
export const TEST_ACCURACY: MetricDef = { name: 'test accuracy', get: (r) => r.testAccuracy, higherIsBetter: true };
/** Area under the normalised-time validation-loss curve (diverged runs held at the initial loss), lower is better. */
export const VAL_LOSS_AUC: MetricDef = { name: 'val-loss AUC', get: (r) => r.valLossAuc, higherIsBetter: false };

/**
 * The score matrix `[run][task]` of one label; a task column is a (tags, task seed) pair, so grid cells
 * tagged e.g. `{ initialLr }` are separate tasks (ascending seed order within equal tags). Throws naming the
 * label when a (run, task) cell is missing, so an incomplete grid is never silently averaged.
 *
 * @example
 * ```ts
 * scoreMatrix(rows, 'cosine', TEST_ACCURACY); // [[0.91, 0.88, ...]]
 * ```
 */
export function scoreMatrix(
  rows: readonly EvalRow[],
  label: string,
  metric: MetricDef,
  filter?: (r: EvalRow) => boolean,
): number[][] {
  const mine = rows.filter((r) => r.label === label && (!filter || filter(r)));
  if (!mine.length) throw new Error(`scoreMatrix: no rows for ${JSON.stringify(label)}`);
  const runs = [...new Set(mine.map((r) => r.run))].sort((a, b) => a - b);
  const tasks = [...new Map(mine.map((r) => [taskKey(r), r])).values()].sort(compareTasks).map(taskKey);
  const byCell = new Map(mine.map((r) => [`${r.run}#${taskKey(r)}`, r]));
  return runs.map((run) =>
    tasks.map((t) => {
      const r = byCell.get(`${run}#${t}`);
      if (!r) throw new Error(`scoreMatrix: ${label} has no result for run ${run}, task ${t}`);
      const v = metric.get(r);
      if (!Number.isFinite(v)) throw new Error(`scoreMatrix: ${label} run ${run} task ${t}: ${metric.name} is ${v}`);
      return v;
    }),
  );
}

/** A task column: its tags (e.g. the robustness grid cell) and seed. */
function taskKey(r: EvalRow): string {
  const tags = Object.entries(r.tags)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return tags ? `${tags}/${r.taskSeed}` : String(r.taskSeed);
}

function compareTasks(a: EvalRow, b: EvalRow): number {
  const ka = taskKey(a).replace(/\/?\d+$/, '');
  const kb = taskKey(b).replace(/\/?\d+$/, '');
  return ka < kb ? -1 : ka > kb ? 1 : a.taskSeed - b.taskSeed;
}

/** One row of a summary table. */
export interface SummaryRow {
  label: string;
  runs: number;
  tasks: number;
  mean: Interval;
  iqm: Interval;
  diverged: number;
}

/**
 * Mean and IQM, each with a two-level bootstrap 95% CI over tasks and runs, of a
 * metric per label, with the number of diverged runs.
 *
 * @example
 * ```ts
 * summarise(rows, ['GANNO (greedy)', 'cosine'], TEST_ACCURACY).map((s) => `${s.label}: ${s.mean.point}`);
 * ```
 */
export function summarise(
  rows: readonly EvalRow[],
  labels: readonly string[],
  metric: MetricDef,
  filter?: (r: EvalRow) => boolean,
): SummaryRow[] {
  return labels.map((label) => {
    const m = scoreMatrix(rows, label, metric, filter);
    const diverged = rows.filter((r) => r.label === label && (!filter || filter(r)) && r.diverged).length;
    return {
      label,
      runs: m.length,
      tasks: m[0].length,
      mean: hierarchicalMeanCI(m, { seed: 0 }),
      iqm: hierarchicalCI(m, aggregateIqm, { seed: 0 }),
      diverged,
    };
  });
}

/** Fewest paired tasks for which {@link evaluateClaim} gives a verdict (a bootstrap over 1-2 tasks says nothing). */
export const MIN_CLAIM_TASKS = 3;

/** Verdict of a pairwise claim (`untestable`: a learner behind it did not move, so the budget cannot decide it). */
export type ClaimVerdict = 'holds' | 'contradicted' | 'not shown' | 'untestable';

/** How many of the trained policies behind a claim moved from their initial policy (see `POLICY_MOVED_KL`). */
export interface LearnerEvidence {
  moved: number;
  total: number;
}

/**
 * The {@link LearnerEvidence} of a set of trained agents.
 *
 * @example
 * ```ts
 * learnerEvidence(agents); // { moved: 5, total: 5 }
 * ```
 */
export function learnerEvidence(agents: readonly Pick<VariantAgent, 'moved'>[]): LearnerEvidence {
  return { moved: agents.filter((a) => a.moved).length, total: agents.length };
}

/** A pairwise claim "A is better than B on a metric", evaluated on the same tasks. */
export interface ClaimResult {
  claim: string;
  metric: string;
  /** Improvement of A over B in the metric's better direction, with its paired two-level bootstrap CI. */
  improvement: Interval;
  /** P(A > B) in the better direction (Agarwal et al.), stratified bootstrap CI. */
  probabilityOfImprovement: Interval;
  verdict: ClaimVerdict;
  /** One sentence for the table. */
  sentence: string;
}

function fmt(x: number, d: number): string {
  return x.toFixed(d);
}

/**
 * Whether "A beats B" holds here: the paired difference of means (A − B, sign flipped when lower is
 * better) with its 95% CI; `holds` when the CI is above `-margin` (default 0: A is better; a
 * positive margin turns the claim into non-inferiority, "A is at most `margin` worse", which is how
 * "competitive with" is tested), `contradicted` when the CI is below `-margin`, `not shown` when it
 * contains `-margin`. Accuracy differences and margins are in percentage points. With fewer than
 * {@link MIN_CLAIM_TASKS} tasks the verdict is always `not shown`. With `learners` (the trained
 * policies behind the claim), a claim whose policies did not all move from their initial policy is
 * `untestable` at this budget whatever the numbers say: a learner that did not learn is no evidence.
 *
 * @example
 * ```ts
 * const c = evaluateClaim('layerwise beats global', a, b, TEST_ACCURACY);
 * c.sentence; // 'holds: +2.10 pp [0.40, 3.90] test accuracy, P(A > B) = 0.71 [0.58, 0.83]'
 * ```
 */
export function evaluateClaim(
  claim: string,
  a: ScoreMatrix,
  b: ScoreMatrix,
  metric: MetricDef,
  options: { margin?: number; learners?: LearnerEvidence } = {},
): ClaimResult {
  const margin = options.margin ?? 0;
  if (!(Number.isFinite(margin) && margin >= 0))
    throw new Error(`evaluateClaim: margin must be a non-negative number, got ${margin}`);
  const sign = metric.higherIsBetter ? 1 : -1;
  const scale = metric === TEST_ACCURACY ? 100 : 1;
  const d = pairedDifferenceCI(a, b, { seed: 0 });
  const improvement =
    sign > 0
      ? { point: scale * d.point, lo: scale * d.lo, hi: scale * d.hi }
      : { point: -scale * d.point, lo: -scale * d.hi, hi: -scale * d.lo };
  const flip = (m: ScoreMatrix) => m.map((row) => row.map((v) => sign * v));
  const poi = probabilityOfImprovement(flip(a), flip(b), { seed: 0 });
  const tasks = a[0]?.length ?? 0;
  const tooFew = tasks < MIN_CLAIM_TASKS;
  const still = options.learners && options.learners.moved < options.learners.total;
  const verdict: ClaimVerdict = still
    ? 'untestable'
    : tooFew
      ? 'not shown'
      : improvement.lo > -margin
        ? 'holds'
        : improvement.hi < -margin
          ? 'contradicted'
          : 'not shown';
  const unit = scale === 100 ? ' pp' : '';
  const num = `${improvement.point >= 0 ? '+' : ''}${fmt(improvement.point, 2)}${unit} [${fmt(improvement.lo, 2)}, ${fmt(improvement.hi, 2)}] ${metric.name}`;
  const p = `P(A > B) = ${fmt(poi.point, 2)} [${fmt(poi.lo, 2)}, ${fmt(poi.hi, 2)}]`;
  const m = margin > 0 ? `${fmt(-margin, 2)}${scale === 100 ? ' pp' : ''}` : '0';
  const head = still
    ? `untestable at this budget (${options.learners!.total - options.learners!.moved} of ${options.learners!.total} trained policies did not move from their initial policy)`
    : tooFew
      ? `not shown here (only ${tasks} task${tasks === 1 ? '' : 's'}; at least ${MIN_CLAIM_TASKS} are needed for a verdict)`
      : verdict === 'holds'
        ? 'holds here'
        : verdict === 'contradicted'
          ? `does not hold here (the 95% CI is below ${m})`
          : `not shown here (the 95% CI includes ${m})`;
  const moved =
    options.learners && !still ? `; ${options.learners.moved}/${options.learners.total} policies moved` : '';
  return {
    claim,
    metric: metric.name,
    improvement,
    probabilityOfImprovement: poi,
    verdict,
    sentence: `${head}: ${num}, ${p}${moved}`,
  };
}

/**
 * Raw per-run results in the MARL evaluation JSON layout (`absolute_metrics` per run): env
 * `ganno`, task `<prefix>task<seed>`, algorithm = row label, run = agent seed (0 for baselines).
 * Non-finite metrics (the test loss of a diverged run) are left out of that run's record.
 *
 * @example
 * ```ts
 * writeMarlEvalJson('results/12/raw.json', marlEvalRecords(rows));
 * ```
 */
export function marlEvalRecords(rows: readonly EvalRow[], taskPrefix = ''): MarlEvalRecord[] {
  return rows.map((r) => {
    const metrics: Record<string, number> = {
      test_accuracy: r.testAccuracy,
      val_loss_auc: r.valLossAuc,
      diverged: r.diverged ? 1 : 0,
    };
    if (Number.isFinite(r.testLoss)) metrics.test_loss = r.testLoss;
    if (Number.isFinite(r.finalValLoss)) metrics.final_val_loss = r.finalValLoss;
    const tag = Object.entries(r.tags)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    return {
      env: 'ganno',
      task: `${taskPrefix}${tag ? `${tag}/` : ''}task${r.taskSeed}`,
      algorithm: r.label,
      run: r.run,
      step: 'absolute' as const,
      metrics,
    };
  });
}

// The one interval formatter lives in src/eval (re-exported here for the GANNO tables).
export { formatInterval } from '../../eval/format';
