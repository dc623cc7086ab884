/**
 * Evaluation of learning-rate controllers (GANNO policies and baselines) on full training runs of
 * GANNO tasks, peak-LR tuning of baselines, and job kinds for parallel, cached evaluation.
 */
import { tf } from '../backend';
import { loadDigits, loadFashionMnist, makeSyntheticTrainTest } from '../data';
import type { ImageDataset } from '../data';
import type { LayerwiseTrainer } from '../nn';
import type { SequentialModel, StepMetrics, TuningFreeOptimizer, TuningFreeOptions } from '../nn';
import { defineJobKind } from '../runtime';
import { LayerLrEnv, resolveLayerLrEnvConfig } from './env';
import type { LayerLrEnvConfig, LayerLrInfo, StepLrSource } from './env';
import type { StepResult } from '../marl/env';
import type { ResolvedTaskConfig, SampledTask } from './tasks';
import {
  PolicyController,
  constantController,
  hypergradientController,
  keepController,
  larsController,
  scheduleController,
  tuningFreeController,
} from './controllers';
import type {
  HypergradientControllerOptions,
  LarsControllerOptions,
  LrController,
  RunScheduleSpec,
} from './controllers';
import type { FeatureRegistry } from './features';
import { DEGENERATE_SHARE, dominantActionShare, loadGannoPolicy } from './train';

/** One training run under one controller (plain JSON). */
export interface ControllerRunResult {
  controller: string;
  /** Task seed (the same seed gives the same network, data subsets and batch order for every controller). */
  taskSeed: number;
  dataset: string;
  numLayers: number;
  initialLr: number;
  /** Accuracy / mean cross-entropy on the dataset's test file (`testSize` examples) after training; a diverged run counts accuracy 0 and loss NaN. */
  testAccuracy: number;
  testLoss: number;
  /** Validation loss / accuracy after the last decision (NaN if diverged). */
  finalValLoss: number;
  finalValAccuracy: number;
  /**
   * Area under the validation-loss curve over normalised time [0, 1] (trapezoid over the T + 1
   * points measured every K steps). After a divergence the curve is held at the initial
   * validation loss, so a diverged run is never better than not training.
   */
  valLossAuc: number;
  diverged: boolean;
  /** SGD step at which the run diverged (null if it did not). */
  divergedAtStep: number | null;
  /** Validation loss at every decision point, `valLoss[0]` before training (T + 1 values, fewer after a divergence). */
  valLoss: number[];
  /** LRs per layer used in each interval's first step: `lrs[t][i]` (T rows, fewer after a divergence). */
  lrs: number[][];
  /** Decision controllers (policies): the env action of every agent at every decision, `actions[t][i]`; empty for step controllers. */
  actions: number[][];
}

/**
 * The degenerate-mode guard of one run: true when some agent took one action at more than
 * {@link DEGENERATE_SHARE} of its decisions (false for step controllers, which take no actions).
 *
 * @example
 * ```ts
 * isDegenerateRun({ actions: [[8, 4], [8, 3], ...] } as ControllerRunResult);
 * ```
 */
export function isDegenerateRun(run: Pick<ControllerRunResult, 'actions'>): boolean {
  const rows = run.actions ?? [];
  if (!rows.length) return false;
  const perAgent = rows[0].map((_, i) => rows.map((r) => r[i]));
  return dominantActionShare(perAgent).some((x) => x > DEGENERATE_SHARE);
}

/** Options of {@link evaluateController} and {@link runController}. */
export interface EvaluateOptions {
  /** Environment config (task distribution, actions, features); the same for every controller. */
  env?: LayerLrEnvConfig;
  /** Task seeds, one run each. */
  seeds: number[];
  /** For policy controllers built here: greedy (default) or sampled actions. Ignored otherwise. */
  greedy?: boolean;
  /**
   * Test examples evaluated at the end (default 2000; the whole test file when larger); 0 skips the
   * test file entirely (tuning and validation runs: test accuracy and loss are then NaN).
   */
  testSize?: number;
  /** Edits the evaluation env's feature registry before the runs (e.g. adds a notebook's custom feature). */
  setupFeatures?: (features: FeatureRegistry) => void;
}

const testCache = new Map<string, ImageDataset>();

