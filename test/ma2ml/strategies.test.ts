import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import {
  AGENTS,
  METHOD_CONFIGS,
  SEARCH_METHODS,
  checkPipeline,
  createStrategy,
  decodePipeline,
  defaultPipeline,
  encodePipeline,
  flopsBudgets,
  isSearchMethod,
  learnerStrategy,
  presetSpace,
  randomStrategy,
  registerStrategy,
  runSearch,
  searchMethods,
  sequentialStrategy,
  strategyContext,
  syntheticEvaluator,
  syntheticReward,
  vocabSizes,
} from '../../src/ma2ml';
import type { JointAction } from '../../src/marl';
import type { SearchSpace, SearchStrategy, StrategyContext, StrategyFactory } from '../../src/ma2ml';
import { Rng } from '../../src/random';

const space = presetSpace('smoke');
const TIGHT = flopsBudgets('smoke')[0];
const reward = (tokens: JointAction, seed = 7) => syntheticReward(space, decodePipeline(space, tokens), { seed });

/** Every token of every proposal is inside its vocabulary. */
function assertInSpace(s: SearchSpace, proposals: JointAction[]): void {
  const vocab = vocabSizes(s);
  for (const p of proposals) {
    assert.equal(p.length, AGENTS.length);
    p.forEach((agent, a) => {
      assert.equal(agent.length, vocab[a].length, `agent ${AGENTS[a]} token count`);
      agent.forEach((t, k) =>
        assert.ok(
          Number.isInteger(t) && t >= 0 && t < vocab[a][k],
          `token ${AGENTS[a]}[${k}] = ${t} outside [0, ${vocab[a][k]})`,
        ),
      );
    });
  }
}

describe('ma2ml/strategies: registry', () => {
  it('maps every built-in method to a strategy, in the spec order', () => {
    assert.deepEqual(
      [...SEARCH_METHODS],
      ['ma2ml', 'ma2ml-replay', 'ma2ml-lite', 'ma2ml-no-credit', 'independent', 'single-agent', 'sequential', 'random'],
    );
    assert.deepEqual(
      Object.keys(METHOD_CONFIGS),
      SEARCH_METHODS.filter((m) => m !== 'sequential' && m !== 'random'),
    );
    const n0 = tf.memory().numTensors;
    for (const m of SEARCH_METHODS) {
      assert.ok(isSearchMethod(m));
      const s = createStrategy(m, strategyContext({ space, method: m, evaluations: 6, batchSize: 2, seed: 0 }));
      const batch = s.propose(2);
      assert.ok(batch.length >= 1 && batch.length <= 2, m);
      assertInSpace(space, batch);
      s.observe(
        batch,
        batch.map((b) => reward(b)),
        batch.map((b) => ({ reward: reward(b) })),
      );
      s.dispose();
    }
    assert.equal(tf.memory().numTensors, n0, 'strategies free their learners');
  });

  it('rejects unknown methods and bad registrations, naming the problem', () => {
    assert.equal(isSearchMethod('bayes'), false);
    assert.throws(
      () => createStrategy('bayes', strategyContext({ space, evaluations: 4 })),
      /unknown search method 'bayes' \(known: ma2ml, .*random; add one with registerStrategy\)/,
    );
    assert.throws(() => registerStrategy('random', randomStrategy), /'random' is a built-in search method/);
    assert.throws(() => registerStrategy('', randomStrategy), /non-empty string/);
    assert.throws(() => registerStrategy('x', 42 as unknown as StrategyFactory), /must be a function/);
    const off = registerStrategy('twice', randomStrategy);
    try {
      assert.throws(() => registerStrategy('twice', randomStrategy), /already registered/);
      assert.ok(searchMethods().includes('twice'));
    } finally {
      off();
    }
    assert.equal(isSearchMethod('twice'), false);
    const bad = registerStrategy('not-a-strategy', () => ({}) as SearchStrategy);
    try {
      assert.throws(
        () => createStrategy('not-a-strategy', strategyContext({ space, evaluations: 4 })),
        /did not return a SearchStrategy/,
      );
    } finally {
      bad();
    }
  });
});

