import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import { ActorCritic, MemoryCueEnv, PpoTrainer, type PolicyConfig } from '../../src/marl';

/** Recomputes the rollout's log-probs and values from the chunked batch (stored hidden states). */
function replayMatchesRollout(
  policy: PolicyConfig,
  envCfg: ConstructorParameters<typeof MemoryCueEnv>[0],
  chunkLength: number,
) {
  const envs = [0, 1, 2].map(() => new MemoryCueEnv(envCfg));
  const trainer = new PpoTrainer({ policy, ppo: { chunkLength }, rollout: { episodesPerEnv: 2 }, seed: 5 }, envs);
  const rollout = trainer.collector.collect();
  const batch = trainer.buildBatch(rollout);
  const { logp, values } = tf.tidy(() => {
    const out = trainer.policy.sequence(batch);
    const picked = tf.sum(tf.mul(out.logProbs, tf.oneHot(tf.tensor1d(batch.actions, 'int32'), policy.numActions)), 1);
    return { logp: picked.dataSync(), values: out.values.dataSync() };
  });
  let checked = 0;
  for (let i = 0; i < batch.mask.length; i++) {
    if (!batch.mask[i]) continue;
    checked++;
    assert.ok(
      Math.abs(logp[i] - batch.oldLogProbs[i]) < 1e-5,
      `log-prob of sample ${i}: ${logp[i]} vs rollout ${batch.oldLogProbs[i]}`,
    );
    assert.ok(
      Math.abs(values[i] - batch.oldValues[i]) < 1e-5,
      `value of sample ${i}: ${values[i]} vs rollout ${batch.oldValues[i]}`,
    );
  }
  assert.equal(checked, rollout.agentSteps);
  trainer.dispose();
  return batch;
}

describe('marl/ActorCritic', () => {
  it('training-time sequence forward reproduces the rollout (GRU, chunks cut mid-episode)', () => {
    const before = tf.memory().numTensors;
    const batch = replayMatchesRollout(
      { observationSize: 4, numActions: 2, torso: 'gru', hiddenSizes: [8], gruSize: 8 },
      { length: 5 },
      3,
    );
    assert.equal(batch.length, 3);
    // some chunks start mid-episode, i.e. from a non-zero stored hidden state
    assert.ok(batch.actorHidden.some((v) => v !== 0));
    assert.equal(tf.memory().numTensors, before);
  });

  it('reproduces the rollout with independent parameters, agent ids, a centralised critic and action masks', () => {
    replayMatchesRollout(
      {
        observationSize: 4,
        numActions: 5,
        stateSize: 4,
        torso: 'gru',
        hiddenSizes: [8],
        gruSize: 6,
        sharing: 'independent',
        maxAgents: 4,
        agentId: true,
        critic: 'centralised',
      },
      { length: 3, maskedActions: 3 },
      2,
    );
    replayMatchesRollout(
      {
        observationSize: 4,
        numActions: 2,
        torso: 'mlp',
        hiddenSizes: [8, 8],
        critic: 'centralised',
        stateSize: 4,
        centralisedInput: 'state',
      },
      { length: 3 },
      16,
    );
  });

  it('shared parameters give all agents the same output; independent ones differ per agent', () => {
    const obs = new Float32Array([0.5, -1, 0.5, -1]);
    const agentIndex = Int32Array.from([0, 1]);
    const shared = new ActorCritic({ observationSize: 2, numActions: 3, torso: 'mlp', seed: 1, actorHeadScale: 1 });
    const s = shared.step({ observations: obs, agentIndex });
    assert.deepEqual(Array.from(s.logProbs.slice(0, 3)), Array.from(s.logProbs.slice(3)));
    const indep = new ActorCritic({
      observationSize: 2,
      numActions: 3,
      torso: 'mlp',
      seed: 1,
      sharing: 'independent',
      maxAgents: 2,
      actorHeadScale: 1,
    });
    const d = indep.step({ observations: obs, agentIndex });
    assert.ok(Math.abs(d.logProbs[0] - d.logProbs[3]) > 1e-3);
    assert.ok(Math.abs(d.values[0] - d.values[1]) > 1e-4);
    assert.equal(indep.parameterCount(), 2 * shared.parameterCount());
    shared.dispose();
    indep.dispose();
  });

  it('masked actions get probability 0 and the GRU carries state', () => {
    const p = new ActorCritic({
      observationSize: 2,
      numActions: 3,
      torso: 'gru',
      gruSize: 4,
      hiddenSizes: [4],
      seed: 2,
    });
    const out = p.step({
      observations: new Float32Array([1, 0]),
      agentIndex: Int32Array.from([0]),
      actionMasks: new Uint8Array([1, 0, 1]),
    });
    assert.equal(Math.exp(out.logProbs[1]), 0);
    assert.ok(Math.abs(Math.exp(out.logProbs[0]) + Math.exp(out.logProbs[2]) - 1) < 1e-6);
    assert.ok(out.actorHidden.some((v) => v !== 0));
    const again = p.step({
      observations: new Float32Array([1, 0]),
      agentIndex: Int32Array.from([0]),
      actorHidden: out.actorHidden,
      criticHidden: out.criticHidden,
    });
    assert.notDeepEqual(Array.from(again.actorHidden), Array.from(out.actorHidden));
    p.dispose();
  });

  it('is seeded: same seed same weights, different seed different weights', () => {
    const read = (seed: number) => {
      const p = new ActorCritic({ observationSize: 3, numActions: 2, seed });
      const w = Array.from(p.params.get('actor/gru/wih').dataSync().slice(0, 5));
      p.dispose();
      return w;
    };
    assert.deepEqual(read(3), read(3));
    assert.notDeepEqual(read(3), read(4));
  });

  it('rejects bad configs and inputs with messages naming the field', () => {
    assert.throws(
      () => new ActorCritic({ observationSize: 3, numActions: 2, sharing: 'independent' }),
      /maxAgents: required/,
    );
    assert.throws(
      () => new ActorCritic({ observationSize: 3, numActions: 2, critic: 'centralised' }),
      /stateSize: a centralised critic needs stateSize > 0/,
    );
    assert.throws(() => new ActorCritic({ observationSize: 0, numActions: 2 }), /observationSize/);
    assert.throws(() => new ActorCritic({ observationSize: 3, numActions: 2, torso: 'lstm' as 'gru' }), /torso/);
    const p = new ActorCritic({
      observationSize: 3,
      numActions: 2,
      sharing: 'independent',
      maxAgents: 2,
      torso: 'mlp',
    });
    assert.throws(
      () => p.step({ observations: new Float32Array(3), agentIndex: Int32Array.from([2]) }),
      /agent index 2 out of range \[0, 2\)/,
    );
    assert.throws(
      () => p.step({ observations: new Float32Array(4), agentIndex: Int32Array.from([0]) }),
      /observations has length 4, expected 3/,
    );
    p.dispose();
  });
});
