// Cache keys follow behaviour, and cached results hold no wall-clock time (issue 15, item 5 and bug 6).
//
// 1. Keys: the run hash of a kind with `resolveConfig` is computed from the resolved configuration
//    (defaults applied), so a changed default (e.g. the GANNO feature list) changes the key while two
//    spellings of the same configuration share one.
// 2. Byte-identical results: the stored result of the same job computed twice (fresh stores, fresh
//    checkpoint folder) is the same text.
// 3. Version guard: every pinned kind's result on a tiny job is reduced to a hash and pinned together
//    with the kind's `version`. A code change that changes a kind's results fails here until the
//    kind's `version` is bumped (otherwise old cached results would be silently reused) and the pin
//    is updated. Regenerate the pins (only after bumping the version, or when results did not change
//    but the version did): JOB_KINDS_PRINT=1 npx mocha test/runtime/job-kinds.test.ts
import { strict as assert } from 'assert';
import Database from 'better-sqlite3';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  DEFAULT_FEATURE_NAMES,
  GANNO_PPO_DEFAULTS,
  gannoEvalRunKind,
  gannoPlan,
  gannoPpoSweepKind,
  gannoTrainKind,
  resolveGannoTrainJobConfig,
} from '../../src/ganno';
import type { GannoTrainJobConfig } from '../../src/ganno';
import { evaluationKind, flopsBudgets, presetSpace, defaultPipeline, syntheticEvaluationKind } from '../../src/ma2ml';
import { dilutedGameSeedKind, matrixGameSeedKind } from '../../src/marl/experiments';
import {
  ExperimentStore,
  InlineExecutor,
  defineJobKind,
  getJobKind,
  hashJson,
  registeredJobKinds,
  resolvedJobConfig,
  runExperiment,
  runHash,
} from '../../src/runtime';
import type { Job, JsonValue } from '../../src/runtime';

const PRINT = process.env.JOB_KINDS_PRINT === '1';

/** A tiny GANNO env (the smoke plan's, on a small synthetic task; K is whatever the plan's default is). */
function tinyEnv(): Record<string, unknown> {
  const env = gannoPlan('smoke').env as Record<string, unknown> & { task?: Record<string, unknown> };
  return {
    ...env,
    task: { ...env.task, datasets: ['synthetic'], totalSteps: 20, trainSize: 200, valSize: 100, widths: [16] },
  };
}

function tinyTrain(root: string): GannoTrainJobConfig {
  return {
    train: { env: tinyEnv(), updates: 1, numEnvs: 1, evalEvery: 1, checkpointEvery: 1, valSeeds: [900001] },
    root,
    label: 'tiny-s0',
  };
}

