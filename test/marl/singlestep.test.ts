import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import { Rng } from '../../src/random';
import { SingleStepLearner, tokenCreditRewards } from '../../src/marl/singlestep';
import type { JointAction, SingleStepConfigInput } from '../../src/marl/singlestep';
import { factoredTokenGame } from '../../src/marl/envs/games';

const agents = [
  { name: 'a', vocab: [3, 2] },
  { name: 'b', vocab: [4] },
];

function softmaxRows(logits: number[], vocab: number[], vmax: number): number[][] {
  return vocab.map((v, t) => {
    const row = logits.slice(t * vmax, t * vmax + v);
    const m = Math.max(...row);
    const e = row.map((x) => Math.exp(x - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / s);
  });
}

describe('marl/singlestep: SingleStepLearner basics', () => {
  it('validates its config with errors naming the field', () => {
    assert.throws(() => new SingleStepLearner({ agents: [] }), /agents: at least one agent/);
    assert.throws(() => new SingleStepLearner({ agents: [{ vocab: [0] }] }), /agents\.0\.vocab\.0/);
    assert.throws(() => new SingleStepLearner({ agents, tau: 2 } as SingleStepConfigInput), /tau/);
    assert.throws(
      () => new SingleStepLearner({ agents, jointAgent: true, credit: 'perAgent' }),
      /credit: 'perAgent' credit needs separate agents/,
    );
    assert.throws(
      () => new SingleStepLearner({ agents, bogus: 1 } as unknown as SingleStepConfigInput),
      /Unrecognized key/,
    );
  });

  it('proposes valid token sequences, deterministically per seed, and rejects bad observations', () => {
    const a = new SingleStepLearner({ agents, seed: 5 });
    const b = new SingleStepLearner({ agents, seed: 5 });
    const c = new SingleStepLearner({ agents, seed: 6 });
    const pa = a.propose(20);
    assert.deepEqual(pa, b.propose(20));
    assert.notDeepEqual(pa, c.propose(20));
    for (const j of pa) {
      assert.equal(j.length, 2);
      assert.ok(j[0][0] >= 0 && j[0][0] < 3 && j[0][1] >= 0 && j[0][1] < 2 && j[1][0] >= 0 && j[1][0] < 4);
    }
    assert.throws(() => a.observe(pa, [1]), /20 actions but 1 rewards/);
    assert.throws(
      () => a.observe([[[0, 2], [0]]], [1]),
      /actions\[0\]\[0\]\[1\]: token must be an integer in \[0, 2\), got 2/,
    );
    assert.throws(() => a.observe([[[0, 1]]], [1]), /expected 2 agents' token lists/);
    assert.throws(() => a.observe([[[0, 1], [0]]], [NaN]), /rewards\[0\] is not finite/);
    const pa2 = new SingleStepLearner({ agents, credit: 'perAgent' });
    assert.throws(() => pa2.observe([[[0, 1], [0]]], [1]), /needs agentRewards/);
    [a, b, c, pa2].forEach((l) => l.dispose());
    assert.throws(() => a.propose(1), /after dispose/);
  });

  it('with w = 0 and no replay the update is exactly REINFORCE with a moving-average baseline', () => {
    const lr = 0.3;
    const L = new SingleStepLearner({
      agents,
      seed: 3,
      credit: 'shared',
      baseline: 'movingAverage',
      baselineDecay: 0.8,
      offPolicy: false,
      divergenceWeight: 0,
      tau: 0.5,
      actorOptimizer: 'sgd',
      actorLr: lr,
      normalizeAdvantages: false,
    });
    const vocab = [3, 2, 4];
    const vmax = 4;
    const group = [0, 0, 1];
    let z = new Array(3 * vmax).fill(0);
    let base: number | undefined;
    const rng = new Rng(77);
    for (let it = 0; it < 6; it++) {
      const batch = L.propose(5);
      const r = batch.map(() => rng.uniform(0, 1));
      // manual REINFORCE: grad_z_t = -(1/n) sum_b A_b (onehot(a_bt) - pi_t), A_b = r_b - baseline
      const pi = softmaxRows(z, vocab, vmax);
      const mean = r.reduce((s, x) => s + x, 0) / r.length;
      const b0 = base ?? mean;
      const grad = new Array(3 * vmax).fill(0);
      batch.forEach((j, bi) => {
        const flat = [j[0][0], j[0][1], j[1][0]];
        for (let t = 0; t < 3; t++)
          for (let v = 0; v < vocab[t]; v++)
            grad[t * vmax + v] -= ((r[bi] - b0) * ((flat[t] === v ? 1 : 0) - pi[t][v])) / batch.length;
      });
      z = z.map((x, k) => x - lr * grad[k]);
      base = base === undefined ? mean : 0.8 * base + 0.2 * mean;
      L.observe(batch, r);
      const got = L.getState().logits;
      for (let t = 0; t < 3; t++)
        for (let v = 0; v < vocab[t]; v++)
          assert.ok(
            Math.abs(got[t * vmax + v] - z[t * vmax + v]) < 1e-5,
            `iteration ${it}, logit ${t},${v}: ${got[t * vmax + v]} vs ${z[t * vmax + v]}`,
          );
      void group;
    }
    L.dispose();
  });

  it('the divergence-regularised actor gradient matches -log pi * [A - w (log pi/rho - KL)]', () => {
    const w = 0.7;
    const L = new SingleStepLearner({
      agents,
      seed: 8,
      credit: 'shared',
      offPolicy: false,
      divergenceWeight: w,
      tau: 0.3,
      actorLr: 0.2,
    });
    const rng = new Rng(1);
    for (let it = 0; it < 4; it++) {
      const b = L.propose(6);
      L.observe(
        b,
        b.map(() => rng.uniform(0, 1)),
      );
    }
    const st = L.getState();
    const vocab = [3, 2, 4];
    const vmax = 4;
    const pi = softmaxRows(st.logits, vocab, vmax);
    const rho = vocab.map((v, t) => st.rho.slice(t * vmax, t * vmax + v));
    const tokensOf = (j: JointAction) => [j[0][0], j[0][1], j[1][0]];
    const groupOf = [0, 0, 1];
    const kl = [0, 0];
    for (let t = 0; t < 3; t++)
      for (let v = 0; v < vocab[t]; v++) kl[groupOf[t]] += pi[t][v] * Math.log(pi[t][v] / rho[t][v]);
    assert.ok(kl[0] > 1e-3 && kl[1] > 1e-3, `targets lag the policies (KL ${kl})`);
    assert.ok(Math.abs(L.klToTarget() - (kl[0] + kl[1])) < 1e-5);
    const batch = L.propose(7);
    const adv = Float32Array.from({ length: 14 }, () => rng.normal());
    const got = L.actorGradient(batch, adv);
    const ref = new Array(3 * vmax).fill(0);
    batch.forEach((j, b) => {
      const tok = tokensOf(j);
      const logRatio = [0, 0];
      for (let t = 0; t < 3; t++) logRatio[groupOf[t]] += Math.log(pi[t][tok[t]] / rho[t][tok[t]]);
      for (let t = 0; t < 3; t++) {
        const g = groupOf[t];
        const coef = adv[b * 2 + g] - w * (logRatio[g] - kl[g]);
        for (let v = 0; v < vocab[t]; v++)
          ref[t * vmax + v] -= (coef * ((tok[t] === v ? 1 : 0) - pi[t][v])) / batch.length;
      }
    });
    for (let k = 0; k < ref.length; k++)
      if (k % vmax < vocab[Math.floor(k / vmax)])
        assert.ok(Math.abs(got[k] - ref[k]) < 1e-4, `logit ${k}: ${got[k]} vs ${ref[k]}`);
    // w = 0 removes the divergence term: plain REINFORCE gradient with the given advantages.
    const L0 = new SingleStepLearner({ agents, seed: 8, credit: 'shared', offPolicy: false, divergenceWeight: 0 });
    L0.setState({ ...st, config: L0.getState().config });
    const g0 = L0.actorGradient(batch, adv);
    const ref0 = new Array(3 * vmax).fill(0);
    batch.forEach((j, b) => {
      const tok = tokensOf(j);
      for (let t = 0; t < 3; t++)
        for (let v = 0; v < vocab[t]; v++)
          ref0[t * vmax + v] -= (adv[b * 2 + groupOf[t]] * ((tok[t] === v ? 1 : 0) - pi[t][v])) / batch.length;
    });
    for (let k = 0; k < ref0.length; k++)
      if (k % vmax < vocab[Math.floor(k / vmax)]) assert.ok(Math.abs(g0[k] - ref0[k]) < 1e-4);
    L.dispose();
    L0.dispose();
  });

  it('target policies follow rho <- (1 - tau) rho + tau pi', () => {
    const tau = 0.25;
    const L = new SingleStepLearner({ agents, seed: 2, credit: 'shared', offPolicy: false, tau });
    const b = L.propose(8);
    L.observe(
      b,
      b.map((_, i) => i / 8),
    );
    const st = L.getState();
    const pi = softmaxRows(st.logits, [3, 2, 4], 4);
    // rho started at the uniform initial policy; one Polyak step after one update.
    [3, 2, 4].forEach((v, t) => {
      for (let a = 0; a < v; a++) assert.ok(Math.abs(st.rho[t * 4 + a] - ((1 - tau) / v + tau * pi[t][a])) < 1e-6);
    });
    L.dispose();
  });

  it('the critic learns Q(a) of a factored game from replay', () => {
    const vocab = [[3, 3], [3]];
    const game = factoredTokenGame({ vocab, seed: 1, coupling: 0.3 });
    const L = new SingleStepLearner({
      agents: vocab.map((v) => ({ vocab: v })),
      seed: 1,
      actorLr: 1e-6,
      updatesPerObserve: 4,
      criticLr: 0.01,
    });
    for (let it = 0; it < 60; it++) {
      const b = L.propose(16);
      L.observe(
        b,
        b.map((a) => game.reward(a)),
      );
    }
    const all: JointAction[] = [];
    for (let x = 0; x < 27; x++) all.push([[x % 3, Math.floor(x / 3) % 3], [Math.floor(x / 9)]]);
    const q = L.criticValues(all);
    const r = all.map((a) => game.reward(a));
    const mean = r.reduce((s, x) => s + x, 0) / r.length;
    const ssTot = r.reduce((s, x) => s + (x - mean) ** 2, 0);
    const ssRes = r.reduce((s, x, i) => s + (x - q[i]) ** 2, 0);
    assert.ok(1 - ssRes / ssTot > 0.9, `critic R^2 ${1 - ssRes / ssTot}`);
    L.dispose();
  });

  it('does not leak tensors across updates in any mode', () => {
    const vocab = [
      [5, 5, 5],
      [5, 5, 5],
    ]; // 125 actions per agent: Monte-Carlo counterfactuals
    const game = factoredTokenGame({ vocab, seed: 2 });
    for (const cfg of [
      { credit: 'counterfactual' as const, offPolicy: true },
      { credit: 'counterfactual' as const, offPolicy: false, enumerateLimit: 200 },
      { credit: 'shared' as const, offPolicy: true, jointAgent: true },
      { credit: 'perAgent' as const, offPolicy: false, baseline: 'value' as const },
    ]) {
      const L = new SingleStepLearner({
        agents: vocab.map((v) => ({ vocab: v })),
        seed: 4,
        miniBatch: 16,
        counterfactualSamples: 4,
        ...cfg,
      });
      const step = () => {
        const b = L.propose(4);
        L.observe(
          b,
          b.map((a) => game.reward(a)),
          b.map(() => [0.1, 0.2]),
        );
      };
      step();
      const n0 = tf.memory().numTensors;
      for (let i = 0; i < 5; i++) step();
      L.getState();
      L.actorGradient(L.propose(2), new Float32Array(cfg.jointAgent ? 2 : 4));
      assert.equal(tf.memory().numTensors, n0, `leak in ${JSON.stringify(cfg)}`);
      L.dispose();
    }
  });

  it('checkpoints round-trip: a resumed learner continues identically', () => {
    const vocab = [
      [4, 4],
      [4, 4],
    ];
    const game = factoredTokenGame({ vocab, seed: 3 });
    const cfg: SingleStepConfigInput = {
      agents: vocab.map((v) => ({ vocab: v })),
      seed: 9,
      miniBatch: 16,
      enumerateLimit: 8,
      counterfactualSamples: 4,
    };
    const A = new SingleStepLearner(cfg);
    const loop = (L: SingleStepLearner, n: number) => {
      for (let i = 0; i < n; i++) {
        const b = L.propose(4);
        L.observe(
          b,
          b.map((a) => game.reward(a)),
        );
      }
    };
    loop(A, 3);
    const saved = JSON.parse(JSON.stringify(A.getState()));
    loop(A, 3);
    const B = new SingleStepLearner(cfg);
    B.setState(saved);
    loop(B, 3);
    const sa = A.getState();
    const sb = B.getState();
    assert.deepEqual(sb.logits, sa.logits);
    assert.deepEqual(sb.critic, sa.critic);
    assert.deepEqual(sb.replay, sa.replay);
    assert.deepEqual(B.propose(3), A.propose(3));
    const other = new SingleStepLearner({ ...cfg, tau: 0.5 });
    assert.throws(() => other.setState(saved), /config differs/);
    [A, B, other].forEach((l) => l.dispose());
  });
});

describe('marl/singlestep: per-agent credit for token agents and determinism', () => {
  it('tokenCreditRewards: difference rewards and exact Shapley values over token agents', () => {
    // G = 0.5 * [agent 0 right] + 0.3 * [agent 1 right] + 0.2 * [both right]
    const right = [[1, 2], [3]];
    const isRight = (a: number[][], i: number) => a[i].every((t, k) => t === right[i][k]);
    const G = (a: number[][]) => 0.5 * +isRight(a, 0) + 0.3 * +isRight(a, 1) + 0.2 * +(isRight(a, 0) && isRight(a, 1));
    const defaults = [[0, 0], [0]];
    const d = tokenCreditRewards(G, right, G(right), { method: 'difference', defaults });
    assert.deepEqual(
      Array.from(d, (x) => Math.round(x * 1000) / 1000),
      [0.7, 0.5],
    );
    const s = tokenCreditRewards(G, right, G(right), { method: 'shapley', defaults });
    assert.deepEqual(
      Array.from(s, (x) => Math.round(x * 1000) / 1000),
      [0.6, 0.4],
    );
    assert.throws(
      () => tokenCreditRewards(G, right, 1, { method: 'difference', defaults: [[0]] }),
      /defaults must list 2 agents/,
    );
  });

  it('same seed, same results (rewards, weights, critic)', () => {
    const vocab = [
      [4, 4],
      [4, 4, 4],
    ];
    const game = factoredTokenGame({ vocab, seed: 5 });
    const runOnce = () => {
      const L = new SingleStepLearner({
        agents: vocab.map((v) => ({ vocab: v })),
        seed: 12,
        enumerateLimit: 10,
        counterfactualSamples: 4,
        miniBatch: 16,
      });
      const res = L.run((a) => game.reward(a), { evaluations: 64, batchSize: 8 });
      const st = L.getState();
      L.dispose();
      return { rewards: res.rewards, logits: st.logits, critic: st.critic };
    };
    assert.deepEqual(runOnce(), runOnce());
  });
});

describe('marl/singlestep: batched counterfactual advantages', () => {
  it('match a brute-force evaluation of the critic on every alternative (exact) and converge for Monte-Carlo', () => {
    const vocab = [[3, 2], [4], [2, 2]];
    const game = factoredTokenGame({ vocab, seed: 7 });
    const L = new SingleStepLearner({
      agents: vocab.map((v) => ({ vocab: v })),
      seed: 3,
      enumerateLimit: 100,
      criticHidden: [16, 8],
      miniBatch: 16,
    });
    for (let i = 0; i < 5; i++) {
      const b = L.propose(8);
      L.observe(
        b,
        b.map((a) => game.reward(a)),
      );
    }
    const batch = L.propose(5);
    const got = L.counterfactualAdvantages(batch);
    const probs = L.probabilities();
    const q = L.criticValues(batch);
    batch.forEach((joint, b) => {
      vocab.forEach((voc, i) => {
        // all alternatives of agent i, with their probabilities under pi_i
        const alts: number[][] = [[]];
        voc.forEach((v) => {
          const next: number[][] = [];
          for (const pre of alts) for (let a = 0; a < v; a++) next.push([...pre, a]);
          alts.splice(0, alts.length, ...next);
        });
        const qa = L.criticValues(alts.map((alt) => joint.map((toks, j) => (j === i ? alt : toks))));
        let baseline = 0;
        alts.forEach((alt, k) => (baseline += alt.reduce((pr, a, t) => pr * probs[i][t][a], 1) * qa[k]));
        assert.ok(
          Math.abs(got[b * 3 + i] - (q[b] - baseline)) < 1e-4,
          `row ${b} agent ${i}: ${got[b * 3 + i]} vs ${q[b] - baseline}`,
        );
      });
    });
    // Monte-Carlo with many samples approaches the exact values.
    const mcLearner = new SingleStepLearner({
      agents: vocab.map((v) => ({ vocab: v })),
      seed: 3,
      enumerateLimit: 0,
      counterfactualSamples: 4000,
      criticHidden: [16, 8],
      miniBatch: 16,
    });
    mcLearner.setState({ ...L.getState(), config: mcLearner.getState().config });
    const mc = mcLearner.counterfactualAdvantages(batch, new Rng(1));
    const scale = Math.max(...Array.from(got, Math.abs));
    for (let k = 0; k < got.length; k++)
      assert.ok(Math.abs(mc[k] - got[k]) < 0.1 * scale + 1e-3, `entry ${k}: MC ${mc[k]} vs exact ${got[k]}`);
    L.dispose();
    mcLearner.dispose();
  });
});
