/**
 * marl-automl's package entry point: the public API of the core library, one namespace per concept
 * (the same folders as `src/`). Notebook and plotting helpers (`src/notebook`), benchmarks and CLIs
 * are not part of it; import them from their folders.
 *
 * @example
 * ```ts
 * import { backend, nn, ganno } from 'marl-automl';
 * await backend.initBackend();
 * const model = nn.buildMlp({ inputSize: 784, hidden: [64, 64], numClasses: 10, seed: 1 });
 * const env = new ganno.LayerLrEnv({ agentRewards: 'difference' });
 * ```
 */
export * as backend from './backend';
export * as config from './config';
export * as credit from './credit';
export * as data from './data';
export * as evaluation from './eval';
export * as ganno from './ganno';
export * as io from './io';
export * as ma2ml from './ma2ml';
export * as marl from './marl';
export * as nn from './nn';
export * as progress from './progress';
export * as random from './random';
export * as runtime from './runtime';
export * as schedules from './schedules';
