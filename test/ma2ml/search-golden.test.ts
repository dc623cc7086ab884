// Golden behaviour of runSearch: the full evaluation log (proposed tokens and pipelines, rewards,
// batches, repeats, masking) and the policy after every update of every method on the synthetic
// reward with fixed seeds, reduced to a hash. The expected hashes were generated with the code
// before the search strategies were split into components (issue 12, deliverable 5); a refactor
// must reproduce them exactly. Also pins the run hashes (store cache keys) of the evaluators.
// Regenerate (only for an intended behaviour change): GOLDEN_PRINT=1 npx mocha test/ma2ml/search-golden.test.ts
import { strict as assert } from 'assert';
import { createHash } from 'crypto';
import {
  defaultPipeline,
  ma2mlPlan,
  planEvaluator,
  planSpace,
  presetSpace,
  pipelineKey,
  samplePipeline,
} from '../../src/ma2ml';
import type { AgentName, Pipeline, SearchSpace } from '../../src/ma2ml';
import { runSearch, syntheticEvaluator, trainingEvaluator } from '../../src/ma2ml/search';
import type { SearchEvaluator, SearchMethod, SearchOptions, SearchUpdateInfo } from '../../src/ma2ml/search';
import { Rng } from '../../src/random';
import { runHash } from '../../src/runtime/jobs';

const PRINT = process.env.GOLDEN_PRINT === '1';
const METHODS: SearchMethod[] = [
  'ma2ml',
  'ma2ml-lite',
  'ma2ml-no-credit',
  'independent',
  'single-agent',
  'sequential',
  'random',
];
const TIGHT = 45e3;
const LOOSE = 60e3;

/** One golden case, independent of how the options spell the FLOPs constraint. */
interface Case {
  name: string;
  method: SearchMethod;
  evaluations: number;
  batchSize: number;
  seed: number;
  rewardSeed: number;
  /** Budget and rule the evaluator scores with. */
  evaluatorFlops?: { budget: number; rule: 'hard' | 'soft' };
  /** Hard budget masked at sampling (`undefined`: no masking; 'evaluator': the evaluator's budget). */
  mask?: number | 'evaluator';
  learner?: SearchOptions['learner'];
  modules?: AgentName[];
  fixedBudget?: number;
}

/** The options of a case in the API under test (the only part to update when the API changes). */
function options(space: SearchSpace, c: Case, onUpdate: (i: SearchUpdateInfo) => void): SearchOptions {
  // 'evaluator' masking: the evaluator carries the hard-mask constraint (scores as hard, same cache key).
  const evaluatorFlops = c.evaluatorFlops
    ? { budget: c.evaluatorFlops.budget, rule: c.mask === 'evaluator' ? ('hard-mask' as const) : c.evaluatorFlops.rule }
    : undefined;
  const evaluator: SearchEvaluator = syntheticEvaluator(space, c.rewardSeed, evaluatorFlops);
  const o: SearchOptions = {
    method: c.method,
    space,
    evaluations: c.evaluations,
    batchSize: c.batchSize,
    seed: c.seed,
    evaluator,
    onUpdate,
  };
  if (typeof c.mask === 'number') o.flops = { budget: c.mask, rule: 'hard-mask' };
  if (c.learner) o.learner = c.learner;
  if (c.modules) {
    o.modules = c.modules;
    o.fixedPipeline = defaultPipeline(space, c.fixedBudget ?? LOOSE);
  }
  return o;
}

const round = (x: number) => Number(x.toPrecision(6));
const hash = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 16);

