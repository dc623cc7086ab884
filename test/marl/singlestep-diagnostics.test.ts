// Issue 12: per-update diagnostics of SingleStepLearner (hand computations on tiny cases), the
// per-batch KL limit, the credit gate, the ridge critic's exact expectations, the expected-gradient
// actor's plumbing, checkpoints of the new state, and that the defaults are untouched.
import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import { Rng } from '../../src/random';
import {
  RidgeCritic,
  SingleStepLearner,
  categoricalEntropy,
  categoricalKl,
  diagnosticRows,
  explainedVariance,
  parseSingleStepConfig,
  rSquared,
} from '../../src/marl/singlestep';
import type { JointAction, ObserveStats, SingleStepConfigInput } from '../../src/marl/singlestep';

const agents = [
  { name: 'a', vocab: [4] },
  { name: 'b', vocab: [2, 3] },
];
const VMAX = 4;
const ln = Math.log;

function klByHand(p: Float32Array[][], q: Float32Array[][]): number[] {
  return p.map((agent, i) =>
    agent.reduce((s, pt, k) => s + pt.reduce((x, v, j) => x + (v > 0 ? v * (ln(v) - ln(q[i][k][j])) : 0), 0), 0),
  );
}

describe('marl/singlestep diagnostics: formulas', () => {
  it('explained variance, R^2, entropy and KL match hand computations', () => {
    // y = [1, 2, 3], yHat = [1, 2, 4]: errors [0, 0, -1], Var(err) = 2/9, Var(y) = 2/3.
    assert.ok(Math.abs(explainedVariance([1, 2, 3], [1, 2, 4]) - (1 - 2 / 9 / (2 / 3))) < 1e-12);
    // An offset does not change the explained variance but does change R^2: 1 - 3 / 2.
    assert.ok(Math.abs(explainedVariance([1, 2, 3], [2, 3, 4]) - 1) < 1e-12);
    assert.ok(Math.abs(rSquared([1, 2, 3], [2, 3, 4]) - -0.5) < 1e-12);
    assert.ok(Number.isNaN(explainedVariance([2, 2], [1, 3])));
    assert.ok(Math.abs(categoricalEntropy([0.5, 0.25, 0.125, 0.125]) - 1.75 * ln(2)) < 1e-12);
    assert.ok(Math.abs(categoricalKl([0.5, 0.5], [0.25, 0.75]) - (0.5 * ln(2) + 0.5 * ln(2 / 3))) < 1e-12);
    assert.equal(categoricalKl([1, 0], [0.5, 0.5]), ln(2));
  });
});

