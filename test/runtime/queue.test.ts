// Distributed mode on a throw-away PostgreSQL cluster: worker processes (`src/cli/worker.ts`)
// and a QueueExecutor in this process. Skipped, with a message, when PostgreSQL is not installed.
import { strict as assert } from 'assert';
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  defineJobKind,
  executorMode,
  InlineExecutor,
  modeExecutor,
  JobErrorInfo,
  maskSecrets,
  maskUrl,
  PgExperimentStore,
  QueueExecutor,
  refuseReason,
  runExperiment,
  runHash,
} from '../../src/runtime';
import { startBoss } from '../../src/runtime/queue';
import { postgresSkipReason, testPostgres } from '../support/postgres';
import { coordinatorJobs } from './fixtures/queue-coordinator';
import { spinKind } from './fixtures/queue-jobs';

const ROOT = path.resolve(__dirname, '..', '..');
const FIXTURE = 'test/runtime/fixtures/queue-jobs.ts';

/** A kind this test process knows but no worker loads: workers must refuse it. */
export function notOnWorkers() {
  return { ran: true };
}
const unregisteredKind = defineJobKind({
  name: 'test-queue-not-on-workers',
  module: __filename,
  export: 'notOnWorkers',
  version: 'x@1',
  fn: notOnWorkers,
});

interface Worker {
  child: ChildProcess;
  lines: string[];
  id(): Promise<string>;
  exited: Promise<number | null>;
  waitFor(re: RegExp): Promise<string>;
}