describe('runtime/jobs: cache keys follow the resolved configuration', () => {
  const kind = defineJobKind({
    name: 'test-resolved-kind',
    module: __filename,
    export: 'unused',
    version: 'test-resolved@1',
    fn: (c: { lr?: number }) => ({ lr: c.lr ?? 0.1 }),
    resolveConfig: (c: { lr?: number }) => ({ lr: c.lr ?? 0.1 }),
  });
  const plain = defineJobKind({ name: 'test-plain-kind', module: __filename, export: 'unused', version: 'plain@1' });

  it('a default spelled out or left out gives one key; another value gives another', () => {
    assert.equal(runHash(kind.job('a', {}, 0)), runHash(kind.job('a', { lr: 0.1 }, 0)));
    assert.notEqual(runHash(kind.job('a', {}, 0)), runHash(kind.job('a', { lr: 0.2 }, 0)));
    assert.deepEqual(resolvedJobConfig(kind.job('a', {}, 0)), { lr: 0.1 });
  });

  it('changing a default changes the key of every job that relies on it', () => {
    const before = runHash(kind.job('a', {}, 0));
    defineJobKind({
      ...kind.spec,
      fn: (c: { lr?: number }) => ({ lr: c.lr ?? 0.3 }),
      resolveConfig: (c: { lr?: number }) => ({ lr: c.lr ?? 0.3 }),
    });
    try {
      assert.notEqual(runHash(kind.job('a', {}, 0)), before);
      assert.equal(runHash(kind.job('a', { lr: 0.1 }, 0)), before, 'an explicit value keeps its key');
    } finally {
      defineJobKind({ ...kind.spec, resolveConfig: (c: { lr?: number }) => ({ lr: c.lr ?? 0.1 }) });
    }
  });

  it('a kind without a resolver keeps the key of its raw configuration (stored caches stay valid)', () => {
    const job = plain.job('a', { x: 1 }, 3);
    assert.equal(
      runHash(job),
      hashJson({ kind: 'test-plain-kind', version: 'plain@1', key: 'a', seed: 3, config: { x: 1 } }),
    );
  });

  it('an invalid configuration is reported when the key is computed, naming the job', () => {
    const job = gannoTrainKind.job('bad', { train: { updates: 0 }, root: '/r', label: 'x' }, 0);
    assert.throws(() => runHash(job), /job 'bad' \(kind 'ganno-train'\): invalid configuration: .*updates/);
  });

  it('ganno-train: the key covers the default feature list, credit, PPO settings and env defaults', () => {
    const base = tinyTrain('/r');
    const key = (c: GannoTrainJobConfig) => runHash(gannoTrainKind.job('k', c, 0));
    const withEnv = (env: Record<string, unknown>) => ({
      ...base,
      train: { ...base.train, env: { ...tinyEnv(), ...env } },
    });
    const resolved = resolveGannoTrainJobConfig(base).train as unknown as {
      env: { features: string[]; agentRewards: string; lrClip: number[] };
      ppo: { learningRate: number };
      credit: string;
    };
    assert.deepEqual(resolved.env.features, [...DEFAULT_FEATURE_NAMES]);
    assert.equal(resolved.credit, 'difference');
    assert.equal(resolved.env.agentRewards, 'difference');
    assert.equal(resolved.ppo.learningRate, GANNO_PPO_DEFAULTS.learningRate);
    // spelling out the defaults keeps the key: the key is a function of the resolved config
    assert.equal(key(withEnv({ features: [...DEFAULT_FEATURE_NAMES] })), key(base));
    assert.equal(key(withEnv({ lrClip: resolved.env.lrClip })), key(base));
    assert.equal(key({ ...base, train: { ...base.train, credit: 'difference' } }), key(base));
    assert.equal(
      key({ ...base, train: { ...base.train, ppo: { learningRate: GANNO_PPO_DEFAULTS.learningRate } } }),
      key(base),
    );
    // so a different default feature list (or reward kind, or PPO default) gives a different key
    assert.notEqual(key(withEnv({ features: DEFAULT_FEATURE_NAMES.slice(1) })), key(base));
    assert.notEqual(key({ ...base, train: { ...base.train, credit: 'shared' } }), key(base));
    assert.notEqual(key({ ...base, train: { ...base.train, ppo: { learningRate: 1e-3 } } }), key(base));
    assert.notEqual(key(withEnv({ lrClip: [1e-4, 1] })), key(base));
  });

  it('ganno-eval-run, ganno-ppo-sweep, the MARL seeds and ma2ml-evaluate resolve their defaults too', () => {
    const evalKey = (env: Record<string, unknown>, testSize?: number) =>
      runHash(gannoEvalRunKind.job('k', { controller: { type: 'constant', lr: 0.1 }, env, taskSeed: 1, testSize }, 0));
    assert.equal(evalKey({ ...tinyEnv(), features: [...DEFAULT_FEATURE_NAMES] }, 2000), evalKey(tinyEnv()));
    assert.notEqual(evalKey({ ...tinyEnv(), features: DEFAULT_FEATURE_NAMES.slice(2) }), evalKey(tinyEnv()));

    const sweep = { ...tinyTrain('/r'), valSeeds: [1] };
    const sweepKey = (c: typeof sweep) => runHash(gannoPpoSweepKind.job('k', c, 0));
    assert.equal(sweepKey({ ...sweep, train: { ...sweep.train, credit: 'difference' } }), sweepKey(sweep));
    assert.notEqual(sweepKey({ ...sweep, train: { ...sweep.train, credit: 'shared' } }), sweepKey(sweep));

    const m = (c: object) => runHash(matrixGameSeedKind.job('k', c, 0));
    assert.equal(
      m({ game: 'penalty', method: 'difference', iterations: 5 }),
      m({ game: 'penalty', method: 'difference', iterations: 5, penaltyK: -5, batchSize: 8 }),
    );
    const d = (c: object) => runHash(dilutedGameSeedKind.job('k', c, 0));
    assert.equal(d({ method: 'shared', episodes: 16 }), d({ method: 'shared', episodes: 16, numAgents: 20 }));

    const space = presetSpace('smoke');
    const pipeline = defaultPipeline(space, flopsBudgets('smoke')[1]);
    const full = {
      pipeline,
      space,
      data: { source: 'auto', trainSubset: 2000, validationSize: 1000, dataSeed: 0 },
      epochs: 1,
      flopsBudget: 1e6,
      budgetRule: 'hard',
    };
    const e = (c: object) => runHash(evaluationKind.job('k', c, 0));
    assert.equal(e({ ...full, data: {} }), e(full));
    // a configuration that spells every field keeps the key it had before resolvers existed
    const spec = getJobKind('ma2ml-evaluate');
    assert.equal(
      e(full),
      hashJson({ kind: spec.name, version: spec.version, key: 'k', seed: 0, config: full as unknown as JsonValue }),
    );
  });
});

