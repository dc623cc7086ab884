import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import { differenceStepAssigner } from '../../src/credit';
import { LayerLrEnv } from '../../src/ganno';
import { PpoTrainer } from '../../src/marl';

describe('ganno/LayerLrEnv with PPO', () => {
  it('a shared-GRU PPO trainer with difference rewards runs 2 updates on varying tiny MLP tasks without leaks', () => {
    const cfg = {
      k: 4,
      task: {
        datasets: ['synthetic' as const],
        depth: [1, 2] as [number, number],
        widths: [8, 16],
        trainSize: 256,
        valSize: 128,
        batchSize: 32,
        totalSteps: 24,
      },
    };
    const envs = [new LayerLrEnv(cfg), new LayerLrEnv(cfg)];
    const before = tf.memory().numTensors;
    const trainer = new PpoTrainer(
      {
        policy: {
          observationSize: envs[0].spec.observationSize,
          numActions: envs[0].spec.numActions,
          torso: 'gru',
          hiddenSizes: [16],
          gruSize: 16,
        },
        ppo: { chunkLength: 6 },
        rollout: { episodesPerEnv: 1 },
        seed: 3,
      },
      envs,
      { credit: differenceStepAssigner() },
    );
    const stats = trainer.train(2);
    assert.equal(stats.length, 2);
    for (const s of stats) {
      assert.equal(s.episodes, 2);
      assert.ok(
        Number.isFinite(s.policyLoss) && Number.isFinite(s.valueLoss) && Number.isFinite(s.meanTeamReturn),
        JSON.stringify(s),
      );
      assert.ok(s.samples >= 2 * 6 * 2, `samples ${s.samples}: 6 decisions x >= 2 agents x 2 envs`);
    }
    trainer.dispose();
    for (const e of envs) e.dispose();
    assert.equal(tf.memory().numTensors, before, 'everything the envs and the trainer allocated is freed');
  });
});