describe('marl/singlestep diagnostics: per-update values on a tiny learner', () => {
  const base: SingleStepConfigInput = {
    agents,
    seed: 1,
    credit: 'shared',
    baseline: 'batchMean',
    offPolicy: false,
    divergenceWeight: 0,
    actorOptimizer: 'sgd',
  };
  const batch: JointAction[] = [
    [[0], [0, 1]],
    [[1], [1, 2]],
    [[0], [0, 1]],
    [[3], [1, 0]],
  ];
  const rewards = [1, 2, 3, 6];

  it('entropy, entropy fraction and KL to the target of a known policy; advantage scale; distinct proposals', () => {
    const n0 = tf.memory().numTensors;
    const L = new SingleStepLearner({ ...base, actorLr: 1e-9, tau: 0 });
    const p0 = [0.5, 0.25, 0.125, 0.125];
    const p1 = [0.9, 0.1];
    const p2 = [0.2, 0.3, 0.5];
    const logits = [...p0.map(ln), ...p1.map(ln), 0, 0, ...p2.map(ln), 0];
    L.setState({ ...L.getState(), logits });
    const st = L.observe(batch, rewards);
    const d = st.diagnostics;
    assert.deepEqual(d.groups, ['a', 'b']);
    const hA = 1.75 * ln(2);
    const hB = categoricalEntropy(p1) + categoricalEntropy(p2);
    assert.ok(Math.abs(d.entropy[0] - hA) < 1e-5, `entropy a ${d.entropy[0]} vs ${hA}`);
    assert.ok(Math.abs(d.entropy[1] - hB) < 1e-5, `entropy b ${d.entropy[1]} vs ${hB}`);
    assert.ok(Math.abs(d.entropyFraction[0] - hA / ln(4)) < 1e-5);
    assert.ok(Math.abs(d.entropyFraction[1] - hB / (ln(2) + ln(3))) < 1e-5);
    // rho is still uniform: KL(p || uniform) = log V - H(p) per token.
    assert.ok(Math.abs(d.klTarget[0] - (ln(4) - hA)) < 1e-5);
    assert.ok(Math.abs(d.klTarget[1] - (ln(2) + ln(3) - hB)) < 1e-5);
    assert.ok(Math.abs(st.kl - (d.klTarget[0] + d.klTarget[1])) < 1e-5);
    assert.ok(
      d.klPrevious.every((k) => k >= 0 && k < 1e-6),
      `klPrevious ${d.klPrevious}`,
    );
    // Shared reward minus the batch mean (3): raw advantages [-2, -1, 0, 3] for both agents.
    assert.ok(Math.abs(d.advantageMeanAbs - 1.5) < 1e-6);
    assert.ok(Math.abs(d.advantageSd - Math.sqrt(3.5)) < 1e-6);
    assert.equal(d.creditUsed, 'shared');
    assert.ok(
      Number.isNaN(d.criticEvHeldOut) && Number.isNaN(d.criticEvReplay) && Number.isNaN(d.gateEv),
      'no critic without counterfactual credit',
    );
    assert.equal(d.distinctBatch, 3);
    assert.equal(d.distinctSoFar, 3);
    assert.equal(d.innerSteps, 1);
    assert.equal(d.klStopped, false);
    assert.equal(d.update, 0);
    assert.equal(d.evaluations, 4);
    const d2 = L.observe(
      [
        [[2], [0, 0]],
        [[1], [1, 2]],
      ],
      [0, 1],
    ).diagnostics;
    assert.equal(d2.distinctBatch, 2);
    assert.equal(d2.distinctSoFar, 4);
    assert.equal(d2.update, 1);
    assert.equal(d2.evaluations, 6);
    L.dispose();
    assert.equal(tf.memory().numTensors, n0);
  });

  it('KL to the previous policy equals the hand computation from probabilities() before and after', () => {
    for (const cfg of [{ ...base, actorLr: 0.5 }, { agents, seed: 2, actorLr: 0.2 } as SingleStepConfigInput]) {
      const L = new SingleStepLearner(cfg);
      L.observe(batch, rewards);
      const before = L.probabilities();
      const d = L.observe(batch, [0, 5, 1, 2]).diagnostics;
      const expected = klByHand(before, L.probabilities());
      assert.ok(
        expected.every((k) => k > 1e-4),
        'the policy moved',
      );
      d.klPrevious.forEach((k, i) =>
        assert.ok(Math.abs(k - expected[i]) < 1e-5 + 1e-3 * expected[i], `agent ${i}: ${k} vs ${expected[i]}`),
      );
      L.dispose();
    }
  });

  it('critic explained variance: held out (predicted before training on the batch) and on the replay', () => {
    const L = new SingleStepLearner({ agents, seed: 3, credit: 'counterfactual', offPolicy: true, miniBatch: 4 });
    const rng = new Rng(9);
    const all: JointAction[] = [];
    const allR: number[] = [];
    for (let u = 0; u < 4; u++) {
      const b = L.propose(6);
      const r = b.map(() => rng.uniform(0, 1));
      const q = L.criticValues(b);
      const d = L.observe(b, r).diagnostics;
      all.push(...b);
      allR.push(...r);
      assert.ok(
        Math.abs(d.criticEvHeldOut - explainedVariance(r, q)) < 1e-9,
        `held-out EV ${d.criticEvHeldOut} vs ${explainedVariance(r, q)}`,
      );
      assert.ok(Math.abs(d.criticR2HeldOut - rSquared(r, q)) < 1e-9);
      const qAll = L.criticValues(all);
      assert.ok(Math.abs(d.criticEvReplay - explainedVariance(Float32Array.from(allR), qAll)) < 1e-6);
      assert.equal(d.creditUsed, 'counterfactual');
    }
    L.dispose();
  });

  it('diagnosticRows flattens updates into CSV-ready rows', () => {
    const L = new SingleStepLearner({ agents, seed: 4 });
    const stats: ObserveStats[] = [];
    for (let u = 0; u < 3; u++) {
      const b = L.propose(4);
      stats.push(
        L.observe(
          b,
          b.map((a) => a[0][0] / 3),
        ),
      );
    }
    const rows = diagnosticRows(stats, { method: 'test', seed: 4 });
    assert.equal(rows.length, 3);
    assert.equal(rows[2].update, 2);
    assert.equal(rows[2].method, 'test');
    assert.equal(rows[1]['entropy.a'], stats[1].diagnostics.entropy[0]);
    assert.equal(rows[1]['klTarget.b'], stats[1].diagnostics.klTarget[1]);
    assert.ok(
      Math.abs(
        (rows[0]['entropyFraction.mean'] as number) -
          (stats[0].diagnostics.entropyFraction[0] + stats[0].diagnostics.entropyFraction[1]) / 2,
      ) < 1e-12,
    );
    for (const r of rows)
      for (const v of Object.values(r)) assert.ok(['number', 'string', 'boolean'].includes(typeof v));
    assert.deepEqual(diagnosticRows(stats.map((s) => s.diagnostics)), diagnosticRows(stats));
    L.dispose();
  });

  it('the autoregressive policy reports exact entropy (enumerable groups) and a Monte-Carlo one (joint group)', () => {
    const L = new SingleStepLearner({
      agents,
      seed: 5,
      policy: 'autoregressive',
      credit: 'shared',
      offPolicy: false,
      divergenceWeight: 0,
      actorOptimizer: 'sgd',
      actorLr: 1e-9,
    });
    const d = L.observe(batch, rewards).diagnostics;
    // Initial heads are zero: uniform, so the fraction is 1 and nothing moved.
    d.entropyFraction.forEach((f) => assert.ok(Math.abs(f - 1) < 1e-5, `fraction ${f}`));
    d.klPrevious.forEach((k) => assert.ok(k >= 0 && k < 1e-6));
    L.dispose();
    const J = new SingleStepLearner({
      agents: [{ vocab: [9, 9] }, { vocab: [9] }],
      seed: 5,
      policy: 'autoregressive',
      jointAgent: true,
      credit: 'shared',
      offPolicy: false,
      divergenceWeight: 0,
      enumerateLimit: 10,
    });
    for (let u = 0; u < 3; u++) {
      const b = J.propose(8);
      const dj = J.observe(
        b,
        b.map((a) => (a[0][0] === 1 ? 1 : 0)),
      ).diagnostics;
      assert.deepEqual(dj.groups, ['joint']);
      assert.ok(
        dj.entropyFraction[0] > 0.5 && dj.entropyFraction[0] <= 1.05,
        `MC entropy fraction ${dj.entropyFraction[0]}`,
      );
      assert.ok(dj.klPrevious[0] >= 0 && Number.isFinite(dj.klPrevious[0]));
    }
    J.dispose();
  });
});

