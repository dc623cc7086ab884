export { z, parseConfig, ConfigError } from './validate';