const started: ChildProcess[] = [];
function startWorker(url: string, extra: string[] = []): Worker {
  // One process (node with the tsx loader), so SIGKILL really kills the worker.
  const child = spawn(
    process.execPath,
    [
      '--require',
      'tsx/cjs',
      'src/cli/worker.ts',
      '--db',
      url,
      '--kinds',
      FIXTURE,
      '--heartbeat',
      '200',
      '--grace',
      '30',
      ...extra,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  started.push(child);
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  const onData = (buf: Buffer) => {
    for (const line of buf.toString().split('\n').filter(Boolean)) {
      lines.push(line);
      for (const w of [...waiters])
        if (w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const waitFor = (re: RegExp) => {
    const hit = lines.find((l) => re.test(l));
    if (hit) return Promise.resolve(hit);
    // Bounded, so a worker that never prints the line fails the test instead of hanging the run.
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`worker never printed ${re}; its output:\n${lines.join('\n')}`)),
        120_000,
      );
      waiters.push({ re, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  };
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const id = () => waitFor(/ started: /).then((l) => / ([^ ]+) started: /.exec(l)![1]);
  return { child, lines, id, exited, waitFor };
}

async function stopWorker(w: Worker): Promise<void> {
  if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
  await w.exited;
}

describe('runtime/queue: distributed runs on PostgreSQL (worker processes + QueueExecutor)', function () {
  this.timeout(180_000);
  before(async function () {
    const reason = postgresSkipReason();
    if (reason) {
      console.log(`      (skipped: ${reason})`);
      this.skip();
    }
    await testPostgres(); // start the cluster once, outside the first test's time
  });
  after(() => {
    for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  it('three workers and one executor finish 40 CPU-bound jobs: results equal the in-process run, each job run and stored once', async () => {
    const url = (await testPostgres()).createDatabase('queue_two');
    const a = startWorker(url);
    const b = startWorker(url);
    const c = startWorker(url);
    const store = await PgExperimentStore.open(url);
    const executor = new QueueExecutor({ url, pollMs: 100 });
    try {
      const jobs = Array.from({ length: 40 }, (_, i) => spinKind.job(`j${i}`, { rounds: 100_000 }, i));
      const remote = await runExperiment({ name: 'two', jobs, executor, store });
      const local = await new InlineExecutor().run(jobs);
      assert.deepEqual(
        remote.results,
        local.map((o) => (o.ok ? o.result : undefined)),
        'bit-identical to the in-process run',
      );
      assert.equal(remote.computed, jobs.length);
      await Promise.all([stopWorker(a), stopWorker(b), stopWorker(c)]);
      assert.deepEqual([await a.exited, await b.exited, await c.exited], [0, 0, 0], 'SIGTERM: clean exit');
      for (const w of [a, b, c])
        assert.match(w.lines.join('\n'), / stopped: \d+ done, 0 failed attempt\(s\), 0 refused/);
      const doneLines = [...a.lines, ...b.lines, ...c.lines].filter((l) => / done 'j\d+'/.test(l));
      assert.deepEqual(
        doneLines.map((l) => /done '(j\d+)'/.exec(l)![1]).sort(),
        jobs.map((j) => j.key).sort(),
        'every job ran exactly once across the three workers',
      );
      assert.equal((await store.listRuns('two')).length, jobs.length, 'each job stored once');
      // A second coordinator run finds everything: nothing is published again.
      const again = await runExperiment({ name: 'two', jobs, executor, store });
      assert.equal(again.cached, jobs.length);
    } finally {
      await executor.close();
      await store.close();
      await Promise.all([stopWorker(a), stopWorker(b), stopWorker(c)]);
    }
  });

  it('a killed worker: its job is re-run by another worker after the heartbeat timeout; nothing is lost', async () => {
    const url = (await testPostgres()).createDatabase('queue_kill');
    const victim = startWorker(url);
    const executor = new QueueExecutor({ url, pollMs: 100, heartbeatTimeoutMs: 1500 });
    const retries: JobErrorInfo[] = [];
    const jobs = [spinKind.job('slow', { rounds: 1000, sleepMs: 4000 }, 7)];
    const running = executor.run(jobs, { onRetry: (_j, e) => retries.push(e) });
    let rescuer: Worker | undefined;
    try {
      await victim.waitFor(/start 'slow'/);
      const victimId = await victim.id();
      victim.child.kill('SIGKILL');
      await victim.exited;
      rescuer = startWorker(url);
      const [outcome] = await running;
      assert.ok(outcome.ok, 'the job finished on the other worker');
      assert.equal(outcome.attempts, 2);
      assert.equal(retries.length, 1);
      assert.match(retries[0].message, new RegExp(`worker ${victimId} stopped sending heartbeats`));
      const [expected] = await new InlineExecutor().run(jobs);
      assert.deepEqual(outcome.ok && outcome.result, expected.ok && expected.result);
      await rescuer.waitFor(/done 'slow'/);
    } finally {
      await executor.close();
      if (rescuer) await stopWorker(rescuer);
    }
  });

  it('a killed coordinator, restarted, resumes: it recomputes nothing that was finished or queued', async () => {
    const url = (await testPostgres()).createDatabase('queue_coord');
    const w = startWorker(url);
    const n = 12;
    const coord = spawn(
      process.execPath,
      ['--require', 'tsx/cjs', 'test/runtime/fixtures/queue-coordinator.ts', url, 'resume', String(n)],
      {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    started.push(coord);
    let coordErr = '';
    coord.stderr!.on('data', (b: Buffer) => (coordErr += b.toString()));
    let coordExited = false;
    const coordExit = new Promise((r) => coord.once('exit', r)).then(() => (coordExited = true));
    const store = await PgExperimentStore.open(url);
    const executor = new QueueExecutor({ url, pollMs: 100 });
    try {
      // Kill the coordinator once a few results are committed to the experiment store.
      for (;;) {
        assert.ok(!coordExited, `the coordinator ended before the test could kill it: ${coordErr}`);
        const done = await store.listExperiments().then((es) => es.find((e) => e.name === 'resume')?.done ?? 0);
        if (done >= 3) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      coord.kill('SIGKILL');
      await coordExit;
      const before = (await store.loadResults('resume')).length;
      assert.ok(before >= 3 && before < n, `${before} of ${n} committed when the coordinator died`);
      const again = await runExperiment({ name: 'resume', jobs: coordinatorJobs(n), executor, store });
      assert.equal(again.cached + again.computed, n);
      assert.ok(again.cached >= before);
      await stopWorker(w);
      const doneKeys = w.lines.filter((l) => / done 'c\d+'/.test(l)).map((l) => /done '(c\d+)'/.exec(l)![1]);
      assert.deepEqual(
        doneKeys.slice().sort(),
        coordinatorJobs(n)
          .map((j) => j.key)
          .sort(),
        'each job ran once in total',
      );
      const local = await new InlineExecutor().run(coordinatorJobs(n));
      assert.deepEqual(
        again.results,
        local.map((o) => (o.ok ? o.result : undefined)),
      );
    } finally {
      await executor.close();
      await store.close();
      await stopWorker(w);
    }
  });

  it('database down mid-run: a clear, masked error; after a restart nothing finished is lost and nothing runs twice', async () => {
    const pg = await testPostgres();
    const url = pg.createDatabase('queue_down');
    const w = startWorker(url);
    const jobs = Array.from({ length: 8 }, (_, i) => spinKind.job(`d${i}`, { rounds: 1000, sleepMs: 300 }, i));
    const first = new QueueExecutor({ url, pollMs: 100 });
    const second = new QueueExecutor({ url, pollMs: 100, heartbeatTimeoutMs: 3000 });
    let stopped = false;
    try {
      const running = first.run(jobs).then(
        () => undefined,
        (e: Error) => e,
      );
      await w.waitFor(/done 'd1'/);
      pg.stop();
      stopped = true;
      const err = await running;
      assert.ok(err instanceof Error, 'the run fails while the database is down');
      assert.match(
        err.message,
        new RegExp(`PostgreSQL postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:${pg.port}/queue_down: `),
      );
      assert.ok(!err.message.includes(pg.password));
      pg.start();
      stopped = false;
      const outcomes = await second.run(jobs);
      const local = await new InlineExecutor().run(jobs);
      assert.deepEqual(
        outcomes.map((o) => o.ok && o.result),
        local.map((o) => o.ok && o.result),
      );
      await stopWorker(w);
      const doneKeys = w.lines.filter((l) => / done 'd\d+'/.test(l)).map((l) => /done '(d\d+)'/.exec(l)![1]);
      assert.deepEqual(doneKeys.slice().sort(), jobs.map((j) => j.key).sort(), 'each job ran once in total');
      assert.ok(!w.lines.join('\n').includes(pg.password), 'worker logs mask the password');
    } finally {
      if (stopped) pg.start();
      await first.close();
      await second.close();
      await stopWorker(w);
    }
  });

  it('refuses a job kind the workers do not register, and a message carrying a module path; neither runs', async () => {
    const url = (await testPostgres()).createDatabase('queue_refuse');
    const w = startWorker(url);
    const executor = new QueueExecutor({ url, pollMs: 100, maxRetries: 2 });
    const marker = path.join(os.tmpdir(), `marl-evil-${process.pid}`);
    const evil = path.join(os.tmpdir(), `marl-evil-${process.pid}.js`);
    fs.writeFileSync(evil, `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran'); exports.spin = () => 1;`);
    try {
      const [outcome] = await executor.run([unregisteredKind.job('x', {}, 0)]);
      assert.equal(outcome.ok, false);
      assert.equal(outcome.attempts, 1, 'a refusal is final, not retried');
      assert.match(
        !outcome.ok ? outcome.error.message : '',
        /refused by worker .*unknown job kind 'test-queue-not-on-workers'/,
      );
      await w.waitFor(/REFUSED 'x'/);
      // A hand-made message that names a module: refused for its extra field, the module never loaded.
      const boss = await startBoss(url, { supervise: false, expireInSeconds: 60, retryLimit: 0 });
      const job = spinKind.job('evil', { rounds: 1 }, 0);
      await boss.send('marl-automl-jobs', {
        v: 1,
        hash: runHash(job),
        key: 'evil',
        kind: 'test-queue-spin',
        version: 'spin@1',
        seed: 0,
        config: { rounds: 1 },
        module: evil,
      });
      await w.waitFor(/REFUSED 'evil'.*unexpected field\(s\) module/);
      await boss.stop({ graceful: false, wait: true });
      assert.equal(fs.existsSync(marker), false, 'the named module was never required');
      assert.ok(!w.lines.some((l) => /start '(x|evil)'/.test(l)), 'refused jobs never start');
    } finally {
      await executor.close();
      await stopWorker(w);
      fs.rmSync(evil, { force: true });
      fs.rmSync(marker, { force: true });
    }
  });

  it('bad password, unreachable server: clear errors with the credentials masked everywhere', async () => {
    const pg = await testPostgres();
    const wrong = pg.url.replace(pg.password, 'WrongPass-991');
    const checks: [string, () => Promise<unknown>][] = [
      ['QueueExecutor.ready', () => new QueueExecutor({ url: wrong }).ready()],
      ['PgExperimentStore.open', () => PgExperimentStore.open(wrong)],
    ];
    for (const [what, fn] of checks) {
      const err = await fn().then(
        () => assert.fail(`${what} should fail`),
        (e: Error) => e,
      );
      assert.match(err.message, /password authentication failed/, what);
      assert.match(err.message, /check the user name and password/, what);
      assert.match(err.message, /postgres:\*\*\*@127\.0\.0\.1/, what);
      assert.ok(!err.message.includes('WrongPass-991') && !String(err.stack).includes('WrongPass-991'), what);
      assert.ok(!require('util').inspect(err).includes('WrongPass-991'), `${what}: inspecting the error`);
    }
    const down = `postgres://postgres:Hidden-77@127.0.0.1:1/postgres`;
    const err = await PgExperimentStore.open(down).then(
      () => assert.fail('should fail'),
      (e: Error) => e,
    );
    assert.match(err.message, /ECONNREFUSED.*is the server running/);
    assert.ok(!err.message.includes('Hidden-77'));
    // The worker CLI: exits with a masked message.
    const w = startWorker(wrong);
    assert.equal(await w.exited, 1);
    const out = w.lines.join('\n');
    assert.match(out, /password authentication failed/);
    assert.ok(!out.includes('WrongPass-991'), out);
    // Executors never print the URL when logged.
    assert.ok(
      !require('util')
        .inspect(new QueueExecutor({ url: wrong }))
        .includes('WrongPass-991'),
    );
  });
});

describe('runtime/queue: message checks and masking (no database needed)', () => {
  it('refuseReason accepts registered kinds at the same version and refuses everything else', () => {
    const job = spinKind.job('k', { rounds: 3 }, 1);
    const msg = {
      v: 1,
      hash: runHash(job),
      key: 'k',
      kind: 'test-queue-spin',
      version: 'spin@1',
      seed: 1,
      config: { rounds: 3 },
    };
    assert.equal(refuseReason(msg), undefined);
    assert.match(refuseReason({ ...msg, kind: 'evil' })!, /unknown job kind 'evil'/);
    assert.match(
      refuseReason({ ...msg, version: 'spin@0' })!,
      /at version 'spin@1' here but the message asks for 'spin@0'/,
    );
    assert.match(refuseReason({ ...msg, module: '/tmp/x.js' })!, /unexpected field\(s\) module/);
    assert.match(refuseReason({ ...msg, export: 'spin' })!, /unexpected field\(s\) export/);
    assert.match(refuseReason({ ...msg, config: { rounds: 4 } })!, /run hash mismatch/);
    assert.match(refuseReason(null)!, /not an object/);
    assert.match(refuseReason({ ...msg, seed: 1.5 })!, /seed/);
  });

  it('maskUrl and maskSecrets hide passwords in URLs, text and query parameters', () => {
    assert.equal(maskUrl('postgres://me:hunter2@db:5432/x'), 'postgres://me:***@db:5432/x');
    assert.equal(maskUrl('postgres://me@db/x'), 'postgres://me@db/x');
    assert.equal(
      maskUrl('postgres://db/x?password=hunter2&sslmode=require'),
      'postgres://db/x?password=***&sslmode=require',
    );
    assert.equal(maskUrl('not a url :: hunter2'), '***');
    const url = 'postgres://me:p%40ss%21word@db/x';
    const text = `connect to ${url} failed; password p@ss!word rejected (p%40ss%21word)`;
    const masked = maskSecrets(text, url);
    assert.ok(!masked.includes('p@ss!word') && !masked.includes('p%40ss%21word'), masked);
    assert.match(masked, /postgres:\/\/me:\*\*\*@db\/x/);
  });

  it('MARL_AUTOML_DB alone selects distributed mode, and the sessions can say which mode they run in', async () => {
    const lines: string[] = [];
    const local = modeExecutor(() => new InlineExecutor(), { env: {}, log: (l) => lines.push(l) });
    assert.ok(local instanceof InlineExecutor);
    assert.equal(executorMode(local), 'embedded (inline, in this thread)');
    assert.equal(lines.length, 0);
    const env = { MARL_AUTOML_DB: 'postgres://marl:TopSecret9@db.lan:5432/marl' };
    const remote = modeExecutor(() => new InlineExecutor(), { env, log: (l) => lines.push(l) });
    assert.ok(remote instanceof QueueExecutor, 'no connection is made before the first run');
    assert.equal(executorMode(remote), 'distributed (PostgreSQL queue at postgres://marl:***@db.lan:5432/marl)');
    assert.match(lines[0], /distributed mode .*postgres:\/\/marl:\*\*\*@db\.lan:5432\/marl.*npm run worker/);
    assert.ok(!lines[0].includes('TopSecret9'));
    await remote.close();
  });

  it('QueueExecutor rejects a URL that is not postgres:// with a message naming the variable', () => {
    assert.throws(
      () => new QueueExecutor({ url: 'mysql://u:secretpw@h/x' }),
      /expected a URL starting with postgres:\/\/.*mysql:\/\/u:\*\*\*@h\/x/,
    );
    const saved = process.env.MARL_AUTOML_DB;
    delete process.env.MARL_AUTOML_DB;
    try {
      assert.throws(() => new QueueExecutor(), /MARL_AUTOML_DB: expected a postgres:\/\/ URL/);
    } finally {
      if (saved !== undefined) process.env.MARL_AUTOML_DB = saved;
    }
  });
});
