import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  LcbenchSurrogate,
  SurrogateSearchProblem,
  cachedExhaustiveTable,
  defaultLcbenchGrid,
  exhaustiveTable,
  gridConfigToTokens,
  gridIndexToConfig,
  gridIndexToTokens,
  gridLearnerAgents,
  gridSizes,
  gridTokensToConfig,
  gridTokensToIndex,
  gridXCont,
  lcbenchDataDir,
  parseGrid,
} from '../../src/ma2ml';
import type { LcbenchConfig, LcbenchGrid, SurrogateTable } from '../../src/ma2ml';
import { checkModelIo } from '../../src/ma2ml/surrogate/lcbench';
import { SingleStepLearner } from '../../src/marl';
import { Rng } from '../../src/random';

const MODEL_SHA256 = 'b45c0d85ae39abf8820c8bea5ac82f415763afcbaf3b725e36af452b09cb6dcd';

function randomConfig(rng: Rng): LcbenchConfig {
  return {
    batch_size: Math.round(rng.logUniform(16, 512)),
    learning_rate: rng.logUniform(1e-4, 0.1),
    momentum: rng.uniform(0.1, 0.99),
    weight_decay: rng.uniform(1e-5, 0.1),
    num_layers: 1 + rng.int(5),
    max_units: Math.round(rng.logUniform(64, 1024)),
    max_dropout: rng.uniform(0, 1),
  };
}

/** 648 configurations: small enough to brute-force in a test. */
function smallGrid(): LcbenchGrid {
  return {
    name: 'small',
    agents: [
      {
        name: 'architecture',
        params: [
          { name: 'num_layers', values: [1, 3, 5] },
          { name: 'max_units', values: [64, 256, 1024] },
          { name: 'max_dropout', values: [0, 0.5] },
        ],
      },
      {
        name: 'optimisation',
        params: [
          { name: 'batch_size', values: [16, 128, 512] },
          { name: 'learning_rate', values: [1e-4, 3e-3, 0.1] },
          { name: 'momentum', values: [0.5, 0.99] },
          { name: 'weight_decay', values: [1e-4, 1e-2] },
        ],
      },
    ],
  };
}

const tmpDirs: string[] = [];
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'lcbench-test-'));
  tmpDirs.push(d);
  return d;
}

