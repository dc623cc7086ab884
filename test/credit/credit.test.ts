import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import { Rng } from '../../src/random';
import {
  coalitionValueFromActions,
  counterfactualAdvantages,
  counterfactualAdvantageTensor,
  counterfactualAlternatives,
  differenceRewards,
  differenceRewardsFromFn,
  differenceStepAssigner,
  enumerateFactoredActions,
  factoredCounterfactualBaseline,
  sharedRewards,
  sharedStepAssigner,
  shapleyAssigner,
  shapleyStepAssigner,
  shapleyValues,
} from '../../src/credit';
import { climbingGame, dilutedContributionGame } from '../../src/marl/envs/games';
import type { CreditAssigner } from '../../src/marl/rollout';

describe('credit: shared and difference rewards', () => {
  it('shared reward repeats the team reward', () => {
    assert.deepEqual(Array.from(sharedRewards(undefined, [0, 1, 2], 0.25)), [0.25, 0.25, 0.25]);
    assert.throws(() => sharedRewards(undefined, [0], NaN), /teamReward must be finite/);
  });

  it("difference rewards equal each agent's exact marginal contribution in the diluted game", () => {
    const game = dilutedContributionGame({ numAgents: 5, numActions: 3, seed: 4 });
    const actions = Array.from(game.targets);
    actions[1] = 0; // agent 1 plays its default (wrong)
    actions[2] = game.targets[2] === 1 ? 2 : 1; // agent 2 wrong, not default
    game.reset(0);
    const G = game.teamReward(actions);
    const d = differenceRewards(game, actions, G);
    // right agents contributed 1/5; wrong ones 0 (default 0 is never right)
    assert.deepEqual(
      Array.from(d).map((x) => Math.round(x * 100) / 100),
      [0.2, 0, 0, 0.2, 0.2],
    );
    assert.ok(Math.abs(G - 0.6) < 1e-12);
  });

  it('difference rewards in the climbing game use the env default action', () => {
    const game = climbingGame(); // default action 0
    game.reset(0);
    const d = differenceRewards(game, [1, 2], 6);
    // agent 0: G(1,2) - G(0,2) = 6 - 0; agent 1: G(1,2) - G(1,0) = 6 - (-30)
    assert.deepEqual(Array.from(d), [6, 36]);
    const d2 = differenceRewards(game, [1, 2], 6, { defaultAction: [2, 1] });
    assert.deepEqual(Array.from(d2), [6 - 5, 6 - 7]);
  });

  it('the two-phase step assigners give the same numbers as the one-shot functions', () => {
    const game = dilutedContributionGame({ numAgents: 6, numActions: 4, seed: 9 });
    const actions = Int32Array.from([1, 2, 3, 0, 1, 2]);
    game.reset(0);
    const diff = differenceStepAssigner();
    const prep = diff.prepare!(game, actions);
    const shap = shapleyStepAssigner();
    const prepS = shap.prepare!(game, actions);
    const shared = sharedStepAssigner();
    const prepShared = shared.prepare!(game, actions);
    const result = game.step(actions);
    assert.deepEqual(
      Array.from(diff.assign({ result, prepared: prep })),
      Array.from(differenceRewards(game, actions, result.teamReward)),
    );
    const s1 = shap.assign({ result, prepared: prepS });
    const s2 = shapleyAssigner()(game, actions, result.teamReward);
    for (let i = 0; i < 6; i++) assert.ok(Math.abs(s1[i] - s2[i]) < 1e-6);
    assert.deepEqual(
      Array.from(shared.assign({ result, prepared: prepShared })),
      new Array(6).fill(Math.fround(result.teamReward)),
    );
  });

  it('differenceStepAssigner asks an env with the batched hook once for all agents, with the same result', () => {
    const G = (a: ArrayLike<number>) => a[0] * 3 + a[1] * 5 + a[2] * 7;
    const calls: number[] = [];
    const env = {
      defaultAction: () => 0,
      counterfactualTeamReward: (a: ArrayLike<number>) => {
        calls.push(1);
        return G(a);
      },
      counterfactualTeamRewards: (sets: readonly ArrayLike<number>[]) => {
        calls.push(sets.length);
        return sets.map(G);
      },
    };
    const actions = [1, 0, 2]; // agent 1 already plays its default: no branch for it
    const prepared = differenceStepAssigner().prepare!(env as never, actions);
    assert.deepEqual(calls, [2], 'one batched call with the two alternatives');
    const d = differenceStepAssigner().assign({ result: { teamReward: G(actions) }, prepared });
    assert.deepEqual(Array.from(d), [3, 0, 14]);
    const { counterfactualTeamRewards: _unused, ...single } = env;
    void _unused;
    calls.length = 0;
    const p2 = differenceStepAssigner().prepare!(single as never, actions);
    assert.deepEqual(calls, [1, 1]);
    assert.deepEqual(p2, prepared);
  });

  it("the step assigners type-check as the rollout collector's CreditAssigner plug-in", () => {
    const plugins: CreditAssigner[] = [
      differenceStepAssigner(),
      sharedStepAssigner(),
      shapleyStepAssigner({ method: 'exact' }),
    ];
    // climbing game at (1, 1) = 7 with default action 0: G(0,1) = G(1,0) = -30, G(0,0) = 11
    // difference: 7 - (-30) = 37 each; shared: 7; Shapley: 0.5 (-30 - 11) + 0.5 (7 + 30) = -2 each.
    const expected = [
      [37, 37],
      [7, 7],
      [-2, -2],
    ];
    const game = climbingGame();
    for (const [k, credit] of plugins.entries()) {
      game.reset(0);
      const actions = Int32Array.from([1, 1]);
      const prepared = credit.prepare!(game, actions, 0);
      const result = game.step(actions);
      const r = credit.assign({ env: game, envIndex: 0, actions, result, prepared });
      assert.deepEqual(Array.from(r), expected[k]);
    }
  });

  it('errors name the problem', () => {
    assert.throws(() => differenceRewards({}, [0, 1], 1), /counterfactualTeamReward/);
    assert.throws(() => differenceRewardsFromFn(() => 0, [0, 1], 1, [0]), /expected 2 default actions/);
    assert.throws(() => differenceRewardsFromFn(() => NaN, [1, 1], 1, 0), /agent 0 is not finite/);
  });
});

