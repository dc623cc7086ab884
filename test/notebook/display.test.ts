import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tf } from '../../src/backend';
import {
  showFigure,
  showTable,
  displayBundle,
  inNotebook,
  staticFiguresWanted,
  PLOTLY_MIME,
} from '../../src/notebook/display';
import { lineFigure } from '../../src/notebook/figures';
import { closeFigureRenderer, renderFigure, CHROMIUM_ENV, STATIC_FIGURES_ENV } from '../../src/notebook/static-image';
import { figureHtml, plotlyLibraryHtml, resetPlotlyLibrary } from '../../src/notebook/plotly-html';
import {
  tableToCsv,
  tableToHtml,
  tableToMarkdown,
  toDataFrame,
  formatCell,
  columnFormatter,
  shortenVerdict,
} from '../../src/notebook/tables';

// tslab's display hook: set by the kernel (and by the headless runner) to receive display bundles.

const jupyter = require('tslab/dist/jupyter') as { lastWriteDisplayData: unknown };

type Bundle = { data: Record<string, unknown>; metadata: Record<string, unknown> };

function captureDisplays(): { bundles: Bundle[]; restore(): void } {
  const bundles: Bundle[] = [];
  const prev = jupyter.lastWriteDisplayData;
  jupyter.lastWriteDisplayData = (msg: Bundle) => bundles.push(msg);
  return { bundles, restore: () => (jupyter.lastWriteDisplayData = prev) };
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const HAS_CHROMIUM = fs.existsSync('/usr/bin/chromium');

describe('notebook tables', () => {
  const rows = [
    { method: 'cosine, tuned', acc: 0.812345, runs: 3, note: 'a|b' },
    { method: 'agents "GANNO"', acc: NaN, runs: 3 },
  ];

  it('toDataFrame takes the union of columns and rejects bad rows by index', () => {
    const df = toDataFrame(rows);
    assert.deepEqual(df.columns, ['method', 'acc', 'runs', 'note']);
    assert.deepEqual(df.shape, [2, 4]);
    assert.equal(toDataFrame(df), df);
    assert.throws(() => toDataFrame([]), /toDataFrame: the table has no rows/);
    assert.throws(() => toDataFrame([{ a: 1 }, 5 as never]), /toDataFrame: row 1 is not an object/);
    assert.throws(() => toDataFrame([{ a: { nested: 1 } as never }]), /row 0, column 'a' holds a object/);
  });

  it('CSV is RFC 4180 with full precision; Markdown and HTML are rounded and escaped', () => {
    assert.equal(tableToCsv(rows), 'method,acc,runs,note\n"cosine, tuned",0.812345,3,a|b\n"agents ""GANNO""",,3,\n');
    assert.equal(
      tableToMarkdown(rows, { digits: 2, caption: 'preset smoke, 3 seeds' }),
      '*preset smoke, 3 seeds*\n\n| method | acc | runs | note |\n| --- | ---: | ---: | --- |\n| cosine, tuned | 0.81 | 3 | a\\|b |\n| agents "GANNO" |  | 3 |  |\n',
    );
    const html = tableToHtml([{ m: '<b>x</b>', v: 1.23456 }], { digits: 1, caption: 'A & B' });
    assert.ok(html.includes('<caption'), html);
    assert.ok(html.includes('A &amp; B'));
    assert.ok(html.includes('&lt;b&gt;x&lt;/b&gt;'));
    assert.ok(html.includes('>1.2</td>'));
    assert.throws(() => tableToMarkdown(rows, { digits: -1 }), /digits must be an integer in 0..15, got -1/);
    assert.deepEqual(
      [formatCell(1e-7, 3), formatCell(Infinity), formatCell(null), formatCell(true)],
      ['1.00e-7', 'inf', '', 'true'],
    );
  });

  it('one decimal rule per column; all-empty columns are left out of HTML/Markdown but kept in the CSV', () => {
    const tuning = [
      { baseline: 'cosine', 'tuned peak LR': 0.3, 'val loss @ 0.03': 2.266, 'val loss @ 3': null, runs: 3 },
      { baseline: 'LARS', 'tuned peak LR': 3, 'val loss @ 0.03': 'diverged', 'val loss @ 3': null, runs: 3 },
    ];
    const md = tableToMarkdown(tuning);
    assert.ok(md.includes('| baseline | tuned peak LR | val loss @ 0.03 | runs |'), md);
    assert.ok(md.includes('| cosine | 0.300 | 2.266 | 3 |'), md);
    assert.ok(md.includes('| LARS | 3.000 | diverged | 3 |'), 'integers of a decimal column get its decimals');
    assert.ok(!tableToHtml(tuning).includes('val loss @ 3'));
    assert.ok(tableToCsv(tuning).startsWith('baseline,tuned peak LR,val loss @ 0.03,val loss @ 3,runs\n'));
    const tiny = columnFormatter([0.5, 2e-5, 1], 3);
    assert.deepEqual([0.5, 2e-5, 1].map(tiny), ['5.00e-1', '2.00e-5', '1.00e+0'], 'exponent form for the whole column');
    assert.deepEqual([1, 2, NaN].map(columnFormatter([1, 2, NaN], 3)), ['1', '2', '']);
  });

  it('long verdict sentences become verdict + effect + CI, with each reason once below the table', () => {
    const sentence = (v: string, d: string) =>
      `${v}: ${d} pp [-13.50, -6.70] test accuracy, P(A > B) = 0.00 [0.00, 0.00]; 1/1 policies moved`;
    const reason = 'not shown here (only 2 tasks; at least 3 are needed for a verdict)';
    const rows = [
      { GANNO: 'greedy', baseline: 'cosine', competitive: sentence(reason, '-10.10'), p: '0.00 [0.00, 0.00]' },
      { GANNO: 'sampled', baseline: 'cosine', competitive: sentence(reason, '+1.65'), p: '0.50 [0.50, 0.50]' },
      { GANNO: 'greedy', baseline: 'LARS', competitive: sentence('holds here', '+2.10'), p: '0.90 [0.80, 1.00]' },
    ];
    assert.deepEqual(shortenVerdict(rows[0].competitive), {
      short: 'not shown: -10.10 pp [-13.50, -6.70]',
      reason: 'not shown: only 2 tasks; at least 3 are needed for a verdict',
    });
    assert.equal(shortenVerdict('holds'), undefined, 'short cells stay');
    assert.equal(shortenVerdict('a long cell that is not a verdict at all, 1.0 [0.5, 1.5] wide'), undefined);
    const md = tableToMarkdown(rows, { fullTableFile: 'claims.csv' });
    assert.ok(md.includes('| greedy | cosine | not shown: -10.10 pp [-13.50, -6.70] | 0.00 [0.00, 0.00] |'), md);
    assert.ok(md.includes('| greedy | LARS | holds: +2.10 pp [-13.50, -6.70] |'), md);
    assert.equal(md.split('only 2 tasks; at least 3 are needed').length - 1, 1, 'the reason is written once');
    assert.match(md, /full sentences .* are in claims\.csv/);
    assert.ok(tableToCsv(rows).includes(rows[0].competitive.replace(/"/g, '""')), 'the CSV keeps the sentence');
    assert.ok(!tableToMarkdown(rows, { shortVerdicts: false }).includes('| not shown: -10.10'));
  });

  it('showTable displays HTML, writes CSV and Markdown, returns the DataFrame, and leaks no tensors', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'table-'));
    const cap = captureDisplays();
    const before = tf.memory().numTensors;
    try {
      const df = showTable(rows, { name: 'main', caption: 'preset smoke', digits: 3, dir });
      assert.deepEqual(df.shape, [2, 4]);
      assert.equal(fs.readFileSync(path.join(dir, 'main.csv'), 'utf8'), tableToCsv(rows));
      const md = fs.readFileSync(path.join(dir, 'main.md'), 'utf8');
      assert.ok(md.startsWith('*preset smoke*\n\n| method | acc | runs | note |'), md);
      assert.ok(md.includes('| cosine, tuned | 0.812 | 3 | a\\|b |'), md);
      assert.equal(cap.bundles.length, 1);
      assert.ok(String(cap.bundles[0].data['text/html']).includes('<table'));
      assert.equal(cap.bundles[0].data['text/markdown'], md);
      assert.deepEqual(fs.readdirSync(dir).sort(), ['main.csv', 'main.md']); // no temp files left
      assert.throws(() => showTable(rows, { name: '../evil', dir }), /showTable: name must be a file-name-safe string/);
      assert.throws(
        () => showTable([], { name: 'empty', dir }),
        /showTable 'empty': toDataFrame: the table has no rows/,
      );
    } finally {
      cap.restore();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(tf.memory().numTensors, before);
  });
});

describe('notebook figures display', function () {
  this.timeout(60000);
  const fig = lineFigure(
    [{ name: 'loss', x: [1, 2, 3], y: [2.3, 1.1, 0.7], lower: [2, 1, 0.6], upper: [2.6, 1.2, 0.8] }],
    { title: 'Loss', width: 400, height: 300 },
  );
  const savedChromium = process.env[CHROMIUM_ENV];
  afterEach(() => {
    if (savedChromium === undefined) delete process.env[CHROMIUM_ENV];
    else process.env[CHROMIUM_ENV] = savedChromium;
  });
  after(() => closeFigureRenderer());

  it('displayBundle emits one bundle in a notebook and prints text/plain outside', () => {
    const cap = captureDisplays();
    try {
      assert.equal(inNotebook(), true);
      displayBundle({ 'text/plain': 'hello', 'image/png': new Uint8Array([1, 2, 3]) });
      assert.deepEqual(cap.bundles[0].data, { 'text/plain': 'hello', 'image/png': 'AQID' });
      assert.throws(() => displayBundle({}), /displayBundle: no representations given/);
    } finally {
      cap.restore();
    }
    const written: string[] = [];
    const orig = process.stdout.write.bind(process.stdout);
    jupyter.lastWriteDisplayData = null;
    process.stdout.write = ((s: string) => (written.push(String(s)), true)) as typeof process.stdout.write;
    try {
      assert.equal(inNotebook(), false);
      displayBundle({ 'text/plain': 'plain text', 'text/html': '<b>x</b>' });
    } finally {
      process.stdout.write = orig;
      jupyter.lastWriteDisplayData = null;
    }
    assert.deepEqual(written, ['plain text\n']);
  });

  it('without Chromium: shows the plotly bundle, saves the JSON and warns instead of failing', async () => {
    process.env[CHROMIUM_ENV] = 'none';
    process.env[STATIC_FIGURES_ENV] = '1';
    resetPlotlyLibrary();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fig-'));
    const cap = captureDisplays();
    const errs: string[] = [];
    const origErr = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (errs.push(String(s)), true)) as typeof process.stderr.write;
    try {
      const files = await showFigure(fig, { name: 'loss', dir });
      await showFigure(fig, { name: 'loss2', dir });
      assert.equal(files.image, undefined);
      assert.deepEqual(JSON.parse(fs.readFileSync(files.json!, 'utf8')), JSON.parse(JSON.stringify(fig)));
      const data = cap.bundles[1].data; // [0] carries plotly.js
      assert.deepEqual(Object.keys(data).sort(), [PLOTLY_MIME, 'text/html', 'text/plain'].sort());
      assert.deepEqual((data[PLOTLY_MIME] as { data: unknown[] }).data.length, 3);
      assert.equal(errs.filter((e) => e.includes('no Chromium found')).length, 1, 'warns once');
      await assert.rejects(showFigure(fig, { name: 'x y', dir }), /showFigure: name must be a file-name-safe string/);
    } finally {
      delete process.env[STATIC_FIGURES_ENV];
      process.stderr.write = origErr;
      cap.restore();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('in a live notebook: interactive HTML, plotly.js inline once (before the first figure), no static image', async () => {
    // A Chromium path that does not exist: any attempt to render would warn "no Chromium found".
    process.env[CHROMIUM_ENV] = '/nonexistent/chromium';
    delete process.env[STATIC_FIGURES_ENV];
    resetPlotlyLibrary();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fig-'));
    const cap = captureDisplays();
    const errs: string[] = [];
    const origErr = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (errs.push(String(s)), true)) as typeof process.stderr.write;
    try {
      const a = await showFigure(fig, { name: 'a', dir });
      const b = await showFigure(fig, { name: 'b', dir });
      assert.equal(a.image, undefined);
      assert.equal(b.image, undefined);
      assert.equal(errs.filter((e) => e.includes('Chromium')).length, 0, 'no static rendering attempted');
      assert.equal(cap.bundles.length, 3, 'library, figure a, figure b');
      const lib = String(cap.bundles[0].data['text/html']);
      assert.ok(lib.length > 1_000_000, 'plotly.js inline');
      assert.ok(lib.includes('window.Plotly'));
      assert.ok(!/<\/script/i.test(lib.slice(0, lib.lastIndexOf('</script>'))), 'no early </script> inside');
      for (const bundle of cap.bundles.slice(1)) {
        assert.deepEqual(Object.keys(bundle.data).sort(), [PLOTLY_MIME, 'text/html', 'text/plain'].sort());
        const html = String(bundle.data['text/html']);
        assert.ok(html.length < 20_000, 'a figure refers to the loaded library, it does not carry it');
        assert.match(html, /Plotly\.newPlot/);
        assert.match(html, /interactive plotly figure: needs JavaScript/);
      }
      const ids = cap.bundles.slice(1).map((bd) => /id="([^"]+)"/.exec(String(bd.data['text/html']))![1]);
      assert.notEqual(ids[0], ids[1], 'unique element ids');
      assert.deepEqual(fs.readdirSync(dir).sort(), ['a.json', 'b.json']);
      assert.equal(staticFiguresWanted({ [STATIC_FIGURES_ENV]: '1' }), true);
      assert.equal(staticFiguresWanted({ [STATIC_FIGURES_ENV]: '0' }), false);
      assert.equal(staticFiguresWanted({}), false, 'unset, in a notebook: no static image');
      assert.throws(() => staticFiguresWanted({ [STATIC_FIGURES_ENV]: 'sometimes' }), /must be 1 or 0/);
    } finally {
      delete process.env[CHROMIUM_ENV];
      process.stderr.write = origErr;
      cap.restore();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  (HAS_CHROMIUM ? it : it.skip)(
    'with Chromium: renders a PNG (and SVG) and attaches it as the static fallback',
    async () => {
      delete process.env[CHROMIUM_ENV];
      process.env[STATIC_FIGURES_ENV] = '1';
      resetPlotlyLibrary();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fig-'));
      const cap = captureDisplays();
      try {
        const files = await showFigure(fig, { name: 'loss', dir });
        const png = fs.readFileSync(files.image!);
        assert.ok(png.subarray(0, 8).equals(PNG_SIGNATURE), 'PNG signature');
        // width 400 x height 300 at scale 2 (IHDR holds width and height at bytes 16..23)
        assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [800, 600]);
        const data = cap.bundles[1].data;
        assert.deepEqual(Object.keys(data).sort(), [PLOTLY_MIME, 'image/png', 'text/html', 'text/plain'].sort());
        assert.ok(Buffer.from(String(data['image/png']), 'base64').equals(png));
        // Without JavaScript (GitHub, untrusted notebooks) the HTML shows the same PNG.
        assert.ok(String(data['text/html']).includes(`data:image/png;base64,${png.toString('base64')}`));
        const svg = await renderFigure(fig, { format: 'svg' });
        assert.equal(typeof svg, 'string');
        assert.match(String(svg), /^<svg[^>]*width="400"/);
        assert.ok(String(svg).includes('Loss'));
        await assert.rejects(
          renderFigure({ data: [{ type: 'scatter', x: 1 as never }], layout: {} }, { format: 'gif' as never }),
          /format must be 'png' or 'svg', got 'gif'/,
        );
      } finally {
        delete process.env[STATIC_FIGURES_ENV];
        cap.restore();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  (HAS_CHROMIUM ? it : it.skip)(
    'in a browser page, plotly.js from the library output draws the figure HTML (interactive plot with hover layer)',
    async () => {
      const { chromium } = require('playwright-core') as typeof import('playwright-core');
      const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        // As classic Notebook does: outputs are appended to the page one after another, scripts run on insert.
        await page.setContent('<!doctype html><html><head><meta charset="utf-8"></head><body></body></html>');
        const append = (html: string) =>
          page.evaluate(`(() => {
            const div = document.createElement('div');
            div.innerHTML = ${JSON.stringify(html)};
            for (const old of Array.from(div.querySelectorAll('script'))) {
              const s = document.createElement('script');
              s.text = old.text;
              old.replaceWith(s);
            }
            document.body.appendChild(div);
          })()`);
        await append(plotlyLibraryHtml());
        await append(figureHtml(fig, { id: 'f1', fallbackText: 'fallback text' }));
        await page.waitForSelector('#f1[data-plotly-rendered="1"] .main-svg', { timeout: 20000 });
        const info = await page.evaluate(`(() => {
          const el = document.getElementById('f1');
          return {
            traces: el.data.length,
            hover: !!el.querySelector('.nsewdrag'),
            modebar: !!el.querySelector('.modebar'),
            fallback: el.textContent.includes('fallback text'),
          };
        })()`);
        assert.deepEqual(info, { traces: 3, hover: true, modebar: true, fallback: false });
        assert.deepEqual(errors, []);
      } finally {
        await browser.close();
      }
    },
  );
});
