/**
 * `optimizers` bench suite: ms per training step of the GANNO MLP (784-64-64-10, batch 64, full
 * per-layer metrics) for every optimiser of {@link LayerwiseTrainer}, with the ratio to plain SGD
 * measured in the same run (the extra cost of the tuning-free optimisers).
 */
import * as os from 'os';
import { initBackend, tf } from '../backend';
import { BatchIterator, loadDigits } from '../data';
import { LayerwiseTrainer, TUNING_FREE_OPTIMIZERS, buildMlp } from '../nn';
import type { TrainerConfig } from '../nn';
import { check, registerBench } from './registry';
import type { BenchResult, BenchRow } from './registry';

const OPTIMIZERS = ['sgd', 'momentum', 'adam', ...TUNING_FREE_OPTIMIZERS] as const;

/**
 * ms per step of each optimiser (best of alternating rounds).
 *
 * @example
 * ```ts
 * const { msPerStep } = await benchOptimizers({ steps: 20, rounds: 1 });
 * ```
 */
export async function benchOptimizers(
  options: { steps?: number; rounds?: number } = {},
): Promise<{ msPerStep: Record<string, number>; diverged: Record<string, boolean> }> {
  await initBackend();
  const steps = options.steps ?? 60;
  const rounds = options.rounds ?? 3;
  // A real mini-batch (digits): on random inputs some rules diverge, and a diverged trainer's step is a no-op.
  const it = new BatchIterator(loadDigits().train, { batchSize: 64, seed: 1, flatten: true });
  const batch = it.next();
  it.dispose();
  const runs = OPTIMIZERS.map((optimizer) => {
    const model = buildMlp({ inputSize: 784, hidden: [64, 64], numClasses: 10, seed: 1 });
    const lr = (TUNING_FREE_OPTIMIZERS as readonly string[]).includes(optimizer)
      ? 1
      : optimizer === 'adam'
        ? 1e-3
        : 0.05;
    return {
      optimizer,
      model,
      trainer: new LayerwiseTrainer(model, { optimizer, learningRates: lr } as TrainerConfig),
    };
  });
  const msPerStep: Record<string, number> = {};
  for (let round = 0; round < rounds; round++) {
    for (const run of runs) {
      for (let i = 0; i < 5; i++) run.trainer.step(batch);
      const t0 = performance.now();
      for (let i = 0; i < steps; i++) run.trainer.step(batch);
      const ms = (performance.now() - t0) / steps;
      msPerStep[run.optimizer] = Math.min(msPerStep[run.optimizer] ?? Infinity, ms);
    }
  }
  const diverged: Record<string, boolean> = {};
  for (const run of runs) {
    diverged[run.optimizer] = run.trainer.diverged;
    run.trainer.dispose();
    run.model.dispose();
  }
  tf.dispose([batch.x, batch.y]);
  return { msPerStep, diverged };
}

registerBench({
  name: 'optimizers',
  description:
    'ms per step of every LayerwiseTrainer optimiser (GANNO MLP 784-64-64-10, batch 64, full metrics) and the ratio to plain SGD, same run',
  async run(ctx): Promise<BenchResult> {
    const { msPerStep, diverged } = await benchOptimizers(ctx.quick ? { steps: 10, rounds: 1 } : {});
    const sgd = msPerStep.sgd;
    // A diverged trainer skips its steps: its time would mean nothing, so divergence is reported instead.
    const rows: BenchRow[] = OPTIMIZERS.map((o) => ({
      optimizer: o,
      'ms/step': diverged[o] ? null : Math.round(msPerStep[o] * 1000) / 1000,
      'vs sgd': diverged[o] ? null : Math.round((msPerStep[o] / sgd) * 100) / 100,
      diverged: diverged[o],
    }));
    ctx.log(`[bench] optimizers: ${rows.map((r) => `${r.optimizer} ${r['vs sgd']}x`).join(', ')}`);
    return {
      rows,
      checks: [
        check(
          'slowest tuning-free optimiser vs plain SGD, per step',
          Math.max(...TUNING_FREE_OPTIMIZERS.filter((o) => !diverged[o]).map((o) => msPerStep[o] / sgd)),
          '<=',
          3,
          'x',
        ),
        check(
          'optimisers that diverged on the timing batch',
          Object.values(diverged).filter(Boolean).length,
          '<=',
          0,
          'count',
        ),
      ],
      notes: [
        `machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, tfjs ${tf.getBackend()}; load average at start ${os.loadavg()[0].toFixed(1)}; best of alternating rounds`,
      ],
    };
  },
});
