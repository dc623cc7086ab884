import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tf } from '../../src/backend';
import {
  matrixPayoff,
  meanCurve,
  runDilutedGameSeed,
  runDilutedSweep,
  runMatrixGameSeed,
  runMatrixSweep,
  summarizeDilutedRuns,
  summarizeMatrixRuns,
  wilsonInterval,
} from '../../src/marl/experiments';
import type { MatrixSeedResult } from '../../src/marl/experiments';
import { ExperimentStore, InlineExecutor, WorkerPoolExecutor } from '../../src/runtime';

const close = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tol ${tol})`);

describe('marl/experiments: statistics', () => {
  it('wilsonInterval matches the Wilson score formula with scipy quantiles', () => {
    // Reference: scipy.stats.norm.ppf for z, then the Wilson score interval (statsmodels' 'wilson').
    const cases: [number, number, number, number, number][] = [
      [0, 10, 0.95, 0, 0.2775327998628892],
      [5, 10, 0.95, 0.236593090512564, 0.7634069094874361],
      [10, 10, 0.95, 0.7224672001371107, 1],
      [3, 20, 0.9, 0.061582410477368316, 0.3218280756753068],
      [17, 20, 0.99, 0.5644132797389441, 0.9612129394919282],
    ];
    for (const [k, n, c, lo, hi] of cases) {
      const w = wilsonInterval(k, n, c);
      close(w.point, k / n, 1e-15, `point ${k}/${n}`);
      close(w.lo, lo, 1e-9, `lo ${k}/${n} at ${c}`);
      close(w.hi, hi, 1e-9, `hi ${k}/${n} at ${c}`);
    }
  });

  it('wilsonInterval rejects bad counts and confidence levels with the argument named', () => {
    assert.throws(() => wilsonInterval(11, 10), /successes must be an integer in \[0, n = 10\], got 11/);
    assert.throws(() => wilsonInterval(1, 0), /n must be a positive integer, got 0/);
    assert.throws(() => wilsonInterval(1, 10, 1), /confidence must be in \(0, 1\), got 1/);
  });

  it('meanCurve averages seeds, keeps every k-th point and the last, and its band contains the mean', () => {
    const c = meanCurve(
      [
        [0, 1, 2, 3, 4],
        [0, 3, 4, 5, 8],
      ],
      { x: [0, 8, 16, 24, 32], every: 3 },
    );
    assert.deepEqual(c.x, [0, 24, 32]);
    assert.deepEqual(c.y, [0, 4, 6]);
    assert.deepEqual(c.lower, [0, 3, 4]); // two seeds: the bootstrap band spans the per-seed values
    assert.deepEqual(c.upper, [0, 5, 8]);
    assert.throws(() => meanCurve([[1, 2], [1]]), /curve 1 has 1 points, expected 2/);
    assert.throws(() => meanCurve([[1, 2]], { x: [0] }), /x has 1 values, expected 2/);
  });

  it('summarizeMatrixRuns: success rates with Wilson CIs and a verdict from the probability of improvement', () => {
    const run = (finalReward: number, optimal: boolean): MatrixSeedResult => ({
      expectedReward: [0, finalReward],
      probOptimal: [0, optimal ? 1 : 0],
      greedy: optimal ? [0, 0] : [1, 1],
      greedyReward: optimal ? 10 : 2,
      optimal,
      policies: [],
      optimalReward: 10,
    });
    const base = [2, 2.1, 1.9, 2, 2.2, 1.8, 2, 2.05].map((r) => run(r, false));
    const better = [9.5, 9.8, 9.9, 9.7, 9.6, 9.9, 2, 9.8].map((r) => run(r, r > 5));
    const same = [2, 2.1, 1.9, 2, 2.2, 1.8, 2, 2.05].map((r) => run(r, false));
    const rows = summarizeMatrixRuns({ base, better, same }, 'base', { seed: 1 });
    assert.deepEqual(
      rows.map((r) => [r.method, r.successes, r.successVerdict, r.rewardVerdict]),
      [
        ['base', 0, null, null],
        ['better', 7, 'better', 'better'],
        ['same', 0, 'no clear difference', 'no clear difference'],
      ],
    );
    assert.equal(rows[0].successImprovement, null);
    assert.equal(rows[0].rewardImprovement, null);
    // 7 runs beat all 8 baseline runs; the run at 2.0 beats 2, ties 3 (1/2 each) and loses to 3: (56 + 2 + 1.5) / 64.
    close(rows[1].rewardImprovement!.point, 59.5 / 64, 1e-12, 'P(better reward > base)');
    // On 0/1 success indicators P(X > Y) = 0.5 + (rate_x - rate_y) / 2.
    close(rows[1].successImprovement!.point, 0.5 + 7 / 8 / 2, 1e-12, 'P(better succeeds > base)');
    close(rows[2].rewardImprovement!.point, 0.5, 1e-12, 'P(same > base)');
    close(rows[1].successRate.hi, wilsonInterval(7, 8).hi, 0, 'Wilson upper bound');
    assert.throws(
      () => summarizeMatrixRuns({ base }, 'missing'),
      /baseline 'missing' is not one of the methods \(base\)/,
    );
  });
});

describe('marl/experiments: one seed of a matrix game', () => {
  it('payoff tables come from the games in src/marl/envs', () => {
    assert.deepEqual(matrixPayoff('climbing'), [
      [11, -30, 0],
      [-30, 7, 6],
      [0, 0, 5],
    ]);
    assert.deepEqual(matrixPayoff('penalty', -25), [
      [10, 0, -25],
      [0, 2, 0],
      [-25, 0, 10],
    ]);
  });

  it('records the exact expected team reward: the uniform initial policies give the mean payoff', () => {
    for (const [game, k] of [
      ['climbing', 0],
      ['penalty', -5],
      ['penalty', -25],
    ] as const) {
      const payoff = matrixPayoff(game, k);
      const mean = payoff.flat().reduce((a, b) => a + b, 0) / 9;
      const res = runMatrixGameSeed({ game, penaltyK: k, method: 'independent', iterations: 1 }, { seed: 0 });
      close(res.expectedReward[0], mean, 1e-5, `${game}(${k}) initial expected reward`);
      close(
        res.probOptimal[0],
        payoff.flat().filter((v) => v === Math.max(...payoff.flat())).length / 9,
        1e-6,
        `${game} initial P(optimal)`,
      );
      assert.equal(res.expectedReward.length, 2);
    }
  });

  it('learns: on the penalty game (k = -5) each credit scheme coordinates on an optimum on most seeds', function () {
    this.timeout(60000);
    const n0 = tf.memory().numTensors;
    for (const method of ['independent', 'counterfactual', 'difference'] as const) {
      const runs = [0, 1, 2].map((seed) =>
        runMatrixGameSeed({ game: 'penalty', penaltyK: -5, method, iterations: 200 }, { seed }),
      );
      const hits = runs.filter((r) => r.optimal).length;
      const finals = runs.map((r) => r.expectedReward[r.expectedReward.length - 1]);
      assert.ok(
        hits >= 2,
        `${method}: optimal on ${hits}/3 seeds (greedy ${runs.map((r) => r.greedy.join('')).join(' ')})`,
      );
      // From the uniform policies' 26/9 (2.9) to close to the optimum 10 where it coordinated.
      for (const r of runs)
        if (r.optimal)
          assert.ok(
            r.expectedReward[r.expectedReward.length - 1] > 8,
            `${method}: final expected reward ${finals.join(', ')}`,
          );
      for (const r of runs)
        close(
          r.policies[0].reduce((a, b) => a + b, 0),
          1,
          1e-5,
          'policy sums to 1',
        );
    }
    assert.equal(tf.memory().numTensors, n0, 'no tensors leaked');
  });

  it('climbing game: every scheme avoids the -30 miscoordination (greedy outcome pays >= 5)', function () {
    this.timeout(60000);
    for (const method of ['independent', 'counterfactual', 'difference'] as const) {
      for (const seed of [0, 1]) {
        const r = runMatrixGameSeed({ game: 'climbing', method, iterations: 150 }, { seed });
        assert.ok(r.greedyReward >= 5, `${method} seed ${seed}: greedy ${r.greedy.join('')} pays ${r.greedyReward}`);
        assert.ok(
          r.expectedReward[r.expectedReward.length - 1] > r.expectedReward[0] + 5,
          `${method} seed ${seed}: expected reward ${r.expectedReward[0]} -> ${r.expectedReward[r.expectedReward.length - 1]}`,
        );
      }
    }
  });

  it('is deterministic for a seed and rejects bad configs naming the field', () => {
    const a = runMatrixGameSeed({ game: 'climbing', method: 'counterfactual', iterations: 5 }, { seed: 4 });
    const b = runMatrixGameSeed({ game: 'climbing', method: 'counterfactual', iterations: 5 }, { seed: 4 });
    assert.deepEqual(a, b);
    assert.throws(
      () => runMatrixGameSeed({ game: 'climbing', method: 'coma' as 'independent', iterations: 5 }, { seed: 0 }),
      /method/,
    );
    assert.throws(
      () => runMatrixGameSeed({ game: 'penalty', penaltyK: 3, method: 'independent', iterations: 5 }, { seed: 0 }),
      /penaltyK/,
    );
    assert.throws(
      () => runMatrixGameSeed({ game: 'climbing', method: 'independent', iterations: 0 }, { seed: 0 }),
      /iterations/,
    );
  });
});

describe('marl/experiments: diluted many-agent game', () => {
  it('difference rewards reach an expected team reward of 0.9 in fewer episodes than the shared reward (20 agents)', function () {
    this.timeout(60000);
    const n0 = tf.memory().numTensors;
    const seeds = [0, 1, 2];
    const diff = seeds.map((seed) => runDilutedGameSeed({ method: 'difference', episodes: 1600 }, { seed }));
    const shared = seeds.map((seed) => runDilutedGameSeed({ method: 'shared', episodes: 1600 }, { seed }));
    const d = diff.map((r) => r.episodesToThreshold);
    const s = shared.map((r) => r.episodesToThreshold);
    assert.ok(
      d.every((e) => e !== null),
      `difference reached the threshold: ${d.join(', ')}`,
    );
    seeds.forEach((seed, k) =>
      assert.ok(s[k] === null || d[k]! < s[k]!, `seed ${seed}: difference ${d[k]} vs shared ${s[k]}`),
    );
    const rows = summarizeDilutedRuns({ shared, difference: diff }, 'shared', 1600, { seed: 0 });
    assert.equal(rows[1].verdict, 'better');
    assert.ok(
      rows[1].episodesToThreshold.point < 0.7 * rows[0].episodesToThreshold.point,
      `mean episodes ${rows[1].episodesToThreshold.point} vs ${rows[0].episodesToThreshold.point}`,
    );
    // Curves: initial expected reward is 1/numActions for uniform policies, one point per batch.
    close(diff[0].expectedReward[0], 0.25, 1e-6, 'initial expected reward');
    assert.equal(diff[0].episodes.length, 1600 / 8 + 1);
    assert.equal(tf.memory().numTensors, n0, 'no tensors leaked');
  });

  it('rejects a budget smaller than one batch', () => {
    assert.throws(
      () => runDilutedGameSeed({ method: 'shared', episodes: 4, batchSize: 8 }, { seed: 0 }),
      /episodes: must be >= batchSize \(8\)/,
    );
  });
});

describe('marl/experiments: sweeps through the runtime', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marl-exp-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('groups results by game and method, caches them in the store, and a 2-worker pool gives the same results as inline', async function () {
    this.timeout(90000);
    const store = ExperimentStore.open(path.join(dir, 'store.sqlite'));
    try {
      const spec = {
        games: [{ game: 'climbing' as const }, { game: 'penalty' as const, penaltyK: -5 }],
        seeds: [0, 1],
        iterations: 6,
      };
      const inline = new InlineExecutor();
      const first = await runMatrixSweep({ name: 'inline', ...spec, executor: inline, store });
      assert.deepEqual(Object.keys(first.results), ['climbing', 'penalty(k=-5)']);
      assert.deepEqual(Object.keys(first.results.climbing), ['independent', 'counterfactual', 'difference']);
      assert.equal(first.computed, 12);
      assert.deepEqual(
        first.results.climbing.counterfactual[1],
        runMatrixGameSeed({ game: 'climbing', method: 'counterfactual', iterations: 6 }, { seed: 1 }),
      );
      const again = await runMatrixSweep({ name: 'inline', ...spec, executor: inline, store });
      assert.equal(again.cached, 12);
      assert.equal(again.computed, 0);
      assert.deepEqual(again.results, first.results);

      const pool = new WorkerPoolExecutor({ workers: 2 });
      try {
        const pooled = await runMatrixSweep({ name: 'pool', ...spec, executor: pool, store });
        assert.equal(pooled.computed, 12);
        assert.deepEqual(pooled.results, first.results);
        const diluted = await runDilutedSweep({
          name: 'diluted-pool',
          seeds: [3],
          game: { numAgents: 5, episodes: 16 },
          executor: pool,
          store,
        });
        assert.deepEqual(
          diluted.results.difference[0],
          runDilutedGameSeed({ method: 'difference', numAgents: 5, episodes: 16 }, { seed: 3 }),
        );
      } finally {
        await pool.close();
      }
    } finally {
      store.close();
    }
  });

  it('rejects duplicate seeds and games', async () => {
    const store = ExperimentStore.open(path.join(dir, 'bad.sqlite'));
    try {
      await assert.rejects(
        runMatrixSweep({
          name: 'x',
          games: [{ game: 'climbing' }],
          seeds: [1, 1],
          iterations: 2,
          executor: new InlineExecutor(),
          store,
        }),
        /seeds must be distinct/,
      );
      await assert.rejects(
        runMatrixSweep({
          name: 'x',
          games: [{ game: 'climbing' }, { game: 'climbing' }],
          seeds: [1],
          iterations: 2,
          executor: new InlineExecutor(),
          store,
        }),
        /games must be distinct/,
      );
    } finally {
      store.close();
    }
  });
});
