import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import { Rng } from '../../src/random';
import { differenceStepAssigner } from '../../src/credit';
import {
  ActorCritic,
  MemoryCueEnv,
  PolicyActor,
  PpoTrainer,
  RolloutCollector,
  evaluatePolicy,
  type CreditAssigner,
  type MultiAgentEnv,
  type ResetResult,
  type StepResult,
} from '../../src/marl';

/** Time-limited env: 1..3 agents, reward 1 for action 1, truncated (never terminated) after `limit` steps. */
class TimeLimitEnv implements MultiAgentEnv {
  readonly spec = { observationSize: 2, numActions: 2, stateSize: 2, maxSteps: 100 };
  private n = 0;
  private t = 0;
  constructor(private readonly limit: number) {}
  reset(seed: number): ResetResult {
    this.n = 1 + new Rng(seed).int(3);
    this.t = 0;
    return this.obs();
  }
  private obs(): ResetResult {
    return {
      observations: Array.from({ length: this.n }, (_, i) => new Float32Array([this.t / 10, i / 3])),
      state: new Float32Array([this.t / 10, this.n]),
    };
  }
  step(actions: ArrayLike<number>): StepResult {
    this.t++;
    const rewards = Float32Array.from(actions, (a) => (a === 1 ? 1 : 0));
    return {
      ...this.obs(),
      rewards,
      teamReward: rewards.reduce((s, r) => s + r, 0) / this.n,
      terminated: false,
      truncated: this.t >= this.limit,
      info: {},
    };
  }
}

const gru = { observationSize: 4, numActions: 2, torso: 'gru' as const, hiddenSizes: [8], gruSize: 8, seed: 3 };

