import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tf } from '../../src/backend';
import { AGENTS, decodePipeline, encodePipeline, pipelineKey, presetSpace, vocabSizes } from '../../src/ma2ml';
import type { SearchSpace } from '../../src/ma2ml';
import { SEARCH_METHODS, runSearch, syntheticEvaluator, syntheticReward } from '../../src/ma2ml/search';
import type { SearchMethod, SearchResult } from '../../src/ma2ml/search';
import { ExperimentStore, WorkerPoolExecutor } from '../../src/runtime';

const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;

describe('ma2ml/search: synthetic reward', () => {
  it('is in [0, 1], depends on the tokens, and its optimum (best token everywhere, interactions on) is 1', () => {
    const space = presetSpace('smoke');
    const vocab = vocabSizes(space);
    const r = (tokens: number[][]) => syntheticReward(space, decodePipeline(space, tokens), { seed: 3 });
    // greedy coordinate ascent from all-zeros reaches the additive optimum; values stay in [0, 1]
    const tokens = vocab.map((a) => a.map(() => 0));
    const start = r(tokens);
    for (let sweep = 0; sweep < 3; sweep++) {
      vocab.forEach((agent, a) =>
        agent.forEach((v, t) => {
          let bestV = tokens[a][t];
          let best = r(tokens);
          for (let k = 0; k < v; k++) {
            tokens[a][t] = k;
            const x = r(tokens);
            assert.ok(x >= 0 && x <= 1, `reward ${x} outside [0, 1]`);
            if (x > best) [best, bestV] = [x, k];
          }
          tokens[a][t] = bestV;
        }),
      );
    }
    const top = r(tokens);
    assert.ok(top > start + 0.2, `coordinate ascent ${start} -> ${top}`);
    assert.ok(top >= 0.7 - 1e-9, `additive optimum reached (${top})`);
  });
});

