/**
 * Browser check of interactive figures in the classic Notebook (what `npm run lab` starts on Debian
 * 12: notebook 6.4): starts `jupyter notebook` with the project kernel on a free port, opens a
 * two-figure notebook in headless Chromium (playwright-core), runs all cells, and checks that each
 * figure is an interactive plotly plot (plotly.js drew it; hovering shows a hover label; clicking a
 * legend entry hides its curve). Then saves, reloads the page, and checks that the figures draw
 * again from the saved outputs without running anything. Prints the timings; exits 1 on a failure.
 *
 *   npx tsx tools/check-classic-notebook.ts
 *
 * Needs: jupyter-notebook (apt: jupyter-notebook), chromium, `npm ci`. Measured outcome of
 * 2026-12-07 is in environment.md ("Interactive figures").
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(__dirname, '..');
const TOKEN = 'marl-automl-browser-check';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function notebook(): object {
  const code = (source: string, id: string) => ({
    cell_type: 'code',
    id,
    metadata: {},
    execution_count: null,
    outputs: [],
    source,
  });
  return {
    cells: [
      code("require('./jupyter/library-build').ensureLibraryBuild({ log: console.log });", 'b0'),
      code(
        [
          "import { lineFigure, barFigure, showFigure } from './dist/src/notebook';",
          "await showFigure(lineFigure([{ name: 'agents', x: [0, 1, 2, 3], y: [0.5, 0.7, 0.8, 0.85], lower: [0.45, 0.65, 0.76, 0.8], upper: [0.55, 0.75, 0.84, 0.9] }, { name: 'cosine', x: [0, 1, 2, 3], y: [0.4, 0.6, 0.75, 0.8] }], { title: 'check line', xTitle: 'step', yTitle: 'accuracy' }), { name: 'check-line' });",
        ].join('\n'),
        'f1',
      ),
      code(
        "await showFigure(barFigure([{ name: 'acc', x: ['a', 'b'], y: [0.8, 0.7], lower: [0.75, 0.65], upper: [0.85, 0.75] }], { title: 'check bars' }), { name: 'check-bar' });",
        'f2',
      ),
    ],
    metadata: {
      kernelspec: { display_name: 'TypeScript (marl-automl)', language: 'typescript', name: 'marl-automl' },
      language_info: { name: 'typescript' },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

async function main(): Promise<number> {
  const dir = path.join(ROOT, 'results', 'browser-check');
  fs.mkdirSync(dir, { recursive: true });
  const nbRel = 'results/browser-check/figures.ipynb';
  fs.writeFileSync(path.join(ROOT, nbRel), JSON.stringify(notebook(), null, 1));
  const port = await freePort();
  const env = {
    ...process.env,
    JUPYTER_PATH: path.join(ROOT, 'jupyter'),
    MARL_AUTOML_PRESET: 'smoke',
    MARL_AUTOML_RESULTS_DIR: dir,
  };
  delete env.MARL_AUTOML_STATIC_FIGURES;
  const t0 = performance.now();
  const since = () => ((performance.now() - t0) / 1000).toFixed(1) + ' s';
  const server = spawn(
    'jupyter',
    [
      'notebook',
      '--no-browser',
      `--port=${port}`,
      '--ip=127.0.0.1',
      `--NotebookApp.token=${TOKEN}`,
      `--notebook-dir=${ROOT}`,
      '--NotebookApp.iopub_data_rate_limit=1e10',
      ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
    ],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let serverLog = '';
  server.stdout.on('data', (b: Buffer) => (serverLog += b.toString()));
  server.stderr.on('data', (b: Buffer) => (serverLog += b.toString()));
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const failures: string[] = [];
  const check = (ok: boolean, what: string) => {
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
    if (!ok) failures.push(what);
  };
  try {
    for (let i = 0; i < 100 && !serverLog.includes(`:${port}/`); i++) await new Promise((r) => setTimeout(r, 200));
    console.log(`jupyter notebook up after ${since()}`);
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const url = `http://127.0.0.1:${port}/notebooks/${nbRel}?token=${TOKEN}`;
    await page.goto(url);
    await page.waitForFunction(
      `window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel && Jupyter.notebook.kernel.is_connected()`,
      undefined,
      { timeout: 120000 },
    );
    console.log(`kernel connected after ${since()}`);
    const tRun = performance.now();
    await page.evaluate(`Jupyter.notebook.execute_all_cells()`);
    const rendered = '.marl-automl-figure[data-plotly-rendered="1"] .main-svg';
    await page.waitForFunction(`document.querySelectorAll('${rendered}').length >= 1`, undefined, { timeout: 180000 });
    const firstS = (performance.now() - tRun) / 1000;
    await page.waitForFunction(
      `document.querySelectorAll('.marl-automl-figure[data-plotly-rendered="1"]').length >= 2`,
      undefined,
      {
        timeout: 120000,
      },
    );
    const bothS = (performance.now() - tRun) / 1000;
    console.log(
      `run all → first figure drawn ${firstS.toFixed(1)} s, both ${bothS.toFixed(1)} s (includes tslab compiling the cells)`,
    );
    const pngs = await page.evaluate(`document.querySelectorAll('.output_png').length`);
    check(pngs === 0, `classic Notebook shows the HTML figures, not PNGs (PNG outputs: ${String(pngs)})`);
    // Hover: move the mouse onto the data point (x=1, y=0.7) of the first curve; plotly draws a hover label.
    const pt = (await page.evaluate(`(() => {
      const el = document.querySelector('.marl-automl-figure');
      const r = el.getBoundingClientRect();
      const xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis;
      return { x: r.left + xa._offset + xa.l2p(1), y: r.top + ya._offset + ya.l2p(0.7) };
    })()`)) as { x: number; y: number };
    await page.mouse.move(pt.x - 5, pt.y - 5);
    await page.mouse.move(pt.x, pt.y);
    const hover = await page
      .waitForSelector('.marl-automl-figure .hoverlayer .hovertext', { timeout: 5000 })
      .then(() => true)
      .catch(() => false);
    check(hover, 'hovering a curve shows a plotly hover label');
    // Legend toggling: click the first legend entry; its trace becomes 'legendonly'.
    await page.locator('.marl-automl-figure .legend .traces').first().click();
    const toggled = await page
      .waitForFunction(
        `(() => { const el = document.querySelector('.marl-automl-figure'); return el && el.data && el.data.some((t) => t.visible === 'legendonly'); })()`,
        undefined,
        { timeout: 5000 },
      )
      .then(() => true)
      .catch(() => false);
    check(toggled, 'clicking a legend entry hides its curve');
    const modebar = await page.evaluate(`!!document.querySelector('.marl-automl-figure .modebar')`);
    check(modebar === true, 'zoom/pan/download toolbar present');
    // Save, reload: the saved (trusted) outputs draw again without running a cell.
    await page.evaluate(`Jupyter.notebook.save_checkpoint()`);
    await new Promise((r) => setTimeout(r, 2000));
    const tReload = performance.now();
    await page.reload();
    const again = await page
      .waitForFunction(`document.querySelectorAll('${rendered}').length >= 2`, undefined, { timeout: 60000 })
      .then(() => true)
      .catch(() => false);
    check(
      again,
      `after save and page reload both figures draw again (${((performance.now() - tReload) / 1000).toFixed(1)} s)`,
    );
    check(pageErrors.length === 0, `no page errors${pageErrors.length ? ': ' + pageErrors.join('; ') : ''}`);
  } catch (err) {
    failures.push((err as Error).message);
    console.log(`FAIL ${(err as Error).message}`);
  } finally {
    await browser.close();
    server.kill('SIGTERM');
  }
  console.log(failures.length ? `${failures.length} check(s) failed` : `all checks passed in ${since()}`);
  return failures.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