describe('marl/singlestep: per-batch KL limit', () => {
  const batch: JointAction[] = [
    [[0], [0, 1]],
    [[1], [1, 2]],
    [[2], [0, 0]],
    [[3], [1, 0]],
  ];
  const rewards = [1, 0, 0.5, 0.2];
  const meanKl = (d: { klPrevious: number[] }) => d.klPrevious.reduce((a, b) => a + b, 0) / d.klPrevious.length;

  it('on-policy: stops early at a large learning rate and not at a tiny one', () => {
    const cfg: SingleStepConfigInput = {
      agents,
      seed: 1,
      credit: 'shared',
      baseline: 'batchMean',
      offPolicy: false,
      divergenceWeight: 0,
      innerSteps: 40,
      klLimit: 0.01,
    };
    const big = new SingleStepLearner({ ...cfg, actorLr: 1 });
    const db = big.observe(batch, rewards).diagnostics;
    assert.ok(db.klStopped && db.innerSteps < 40, `large lr: ${db.innerSteps} steps`);
    assert.ok(meanKl(db) > 0.01, 'the step that crossed the limit is kept');
    const tiny = new SingleStepLearner({ ...cfg, actorLr: 1e-4 });
    const dt = tiny.observe(batch, rewards).diagnostics;
    assert.equal(dt.innerSteps, 40);
    assert.equal(dt.klStopped, false);
    assert.ok(meanKl(dt) < 0.01);
    big.dispose();
    tiny.dispose();
  });

  it('off-policy (replay): stops before updatesPerObserve at a large learning rate; without a limit all steps run', () => {
    const cfg: SingleStepConfigInput = { agents, seed: 2, miniBatch: 4, updatesPerObserve: 16 };
    const limited = new SingleStepLearner({ ...cfg, actorLr: 0.5, klLimit: 0.02 });
    const d = limited.observe(batch, rewards).diagnostics;
    assert.ok(d.klStopped && d.innerSteps < 16, `${d.innerSteps} steps`);
    const free = new SingleStepLearner({ ...cfg, actorLr: 0.5 });
    assert.equal(free.observe(batch, rewards).diagnostics.innerSteps, 16);
    limited.dispose();
    free.dispose();
  });
});

