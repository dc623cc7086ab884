import { strict as assert } from 'assert';
import { Rng, deriveSeed } from '../../src/random';
import {
  defineJobKind,
  getJobKind,
  hashJson,
  makeContext,
  normaliseJson,
  parseJson,
  runHash,
  stableStringify,
  toJsonValue,
  validateJobs,
} from '../../src/runtime';
import { flakyKind, tinyMlpKind } from './fixtures/jobs';

describe('runtime/json', () => {
  it('stableStringify sorts keys at every level so key order does not change the hash', () => {
    const a = { b: 1, a: { d: [1, { z: 1, y: 2 }], c: 'x' } };
    const b = { a: { c: 'x', d: [1, { y: 2, z: 1 }] }, b: 1 };
    assert.equal(stableStringify(a), '{"a":{"c":"x","d":[1,{"y":2,"z":1}]},"b":1}');
    assert.equal(hashJson(a), hashJson(b));
    assert.match(hashJson(a), /^[0-9a-f]{64}$/);
    assert.notEqual(hashJson({ a: 1 }), hashJson({ a: 1.0000001 }));
    assert.notEqual(hashJson([1, 2]), hashJson([2, 1]));
  });

  it('round-trips typed arrays, NaN and infinities exactly', () => {
    const f = new Float32Array([0.1, -2.5e-8, 3]);
    const v = normaliseJson({ w: f, loss: NaN, best: Infinity, worst: -Infinity, skip: undefined });
    assert.deepEqual(Object.keys(v as object), ['best', 'loss', 'w', 'worst']);
    const o = v as { w: number[]; loss: number; best: number; worst: number };
    assert.deepEqual(o.w, Array.from(f)); // float32 values kept bit-exactly as doubles
    assert.ok(Number.isNaN(o.loss));
    assert.equal(o.best, Infinity);
    assert.equal(o.worst, -Infinity);
    assert.deepEqual(parseJson(stableStringify({ a: '$num' })), { a: '$num' });
  });

  it('names the path of a value that is not JSON-serialisable', () => {
    assert.throws(() => toJsonValue({ a: [1, { f: () => 1 }] }, 'config'), /config\.a\[1\]\.f: a function/);
    assert.throws(() => toJsonValue({ m: new Map() }, 'result'), /result\.m: a Map instance/);
    assert.throws(() => toJsonValue({ n: 1n }, 'config'), /config\.n: a bigint/);
    const cyc: Record<string, unknown> = {};
    cyc.self = cyc;
    assert.throws(() => toJsonValue(cyc, 'config'), /config\.self: circular/);
  });
});

describe('runtime/jobs', () => {
  it('defineJobKind validates fields and refuses conflicting redefinition', () => {
    assert.throws(
      () => defineJobKind({ name: 'x', module: 'relative.ts', export: 'f', version: '1' }),
      /absolute path/,
    );
    assert.throws(() => defineJobKind({ name: 'x', module: __filename, export: '', version: '1' }), /field 'export'/);
    // re-registration from the same module replaces the definition (modules load again in workers and notebooks)
    defineJobKind({ ...tinyMlpKind.spec, version: 'tiny-mlp@2' });
    assert.equal(getJobKind('test-tiny-mlp').version, 'tiny-mlp@2');
    defineJobKind({ ...tinyMlpKind.spec });
    assert.equal(getJobKind('test-tiny-mlp').version, 'tiny-mlp@1');
    assert.throws(
      () => defineJobKind({ ...tinyMlpKind.spec, module: '/elsewhere/other.ts' }),
      /kind 'test-tiny-mlp' is already registered by .*fixtures\/jobs\.ts#trainTinyMlp \(tiny-mlp@1\); cannot register it again from \/elsewhere\/other\.ts/,
    );
    assert.throws(() => getJobKind('nope'), /unknown job kind 'nope'.*test-tiny-mlp/);
  });

  it('validateJobs names the job and field that is wrong', () => {
    const ok = tinyMlpKind.job('a', { lr: 1 }, 0);
    assert.doesNotThrow(() => validateJobs([ok]));
    assert.throws(
      () => validateJobs([ok, tinyMlpKind.job('a', {}, 1)]),
      /jobs\[1\]: duplicate key 'a' \(also jobs\[0\]\)/,
    );
    assert.throws(() => validateJobs([{ ...ok, key: '' }]), /jobs\[0\]\.key/);
    assert.throws(() => validateJobs([{ ...ok, seed: 1.5 }]), /jobs\[0\] 'a'\.seed: must be an integer/);
    assert.throws(() => validateJobs([{ ...ok, kind: 'missing' }]), /jobs\[0\] 'a': unknown job kind 'missing'/);
    assert.throws(() => validateJobs([{ ...ok, config: { f: Symbol('s') } }]), /jobs\[0\] 'a'\.config\.f: a symbol/);
  });

  it('runHash depends on key, seed, config and kind, not on config key order', () => {
    const base = runHash(tinyMlpKind.job('a', { lr: 0.1, steps: 3 }, 0));
    assert.equal(runHash(tinyMlpKind.job('a', { steps: 3, lr: 0.1 }, 0)), base);
    const variants = [
      tinyMlpKind.job('b', { lr: 0.1, steps: 3 }, 0),
      tinyMlpKind.job('a', { lr: 0.1, steps: 3 }, 1),
      tinyMlpKind.job('a', { lr: 0.2, steps: 3 }, 0),
      flakyKind.job('a', { lr: 0.1, steps: 3 }, 0),
    ].map(runHash);
    assert.equal(new Set([base, ...variants]).size, 5);
  });

  it('makeContext seeds each job from its seed and key only', () => {
    const job = tinyMlpKind.job('k1', {}, 42);
    const c0 = makeContext(job, 0);
    const c1 = makeContext(job, 3);
    assert.equal(c0.rng.next(), c1.rng.next());
    assert.equal(c0.jobSeed, deriveSeed(42, 'k1'));
    assert.equal(makeContext(job, 0).rng.next(), new Rng(42).fork('k1').next());
    assert.notEqual(makeContext(tinyMlpKind.job('k2', {}, 42), 0).rng.next(), new Rng(42).fork('k1').next());
  });
});
