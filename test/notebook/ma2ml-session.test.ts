import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ma2mlPlan, planSpace } from '../../src/ma2ml';
import { surrogatePlan } from '../../src/ma2ml/experiments/surrogate';
import { PRESET_ENV, openMa2mlSession, openMa2mlSurrogateSession } from '../../src/notebook';

describe('notebook/ma2ml-session: one call opens what notebooks 21-23 start from', () => {
  let dir: string;
  let saved: string | undefined;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ma2ml-session-'));
    saved = process.env[PRESET_ENV];
    process.env[PRESET_ENV] = 'smoke';
  });
  after(() => {
    if (saved === undefined) delete process.env[PRESET_ENV];
    else process.env[PRESET_ENV] = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('opens the preset plan, its space, executor and store, prints the mode, and closes once', async () => {
    const lines: string[] = [];
    const file = path.join(dir, 'store.sqlite');
    const s = await openMa2mlSession({ log: (l) => lines.push(l), storeFile: file });
    const plan = ma2mlPlan('smoke');
    assert.deepEqual(s.plan, plan);
    assert.deepEqual(s.space, planSpace(plan));
    assert.equal(s.store.file, file);
    assert.deepEqual(s.mode, lines);
    assert.match(lines[0], /^backend: .*; store: .*store\.sqlite$/);
    assert.equal(lines[1], `plan: ${plan.description}`);
    assert.match(lines[2], new RegExp(`${plan.methods.length} methods x 2 budgets x ${plan.seeds.length} seeds`));
    assert.match(lines[2], plan.workers > 0 ? /worker threads$/ : /inline$/);
    await s.close();
    await s.close(); // idempotent
    assert.throws(() => s.store.listExperiments()); // the store is closed
  });

  it('the surrogate session opens the surrogate plan', async () => {
    const lines: string[] = [];
    const s = await openMa2mlSurrogateSession({ log: (l) => lines.push(l), storeFile: path.join(dir, 'b.sqlite') });
    assert.deepEqual(s.plan, surrogatePlan('smoke'));
    assert.equal(lines.length, 2);
    assert.match(lines[1], new RegExp(`^plan: ${surrogatePlan('smoke').description.replace(/[()]/g, '\\$&')}`));
    await s.close();
  });
});
