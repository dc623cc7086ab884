import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../src/cli/run-notebooks';
import {
  NotebookRunError,
  readNotebook,
  runNotebook,
  runNotebooks,
  joinText,
  type NotebookReport,
  type Notebook,
} from '../../src/notebook/runner';

const ROOT = path.resolve(__dirname, '..', '..');
const FIX = path.join(ROOT, 'test', 'fixtures', 'notebooks');

describe('notebook runner (headless, tslab compiler + executor)', function () {
  this.timeout(120000);
  let tmp: string;
  const lines: string[] = [];
  const log = (l: string) => lines.push(l);

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nbrun-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  beforeEach(() => (lines.length = 0));

  const opts = () => ({
    rootDir: ROOT,
    outDir: path.join(tmp, 'out'),
    resultsRoot: path.join(tmp, 'res'),
    log,
    preset: 'smoke' as const,
  });

  it('runs code cells in order and records stream, display and timing into the executed copy', async () => {
    const report = await runNotebook(path.join(FIX, 'outputs.ipynb'), opts());
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.cells.map((c) => c.cell),
      [2, 3, 4, 5],
    );
    const nb = readNotebook(report.output);
    const code = nb.cells.filter((c) => c.cell_type === 'code');
    assert.deepEqual(
      code.map((c) => c.execution_count),
      [1, 2, 3, 4],
    );
    const text = (i: number, name: string) =>
      (code[i].outputs ?? [])
        .filter((o) => o.output_type === 'stream' && o.name === name)
        .map((o) => joinText((o as { text: string[] }).text))
        .join('');
    // preset reaches the notebook through MARL_AUTOML_PRESET; the folder import (src/progress) resolves
    assert.equal(text(0, 'stdout'), 'preset=smoke n=2 1m05s\n');
    // display_data keeps its MIME bundle; stderr is its own stream; the last expression is printed
    const display = code[1].outputs!.find((o) => o.output_type === 'display_data') as { data: Record<string, unknown> };
    assert.deepEqual(display.data, { 'text/html': ['<b>bold</b>'] });
    assert.equal(text(1, 'stderr'), 'to stderr\n');
    assert.equal(text(1, 'stdout'), '0,1\n');
    // the notebook's results folder is <resultsRoot>/<name>
    assert.equal(text(2, 'stdout'), 'results dir outputs\n');
    assert.equal(report.resultsDir, path.join(tmp, 'res', 'outputs'));
    const bundle = code[3].outputs!.find((o) => o.output_type === 'display_data') as { data: Record<string, unknown> };
    assert.deepEqual(bundle.data, { 'text/plain': ['bundle text'], 'application/json': { n: 2 } });
    // per-cell timing: the cell with a 50 ms sleep took at least 50 ms
    const exec = code[2].metadata.execution as Record<string, unknown>;
    const timing = code[2].metadata['marl-automl'] as { duration_s: number; ok: boolean };
    assert.ok(timing.duration_s >= 0.05, `duration ${timing.duration_s}`);
    assert.equal(timing.ok, true);
    assert.ok(
      Date.parse(exec['shell.execute_reply'] as string) >= Date.parse(exec['shell.execute_reply.started'] as string),
    );
    assert.equal((nb.metadata['marl-automl'] as Record<string, unknown>).status, 'ok');
    // the executed copy is valid nbformat 4 (checked with Python's nbformat where installed)
    const py = spawnSync(
      '/usr/bin/python3',
      ['-c', 'import sys, nbformat; nbformat.validate(nbformat.read(sys.argv[1], as_version=4))', report.output],
      { encoding: 'utf8' },
    );
    if (!/No module named/.test(py.stderr)) assert.equal(py.status, 0, py.stderr);
    // terminal progress names each cell with its position
    assert.ok(
      lines.some((l) => /^\s+\[1\/4\] cell 2 ✓ \d/.test(l)),
      lines.join('\n'),
    );
    assert.ok(lines.some((l) => l.includes('│ preset=smoke n=2')));
  });

  it('runNotebooks prints an ETA per notebook, records the timings and ends with a summary written to SUMMARY.md', async () => {
    const o = opts();
    const files = [path.join(FIX, 'outputs.ipynb'), path.join(FIX, 'outputs.ipynb')];
    await runNotebooks({ ...o, files, echo: false });
    assert.ok(
      lines.some((l) => /^run: 2 notebook\(s\), preset smoke, expected about \d/.test(l)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) =>
        /^\[notebook 1\/2\] outputs · elapsed 0s · this one ~[\dhms]+ · whole run ~[\dhms]+ left$/.test(l),
      ),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) =>
        /^\[notebook 1\/2\] done in [\dhms]+ · elapsed [\dhms]+ · ~[\dhms]+ left \(x[\d.]+ of the expected so far\)$/.test(
          l,
        ),
      ),
      lines.join('\n'),
    );
    const history = JSON.parse(fs.readFileSync(path.join(o.outDir, 'timings.json'), 'utf8'));
    assert.ok(history.smoke.outputs.seconds > 0);
    assert.ok(
      lines.some((l) => /^summary \(preset smoke; data: Fashion-MNIST /.test(l)),
      lines.join('\n'),
    );
    const summary = fs.readFileSync(path.join(o.resultsRoot, 'SUMMARY.md'), 'utf8');
    assert.match(summary, /^# Reproduction summary/);
    assert.match(summary, /## Other notebooks[\s\S]*\| outputs \| \d/);
    // the second run expects from this machine's history
    lines.length = 0;
    await runNotebooks({ ...o, files: files.slice(0, 1), echo: false });
    assert.ok(
      lines.some((l) => /1 from this machine's earlier runs/.test(l)),
      lines.join('\n'),
    );
  });

  it('stops at the first failing cell, names notebook, cell and error, and does not run later cells', async () => {
    let err: unknown;
    try {
      await runNotebook(path.join(FIX, 'failing.ipynb'), opts());
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof NotebookRunError, `expected NotebookRunError, got ${err}`);
    assert.equal(err.notebook, 'failing.ipynb');
    assert.equal(err.cell, 3);
    assert.match(err.message, /^notebook failing\.ipynb, cell 3 \(const boom = .*\): RangeError: boom in fixture$/);
    const nb: Notebook = readNotebook(err.report.output);
    const [first, failed, later] = nb.cells.filter((c) => c.cell_type === 'code');
    assert.equal(joinText((first.outputs![0] as { text: string[] }).text), 'first cell ran\n');
    const error = failed.outputs!.find((o) => o.output_type === 'error') as {
      ename: string;
      evalue: string;
      traceback: string[];
    };
    assert.equal(error.ename, 'RangeError');
    assert.equal(error.evalue, 'boom in fixture');
    assert.ok(error.traceback.length > 1);
    // As in the Jupyter kernel: the cell's frames, without node, vm and tslab internals.
    assert.equal(error.traceback[0], 'RangeError: boom in fixture');
    assert.ok(error.traceback.includes('    at boom (<cell>)'), error.traceback.join('\n'));
    for (const line of error.traceback) assert.doesNotMatch(line, /node_modules|node:|evalmachine/);
    assert.equal(later.execution_count, null);
    assert.deepEqual(later.outputs, []);
    assert.deepEqual(
      err.report.cells.map((c) => [c.cell, c.ok]),
      [
        [1, true],
        [3, false],
      ],
    );
  });

  it('kills a cell that exceeds the per-cell timeout and reports it', async () => {
    let err: unknown;
    const t0 = Date.now();
    try {
      await runNotebook(path.join(FIX, 'slow.ipynb'), { ...opts(), timeoutS: 1.5 });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof NotebookRunError, `expected NotebookRunError, got ${err}`);
    assert.equal(err.cell, 2);
    assert.match(
      err.message,
      /^notebook slow\.ipynb, cell 2 \(while \(true\).*\): TimeoutError: cell timed out after 1\.5s/,
    );
    assert.ok(Date.now() - t0 < 60000, 'the blocked process was killed');
    const nb = readNotebook(err.report.output);
    const code = nb.cells.filter((c) => c.cell_type === 'code');
    assert.equal((code[0].outputs![0] as { ename: string }).ename, 'TimeoutError');
    assert.equal(code[1].execution_count, null);
  });

  it('imports folder modules, type-checks strictly, and survives files appearing next to imported sources between cells', async () => {
    // tslab 1.0.22 alone fails all three: "Cannot find module './lib'", "Property 'error' does not
    // exist on type 'R'" (non-strict) and "Unexpected pending rebuildTimer".
    const root = path.join(tmp, 'root');
    fs.mkdirSync(path.join(root, 'lib'), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'));
    // Narrowing on a boolean discriminant type-checks only under strict (tsconfig), not tslab's default.
    fs.writeFileSync(
      path.join(root, 'lib', 'index.ts'),
      [
        'type R = { ok: true; value: number } | { ok: false; error: string };',
        'function unwrap(r: R): number { if (!r.ok) throw new Error(r.error); return r.value; }',
        'export const v: number = unwrap({ ok: true, value: 41 });',
      ].join('\n') + '\n',
    );
    const cells = [
      "import { v } from './lib';\nconsole.log(v + 1);",
      "import * as fs from 'fs';\nfs.writeFileSync('lib/extra.ts', 'export const w = 2;\\n');\nawait new Promise((r) => setTimeout(r, 1200));",
      "console.log('after', v);",
    ];
    const nb = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: cells.map((source) => ({ cell_type: 'code', metadata: {}, source, outputs: [], execution_count: null })),
    };
    fs.writeFileSync(path.join(root, 'watch.ipynb'), JSON.stringify(nb));
    const report: NotebookReport = await runNotebook('watch.ipynb', { ...opts(), rootDir: root });
    const out = readNotebook(report.output).cells.map((c) =>
      (c.outputs ?? []).map((o) => joinText((o as { text?: string[] }).text)).join(''),
    );
    assert.deepEqual(out, ['42\n', '', 'after 41\n']);
  });

  it('CLI exits 1 on a failure and on a bad preset, with the reason on stderr', async () => {
    const errs: string[] = [];
    const origErr = process.stderr.write.bind(process.stderr);
    const origOut = process.stdout.write.bind(process.stdout);
    process.stderr.write = ((s: string) => (errs.push(String(s)), true)) as typeof process.stderr.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    let codeBad: number;
    let codeFail: number;
    try {
      codeBad = await main(['node', 'run-notebooks', '--preset', 'fast', path.join(FIX, 'failing.ipynb')]);
      codeFail = await main([
        'node',
        'run-notebooks',
        '--preset',
        'smoke',
        '--quiet',
        '--out',
        path.join(tmp, 'cli'),
        '--results',
        path.join(tmp, 'cli-res'),
        path.join(FIX, 'failing.ipynb'),
      ]);
    } finally {
      process.stderr.write = origErr;
      process.stdout.write = origOut;
    }
    assert.equal(codeBad, 1);
    assert.match(errs.join(''), /--preset: unknown preset "fast"; expected one of smoke, quick, full/);
    assert.equal(codeFail, 1);
    assert.match(errs.join(''), /FAILED: notebook failing\.ipynb, cell 3 \(.*\): RangeError: boom in fixture/);
    assert.ok(fs.existsSync(path.join(tmp, 'cli', 'failing.ipynb')));
  });
});

