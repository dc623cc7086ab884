import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tf } from '../../src/backend';
import { Rng } from '../../src/random';
import {
  AGENTS,
  ablationCells,
  ablationRow,
  areaUnderCurve,
  batchMeans,
  bestSoFarCurves,
  checkPipeline,
  claimSentence,
  comparisonRows,
  decodePipeline,
  defaultPipeline,
  differenceCI,
  dropFraction,
  encodePipeline,
  evaluationsToThreshold,
  flopsBudgets,
  formatInterval,
  MEASURED_COSTS,
  ma2mlPlan,
  mainCells,
  monotonicRows,
  formatAblationRows,
  formatComparisonRows,
  medianFinalBest,
  monotonicSynthetic,
  parsePlan,
  pipelineKey,
  planCost,
  planSpace,
  presetSpace,
  retrainBest,
  rewardNoise,
  runSearch,
  runSearches,
  SEARCH_METHODS,
  syntheticEvaluator,
  syntheticExpectedReward,
  syntheticReward,
  vocabSizes,
} from '../../src/ma2ml';
import type { Ma2mlPlan, SearchCell, SearchLogEntry, SearchMethod, SearchResult, SearchRun } from '../../src/ma2ml';
import { ExperimentStore, InlineExecutor } from '../../src/runtime';

const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;

/** A fake run whose best-so-far curve is `curve` (rewards = curve, so best-so-far equals it when non-decreasing). */
function fakeRun(label: string, seed: number, curve: number[], budget = 1): SearchRun {
  const space = presetSpace('smoke');
  const p = decodePipeline(
    space,
    vocabSizes(space).map((a) => a.map(() => 0)),
  );
  const log: SearchLogEntry[] = curve.map((v, i) => ({
    evaluation: i + 1,
    batch: Math.floor(i / 2),
    tokens: [],
    pipeline: p,
    reward: v,
    bestSoFar: Math.max(...curve.slice(0, i + 1)),
    repeat: i > 0,
    result: { reward: v },
  }));
  const bestIdx = curve.indexOf(Math.max(...curve));
  const result: SearchResult = {
    method: 'random',
    seed,
    evaluations: curve.length,
    log,
    best: { evaluation: bestIdx + 1, reward: curve[bestIdx], pipeline: p, tokens: [] },
    distinct: 1,
    cached: 0,
    computed: 1,
    masked: 0,
    diagnostics: [],
    wallSeconds: 0,
  };
  return { cell: { method: 'random', flops: { budget, rule: 'hard-mask' }, seed, label }, label, result };
}