describe('runtime: stored results are byte-identical and pinned per kind version', function () {
  this.timeout(300_000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'job-kinds-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Tiny jobs, one per pinned kind (root: folder for checkpoints, the same in both computations). */
  function jobs(root: string): Job[] {
    const space = presetSpace('smoke');
    return [
      matrixGameSeedKind.job('matrix', { game: 'climbing', method: 'difference', iterations: 10 }, 1),
      dilutedGameSeedKind.job('diluted', { method: 'difference', episodes: 32, numAgents: 4 }, 2),
      evaluationKind.job(
        'ma2ml-evaluate',
        {
          pipeline: defaultPipeline(space, flopsBudgets('smoke')[1]),
          space,
          data: { source: 'embedded', trainSubset: 100, validationSize: 100 },
          epochs: 1,
          flopsBudget: flopsBudgets('smoke')[1],
          budgetRule: 'soft',
        },
        0,
      ),
      gannoEvalRunKind.job(
        'ganno-eval-run',
        { controller: { type: 'constant', lr: 0.1 }, env: tinyEnv(), taskSeed: 3, testSize: 100 },
        0,
      ),
      gannoTrainKind.job('ganno-train', tinyTrain(root), 0),
      gannoPpoSweepKind.job('ganno-ppo-sweep', { ...tinyTrain(root), label: 'sweep-s0', valSeeds: [900003] }, 0),
      syntheticEvaluationKind.job(
        'ma2ml-synthetic',
        { pipeline: defaultPipeline(space, flopsBudgets('smoke')[1]), space, rewardSeed: 7 },
        0,
      ),
    ];
  }

  /** Runs the jobs into a fresh store; returns the stored result text per key. */
  async function computeOnce(tag: string, root: string): Promise<Map<string, string>> {
    fs.rmSync(root, { recursive: true, force: true }); // no checkpoint to resume from
    const file = path.join(dir, `${tag}.sqlite`);
    const store = ExperimentStore.open(file);
    try {
      await runExperiment({ name: 'kinds', jobs: jobs(root), executor: new InlineExecutor(), store });
    } finally {
      store.close();
    }
    const db = new Database(file, { readonly: true });
    try {
      const rows = db.prepare('SELECT key, result_json FROM runs WHERE experiment = ?').all('kinds') as {
        key: string;
        result_json: string;
      }[];
      return new Map(rows.map((r) => [r.key, r.result_json]));
    } finally {
      db.close();
    }
  }

  /** Pinned kind versions and the hash of their tiny job's stored result (paths under the root made relative). */
  const PINS: Record<string, { version: string; result: string }> = {
    'marl-matrix-seed': {
      version: 'marl-matrix-seed@1',
      result: '22836daf95ff48bdd04b243afc3c809f5a27c4bb9d26b98647737879c22ac5ab',
    },
    'marl-diluted-seed': {
      version: 'marl-diluted-seed@1',
      result: '92aa180e562c10c498eae8ac4942090bd9fe8b72572f111828a1ff72ce7618aa',
    },
    'ma2ml-evaluate': {
      version: 'ma2ml-evaluate@1',
      result: '8452526fcba2a1c6fa34305bf3adc02f5ed5423c5666c3801265424eb09b3a93',
    },
    'ganno-eval-run': {
      version: 'ganno-eval-run@2',
      result: 'f867bb8a8039c52f7a4c61a948590756d553daed9848e84c7ea9e5eec2419e08',
    },
    'ganno-ppo-sweep': {
      version: 'ganno-ppo-sweep@1',
      result: '9a94b07edffaa44aecf009e1ca26904afbe454d6d0741766633a0f9ac807d3c4',
    },
    'ma2ml-synthetic': {
      version: 'ma2ml-synthetic@1',
      result: '7fa1fbafd364d40a647c806234ec5fbd224d9d5cfb012e954fbc3cf201931766',
    },
    'ganno-train': {
      version: 'ganno-train@3',
      result: '057f4f31d66e186f5d1869ee8c0dd644c344321c1510351beae037c577009c9c',
    },
  };

  /** Kinds registered by src/ganno, src/ma2ml and src/marl that have no pin, and why. */
  const UNPINNED: Record<string, string> = {
    'ma2ml-retrain': 'trains on the installed Fashion-MNIST files (source auto): results depend on the machine',
    'ma2ml-reward-surrogate': 'inline only, reads a model fitted in the same process',
    'ma2ml-surrogate-search': 'needs the LCBench surrogate tables',
  };

  it('every registered kind of the papers is pinned or listed as unpinned with a reason', () => {
    const kinds = registeredJobKinds().filter((k) => !k.startsWith('test-') && !k.startsWith('bench-'));
    const missing = kinds.filter((k) => !(k in PINS) && !(k in UNPINNED));
    assert.deepEqual(missing, [], 'add a tiny job and a pin for these kinds (or a reason to UNPINNED)');
  });

  it('the same job computed twice stores the same bytes, and each kind still gives its pinned result', async () => {
    const root = path.join(dir, 'agents');
    const first = await computeOnce('a', root);
    const second = await computeOnce('b', root);
    const all = jobs(root);
    assert.equal(first.size, all.length);
    const printed: Record<string, { version: string; result: string }> = {};
    const failures: string[] = [];
    for (const job of all) {
      const a = first.get(job.key)!;
      assert.equal(second.get(job.key), a, `${job.kind}: stored results differ between two computations`);
      assert.doesNotMatch(a, /[Ss]econds"/, `${job.kind}: a cached result holds a wall-clock field`);
      const version = getJobKind(job.kind).version;
      const result = hashJson(a.split(root).join('<root>'));
      printed[job.kind] = { version, result };
      const pin = PINS[job.kind];
      if (!pin) failures.push(`${job.kind}: no pin`);
      else if (pin.version === version && pin.result !== result)
        failures.push(
          `${job.kind}: its results changed (hash ${result}, pinned ${pin.result}) but its version is still '${version}': ` +
            `bump the version in ${path.relative(process.cwd(), getJobKind(job.kind).module)} so stored results are recomputed, then update the pin`,
        );
      else if (pin.version !== version)
        failures.push(`${job.kind}: version is now '${version}' (pinned '${pin.version}'): update the pin`);
    }
    if (PRINT) console.log(JSON.stringify(printed, null, 2));
    assert.deepEqual(failures, []);
  });
});
