/**
 * Training GANNO agents: IPPO (shared GRU policy by default) over the task distribution, with
 * atomic checkpoints, exact resume, and best-checkpoint selection on held-out validation tasks.
 */
import * as fs from 'fs';
import * as path from 'path';
import { differenceStepAssigner, sharedStepAssigner } from '../credit';
import { parseConfig, z } from '../config';
import { writeFileAtomic } from '../io';
import { PolicyActor, PpoConfigSchema, PpoTrainer, loadPolicy } from '../marl';
import type {
  ActorCritic,
  EpisodeStats,
  MultiAgentEnv,
  MultiAgentEnvSpec,
  PpoConfig,
  ResetResult,
  StepResult,
  UpdateStats,
} from '../marl';
import { Rng, deriveSeed } from '../random';
import type { ProgressSink } from '../progress';
import { LayerLrEnv, resolveLayerLrEnvConfig } from './env';
import type { LayerLrEnvConfig, ResolvedLayerLrEnvConfig } from './env';
import type { FeatureRegistry, LrControl } from './features';
import type { FeatureStatisticsState } from './controllers';

/**
 * Config of {@link trainGannoAgents} (validated; errors name the field).
 * - `env`: the training task distribution ({@link LayerLrEnvConfig}); `numEnvs` parallel envs
 *   (batched policy forwards), `episodesPerEnv` episodes per env per PPO update.
 * - `policy`: `torso` (`gru` default, `mlp`), `sharing` (`shared` default, `independent` needs
 *   `maxAgents`), widths; `ppo`: PPO overrides (spec defaults otherwise).
 * - `credit`: `difference` (default: horizon-true difference rewards from counterfactual trajectories,
 *   env `agentRewards: 'difference'`), `difference-myopic` (the per-interval exact difference reward:
 *   "keep" replayed over the next K steps only) or `shared` (every agent gets the team reward).
 * - `ppo`: overrides of {@link GANNO_PPO_DEFAULTS}.
 * - `checkpointRule`: which validation score keeps the best checkpoint (`greedy` default, `sampled`).
 * - `milestones`: updates at which the best-so-far checkpoint is also kept as `best-uNNNNNN`.
 * - `updates`: total PPO updates; `checkpointEvery`; `evalEvery` with `valSeeds` (held-out task seeds).
 * - `dir`: checkpoint folder; `resume` (default true) continues from `dir/latest.json` if present.
 *
 * @example
 * ```ts
 * const cfg = GannoTrainConfigSchema.parse({ dir: 'runs/g', updates: 20, valSeeds: [9001, 9002] });
 * cfg.credit; // 'difference'
 * ```
 */
export const GannoTrainConfigSchema = z
  .object({
    env: z.record(z.unknown()).default({}),
    numEnvs: z.number().int().positive().default(2),
    episodesPerEnv: z.number().int().positive().default(1),
    policy: z
      .object({
        torso: z.enum(['gru', 'mlp']).default('gru'),
        sharing: z.enum(['shared', 'independent']).default('shared'),
        maxAgents: z.number().int().positive().optional(),
        hiddenSizes: z.array(z.number().int().positive()).default([64]),
        gruSize: z.number().int().positive().default(64),
        /** `decentralised` (IPPO, default) or `centralised` (MAPPO: critic on {@link layerSummaryState}). */
        critic: z.enum(['decentralised', 'centralised']).default('decentralised'),
      })
      .strict()
      .default({}),
    ppo: z.record(z.unknown()).default({}),
    credit: z.enum(['difference', 'difference-myopic', 'shared']).default('difference'),
    /** Validation score that picks the kept (`best`) checkpoint: the greedy or the sampled policy's. */
    checkpointRule: z.enum(['greedy', 'sampled']).default('greedy'),
    /** Extra updates at which the best-so-far checkpoint is copied to `dir/best-uNNNNNN` (budget curves). */
    milestones: z.array(z.number().int().positive()).default([]),
    seed: z.number().int().default(0),
    updates: z.number().int().positive(),
    checkpointEvery: z.number().int().positive().default(5),
    evalEvery: z.number().int().positive().default(5),
    valSeeds: z.array(z.number().int()).min(1).default([900001, 900002]),
    dir: z.string().min(1),
    resume: z.boolean().default(true),
  })
  .strict();
