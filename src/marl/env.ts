/**
 * The parallel cooperative multi-agent environment interface (PettingZoo "parallel" style).
 * All agents act at once; the number of agents may change between episodes (not within one).
 *
 * @example
 * ```ts
 * const first = env.reset(seed);
 * let t = env.step(first.observations.map(() => 0));
 * while (!t.terminated && !t.truncated) t = env.step(policyActions(t.observations));
 * ```
 */
export interface MultiAgentEnv<Info = Record<string, unknown>> {
  /** Static description of spaces (per-agent observation size and number of discrete actions). */
  readonly spec: MultiAgentEnvSpec;
  /** Starts an episode; `seed` makes it reproducible. */
  reset(seed: number): ResetResult;
  /** Applies one discrete action per agent (index into that agent's action space). */
  step(actions: ArrayLike<number>): StepResult<Info>;
  /**
   * Optional hook for difference rewards: the team reward the *current* step would give if
   * `actions` were taken instead, evaluated from the current state without advancing it.
   * Credit assignment calls it once per agent with that agent's action replaced by a default,
   * before calling {@link step} with the factual actions.
   */
  counterfactualTeamReward?(actions: ArrayLike<number>): number;
  /**
   * Optional batched form of {@link counterfactualTeamReward}: the team reward of each joint action
   * in `actionSets`, all from the current state (an env may evaluate them together, e.g. as one
   * vectorised training run). Must equal calling `counterfactualTeamReward` once per set.
   */
  counterfactualTeamRewards?(actionSets: readonly ArrayLike<number>[]): number[];
  /** Optional: the default ("no-op") action used by difference rewards, per agent. */
  defaultAction?(agent: number): number;
  /** Releases resources (tensors, workers). */
  dispose?(): void;
}

export interface MultiAgentEnvSpec {
  /** Observation vector length per agent (identical for all agents, so a shared policy fits). */
  observationSize: number;
  /** Number of discrete actions per agent. */
  numActions: number;
  /** Global state length for centralised critics (0 or undefined when not provided). */
  stateSize?: number;
  /** Maximum episode length in steps (for buffers and truncation). */
  maxSteps: number;
}

export interface ResetResult {
  /** One observation per agent; `observations.length` is this episode's agent count. */
  observations: Float32Array[];
  /** Global state for a centralised critic, when the env provides one. */
  state?: Float32Array;
  /** Per-agent masks of allowed actions (1 = allowed), when the env restricts actions. */
  actionMasks?: Uint8Array[];
}

export interface StepResult<Info = Record<string, unknown>> extends ResetResult {
  /** Per-agent rewards (a shared team reward is the same number repeated). */
  rewards: Float32Array;
  /** The team reward G this step (what difference rewards are computed from). */
  teamReward: number;
  /** The episode ended by the task (no bootstrapping). */
  terminated: boolean;
  /** The episode was cut by a time limit (bootstrap from the value of the last observation). */
  truncated: boolean;
  info: Info;
}

/** What a credit-assignment plug-in sees for one environment step (the rollout collector fills every field). */
export interface CreditContext {
  env: MultiAgentEnv;
  envIndex: number;
  /** The joint action that was taken. */
  actions: Int32Array;
  /** The environment's step result (its `rewards`, `teamReward`, `info`). */
  result: StepResult;
  /** Whatever {@link CreditAssigner.prepare} returned before the step. */
  prepared: unknown;
}

/** The least a credit plug-in's `assign` may ask for: the team reward and what `prepare` returned. */
export interface TeamRewardContext {
  result: { teamReward: number };
  prepared: unknown;
}

/**
 * Credit-assignment plug-in: turns a step's outcome into the per-agent rewards a learner uses. The one
 * plug-in interface of the project: the rollout collector (PPO) calls it, and src/credit's
 * `differenceStepAssigner`, `sharedStepAssigner` and `shapleyStepAssigner` implement it.
 * `prepare` runs *before* `env.step` (e.g. difference rewards query `env.counterfactualTeamReward`
 * with each agent's action replaced by `env.defaultAction`); `assign` runs after it and returns one
 * reward per agent. `Ctx` narrows what `assign` reads (src/credit's plug-ins read only
 * {@link TeamRewardContext}, so they can also be driven by hand); any such plug-in is a
 * `CreditAssigner` for the collector.
 *
 * @example
 * ```ts
 * const difference: CreditAssigner = {
 *   prepare: (env, actions) => Array.from(actions, (_, i) => {
 *     const alt = Array.from(actions); alt[i] = env.defaultAction!(i);
 *     return env.counterfactualTeamReward!(alt);
 *   }),
 *   assign: ({ result, prepared }) => Float32Array.from(prepared as number[], (g) => result.teamReward - g),
 * };
 * ```
 */
export interface CreditAssigner<Ctx extends TeamRewardContext = CreditContext> {
  prepare?(env: MultiAgentEnv, actions: ArrayLike<number>, envIndex?: number): unknown;
  assign(ctx: Ctx): Float32Array;
}
