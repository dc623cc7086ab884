import type { MultiAgentEnv } from './env';
import type { ActorCritic, PolicyStepOutput } from './policy';
import { emptyStepOutput } from './policy';
import { Rng, type RngState } from '../random';

// The credit plug-in interface lives with the env API (src/marl/env.ts), below both the collector and src/credit.
import type { CreditAssigner } from './env';
export type { CreditAssigner, CreditContext } from './env';

/** One agent's contiguous steps within one episode and one rollout window. */
export interface Trajectory {
  envIndex: number;
  agent: number;
  length: number;
  /** [T * observationSize] */
  observations: Float32Array;
  /** [T * stateSize] (empty when the env gives no state) */
  states: Float32Array;
  /** [T * numActions] (empty when the env gives no masks) */
  actionMasks: Float32Array;
  actions: Int32Array;
  logProbs: Float32Array;
  values: Float32Array;
  rewards: Float32Array;
  /** [T * actorHiddenSize] actor hidden state *before* each step. */
  actorHidden: Float32Array;
  /** [T * criticHiddenSize] */
  criticHidden: Float32Array;
  /** Bootstrap value after the last step (0 if the episode terminated). */
  nextValue: number;
  /** The episode terminated after this segment. */
  terminated: boolean;
}

/** Summary of one finished episode. */
export interface EpisodeStats {
  envIndex: number;
  agents: number;
  length: number;
  /** Sum of `teamReward` over the episode. */
  teamReturn: number;
  /** Sum over steps of the mean per-agent learning reward. */
  meanAgentReturn: number;
}

/** The result of {@link RolloutCollector.collect}. */
export interface Rollout {
  trajectories: Trajectory[];
  episodes: EpisodeStats[];
  /** Environment steps taken (all envs together). */
  envSteps: number;
  /** Agent-steps (samples) collected. */
  agentSteps: number;
  /** Batched policy forwards run. */
  forwards: number;
}

export interface RolloutOptions {
  /**
   * `episodes`: every collect resets all envs and runs each for `episodesPerEnv` complete
   * episodes (exactly resumable from a checkpoint); `steps`: `numSteps` steps per env, episodes
   * continue across collects (bootstrapped at the window's end).
   */
  mode: 'episodes' | 'steps';
  episodesPerEnv: number;
  numSteps: number;
  /** Sample (default) or take the most probable action. */
  greedy: boolean;
  /** `batched` (one forward per step for all agents of all envs) or `per-agent` (one per row; benchmarks only). */
  forward: 'batched' | 'per-agent';
}

class TrajectoryBuilder {
  obs: Float32Array[] = [];
  states: Float32Array[] = [];
  masks: Float32Array[] = [];
  actions: number[] = [];
  logProbs: number[] = [];
  values: number[] = [];
  rewards: number[] = [];
  actorH: Float32Array[] = [];
  criticH: Float32Array[] = [];
  constructor(
    readonly envIndex: number,
    readonly agent: number,
  ) {}
  finish(nextValue: number, terminated: boolean): Trajectory {
    return {
      envIndex: this.envIndex,
      agent: this.agent,
      length: this.actions.length,
      observations: concat(this.obs),
      states: concat(this.states),
      actionMasks: concat(this.masks),
      actions: Int32Array.from(this.actions),
      logProbs: Float32Array.from(this.logProbs),
      values: Float32Array.from(this.values),
      rewards: Float32Array.from(this.rewards),
      actorHidden: concat(this.actorH),
      criticHidden: concat(this.criticH),
      nextValue,
      terminated,
    };
  }
}

function concat(parts: Float32Array[]): Float32Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Float32Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

interface EnvSlot {
  active: boolean;
  episodesLeft: number;
  obs: Float32Array[];
  state?: Float32Array;
  masks?: Uint8Array[];
  actorH: Float32Array;
  criticH: Float32Array;
  builders: TrajectoryBuilder[];
  length: number;
  teamReturn: number;
  meanAgentReturn: number;
}

/** Serialisable position of a collector (its random streams). */
export interface CollectorState {
  sampling: RngState;
  envSeeds: RngState;
}

/**
 * Collects on-policy experience from E parallel multi-agent environments. Each step stacks the
 * agents of every active environment into one batch and runs **one** policy forward (actor and
 * critic) for all of them; actions are sampled in JavaScript from a seeded {@link Rng}, so runs
 * are reproducible and resumable. Agent counts may differ between envs and between episodes.
 *
 * @example
 * ```ts
 * const collector = new RolloutCollector(envs, policy, { seed: 1, mode: 'episodes', episodesPerEnv: 1 });
 * const rollout = collector.collect();
 * console.log(rollout.episodes.map((e) => e.teamReturn));
 * ```
 */
