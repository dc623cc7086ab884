/**
 * MA2ML experiment plans: the presets of notebooks 21 and 22 (`ma2mlPlan`, validated by `parsePlan`),
 * the per-unit costs measured on this machine and a plan's compute bound (`planCost`), and what a
 * plan implies: its executor, search space and the evaluator all its searches share.
 */
import * as os from 'os';
import { parseConfig, z } from '../../config';
import { InlineExecutor } from '../../runtime/executor';
import type { Executor } from '../../runtime/executor';
import { WorkerPoolExecutor } from '../../runtime/worker-pool';
import { modeExecutor } from '../../runtime/distributed';
import { evaluationDefaults } from '../evaluate';
import type { ResolvedEvalDataConfig } from '../evaluate';
import { FlopsConstraintSchema } from '../flops';
import { AGENTS } from '../pipeline';
import { SEARCH_METHODS, trainingEvaluator } from '../search';
import type { SearchEvaluator } from '../search';
import { flopsBudgets, presetSpace } from '../spaces';
import type { SearchSpace, SpacePreset } from '../spaces';
import { PRESET_NAMES } from '../../config';
import type { PresetName } from '../../config';

/** A plan's FLOPs constraint: rule `hard-mask` only (one evaluator at the loose budget serves both budgets). */
const PlanFlops = FlopsConstraintSchema.extend({
  rule: z.literal('hard-mask', {
    errorMap: () => ({
      message:
        "must be 'hard-mask' (the searches of a plan share one evaluator at the loose budget and mask at their own)",
    }),
  }),
});

const IntervalSeeds = z
  .array(z.number().int())
  .min(1, 'at least one seed')
  .refine((s) => new Set(s).size === s.length, 'seeds must be distinct');

