import { ConfigError } from '../../config';

/**
 * The seven hyper-parameters of the LCBench search space (YAHPO Gym `lcbench`), in the order of the
 * surrogate's `x_cont` input after the leading `epoch` column.
 */
export const LCBENCH_PARAMS = [
  'batch_size',
  'learning_rate',
  'momentum',
  'weight_decay',
  'num_layers',
  'max_units',
  'max_dropout',
] as const;

/** One LCBench hyper-parameter name. */
export type LcbenchParam = (typeof LCBENCH_PARAMS)[number];

/**
 * One configuration of the funnel-shaped MLP trained with SGD that LCBench measured (raw values,
 * names as in YAHPO Gym).
 */
export type LcbenchConfig = Record<LcbenchParam, number>;

/** Range of one hyper-parameter: inclusive bounds, integer-valued or not, log-scaled or not. */
export interface ParamRange {
  lower: number;
  upper: number;
  integer: boolean;
  log: boolean;
}

/**
 * The ranges of `data/yahpo-lcbench/config_space.json` (ConfigSpace export of YAHPO Gym 0.4.18):
 * `LcbenchSurrogate.load` checks that the vendored file still says exactly this. The file's float
 * bounds carry rounding noise (`learning_rate` lower `0.00010000000000000009`), so
 * {@link checkConfigRow} accepts values within a relative 1e-9 of a bound.
 *
 * @example
 * ```ts
 * LCBENCH_RANGES.learning_rate; // { lower: 1e-4, upper: 0.1, integer: false, log: true }
 * ```
 */
export const LCBENCH_RANGES: Readonly<Record<LcbenchParam | 'epoch', Readonly<ParamRange>>> = Object.freeze({
  epoch: { lower: 1, upper: 52, integer: true, log: false },
  batch_size: { lower: 16, upper: 512, integer: true, log: true },
  learning_rate: { lower: 0.00010000000000000009, upper: 0.10000000000000002, integer: false, log: true },
  momentum: { lower: 0.1, upper: 0.99, integer: false, log: false },
  weight_decay: { lower: 1e-5, upper: 0.1, integer: false, log: false },
  num_layers: { lower: 1, upper: 5, integer: true, log: false },
  max_units: { lower: 64, upper: 1024, integer: true, log: true },
  max_dropout: { lower: 0, upper: 1, integer: false, log: false },
});

/** Column order of the surrogate's `x_cont` input (YAHPO Gym `cont_names`). */
export const X_CONT_COLUMNS = ['epoch', ...LCBENCH_PARAMS] as const;

const REL_TOL = 1e-9;

/**
 * Why `value` is not a valid value of `name`, or `undefined` when it is.
 *
 * @example
 * ```ts
 * rangeProblem('learning_rate', 5); // 'must be in [0.0001, 0.1], got 5'
 * ```
 */
export function rangeProblem(name: LcbenchParam | 'epoch', value: unknown): string | undefined {
  const r = LCBENCH_RANGES[name];
  if (typeof value !== 'number' || !Number.isFinite(value))
    return `must be a finite number, got ${typeof value === 'number' ? value : (JSON.stringify(value) ?? typeof value)}`;
  const lo = r.lower - REL_TOL * Math.max(Math.abs(r.lower), 1e-300);
  const hi = r.upper + REL_TOL * Math.abs(r.upper);
  if (value < lo || value > hi) return `must be in [${round(r.lower)}, ${round(r.upper)}], got ${value}`;
  if (r.integer && !Number.isInteger(value)) return `must be an integer, got ${value}`;
  return undefined;
}

function round(v: number): number {
  return Number(v.toPrecision(12));
}

/**
 * Validates configuration objects (every field of {@link LCBENCH_PARAMS} present, finite, in range,
 * integer where the space says so, no unknown fields); throws a `ConfigError` naming each bad field
 * as `configs.<i>.<field>`.
 *
 * @example
 * ```ts
 * checkConfigs([{ batch_size: 64, learning_rate: 5, momentum: 0.9, weight_decay: 1e-4, num_layers: 2, max_units: 256, max_dropout: 0 }]);
 * // throws "Invalid LCBench configuration: configs.0.learning_rate: must be in [0.0001, 0.1], got 5"
 * ```
 */
export function checkConfigs(configs: readonly unknown[]): asserts configs is LcbenchConfig[] {
  if (!Array.isArray(configs))
    throw new ConfigError('LCBench configuration', [
      { path: 'configs', message: 'must be an array of configurations' },
    ]);
  const issues: { path: string; message: string }[] = [];
  for (let i = 0; i < configs.length && issues.length < 10; i++) {
    const c = configs[i];
    if (c === null || typeof c !== 'object' || Array.isArray(c)) {
      issues.push({ path: `configs.${i}`, message: 'must be an object' });
      continue;
    }
    const rec = c as Record<string, unknown>;
    for (const p of LCBENCH_PARAMS) {
      if (!(p in rec)) issues.push({ path: `configs.${i}.${p}`, message: 'is required' });
      else {
        const why = rangeProblem(p, rec[p]);
        if (why) issues.push({ path: `configs.${i}.${p}`, message: why });
      }
    }
    for (const k of Object.keys(rec)) {
      if (!(LCBENCH_PARAMS as readonly string[]).includes(k))
        issues.push({ path: `configs.${i}.${k}`, message: `unknown field (expected ${LCBENCH_PARAMS.join(', ')})` });
    }
  }
  if (issues.length > 0) throw new ConfigError('LCBench configuration', issues);
}