export class RolloutCollector {
  readonly options: RolloutOptions;
  private readonly sampling: Rng;
  private readonly envSeeds: Rng;
  private slots: EnvSlot[] | undefined;
  private readonly credit: CreditAssigner | undefined;

  constructor(
    readonly envs: MultiAgentEnv[],
    readonly policy: ActorCritic,
    options: Partial<RolloutOptions> & { seed: number; credit?: CreditAssigner },
  ) {
    if (envs.length === 0) throw new Error('RolloutCollector: envs must contain at least one environment');
    const c = policy.config;
    envs.forEach((env, i) => {
      if (env.spec.observationSize !== c.observationSize) {
        throw new Error(
          `RolloutCollector: env ${i} observationSize ${env.spec.observationSize} does not match policy observationSize ${c.observationSize}`,
        );
      }
      if (env.spec.numActions !== c.numActions)
        throw new Error(
          `RolloutCollector: env ${i} numActions ${env.spec.numActions} does not match policy numActions ${c.numActions}`,
        );
      if (c.critic === 'centralised' && (env.spec.stateSize ?? 0) !== c.stateSize) {
        throw new Error(
          `RolloutCollector: env ${i} stateSize ${env.spec.stateSize ?? 0} does not match policy stateSize ${c.stateSize}`,
        );
      }
    });
    this.options = {
      mode: options.mode ?? 'episodes',
      episodesPerEnv: options.episodesPerEnv ?? 1,
      numSteps: options.numSteps ?? 128,
      greedy: options.greedy ?? false,
      forward: options.forward ?? 'batched',
    };
    if (!(Number.isInteger(this.options.episodesPerEnv) && this.options.episodesPerEnv > 0)) {
      throw new Error(
        `RolloutCollector: episodesPerEnv must be a positive integer, got ${this.options.episodesPerEnv}`,
      );
    }
    if (!(Number.isInteger(this.options.numSteps) && this.options.numSteps > 0)) {
      throw new Error(`RolloutCollector: numSteps must be a positive integer, got ${this.options.numSteps}`);
    }
    this.credit = options.credit;
    const root = new Rng(options.seed);
    this.sampling = root.fork('sampling');
    this.envSeeds = root.fork('env-seeds');
  }

  /** Random-stream positions (for checkpoints). */
  getState(): CollectorState {
    return { sampling: this.sampling.getState(), envSeeds: this.envSeeds.getState() };
  }

  /** Restores {@link getState}; in `steps` mode the envs restart their episodes at the next collect. */
  setState(s: CollectorState): void {
    this.sampling.setState(s.sampling);
    this.envSeeds.setState(s.envSeeds);
    this.slots = undefined;
  }

  private resetSlot(i: number, episodesLeft: number): EnvSlot {
    const env = this.envs[i];
    const r = env.reset(this.envSeeds.nextUint32());
    const n = r.observations.length;
    if (n === 0) throw new Error(`RolloutCollector: env ${i} reset returned no agents`);
    this.checkStep(i, r, n);
    const h = this.policy.initialHidden(n);
    return {
      active: true,
      episodesLeft,
      obs: r.observations,
      state: r.state,
      masks: r.actionMasks,
      actorH: h.actor,
      criticH: h.critic,
      builders: Array.from({ length: n }, (_, a) => new TrajectoryBuilder(i, a)),
      length: 0,
      teamReturn: 0,
      meanAgentReturn: 0,
    };
  }

  private checkStep(
    i: number,
    r: { observations: Float32Array[]; state?: Float32Array; actionMasks?: Uint8Array[] },
    n: number,
  ): void {
    const c = this.policy.config;
    if (r.observations.length !== n)
      throw new Error(
        `env ${i}: step returned ${r.observations.length} observations for ${n} agents (agent count may only change between episodes)`,
      );
    for (let a = 0; a < n; a++) {
      if (r.observations[a].length !== c.observationSize) {
        throw new Error(
          `env ${i}: observation of agent ${a} has length ${r.observations[a].length}, expected ${c.observationSize}`,
        );
      }
    }
    if (c.critic === 'centralised' && (!r.state || r.state.length !== c.stateSize)) {
      throw new Error(
        `env ${i}: global state has length ${r.state?.length ?? 'none'}, the centralised critic expects ${c.stateSize}`,
      );
    }
    if (r.actionMasks) {
      if (r.actionMasks.length !== n)
        throw new Error(`env ${i}: actionMasks has ${r.actionMasks.length} entries for ${n} agents`);
      r.actionMasks.forEach((m, a) => {
        if (m.length !== c.numActions)
          throw new Error(`env ${i}: action mask of agent ${a} has length ${m.length}, expected ${c.numActions}`);
        if (!m.some((v) => v !== 0)) throw new Error(`env ${i}: action mask of agent ${a} allows no action`);
      });
    }
  }

