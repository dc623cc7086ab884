/**
 * One seed of a cooperative matrix game (climbing, penalty) learned by two single-step agents with
 * one of three credit schemes, as a runtime job kind: independent learners (shared team reward),
 * counterfactual credit from a centralised critic (COMA / MA2ML-Lite) and difference rewards.
 */
import { parseConfig, z } from '../../config';
import { differenceRewardsFromFn } from '../../credit';
import { defineJobKind } from '../../runtime/jobs';
import type { JobContext } from '../../runtime/jobs';
import { climbingGame, penaltyGame } from '../envs/games';
import type { SingleStepGame } from '../envs/games';
import { SingleStepLearner } from '../singlestep';
import type { SingleStepConfigInput } from '../singlestep';

/**
 * Credit schemes compared on the matrix games.
 *
 * @example
 * ```ts
 * for (const method of MATRIX_METHODS) console.log(method); // independent, counterfactual, difference
 * ```
 */
export const MATRIX_METHODS = ['independent', 'counterfactual', 'difference'] as const;
/** One of {@link MATRIX_METHODS}. */
export type MatrixMethod = (typeof MATRIX_METHODS)[number];

/**
 * zod schema of {@link MatrixSeedConfig}.
 *
 * @example
 * ```ts
 * const cfg = MatrixSeedConfigSchema.parse({ game: 'penalty', method: 'difference', iterations: 100 }); // penaltyK -5, batchSize 8
 * ```
 */
export const MatrixSeedConfigSchema = z
  .object({
    /** 'climbing' (Claus & Boutilier) or 'penalty' (with `penaltyK`). */
    game: z.enum(['climbing', 'penalty']),
    /** Miscoordination payoff of the penalty game (<= 0); ignored by the climbing game. */
    penaltyK: z.number().max(0, 'must be <= 0').default(-5),
    method: z.enum(MATRIX_METHODS),
    /** Learner updates (each on one batch of sampled joint actions). */
    iterations: z.number().int().positive(),
    /** Joint actions sampled and evaluated per iteration. */
    batchSize: z.number().int().positive().default(8),
    /** Actor learning rate (Adam on the logits). */
    actorLr: z.number().positive().default(0.05),
  })
  .strict();

/** Input form of {@link MatrixSeedConfig}. */
export type MatrixSeedConfigInput = z.input<typeof MatrixSeedConfigSchema>;
/** Configuration of one matrix-game run (the job's seed seeds the learner). */
export type MatrixSeedConfig = z.output<typeof MatrixSeedConfigSchema>;

/** Result of {@link runMatrixGameSeed} (plain JSON, stored by the experiment store). */
export interface MatrixSeedResult {
  /** Expected team reward `sum_a pi_0(a_0) pi_1(a_1) R(a)` of the current policies before iteration 0, 1, ..., and after the last. */
  expectedReward: number[];
  /** Probability the current policies give to an optimal joint action, at the same points. */
  probOptimal: number[];
  /** The policies' most probable joint action after training. */
  greedy: number[];
  /** Team reward of `greedy`. */
  greedyReward: number;
  /** Whether `greedy` is an optimal joint action. */
  optimal: boolean;
  /** Final action probabilities of each agent. */
  policies: number[][];
  /** Best team reward of the game. */
  optimalReward: number;
}

/**
 * Payoff table `R[a0][a1]` of a named matrix game.
 *
 * @example
 * ```ts
 * matrixPayoff('penalty', -5); // [[10, 0, -5], [0, 2, 0], [-5, 0, 10]]
 * ```
 */
export function matrixPayoff(game: 'climbing' | 'penalty', penaltyK = -5): number[][] {
  const g = matrixGame(game, penaltyK);
  return Array.from({ length: g.numActions }, (_, a0) =>
    Array.from({ length: g.numActions }, (_, a1) => g.teamReward([a0, a1])),
  );
}

/** The game object from `src/marl/envs/games.ts` (the single definition of payoffs and default actions). */
function matrixGame(game: 'climbing' | 'penalty', penaltyK: number): SingleStepGame {
  if (game === 'climbing') return climbingGame();
  if (game === 'penalty') return penaltyGame(penaltyK);
  throw new Error(`matrix game: unknown game '${String(game)}'; expected 'climbing' or 'penalty'`);
}

/**
 * Learner configuration of a credit scheme on a two-agent, three-action matrix game. All three
 * are on-policy REINFORCE with Adam on the logits and no trust region; they differ only in each
 * agent's advantage:
 * - `independent`: `r - b` with the shared team reward and a moving-average baseline;
 * - `counterfactual` (MA2ML-Lite / COMA): `Q(a) - sum_a' pi_i(a') Q(a', a_-i)` from a centralised critic;
 * - `difference`: `D_i - b_i` with `D_i = R(a) - R(c_i, a_-i)` for a fixed default action `c_i`.
 *
 * @example
 * ```ts
 * const cfg = matrixLearnerConfig('counterfactual', 0.05, 7); // SingleStepConfigInput
 * ```
 */
