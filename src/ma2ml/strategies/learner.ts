/**
 * Learner-backed search strategies: the MA2ML methods and their baselines are `SingleStepLearner`
 * configurations (`METHOD_CONFIGS`) over the searched agents, adapted to the strategy interface.
 */
import { SingleStepLearner } from '../../marl/singlestep';
import type { JointAction, ObserveStats, SingleStepConfigInput } from '../../marl/singlestep';
import { AGENTS, learnerAgents } from '../pipeline';
import { expandOwn, selectOwn } from './context';
import type { SearchStrategy, StrategyContext, StrategyDiagnostics, StrategyFactory } from './strategy';

// The settings of each learning method (documented on METHOD_CONFIGS); a new variant is one line here
// plus one line in the strategy registry (./index.ts).
const CONFIGS = {
  ma2ml: { credit: 'counterfactual', offPolicy: true, divergenceWeight: 0.1, tau: 0.01 },
  'ma2ml-lite': { credit: 'counterfactual', offPolicy: false, divergenceWeight: 0, criticSteps: 8 },
  'ma2ml-no-credit': { credit: 'shared', offPolicy: true, divergenceWeight: 0.1, tau: 0.01 },
  independent: { credit: 'shared', offPolicy: false, divergenceWeight: 0 },
  'single-agent': { credit: 'shared', offPolicy: false, divergenceWeight: 0, jointAgent: true, policy: 'autoregressive', actorLr: 0.01 },
} satisfies Record<string, Partial<SingleStepConfigInput>>;

/**
 * The learner settings of issue 12 on top of `ma2ml` (method `ma2ml-i12` of the surrogate and
 * credit-quality experiments): ridge critic on one-hot plus cross-agent pair features, the exact
 * expected off-policy actor gradient, target policies moved once per batch with tau 0.2, and at
 * most 16 actor steps per batch, stopped early once the mean KL to the batch's starting policy
 * exceeds 0.005.
 */
export const ISSUE12_SETTINGS: Readonly<Partial<SingleStepConfigInput>> = Object.freeze({ critic: 'ridge', offPolicyActor: 'expected', targetUpdate: 'per-batch', tau: 0.2, klLimit: 0.005, innerSteps: 16 });

/** A method that is one `SingleStepLearner` configuration ({@link METHOD_CONFIGS}). */
export type LearnerMethod = keyof typeof CONFIGS;

/**
 * The `SingleStepLearner` switches of each learning method (`sequential` runs `independent`'s
 * learner on one agent at a time):
 * - `ma2ml`: counterfactual credit (centralised critic), off-policy replay, target policies w = 0.1, tau = 0.01;
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
  if (!config) throw new Error(`learnerStrategy: unknown learning method '${method}' (expected one of ${Object.keys(METHOD_CONFIGS).join(', ')})`);
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
    this.learner = new SingleStepLearner({ agents: ctx.searched.map((i) => all[i]), seed: ctx.seed, ...config, ...(ctx.learner ?? {}) });
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
    return { agents: this.ctx.searched.map((i) => AGENTS[i]), probabilities: this.learner.probabilities(), stats: this.stats };
  }

  dispose(): void {
    this.learner.dispose();
  }
}
