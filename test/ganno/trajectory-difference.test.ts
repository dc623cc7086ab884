import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import { LayerLrEnv } from '../../src/ganno';
import type { LayerLrEnvConfig } from '../../src/ganno';

/**
 * A case constructed (by scanning seeds once, then fixed) where an LR change hurts in its own
 * interval but helps the run: synthetic task, one hidden layer, initial LR in [0.3, 1], agent 0
 * doubles its LR at the first decision, everyone keeps afterwards.
 */
const delayed: LayerLrEnvConfig = {
  k: 5,
  task: {
    datasets: ['synthetic'],
    depth: [1, 1],
    widths: [16],
    trainSize: 512,
    valSize: 256,
    batchSize: 32,
    totalSteps: 60,
    initialLr: [0.3, 1],
  },
  agentRewards: 'difference',
  differenceClip: 100, // no clipping: the sums must be exact
};
const SEED = 1;
const DOUBLE = 8;

/** Runs an episode with `first` at decision 0 and keep afterwards; returns the team return and per-agent reward sums. */
function episode(
  config: LayerLrEnvConfig,
  first: (env: LayerLrEnv) => number[],
): { teamReturn: number; agentSums: number[]; perStep: number[][] } {
  const env = new LayerLrEnv(config);
  try {
    env.reset(SEED);
    const n = env.numAgents;
    const keep = () => Array.from({ length: n }, (_, i) => env.defaultAction(i));
    let r = env.step(first(env));
    const perStep = [Array.from(r.rewards)];
    let teamReturn = r.teamReward;
    while (!r.terminated) {
      r = env.step(keep());
      perStep.push(Array.from(r.rewards));
      teamReturn += r.teamReward;
    }
    return {
      teamReturn,
      agentSums: Array.from({ length: n }, (_, i) => perStep.reduce((s, row) => s + row[i], 0)),
      perStep,
    };
  } finally {
    env.dispose();
  }
}

describe('ganno/horizon-true difference rewards (agentRewards: difference)', () => {
  it('an agent that changes its LR once gets, summed over the episode, exactly the change of the episode return it caused', () => {
    const doubled = episode(delayed, (env) => [DOUBLE, env.defaultAction(1)]);
    const kept = episode({ ...delayed, agentRewards: 'team' }, (env) => [env.defaultAction(0), env.defaultAction(1)]);
    const effect = doubled.teamReturn - kept.teamReturn;
    assert.ok(
      Math.abs(doubled.agentSums[0] - effect) < 1e-5,
      `sum of agent 0's rewards ${doubled.agentSums[0]} vs its effect on the episode return ${effect}`,
    );
    assert.ok(effect > 0.1, `constructed case: doubling the LR helps the run (effect ${effect})`);
    // agent 1 never left "keep": its shadow is the factual run, so its reward is exactly 0 at every step
    assert.ok(
      doubled.perStep.every((row) => row[1] === 0),
      'an always-keep agent gets exactly 0',
    );
  });

  it('the per-interval (myopic) difference reward gets the sign of the same change wrong', () => {
    const env = new LayerLrEnv({ ...delayed, agentRewards: 'team' });
    env.reset(SEED);
    const keep = [env.defaultAction(0), env.defaultAction(1)];
    const myopic = env.counterfactualTeamReward([DOUBLE, keep[1]]) - env.counterfactualTeamReward(keep);
    env.dispose();
    const horizon = episode(delayed, (e) => [DOUBLE, e.defaultAction(1)]).agentSums[0];
    assert.ok(myopic < 0, `myopic difference reward ${myopic}: the doubled LR hurts in its own interval`);
    assert.ok(horizon > 0 && horizon > 5 * Math.abs(myopic), `horizon-true ${horizon} vs myopic ${myopic}`);
  });

  it('the reward a changed agent gets in its first interval equals the per-interval difference reward; team rewards are unchanged', () => {
    const withDiff = new LayerLrEnv(delayed);
    const plain = new LayerLrEnv({ ...delayed, agentRewards: 'team' });
    withDiff.reset(SEED);
    plain.reset(SEED);
    const keep = [plain.defaultAction(0), plain.defaultAction(1)];
    const myopic = plain.counterfactualTeamReward([DOUBLE, keep[1]]) - plain.counterfactualTeamReward(keep);
    const a = withDiff.step([DOUBLE, keep[1]]);
    const b = plain.step([DOUBLE, keep[1]]);
    assert.equal(a.teamReward, b.teamReward, 'the factual run does not depend on the shadows');
    assert.ok(
      Math.abs(a.rewards[0] - myopic) < 1e-6,
      `first-interval trajectory difference ${a.rewards[0]} vs per-interval ${myopic}`,
    );
    assert.equal(a.info.shadowTeamRewards?.[1], null);
    withDiff.dispose();
    plain.dispose();
  });

  it('clips each difference reward to ±differenceClip x rewardScale (heavy-tail rule)', () => {
    const raw = episode(delayed, (env) => [DOUBLE, env.defaultAction(1)]).perStep.map((r) => r[0]);
    const big = Math.max(...raw.map(Math.abs));
    const c = big / 2;
    const clipped = episode({ ...delayed, differenceClip: c / 10, rewardScale: 10 }, (env) => [
      DOUBLE,
      env.defaultAction(1),
    ]).perStep.map((r) => r[0]);
    clipped.forEach((x, t) => {
      assert.ok(Math.abs(x) <= c * (1 + 1e-6), `step ${t}: ${x} exceeds the clip ${c}`);
      const want = Math.max(-c, Math.min(c, 10 * raw[t]));
      assert.ok(Math.abs(x - want) < 1e-4 * Math.max(1, Math.abs(want)), `step ${t}: ${x} vs ${want}`);
    });
  });

  it('works for the single global-LR agent and frees every shadow network', () => {
    const before = tf.memory().numTensors;
    const env = new LayerLrEnv({ ...delayed, control: 'global' });
    for (const seed of [1, 2]) {
      env.reset(seed);
      let r = env.step([DOUBLE]);
      assert.equal(r.rewards.length, 1);
      while (!r.terminated) r = env.step([env.defaultAction(0)]);
    }
    env.dispose();
    assert.equal(tf.memory().numTensors, before);
  });
});