const CASES: Case[] = [
  ...METHODS.map((method): Case => ({
    name: `${method} plain`,
    method,
    evaluations: 22,
    batchSize: 4,
    seed: 3,
    rewardSeed: 7,
  })),
  ...METHODS.map((method): Case => ({
    name: `${method} masked at the evaluator's hard budget`,
    method,
    evaluations: 22,
    batchSize: 4,
    seed: 5,
    rewardSeed: 11,
    evaluatorFlops: { budget: TIGHT, rule: 'hard' },
    mask: 'evaluator',
  })),
  ...[0, 1, 2].map((seed): Case => ({
    name: `sequential masked seed ${seed}`,
    method: 'sequential',
    evaluations: 10,
    batchSize: 4,
    seed,
    rewardSeed: 2,
    evaluatorFlops: { budget: LOOSE, rule: 'hard' },
    mask: TIGHT,
  })),
  {
    name: 'random masked at the search budget, soft evaluator',
    method: 'random',
    evaluations: 22,
    batchSize: 4,
    seed: 1,
    rewardSeed: 3,
    evaluatorFlops: { budget: LOOSE, rule: 'soft' },
    mask: TIGHT,
  },
  {
    name: 'ma2ml soft evaluator, no masking',
    method: 'ma2ml',
    evaluations: 16,
    batchSize: 8,
    seed: 2,
    rewardSeed: 3,
    evaluatorFlops: { budget: TIGHT, rule: 'soft' },
  },
  {
    name: 'ma2ml only nas',
    method: 'ma2ml',
    evaluations: 16,
    batchSize: 4,
    seed: 4,
    rewardSeed: 5,
    modules: ['nas'],
    fixedBudget: TIGHT,
  },
  {
    name: 'random only aug+hpo',
    method: 'random',
    evaluations: 10,
    batchSize: 3,
    seed: 4,
    rewardSeed: 5,
    modules: ['aug', 'hpo'],
  },
  {
    name: 'independent only hpo masked',
    method: 'independent',
    evaluations: 12,
    batchSize: 4,
    seed: 6,
    rewardSeed: 5,
    evaluatorFlops: { budget: LOOSE, rule: 'hard' },
    mask: TIGHT,
    modules: ['hpo'],
    fixedBudget: TIGHT,
  },
  {
    name: 'ma2ml-no-credit only nas+hpo masked',
    method: 'ma2ml-no-credit',
    evaluations: 12,
    batchSize: 4,
    seed: 6,
    rewardSeed: 5,
    evaluatorFlops: { budget: LOOSE, rule: 'hard' },
    mask: TIGHT,
    modules: ['nas', 'hpo'],
    fixedBudget: TIGHT,
  },
  {
    name: 'ma2ml w=0',
    method: 'ma2ml',
    evaluations: 16,
    batchSize: 4,
    seed: 8,
    rewardSeed: 7,
    learner: { divergenceWeight: 0 },
  },
  // The replay learner that `ma2ml` was before issue 12: same cases, pinned to the pre-issue-12 ma2ml hashes.
  { name: 'ma2ml-replay plain', method: 'ma2ml-replay', evaluations: 22, batchSize: 4, seed: 3, rewardSeed: 7 },
  {
    name: "ma2ml-replay masked at the evaluator's hard budget",
    method: 'ma2ml-replay',
    evaluations: 22,
    batchSize: 4,
    seed: 5,
    rewardSeed: 11,
    evaluatorFlops: { budget: TIGHT, rule: 'hard' },
    mask: 'evaluator',
  },
  {
    name: 'ma2ml-replay w=0',
    method: 'ma2ml-replay',
    evaluations: 16,
    batchSize: 4,
    seed: 8,
    rewardSeed: 7,
    learner: { divergenceWeight: 0 },
  },
  {
    name: 'single-agent factorised',
    method: 'single-agent',
    evaluations: 16,
    batchSize: 4,
    seed: 8,
    rewardSeed: 7,
    learner: { policy: 'factorised', actorLr: 0.05 },
  },
  {
    name: 'sequential 2 evaluations (empty phases)',
    method: 'sequential',
    evaluations: 2,
    batchSize: 4,
    seed: 9,
    rewardSeed: 7,
  },
  {
    name: 'sequential 7 evaluations, batch 8',
    method: 'sequential',
    evaluations: 7,
    batchSize: 8,
    seed: 9,
    rewardSeed: 7,
  },
  {
    name: 'random batch larger than the budget',
    method: 'random',
    evaluations: 5,
    batchSize: 8,
    seed: 9,
    rewardSeed: 7,
  },
];

