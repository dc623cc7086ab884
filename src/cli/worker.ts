/**
 * `npm run worker -- [--db URL] [--concurrency N]`: a queue worker for distributed experiments.
 * Run it on any machine with the same checkout; it fetches jobs from the PostgreSQL queue
 * (`MARL_AUTOML_DB` or `--db`), runs them in local worker threads and stores each result.
 * SIGTERM / SIGINT: stop fetching, finish running jobs (up to --grace seconds), hand the rest back.
 */
import { Command } from 'commander';
import { initBackend } from '../backend';
import { DB_ENV, maskSecrets, startQueueWorker } from '../runtime';
import { loadProjectJobKinds } from './job-kinds';

async function main(argv: string[]): Promise<void> {
  const opts = new Command()
    .name('worker')
    .description('run marl-automl jobs from the PostgreSQL queue (distributed mode)')
    .option('--db <url>', `PostgreSQL URL (default $${DB_ENV}); prefer PGPASSWORD or ~/.pgpass for the password`)
    .option('--concurrency <n>', 'jobs at once, one worker thread each', '1')
    .option('--grace <seconds>', 'on SIGTERM, how long running jobs may finish before they are handed back', '60')
    .option('--heartbeat <ms>', 'heartbeat period', '5000')
    .option('--kinds <module...>', 'extra job-kind modules inside this checkout (tests, your own experiments)')
    .showHelpAfterError()
    .parse(argv)
    .opts<{ db?: string; concurrency: string; grace: string; heartbeat: string; kinds?: string[] }>();
  const concurrency = Number(opts.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new Error(`--concurrency: expected a positive integer, got ${opts.concurrency}`);
  const grace = Number(opts.grace);
  if (!Number.isFinite(grace) || grace < 0) throw new Error(`--grace: expected seconds >= 0, got ${opts.grace}`);
  const heartbeatMs = Number(opts.heartbeat);
  if (!Number.isFinite(heartbeatMs) || heartbeatMs < 50)
    throw new Error(`--heartbeat: expected milliseconds >= 50, got ${opts.heartbeat}`);
  const url = opts.db ?? process.env[DB_ENV];
  if (!url) throw new Error(`no database: pass --db postgres://... or set ${DB_ENV}`);
  await initBackend();
  loadProjectJobKinds(opts.kinds ?? []);
  const worker = await startQueueWorker({ url, concurrency, heartbeatMs });
  const onSignal = (sig: string) => {
    console.log(`[worker] ${sig}: stopping`);
    void worker.stop(grace * 1000);
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  await worker.stopped;
}

main(process.argv).then(
  () => process.exit(0),
  (err) => {
    const url = process.argv[process.argv.indexOf('--db') + 1] ?? process.env[DB_ENV];
    console.error(maskSecrets(err instanceof Error ? err.message : String(err), url));
    process.exit(1);
  },
);
