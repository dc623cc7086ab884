import type { Executor } from './executor';
import { DB_ENV, distributedDbUrl, maskUrl } from './pg-connect';
import { QueueExecutor } from './queue';

/**
 * The executor for the current mode: when `MARL_AUTOML_DB` holds a PostgreSQL URL (distributed
 * mode), a {@link QueueExecutor} whose jobs run on `npm run worker` processes on any machine;
 * otherwise (embedded mode) `local()`, e.g. a worker-thread pool. The mode is chosen by the
 * environment variable alone, so notebooks and `npm start` need no change. In distributed mode a
 * line naming the mode and the masked URL is logged.
 *
 * @example
 * ```ts
 * const executor = modeExecutor(() => new WorkerPoolExecutor({ workers: 2 }));
 * console.log(executorMode(executor)); // 'embedded (2 worker threads)' or 'distributed (PostgreSQL queue at postgres://u:***@db/marl)'
 * ```
 */
export function modeExecutor(
  local: () => Executor,
  options: { env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {},
): Executor {
  const url = distributedDbUrl(options.env ?? process.env);
  if (!url) return local();
  const executor = new QueueExecutor({ url });
  (options.log ?? ((l: string) => console.log(l)))(
    `distributed mode (${DB_ENV} is set): jobs go to the PostgreSQL queue at ${maskUrl(url)}; ` +
      'start workers on any machine with the same checkout: npm run worker -- --concurrency 2',
  );
  return executor;
}

/**
 * One line saying which mode an executor runs in (for session banners).
 *
 * @example
 * ```ts
 * executorMode(new InlineExecutor()); // 'embedded (inline, in this thread)'
 * ```
 */
export function executorMode(executor: Executor): string {
  if (executor instanceof QueueExecutor) return `distributed (PostgreSQL queue at ${executor.location})`;
  const workers = (executor as { workers?: number }).workers;
  if (typeof workers === 'number') return `embedded (${workers} worker thread${workers === 1 ? '' : 's'})`;
  return 'embedded (inline, in this thread)';
}
