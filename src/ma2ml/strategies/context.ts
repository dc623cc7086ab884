/**
 * The context a search strategy is created with (`strategyContext`) and the conversion between a
 * strategy's own tokens (searched agents only) and joint proposals (all agents).
 */
import type { JointAction, SingleStepConfigInput } from '../../marl/singlestep';
import type { FlopsConstraint } from '../flops';
import { AGENTS, checkPipeline, decodePipeline, encodePipeline } from '../pipeline';
import type { AgentName } from '../pipeline';
import type { Pipeline, SearchSpace } from '../spaces';
import type { StrategyContext } from './strategy';

/** Options of {@link strategyContext} (the `runSearch` options a strategy sees). */
export interface StrategyContextOptions {
  space: SearchSpace;
  evaluations: number;
  method?: string;
  seed?: number;
  batchSize?: number;
  /** Search only these agents; the others keep `fixedPipeline`'s tokens (required with `modules`). */
  modules?: AgentName[];
  fixedPipeline?: Pipeline;
  learner?: Partial<SingleStepConfigInput>;
  flops?: FlopsConstraint;
  maskMaxTries?: number;
  /** Receives the counts of {@link StrategyContext.reject}. */
  onReject?: (count: number) => void;
}

/**
 * Builds a {@link StrategyContext} (what `runSearch` does from its options; also for driving a
 * strategy directly). `feasible` decodes the tokens and checks the pipeline against the budget when
 * `flops.rule` is `hard-mask`, else accepts everything.
 *
 * @example
 * ```ts
 * const ctx = strategyContext({ space: presetSpace('smoke'), evaluations: 16, batchSize: 4, seed: 1, flops: { budget: 45e3, rule: 'hard-mask' } });
 * createStrategy('ma2ml', ctx).propose(4);
 * ```
 */
export function strategyContext(o: StrategyContextOptions): StrategyContext {
  if (o.modules && !o.fixedPipeline)
    throw new Error(
      'strategyContext: fixedPipeline is required with modules (it supplies the tokens of the agents not searched)',
    );
  const modules = o.modules;
  const searched = modules
    ? AGENTS.map((a, i) => (modules.includes(a) ? i : -1)).filter((i) => i >= 0)
    : AGENTS.map((_, i) => i);
  const mask = o.flops?.rule === 'hard-mask' ? o.flops.budget : undefined;
  const space = o.space;
  return {
    space,
    method: o.method ?? 'custom',
    seed: o.seed ?? 0,
    evaluations: o.evaluations,
    batchSize: o.batchSize ?? 8,
    searched,
    fixedTokens: modules ? encodePipeline(space, o.fixedPipeline as Pipeline) : undefined,
    learner: o.learner,
    flops: o.flops,
    maskMaxTries: o.maskMaxTries ?? 200,
    feasible: (tokens) =>
      mask === undefined || checkPipeline(space, decodePipeline(space, tokens), { flopsBudget: mask }).valid,
    reject: (count) => o.onReject?.(count),
  };
}

/**
 * A joint proposal from a strategy's own tokens (one array per searched agent, in `ctx.searched`
 * order): agents not searched take `ctx.fixedTokens`. Without `modules` it is `own` itself.
 *
 * @example
 * ```ts
 * const joint = expandOwn(ctx, learner.propose(1)[0]);
 * ```
 */
export function expandOwn(ctx: StrategyContext, own: number[][]): JointAction {
  const fixed = ctx.fixedTokens;
  if (!fixed) return own;
  return fixed.map((t, j) => (ctx.searched.includes(j) ? own[ctx.searched.indexOf(j)] : t));
}

/**
 * A strategy's own tokens of a joint proposal (the searched agents' arrays, in `ctx.searched` order).
 *
 * @example
 * ```ts
 * learner.observe(proposals.map((p) => selectOwn(ctx, p)), rewards);
 * ```
 */
export function selectOwn(ctx: StrategyContext, joint: JointAction): number[][] {
  return ctx.searched.map((i) => joint[i]);
}
