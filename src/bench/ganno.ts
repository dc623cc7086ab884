/**
 * `ganno` bench suite: decision steps/s of the GANNO layer-LR environment with a shared team
 * reward vs exact difference rewards (N counterfactual replays of the K mini-batches per decision).
 */
import * as os from 'os';
import { initBackend } from '../backend';
import { differenceStepAssigner, sharedStepAssigner } from '../credit';
import type { StepCreditAssigner } from '../credit';
import { LayerLrEnv } from '../ganno';
import type { LayerLrEnvConfig } from '../ganno';
import { check, registerBench } from './registry';
import type { BenchResult, BenchRow } from './registry';

/** Options of {@link benchGanno}. */
export interface GannoBenchOptions {
  /** Episodes timed per reward mode (default 3, interleaved; one extra warm-up episode each). */
  episodes?: number;
  /** Environment config (default: digits MLP 784-64-64-10, K = 10, 200 SGD steps, batch 64). */
  env?: LayerLrEnvConfig;
}

/** Measured numbers of {@link benchGanno}. */
export interface GannoBenchResult {
  rows: BenchRow[];
  sharedStepsPerSec: number;
  differenceStepsPerSec: number;
  /** shared / difference decision-step rate. */
  ratio: number;
  agents: number;
  setup: string;
}

/**
 * Runs episodes of {@link LayerLrEnv} with a random policy, once with shared rewards and once with
 * difference rewards, and reports decision steps per second of each.
 *
 * @example
 * ```ts
 * const r = await benchGanno({ episodes: 1 });
 * console.log(r.sharedStepsPerSec, r.differenceStepsPerSec, r.ratio);
 * ```
 */
export async function benchGanno(options: GannoBenchOptions = {}): Promise<GannoBenchResult> {
  await initBackend();
  const episodes = options.episodes ?? 3;
  const cfg: LayerLrEnvConfig = options.env ?? {
    task: { datasets: ['digits'], depth: [2, 2], widths: [64], trainSize: 2000, valSize: 500, batchSize: 64, k: 10, totalSteps: 200, initialLr: [0.05, 0.05] },
  };
  const env = new LayerLrEnv(cfg);
  const rows: BenchRow[] = [];
  let agents = 0;
  let seed = 0;
  /** One episode with a fixed pseudo-random policy; returns decisions, wall and counterfactual seconds. */
  const run = (credit: StepCreditAssigner) => {
    const t0 = performance.now();
    env.reset(++seed);
    agents = env.numAgents;
    let steps = 0;
    let cf = 0;
    for (;;) {
      const a = Array.from({ length: env.numAgents }, (_, i) => (seed * 7 + steps * 3 + i) % env.spec.numActions);
      const p = credit.prepare ? credit.prepare(env, a) : undefined;
      const s = env.step(a);
      credit.assign({ result: s, prepared: p });
      steps++;
      cf += s.info.counterfactualSeconds;
      if (s.terminated || s.truncated) break;
    }
    return { steps, seconds: (performance.now() - t0) / 1000, cf };
  };
  const modes = [
    { name: 'shared', credit: sharedStepAssigner(), steps: 0, seconds: 0, cf: 0 },
    { name: 'difference (exact replay)', credit: differenceStepAssigner(), steps: 0, seconds: 0, cf: 0 },
  ];
  for (const m of modes) run(m.credit); // warm-up (dataset load, kernels)
  // interleave the modes so that load changes on the machine hit both alike
  for (let e = 0; e < episodes; e++) {
    for (const m of modes) {
      const r = run(m.credit);
      m.steps += r.steps;
      m.seconds += r.seconds;
      m.cf += r.cf;
    }
  }
  for (const m of modes) {
    rows.push({ reward: m.name, 'decision steps/s': round(m.steps / m.seconds), 'ms/decision': round((1000 * m.seconds) / m.steps), 'counterfactual share': round(m.cf / m.seconds, 3), episodes, steps: m.steps });
  }
  const shared = modes[0].steps / modes[0].seconds;
  const diff = modes[1].steps / modes[1].seconds;
  env.dispose();
  const t = env.config.task as { k?: number; totalSteps?: number };
  return {
    rows,
    sharedStepsPerSec: shared,
    differenceStepsPerSec: diff,
    ratio: shared / diff,
    agents,
    setup: `LayerLrEnv ${JSON.stringify(cfg.task)} (K=${t.k ?? 10}, ${agents} agents; random policy, at most N+1 interval replays per decision with difference rewards: agents whose action is the default are skipped); load average at start ${os.loadavg()[0].toFixed(1)}`,
  };
}

function round(x: number, digits = 1): number {
  const f = Math.pow(10, digits);
  return Math.round(x * f) / f;
}

registerBench({
  name: 'ganno',
  description: 'GANNO env: decision steps/s with shared vs exact difference rewards (digits MLP 784-64-64-10, K=10)',
  async run(ctx): Promise<BenchResult> {
    const r = await benchGanno(ctx.quick ? { episodes: 1 } : {});
    ctx.log(`[bench] ganno: shared ${round(r.sharedStepsPerSec)} decisions/s, difference ${round(r.differenceStepsPerSec)} decisions/s (ratio ${round(r.ratio, 2)})`);
    return {
      rows: r.rows,
      // exact difference rewards replay the interval for up to N agents: the slowdown must stay within N + 1 (plus evaluation overhead)
      checks: [check(`difference-reward slowdown vs shared (N = ${r.agents})`, round(r.ratio, 2), '<=', r.agents + 1.5, 'x')],
      notes: [r.setup],
    };
  },
});