describe('ma2ml/strategies: random', () => {
  it('proposes uniform tokens inside the space, reproducibly from the seed', () => {
    const a = randomStrategy(strategyContext({ space, evaluations: 64, seed: 3 }));
    const b = randomStrategy(strategyContext({ space, evaluations: 64, seed: 3 }));
    const pa = a.propose(64);
    assert.equal(pa.length, 64);
    assertInSpace(space, pa);
    assert.deepEqual(b.propose(64), pa, 'same seed, same proposals');
    assert.ok(new Set(pa.map((p) => JSON.stringify(p))).size > 50, 'varied proposals');
    // every value of every token shows up (uniform over a small vocabulary)
    const vocab = vocabSizes(space);
    const seen = vocab.map((agent) => agent.map(() => new Set<number>()));
    for (let i = 0; i < 8; i++)
      for (const p of a.propose(64)) p.forEach((agent, x) => agent.forEach((t, k) => seen[x][k].add(t)));
    vocab.forEach((agent, x) =>
      agent.forEach((v, k) => assert.equal(seen[x][k].size, v, `${AGENTS[x]}[${k}] covers its ${v} values`)),
    );
  });

  it('keeps the agents outside modules at the fixed pipeline', () => {
    const fixed = defaultPipeline(space, TIGHT);
    const ft = encodePipeline(space, fixed);
    const s = randomStrategy(
      strategyContext({ space, evaluations: 16, seed: 1, modules: ['aug', 'hpo'], fixedPipeline: fixed }),
    );
    const props = s.propose(16);
    assertInSpace(space, props);
    for (const p of props) assert.deepEqual(p[1], ft[1], 'nas stays fixed');
    assert.ok(new Set(props.map((p) => JSON.stringify(p[0]))).size > 1, 'aug varies');
  });

  it('respects a hard-mask FLOPs constraint through runSearch (uniform over the feasible set)', async () => {
    const ctx = strategyContext({ space, evaluations: 64, seed: 2, flops: { budget: TIGHT, rule: 'hard-mask' } });
    const raw = randomStrategy(ctx).propose(64);
    assert.ok(
      raw.some((p) => !ctx.feasible(p)),
      'the strategy itself proposes over-budget pipelines at this budget',
    );
    const res = await runSearch({
      method: 'random',
      space,
      evaluations: 32,
      batchSize: 8,
      seed: 2,
      evaluator: syntheticEvaluator(space, 7),
      flops: { budget: TIGHT, rule: 'hard-mask' },
    });
    assert.equal(res.evaluations, 32);
    assert.ok(res.masked > 0);
    for (const e of res.log)
      assert.ok(
        checkPipeline(space, e.pipeline, { flopsBudget: TIGHT }).valid,
        'no evaluated pipeline is over the budget',
      );
  });
});

describe('ma2ml/strategies: sequential', () => {
  it('searches AUG, then NAS, then HPO, one agent at a time, fixing each module at its best tokens', () => {
    const n0 = tf.memory().numTensors;
    const ctx = strategyContext({ space, evaluations: 14, batchSize: 4, seed: 5 });
    const s = sequentialStrategy(ctx);
    const phases: { sizes: number[]; proposals: JointAction[]; agents: string[] }[] = [];
    let done = 0;
    // phases of floor(14 / 3) = 4, 4 and the remaining 6 evaluations; asked for 4 at a time (as runSearch does)
    while (done < 14) {
      const batch = s.propose(Math.min(4, 14 - done));
      assertInSpace(space, batch);
      const rewards = batch.map((b) => reward(b));
      s.observe(
        batch,
        rewards,
        rewards.map((r) => ({ reward: r })),
      );
      done += batch.length;
      const d = s.diagnostics?.();
      assert.ok(d, 'diagnostics after an update');
      assert.equal(d.agents.length, 1);
      assert.ok(
        Number.isFinite(d.stats.meanReward) &&
          Math.abs(d.stats.meanReward - rewards.reduce((x, y) => x + y, 0) / rewards.length) < 1e-6,
      );
      const last = phases[phases.length - 1];
      if (!last || last.agents[0] !== d.agents[0])
        phases.push({ sizes: [batch.length], proposals: [...batch], agents: d.agents });
      else {
        last.sizes.push(batch.length);
        last.proposals.push(...batch);
      }
    }
    assert.deepEqual(
      phases.map((p) => p.agents[0]),
      ['aug', 'nas', 'hpo'],
    );
    assert.deepEqual(
      phases.map((p) => p.sizes),
      [[4], [4], [4, 2]],
      'batches never cross a phase boundary',
    );
    phases.forEach((p, k) => {
      for (const prop of p.proposals)
        AGENTS.forEach(
          (_, j) =>
            j !== k && assert.deepEqual(prop[j], p.proposals[0][j], `phase ${AGENTS[k]} changed agent ${AGENTS[j]}`),
        );
    });
    // NAS and HPO keep the starting pipeline during the AUG phase; AUG is then fixed at its best tokens
    const bestAug = phases[0].proposals.reduce((b, p) => (reward(p) > reward(b) ? p : b));
    assert.deepEqual(phases[1].proposals[0][0], bestAug[0]);
    const bestNas = phases[1].proposals.reduce((b, p) => (reward(p) > reward(b) ? p : b));
    assert.deepEqual(phases[2].proposals[0][1], bestNas[1]);
    s.dispose();
    assert.equal(tf.memory().numTensors, n0, 'phase learners are freed');
  });

  it('returns fewer proposals at the end of a phase', () => {
    const s = sequentialStrategy(strategyContext({ space, evaluations: 10, batchSize: 8, seed: 0 }));
    const first = s.propose(8);
    assert.equal(first.length, 3, 'phase budget floor(10 / 3) = 3');
    s.dispose();
  });

  it('draws a feasible starting pipeline under a hard-mask constraint, counting the rejected draws', () => {
    let rejected = 0;
    const ctx = strategyContext({
      space,
      evaluations: 9,
      seed: 0,
      flops: { budget: TIGHT, rule: 'hard-mask' },
      onReject: (n) => (rejected += n),
    });
    const s = sequentialStrategy(ctx);
    const batch = s.propose(3);
    assert.ok(
      batch.every((p) => ctx.feasible(p)),
      'the AUG phase starts from a pipeline within the budget',
    );
    assert.ok(rejected > 0, `seed 0 rejects some starting draws at ${TIGHT} MACs (rejected ${rejected})`);
    s.dispose();
  });

  it('does not take modules', () => {
    assert.throws(
      () =>
        sequentialStrategy(
          strategyContext({ space, evaluations: 9, modules: ['nas'], fixedPipeline: defaultPipeline(space, TIGHT) }),
        ),
      /modules is not supported with method 'sequential'/,
    );
  });
});

