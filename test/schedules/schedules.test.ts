import { strict as assert } from 'assert';
import {
  ConstantSchedule,
  CosineAnnealingLR,
  LinearLR,
  OneCycleLR,
  ParamGroups,
  ReduceLROnPlateau,
  SCHEDULE_TYPES,
  Schedule,
  ScheduleSpec,
  SequentialLR,
  StepLR,
  createSchedule,
  warmupCosine,
} from '../../src/schedules';

const specs: ScheduleSpec[] = [
  { type: 'constant' },
  { type: 'step', stepSize: 3, gamma: 0.5 },
  { type: 'multistep', milestones: [2, 4, 4] },
  { type: 'exponential', gamma: 0.95 },
  { type: 'constantlr', factor: 0.5, totalIters: 3 },
  { type: 'linear', startFactor: 0.2, totalIters: 4 },
  { type: 'cosine', tMax: 5, etaMin: 0.001 },
  { type: 'warmupCosine', warmupSteps: 3, startFactor: 0.1, tMax: 6 },
  { type: 'onecycle', maxLr: 0.2, totalSteps: 40, threePhase: true },
  { type: 'plateau', patience: 1, cooldown: 1, factor: 0.5 },
];
const metric = (t: number): number => [1, 0.9, 0.95, 0.96, 0.97, 0.8, 0.85, 0.9, 0.91, 0.92][t % 10];

function run(s: Schedule, from: number, to: number): number[][] {
  const out: number[][] = [];
  for (let t = from; t < to; t++) out.push(s.step(metric(t)));
  return out;
}

