import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  SURROGATE_METHODS,
  budgetRows,
  claimRows,
  claimVerdict,
  expectedTableValue,
  learnerMoved,
  monotonicDropFraction,
  parseSurrogatePlan,
  regretCurve,
  regretCurves,
  runSurrogateSearches,
  surrogateCells,
  surrogatePlan,
} from '../../src/ma2ml/experiments/surrogate';
import type { SurrogatePlan, SurrogateRun, SurrogateSearchResult } from '../../src/ma2ml/experiments/surrogate';
import { InlineExecutor } from '../../src/runtime/executor';
import { ExperimentStore } from '../../src/runtime/store';

function expectField(fn: () => unknown, field: RegExp): void {
  assert.throws(fn, (err: Error) => field.test(err.message), 'error should name the field');
}

describe('ma2ml surrogate experiments (notebook 23)', function () {
  this.timeout(60_000);

  describe('plans', () => {
    it('presets: quick and full use >= 10 tasks and >= 10 seeds; full reports 36, 200, 1000', () => {
      const q = surrogatePlan('quick');
      const f = surrogatePlan('full');
      assert.ok(q.tasks.length >= 10 && q.seeds.length >= 10);
      assert.ok(f.tasks.length >= 10 && f.seeds.length >= 10);
      assert.deepEqual(f.budgets, [36, 200, 1000]);
      assert.deepEqual(f.methods, [...SURROGATE_METHODS]);
      assert.deepEqual(q.tasks, f.tasks, 'the same fixed task set');
      assert.equal(new Set(f.tasks).size, f.tasks.length);
    });

    it('validation errors name the field', () => {
      const bad = (edit: (p: Record<string, unknown>) => void) => () => {
        const p = surrogatePlan('smoke') as unknown as Record<string, unknown>;
        edit(p);
        parseSurrogatePlan(p);
      };
      expectField(
        bad((p) => (p.budgets = [200, 36])),
        /budgets/,
      );
      expectField(
        bad((p) => (p.seeds = [0, 0])),
        /seeds/,
      );
      expectField(
        bad((p) => (p.tasks = ['abc'])),
        /tasks\.0/,
      );
      expectField(
        bad((p) => (p.noiseSd = -1)),
        /noiseSd/,
      );
      expectField(
        bad((p) => (p.methods = ['ma2ml', 'nope'])),
        /methods\.1/,
      );
      expectField(
        bad((p) => (p.batchSize = 0)),
        /batchSize/,
      );
      expectField(
        bad((p) => (p.moduleOnly = { method: 'ma2ml', config: { num_layers: 7 } })),
        /moduleOnly/,
      );
    });
  });

  describe('exact expected value', () => {
    it('equals enumeration on a small table and the mean for uniform tokens', () => {
      const rewards = Float64Array.from({ length: 2 * 3 * 2 }, (_, i) => Math.sin(i + 1));
      const probs = [[Float32Array.of(0.3, 0.7), Float32Array.of(0.2, 0.5, 0.3)], [Float32Array.of(0.6, 0.4)]];
      let want = 0;
      for (let a = 0; a < 2; a++)
        for (let b = 0; b < 3; b++)
          for (let c = 0; c < 2; c++)
            want += probs[0][0][a] * probs[0][1][b] * probs[1][0][c] * rewards[(a * 3 + b) * 2 + c];
      assert.ok(Math.abs(expectedTableValue(rewards, probs) - want) < 1e-6);
      const uni = [[Float32Array.of(0.5, 0.5), Float32Array.of(1 / 3, 1 / 3, 1 / 3)], [Float32Array.of(0.5, 0.5)]];
      const mean = rewards.reduce((s, v) => s + v, 0) / rewards.length;
      assert.ok(Math.abs(expectedTableValue(rewards, uni) - mean) < 1e-6);
    });
  });

  describe('a tiny run on one task (2 seeds)', () => {
    let dir: string;
    let store: ExperimentStore;
    let plan: SurrogatePlan;
    let runs: SurrogateRun[];
    let computed: number;
    let best: number;
    let mean: number;

    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nb23-test-'));
      store = ExperimentStore.open(path.join(dir, 'store.sqlite'));
      const p = surrogatePlan('smoke');
      plan = parseSurrogatePlan({
        ...p,
        seeds: [0, 1],
        budgets: [8, 24],
        batchSize: 4,
        methods: ['ma2ml', 'ma2ml-lite', 'random', 'sequential'],
        moduleOnly: {
          method: 'ma2ml',
          config: {
            num_layers: 2,
            max_units: 256,
            max_dropout: 0,
            batch_size: 64,
            learning_rate: 0.01,
            momentum: 0.9,
            weight_decay: 1e-4,
          },
        },
      });
      const res = await runSurrogateSearches(plan, surrogateCells(plan), {
        executor: new InlineExecutor(),
        store,
        tableCacheDir: path.join(dir, 'tables'),
      });
      runs = res.runs;
      computed = res.computed;
      best = (res.tables.get(plan.tasks[0]) as { best: number }).best;
      mean = (res.tables.get(plan.tasks[0]) as { mean: number }).mean;
    });

    after(() => {
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('curves have the right length and regret is exactly best - best-so-far value', () => {
      // 3 methods at 24 + sequential at 8 and 24 + 2 module-only, per seed
      assert.equal(runs.length, 2 * (3 + 2 + 2));
      assert.equal(computed, runs.length);
      for (const r of runs) {
        assert.equal(r.result.values.length, r.cell.evaluations);
        assert.equal(r.result.rewards.length, r.cell.evaluations);
        assert.equal(r.result.best, best);
        const raw = regretCurve(r.result, { normalised: false });
        const norm = regretCurve(r.result);
        let bsf = -Infinity;
        r.result.values.forEach((v, k) => {
          bsf = Math.max(bsf, v);
          assert.equal(raw[k], best - bsf);
          assert.ok(Math.abs(norm[k] - (best - bsf) / (best - r.result.median)) < 1e-12);
          assert.ok(raw[k] >= 0);
        });
        // noise sd 0.01: observed rewards differ from the noiseless values
        assert.ok(r.result.rewards.some((x, k) => x !== r.result.values[k]));
      }
    });

    it("random search's regret curve is non-increasing", () => {
      for (const r of runs.filter((x) => x.cell.method === 'random')) {
        const c = regretCurve(r.result);
        for (let k = 1; k < c.length; k++) assert.ok(c[k] <= c[k - 1]);
      }
    });

    it('records learner diagnostics and the exact expected value after every update', () => {
      const m = runs.find((r) => r.cell.label === 'ma2ml') as SurrogateRun;
      assert.equal(m.result.diagnostics.length, 24 / 4);
      assert.equal((m.result.expected as number[]).length, 24 / 4 + 1);
      assert.ok(
        Math.abs((m.result.expected as number[])[0] - mean) < 1e-4,
        'initial uniform policy: expected value = table mean',
      );
      const mod = runs.find((r) => r.cell.module === 0) as SurrogateRun;
      assert.ok(mod.result.values.length === 24);
    });

    it('summaries: curves, budget rows and claim rows', () => {
      const labels = [...plan.methods, 'ma2ml only architecture', 'ma2ml only optimisation'];
      const curves = regretCurves(runs, plan, labels);
      assert.equal(curves.random.steps[curves.random.steps.length - 1], 24);
      const rows = budgetRows(runs, plan, labels);
      assert.equal(rows.length, labels.length * 2);
      const claims = claimRows(runs, plan);
      assert.ok(claims.some((c) => c.b === 'ma2ml only architecture'));
      for (const c of claims) assert.ok(['holds', 'not shown', 'contradicted', 'untestable'].includes(c.verdict));
    });

    it('a second run computes nothing (every search from the store)', async () => {
      const again = await runSurrogateSearches(plan, surrogateCells(plan), {
        executor: new InlineExecutor(),
        store,
        tableCacheDir: path.join(dir, 'tables'),
      });
      assert.equal(again.computed, 0);
      assert.equal(again.cached, runs.length);
      assert.deepEqual(
        again.runs.map((r) => r.result.values),
        runs.map((r) => r.result.values),
      );
    });
  });

  describe('claim verdicts', () => {
    it('holds / contradicted / not shown from the CI, untestable when a learner did not move', () => {
      assert.equal(
        claimVerdict({ diff: { point: -0.1, lo: -0.2, hi: -0.01 }, higherIsBetter: false, moved: true }),
        'holds',
      );
      assert.equal(
        claimVerdict({ diff: { point: 0.1, lo: 0.01, hi: 0.2 }, higherIsBetter: false, moved: true }),
        'contradicted',
      );
      assert.equal(
        claimVerdict({ diff: { point: 0.1, lo: -0.01, hi: 0.2 }, higherIsBetter: false, moved: true }),
        'not shown',
      );
      assert.equal(
        claimVerdict({ diff: { point: -0.1, lo: -0.2, hi: -0.01 }, higherIsBetter: false, moved: false }),
        'untestable',
      );
      assert.equal(
        claimVerdict({
          diff: { point: -0.1, lo: -0.2, hi: -0.01 },
          higherIsBetter: false,
          moved: true,
          criticOk: false,
        }),
        'untestable',
      );
      assert.equal(
        claimVerdict({
          diff: { point: -0.1, lo: -0.2, hi: -0.01 },
          higherIsBetter: false,
          moved: true,
          criticOk: true,
        }),
        'holds',
      );
    });

    it('constructed runs: learners whose entropy stayed above 0.95 of uniform make the claim untestable', () => {
      const plan = parseSurrogatePlan({
        ...surrogatePlan('smoke'),
        tasks: ['3945', '7593'],
        seeds: [0, 1, 2],
        budgets: [8],
        batchSize: 4,
        methods: ['ma2ml', 'ma2ml-no-credit'],
      });
      const mk = (
        label: 'ma2ml' | 'ma2ml-no-credit',
        task: string,
        seed: number,
        good: boolean,
        entropy: number,
        ev: number,
      ): SurrogateRun => {
        const values = good
          ? [0.5, 0.9, 0.9, 0.95, 0.95, 0.95, 0.99, 1]
          : [0.5, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.7 + 0.01 * seed];
        const result: SurrogateSearchResult = {
          task,
          method: label,
          module: null,
          evaluations: 8,
          best: 1,
          median: 0.5,
          values,
          rewards: values,
          expected: [0.6, 0.7, 0.8],
          diagnostics: [4, 8].map((e) => ({ evaluations: e, 'entropyFraction.mean': entropy, criticEvHeldOut: ev })),
        };
        return { cell: { task, label, method: label, module: null, seed, evaluations: 8 }, result, seconds: 0 };
      };
      const build = (entropy: number, ev = 0.4) =>
        plan.tasks.flatMap((t) =>
          plan.seeds.flatMap((s) => [
            mk('ma2ml', t, s, true, entropy, ev),
            mk('ma2ml-no-credit', t, s, false, entropy, NaN),
          ]),
        );
      const moved = claimRows(build(0.5), plan).find((r) => r.b === 'ma2ml-no-credit') as {
        verdict: string;
        criticEv: number;
      };
      assert.equal(moved.verdict, 'holds');
      assert.ok(Math.abs(moved.criticEv - 0.4) < 1e-12);
      // The same difference with a critic worse than a constant on fresh evaluations: credit is noise here.
      assert.equal(
        (claimRows(build(0.5, -0.5), plan).find((r) => r.b === 'ma2ml-no-credit') as { verdict: string }).verdict,
        'untestable',
      );
      const still = build(0.99);
      assert.equal(learnerMoved(still, plan, 'ma2ml', 8), false);
      assert.equal(
        (claimRows(still, plan).find((r) => r.b === 'ma2ml-no-credit') as { verdict: string }).verdict,
        'untestable',
      );
      assert.equal(monotonicDropFraction(still[0].result, 8, 4), 0);
    });
  });
});
