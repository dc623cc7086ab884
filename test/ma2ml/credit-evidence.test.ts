import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tf } from '../../src/backend';
import {
  METHOD_CONFIGS,
  TUNED_ACTOR_LR,
  ablationRow,
  checkPipeline,
  evaluatedPipelines,
  fitRewardSurrogate,
  ma2mlPlan,
  planSpace,
  runRewardSurrogateSearches,
  runSearches,
  surrogateValue,
  creditQuality,
  creditQualitySummary,
  decodePipeline,
  learnerEvidence,
  pearson,
  presetSpace,
  syntheticCounterfactualAdvantages,
  syntheticReward,
  syntheticTokenReward,
  tunedActorLr,
  untestableReason,
  vocabSizes,
} from '../../src/ma2ml';
import type { SearchCell, SearchRun, SearchResult } from '../../src/ma2ml';
import { InlineExecutor } from '../../src/runtime/executor';
import { ExperimentStore } from '../../src/runtime/store';
import {
  LR_SWEEP_FACTORS,
  defaultActorLr,
  lrSweepCells,
  lrSweepPlan,
} from '../../src/ma2ml/experiments/surrogate/sweep';
import {
  parseSurrogatePlan,
  surrogateCells,
  surrogateJobs,
  surrogatePlan,
  SURROGATE_LEARNER_METHODS,
} from '../../src/ma2ml/experiments/surrogate';
import { runHash } from '../../src/runtime/jobs';
import { Rng } from '../../src/random';

describe('ma2ml: true counterfactual advantage of the synthetic reward', () => {
  const space = presetSpace('quick');
  const vocab = vocabSizes(space);

  it('syntheticTokenReward equals syntheticReward of the decoded pipeline', () => {
    const rng = new Rng(3);
    for (let k = 0; k < 20; k++) {
      const tokens = vocab.map((a) => a.map((v) => rng.int(v)));
      assert.equal(
        syntheticTokenReward(space, 7, tokens),
        syntheticReward(space, decodePipeline(space, tokens), { seed: 7 }),
      );
    }
  });

  it('equals R(a) - E_{a_i ~ pi_i} R(a_i, a_-i) by enumeration (policies with two values per token)', () => {
    const rng = new Rng(11);
    // Each token puts its mass on two values (one of them the action's own sometimes), so agent i's
    // alternatives can be enumerated: 2^tokens joint values.
    const support = vocab.map((a) => a.map((v) => [rng.int(v), rng.int(v)]));
    const probs = vocab.map((a, ai) =>
      a.map((v, t) => {
        const p = new Float32Array(v);
        const w = rng.uniform(0.1, 0.9);
        const [x, y] = support[ai][t];
        p[x] += w;
        p[y] += 1 - w;
        return p;
      }),
    );
    const actions = Array.from({ length: 5 }, () => vocab.map((a, ai) => a.map((_, t) => support[ai][t][rng.int(2)])));
    const got = syntheticCounterfactualAdvantages(space, 7, probs, actions);
    actions.forEach((x, b) => {
      const r = syntheticTokenReward(space, 7, x);
      for (let ai = 0; ai < vocab.length; ai++) {
        const T = vocab[ai].length;
        let expected = 0;
        for (let mask = 0; mask < 1 << T; mask++) {
          const own = vocab[ai].map((_, t) => support[ai][t][(mask >> t) & 1]);
          const pr = own.reduce(
            (acc, v, t) =>
              acc *
              (support[ai][t][0] === support[ai][t][1] ? ((mask >> t) & 1 ? 0 : 1) * probs[ai][t][v] : probs[ai][t][v]),
            1,
          );
          if (pr === 0) continue;
          const alt = x.map((tok, j) => (j === ai ? own : tok));
          expected += pr * syntheticTokenReward(space, 7, alt);
        }
        assert.ok(
          Math.abs(got[b * vocab.length + ai] - (r - expected)) < 1e-6,
          `row ${b} agent ${ai}: ${got[b * vocab.length + ai]} vs ${r - expected}`,
        );
      }
    });
  });

  it('pearson matches a hand value and is NaN for a constant', () => {
    assert.ok(Math.abs(pearson([1, 2, 3], [2, 4, 7]) - 0.9933992677987828) < 1e-12);
    assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])));
    assert.throws(() => pearson([1, 2], [1]), /lengths differ/);
  });
});