/** Hashes of the golden cases (generated with the pre-refactor runSearch; the `ma2ml` cases regenerated when its defaults became the issue-12 learner, whose former settings `ma2ml-replay` still reproduces the old hashes). */
const EXPECTED: Record<string, string> = {
  'ma2ml plain': '79b5a51da767ba83',
  'ma2ml-lite plain': '2078212b4a4b79b7',
  'ma2ml-no-credit plain': 'f63e1ce5c4e9749f',
  'independent plain': '6cdd5ae8190e42dc',
  'single-agent plain': '7a5589c553ae3ad0',
  'sequential plain': 'a88663ce76ed3220',
  'random plain': '16acd1394dc677c4',
  "ma2ml masked at the evaluator's hard budget": 'b7b00503d7d66cf6',
  "ma2ml-lite masked at the evaluator's hard budget": 'e12db3e8d686b4a2',
  "ma2ml-no-credit masked at the evaluator's hard budget": '1f463cd187a034e6',
  "independent masked at the evaluator's hard budget": 'b3923719740441c0',
  "single-agent masked at the evaluator's hard budget": 'ab843a4a5e51f864',
  "sequential masked at the evaluator's hard budget": '3b88b2afee3bc4df',
  "random masked at the evaluator's hard budget": '8d66f92301bce7cc',
  'sequential masked seed 0': '245c2c89006321c2',
  'sequential masked seed 1': 'e77d54658faa56f7',
  'sequential masked seed 2': '927aa8a2b7a1b4f4',
  'random masked at the search budget, soft evaluator': 'e9bcf42c0e0f8f4c',
  'ma2ml soft evaluator, no masking': '849f8e9da8687aeb',
  'ma2ml only nas': '1853617563490b17',
  'random only aug+hpo': 'fb146426de221fb3',
  'independent only hpo masked': '1ed4d72a6e1174d6',
  'ma2ml-no-credit only nas+hpo masked': 'afad9a231ac08cca',
  'ma2ml w=0': '37b2f752d8307c91',
  'single-agent factorised': '5d5c081ec7f470b7',
  'sequential 2 evaluations (empty phases)': 'c932e7d1804dbc1e',
  'sequential 7 evaluations, batch 8': '52acdd67cd186a3b',
  'random batch larger than the budget': 'c852ebc372521bc7',
  'ma2ml-replay plain': '6e76dabb0a632899',
  "ma2ml-replay masked at the evaluator's hard budget": '174a616f2df0a35e',
  'ma2ml-replay w=0': '4167fd052970941a',
};

/** Run hashes (cache keys) of evaluator jobs (generated with the pre-refactor code). */
const EXPECTED_RUN_HASHES: Record<string, string> = {
  'synthetic, no budget': '91b45c3352013d02166ecb1992e63b5e16b00d12076e1c1d0ad2f228e0c9d9ab',
  'synthetic, hard 45k': '7d298d50ff7c489a810db8522ab75c5f68e2207005b43fc9d806c31bd5e550ce',
  'synthetic, soft 60k': '78f4f213293a4f1f0a2db6b84b2b682acc8d611234c04cb3c029c31e376b04b5',
  'training quick, soft 600k, seed 2': '64f10f0a3963cede578942cc051c8c1cbdc16179498a6f1a39838dc259c061de',
  'training quick, default rule': '7f2f4d97361bd0b677626a2436eacb1610c1d2c4e04ed3826671a4656b18f5d8',
  'plan evaluator smoke': 'ecceafefac1ee9656fb1166fea287e93eabe07989b40f39f05edf4f328fcbd21',
  'plan evaluator quick': 'fa1f968fd16b2f1a8380837a2dbf49086b84cff7caa73726507d15d093523d93',
  'plan evaluator full': '7f2f4d97361bd0b677626a2436eacb1610c1d2c4e04ed3826671a4656b18f5d8',
};