describe('marl/singlestep: credit gate', () => {
  const gAgents = [{ vocab: [3, 3] }, { vocab: [3, 3] }];
  const util = [
    [0.1, 0.9, 0.3],
    [0.5, 0.0, 0.7],
    [0.2, 0.8, 0.1],
    [0.6, 0.4, 0.0],
  ];
  const additive = (a: JointAction) => util[0][a[0][0]] + util[1][a[0][1]] + util[2][a[1][0]] + util[3][a[1][1]];

  it("switches to the counterfactual advantage when the held-out EV passes the threshold and back when it falls ('last')", () => {
    const L = new SingleStepLearner({
      agents: gAgents,
      seed: 1,
      critic: 'ridge',
      ridge: { lambda: 0.01 },
      creditGate: { minHeldOutEv: 0.5, source: 'last' },
      offPolicy: false,
      actorLr: 0.01,
    });
    const noise = new Rng(3);
    const used: string[] = [];
    for (let u = 0; u < 16; u++) {
      const b = L.propose(16);
      const r = u < 8 ? b.map(additive) : b.map(() => noise.uniform(0, 2));
      const d = L.observe(b, r).diagnostics;
      const open = Number.isFinite(d.gateEv) && d.gateEv >= 0.5;
      assert.equal(d.creditUsed, open ? 'counterfactual' : 'shared', `update ${u}: gate EV ${d.gateEv}`);
      assert.equal(d.gateEv, d.criticEvHeldOut, "'last' gates on the latest batch");
      used.push(d.creditUsed);
    }
    assert.equal(used[0], 'shared', 'no fit before the first batch');
    assert.ok(
      used.slice(2, 8).every((x) => x === 'counterfactual'),
      `additive phase: ${used.slice(0, 8)}`,
    );
    assert.ok(used.slice(9).filter((x) => x === 'shared').length >= 6, `noise phase: ${used.slice(8)}`);
    L.dispose();
  });

  it("'ema' gates on the ratio of the EMAs of the held-out sums of squares (hand computation)", () => {
    const decay = 0.5;
    const L = new SingleStepLearner({
      agents: gAgents,
      seed: 2,
      creditGate: { minHeldOutEv: 0.2, emaDecay: decay },
      offPolicy: false,
      criticSteps: 8,
      actorLr: 0.01,
    });
    let err = 0;
    let y = 0;
    for (let u = 0; u < 8; u++) {
      const b = L.propose(8);
      const r = b.map(additive);
      const q = L.criticValues(b);
      const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, x) => s + x, 0) / a.length;
      const e = r.map((x, i) => x - q[i]);
      const me = mean(e);
      const my = mean(r);
      err = decay * err + e.reduce((s, x) => s + (x - me) ** 2, 0);
      y = decay * y + r.reduce((s, x) => s + (x - my) ** 2, 0);
      const d = L.observe(b, r).diagnostics;
      assert.ok(Math.abs(d.gateEv - (1 - err / y)) < 1e-6, `update ${u}: ${d.gateEv} vs ${1 - err / y}`);
      assert.equal(d.creditUsed, d.gateEv >= 0.2 ? 'counterfactual' : 'shared');
    }
    L.dispose();
  });

  it('with the gate closed the update is the shared-reward update (same raw advantages)', () => {
    const cfg: SingleStepConfigInput = { agents: gAgents, seed: 3, offPolicy: false, baseline: 'batchMean' };
    const gated = new SingleStepLearner({ ...cfg, creditGate: { minHeldOutEv: 0.99 } });
    const b = gated.propose(8);
    const r = b.map(additive);
    const d = gated.observe(b, r).diagnostics;
    assert.equal(d.creditUsed, 'shared');
    const m = r.reduce((s, x) => s + x, 0) / r.length;
    assert.ok(Math.abs(d.advantageMeanAbs - r.reduce((s, x) => s + Math.abs(x - m), 0) / r.length) < 1e-6);
    gated.dispose();
  });
});

