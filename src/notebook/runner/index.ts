export { runNotebook, runNotebooks, defaultNotebooks, NotebookRunError, DEFAULT_CELL_TIMEOUT_S } from './run';
export type { RunNotebooksOptions, NotebookReport, CellReport } from './run';
export { readNotebook, serializeNotebook, joinText, splitLines } from './nbformat';
export type {
  Notebook,
  NotebookCell,
  CellOutput,
  StreamOutput,
  DisplayDataOutput,
  ErrorOutput,
  ExecuteResultOutput,
  MultilineText,
} from './nbformat';
export { registerCleanup, runCleanups } from './protocol';
export {
  RunEta,
  MEASURED_NOTEBOOK_SECONDS,
  TIMING_HISTORY_FILE,
  readTimingHistory,
  recordTiming,
  formatDuration,
  notebookKey,
} from './eta';
export type { TimingHistory } from './eta';
export { runSummary, writeRunSummary, readClaimRows, notebookOutputs, dataSources, paperOf } from './summary';
export type { ClaimRow, NotebookOutputs, RunSummaryOptions } from './summary';