export function matrixLearnerConfig(method: MatrixMethod, actorLr: number, seed: number): SingleStepConfigInput {
  const common: SingleStepConfigInput = {
    agents: [{ vocab: [3] }, { vocab: [3] }],
    seed,
    offPolicy: false,
    divergenceWeight: 0,
    normalizeAdvantages: false,
    actorLr,
  };
  if (method === 'independent') return { ...common, credit: 'shared' };
  if (method === 'counterfactual') return { ...common, credit: 'counterfactual', criticSteps: 4, criticLr: 0.01 };
  if (method === 'difference') return { ...common, credit: 'perAgent' };
  throw new Error(
    `matrixLearnerConfig: unknown method '${String(method)}'; expected one of ${MATRIX_METHODS.join(', ')}`,
  );
}

/**
 * Trains one seed of a credit scheme on a matrix game and records the expected team reward of the
 * policies after every iteration (exact, by enumerating the 9 joint actions). The learner is
 * seeded with the job's seed (not its key), so methods with the same seed start from the same
 * random stream (paired comparison). Deterministic for a config, seed and backend.
 *
 * @example
 * ```ts
 * const res = runMatrixGameSeed({ game: 'penalty', penaltyK: -5, method: 'independent', iterations: 200 }, { seed: 3 });
 * res.optimal; // greedy joint action after training is (0, 0) or (2, 2)
 * ```
 */
export function runMatrixGameSeed(config: MatrixSeedConfigInput, ctx: Pick<JobContext, 'seed'>): MatrixSeedResult {
  const c = parseConfig(MatrixSeedConfigSchema, config, 'matrix-game seed config');
  if (!ctx || !Number.isSafeInteger(ctx.seed))
    throw new Error(`runMatrixGameSeed: ctx.seed must be an integer, got ${JSON.stringify(ctx?.seed)}`);
  const game = matrixGame(c.game, c.penaltyK);
  const payoff = matrixPayoff(c.game, c.penaltyK);
  const k = payoff.length;
  const R = (a: ArrayLike<number>) => payoff[a[0]][a[1]];
  const optimalReward = game.optimalReward;
  // Difference rewards use the game's default actions (climbing: 0; penalty: the safe action 1).
  const def = [game.defaultAction(0), game.defaultAction(1)];
  const learner = new SingleStepLearner(matrixLearnerConfig(c.method, c.actorLr, ctx.seed));
  const expectedReward: number[] = [];
  const probOptimal: number[] = [];
  const record = () => {
    const p = learner.probabilities();
    const p0 = p[0][0];
    const p1 = p[1][0];
    let e = 0;
    let po = 0;
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        e += p0[i] * p1[j] * payoff[i][j];
        if (payoff[i][j] === optimalReward) po += p0[i] * p1[j];
      }
    }
    expectedReward.push(e);
    probOptimal.push(po);
    return p;
  };
  try {
    record();
    for (let it = 0; it < c.iterations; it++) {
      const batch = learner.propose(c.batchSize);
      const joint = batch.map((a) => [a[0][0], a[1][0]]);
      const team = joint.map(R);
      const perAgent =
        c.method === 'difference' ? joint.map((a, b) => differenceRewardsFromFn(R, a, team[b], def)) : undefined;
      learner.observe(batch, team, perAgent);
      record();
    }
    const policies = learner.probabilities().map((agent) => Array.from(agent[0]));
    const greedy = learner.greedy().map((agent) => agent[0]);
    const greedyReward = R(greedy);
    return {
      expectedReward,
      probOptimal,
      greedy,
      greedyReward,
      optimal: greedyReward === optimalReward,
      policies,
      optimalReward,
    };
  } finally {
    learner.dispose();
  }
}

/**
 * Job kind `marl-matrix-seed`: one (game, method, seed) run of {@link runMatrixGameSeed}, for
 * `runExperiment` (parallel seeds on a worker pool, results cached in the experiment store).
 *
 * @example
 * ```ts
 * const jobs = [0, 1, 2].map((s) => matrixGameSeedKind.job(`climbing/independent/seed=${s}`, { game: 'climbing', method: 'independent', iterations: 150 }, s));
 * const { results } = await runExperiment({ name: '01-matrix', jobs, executor: new InlineExecutor(), store: ExperimentStore.open() });
 * ```
 */
export const matrixGameSeedKind = defineJobKind({
  name: 'marl-matrix-seed',
  module: __filename,
  export: 'runMatrixGameSeed',
  version: 'marl-matrix-seed@1',
  fn: runMatrixGameSeed,
  // the cache key follows the resolved config (defaults applied)
  resolveConfig: (config: MatrixSeedConfigInput) =>
    parseConfig(MatrixSeedConfigSchema, config, 'matrix-game seed config'),
});