describe('marl/singlestep: ridge critic', () => {
  const vocab = [3, 2, 4, 2];
  const agentOf = [0, 0, 1, 2];
  const T = vocab.length;
  function allActions(): Int32Array {
    const n = vocab.reduce((a, b) => a * b, 1);
    const out = new Int32Array(n * T);
    for (let i = 0; i < n; i++) {
      let r = i;
      for (let t = T - 1; t >= 0; t--) {
        out[i * T + t] = r % vocab[t];
        r = Math.floor(r / vocab[t]);
      }
    }
    return out;
  }

  it('closed-form fit equals the primal ridge solution, and exact expectations match enumeration', () => {
    const rng = new Rng(4);
    const n = 30;
    const x = new Int32Array(n * T);
    for (let k = 0; k < x.length; k++) x[k] = rng.int(vocab[k % T]);
    const y = Array.from({ length: n }, () => rng.uniform(0, 1));
    for (const pairs of ['cross-agent', 'all'] as const) {
      const c = new RidgeCritic(vocab, agentOf, { lambda: 0.3, pairs });
      c.fit(x, y, n);
      // Primal check: the gradient of sum (y - b - w.phi)^2 + lambda |w|^2 vanishes at w: Phi^T r = lambda w.
      const pred = c.predict(x, n);
      const g1 = new Float64Array(c.w1.length);
      const g2 = new Float64Array(c.w2.length);
      for (let j = 0; j < n; j++) {
        const res = y[j] - pred[j];
        for (let t = 0; t < T; t++) g1[c.tokenOffset[t] + x[j * T + t]] += res;
        c.pairs.forEach(([t, s], p) => (g2[c.pairOffset[p] + x[j * T + t] * vocab[s] + x[j * T + s]] += res));
      }
      g1.forEach((g, k) => assert.ok(Math.abs(g - 0.3 * c.w1[k]) < 1e-9, `${pairs}: one-hot ${k}`));
      g2.forEach((g, k) => assert.ok(Math.abs(g - 0.3 * c.w2[k]) < 1e-9, `${pairs}: pair ${k}`));
      assert.equal(c.pairs.length, pairs === 'all' ? 6 : 5);
      // E over group {0, 1} (agent 0's two tokens) under independent token distributions.
      const probs = [
        [0.2, 0.5, 0.3],
        [0.6, 0.4],
        [0.1, 0.2, 0.3, 0.4],
        [0.5, 0.5],
      ];
      const members = [0, 1];
      const ex = c.expectation(x, 3, members, (t) => probs[t]);
      const every = allActions();
      for (let b = 0; b < 3; b++) {
        let e = 0;
        for (let v0 = 0; v0 < 3; v0++) {
          for (let v1 = 0; v1 < 2; v1++) {
            const row = x.slice(b * T, (b + 1) * T);
            row[0] = v0;
            row[1] = v1;
            e += probs[0][v0] * probs[1][v1] * c.predict(row, 1)[0];
          }
        }
        assert.ok(Math.abs(ex[b] - e) < 1e-9, `${pairs}: row ${b}`);
      }
      // Expectation over everything equals the mean over the enumerated joint space weighted by the policy.
      const full = c.expectation(x, 1, [0, 1, 2, 3], (t) => probs[t])[0];
      const q = c.predict(every, every.length / T);
      let ef = 0;
      for (let i = 0; i < q.length; i++) {
        let w = 1;
        for (let t = 0; t < T; t++) w *= probs[t][every[i * T + t]];
        ef += w * q[i];
      }
      assert.ok(Math.abs(full - ef) < 1e-9);
      // actorTerms: sum_b E_{a_g ~ p} Q(a_g, a_-g^b) = intercept * n + sum_t p_t . C_t + n * sum_within p_t^T W p_s
      const groups = [[0, 1], [2], [3]];
      const terms = c.actorTerms(x, 5, groups);
      groups.forEach((g) => {
        const direct = Array.from(c.expectation(x, 5, g, (t) => probs[t])).reduce((s, v) => s + v, 0);
        let viaTerms = 0;
        // Only group g's tokens vary: the linear terms of the other groups' tokens at their row values.
        for (let b = 0; b < 5; b++) {
          const row = x.slice(b * T, (b + 1) * T);
          let qb = c.intercept;
          for (let t = 0; t < T; t++) if (!g.includes(t)) qb += c.w1[c.tokenOffset[t] + row[t]];
          c.pairs.forEach(([t, s], p) => {
            if (!g.includes(t) && !g.includes(s)) qb += c.w2[c.pairOffset[p] + row[t] * vocab[s] + row[s]];
          });
          viaTerms += qb;
        }
        for (const t of g) viaTerms += terms.linear[t].reduce((s, cv, v) => s + probs[t][v] * cv, 0);
        for (const w of terms.within) {
          if (!g.includes(w.t)) continue;
          for (let a = 0; a < vocab[w.t]; a++)
            for (let bb = 0; bb < vocab[w.s]; bb++)
              viaTerms += 5 * probs[w.t][a] * probs[w.s][bb] * w.weights[a * vocab[w.s] + bb];
        }
        assert.ok(Math.abs(direct - viaTerms) < 1e-9, `${pairs}: group ${g}: ${direct} vs ${viaTerms}`);
      });
    }
  });

  it('the learner with the ridge critic gives exact counterfactual advantages on a large agent', () => {
    // Agent 0 has 10^6 actions (never enumerable): the ridge baseline is still exact.
    const big = [{ vocab: [10, 10, 10, 10, 10, 10] }, { vocab: [3] }];
    const L = new SingleStepLearner({ agents: big, seed: 6, critic: 'ridge', offPolicy: false });
    const b = L.propose(32);
    L.observe(
      b,
      b.map((a) => a[0].reduce((s, v) => s + v, 0) / 54 + (a[1][0] === 2 && a[0][0] === 1 ? 0.5 : 0)),
    );
    const adv = L.counterfactualAdvantages(b.slice(0, 2));
    const p = L.probabilities();
    // Agent 1 (3 actions): A = Q(a) - sum_v pi(v) Q(a with agent 1 = v).
    for (let r = 0; r < 2; r++) {
      const alts = [0, 1, 2].map((v) => [b[r][0], [v]] as JointAction);
      const q = L.criticValues([b[r], ...alts]);
      const base = [0, 1, 2].reduce((s, v) => s + p[1][0][v] * q[1 + v], 0);
      assert.ok(Math.abs(adv[r * 2 + 1] - (q[0] - base)) < 1e-5);
    }
    L.dispose();
  });
});

