import { tf } from '../backend';
import type { Tensor } from '../backend';
import type { Batch } from '../data/types';
import type { LayerwiseTrainer, StepMetrics } from './trainer';
import type { ProgressSink } from '../progress';
import { silentProgress } from '../progress';
import { parseConfig, z } from '../config';

/** Something that yields training mini-batches (e.g. `BatchIterator` from src/data). */
export interface BatchSource {
  next(): Batch;
}

/** Per-layer learning rates for step `t` (0-based), given the previous step's metrics. */
export type LearningRatePlan = (t: number, last: StepMetrics | undefined) => number | readonly number[];

/** One row of the training history: a logged step. */
export interface HistoryRow {
  step: number;
  trainLoss: number;
  learningRates: number[];
  /** Present on evaluation steps. */
  valLoss?: number;
  valAccuracy?: number;
}

export interface TrainingRunResult {
  history: HistoryRow[];
  /** Final evaluation on the validation data (NaN when diverged). */
  final: { valLoss: number; valAccuracy: number };
  /** True when the network diverged (non-finite loss or weights); training stopped there. */
  diverged: boolean;
  /** Steps actually taken. */
  steps: number;
  wallSeconds: number;
}

const RunSchema = z.object({
  steps: z.number().int().positive(),
  evalEvery: z.number().int().positive().default(50),
  logEvery: z.number().int().positive().default(1),
  evalBatchSize: z.number().int().positive().default(512),
});

export interface TrainingRunOptions {
  /** Optimiser steps to take. */
  steps: number;
  /** Evaluate on `validation` every this many steps (and after the last). Default 50. */
  evalEvery?: number;
  /** Record the training loss every this many steps. Default 1. */
  logEvery?: number;
  evalBatchSize?: number;
  /** Learning-rate plan; omitted = keep the trainer's current rates. */
  learningRates?: LearningRatePlan;
  /** Validation data as tensors (not disposed here). */
  validation: { x: Tensor; y: Tensor };
  progress?: ProgressSink;
}

/**
 * Runs a plain training loop on a {@link LayerwiseTrainer}: set the per-layer learning rates from a
 * plan, take a step, log, evaluate periodically. Divergence ends the run early and is reported in the
 * result (`diverged: true`), never thrown. The caller owns trainer, batches and validation tensors.
 *
 * @example
 * ```ts
 * const result = runTraining(trainer, batches, {
 *   steps: 500,
 *   validation: datasetToTensors(splits.validation, { flatten: true }),
 *   learningRates: (t) => [0.1, 0.05, 0.02].map((lr) => lr * (1 - t / 500)),
 * });
 * console.log(result.final.valAccuracy);
 * ```
 */
export function runTraining(
  trainer: LayerwiseTrainer,
  batches: BatchSource,
  options: TrainingRunOptions,
): TrainingRunResult {
  const o = parseConfig(
    RunSchema,
    {
      steps: options.steps,
      evalEvery: options.evalEvery,
      logEvery: options.logEvery,
      evalBatchSize: options.evalBatchSize,
    },
    'training run options',
  );
  const progress = options.progress ?? silentProgress;
  const started = Date.now();
  const history: HistoryRow[] = [];
  let last: StepMetrics | undefined;
  let diverged = false;
  let steps = 0;
  progress.start(o.steps, 'training');
  for (let t = 0; t < o.steps; t++) {
    if (options.learningRates) {
      const lrs = options.learningRates(t, last);
      trainer.setLearningRates(typeof lrs === 'number' ? lrs : [...lrs]);
    }
    const batch = batches.next();
    try {
      last = trainer.step(batch);
    } finally {
      tf.dispose([batch.x, batch.y]);
    }
    steps = t + 1;
    if (last.diverged) {
      diverged = true;
      history.push({ step: steps, trainLoss: NaN, learningRates: Array.from(last.learningRates) });
      break;
    }
    const row: HistoryRow | undefined =
      steps % o.logEvery === 0 || steps % o.evalEvery === 0 || steps === o.steps
        ? { step: steps, trainLoss: last.loss, learningRates: Array.from(last.learningRates) }
        : undefined;
    if (row && (steps % o.evalEvery === 0 || steps === o.steps)) {
      const ev = trainer.evaluate(options.validation.x, options.validation.y, o.evalBatchSize);
      row.valLoss = ev.loss;
      row.valAccuracy = ev.accuracy;
    }
    if (row) history.push(row);
    progress.tick(1, { loss: Number(last.loss.toPrecision(4)) });
  }
  progress.end();
  const lastEval = [...history].reverse().find((r) => r.valAccuracy !== undefined);
  const final =
    diverged || !lastEval
      ? { valLoss: NaN, valAccuracy: NaN }
      : { valLoss: lastEval.valLoss!, valAccuracy: lastEval.valAccuracy! };
  return { history, final, diverged, steps, wallSeconds: (Date.now() - started) / 1000 };
}
