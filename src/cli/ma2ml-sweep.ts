/**
 * `npm run ma2ml-sweep [-- --workers 2]`: the per-budget actor learning-rate sweep of the MA2ML
 * learners on the LCBench surrogate's validation tasks and seeds
 * (src/ma2ml/experiments/surrogate/sweep.ts). Every search is cached in the experiment store (a
 * re-run computes only what is missing); writes `results/ma2ml-lr-sweep/{sweep,chosen}.{csv,md}`
 * and prints the chosen rate per method and budget.
 */
import { Command } from 'commander';
import { writeCsvAndMarkdown } from '../eval';
import { formatInterval } from '../ma2ml/experiments/stats';
import { LR_SWEEP_FACTORS, lrSweepCells, lrSweepPlan, runLrSweep } from '../ma2ml/experiments/surrogate/sweep';
import { ExperimentStore, WorkerPoolExecutor, modeExecutor } from '../runtime';

async function main(argv: string[]): Promise<void> {
  const opts = new Command()
    .name('ma2ml-sweep')
    .description(
      'per-budget actor learning-rate sweep of the MA2ML learners, scored on validation tasks and seeds of the LCBench surrogate only',
    )
    .option('--workers <n>', 'worker threads', '2')
    .option('--out <dir>', 'output folder', 'results/ma2ml-lr-sweep')
    .option(
      '--budgets <list>',
      'comma-separated evaluation budgets (runs go to the largest; smaller ones are its prefixes)',
      '36,200,1000',
    )
    .showHelpAfterError()
    .parse(argv)
    .opts<{ workers: string; out: string; budgets: string }>();
  const budgets = opts.budgets.split(',').map((b) => Number(b.trim()));
  if (budgets.some((b) => !Number.isInteger(b) || b < 1))
    throw new Error(`--budgets: expected comma-separated positive integers, got ${opts.budgets}`);
  const workers = Number(opts.workers);
  if (!Number.isInteger(workers) || workers < 1)
    throw new Error(`--workers: expected a positive integer, got ${opts.workers}`);
  const plan = lrSweepPlan(budgets);
  console.log(
    `${plan.description}; ${lrSweepCells(plan).length} searches (factors ${LR_SWEEP_FACTORS.join(', ')} of each method's default actor lr)`,
  );
  const executor = modeExecutor(() => new WorkerPoolExecutor({ workers }));
  const store = ExperimentStore.open();
  const started = Date.now();
  try {
    const { rows, computed } = await runLrSweep({ executor, store, plan });
    const table = rows.map((r) => ({
      method: r.method,
      budget: r.budget,
      'actor lr': r.actorLr,
      factor: r.factor,
      'normalised regret': formatInterval(r.regret),
      mean: r.regret.point,
      chosen: r.chosen ? 'yes' : '',
    }));
    const chosen = table.filter((r) => r.chosen === 'yes').map(({ chosen: _c, ...r }) => r);
    console.log(writeCsvAndMarkdown(opts.out, { sweep: table, chosen }).chosen);
    console.log(
      `${computed} searches computed in ${((Date.now() - started) / 60000).toFixed(1)} min; tables in ${opts.out}/`,
    );
  } finally {
    await executor.close();
    store.close();
  }
}

main(process.argv).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