export type GannoTrainConfig = z.input<typeof GannoTrainConfigSchema>;

/**
 * PPO settings of GANNO training (any can be overridden through `ppo`): value targets normalised by
 * running return statistics instead of a hand-set reward scale, no value clipping, actor and critic
 * gradients clipped separately. The Adam learning rate (3e-3, 12x CleanRL's Atari default: a GANNO
 * update sees about a hundred samples, not thousands) and the epochs per update (4) are the best of
 * the PPO sweep on validation tasks (`npm run ganno-sweep`; src/ganno/README.md, "PPO sweep").
 */
export const GANNO_PPO_DEFAULTS = Object.freeze({
  learningRate: 3e-3,
  criticLearningRate: 3e-3,
  epochs: 4,
  minibatches: 2,
  entropyCoef: 0.01,
  gamma: 0.99,
  gaeLambda: 0.95,
  valueNorm: true,
  clipValue: false,
  gradClip: 'separate' as const,
  maxGradNorm: 0.5,
  criticMaxGradNorm: 1,
  chunkLength: 20,
});

/** A {@link GannoTrainConfig} with every default applied (see {@link resolveGannoTrainConfig}). */
export type ResolvedGannoTrainConfig = Omit<z.output<typeof GannoTrainConfigSchema>, 'env' | 'ppo' | 'dir'> & {
  env: ResolvedLayerLrEnvConfig;
  ppo: z.output<typeof PpoConfigSchema>;
  dir?: string;
};

/**
 * The configuration {@link trainGannoAgents} acts on: validated, every default applied, the env's
 * (default feature list, `agentRewards` from `credit`, task, actions, LR clip) and PPO's
 * ({@link GANNO_PPO_DEFAULTS} over PPO's own) included. `dir` may be left out (job configs derive
 * it). Cache keys of `ganno-train` jobs are computed from it, so changing a default retrains.
 *
 * @example
 * ```ts
 * const r = resolveGannoTrainConfig({ updates: 10 });
 * r.env.features;   // DEFAULT_FEATURE_NAMES
 * r.env.agentRewards; // 'difference' (the default credit)
 * r.ppo.learningRate; // 3e-3
 * ```
 */
export function resolveGannoTrainConfig(
  config: Omit<GannoTrainConfig, 'dir'> & { dir?: string },
): ResolvedGannoTrainConfig {
  const c = parseConfig(GannoTrainConfigSchema, { ...config, dir: config.dir ?? '.' }, 'GANNO train config');
  const env = resolveLayerLrEnvConfig({
    ...(c.env as LayerLrEnvConfig),
    agentRewards: c.credit === 'difference' ? 'difference' : 'team',
  });
  const ppo = parseConfig(PpoConfigSchema, { ...GANNO_PPO_DEFAULTS, ...c.ppo }, 'GANNO train config ppo');
  const { dir: _dir, ...rest } = c;
  return { ...rest, env, ppo, ...(config.dir !== undefined ? { dir: config.dir } : {}) };
}

/** One validation of the policy during training, on the held-out validation tasks. */
export interface GannoValidationPoint {
  update: number;
  /** The score the checkpoint rule uses (greedy or sampled, see `rule`). */
  score: number;
  /** Mean greedy team return on the validation tasks (= mean log-ratio of initial to final validation loss, minus penalties, x rewardScale). */
  greedy: number;
  /** Mean team return of the sampling policy on the same tasks (seeded by the task seed). */
  sampled: number;
  /** Fraction of greedy validation runs in which some agent took one action at more than 90% of its decisions. */
  greedyDegenerate: number;
  rule: 'greedy' | 'sampled';
}

/**
 * Learner diagnostics of one PPO update (from `UpdateStats`): what tells a learner that moved from
 * one that only ran. Kept with the checkpoints and returned by {@link trainGannoAgents}.
 */