describe('schedules behaviour', () => {
  it('createSchedule covers every type; stateDict survives JSON and resumes the exact sequence', () => {
    assert.deepEqual(specs.map((s) => s.type).sort(), [...SCHEDULE_TYPES].sort());
    for (const spec of specs) {
      const lrs = [0.1, 0.03];
      const a = createSchedule(spec, lrs);
      run(a, 0, 7);
      const saved = JSON.parse(JSON.stringify(a.stateDict()));
      const restAfterA = run(a, 7, 20);
      const b = createSchedule(spec, lrs);
      run(b, 0, 2); // different position, then overwritten by the saved state
      b.loadStateDict(saved);
      assert.deepEqual(run(b, 7, 20), restAfterA, `${spec.type} resumes identically`);
      if (spec.type === 'onecycle') assert.deepEqual(b.momentum, a.momentum);
      assert.throws(() => b.loadStateDict({ ...saved, kind: 'Other' }), /state is for 'Other'/);
    }
  });

  it('plateau state keeps an infinite best across JSON and rejects a wrong group count', () => {
    const p = new ReduceLROnPlateau([0.1, 0.2]);
    const st = JSON.parse(JSON.stringify(p.stateDict()));
    assert.equal(st.best, 'Infinity');
    const q = new ReduceLROnPlateau([0.1, 0.2]);
    q.loadStateDict(st);
    assert.equal(q.best, Infinity);
    assert.throws(() => new ReduceLROnPlateau([0.1]).loadStateDict(st), /'lr' must be an array of 1 numbers/);
  });

  it('constant schedule keeps per-group base LRs; each group follows its own base LR', () => {
    const c = new ConstantSchedule([0.1, 0.01]);
    for (let i = 0; i < 5; i++) assert.deepEqual(c.step(), [0.1, 0.01]);
    const cos = new CosineAnnealingLR([0.4, 0.04], { tMax: 4 });
    cos.step();
    cos.step();
    const [a, b] = cos.lastLr;
    assert.ok(Math.abs(a - 0.2) < 1e-15 && Math.abs(b - 0.02) < 1e-15, `${a} ${b}`);
  });

  it('warmupCosine equals a hand-built SequentialLR and reaches the base LR at the milestone', () => {
    const w = warmupCosine([0.1], { warmupSteps: 4, startFactor: 0.25, tMax: 10 });
    const g = new ParamGroups([0.1]);
    const manual = new SequentialLR(
      g,
      [new LinearLR(g, { startFactor: 0.25, totalIters: 4 }), new CosineAnnealingLR(g, { tMax: 10 })],
      [4],
    );
    const seq = [w.lastLr[0]];
    for (let t = 0; t < 14; t++) {
      seq.push(w.step()[0]);
      assert.deepEqual(manual.step(), [seq[seq.length - 1]]);
    }
    assert.ok(Math.abs(seq[0] - 0.025) < 1e-15);
    assert.equal(seq[4], 0.1);
    assert.ok(seq[14] < 1e-15);
  });

  it('OneCycleLR peaks at maxLr at pctStart and ends at maxLr/divFactor/finalDivFactor', () => {
    const s = new OneCycleLR(1, { maxLr: 1, totalSteps: 101, pctStart: 0.3, divFactor: 10, finalDivFactor: 100 });
    const lrs = [s.lastLr[0]];
    const mom = [(s.momentum as number[])[0]];
    for (let t = 0; t < 100; t++) {
      lrs.push(s.step()[0]);
      mom.push((s.momentum as number[])[0]);
    }
    assert.ok(Math.abs(lrs[0] - 0.1) < 1e-15);
    const peak = lrs.indexOf(Math.max(...lrs));
    assert.ok(peak === 29 || peak === 30, `peak at ${peak}`);
    assert.ok(Math.abs(lrs[100] - 0.001) < 1e-12);
    assert.ok(
      Math.abs(mom[0] - 0.95) < 1e-15 && Math.abs(Math.min(...mom) - 0.85) < 1e-3 && Math.abs(mom[100] - 0.95) < 1e-12,
    );
  });

  it('ReduceLROnPlateau: NaN counts as no improvement; metric is required', () => {
    const p = new ReduceLROnPlateau(0.1, { patience: 1 });
    p.step(1);
    p.step(NaN);
    assert.deepEqual(p.lastLr, [0.1]);
    p.step(NaN);
    assert.ok(Math.abs(p.lastLr[0] - 0.01) < 1e-15);
    assert.throws(() => p.step(), /metric must be a number/);
  });

  it('rejects bad configs with messages naming the field', () => {
    assert.throws(() => new StepLR(0.1, { stepSize: 0 }), /Invalid StepLR config: stepSize: /);
    assert.throws(() => new StepLR(0.1, { stepSize: 2, gama: 0.5 } as never), /Unrecognized key.*gama/);
    assert.throws(() => new CosineAnnealingLR(0.1, { tMax: 5, etaMin: -1 }), /CosineAnnealingLR config: etaMin/);
    assert.throws(
      () => new OneCycleLR(1, { maxLr: 0.1 }),
      /OneCycleLR config: totalSteps: define either totalSteps or both epochs and stepsPerEpoch/,
    );
    assert.throws(() => new OneCycleLR(1, { maxLr: 0.1, totalSteps: 10, pctStart: 1.5 }), /pctStart/);
    assert.throws(
      () => new OneCycleLR([0.1, 0.1], { maxLr: [1, 2, 3], totalSteps: 10 }),
      /expected 2 values for maxLr/,
    );
    assert.throws(
      () => new OneCycleLR(1, { maxLr: 0.1, totalSteps: 10, annealStrategy: 'exp' as never }),
      /annealStrategy/,
    );
    assert.throws(() => new ReduceLROnPlateau(0.1, { factor: 1 }), /factor: factor should be < 1.0/);
    assert.throws(() => new ReduceLROnPlateau([0.1, 0.2], { minLr: [0.1] }), /minLr: expected 2 values/);
    assert.throws(() => new ReduceLROnPlateau(0.1, { mode: 'mid' as never }), /mode/);
    assert.throws(() => new ParamGroups([0.1, -1]), /learning rate of group 1 must be a finite number >= 0/);
    assert.throws(() => new LinearLR(0.1, { startFactor: 0 }), /startFactor/);
    assert.throws(() => createSchedule({ type: 'triangle' } as never, 0.1), /unknown schedule type "triangle"/);
    const g = new ParamGroups([0.1]);
    const other = new ParamGroups([0.1]);
    assert.throws(
      () => new SequentialLR(g, [new LinearLR(g), new CosineAnnealingLR(other, { tMax: 3 })], [2]),
      /schedulers\[1\] drives different ParamGroups/,
    );
    assert.throws(() => new SequentialLR(g, [new LinearLR(g)], [2]), /expected 0 milestones/);
  });
});
