/**
 * The ask-and-tell interface of MA2ML search strategies (in the spirit of Optuna's samplers):
 * `runSearch` asks a strategy for joint proposals, evaluates them and tells it the rewards.
 */
import type { JointAction, ObserveStats, SingleStepConfigInput } from '../../marl/singlestep';
import type { JsonValue } from '../../runtime/json';
import type { FlopsConstraint } from '../flops';
import type { AgentName } from '../pipeline';
import type { SearchSpace } from '../spaces';

/**
 * A search strategy. `runSearch` repeats: `propose(n)` (n = the batch size, or the evaluations
 * left), rejects infeasible proposals and asks again for the missing ones when the FLOPs rule is
 * `hard-mask`, evaluates the accepted batch, then `observe(...)` with it; `dispose()` at the end
 * (also on errors).
 *
 * Proposals are joint actions: one token array per agent in `AGENTS` order (aug, nas, hpo), as
 * `encodePipeline` / `decodePipeline` use them; agents outside the search (`ctx.searched`) carry
 * `ctx.fixedTokens`. The interface is that of `SingleStepLearner` (`propose`, `observe`,
 * `dispose`), so a learner-backed strategy is a thin adapter.
 *
 * @example
 * ```ts
 * const s = createStrategy('random', strategyContext({ space, seed: 0, evaluations: 8, batchSize: 4 }));
 * const batch = s.propose(4);                        // 4 joint token arrays
 * s.observe(batch, batch.map(() => 0.5), batch.map(() => ({ reward: 0.5 })));
 * s.dispose();
 * ```
 */
export interface SearchStrategy {
  /**
   * Between 1 and `n` joint proposals. Returning fewer than `n` ends the batch early (e.g. at the
   * end of a phase); with masking, `runSearch` asks again for the rejected ones only.
   */
  propose(n: number): JointAction[];
  /** The accepted proposals of one batch in order, their rewards and the evaluator's full results. */
  observe(proposals: JointAction[], rewards: number[], results: JsonValue[]): void;
  /** Frees what the strategy holds (tensors of a learner); called once. */
  dispose(): void;
  /**
   * Learner diagnostics after the latest `observe` (undefined before it, or for strategies without a
   * learner); `runSearch` passes them to `onUpdate` after each batch.
   */
  diagnostics?(): StrategyDiagnostics | undefined;
}

/** What a learner-backed strategy reports after an update. */
export interface StrategyDiagnostics {
  /** Agents the learner controls, in the order of `probabilities`. */
  agents: AgentName[];
  /** `SingleStepLearner.probabilities()` after the update: `[agent][token][value]`. */
  probabilities: Float32Array[][];
  /** The learner's `observe` statistics of the update. */
  stats: ObserveStats;
}

/** What a strategy is created with (built by `runSearch`, or {@link strategyContext} in tests). */
export interface StrategyContext {
  /** The (validated) search space. */
  space: SearchSpace;
  /** The method name the strategy was created for. */
  method: string;
  /** Seed of the search (policies, sampling). */
  seed: number;
  /** Evaluations of the whole search. */
  evaluations: number;
  /** Proposals `runSearch` asks for per batch (fewer for the last one). */
  batchSize: number;
  /** Indices into `AGENTS` of the agents searched (all three unless `runSearch`'s `modules`). */
  searched: number[];
  /** Tokens of every agent from `fixedPipeline` (only with `modules`): agents not searched keep theirs. */
  fixedTokens?: number[][];
  /** `runSearch`'s `learner` overrides of the method's `SingleStepLearner` settings. */
  learner?: Partial<SingleStepConfigInput>;
  /** The search's FLOPs constraint, if any. */
  flops?: FlopsConstraint;
  /** Draws a masked search allows per accepted proposal (`maskMaxTries`). */
  maskMaxTries: number;
  /** Whether a joint proposal passes the search's mask (invalid or over a `hard-mask` budget: false; always true otherwise). */
  feasible(tokens: JointAction): boolean;
  /** Counts proposals a strategy rejected by itself with `feasible` (added to `SearchResult.masked`). */
  reject(count: number): void;
}

/** Creates a strategy for one search. */
export type StrategyFactory = (ctx: StrategyContext) => SearchStrategy;
