import * as path from 'path';
import type { DataFrame } from 'danfojs-node';
import { writeFileAtomic } from './files';
import type { PlotlyFigure } from './figures';
import { resultsDir } from './results';
import { figureHtml, plotlyLibraryHtml, plotlyLibraryLoaded } from './plotly-html';
import { STATIC_FIGURES_ENV, chromiumPath, renderFigure } from './static-image';
import { tableToCsv, tableToHtml, tableToMarkdown, toDataFrame, type TableRow } from './tables';

/** The plotly MIME type understood by JupyterLab, VS Code and nteract. */
export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

type WriteDisplay = (
  msg: { data: Record<string, unknown>; metadata: Record<string, unknown>; transient: Record<string, unknown> },
  update: boolean,
) => void;

function displayHook(): WriteDisplay | undefined {
  try {
    const jupyter = require('tslab/dist/jupyter') as { lastWriteDisplayData: WriteDisplay | null };
    return jupyter.lastWriteDisplayData ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether display output reaches a notebook: true inside a tslab kernel and under the headless
 * runner, false in plain scripts.
 *
 * @example
 * ```ts
 * if (!inNotebook()) console.log('running as a script: figures are only saved to files');
 * ```
 */
export function inNotebook(): boolean {
  return displayHook() !== undefined;
}

/**
 * Emits one display output holding several representations (a MIME bundle), e.g. plotly JSON plus
 * a PNG fallback plus plain text; the front end shows the richest it supports. `image/png` may be
 * given as bytes. Outside a notebook, prints the `text/plain` entry instead.
 *
 * @example
 * ```ts
 * displayBundle({ 'text/html': '<b>done</b>', 'text/plain': 'done' });
 * ```
 */
export function displayBundle(data: Record<string, unknown>, metadata: Record<string, unknown> = {}): void {
  const bundle: Record<string, unknown> = {};
  for (const [mime, v] of Object.entries(data)) {
    if (v === undefined) continue;
    bundle[mime] = v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v;
  }
  if (Object.keys(bundle).length === 0) throw new Error('displayBundle: no representations given');
  const hook = displayHook();
  if (hook) hook({ data: bundle, metadata, transient: {} }, false);
  else if (typeof bundle['text/plain'] === 'string') process.stdout.write(`${bundle['text/plain']}\n`);
}

function checkName(name: unknown, what: string): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new Error(
      `${what}: name must be a file-name-safe string (letters, digits, '.', '_', '-'), got ${JSON.stringify(name)}`,
    );
  }
  return name;
}

let warnedNoChromium = false;
let figureCounter = 0;

/**
 * Whether {@link showFigure} renders a static image now (see {@link STATIC_FIGURES_ENV}).
 *
 * @example
 * ```ts
 * staticFiguresWanted({ MARL_AUTOML_STATIC_FIGURES: '1' }); // true
 * ```
 */
export function staticFiguresWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = (env[STATIC_FIGURES_ENV] ?? '').trim().toLowerCase();
  if (v === '1' || v === 'true' || v === 'yes') return true;
  if (v === '0' || v === 'false' || v === 'no') return false;
  if (v !== '')
    throw new Error(`${STATIC_FIGURES_ENV} must be 1 or 0 (or unset), got '${env[STATIC_FIGURES_ENV] ?? ''}'`);
  return !inNotebook();
}

/** Options of {@link showFigure}. */
export interface ShowFigureOptions {
  /** Base file name for the saved files (`<name>.json`, `<name>.png`/`.svg`). */
  name: string;
  /** Static fallback format (default `png`). */
  format?: 'png' | 'svg';
  width?: number;
  height?: number;
  /** Save files under {@link resultsDir} (default true). */
  save?: boolean;
  /** Folder for the files (default {@link resultsDir}). */
  dir?: string;
  /** Render the static image now: default {@link staticFiguresWanted} (runner and scripts yes, live kernel no). */
  staticImage?: boolean;
}

/** Files written by {@link showFigure}. */
export interface FigureFiles {
  /** The plotly figure as JSON (always written when saving). */
  json?: string;
  /** The static image, when Chromium is available. */
  image?: string;
}

/**
 * Shows a plotly figure and saves it. In a notebook it emits one display bundle: an interactive
 * `text/html` figure drawn by the bundled plotly.js (classic Notebook, JupyterLab, exported HTML;
 * the first figure of a kernel is preceded by one output carrying plotly.js inline, offline), the
 * plotly JSON (`application/vnd.plotly.v1+json`, for JupyterLab/VS Code renderers), a static PNG or
 * SVG rendered by headless Chromium when wanted (headless runs and scripts by default, see
 * {@link STATIC_FIGURES_ENV}; it is also the HTML's fallback for GitHub and untrusted notebooks),
 * and a text summary. The plotly JSON and the image are also written to `<resultsDir>/<name>.*`.
 * Without Chromium the static image is skipped with a single warning.
 *
 * @example
 * ```ts
 * const fig = lineFigure([{ name: 'loss', x: [1, 2, 3], y: [2.3, 1.1, 0.7] }], { yTitle: 'loss' });
 * const files = await showFigure(fig, { name: 'loss-curve' });
 * ```
 */
