/**
 * Training GANNO agents: IPPO (shared GRU policy by default) over the task distribution, with
 * atomic checkpoints, exact resume, and best-checkpoint selection on held-out validation tasks.
 */
import * as fs from 'fs';
import * as path from 'path';
import { differenceStepAssigner, sharedStepAssigner } from '../credit';
import { parseConfig, z } from '../config';
import { writeFileAtomic } from '../io';
import { PpoTrainer, loadPolicy } from '../marl';
import type { ActorCritic, CreditAssigner, MultiAgentEnv, MultiAgentEnvSpec, PpoConfig, ResetResult, StepResult } from '../marl';
import type { ProgressSink } from '../progress';
import { LayerLrEnv } from './env';
import type { LayerLrEnvConfig } from './env';
import type { FeatureRegistry, LrControl } from './features';
import type { FeatureStatisticsState } from './controllers';

/**
 * Config of {@link trainGannoAgents} (validated; errors name the field).
 * - `env`: the training task distribution ({@link LayerLrEnvConfig}); `numEnvs` parallel envs
 *   (batched policy forwards), `episodesPerEnv` episodes per env per PPO update.
 * - `policy`: `torso` (`gru` default, `mlp`), `sharing` (`shared` default, `independent` needs
 *   `maxAgents`), widths; `ppo`: PPO overrides (spec defaults otherwise).
 * - `credit`: `difference` (exact difference rewards, default) or `shared` (team reward).
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
    credit: z.enum(['difference', 'shared']).default('difference'),
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

/** One validation of the greedy policy during training. */
export interface GannoValidationPoint {
  update: number;
  /** Mean greedy team return on the validation tasks (= mean log-ratio of initial to final validation loss, minus penalties). */
  score: number;
}

/** Result of {@link trainGannoAgents} (plain JSON). */
export interface GannoTrainResult {
  /** Mean team return of the training episodes of each update (index u = update u + 1). */
  teamReturn: number[];
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
  validation: GannoValidationPoint[];
  best: GannoValidationPoint | null;
}

const SIDECAR = 'ganno.json';

/** Extra hooks of {@link trainGannoAgents} (not JSON: functions and sinks). */
export interface GannoTrainHooks {
  /** Edits every env's feature registry (training and validation) before the first reset, e.g. adds a custom feature. */
  setupFeatures?: (features: FeatureRegistry) => void;
  /** Progress: one tick per PPO update. */
  progress?: ProgressSink;
  /** Called after every update (e.g. to plot live). */
  onUpdate?: (update: number, teamReturn: number) => void;
  /** Stop after this many updates of *this call* (simulates an interruption in tests). */
  stopAfter?: number;
}

function ckptDir(dir: string, update: number): string {
  return path.join(dir, `ckpt-${String(update).padStart(6, '0')}`);
}

