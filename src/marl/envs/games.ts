/**
 * Single-step cooperative test games: matrix games with miscoordination penalties (climbing,
 * penalty), a many-agent game whose team reward dilutes each agent's contribution, and a
 * factored-token game with a large joint action space. The matrix-style games implement
 * {@link MultiAgentEnv} (with the difference-reward hook); the token game is a reward function
 * over token sequences for the single-step learners.
 */
import { Rng } from '../../random';
import type { MultiAgentEnv, MultiAgentEnvSpec, ResetResult, StepResult } from '../env';

/** Team reward of a joint action (one discrete action per agent). */
export type JointRewardFn = (actions: ArrayLike<number>) => number;

/**
 * A one-step cooperative game as a {@link MultiAgentEnv}: every agent sees the constant
 * observation `[1]`, acts once, all receive the team reward, and the episode terminates.
 * Implements `counterfactualTeamReward` and `defaultAction` for difference rewards.
 *
 * @example
 * ```ts
 * const game = climbingGame();
 * game.reset(0);
 * game.step([0, 0]).teamReward; // 11
 * ```
 */
export class SingleStepGame implements MultiAgentEnv<{ optimal: boolean }> {
  readonly spec: MultiAgentEnvSpec;
  /** Best team reward attainable. */
  readonly optimalReward: number;
  private done = true;

  constructor(
    /** Number of agents. */
    readonly numAgents: number,
    /** Number of actions per agent. */
    readonly numActions: number,
    private readonly reward: JointRewardFn,
    private readonly defaults: ArrayLike<number> | number = 0,
    optimalReward?: number,
  ) {
    if (!Number.isInteger(numAgents) || numAgents < 1)
      throw new Error(`SingleStepGame: numAgents must be a positive integer, got ${numAgents}`);
    if (!Number.isInteger(numActions) || numActions < 1)
      throw new Error(`SingleStepGame: numActions must be a positive integer, got ${numActions}`);
    this.spec = { observationSize: 1, numActions, maxSteps: 1 };
    this.optimalReward = optimalReward ?? bruteForceOptimum(numAgents, numActions, reward);
  }

  /** The team reward of a joint action (pure function of the actions). */
  teamReward(actions: ArrayLike<number>): number {
    this.check(actions);
    return this.reward(actions);
  }

  reset(_seed: number): ResetResult {
    this.done = false;
    return { observations: this.observations() };
  }

  step(actions: ArrayLike<number>): StepResult<{ optimal: boolean }> {
    if (this.done) throw new Error('SingleStepGame.step: call reset() first (the episode has one step)');
    const g = this.teamReward(actions);
    this.done = true;
    return {
      observations: this.observations(),
      rewards: new Float32Array(this.numAgents).fill(g),
      teamReward: g,
      terminated: true,
      truncated: false,
      info: { optimal: g >= this.optimalReward },
    };
  }

  counterfactualTeamReward(actions: ArrayLike<number>): number {
    return this.teamReward(actions);
  }

  defaultAction(agent: number): number {
    if (!Number.isInteger(agent) || agent < 0 || agent >= this.numAgents)
      throw new Error(`SingleStepGame.defaultAction: agent ${agent} out of range [0, ${this.numAgents})`);
    return typeof this.defaults === 'number' ? this.defaults : this.defaults[agent];
  }

  private observations(): Float32Array[] {
    return Array.from({ length: this.numAgents }, () => Float32Array.of(1));
  }

  private check(actions: ArrayLike<number>): void {
    if (actions.length !== this.numAgents)
      throw new Error(`SingleStepGame: expected ${this.numAgents} actions (one per agent), got ${actions.length}`);
    for (let i = 0; i < actions.length; i++) {
      const a = actions[i];
      if (!Number.isInteger(a) || a < 0 || a >= this.numActions)
        throw new Error(`SingleStepGame: action of agent ${i} must be an integer in [0, ${this.numActions}), got ${a}`);
    }
  }
}

function bruteForceOptimum(n: number, k: number, reward: JointRewardFn): number {
  if (Math.pow(k, n) > 1 << 16) return Number.POSITIVE_INFINITY;
  const a = new Int32Array(n);
  let best = Number.NEGATIVE_INFINITY;
  for (let m = 0; m < Math.pow(k, n); m++) {
    let r = m;
    for (let i = 0; i < n; i++) {
      a[i] = r % k;
      r = Math.floor(r / k);
    }
    best = Math.max(best, reward(a));
  }
  return best;
}

/**
 * A two-agent matrix game: `payoff[a0][a1]` is the team reward.
 *
 * @example
 * ```ts
 * const g = matrixGame([[1, 0], [0, 1]]);
 * ```
 */
export function matrixGame(payoff: number[][], defaultAction = 0): SingleStepGame {
  const k = payoff.length;
  if (k === 0 || payoff.some((row) => row.length !== k))
    throw new Error('matrixGame: payoff must be a non-empty square matrix');
  if (payoff.some((row) => row.some((v) => !Number.isFinite(v))))
    throw new Error('matrixGame: payoff entries must be finite');
  return new SingleStepGame(2, k, (a) => payoff[a[0]][a[1]], defaultAction);
}

/** The climbing game (Claus & Boutilier 1998): optimum (0, 0) = 11 guarded by -30 penalties. */
export const CLIMBING_PAYOFF: number[][] = [
  [11, -30, 0],
  [-30, 7, 6],
  [0, 0, 5],
];

/**
 * The climbing game as a {@link SingleStepGame}.
 *
 * @example
 * ```ts
 * climbingGame().optimalReward; // 11
 * ```
 */
export function climbingGame(): SingleStepGame {
  return matrixGame(CLIMBING_PAYOFF);
}

