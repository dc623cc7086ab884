/**
 * Two-level (hierarchical) bootstrap over tasks and runs: the CI of a mean score covers both the
 * choice of evaluation tasks and the spread between runs (e.g. agent-training seeds), and a
 * difference between two algorithms evaluated on the same tasks is bootstrapped paired by task.
 */
import { z, parseConfig } from '../config';
import { Rng } from '../random';
import { checkScoreMatrix, percentileSorted } from './stats';
import type { ScoreMatrix } from './stats';
import type { BootstrapOptions, Interval } from './bootstrap';

const Schema = z
  .object({
    reps: z.number().int().min(10).max(1_000_000).default(2000),
    confidence: z.number().gt(0).lt(1).default(0.95),
    seed: z.number().int().default(0),
  })
  .strict();

function meanOf(m: ScoreMatrix): number {
  let s = 0;
  let n = 0;
  for (const row of m)
    for (const v of row) {
      s += v;
      n++;
    }
  return s / n;
}

/** Mean over tasks of the mean over runs, for one resample (tasks drawn, then runs within each). */
function resampledMean(m: ScoreMatrix, runs: number, taskIdx: Int32Array, rng: Rng): number {
  let s = 0;
  for (let k = 0; k < taskIdx.length; k++) {
    const t = taskIdx[k];
    let r = 0;
    for (let j = 0; j < runs; j++) r += m[rng.int(runs)][t];
    s += r / runs;
  }
  return s / taskIdx.length;
}

function interval(point: number, est: Float64Array, confidence: number): Interval {
  const sorted = Float64Array.from(est).sort();
  const a = (1 - confidence) / 2;
  return { point, lo: percentileSorted(sorted, 100 * a), hi: percentileSorted(sorted, 100 * (1 - a)) };
}

/**
 * Mean of `scores[run][task]` with a two-level percentile bootstrap CI: each replicate draws the
 * tasks with replacement, then within every drawn task the runs with replacement. With one run
 * (a deterministic baseline) it is the ordinary bootstrap over tasks; with one task, the ordinary
 * bootstrap over runs.
 *
 * @example
 * ```ts
 * // 3 agent seeds x 4 test tasks
 * const ci = hierarchicalMeanCI([[0.8, 0.7, 0.9, 0.6], [0.82, 0.71, 0.88, 0.62], [0.79, 0.69, 0.91, 0.58]], { seed: 0 });
 * ci.point; // 0.75
 * ```
 */
export function hierarchicalMeanCI(scores: ScoreMatrix, opts?: BootstrapOptions): Interval {
  const o = parseConfig(Schema, opts ?? {}, 'hierarchicalMeanCI options');
  const { runs, tasks } = checkScoreMatrix(scores, 'hierarchicalMeanCI scores');
  const rng = new Rng(o.seed);
  const est = new Float64Array(o.reps);
  const idx = new Int32Array(tasks);
  for (let b = 0; b < o.reps; b++) {
    for (let k = 0; k < tasks; k++) idx[k] = rng.int(tasks);
    est[b] = resampledMean(scores, runs, idx, rng);
  }
  return interval(meanOf(scores), est, o.confidence);
}

/**
 * Any statistic of `scores[run][task]` (e.g. the IQM) with a two-level percentile bootstrap CI
 * (tasks drawn with replacement, then runs within every drawn task), so a deterministic baseline with
 * one run still gets the task-sampling uncertainty that a run-only stratified bootstrap leaves out.
 *
 * @example
 * ```ts
 * hierarchicalCI([[0.8, 0.7, 0.9, 0.6]], aggregateIqm, { seed: 0 }); // IQM of one run over 4 tasks, CI over tasks
 * ```
 */
export function hierarchicalCI(
  scores: ScoreMatrix,
  statistic: (m: ScoreMatrix) => number,
  opts?: BootstrapOptions,
): Interval {
  const o = parseConfig(Schema, opts ?? {}, 'hierarchicalCI options');
  const { runs, tasks } = checkScoreMatrix(scores, 'hierarchicalCI scores');
  const rng = new Rng(o.seed);
  const est = new Float64Array(o.reps);
  const m: number[][] = Array.from({ length: runs }, () => new Array<number>(tasks));
  for (let b = 0; b < o.reps; b++) {
    for (let k = 0; k < tasks; k++) {
      const t = rng.int(tasks);
      for (let r = 0; r < runs; r++) m[r][k] = scores[rng.int(runs)][t];
    }
    est[b] = statistic(m);
  }
  return interval(statistic(scores), est, o.confidence);
}

/**
 * Difference of means `mean(x) - mean(y)` of two algorithms evaluated on the same tasks (columns in
 * the same order), with a paired two-level bootstrap CI: each replicate draws one set of tasks for
 * both, then resamples each algorithm's runs independently within every drawn task. x and y may
 * have different numbers of runs (e.g. 5 agent seeds vs a deterministic schedule with 1).
 *
 * @example
 * ```ts
 * const d = pairedDifferenceCI([[0.9, 0.8], [0.88, 0.82]], [[0.85, 0.79]], { seed: 1 });
 * d.point; // 0.85 - 0.82 = 0.03
 * ```
 */
export function pairedDifferenceCI(x: ScoreMatrix, y: ScoreMatrix, opts?: BootstrapOptions): Interval {
  const o = parseConfig(Schema, opts ?? {}, 'pairedDifferenceCI options');
  const sx = checkScoreMatrix(x, 'pairedDifferenceCI x');
  const sy = checkScoreMatrix(y, 'pairedDifferenceCI y');
  if (sx.tasks !== sy.tasks)
    throw new Error(
      `pairedDifferenceCI: x has ${sx.tasks} tasks but y has ${sy.tasks} (both must be evaluated on the same tasks)`,
    );
  const rng = new Rng(o.seed);
  const est = new Float64Array(o.reps);
  const idx = new Int32Array(sx.tasks);
  for (let b = 0; b < o.reps; b++) {
    for (let k = 0; k < sx.tasks; k++) idx[k] = rng.int(sx.tasks);
    est[b] = resampledMean(x, sx.runs, idx, rng) - resampledMean(y, sy.runs, idx, rng);
  }
  return interval(meanOf(x) - meanOf(y), est, o.confidence);
}