describe('ma2ml/surrogate: YAHPO Gym LCBench surrogate', function () {
  let s: LcbenchSurrogate;
  before(async () => {
    s = await LcbenchSurrogate.load();
  });
  after(async () => {
    await s?.dispose();
    for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('loads the vendored model with its 34 OpenML tasks and the documented sha256', () => {
    assert.equal(s.tasks.length, 34);
    assert.equal(new Set(s.tasks).size, 34);
    for (const t of ['3945', '7593', '34539', '189909']) assert.ok(s.tasks.includes(t), t);
    assert.equal(s.modelSha256, MODEL_SHA256);
    assert.equal(s.dir, lcbenchDataDir());
    assert.equal(s.taskCode('3945'), 34); // encoding.json
    assert.throws(() => s.taskCode('167083'), /unknown taskId "167083"/); // in encoding.json, not in the task list
  });

  it('load fails clearly for a missing directory, a corrupt model, a bad encoding and a wrong model interface', async () => {
    await assert.rejects(
      LcbenchSurrogate.load(path.join(os.tmpdir(), 'no-such-lcbench-dir')),
      /model file .*model\.onnx not found/,
    );
    const src = lcbenchDataDir();
    const corrupt = tmpDir();
    for (const f of ['config_space.json', 'encoding.json']) fs.copyFileSync(path.join(src, f), path.join(corrupt, f));
    fs.writeFileSync(path.join(corrupt, 'model.onnx'), 'this is not an onnx model');
    await assert.rejects(LcbenchSurrogate.load(corrupt), /cannot load the ONNX model .*model\.onnx/);
    const badEnc = tmpDir();
    for (const f of ['config_space.json', 'model.onnx']) fs.copyFileSync(path.join(src, f), path.join(badEnc, f));
    const enc = JSON.parse(fs.readFileSync(path.join(src, 'encoding.json'), 'utf8'));
    delete enc.OpenML_task_id['7593'];
    fs.writeFileSync(path.join(badEnc, 'encoding.json'), JSON.stringify(enc));
    await assert.rejects(LcbenchSurrogate.load(badEnc), /encoding\.json has no OpenML_task_id code for task 7593/);
    fs.writeFileSync(path.join(badEnc, 'encoding.json'), '{ "OpenML_task_id": ');
    await assert.rejects(LcbenchSurrogate.load(badEnc), /encoding file .* is not valid JSON/);
    await assert.rejects(LcbenchSurrogate.load(src, { threads: 0 }), /threads/);
    // interface check (a fake session: inputs renamed / wrong width)
    assert.throws(
      () => checkModelIo({ inputNames: ['x_cat', 'x'], outputNames: ['output'] }, 'm.onnx'),
      /m\.onnx has inputs \[x_cat, x\].*expected inputs \[x_cat, x_cont\]/,
    );
    assert.throws(() => checkModelIo({ inputNames: ['x_cat', 'x_cont'], outputNames: ['y'] }, 'm.onnx'), /output/);
    const wrongWidth = {
      inputNames: ['x_cat', 'x_cont'],
      outputNames: ['output'],
      inputMetadata: [{ name: 'x_cont', isTensor: true, type: 'float32', shape: ['batch_size', 7] }],
    };
    assert.throws(
      () => checkModelIo(wrongWidth, 'm.onnx'),
      /x_cont is float32 \["batch_size",7\], expected float32 \[n, 8\]/,
    );
    assert.doesNotThrow(() => checkModelIo({ inputNames: ['x_cont', 'x_cat'], outputNames: ['output'] }, 'm.onnx'));
  });

  it('predictions are finite, accuracies in [0, 1], and the batch does not change a prediction', async () => {
    const rng = new Rng(11);
    const configs = Array.from({ length: 100 }, () => randomConfig(rng));
    for (const task of s.tasks) {
      for (const epoch of [1, 52]) {
        for (const p of await s.predict(task, configs, epoch)) {
          for (const [k, v] of Object.entries(p)) assert.ok(Number.isFinite(v), `${task} e${epoch} ${k} = ${v}`);
          for (const k of ['valAccuracy', 'valBalancedAccuracy', 'testBalancedAccuracy'] as const)
            assert.ok(p[k] >= 0 && p[k] <= 1, `${task} e${epoch} ${k} = ${p[k]}`);
          assert.ok(
            p.valCrossEntropy > 0 && p.testCrossEntropy > 0 && p.time > 0,
            `${task} e${epoch} ${JSON.stringify(p)}`,
          );
        }
      }
    }
    const batch = await s.predict('168868', configs);
    const alone = await s.predict('168868', [configs[37]]);
    assert.ok(
      Math.abs(alone[0].valAccuracy - batch[37].valAccuracy) < 1e-6,
      `${alone[0].valAccuracy} vs ${batch[37].valAccuracy}`,
    );
    assert.deepEqual(await s.predict('168868', configs), batch); // deterministic
  });

  it('surrogate sanity (measured): mean accuracy after 52 epochs exceeds that after 1 on every task, and time grows with epochs', async () => {
    // Measured over 500 random configurations (seed 1): the smallest per-task gap of means was 0.07
    // (189866: 0.599 vs 0.528) and time(52) >= time(1) for >= 99.8% of configurations on every task.
    const rng = new Rng(1);
    const configs = Array.from({ length: 200 }, () => randomConfig(rng));
    let timeOk = 0;
    let pairs = 0;
    for (const task of s.tasks) {
      const late = await s.predict(task, configs, 52);
      const early = await s.predict(task, configs, 1);
      const m = (ps: { valAccuracy: number }[]) => ps.reduce((a, p) => a + p.valAccuracy, 0) / ps.length;
      assert.ok(
        m(late) > m(early) + 0.03,
        `task ${task}: mean val accuracy at epoch 52 ${m(late)} vs epoch 1 ${m(early)}`,
      );
      late.forEach((p, i) => {
        pairs++;
        if (p.time >= early[i].time) timeOk++;
      });
    }
    assert.ok(timeOk / pairs >= 0.99, `time(52) >= time(1) for ${timeOk} / ${pairs}`);
  });

  it('invalid configurations and inputs raise errors naming the field', async () => {
    const ok: LcbenchConfig = {
      batch_size: 64,
      learning_rate: 0.01,
      momentum: 0.9,
      weight_decay: 1e-4,
      num_layers: 2,
      max_units: 256,
      max_dropout: 0.25,
    };
    await assert.rejects(
      s.predict('3945', [ok, { ...ok, learning_rate: 5 }]),
      /configs\.1\.learning_rate: must be in \[0\.0001, 0\.1\], got 5/,
    );
    await assert.rejects(s.predict('3945', [{ ...ok, num_layers: 2.5 }]), /configs\.0\.num_layers: must be an integer/);
    const missing: Record<string, number> = { ...ok };
    delete missing.momentum;
    await assert.rejects(s.predict('3945', [missing as LcbenchConfig]), /configs\.0\.momentum: is required/);
    await assert.rejects(s.predict('3945', [{ ...ok, lr: 0.1 } as LcbenchConfig]), /configs\.0\.lr: unknown field/);
    await assert.rejects(
      s.predict('3945', [{ ...ok, max_dropout: Number.NaN }]),
      /max_dropout: must be a finite number/,
    );
    await assert.rejects(s.predict('3945', [ok], 0), /xCont\.0\.epoch: must be in \[1, 52\]/);
    await assert.rejects(s.predict('nope', [ok]), /unknown taskId "nope"/);
    await assert.rejects(s.predictRaw('3945', new Float32Array(7)), /n x 8/);
    // the grid's 1e-4 is inside the range despite config_space.json's 0.00010000000000000009
    assert.equal((await s.predict('3945', [{ ...ok, learning_rate: 1e-4 }])).length, 1);
  });
});

describe('ma2ml/surrogate: grid encoding', () => {
  it('the default grid is valid, within ~100k configurations, and shaped for SingleStepLearner', () => {
    const g = parseGrid(defaultLcbenchGrid());
    const sizes = gridSizes(g);
    assert.deepEqual(sizes, {
      joint: 84000,
      perAgent: [100, 840],
      perToken: [
        [5, 5, 4],
        [6, 7, 4, 5],
      ],
    });
    assert.deepEqual(gridLearnerAgents(g), [
      { name: 'architecture', vocab: [5, 5, 4] },
      { name: 'optimisation', vocab: [6, 7, 4, 5] },
    ]);
  });

  it('mixed-radix index <-> tokens <-> config round-trips for random indices', () => {
    for (const g of [defaultLcbenchGrid(), smallGrid()]) {
      const n = gridSizes(g).joint;
      const rng = new Rng(5);
      const indices = [0, 1, n - 1, ...Array.from({ length: 300 }, () => rng.int(n))];
      const x = gridXCont(g, 0, n, 52);
      for (const i of indices) {
        const tokens = gridIndexToTokens(g, i);
        assert.equal(gridTokensToIndex(g, tokens), i);
        const c = gridIndexToConfig(g, i);
        assert.deepEqual(gridTokensToConfig(g, tokens), c);
        assert.deepEqual(gridConfigToTokens(g, c), tokens);
        const row = Array.from(x.subarray(i * 8, i * 8 + 8));
        const want = [
          52,
          c.batch_size,
          c.learning_rate,
          c.momentum,
          c.weight_decay,
          c.num_layers,
          c.max_units,
          c.max_dropout,
        ].map((v) => Math.fround(v));
        assert.deepEqual(row, want, `x_cont row ${i}`);
      }
    }
    const g = defaultLcbenchGrid();
    assert.equal(
      gridTokensToIndex(g, [
        [0, 0, 0],
        [0, 0, 0, 1],
      ]),
      1,
    );
    assert.equal(
      gridTokensToIndex(g, [
        [0, 0, 1],
        [0, 0, 0, 0],
      ]),
      840,
    );
    assert.deepEqual(gridIndexToTokens(g, 84000 - 1), [
      [4, 4, 3],
      [5, 6, 3, 4],
    ]);
    assert.throws(
      () =>
        gridTokensToIndex(g, [
          [0, 0, 0],
          [0, 7, 0, 0],
        ]),
      /optimisation' learning_rate token must be an integer in \[0, 6\], got 7/,
    );
    assert.throws(() => gridTokensToIndex(g, [[0, 0, 0]]), /expected 2 token arrays/);
    assert.throws(() => gridIndexToTokens(g, 84000), /index: must be an integer in \[0, 83999\]/);
  });

  it('invalid grids raise errors naming the field', () => {
    const g = defaultLcbenchGrid();
    g.agents[1].params[1].values = [1e-3, 5];
    assert.throws(
      () => parseGrid(g),
      /agents\.1\.params\.1\.values\.1: learning_rate must be in \[0\.0001, 0\.1\], got 5/,
    );
    const h = defaultLcbenchGrid();
    h.agents[0].params.pop();
    assert.throws(() => parseGrid(h), /parameter max_dropout belongs to no agent/);
    const d = defaultLcbenchGrid();
    d.agents[0].params.push({ name: 'batch_size', values: [32] });
    assert.throws(
      () => parseGrid(d),
      /batch_size already belongs to agent 'optimisation'|batch_size already belongs to agent 'architecture'/,
    );
    const i = defaultLcbenchGrid();
    i.agents[0].params[0].values = [1, 1.5];
    assert.throws(() => parseGrid(i), /num_layers must be an integer, got 1\.5/);
  });
});

describe('ma2ml/surrogate: exhaustive tables, cache and search problem', function () {
  let s: LcbenchSurrogate;
  let small: SurrogateTable;
  before(async () => {
    s = await LcbenchSurrogate.load();
    small = await exhaustiveTable(s, '167185', smallGrid(), { batchSize: 100 }); // 648 = 6 x 100 + 48
  });
  after(async () => {
    await s?.dispose();
    for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('the table has one reward per grid configuration and its best is the brute-force max (subset incl. the argmax)', async () => {
    const g = smallGrid();
    assert.equal(small.rewards.length, 648);
    const rng = new Rng(9);
    const subset = [small.bestIndex, ...Array.from({ length: 150 }, () => rng.int(648))];
    const preds = await s.predict(
      '167185',
      subset.map((i) => gridIndexToConfig(g, i)),
    );
    let max = -Infinity;
    preds.forEach((p, k) => {
      assert.ok(
        Math.abs(p.valAccuracy - small.rewards[subset[k]]) < 1e-6,
        `index ${subset[k]}: predict ${p.valAccuracy} vs table ${small.rewards[subset[k]]}`,
      );
      max = Math.max(max, p.valAccuracy);
    });
    assert.ok(Math.abs(max - small.best) < 1e-6);
    assert.equal(small.best, Math.max(...small.rewards));
    assert.ok(small.quantiles[0].value <= small.median && small.median <= small.best);
    assert.equal(small.quantiles.find((q) => q.q === 1)?.value, small.best);
    const sorted = Array.from(small.rewards).sort((a, b) => a - b);
    assert.ok(Math.abs(small.median - (sorted[323] + sorted[324]) / 2) < 1e-7);
  });

  it('the default grid on one task: 84,000 rewards in [0, 1], best above the 99% quantile', async () => {
    const t = await exhaustiveTable(s, '3945', defaultLcbenchGrid());
    assert.equal(t.rewards.length, 84000);
    assert.ok(t.rewards.every((r) => r >= 0 && r <= 1));
    assert.equal(t.rewards[t.bestIndex], t.best);
    const q99 = t.quantiles.find((q) => q.q === 0.99)!.value;
    assert.ok(t.best >= q99 && q99 > t.median, `${t.best} ${q99} ${t.median}`);
    const [p] = await s.predict('3945', [gridIndexToConfig(defaultLcbenchGrid(), t.bestIndex)]);
    assert.ok(Math.abs(p.valAccuracy - t.best) < 1e-6);
  });

  it('the cache round-trips identical bytes and rejects a truncated or foreign file naming it', async () => {
    const dir = tmpDir();
    const first = await cachedExhaustiveTable(s, '167185', smallGrid(), { cacheDir: dir, batchSize: 256 });
    assert.equal(first.fromCache, false);
    assert.ok(fs.existsSync(first.file) && path.dirname(first.file) === dir);
    assert.deepEqual(Buffer.from(first.rewards.buffer), Buffer.from(small.rewards.buffer));
    const second = await cachedExhaustiveTable(s, '167185', smallGrid(), { cacheDir: dir });
    assert.equal(second.fromCache, true);
    assert.equal(second.file, first.file);
    assert.ok(Buffer.from(second.rewards.buffer).equals(Buffer.from(first.rewards.buffer)));
    assert.deepEqual({ ...second, rewards: 0, fromCache: 0 }, { ...first, rewards: 0, fromCache: 0 });
    assert.deepEqual(fs.readdirSync(dir), [path.basename(first.file)]); // no temporary files left
    // another task or grid is another file
    const other = await cachedExhaustiveTable(s, '3945', smallGrid(), { cacheDir: dir });
    assert.equal(other.fromCache, false);
    assert.notEqual(other.file, first.file);
    const size = fs.statSync(first.file).size;
    assert.equal(size, 16 + 4 * 648);
    fs.truncateSync(first.file, size - 4);
    await assert.rejects(
      cachedExhaustiveTable(s, '167185', smallGrid(), { cacheDir: dir }),
      (err: Error) => err.message.includes(first.file) && /truncated/.test(err.message),
    );
    fs.writeFileSync(first.file, Buffer.alloc(size));
    await assert.rejects(cachedExhaustiveTable(s, '167185', smallGrid(), { cacheDir: dir }), /bad header/);
    await assert.rejects(cachedExhaustiveTable(s, '167185', smallGrid(), { cacheDir: '' }), /cacheDir/);
  });

  it('the search problem: value, exact regret, normalised regret, token errors', () => {
    const g = smallGrid();
    const p = new SurrogateSearchProblem(small, g);
    assert.deepEqual(p.agents, [
      { name: 'architecture', vocab: [3, 3, 2] },
      { name: 'optimisation', vocab: [3, 3, 2, 2] },
    ]);
    assert.equal(p.size, 648);
    assert.equal(p.value(p.bestTokens), small.best);
    assert.equal(p.reward(p.bestTokens), small.best); // noiseless by default
    assert.equal(p.regret(p.best), 0);
    assert.equal(p.normalisedRegret(p.best), 0);
    assert.ok(Math.abs(p.normalisedRegret(p.median) - 1) < 1e-12);
    const tokens = gridIndexToTokens(g, 17);
    assert.ok(Math.abs(p.regret(p.value(tokens)) - (small.best - small.rewards[17])) < 1e-12);
    assert.ok(p.regret(p.value(tokens)) >= 0);
    assert.deepEqual(p.config(tokens), gridIndexToConfig(g, 17));
    assert.throws(
      () =>
        p.reward([
          [0, 0, 2],
          [0, 0, 0, 0],
        ]),
      /architecture' max_dropout token must be an integer in \[0, 1\], got 2/,
    );
    assert.throws(
      () => new SurrogateSearchProblem(small, defaultLcbenchGrid()),
      /table has 648 rewards, the grid 84000/,
    );
    assert.throws(() => new SurrogateSearchProblem(small, g, { noiseSd: -1 }), /noiseSd/);
  });

  it('the noise model is deterministic per seed, zero-mean and has the configured sd', () => {
    const g = smallGrid();
    const draw = (seed: number, n: number) => {
      const p = new SurrogateSearchProblem(small, g, { noiseSd: 0.05, seed });
      const rng = new Rng(seed + 100);
      return Array.from({ length: n }, () => {
        const tokens = gridIndexToTokens(g, rng.int(648));
        return p.reward(tokens) - p.value(tokens);
      });
    };
    assert.deepEqual(draw(3, 500), draw(3, 500));
    assert.notDeepEqual(draw(3, 500), draw(4, 500));
    const n = 20000;
    const eps = draw(7, n);
    const mean = eps.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(eps.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
    // sampling sd of the mean 0.05 / sqrt(n) = 3.5e-4; of the sd about 0.05 / sqrt(2 n) = 2.5e-4
    assert.ok(Math.abs(mean) < 4 * (0.05 / Math.sqrt(n)), `mean ${mean}`);
    assert.ok(Math.abs(sd - 0.05) < 0.0015, `sd ${sd}`);
  });

  it('a SingleStepLearner searches it directly (joint actions are the problem tokens)', () => {
    const p = new SurrogateSearchProblem(small, smallGrid(), { noiseSd: 0.01, seed: 1 });
    const learner = new SingleStepLearner({ agents: p.agents, seed: 0, credit: 'shared' });
    try {
      const run = learner.run((a) => p.reward(a), { evaluations: 16, batchSize: 8 });
      assert.equal(run.rewards.length, 16);
      const v = p.value(run.best.action);
      assert.ok(p.regret(v) >= 0 && p.regret(v) <= p.best);
    } finally {
      learner.dispose();
    }
  });
});
