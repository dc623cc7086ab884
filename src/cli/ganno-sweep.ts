/**
 * `npm run ganno-sweep [-- --workers 2]`: the PPO-settings sweep of GANNO training on validation
 * tasks (src/ganno/experiments/sweep.ts). Trains every grid point x credit x seed with the `quick`
 * budget (cached in the experiment store: a re-run only computes what is missing), then writes
 * `results/ganno-ppo-sweep/{runs,summary}.{csv,md}` and prints the summary, best point first.
 */
import { Command } from 'commander';
import { initBackend } from '../backend';
import { writeCsvAndMarkdown } from '../eval';
import { gannoPlan, runPpoSweep, summarisePpoSweep } from '../ganno';
import { lineProgress } from '../progress';
import { ExperimentStore, WorkerPoolExecutor, modeExecutor } from '../runtime';

async function main(argv: string[]): Promise<void> {
  const opts = new Command()
    .name('ganno-sweep')
    .description('PPO-settings sweep of GANNO training, scored on validation tasks only')
    .option('--workers <n>', 'worker threads', '2')
    .option('--out <dir>', 'output folder', 'results/ganno-ppo-sweep')
    .showHelpAfterError()
    .parse(argv)
    .opts<{ workers: string; out: string }>();
  const workers = Number(opts.workers);
  if (!Number.isInteger(workers) || workers < 1)
    throw new Error(`--workers: expected a positive integer, got ${opts.workers}`);
  await initBackend();
  const plan = gannoPlan('quick');
  const executor = modeExecutor(() => new WorkerPoolExecutor({ workers }));
  const store = ExperimentStore.open();
  const started = Date.now();
  try {
    const rows = await runPpoSweep({
      plan,
      executor,
      store,
      progress: lineProgress((l) => console.log(l), { intervalMs: 30_000 }),
    });
    const runs = rows.map((r) => ({
      point: r.point,
      credit: r.credit,
      seed: r.seed,
      'greedy ln(L0/LT)': r.greedy.logLossRatio,
      'sampled ln(L0/LT)': r.sampled.logLossRatio,
      'greedy val acc': r.greedy.valAccuracy,
      'sampled val acc': r.sampled.valAccuracy,
      'greedy degenerate': r.greedy.degenerate,
      'KL from initial': r.klFromInitial,
      entropy: r.policyEntropy,
      'clip fraction': r.clipFraction,
      'explained variance': r.explainedVariance,
      'KL per update': r.kl,
      seconds: r.seconds,
    }));
    const summary = summarisePpoSweep(rows).map((s) => ({
      point: s.point,
      runs: s.runs,
      'score (mean of greedy and sampled ln(L0/LT))': s.score,
      greedy: s.greedy,
      sampled: s.sampled,
      'greedy, difference': s.greedyDifference,
      'greedy, shared': s.greedyShared,
      'greedy degenerate': s.degenerate,
      'moved (KL >= threshold)': s.moved,
      'KL from initial': s.klFromInitial,
      'clip fraction': s.clipFraction,
      'explained variance': s.explainedVariance,
    }));
    console.log(writeCsvAndMarkdown(opts.out, { runs, summary }).summary);
    console.log(
      `${rows.length} runs (plan quick, validation seeds 900101-900108) in ${((Date.now() - started) / 60000).toFixed(1)} min; tables in ${opts.out}/`,
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