describe('ma2ml/search: golden logs of every method (behaviour pinned across refactors)', function () {
  this.timeout(300000);
  const space = presetSpace('smoke');
  const got: Record<string, string> = {};
  const summary: Record<string, string> = {};

  after(() => {
    if (PRINT) {
      console.log(JSON.stringify(got, null, 2));
      console.log(JSON.stringify(summary, null, 2));
    }
  });

  for (const c of CASES) {
    it(c.name, async () => {
      const updates: unknown[] = [];
      const res = await runSearch(
        options(space, c, (i) =>
          updates.push([
            i.update,
            i.evaluations,
            i.agents,
            i.probabilities.map((a) => a.map((p) => Array.from(p, round))),
          ]),
        ),
      );
      const fingerprint = {
        log: res.log.map((e) => [
          e.evaluation,
          e.batch,
          e.tokens,
          pipelineKey(e.pipeline),
          e.reward,
          e.bestSoFar,
          e.repeat,
          e.result,
        ]),
        best: res.best,
        evaluations: res.evaluations,
        distinct: res.distinct,
        cached: res.cached,
        computed: res.computed,
        masked: res.masked,
        // The replay learner is the pre-issue-12 `ma2ml`: hashed under that name so its old hashes still pin it.
        method: res.method === 'ma2ml-replay' ? 'ma2ml' : res.method,
        seed: res.seed,
        updates,
      };
      got[c.name] = hash(fingerprint);
      summary[c.name] =
        `evals ${res.evaluations} batches ${new Set(res.log.map((e) => e.batch)).size} masked ${res.masked} updates ${updates.length} best ${res.best.reward.toFixed(4)}`;
      if (!PRINT) assert.equal(got[c.name], EXPECTED[c.name], `fingerprint of '${c.name}' (${summary[c.name]})`);
    });
  }
});

describe('ma2ml/search: evaluator cache keys are unchanged', () => {
  const pipeline = (space: SearchSpace): Pipeline => samplePipeline(space, new Rng(5));
  const jobHash = (ev: SearchEvaluator, p: Pipeline) =>
    runHash(ev.kind.job(pipelineKey(p), { ...ev.config, pipeline: p }, ev.seed));
  const evaluators: Record<string, () => { ev: SearchEvaluator; space: SearchSpace }> = {
    'synthetic, no budget': () => ({ ev: syntheticEvaluator(presetSpace('smoke'), 7), space: presetSpace('smoke') }),
    'synthetic, hard 45k': () => ({
      ev: syntheticEvaluator(presetSpace('smoke'), 7, { budget: TIGHT, rule: 'hard' }),
      space: presetSpace('smoke'),
    }),
    'synthetic, soft 60k': () => ({
      ev: syntheticEvaluator(presetSpace('smoke'), 7, { budget: LOOSE, rule: 'soft' }),
      space: presetSpace('smoke'),
    }),
    'training quick, soft 600k, seed 2': () => ({
      ev: trainingEvaluator(presetSpace('quick'), { flops: { budget: 6e5, rule: 'soft' }, seed: 2 }),
      space: presetSpace('quick'),
    }),
    'training quick, default rule': () => ({
      ev: trainingEvaluator(presetSpace('quick'), { flops: { budget: 8e5 } }),
      space: presetSpace('quick'),
    }),
    ...Object.fromEntries(
      (['smoke', 'quick', 'full'] as const).map((preset) => [
        `plan evaluator ${preset}`,
        () => {
          const plan = ma2mlPlan(preset);
          const space = planSpace(plan);
          return { ev: planEvaluator(plan, space), space };
        },
      ]),
    ),
  };
  const got: Record<string, string> = {};
  after(() => {
    if (PRINT) console.log(JSON.stringify(got, null, 2));
  });
  for (const [name, make] of Object.entries(evaluators)) {
    it(name, () => {
      const { ev, space } = make();
      got[name] = jobHash(ev, pipeline(space));
      if (!PRINT) assert.equal(got[name], EXPECTED_RUN_HASHES[name]);
    });
  }
  it("rule 'hard-mask' is scored as 'hard': same cache keys as the hard evaluators", () => {
    const smoke = presetSpace('smoke');
    const quick = presetSpace('quick');
    assert.equal(
      jobHash(syntheticEvaluator(smoke, 7, { budget: TIGHT, rule: 'hard-mask' }), pipeline(smoke)),
      EXPECTED_RUN_HASHES['synthetic, hard 45k'],
    );
    assert.equal(
      jobHash(syntheticEvaluator(smoke, 7, { budget: TIGHT }), pipeline(smoke)),
      EXPECTED_RUN_HASHES['synthetic, hard 45k'],
    );
    assert.equal(
      jobHash(trainingEvaluator(quick, { flops: { budget: 8e5, rule: 'hard-mask' } }), pipeline(quick)),
      EXPECTED_RUN_HASHES['training quick, default rule'],
    );
  });
});
