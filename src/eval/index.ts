export type { ScoreMatrix, AggregateFn } from './stats';
export {
  checkScoreMatrix,
  checkValues,
  percentile,
  median,
  trimMean,
  taskMeans,
  aggregateMean,
  aggregateMedian,
  aggregateIqm,
  optimalityGap,
  mannWhitneyProbability,
} from './stats';
export type {
  Interval,
  BootstrapOptions,
  ProfileOptions,
  CurveOptions,
  PerformanceProfile,
  SampleEfficiencyCurve,
} from './bootstrap';
export {
  DEFAULT_AGGREGATES,
  stratifiedBootstrapCI,
  aggregateIntervals,
  probabilityOfImprovement,
  performanceProfile,
  sampleEfficiencyCurve,
  meanCI,
} from './bootstrap';
export type { MarlEvalRecord, MarlEvalJson, Cell, Column, TableOptions } from './export';
export {
  toMarlEvalJson,
  writeMarlEvalJson,
  scoreMatrixFromMarlEval,
  writeFileAtomic,
  formatTable,
  writeTable,
  writeCsvAndMarkdown,
} from './export';
export { hierarchicalCI, hierarchicalMeanCI, pairedDifferenceCI } from './hierarchical';
export { formatInterval } from './format';
