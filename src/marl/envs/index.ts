export { MemoryCueEnv, MemoryCueConfigSchema } from './memory';
export type { MemoryCueConfig } from './memory';
