import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import {
  ConstantLR,
  CosineAnnealingLR,
  ExponentialLR,
  LinearLR,
  MultiStepLR,
  OneCycleLR,
  ReduceLROnPlateau,
  Schedule,
  StepLR,
  warmupCosine,
} from '../../src/schedules';

// Sequences produced by torch.optim.lr_scheduler (PyTorch 1.13): test/fixtures/schedules/make_schedule_fixtures.py
interface Case {
  name: string;
  kind: string;
  lrs: number[];
  config: Record<string, unknown>;
  steps: number;
  metrics?: number[];
  optimizer: 'sgd' | 'adam';
  lr: number[][];
  momentum?: number[][];
  error?: { type: string; message: string; failedAt: number };
}
const ref = JSON.parse(
  fs.readFileSync(path.join(__dirname, '../fixtures/schedules/schedule_reference.json'), 'utf8'),
) as { torch: string; cases: Case[] };

function build(c: Case): Schedule {
  const cfg = c.config as never;
  switch (c.kind) {
    case 'StepLR':
      return new StepLR(c.lrs, cfg);
    case 'MultiStepLR':
      return new MultiStepLR(c.lrs, cfg);
    case 'ExponentialLR':
      return new ExponentialLR(c.lrs, cfg);
    case 'ConstantLR':
      return new ConstantLR(c.lrs, cfg);
    case 'LinearLR':
      return new LinearLR(c.lrs, cfg);
    case 'CosineAnnealingLR':
      return new CosineAnnealingLR(c.lrs, cfg);
    case 'WarmupCosine':
      return warmupCosine(c.lrs, cfg);
    case 'OneCycleLR':
      return new OneCycleLR(c.lrs, cfg);
    case 'ReduceLROnPlateau':
      return new ReduceLROnPlateau(c.lrs, cfg);
    default:
      throw new Error(`unknown kind ${c.kind}`);
  }
}

/** float64 agreement: 1e-12 relative (values here are >= 1e-9, far from the denormal range). */
function assertClose(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: group count`);
  actual.forEach((a, i) => {
    const e = expected[i];
    assert.ok(
      Math.abs(a - e) <= 1e-12 * Math.abs(e),
      `${what} group ${i}: got ${a}, PyTorch ${e} (rel err ${Math.abs(a - e) / Math.abs(e)})`,
    );
  });
}

function step(s: Schedule, c: Case, t: number): void {
  if (c.kind === 'ReduceLROnPlateau') s.step((c.metrics as number[])[t]);
  else s.step();
}

describe(`schedules match PyTorch ${ref.torch} reference sequences`, () => {
  for (const c of ref.cases) {
    it(`${c.kind} ${c.name}${c.error ? ` (PyTorch raises ${c.error.type} at index ${c.error.failedAt})` : ''}`, () => {
      if (c.error && c.error.failedAt === 0) {
        assert.throws(() => build(c), /OneCycleLR: phase \d of \d has zero length .*totalSteps is too small/);
        return;
      }
      const s = build(c);
      assertClose(s.lastLr, c.lr[0], `${c.name} t=0`);
      if (c.momentum && c.config.cycleMomentum !== false)
        assertClose(s.momentum as number[], c.momentum[0], `${c.name} momentum t=0`);
      for (let t = 0; t < c.steps; t++) {
        if (c.error && c.error.failedAt === t + 1) {
          const re =
            c.error.type === 'ZeroDivisionError'
              ? /zero length .*totalSteps is too small/
              : /tried to step \d+ times, but totalSteps is \d+/;
          assert.throws(() => step(s, c, t), re);
          return;
        }
        step(s, c, t);
        assertClose(s.lastLr, c.lr[t + 1], `${c.name} t=${t + 1}`);
        if (c.momentum && c.config.cycleMomentum !== false)
          assertClose(s.momentum as number[], c.momentum[t + 1], `${c.name} momentum t=${t + 1}`);
      }
      assert.equal(c.error, undefined, 'PyTorch raised but we did not');
      if (c.config.cycleMomentum === false) assert.equal(s.momentum, undefined);
    });
  }
});
