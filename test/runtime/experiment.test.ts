import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  ExperimentFailedError,
  ExperimentStore,
  InlineExecutor,
  Job,
  flattenRuns,
  runExperiment,
  toCsv,
} from '../../src/runtime';
import { calls, flakyKind, maybeFailKind, tinyMlpKind } from './fixtures/jobs';

const cfg = (lr: number) => ({ inputs: 6, hidden: 8, samples: 32, steps: 5, lr });
const sweep = (lrs: number[]): Job[] => lrs.map((lr) => tinyMlpKind.job(`lr=${lr}`, cfg(lr), 3));

describe('runtime/experiment: caching and inspection', () => {
  let dir: string;
  let store: ExperimentStore;
  const executor = new InlineExecutor({ maxRetries: 1 });

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marl-runtime-'));
    store = ExperimentStore.open(path.join(dir, 'sub', 'store.sqlite'));
  });
  afterEach(() => {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('an unchanged re-run returns stored results without calling the work function', async () => {
    const first = await runExperiment({ name: 'sweep', jobs: sweep([0.1, 0.2, 0.3]), executor, store });
    assert.deepEqual([first.cached, first.computed, first.failed], [0, 3, 0]);
    const n = calls.train;
    const again = await runExperiment({ name: 'sweep', jobs: sweep([0.1, 0.2, 0.3]), executor, store });
    assert.equal(calls.train, n, 'work function must not run for cached jobs');
    assert.deepEqual([again.cached, again.computed], [3, 0]);
    assert.deepEqual(again.results, first.results);
    assert.deepEqual(
      again.jobs.map((j) => j.source),
      ['cached', 'cached', 'cached'],
    );
    // results are the trained networks' outputs, in job order
    const losses = first.results.map((r) => r as { after: number; before: number });
    for (const l of losses) assert.ok(l.after < l.before);
    assert.notEqual(losses[0].after, losses[2].after);
  });

  it('a changed configuration runs only the missing jobs; force recomputes all, identically', async () => {
    const first = await runExperiment({ name: 'sweep', jobs: sweep([0.1, 0.2]), executor, store });
    const n = calls.train;
    const changed = await runExperiment({ name: 'sweep', jobs: sweep([0.1, 0.2, 0.4]), executor, store });
    assert.equal(calls.train - n, 1);
    assert.deepEqual(
      changed.jobs.map((j) => j.source),
      ['cached', 'cached', 'computed'],
    );
    assert.deepEqual(changed.results.slice(0, 2), first.results);
    // changing one job's config (same key) recomputes that job only
    const edited = sweep([0.1, 0.2, 0.4]);
    edited[1] = tinyMlpKind.job('lr=0.2', { ...cfg(0.2), steps: 6 }, 3);
    const m = calls.train;
    const r2 = await runExperiment({ name: 'sweep', jobs: edited, executor, store });
    assert.equal(calls.train - m, 1);
    assert.notDeepEqual(r2.results[1], first.results[1]);
    const k = calls.train;
    const forced = await runExperiment({ name: 'sweep', jobs: edited, executor, store, force: true });
    assert.equal(calls.train - k, 3);
    assert.deepEqual(
      forced.jobs.map((j) => j.source),
      ['computed', 'computed', 'computed'],
    );
    assert.deepEqual(forced.results, r2.results);
    // another experiment name is another cache scope
    const other = await runExperiment({ name: 'other', jobs: sweep([0.1]), executor, store });
    assert.equal(other.computed, 1);
    assert.deepEqual(other.results[0], first.results[0]);
  });

  it('commits each finished job even when another fails; the re-run computes only the failed one', async () => {
    const jobs = [
      maybeFailKind.job('a', { fail: false }, 1),
      maybeFailKind.job('b', { fail: true }, 1),
      maybeFailKind.job('c', { fail: false }, 1),
    ];
    await assert.rejects(runExperiment({ name: 'mixed', jobs, executor, store }), (err: Error) => {
      assert.ok(err instanceof ExperimentFailedError);
      assert.match(
        err.message,
        /experiment 'mixed': 1 job\(s\) failed after retries: 'b' \(2 attempts\): planned failure in b/,
      );
      assert.equal(err.partial.computed, 2);
      return true;
    });
    const rows = store.loadResults('mixed');
    assert.deepEqual(
      rows.map((r) => [r.key, r.status, r.attempts]),
      [
        ['a', 'done', 1],
        ['b', 'failed', 2],
        ['c', 'done', 1],
      ],
    );
    assert.equal(rows[1].error, 'planned failure in b');
    const fixed = [jobs[0], maybeFailKind.job('b', { fail: false }, 1), jobs[2]];
    const res = await runExperiment({ name: 'mixed', jobs: fixed, executor, store });
    assert.deepEqual(
      res.jobs.map((j) => j.source),
      ['cached', 'computed', 'cached'],
    );
    const soft = await runExperiment({ name: 'soft', jobs, executor, store, allowFailures: true });
    assert.equal(soft.results[1], undefined);
    assert.equal(soft.failed, 1);
  });

  it('lists experiments and runs, loads rows, and exports CSV atomically', async () => {
    await runExperiment({ name: 'sweep', jobs: sweep([0.1, 0.2]), executor, store, config: { purpose: 'test' } });
    await runExperiment({ name: 'sweep', jobs: sweep([0.2, 0.3]), executor, store, config: { purpose: 'test' } });
    await runExperiment({ name: 'retry', jobs: [flakyKind.job('f', { failures: 1 }, 0)], executor, store });
    const exps = store.listExperiments();
    assert.deepEqual(exps.map((e) => e.name).sort(), ['retry', 'sweep']);
    const sw = exps.find((e) => e.name === 'sweep')!;
    assert.deepEqual([sw.jobs, sw.done, sw.failed], [2, 2, 0]);
    assert.deepEqual(sw.config, { purpose: 'test' });
    assert.match(sw.configHash, /^[0-9a-f]{64}$/);
    // history keeps all three runs; loadResults gives the latest job list in order
    assert.deepEqual(
      store
        .listRuns('sweep')
        .map((r) => r.key)
        .sort(),
      ['lr=0.1', 'lr=0.2', 'lr=0.3'],
    );
    const rows = store.loadResults('sweep');
    assert.deepEqual(
      rows.map((r) => r.key),
      ['lr=0.2', 'lr=0.3'],
    );
    assert.equal(rows[0].codeVersion, 'tiny-mlp@1');
    assert.deepEqual(rows[0].config, cfg(0.2));
    assert.equal(store.listRuns('retry')[0].attempts, 2);
    assert.throws(() => store.loadResults('nope'), /no experiment named 'nope' \(experiments: retry, sweep\)/);

    const flat = flattenRuns(rows);
    assert.equal(flat[0]['config.lr'], 0.2);
    assert.equal(flat[1]['result.after'], (rows[1].result as { after: number }).after);
    assert.equal(typeof flat[0]['result.w2'], 'string'); // arrays become JSON text
    const csvFile = path.join(dir, 'out', 'sweep.csv');
    assert.equal(store.exportCsv('sweep', csvFile), 2);
    const lines = fs.readFileSync(csvFile, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 3);
    const header = lines[0].split(',');
    assert.ok(header.includes('config.lr') && header.includes('result.after') && header.includes('key'));
    assert.equal(lines[1].split(',')[header.indexOf('key')], 'lr=0.2');
    assert.deepEqual(fs.readdirSync(path.dirname(csvFile)), ['sweep.csv']); // no temp file left
    assert.equal(toCsv([{ a: 'x,"y"', b: null, c: 1 }]), 'a,b,c\n"x,""y""",,1\n');
  });

  it('rejects bad options with messages naming the field', async () => {
    await assert.rejects(
      runExperiment({ name: '', jobs: [], executor, store }),
      /runExperiment options: name: must be a non-empty string/,
    );
    await assert.rejects(
      runExperiment({ name: 'x', jobs: [], executor: {} as never, store }),
      /executor: must be an Executor/,
    );
    await assert.rejects(
      runExperiment({ name: 'x', jobs: [], executor, store: {} as never }),
      /store: must be an ExperimentStore/,
    );
    await assert.rejects(
      runExperiment({ name: 'x', jobs: sweep([1, 1]), executor, store }),
      /jobs\[1\]: duplicate key 'lr=1'/,
    );
  });
});