describe('ma2ml: credit quality on the synthetic reward', function () {
  this.timeout(120_000);

  it("the ridge critic of ma2ml (issue-12 settings) carries more of each agent's contribution than the shared reward; shared credit uses the shared reward; no tensor leaks", () => {
    const space = presetSpace('quick');
    const before = tf.memory().numTensors;
    const rows = creditQuality({
      space,
      rewardSeed: 7,
      seeds: [0, 1],
      evaluations: 120,
      batchSize: 4,
      methods: { ma2ml: METHOD_CONFIGS.ma2ml, independent: METHOD_CONFIGS.independent },
    });
    assert.equal(tf.memory().numTensors, before, 'learners are disposed');
    assert.equal(rows.length, 2 * 2 * 30);
    for (const r of rows) {
      for (const k of ['usedCorrelation', 'sharedCorrelation'] as const)
        if (Number.isFinite(r[k])) assert.ok(r[k] >= -1 - 1e-9 && r[k] <= 1 + 1e-9);
      if (r.method === 'independent') {
        assert.equal(r.creditUsed, 'shared');
        assert.ok(Number.isNaN(r.criticCorrelation));
        if (Number.isFinite(r.usedCorrelation)) assert.equal(r.usedCorrelation, r.sharedCorrelation);
      }
    }
    const s = creditQualitySummary(rows, [36, 120], { reps: 200 });
    const late = s.find((x) => x.method === 'ma2ml' && x.to === 120)!;
    // Measured 0.85 vs 0.52 (3 seeds, 36-200 evaluations); the margin leaves room for 2 seeds.
    assert.ok(
      late.used.point > late.shared.point + 0.15,
      `ridge credit ${late.used.point.toFixed(3)} vs shared ${late.shared.point.toFixed(3)}`,
    );
    assert.equal(late.counterfactualShare, 1);
  });

  it('rejects a joint agent and a batch of one', () => {
    const space = presetSpace('smoke');
    assert.throws(() => creditQuality({ space, rewardSeed: 7, seeds: [0], evaluations: 8, batchSize: 1 }), /batchSize/);
    assert.throws(
      () =>
        creditQuality({
          space,
          rewardSeed: 7,
          seeds: [0],
          evaluations: 8,
          batchSize: 4,
          methods: { joint: { jointAgent: true, credit: 'shared' } },
        }),
      /joint agent/,
    );
  });
});