  /** Runs the policy forward for the given (env, agent) rows, batched or row by row. */
  private forward(rows: { slot: EnvSlot; agent: number }[]): PolicyStepOutput {
    const c = this.policy.config;
    const b = rows.length;
    const ha = this.policy.actorHiddenSize;
    const hc = this.policy.criticHiddenSize;
    const obs = new Float32Array(b * c.observationSize);
    const agentIndex = new Int32Array(b);
    const states = c.critic === 'centralised' ? new Float32Array(b * c.stateSize) : undefined;
    const actorH = new Float32Array(b * ha);
    const criticH = new Float32Array(b * hc);
    const anyMask = rows.some((r) => r.slot.masks);
    const masks = anyMask ? new Float32Array(b * c.numActions).fill(1) : undefined;
    rows.forEach(({ slot, agent }, i) => {
      obs.set(slot.obs[agent], i * c.observationSize);
      agentIndex[i] = agent;
      if (states) states.set(slot.state as Float32Array, i * c.stateSize);
      actorH.set(slot.actorH.subarray(agent * ha, (agent + 1) * ha), i * ha);
      criticH.set(slot.criticH.subarray(agent * hc, (agent + 1) * hc), i * hc);
      if (masks && slot.masks) masks.set(slot.masks[agent], i * c.numActions);
    });
    if (this.options.forward === 'batched') {
      return this.policy.step({
        observations: obs,
        agentIndex,
        states,
        actorHidden: actorH,
        criticHidden: criticH,
        actionMasks: masks,
      });
    }
    const out = emptyStepOutput(b, c.numActions, ha, hc);
    for (let i = 0; i < b; i++) {
      const o = this.policy.step({
        observations: obs.subarray(i * c.observationSize, (i + 1) * c.observationSize),
        agentIndex: agentIndex.subarray(i, i + 1),
        states: states?.subarray(i * c.stateSize, (i + 1) * c.stateSize),
        actorHidden: actorH.subarray(i * ha, (i + 1) * ha),
        criticHidden: criticH.subarray(i * hc, (i + 1) * hc),
        actionMasks: masks?.subarray(i * c.numActions, (i + 1) * c.numActions),
      });
      out.logProbs.set(o.logProbs, i * c.numActions);
      out.values[i] = o.values[0];
      out.actorHidden.set(o.actorHidden, i * ha);
      out.criticHidden.set(o.criticHidden, i * hc);
    }
    return out;
  }

  private sample(logp: Float32Array, offset: number, n: number): number {
    return selectAction(logp, offset, n, this.options.greedy, this.sampling);
  }

