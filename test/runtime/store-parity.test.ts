// One behavioural suite for both experiment stores (SQLite, PostgreSQL), plus a parity check:
// the same operations give the same rows and the same CSV on both.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  ExperimentStore,
  ExperimentStoreApi,
  InlineExecutor,
  PgExperimentStore,
  RunRow,
  runExperiment,
  runHash,
} from '../../src/runtime';
import { postgresSkipReason, testPostgres } from '../support/postgres';
import { maybeFailKind } from './fixtures/jobs';
import { spinKind } from './fixtures/queue-jobs';

const run = (key: string, hash: string, status: 'done' | 'failed', result: unknown = null) => ({
  key,
  hash,
  kind: 'k',
  seed: 1,
  codeVersion: 'v@1',
  config: { lr: 0.1, nested: { a: [1, 2] } },
  status,
  result,
  error: status === 'failed' ? 'boom' : undefined,
  attempts: 1,
  durationMs: 12.5,
});

/** Rows without the fields that legitimately differ between two stores (clock times). */
const comparable = (rows: RunRow[]) => rows.map(({ createdAt: _c, finishedAt: _f, ...r }) => r);

/** Applies one fixed sequence of operations and returns everything observable. */
async function scenario(store: ExperimentStoreApi, csvFile: string) {
  await store.beginExperiment(
    'e1',
    [
      { key: 'a', hash: 'ha' },
      { key: 'b', hash: 'hb' },
    ],
    { note: 'first' },
  );
  await store.recordRun('e1', run('a', 'ha', 'done', { loss: 0.5, arr: [1, NaN, Infinity] }));
  await store.recordRun('e1', run('b', 'hb', 'failed'));
  const afterFirst = await store.listExperiments();
  // A failure never replaces a success; a success replaces a failure.
  await store.recordRun('e1', run('a', 'ha', 'failed'));
  await store.recordRun('e1', run('b', 'hb', 'done', { loss: 0.25 }));
  // A new job list: 'a' is history, 'c' is new.
  await store.beginExperiment(
    'e1',
    [
      { key: 'b', hash: 'hb' },
      { key: 'c', hash: 'hc' },
    ],
    { note: 'second' },
  );
  const done = await store.doneResults('e1', ['ha', 'hb', 'hc']);
  const latest = await store.loadResults('e1');
  const history = await store.listRuns('e1');
  const csvRows = await store.exportCsv('e1', csvFile);
  const csv = fs.readFileSync(csvFile, 'utf8');
  const experiments = await store.listExperiments();
  let missingError = '';
  try {
    await store.loadResults('nope');
  } catch (err) {
    missingError = (err as Error).message;
  }
  // Claims
  const c1 = await store.claimRuns('e1', ['hb', 'hc', 'hd'], 'p1', 60_000);
  const c2 = await store.claimRuns('e1', ['hc', 'hd', 'he'], 'p2', 60_000);
  await store.recordRun('e1', run('c', 'hc', 'done', 3));
  const claimsAfterRecord = (await store.listClaims('e1')).map((c) => [c.hash, c.owner]);
  await store.releaseClaims('p1');
  const c3 = await store.claimRuns('e1', ['hd'], 'p2', 60_000);
  return {
    afterFirst: afterFirst.map((e) => [e.name, e.jobs, e.done, e.failed, e.config]),
    done: [...done.entries()].sort(),
    latest: comparable(latest),
    history: comparable(history),
    csvRows,
    csv: csv.replace(/,\d{4}-\d\d-\d\dT[^,]*Z/g, ',<time>'),
    experiments: experiments.map((e) => [e.name, e.configHash, e.jobs, e.done, e.failed, e.config]),
    missingError: missingError.replace(/^.*: no experiment/, 'no experiment'),
    claims: [c1, c2, claimsAfterRecord, c3],
  };
}

