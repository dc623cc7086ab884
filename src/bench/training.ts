import * as os from 'os';
import * as path from 'path';
import type { Worker } from 'worker_threads';
import { check, registerBench } from './registry';
import type { BenchContext, BenchResult, BenchRow } from './registry';
import type { TrainingJob, WorkerMessage } from './training-types';
import { spawnModuleWorker } from './worker';

/** Result of one configuration (one or more concurrent workers). */
export interface TrainingMeasurement {
  model: TrainingJob['model'];
  gradientOverrides: boolean;
  workers: number;
  /** Mean ms per step over the workers; null when the configuration cannot train. */
  msPerStep: number | null;
  /** Total throughput: sum over workers of steps/s; null when it cannot train. */
  stepsPerSec: number | null;
  firstLoss: number | null;
  lastLoss: number | null;
  /** Why it could not train (e.g. a missing wasm kernel). */
  error?: string;
}

const WORKER_MODULE = path.join(__dirname, `training-worker${path.extname(__filename)}`);
const WORKER_TIMEOUT_MS = 10 * 60 * 1000;

function waitFor<M extends WorkerMessage['type']>(w: Worker, type: M): Promise<Extract<WorkerMessage, { type: M }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`training worker: no '${type}' message within ${WORKER_TIMEOUT_MS / 1000} s`)),
      WORKER_TIMEOUT_MS,
    );
    const cleanup = () => {
      clearTimeout(timer);
      w.off('message', onMessage);
      w.off('error', onError);
      w.off('exit', onExit);
    };
    const onMessage = (m: WorkerMessage) => {
      if (m.type === 'ready' && m.error) {
        cleanup();
        resolve(m as Extract<WorkerMessage, { type: M }>);
      } else if (m.type === type) {
        cleanup();
        resolve(m as Extract<WorkerMessage, { type: M }>);
      }
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`training worker exited with code ${code} before '${type}'`));
    };
    w.on('message', onMessage);
    w.on('error', onError);
    w.on('exit', onExit);
  });
}

/**
 * Trains one configuration in `workers` fresh worker threads at once (each with its own tfjs +
 * wasm), starting the timed steps together after every worker has warmed up.
 *
 * @example
 * ```ts
 * const m = await measureTraining({ model: 'mlp', gradientOverrides: true, batch: 128, warmup: 3, steps: 20, learningRate: 0.05, seed: 1 }, 2);
 * console.log(m.stepsPerSec);
 * ```
 */