describe('marl/singlestep: options of issue 12 leave the defaults alone', () => {
  it('the parsed default config has none of the new keys (old checkpoints and hashes unchanged)', () => {
    const keys = Object.keys(parseSingleStepConfig({ agents }));
    for (const k of [
      'critic',
      'ridge',
      'innerSteps',
      'klLimit',
      'creditGate',
      'offPolicyActor',
      'entropyBonus',
      'targetUpdate',
    ])
      assert.ok(!keys.includes(k), k);
  });

  it('validates the new options naming the field', () => {
    assert.throws(
      () => new SingleStepLearner({ agents, credit: 'shared', creditGate: { minHeldOutEv: 0.2 } }),
      /creditGate: gates the counterfactual advantage/,
    );
    assert.throws(
      () => new SingleStepLearner({ agents, offPolicyActor: 'expected', policy: 'autoregressive' }),
      /offPolicyActor: 'expected' needs policy 'factorised'/,
    );
    assert.throws(
      () => new SingleStepLearner({ agents, offPolicyActor: 'expected', credit: 'shared' }),
      /offPolicyActor: 'expected' needs a critic/,
    );
    assert.throws(() => new SingleStepLearner({ agents, klLimit: 0 }), /klLimit/);
    assert.throws(() => new SingleStepLearner({ agents, ridge: { lambda: -1 } }), /ridge\.lambda/);
    assert.throws(
      () => new SingleStepLearner({ agents, targetUpdate: 'sometimes' } as unknown as SingleStepConfigInput),
      /targetUpdate/,
    );
  });

  it("'per-batch' target update moves rho once per observe: rho = (1 - tau) rho + tau pi_after", () => {
    const L = new SingleStepLearner({ agents, seed: 7, targetUpdate: 'per-batch', tau: 0.25, miniBatch: 4 });
    const b = L.propose(6);
    const rho0 = L.getState().rho;
    L.observe(
      b,
      b.map((a) => a[0][0]),
    );
    const pi = L.probabilities();
    const rho1 = L.getState().rho;
    [pi[0][0], pi[1][0], pi[1][1]].forEach((p, t) =>
      p.forEach((v, k) => assert.ok(Math.abs(rho1[t * VMAX + k] - (0.75 * rho0[t * VMAX + k] + 0.25 * v)) < 1e-6)),
    );
    L.dispose();
  });
});