describe('ma2ml/experiments: plans', () => {
  it('every preset gives a valid plan: all 8 methods, equal budgets, two FLOPs budgets, enough seeds', () => {
    for (const preset of ['smoke', 'quick', 'full'] as const) {
      const plan = ma2mlPlan(preset);
      assert.deepEqual(plan.methods, [...SEARCH_METHODS]);
      assert.ok(plan.flops[0].budget < plan.flops[1].budget);
      assert.ok(plan.ablations.divergenceWeights.includes(0));
      assert.deepEqual(
        plan.flops.map((f) => f.rule),
        ['hard-mask', 'hard-mask'],
      );
      const cells = mainCells(plan);
      assert.equal(cells.length, 8 * 2 * plan.seeds.length);
      // every (method, budget) has every seed
      for (const m of SEARCH_METHODS)
        for (const f of plan.flops)
          assert.deepEqual(
            cells
              .filter((c) => c.method === m && c.flops.budget === f.budget && c.flops.rule === f.rule)
              .map((c) => c.seed),
            plan.seeds,
          );
      const ab = ablationCells(plan);
      assert.ok(ab.every((c) => c.flops.budget === plan.flops[plan.ablations.budgetIndex].budget));
      assert.deepEqual(parsePlan(JSON.parse(JSON.stringify(plan))), plan, 'a plan survives JSON');
    }
    assert.ok(ma2mlPlan('quick').seeds.length >= 3);
    assert.ok(ma2mlPlan('full').seeds.length >= 5);
    assert.equal(ma2mlPlan('smoke').spacePreset, 'smoke');
  });

  it('an edited plan is validated naming the field', () => {
    const plan = ma2mlPlan('smoke') as unknown as Record<string, unknown>;
    assert.throws(() => parsePlan({ ...plan, seeds: [] }), /seeds/);
    assert.throws(() => parsePlan({ ...plan, seeds: [1, 1] }), /seeds.*distinct/);
    assert.throws(
      () =>
        parsePlan({
          ...plan,
          flops: [
            { budget: 5, rule: 'hard-mask' },
            { budget: 4, rule: 'hard-mask' },
          ],
        }),
      /flops.*tight/,
    );
    assert.throws(
      () =>
        parsePlan({
          ...plan,
          flops: [
            { budget: 4, rule: 'soft' },
            { budget: 5, rule: 'hard-mask' },
          ],
        }),
      /flops\.0\.rule: must be 'hard-mask'/,
    );
    assert.throws(
      () =>
        parsePlan({
          ...plan,
          flops: [
            { budget: -4, rule: 'hard-mask' },
            { budget: 5, rule: 'hard-mask' },
          ],
        }),
      /flops\.0\.budget/,
    );
    assert.throws(() => parsePlan({ ...plan, flopsBudgets: [4, 5] }), /flopsBudgets/);
    assert.throws(
      () => parsePlan({ ...plan, ablations: { ...(plan.ablations as object), divergenceWeights: [0.1, 1] } }),
      /divergenceWeights.*include 0/,
    );
    assert.throws(() => parsePlan({ ...plan, methods: ['ma2ml', 'bogus'] }), /methods/);
    assert.throws(() => ma2mlPlan('huge' as 'smoke'), /unknown preset "huge"/);
  });

  it('planCost counts evaluations, retrains and seconds', () => {
    const plan = ma2mlPlan('quick');
    const c = planCost(plan, {
      secondsPerEvaluation: 2,
      secondsPerRetrain: 10,
      secondsPerSyntheticUpdate: 0.5,
      speedup: 2,
    });
    const s = plan.seeds.length;
    assert.equal(c.searchEvaluations21, 8 * 2 * s * plan.evaluations);
    assert.equal(c.extraEvaluations22, (2 + 3) * s * plan.evaluations); // w = 0 and 1 are new; aug, nas, hpo only
    assert.equal(c.retrains, 8 * 2 * s);
    assert.equal(c.noiseEvaluations, plan.noise.pipelines * plan.noise.seeds.length);
    const syn = plan.ablations.synthetic;
    const searchUpdates = Math.ceil(syn.searchEvaluations / plan.batchSize);
    // monotonic check for 3 weights at its own setting and at the searches' batch size, the replay learner, 5 credit-quality learners
    const rs = plan.ablations.rewardSurrogate;
    assert.equal(
      c.syntheticUpdates,
      syn.seeds.length * (3 * (syn.updates + searchUpdates) + searchUpdates + 5 * searchUpdates) +
        7 * rs.seeds.length * Math.ceil(rs.evaluations / plan.batchSize),
    );
    assert.equal(
      c.totalSeconds,
      ((c.searchEvaluations21 + c.extraEvaluations22 + c.noiseEvaluations) * 2 + c.retrains * 10) / 2 +
        c.syntheticUpdates * 0.5,
    );
    // the presets' upper bounds at the measured costs stay inside their wall-time targets
    assert.ok(planCost(plan, MEASURED_COSTS.quick).totalSeconds < 30 * 60);
    assert.ok(planCost(ma2mlPlan('full'), MEASURED_COSTS.full).totalSeconds < 3 * 3600);
  });

  it('defaultPipeline: no augmentation, middle HPO choices, an architecture within the budget', () => {
    for (const preset of ['smoke', 'quick', 'full'] as const) {
      const space = presetSpace(preset);
      for (const b of flopsBudgets(preset)) {
        const p = defaultPipeline(space, b);
        const c = checkPipeline(space, p, { flopsBudget: b });
        assert.ok(c.valid, `${preset} @ ${b}: ${c.valid ? '' : c.reason}`);
        assert.ok(p.aug.every((sp) => sp.every((o) => o.op === 'Identity' && o.prob === 0)));
      }
    }
    const q = defaultPipeline(presetSpace('quick'), 6e5).hpo;
    assert.deepEqual([q.optimizer, q.learningRate, q.batchSize], ['momentum', 0.03, 128]);
    assert.throws(() => defaultPipeline(presetSpace('quick'), 10), /no architecture of 'quick'.*fits 10 MACs/);
  });
});