export async function measureTraining(job: TrainingJob, workers: number): Promise<TrainingMeasurement> {
  if (!Number.isInteger(workers) || workers < 1)
    throw new Error(`measureTraining: workers must be a positive integer, got ${workers}`);
  const base = { model: job.model, gradientOverrides: job.gradientOverrides, workers };
  const pool = Array.from({ length: workers }, (_, i) =>
    spawnModuleWorker(WORKER_MODULE, { ...job, seed: job.seed + i }),
  );
  try {
    const ready = await Promise.all(pool.map((w) => waitFor(w, 'ready')));
    const failed = ready.find((r) => r.error);
    if (failed)
      return { ...base, msPerStep: null, stepsPerSec: null, firstLoss: null, lastLoss: null, error: failed.error };
    const done = pool.map((w) => waitFor(w, 'done'));
    for (const w of pool) w.postMessage('go');
    const results = await Promise.all(done);
    const ms = results.map((r) => r.msPerStep);
    return {
      ...base,
      msPerStep: ms.reduce((a, b) => a + b, 0) / ms.length,
      stepsPerSec: ms.reduce((a, b) => a + 1000 / b, 0),
      firstLoss: results[0].firstLoss,
      lastLoss: results[0].lastLoss,
      error: results.some((r) => r.leakedTensors !== 0)
        ? `leaked ${results.map((r) => r.leakedTensors).join('/')} tensors per timed run`
        : undefined,
    };
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
}

function row(m: TrainingMeasurement): BenchRow {
  const status =
    m.msPerStep === null ? `cannot train: ${firstLine(m.error ?? 'unknown error')}` : m.error ? m.error : 'ok';
  return {
    model: m.model === 'mlp' ? 'MLP 784-256-256-10' : 'CNN c3x3x16-pool-c3x3x32-pool-d10',
    overrides: m.gradientOverrides ? 'on' : 'off',
    workers: m.workers,
    'ms/step': m.msPerStep,
    'steps/s (total)': m.stepsPerSec,
    'loss first': m.firstLoss,
    'loss last': m.lastLoss,
    status,
  };
}

/** The round with the median throughput (rounds that could not train only when all failed). */
function medianRound(ms: TrainingMeasurement[]): TrainingMeasurement {
  const ok = ms.filter((m) => m.stepsPerSec !== null).sort((a, b) => a.stepsPerSec! - b.stepsPerSec!);
  return ok.length ? ok[Math.floor((ok.length - 1) / 2)] : ms[0];
}

function range(ms: TrainingMeasurement[]): string | null {
  const v = ms.map((m) => m.msPerStep).filter((x): x is number => x !== null);
  if (v.length === 0) return null;
  return `${Math.min(...v).toFixed(1)}-${Math.max(...v).toFixed(1)}`;
}

function firstLine(s: string): string {
  return s.split('\n')[0].slice(0, 120);
}

function ratio(a: number | null, b: number | null): number | null {
  return a === null || b === null || b === 0 ? null : a / b;
}

/**
 * The `training` suite: steps/s of an MLP and a small CNN at batch 128 on wasm, with and without
 * the gradient overrides, and with 1 vs 2 concurrent workers.
 *
 * @example
 * ```ts
 * const result = await runTrainingBench({ quick: true, log: console.error });
 * ```
 */
export async function runTrainingBench(ctx: BenchContext): Promise<BenchResult> {
  const warmup = ctx.quick ? 2 : 5;
  const steps = { mlp: ctx.quick ? 10 : 50, cnn: ctx.quick ? 5 : 20 };
  // Configurations are interleaved over rounds (fresh workers each time) and each reports the
  // median round, so a burst of load from other processes skews one round, not a whole ratio.
  const rounds = ctx.quick ? 1 : 3;
  const notes: string[] = [`load average (1 min) before: ${os.loadavg()[0].toFixed(2)} on ${os.cpus().length} cpus`];
  const configs: [TrainingJob['model'], boolean, number][] = [];
  for (const model of ['mlp', 'cnn'] as const) {
    configs.push([model, false, 1], [model, true, 1], [model, true, 2]);
  }
  const perConfig: TrainingMeasurement[][] = configs.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (let c = 0; c < configs.length; c++) {
      const [model, gradientOverrides, workers] = configs[c];
      // A configuration that cannot train fails the same way every round.
      if (round > 0 && perConfig[c][0].msPerStep === null) continue;
      const job: TrainingJob = {
        model,
        gradientOverrides,
        batch: 128,
        warmup,
        steps: steps[model],
        learningRate: 0.05,
        seed: 1,
      };
      ctx.log(
        `[bench] training round ${round + 1}/${rounds}: ${model}, overrides ${gradientOverrides ? 'on' : 'off'}, ${workers} worker(s)`,
      );
      const m = await measureTraining(job, workers);
      perConfig[c].push(m);
      ctx.log(
        `[bench]   ${m.msPerStep === null ? `cannot train (${firstLine(m.error ?? '')})` : `${m.msPerStep.toFixed(1)} ms/step, ${m.stepsPerSec!.toFixed(1)} steps/s total`}`,
      );
    }
  }
  const results = perConfig.map(medianRound);
  if (rounds > 1)
    notes.push(`each row is the median of ${rounds} interleaved rounds (by steps/s); 'ms/step range' spans the rounds`);
  notes.push(`load average (1 min) after: ${os.loadavg()[0].toFixed(2)}`);
  const get = (model: string, ov: boolean, workers: number) =>
    results.find((r) => r.model === model && r.gradientOverrides === ov && r.workers === workers)!;
  const mlpStock = get('mlp', false, 1);
  const mlpFast = get('mlp', true, 1);
  const cnnStock = get('cnn', false, 1);
  const cnnFast = get('cnn', true, 1);
  if (cnnStock.msPerStep === null) notes.push(`stock wasm cannot train the CNN: ${firstLine(cnnStock.error ?? '')}`);
  const checks = [
    check(
      'MLP: step speed-up from the gradient overrides (stock ms / override ms)',
      ratio(mlpStock.msPerStep, mlpFast.msPerStep),
      '>=',
      4,
      'x',
    ),
    check('CNN: steps/s with the gradient overrides, 1 worker', cnnFast.stepsPerSec, '>=', 8, 'steps/s'),
    check(
      'MLP: throughput of 2 workers / 1 worker',
      ratio(get('mlp', true, 2).stepsPerSec, mlpFast.stepsPerSec),
      '>=',
      1.7,
      'x',
    ),
    check(
      'CNN: throughput of 2 workers / 1 worker',
      ratio(get('cnn', true, 2).stepsPerSec, cnnFast.stepsPerSec),
      '>=',
      1.7,
      'x',
    ),
  ];
  for (const r of results) {
    if (r.firstLoss !== null && r.lastLoss !== null && !(r.lastLoss < r.firstLoss)) {
      notes.push(
        `${r.model} (overrides ${r.gradientOverrides ? 'on' : 'off'}, ${r.workers} workers): loss did not decrease (${r.firstLoss} -> ${r.lastLoss})`,
      );
    }
  }
  return {
    rows: results.map((r, i) => ({ ...row(r), 'ms/step range': range(perConfig[i]) })),
    checks,
    notes,
  };
}

registerBench({
  name: 'training',
  description: 'training steps/s on wasm (batch 128): MLP and small CNN, stock vs gradient overrides, 1 vs 2 workers',
  run: runTrainingBench,
});
