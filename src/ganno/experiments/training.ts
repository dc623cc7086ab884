/**
 * Training the GANNO agent variants of a plan as runtime jobs: one job per (variant, agent seed),
 * run on any executor (a worker pool trains two agents at once on 2 cores), summaries cached in
 * the experiment store and checkpoints kept on disk, so notebooks 11-15 share the same trained
 * agents and an interrupted training resumes from its last checkpoint.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { ProgressSink } from '../../progress';
import { runExperiment } from '../../runtime/experiment';
import type { Executor } from '../../runtime/executor';
import { defineJobKind } from '../../runtime/jobs';
import type { JobContext } from '../../runtime/jobs';
import { hashJson } from '../../runtime/json';
import type { JsonValue } from '../../runtime/json';
import type { ExperimentStore } from '../../runtime/store';
import { POLICY_MOVED_KL, resolveGannoTrainConfig, trainGannoAgents } from '../train';
import type { GannoTrainConfig, GannoUpdateDiagnostics, GannoValidationPoint } from '../train';
import type { GannoPlan } from './plan';
import { budgetCurveUpdates } from './plan';
import { DEFAULT_VARIANT, variantTrainConfig } from './variants';
import type { GannoVariant } from './variants';

/** Config of one {@link gannoTrainKind} job. */
export interface GannoTrainJobConfig {
  /** `trainGannoAgents` config without `dir` (the folder is derived from it). */
  train: Omit<GannoTrainConfig, 'dir'>;
  /** Parent folder of the checkpoint folders. */
  root: string;
  /** Human-readable prefix of the folder name (variant and seed). */
  label: string;
  /**
   * The update whose best-so-far checkpoint is the agent's `bestDir` (must be one of
   * `train.milestones`); default: the kept checkpoint of the whole run. A budget curve trains to
   * 10x and keeps the 1x agent as the one the tables evaluate.
   */
  primaryUpdate?: number;
}

/** {@link GannoUpdateDiagnostics} as a cached job result keeps them: without wall-clock time. */
export type GannoJobDiagnostics = Omit<GannoUpdateDiagnostics, 'seconds'>;

/** A checkpoint kept at a milestone of a budget curve. */
export interface MilestoneAgent {
  update: number;
  /** Best-so-far checkpoint as of this update (evaluate this one). */
  dir: string;
  best: GannoValidationPoint | null;
  /** KL from the initial policy at the checkpoint's update, and whether it passes {@link POLICY_MOVED_KL}. */
  klFromInitial: number;
  moved: boolean;
}

/** Summary of one trained agent (plain JSON; the policy itself is in `bestDir`). */
export interface GannoTrainedAgent {
  label: string;
  seed: number;
  /** Checkpoint folder (`<root>/<label>-<config hash>`). */
  dir: string;
  /** Best checkpoint on the validation tasks (evaluate this one). */
  bestDir: string;
  /** Mean team return per PPO update. */
  teamReturn: number[];
  validation: GannoValidationPoint[];
  best: GannoValidationPoint | null;
  featureNames: string[];
  observationSize: number;
  updates: number;
  /**
   * Learner diagnostics of every PPO update, without the per-update wall time (timings are not
   * part of cached results: the store records each job's duration, see {@link VariantAgent.seconds}).
   */
  diagnostics: GannoJobDiagnostics[];
  /** KL from the initial policy at the update of `bestDir`'s checkpoint. */
  klFromInitial: number;
  /** Whether that KL passes {@link POLICY_MOVED_KL}: a policy that did not move is flagged in every table. */
  moved: boolean;
  /** The update `bestDir` was chosen as of (the whole run, or `primaryUpdate`). */
  budgetUpdates: number;
  /** Best-so-far checkpoints at the budget-curve milestones (empty without milestones). */
  milestones: MilestoneAgent[];
}