describe('ma2ml/search: every method on the smoke space (synthetic reward)', () => {
  const space = presetSpace('smoke');
  const results = new Map<SearchMethod, SearchResult[]>();
  const SEEDS = [0, 1, 2, 3];
  const E = 256;

  before(async function () {
    this.timeout(90000);
    const n0 = tf.memory().numTensors;
    for (const method of SEARCH_METHODS) {
      const runs: SearchResult[] = [];
      for (const seed of SEEDS)
        runs.push(
          await runSearch({
            method,
            space,
            evaluations: E,
            batchSize: 8,
            seed,
            evaluator: syntheticEvaluator(space, 100 + seed),
          }),
        );
      results.set(method, runs);
    }
    assert.equal(tf.memory().numTensors, n0, 'no tensors leaked by the learners');
  });

  for (const method of SEARCH_METHODS) {
    it(`${method}: uses exactly its evaluation budget; log is consistent and JSON-serialisable`, () => {
      for (const res of results.get(method)!) {
        assert.equal(res.evaluations, E);
        assert.equal(res.log.length, E);
        let best = -Infinity;
        res.log.forEach((e, i) => {
          assert.equal(e.evaluation, i + 1);
          if (method !== 'sequential') assert.equal(e.batch, Math.floor(i / 8));
          else if (i > 0) assert.ok(e.batch === res.log[i - 1].batch || e.batch === res.log[i - 1].batch + 1);
          assert.deepEqual(encodePipeline(space, e.pipeline), e.tokens, 'tokens decode to the logged pipeline');
          assert.equal(
            e.reward,
            syntheticReward(space, e.pipeline, { seed: 100 + res.seed }),
            'logged reward is the evaluator reward',
          );
          best = Math.max(best, e.reward);
          assert.equal(e.bestSoFar, best);
        });
        assert.equal(res.best.reward, best);
        assert.equal(res.log[res.best.evaluation - 1].reward, best);
        assert.equal(res.distinct + res.log.filter((e) => e.repeat).length, E, 'distinct + repeats = budget');
        assert.equal(res.computed, res.distinct, 'each distinct pipeline computed once (in-memory cache)');
        assert.deepEqual(JSON.parse(JSON.stringify(res.log)), res.log);
      }
    });
  }

  it('every learning method beats random search on average over 4 seeds (best-so-far after 256 evaluations)', () => {
    const bestOf = (m: SearchMethod) => mean(results.get(m)!.map((r) => r.best.reward));
    const random = bestOf('random');
    const summary = SEARCH_METHODS.map((m) => `${m} ${bestOf(m).toFixed(3)}`).join(', ');
    console.log(`      mean best reward: ${summary}`);
    for (const m of SEARCH_METHODS)
      if (m !== 'random') assert.ok(bestOf(m) > random + 0.02, `${m} (${bestOf(m)}) vs random (${random})`);
    // the full method is the strongest on this reward (credit assignment + replay)
    assert.ok(
      bestOf('ma2ml') > bestOf('independent'),
      `ma2ml ${bestOf('ma2ml')} vs independent ${bestOf('independent')}`,
    );
  });

  it('single-agent REINFORCE over the joint sequence equals independent agents with the shared reward (factorised policies only)', async () => {
    // With factorised per-token logits, log pi(joint) is the sum of the agents' log pi and both use
    // r - b with the same moving baseline, so the updates coincide (documented in the README).
    for (const [i, seed] of SEEDS.slice(0, 2).entries()) {
      const factorised = await runSearch({
        method: 'single-agent',
        space,
        evaluations: E,
        batchSize: 8,
        seed,
        evaluator: syntheticEvaluator(space, 100 + seed),
        learner: { policy: 'factorised', actorLr: 0.05 },
      });
      assert.deepEqual(factorised.log, results.get('independent')![i].log);
    }
  });

  it('single-agent with its autoregressive policy (the method default) differs from independent agents', () => {
    results.get('single-agent')!.forEach((r, i) => {
      const ind = results.get('independent')![i];
      assert.notDeepEqual(
        r.log.map((e) => e.tokens),
        ind.log.map((e) => e.tokens),
        `seed ${r.seed}: same proposals as independent`,
      );
    });
  });

  it('sequential: AUG, then NAS, then HPO vary in turn while the other modules stay fixed', () => {
    for (const res of results.get('sequential')!) {
      const third = Math.floor(E / 3);
      const phases = [res.log.slice(0, third), res.log.slice(third, 2 * third), res.log.slice(2 * third)];
      phases.forEach((entries, k) => {
        for (let a = 0; a < AGENTS.length; a++) {
          if (a === k) continue;
          const first = JSON.stringify(entries[0].tokens[a]);
          assert.ok(
            entries.every((e) => JSON.stringify(e.tokens[a]) === first),
            `phase ${AGENTS[k]}: agent ${AGENTS[a]} fixed`,
          );
        }
        assert.ok(
          new Set(entries.map((e) => JSON.stringify(e.tokens[k]))).size > 1,
          `phase ${AGENTS[k]}: its agent varies`,
        );
      });
      // a finished module is fixed at its best tokens
      const augBest = phases[0].reduce((b, e) => (e.reward > b.reward ? e : b));
      assert.deepEqual(phases[1][0].tokens[0], augBest.tokens[0]);
    }
  });

  it('is deterministic for a seed', async () => {
    const again = await runSearch({
      method: 'ma2ml',
      space,
      evaluations: 64,
      batchSize: 8,
      seed: 1,
      evaluator: syntheticEvaluator(space, 101),
    });
    assert.deepEqual(again.log, results.get('ma2ml')![1].log.slice(0, 64));
  });
});