describe('ma2ml/experiments: statistics and claim sentences', () => {
  it('evaluationsToThreshold, areaUnderCurve, dropFraction, formatInterval', () => {
    assert.equal(evaluationsToThreshold([0.1, 0.5, 0.7], 0.5), 2);
    assert.equal(evaluationsToThreshold([0.1, 0.5, 0.7], 0.8), null);
    assert.equal(areaUnderCurve([0.2, 0.6, 0.6, 1]), 0.6);
    assert.equal(dropFraction([0.5, 0.6, 0.55, 0.7]), 1 / 3);
    assert.equal(dropFraction([0.5, 0.6, 0.59, 0.7], 0.02), 0);
    assert.equal(formatInterval({ point: 0.7123, lo: 0.69, hi: 0.73 }), '0.712 [0.690, 0.730]');
    assert.throws(() => dropFraction([1]), /at least 2/);
  });

  it('differenceCI: exact point, a CI away from 0 for separated samples and around 0 for equal ones', () => {
    const a = differenceCI([0.8, 0.82, 0.79, 0.81], [0.7, 0.72, 0.71, 0.69], { seed: 1 });
    assert.ok(Math.abs(a.point - 0.1) < 1e-12);
    assert.ok(a.lo > 0.07 && a.hi < 0.13 && a.lo <= a.point && a.point <= a.hi, JSON.stringify(a));
    const b = differenceCI([0.5, 0.7, 0.6], [0.6, 0.5, 0.7], { seed: 1 });
    assert.ok(Math.abs(b.point) < 1e-12 && b.lo < 0 && b.hi > 0);
    assert.deepEqual(differenceCI([1, 2, 3], [0, 1], { seed: 4 }), differenceCI([1, 2, 3], [0, 1], { seed: 4 }));
    assert.throws(() => differenceCI([], [1]), /x must be a non-empty/);
  });

  it('claimSentence: holds / contradicted / not shown, for higher- and lower-is-better metrics', () => {
    const args = { a: 'ma2ml', b: 'ma2ml-no-credit', metric: 'best reward' };
    assert.equal(
      claimSentence({ ...args, diff: { point: 0.03, lo: 0.01, hi: 0.05 } }),
      'holds here: ma2ml best reward exceeds ma2ml-no-credit by 0.030 [0.010, 0.050]',
    );
    assert.match(
      claimSentence({ ...args, diff: { point: -0.03, lo: -0.05, hi: -0.01 } }),
      /^contradicted here: ma2ml best reward is below ma2ml-no-credit/,
    );
    assert.match(
      claimSentence({ ...args, diff: { point: 0.01, lo: -0.01, hi: 0.03 } }),
      /^not shown here: .*\[-0\.010, 0\.030\], includes 0$/,
    );
    assert.match(
      claimSentence({
        ...args,
        metric: 'evaluations to threshold',
        higherIsBetter: false,
        diff: { point: -4, lo: -6, hi: -1 },
        digits: 1,
      }),
      /^holds here: ma2ml evaluations to threshold is below ma2ml-no-credit by -4\.0 \[-6\.0, -1\.0\]$/,
    );
    assert.match(
      claimSentence({ ...args, higherIsBetter: false, diff: { point: 4, lo: 1, hi: 6 } }),
      /^contradicted here/,
    );
    assert.throws(() => claimSentence({ ...args, diff: { point: NaN, lo: 0, hi: 1 } }), /diff.point must be finite/);
  });

  it('bestSoFarCurves and comparisonRows on synthetic logs with known answers', () => {
    const runs = [
      fakeRun('good', 0, [0.5, 0.6, 0.8]),
      fakeRun('good', 1, [0.6, 0.7, 0.9]),
      fakeRun('good', 2, [0.4, 0.7, 0.7]),
      fakeRun('bad', 0, [0.1, 0.2, 0.3]),
      fakeRun('bad', 1, [0.3, 0.2, 0.4]),
      fakeRun('bad', 2, [0.2, 0.2, 0.2]),
      fakeRun('good', 0, [0, 0, 0], 2), // another budget: ignored
    ];
    const curves = bestSoFarCurves(runs, ['good', 'bad'], 1, { reps: 500 });
    assert.deepEqual(curves.good.steps, [1, 2, 3]);
    assert.ok(
      curves.good.point.every((v, i) => Math.abs(v - [0.5, 2 / 3, 0.8][i]) < 1e-12),
      JSON.stringify(curves.good.point),
    );
    assert.ok(Math.abs(curves.bad.point[2] - 0.3) < 1e-12, 'best-so-far, not the last reward');
    curves.good.point.forEach((v, i) =>
      assert.ok(
        curves.good.lo[i] <= v &&
          v <= curves.good.hi[i] &&
          curves.good.lo[i] >= 0.4 - 1e-12 &&
          curves.good.hi[i] <= 0.9 + 1e-12,
      ),
    );
    const rows = comparisonRows(runs, ['good', 'bad'], 1, { reference: 'good', reps: 500 });
    assert.equal(rows[0].probabilityOfImprovement, null);
    assert.equal(rows[1].probabilityOfImprovement?.point, 1, 'every good seed beats every bad seed');
    assert.ok(Math.abs(rows[0].best.point - 0.8) < 1e-12 && Math.abs(rows[1].best.point - 0.3) < 1e-12);
    assert.ok(Math.abs(rows[0].iqm.point - 0.8) < 1e-12);
    assert.equal(rows[0].testAccuracy, null);
    const same = comparisonRows([fakeRun('x', 0, [0.5]), fakeRun('y', 0, [0.5])], ['x', 'y'], 1, {
      reference: 'x',
      reps: 100,
    });
    assert.equal(same[1].probabilityOfImprovement?.point, 0.5, 'ties count 1/2');
    assert.throws(() => bestSoFarCurves(runs, ['missing'], 1), /no runs of 'missing'/);
  });

  it('ablationRow and medianFinalBest on synthetic runs', () => {
    const runs = [0, 1, 2, 3].flatMap((s) => [
      fakeRun('a', s, [0.5, 0.8 + 0.01 * s]),
      fakeRun('b', s, [0.5, 0.6 + 0.01 * s]),
    ]);
    const row = ablationRow(runs, {
      ablation: 'credit',
      a: 'a',
      b: 'b',
      budget: 1,
      metric: 'best reward',
      value: (r) => r.result.best.reward,
      reps: 500,
    });
    assert.ok(Math.abs(row.difference.point - 0.2) < 1e-9);
    assert.match(row.claim, /^holds here: a best reward exceeds b by 0\.200/);
    const auc = ablationRow(runs, {
      ablation: 'x',
      a: 'a',
      b: 'a',
      budget: 1,
      metric: 'AUC',
      value: (r) => areaUnderCurve(r.result.log.map((e) => e.bestSoFar)),
      reps: 500,
    });
    assert.match(auc.claim, /^not shown here/);
    assert.equal(medianFinalBest(runs.filter((r) => r.label === 'b')), 0.615);
    assert.deepEqual(batchMeans(runs[0].result), [0.65]);
  });
});