function writeTrainState(dir: string, trainer: PpoTrainer, side: GannoSidecar): void {
  trainer.saveCheckpoint(dir);
  writeFileAtomic(path.join(dir, SIDECAR), JSON.stringify(side));
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
  const envConfig = c.env as LayerLrEnvConfig;
  const makeEnv = () => {
    const e = new LayerLrEnv(envConfig);
    if (hooks.setupFeatures) hooks.setupFeatures(e.features);
    return e;
  };
  const envs = Array.from({ length: c.numEnvs }, makeEnv);
  const valEnv = makeEnv();
  const spec = envs[0].spec;
  const centralised = c.policy.critic === 'centralised';
  const trainingEnvs: MultiAgentEnv[] = centralised ? envs.map((e) => new SummaryStateEnv(e)) : envs;
  const featureNames = envs[0].features.names;
  const credit: CreditAssigner = (c.credit === 'difference' ? differenceStepAssigner() : sharedStepAssigner()) as unknown as CreditAssigner;
  const trainerConfig = {
    policy: { observationSize: spec.observationSize, numActions: spec.numActions, ...c.policy, stateSize: centralised ? 2 * spec.observationSize : 0 },
    ppo: c.ppo as PpoConfig,
    rollout: { mode: 'episodes' as const, episodesPerEnv: c.episodesPerEnv },
    seed: c.seed,
  };
  fs.mkdirSync(c.dir, { recursive: true });
  const latestPath = path.join(c.dir, 'latest.json');
  let trainer: PpoTrainer;
  const control = envs[0].control;
  let side: GannoSidecar = { format: 'ganno-train-state', update: 0, control, featureNames, featureStatistics: [], teamReturn: [], validation: [], best: null };
  let resumedFrom = 0;
  let latestDir: string | null = null;
  try {
    trainer = new PpoTrainer(trainerConfig, trainingEnvs, { credit });
  } catch (err) {
    for (const e of [...envs, valEnv]) e.dispose();
    throw err;
  }
  try {
    if (c.resume && fs.existsSync(latestPath)) {
      const latest = JSON.parse(fs.readFileSync(latestPath, 'utf8')) as { dir: string };
      const dir = path.join(c.dir, latest.dir);
      side = JSON.parse(fs.readFileSync(path.join(dir, SIDECAR), 'utf8')) as GannoSidecar;
      if ((side.control ?? 'layerwise') !== control) throw new Error(`GANNO train: checkpoint ${dir} was trained with env control '${side.control ?? 'layerwise'}', this run has control '${control}'`);
      if (side.featureNames.join(',') !== featureNames.join(',')) {
        throw new Error(`GANNO train: checkpoint ${dir} was trained on features [${side.featureNames.join(', ')}], this run has [${featureNames.join(', ')}]`);
      }
      trainer.loadCheckpoint(dir);
      if (side.featureStatistics.length !== envs.length) throw new Error(`GANNO train: checkpoint ${dir} holds feature statistics of ${side.featureStatistics.length} envs, numEnvs is ${envs.length}`);
      envs.forEach((e, i) => e.features.setStatisticsState(side.featureStatistics[i]));
      resumedFrom = side.update;
      latestDir = dir;
    }
    const progress = hooks.progress;
    const todo = c.updates - trainer.updates;
    progress?.start(Math.max(0, todo), 'GANNO PPO updates');
    let done = 0;
    while (trainer.updates < c.updates && (hooks.stopAfter === undefined || done < hooks.stopAfter)) {
      const stats = trainer.train(1)[0];
      done++;
      const u = trainer.updates;
      side.teamReturn.push(stats.meanTeamReturn);
      hooks.onUpdate?.(u, stats.meanTeamReturn);
      let improved = false;
      if (u % c.evalEvery === 0 || u === c.updates) {
        valEnv.features.setStatisticsState(envs[0].features.getStatisticsState());
        valEnv.features.frozen = true;
        const score = validationScore(trainer.policy, valEnv, c.valSeeds);
        side.validation.push({ update: u, score });
        if (!side.best || score > side.best.score) {
          side.best = { update: u, score };
          improved = true;
        }
      }
      side.update = u;
      side.featureStatistics = envs.map((e) => e.features.getStatisticsState());
      if (improved) writeTrainState(path.join(c.dir, 'best'), trainer, side);
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

/**
 * Mean greedy team return of `policy` on the given task seeds (one episode each) in `env`
 * (whose feature statistics should be frozen).
 */
function validationScore(policy: ActorCritic, env: LayerLrEnv, seeds: number[]): number {
  let sum = 0;
  for (const seed of seeds) {
    let r = env.reset(seed);
    const n = env.numAgents;
    let hidden = policy.initialHidden(n);
    let total = 0;
    const O = policy.config.observationSize;
    const A = policy.config.numActions;
    for (;;) {
      const flat = new Float32Array(n * O);
      r.observations.forEach((o, i) => flat.set(o, i * O));
      const states = policy.config.critic === 'centralised' ? new Float32Array(n * policy.config.stateSize) : undefined; // the critic's value is not used here
      const out = policy.step({ observations: flat, agentIndex: Int32Array.from({ length: n }, (_, i) => i), actorHidden: hidden.actor, criticHidden: hidden.critic, states });
      hidden = { actor: out.actorHidden, critic: out.criticHidden };
      const actions = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        let a = 0;
        for (let k = 1; k < A; k++) if (out.logProbs[i * A + k] > out.logProbs[i * A + a]) a = k;
        actions[i] = a;
      }
      const st = env.step(actions);
      total += st.teamReward ?? 0;
      if (st.terminated || st.truncated) break;
      r = st;
    }
    sum += total;
  }
  return sum / seeds.length;
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
export function loadGannoPolicy(dir: string): { policy: ActorCritic; featureNames: string[]; featureStatistics: FeatureStatisticsState; update: number; control: LrControl } {
  const sidePath = path.join(dir, SIDECAR);
  if (!fs.existsSync(sidePath)) throw new Error(`loadGannoPolicy: ${sidePath} not found (not a GANNO training checkpoint)`);
  let side: GannoSidecar;
  try {
    side = JSON.parse(fs.readFileSync(sidePath, 'utf8')) as GannoSidecar;
  } catch (err) {
    throw new Error(`loadGannoPolicy: ${sidePath} is not valid JSON (${(err as Error).message})`);
  }
  if (side.format !== 'ganno-train-state') throw new Error(`loadGannoPolicy: ${sidePath} is not a GANNO training state file`);
  const policy = loadPolicy(dir);
  return { policy, featureNames: side.featureNames, featureStatistics: side.featureStatistics[0] ?? {}, update: side.update, control: side.control ?? 'layerwise' };
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
  return path.join(dir, (JSON.parse(fs.readFileSync(p, 'utf8')) as { dir: string }).dir);
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
    if (o.length !== O) throw new Error(`layerSummaryState: observations have different lengths (${O} and ${o.length})`);
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
  defaultAction(agent: number): number {
    return this.inner.defaultAction(agent);
  }
}
