/**
 * `marl` bench suite: rollout collection speed (one batched policy forward per step vs one per
 * agent) and PPO update throughput for a 64-unit GRU actor-critic (GANNO's default policy).
 */
import * as os from 'os';
import { initBackend } from '../backend';
import { MemoryCueEnv, PpoTrainer, RolloutCollector, type Rollout } from '../marl';
import { check, registerBench } from './registry';
import type { BenchResult, BenchRow } from './registry';

/** Options of {@link benchMarl}. */
export interface MarlBenchOptions {
  /** Parallel environments (default 8). */
  envs?: number;
  /** Agents per environment (default 4). */
  agents?: number;
  /** Episode length in steps (default 32). */
  steps?: number;
  /** Timed repetitions (default 3). */
  repeats?: number;
}

/** Measured numbers of {@link benchMarl}. */
export interface MarlBenchResult {
  rows: BenchRow[];
  batchedEnvStepsPerSec: number;
  perAgentEnvStepsPerSec: number;
  /** Rates per second of this process's CPU time (less sensitive to other load on the machine). */
  batchedEnvStepsPerCpuSec: number;
  perAgentEnvStepsPerCpuSec: number;
  updateSamplesPerSec: number;
  updateMs: number;
  setup: string;
}

function policyConfig() {
  return { observationSize: 4, numActions: 2, torso: 'gru' as const, hiddenSizes: [64], gruSize: 64 };
}

/**
 * Measures rollout collection (env steps/s, batched vs per-agent forward) and PPO update
 * samples/s (samples x epochs per second of update) for a shared 64-unit GRU actor-critic.
 *
 * @example
 * ```ts
 * const r = await benchMarl({ repeats: 1 });
 * console.log(r.batchedEnvStepsPerSec / r.perAgentEnvStepsPerSec);
 * ```
 */
export async function benchMarl(options: MarlBenchOptions = {}): Promise<MarlBenchResult> {
  await initBackend();
  const E = options.envs ?? 8;
  const N = options.agents ?? 4;
  const T = options.steps ?? 32;
  const repeats = options.repeats ?? 3;
  const makeEnvs = () => Array.from({ length: E }, () => new MemoryCueEnv({ minAgents: N, maxAgents: N, length: T }));
  const trainer = new PpoTrainer({ policy: policyConfig(), ppo: { chunkLength: 16 }, seed: 1 }, makeEnvs());
  const rows: BenchRow[] = [];
  const collectRate = (forward: 'batched' | 'per-agent') => {
    const c = new RolloutCollector(makeEnvs(), trainer.policy, { seed: 2, forward });
    c.collect(); // warm-up
    let steps = 0;
    let agentSteps = 0;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (let i = 0; i < repeats; i++) {
      const r = c.collect();
      steps += r.envSteps;
      agentSteps += r.agentSteps;
    }
    const s = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(c0);
    rows.push({
      measure: `rollout, ${forward} forward`,
      config: `${E} envs x ${N} agents, GRU-64`,
      'env steps/s': round(steps / s),
      'agent steps/s': round(agentSteps / s),
      'env steps/cpu-s': round(steps / cpu),
      'ms/update': null,
      'samples/s': null,
      'samples/cpu-s': null,
    });
    return { wall: steps / s, cpu: steps / cpu };
  };
  const batched = collectRate('batched');
  const perAgent = collectRate('per-agent');
  const rollouts: Rollout[] = [];
  for (let i = 0; i <= repeats; i++) rollouts.push(trainer.collector.collect());
  trainer.update(rollouts[0]); // warm-up
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let samples = 0;
  for (let i = 1; i <= repeats; i++) {
    trainer.update(rollouts[i]);
    samples += rollouts[i].agentSteps;
  }
  const ms = (performance.now() - t0) / repeats;
  const updateCpu = cpuSeconds(c0);
  const epochs = trainer.config.ppo.epochs;
  const samplesPerSec = (samples * epochs) / ((ms * repeats) / 1000);
  rows.push({
    measure: 'PPO update',
    config: `${samples / repeats} samples, ${epochs} epochs x ${trainer.config.ppo.minibatches} minibatches, chunks of 16, GRU-64`,
    'env steps/s': null,
    'agent steps/s': null,
    'env steps/cpu-s': null,
    'ms/update': round(ms),
    'samples/s': round(samplesPerSec),
    'samples/cpu-s': round((samples * epochs) / updateCpu),
  });
  trainer.dispose();
  return {
    rows,
    batchedEnvStepsPerSec: batched.wall,
    perAgentEnvStepsPerSec: perAgent.wall,
    batchedEnvStepsPerCpuSec: batched.cpu,
    perAgentEnvStepsPerCpuSec: perAgent.cpu,
    updateSamplesPerSec: samplesPerSec,
    updateMs: ms,
    setup: `MemoryCueEnv, ${E} envs x ${N} agents, episodes of ${T} steps; shared GRU actor-critic (dense 64 -> GRU 64, separate critic); samples/s = samples x epochs / update time; */cpu-s columns divide by this process's CPU time (load average at start ${os.loadavg()[0].toFixed(1)})`,
  };
}

registerBench({
  name: 'marl',
  description:
    'MARL: rollout env steps/s (batched vs per-agent forward) and PPO update samples/s for a 64-unit GRU policy',
  async run(ctx): Promise<BenchResult> {
    const r = await benchMarl(ctx.quick ? { repeats: 1, steps: 16 } : {});
    const speedup = r.batchedEnvStepsPerCpuSec / r.perAgentEnvStepsPerCpuSec;
    ctx.log(
      `[bench] marl: batched ${round(r.batchedEnvStepsPerSec)} env steps/s, per-agent ${round(r.perAgentEnvStepsPerSec)}, update ${round(r.updateMs)} ms`,
    );
    return {
      rows: r.rows,
      checks: [check('batched vs per-agent forward, env steps per CPU-second', round(speedup, 2), '>=', 2, 'x')],
      notes: [r.setup],
    };
  },
});

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
}

function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