export interface GannoUpdateDiagnostics {
  update: number;
  meanTeamReturn: number;
  /** Mean per-agent learning reward per step (the difference rewards under `credit: 'difference'`). */
  meanAgentReward: number;
  approxKl: number;
  kl: number;
  klFromInitial: number;
  clipFraction: number;
  policyEntropy: number;
  maxProb: number;
  explainedVariance: number;
  valueLoss: number;
  actorGradNorm: number;
  actorGradNormMax: number;
  criticGradNorm: number;
  criticGradNormMax: number;
  actionCounts: number[];
  seconds: number;
}

/**
 * KL from the initial policy (nats, mean over the rollout's observations) below which a trained
 * policy counts as "did not move": 0.05 nats is about the KL between a uniform 9-way policy and one
 * that moves 10% of the probability mass onto one action (0.045); the policy the learning audit
 * found uniform after training had 0.023.
 */
export const POLICY_MOVED_KL = 0.05;

/** Result of {@link trainGannoAgents} (plain JSON). */
export interface GannoTrainResult {
  /** Mean team return of the training episodes of each update (index u = update u + 1). */
  teamReturn: number[];
  /** Learner diagnostics of every update. */
  diagnostics: GannoUpdateDiagnostics[];
  /** Directories of the best-so-far checkpoint at each reached milestone (`best-uNNNNNN`). */
  milestoneDirs: { update: number; dir: string; best: GannoValidationPoint | null }[];
  /** Validation score at every evaluation. */
  validation: GannoValidationPoint[];
  /** Update of the best validation score, and its score (null before the first evaluation). */
  best: GannoValidationPoint | null;
  /** Directory of the best checkpoint (load with {@link loadGannoPolicy}). */
  bestDir: string | null;
  /** Directory of the latest checkpoint. */
  latestDir: string | null;
  updates: number;
  /** Update resumed from (0 = fresh start). */
  resumedFrom: number;
  /** Feature names the policy observes, in registration order. */
  featureNames: string[];
  observationSize: number;
  seconds: number;
}

/** Sidecar of a checkpoint: what the PPO checkpoint does not hold. */
interface GannoSidecar {
  format: 'ganno-train-state';
  update: number;
  /** Control mode of the training envs (absent in checkpoints written before it existed: layerwise). */
  control?: LrControl;
  featureNames: string[];
  /** Running feature statistics per training env. */
  featureStatistics: FeatureStatisticsState[];
  teamReturn: number[];
  diagnostics: GannoUpdateDiagnostics[];
  validation: GannoValidationPoint[];
  best: GannoValidationPoint | null;
  /** Milestones reached: the best-so-far validation point at each. */
  milestones: { update: number; best: GannoValidationPoint | null }[];
}

const SIDECAR = 'ganno.json';

const statsEntry = z
  .object({
    count: z.array(z.number().nonnegative()),
    mean: z.array(z.number()),
    m2: z.array(z.number().nonnegative()),
  })
  .strict();
const validationPoint = z
  .object({
    update: z.number().int().nonnegative(),
    score: z.number(),
    greedy: z.number(),
    sampled: z.number(),
    greedyDegenerate: z.number(),
    rule: z.enum(['greedy', 'sampled']),
  })
  .passthrough();
/** The shape of `ganno.json` (checked on every read: a corrupt or foreign sidecar is refused with the file named). */
const SidecarSchema = z
  .object({
    format: z.literal('ganno-train-state'),
    update: z.number().int().nonnegative(),
    control: z.enum(['layerwise', 'global']).optional(),
    featureNames: z.array(z.string()).min(1),
    featureStatistics: z.array(z.record(statsEntry)),
    teamReturn: z.array(z.number().nullable()),
    diagnostics: z.array(z.record(z.unknown())).default([]),
    validation: z.array(validationPoint),
    best: validationPoint.nullable(),
    milestones: z
      .array(z.object({ update: z.number().int().nonnegative(), best: validationPoint.nullable() }))
      .default([]),
  })
  .passthrough();

