/**
 * The three compute presets, smallest first: `smoke` (CI, seconds per notebook), `quick` (minutes on a
 * laptop: `npm start`) and `full` (the published numbers, hours). Every experiment plan (GANNO,
 * MA2ML, the LCBench surrogate) and the notebook runner take one of these names.
 *
 * @example
 * ```ts
 * PRESET_NAMES.includes('quick'); // true
 * ```
 */
export const PRESET_NAMES = ['smoke', 'quick', 'full'] as const;

/** One of {@link PRESET_NAMES}. */
export type PresetName = (typeof PRESET_NAMES)[number];