describe('ma2ml/experiments: monotonic summaries and display rows', () => {
  it('monotonicRows counts exact drops per w, compares each w with w = 0, and reads training batch means', () => {
    const tr = (w: number, seed: number, expected: number[]) => ({
      divergenceWeight: w,
      seed,
      expected,
      dropFraction: dropFraction(expected),
    });
    const traces = [
      tr(0, 0, [0.3, 0.4, 0.35, 0.5]),
      tr(0, 1, [0.3, 0.2, 0.25, 0.1]),
      tr(0.1, 0, [0.3, 0.4, 0.45, 0.5]),
      tr(0.1, 1, [0.3, 0.35, 0.4, 0.42]),
    ];
    // training runs labelled 'ma2ml w=<w>': batches of 2 (fakeRun), batch means 0.5 -> 0.4 (a drop) and 0.5 -> 0.6
    const runs = [fakeRun('ma2ml w=0', 0, [0.5, 0.5, 0.4, 0.4]), fakeRun('ma2ml w=0.1', 0, [0.5, 0.5, 0.6, 0.6])];
    const { summaries, rows } = monotonicRows(traces, runs, 1, { reps: 200 });
    const s0 = summaries.find((x) => x.divergenceWeight === 0)!;
    const s1 = summaries.find((x) => x.divergenceWeight === 0.1)!;
    assert.deepEqual([s0.syntheticDrops, s0.syntheticUpdates, s1.syntheticDrops], [3, 6, 0]);
    assert.ok(Math.abs(s0.syntheticDropFraction.point - 0.5) < 1e-12);
    assert.match(s1.claim, /^holds here \(w = 0.1\): the exact expected reward never dropped in 6 updates \(2 seeds\)/);
    assert.match(s0.claim, /^does not hold exactly \(w = 0\): .* 3 of 6 updates/);
    assert.deepEqual(
      s1.syntheticMeanCurve.map((v) => Number(v.toFixed(3))),
      [0.3, 0.375, 0.425, 0.46],
    );
    assert.equal(s0.trainingDropFraction?.point, 1);
    assert.equal(s1.trainingDropFraction?.point, 0);
    assert.equal(rows.length, 2);
    assert.ok(Math.abs(rows[0].difference.point + 0.5) < 1e-12);
    assert.match(rows[1].claim, /batch-mean drop fraction/);
    const shown = formatAblationRows(rows);
    assert.equal(shown[0]['A - B [95% CI]'], formatInterval(rows[0].difference));
    assert.equal(shown[0]["paper's claim here"], rows[0].claim);
    const cmp = formatComparisonRows(
      comparisonRows([fakeRun('ma2ml', 0, [0.5]), fakeRun('random', 0, [0.4])], ['ma2ml', 'random'], 1, { reps: 50 }),
    );
    assert.equal(cmp[0]['P(ma2ml > method) [95% CI]'], '-');
    assert.equal(cmp[1]['P(ma2ml > method) [95% CI]'], '1.00 [1.00, 1.00]');
  });
});