const PlanSchema = z
  .object({
    preset: z.enum(PRESET_NAMES),
    /** Search space preset (`presetSpace`). */
    spacePreset: z.enum(PRESET_NAMES),
    /** One sentence on what this configuration is (stated in notebook captions). */
    description: z.string().min(1),
    methods: z
      .array(z.enum(SEARCH_METHODS))
      .min(1)
      .refine((m) => new Set(m).size === m.length, 'methods must be distinct'),
    /** Search seeds (policies, sampling); >= 3 for quick, >= 5 for full. */
    seeds: IntervalSeeds,
    /** Evaluations per search (equal for every method). */
    evaluations: z.number().int().min(1),
    /** Pipelines proposed (and evaluated in parallel) per learner update. */
    batchSize: z.number().int().min(1),
    /**
     * The two FLOPs constraints (MACs per image), tight then loose, both with rule `hard-mask` (hard,
     * masked at sampling): the searches share one evaluator at the loose budget and each masks its
     * proposals at its own budget.
     */
    flops: z
      .tuple([PlanFlops, PlanFlops])
      .refine(([a, b]) => a.budget < b.budget, 'tight budget must be below the loose one'),
    evaluation: z
      .object({
        data: z
          .object({
            source: z.enum(['auto', 'full', 'embedded']),
            trainSubset: z.number().int().min(10).multipleOf(10),
            validationSize: z.number().int().min(10),
            dataSeed: z.number().int(),
          })
          .strict(),
        epochs: z.number().int().min(1),
        /** Evaluation (training) seed of every search evaluation. */
        seed: z.number().int(),
      })
      .strict(),
    /** Worker threads (0: evaluate inline in this process). */
    workers: z.number().int().min(0),
    retrain: z
      .object({
        epochs: z.number().int().min(1),
        trainLimit: z.number().int().min(10).multipleOf(10),
        testLimit: z.number().int().min(1),
        seed: z.number().int(),
      })
      .strict(),
    /** Reward-noise check: the best `pipelines` distinct pipelines re-evaluated with these evaluation seeds. */
    noise: z.object({ pipelines: z.number().int().min(1), seeds: IntervalSeeds }).strict(),
    ablations: z
      .object({
        /** Index into `flops` of the budget the ablations use. */
        budgetIndex: z.union([z.literal(0), z.literal(1)]),
        /** Divergence weights w of the monotonic-improvement check (must include 0). */
        divergenceWeights: z
          .array(z.number().min(0))
          .min(2)
          .refine((w) => w.includes(0), 'must include 0'),
        /**
         * Synthetic-reward checks: seeds, learner updates, batch size, reward seed of the monotonic
         * check; `searchEvaluations`: evaluations of the second monotonic check and of the
         * credit-quality check, both at the searches' own batch size (`batchSize` of the plan).
         */
        synthetic: z
          .object({
            seeds: IntervalSeeds,
            updates: z.number().int().min(2),
            batchSize: z.number().int().min(1),
            rewardSeed: z.number().int(),
            searchEvaluations: z.number().int().min(2).default(400),
          })
          .strict(),
        /**
         * Searches on a surrogate of the real reward fitted on the store's evaluations of this plan's
         * evaluator (notebook 22, section (g)): evaluations per search, seeds, and the observation
         * noise sd (reconstruction: 0.02, the size of the measured seed-to-seed sd of the best
         * pipelines' rewards, 0.018 at `quick` and 0.029 at `full`).
         */
        rewardSurrogate: z
          .object({ evaluations: z.number().int().min(2), seeds: IntervalSeeds, noiseSd: z.number().min(0) })
          .strict()
          .default({ evaluations: 200, seeds: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], noiseSd: 0.02 }),
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
 * plan.methods.length; // 8
 * ```
 */
export function ma2mlPlan(preset: PresetName): Ma2mlPlan {
  const cores = Math.max(1, os.cpus().length);
  const base = {
    preset,
    methods: [...SEARCH_METHODS],
    bootstrap: { reps: 2000, seed: 0 },
  };
  let plan: unknown;
  if (preset === 'smoke') {
    plan = {
      ...base,
      spacePreset: 'smoke',
      description:
        'smoke: MLP search space, 200/200 proxy examples x 1 epoch, 2 seeds x 6 evaluations (checks the code path, not the claims)',
      seeds: [0, 1],
      evaluations: 6,
      batchSize: 3,
      flops: planFlops('smoke'),
      evaluation: { data: { source: 'auto', trainSubset: 200, validationSize: 200, dataSeed: 0 }, epochs: 1, seed: 0 },
      workers: 0,
      retrain: { epochs: 1, trainLimit: 200, testLimit: 200, seed: 0 },
      noise: { pipelines: 2, seeds: [0, 1] },
      ablations: {
        budgetIndex: 0,
        divergenceWeights: [0, 0.1],
        synthetic: { seeds: [0, 1, 2], updates: 6, batchSize: 8, rewardSeed: 7, searchEvaluations: 24 },
        rewardSurrogate: { evaluations: 24, seeds: [0, 1], noiseSd: 0.02 },
      },
    };
  } else if (preset === 'quick') {
    plan = {
      ...base,
      spacePreset: 'quick',
      description:
        'quick: plain-conv search space, proxy 1000 training / 500 validation examples x 1 epoch, 3 seeds x 16 evaluations per search',
      seeds: [0, 1, 2],
      evaluations: 16,
      batchSize: 4,
      flops: planFlops('quick'),
      evaluation: { data: { source: 'auto', trainSubset: 1000, validationSize: 500, dataSeed: 0 }, epochs: 1, seed: 0 },
      workers: cores,
      retrain: { epochs: 1, trainLimit: 4000, testLimit: 2000, seed: 0 },
      noise: { pipelines: 3, seeds: [0, 1, 2, 3] },
      ablations: {
        budgetIndex: 0,
        divergenceWeights: [0, 0.1, 1],
        synthetic: {
          seeds: Array.from({ length: 8 }, (_, i) => i),
          updates: 30,
          batchSize: 8,
          rewardSeed: 7,
          searchEvaluations: 200,
        },
      },
    };
  } else if (preset === 'full') {
    plan = {
      ...base,
      spacePreset: 'quick',
      description:
        'full (reduced, see README): the plain-conv quick space at its default proxy (2000 training / 1000 validation examples x 1 epoch), 5 seeds x 36 evaluations per search; the MobileNetV2-style full space (~110 s per evaluation) does not fit 3 hours',
      seeds: [0, 1, 2, 3, 4],
      evaluations: 36,
      batchSize: 4,
      flops: planFlops('quick'),
      evaluation: { ...evaluationDefaults('quick'), seed: 0 },
      workers: cores,
      retrain: { epochs: 1, trainLimit: 10000, testLimit: 10000, seed: 0 },
      noise: { pipelines: 4, seeds: [0, 1, 2, 3, 4] },
      ablations: {
        budgetIndex: 0,
        divergenceWeights: [0, 0.1, 1],
        synthetic: { seeds: Array.from({ length: 10 }, (_, i) => i), updates: 50, batchSize: 8, rewardSeed: 7 },
      },
    };
  } else {
    throw new Error(`ma2mlPlan: unknown preset ${JSON.stringify(preset)} (expected smoke, quick or full)`);
  }
  return parsePlan(plan);
}

/** The preset's tight and loose budgets (`flopsBudgets`) as `hard-mask` constraints. */
function planFlops(
  preset: SpacePreset,
): [{ budget: number; rule: 'hard-mask' }, { budget: number; rule: 'hard-mask' }] {
  const [tight, loose] = flopsBudgets(preset);
  return [
    { budget: tight, rule: 'hard-mask' },
    { budget: loose, rule: 'hard-mask' },
  ];
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
 * update (synthetic checks, reward-surrogate searches) about 0.04 s (notebook 22 `quick`, 2026-12-07, machine busy: 0.038-0.043 s per update over its three sections); 2 workers give 1.8x.
 *
 * @example
 * ```ts
 * planCost(ma2mlPlan('quick'), MEASURED_COSTS.quick).totalSeconds / 60; // minutes, upper bound
 * ```
 */
export const MEASURED_COSTS: Readonly<Record<PresetName, PlanUnitCosts>> = Object.freeze({
  smoke: { secondsPerEvaluation: 0.1, secondsPerRetrain: 0.3, secondsPerSyntheticUpdate: 0.04, speedup: 1 },
  quick: { secondsPerEvaluation: 2.2, secondsPerRetrain: 8, secondsPerSyntheticUpdate: 0.04, speedup: 1.8 },
  full: { secondsPerEvaluation: 4.4, secondsPerRetrain: 20, secondsPerSyntheticUpdate: 0.04, speedup: 1.8 },
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
export function planCost(
  plan: Ma2mlPlan,
  costs: PlanUnitCosts,
): {
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
  const syn = p.ablations.synthetic;
  // Monotonic check (every w) at its own setting and at the searches' batch size (every w, plus the
  // issue-12 learner), and the credit-quality check (5 learner configurations).
  const searchUpdates = Math.ceil(syn.searchEvaluations / p.batchSize);
  const rs = p.ablations.rewardSurrogate;
  // ... plus the searches on the reward surrogate (7 methods), counted as synthetic updates.
  const syntheticUpdates =
    syn.seeds.length *
      (p.ablations.divergenceWeights.length * (syn.updates + searchUpdates) + searchUpdates + 5 * searchUpdates) +
    7 * rs.seeds.length * Math.ceil(rs.evaluations / p.batchSize);
  const sp = Math.max(1, costs.speedup);
  const totalSeconds =
    ((searchEvaluations21 + extraEvaluations22 + noiseEvaluations) * costs.secondsPerEvaluation +
      retrains * costs.secondsPerRetrain) /
      sp +
    syntheticUpdates * costs.secondsPerSyntheticUpdate;
  return { searchEvaluations21, extraEvaluations22, retrains, noiseEvaluations, syntheticUpdates, totalSeconds };
}

/**
 * The executor of a plan: a `WorkerPoolExecutor` with `plan.workers` threads, or inline for 0;
 * in distributed mode (`MARL_AUTOML_DB` set) a `QueueExecutor` feeding `npm run worker` processes
 * (it logs one line saying so). Close it when done.
 *
 * @example
 * ```ts
 * const executor = planExecutor(plan);
 * try { ... } finally { await executor.close(); }
 * ```
 */
export function planExecutor(plan: Ma2mlPlan): Executor {
  return modeExecutor(() =>
    plan.workers > 0 ? new WorkerPoolExecutor({ workers: plan.workers }) : new InlineExecutor(),
  );
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
 * The evaluator all searches of a plan share: proxy training at the LOOSE constraint (`plan.flops[1]`,
 * rule `hard-mask`, which the evaluator scores as `hard`). Searches mask at their own constraint
 * (`runSearch` `flops`), so every evaluated pipeline is within its budget and its reward is its
 * validation accuracy; one cache then serves both budgets.
 *
 * @example
 * ```ts
 * const ev = planEvaluator(plan, space);
 * ```
 */
export function planEvaluator(plan: Ma2mlPlan, space: SearchSpace): SearchEvaluator {
  return trainingEvaluator(space, {
    flops: plan.flops[1],
    seed: plan.evaluation.seed,
    data: plan.evaluation.data as ResolvedEvalDataConfig,
    epochs: plan.evaluation.epochs,
  });
}
