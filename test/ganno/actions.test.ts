import { strict as assert } from 'assert';
import { DEFAULT_LR_FACTORS, makeActionSet } from '../../src/ganno';

describe('ganno/actions', () => {
  it('factors9: multiplies the current LR, keep = index 4, clips to [1e-5, 1]', () => {
    const a = makeActionSet();
    assert.equal(a.size, 9);
    assert.equal(a.kind, 'multiplicative');
    assert.deepEqual(DEFAULT_LR_FACTORS, [0.5, 1 / 1.5, 0.8, 1 / 1.1, 1, 1.1, 1.25, 1.5, 2]);
    assert.equal(a.defaultAction(0.3, 0.1), 4);
    assert.equal(a.apply(0.1, 4, 0.1), 0.1);
    assert.equal(a.apply(0.1, 8, 0.1), 0.2);
    assert.equal(a.apply(0.1, 0, 0.1), 0.05);
    assert.equal(a.apply(0.1, 6, 0.1), 0.1 * 1.25);
    assert.equal(a.apply(0.8, 8, 0.1), 1);
    assert.equal(a.apply(1.5e-5, 0, 0.1), 1e-5);
    assert.throws(() => a.apply(0.1, 9, 0.1), /action 9 is not an integer in \[0, 9\)/);
  });

  it('factors3 and custom factors; a set without exactly one factor 1 is rejected', () => {
    const a = makeActionSet('factors3', [1e-4, 0.5]);
    assert.equal(a.size, 3);
    assert.equal(a.defaultAction(0.1, 0.1), 1);
    assert.equal(a.apply(0.45, 2, 0.1), 0.5);
    const c = makeActionSet({ kind: 'factors', factors: [0.1, 1, 10] });
    assert.equal(c.apply(0.01, 2, 1), 0.1);
    assert.throws(() => makeActionSet({ kind: 'factors', factors: [0.5, 2] }), /exactly one factor 1/);
    assert.throws(() => makeActionSet('factors9', [1, 0.1]), /lrClip must be \[min, max\] with min < max/);
  });

  it('levels9: absolute LRs on a log grid of one decade each side of the reference; keep = nearest level', () => {
    const a = makeActionSet('levels9');
    assert.equal(a.kind, 'absolute');
    const ref = 0.01;
    const lv = Array.from({ length: 9 }, (_, k) => a.apply(0.5, k, ref));
    const expected = [-1, -0.75, -0.5, -0.25, 0, 0.25, 0.5, 0.75, 1].map((e) => ref * Math.pow(10, e));
    lv.forEach((x, k) => assert.ok(Math.abs(x - expected[k]) < 1e-15, `${x} vs ${expected[k]}`));
    assert.equal(a.defaultAction(ref, ref), 4);
    assert.equal(a.defaultAction(lv[7], ref), 7);
    assert.equal(a.defaultAction(0.011, ref), 4);
    assert.equal(a.defaultAction(1, ref), 8);
    // clipped levels: 3 * 10^1 = 30 -> 1, and the nearest level to 1 is the first one that clips
    assert.equal(a.apply(0.1, 8, 3), 1);
    assert.throws(() => makeActionSet({ kind: 'levels', count: 4 }), /levels count must be odd/);
  });
});
