import * as fs from 'fs';
import type { Browser, Page } from 'playwright-core';
import type { PlotlyFigure } from './figures';
import { registerCleanup } from './runner/protocol';

/** Environment variable with the Chromium executable to use (default `/usr/bin/chromium`). */
export const CHROMIUM_ENV = 'MARL_AUTOML_CHROMIUM';

/**
 * Environment variable: `1` renders every figure's static PNG/SVG (headless Chromium) also in a
 * live notebook; `0` never. Unset: static images are rendered by the headless runner (which sets
 * it to `1`) and in plain scripts, not in a live Jupyter kernel, where the front end draws the
 * interactive figure and the first figure need not wait for a Chromium start.
 */
export const STATIC_FIGURES_ENV = 'MARL_AUTOML_STATIC_FIGURES';

const CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
];

/**
 * The Chromium executable used for static figure export, or undefined when none is installed
 * (then figures are shown interactively only). `MARL_AUTOML_CHROMIUM` overrides the search; set it
 * to `none` to disable static export.
 *
 * @example
 * ```ts
 * if (!chromiumPath()) console.log('apt-get install chromium  # for PNG figure export');
 * ```
 */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const forced = env[CHROMIUM_ENV];
  if (forced === 'none') return undefined;
  if (forced) return fs.existsSync(forced) ? forced : undefined;
  return CANDIDATES.find((p) => fs.existsSync(p));
}

/** Options of {@link renderFigure}. */
export interface RenderOptions {
  format?: 'png' | 'svg';
  /** Pixels (default: the layout's width, else 800). */
  width?: number;
  /** Pixels (default: the layout's height, else 450). */
  height?: number;
  /** Pixel ratio (default 2 for PNG, 1 for SVG). */
  scale?: number;
}

interface RendererState {
  browser: Browser;
  page: Page;
}

let state: Promise<RendererState> | undefined;
let idleTimer: NodeJS.Timeout | undefined;
let idleMs = 0;

async function launch(executablePath: string): Promise<RendererState> {
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  // playwright gives each launch a fresh temporary profile (user data dir) and removes it on close.
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-extensions',
    ],
  });
  try {
    const page = await browser.newPage();
    await page.setContent(
      '<!doctype html><html><head><meta charset="utf-8"></head><body><div id="fig"></div></body></html>',
    );
    await page.addScriptTag({ path: require.resolve('plotly.js-dist-min') });
    return { browser, page };
  } catch (err) {
    await browser.close().catch(() => undefined);
    throw err;
  }
}

/**
 * Closes the long-lived Chromium page used by {@link renderFigure} (a later call starts a new one).
 * The headless runner calls it after a notebook's last cell; scripts may call it before exiting.
 *
 * @example
 * ```ts
 * await closeFigureRenderer();
 * ```
 */
export async function closeFigureRenderer(): Promise<void> {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = undefined;
  const s = state;
  state = undefined;
  if (!s) return;
  try {
    const { browser } = await s;
    await browser.close();
  } catch {
    // launch failed or browser already gone
  }
}

/** True inside a tslab kernel or the headless runner (both set tslab's display hook). */
function inNotebookProcess(): boolean {
  try {
    return (require('tslab/dist/jupyter') as { lastWriteDisplayData: unknown }).lastWriteDisplayData != null;
  } catch {
    return false;
  }
}

/** Idle time after which a plain script's browser closes, so Node can exit. */
const SCRIPT_IDLE_CLOSE_MS = 2000;

/**
 * Closes the browser after `ms` idle milliseconds (0 = the default: keep it open in notebooks, where
 * the runner closes it after the last cell, and close it after 2 s idle in plain scripts, where an
 * open browser would keep Node running).
 *
 * @example
 * ```ts
 * setRendererIdleClose(2000);
 * ```
 */
export function setRendererIdleClose(ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) throw new Error(`setRendererIdleClose: ms must be a number >= 0, got ${ms}`);
  idleMs = ms;
}

/**
 * Renders a plotly figure to PNG (bytes) or SVG (text) in one long-lived headless Chromium page
 * with plotly.js loaded (first figure about 2 s, later ones tens of ms). Returns undefined when no
 * Chromium is installed. Rendering errors (e.g. an invalid figure) are thrown.
 *
 * @example
 * ```ts
 * const png = await renderFigure(lineFigure([{ name: 'a', x: [0, 1], y: [1, 2] }]), { format: 'png' });
 * if (png) fs.writeFileSync('fig.png', png);
 * ```
 */
export async function renderFigure(
  fig: PlotlyFigure,
  options: RenderOptions = {},
): Promise<Buffer | string | undefined> {
  const exe = chromiumPath();
  if (!exe) return undefined;
  const format = options.format ?? 'png';
  if (format !== 'png' && format !== 'svg')
    throw new Error(`renderFigure: format must be 'png' or 'svg', got '${String(format)}'`);
  const layout = (fig.layout ?? {}) as { width?: number; height?: number };
  const width = options.width ?? layout.width ?? 800;
  const height = options.height ?? layout.height ?? 450;
  const scale = options.scale ?? (format === 'png' ? 2 : 1);
  if (!state) {
    state = launch(exe);
    state.catch(() => (state = undefined));
    registerCleanup(closeFigureRenderer);
  }
  const { page } = await state;
  if (idleTimer) clearTimeout(idleTimer);
  const url: string = await page.evaluate(
    async (arg: { fig: PlotlyFigure; format: string; width: number; height: number; scale: number }) => {
      const P = (globalThis as unknown as { Plotly: { toImage(f: unknown, o: unknown): Promise<string> } }).Plotly;
      return P.toImage(
        { data: arg.fig.data, layout: arg.fig.layout },
        { format: arg.format, width: arg.width, height: arg.height, scale: arg.scale },
      );
    },
    { fig: JSON.parse(JSON.stringify(fig)) as PlotlyFigure, format, width, height, scale },
  );
  const idle = idleMs > 0 ? idleMs : inNotebookProcess() ? 0 : SCRIPT_IDLE_CLOSE_MS;
  if (idle > 0) idleTimer = setTimeout(() => void closeFigureRenderer(), idle);
  if (format === 'png') {
    const comma = url.indexOf(',');
    return Buffer.from(url.slice(comma + 1), 'base64');
  }
  const comma = url.indexOf(',');
  const body = url.slice(comma + 1);
  return url.slice(0, comma).endsWith(';base64')
    ? Buffer.from(body, 'base64').toString('utf8')
    : decodeURIComponent(body);
}