describe('ma2ml/search: caching, repeats, resume', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ma2ml-search-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function tinySpace(): SearchSpace {
    // width x weight decay x mixup = 8 pipelines: repeats are certain within 40 evaluations
    const s = presetSpace('smoke');
    s.aug.ops = ['Identity'];
    s.aug.probabilities = [0];
    s.aug.levels = [0];
    s.nas.resolutions = [14];
    if (s.nas.kind === 'mlp') {
      s.nas.depths = [1];
      s.nas.widths = [64, 128];
    }
    s.hpo.optimizers = ['adam'];
    s.hpo.learningRates = { momentum: [0.1], adam: [1e-3] };
    s.hpo.weightDecays = [0, 5e-4];
    s.hpo.labelSmoothings = [0];
    s.hpo.mixupAlphas = [0, 0.2];
    s.hpo.dropouts = [0];
    return s;
  }

  it('a repeated pipeline counts against the budget and reuses its stored reward', async () => {
    const space = tinySpace();
    const store = ExperimentStore.open(path.join(dir, 'store.sqlite'));
    try {
      const res = await runSearch({
        method: 'random',
        space,
        evaluations: 40,
        batchSize: 8,
        seed: 0,
        evaluator: syntheticEvaluator(space, 5),
        store,
      });
      assert.equal(res.log.length, 40);
      assert.ok(res.distinct <= 8);
      assert.equal(res.computed, res.distinct, 'each distinct pipeline computed once');
      assert.ok(res.log.filter((e) => e.repeat).length >= 32);
      const byKey = new Map<string, number>();
      for (const e of res.log) {
        const k = pipelineKey(e.pipeline);
        if (byKey.has(k)) assert.equal(e.reward, byKey.get(k));
        byKey.set(k, e.reward);
      }
      assert.equal(store.loadResults('ma2ml-evaluations').length > 0, true);
      // another method and seed over the same store reuses every stored pipeline
      const other = await runSearch({
        method: 'independent',
        space,
        evaluations: 16,
        batchSize: 8,
        seed: 3,
        evaluator: syntheticEvaluator(space, 5),
        store,
      });
      assert.equal(
        other.computed,
        other.distinct - [...new Set(other.log.map((e) => pipelineKey(e.pipeline)))].filter((k) => byKey.has(k)).length,
      );
    } finally {
      store.close();
    }
  });

  it('an interrupted search resumes from the store and gives the same log as an uninterrupted one', async function () {
    this.timeout(60000);
    const space = presetSpace('smoke');
    const opts = {
      method: 'ma2ml' as const,
      space,
      evaluations: 64,
      batchSize: 8,
      seed: 2,
      evaluator: syntheticEvaluator(space, 9),
    };
    const full = await runSearch(opts);
    const store = ExperimentStore.open(path.join(dir, 'store.sqlite'));
    try {
      let batches = 0;
      await assert.rejects(
        runSearch({
          ...opts,
          store,
          onBatch: () => {
            if (++batches === 3) throw new Error('simulated interruption');
          },
        }),
        /simulated interruption/,
      );
      const stored = store.loadResults('ma2ml-evaluations').length;
      assert.ok(stored >= 1 && stored <= 24);
      const resumed = await runSearch({ ...opts, store });
      assert.deepEqual(resumed.log, full.log);
      assert.ok(resumed.cached >= 3, `the first batches came from the store (cached ${resumed.cached})`);
      const distinctFirst24 = new Set(full.log.slice(0, 24).map((e) => pipelineKey(e.pipeline))).size;
      assert.equal(
        resumed.computed,
        resumed.distinct - distinctFirst24,
        'only pipelines not stored before the interruption were computed',
      );
    } finally {
      store.close();
    }
  });

  it('an aborted signal stops the search between batches; a re-run replays the stored evaluations', async function () {
    this.timeout(60000);
    const space = presetSpace('smoke');
    const opts = {
      method: 'ma2ml' as const,
      space,
      evaluations: 64,
      batchSize: 8,
      seed: 2,
      evaluator: syntheticEvaluator(space, 9),
    };
    const store = ExperimentStore.open(path.join(dir, 'store.sqlite'));
    try {
      const controller = new AbortController();
      let batches = 0;
      await assert.rejects(
        runSearch({ ...opts, store, signal: controller.signal, onBatch: () => ++batches === 2 && controller.abort() }),
        (err: Error) => err.name === 'AbortError',
      );
      assert.equal(batches, 2, 'no batch after the abort');
      const resumed = await runSearch({ ...opts, store });
      assert.ok(resumed.cached >= 2, `the first batches came from the store (cached ${resumed.cached})`);
    } finally {
      store.close();
    }
  });

  it('a 2-worker pool gives the same log as inline evaluation', async function () {
    this.timeout(60000);
    const space = presetSpace('smoke');
    const opts = {
      method: 'ma2ml-lite' as const,
      space,
      evaluations: 32,
      batchSize: 8,
      seed: 4,
      evaluator: syntheticEvaluator(space, 4),
    };
    const inline = await runSearch(opts);
    const pool = new WorkerPoolExecutor({ workers: 2 });
    try {
      const pooled = await runSearch({ ...opts, executor: pool });
      assert.deepEqual(pooled.log, inline.log);
    } finally {
      await pool.close();
    }
  });
});

describe('ma2ml/search: bad input', () => {
  const space = presetSpace('smoke');
  it('names the field', async () => {
    await assert.rejects(runSearch({ method: 'ma2ml', space, evaluations: 8 }), /flops: required when no evaluator/);
    await assert.rejects(
      runSearch({ method: 'bayes' as SearchMethod, space, evaluations: 8, flops: { budget: 1e5 } }),
      /method: "bayes" is not a search method/,
    );
    await assert.rejects(runSearch({ method: 'random', space, evaluations: 0, flops: { budget: 1e5 } }), /evaluations/);
    await assert.rejects(runSearch({ method: 'random', space, evaluations: 8, flops: { budget: 0 } }), /flops\.budget/);
    await assert.rejects(
      runSearch({ method: 'random', space, evaluations: 8, flops: { budget: 1e5, rule: 'masked' as never } }),
      /flops\.rule/,
    );
    const bad = presetSpace('smoke');
    bad.hpo.batchSizes = [];
    await assert.rejects(
      runSearch({ method: 'random', space: bad, evaluations: 8, flops: { budget: 1e5 } }),
      /hpo\.batchSizes/,
    );
  });
});