function behaviour(name: string, open: () => Promise<ExperimentStoreApi>) {
  describe(`runtime/store behaviour: ${name}`, () => {
    let store: ExperimentStoreApi;
    let dir: string;
    before(async function () {
      if (name === 'PostgreSQL' && postgresSkipReason()) {
        console.log(`      (skipped: ${postgresSkipReason()})`);
        this.skip();
      }
    });
    beforeEach(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marl-parity-'));
      store = await open();
    });
    afterEach(async () => {
      await store?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('latest job list, history, failures never replacing successes, CSV, claims', async () => {
      const s = await scenario(store, path.join(dir, 'e1.csv'));
      assert.deepEqual(s.afterFirst, [['e1', 2, 1, 1, { note: 'first' }]]);
      assert.deepEqual(s.done, [
        ['ha', { arr: [1, NaN, Infinity], loss: 0.5 }],
        ['hb', { loss: 0.25 }],
      ]);
      assert.deepEqual(
        s.latest.map((r) => [r.key, r.status, r.result]),
        [['b', 'done', { loss: 0.25 }]],
      );
      assert.deepEqual(
        s.history.map((r) => [r.key, r.status]),
        [
          ['a', 'done'],
          ['b', 'done'],
        ],
      );
      assert.equal(s.csvRows, 1);
      assert.match(s.csv.split('\n')[0], /^experiment,key,kind,seed,status/);
      assert.match(s.missingError, /no experiment named 'nope' \(experiments: e1\)/);
      const [c1, c2, after, c3] = s.claims;
      assert.deepEqual(c1, ['hc', 'hd'], 'a stored success (hb) is not claimed');
      assert.deepEqual(c2, ['he'], 'live claims of another owner are respected');
      assert.deepEqual(after, [
        ['hd', 'p1'],
        ['he', 'p2'],
      ]);
      assert.deepEqual(c3, ['hd'], 'released claims can be taken');
    });

    it('runExperiment: caching, failed runs retried on the next call', async () => {
      const jobs = [
        maybeFailKind.job('ok', { fail: false }, 1),
        maybeFailKind.job('bad', { fail: true }, 2),
        spinKind.job('spin', { rounds: 1000 }, 3),
      ];
      const executor = new InlineExecutor({ maxRetries: 0 });
      const first = await runExperiment({ name: 'r', jobs, executor, store, allowFailures: true });
      assert.deepEqual([first.computed, first.failed, first.cached], [2, 1, 0]);
      const again = await runExperiment({ name: 'r', jobs, executor, store, allowFailures: true });
      assert.deepEqual([again.computed, again.failed, again.cached], [0, 1, 2], 'only the failed job runs again');
      assert.deepEqual(again.results[0], first.results[0]);
      const rows = await store.loadResults('r');
      assert.deepEqual(
        rows.map((r) => [r.key, r.status, r.hash]),
        [
          ['ok', 'done', runHash(jobs[0])],
          ['bad', 'failed', runHash(jobs[1])],
          ['spin', 'done', runHash(jobs[2])],
        ],
      );
    });
  });
}

let dbCounter = 0;
behaviour('SQLite', async () =>
  ExperimentStore.open(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'marl-p-')), 's.sqlite')),
);
behaviour('PostgreSQL', async () =>
  PgExperimentStore.open((await testPostgres()).createDatabase(`parity_${++dbCounter}`)),
);

describe('runtime/store parity: SQLite and PostgreSQL give the same rows and CSV', () => {
  before(function () {
    if (postgresSkipReason()) {
      console.log(`      (skipped: ${postgresSkipReason()})`);
      this.skip();
    }
  });
  it('the same operations give equal observations', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marl-parity-'));
    const sqlite = ExperimentStore.open(path.join(dir, 's.sqlite'));
    const pg = await PgExperimentStore.open((await testPostgres()).createDatabase('parity_eq'));
    try {
      const a = await scenario(sqlite, path.join(dir, 'a.csv'));
      const b = await scenario(pg, path.join(dir, 'b.csv'));
      assert.deepEqual(b, a);
    } finally {
      sqlite.close();
      await pg.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
