import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tf } from '../../src/backend';
import {
  MemoryCueEnv,
  PpoTrainer,
  loadPolicy,
  readCheckpoint,
  writeCheckpoint,
  type PpoTrainerConfig,
} from '../../src/marl';

const config: PpoTrainerConfig = {
  policy: { observationSize: 4, numActions: 2, torso: 'gru', hiddenSizes: [16], gruSize: 16 },
  ppo: { learningRate: 1e-3, chunkLength: 3, epochs: 2, minibatches: 2 },
  rollout: { episodesPerEnv: 2 },
  seed: 11,
};
const envs = () => [0, 1, 2].map(() => new MemoryCueEnv({ length: 4 }));

function snapshot(t: PpoTrainer): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const [n, v] of t.policy.variables()) out.set(n, Array.from(v.dataSync()));
  for (const { name, tensor } of t.optimizer.stateTensors()) out.set(name, Array.from(tensor.dataSync()));
  return out;
}

describe('marl/checkpoints', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marl-ckpt-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('training resumed from a checkpoint continues bit-for-bit as if uninterrupted', () => {
    const straight = new PpoTrainer(config, envs());
    const straightStats = straight.train(4);
    const first = new PpoTrainer(config, envs());
    first.train(2);
    const ckpt = path.join(dir, 'half');
    first.saveCheckpoint(ckpt);
    first.dispose();
    const before = tf.memory().numTensors;
    const resumed = PpoTrainer.fromCheckpoint(ckpt, envs());
    assert.equal(resumed.updates, 2);
    const resumedStats = resumed.train(2);
    assert.deepEqual(resumedStats, straightStats.slice(2), 'update statistics after resuming');
    const a = snapshot(straight);
    const b = snapshot(resumed);
    assert.deepEqual([...b.keys()], [...a.keys()]);
    for (const [name, values] of a) assert.deepEqual(b.get(name), values, `parameter ${name} differs after resuming`);
    assert.equal(resumed.optimizer.step, straight.optimizer.step);
    // and it really trained: parameters moved away from the checkpoint
    const saved = readCheckpoint(ckpt).tensors.get('policy/actor/head/w')!.data;
    assert.notDeepEqual(Array.from(saved), a.get('actor/head/w'));
    resumed.dispose();
    straight.dispose();
    assert.ok(tf.memory().numTensors <= before, 'loading leaks no tensors');
  });

  it('writes manifest.json + weights.bin atomically, overwrites in place, and loads a frozen policy', () => {
    const t = new PpoTrainer(config, envs());
    t.train(1);
    const ckpt = path.join(dir, 'c');
    t.saveCheckpoint(ckpt);
    t.train(1);
    t.saveCheckpoint(ckpt);
    assert.deepEqual(fs.readdirSync(dir), ['c'], 'no temporary directories left behind');
    assert.deepEqual(fs.readdirSync(ckpt).sort(), ['manifest.json', 'weights.bin']);
    const m = JSON.parse(fs.readFileSync(path.join(ckpt, 'manifest.json'), 'utf8'));
    assert.equal(m.version, 1);
    assert.equal(m.meta.updates, 2);
    assert.match(m.weightsSha256, /^[0-9a-f]{64}$/);
    assert.ok(m.tensors.some((e: { name: string }) => e.name === 'adam/m/actor/gru/whh'));
    const p = loadPolicy(ckpt);
    const input = { observations: new Float32Array([1, 0, 0, 0, 0, 1, 0, 0]), agentIndex: Int32Array.from([0, 1]) };
    assert.deepEqual(p.step(input), t.policy.step(input));
    p.dispose();
    t.dispose();
  });

  it('rejects corrupt, truncated, foreign-version and mismatched checkpoints with clear errors', () => {
    const t = new PpoTrainer(config, envs());
    const ckpt = path.join(dir, 'c');
    t.saveCheckpoint(ckpt);
    const weights = path.join(ckpt, 'weights.bin');
    const manifestPath = path.join(ckpt, 'manifest.json');
    const good = fs.readFileSync(weights);
    const goodManifest = fs.readFileSync(manifestPath, 'utf8');

    const flipped = Buffer.from(good);
    flipped[100] ^= 0xff;
    fs.writeFileSync(weights, flipped);
    assert.throws(() => t.loadCheckpoint(ckpt), /weights.bin sha256 .* does not match the manifest .*corrupt/);
    fs.writeFileSync(weights, good.subarray(0, good.length - 8));
    assert.throws(
      () => t.loadCheckpoint(ckpt),
      /weights.bin has \d+ bytes, manifest says \d+ \(truncated or corrupt file\)/,
    );
    fs.writeFileSync(weights, good);

    fs.writeFileSync(manifestPath, goodManifest.replace('"version": 1', '"version": 99'));
    assert.throws(() => t.loadCheckpoint(ckpt), /format version 99 is not supported/);
    fs.writeFileSync(manifestPath, '{ not json');
    assert.throws(() => t.loadCheckpoint(ckpt), /manifest.json is not valid JSON/);
    fs.writeFileSync(manifestPath, goodManifest);
    assert.throws(() => t.loadCheckpoint(path.join(dir, 'missing')), /manifest.json not found/);

    const other = new PpoTrainer({ ...config, policy: { ...config.policy, gruSize: 8 } }, envs());
    assert.throws(
      () => other.loadCheckpoint(ckpt),
      /does not match this trainer: config.policy.gruSize is 16 in the checkpoint, 8 here/,
    );
    other.dispose();

    // same config, but a variable stored with the wrong shape
    const bad = path.join(dir, 'bad');
    const tensors = [...t.policy.variables()].map(([name, v]) => ({
      name: `policy/${name}`,
      tensor: name === 'actor/gru/wih' ? tf.zeros([16, 12]) : v,
    }));
    writeCheckpoint(bad, 'ppo-trainer', JSON.parse(goodManifest).meta, tensors);
    tensors.forEach(({ name, tensor }) => name === 'policy/actor/gru/wih' && tensor.dispose());
    assert.throws(
      () => t.loadCheckpoint(bad),
      /variable 'policy\/actor\/gru\/wih' has shape \[16,12\] in the checkpoint, expected \[16,48\]/,
    );
    assert.throws(() => loadPolicy(bad), /variable 'policy\/actor\/gru\/wih' has shape \[16,12\]/);
    writeCheckpoint(bad, 'something-else', {}, []);
    assert.throws(() => t.loadCheckpoint(bad), /holds a 'something-else' checkpoint, expected 'ppo-trainer'/);
    t.dispose();
  });
});
