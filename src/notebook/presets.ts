/**
 * Compute presets for notebooks and the headless runner. A notebook never hard-codes its budget:
 * it asks {@link budget} for the value of the active preset, so the same notebook runs in seconds
 * in CI (`smoke`), in minutes on a laptop (`quick`) and for hours for the quoted numbers (`full`).
 */

import { PRESET_NAMES, type PresetName } from '../config/presets';

// One declaration of the preset names (src/config/presets.ts), re-exported for notebooks.
export { PRESET_NAMES };
export type { PresetName };

/** Environment variable that selects the preset (the headless runner sets it for each notebook). */
export const PRESET_ENV = 'MARL_AUTOML_PRESET';

/** Preset used when {@link PRESET_ENV} is unset (interactive sessions). */
export const DEFAULT_PRESET: PresetName = 'quick';

/** A value for each preset; see {@link budget}. */
export interface PresetValues<T> {
  smoke: T;
  quick: T;
  full: T;
}

/**
 * Checks that `name` is a preset name and returns it typed; otherwise throws an Error naming the
 * bad value, where it came from and the accepted names.
 *
 * @example
 * ```ts
 * parsePreset('smoke');            // 'smoke'
 * parsePreset('fast', '--preset'); // throws "--preset: unknown preset 'fast'; expected one of smoke, quick, full"
 * ```
 */
export function parsePreset(name: unknown, source = 'preset'): PresetName {
  if (typeof name === 'string' && (PRESET_NAMES as readonly string[]).includes(name)) return name as PresetName;
  throw new Error(`${source}: unknown preset ${JSON.stringify(name)}; expected one of ${PRESET_NAMES.join(', ')}`);
}

/**
 * The active preset: the value of `MARL_AUTOML_PRESET`, or `quick` when it is unset or empty.
 * An unknown value is an error (a typo must not silently run the wrong budget).
 *
 * @example
 * ```ts
 * process.env.MARL_AUTOML_PRESET = 'smoke';
 * preset(); // 'smoke'
 * ```
 */
export function preset(env: NodeJS.ProcessEnv = process.env): PresetName {
  const raw = env[PRESET_ENV];
  if (raw === undefined || raw === '') return DEFAULT_PRESET;
  return parsePreset(raw.trim(), `environment variable ${PRESET_ENV}`);
}

/**
 * Picks the value for the active preset (or for `name` when given). All three values are required
 * so that no preset silently falls back to another's budget.
 *
 * @example
 * ```ts
 * const seeds = budget({ smoke: 1, quick: 3, full: 5 });
 * const steps = budget({ smoke: 50, quick: 2_000, full: 50_000 });
 * ```
 */
export function budget<T>(values: PresetValues<T>, name: PresetName = preset()): T {
  if (values === null || typeof values !== 'object') {
    throw new Error(
      `budget: expected an object with keys ${PRESET_NAMES.join(', ')}, got ${values === null ? 'null' : typeof values}`,
    );
  }
  const missing = PRESET_NAMES.filter(
    (p) => !Object.prototype.hasOwnProperty.call(values, p) || values[p] === undefined,
  );
  if (missing.length) throw new Error(`budget: missing value for preset ${missing.map((m) => `'${m}'`).join(', ')}`);
  const extra = Object.keys(values).filter((k) => !(PRESET_NAMES as readonly string[]).includes(k));
  if (extra.length)
    throw new Error(
      `budget: unknown preset key ${extra.map((e) => `'${e}'`).join(', ')}; expected ${PRESET_NAMES.join(', ')}`,
    );
  return values[parsePreset(name, 'budget')];
}
