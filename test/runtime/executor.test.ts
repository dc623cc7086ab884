import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import { AbortError, InlineExecutor, Job, JobOutcome, WorkerPoolExecutor } from '../../src/runtime';
import { ProgressSink } from '../../src/progress';
import { calls, dieKind, flakyKind, maybeFailKind, tinyMlpKind } from './fixtures/jobs';

const trainJobs: Job[] = Array.from({ length: 6 }, (_, i) =>
  tinyMlpKind.job(`mlp/${i}`, { inputs: 12, hidden: 24, samples: 96, steps: 25, lr: 0.2 }, 7 + (i % 2)),
);

function okResults(outcomes: JobOutcome[]) {
  return outcomes.map((o) => {
    assert.ok(o.ok, `job ${o.key} failed: ${!o.ok && o.error.message}`);
    return o.ok ? o.result : null;
  });
}

function recordingSink() {
  const events: string[] = [];
  const sink: ProgressSink = {
    start: (total, label) => events.push(`start ${total} ${label}`),
    tick: (n = 1) => events.push(`tick ${n}`),
    end: () => events.push('end'),
  };
  return { sink, events };
}

describe('runtime/executor: InlineExecutor', () => {
  it('trains the MLP (loss drops), reports progress, and leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    const { sink, events } = recordingSink();
    const outcomes = await new InlineExecutor().run(trainJobs, { progress: sink, label: 'mlp' });
    assert.equal(tf.memory().numTensors, before);
    assert.deepEqual(
      outcomes.map((o) => o.key),
      trainJobs.map((j) => j.key),
    );
    for (const r of okResults(outcomes) as { before: number; after: number }[])
      assert.ok(r.after < 0.8 * r.before, `loss ${r.before} -> ${r.after}`);
    assert.deepEqual(events, ['start 6 mlp', ...Array(6).fill('tick 1'), 'end']);
  });

  it('retries a failing job, then reports it with its key and error while the others complete', async () => {
    const retries: string[] = [];
    const errors: string[] = [];
    const flakyBefore = calls.flaky;
    const jobs = [
      maybeFailKind.job('good', { fail: false }, 1),
      maybeFailKind.job('bad', { fail: true }, 1),
      flakyKind.job('flaky', { failures: 1 }, 1),
    ];
    const outcomes = await new InlineExecutor({ maxRetries: 2 }).run(jobs, {
      onRetry: (job, err, attempt) => retries.push(`${job.key}#${attempt}: ${err.message}`),
      onError: (job, o) => errors.push(`${job.key}: ${o.error.message} after ${o.attempts}`),
    });
    assert.deepEqual(
      outcomes.map((o) => [o.key, o.ok, o.attempts]),
      [
        ['good', true, 1],
        ['bad', false, 3],
        ['flaky', true, 2],
      ],
    );
    assert.deepEqual(errors, ['bad: planned failure in bad after 3']);
    assert.deepEqual(retries, [
      'bad#0: planned failure in bad',
      'bad#1: planned failure in bad',
      'flaky#0: flaky attempt 0 of flaky',
    ]);
    assert.equal(calls.flaky - flakyBefore, 2);
  });

  it('stops at an aborted signal', async () => {
    const controller = new AbortController();
    let n = 0;
    const run = new InlineExecutor().run(trainJobs, {
      signal: controller.signal,
      onResult: () => ++n === 2 && controller.abort(),
    });
    await assert.rejects(run, (err: Error) => err instanceof AbortError && /2 of 6 jobs finished/.test(err.message));
  });
});

