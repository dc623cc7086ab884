import { strict as assert } from 'assert';
import { Rng, deriveSeed } from '../../src/random';

describe('random/Rng', () => {
  it('is reproducible for the same seed and differs across seeds', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    const c = new Rng(8);
    const xs = Array.from({ length: 5 }, () => a.next());
    assert.deepEqual(
      xs,
      Array.from({ length: 5 }, () => b.next()),
    );
    assert.notDeepEqual(
      xs,
      Array.from({ length: 5 }, () => c.next()),
    );
  });

  it('forks streams by key, independent of call order', () => {
    const r1 = new Rng(1);
    r1.next();
    const f1 = r1.fork('data').next();
    const f2 = new Rng(1).fork('data').next();
    assert.equal(f1, f2);
    assert.notEqual(new Rng(1).fork('data').next(), new Rng(1).fork('init').next());
    assert.equal(deriveSeed(1, 'x'), deriveSeed(1, 'x'));
    assert.notEqual(deriveSeed(1, 3), deriveSeed(1, '3'));
  });

  it('samples uniform, normal and categorical with the right moments', () => {
    const r = new Rng(123);
    const n = 200000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      s += z;
      s2 += z * z;
    }
    assert.ok(Math.abs(s / n) < 0.01, `normal mean ${s / n}`);
    assert.ok(Math.abs(s2 / n - 1) < 0.02, `normal var ${s2 / n}`);
    const counts = [0, 0, 0];
    for (let i = 0; i < 60000; i++) counts[r.categorical([1, 2, 3])]++;
    assert.ok(Math.abs(counts[2] / 60000 - 0.5) < 0.01, `categorical ${counts}`);
    const u = Array.from({ length: 10000 }, () => r.int(10));
    assert.ok(u.every((v) => v >= 0 && v < 10));
    const p = r.permutation(100);
    assert.deepEqual(
      Array.from(p).sort((x, y) => x - y),
      Array.from({ length: 100 }, (_, i) => i),
    );
  });

  it('rejects bad arguments with a clear message', () => {
    assert.throws(() => new Rng(NaN), /seed must be a finite number/);
    assert.throws(() => new Rng(1).int(0), /positive integer/);
    assert.throws(() => new Rng(1).categorical([0, 0]), /not all zero/);
  });
});
