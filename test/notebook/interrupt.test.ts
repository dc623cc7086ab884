import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  interruptible,
  interruptNotebookWork,
  interruptSignal,
  installInterruptHandler,
  setInterruptWriter,
} from '../../src/notebook/interrupt';
import { AbortError, ExperimentStore, InlineExecutor, Job, runExperiment, WorkerPoolExecutor } from '../../src/runtime';
import { defineJobKind, JobContext } from '../../src/runtime/jobs';
import { tinyMlpKind } from '../runtime/fixtures/jobs';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** In-thread job that works in small async steps and honours `ctx.signal` (like a PPO loop that yields). */
export async function steppedJob(config: { steps: number }, ctx: JobContext) {
  let done = 0;
  for (let i = 0; i < config.steps; i++) {
    ctx.signal?.throwIfAborted();
    await sleep(5);
    done++;
  }
  stepped.finished.push(ctx.key);
  return { done };
}
const stepped = { finished: [] as string[] };
const steppedKind = defineJobKind({
  name: 'test-stepped',
  module: __filename,
  export: 'steppedJob',
  version: 'stepped@1',
  fn: steppedJob,
});

describe('notebook/interrupt: Kernel › Interrupt and close() cancel executor work', function () {
  this.timeout(120000);
  let tmp: string;
  let lines: string[];
  let previous: (line: string) => void;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'interrupt-'));
    lines = [];
    previous = setInterruptWriter((l) => lines.push(l));
  });
  afterEach(() => {
    setInterruptWriter(previous);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('an interrupt cancels queued and running worker jobs; no store write follows; a re-run resumes', async () => {
    // Slow jobs (training then 1.5 s asleep) on 2 workers: when the first result is committed, the
    // other worker is mid-job and 4 jobs are queued.
    const jobs: Job[] = Array.from({ length: 6 }, (_, i) =>
      tinyMlpKind.job(
        `slow/${i}`,
        { inputs: 8, hidden: 8, samples: 32, steps: 5, lr: 0.1, sleepMs: 600 + 900 * (i % 2) },
        i,
      ),
    );
    const store = ExperimentStore.open(path.join(tmp, 'store.sqlite'));
    const executor = interruptible(new WorkerPoolExecutor({ workers: 2 }));
    try {
      let interruptedAt = -1;
      const run = runExperiment({ name: 'slow', jobs, executor, store }).catch((e: unknown) => e);
      // Interrupt as soon as the first result is in the store.
      while (store.loadResults('slow').length === 0) await sleep(20);
      const report = interruptNotebookWork('interrupted');
      interruptedAt = store.loadResults('slow').length;
      const err = await run;
      assert.ok(err instanceof AbortError, `expected AbortError, got ${String(err)}`);
      assert.equal(report.runs.length, 1);
      assert.equal(report.runs[0].total, 6);
      assert.equal(report.runs[0].finished, interruptedAt);
      assert.match(lines.join('\n'), new RegExp(`cancelled ${6 - interruptedAt} unfinished job\\(s\\) of 6`));
      assert.match(lines.join('\n'), /re-running the cell resumes/);
      // The running job (1.5 s asleep) would have finished and been committed by now without the cancel.
      await sleep(2500);
      assert.equal(store.loadResults('slow').length, interruptedAt, 'no store write after the interrupt');
      // A fresh signal is handed out: the next run is not born aborted, and resumes from the store.
      assert.equal(interruptSignal().aborted, false);
      const again = await runExperiment({ name: 'slow', jobs, executor, store });
      assert.equal(again.cached, interruptedAt);
      assert.equal(again.computed, 6 - interruptedAt);
    } finally {
      await executor.close();
      store.close();
    }
  });

  it('close() during a run cancels it (inline executor, in-thread job stops between steps)', async () => {
    const store = ExperimentStore.open(path.join(tmp, 'store.sqlite'));
    const executor = interruptible(new InlineExecutor());
    stepped.finished.length = 0;
    const jobs = [0, 1, 2].map((i) => steppedKind.job(`step/${i}`, { steps: 40 }, i));
    const run = runExperiment({ name: 'stepped', jobs, executor, store }).catch((e: unknown) => e);
    while (store.loadResults('stepped').length === 0) await sleep(10);
    await executor.close();
    const err = await run;
    assert.ok(err instanceof AbortError, `expected AbortError, got ${String(err)}`);
    // The job running at close() saw ctx.signal and stopped between steps; the third never started.
    assert.deepEqual(stepped.finished, ['step/0']);
    await sleep(400);
    assert.equal(store.loadResults('stepped').length, 1);
    assert.match(lines.join('\n'), /closed: cancelled 1 run\(s\)[\s\S]*cancelled 2 unfinished job\(s\) of 3/);
    await assert.rejects(executor.run(jobs), /after close\(\)/);
    store.close();
  });

  it('an interrupt aborts the current signal, an unwrapped in-thread loop can follow it, and nothing prints when idle', () => {
    const signal = interruptSignal();
    const report = interruptNotebookWork('interrupted');
    assert.equal(signal.aborted, true);
    assert.equal(report.runs.length, 0);
    assert.deepEqual(lines, []);
    assert.notEqual(interruptSignal(), signal);
    assert.throws(() => signal.throwIfAborted(), /re-run the cell to resume/);
  });

  it('installs no SIGINT handler outside a tslab kernel', () => {
    const before = process.listenerCount('SIGINT');
    assert.equal(installInterruptHandler(), false);
    assert.equal(process.listenerCount('SIGINT'), before);
  });
});
