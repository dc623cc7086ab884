/**
 * The YAHPO Gym LCBench surrogate as a cheap benchmark for joint multi-agent search: the ONNX
 * surrogate (`LcbenchSurrogate`), a discretised joint grid split between an architecture and an
 * optimisation agent with mixed-radix encoding (`defaultLcbenchGrid`, `gridIndexToTokens`, ...),
 * exhaustive reward tables with exact optimum and a file cache (`exhaustiveTable`,
 * `cachedExhaustiveTable`), and the search problem with optional Gaussian noise and exact regret
 * (`SurrogateSearchProblem`).
 *
 * @example
 * ```ts
 * import { LcbenchSurrogate, defaultLcbenchGrid, cachedExhaustiveTable, SurrogateSearchProblem } from './src/ma2ml';
 * const s = await LcbenchSurrogate.load();
 * const grid = defaultLcbenchGrid();
 * const table = await cachedExhaustiveTable(s, '3945', grid, { cacheDir: 'results/cache/lcbench' });
 * const problem = new SurrogateSearchProblem(table, grid);
 * await s.dispose();
 * ```
 */
export { LCBENCH_PARAMS, LCBENCH_RANGES, X_CONT_COLUMNS, checkConfigs, rangeProblem } from './space';
export type { LcbenchConfig, LcbenchParam, ParamRange } from './space';
export { LCBENCH_MODEL_IO, LCBENCH_OUTPUTS, LcbenchSurrogate, lcbenchDataDir } from './lcbench';
export type { LcbenchLoadOptions, LcbenchPrediction } from './lcbench';
export {
  MAX_GRID_SIZE,
  defaultLcbenchGrid,
  gridConfigToTokens,
  gridHash,
  gridIndexToConfig,
  gridIndexToTokens,
  gridLearnerAgents,
  gridSizes,
  gridTokensToConfig,
  gridTokensToIndex,
  gridXCont,
  parseGrid,
} from './grid';
export type { GridAgent, GridParam, GridSizes, LcbenchGrid } from './grid';
export {
  TABLE_QUANTILES,
  cachedExhaustiveTable,
  decodeTable,
  encodeTable,
  exhaustiveTable,
  tableCachePath,
  tableStats,
} from './table';
export type { CachedTableOptions, SurrogateTable, TableOptions } from './table';
export { SurrogateSearchProblem } from './problem';
export type { SurrogateProblemOptions } from './problem';