describe('notebook runner: the notebook process stops when the runner goes', function () {
  this.timeout(60000);

  it('SIGKILL of run-notebooks ends the notebook process within 5 s (no orphan left training)', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nbkill-'));
    const pidFile = path.join(tmp, 'pid');
    const nb = {
      cells: [
        {
          cell_type: 'code',
          metadata: {},
          outputs: [],
          execution_count: null,
          source: [`require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));`],
        },
        {
          cell_type: 'code',
          metadata: {},
          outputs: [],
          execution_count: null,
          source: ['await new Promise((r) => setTimeout(r, 60000));'],
        },
      ],
      metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
      nbformat: 4,
      nbformat_minor: 5,
    };
    const file = path.join(tmp, 'sleep.ipynb');
    fs.writeFileSync(file, JSON.stringify(nb));
    const { spawn } = await import('child_process');
    // One process (tsx as a loader, not its CLI, which would put a second process in between).
    const runner = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(ROOT, 'src', 'cli', 'run-notebooks.ts'),
        '--preset',
        'smoke',
        '--quiet',
        '--out',
        path.join(tmp, 'out'),
        '--results',
        path.join(tmp, 'res'),
        file,
      ],
      { cwd: ROOT, stdio: 'ignore' },
    );
    try {
      const t0 = Date.now();
      while (!fs.existsSync(pidFile) && Date.now() - t0 < 40000) await new Promise((r) => setTimeout(r, 100));
      const pid = Number(fs.readFileSync(pidFile, 'utf8'));
      assert.ok(pid > 0 && pid !== runner.pid);
      runner.kill('SIGKILL');
      const alive = () => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      const t1 = Date.now();
      while (alive() && Date.now() - t1 < 5000) await new Promise((r) => setTimeout(r, 100));
      const stillAlive = alive();
      if (stillAlive) process.kill(pid, 'SIGKILL');
      assert.equal(stillAlive, false, 'the notebook process outlived its runner');
    } finally {
      runner.kill('SIGKILL');
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
