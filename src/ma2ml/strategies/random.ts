/**
 * Random search: uniform tokens for the searched agents.
 */
import type { JointAction } from '../../marl/singlestep';
import { Rng } from '../../random';
import { sampleTokens } from '../pipeline';
import { expandOwn, selectOwn } from './context';
import type { SearchStrategy, StrategyFactory } from './strategy';

/**
 * Random search: every proposal draws each token uniformly (`sampleTokens`, from the stream
 * `ma2ml-random-search` of the search seed); agents outside the search keep the fixed tokens. It
 * learns nothing (`observe` ignores the rewards). With a `hard-mask` constraint `runSearch` rejects
 * and redraws proposals over the budget, i.e. uniform over the feasible pipelines.
 *
 * @example
 * ```ts
 * const s = randomStrategy(strategyContext({ space, evaluations: 8, batchSize: 4, seed: 0 }));
 * s.propose(4).map((t) => decodePipeline(space, t));
 * ```
 */
export const randomStrategy: StrategyFactory = (ctx): SearchStrategy => {
  const rng = new Rng(ctx.seed).fork('ma2ml-random-search');
  return {
    propose: (n: number): JointAction[] =>
      Array.from({ length: n }, () => expandOwn(ctx, selectOwn(ctx, sampleTokens(ctx.space, rng)))),
    observe: () => undefined,
    dispose: () => undefined,
  };
};