describe('ma2ml: learner evidence and the untestable guard', () => {
  const space = presetSpace('smoke');
  const pipeline = decodePipeline(
    space,
    vocabSizes(space).map((a) => a.map(() => 0)),
  );
  const run = (label: string, seed: number, reward: number, entropy: number[], ev: number[]): SearchRun => {
    const diagnostics = entropy.map((e, k) => ({
      update: k,
      evaluations: 4 * (k + 1),
      'entropyFraction.mean': e,
      criticEvHeldOut: ev[k],
      'klTarget.mean': 0.1,
    }));
    const result: SearchResult = {
      method: 'ma2ml',
      seed,
      evaluations: 4 * entropy.length,
      log: [],
      best: { evaluation: 1, reward, pipeline, tokens: [] },
      distinct: 1,
      cached: 0,
      computed: 1,
      masked: 0,
      diagnostics,
      wallSeconds: 0,
    };
    return { cell: { method: 'ma2ml', flops: { budget: 1e5, rule: 'hard-mask' }, seed }, label, result };
  };
  const moved = [0.99, 0.9, 0.8];
  const still = [0.999, 0.99, 0.98];

  it('summarises moved share, final entropy and the held-out EV of the last updates', () => {
    const runs = [run('a', 0, 0.5, moved, [NaN, -0.5, 0.2]), run('a', 1, 0.6, still, [0.1, 0.3, 0.5])];
    const e = learnerEvidence(runs, 'a', 1e5);
    assert.equal(e.runs, 2);
    assert.equal(e.moved, 0.5);
    assert.ok(Math.abs(e.finalEntropyFraction - 0.89) < 1e-12);
    // run 0: mean(-0.5, 0.2) (NaN skipped) = -0.15; run 1: 0.3 -> mean 0.075
    assert.ok(Math.abs(e.criticHeldOutEv - 0.075) < 1e-12);
  });

  it('a row is untestable when a learner did not move or the critic is worse than a constant, and decided otherwise', () => {
    const good = [
      run('cf', 0, 0.7, moved, [0.2, 0.3, 0.4]),
      run('cf', 1, 0.72, moved, [0.2, 0.3, 0.4]),
      run('cf', 2, 0.71, moved, [0.2, 0.3, 0.4]),
    ];
    const badCritic = good.map((r) => ({
      ...r,
      label: 'bad',
      result: { ...r.result, diagnostics: r.result.diagnostics.map((d) => ({ ...d, criticEvHeldOut: -0.7 })) },
    }));
    const shared = [
      run('sh', 0, 0.5, moved, [NaN, NaN, NaN]),
      run('sh', 1, 0.52, moved, [NaN, NaN, NaN]),
      run('sh', 2, 0.51, moved, [NaN, NaN, NaN]),
    ];
    const frozen = [
      run('fz', 0, 0.5, still, [NaN, NaN, NaN]),
      run('fz', 1, 0.5, still, [NaN, NaN, NaN]),
      run('fz', 2, 0.5, still, [NaN, NaN, NaN]),
    ];
    const all = [...good, ...badCritic, ...shared, ...frozen];
    assert.equal(untestableReason(all, { a: 'cf', b: 'sh', budget: 1e5, critic: 'cf' }), null);
    assert.match(
      untestableReason(all, { a: 'bad', b: 'sh', budget: 1e5, critic: 'bad' }) ?? '',
      /critic of bad predicts fresh pipelines worse than a constant \(held-out EV -0\.70/,
    );
    assert.match(
      untestableReason(all, { a: 'cf', b: 'fz', budget: 1e5 }) ?? '',
      /fz did not move its policy in 3 of 3 runs/,
    );
    const value = (r: SearchRun) => r.result.best.reward;
    const decided = ablationRow(all, {
      ablation: 'x',
      a: 'cf',
      b: 'sh',
      budget: 1e5,
      metric: 'best',
      value,
      guard: { critic: 'cf' },
      reps: 200,
    });
    assert.match(decided.claim, /^holds here/);
    const guarded = ablationRow(all, {
      ablation: 'x',
      a: 'bad',
      b: 'sh',
      budget: 1e5,
      metric: 'best',
      value,
      guard: { critic: 'bad' },
      reps: 200,
    });
    assert.match(guarded.claim, /^untestable at this budget: the critic of bad/);
    const unguarded = ablationRow(all, {
      ablation: 'x',
      a: 'bad',
      b: 'sh',
      budget: 1e5,
      metric: 'best',
      value,
      reps: 200,
    });
    assert.match(unguarded.claim, /^holds here/);
  });
});

describe('ma2ml: learning-rate sweep plan', () => {
  it('tunes on validation tasks and seeds disjoint from notebook 23, with equal effort per method', () => {
    const sweep = lrSweepPlan();
    for (const preset of ['quick', 'full'] as const) {
      const test = surrogatePlan(preset);
      assert.deepEqual(
        sweep.tasks.filter((t) => test.tasks.includes(t)),
        [],
        `tasks disjoint from ${preset}`,
      );
      assert.deepEqual(
        sweep.seeds.filter((s) => test.seeds.includes(s)),
        [],
        `seeds disjoint from ${preset}`,
      );
    }
    const cells = lrSweepCells(sweep);
    assert.equal(
      cells.length,
      SURROGATE_LEARNER_METHODS.length * LR_SWEEP_FACTORS.length * sweep.tasks.length * sweep.seeds.length,
    );
    for (const m of SURROGATE_LEARNER_METHODS) {
      const lrs = [...new Set(cells.filter((c) => c.method === m).map((c) => c.learner?.actorLr))].sort(
        (a, b) => (a as number) - (b as number),
      );
      assert.deepEqual(
        lrs,
        LR_SWEEP_FACTORS.map((f) => f * defaultActorLr(m)),
        m,
      );
    }
    assert.ok(cells.every((c) => c.evaluations === 1000));
  });
});

describe('ma2ml: tuned actor learning rates per budget', () => {
  it('tunedActorLr reads the swept budget at or below the budget, else nothing', () => {
    assert.equal(tunedActorLr('ma2ml', 36), TUNED_ACTOR_LR.ma2ml[36]);
    assert.equal(tunedActorLr('ma2ml', 199), TUNED_ACTOR_LR.ma2ml[36]);
    assert.equal(tunedActorLr('independent', 999), TUNED_ACTOR_LR.independent[200]);
    assert.equal(tunedActorLr('independent', 1000), TUNED_ACTOR_LR.independent[1000]);
    assert.notEqual(TUNED_ACTOR_LR.independent[200], TUNED_ACTOR_LR.independent[1000]);
    assert.equal(tunedActorLr('ma2ml', 16), undefined);
    assert.equal(tunedActorLr('random', 200), undefined);
  });

  it('surrogate cells carry the tuned rate of their budget; a smaller budget with a different rate gets its own run', () => {
    const plan = surrogatePlan('full');
    const cells = surrogateCells(plan).filter((c) => c.task === plan.tasks[0] && c.seed === plan.seeds[0]);
    for (const method of ['ma2ml', 'independent', 'ma2ml-lite'] as const) {
      const mine = cells.filter((c) => c.label === method);
      const byBudget = new Map(mine.map((c) => [c.evaluations, c.learner?.actorLr]));
      assert.equal(byBudget.get(1000), tunedActorLr(method, 1000), `${method} at 1000`);
      for (const b of [36, 200]) {
        const lr = tunedActorLr(method, b);
        if (lr === tunedActorLr(method, 1000))
          assert.ok(!byBudget.has(b), `${method}: ${b} is a prefix of the 1000 run`);
        else assert.equal(byBudget.get(b), lr, `${method}: own run at ${b}`);
      }
    }
    const seq = cells.filter((c) => c.label === 'sequential');
    assert.deepEqual(
      seq.map((c) => [c.evaluations, c.learner?.actorLr]),
      plan.budgets.map((b) => [b, tunedActorLr('independent', b)]),
    );
    assert.ok(cells.filter((c) => c.label === 'random').every((c) => c.learner === undefined));
    const plain = surrogateCells(parseSurrogatePlan({ ...plan, actorLr: 'default' })).filter(
      (c) => c.task === plan.tasks[0] && c.seed === plan.seeds[0],
    );
    assert.ok(plain.every((c) => c.learner === undefined));
    assert.ok(plain.every((c) => c.label === 'sequential' || c.evaluations === 1000));
  });
});

describe('ma2ml: a surrogate of the real reward fitted on the store', function () {
  this.timeout(120_000);

  it("reads only the plan evaluator's runs, reports a cross-validated R², and searches on it within the budget, deterministically", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reward-surrogate-'));
    const plan = ma2mlPlan('smoke');
    plan.evaluations = 12;
    plan.batchSize = 4;
    const space = planSpace(plan);
    const store = ExperimentStore.open(path.join(dir, 's.sqlite'));
    const executor = new InlineExecutor();
    try {
      const cells: SearchCell[] = [0, 1, 2].map((seed) => ({ method: 'random', flops: plan.flops[1], seed }));
      await runSearches(plan, cells, { space, executor, store });
      // Another evaluator (other evaluation seed) in the same store must not be read.
      const other = { ...plan, evaluation: { ...plan.evaluation, seed: 5 } };
      await runSearches(other, [{ method: 'random', flops: plan.flops[1], seed: 9 }], { space, executor, store });
      const data = evaluatedPipelines(store, plan, space);
      assert.ok(data.n >= 25 && data.n <= 36, `distinct pipelines of the plan's evaluator: ${data.n}`);
      assert.equal(data.rewards.length, data.n);
      const s = fitRewardSurrogate(data, space);
      assert.ok(Number.isFinite(s.cvR2) && s.cvR2 < 1, `cv R² ${s.cvR2}`);
      assert.throws(
        () => fitRewardSurrogate({ ...data, n: 6, rewards: data.rewards.slice(0, 6) }, space),
        /6 evaluated pipelines in the store, need at least 10/,
      );
      const run = () =>
        runRewardSurrogateSearches(plan, space, s, {
          evaluations: 16,
          seeds: [0, 1],
          methods: ['ma2ml', 'random'],
          noiseSd: 0.02,
        });
      const runs = await run();
      assert.deepEqual(
        runs.map((r) => r.label),
        ['ma2ml', 'ma2ml', 'random', 'random'],
      );
      const tight = plan.flops[plan.ablations.budgetIndex].budget;
      for (const r of runs) {
        assert.equal(r.result.evaluations, 16);
        // rule 'hard': over-budget pipelines are evaluated and score exactly 0
        r.result.log.forEach((e) => {
          if (!checkPipeline(space, e.pipeline, { flopsBudget: tight }).valid) assert.equal(e.reward, 0);
        });
        const best = r.result.best;
        const v = surrogateValue(s, best.tokens);
        assert.ok(v >= s.min && v <= s.max, 'values are clipped to the observed range');
        assert.ok(Math.abs(best.reward - v) < 0.2, 'observed = value + noise of sd 0.02');
      }
      const again = await run();
      assert.deepEqual(
        again.map((r) => r.result.log.map((e) => e.reward)),
        runs.map((r) => r.result.log.map((e) => e.reward)),
      );
    } finally {
      await executor.close();
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ma2ml: surrogate search cache keys follow the learner settings', () => {
  it("each job carries its method's resolved settings, so a changed METHOD_CONFIGS entry is a new job", () => {
    const plan = surrogatePlan('smoke');
    const cells = surrogateCells(plan).filter((c) => c.seed === plan.seeds[0]);
    const jobs = surrogateJobs(plan, cells);
    const of = (label: string) =>
      jobs[cells.findIndex((c) => c.label === label)] as unknown as { config: { learner?: unknown } };
    assert.deepEqual(of('ma2ml').config.learner, { ...METHOD_CONFIGS.ma2ml });
    assert.deepEqual(of('ma2ml-replay').config.learner, { ...METHOD_CONFIGS['ma2ml-replay'] });
    assert.equal(of('random').config.learner, undefined);
    // Same method name, other settings (what a changed default does): another cache key.
    const edited = surrogateJobs(
      plan,
      cells.map((c) => (c.label === 'ma2ml' ? { ...c, learner: { tau: 0.5 } } : c)),
    );
    const k = cells.findIndex((c) => c.label === 'ma2ml');
    assert.notEqual(runHash(edited[k]), runHash(jobs[k]));
    assert.equal(runHash(surrogateJobs(plan, cells)[k]), runHash(jobs[k]), 'deterministic');
  });
});
