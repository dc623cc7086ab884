export { z, parseConfig, ConfigError } from './validate';
export { PRESET_NAMES } from './presets';
export type { PresetName } from './presets';
