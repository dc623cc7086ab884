import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tf } from '../../src/backend';
import {
  DEFAULT_VARIANT,
  GannoTrainConfigSchema,
  LayerLrEnvConfigSchema,
  TEST_ACCURACY,
  VAL_LOSS_AUC,
  agentEntries,
  baselineController,
  baselineDefs,
  controllerFromSpec,
  evaluateClaim,
  evaluateEntries,
  gannoPlan,
  gannoVariants,
  scoreMatrix,
  summarise,
  trainFolder,
  trainGannoVariants,
  tuneBaselines,
  variantTrainConfig,
} from '../../src/ganno';
import type { EvalRow, GannoPlan } from '../../src/ganno';
import { ExperimentStore, InlineExecutor } from '../../src/runtime';

describe('ganno/experiments: plans, variants, cached training and evaluation grids', function () {
  this.timeout(120_000);

  it('every preset plan is valid: env and every variant config parse, seeds are disjoint', () => {
    for (const preset of ['smoke', 'quick', 'full'] as const) {
      const plan = gannoPlan(preset);
      LayerLrEnvConfigSchema.parse(plan.env);
      for (const t of plan.generalisation) LayerLrEnvConfigSchema.parse(t.env);
      const variants = gannoVariants(plan);
      assert.equal(variants[0].name, 'default');
      assert.equal(new Set(variants.map((v) => v.name)).size, variants.length);
      for (const v of variants) {
        const cfg = variantTrainConfig(plan, v, 0);
        LayerLrEnvConfigSchema.parse(cfg.env);
        GannoTrainConfigSchema.parse({ ...cfg, dir: 'x' });
      }
      const all = [
        ...plan.agentSeeds.map((s) => `a${s}`),
        ...plan.testSeeds,
        ...plan.tuneSeeds,
        ...plan.train.valSeeds,
      ];
      const tasks = [...plan.testSeeds, ...plan.tuneSeeds, ...plan.train.valSeeds];
      assert.equal(new Set(tasks).size, tasks.length, `${preset}: test, tuning and validation task seeds overlap`);
      assert.ok(all.length > 0);
      if (preset !== 'smoke') assert.ok(plan.agentSeeds.length >= (preset === 'quick' ? 3 : 5));
      for (const b of baselineDefs(plan.env.task!.totalSteps!)) controllerFromSpec(baselineController(b, 0.1)); // specs build
    }
    assert.throws(() => gannoPlan('huge' as never), /unknown preset "huge"/);
  });

  it('variant overrides merge into the plan env field by field', () => {
    const plan = gannoPlan('quick');
    const k = gannoVariants(plan).find((v) => v.name === 'k-20')!;
    const cfg = variantTrainConfig(plan, k, 3);
    const task = (cfg.env as { task: Record<string, unknown> }).task;
    assert.equal((cfg.env as { k?: number }).k, 20);
    assert.equal(task.totalSteps, plan.env.task!.totalSteps);
    assert.equal(cfg.seed, 3);
    assert.equal(
      variantTrainConfig(
        plan,
        gannoVariants(plan).find((v) => v.name === 'shared-reward')!,
        0,
      ).credit,
      'shared',
    );
    assert.notEqual(trainFolder('/r', 'a-s0', cfg), trainFolder('/r', 'a-s0', { ...cfg, updates: 99 }));
    assert.throws(() => trainFolder('/r', 'bad/label', cfg), /label must use/);
  });

  it('claims: a clear improvement holds, a reversed one is contradicted, noise is not shown', () => {
    const base = [[0.8, 0.7, 0.9, 0.6, 0.75, 0.85]];
    const better = [0, 1, 2].map((s) => base[0].map((v, j) => v + 0.05 + 0.002 * ((s + j) % 3)));
    const c = evaluateClaim('A beats B', better, base, TEST_ACCURACY);
    assert.equal(c.verdict, 'holds');
    assert.ok(Math.abs(c.improvement.point - 5.2) < 0.3, c.sentence);
    assert.match(c.sentence, /^holds here: \+5\.\d\d pp/);
    assert.equal(evaluateClaim('B beats A', base, better, TEST_ACCURACY).verdict, 'contradicted');
    const noisy = [0, 1, 2].map((s) => base[0].map((v, j) => v + (((s * 7 + j * 3) % 5) - 2) * 0.02));
    assert.equal(evaluateClaim('noise', noisy, base, TEST_ACCURACY).verdict, 'not shown');
    // too few tasks: no verdict, however large the difference
    const two = evaluateClaim('tiny', [[0.9, 0.9]], [[0.1, 0.1]], TEST_ACCURACY);
    assert.equal(two.verdict, 'not shown');
    assert.match(two.sentence, /only 2 tasks/);
    // a margin turns it into non-inferiority: 0.5 pp worse is within a 1 pp margin
    const worse = [0, 1].map(() => base[0].map((v) => v - 0.005));
    assert.equal(evaluateClaim('competitive', worse, base, TEST_ACCURACY, { margin: 1 }).verdict, 'holds');
    assert.equal(evaluateClaim('better', worse, base, TEST_ACCURACY).verdict, 'contradicted');
    // lower-is-better metrics flip the sign
    const auc = evaluateClaim(
      'lower AUC',
      base.map((r) => r.map((v) => v - 0.1)),
      base,
      VAL_LOSS_AUC,
    );
    assert.equal(auc.verdict, 'holds');
    assert.ok(Math.abs(auc.improvement.point - 0.1) < 1e-9);
    // a learner that did not move is no evidence: the verdict is "untestable at this budget", never "contradicted"
    const still = evaluateClaim('B beats A', base, better, TEST_ACCURACY, { learners: { moved: 4, total: 5 } });
    assert.equal(still.verdict, 'untestable');
    assert.match(still.sentence, /^untestable at this budget \(1 of 5 trained policies did not move/);
    assert.match(
      evaluateClaim('A beats B', better, base, TEST_ACCURACY, { learners: { moved: 5, total: 5 } }).sentence,
      /5\/5 policies moved$/,
    );
  });

  it('scoreMatrix refuses incomplete grids, naming the label and cell', () => {
    const row = (label: string, run: number, taskSeed: number, acc: number) =>
      ({ label, run, taskSeed, testAccuracy: acc, tags: {} }) as unknown as EvalRow;
    const rows = [row('a', 0, 1, 0.5), row('a', 0, 2, 0.6), row('a', 1, 1, 0.7)];
    assert.throws(() => scoreMatrix(rows, 'a', TEST_ACCURACY), /a has no result for run 1, task 2/);
    assert.throws(() => scoreMatrix(rows, 'b', TEST_ACCURACY), /no rows for "b"/);
    assert.deepEqual(scoreMatrix(rows.slice(0, 2), 'a', TEST_ACCURACY), [[0.5, 0.6]]);
  });

  describe('end to end on a tiny plan (inline executor, temporary store)', () => {
    let dir: string;
    let store: ExperimentStore;
    let plan: GannoPlan;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ganno-exp-'));
      store = ExperimentStore.open(path.join(dir, 'store.sqlite'));
      const smoke = gannoPlan('smoke');
      plan = {
        ...smoke,
        env: {
          task: {
            ...smoke.env.task,
            datasets: ['synthetic'],
            totalSteps: 20,
            trainSize: 200,
            valSize: 100,
            widths: [16],
          },
        },
        train: { ...smoke.train, updates: 1 },
        testSeeds: [1100001, 1100002],
        tuneSeeds: [500001],
        budgetCurve: [1, 2],
      };
    });
    after(() => {
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('trains, caches, retrains a deleted checkpoint, and evaluates agents and tuned baselines without leaking tensors', async () => {
      const executor = new InlineExecutor();
      const before = tf.memory().numTensors;
      const agents = await trainGannoVariants({
        plan,
        variants: [DEFAULT_VARIANT],
        executor,
        store,
        root: path.join(dir, 'agents'),
      });
      assert.equal(agents.length, 1);
      assert.ok(fs.existsSync(path.join(agents[0].bestDir, 'ganno.json')));
      // the default agent trains along the budget curve (1x, 2x) and its 1x checkpoint is the one the tables use
      assert.equal(agents[0].teamReturn.length, 2);
      assert.deepEqual(
        agents[0].milestones.map((m) => m.update),
        [1, 2],
      );
      assert.equal(agents[0].bestDir, agents[0].milestones[0].dir);
      assert.equal(agents[0].budgetUpdates, 1);
      assert.equal(agents[0].diagnostics.length, 2);
      assert.equal(typeof agents[0].moved, 'boolean');
      // cached: same summary, no retraining (same seconds field proves it came from the store)
      const again = await trainGannoVariants({
        plan,
        variants: [DEFAULT_VARIANT],
        executor,
        store,
        root: path.join(dir, 'agents'),
      });
      assert.deepEqual(again, agents);
      // a deleted checkpoint is retrained, not returned as a dangling path
      fs.rmSync(agents[0].dir, { recursive: true, force: true });
      const redone = await trainGannoVariants({
        plan,
        variants: [DEFAULT_VARIANT],
        executor,
        store,
        root: path.join(dir, 'agents'),
      });
      assert.ok(fs.existsSync(path.join(redone[0].bestDir, 'ganno.json')));
      assert.deepEqual(redone[0].teamReturn, agents[0].teamReturn); // deterministic retraining

      const tuned = await tuneBaselines({
        baselines: baselineDefs(20).slice(0, 2),
        env: plan.env,
        grid: [0.03, 0.3],
        seeds: plan.tuneSeeds,
        executor,
        store,
      });
      assert.deepEqual(
        tuned.map((t) => t.def.name),
        ['constant', 'step'],
      );
      for (const t of tuned) assert.ok([0.03, 0.3].includes(t.peakLr));
      const rows = await evaluateEntries({
        name: 'test-grid',
        entries: [
          ...agentEntries(redone, 'agent', plan.env, plan.testSeeds),
          {
            label: 'constant',
            controller: baselineController(tuned[0].def, tuned[0].peakLr),
            env: plan.env,
            seeds: plan.testSeeds,
          },
        ],
        executor,
        store,
        testSize: 200,
      });
      assert.equal(rows.length, 4);
      const summary = summarise(rows, ['agent', 'constant'], TEST_ACCURACY);
      assert.equal(summary[0].tasks, 2);
      for (const s of summary) assert.ok(s.mean.lo <= s.mean.point && s.mean.point <= s.mean.hi);
      const claim = evaluateClaim(
        'agent beats constant',
        scoreMatrix(rows, 'agent', TEST_ACCURACY),
        scoreMatrix(rows, 'constant', TEST_ACCURACY),
        TEST_ACCURACY,
      );
      assert.ok(['holds', 'contradicted', 'not shown'].includes(claim.verdict));
      assert.equal(tf.memory().numTensors, before, 'tensors leaked by training or evaluation');
    });
  });
});
