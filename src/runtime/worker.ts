/**
 * Code that runs inside each WorkerPoolExecutor thread: initialises this thread's own tfjs
 * backend once (at load, so a pool warms up in parallel) and executes job attempts.
 * Not part of the public API.
 */
import { workerData } from 'worker_threads';
import { initBackend, BackendName } from '../backend';
import { executeJob, JobErrorInfo, toErrorInfo } from './executor';
import { Job, JobKindSpec } from './jobs';
import { JsonValue } from './json';

/** Message the pool sends for one attempt. */
export interface WorkerTask {
  spec: JobKindSpec;
  job: Job;
  attempt: number;
}

/** Reply for one attempt: a thrown error is a value here; a dead worker is a rejected task. */
/** A job attempt's reply; `durationMs` is the time spent running it in the worker (not queued). */
export type WorkerReply = ({ ok: true; result: JsonValue } | { ok: false; error: JobErrorInfo }) & {
  durationMs: number;
};

/** Data the pool passes to each worker at start. */
export interface WorkerInit {
  backend?: BackendName | 'auto';
}

const init: WorkerInit = (workerData as WorkerInit | undefined) ?? {};
const ready: Promise<unknown> = initBackend({ backend: init.backend ?? 'auto' });
// Surface init failures on the first task instead of as an unhandled rejection.
ready.catch(() => undefined);

/** Runs one attempt (piscina task handler). */
export async function runTask(task: WorkerTask): Promise<WorkerReply> {
  try {
    await ready;
  } catch (err) {
    return {
      ok: false,
      error: { ...toErrorInfo(err), message: `worker backend initialisation failed: ${toErrorInfo(err).message}` },
      durationMs: 0,
    };
  }
  const t0 = Date.now();
  try {
    const result = await executeJob(task.spec, task.job, task.attempt);
    return { ok: true, result, durationMs: Date.now() - t0 };
  } catch (err) {
    return { ok: false, error: toErrorInfo(err), durationMs: Date.now() - t0 };
  }
}

/** Resolves once this worker's backend is ready; returns the thread id (pool warm-up). */
export async function ping(): Promise<number> {
  await ready;
  return require('worker_threads').threadId as number;
}
