import { strict as assert } from 'assert';
import {
  aggregateIqm,
  aggregateMean,
  hierarchicalCI,
  hierarchicalMeanCI,
  meanCI,
  pairedDifferenceCI,
} from '../../src/eval';
import { Rng } from '../../src/random';

function normalMatrix(
  rng: Rng,
  runs: number,
  tasks: number,
  taskSd: number,
  runSd: number,
  mu: number,
  taskEffects?: number[],
): number[][] {
  const eff = taskEffects ?? Array.from({ length: tasks }, () => taskSd * rng.normal());
  return Array.from({ length: runs }, () => eff.map((e) => mu + e + runSd * rng.normal()));
}

describe('eval/hierarchical: two-level bootstrap', () => {
  it('point is the grand mean; one run reduces to the ordinary bootstrap over tasks', () => {
    const x = [[0.1, 0.5, 0.9, 0.3]];
    const a = hierarchicalMeanCI(x, { seed: 3, reps: 4000 });
    const b = meanCI(x[0], { seed: 3, reps: 4000 });
    assert.ok(Math.abs(a.point - 0.45) <= 1e-12, `a.point = ${a.point}`);
    assert.ok(Math.abs(a.lo - b.lo) <= 0.03, `a.lo = ${a.lo}`);
    assert.ok(Math.abs(a.hi - b.hi) <= 0.03, `a.hi = ${a.hi}`);
  });

  it('covers the true mean about 95% of the time when both tasks and runs vary', () => {
    const rng = new Rng(11);
    let covered = 0;
    const sims = 200;
    for (let s = 0; s < sims; s++) {
      const m = normalMatrix(rng, 5, 30, 1, 1, 2);
      const ci = hierarchicalMeanCI(m, { seed: s, reps: 400 });
      if (ci.lo <= 2 && 2 <= ci.hi) covered++;
    }
    // percentile bootstrap with 30 tasks: slightly under-covers; a wrong level (e.g. runs only) would give ~60%
    assert.ok(covered / sims >= 0.88 && covered / sims <= 0.99, `covered / sims = ${covered / sims}`);
  });

  it('the paired difference removes the shared task effects', () => {
    const rng = new Rng(5);
    const eff = Array.from({ length: 20 }, () => 3 * rng.normal()); // large task effects, shared
    const x = normalMatrix(rng, 4, 20, 0, 0.1, 0.5, eff);
    const y = normalMatrix(rng, 1, 20, 0, 0.1, 0.3, eff);
    const d = pairedDifferenceCI(x, y, { seed: 0 });
    assert.ok(Math.abs(d.point - 0.2) <= 0.08, `d.point = ${d.point}`);
    assert.ok(d.hi - d.lo < 0.2, `d.hi - d.lo = ${d.hi - d.lo}`); // unpaired, the task spread (sd 3) would make it ~2.5 wide
    assert.ok(d.lo > 0, `d.lo = ${d.lo}`);
    const same = pairedDifferenceCI(y, y, { seed: 0 });
    assert.equal(same.point, 0);
    assert.equal(same.lo, 0);
    assert.equal(same.hi, 0);
  });

  it('hierarchicalCI of the mean agrees with hierarchicalMeanCI; a single run still gets a task CI for the IQM', () => {
    const m = [
      [0.1, 0.5, 0.9, 0.3, 0.7],
      [0.2, 0.4, 0.8, 0.35, 0.6],
    ];
    const a = hierarchicalCI(m, aggregateMean, { seed: 4 });
    const b = hierarchicalMeanCI(m, { seed: 4 });
    assert.ok(
      Math.abs(a.point - b.point) < 1e-12 && Math.abs(a.lo - b.lo) < 0.03 && Math.abs(a.hi - b.hi) < 0.03,
      `${JSON.stringify(a)} vs ${JSON.stringify(b)}`,
    );
    const one = hierarchicalCI([m[0]], aggregateIqm, { seed: 1 });
    assert.ok(one.hi - one.lo > 0.1, `IQM CI over tasks should not collapse: ${JSON.stringify(one)}`);
  });

  it('names the problem on bad input', () => {
    assert.throws(() => pairedDifferenceCI([[1, 2]], [[1, 2, 3]]), /x has 2 tasks but y has 3/);
    assert.throws(() => hierarchicalMeanCI([[1, NaN]]), /hierarchicalMeanCI scores/);
  });
});
