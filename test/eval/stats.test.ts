import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import {
  aggregateIqm,
  aggregateMean,
  aggregateMedian,
  checkScoreMatrix,
  mannWhitneyProbability,
  median,
  optimalityGap,
  percentile,
  performanceProfile,
  probabilityOfImprovement,
  trimMean,
} from '../../src/eval';

// Reference values from numpy/scipy: test/fixtures/eval/make_eval_fixtures.py
const ref = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/eval/eval_reference.json'), 'utf8')) as {
  matrices: {
    scores: number[][];
    mean: number;
    median: number;
    iqm: number;
    optimality_gap_1: number;
    'optimality_gap_0.8': number;
    'trim_mean_0.1': number;
    taus: number[];
    profile_run: number[];
    profile_average: number[];
  }[];
  percentiles: { values: number[]; q: number[]; expected: number[] }[];
  poi: { x: number[][]; y: number[][]; per_task: number[]; expected: number[] | number }[];
};

function close(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)),
    `${what}: got ${actual}, expected ${expected}`,
  );
}

describe('eval/stats point estimates (vs numpy/scipy)', () => {
  it('IQM equals scipy.stats.trim_mean(scores, 0.25, axis=None); mean/median of task means as rliable', () => {
    for (const [i, m] of ref.matrices.entries()) {
      close(aggregateIqm(m.scores), m.iqm, 1e-12, `iqm #${i}`);
      close(aggregateMean(m.scores), m.mean, 1e-12, `mean #${i}`);
      close(aggregateMedian(m.scores), m.median, 1e-12, `median #${i}`);
      close(trimMean(m.scores.flat(), 0.1), m['trim_mean_0.1'], 1e-12, `trim_mean 0.1 #${i}`);
    }
  });

  it('optimality gap = mean(max(gamma - x, 0)) for gamma 1 and 0.8', () => {
    for (const [i, m] of ref.matrices.entries()) {
      close(optimalityGap(m.scores), m.optimality_gap_1, 1e-12, `gap1 #${i}`);
      close(optimalityGap(m.scores, 0.8), m['optimality_gap_0.8'], 1e-12, `gap0.8 #${i}`);
    }
  });

  it('IQM by hand: 8 values keep the middle 4; outliers do not move it', () => {
    assert.equal(
      aggregateIqm([
        [1, 2],
        [3, 4],
        [5, 6],
        [7, 8],
      ]),
      4.5,
    );
    assert.equal(
      aggregateIqm([
        [1, 2],
        [3, 4],
        [5, 6],
        [7, 1e9],
      ]),
      4.5,
    );
    assert.equal(trimMean([1, 2, 3, 4, 100, 200, 300, 400], 0.25), 76.75);
    // n = 5: floor(1.25) = 1 cut from each end
    assert.equal(trimMean([5, 1, 4, 2, 3], 0.25), 3);
  });

  it('percentile matches numpy linear interpolation and median matches numpy.median', () => {
    for (const p of ref.percentiles) {
      p.q.forEach((q, k) =>
        close(percentile(p.values, q), p.expected[k], 1e-12, `percentile q=${q} n=${p.values.length}`),
      );
      close(median(p.values), p.expected[3], 1e-12, `median n=${p.values.length}`);
    }
  });

  it('probability of improvement equals mean over tasks of Mann-Whitney U / (n m), ties 1/2', () => {
    for (const [i, c] of ref.poi.entries()) {
      const tasks = c.x[0].length;
      for (let t = 0; t < tasks; t++) {
        close(
          mannWhitneyProbability(
            c.x.map((r) => r[t]),
            c.y.map((r) => r[t]),
          ),
          c.per_task[t],
          1e-12,
          `poi #${i} task ${t}`,
        );
      }
      const p = probabilityOfImprovement(c.x, c.y, { reps: 50, seed: 1 });
      close(p.point, c.expected as number, 1e-12, `poi #${i}`);
    }
    assert.equal(mannWhitneyProbability([3, 4], [1, 3]), 0.875);
    assert.equal(mannWhitneyProbability([1, 1], [1, 1]), 0.5);
  });

  it('performance profile point values match np.mean(scores > tau) (run and average kinds)', () => {
    for (const [i, m] of ref.matrices.entries()) {
      const run = performanceProfile(m.scores, m.taus, { reps: 20, seed: 0 });
      const avg = performanceProfile(m.scores, m.taus, { reps: 20, seed: 0, kind: 'average' });
      m.taus.forEach((tau, k) => {
        close(run.point[k], m.profile_run[k], 1e-12, `run profile #${i} tau ${tau}`);
        close(avg.point[k], m.profile_average[k], 1e-12, `avg profile #${i} tau ${tau}`);
        assert.ok(run.lo[k] <= run.hi[k] && run.lo[k] >= 0 && run.hi[k] <= 1, `band [${run.lo[k]}, ${run.hi[k]}]`);
      });
    }
  });

  it('rejects bad input with messages naming the problem', () => {
    assert.throws(() => aggregateIqm([]), /non-empty \[runs x tasks\] matrix/);
    assert.throws(() => aggregateIqm([[1, 2], [3]]), /ragged matrix, row 1 has 1 tasks but row 0 has 2/);
    assert.throws(() => aggregateMean([[1, NaN]]), /\[run 0, task 1\] must be a finite number, got NaN/);
    assert.throws(() => checkScoreMatrix('x' as unknown), /got string/);
    assert.throws(() => trimMean([1, 2], 0.5), /proportion must be in \[0, 0.5\)/);
    assert.throws(() => percentile([1], 101), /q must be in \[0, 100\]/);
    assert.throws(() => optimalityGap([[1]], Infinity), /gamma must be a finite number/);
    assert.throws(() => probabilityOfImprovement([[1, 2]], [[1]]), /x has 2 tasks but y has 1/);
  });
});
