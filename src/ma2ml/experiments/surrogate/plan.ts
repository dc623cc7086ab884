/**
 * Plans of notebook 23 (the LCBench surrogate as a joint two-agent search problem): tasks, seeds,
 * budgets, batch size, noise model, methods and the module-only searches, per preset.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PRESET_NAMES, parseConfig, z } from '../../../config';
import type { PresetName } from '../../../config';
import { Rng } from '../../../random';
import { defaultLcbenchGrid, gridConfigToTokens, parseGrid } from '../../surrogate/grid';
import type { LcbenchGrid } from '../../surrogate/grid';
import { lcbenchDataDir } from '../../surrogate/lcbench';
import type { LcbenchConfig } from '../../surrogate/space';

/** Methods of the surrogate experiments: the learner configurations (`METHOD_CONFIGS`), sequential and random. */
export const SURROGATE_METHODS = [
  'ma2ml',
  'ma2ml-replay',
  'ma2ml-lite',
  'ma2ml-no-credit',
  'independent',
  'single-agent',
  'sequential',
  'random',
] as const;
/** One of {@link SURROGATE_METHODS}. */
export type SurrogateMethod = (typeof SURROGATE_METHODS)[number];
/** Methods that are one `SingleStepLearner` over both agents. */
export const SURROGATE_LEARNER_METHODS = [
  'ma2ml',
  'ma2ml-replay',
  'ma2ml-lite',
  'ma2ml-no-credit',
  'independent',
  'single-agent',
] as const;

/**
 * The configuration the module-only searches fix the other agent at: 2 layers of at most 256 units,
 * no dropout; SGD batch 64, learning rate 0.01, momentum 0.9, weight decay 1e-4 (the example
 * configuration of the surrogate README: a plain hand default, not tuned on any task).
 */
export const MODULE_DEFAULT_CONFIG: Readonly<LcbenchConfig> = Object.freeze({
  num_layers: 2,
  max_units: 256,
  max_dropout: 0,
  batch_size: 64,
  learning_rate: 0.01,
  momentum: 0.9,
  weight_decay: 1e-4,
});

/** Seed of the shuffle that picks the tasks (fixed: the tasks are the benchmark's instances, nothing is tuned on them). */
export const TASK_SHUFFLE_SEED = 2026;

const Seeds = z
  .array(z.number().int())
  .min(1, 'at least one seed')
  .refine((s) => new Set(s).size === s.length, 'seeds must be distinct');

const PlanSchema = z
  .object({
    preset: z.enum(PRESET_NAMES),
    description: z.string().min(1),
    /** OpenML task ids of the LCBench surrogate. */
    tasks: z
      .array(z.string().regex(/^[0-9]+$/, 'must be an OpenML task id (digits)'))
      .min(1, 'at least one task')
      .refine((t) => new Set(t).size === t.length, 'tasks must be distinct'),
    seeds: Seeds,
    /** Evaluation budgets at which results are reported, strictly increasing; learners run once at the largest and are read at each prefix. */
    budgets: z
      .array(z.number().int().min(1))
      .min(1)
      .refine((b) => b.every((v, i) => i === 0 || v > b[i - 1]), 'budgets must be strictly increasing'),
    /** Proposals per learner update. */
    batchSize: z.number().int().min(1),
    /** Gaussian observation noise sd (accuracy units) of every reward; 0 = noiseless. */
    noiseSd: z.number().min(0).finite(),
    /** LCBench epoch whose validation accuracy is the reward (52 = end of training). */
    epoch: z.number().int().min(1).max(52),
    methods: z
      .array(z.enum(SURROGATE_METHODS))
      .min(1)
      .refine((m) => new Set(m).size === m.length, 'methods must be distinct'),
    /** Module-only searches (one agent searched, the other fixed at `config`), with this learner method; null: none. */
    moduleOnly: z
      .object({ method: z.enum(SURROGATE_LEARNER_METHODS), config: z.record(z.number()) })
      .strict()
      .nullable(),
    grid: z.unknown(),
    /**
     * Actor learning rates of the learner methods: 'tuned' (default) uses `TUNED_ACTOR_LR`, chosen
     * per method and budget by the validation-task sweep (`npm run ma2ml-sweep`); 'default' uses each
     * method's own setting at every budget.
     */
    actorLr: z.enum(['tuned', 'default']).default('tuned'),
    /** Worker threads (0: inline). */
    workers: z.number().int().min(0),
    /** Steps (1-based evaluation counts) at which curves get bootstrap CIs: this many, log-spaced, plus the budgets. */
    curvePoints: z.number().int().min(2),
    bootstrap: z.object({ reps: z.number().int().min(10), seed: z.number().int() }).strict(),
  })
  .strict()
  .superRefine((p, ctx) => {
    try {
      const g = parseGrid(p.grid);
      if (g.agents.length !== 2)
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['grid', 'agents'],
          message: `the surrogate experiments need 2 agents (architecture, optimisation), got ${g.agents.length}`,
        });
      if (p.moduleOnly) gridConfigToTokens(g, p.moduleOnly.config as unknown as LcbenchConfig);
    } catch (err) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: [p.moduleOnly && String(err).includes('grid configuration') ? 'moduleOnly' : 'grid'],
        message: (err as Error).message,
      });
    }
  });

