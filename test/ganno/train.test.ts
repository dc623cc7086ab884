import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tf } from '../../src/backend';
import { GannoTrainConfigSchema, latestGannoCheckpoint, layerSummaryState, loadGannoPolicy, trainGannoAgents } from '../../src/ganno';
import type { GannoTrainConfig } from '../../src/ganno';

const env = {
  task: {
    datasets: ['synthetic' as const],
    depth: [1, 2] as [number, number],
    widths: [8, 16],
    trainSize: 256,
    valSize: 128,
    batchSize: 32,
    k: 4,
    totalSteps: 16,
  },
};

function config(dir: string, extra: Partial<GannoTrainConfig> = {}): GannoTrainConfig {
  return {
    env,
    numEnvs: 2,
    policy: { hiddenSizes: [16], gruSize: 16 },
    ppo: { chunkLength: 4 },
    seed: 5,
    updates: 4,
    checkpointEvery: 2,
    evalEvery: 2,
    valSeeds: [9001],
    dir,
    ...extra,
  };
}

function params(dir: string): Map<string, Float32Array> {
  const { policy } = loadGannoPolicy(dir);
  const out = new Map<string, Float32Array>();
  for (const [n, v] of policy.variables()) out.set(n, Float32Array.from(v.dataSync() as Float32Array));
  policy.dispose();
  return out;
}

describe('ganno/trainGannoAgents', function () {
  this.timeout(120_000);
  let root: string;
  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'ganno-train-'));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('produces curves, writes checkpoints, keeps the best one, and resuming continues bit-identically', () => {
    const before = tf.memory().numTensors;
    const ticks: number[] = [];
    const full = trainGannoAgents(config(path.join(root, 'full')), { progress: { start: () => undefined, tick: () => void ticks.push(1), end: () => undefined } });
    assert.equal(full.updates, 4);
    assert.equal(full.teamReturn.length, 4);
    assert.ok(full.teamReturn.every(Number.isFinite), `team returns ${full.teamReturn}`);
    assert.deepEqual(full.validation.map((v) => v.update), [2, 4]);
    assert.ok(full.validation.every((v) => Number.isFinite(v.score)));
    const bestScore = Math.max(...full.validation.map((v) => v.score));
    assert.equal(full.best!.score, bestScore);
    assert.equal(full.bestDir, path.join(root, 'full', 'best'));
    const best = loadGannoPolicy(full.bestDir!);
    assert.equal(best.update, full.best!.update, 'the best checkpoint holds the best update');
    best.policy.dispose();
    assert.equal(latestGannoCheckpoint(path.join(root, 'full')), path.join(root, 'full', 'ckpt-000004'));
    assert.ok(!fs.existsSync(path.join(root, 'full', 'ckpt-000002')), 'older checkpoints are removed');
    assert.equal(ticks.length, 4);
    assert.equal(full.featureNames.length, 14);

    // Interrupted after 3 updates: the checkpoint at update 2 is the latest; update 3 is lost and redone.
    const dir = path.join(root, 'resumed');
    const part = trainGannoAgents(config(dir), { stopAfter: 3 });
    assert.equal(part.updates, 3);
    assert.equal(latestGannoCheckpoint(dir), path.join(dir, 'ckpt-000002'));
    const rest = trainGannoAgents(config(dir));
    assert.equal(rest.resumedFrom, 2);
    assert.equal(rest.updates, 4);
    assert.deepEqual(rest.teamReturn, full.teamReturn, 'same curve as the uninterrupted run');
    assert.deepEqual(rest.validation, full.validation);
    const a = params(path.join(root, 'full', 'ckpt-000004'));
    const b = params(path.join(dir, 'ckpt-000004'));
    for (const [n, v] of a) assert.deepEqual(b.get(n), v, `parameter ${n} is bit-identical`);
    const sa = JSON.parse(fs.readFileSync(path.join(root, 'full', 'ckpt-000004', 'ganno.json'), 'utf8'));
    const sb = JSON.parse(fs.readFileSync(path.join(dir, 'ckpt-000004', 'ganno.json'), 'utf8'));
    assert.deepEqual(sb.featureStatistics, sa.featureStatistics, 'feature statistics resume exactly');
    assert.equal(tf.memory().numTensors, before, 'no tensor leak');
  });

  it('records learner diagnostics per update and greedy and sampled validation scores; a milestone keeps exactly what a shorter run keeps', () => {
    const long = trainGannoAgents(config(path.join(root, 'curve'), { updates: 6, milestones: [2, 6], credit: 'difference-myopic' }));
    assert.equal(long.diagnostics.length, 6);
    for (const d of long.diagnostics) {
      for (const k of ['klFromInitial', 'kl', 'policyEntropy', 'clipFraction', 'actorGradNorm', 'criticGradNorm'] as const) assert.ok(Number.isFinite(d[k]), `${k} = ${d[k]}`);
      assert.ok(d.actionCounts.reduce((a, b) => a + b, 0) > 0);
    }
    assert.ok(long.validation.every((v) => Number.isFinite(v.greedy) && Number.isFinite(v.sampled) && v.greedyDegenerate >= 0 && v.greedyDegenerate <= 1));
    assert.deepEqual(long.milestoneDirs.map((m) => m.update), [2, 6]);
    const short = trainGannoAgents(config(path.join(root, 'short'), { updates: 2, credit: 'difference-myopic' }));
    assert.deepEqual(long.milestoneDirs[0].best, short.best, 'the best-so-far at update 2 of a longer run is the best of a 2-update run');
    const a = params(long.milestoneDirs[0].dir);
    const b = params(short.bestDir!);
    for (const [n, v] of a) assert.deepEqual(b.get(n), v, `parameter ${n} is bit-identical`);
    assert.deepEqual(long.diagnostics.slice(0, 2), short.diagnostics.map((d, i) => ({ ...d, seconds: long.diagnostics[i].seconds })));
  });

  it('options: feed-forward torso and shared reward train; bad config names the field; a mismatched resume is refused', () => {
    const r = trainGannoAgents(config(path.join(root, 'mlp'), { updates: 2, policy: { torso: 'mlp', hiddenSizes: [16] }, credit: 'shared', numEnvs: 1 }));
    assert.equal(r.teamReturn.length, 2);
    const mappo = trainGannoAgents(config(path.join(root, 'mappo'), { updates: 2, policy: { hiddenSizes: [16], gruSize: 16, critic: 'centralised' }, numEnvs: 1 }));
    assert.equal(mappo.teamReturn.length, 2);
    assert.ok(mappo.teamReturn.every(Number.isFinite) && mappo.validation.every((v) => Number.isFinite(v.score)));
    assert.deepEqual(Array.from(layerSummaryState([Float32Array.of(1, 2), Float32Array.of(3, 0)])), [2, 1, 3, 2]);
    assert.throws(() => GannoTrainConfigSchema.parse({ dir: 'x' }), /updates/);
    assert.throws(() => trainGannoAgents(config(path.join(root, 'bad'), { credit: 'coma' as 'shared' })), /credit/);
    assert.throws(
      () => trainGannoAgents(config(path.join(root, 'mlp'), { updates: 3, policy: { torso: 'mlp', hiddenSizes: [16] }, credit: 'shared', numEnvs: 1 }), { setupFeatures: (f) => void f.remove('grad_alignment') }),
      /trained on features/,
    );
  });
});