/**
 * The test split of a task's dataset: the dataset's test file (digits, Fashion-MNIST), or for
 * `synthetic` a fresh draw with the same templates (`makeSyntheticTrainTest` with the task
 * config's synthetic settings). The environment itself never sees it. Cached per process.
 *
 * @example
 * ```ts
 * const test = taskTestSet(new TaskSampler().sample(1), TaskConfigSchema.parse({}));
 * ```
 */
export function taskTestSet(task: SampledTask, config: ResolvedTaskConfig, testSize = 2000): ImageDataset {
  if (!(Number.isInteger(testSize) && testSize > 0))
    throw new Error(`taskTestSet: testSize must be a positive integer, got ${testSize}`);
  const s = config.synthetic;
  const key =
    task.dataset === 'synthetic'
      ? `synthetic:${s.size}:${s.numClasses}:${s.noise}:${s.seed}:${s.n}:${testSize}`
      : task.dataset;
  let ds = testCache.get(key);
  if (!ds) {
    if (task.dataset === 'digits') ds = loadDigits().test;
    else if (task.dataset === 'fashion-mnist') ds = loadFashionMnist().test;
    else
      ds = makeSyntheticTrainTest({
        nTrain: s.n,
        nTest: testSize,
        height: s.size,
        width: s.size,
        numClasses: s.numClasses,
        noise: s.noise,
        seed: s.seed,
      }).test;
    testCache.set(key, ds);
  }
  return ds;
}

function toTensors(ds: ImageDataset, mlp: boolean, limit: number): { x: tf.Tensor; y: tf.Tensor } {
  const n = Math.min(limit, ds.n);
  const size = ds.height * ds.width * ds.channels;
  return tf.tidy(() => ({
    x: tf.tensor(ds.images.subarray(0, n * size), mlp ? [n, size] : [n, ds.height, ds.width, ds.channels], 'float32'),
    y: tf.tensor1d(ds.labels.subarray(0, n), 'int32'),
  }));
}

function auc(curve: number[], horizon: number, fallback: number): number {
  const pts: number[] = [];
  for (let t = 0; t <= horizon; t++) pts.push(t < curve.length && Number.isFinite(curve[t]) ? curve[t] : fallback);
  let a = 0;
  for (let t = 0; t < horizon; t++) a += (pts[t] + pts[t + 1]) / 2;
  return a / horizon;
}

/** Test examples scored after each run unless `testSize` says otherwise. */
const DEFAULT_TEST_SIZE = 2000;

function testEval(
  trainer: LayerwiseTrainer,
  task: SampledTask,
  config: ResolvedTaskConfig,
  testSize: number,
  diverged: boolean,
): { loss: number; accuracy: number } {
  if (testSize === 0) return { loss: NaN, accuracy: NaN };
  if (diverged) return { loss: NaN, accuracy: 0 };
  const t = toTensors(taskTestSet(task, config, testSize), task.model === 'mlp', testSize);
  try {
    const ev = trainer.evaluate(t.x, t.y, 512);
    return Number.isFinite(ev.loss) ? { loss: ev.loss, accuracy: ev.accuracy } : { loss: NaN, accuracy: 0 };
  } finally {
    tf.dispose([t.x, t.y]);
  }
}

/**
 * One full training run of the task `seed` under `controller`, in the env's one training-run loop
 * ({@link LayerLrEnv}: K SGD steps, then validate). Decision controllers act through the env's
 * actions (observations from its feature registry, LRs held for K steps); step controllers give a
 * learning rate per SGD step through {@link LayerLrEnv.stepWithLearningRates} (same network,
 * optimiser, data subsets, batch order and validation every K steps). Every controller runs under
 * the same LR bounds: a step controller's LRs are clipped to the env's `lrClip` exactly as the
 * agents' actions are (so a constant LR above the bound trains at the bound).
 *
 * @example
 * ```ts
 * const r = runController(constantController(), 3, { env: { task: { datasets: ['digits'] } } });
 * r.testAccuracy; r.valLossAuc; r.diverged;
 * ```
 */
