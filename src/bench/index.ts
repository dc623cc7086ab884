export { registerBench, listBenches, selectBenches, runBenches, check } from './registry';
export type { BenchSuite, BenchContext, BenchResult, BenchRow, BenchValue, BenchCheck, SuiteReport } from './registry';
export { formatTable, formatReport, machineInfo } from './format';
export { spawnModuleWorker } from './worker';
export { measureTraining, runTrainingBench } from './training';
export type { TrainingMeasurement } from './training';
export type { TrainingJob } from './training-types';