/** How to get going again after a damaged training folder (for error messages). */
const RECOVER =
  'delete the damaged file or folder to resume from the newest intact ckpt-* (point latest.json at it: {"dir": "ckpt-NNNNNN", "update": N}), or pass resume: false to start over';

/** Reads and checks a `ganno.json` sidecar; every problem is an Error naming the file. */
function readSidecar(file: string, where: string): GannoSidecar {
  if (!fs.existsSync(file))
    throw new Error(
      `${where}: ${file} not found (not a GANNO training checkpoint, or an interrupted copy); ${RECOVER}`,
    );
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${where}: ${file} is not valid JSON (${(err as Error).message}); ${RECOVER}`, { cause: err });
  }
  const parsed = SidecarSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `${where}: ${file} is not a valid GANNO training state (${issue.path.join('.') || 'root'}: ${issue.message}); ${RECOVER}`,
    );
  }
  const side = parsed.data as unknown as GannoSidecar;
  side.featureStatistics.forEach((stats, e) => {
    for (const [name, r] of Object.entries(stats)) {
      if (r.mean.length !== r.count.length || r.m2.length !== r.count.length || r.count.length === 0)
        throw new Error(
          `${where}: ${file}: feature statistics of env ${e}, feature "${name}" hold count/mean/m2 of lengths ${r.count.length}/${r.mean.length}/${r.m2.length}; ${RECOVER}`,
        );
    }
  });
  return side;
}

/** Reads `latest.json` of a training folder; an Error names the file and how to recover. */
function readLatest(file: string, where: string): { dir: string; update?: number } {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${where}: ${file} is not valid JSON (${(err as Error).message}); ${RECOVER}`, { cause: err });
  }
  const dir = (raw as { dir?: unknown } | null)?.dir;
  if (typeof dir !== 'string' || dir !== path.basename(dir) || !dir)
    throw new Error(
      `${where}: ${file} does not name a checkpoint folder of this directory (expected {"dir": "ckpt-NNNNNN"}); ${RECOVER}`,
    );
  return raw as { dir: string; update?: number };
}

/**
 * Removes what an interrupted write leaves in a training folder: temporary checkpoint folders
 * (`.ckpt-*.tmp-*`, `.best.tmp-*`, their `.old` siblings), temporary `latest.json` files and
 * half-copied milestone folders (`*.tmp-<pid>`). Returns the removed names.
 */
export function removeCrashLeftovers(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const removed: string[] = [];
  for (const name of fs.readdirSync(dir)) {
    if (/^\..+\.tmp-[^/]*$/.test(name) || /^\..+\.\d+\.\d+\.tmp$/.test(name) || /^[^.].*\.tmp-\d+$/.test(name)) {
      fs.rmSync(path.join(dir, name), { recursive: true, force: true });
      removed.push(name);
    }
  }
  return removed.sort();
}

/** Extra hooks of {@link trainGannoAgents} (not JSON: functions and sinks). */
export interface GannoTrainHooks {
  /** Edits every env's feature registry (training and validation) before the first reset, e.g. adds a custom feature. */
  setupFeatures?: (features: FeatureRegistry) => void;
  /** Progress: one tick per PPO update. */
  progress?: ProgressSink;
  /** Called after every update with its diagnostics (e.g. to plot live). */
  onUpdate?: (update: number, teamReturn: number, diagnostics: GannoUpdateDiagnostics) => void;
  /** Stop after this many updates of *this call* (simulates an interruption in tests). */
  stopAfter?: number;
  /**
   * Cancels the training between two PPO updates (the call throws the signal's reason, an
   * `AbortError`); checkpoints already written stay, so a later call with `resume` continues from
   * the latest one. Checked before every update, so an in-thread caller that yields between calls
   * (a notebook, `InlineExecutor`'s `JobContext.signal`) stops within one update.
   */
  signal?: AbortSignal;
}

function ckptDir(dir: string, update: number): string {
  return path.join(dir, `ckpt-${String(update).padStart(6, '0')}`);
}