/**
 * The penalty game (Claus & Boutilier 1998): optima (0, 0) and (2, 2) = 10, miscoordination
 * (0, 2) / (2, 0) = `k` (k <= 0), safe action (1, 1) = 2.
 *
 * @example
 * ```ts
 * penaltyGame(-10).teamReward([0, 2]); // -10
 * ```
 */
export function penaltyGame(k: number): SingleStepGame {
  if (!(k <= 0) || !Number.isFinite(k)) throw new Error(`penaltyGame: k must be a finite number <= 0, got ${k}`);
  return matrixGame(
    [
      [10, 0, k],
      [0, 2, 0],
      [k, 0, 10],
    ],
    1,
  );
}

/**
 * A many-agent game where each agent's contribution is diluted in the team reward: agent i has
 * `numActions` actions, one of which (drawn from `seed`, never the default action 0) is right;
 * the team reward is the fraction of agents that chose right. Each agent moves the team reward by
 * only 1/n, and the other agents' exploration hides it; the difference reward isolates it.
 *
 * @example
 * ```ts
 * const g = dilutedContributionGame({ numAgents: 20, numActions: 4, seed: 1 });
 * g.optimalReward; // 1
 * ```
 */
export function dilutedContributionGame(options: {
  numAgents: number;
  numActions: number;
  seed: number;
}): SingleStepGame & { targets: Int32Array } {
  const { numAgents: n, numActions: k, seed } = options;
  if (!Number.isInteger(k) || k < 2)
    throw new Error(`dilutedContributionGame: numActions must be an integer >= 2, got ${k}`);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`dilutedContributionGame: numAgents must be a positive integer, got ${n}`);
  const rng = new Rng(seed).fork('diluted-targets');
  const targets = new Int32Array(n);
  for (let i = 0; i < n; i++) targets[i] = 1 + rng.int(k - 1);
  const game = new SingleStepGame(
    n,
    k,
    (a) => {
      let c = 0;
      for (let i = 0; i < n; i++) if (a[i] === targets[i]) c++;
      return c / n;
    },
    0,
    1,
  );
  return Object.assign(game, { targets });
}

/** A single-step game over factored token actions: each agent emits `vocab[i].length` tokens. */
export interface TokenGame {
  /** Token vocabulary sizes per agent. */
  vocab: number[][];
  /** Team reward in [0, 1] of a joint action (per agent, its token indices). */
  reward(joint: number[][]): number;
  /** The best attainable reward. */
  optimalReward: number;
}

/**
 * A factored-token game with a large joint action space (`prod` of all vocab sizes): every token
 * position has a score table with 1 at a hidden target and U[0, 0.6) elsewhere, and a coupling
 * term rewards agents whose first tokens agree with the hidden target pattern jointly (all or
 * nothing), so agents must coordinate. reward = (1 - coupling) * mean token score + coupling * [all first tokens right].
 *
 * @example
 * ```ts
 * const g = factoredTokenGame({ vocab: [[8, 8, 8, 8], [8, 8, 8, 8], [8, 8, 8, 8]], seed: 3 });
 * g.reward([[0, 1, 2, 3], [4, 5, 6, 7], [0, 0, 0, 0]]);
 * ```
 */
export function factoredTokenGame(options: {
  vocab: number[][];
  seed: number;
  coupling?: number;
}): TokenGame & { targets: number[][] } {
  const { vocab, seed } = options;
  const coupling = options.coupling ?? 0.2;
  if (!(coupling >= 0 && coupling <= 1))
    throw new Error(`factoredTokenGame: coupling must be in [0, 1], got ${coupling}`);
  if (!Array.isArray(vocab) || vocab.length === 0)
    throw new Error('factoredTokenGame: vocab must list at least one agent');
  const rng = new Rng(seed).fork('token-game');
  const targets: number[][] = [];
  const scores: Float64Array[][] = [];
  let numTokens = 0;
  vocab.forEach((v, i) => {
    if (!Array.isArray(v) || v.length === 0)
      throw new Error(`factoredTokenGame: vocab[${i}] must be a non-empty array of sizes`);
    targets.push([]);
    scores.push([]);
    v.forEach((size, t) => {
      if (!Number.isInteger(size) || size < 2)
        throw new Error(`factoredTokenGame: vocab[${i}][${t}] must be an integer >= 2, got ${size}`);
      const target = rng.int(size);
      const s = new Float64Array(size);
      for (let a = 0; a < size; a++) s[a] = a === target ? 1 : rng.uniform(0, 0.6);
      targets[i].push(target);
      scores[i].push(s);
      numTokens++;
    });
  });
  return {
    vocab,
    targets,
    optimalReward: 1,
    reward(joint: number[][]): number {
      if (!Array.isArray(joint) || joint.length !== vocab.length)
        throw new Error(`factoredTokenGame.reward: expected ${vocab.length} agents' token lists`);
      let sum = 0;
      let allFirst = true;
      for (let i = 0; i < vocab.length; i++) {
        const toks = joint[i];
        if (!toks || toks.length !== vocab[i].length)
          throw new Error(`factoredTokenGame.reward: agent ${i} must emit ${vocab[i].length} tokens`);
        for (let t = 0; t < toks.length; t++) {
          const a = toks[t];
          if (!Number.isInteger(a) || a < 0 || a >= vocab[i][t])
            throw new Error(
              `factoredTokenGame.reward: token ${t} of agent ${i} must be in [0, ${vocab[i][t]}), got ${a}`,
            );
          sum += scores[i][t][a];
        }
        if (toks[0] !== targets[i][0]) allFirst = false;
      }
      return (1 - coupling) * (sum / numTokens) + coupling * (allFirst ? 1 : 0);
    },
  };
}
