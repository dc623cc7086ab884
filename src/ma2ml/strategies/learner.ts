/**
 * Learner-backed search strategies: the MA2ML methods and their baselines are `SingleStepLearner`
 * configurations (`METHOD_CONFIGS`) over the searched agents, adapted to the strategy interface.
 */
import { SingleStepLearner } from '../../marl/singlestep';
import type { JointAction, ObserveStats, SingleStepConfigInput } from '../../marl/singlestep';
import { AGENTS, learnerAgents } from '../pipeline';
import { expandOwn, selectOwn } from './context';
import type { SearchStrategy, StrategyContext, StrategyDiagnostics, StrategyFactory } from './strategy';

/**
 * The learner settings of issue 12, `ma2ml`'s defaults since they beat the replay learner on the
 * LCBench validation tasks at 36 and 200 evaluations (learning-rate sweep, see TUNED_ACTOR_LR): ridge
 * critic on one-hot plus cross-agent pair features, the exact expected off-policy actor gradient,
 * target policies moved once per batch with tau 0.2, and at most 16 actor steps per batch, stopped
 * early once the mean KL to the batch's starting policy exceeds 0.005.
 */
export const ISSUE12_SETTINGS: Readonly<Partial<SingleStepConfigInput>> = Object.freeze({
  critic: 'ridge',
  offPolicyActor: 'expected',
  targetUpdate: 'per-batch',
  tau: 0.2,
  klLimit: 0.005,
  innerSteps: 16,
});

// The settings of each learning method (documented on METHOD_CONFIGS); a new variant is one line here
// plus one line in the strategy registry (./index.ts).
const CONFIGS = {
  ma2ml: { credit: 'counterfactual', offPolicy: true, divergenceWeight: 0.1, ...ISSUE12_SETTINGS },
  'ma2ml-replay': { credit: 'counterfactual', offPolicy: true, divergenceWeight: 0.1, tau: 0.01 },
  'ma2ml-lite': { credit: 'counterfactual', offPolicy: false, divergenceWeight: 0, criticSteps: 8 },
  'ma2ml-no-credit': { credit: 'shared', offPolicy: true, divergenceWeight: 0.1, tau: 0.01 },
  independent: { credit: 'shared', offPolicy: false, divergenceWeight: 0 },
  'single-agent': {
    credit: 'shared',
    offPolicy: false,
    divergenceWeight: 0,
    jointAgent: true,
    policy: 'autoregressive',
    actorLr: 0.01,
  },
} satisfies Record<string, Partial<SingleStepConfigInput>>;

/** A method that is one `SingleStepLearner` configuration ({@link METHOD_CONFIGS}). */
export type LearnerMethod = keyof typeof CONFIGS;

/**
 * The `SingleStepLearner` switches of each learning method (`sequential` runs `independent`'s
 * learner on one agent at a time):
 * - `ma2ml`: counterfactual credit from a ridge critic, off-policy replay with the exact expected actor
 *   gradient, target policies w = 0.1 moved per batch (tau 0.2), KL-limited inner steps ({@link ISSUE12_SETTINGS});
 * - `ma2ml-replay`: the learner before issue 12 (the audit's settings): MLP critic, `-log pi(a) A` on
 *   replayed actions, 8 Adam steps per batch, target policies tau = 0.01 per step;
 * - `ma2ml-lite`: on-policy REINFORCE with the counterfactual advantage (the critic takes 8 regression steps on the replay per batch);
 * - `ma2ml-no-credit`: replay and target policies, shared reward minus a moving baseline;
 * - `independent`: on-policy REINFORCE per agent on the shared reward (moving baseline);
 * - `single-agent`: one REINFORCE agent over the joint token sequence (moving baseline) with an
 *   autoregressive policy (a GRU over all tokens, Adam lr 0.01), so it can correlate tokens across
 *   modules; with factorised logits it would make exactly `independent`'s updates.
 *
 * @example
 * ```ts
 * new SingleStepLearner({ agents: learnerAgents(space), seed: 1, ...METHOD_CONFIGS['ma2ml-lite'] });
 * ```
 */
export const METHOD_CONFIGS: Readonly<Record<LearnerMethod, Partial<SingleStepConfigInput>>> = Object.freeze(CONFIGS);

