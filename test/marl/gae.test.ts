import { strict as assert } from 'assert';
import { computeGae } from '../../src/marl';

describe('marl/computeGae', () => {
  it('matches hand-computed advantages and returns (terminated episode)', () => {
    // gamma 0.9, lambda 0.5; r = [1, 0, 2], V = [0.5, 1, 1.5], terminal (next value 0)
    // d2 = 2 - 1.5 = 0.5;            A2 = 0.5
    // d1 = 0 + 0.9*1.5 - 1 = 0.35;   A1 = 0.35 + 0.45*0.5 = 0.575
    // d0 = 1 + 0.9*1 - 0.5 = 1.4;    A0 = 1.4 + 0.45*0.575 = 1.65875
    const { advantages, returns } = computeGae([1, 0, 2], [0.5, 1, 1.5], 0, 0.9, 0.5);
    const expA = [1.65875, 0.575, 0.5];
    const expR = [2.15875, 1.575, 2.0];
    for (let i = 0; i < 3; i++) {
      assert.ok(Math.abs(advantages[i] - expA[i]) < 1e-6, `A${i} = ${advantages[i]}`);
      assert.ok(Math.abs(returns[i] - expR[i]) < 1e-6, `R${i} = ${returns[i]}`);
    }
  });

  it('bootstraps from nextValue for truncated segments', () => {
    // single step: d = 1 + 0.9*2 - 0.5 = 2.3
    const { advantages } = computeGae([1], [0.5], 2, 0.9, 0.5);
    assert.ok(Math.abs(advantages[0] - 2.3) < 1e-6);
  });

  it('lambda = 1 gives Monte-Carlo returns; lambda = 0 gives one-step TD errors', () => {
    const r = [1, 2, 3];
    const v = [0.3, -0.2, 0.7];
    const mc = computeGae(r, v, 0, 0.5, 1);
    assert.ok(Math.abs(mc.returns[0] - (1 + 0.5 * 2 + 0.25 * 3)) < 1e-6);
    const td = computeGae(r, v, 0, 0.5, 0);
    assert.ok(Math.abs(td.advantages[1] - (2 + 0.5 * 0.7 + 0.2)) < 1e-6);
  });

  it('rejects mismatched lengths and bad coefficients', () => {
    assert.throws(() => computeGae([1, 2], [1], 0, 0.9, 0.9), /values has length 1, rewards has 2/);
    assert.throws(() => computeGae([1], [1], 0, 1.5, 0.9), /gamma/);
    assert.throws(() => computeGae([1], [1], 0, 0.9, -1), /lambda/);
  });
});