export function runController(
  controller: LrController,
  seed: number,
  options: Omit<EvaluateOptions, 'seeds'> = {},
): ControllerRunResult {
  const decisions = controller.interval === 'decision';
  // Evaluation reads the team reward only: no counterfactual shadows, whatever the env config asks.
  const env = new LayerLrEnv({ ...(options.env ?? {}), agentRewards: 'team' });
  try {
    if (options.setupFeatures) options.setupFeatures(env.features);
    if (controller.prepareEnv) controller.prepareEnv(env.features);
    // Tuning-free baselines train with their own optimiser (its LRs are multipliers); the rest with the task's.
    const own = decisions ? undefined : controller.trainerOptimizer;
    let r = env.reset(seed, own ? { trainer: own } : {});
    const task = env.task;
    // Decision controllers act per agent (one per layer, or 1 with control 'global'); step controllers per layer.
    const n = decisions ? env.numAgents : env.numLayers;
    controller.reset({
      numLayers: n,
      initialLr: task.initialLr,
      totalSteps: task.totalSteps,
      k: env.config.k,
      seed,
      optimizer: task.optimizer,
      weightDecay: task.weightDecay,
    });
    const dots = controller.needsUpdateDots ? new UpdateDots(env.trainer.model) : null;
    let last: StepMetrics | undefined;
    let updateDots: number[] | undefined;
    const source: StepLrSource = {
      lrs: ({ sgdStep, lrs }) => {
        const next = controller.decide({ sgdStep, lrs, valLoss: env.state.valLoss, last, updateDots });
        if (!Array.isArray(next) || next.length !== n || next.some((v) => !(Number.isFinite(v) && v >= 0)))
          throw new Error(
            `runController: controller ${controller.name} returned invalid LRs [${next}] for ${n} layers at step ${sgdStep}`,
          );
        dots?.before();
        return next;
      },
      after: (m) => {
        last = m;
        if (dots && !m.diverged) updateDots = dots.after();
      },
    };
    const lrs: number[][] = [];
    const taken: number[][] = [];
    let divergedAtStep: number | null = null;
    try {
      for (;;) {
        let st: StepResult<LayerLrInfo>;
        if (decisions) {
          const s0 = env.agentState;
          const want = env.layerLrsOf(
            controller.decide({
              sgdStep: s0.sgdSteps,
              lrs: s0.lrs.slice(),
              valLoss: s0.valLoss,
              observations: r.observations,
            }),
          );
          const actions = controller.lastActions;
          if (!actions || actions.length !== n)
            throw new Error(
              `runController: decision controller ${controller.name} must expose lastActions (one env action per layer)`,
            );
          taken.push(Array.from(actions));
          st = env.step(actions);
          if (st.info.lrs.some((v, i) => v !== want[i]))
            throw new Error(
              `runController: controller ${controller.name} returned LRs [${want}] but its actions give [${st.info.lrs}]`,
            );
        } else {
          st = env.stepWithLearningRates(source);
        }
        lrs.push(st.info.lrs.slice());
        if (st.info.diverged) divergedAtStep = st.info.divergedAtStep;
        if (st.terminated || st.truncated) break;
        r = st;
      }
    } finally {
      dots?.dispose();
    }
    const diverged = divergedAtStep !== null;
    const state = env.state;
    const valLoss = state.valLossHistory.filter((v) => Number.isFinite(v));
    const test = testEval(env.trainer, task, env.sampler.config, options.testSize ?? DEFAULT_TEST_SIZE, diverged);
    return {
      ...finish(
        controller,
        task,
        env.numLayers,
        test,
        valLoss,
        lrs,
        diverged,
        divergedAtStep,
        state.valAccuracy,
        env.horizon,
      ),
      actions: taken,
    };
  } finally {
    env.dispose();
  }
}

/** Per-layer dot products of successive applied updates (for hypergradient controllers). */
class UpdateDots {
  private w: tf.Tensor[] = [];
  private u: tf.Tensor[] | null = null;
  constructor(private readonly model: SequentialModel) {}
  private flat(): tf.Tensor[] {
    return this.model.groups.map((g) => tf.tidy(() => tf.concat(g.variables.map((v) => tf.reshape(v, [-1])))));
  }
  before(): void {
    tf.dispose(this.w);
    this.w = this.flat();
  }
  /** Returns `u_t · u_{t-1}` per layer, or undefined after the first step. */
  after(): number[] | undefined {
    const now = this.flat();
    const u = now.map((w, i) => tf.sub(this.w[i], w));
    tf.dispose(now);
    tf.dispose(this.w);
    this.w = [];
    let out: number[] | undefined;
    if (this.u) {
      const prev = this.u;
      const d = tf.tidy(() => tf.stack(u.map((x, i) => tf.sum(tf.mul(x, prev[i])))));
      out = Array.from(d.dataSync());
      d.dispose();
      tf.dispose(prev);
    }
    this.u = u;
    return out;
  }
  dispose(): void {
    tf.dispose(this.w);
    if (this.u) tf.dispose(this.u);
    this.w = [];
    this.u = null;
  }
}