describe('ma2ml/experiments: hard budget masked at sampling (synthetic reward)', () => {
  const space = presetSpace('smoke');
  const budget = flopsBudgets('smoke')[0];
  const E = 128;
  const SEEDS = [0, 1, 2, 3];

  it('no over-budget or invalid pipeline is ever evaluated; masked proposals cost no evaluations', async () => {
    const n0 = tf.memory().numTensors;
    for (const method of SEARCH_METHODS) {
      const r = await runSearch({
        method,
        space,
        evaluations: 40,
        batchSize: 8,
        seed: 3,
        evaluator: syntheticEvaluator(space, 9, { budget, rule: 'hard-mask' }),
      });
      assert.equal(r.evaluations, 40, method);
      for (const e of r.log) {
        const c = checkPipeline(space, e.pipeline, { flopsBudget: budget });
        assert.ok(c.valid, `${method}: evaluated ${c.valid ? '' : c.reason}`);
        assert.ok(e.reward > 0, `${method}: a hard-rule zero reward reached the log`);
      }
      assert.ok(r.masked > 0, `${method}: the smoke budget rejects some proposals (masked ${r.masked})`);
    }
    // Control: without masking, the same searches do evaluate over-budget pipelines (reward 0)
    const plain = await runSearch({
      method: 'random',
      space,
      evaluations: 40,
      batchSize: 8,
      seed: 3,
      evaluator: syntheticEvaluator(space, 9, { budget, rule: 'hard' }),
    });
    assert.ok(plain.log.some((e) => !checkPipeline(space, e.pipeline, { flopsBudget: budget }).valid));
    assert.equal(plain.masked, 0);
    assert.equal(tf.memory().numTensors, n0, 'no tensors leaked');
  });

  it('the masked learner still learns: ma2ml beats masked random search (mean best over 4 seeds)', async function () {
    this.timeout(60000);
    const best = async (method: SearchMethod) => {
      const b: number[] = [];
      for (const seed of SEEDS)
        b.push(
          (
            await runSearch({
              method,
              space,
              evaluations: E,
              batchSize: 8,
              seed,
              evaluator: syntheticEvaluator(space, 200 + seed, { budget, rule: 'hard' }),
              flops: { budget, rule: 'hard-mask' },
            })
          ).best.reward,
        );
      return mean(b);
    };
    const ma = await best('ma2ml');
    const rnd = await best('random');
    console.log(`      masked: ma2ml ${ma.toFixed(3)}, random ${rnd.toFixed(3)}`);
    assert.ok(ma > rnd + 0.05, `ma2ml ${ma.toFixed(3)} vs random ${rnd.toFixed(3)}`);
  });

  it('a budget nothing fits gives an Error naming the budget', async () => {
    await assert.rejects(
      runSearch({
        method: 'random',
        space,
        evaluations: 4,
        batchSize: 4,
        seed: 0,
        evaluator: syntheticEvaluator(space, 1),
        flops: { budget: 10, rule: 'hard-mask' },
        maskMaxTries: 5,
      }),
      /within 10 MACs in \d+ proposals/,
    );
    await assert.rejects(
      runSearch({
        method: 'sequential',
        space,
        evaluations: 4,
        seed: 0,
        evaluator: syntheticEvaluator(space, 1),
        flops: { budget: 10, rule: 'hard-mask' },
        maskMaxTries: 5,
      }),
      /sequential found no starting pipeline within 10 MACs in 5 draws/,
    );
    await assert.rejects(
      runSearch({
        method: 'random',
        space,
        evaluations: 4,
        seed: 0,
        evaluator: syntheticEvaluator(space, 1),
        flops: { budget: 1e5, rule: 'soft' },
      }),
      /flops: rule 'soft' is applied by the evaluator/,
    );
  });
});