/**
 * Actor learning rates per learner method and evaluation budget, chosen by the sweep of
 * `src/ma2ml/experiments/surrogate/sweep.ts` (`npm run ma2ml-sweep`, run 2026-12-07): LCBench
 * surrogate, validation tasks 11-15 of the task shuffle x seeds 1000-1002 (never notebook 23's tasks or
 * seeds), batch 8; every method the same 5 multiples of its default rate (0.25x, 1x, 4x, 16x, 64x); the
 * lowest mean normalised regret at each budget wins. Budgets between the swept ones use the largest
 * swept budget below them ({@link tunedActorLr}).
 * Grid edges: `ma2ml` at 200 and 1000 and `single-agent` at 1000 chose the lowest rate (0.25x). The CIs
 * over 5 tasks x 3 seeds overlap for most neighbouring rates (results/ma2ml-lr-sweep/sweep.md).
 */
export const TUNED_ACTOR_LR: Readonly<Record<LearnerMethod, Readonly<Record<number, number>>>> = Object.freeze({
  ma2ml: { 36: 0.2, 200: 0.0125, 1000: 0.0125 },
  'ma2ml-replay': { 36: 0.05, 200: 0.8, 1000: 0.8 },
  'ma2ml-lite': { 36: 0.0125, 200: 0.05, 1000: 0.05 },
  'ma2ml-no-credit': { 36: 0.8, 200: 0.05, 1000: 0.0125 },
  independent: { 36: 0.2, 200: 0.2, 1000: 0.05 },
  'single-agent': { 36: 0.16, 200: 0.01, 1000: 0.0025 },
});

/**
 * The tuned actor learning rate of a learner method at a budget: the sweep's choice at that budget,
 * else at the largest swept budget below it; undefined for a method that was not swept or a budget
 * below every swept one (the method's own default then applies).
 *
 * @example
 * ```ts
 * tunedActorLr('ma2ml', 1000); // 0.0125, the 1000-evaluation choice
 * tunedActorLr('independent', 500); // 0.2, the choice at 200
 * tunedActorLr('ma2ml', 16); // undefined
 * ```
 */
export function tunedActorLr(method: string, budget: number): number | undefined {
  const table = (TUNED_ACTOR_LR as Record<string, Record<number, number> | undefined>)[method];
  if (!table) return undefined;
  const swept = Object.keys(table)
    .map(Number)
    .filter((b) => b <= budget)
    .sort((x, y) => y - x);
  return swept.length ? table[swept[0]] : undefined;
}

/**
 * The strategy of a learning method: one `SingleStepLearner` over the searched agents with the
 * method's settings ({@link METHOD_CONFIGS}, then the context's `learner` overrides) and the search
 * seed; `propose` samples the policy, `observe` is one learner update on the accepted proposals.
 *
 * @example
 * ```ts
 * const s = learnerStrategy('ma2ml')(strategyContext({ space, evaluations: 64, batchSize: 8, seed: 0 }));
 * const batch = s.propose(8);
 * s.observe(batch, rewards, results);
 * s.diagnostics?.()?.stats.meanReward;
 * s.dispose();
 * ```
 */
export function learnerStrategy(method: LearnerMethod): StrategyFactory {
  const config = METHOD_CONFIGS[method];
  if (!config)
    throw new Error(
      `learnerStrategy: unknown learning method '${method}' (expected one of ${Object.keys(METHOD_CONFIGS).join(', ')})`,
    );
  return (ctx) => new LearnerStrategy(ctx, config);
}

class LearnerStrategy implements SearchStrategy {
  private readonly learner: SingleStepLearner;
  private stats: ObserveStats | undefined;

  constructor(
    private readonly ctx: StrategyContext,
    config: Partial<SingleStepConfigInput>,
  ) {
    const all = learnerAgents(ctx.space);
    this.learner = new SingleStepLearner({
      agents: ctx.searched.map((i) => all[i]),
      seed: ctx.seed,
      ...config,
      ...(ctx.learner ?? {}),
    });
  }

  propose(n: number): JointAction[] {
    return this.learner.propose(n).map((own) => expandOwn(this.ctx, own));
  }

  observe(proposals: JointAction[], rewards: number[]): void {
    this.stats = this.learner.observe(
      proposals.map((p) => selectOwn(this.ctx, p)),
      rewards,
    );
  }

  diagnostics(): StrategyDiagnostics | undefined {
    if (!this.stats) return undefined;
    return {
      agents: this.ctx.searched.map((i) => AGENTS[i]),
      probabilities: this.learner.probabilities(),
      stats: this.stats,
    };
  }

  dispose(): void {
    this.learner.dispose();
  }
}
