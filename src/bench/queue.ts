/**
 * Benchmark of distributed mode (`queue` suite of `npm run bench`): GANNO-sized training jobs
 * through the PostgreSQL queue with 1 vs 2 worker processes on this machine, the queue's overhead
 * per job against the in-process worker pool, and the time to detect a killed worker. Needs
 * `MARL_AUTOML_DB` (a database the bench may write to); without it the suite reports a note only.
 */
import { ChildProcess, spawn } from 'child_process';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { initBackend } from '../backend';
import { Job } from '../runtime/jobs';
import { distributedDbUrl, maskUrl } from '../runtime/pg-connect';
import { QueueExecutor } from '../runtime/queue';
import { WorkerPoolExecutor } from '../runtime/worker-pool';
import { BenchResult, check, registerBench } from './registry';
import { benchSpinKind, benchTrainKind, GANNO_SIZED_JOB } from './runtime';

const ROOT = path.resolve(__dirname, '..', '..');

interface Proc {
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<void>;
}

/** Starts one `npm run worker` equivalent (a single node process, so a kill really kills it). */
function startWorker(url: string, heartbeatMs: number): Proc {
  const child = spawn(
    process.execPath,
    ['--require', 'tsx/cjs', 'src/cli/worker.ts', '--db', url, '--heartbeat', String(heartbeatMs), '--grace', '5'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  const ready = new Promise<void>((resolve) =>
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (/ started: /.test(out)) resolve();
    }),
  );
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  return { child, ready, exited };
}

async function stop(p: Proc): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  await p.exited;
}

async function timed(executor: { run(jobs: Job[]): Promise<{ ok: boolean }[]> }, jobs: Job[]): Promise<number> {
  const t0 = performance.now();
  const outcomes = await executor.run(jobs);
  const ms = performance.now() - t0;
  if (outcomes.some((o) => !o.ok)) throw new Error('bench queue: a job failed');
  return ms;
}

/** What {@link benchQueue} measured. */
export interface QueueBenchMeasurement {
  oneWorkerJobsPerMin: number;
  twoWorkersJobsPerMin: number;
  speedup: number;
  /** ms per tiny job through the queue (1 worker process) and through the in-process pool (1 thread). */
  queueTinyMsPerJob: number;
  poolTinyMsPerJob: number;
  /** ms from SIGKILL of a worker to the executor re-queueing its job (heartbeat timeout included). */
  killDetectMs: number;
  heartbeatTimeoutMs: number;
  setup: string;
}

/**
 * Runs the measurement against the database at `url` (it creates its queue tables there).
 *
 * @example
 * ```ts
 * const m = await benchQueue(process.env.MARL_AUTOML_DB!, { jobs: 8 });
 * console.log(m.speedup);
 * ```
 */