/**
 * The checkpoint folder of a training config: `<root>/<label>-<first 12 hex of the hash of the
 * resolved config>` ({@link resolveGannoTrainConfig}: defaults applied), so a changed config, or
 * a changed default, never resumes from another config's checkpoint.
 *
 * @example
 * ```ts
 * trainFolder('results/ganno-agents', 'default-s0', cfg); // 'results/ganno-agents/default-s0-3fa1c2...'
 * ```
 */
export function trainFolder(root: string, label: string, train: Omit<GannoTrainConfig, 'dir'>): string {
  if (!/^[A-Za-z0-9._-]+$/.test(label))
    throw new Error(`trainFolder: label must use letters, digits, '.', '_' or '-', got ${JSON.stringify(label)}`);
  return path.join(root, `${label}-${hashJson(resolveGannoTrainConfig(train) as JsonValue).slice(0, 12)}`);
}

/**
 * Work function of {@link gannoTrainKind}: trains one agent (resuming from the folder's latest
 * checkpoint when present) and returns its summary. Stops between PPO updates when `ctx.signal`
 * aborts (in-thread executors); a later run resumes from the latest checkpoint.
 */
export function gannoTrainJob(config: GannoTrainJobConfig, ctx?: JobContext): GannoTrainedAgent {
  const dir = trainFolder(config.root, config.label, config.train);
  const res = trainGannoAgents({ ...config.train, dir }, { signal: ctx?.signal });
  if (!res.bestDir || !res.best)
    throw new Error(
      `GANNO training ${config.label}: no validation point was recorded (updates ${res.updates}); check evalEvery`,
    );
  const klAt = (update: number | undefined) => res.diagnostics.find((d) => d.update === update)?.klFromInitial ?? NaN;
  const milestones: MilestoneAgent[] = res.milestoneDirs.map((m) => {
    const kl = klAt(m.best?.update);
    return { update: m.update, dir: m.dir, best: m.best, klFromInitial: kl, moved: kl >= POLICY_MOVED_KL };
  });
  let bestDir = res.bestDir;
  let best = res.best;
  let budgetUpdates = res.updates;
  if (config.primaryUpdate !== undefined) {
    const m = milestones.find((x) => x.update === config.primaryUpdate);
    if (!m || !m.best)
      throw new Error(
        `GANNO training ${config.label}: primaryUpdate ${config.primaryUpdate} is not a reached milestone (milestones ${JSON.stringify(config.train.milestones ?? [])})`,
      );
    bestDir = m.dir;
    best = m.best;
    budgetUpdates = m.update;
  }
  const kl = klAt(best.update);
  return {
    label: config.label,
    seed: config.train.seed ?? 0,
    dir,
    bestDir,
    teamReturn: res.teamReturn,
    validation: res.validation,
    best,
    featureNames: res.featureNames,
    observationSize: res.observationSize,
    updates: res.updates,
    diagnostics: res.diagnostics.map(({ seconds: _seconds, ...d }) => d),
    klFromInitial: kl,
    moved: kl >= POLICY_MOVED_KL,
    budgetUpdates,
    milestones,
  };
}

/**
 * The resolved configuration of a {@link gannoTrainKind} job (its cache key is computed from it):
 * `train` with every default applied ({@link resolveGannoTrainConfig}).
 *
 * @example
 * ```ts
 * resolveGannoTrainJobConfig({ train: { updates: 5 }, root: 'r', label: 'a' }).train.env.features; // DEFAULT_FEATURE_NAMES
 * ```
 */
export function resolveGannoTrainJobConfig(config: GannoTrainJobConfig): GannoTrainJobConfig {
  return { ...config, train: resolveGannoTrainConfig(config.train) as Omit<GannoTrainConfig, 'dir'> };
}

/** Job kind `ganno-train`: one agent variant and seed (for `runExperiment` with any executor). */
export const gannoTrainKind = defineJobKind({
  name: 'ganno-train',
  module: __filename,
  export: 'gannoTrainJob',
  version: 'ganno-train@3',
  fn: gannoTrainJob,
  resolveConfig: resolveGannoTrainJobConfig,
});