/** Everything notebook 23 runs for one preset (plain JSON; edit a copy, then {@link parseSurrogatePlan}). */
export type SurrogatePlan = Omit<z.output<typeof PlanSchema>, 'grid' | 'moduleOnly'> & {
  grid: LcbenchGrid;
  moduleOnly: { method: (typeof SURROGATE_LEARNER_METHODS)[number]; config: LcbenchConfig } | null;
};

/**
 * Validates a surrogate plan; throws a `ConfigError` naming the field (e.g. `budgets: budgets must be strictly increasing`).
 *
 * @example
 * ```ts
 * const plan = surrogatePlan('quick');
 * plan.seeds = [0, 1, 2];
 * parseSurrogatePlan(plan);
 * ```
 */
export function parseSurrogatePlan(plan: unknown): SurrogatePlan {
  return parseConfig(PlanSchema, plan, 'surrogate plan') as unknown as SurrogatePlan;
}

/**
 * All 34 OpenML task ids of the surrogate (from `encoding.json`), in a fixed seeded shuffle
 * (`Rng(TASK_SHUFFLE_SEED)`, fork `'surrogate-tasks'`, of the ids sorted numerically): plans take a prefix.
 *
 * @example
 * ```ts
 * shuffledTasks().slice(0, 10);
 * ```
 */
export function shuffledTasks(dataDir: string = lcbenchDataDir()): string[] {
  const enc = JSON.parse(fs.readFileSync(path.join(dataDir, 'encoding.json'), 'utf8')) as {
    OpenML_task_id: Record<string, number>;
  };
  const ids = Object.keys(enc.OpenML_task_id)
    .filter((k) => /^[0-9]+$/.test(k))
    .sort((a, b) => Number(a) - Number(b));
  const perm = new Rng(TASK_SHUFFLE_SEED).fork('surrogate-tasks').permutation(ids.length);
  return Array.from(perm, (i) => ids[i]);
}

