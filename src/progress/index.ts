export type { ProgressSink } from './types';
export { silentProgress } from './types';
export { lineProgress, formatDuration } from './lines';
export type { LineProgressOptions } from './lines';
