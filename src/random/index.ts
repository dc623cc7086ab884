export { Rng, deriveSeed } from './rng';
