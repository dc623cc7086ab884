/**
 * Helpers for the project's notebooks (presets, results folder, figures, tables, progress).
 * Only notebooks and CLIs import this folder; core code never does. The headless runner lives in
 * `./runner` (not re-exported here so notebooks stay light to compile).
 */
export { preset, budget, parsePreset, PRESET_NAMES, PRESET_ENV, DEFAULT_PRESET } from './presets';
export type { PresetName, PresetValues } from './presets';
export { resultsDir, setResultsDir, notebookName, RESULTS_DIR_ENV, NOTEBOOK_NAME_ENV } from './results';
export { showFigure, showTable, displayBundle, inNotebook, staticFiguresWanted, PLOTLY_MIME } from './display';
export {
  figureHtml,
  plotlyLibraryHtml,
  plotlyLibraryLoaded,
  resetPlotlyLibrary,
  plotlyLibraryFile,
} from './plotly-html';
export type { FigureHtmlOptions } from './plotly-html';
export type { ShowFigureOptions, ShowTableOptions, FigureFiles } from './display';
export {
  lineFigure,
  heatmapFigure,
  barFigure,
  autoBarOrientation,
  smallMultiplesFigure,
  imageGridFigure,
  cdfFigure,
  withAlpha,
  PALETTE,
} from './figures';
export type {
  PlotlyFigure,
  PlotlyTrace,
  LineSeries,
  HeatmapInput,
  BarSeries,
  BarOptions,
  AxesOptions,
  SmallMultiplesOptions,
  CdfMarker,
} from './figures';
export {
  toDataFrame,
  tableToCsv,
  tableToMarkdown,
  tableToHtml,
  formatCell,
  columnFormatter,
  shortenVerdict,
  danfojs,
} from './tables';
export type { TableRow, TableCell, TableFormatOptions } from './tables';
export {
  renderFigure,
  closeFigureRenderer,
  setRendererIdleClose,
  chromiumPath,
  CHROMIUM_ENV,
  STATIC_FIGURES_ENV,
} from './static-image';
export type { RenderOptions } from './static-image';
export { notebookProgress } from './progress';
export type { NotebookProgressOptions } from './progress';
export { writeFileAtomic } from './files';
export { runContext, provenance } from './context';
export type { RunContext } from './context';
export { openGannoSession, budgetCurveFromEnv, BUDGET_CURVE_ENV } from './ganno-session';
export type { GannoSession } from './ganno-session';
export { openMa2mlSession, openMa2mlSurrogateSession } from './ma2ml-session';
export type { Ma2mlSession, Ma2mlSessionOptions, Ma2mlSurrogateSession } from './ma2ml-session';
export {
  interruptible,
  interruptSignal,
  interruptNotebookWork,
  installInterruptHandler,
  setInterruptWriter,
  InterruptedError,
} from './interrupt';
export type { InterruptReport } from './interrupt';
