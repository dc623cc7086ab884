import { parseConfig, z } from '../../config';
import { Rng } from '../../random';
import {
  gridHash,
  gridIndexToConfig,
  gridIndexToTokens,
  gridLearnerAgents,
  gridSizes,
  gridTokensToIndex,
  parseGrid,
} from './grid';
import type { LcbenchGrid } from './grid';
import type { LcbenchConfig } from './space';
import type { SurrogateTable } from './table';

/** Options of {@link SurrogateSearchProblem}. */
export interface SurrogateProblemOptions {
  /**
   * Standard deviation of the Gaussian observation noise added to every {@link SurrogateSearchProblem.reward}
   * (in accuracy units, e.g. 0.01 = one percentage point). Default 0: noiseless.
   */
  noiseSd?: number;
  /** Seed of the noise stream (the project's `Rng`, fork `'noise'`). Default 0. */
  seed?: number;
}

const ProblemOptionsSchema = z
  .object({
    noiseSd: z.number().min(0).finite().default(0),
    seed: z.number().int().default(0),
  })
  .strict();

/**
 * A cheap multi-agent search problem on an exhaustive surrogate table: each agent of the grid picks
 * one token per hyper-parameter, the team reward is the table's validation accuracy of the joint
 * configuration, and regret is exact because the table's optimum is known.
 *
 * Shape: `agents` is the `{ name, vocab }[]` of a `SingleStepLearner` (one vocabulary per token), and
 * {@link reward} takes the learner's joint action (`number[][]`, one token array per agent), so
 * `learner.run((a) => problem.reward(a), ...)` works as is.
 *
 * Noise model: `reward = value + eps`, `eps ~ N(0, noiseSd^2)` i.i.d. per call, drawn in call order from
 * `new Rng(seed).fork('noise')`: the same seed and call sequence give the same rewards; the noisy
 * reward is not clipped to [0, 1]. {@link value} and the regrets always use the noiseless table.
 *
 * Regret of a value `v` (normally the noiseless value of the best configuration found so far):
 * `regret(v) = best - v` (0 at the optimum, in accuracy units); normalised regret
 * `(best - v) / (best - median)`: 0 at the optimum, 1 at the grid's median configuration (> 1 below it),
 * comparable across tasks of different difficulty.
 *
 * @example
 * ```ts
 * const s = await LcbenchSurrogate.load();
 * const grid = defaultLcbenchGrid();
 * const table = await exhaustiveTable(s, '3945', grid);
 * const problem = new SurrogateSearchProblem(table, grid, { noiseSd: 0.01, seed: 3 });
 * const learner = new SingleStepLearner({ agents: problem.agents, seed: 0 });
 * const run = learner.run((a) => problem.reward(a), { evaluations: 256, batchSize: 8 });
 * problem.regret(problem.value(run.best.action));           // exact regret of the best action found
 * problem.normalisedRegret(problem.value(run.best.action));
 * ```
 */
export class SurrogateSearchProblem {
  /** Agents as `SingleStepLearner` expects them: name and one vocabulary size per token. */
  readonly agents: { name: string; vocab: number[] }[];
  readonly grid: LcbenchGrid;
  readonly table: SurrogateTable;
  /** Number of joint configurations. */
  readonly size: number;
  readonly noiseSd: number;
  /** Noiseless optimum of the table and its tokens. */
  readonly best: number;
  readonly bestTokens: number[][];
  readonly median: number;
  private readonly noise: Rng;

  constructor(table: SurrogateTable, grid: LcbenchGrid, options: SurrogateProblemOptions = {}) {
    const o = parseConfig(ProblemOptionsSchema, options, 'SurrogateSearchProblem options');
    this.grid = parseGrid(grid);
    this.size = gridSizes(this.grid).joint;
    if (table.rewards.length !== this.size)
      throw new Error(
        `SurrogateSearchProblem: table has ${table.rewards.length} rewards, the grid ${this.size} configurations`,
      );
    if (table.gridHash !== gridHash(this.grid))
      throw new Error(
        `SurrogateSearchProblem: table was computed for another grid (grid hash ${table.gridHash.slice(0, 12)} vs ${gridHash(this.grid).slice(0, 12)})`,
      );
    this.table = table;
    this.agents = gridLearnerAgents(this.grid);
    this.noiseSd = o.noiseSd;
    this.noise = new Rng(o.seed).fork('noise');
    this.best = table.best;
    this.bestTokens = gridIndexToTokens(this.grid, table.bestIndex);
    this.median = table.median;
  }

  /**
   * Noiseless reward (validation accuracy fraction) of per-agent tokens; throws naming the agent and
   * parameter of an invalid token.
   *
   * @example
   * ```ts
   * problem.value([[1, 2, 0], [2, 4, 2, 1]]);
   * ```
   */
  value(tokens: readonly (readonly number[])[]): number {
    return this.table.rewards[gridTokensToIndex(this.grid, tokens)];
  }

  /**
   * Observed reward: {@link value} plus Gaussian noise of sd `noiseSd` (none by default).
   *
   * @example
   * ```ts
   * const r = problem.reward(learner.propose(1)[0]);
   * ```
   */
  reward(tokens: readonly (readonly number[])[]): number {
    const v = this.value(tokens);
    return this.noiseSd > 0 ? v + this.noise.normal(0, this.noiseSd) : v;
  }

  /**
   * Exact regret `best - v` of a (noiseless) value, e.g. the value of the best configuration so far.
   *
   * @example
   * ```ts
   * problem.regret(problem.best); // 0
   * ```
   */
  regret(value: number): number {
    if (!Number.isFinite(value)) throw new Error(`SurrogateSearchProblem.regret: value must be finite, got ${value}`);
    return this.best - value;
  }

  /**
   * Normalised regret `(best - v) / (best - median)`: 0 at the optimum, 1 at the median configuration.
   * Throws when the table's best equals its median (a flat table: no scale).
   *
   * @example
   * ```ts
   * problem.normalisedRegret(problem.median); // 1
   * ```
   */
  normalisedRegret(value: number): number {
    const scale = this.best - this.median;
    if (!(scale > 0))
      throw new Error(
        `SurrogateSearchProblem.normalisedRegret: best (${this.best}) equals the median: the table is flat above its median`,
      );
    return this.regret(value) / scale;
  }

  /**
   * The LCBench configuration of per-agent tokens.
   *
   * @example
   * ```ts
   * problem.config(problem.bestTokens).learning_rate;
   * ```
   */
  config(tokens: readonly (readonly number[])[]): LcbenchConfig {
    return gridIndexToConfig(this.grid, gridTokensToIndex(this.grid, tokens));
  }
}