describe('runtime/executor: WorkerPoolExecutor', function () {
  this.timeout(60000);
  let inlineResults: unknown[];

  before(async () => {
    inlineResults = okResults(await new InlineExecutor().run(trainJobs));
  });

  it('1 worker and 2 workers give bit-identical results (and equal the inline run)', async () => {
    const runWith = async (workers: number) => {
      const pool = new WorkerPoolExecutor({ workers });
      try {
        const seen: string[] = [];
        const outcomes = await pool.run(trainJobs, { onResult: (job) => seen.push(job.key) });
        assert.deepEqual([...seen].sort(), trainJobs.map((j) => j.key).sort());
        return okResults(outcomes);
      } finally {
        await pool.close();
      }
    };
    const [one, two] = [await runWith(1), await runWith(2)];
    assert.equal(JSON.stringify(one), JSON.stringify(two));
    assert.equal(JSON.stringify(one), JSON.stringify(inlineResults));
    // and the jobs are not all the same (seeds really come from the keys)
    assert.equal(new Set(one.map((r) => (r as { after: number }).after)).size, trainJobs.length);
  });

  it('retries jobs that throw or kill their worker; reports final failures by key; other jobs are not lost', async () => {
    const pool = new WorkerPoolExecutor({ workers: 2, maxRetries: 1 });
    try {
      const jobs = [
        ...trainJobs.slice(0, 3),
        maybeFailKind.job('throws', { fail: true }, 0),
        dieKind.job('dies-once', { deaths: 1 }, 0),
        dieKind.job('always-dies', { deaths: 99 }, 0),
        flakyKind.job('flaky', { failures: 1 }, 0),
      ];
      const retried: string[] = [];
      const failed: string[] = [];
      const outcomes = await pool.run(jobs, {
        onRetry: (job) => retried.push(job.key),
        onError: (job, o) => failed.push(`${job.key}: ${o.error.message}`),
      });
      const byKey = new Map(outcomes.map((o) => [o.key, o]));
      assert.deepEqual(
        outcomes.map((o) => o.key),
        jobs.map((j) => j.key),
      );
      assert.equal(JSON.stringify(okResults(outcomes.slice(0, 3))), JSON.stringify(inlineResults.slice(0, 3)));
      const diesOnce = byKey.get('dies-once')!;
      assert.ok(diesOnce.ok && diesOnce.attempts === 2);
      assert.ok(byKey.get('flaky')!.ok);
      assert.deepEqual([...retried].sort(), ['always-dies', 'dies-once', 'flaky', 'throws']);
      assert.equal(failed.length, 2);
      assert.ok(failed.includes('throws: planned failure in throws'), failed.join(' | '));
      assert.ok(
        failed.some((f) =>
          /^always-dies: worker failed while running job 'always-dies': worker exited with code: 7/.test(f),
        ),
        failed.join(' | '),
      );
      // the pool still works after workers died
      const again = await pool.run([trainJobs[5]]);
      assert.equal(JSON.stringify(okResults(again)), JSON.stringify([inlineResults[5]]));
    } finally {
      await pool.close();
    }
  });

  it('an aborted signal cancels queued and running jobs and rejects with AbortError', async () => {
    const pool = new WorkerPoolExecutor({ workers: 2 });
    try {
      const controller = new AbortController();
      const finished: string[] = [];
      const run = pool.run(trainJobs, {
        signal: controller.signal,
        onResult: (job) => (finished.push(job.key), controller.abort()),
      });
      await assert.rejects(
        run,
        (err: Error) =>
          err instanceof AbortError && new RegExp(`${finished.length} of 6 jobs finished`).test(err.message),
      );
      assert.ok(finished.length >= 1 && finished.length < 6, `finished ${finished.length}`);
      await assert.rejects(pool.run(trainJobs, { signal: controller.signal }), /0 of 6 jobs finished/);
    } finally {
      await pool.close();
    }
    await assert.rejects(pool.run(trainJobs), /run\(\) after close\(\)/);
  });

  it('validates its options', () => {
    assert.throws(() => new WorkerPoolExecutor({ workers: 0 }), /workers must be a positive integer, got 0/);
    assert.throws(() => new WorkerPoolExecutor({ maxRetries: -1 }), /maxRetries must be a non-negative integer/);
  });
});
