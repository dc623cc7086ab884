/**
 * Runtime-backed experiments of the MARL basics notebook: job kinds that run one seed of a matrix
 * game or of the diluted many-agent game with a given credit scheme, seed sweeps through
 * `runExperiment` (parallel, cached), and statistics over seeds (Wilson success-rate intervals,
 * mean curves with bootstrap bands, probability of improvement over a baseline).
 */
export {
  MATRIX_METHODS,
  MatrixSeedConfigSchema,
  matrixPayoff,
  matrixLearnerConfig,
  runMatrixGameSeed,
  matrixGameSeedKind,
} from './matrix';
export type { MatrixMethod, MatrixSeedConfig, MatrixSeedConfigInput, MatrixSeedResult } from './matrix';
export { DILUTED_METHODS, DilutedSeedConfigSchema, runDilutedGameSeed, dilutedGameSeedKind } from './diluted';
export type { DilutedMethod, DilutedSeedConfig, DilutedSeedConfigInput, DilutedSeedResult } from './diluted';
export { matrixGameLabel, runMatrixSweep, runDilutedSweep } from './sweeps';
export type { MatrixGameSpec, SweepStats, MatrixSweepOptions, DilutedSweepOptions } from './sweeps';
export { wilsonInterval, meanCurve, summarizeMatrixRuns, summarizeDilutedRuns } from './summary';
export type { MeanCurve, MatrixMethodSummary, DilutedMethodSummary, Verdict } from './summary';
