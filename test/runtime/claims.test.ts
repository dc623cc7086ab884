import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { defineJobKind, ExperimentStore, InlineExecutor, JobContext, runExperiment, runHash } from '../../src/runtime';

/** Calls per job key in this process (each job must run once across both "processes"). */
const calls = new Map<string, number>();

/** An asynchronous job (it yields the event loop, so two runs in one process interleave like two processes). */
export async function slowDraw(config: { ms: number }, ctx: JobContext) {
  calls.set(ctx.key, (calls.get(ctx.key) ?? 0) + 1);
  await new Promise((r) => setTimeout(r, config.ms));
  return { key: ctx.key, draw: ctx.rng.next() };
}
const slowKind = defineJobKind({
  name: 'test-claims-slow',
  module: __filename,
  export: 'slowDraw',
  version: 'claims@1',
  fn: slowDraw,
});
const jobs = Array.from({ length: 8 }, (_, i) => slowKind.job(`job=${i}`, { ms: 30 }, i));

describe('runtime/experiment: job claiming on one SQLite file', () => {
  let dir: string;
  let a: ExperimentStore;
  let b: ExperimentStore;
  beforeEach(() => {
    calls.clear();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marl-claims-'));
    a = ExperimentStore.open(path.join(dir, 'store.sqlite'));
    b = ExperimentStore.open(path.join(dir, 'store.sqlite')); // a second connection, as a second process has
  });
  afterEach(() => {
    a.close();
    b.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('two runs of one experiment on two store handles compute every job exactly once, with equal results', async () => {
    const opts = { name: 'shared', jobs, executor: new InlineExecutor(), claimPollMs: 20 };
    const [ra, rb] = await Promise.all([runExperiment({ ...opts, store: a }), runExperiment({ ...opts, store: b })]);
    assert.deepEqual(
      jobs.map((j) => calls.get(j.key)),
      jobs.map(() => 1),
      'each job computed once in total',
    );
    assert.deepEqual(ra.results, rb.results);
    assert.equal(ra.computed + rb.computed, jobs.length);
    assert.ok(ra.cached > 0 || rb.cached > 0, 'one run used results the other computed');
    assert.equal(a.loadResults('shared').length, jobs.length);
    assert.deepEqual(a.listClaims('shared'), [], 'claims are released at the end');
  });

  it('without claiming, both runs compute every job (what claiming prevents)', async () => {
    const opts = { name: 'shared', jobs, executor: new InlineExecutor(), claim: false };
    await Promise.all([runExperiment({ ...opts, store: a }), runExperiment({ ...opts, store: b })]);
    assert.deepEqual(
      jobs.map((j) => calls.get(j.key)),
      jobs.map(() => 2),
    );
  });

  it('waits for a job held by a live claim and takes it over when the claim expires', async () => {
    const one = [jobs[0]];
    a.beginExperiment('held', [{ key: jobs[0].key, hash: runHash(jobs[0]) }]);
    // Another (remote, silent) process holds the job for 300 ms and then stops heartbeating.
    assert.deepEqual(a.claimRuns('held', [runHash(jobs[0])], 'elsewhere:1:dead', 300), [runHash(jobs[0])]);
    const expiresAt = a.listClaims('held')[0].expiresAt;
    const r = await runExperiment({
      name: 'held',
      jobs: one,
      executor: new InlineExecutor(),
      store: b,
      claimPollMs: 20,
    });
    assert.equal(r.computed, 1);
    assert.equal(calls.get(jobs[0].key), 1);
    const row = b.loadResults('held')[0];
    assert.ok(row.createdAt >= expiresAt, `taken over at ${row.createdAt}, before the claim expired at ${expiresAt}`);
  });

  it('a claim of a dead process on this machine is freed without waiting for its expiry', async () => {
    const h = runHash(jobs[1]);
    a.beginExperiment('dead', [{ key: jobs[1].key, hash: h }]);
    // pid 2^22+1 is above Linux's pid_max default and cannot exist.
    a.claimRuns('dead', [h], `${os.hostname()}:4194305:1:ffff`, 3_600_000);
    const r = await runExperiment({
      name: 'dead',
      jobs: [jobs[1]],
      executor: new InlineExecutor(),
      store: b,
      claimPollMs: 20,
    });
    assert.equal(r.computed, 1);
  });

  it('claims: a holder keeps its claim; a finished run is never claimed; release frees them', () => {
    a.beginExperiment('c', []);
    assert.deepEqual(a.claimRuns('c', ['h1', 'h2'], 'p1', 60_000), ['h1', 'h2']);
    assert.deepEqual(b.claimRuns('c', ['h1', 'h2', 'h3'], 'p2', 60_000), ['h3']);
    b.recordRun('c', {
      key: 'k3',
      hash: 'h3',
      kind: 'x',
      seed: 0,
      codeVersion: 'v',
      config: null,
      status: 'done',
      result: 1,
      attempts: 1,
      durationMs: 1,
    });
    assert.deepEqual(a.claimRuns('c', ['h3'], 'p1', 60_000), [], 'a stored success is not claimed again');
    a.releaseClaims('p1');
    assert.deepEqual(b.claimRuns('c', ['h1', 'h2'], 'p2', 60_000), ['h1', 'h2']);
  });
});
