import * as fs from 'fs';
import type { PlotlyFigure } from './figures';

/**
 * Interactive figures as `text/html`, for front ends without a plotly renderer (classic Notebook
 * 6.4, which `npm run lab` starts on Debian; exported HTML). plotly.js comes from the bundled
 * `plotly.js-dist-min` (no network): the first figure of a kernel is preceded by one output holding
 * the library inline; every figure's script draws with `window.Plotly` and, when the page has no
 * plotly.js (a reloaded notebook whose first figure output is gone), loads it from the Jupyter
 * server's `/files/node_modules/...` (also offline). Without JavaScript (GitHub, an untrusted
 * notebook) the figure's fallback shows: the static PNG when one was rendered, else a line saying
 * where the figure is saved.
 */

let libraryShown = false;

/** Path of plotly.js (minified bundle) inside the installed package. */
export function plotlyLibraryFile(): string {
  return require.resolve('plotly.js-dist-min');
}

function plotlyVersion(): string {
  try {
    return (require('plotly.js-dist-min/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** `</script` and the line separators that end a script early or break a JS string. */
function scriptSafe(s: string): string {
  return s
    .replace(/<\/(script)/gi, '<\\/$1')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function htmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * Whether this process has already emitted the inline plotly.js (see {@link plotlyLibraryHtml}).
 * {@link resetPlotlyLibrary} makes the next figure send it again (e.g. after reloading the page).
 *
 * @example
 * ```ts
 * if (!plotlyLibraryLoaded()) console.log('the next figure carries plotly.js');
 * ```
 */
export function plotlyLibraryLoaded(): boolean {
  return libraryShown;
}

/**
 * Makes the next figure carry plotly.js inline again (use after reloading the browser page when
 * the output that carried it is gone; figures also load it from the Jupyter server by themselves).
 *
 * @example
 * ```ts
 * resetPlotlyLibrary();
 * await showFigure(fig, { name: 'again' });
 * ```
 */
export function resetPlotlyLibrary(): void {
  libraryShown = false;
}

/**
 * One `text/html` output holding the bundled plotly.js (about 4.8 MB) inline, which defines
 * `window.Plotly` for the page; marks the library as shown.
 *
 * @example
 * ```ts
 * displayBundle({ 'text/html': plotlyLibraryHtml(), 'text/plain': 'plotly.js loaded' });
 * ```
 */
export function plotlyLibraryHtml(): string {
  const lib = fs.readFileSync(plotlyLibraryFile(), 'utf8');
  libraryShown = true;
  const v = plotlyVersion();
  return [
    `<script type="text/javascript">/* plotly.js ${v} from the bundled plotly.js-dist-min (offline), for the figures below */`,
    scriptSafe(lib),
    '</script>',
    `<div style="color:#888;font-size:80%">plotly.js ${v} loaded (bundled, offline) for interactive figures: hover, zoom, click legend entries to hide curves</div>`,
  ].join('\n');
}

/** Options of {@link figureHtml}. */
export interface FigureHtmlOptions {
  /** Element id (unique per figure output). */
  id: string;
  /** PNG bytes shown when JavaScript does not run (GitHub, untrusted notebooks). */
  fallbackPng?: Buffer;
  /** Text shown when JavaScript does not run and there is no PNG. */
  fallbackText: string;
  /** Library path relative to the Jupyter server root, for pages without plotly.js. */
  libraryUrlPath?: string;
}

/**
 * The `text/html` of one interactive figure: a `<div>` holding the fallback, and a script that
 * replaces it with the plotly plot once `window.Plotly` exists (loading plotly.js from the Jupyter
 * server when the page has none).
 *
 * @example
 * ```ts
 * const html = figureHtml(lineFigure([{ name: 'a', x: [0, 1], y: [1, 2] }]), { id: 'fig-1', fallbackText: 'figure a' });
 * ```
 */
export function figureHtml(fig: PlotlyFigure, options: FigureHtmlOptions): string {
  const layout = (fig.layout ?? {}) as { width?: number; height?: number };
  const height = layout.height ?? 450;
  const style = `width:100%;${layout.width ? `max-width:${layout.width}px;` : ''}min-height:${height}px`;
  const fallback = options.fallbackPng
    ? `<img alt="${htmlEscape(options.fallbackText)}" style="max-width:100%" src="data:image/png;base64,${options.fallbackPng.toString('base64')}"/>`
    : `<div style="color:#888;padding:8px;border:1px dashed #ccc">${htmlEscape(options.fallbackText)}</div>`;
  const payload = scriptSafe(JSON.stringify({ data: fig.data, layout: fig.layout ?? {} }));
  const libPath = JSON.stringify(options.libraryUrlPath ?? 'files/node_modules/plotly.js-dist-min/plotly.min.js');
  const id = JSON.stringify(options.id);
  // Runs from a timer: classic Notebook evaluates output scripts before the output is in the page.
  const script = `(function () {
  var fig = ${payload};
  var id = ${id};
  function draw() {
    var el = document.getElementById(id);
    if (!el || !window.Plotly) return false;
    el.innerHTML = '';
    el.style.minHeight = '';
    window.Plotly.newPlot(el, fig.data, fig.layout, { responsive: true, displaylogo: false });
    el.setAttribute('data-plotly-rendered', '1');
    return true;
  }
  function baseUrl() {
    var cfg = document.getElementById('jupyter-config-data');
    if (cfg) { try { var b = JSON.parse(cfg.textContent).baseUrl; if (b) return b; } catch (e) {} }
    var body = document.body && document.body.getAttribute('data-base-url');
    return body || '/';
  }
  function loadFromServer() {
    if (window.__marlAutomlPlotlyLoading || window.Plotly) return;
    window.__marlAutomlPlotlyLoading = true;
    var s = document.createElement('script');
    s.src = baseUrl().replace(/\\/?$/, '/') + ${libPath};
    document.head.appendChild(s);
  }
  var tries = 0;
  (function wait() {
    if (draw()) return;
    tries += 1;
    if (tries === 30) loadFromServer();
    if (tries < 600) setTimeout(wait, 100);
  })();
})();`;
  return `<div id="${htmlEscape(options.id)}" class="marl-automl-figure" style="${style}">${fallback}</div>\n<script type="text/javascript">\n${script}\n</script>`;
}
