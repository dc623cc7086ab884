import { strict as assert } from 'assert';
import {
  aggregateIntervals,
  aggregateIqm,
  aggregateMean,
  meanCI,
  performanceProfile,
  probabilityOfImprovement,
  sampleEfficiencyCurve,
  stratifiedBootstrapCI,
  ScoreMatrix,
} from '../../src/eval';
import { Rng } from '../../src/random';

function normalSample(n: number, mean: number, std: number, seed: number): number[] {
  const r = new Rng(seed);
  return Array.from({ length: n }, () => r.normal(mean, std));
}

function sampleStats(xs: number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
  return { mean, sd };
}

describe('eval/bootstrap intervals', () => {
  it('meanCI of a normal sample approximates mean ± 1.96 s / sqrt(n)', () => {
    for (const [n, seed] of [
      [200, 1],
      [60, 2],
    ]) {
      const xs = normalSample(n, 0.8, 0.05, seed);
      const { mean, sd } = sampleStats(xs);
      const half = (1.96 * sd) / Math.sqrt(n);
      const ci = meanCI(xs, { reps: 4000, seed: 7 });
      assert.ok(Math.abs(ci.point - mean) < 1e-12);
      // percentile bootstrap uses the plug-in sd (factor sqrt((n-1)/n)); Monte-Carlo error ~ a few %
      assert.ok(Math.abs(ci.lo - (mean - half)) < 0.12 * half, `n=${n} lo ${ci.lo} vs ${mean - half}`);
      assert.ok(Math.abs(ci.hi - (mean + half)) < 0.12 * half, `n=${n} hi ${ci.hi} vs ${mean + half}`);
      // a 68% interval is about half as wide (1.0 vs 1.96 standard errors)
      const ci68 = meanCI(xs, { reps: 4000, seed: 7, confidence: 0.6827 });
      const ratio = (ci68.hi - ci68.lo) / (ci.hi - ci.lo);
      assert.ok(Math.abs(ratio - 1 / 1.96) < 0.06, `width ratio ${ratio}`);
    }
  });

  it('is deterministic given a seed, and the seed matters', () => {
    const xs = normalSample(30, 0, 1, 3);
    assert.deepEqual(meanCI(xs, { seed: 11, reps: 500 }), meanCI(xs, { seed: 11, reps: 500 }));
    assert.notDeepEqual(meanCI(xs, { seed: 11, reps: 500 }), meanCI(xs, { seed: 12, reps: 500 }));
    const m = [
      [0.1, 0.5],
      [0.3, 0.9],
      [0.2, 0.4],
      [0.8, 0.7],
    ];
    assert.deepEqual(
      stratifiedBootstrapCI(m, aggregateIqm, { seed: 5, reps: 300 }),
      stratifiedBootstrapCI(m, aggregateIqm, { seed: 5, reps: 300 }),
    );
  });

  it('a single value gives a degenerate interval', () => {
    assert.deepEqual(meanCI([0.42], { reps: 100 }), { point: 0.42, lo: 0.42, hi: 0.42 });
  });

  it('stratified bootstrap resamples runs independently within each task; its distribution is centred on the point estimate', () => {
    // 2 runs x 2 tasks with distinct values: exactly 2^2 * 2^2 = 16 equally likely resampled matrices
    const m = [
      [1, 10],
      [2, 20],
    ];
    const seen = new Map<string, number>();
    const estimates: number[] = [];
    const reps = 16000;
    const capture = (s: ScoreMatrix): number => {
      const key = JSON.stringify(s);
      seen.set(key, (seen.get(key) ?? 0) + 1);
      for (const row of s) {
        assert.ok(row[0] === 1 || row[0] === 2, 'task 0 column only holds task-0 scores');
        assert.ok(row[1] === 10 || row[1] === 20, 'task 1 column only holds task-1 scores');
      }
      const v = aggregateMean(s);
      estimates.push(v);
      return v;
    };
    const ci = stratifiedBootstrapCI(m, capture, { reps, seed: 9 });
    estimates.pop(); // the last call is the point estimate on the original data
    assert.equal(estimates.length, reps);
    assert.equal(seen.size, 16, 'mixing rows across tasks (not whole-row resampling)');
    for (const [k, c] of seen) {
      if (k === JSON.stringify(m)) continue;
      assert.ok(Math.abs(c / reps - 1 / 16) < 0.01, `${k} frequency ${c / reps}`);
    }
    const bootMean = estimates.reduce((a, b) => a + b, 0) / reps;
    assert.ok(Math.abs(bootMean - ci.point) < 0.05, `bootstrap mean ${bootMean} vs point ${ci.point}`);
    // exact bootstrap distribution: (a + b) / 2 with a in {1, 1.5, 2} (p 1/4, 1/2, 1/4) and b in {10, 15, 20};
    // the extreme atoms 5.5 and 11 each have probability 1/16 > 2.5%, so they are the percentile bounds
    assert.equal(ci.lo, 5.5);
    assert.equal(ci.hi, 11);
  });

  it('aggregateIntervals: points equal the aggregates, CIs bracket them and shrink with more runs', () => {
    const mk = (runs: number, seed: number): number[][] => {
      const r = new Rng(seed);
      return Array.from({ length: runs }, () => [r.normal(0.7, 0.1), r.normal(0.5, 0.1), r.normal(0.9, 0.05)]);
    };
    const small = mk(5, 1);
    const large = mk(80, 2);
    const res = aggregateIntervals({ small, large }, undefined, { reps: 1000, seed: 3 });
    for (const [name, s] of [
      ['small', small],
      ['large', large],
    ] as const) {
      assert.equal(res[name].iqm.point, aggregateIqm(s));
      assert.equal(res[name].mean.point, aggregateMean(s));
      for (const metric of ['mean', 'median', 'iqm', 'optimalityGap']) {
        const iv = res[name][metric];
        assert.ok(iv.lo <= iv.point && iv.point <= iv.hi, `${name}.${metric} ${JSON.stringify(iv)}`);
      }
    }
    assert.ok(
      res.large.mean.hi - res.large.mean.lo < 0.5 * (res.small.mean.hi - res.small.mean.lo),
      'CI width shrinks ~1/sqrt(runs)',
    );
    // each algorithm's stream is forked by name: adding another algorithm does not change it
    const alone = aggregateIntervals({ small }, undefined, { reps: 1000, seed: 3 });
    assert.deepEqual(alone.small, res.small);
    assert.throws(() => aggregateIntervals({ a: [[1, 2]], b: [[1]] }), /'b' has 1 tasks but 'a' has 2/);
  });

  it('probability of improvement: CI near 1 for a clearly better algorithm, contains 0.5 for identical ones', () => {
    const r = new Rng(4);
    const better = Array.from({ length: 10 }, () => [r.normal(1, 0.1), r.normal(1, 0.1)]);
    const worse = Array.from({ length: 10 }, () => [r.normal(0, 0.1), r.normal(0, 0.1)]);
    const p = probabilityOfImprovement(better, worse, { reps: 500, seed: 1 });
    assert.equal(p.point, 1);
    assert.ok(p.lo > 0.99);
    const same1 = Array.from({ length: 12 }, () => [r.normal(0, 1), r.normal(0, 1), r.normal(0, 1)]);
    const same2 = Array.from({ length: 12 }, () => [r.normal(0, 1), r.normal(0, 1), r.normal(0, 1)]);
    const q = probabilityOfImprovement(same1, same2, { reps: 1000, seed: 2 });
    assert.ok(q.lo < 0.5 && q.hi > 0.5, JSON.stringify(q));
    const qr = probabilityOfImprovement(same2, same1, { reps: 1000, seed: 2 });
    assert.ok(Math.abs(q.point + qr.point - 1) < 1e-12, 'P(X>Y) + P(Y>X) = 1 without ties');
  });

  it('performance profile: bands are fractions, monotone point estimate, exact at extreme taus', () => {
    const r = new Rng(8);
    const s = Array.from({ length: 10 }, () => [r.uniform(0, 1), r.uniform(0, 1)]);
    const taus = [-1, 0.25, 0.5, 0.75, 2];
    const prof = performanceProfile(s, taus, { reps: 500, seed: 0 });
    assert.deepEqual([prof.point[0], prof.lo[0], prof.hi[0]], [1, 1, 1]);
    assert.deepEqual([prof.point[4], prof.lo[4], prof.hi[4]], [0, 0, 0]);
    for (let k = 1; k < taus.length; k++) assert.ok(prof.point[k] <= prof.point[k - 1]);
    for (let k = 1; k < 4; k++) assert.ok(prof.lo[k] < prof.point[k] && prof.point[k] < prof.hi[k], `tau ${taus[k]}`);
  });

  it('sample-efficiency curve: IQM per step with consistent whole-run resampling', () => {
    // 6 runs x 2 tasks x 3 steps; run r improves linearly
    const scores = Array.from({ length: 6 }, (_, r) => [0, 1].map((t) => [0, 1, 2].map((k) => 0.1 * k + 0.01 * r + t)));
    const curve = sampleEfficiencyCurve(scores, { reps: 400, seed: 1, steps: [0, 100, 200] });
    assert.deepEqual(curve.steps, [0, 100, 200]);
    for (let k = 0; k < 3; k++) {
      const atK = scores.map((run) => run.map((task) => task[k]));
      assert.equal(curve.point[k], aggregateIqm(atK));
      assert.ok(curve.lo[k] <= curve.point[k] && curve.point[k] <= curve.hi[k]);
    }
    // the same run draw is used at every step, so the band is the step-0 band shifted by 0.1 per step
    assert.ok(Math.abs(curve.lo[2] - curve.lo[0] - 0.2) < 1e-9 && Math.abs(curve.hi[1] - curve.hi[0] - 0.1) < 1e-9);
    assert.throws(() => sampleEfficiencyCurve([[[1, 2]], [[1]]]), /\[run 1, task 0\] has 1 steps, expected 2/);
    assert.throws(() => sampleEfficiencyCurve(scores, { steps: [1] }), /steps has 1 entries but scores have 3 steps/);
  });

  it('validates options and names the field', () => {
    assert.throws(() => meanCI([1, 2], { reps: 0 }), /meanCI options: reps/);
    assert.throws(() => meanCI([1, 2], { confidence: 1.5 }), /confidence/);
    assert.throws(() => meanCI([1, 2], { seed: 1.5 }), /seed/);
    assert.throws(() => meanCI([1, 2], { conf: 0.9 } as never), /Unrecognized key.*conf/);
    assert.throws(() => meanCI([], {}), /meanCI values: expected a non-empty array/);
    assert.throws(() => performanceProfile([[1]], [0], { kind: 'x' as never }), /kind must be 'run' or 'average'/);
  });
});