/** Options of {@link trainGannoVariants}. */
export interface TrainVariantsOptions {
  plan: GannoPlan;
  variants: readonly GannoVariant[];
  /** Agent seeds (default `plan.agentSeeds`). */
  seeds?: readonly number[];
  executor: Executor;
  store: ExperimentStore;
  /** Checkpoint root (default `ganno-agents/<preset>` next to the store file). */
  root?: string;
  /** Experiment name in the store (default `ganno-agents`). */
  name?: string;
  progress?: ProgressSink;
}

/** A trained agent with its variant. */
export interface VariantAgent extends GannoTrainedAgent {
  variant: string;
  /**
   * Training wall seconds of the job that trained it, as the experiment store recorded them (the
   * original job's for agents loaded from the store; a resumed job counts only its own part).
   */
  seconds: number;
}

/**
 * Trains every (variant, seed) agent of a plan that is not already trained and returns all
 * summaries in (variant, seed) order. Cached summaries whose checkpoint folder has gone missing
 * are retrained (the store alone cannot restore a policy).
 *
 * @example
 * ```ts
 * const agents = await trainGannoVariants({ plan, variants: [DEFAULT_VARIANT], executor: new WorkerPoolExecutor({ workers: 2 }), store: ExperimentStore.open() });
 * agents[0].bestDir; // evaluate with { type: 'policy', checkpoint: agents[0].bestDir }
 * ```
 */
export async function trainGannoVariants(options: TrainVariantsOptions): Promise<VariantAgent[]> {
  const { plan, variants, executor, store } = options;
  const seeds = options.seeds ?? plan.agentSeeds;
  if (!variants.length) throw new Error('trainGannoVariants: no variants given');
  const names = new Set<string>();
  for (const v of variants) {
    if (names.has(v.name)) throw new Error(`trainGannoVariants: variant name ${JSON.stringify(v.name)} appears twice`);
    names.add(v.name);
  }
  const root = path.resolve(options.root ?? path.join(path.dirname(store.file), 'ganno-agents', plan.preset));
  const entries = variants.flatMap((v) => seeds.map((seed) => ({ v, seed })));
  const jobs = entries.map(({ v, seed }) => {
    const train = variantTrainConfig(plan, v, seed);
    const curve = v.name === DEFAULT_VARIANT.name ? budgetCurveUpdates(plan) : [];
    const cfg: GannoTrainJobConfig =
      curve.length > 1
        ? {
            train: { ...train, updates: curve[curve.length - 1], milestones: curve },
            root,
            label: `${v.name}-s${seed}`,
            primaryUpdate: plan.train.updates,
          }
        : { train, root, label: `${v.name}-s${seed}` };
    return gannoTrainKind.job(`${plan.preset}/${v.name}/seed${seed}`, cfg, seed);
  });
  const name = options.name ?? 'ganno-agents';
  let res = await runExperiment<GannoTrainedAgent>({ name, jobs, executor, store, progress: options.progress });
  const missing = res.results
    .map((r, i) => (fs.existsSync(path.join(r.bestDir, 'ganno.json')) ? -1 : i))
    .filter((i) => i >= 0);
  if (missing.length) {
    const redo = await runExperiment<GannoTrainedAgent>({
      name,
      jobs: missing.map((i) => jobs[i]),
      executor,
      store,
      force: true,
      progress: options.progress,
    });
    const results = res.results.slice();
    const statuses = res.jobs.slice();
    missing.forEach((i, k) => {
      results[i] = redo.results[k];
      statuses[i] = redo.jobs[k];
    });
    res = { ...res, results, jobs: statuses };
  }
  return res.results.map((r, i) => ({
    ...r,
    variant: entries[i].v.name,
    seconds: res.jobs[i].recordedDurationMs / 1000,
  }));
}