describe('ma2ml/strategies: learner', () => {
  it('proposes batch-sized joint proposals from the learner; observe updates it', () => {
    const n0 = tf.memory().numTensors;
    const s = learnerStrategy('ma2ml-lite')(strategyContext({ space, evaluations: 64, batchSize: 8, seed: 1 }));
    assert.equal(s.diagnostics?.(), undefined, 'no diagnostics before an update');
    const batch = s.propose(8);
    assert.equal(batch.length, 8);
    assertInSpace(space, batch);
    // reward: 1 when the first HPO token is 0, else 0; the learner must move towards it
    const r = (p: JointAction): number => (p[2][0] === 0 ? 1 : 0);
    const v = vocabSizes(space)[2][0];
    let probs: number[] = [];
    let b = batch;
    for (let u = 0; u < 10; u++) {
      const rewards = b.map(r);
      s.observe(
        b,
        rewards,
        rewards.map((x) => ({ reward: x })),
      );
      const d = s.diagnostics?.();
      assert.ok(d);
      assert.deepEqual(d.agents, ['aug', 'nas', 'hpo']);
      assert.ok(
        Math.abs(d.stats.meanReward - rewards.reduce((x, y) => x + y, 0) / rewards.length) < 1e-6,
        'stats of this update',
      );
      probs = Array.from(d.probabilities[2][0]);
      b = s.propose(8);
    }
    assert.ok(probs[0] > 1 / v + 0.1, `P(hpo[0] = 0) rose from ${(1 / v).toFixed(2)} to ${probs[0].toFixed(2)}`);
    s.dispose();
    assert.equal(tf.memory().numTensors, n0, 'dispose frees the learner');
  });

  it('learns on the searched agents only (modules) and applies learner overrides', () => {
    const fixed = defaultPipeline(space, TIGHT);
    const ft = encodePipeline(space, fixed);
    const s = learnerStrategy('ma2ml')(
      strategyContext({
        space,
        evaluations: 16,
        seed: 2,
        modules: ['nas'],
        fixedPipeline: fixed,
        learner: { divergenceWeight: 0 },
      }),
    );
    const batch = s.propose(8);
    for (const p of batch) {
      assert.deepEqual(p[0], ft[0]);
      assert.deepEqual(p[2], ft[2]);
    }
    s.observe(
      batch,
      batch.map((p) => reward(p)),
      [],
    );
    assert.deepEqual(s.diagnostics?.()?.agents, ['nas']);
    assert.equal(s.diagnostics?.()?.probabilities.length, 1);
    s.dispose();
    assert.throws(
      () => learnerStrategy('ma2ml')(strategyContext({ space, evaluations: 16, learner: { actorLr: -1 } })),
      /actorLr/,
      'overrides reach the learner config',
    );
    assert.throws(() => learnerStrategy('bogus' as 'ma2ml'), /unknown learning method 'bogus'/);
  });
});

/**
 * A strategy defined outside the library: greedy mutation (a (1 + n) evolution strategy). Starts
 * from a random pipeline; each proposal changes one random token of the best pipeline so far.
 */