describe('credit: counterfactual (COMA) advantages', () => {
  it('advantages are Q minus the policy-weighted baseline', () => {
    const a = counterfactualAdvantages([1, 3, 5], [0.5, 0.25, 0.25]);
    assert.deepEqual(Array.from(a), [-1.5, 0.5, 2.5]);
    assert.throws(() => counterfactualAdvantages([1, 2], [1]), /q has 2 entries but probs has 1/);
  });

  it('the batched tensor version matches the per-agent function', () => {
    const rng = new Rng(3);
    const B = 5;
    const A = 4;
    const q = rng.normalArray(B * A);
    const p = new Float32Array(B * A);
    for (let b = 0; b < B; b++) {
      let s = 0;
      for (let k = 0; k < A; k++) s += p[b * A + k] = rng.uniform(0.1, 1);
      for (let k = 0; k < A; k++) p[b * A + k] /= s;
    }
    const actions = Int32Array.from([0, 3, 1, 2, 2]);
    const before = tf.memory().numTensors;
    const qt = tf.tensor2d(q, [B, A]);
    const pt = tf.tensor2d(p, [B, A]);
    const at = tf.tensor1d(actions, 'int32');
    const adv = counterfactualAdvantageTensor(qt, pt, at);
    const got = adv.dataSync();
    for (let b = 0; b < B; b++) {
      const ref = counterfactualAdvantages(q.subarray(b * A, (b + 1) * A), p.subarray(b * A, (b + 1) * A))[actions[b]];
      assert.ok(Math.abs(got[b] - ref) < 1e-5, `row ${b}: ${got[b]} vs ${ref}`);
    }
    tf.dispose([qt, pt, at, adv]);
    assert.equal(tf.memory().numTensors, before);
    assert.throws(
      () => counterfactualAdvantageTensor(tf.zeros([2, 3]), tf.zeros([2, 4])),
      /q shape \[2,3\] and probs shape \[2,4\]/,
    );
  });

  it('enumerates factored actions in mixed radix', () => {
    assert.deepEqual(Array.from(enumerateFactoredActions([2, 3])), [0, 0, 0, 1, 0, 2, 1, 0, 1, 1, 1, 2]);
  });

  it('the Monte-Carlo counterfactual baseline is unbiased and converges to the exact one', () => {
    const rng = new Rng(11);
    const vocab = [4, 5, 3];
    const probs = vocab.map((v) => {
      const w = rng.uniformArray(v, 0.05, 1);
      const s = w.reduce((a, b) => a + b, 0);
      return w.map((x) => x / s);
    });
    // A critic-like value with interactions between the tokens.
    const table = rng.normalArray(4 * 5 * 3, 0, 1);
    const valuesOf = (tokens: Int32Array, count: number) =>
      Float32Array.from(
        { length: count },
        (_, k) => table[(tokens[k * 3] * 5 + tokens[k * 3 + 1]) * 3 + tokens[k * 3 + 2]],
      );
    const exact = factoredCounterfactualBaseline(valuesOf, probs, { mode: 'exact' });
    // Reference by brute force.
    let ref = 0;
    for (let a = 0; a < 4; a++)
      for (let b = 0; b < 5; b++)
        for (let c = 0; c < 3; c++) ref += probs[0][a] * probs[1][b] * probs[2][c] * table[(a * 5 + b) * 3 + c];
    assert.ok(Math.abs(exact - ref) < 1e-6);
    // Variance of Q under pi gives the Monte-Carlo standard error.
    let second = 0;
    for (let a = 0; a < 4; a++)
      for (let b = 0; b < 5; b++)
        for (let c = 0; c < 3; c++) second += probs[0][a] * probs[1][b] * probs[2][c] * table[(a * 5 + b) * 3 + c] ** 2;
    const sd = Math.sqrt(second - ref * ref);
    const errs: number[] = [];
    for (const K of [16, 256, 4096]) {
      const mcRng = new Rng(100 + K);
      let sq = 0;
      let bias = 0;
      const reps = 40;
      for (let r = 0; r < reps; r++) {
        const e =
          factoredCounterfactualBaseline(valuesOf, probs, { mode: 'monteCarlo', samples: K, rng: mcRng }) - exact;
        sq += e * e;
        bias += e;
      }
      const rmse = Math.sqrt(sq / reps);
      errs.push(rmse);
      // RMSE matches sd/sqrt(K) within sampling noise; the mean error is within 4 standard errors of 0.
      assert.ok(
        rmse < 1.6 * (sd / Math.sqrt(K)) && rmse > 0.5 * (sd / Math.sqrt(K)),
        `K=${K}: rmse ${rmse} vs sd/sqrt(K) ${sd / Math.sqrt(K)}`,
      );
      assert.ok(Math.abs(bias / reps) < 4 * (sd / Math.sqrt(K * reps)), `K=${K}: mean error ${bias / reps}`);
    }
    assert.ok(errs[2] < errs[0] / 8, `error shrinks with K: ${errs}`);
  });

  it("'auto' alternatives enumerate small spaces with policy weights and sample large ones", () => {
    const small = counterfactualAlternatives(
      [
        [0.5, 0.5],
        [0.2, 0.3, 0.5],
      ],
      { enumerateLimit: 6 },
    );
    assert.equal(small.exact, true);
    assert.equal(small.count, 6);
    assert.ok(Math.abs(small.weights.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    const large = counterfactualAlternatives(
      [
        [0.5, 0.5],
        [0.2, 0.3, 0.5],
      ],
      { enumerateLimit: 5, samples: 7, rng: new Rng(1) },
    );
    assert.equal(large.exact, false);
    assert.equal(large.count, 7);
    assert.throws(() => counterfactualAlternatives([[0.5, 0.5]], { mode: 'monteCarlo' }), /needs options.rng/);
  });
});

describe('credit: Shapley values', () => {
  // v(S) = 2*[0 in S] + 1*[1 in S] + 3*[0 and 1 in S] + 6*[2 in S and 3 in S]
  // Shapley: phi0 = 2 + 1.5, phi1 = 1 + 1.5, phi2 = phi3 = 3, phi4 = 0 (dummy).
  const v = (c: Uint8Array) => 2 * c[0] + c[1] + 3 * c[0] * c[1] + 6 * c[2] * c[3];
  const known = [3.5, 2.5, 3, 3, 0];

  it('exact Shapley values of a game with known values', () => {
    const phi = shapleyValues(v, 5, { method: 'exact' });
    phi.forEach((x, i) => assert.ok(Math.abs(x - known[i]) < 1e-12, `agent ${i}: ${x} vs ${known[i]}`));
    // glove game: one left glove (agent 0), two right gloves: phi = [2/3, 1/6, 1/6]
    const glove = shapleyValues((c) => Math.min(c[0], c[1] + c[2]), 3);
    [2 / 3, 1 / 6, 1 / 6].forEach((x, i) => assert.ok(Math.abs(glove[i] - x) < 1e-12));
  });

  it('sampled permutations are efficient exactly and converge to the exact values', () => {
    const few = shapleyValues(v, 5, { method: 'permutations', permutations: 3, rng: new Rng(1) });
    assert.ok(Math.abs(few.reduce((a, b) => a + b, 0) - v(Uint8Array.of(1, 1, 1, 1, 1))) < 1e-9);
    const errOf = (P: number) => {
      const phi = shapleyValues(v, 5, { method: 'permutations', permutations: P, rng: new Rng(P) });
      return Math.max(...Array.from(phi, (x, i) => Math.abs(x - known[i])));
    };
    const e2000 = errOf(2000);
    assert.ok(e2000 < 0.25, `max error with 2000 permutations: ${e2000}`);
    assert.equal(errOf(2000) === 0, false); // sampled, not exact by accident
    assert.throws(() => shapleyValues(v, 5, { method: 'permutations' }), /needs options.rng/);
  });

  it('coalition values from actions: missing agents take default actions', () => {
    const game = dilutedContributionGame({ numAgents: 4, numActions: 3, seed: 2 });
    const actions = Array.from(game.targets);
    const phi = shapleyValues(
      coalitionValueFromActions((a) => game.teamReward(a), actions, 0),
      4,
    );
    phi.forEach((x) => assert.ok(Math.abs(x - 0.25) < 1e-12)); // additive game: Shapley = difference reward
  });
});
