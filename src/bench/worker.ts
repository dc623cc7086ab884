import { Worker } from 'worker_threads';

/**
 * Starts a `worker_threads` Worker running `modulePath` (absolute). When the module is TypeScript
 * (running from sources under tsx), the worker first registers tsx's CommonJS loader, since
 * workers do not inherit the parent's loader; compiled `.js` modules load directly. Each worker
 * has its own tfjs and wasm instance.
 *
 * @example
 * ```ts
 * const w = spawnModuleWorker(require.resolve('./training-worker'), { model: 'mlp' });
 * w.on('message', (m) => console.log(m));
 * ```
 */
export function spawnModuleWorker(modulePath: string, workerData: unknown): Worker {
  const lines = ["'use strict';"];
  if (/\.[cm]?tsx?$/.test(modulePath)) lines.push(`require(${JSON.stringify(require.resolve('tsx/cjs'))});`);
  lines.push(`require(${JSON.stringify(modulePath)});`);
  return new Worker(lines.join('\n'), { eval: true, workerData });
}