describe('ma2ml/experiments: single-module searches and the monotonic check', () => {
  const space = presetSpace('smoke');

  it('modules: only the searched agent varies; the others keep the fixed pipeline', async () => {
    const fixed = defaultPipeline(space, flopsBudgets('smoke')[0]);
    const ft = encodePipeline(space, fixed);
    for (const a of AGENTS) {
      const r = await runSearch({
        method: 'ma2ml',
        space,
        evaluations: 24,
        batchSize: 8,
        seed: 1,
        evaluator: syntheticEvaluator(space, 5),
        modules: [a],
        fixedPipeline: fixed,
      });
      const k = AGENTS.indexOf(a);
      for (const e of r.log)
        AGENTS.forEach(
          (_, j) => j !== k && assert.deepEqual(e.tokens[j], ft[j], `${a}-only search changed agent ${AGENTS[j]}`),
        );
      assert.ok(new Set(r.log.map((e) => JSON.stringify(e.tokens[k]))).size > 1, `${a} varies`);
    }
    await assert.rejects(
      runSearch({ method: 'ma2ml', space, evaluations: 8, evaluator: syntheticEvaluator(space, 5), modules: ['nas'] }),
      /fixedPipeline: required with modules/,
    );
  });

  it('syntheticExpectedReward is exact: equals the reward for a one-hot policy and the Monte-Carlo mean for a random one', () => {
    const vocab = vocabSizes(space);
    const rng = new Rng(3);
    const tokens = vocab.map((a) => a.map((v) => rng.int(v)));
    const oneHot = vocab.map((a, i) =>
      a.map((v, t) => Float32Array.from({ length: v }, (_, k) => (k === tokens[i][t] ? 1 : 0))),
    );
    assert.ok(
      Math.abs(
        syntheticExpectedReward(space, 7, oneHot) - syntheticReward(space, decodePipeline(space, tokens), { seed: 7 }),
      ) < 1e-6,
    );
    // a random factorised policy, biased towards low indices so the pair bonuses matter
    const probs = vocab.map((a) =>
      a.map((v) => {
        const w = Float32Array.from({ length: v }, (_, k) => 1 / (1 + k) + rng.next());
        const s = w.reduce((x, y) => x + y, 0);
        return w.map((x) => x / s);
      }),
    );
    const draw = (p: Float32Array) => {
      let u = rng.next();
      for (let k = 0; k < p.length; k++) {
        u -= p[k];
        if (u <= 0) return k;
      }
      return p.length - 1;
    };
    let sum = 0;
    const N = 20000;
    for (let n = 0; n < N; n++)
      sum += syntheticReward(
        space,
        decodePipeline(
          space,
          probs.map((a) => a.map(draw)),
        ),
        { seed: 7 },
      );
    const exact = syntheticExpectedReward(space, 7, probs);
    assert.ok(Math.abs(sum / N - exact) < 0.005, `MC ${sum / N} vs exact ${exact}`);
    assert.throws(() => syntheticExpectedReward(space, 7, probs.slice(0, 2)), /probs must have 3 agents/);
  });

  it('monotonicSynthetic: one exact expected-reward trace per (w, seed), improving from the uniform policy', async function () {
    this.timeout(30000);
    const plan: Ma2mlPlan = ma2mlPlan('smoke');
    plan.ablations.synthetic.updates = 12;
    const traces = await monotonicSynthetic(plan, space);
    assert.equal(traces.length, plan.ablations.divergenceWeights.length * plan.ablations.synthetic.seeds.length);
    for (const t of traces) {
      assert.equal(t.expected.length, 13);
      assert.equal(t.dropFraction, dropFraction(t.expected));
      assert.ok(t.expected.every((v) => v >= 0 && v <= 1));
    }
    const gain = mean(traces.map((t) => t.expected[12] - t.expected[0]));
    assert.ok(gain > 0.02, `expected reward rises by ${gain}`);
    assert.equal(new Set(traces.map((t) => t.expected[0])).size, 1, 'all start at the uniform policy');
  });
});