describe('marl/singlestep: expected-gradient actor and checkpoints', () => {
  const cfgs: Record<string, SingleStepConfigInput> = {
    'ridge critic, per-batch tau, KL limit, gate, entropy bonus': {
      agents,
      seed: 8,
      critic: 'ridge',
      offPolicyActor: 'expected',
      targetUpdate: 'per-batch',
      tau: 0.2,
      klLimit: 0.01,
      innerSteps: 8,
      creditGate: { minHeldOutEv: 0 },
      entropyBonus: 0.01,
      miniBatch: 8,
    },
    'MLP critic (own tokens resampled), on-policy rows': {
      agents,
      seed: 9,
      offPolicyActor: 'expected',
      offPolicy: false,
      innerSteps: 3,
    },
  };
  for (const [name, cfg] of Object.entries(cfgs)) {
    it(`${name}: learns, leaks nothing, and resumes bit for bit from a JSON checkpoint`, () => {
      const n0 = tf.memory().numTensors;
      const reward = (a: JointAction) => (a[0][0] === 2 ? 0.6 : 0) + (a[1][1] === 1 ? 0.4 : 0);
      const A = new SingleStepLearner(cfg);
      for (let u = 0; u < 6; u++) {
        const b = A.propose(8);
        A.observe(b, b.map(reward));
      }
      const saved = JSON.parse(JSON.stringify(A.getState()));
      const B = new SingleStepLearner(cfg);
      B.setState(saved);
      for (let u = 0; u < 4; u++) {
        const ba = A.propose(8);
        const bb = B.propose(8);
        assert.deepEqual(ba, bb);
        const da = A.observe(ba, ba.map(reward)).diagnostics;
        const db = B.observe(bb, bb.map(reward)).diagnostics;
        assert.deepEqual(JSON.stringify(da), JSON.stringify(db));
      }
      assert.deepEqual(A.getState().logits, B.getState().logits);
      for (let u = 0; u < 20; u++) {
        const b = A.propose(8);
        A.observe(b, b.map(reward));
      }
      const p = A.probabilities();
      assert.ok(p[0][0][2] > 0.5 && p[1][1][1] > 0.5, `learned the rewarded tokens: ${p[0][0][2]}, ${p[1][1][1]}`);
      A.dispose();
      B.dispose();
      assert.equal(tf.memory().numTensors, n0);
    });
  }
});