function writeTrainState(dir: string, trainer: PpoTrainer, side: GannoSidecar): void {
  // The sidecar goes into the checkpoint's own atomic directory swap: policy and sidecar never disagree.
  trainer.saveCheckpoint(dir, { [SIDECAR]: JSON.stringify(side) });
}

/**
 * Trains GANNO layer agents with PPO over the task distribution: IPPO with one shared GRU
 * actor-critic by default (`policy.torso: 'mlp'` for feed-forward, `policy.sharing:
 * 'independent'` for unshared policies), exact difference rewards by default (`credit:
 * 'shared'` for the team reward). Every `checkpointEvery` updates it writes `dir/ckpt-NNNNNN`
 * (PPO trainer checkpoint: policy, Adam, random streams; plus `ganno.json`: feature statistics,
 * curves) and then points `dir/latest.json` at it, each write atomic; an interrupted run resumes
 * from the latest checkpoint and continues exactly (bit-identical parameters to an uninterrupted
 * run). Every `evalEvery` updates the greedy policy runs on the validation task seeds (frozen
 * copies of the feature statistics); the best score's checkpoint is kept as `dir/best`.
 *
 * MAPPO (`policy.critic: 'centralised'`): the environment has no global state, so the envs are
 * wrapped to provide {@link layerSummaryState} (mean and max of all agents' observations: fixed
 * size for any number of layers) as the centralised critic's input.
 *
 * @example
 * ```ts
 * const res = trainGannoAgents({ env: { task: { datasets: ['digits'], totalSteps: 200 } }, updates: 20, dir: 'runs/ganno', valSeeds: [9001, 9002] });
 * res.teamReturn; res.validation; res.bestDir;
 * const { policy } = loadGannoPolicy(res.bestDir!);
 * ```
 */