  /** Collects one rollout (see {@link RolloutOptions.mode}). */
  collect(): Rollout {
    const c = this.policy.config;
    const A = c.numActions;
    const ha = this.policy.actorHiddenSize;
    const hc = this.policy.criticHiddenSize;
    const episodeMode = this.options.mode === 'episodes';
    if (episodeMode || !this.slots) {
      this.slots = this.envs.map((_, i) => this.resetSlot(i, episodeMode ? this.options.episodesPerEnv : Infinity));
    }
    const slots = this.slots;
    const rollout: Rollout = { trajectories: [], episodes: [], envSteps: 0, agentSteps: 0, forwards: 0 };
    let step = 0;
    for (;;) {
      if (!episodeMode && step >= this.options.numSteps) break;
      const active = slots.map((s, i) => ({ s, i })).filter(({ s }) => s.active);
      if (active.length === 0) break;
      const rows: { slot: EnvSlot; agent: number }[] = [];
      for (const { s } of active) for (let a = 0; a < s.obs.length; a++) rows.push({ slot: s, agent: a });
      const out = this.forward(rows);
      rollout.forwards++;
      let row = 0;
      const truncated: { final: EnvSlot; builders: TrajectoryBuilder[] }[] = [];
      for (const { s, i } of active) {
        const env = this.envs[i];
        const n = s.obs.length;
        const actions = new Int32Array(n);
        for (let a = 0; a < n; a++) actions[a] = this.sample(out.logProbs, (row + a) * A, A);
        const prepared = this.credit?.prepare ? this.credit.prepare(env, actions, i) : undefined;
        const result = env.step(actions);
        const rewards = this.credit
          ? this.credit.assign({ env, envIndex: i, actions, result, prepared })
          : result.rewards;
        if (rewards.length !== n)
          throw new Error(
            `env ${i}: ${this.credit ? 'credit assigner' : 'step'} returned ${rewards.length} rewards for ${n} agents`,
          );
        let rewardSum = 0;
        for (let a = 0; a < n; a++) {
          const bld = s.builders[a];
          const r = row + a;
          bld.obs.push(s.obs[a]);
          if (s.state) bld.states.push(s.state);
          if (s.masks) bld.masks.push(Float32Array.from(s.masks[a]));
          bld.actions.push(actions[a]);
          bld.logProbs.push(out.logProbs[r * A + actions[a]]);
          bld.values.push(out.values[r]);
          bld.rewards.push(rewards[a]);
          bld.actorH.push(s.actorH.slice(a * ha, (a + 1) * ha));
          bld.criticH.push(s.criticH.slice(a * hc, (a + 1) * hc));
          rewardSum += rewards[a];
        }
        s.actorH = out.actorHidden.slice(row * ha, (row + n) * ha);
        s.criticH = out.criticHidden.slice(row * hc, (row + n) * hc);
        s.length++;
        s.teamReturn += result.teamReward;
        s.meanAgentReturn += rewardSum / n;
        rollout.envSteps++;
        rollout.agentSteps += n;
        row += n;
        const ended = result.terminated || result.truncated;
        if (!ended && s.length >= env.spec.maxSteps) {
          throw new Error(
            `env ${i}: episode ran ${s.length} steps without terminating or truncating (spec.maxSteps = ${env.spec.maxSteps})`,
          );
        }
        if (!ended) {
          this.checkStep(i, result, n);
          s.obs = result.observations;
          s.state = result.state;
          s.masks = result.actionMasks;
          continue;
        }
        rollout.episodes.push({
          envIndex: i,
          agents: n,
          length: s.length,
          teamReturn: s.teamReturn,
          meanAgentReturn: s.meanAgentReturn,
        });
        if (result.terminated) {
          for (const b of s.builders) rollout.trajectories.push(b.finish(0, true));
        } else {
          // Time limit: bootstrap from V(final observation) with the post-step hidden state.
          this.checkStep(i, result, n);
          truncated.push({
            final: { ...s, obs: result.observations, state: result.state, masks: result.actionMasks },
            builders: s.builders,
          });
        }
        this.nextEpisode(s, i);
      }
      if (truncated.length) {
        const vals = this.forward(
          truncated.flatMap(({ final, builders }) => builders.map((_, agent) => ({ slot: final, agent }))),
        ).values;
        rollout.forwards++;
        let k = 0;
        for (const t of truncated) for (const b of t.builders) rollout.trajectories.push(b.finish(vals[k++], false));
      }
      step++;
    }
    if (!episodeMode) {
      // Cut the window: bootstrap every live trajectory from the current observation.
      const live = slots.filter((s) => s.active && s.builders[0].actions.length > 0);
      if (live.length) {
        const vals = this.forward(live.flatMap((slot) => slot.builders.map((_, agent) => ({ slot, agent })))).values;
        rollout.forwards++;
        let k = 0;
        for (const s of live) {
          s.builders = s.builders.map((b) => {
            rollout.trajectories.push(b.finish(vals[k++], false));
            return new TrajectoryBuilder(b.envIndex, b.agent);
          });
        }
      }
    }
    return rollout;
  }

  /** After an episode ends: start the next one, or deactivate the slot when its episodes are done. */
  private nextEpisode(s: EnvSlot, i: number): void {
    s.episodesLeft--;
    if (s.episodesLeft <= 0) {
      s.active = false;
      return;
    }
    const fresh = this.resetSlot(i, s.episodesLeft);
    Object.assign(s, fresh);
  }
}

/**
 * Runs a (frozen) policy for `episodesPerEnv` episodes on each env and returns the episodes'
 * statistics and the mean team return; `greedy` takes the most probable action.
 *
 * @example
 * ```ts
 * const { meanTeamReturn } = evaluatePolicy(policy, envs, { seed: 123, episodesPerEnv: 8, greedy: true });
 * ```
 */