export async function showFigure(fig: PlotlyFigure, options: ShowFigureOptions): Promise<FigureFiles> {
  const name = checkName(options?.name, 'showFigure');
  if (!fig || !Array.isArray(fig.data))
    throw new Error(`showFigure '${name}': expected a plotly figure { data: [...], layout: {...} }`);
  const format = options.format ?? 'png';
  if (format !== 'png' && format !== 'svg')
    throw new Error(`showFigure '${name}': format must be 'png' or 'svg', got '${String(format)}'`);
  const figure: PlotlyFigure = { data: fig.data, layout: fig.layout ?? {} };
  let image: Buffer | string | undefined;
  const wantStatic = options.staticImage ?? staticFiguresWanted();
  if (!wantStatic) {
    // a live front end draws the interactive figure: no Chromium start
  } else if (chromiumPath()) {
    image = await renderFigure(figure, { format, width: options.width, height: options.height });
  } else if (!warnedNoChromium) {
    warnedNoChromium = true;
    process.stderr.write(
      'showFigure: no Chromium found (apt-get install chromium, or set MARL_AUTOML_CHROMIUM); figures are shown without a static PNG/SVG fallback\n',
    );
  }
  const files: FigureFiles = {};
  if (options.save ?? true) {
    const dir = options.dir ?? resultsDir();
    files.json = path.join(dir, `${name}.json`);
    writeFileAtomic(files.json, JSON.stringify(figure));
    if (image !== undefined) {
      files.image = path.join(dir, `${name}.${format}`);
      writeFileAtomic(files.image, image);
    }
  }
  const title = ((figure.layout.title as { text?: string } | undefined)?.text ?? name).toString();
  const text = `[figure ${name}: ${title}, ${figure.data.length} trace(s)${files.image ? `, saved ${files.image}` : files.json ? `, saved ${files.json}` : ''}]`;
  if (inNotebook() && !plotlyLibraryLoaded())
    displayBundle({ 'text/html': plotlyLibraryHtml(), 'text/plain': '[plotly.js loaded for interactive figures]' });
  const saved = files.image ?? files.json;
  const html = figureHtml(figure, {
    id: `marl-automl-fig-${process.pid}-${Date.now().toString(36)}-${++figureCounter}`,
    fallbackPng: Buffer.isBuffer(image) ? image : undefined,
    fallbackText: `${title} (interactive plotly figure: needs JavaScript; run the cell${saved ? `, or open ${saved}` : ''})`,
  });
  const bundle: Record<string, unknown> = {
    'text/html': html,
    [PLOTLY_MIME]: JSON.parse(JSON.stringify(figure)),
    'text/plain': text,
  };
  if (image !== undefined) bundle[format === 'png' ? 'image/png' : 'image/svg+xml'] = image;
  displayBundle(bundle);
  return files;
}

/** Options of {@link showTable}. */
export interface ShowTableOptions {
  /** Base file name for `<name>.csv` and `<name>.md`. */
  name: string;
  /** Caption shown above the table (state preset, seeds and budget here). */
  caption?: string;
  /** Decimals for non-integers in the HTML and Markdown (default 3; the CSV keeps full precision). */
  digits?: number;
  /** Save files (default true). */
  save?: boolean;
  /** Folder for the files (default {@link resultsDir}). */
  dir?: string;
}

/**
 * Shows a table as HTML (with a Markdown text fallback) and exports it to `<name>.csv` and
 * `<name>.md` under the results folder. Accepts rows or a danfojs DataFrame; returns the DataFrame
 * for further analysis (`groupby`, `describe`, ...).
 *
 * @example
 * ```ts
 * const df = showTable(
 *   [{ method: 'cosine', acc: 0.812, ci: '[0.80, 0.83]' }, { method: 'agents', acc: 0.838, ci: '[0.82, 0.85]' }],
 *   { name: 'main-comparison', caption: 'preset quick, 3 seeds', digits: 3 },
 * );
 * ```
 */
export function showTable(table: readonly TableRow[] | DataFrame, options: ShowTableOptions): DataFrame {
  const name = checkName(options?.name, 'showTable');
  let df: DataFrame;
  try {
    df = toDataFrame(table);
  } catch (err) {
    throw new Error(`showTable '${name}': ${(err as Error).message}`, { cause: err });
  }
  const fmt = { digits: options.digits, caption: options.caption, fullTableFile: `${name}.csv` };
  const md = tableToMarkdown(df, fmt);
  if (options.save ?? true) {
    const dir = options.dir ?? resultsDir();
    writeFileAtomic(path.join(dir, `${name}.csv`), tableToCsv(df));
    writeFileAtomic(path.join(dir, `${name}.md`), md);
  }
  displayBundle({ 'text/html': tableToHtml(df, fmt), 'text/markdown': md, 'text/plain': md });
  return df;
}
