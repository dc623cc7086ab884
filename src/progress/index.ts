export type { ProgressSink } from './types';
export { silentProgress } from './types';
