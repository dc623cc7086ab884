import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tf } from '../../src/backend';
import {
  GannoTrainConfigSchema,
  latestGannoCheckpoint,
  layerSummaryState,
  loadGannoPolicy,
  removeCrashLeftovers,
  trainGannoAgents,
} from '../../src/ganno';
import { FeatureRegistry } from '../../src/ganno/features';
import type { GannoTrainConfig } from '../../src/ganno';

const env = {
  k: 4,
  task: {
    datasets: ['synthetic' as const],
    depth: [1, 2] as [number, number],
    widths: [8, 16],
    trainSize: 256,
    valSize: 128,
    batchSize: 32,
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
    const full = trainGannoAgents(config(path.join(root, 'full')), {
      progress: { start: () => undefined, tick: () => void ticks.push(1), end: () => undefined },
    });
    assert.equal(full.updates, 4);
    assert.equal(full.teamReturn.length, 4);
    assert.ok(full.teamReturn.every(Number.isFinite), `team returns ${full.teamReturn}`);
    assert.deepEqual(
      full.validation.map((v) => v.update),
      [2, 4],
    );
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

  it('an aborted signal stops training between updates; the latest checkpoint stays for a resume', () => {
    const dir = path.join(root, 'aborted');
    const controller = new AbortController();
    const seen: number[] = [];
    const before = tf.memory().numTensors;
    assert.throws(
      () =>
        trainGannoAgents(config(dir), {
          signal: controller.signal,
          onUpdate: (u) => (seen.push(u), u === 3 && controller.abort()),
        }),
      (err: Error) => err.name === 'AbortError',
    );
    assert.deepEqual(seen, [1, 2, 3]);
    assert.equal(latestGannoCheckpoint(dir), path.join(dir, 'ckpt-000002'));
    assert.equal(tf.memory().numTensors, before, 'no tensor leak');
    assert.equal(trainGannoAgents(config(dir)).resumedFrom, 2);
  });

  it('a damaged training folder gives errors that name the file and say how to recover; crash leftovers are removed on resume', () => {
    const dir = path.join(root, 'damaged');
    trainGannoAgents(config(dir, { updates: 2 }));
    const latest = path.join(dir, 'latest.json');
    const sidecar = path.join(dir, 'ckpt-000002', 'ganno.json');
    const good = { latest: fs.readFileSync(latest, 'utf8'), sidecar: fs.readFileSync(sidecar, 'utf8') };
    const resume = () => trainGannoAgents(config(dir, { updates: 4 }), { stopAfter: 0 });
    const recover = /delete the damaged file or folder to resume from the newest intact ckpt-\*.*resume: false/;
    fs.writeFileSync(latest, '{"dir": "ckpt-0000');
    assert.throws(
      resume,
      (e: Error) => e.message.includes(latest) && /not valid JSON/.test(e.message) && recover.test(e.message),
    );
    assert.throws(
      () => latestGannoCheckpoint(dir),
      (e: Error) => e.message.includes(latest),
    );
    fs.writeFileSync(latest, JSON.stringify({ dir: 'ckpt-000009' }));
    assert.throws(
      resume,
      (e: Error) =>
        e.message.includes(path.join(dir, 'ckpt-000009', 'ganno.json')) &&
        /not found/.test(e.message) &&
        recover.test(e.message),
    );
    fs.writeFileSync(latest, good.latest);
    fs.writeFileSync(sidecar, '{ "format": "ganno-train-state", ');
    assert.throws(resume, (e: Error) => e.message.includes(sidecar) && /not valid JSON/.test(e.message));
    assert.throws(
      () => loadGannoPolicy(path.join(dir, 'ckpt-000002')),
      (e: Error) => e.message.includes(sidecar),
    );
    // Feature statistics of the wrong length: refused, naming the feature (bug: used to train on a corrupt state).
    const side = JSON.parse(good.sidecar);
    const feature = Object.keys(side.featureStatistics[0])[0];
    side.featureStatistics[0][feature].count.push(1);
    fs.writeFileSync(sidecar, JSON.stringify(side));
    assert.throws(resume, (e: Error) => e.message.includes(sidecar) && e.message.includes(feature));
    side.featureStatistics[0][feature] = { count: [1, 1], mean: [0, 0], m2: [0, 0] }; // consistent, but not the feature's size
    fs.writeFileSync(sidecar, JSON.stringify(side));
    assert.throws(resume, (e: Error) =>
      e.message.includes(`statistics of feature "${feature}" hold 2 values, the feature has size 1`),
    );
    fs.writeFileSync(sidecar, JSON.stringify({ ...JSON.parse(good.sidecar), update: -1 }));
    assert.throws(resume, (e: Error) => e.message.includes(sidecar) && /update/.test(e.message));
    fs.writeFileSync(sidecar, good.sidecar);
    // Leftovers of interrupted writes are removed when training starts again; intact state is kept.
    const leftovers = [
      '.ckpt-000004.tmp-abc123',
      '.best.tmp-xyz',
      '.best.tmp-xyz.old',
      '.latest.json.4242.7.tmp',
      'milestone-000004.tmp-4242',
    ];
    for (const name of leftovers) {
      if (name.endsWith('.tmp')) fs.writeFileSync(path.join(dir, name), '{');
      else fs.mkdirSync(path.join(dir, name));
    }
    const resumed = trainGannoAgents(config(dir, { updates: 3 }));
    assert.equal(resumed.resumedFrom, 2);
    for (const name of leftovers) assert.ok(!fs.existsSync(path.join(dir, name)), `${name} removed`);
    assert.deepEqual(removeCrashLeftovers(dir), []);
    assert.ok(
      fs.existsSync(path.join(dir, 'best', 'ganno.json')) && fs.existsSync(path.join(dir, 'best', 'manifest.json')),
      'the best checkpoint holds its sidecar (written in the same directory swap)',
    );
  });

  it('feature statistics must match the registered features', () => {
    const reg = new FeatureRegistry(['log_lr', 'relative_depth']);
    assert.throws(
      () => reg.setStatisticsState({ nope: { count: [1], mean: [0], m2: [0] } }),
      /"nope", which is not a registered feature/,
    );
    assert.throws(
      () => reg.setStatisticsState({ log_lr: { count: [1, 1], mean: [0, 0], m2: [0, 0] } }),
      /hold 2 values, the feature has size 1/,
    );
    assert.throws(() => reg.setStatisticsState({ log_lr: { count: [1], mean: [NaN], m2: [0] } }), /non-finite/);
    reg.setStatisticsState({ log_lr: { count: [3], mean: [0.5], m2: [1] } });
    assert.deepEqual(reg.getStatisticsState(), { log_lr: { count: [3], mean: [0.5], m2: [1] } });
  });

  it('records learner diagnostics per update and greedy and sampled validation scores; a milestone keeps exactly what a shorter run keeps', () => {
    const long = trainGannoAgents(
      config(path.join(root, 'curve'), { updates: 6, milestones: [2, 6], credit: 'difference-myopic' }),
    );
    assert.equal(long.diagnostics.length, 6);
    for (const d of long.diagnostics) {
      for (const k of [
        'klFromInitial',
        'kl',
        'policyEntropy',
        'clipFraction',
        'actorGradNorm',
        'criticGradNorm',
      ] as const)
        assert.ok(Number.isFinite(d[k]), `${k} = ${d[k]}`);
      assert.ok(d.actionCounts.reduce((a, b) => a + b, 0) > 0);
    }
    assert.ok(
      long.validation.every(
        (v) =>
          Number.isFinite(v.greedy) && Number.isFinite(v.sampled) && v.greedyDegenerate >= 0 && v.greedyDegenerate <= 1,
      ),
    );
    assert.deepEqual(
      long.milestoneDirs.map((m) => m.update),
      [2, 6],
    );
    const short = trainGannoAgents(config(path.join(root, 'short'), { updates: 2, credit: 'difference-myopic' }));
    assert.deepEqual(
      long.milestoneDirs[0].best,
      short.best,
      'the best-so-far at update 2 of a longer run is the best of a 2-update run',
    );
    const a = params(long.milestoneDirs[0].dir);
    const b = params(short.bestDir!);
    for (const [n, v] of a) assert.deepEqual(b.get(n), v, `parameter ${n} is bit-identical`);
    assert.deepEqual(
      long.diagnostics.slice(0, 2),
      short.diagnostics.map((d, i) => ({ ...d, seconds: long.diagnostics[i].seconds })),
    );
  });

  it('options: feed-forward torso and shared reward train; bad config names the field; a mismatched resume is refused', () => {
    const r = trainGannoAgents(
      config(path.join(root, 'mlp'), {
        updates: 2,
        policy: { torso: 'mlp', hiddenSizes: [16] },
        credit: 'shared',
        numEnvs: 1,
      }),
    );
    assert.equal(r.teamReturn.length, 2);
    const mappo = trainGannoAgents(
      config(path.join(root, 'mappo'), {
        updates: 2,
        policy: { hiddenSizes: [16], gruSize: 16, critic: 'centralised' },
        numEnvs: 1,
      }),
    );
    assert.equal(mappo.teamReturn.length, 2);
    assert.ok(mappo.teamReturn.every(Number.isFinite) && mappo.validation.every((v) => Number.isFinite(v.score)));
    assert.deepEqual(Array.from(layerSummaryState([Float32Array.of(1, 2), Float32Array.of(3, 0)])), [2, 1, 3, 2]);
    assert.throws(() => GannoTrainConfigSchema.parse({ dir: 'x' }), /updates/);
    assert.throws(() => trainGannoAgents(config(path.join(root, 'bad'), { credit: 'coma' as 'shared' })), /credit/);
    assert.throws(
      () =>
        trainGannoAgents(
          config(path.join(root, 'mlp'), {
            updates: 3,
            policy: { torso: 'mlp', hiddenSizes: [16] },
            credit: 'shared',
            numEnvs: 1,
          }),
          { setupFeatures: (f) => void f.remove('grad_alignment') },
        ),
      /trained on features/,
    );
  });
});