describe('ma2ml/experiments: runSearches, retrains and noise through the store (smoke space, real training)', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ma2ml-exp-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs cells, caches them (a re-run computes nothing and gives the same logs), retrains best pipelines, measures noise, leaks no tensors', async function () {
    this.timeout(60000);
    const plan = ma2mlPlan('smoke');
    plan.evaluations = 6;
    plan.batchSize = 3;
    plan.noise = { pipelines: 2, seeds: [0, 1] };
    const space = planSpace(plan);
    const cells: SearchCell[] = [
      { method: 'ma2ml', flops: plan.flops[0], seed: 0 },
      { method: 'random', flops: plan.flops[1], seed: 0 },
      { method: 'ma2ml', flops: plan.flops[0], seed: 0, modules: ['hpo'] },
    ];
    const store = ExperimentStore.open(path.join(dir, 's.sqlite'));
    const executor = new InlineExecutor();
    try {
      const n0 = tf.memory().numTensors;
      const runs = await runSearches(plan, cells, { space, executor, store });
      assert.deepEqual(
        runs.map((r) => r.label),
        ['ma2ml', 'random', 'ma2ml only hpo'],
      );
      runs.forEach((r, i) =>
        r.result.log.forEach((e) =>
          assert.ok(checkPipeline(space, e.pipeline, { flopsBudget: cells[i].flops.budget }).valid),
        ),
      );
      const again = await runSearches(plan, cells, { space, executor, store });
      assert.equal(
        again.reduce((s, r) => s + r.result.computed, 0),
        0,
        'everything cached',
      );
      assert.deepEqual(
        again.map((r) => r.result.log.map((e) => e.reward)),
        runs.map((r) => r.result.log.map((e) => e.reward)),
      );
      const retrains = await retrainBest(plan, space, runs, { executor, store });
      for (const r of runs) {
        const rt = retrains.get(pipelineKey(r.result.best.pipeline));
        assert.ok(rt && rt.valid && rt.testExamples === plan.retrain.testLimit && typeof rt.testAccuracy === 'number');
      }
      const rows = comparisonRows(runs, ['ma2ml'], plan.flops[0].budget, { retrains, reps: 100 });
      assert.ok(rows[0].testAccuracy !== null && rows[0].testAccuracy.point > 0.2, 'retrained smoke MLP beats chance');
      const noise = await rewardNoise(plan, space, runs, { executor, store });
      assert.equal(noise.length, 2);
      const top = Math.max(...runs.flatMap((r) => r.result.log.map((e) => e.reward)));
      assert.equal(noise[0].rewards[0], top, 'seed 0 is the search evaluation itself');
      assert.ok(noise.every((n) => n.rewards.length === 2 && n.sd >= 0));
      assert.equal(tf.memory().numTensors, n0, 'no tensors leaked');
    } finally {
      await executor.close();
      store.close();
    }
    assert.throws(() => parsePlan({ ...plan, workers: -1 }), /workers/);
    await assert.rejects(
      runSearches(plan, [{ method: 'ma2ml', flops: { budget: 1e9, rule: 'hard-mask' }, seed: 0 }], {
        space,
        executor: new InlineExecutor(),
      }),
      /flops\.budget 1000000000 must be in/,
    );
    await assert.rejects(
      runSearches(plan, [{ method: 'ma2ml', flops: { budget: 1e3, rule: 'soft' }, seed: 0 }], {
        space,
        executor: new InlineExecutor(),
      }),
      /flops\.rule 'soft' must be 'hard-mask'/,
    );
  });
});