describe('marl/RolloutCollector', () => {
  it('runs one batched policy forward per step for all agents of all envs, and matches per-agent forwards', () => {
    const policy = new ActorCritic(gru);
    let calls = 0;
    const step = policy.step.bind(policy);
    policy.step = (input) => (calls++, step(input));
    const make = () => [0, 1, 2].map(() => new MemoryCueEnv({ length: 4, minAgents: 2, maxAgents: 4 }));
    const batched = new RolloutCollector(make(), policy, { seed: 9 }).collect();
    assert.equal(calls, 4, 'episodes of 4 steps over 3 envs: 4 forwards');
    assert.equal(batched.forwards, 4);
    calls = 0;
    const perAgent = new RolloutCollector(make(), policy, { seed: 9, forward: 'per-agent' }).collect();
    assert.equal(calls, batched.agentSteps, 'per-agent mode: one forward per agent-step');
    assert.equal(perAgent.trajectories.length, batched.trajectories.length);
    batched.trajectories.forEach((t, i) => {
      const u = perAgent.trajectories[i];
      assert.deepEqual(Array.from(u.actions), Array.from(t.actions));
      for (let k = 0; k < t.length; k++)
        assert.ok(Math.abs(u.logProbs[k] - t.logProbs[k]) < 1e-5 && Math.abs(u.values[k] - t.values[k]) < 1e-5);
    });
    policy.dispose();
  });

  it('handles agent counts that change between episodes and is reproducible from its seed', () => {
    const policy = new ActorCritic(gru);
    const run = (seed: number) => {
      const c = new RolloutCollector([new MemoryCueEnv({ minAgents: 1, maxAgents: 5, length: 2 })], policy, {
        seed,
        episodesPerEnv: 12,
      });
      return c.collect();
    };
    const a = run(1);
    const counts = new Set(a.episodes.map((e) => e.agents));
    assert.ok(counts.size >= 3, `agent counts seen: ${[...counts]}`);
    assert.equal(
      a.trajectories.length,
      a.episodes.reduce((s, e) => s + e.agents, 0),
    );
    assert.equal(a.agentSteps, 2 * a.trajectories.length);
    const b = run(1);
    assert.deepEqual(
      b.trajectories.map((t) => Array.from(t.actions)),
      a.trajectories.map((t) => Array.from(t.actions)),
    );
    const c = run(2);
    assert.notDeepEqual(
      c.episodes.map((e) => e.agents),
      a.episodes.map((e) => e.agents),
    );
    policy.dispose();
  });

  it('bootstraps truncated episodes from the value of the final observation, terminated ones from 0', () => {
    const policy = new ActorCritic({ observationSize: 2, numActions: 2, torso: 'mlp', hiddenSizes: [8], seed: 1 });
    const r = new RolloutCollector([new TimeLimitEnv(3)], policy, { seed: 4 }).collect();
    assert.equal(r.episodes.length, 1);
    const n = r.episodes[0].agents;
    for (const t of r.trajectories) {
      assert.equal(t.terminated, false);
      const v = policy.step({
        observations: new Float32Array([0.3, t.agent / 3]),
        agentIndex: Int32Array.from([t.agent]),
      }).values[0];
      assert.ok(Math.abs(t.nextValue - v) < 1e-6, `agent ${t.agent}: bootstrap ${t.nextValue} vs V(final obs) ${v}`);
      assert.notEqual(t.nextValue, 0);
    }
    assert.equal(r.trajectories.length, n);
    assert.throws(
      () => new RolloutCollector([new MemoryCueEnv()], policy, { seed: 1 }),
      /env 0 observationSize 4 does not match policy observationSize 2/,
    );
    const g = new ActorCritic(gru);
    const term = new RolloutCollector([new MemoryCueEnv()], g, { seed: 1 }).collect();
    assert.ok(term.trajectories.every((t) => t.terminated && t.nextValue === 0));
    g.dispose();
    policy.dispose();
  });

  it('in steps mode, cuts windows with bootstrapping and carries hidden states into the next window', () => {
    const policy = new ActorCritic(gru);
    const c = new RolloutCollector([new MemoryCueEnv({ length: 5 }), new MemoryCueEnv({ length: 5 })], policy, {
      seed: 2,
      mode: 'steps',
      numSteps: 3,
    });
    const first = c.collect();
    assert.equal(first.envSteps, 6);
    assert.ok(first.trajectories.every((t) => t.length === 3 && !t.terminated && t.nextValue !== 0));
    const second = c.collect();
    // the second window continues the episodes: steps 3 and 4 (then a new episode starts)
    const cont = second.trajectories.filter((t) => t.terminated);
    assert.ok(cont.length > 0 && cont.every((t) => t.length === 2));
    assert.ok(
      cont.every((t) => t.actorHidden.slice(0, 8).some((v) => v !== 0)),
      'continued trajectories start from a non-zero hidden state',
    );
    assert.equal(second.episodes.length, 2);
    policy.dispose();
  });

  it('feeds rewards through a credit-assignment plug-in (difference rewards via counterfactualTeamReward)', () => {
    const policy = new ActorCritic(gru);
    const difference: CreditAssigner = {
      prepare: (env, actions) =>
        Array.from(actions, (_, i) => {
          const alt = Int32Array.from(actions);
          alt[i] = env.defaultAction!(i);
          return env.counterfactualTeamReward!(alt);
        }),
      assign: ({ result, prepared }) => Float32Array.from(prepared as number[], (g) => result.teamReward - g),
    };
    const r = new RolloutCollector([new MemoryCueEnv({ length: 2, minAgents: 3, maxAgents: 3 })], policy, {
      seed: 5,
      episodesPerEnv: 6,
      credit: difference,
    }).collect();
    let nonZero = 0;
    for (const t of r.trajectories) {
      const cue = t.observations[0] === 1 ? 0 : 1;
      const a = t.actions[1];
      // D_i = G(a) - G(a with a_i = 0) = ([a_i == cue_i] - [0 == cue_i]) / n
      const expected = ((a === cue ? 1 : 0) - (cue === 0 ? 1 : 0)) / 3;
      assert.ok(Math.abs(t.rewards[1] - expected) < 1e-6, `difference reward ${t.rewards[1]} vs ${expected}`);
      assert.equal(t.rewards[0], 0);
      if (expected !== 0) nonZero++;
    }
    assert.ok(nonZero > 0);
    policy.dispose();
  });

  it("accepts the credit module's differenceStepAssigner as its plug-in, and PPO learns with it", () => {
    const env = { length: 1, minAgents: 3, maxAgents: 3, rewardMode: 'team' as const };
    const policy = new ActorCritic({ ...gru, torso: 'mlp' });
    const r = new RolloutCollector([new MemoryCueEnv(env)], policy, {
      seed: 5,
      episodesPerEnv: 8,
      credit: differenceStepAssigner(),
    }).collect();
    for (const t of r.trajectories) {
      const cue = t.observations[0] === 1 ? 0 : 1;
      const expected = ((t.actions[0] === cue ? 1 : 0) - (cue === 0 ? 1 : 0)) / 3;
      assert.ok(Math.abs(t.rewards[0] - expected) < 1e-6, `difference reward ${t.rewards[0]} vs ${expected}`);
    }
    policy.dispose();
    const trainer = new PpoTrainer(
      { policy: { ...gru, torso: 'mlp' }, ppo: { learningRate: 3e-3 }, seed: 1 },
      [0, 1, 2, 3].map(() => new MemoryCueEnv(env)),
      { credit: differenceStepAssigner() },
    );
    trainer.train(15);
    const { meanTeamReturn } = evaluatePolicy(trainer.policy, [new MemoryCueEnv(env)], {
      seed: 9,
      episodesPerEnv: 16,
      greedy: true,
    });
    assert.ok(meanTeamReturn >= 0.9, `team return with difference rewards ${meanTeamReturn}`);
    trainer.dispose();
  });

  it('PolicyActor (the one policy step of GANNO validation and PolicyController) acts as the greedy collector does', () => {
    const policy = new ActorCritic(gru);
    const make = () => new MemoryCueEnv({ length: 6, minAgents: 3, maxAgents: 3 });
    const rollout = new RolloutCollector([make()], policy, { seed: 9, greedy: true }).collect();
    const env = make();
    let r = env.reset(new Rng(9).fork('env-seeds').nextUint32());
    const play = (greedy: boolean, rngSeed: number) => {
      const actor = new PolicyActor(policy, { greedy });
      r = env.reset(new Rng(9).fork('env-seeds').nextUint32());
      actor.reset(r.observations.length, new Rng(rngSeed));
      const taken: number[][] = [[], [], []];
      for (;;) {
        const a = actor.act(r.observations);
        a.forEach((x, i) => taken[i].push(x));
        const st = env.step(a);
        if (st.terminated || st.truncated) break;
        r = st;
      }
      return taken;
    };
    assert.deepEqual(
      play(true, 1),
      rollout.trajectories.map((t) => Array.from(t.actions)),
    );
    assert.deepEqual(play(false, 5), play(false, 5), 'sampling is reproducible from its Rng');
    const draws = [1, 2, 3, 4, 5, 6].map((k) => JSON.stringify(play(false, k)));
    assert.ok(new Set(draws).size > 1, 'sampled actions depend on the Rng');
    assert.throws(() => new PolicyActor(policy, { greedy: true }).act(r.observations), /call reset\(\) first/);
    policy.dispose();
  });

  it('leaks no tensors across collects', () => {
    const policy = new ActorCritic(gru);
    const c = new RolloutCollector([new MemoryCueEnv(), new MemoryCueEnv()], policy, { seed: 1 });
    c.collect();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) c.collect();
    assert.equal(tf.memory().numTensors, before);
    policy.dispose();
  });

  it('reports env contract violations clearly', () => {
    const policy = new ActorCritic({ ...gru, observationSize: 2 });
    class Bad extends TimeLimitEnv {
      override step(actions: ArrayLike<number>): StepResult {
        const r = super.step(actions);
        return { ...r, observations: [...r.observations, new Float32Array(2)] };
      }
    }
    assert.throws(
      () => new RolloutCollector([new Bad(5)], policy, { seed: 1 }).collect(),
      /env 0: step returned \d observations for \d agents/,
    );
    class Endless extends TimeLimitEnv {
      override readonly spec = { observationSize: 2, numActions: 2, stateSize: 2, maxSteps: 4 };
    }
    assert.throws(
      () => new RolloutCollector([new Endless(50)], policy, { seed: 1 }).collect(),
      /ran 4 steps without terminating or truncating \(spec.maxSteps = 4\)/,
    );
    assert.throws(() => new RolloutCollector([], policy, { seed: 1 }), /at least one environment/);
    policy.dispose();
  });
});
