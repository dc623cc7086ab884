/**
 * The search strategies of `runSearch` by method name: the built-in methods of the spec and
 * strategies registered from outside the library (`registerStrategy`).
 */
import { learnerStrategy } from './learner';
import { randomStrategy } from './random';
import { sequentialStrategy } from './sequential';
import type { SearchStrategy, StrategyContext, StrategyFactory } from './strategy';

export { ISSUE12_SETTINGS, METHOD_CONFIGS, TUNED_ACTOR_LR, learnerStrategy, tunedActorLr } from './learner';
export type { LearnerMethod } from './learner';
export { randomStrategy } from './random';
export { sequentialStrategy } from './sequential';
export { expandOwn, selectOwn, strategyContext } from './context';
export type { StrategyContextOptions } from './context';
export type { SearchStrategy, StrategyContext, StrategyDiagnostics, StrategyFactory } from './strategy';

// The built-in methods, in the order of the spec (notebooks and plans list them in this order).
// A new method is one file in this folder plus one line here.
const BUILTIN = {
  ma2ml: learnerStrategy('ma2ml'),
  'ma2ml-replay': learnerStrategy('ma2ml-replay'),
  'ma2ml-lite': learnerStrategy('ma2ml-lite'),
  'ma2ml-no-credit': learnerStrategy('ma2ml-no-credit'),
  independent: learnerStrategy('independent'),
  'single-agent': learnerStrategy('single-agent'),
  sequential: sequentialStrategy,
  random: randomStrategy,
} satisfies Record<string, StrategyFactory>;

/** A built-in search method. */
export type SearchMethod = keyof typeof BUILTIN;

/**
 * The built-in search methods of the spec, in order: the six learner configurations (`ma2ml` and
 * the replay learner it replaced, `ma2ml-replay`, among them)
 * (`METHOD_CONFIGS`), `sequential` and `random`.
 *
 * @example
 * ```ts
 * for (const method of SEARCH_METHODS) await runSearch({ method, space, evaluations: 16, evaluator });
 * ```
 */
export const SEARCH_METHODS = Object.freeze(Object.keys(BUILTIN)) as unknown as readonly [
  SearchMethod,
  ...SearchMethod[],
];

/** A method name `runSearch` accepts: a built-in method or a registered one. */
export type MethodName = SearchMethod | (string & Record<never, never>);

const registered = new Map<string, StrategyFactory>();

/**
 * Registers a strategy under a new method name so that `runSearch({ method: name, ... })` uses it
 * (in this process; strategies run in the main thread, only evaluations go to workers). Returns a
 * function that removes it again. Throws for an empty name, a built-in or already registered name,
 * or a factory that is not a function.
 *
 * @example
 * ```ts
 * const unregister = registerStrategy('greedy-mutation', (ctx) => new GreedyMutation(ctx));
 * await runSearch({ method: 'greedy-mutation', space, evaluations: 32, evaluator });
 * unregister();
 * ```
 */
export function registerStrategy(name: string, factory: StrategyFactory): () => void {
  if (typeof name !== 'string' || name.length === 0)
    throw new Error(`registerStrategy: name must be a non-empty string, got ${JSON.stringify(name)}`);
  if (Object.prototype.hasOwnProperty.call(BUILTIN, name))
    throw new Error(`registerStrategy: '${name}' is a built-in search method`);
  if (registered.has(name)) throw new Error(`registerStrategy: a strategy named '${name}' is already registered`);
  if (typeof factory !== 'function')
    throw new Error(`registerStrategy: the factory of '${name}' must be a function (ctx) => SearchStrategy`);
  registered.set(name, factory);
  return () => {
    if (registered.get(name) === factory) registered.delete(name);
  };
}

/**
 * Every method name `runSearch` accepts now: the built-ins, then registered strategies.
 *
 * @example
 * ```ts
 * searchMethods(); // ['ma2ml', ..., 'random', ...registered]
 * ```
 */
export function searchMethods(): string[] {
  return [...SEARCH_METHODS, ...registered.keys()];
}

/**
 * Whether `name` is a method `runSearch` accepts (built-in or registered).
 *
 * @example
 * ```ts
 * isSearchMethod('ma2ml'); // true
 * ```
 */
export function isSearchMethod(name: unknown): name is MethodName {
  return typeof name === 'string' && (Object.prototype.hasOwnProperty.call(BUILTIN, name) || registered.has(name));
}

/**
 * Creates the strategy of a method for one search; throws naming the method when it is neither
 * built in nor registered, or when its factory returns something that is not a strategy.
 *
 * @example
 * ```ts
 * const s = createStrategy('random', strategyContext({ space, evaluations: 8, batchSize: 4 }));
 * ```
 */
export function createStrategy(method: MethodName, ctx: StrategyContext): SearchStrategy {
  const factory = Object.prototype.hasOwnProperty.call(BUILTIN, method)
    ? BUILTIN[method as SearchMethod]
    : registered.get(method);
  if (!factory)
    throw new Error(
      `createStrategy: unknown search method '${method}' (known: ${searchMethods().join(', ')}; add one with registerStrategy)`,
    );
  const s = factory(ctx);
  if (!s || typeof s.propose !== 'function' || typeof s.observe !== 'function' || typeof s.dispose !== 'function') {
    throw new Error(
      `createStrategy: the factory of '${method}' did not return a SearchStrategy { propose, observe, dispose }`,
    );
  }
  return s;
}