class GreedyMutation implements SearchStrategy {
  readonly calls = {
    propose: [] as number[],
    observe: [] as { proposals: JointAction[]; rewards: number[] }[],
    dispose: 0,
  };
  private readonly rng: Rng;
  private readonly vocab: number[][];
  private best: { tokens: JointAction; reward: number } | undefined;

  constructor(private readonly ctx: StrategyContext) {
    this.rng = new Rng(ctx.seed).fork('greedy-mutation');
    this.vocab = vocabSizes(ctx.space);
  }

  propose(n: number): JointAction[] {
    this.calls.propose.push(n);
    return Array.from({ length: n }, () => {
      if (!this.best) return this.vocab.map((agent) => agent.map((v) => this.rng.int(v)));
      const t = this.best.tokens.map((a) => [...a]);
      const a = this.ctx.searched[this.rng.int(this.ctx.searched.length)];
      const k = this.rng.int(t[a].length);
      t[a][k] = this.rng.int(this.vocab[a][k]);
      return t;
    });
  }

  observe(proposals: JointAction[], rewards: number[]): void {
    this.calls.observe.push({ proposals, rewards });
    rewards.forEach((r, i) => {
      if (!this.best || r > this.best.reward) this.best = { tokens: proposals[i], reward: r };
    });
  }

  dispose(): void {
    this.calls.dispose++;
  }
}

describe('ma2ml/strategies: a strategy registered from outside the library', () => {
  it('runs through runSearch: its proposals are evaluated in order and it observes their rewards', async () => {
    const made: GreedyMutation[] = [];
    const unregister = registerStrategy('greedy-mutation', (ctx) => {
      const s = new GreedyMutation(ctx);
      made.push(s);
      return s;
    });
    try {
      const res = await runSearch({
        method: 'greedy-mutation',
        space,
        evaluations: 40,
        batchSize: 8,
        seed: 3,
        evaluator: syntheticEvaluator(space, 7),
      });
      assert.equal(res.method, 'greedy-mutation');
      assert.equal(made.length, 1);
      const s = made[0];
      assert.deepEqual(s.calls.propose, [8, 8, 8, 8, 8]);
      assert.equal(s.calls.dispose, 1);
      const observed = s.calls.observe.flatMap((o) => o.proposals.map((p, i) => ({ tokens: p, reward: o.rewards[i] })));
      assert.deepEqual(
        observed.map((o) => o.tokens),
        res.log.map((e) => e.tokens),
      );
      assert.deepEqual(
        observed.map((o) => o.reward),
        res.log.map((e) => e.reward),
      );
      res.log.forEach((e) => assert.equal(e.reward, syntheticReward(space, e.pipeline, { seed: 7 })));
      assert.ok(
        res.best.reward > Math.max(...res.log.slice(0, 8).map((e) => e.reward)),
        'hill climbing improves on the random start',
      );

      // masking applies to it like to the built-ins: rejected proposals are asked for again
      const masked = await runSearch({
        method: 'greedy-mutation',
        space,
        evaluations: 16,
        batchSize: 8,
        seed: 4,
        evaluator: syntheticEvaluator(space, 7),
        flops: { budget: TIGHT, rule: 'hard-mask' },
      });
      const m = made[1];
      assert.ok(masked.masked > 0);
      assert.equal(
        m.calls.propose.reduce((x, y) => x + y, 0),
        16 + masked.masked,
        'every rejected proposal was redrawn',
      );
      for (const e of masked.log) assert.ok(checkPipeline(space, e.pipeline, { flopsBudget: TIGHT }).valid);
    } finally {
      unregister();
    }
    await assert.rejects(
      runSearch({ method: 'greedy-mutation', space, evaluations: 8, evaluator: syntheticEvaluator(space, 7) }),
      /method: "greedy-mutation" is not a search method/,
    );
  });

  it('a strategy that proposes nothing or too much is an Error naming it', async () => {
    for (const [name, count] of [
      ['proposes-none', 0],
      ['proposes-too-many', 9],
    ] as const) {
      let disposed = 0;
      const off = registerStrategy(name, () => ({
        propose: () => Array.from({ length: count }, () => vocabSizes(space).map((a) => a.map(() => 0))),
        observe: () => undefined,
        dispose: () => void disposed++,
      }));
      try {
        await assert.rejects(
          runSearch({ method: name, space, evaluations: 8, batchSize: 8, evaluator: syntheticEvaluator(space, 7) }),
          new RegExp(`strategy '${name}' proposed ${count} pipelines when asked for 8`),
        );
        assert.equal(disposed, 1, 'disposed after the error');
      } finally {
        off();
      }
    }
  });
});
