import { Rng } from '../random';

/**
 * Weight initialisation schemes. All draw in JavaScript from a seeded {@link Rng}, so the same seed
 * gives the same weights on every backend.
 * - `torch`: PyTorch's `nn.Linear` / `nn.Conv2d` default, weights and biases U(-1/sqrt(fanIn), 1/sqrt(fanIn)).
 * - `he-normal`: N(0, 2/fanIn) (`kaiming_normal_`, relu), zero bias.
 * - `he-uniform`: U(-sqrt(6/fanIn), sqrt(6/fanIn)) (`kaiming_uniform_`, relu), zero bias.
 * - `glorot-uniform`: U(+-sqrt(6/(fanIn+fanOut))), zero bias.
 */
export type InitScheme = 'torch' | 'he-normal' | 'he-uniform' | 'glorot-uniform';
export const INIT_SCHEMES: readonly InitScheme[] = ['torch', 'he-normal', 'he-uniform', 'glorot-uniform'];

/**
 * Initial values of one weight tensor and its bias.
 *
 * @example
 * ```ts
 * const { weight, bias } = initValues('torch', new Rng(1), 784 * 256, 256, 784, 256);
 * ```
 */
export function initValues(
  scheme: InitScheme,
  rng: Rng,
  weightSize: number,
  biasSize: number,
  fanIn: number,
  fanOut: number,
): { weight: Float32Array; bias: Float32Array } {
  switch (scheme) {
    case 'torch': {
      const b = 1 / Math.sqrt(fanIn);
      return { weight: rng.uniformArray(weightSize, -b, b), bias: rng.uniformArray(biasSize, -b, b) };
    }
    case 'he-normal':
      return { weight: rng.normalArray(weightSize, 0, Math.sqrt(2 / fanIn)), bias: new Float32Array(biasSize) };
    case 'he-uniform': {
      const b = Math.sqrt(6 / fanIn);
      return { weight: rng.uniformArray(weightSize, -b, b), bias: new Float32Array(biasSize) };
    }
    case 'glorot-uniform': {
      const b = Math.sqrt(6 / (fanIn + fanOut));
      return { weight: rng.uniformArray(weightSize, -b, b), bias: new Float32Array(biasSize) };
    }
    default:
      throw new Error(`init: unknown scheme '${String(scheme)}'; expected one of ${INIT_SCHEMES.join(', ')}`);
  }
}
