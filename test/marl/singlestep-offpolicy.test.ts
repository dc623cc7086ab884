import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import { SingleStepLearner } from '../../src/marl/singlestep';
import type { SingleStepConfigInput } from '../../src/marl/singlestep';
import { factoredTokenGame } from '../../src/marl/envs/games';

// 3 agents x 4 tokens x vocabulary 8: 8^12 (about 6.9e10) joint actions.
const vocab = [
  [8, 8, 8, 8],
  [8, 8, 8, 8],
  [8, 8, 8, 8],
];
const TARGET = 0.9;
const BUDGET = 3000;
const SEEDS = [0, 1, 2];

function evaluationsToTarget(cfg: Partial<SingleStepConfigInput>, seed: number): number {
  const game = factoredTokenGame({ vocab, seed: 100 + seed });
  const L = new SingleStepLearner({ agents: vocab.map((v, i) => ({ name: `agent${i}`, vocab: v })), seed, ...cfg });
  const res = L.run((a) => game.reward(a), { evaluations: BUDGET, batchSize: 16, stopAt: TARGET });
  L.dispose();
  return res.reachedAt ?? Number.POSITIVE_INFINITY;
}

describe('marl/singlestep: off-policy actor-critic vs REINFORCE on a large factored action space', () => {
  it(`MA2ML (replay, counterfactual critic, w = 0.1, tau = 0.01) reaches a batch mean of ${TARGET} in fewer evaluations than REINFORCE`, function () {
    this.timeout(120000);
    const n0 = tf.memory().numTensors;
    // REINFORCE: on-policy, shared reward, moving-average baseline, no divergence term (best of two learning rates).
    const reinforce = SEEDS.map((s) =>
      Math.min(
        ...[0.05, 0.1].map((lr) =>
          evaluationsToTarget({ credit: 'shared', offPolicy: false, divergenceWeight: 0, actorLr: lr }, s),
        ),
      ),
    );
    const ma2ml = SEEDS.map((s) => evaluationsToTarget({ credit: 'counterfactual', offPolicy: true }, s));
    console.log(`      evaluations to ${TARGET}: REINFORCE ${reinforce.join(', ')}; off-policy AC ${ma2ml.join(', ')}`);
    assert.ok(reinforce.every(Number.isFinite), 'REINFORCE reaches the target within the budget');
    for (let k = 0; k < SEEDS.length; k++)
      assert.ok(ma2ml[k] < reinforce[k], `seed ${SEEDS[k]}: off-policy ${ma2ml[k]} vs REINFORCE ${reinforce[k]}`);
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    assert.ok(
      mean(ma2ml) < 0.6 * mean(reinforce),
      `mean evaluations: off-policy ${mean(ma2ml)} vs REINFORCE ${mean(reinforce)}`,
    );
    assert.equal(tf.memory().numTensors, n0);
  });
});