function finish(
  controller: LrController,
  task: SampledTask,
  n: number,
  test: { loss: number; accuracy: number },
  valLoss: number[],
  lrs: number[][],
  diverged: boolean,
  divergedAtStep: number | null,
  valAccuracy: number,
  horizon: number,
): ControllerRunResult {
  return {
    controller: controller.name,
    taskSeed: task.seed,
    dataset: task.dataset,
    numLayers: n,
    initialLr: task.initialLr,
    testAccuracy: test.accuracy,
    testLoss: test.loss,
    finalValLoss: diverged ? NaN : valLoss[valLoss.length - 1],
    finalValAccuracy: diverged ? NaN : valAccuracy,
    valLossAuc: auc(valLoss, horizon, valLoss[0]),
    diverged,
    divergedAtStep,
    valLoss,
    lrs,
    actions: [],
  };
}

/**
 * Runs `controller` on every task seed (one full training run each, same tasks and batches for
 * every controller) and returns the per-run results (plain JSON, cacheable through the runtime).
 *
 * @example
 * ```ts
 * const runs = evaluateController(scheduleController({ type: 'cosine' }, { peakLr: 0.1 }), { env: { task: { datasets: ['digits'] } }, seeds: [101, 102, 103] });
 * runs.map((r) => r.testAccuracy);
 * ```
 */
export function evaluateController(controller: LrController, options: EvaluateOptions): ControllerRunResult[] {
  if (!Array.isArray(options.seeds) || options.seeds.length === 0 || options.seeds.some((s) => !Number.isInteger(s))) {
    throw new Error(
      `evaluateController: seeds must be a non-empty array of integers, got ${JSON.stringify(options.seeds)}`,
    );
  }
  return options.seeds.map((seed) => runController(controller, seed, options));
}

/** One grid point of {@link tunePeakLr}. */
export interface PeakLrScore {
  peakLr: number;
  /** Mean final validation loss over the training tasks (Infinity if any run diverged). */
  meanFinalValLoss: number;
  meanFinalValAccuracy: number;
  diverged: number;
}

/**
 * Grid search of a baseline schedule's peak LR on *training* tasks only (validation split of the
 * training file; the test file is never read): every grid value runs on the same task seeds with
 * the same budget; the best has the lowest mean final validation loss (a grid value with any
 * diverged run scores Infinity; ties go to the smaller LR).
 *
 * @example
 * ```ts
 * const { best } = tunePeakLr({ type: 'cosine' }, { task: { datasets: ['digits'] } }, [0.03, 0.1, 0.3], [1, 2, 3]);
 * const tuned = scheduleController({ type: 'cosine' }, { peakLr: best });
 * ```
 */
export function tunePeakLr(
  baselineSpec: RunScheduleSpec,
  trainingEnv: LayerLrEnvConfig,
  grid: number[],
  seeds: number[],
): { best: number; scores: PeakLrScore[] } {
  if (!Array.isArray(grid) || grid.length === 0 || grid.some((v) => !(Number.isFinite(v) && v > 0)))
    throw new Error(`tunePeakLr: grid must be a non-empty array of positive LRs, got ${JSON.stringify(grid)}`);
  const scores = grid.map((peakLr) => {
    const runs = evaluateController(scheduleController(baselineSpec, { peakLr }), {
      env: trainingEnv,
      seeds,
      testSize: 0,
    });
    return scorePeak(peakLr, runs);
  });
  return { best: bestPeak(scores), scores };
}

/** Scores one grid value from its runs (see {@link tunePeakLr}). */
export function scorePeak(peakLr: number, runs: ControllerRunResult[]): PeakLrScore {
  const div = runs.filter((r) => r.diverged).length;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    peakLr,
    meanFinalValLoss: div > 0 ? Infinity : mean(runs.map((r) => r.finalValLoss)),
    meanFinalValAccuracy: div > 0 ? NaN : mean(runs.map((r) => r.finalValAccuracy)),
    diverged: div,
  };
}

/** The best peak LR of scored grid values (lowest mean final validation loss; ties: smaller LR). */
export function bestPeak(scores: PeakLrScore[]): number {
  const sorted = scores.slice().sort((a, b) => a.meanFinalValLoss - b.meanFinalValLoss || a.peakLr - b.peakLr);
  return sorted[0].peakLr;
}

