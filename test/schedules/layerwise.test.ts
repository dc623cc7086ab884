import { strict as assert } from 'assert';
import { HypergradientRule, LarsRule, larsLearningRates, larsTrustRatio } from '../../src/schedules';
import { Rng } from '../../src/random';

/** Two-"layer" quadratic: f = sum_i 0.5 * a_i * ||w_i||^2, gradient a_i * w_i. */
function quadratic(
  curv: number[],
  dim: number,
  seed: number,
): { w: number[][]; grad: () => number[][]; loss: () => number[] } {
  const r = new Rng(seed);
  const w = curv.map(() => Array.from({ length: dim }, () => r.normal()));
  return {
    w,
    grad: () => w.map((wi, i) => wi.map((v) => curv[i] * v)),
    loss: () => w.map((wi, i) => 0.5 * curv[i] * wi.reduce((s, v) => s + v * v, 0)),
  };
}
const norm = (v: number[]): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

describe('schedules/layerwise rules', () => {
  it('LARS trust ratio by hand, with zero-norm guards, weight decay and clipping', () => {
    // eta * ||w|| / (||g|| + wd ||w|| + eps)
    assert.ok(Math.abs(larsTrustRatio(2, 0.5, { eta: 0.01, eps: 0 }) - 0.04) < 1e-15);
    assert.ok(Math.abs(larsTrustRatio(2, 0.5, { eta: 0.01, weightDecay: 0.25, eps: 0 }) - 0.02) < 1e-15); // 0.02 / (0.5 + 0.5)
    assert.ok(Math.abs(larsTrustRatio(3, 1, { eta: 1, eps: 2 }) - 1) < 1e-15); // 3 / (1 + 2)
    assert.equal(larsTrustRatio(0, 0.5), 1);
    assert.equal(larsTrustRatio(2, 0), 1);
    assert.equal(larsTrustRatio(10, 0.1, { eta: 1, clip: true }), 1);
    const lrs = larsLearningRates(
      [
        { weightNorm: 2, gradNorm: 0.5 },
        { weightNorm: 1, gradNorm: 4 },
        { weightNorm: 0, gradNorm: 1 },
      ],
      [0.1, 0.1, 0.3],
      { eta: 0.01, eps: 0 },
    );
    [0.004, 0.00025, 0.3].forEach((e, i) => assert.ok(Math.abs(lrs[i] - e) < 1e-15, `layer ${i}: ${lrs[i]}`));
    assert.throws(
      () => larsLearningRates([{ weightNorm: 1 }], 0.1),
      /layer 0 gradNorm must be a finite number >= 0, got undefined/,
    );
    assert.throws(() => larsLearningRates([{ weightNorm: 1, gradNorm: 1 }], [0.1, 0.2]), /2 base LRs for 1 layers/);
    assert.throws(() => larsTrustRatio(1, 1, { eta: -1 }), /LARS options: eta/);
  });

  it('LARS learns: every layer shrinks by the same factor (1 - lr*eta) per step whatever its curvature', () => {
    const q = quadratic([1, 1000], 8, 1);
    const lars = new LarsRule([1, 1], { eta: 0.1, eps: 0 });
    const l0 = q.loss();
    for (let t = 0; t < 20; t++) {
      const g = q.grad();
      const lrs = lars.update(q.w.map((wi, i) => ({ weightNorm: norm(wi), gradNorm: norm(g[i]) })));
      q.w.forEach((wi, i) => wi.forEach((_, k) => (wi[k] -= lrs[i] * g[i][k])));
    }
    const ratio = q.loss().map((l, i) => l / l0[i]);
    const expected = Math.pow(0.9, 40); // loss ∝ ||w||^2, ||w|| shrinks by 0.9 per step
    ratio.forEach((r, i) => assert.ok(Math.abs(r - expected) < 1e-9, `layer ${i}: ${r} vs ${expected}`));
    // plain SGD with one global LR (1e-3, stable on the stiff layer) barely moves the flat layer
    const p = quadratic([1, 1000], 8, 1);
    for (let t = 0; t < 20; t++) {
      const g = p.grad();
      p.w.forEach((wi, i) => wi.forEach((_, k) => (wi[k] -= 1e-3 * g[i][k])));
    }
    assert.ok(p.loss()[0] / l0[0] > 0.9, `SGD flat layer ratio ${p.loss()[0] / l0[0]}`);
    assert.ok(ratio[0] < 0.02);
  });

  it('hypergradient update by hand: alpha_t = alpha_{t-1} + beta * g_t . g_{t-1}, per layer, clamped at minLr', () => {
    const hd = new HypergradientRule({ initialLr: 0.01, layers: 2, beta: 0.001 });
    assert.deepEqual(hd.update([{ grad: [1, 0] }, { grad: [2] }]), [0.01, 0.01]);
    const a = hd.update([{ grad: [3, 1] }, { grad: [-1] }]);
    assert.ok(Math.abs(a[0] - 0.013) < 1e-15 && Math.abs(a[1] - 0.008) < 1e-15, `${a}`);
    const b = hd.update([{ grad: [-1, 2] }, { grad: [-20] }]); // dots: -3+2 = -1, 20
    assert.ok(Math.abs(b[0] - 0.012) < 1e-15 && Math.abs(b[1] - 0.028) < 1e-15, `${b}`);
    const c = hd.update([{ grad: [-100, -100] }, { grad: [0] }]); // layer 0: dot with [-1, 2] = 100 - 200 = -100, alpha 0.012 - 0.1 < 0 -> clamped at 0
    assert.equal(c[0], 0);
    assert.ok(Math.abs(c[1] - 0.028) < 1e-15);
    // the trainer may supply the dot product itself; the first call has no previous gradient
    const d = new HypergradientRule({ initialLr: [0.1], beta: 0.5, maxLr: 0.2 });
    assert.deepEqual(d.update([{ gradDotPrev: 123 }]), [0.1]);
    assert.ok(Math.abs(d.update([{ gradDotPrev: 0.1 }])[0] - 0.15) < 1e-15);
    assert.deepEqual(d.update([{ gradDotPrev: 1 }]), [0.2]);
    assert.throws(
      () => hd.update([{ grad: [1] }, { grad: [1] }]),
      /layer 0 gradient has 1 elements, previous step had 2/,
    );
    assert.throws(() => hd.update([{}, { grad: [1] }]), /layer 0 needs 'grad' or 'gradDotPrev'/);
    assert.throws(
      () => new HypergradientRule({ initialLr: 0.1, beta: 0.1 }),
      /layers: required when initialLr is a single number/,
    );
    assert.throws(() => new HypergradientRule({ initialLr: [0.1], beta: 0 }), /HypergradientRule config: beta/);
  });

  it('hypergradient descent learns: from a tiny LR it adapts every layer LR and beats the fixed LR 20-fold', () => {
    const curv = [1, 20];
    const steps = 150;
    const runWith = (lrFor: (g: number[][]) => number[], seed: number): number => {
      const q = quadratic(curv, 10, seed);
      for (let t = 0; t < steps; t++) {
        const g = q.grad();
        const lrs = lrFor(g);
        q.w.forEach((wi, i) => wi.forEach((_, k) => (wi[k] -= lrs[i] * g[i][k])));
      }
      return q.loss().reduce((a, b) => a + b, 0);
    };
    const hd = new HypergradientRule({ initialLr: [1e-3, 1e-3], beta: 1e-5 });
    const lossHd = runWith((g) => hd.update(g.map((gi) => ({ grad: gi }))), 5);
    const lossFixed = runWith(() => [1e-3, 1e-3], 5);
    assert.ok(lossHd < 0.05 * lossFixed, `HD loss ${lossHd} vs fixed ${lossFixed}`);
    const [a0, a1] = hd.lrs;
    // both layers raised their LR well above the start, to different values; the stiff layer settles
    // near its optimal 1/curvature = 0.05, below the stability bound 2/curvature
    assert.ok(a0 > 10 * 1e-3 && a1 > 10 * 1e-3, `alpha ${hd.lrs}`);
    assert.ok(Math.abs(a0 - a1) > 0.01, `alpha ${hd.lrs}`);
    assert.ok(a1 > 0.5 / curv[1] && a1 < 2 / curv[1], `alpha ${hd.lrs}`);
  });

  it('stateDict round-trips (JSON) and resumes identically', () => {
    const mk = (): HypergradientRule => new HypergradientRule({ initialLr: [0.01, 0.02], beta: 0.01 });
    const a = mk();
    a.update([{ grad: [1, 2] }, { grad: [3] }]);
    a.update([{ grad: [0.5, 1] }, { grad: [2] }]);
    const b = mk();
    b.loadStateDict(JSON.parse(JSON.stringify(a.stateDict())));
    const next = [{ grad: [0.3, 0.1] }, { grad: [1] }];
    assert.deepEqual(b.update(next), a.update(next));
    const l = new LarsRule([0.1]);
    l.update([{ weightNorm: 1, gradNorm: 2 }]);
    const l2 = new LarsRule([0.1]);
    l2.loadStateDict(JSON.parse(JSON.stringify(l.stateDict())));
    assert.deepEqual(l2.lrs, l.lrs);
    assert.throws(
      () => l2.loadStateDict({ kind: 'LarsRule', lrs: [1, 2] }),
      /expected \{ kind: 'LarsRule', lrs: \[1 numbers\] \}/,
    );
  });
});
