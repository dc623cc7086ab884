/**
 * One seed of the many-agent game with diluted contributions (`dilutedContributionGame`) learned
 * with the shared team reward or with difference rewards, as a runtime job kind.
 */
import { parseConfig, z } from '../../config';
import { differenceRewardsFromFn } from '../../credit';
import { defineJobKind } from '../../runtime/jobs';
import type { JobContext } from '../../runtime/jobs';
import { dilutedContributionGame } from '../envs/games';
import { SingleStepLearner } from '../singlestep';

/**
 * Reward schemes compared on the diluted game.
 *
 * @example
 * ```ts
 * DILUTED_METHODS.map((method) => runDilutedGameSeed({ method, episodes: 400 }, { seed: 0 }));
 * ```
 */
export const DILUTED_METHODS = ['shared', 'difference'] as const;
/** One of {@link DILUTED_METHODS}. */
export type DilutedMethod = (typeof DILUTED_METHODS)[number];

/**
 * zod schema of {@link DilutedSeedConfig}.
 *
 * @example
 * ```ts
 * DilutedSeedConfigSchema.parse({ method: 'shared', episodes: 1600 }); // 20 agents, 4 actions, batch 8, threshold 0.9
 * ```
 */
export const DilutedSeedConfigSchema = z
  .object({
    method: z.enum(DILUTED_METHODS),
    numAgents: z.number().int().min(2, 'must be >= 2').default(20),
    numActions: z.number().int().min(2, 'must be >= 2').default(4),
    /** Evaluations (episodes) of the whole run; the run is not stopped early so curves have equal length. */
    episodes: z.number().int().positive(),
    batchSize: z.number().int().positive().default(8),
    /** Expected team reward that counts as solved for "episodes to threshold". */
    threshold: z.number().gt(0).max(1).default(0.9),
    actorLr: z.number().positive().default(0.05),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.episodes < c.batchSize)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['episodes'],
        message: `must be >= batchSize (${c.batchSize})`,
      });
  });

/** Input form of {@link DilutedSeedConfig}. */
export type DilutedSeedConfigInput = z.input<typeof DilutedSeedConfigSchema>;
/** Configuration of one diluted-game run (the job's seed seeds the learner and the game's hidden targets). */
export type DilutedSeedConfig = z.output<typeof DilutedSeedConfigSchema>;

/** Result of {@link runDilutedGameSeed}. */
export interface DilutedSeedResult {
  /** Episodes used before each recorded point: 0, batchSize, 2 batchSize, ... */
  episodes: number[];
  /** Expected team reward of the current policies (mean over agents of pi_i(target_i)) at those points. */
  expectedReward: number[];
  /** First episode count at which the expected team reward reached `threshold` (null: not within the budget). */
  episodesToThreshold: number | null;
}

/**
 * Trains `numAgents` REINFORCE agents (moving-average baselines, Adam) on one seed of the diluted
 * game with the shared team reward `G = (agents right) / n` or with difference rewards
 * `D_i = G(a) - G(a_-i, 0)` (action 0 is never right, so `D_i = [a_i right] / n`), recording the
 * exact expected team reward after every batch. Deterministic for a config, seed and backend.
 *
 * @example
 * ```ts
 * const res = runDilutedGameSeed({ method: 'difference', episodes: 800 }, { seed: 0 });
 * res.episodesToThreshold; // about 300 with 20 agents
 * ```
 */
export function runDilutedGameSeed(config: DilutedSeedConfigInput, ctx: Pick<JobContext, 'seed'>): DilutedSeedResult {
  const c = parseConfig(DilutedSeedConfigSchema, config, 'diluted-game seed config');
  if (!ctx || !Number.isSafeInteger(ctx.seed))
    throw new Error(`runDilutedGameSeed: ctx.seed must be an integer, got ${JSON.stringify(ctx?.seed)}`);
  const n = c.numAgents;
  const game = dilutedContributionGame({ numAgents: n, numActions: c.numActions, seed: ctx.seed });
  const G = (a: ArrayLike<number>) => game.teamReward(a);
  const learner = new SingleStepLearner({
    agents: Array.from({ length: n }, () => ({ vocab: [c.numActions] })),
    seed: ctx.seed,
    credit: c.method === 'difference' ? 'perAgent' : 'shared',
    offPolicy: false,
    divergenceWeight: 0,
    actorLr: c.actorLr,
  });
  const episodes: number[] = [];
  const expectedReward: number[] = [];
  let reached: number | null = null;
  let used = 0;
  const record = () => {
    const p = learner.probabilities();
    let e = 0;
    for (let i = 0; i < n; i++) e += p[i][0][game.targets[i]];
    e /= n;
    episodes.push(used);
    expectedReward.push(e);
    if (reached === null && e >= c.threshold) reached = used;
  };
  try {
    record();
    while (used + c.batchSize <= c.episodes) {
      const batch = learner.propose(c.batchSize);
      const joint = batch.map((a) => a.map((tokens) => tokens[0]));
      const team = joint.map(G);
      const perAgent =
        c.method === 'difference' ? joint.map((a, b) => differenceRewardsFromFn(G, a, team[b], 0)) : undefined;
      learner.observe(batch, team, perAgent);
      used += c.batchSize;
      record();
    }
    return { episodes, expectedReward, episodesToThreshold: reached };
  } finally {
    learner.dispose();
  }
}

/**
 * Job kind `marl-diluted-seed`: one (method, seed) run of {@link runDilutedGameSeed}.
 *
 * @example
 * ```ts
 * const jobs = [0, 1, 2].map((s) => dilutedGameSeedKind.job(`diluted/shared/seed=${s}`, { method: 'shared', episodes: 1200 }, s));
 * ```
 */
export const dilutedGameSeedKind = defineJobKind({
  name: 'marl-diluted-seed',
  module: __filename,
  export: 'runDilutedGameSeed',
  version: 'marl-diluted-seed@1',
  fn: runDilutedGameSeed,
  // the cache key follows the resolved config (defaults applied)
  resolveConfig: (config: DilutedSeedConfigInput) =>
    parseConfig(DilutedSeedConfigSchema, config, 'diluted-game seed config'),
});