export function evaluatePolicy(
  policy: ActorCritic,
  envs: MultiAgentEnv[],
  options: { seed: number; episodesPerEnv?: number; greedy?: boolean },
): { meanTeamReturn: number; episodes: EpisodeStats[] } {
  const collector = new RolloutCollector(envs, policy, {
    seed: options.seed,
    mode: 'episodes',
    episodesPerEnv: options.episodesPerEnv ?? 1,
    greedy: options.greedy ?? false,
  });
  const { episodes } = collector.collect();
  return { meanTeamReturn: episodes.reduce((s, e) => s + e.teamReturn, 0) / episodes.length, episodes };
}

/**
 * The one action rule of every policy step: the most probable action (`greedy`; the first on
 * ties) or a draw from `exp(logProbs)` with `rng`, for the row of `numActions` log-probabilities
 * starting at `offset`. Used by {@link RolloutCollector}, {@link PolicyActor} and through them by
 * every evaluation of a policy.
 *
 * @example
 * ```ts
 * selectAction(Float32Array.of(Math.log(0.2), Math.log(0.8)), 0, 2, true, new Rng(1)); // 1
 * ```
 */
export function selectAction(
  logProbs: Float32Array,
  offset: number,
  numActions: number,
  greedy: boolean,
  rng: Rng,
): number {
  if (greedy) {
    let best = 0;
    for (let k = 1; k < numActions; k++) if (logProbs[offset + k] > logProbs[offset + best]) best = k;
    return best;
  }
  const w = new Float64Array(numActions);
  for (let k = 0; k < numActions; k++) w[k] = Math.exp(logProbs[offset + k]);
  return rng.categorical(w);
}

/**
 * A (frozen) policy acting in one environment, one decision at a time: each {@link act} runs one
 * batched policy forward for all agents of the env (recurrent hidden states carried across
 * decisions, restarted by {@link reset}) and picks each agent's action with {@link selectAction}
 * (greedy, or sampled from the `Rng` given to `reset`). It is the greedy/sampled policy step of
 * GANNO's validation runs and of its `PolicyController`; {@link evaluatePolicy} runs the same rule
 * through the collector. A centralised critic gets a zero state (its value is not used to act).
 *
 * @example
 * ```ts
 * const actor = new PolicyActor(policy, { greedy: true });
 * let r = env.reset(7);
 * actor.reset(r.observations.length, new Rng(7));
 * const actions = actor.act(r.observations);
 * ```
 */
export class PolicyActor {
  readonly greedy: boolean;
  private actorH = new Float32Array(0);
  private criticH = new Float32Array(0);
  private agents = 0;
  private rng = new Rng(0);

  constructor(
    readonly policy: ActorCritic,
    options: { greedy: boolean },
  ) {
    this.greedy = options.greedy;
  }

  /** Starts an episode of `numAgents` agents; sampled actions draw from `rng`. */
  reset(numAgents: number, rng: Rng): void {
    if (!(Number.isInteger(numAgents) && numAgents > 0))
      throw new Error(`PolicyActor.reset: numAgents must be a positive integer, got ${numAgents}`);
    const h = this.policy.initialHidden(numAgents);
    this.actorH = h.actor;
    this.criticH = h.critic;
    this.agents = numAgents;
    this.rng = rng;
  }

  /** One decision: every agent's action from its observation (one row per agent, in agent order). */
  act(observations: Float32Array[]): Int32Array {
    const n = this.agents;
    if (n === 0) throw new Error('PolicyActor.act: call reset() first');
    const c = this.policy.config;
    const O = c.observationSize;
    if (observations.length !== n)
      throw new Error(`PolicyActor.act: got ${observations.length} observations for ${n} agents`);
    const flat = new Float32Array(n * O);
    observations.forEach((o, i) => {
      if (o.length !== O)
        throw new Error(`PolicyActor.act: observation of agent ${i} has ${o.length} values, the policy expects ${O}`);
      flat.set(o, i * O);
    });
    const out = this.policy.step({
      observations: flat,
      agentIndex: Int32Array.from({ length: n }, (_, i) => i),
      actorHidden: this.actorH,
      criticHidden: this.criticH,
      states: c.critic === 'centralised' ? new Float32Array(n * c.stateSize) : undefined,
    });
    this.actorH = out.actorHidden;
    this.criticH = out.criticHidden;
    const A = c.numActions;
    const actions = new Int32Array(n);
    for (let i = 0; i < n; i++) actions[i] = selectAction(out.logProbs, i * A, A, this.greedy, this.rng);
    return actions;
  }
}