/**
 * The plan of notebook 23 for a preset (a fresh copy each call; costs in `src/ma2ml/README.md`):
 * - `smoke` (< 60 s): 1 task, 2 seeds, budgets 8 / 24, batch 4, 4 methods, no module-only searches;
 * - `quick` (< 10 min on 2 cores; 150 s measured 2026-12-07, quiet): 10 tasks x 10 seeds, budgets 36 / 200, all methods and module-only searches;
 * - `full` (2026-12-07: 38 min with part of the searches from the store, 89 min for all 2300 while another
 *   full run shared the cores): 10 tasks x 10 seeds, budgets 36 / 200 / 1000.
 * Every preset: batch 8 (smoke 4), noise sd 0.01, reward at epoch 52, the default 84,000-configuration grid.
 *
 * Cost (measured 2026-12-07 on the 2-core machine at load average 3-4.7 from other jobs; task 167190,
 * seed 0, batch 8, inline; one search per method, seconds):
 *
 * | method | 200 evaluations | 1000 evaluations |
 * |---|---|---|
 * | random | 0.2 (incl. the table) | 0.3 |
 * | independent / ma2ml-lite / ma2ml-no-credit | 0.5 / 0.6 / 0.5 | 0.8 / 1.4 / 1.0 |
 * | ma2ml / single-agent | 1.0 / 1.3 | 2.6 / 3.0 |
 * | ma2ml (ridge critic refitted on up to 1024 rows per update; was `ma2ml-i12`) | 0.3 | 11.3 |
 * | sequential | 0.06 | 0.2 |
 * | ma2ml only architecture / only optimisation | 0.5 / 0.5 | about 2.6 each |
 *
 * Per (task, seed) about 5.5 s at 200 and 26 s at 1000 (inline). A worker-pool check (2 workers,
 * quick settings, 2 tasks x 2 seeds = 44 searches, load 4.7) took 19.3 s wall for 31.5 s of search
 * time. Estimates: `quick` (100 task-seed pairs) about 7.5 min under that load (about 5 min quiet),
 * plus about 25 s of kernel start; `full` about 2600 s of search time, i.e. about 26 min with 2
 * workers when quiet, 35 min under load. The exhaustive tables take about 1 s per task once (file cache).
 *
 * @example
 * ```ts
 * surrogatePlan('full').budgets; // [36, 200, 1000]
 * ```
 */
export function surrogatePlan(preset: PresetName): SurrogatePlan {
  const tasks = shuffledTasks();
  const base = {
    preset,
    noiseSd: 0.01,
    epoch: 52,
    grid: defaultLcbenchGrid(),
    curvePoints: 24,
    bootstrap: { reps: 1000, seed: 0 },
    moduleOnly: { method: 'ma2ml', config: { ...MODULE_DEFAULT_CONFIG } },
    methods: [...SURROGATE_METHODS],
  };
  let plan: unknown;
  const cores = Math.max(1, os.cpus().length);
  if (preset === 'smoke') {
    plan = {
      ...base,
      description: 'smoke: 1 task, 2 seeds, 24 evaluations (checks the code path, not the claims)',
      tasks: tasks.slice(0, 1),
      seeds: [0, 1],
      budgets: [8, 24],
      batchSize: 4,
      methods: ['ma2ml', 'ma2ml-replay', 'independent', 'random'],
      moduleOnly: null,
      workers: 0,
      bootstrap: { reps: 200, seed: 0 },
      curvePoints: 8,
    };
  } else if (preset === 'quick') {
    plan = {
      ...base,
      description: 'quick: 10 tasks x 10 seeds, budgets 36 and 200 evaluations (batch 8), noise sd 0.01',
      tasks: tasks.slice(0, 10),
      seeds: Array.from({ length: 10 }, (_, i) => i),
      budgets: [36, 200],
      batchSize: 8,
      workers: cores,
    };
  } else if (preset === 'full') {
    plan = {
      ...base,
      description: 'full: 10 tasks x 10 seeds, budgets 36, 200 and 1000 evaluations (batch 8), noise sd 0.01',
      tasks: tasks.slice(0, 10),
      seeds: Array.from({ length: 10 }, (_, i) => i),
      budgets: [36, 200, 1000],
      batchSize: 8,
      workers: cores,
    };
  } else {
    throw new Error(`surrogatePlan: unknown preset ${JSON.stringify(preset)} (expected smoke, quick or full)`);
  }
  return parseSurrogatePlan(plan);
}

/**
 * Number of joint configurations of a grid (for display).
 *
 * @example
 * ```ts
 * gridSizesOf(surrogatePlan('quick').grid); // 84000
 * ```
 */
export function gridSizesOf(grid: LcbenchGrid): number {
  return grid.agents.reduce((acc, a) => acc * a.params.reduce((m, p) => m * p.values.length, 1), 1);
}
