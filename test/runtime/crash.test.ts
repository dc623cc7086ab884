import { strict as assert } from 'assert';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ExperimentStore, InlineExecutor, runExperiment } from '../../src/runtime';
import { crashJobs } from './fixtures/crash-jobs';

const CHILD = path.join(__dirname, 'fixtures', 'crash-child.ts');
const N = 12;
const childArgs = (file: string, mode: string) => [
  '--require',
  require.resolve('tsx/cjs'),
  CHILD,
  file,
  mode,
  String(N),
];

function doneRuns(file: string): Map<string, string> {
  if (!fs.existsSync(file)) return new Map();
  let store: ExperimentStore | undefined;
  try {
    store = ExperimentStore.open(file, { readonly: true });
    if (!store.listExperiments().some((e) => e.name === 'crash')) return new Map();
    return new Map(
      store
        .loadResults('crash')
        .filter((r) => r.status === 'done')
        .map((r) => [r.key, JSON.stringify(r.result)]),
    );
  } catch {
    return new Map(); // the child may still be creating the file
  } finally {
    store?.close();
  }
}

describe('runtime: crash-safe resume', function () {
  this.timeout(90000);
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marl-crash-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('after SIGKILL mid-run, a re-run keeps every committed job, runs the rest, and equals an uninterrupted run', async () => {
    // Uninterrupted reference, in this process.
    const refStore = ExperimentStore.open(path.join(dir, 'reference.sqlite'));
    const reference = await runExperiment({
      name: 'crash',
      jobs: crashJobs(N),
      executor: new InlineExecutor(),
      store: refStore,
    });
    refStore.close();

    // Run in a child process with 2 workers; kill -9 once a few results are committed.
    const file = path.join(dir, 'store.sqlite');
    const child = spawn(process.execPath, childArgs(file, 'pool'), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    let beforeKill = new Map<string, string>();
    const deadline = Date.now() + 60000;
    while (beforeKill.size < 3) {
      if (Date.now() > deadline || child.exitCode !== null)
        assert.fail(`child did not commit 3 results in time (exit ${child.exitCode}): ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
      beforeKill = doneRuns(file);
    }
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');

    const afterKill = doneRuns(file);
    assert.ok(afterKill.size < N, `the child finished all ${N} jobs before the kill; the test proved nothing`);
    for (const [key, result] of beforeKill)
      assert.equal(afterKill.get(key), result, `committed result of ${key} was lost or changed`);

    // Resume (inline this time): only the missing jobs run.
    const resumed = spawnSync(process.execPath, childArgs(file, 'inline'), { encoding: 'utf8', timeout: 60000 });
    assert.equal(resumed.status, 0, resumed.stderr);
    const summary = JSON.parse(resumed.stdout.trim().split('\n').pop()!);
    assert.deepEqual(summary, { cached: afterKill.size, computed: N - afterKill.size });

    const store = ExperimentStore.open(file);
    try {
      const rows = store.loadResults('crash');
      assert.deepEqual(
        rows.map((r) => r.key),
        crashJobs(N).map((j) => j.key),
      );
      assert.ok(rows.every((r) => r.status === 'done'));
      assert.equal(JSON.stringify(rows.map((r) => r.result)), JSON.stringify(reference.results));
      for (const [key, result] of beforeKill)
        assert.equal(JSON.stringify(rows.find((r) => r.key === key)!.result), result);
    } finally {
      store.close();
    }
  });
});