export function trainGannoAgents(config: GannoTrainConfig, hooks: GannoTrainHooks = {}): GannoTrainResult {
  const c = parseConfig(GannoTrainConfigSchema, config, 'GANNO train config');
  const started = performance.now();
  // the resolved config (what the cache key of a ganno-train job is computed from) drives the run
  const resolved = resolveGannoTrainConfig(config);
  const envConfig = resolved.env;
  const makeEnv = () => {
    const e = new LayerLrEnv(envConfig);
    if (hooks.setupFeatures) hooks.setupFeatures(e.features);
    return e;
  };
  const envs = Array.from({ length: c.numEnvs }, makeEnv);
  // Validation reads team returns only: no counterfactual shadows (the factual run is the same either way).
  const valEnv = new LayerLrEnv({ ...envConfig, agentRewards: 'team' });
  if (hooks.setupFeatures) hooks.setupFeatures(valEnv.features);
  const spec = envs[0].spec;
  const centralised = c.policy.critic === 'centralised';
  const trainingEnvs: MultiAgentEnv[] = centralised ? envs.map((e) => new SummaryStateEnv(e)) : envs;
  const featureNames = envs[0].features.names;
  // 'difference': the env's own per-agent rewards (counterfactual trajectories); the others through a credit plug-in.
  const credit =
    c.credit === 'difference'
      ? undefined
      : c.credit === 'difference-myopic'
        ? differenceStepAssigner()
        : sharedStepAssigner();
  const trainerConfig = {
    policy: {
      observationSize: spec.observationSize,
      numActions: spec.numActions,
      ...c.policy,
      stateSize: centralised ? 2 * spec.observationSize : 0,
    },
    ppo: resolved.ppo as PpoConfig,
    rollout: { mode: 'episodes' as const, episodesPerEnv: c.episodesPerEnv },
    seed: c.seed,
  };
  fs.mkdirSync(c.dir, { recursive: true });
  const latestPath = path.join(c.dir, 'latest.json');
  let trainer: PpoTrainer;
  const control = envs[0].control;
  let side: GannoSidecar = {
    format: 'ganno-train-state',
    update: 0,
    control,
    featureNames,
    featureStatistics: [],
    teamReturn: [],
    diagnostics: [],
    validation: [],
    best: null,
    milestones: [],
  };
  let resumedFrom = 0;
  let latestDir: string | null = null;
  try {
    trainer = new PpoTrainer(trainerConfig, trainingEnvs, { credit });
  } catch (err) {
    for (const e of [...envs, valEnv]) e.dispose();
    throw err;
  }
  try {
    removeCrashLeftovers(c.dir);
    if (c.resume && fs.existsSync(latestPath)) {
      const latest = readLatest(latestPath, 'GANNO train (resume)');
      const dir = path.join(c.dir, latest.dir);
      side = readSidecar(path.join(dir, SIDECAR), 'GANNO train (resume)');
      if ((side.control ?? 'layerwise') !== control)
        throw new Error(
          `GANNO train: checkpoint ${dir} was trained with env control '${side.control ?? 'layerwise'}', this run has control '${control}'`,
        );
      if (side.featureNames.join(',') !== featureNames.join(',')) {
        throw new Error(
          `GANNO train: checkpoint ${dir} was trained on features [${side.featureNames.join(', ')}], this run has [${featureNames.join(', ')}]`,
        );
      }
      trainer.loadCheckpoint(dir);
      if (side.featureStatistics.length !== envs.length)
        throw new Error(
          `GANNO train: checkpoint ${dir} holds feature statistics of ${side.featureStatistics.length} envs, numEnvs is ${envs.length}`,
        );
      envs.forEach((e, i) => e.features.setStatisticsState(side.featureStatistics[i]));
      resumedFrom = side.update;
      latestDir = dir;
    }
    const progress = hooks.progress;
    const todo = c.updates - trainer.updates;
    progress?.start(Math.max(0, todo), 'GANNO PPO updates');
    let done = 0;
    const milestones = new Set(c.milestones);
    while (trainer.updates < c.updates && (hooks.stopAfter === undefined || done < hooks.stopAfter)) {
      hooks.signal?.throwIfAborted();
      const t0 = performance.now();
      const rollout = trainer.collector.collect();
      const stats = trainer.update(rollout);
      done++;
      const u = trainer.updates;
      const diag = updateDiagnostics(stats, rollout.episodes, (performance.now() - t0) / 1000);
      side.teamReturn.push(stats.meanTeamReturn);
      side.diagnostics.push(diag);
      hooks.onUpdate?.(u, stats.meanTeamReturn, diag);
      let improved = false;
      if (u % c.evalEvery === 0 || u === c.updates || milestones.has(u)) {
        valEnv.features.setStatisticsState(envs[0].features.getStatisticsState());
        valEnv.features.frozen = true;
        const greedy = validationRuns(trainer.policy, valEnv, c.valSeeds, true);
        const sampled = validationRuns(trainer.policy, valEnv, c.valSeeds, false);
        const point: GannoValidationPoint = {
          update: u,
          score: c.checkpointRule === 'greedy' ? greedy.score : sampled.score,
          greedy: greedy.score,
          sampled: sampled.score,
          greedyDegenerate: greedy.degenerate,
          rule: c.checkpointRule,
        };
        side.validation.push(point);
        if (!side.best || point.score > side.best.score) {
          side.best = point;
          improved = true;
        }
      }
      side.update = u;
      side.featureStatistics = envs.map((e) => e.features.getStatisticsState());
      if (improved) writeTrainState(path.join(c.dir, 'best'), trainer, side);
      if (milestones.has(u)) {
        // The best-so-far checkpoint as of this update: what a run with `updates: u` would have kept.
        side.milestones.push({ update: u, best: side.best });
        copyDirAtomic(path.join(c.dir, 'best'), milestoneDir(c.dir, u));
      }
      if (u % c.checkpointEvery === 0 || u === c.updates) {
        const dir = ckptDir(c.dir, u);
        writeTrainState(dir, trainer, side);
        writeFileAtomic(latestPath, JSON.stringify({ dir: path.basename(dir), update: u }));
        if (latestDir && latestDir !== dir) fs.rmSync(latestDir, { recursive: true, force: true });
        latestDir = dir;
      }
      progress?.tick(1, { return: Number.isFinite(stats.meanTeamReturn) ? stats.meanTeamReturn.toFixed(3) : 'NaN' });
    }
    progress?.end();
    return {
      teamReturn: side.teamReturn.slice(),
      diagnostics: side.diagnostics.slice(),
      milestoneDirs: side.milestones.map((m) => ({
        update: m.update,
        dir: milestoneDir(c.dir, m.update),
        best: m.best,
      })),
      validation: side.validation.slice(),
      best: side.best,
      bestDir: side.best ? path.join(c.dir, 'best') : null,
      latestDir,
      updates: trainer.updates,
      resumedFrom,
      featureNames,
      observationSize: spec.observationSize,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    trainer.dispose();
    for (const e of [...envs, valEnv]) e.dispose();
  }
}

/** Copies a checkpoint folder so that `to` appears whole or not at all (copy to a sibling, then rename). */
function copyDirAtomic(from: string, to: string): void {
  const tmp = `${to}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.cpSync(from, tmp, { recursive: true });
  fs.rmSync(to, { recursive: true, force: true });
  fs.renameSync(tmp, to);
}

function milestoneDir(dir: string, update: number): string {
  return path.join(dir, `best-u${String(update).padStart(6, '0')}`);
}

/** The {@link GannoUpdateDiagnostics} of one update. */
function updateDiagnostics(s: UpdateStats, episodes: EpisodeStats[], seconds: number): GannoUpdateDiagnostics {
  const steps = episodes.reduce((a, e) => a + e.length, 0);
  return {
    update: s.update,
    meanTeamReturn: s.meanTeamReturn,
    meanAgentReward: steps ? episodes.reduce((a, e) => a + e.meanAgentReturn, 0) / steps : NaN,
    approxKl: s.approxKl,
    kl: s.kl,
    klFromInitial: s.klFromInitial,
    clipFraction: s.clipFraction,
    policyEntropy: s.policyEntropy,
    maxProb: s.maxProb,
    explainedVariance: s.explainedVariance,
    valueLoss: s.valueLoss,
    actorGradNorm: s.actorGradNorm,
    actorGradNormMax: s.actorGradNormMax,
    criticGradNorm: s.criticGradNorm,
    criticGradNormMax: s.criticGradNormMax,
    actionCounts: s.actionCounts,
    seconds,
  };
}

/**
 * Share of decisions an agent spends on its most frequent action, per agent of one run: the
 * degenerate-mode guard flags a run in which some agent's share exceeds 0.9.
 *
 * @example
 * ```ts
 * dominantActionShare([[8, 8, 8, 4], [4, 4, 4, 4]]); // [0.75, 1]
 * ```
 */
export function dominantActionShare(actionsPerAgent: number[][]): number[] {
  return actionsPerAgent.map((acts) => {
    if (!acts.length) return NaN;
    const counts = new Map<number, number>();
    for (const a of acts) counts.set(a, (counts.get(a) ?? 0) + 1);
    return Math.max(...counts.values()) / acts.length;
  });
}

/** Share above which one action dominates a run (the degenerate-mode guard). */
export const DEGENERATE_SHARE = 0.9;

/**
 * Mean team return of `policy` on the given task seeds (one episode each) in `env` (whose feature
 * statistics should be frozen), greedy or sampled (a sampling stream seeded by each task seed),
 * and the fraction of runs in which one action dominates some agent's decisions.
 */
function validationRuns(
  policy: ActorCritic,
  env: LayerLrEnv,
  seeds: number[],
  greedy: boolean,
): { score: number; degenerate: number } {
  let sum = 0;
  let degenerate = 0;
  const actor = new PolicyActor(policy, { greedy });
  for (const seed of seeds) {
    let r = env.reset(seed);
    const n = env.numAgents;
    // The one greedy/sampled policy step (src/marl PolicyActor), shared with PolicyController.
    actor.reset(n, new Rng(deriveSeed(seed, 'validation-sampling')));
    let total = 0;
    const taken: number[][] = Array.from({ length: n }, () => []);
    for (;;) {
      const actions = actor.act(r.observations);
      actions.forEach((a, i) => taken[i].push(a));
      const st = env.step(actions);
      total += st.teamReward ?? 0;
      if (st.terminated || st.truncated) break;
      r = st;
    }
    sum += total;
    if (dominantActionShare(taken).some((x) => x > DEGENERATE_SHARE)) degenerate++;
  }
  return { score: sum / seeds.length, degenerate: degenerate / seeds.length };
}

/**
 * Loads the policy of a checkpoint written by {@link trainGannoAgents} (`dir/best`, `dir/ckpt-*`)
 * with the feature names and running feature statistics it was trained with (env 0's) and its env
 * control mode (`layerwise`, or `global` for the single global-LR agent).
 *
 * @example
 * ```ts
 * const { policy, featureStatistics } = loadGannoPolicy('runs/ganno/best');
 * ```
 */
export function loadGannoPolicy(dir: string): {
  policy: ActorCritic;
  featureNames: string[];
  featureStatistics: FeatureStatisticsState;
  update: number;
  control: LrControl;
} {
  const side = readSidecar(path.join(dir, SIDECAR), 'loadGannoPolicy');
  const policy = loadPolicy(dir);
  return {
    policy,
    featureNames: side.featureNames,
    featureStatistics: side.featureStatistics[0] ?? {},
    update: side.update,
    control: side.control ?? 'layerwise',
  };
}

/**
 * The latest checkpoint directory of a training folder, or null.
 *
 * @example
 * ```ts
 * latestGannoCheckpoint('runs/ganno'); // 'runs/ganno/ckpt-000020'
 * ```
 */
export function latestGannoCheckpoint(dir: string): string | null {
  const p = path.join(dir, 'latest.json');
  if (!fs.existsSync(p)) return null;
  return path.join(dir, readLatest(p, 'latestGannoCheckpoint').dir);
}

/**
 * A fixed-size global state for a centralised critic from the agents' observations: the
 * element-wise mean over agents followed by the element-wise max (length 2 x observation size,
 * the same for any number of layers).
 *
 * @example
 * ```ts
 * layerSummaryState([Float32Array.of(1, 2), Float32Array.of(3, 0)]); // [2, 1, 3, 2]
 * ```
 */
export function layerSummaryState(observations: Float32Array[]): Float32Array {
  if (!observations.length) throw new Error('layerSummaryState: no observations');
  const O = observations[0].length;
  const out = new Float32Array(2 * O);
  out.fill(-Infinity, O);
  for (const o of observations) {
    if (o.length !== O)
      throw new Error(`layerSummaryState: observations have different lengths (${O} and ${o.length})`);
    for (let j = 0; j < O; j++) {
      out[j] += o[j] / observations.length;
      if (o[j] > out[O + j]) out[O + j] = o[j];
    }
  }
  return out;
}

/** Adds {@link layerSummaryState} as the global state of a {@link LayerLrEnv} (MAPPO); forwards the difference-reward hooks. */
class SummaryStateEnv implements MultiAgentEnv {
  constructor(readonly inner: LayerLrEnv) {}
  get spec(): MultiAgentEnvSpec {
    const s = this.inner.spec;
    return { ...s, stateSize: 2 * s.observationSize };
  }
  reset(seed: number): ResetResult {
    const r = this.inner.reset(seed);
    return { ...r, state: layerSummaryState(r.observations) };
  }
  step(actions: ArrayLike<number>): StepResult {
    const r = this.inner.step(actions);
    return { ...r, state: layerSummaryState(r.observations), info: r.info as unknown as Record<string, unknown> };
  }
  counterfactualTeamReward(actions: ArrayLike<number>): number {
    return this.inner.counterfactualTeamReward(actions);
  }
  counterfactualTeamRewards(actionSets: readonly ArrayLike<number>[]): number[] {
    return this.inner.counterfactualTeamRewards(actionSets);
  }
  defaultAction(agent: number): number {
    return this.inner.defaultAction(agent);
  }
}
