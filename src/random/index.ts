export { Rng, deriveSeed } from './rng';
export type { RngState } from './rng';
