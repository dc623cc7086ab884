import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import { SingleStepLearner } from '../../src/marl/singlestep';
import type { SingleStepConfigInput } from '../../src/marl/singlestep';
import { factoredTokenGame } from '../../src/marl/envs/games';

const vocab = [
  [4, 4, 4],
  [4, 4, 4],
];
const TARGET = 0.85;
const BUDGET = 2400;

const variants: Record<string, Partial<SingleStepConfigInput>> = {
  'REINFORCE, moving-average baseline': { credit: 'shared', offPolicy: false, divergenceWeight: 0 },
  'REINFORCE, learned value baseline': { credit: 'shared', offPolicy: false, divergenceWeight: 0, baseline: 'value' },
  'REINFORCE, batch-mean baseline': { credit: 'shared', offPolicy: false, divergenceWeight: 0, baseline: 'batchMean' },
  'REINFORCE, single agent over the joint token sequence': {
    credit: 'shared',
    offPolicy: false,
    divergenceWeight: 0,
    jointAgent: true,
  },
  'MA2ML-Lite (on-policy, counterfactual)': { credit: 'counterfactual', offPolicy: false, divergenceWeight: 0 },
  'MA2ML without credit assignment (replay, shared)': { credit: 'shared', offPolicy: true },
  'MA2ML (replay, counterfactual, Monte-Carlo K = 8)': {
    credit: 'counterfactual',
    offPolicy: true,
    enumerateLimit: 16,
    counterfactualSamples: 8,
  },
};

describe('marl/singlestep: every variant of the one code path learns', () => {
  for (const [name, cfg] of Object.entries(variants)) {
    it(`${name} reaches a batch mean of ${TARGET}`, function () {
      this.timeout(60000);
      const n0 = tf.memory().numTensors;
      const game = factoredTokenGame({ vocab, seed: 21 });
      const L = new SingleStepLearner({ agents: vocab.map((v) => ({ vocab: v })), seed: 5, ...cfg });
      const first = L.propose(64).map((a) => game.reward(a));
      const res = L.run((a) => game.reward(a), { evaluations: BUDGET, batchSize: 16, stopAt: TARGET });
      const initial = first.reduce((x, y) => x + y, 0) / first.length;
      console.log(
        `      ${name}: ${res.reachedAt ?? `not within ${BUDGET}`} evaluations (initial mean ${initial.toFixed(3)})`,
      );
      assert.ok(initial < 0.6, `the task starts hard (initial mean ${initial})`);
      assert.ok(
        res.reachedAt !== undefined,
        `did not reach ${TARGET} in ${BUDGET} evaluations; last batch mean ${res.batchMeans[res.batchMeans.length - 1]}`,
      );
      L.dispose();
      assert.equal(tf.memory().numTensors, n0);
    });
  }
});

describe('marl/singlestep: baselines matter for REINFORCE', () => {
  it('without a baseline (rewards all positive) REINFORCE needs clearly more evaluations than with one', function () {
    this.timeout(60000);
    const game = factoredTokenGame({ vocab, seed: 21 });
    const evals = (baseline: 'none' | 'movingAverage' | 'value', seed: number) => {
      const L = new SingleStepLearner({
        agents: vocab.map((v) => ({ vocab: v })),
        seed,
        credit: 'shared',
        offPolicy: false,
        divergenceWeight: 0,
        baseline,
      });
      const res = L.run((a) => game.reward(a), { evaluations: BUDGET, batchSize: 16, stopAt: TARGET });
      L.dispose();
      return res.reachedAt ?? Number.POSITIVE_INFINITY;
    };
    for (const seed of [1, 2]) {
      const none = evals('none', seed);
      const ma = evals('movingAverage', seed);
      const value = evals('value', seed);
      console.log(`      seed ${seed}: no baseline ${none}, moving average ${ma}, learned value ${value}`);
      assert.ok(Number.isFinite(ma) && Number.isFinite(value));
      assert.ok(none > 1.5 * Math.max(ma, value), `seed ${seed}: no baseline ${none} vs ${ma} / ${value}`);
    }
  });
});