export async function benchQueue(url: string, options: { jobs?: number } = {}): Promise<QueueBenchMeasurement> {
  await initBackend();
  const n = options.jobs ?? 8;
  const tag = randomBytes(4).toString('hex'); // fresh run hashes: nothing is reused from earlier runs
  const trainJobs = (prefix: string) =>
    Array.from({ length: n }, (_, i) => benchTrainKind.job(`queue-bench/${tag}/${prefix}/${i}`, GANNO_SIZED_JOB, i));
  const tinyJobs = (prefix: string, count: number) =>
    Array.from({ length: count }, (_, i) =>
      benchSpinKind.job(`queue-bench/${tag}/${prefix}/${i}`, { iterations: 1000 }, i),
    );
  const heartbeatTimeoutMs = 3000;
  const executor = new QueueExecutor({ url, pollMs: 200, heartbeatTimeoutMs, maxRetries: 1 });
  const workers: Proc[] = [];
  try {
    await executor.ready();
    workers.push(startWorker(url, 500));
    await workers[0].ready;
    await timed(executor, trainJobs('warm1')); // warm-up: kernels compiled, connections open
    // Tiny jobs: the queue's own cost per job (publish, fetch, store, notify, collect).
    const tinyCount = 40;
    const queueTiny = (await timed(executor, tinyJobs('tiny', tinyCount))) / tinyCount;
    const oneMs = await timed(executor, trainJobs('one'));
    workers.push(startWorker(url, 500));
    await workers[1].ready;
    await timed(executor, trainJobs('warm2').slice(0, 2));
    const twoMs = await timed(executor, trainJobs('two'));
    // In-process reference for the tiny jobs.
    const pool = new WorkerPoolExecutor({ workers: 1, maxRetries: 0 });
    let poolTiny: number;
    try {
      await pool.ready();
      await pool.run(tinyJobs('pool-warm', 5));
      poolTiny = (await timed(pool, tinyJobs('pool', tinyCount))) / tinyCount;
    } finally {
      await pool.close();
    }
    // Killed worker: stop one, give the other a long job, SIGKILL it once it runs, time the re-queue.
    await stop(workers[1]);
    let detected = 0;
    const abort = new AbortController();
    const long = [benchSpinKind.job(`queue-bench/${tag}/long`, { iterations: 1e11 }, 0)]; // minutes: never finishes here
    const running = executor
      .run(long, {
        signal: abort.signal,
        onRetry: () => {
          detected = detected || performance.now();
          abort.abort(); // measured: cancel the long job
        },
      })
      .catch(() => undefined);
    await new Promise((r) => setTimeout(r, 2000)); // the job has started on worker 0
    const killedAt = performance.now();
    workers[0].child.kill('SIGKILL');
    await workers[0].exited;
    await running;
    return {
      oneWorkerJobsPerMin: (n / oneMs) * 60000,
      twoWorkersJobsPerMin: (n / twoMs) * 60000,
      speedup: oneMs / twoMs,
      queueTinyMsPerJob: queueTiny,
      poolTinyMsPerJob: poolTiny,
      killDetectMs: detected ? detected - killedAt : NaN,
      heartbeatTimeoutMs,
      setup: `MLP ${GANNO_SIZED_JOB.inputs}-${GANNO_SIZED_JOB.hidden}-${GANNO_SIZED_JOB.classes}, ${GANNO_SIZED_JOB.steps} SGD steps at batch ${GANNO_SIZED_JOB.batch}; ${n} jobs per configuration; worker processes with 1 thread each on this machine; database ${maskUrl(url)}`,
    };
  } finally {
    await Promise.all(workers.map(stop));
    await executor.close();
  }
}

registerBench({
  name: 'queue',
  description:
    'distributed mode: GANNO-sized jobs through the PostgreSQL queue with 1 vs 2 worker processes (target >= 1.8x), overhead per job, killed-worker detection (needs MARL_AUTOML_DB)',
  async run(ctx): Promise<BenchResult> {
    const url = distributedDbUrl();
    if (!url)
      return {
        rows: [],
        checks: [],
        notes: ['skipped: set MARL_AUTOML_DB=postgres://... (a database the bench may write to) to measure the queue'],
      };
    const m = await benchQueue(url, ctx.quick ? { jobs: 4 } : {});
    ctx.log(
      `[bench] queue: 1 worker ${m.oneWorkerJobsPerMin.toFixed(1)} jobs/min, 2 workers ${m.twoWorkersJobsPerMin.toFixed(1)} jobs/min`,
    );
    return {
      rows: [
        {
          config: 'queue, 1 worker process',
          'jobs/min': round(m.oneWorkerJobsPerMin),
          'ms/job': round(60000 / m.oneWorkerJobsPerMin),
        },
        {
          config: 'queue, 2 worker processes',
          'jobs/min': round(m.twoWorkersJobsPerMin),
          'ms/job': round(60000 / m.twoWorkersJobsPerMin),
        },
        { config: 'tiny job, queue (1 worker)', 'ms/job': round(m.queueTinyMsPerJob, 2) },
        { config: 'tiny job, in-process pool (1 thread)', 'ms/job': round(m.poolTinyMsPerJob, 2) },
        { config: `killed worker re-queued (heartbeat timeout ${m.heartbeatTimeoutMs} ms)`, ms: round(m.killDetectMs) },
      ],
      checks: [check('2 vs 1 worker processes, jobs/min (GANNO-sized jobs)', round(m.speedup, 3), '>=', 1.8, 'x')],
      notes: [
        m.setup,
        `queue overhead per job ~ ${round(m.queueTinyMsPerJob - m.poolTinyMsPerJob, 2)} ms (tiny-job ms/job, queue minus in-process pool)`,
      ],
    };
  },
});

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
