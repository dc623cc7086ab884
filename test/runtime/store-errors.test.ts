import { strict as assert } from 'assert';
import Database from 'better-sqlite3';
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ExperimentStore, InlineExecutor, STORE_SCHEMA_VERSION, StoreError, runExperiment } from '../../src/runtime';
import { calls, maybeFailKind, tinyMlpKind } from './fixtures/jobs';

const fileHash = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');

describe('runtime/store: bad input never destroys results', () => {
  let dir: string;
  const executor = new InlineExecutor();

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marl-store-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A store with one finished experiment 'exp' (2 jobs), closed. */
  async function makeStore(name = 'store.sqlite', rows = 2): Promise<string> {
    const file = path.join(dir, name);
    const store = ExperimentStore.open(file);
    const jobs = Array.from({ length: rows }, (_, i) =>
      maybeFailKind.job(`j${i}`, { fail: false, pad: 'x'.repeat(rows > 2 ? 2000 : 1) }, i),
    );
    await runExperiment({ name: 'exp', jobs, executor, store });
    store.close();
    return file;
  }

  it('creates the store in WAL mode with the current schema version', async () => {
    const file = await makeStore();
    const db = new Database(file, { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.deepEqual(db.prepare('SELECT version FROM schema_version').all(), [{ version: STORE_SCHEMA_VERSION }]);
    db.close();
  });

  it('refuses a store of another schema version, naming the file and both versions', async () => {
    const file = await makeStore();
    const db = new Database(file);
    db.prepare('UPDATE schema_version SET version = 99').run();
    db.close();
    const before = fileHash(file);
    assert.throws(
      () => ExperimentStore.open(file),
      (err: Error) =>
        err instanceof StoreError &&
        err.message.includes(file) &&
        /schema version 99 but this code uses version 1/.test(err.message),
    );
    assert.equal(fileHash(file), before);
  });

  it('refuses a file that is not SQLite, naming the file, and leaves it untouched', () => {
    const file = path.join(dir, 'notes.sqlite');
    fs.writeFileSync(file, 'my precious results, not a database\n'.repeat(200));
    const before = fileHash(file);
    assert.throws(
      () => ExperimentStore.open(file),
      (err: Error) => err.message.includes(file) && /is not an SQLite database/.test(err.message),
    );
    assert.equal(fileHash(file), before);
    assert.deepEqual(fs.readdirSync(dir), ['notes.sqlite']);
  });

  it('refuses a corrupted store, naming the file, and leaves it untouched', async () => {
    const file = await makeStore('big.sqlite', 200);
    const buf = fs.readFileSync(file);
    assert.ok(buf.length > 64 * 1024, `store only ${buf.length} bytes`);
    for (let i = 3 * 4096; i < 6 * 4096; i++) buf[i] = 0x5a; // overwrite pages 4-6 (b-tree pages of the runs table)
    fs.writeFileSync(file, buf);
    const before = fileHash(file);
    assert.throws(
      () => ExperimentStore.open(file),
      (err: Error) => err.message.includes(file) && /is corrupted/.test(err.message),
    );
    assert.equal(fileHash(file), before);
  });

  it('refuses a foreign SQLite database instead of adding tables to it', () => {
    const file = path.join(dir, 'other.db');
    const db = new Database(file);
    db.exec('CREATE TABLE customers (id INTEGER)');
    db.close();
    const before = fileHash(file);
    assert.throws(
      () => ExperimentStore.open(file),
      /other\.db: is an SQLite database but not a marl-automl experiment store \(tables: customers\)/,
    );
    assert.equal(fileHash(file), before);
  });

  it('a store opened read-only can be inspected, and writing raises a clear error', async () => {
    const file = await makeStore();
    const store = ExperimentStore.open(file, { readonly: true });
    try {
      assert.equal(store.readonly, true);
      assert.deepEqual(
        store.loadResults('exp').map((r) => r.key),
        ['j0', 'j1'],
      );
      const n = calls.train;
      await assert.rejects(
        runExperiment({ name: 'exp2', jobs: [tinyMlpKind.job('a', {}, 0)], executor, store }),
        (err: Error) => err.message.includes(file) && /is read-only .*cannot record the experiment/.test(err.message),
      );
      assert.equal(calls.train, n, 'nothing may run when results cannot be stored');
    } finally {
      store.close();
    }
  });

  it('a file without write permission opens read-only for another user and refuses writes', async function () {
    const file = await makeStore();
    fs.chmodSync(file, 0o444);
    fs.chmodSync(dir, 0o777); // the directory stays writable (SQLite needs the -shm file to read WAL stores)
    const asRoot = process.getuid?.() === 0;
    const child = spawnSync(
      process.execPath,
      ['--require', require.resolve('tsx/cjs'), path.join(__dirname, 'fixtures', 'store-child.ts'), file, 'write'],
      {
        encoding: 'utf8',
        timeout: 30000,
        ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
      },
    );
    assert.equal(child.status, 0, child.stderr);
    const out = JSON.parse(child.stdout.trim().split('\n').pop()!);
    assert.equal(out.readonly, true);
    assert.deepEqual(out.experiments, [['exp', 2]]);
    assert.equal(out.results.length, 2);
    assert.match(
      out.error,
      /store\.sqlite: is read-only \(opened read-only: the file is not writable\); cannot record the experiment/,
    );
    fs.chmodSync(file, 0o644);
    const store = ExperimentStore.open(file);
    assert.deepEqual(
      store.listExperiments().map((e) => e.name),
      ['exp'],
    );
    store.close();
  });

  it('a store locked by another writer beyond the busy timeout raises a clear error and keeps its results', async () => {
    const file = await makeStore();
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE');
    const store = ExperimentStore.open(file, { busyTimeoutMs: 150 });
    try {
      assert.equal(store.loadResults('exp').length, 2); // WAL: readers are not blocked
      await assert.rejects(
        runExperiment({ name: 'exp', jobs: [maybeFailKind.job('j9', { fail: false }, 0)], executor, store }),
        (err: Error) =>
          err.message.includes(file) && /locked by another connection or process \(waited 150 ms\)/.test(err.message),
      );
      other.exec('ROLLBACK');
      const res = await runExperiment({
        name: 'exp',
        jobs: [maybeFailKind.job('j0', { fail: false, pad: 'x' }, 0), maybeFailKind.job('j9', { fail: false }, 0)],
        executor,
        store,
      });
      assert.deepEqual(
        res.jobs.map((j) => j.source),
        ['cached', 'computed'],
      );
    } finally {
      other.close();
      store.close();
    }
  });

  it('validates its arguments', () => {
    assert.throws(() => ExperimentStore.open(''), /path must be a non-empty string/);
    assert.throws(() => ExperimentStore.open(dir), /exists but is not a regular file/);
    assert.throws(() => ExperimentStore.open(path.join(dir, 'missing.sqlite'), { readonly: true }), /does not exist/);
    assert.throws(() => ExperimentStore.open(path.join(dir, 'x.sqlite'), { busyTimeoutMs: -1 }), /busyTimeoutMs/);
  });
});