/** A controller described as data (for job configs and result tables). */
export type ControllerSpec =
  | { type: 'schedule'; schedule: RunScheduleSpec; peakLr?: number; name?: string }
  | { type: 'constant'; lr?: number }
  | ({ type: 'lars' } & LarsControllerOptions)
  | ({ type: 'hypergradient' } & HypergradientControllerOptions)
  | { type: 'policy'; checkpoint: string; greedy?: boolean; name?: string }
  | { type: 'keep' }
  | { type: 'tuning-free'; optimizer: TuningFreeOptimizer; lr?: number; tuningFree?: TuningFreeOptions; name?: string };

/**
 * Builds a controller from its data description (policies load their checkpoint directory,
 * written by `trainGannoAgents`, with its feature statistics).
 *
 * @example
 * ```ts
 * const c = controllerFromSpec({ type: 'schedule', schedule: { type: 'cosine' }, peakLr: 0.1 });
 * ```
 */
export function controllerFromSpec(spec: ControllerSpec, env: LayerLrEnvConfig = {}): LrController {
  switch (spec.type) {
    case 'schedule':
      return scheduleController(spec.schedule, { peakLr: spec.peakLr, name: spec.name });
    case 'constant':
      return constantController(spec.lr);
    case 'lars': {
      const rest: LarsControllerOptions & { type?: string } = { ...spec };
      delete rest.type;
      return larsController(rest);
    }
    case 'hypergradient': {
      const rest: HypergradientControllerOptions & { type?: string } = { ...spec };
      delete rest.type;
      return hypergradientController(rest);
    }
    case 'keep':
      return keepController(new LayerLrEnv(env).actionSet);
    case 'tuning-free':
      return tuningFreeController(spec.optimizer, { lr: spec.lr, name: spec.name, tuningFree: spec.tuningFree });
    case 'policy': {
      const probe = new LayerLrEnv(env);
      const loaded = loadGannoPolicy(spec.checkpoint);
      return new PolicyController(loaded.policy, {
        actionSet: probe.actionSet,
        greedy: spec.greedy ?? true,
        featureNames: loaded.featureNames,
        featureStatistics: loaded.featureStatistics,
        control: loaded.control,
        name: spec.name,
      });
    }
    default:
      throw new Error(
        `controllerFromSpec: unknown controller type ${JSON.stringify((spec as { type?: unknown }).type)} (expected schedule, constant, lars, hypergradient, keep or policy)`,
      );
  }
}

/** Config of one {@link gannoEvalRunKind} job. */
export interface GannoEvalRunConfig {
  controller: ControllerSpec;
  env: LayerLrEnvConfig;
  taskSeed: number;
  testSize?: number;
}

/**
 * Work function of {@link gannoEvalRunKind}: one training run of one controller on one task.
 * Policy controllers free their policy afterwards.
 *
 * @example
 * ```ts
 * const jobs = seeds.map((s) => gannoEvalRunKind.job(`cosine/${s}`, { controller: { type: 'schedule', schedule: { type: 'cosine' } }, env, taskSeed: s }, s));
 * ```
 */
export function gannoEvalRun(config: GannoEvalRunConfig): ControllerRunResult {
  const c = controllerFromSpec(config.controller, config.env);
  try {
    return runController(c, config.taskSeed, { env: config.env, testSize: config.testSize });
  } finally {
    if (c instanceof PolicyController) c.policy.dispose();
  }
}

/**
 * The resolved configuration of a {@link gannoEvalRunKind} job (its cache key is computed from
 * it): the env with every default applied (feature list, task, actions, LR clip) and the test size.
 *
 * @example
 * ```ts
 * resolveGannoEvalRunConfig({ controller: { type: 'keep' }, env: {}, taskSeed: 1 }).env.features; // DEFAULT_FEATURE_NAMES
 * ```
 */
export function resolveGannoEvalRunConfig(config: GannoEvalRunConfig): GannoEvalRunConfig {
  return { ...config, env: resolveLayerLrEnvConfig(config.env), testSize: config.testSize ?? DEFAULT_TEST_SIZE };
}

/** Job kind: one controller run (`gannoEvalRun`), for `runExperiment` with any executor. */
export const gannoEvalRunKind = defineJobKind({
  name: 'ganno-eval-run',
  module: __filename,
  export: 'gannoEvalRun',
  version: 'ganno-eval-run@2',
  fn: gannoEvalRun,
  resolveConfig: resolveGannoEvalRunConfig,
});
