import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../files';
import { PRESET_ENV, parsePreset, type PresetName } from '../presets';
import { RESULTS_DIR_ENV, NOTEBOOK_NAME_ENV } from '../results';
import { STATIC_FIGURES_ENV } from '../static-image';
import type { ChildMessage, RunRequest } from './protocol';
import { RunEta, TIMING_HISTORY_FILE, formatDuration, notebookKey, readTimingHistory, recordTiming } from './eta';
import { writeRunSummary } from './summary';
import {
  joinText,
  readNotebook,
  serializeNotebook,
  splitLines,
  type CellOutput,
  type DisplayDataOutput,
  type Notebook,
  type StreamOutput,
} from './nbformat';

/** Default per-cell timeout in seconds for each preset (`0` would mean no limit). */
export const DEFAULT_CELL_TIMEOUT_S: Record<PresetName, number> = { smoke: 300, quick: 3600, full: 86400 };

/** Options of {@link runNotebook} and {@link runNotebooks}. */
export interface RunNotebooksOptions {
  /** Notebook files; default: every `notebooks/*.ipynb` under `rootDir`, in name order. */
  files?: string[];
  /** Compute preset passed to the notebooks through `MARL_AUTOML_PRESET` (default `quick`). */
  preset?: PresetName;
  /** Per-cell time limit in seconds (default by preset, see {@link DEFAULT_CELL_TIMEOUT_S}; 0 = none). */
  timeoutS?: number;
  /** Folder for the executed copies (default `<rootDir>/results/notebooks`). */
  outDir?: string;
  /** Folder under which each notebook gets `<name>/` for its tables and figures (default `<rootDir>/results`). */
  resultsRoot?: string;
  /** Repository root: the notebook process's working directory and tslab's root (default `process.cwd()`). */
  rootDir?: string;
  /** Where progress lines go (default: process.stdout). */
  log?: (line: string) => void;
  /** Echo the cells' stdout/stderr to `log`, indented (default true). */
  echo?: boolean;
  /** Extra environment variables for the notebook process. */
  env?: Record<string, string>;
}

/** Timing and status of one executed cell. */
export interface CellReport {
  /** 1-based position of the cell in the notebook (markdown cells count). */
  cell: number;
  firstLine: string;
  ok: boolean;
  durationS: number;
}

/** Result of running one notebook. */
export interface NotebookReport {
  notebook: string;
  /** Path of the executed copy. */
  output: string;
  /** Folder given to the notebook through `MARL_AUTOML_RESULTS_DIR`. */
  resultsDir: string;
  ok: boolean;
  durationS: number;
  cells: CellReport[];
}

/**
 * The first failure of a headless run. The message reads
 * `notebook X, cell N (first line of source): error message`.
 */
export class NotebookRunError extends Error {
  constructor(
    readonly notebook: string,
    readonly cell: number,
    readonly firstLine: string,
    readonly reason: string,
    readonly report: NotebookReport,
  ) {
    super(`notebook ${notebook}, cell ${cell} (${firstLine}): ${reason}`);
    this.name = 'NotebookRunError';
  }
}

/**
 * Lists `notebooks/*.ipynb` under `rootDir`, in name order.
 *
 * @example
 * ```ts
 * defaultNotebooks('/repo'); // ['/repo/notebooks/01-env.ipynb', ...]
 * ```
 */
export function defaultNotebooks(rootDir: string = process.cwd()): string[] {
  const dir = path.join(rootDir, 'notebooks');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ipynb') && !f.startsWith('.'))
    .sort()
    .map((f) => path.join(dir, f));
}

function firstLineOf(src: string): string {
  const line = src.split('\n').find((l) => l.trim() !== '') ?? '';
  const t = line.trim();
  return t.length > 60 ? t.slice(0, 57) + '...' : t;
}

/**
 * Node arguments that start the notebook process. Under tsx (a `.ts` runner), child.ts is loaded
 * through a tsx namespace scoped to it, so the notebook's own imports go through tslab alone,
 * exactly as in the Jupyter kernel.
 */
function childArgs(): string[] {
  const ext = path.extname(__filename);
  const file = path.join(__dirname, `child${ext}`);
  if (ext !== '.ts') return [file];
  const tsxApi = require.resolve('tsx/cjs/api');
  const code = `require(${JSON.stringify(tsxApi)}).register({ namespace: 'marl-automl-runner' }).require(${JSON.stringify(file)}, ${JSON.stringify(__filename)});`;
  return ['-e', code];
}

function fmtS(s: number): string {
  return s < 10 ? `${s.toFixed(2)}s` : s < 100 ? `${s.toFixed(1)}s` : `${Math.round(s)}s`;
}

/** Appends a stream chunk, merging with the previous output when it is the same stream. */
function addStream(outputs: CellOutput[], name: 'stdout' | 'stderr', text: string): void {
  const last = outputs[outputs.length - 1];
  if (last && last.output_type === 'stream' && last.name === name) {
    (last as StreamOutput).text = joinText(last.text) + text;
  } else {
    outputs.push({ output_type: 'stream', name, text });
  }
}

function finalizeOutputs(outputs: CellOutput[]): CellOutput[] {
  return outputs.map((o) => {
    if (o.output_type === 'stream') return { ...o, text: splitLines(joinText(o.text)) };
    if (o.output_type === 'display_data') {
      const data: Record<string, unknown> = {};
      for (const [mime, v] of Object.entries(o.data)) {
        data[mime] =
          typeof v === 'string' && (mime.startsWith('text/') || mime === 'image/svg+xml') ? splitLines(v) : v;
      }
      const out: DisplayDataOutput = { output_type: 'display_data', data, metadata: o.metadata };
      return out;
    }
    return o;
  });
}

/**
 * Runs one notebook headlessly: its code cells run in order in a fresh Node process with tslab's
 * compiler and executor (no Jupyter or Python needed), stdout/stderr and `tslab.display` bundles
 * are captured into nbformat outputs, and the executed copy (outputs, execution counts, per-cell
 * timestamps in `metadata.execution` and seconds in `metadata['marl-automl'].duration_s`) is written atomically to `<outDir>/<name>.ipynb`, also when a
 * cell fails. Rejects with a {@link NotebookRunError} on the first failing or timed-out cell;
 * later cells are not run.
 *
 * @example
 * ```ts
 * const report = await runNotebook('notebooks/99-toolchain-check.ipynb', { preset: 'smoke' });
 * console.log(report.cells.map((c) => `${c.cell}: ${c.durationS.toFixed(1)}s`).join('\n'));
 * ```
 */
export async function runNotebook(file: string, options: RunNotebooksOptions = {}): Promise<NotebookReport> {
  const rootDir = path.resolve(options.rootDir ?? process.cwd());
  const presetName = parsePreset(options.preset ?? 'quick', 'runNotebook options.preset');
  const timeoutS = options.timeoutS ?? DEFAULT_CELL_TIMEOUT_S[presetName];
  if (!Number.isFinite(timeoutS) || timeoutS < 0)
    throw new Error(`runNotebook options.timeoutS: expected a number >= 0 (0 = no limit), got ${timeoutS}`);
  const outDir = path.resolve(rootDir, options.outDir ?? path.join('results', 'notebooks'));
  const resultsRoot = path.resolve(rootDir, options.resultsRoot ?? 'results');
  const log = options.log ?? ((line: string) => process.stdout.write(line + '\n'));
  const echo = options.echo ?? true;

  const nbPath = path.resolve(rootDir, file);
  const name = path.basename(nbPath, '.ipynb');
  const nb = readNotebook(nbPath);
  const resultsDir = path.join(resultsRoot, name);
  const outFile = path.join(outDir, `${name}.ipynb`);
  const codeCells = nb.cells.map((c, index) => ({ cell: c, index })).filter(({ cell }) => cell.cell_type === 'code');
  const executed: Notebook = JSON.parse(JSON.stringify(nb));
  for (const c of executed.cells) {
    if (c.cell_type === 'code') {
      c.outputs = [];
      c.execution_count = null;
    }
  }
  const report: NotebookReport = { notebook: nbPath, output: outFile, resultsDir, ok: false, durationS: 0, cells: [] };
  const started = new Date();
  const t0 = performance.now();
  log(
    `▶ ${path.relative(rootDir, nbPath) || nbPath}  (${codeCells.length} code cells, preset ${presetName}${timeoutS ? `, ${timeoutS}s per cell` : ''})`,
  );

  const width = String(codeCells.length).length;
  let execCount = 0;
  let failure: { index: number; reason: string } | undefined;
  const cellStart = new Map<number, { wall: Date; t: number }>();

  const child: ChildProcess = spawn(process.execPath, childArgs(), {
    cwd: rootDir,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: {
      // Executed copies carry static PNGs (GitHub, nbconvert); the caller's environment may say 0.
      [STATIC_FIGURES_ENV]: '1',
      ...process.env,
      ...options.env,
      [PRESET_ENV]: presetName,
      [RESULTS_DIR_ENV]: resultsDir,
      [NOTEBOOK_NAME_ENV]: name,
      FORCE_COLOR: '0',
    },
  });

  let current = -1;
  const outputsOf = (index: number): CellOutput[] => {
    const cell = executed.cells[index >= 0 ? index : (codeCells[0]?.index ?? 0)];
    if (!cell.outputs) cell.outputs = [];
    return cell.outputs;
  };
  const echoText = (text: string) => {
    if (!echo) return;
    const lines = text.replace(/\n$/, '').split('\n');
    for (const l of lines) log(`      │ ${l.replace(/\r/g, '')}`);
  };
  // Text written straight to the process's file descriptors (not via process.stdout.write).
  child.stdout?.on('data', (b: Buffer) => {
    if (current >= 0) addStream(outputsOf(current), 'stdout', b.toString());
    echoText(b.toString());
  });
  child.stderr?.on('data', (b: Buffer) => {
    if (current >= 0) addStream(outputsOf(current), 'stderr', b.toString());
    echoText(b.toString());
  });

  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      if (timer) clearTimeout(timer);
      resolve();
    };
    const kill = (reason: string) => {
      if (!failure) failure = { index: current, reason };
      child.kill('SIGKILL');
    };
    child.on('message', (msg: ChildMessage) => {
      switch (msg.type) {
        case 'ready': {
          const req: RunRequest = {
            type: 'run',
            rootDir,
            cells: codeCells.map(({ cell, index }) => ({ index, source: joinText(cell.source) })),
          };
          child.send(req);
          break;
        }
        case 'cell-start': {
          current = msg.index;
          const cell = executed.cells[msg.index];
          cell.execution_count = ++execCount;
          cellStart.set(msg.index, { wall: new Date(), t: performance.now() });
          const pos = codeCells.findIndex((c) => c.index === msg.index) + 1;
          log(
            `  [${String(pos).padStart(width, '0')}/${codeCells.length}] cell ${msg.index + 1} › ${firstLineOf(joinText(cell.source))}`,
          );
          if (timer) clearTimeout(timer);
          if (timeoutS > 0) {
            timer = setTimeout(() => {
              const err = `cell timed out after ${timeoutS}s (per-cell limit; raise it with --timeout)`;
              outputsOf(msg.index).push({
                output_type: 'error',
                ename: 'TimeoutError',
                evalue: err,
                traceback: [`TimeoutError: ${err}`],
              });
              kill(`TimeoutError: ${err}`);
            }, timeoutS * 1000);
          }
          break;
        }
        case 'stream':
          addStream(outputsOf(msg.index), msg.name, msg.text);
          echoText(msg.text);
          break;
        case 'display': {
          const outs = outputsOf(msg.index);
          const out: DisplayDataOutput = { output_type: 'display_data', data: msg.data, metadata: msg.metadata };
          if (msg.displayId) out.transient = { display_id: msg.displayId };
          // An update replaces the earlier output with the same display id (e.g. a progress display).
          const prev =
            msg.update && msg.displayId
              ? outs.findIndex((o) => o.output_type === 'display_data' && o.transient?.display_id === msg.displayId)
              : -1;
          if (prev >= 0) outs[prev] = out;
          else outs.push(out);
          if (echo && typeof msg.data['text/plain'] === 'string')
            echoText(`[display] ${(msg.data['text/plain'] as string).split('\n')[0]}`);
          break;
        }
        case 'error':
          outputsOf(msg.index).push({
            output_type: 'error',
            ename: msg.ename,
            evalue: msg.evalue,
            traceback: msg.traceback,
          });
          if (!failure) failure = { index: msg.index, reason: `${msg.ename}: ${msg.evalue}` };
          break;
        case 'cell-end': {
          if (timer) clearTimeout(timer);
          const cell = executed.cells[msg.index];
          const start = cellStart.get(msg.index);
          const durationS = msg.durationMs / 1000;
          cell.metadata = {
            ...cell.metadata,
            // nbformat allows only timestamp strings under `execution` (as nbclient writes them).
            execution: {
              'shell.execute_reply.started': start?.wall.toISOString(),
              'shell.execute_reply': new Date().toISOString(),
            },
            'marl-automl': { duration_s: Number(durationS.toFixed(4)), ok: msg.ok },
          };
          report.cells.push({
            cell: msg.index + 1,
            firstLine: firstLineOf(joinText(cell.source)),
            ok: msg.ok,
            durationS,
          });
          const pos = codeCells.findIndex((c) => c.index === msg.index) + 1;
          log(
            `  [${String(pos).padStart(width, '0')}/${codeCells.length}] cell ${msg.index + 1} ${msg.ok ? '✓' : '✗'} ${fmtS(durationS)}`,
          );
          if (!msg.ok && !failure) failure = { index: msg.index, reason: 'cell failed' };
          break;
        }
        case 'done':
          break;
      }
    });
    child.on('exit', (code, signal) => {
      if (!failure && report.cells.length < codeCells.length) {
        failure = {
          index: current,
          reason: `notebook process exited unexpectedly (${signal ? `signal ${signal}` : `code ${code}`})`,
        };
        if (current >= 0)
          outputsOf(current).push({
            output_type: 'error',
            ename: 'ProcessExit',
            evalue: failure.reason,
            traceback: [failure.reason],
          });
      }
      finish();
    });
    child.on('error', (err) => {
      if (!failure) failure = { index: current, reason: `notebook process error: ${err.message}` };
      finish();
    });
  });

  report.durationS = (performance.now() - t0) / 1000;
  report.ok = !failure;
  for (const c of executed.cells) if (c.outputs) c.outputs = finalizeOutputs(c.outputs);
  executed.metadata = {
    ...executed.metadata,
    'marl-automl': {
      preset: presetName,
      started: started.toISOString(),
      duration_s: Number(report.durationS.toFixed(3)),
      status: failure ? 'failed' : 'ok',
      ...(failure ? { failed_cell: failure.index + 1, error: failure.reason } : {}),
      runner: 'marl-automl headless (tslab converter + executor)',
    },
  };
  writeFileAtomic(outFile, serializeNotebook(executed));
  const rel = path.relative(rootDir, outFile);
  if (failure) {
    const idx = failure.index >= 0 ? failure.index : (codeCells[0]?.index ?? 0);
    const first = firstLineOf(joinText(nb.cells[idx]?.source));
    log(`✗ ${name}: failed at cell ${idx + 1} after ${fmtS(report.durationS)}; executed copy: ${rel}`);
    throw new NotebookRunError(path.basename(nbPath), idx + 1, first, failure.reason, report);
  }
  log(`✓ ${name}: ${codeCells.length} cells in ${fmtS(report.durationS)} → ${rel}`);
  return report;
}

/**
 * Runs notebooks one after another with {@link runNotebook} (default: all `notebooks/*.ipynb` in
 * name order) and stops at the first failure, rejecting with its {@link NotebookRunError}.
 * This is what `npm run notebooks` calls; `npm start` builds on it.
 *
 * @example
 * ```ts
 * const reports = await runNotebooks({ preset: 'smoke', timeoutS: 120 });
 * console.log(`${reports.length} notebooks ran`);
 * ```
 */
export async function runNotebooks(options: RunNotebooksOptions = {}): Promise<NotebookReport[]> {
  const rootDir = path.resolve(options.rootDir ?? process.cwd());
  const files = options.files && options.files.length ? options.files : defaultNotebooks(rootDir);
  const log = options.log ?? ((line: string) => process.stdout.write(line + '\n'));
  if (files.length === 0)
    throw new Error(`runNotebooks: no notebooks given and none found in ${path.join(rootDir, 'notebooks')}`);
  for (const f of files) {
    const p = path.resolve(rootDir, f);
    if (!fs.existsSync(p)) throw new Error(`runNotebooks: notebook file not found: ${f}`);
    if (!p.endsWith('.ipynb')) throw new Error(`runNotebooks: not a notebook (expected .ipynb): ${f}`);
  }
  const preset = parsePreset(options.preset ?? 'quick', 'runNotebooks options.preset');
  const outDir = path.resolve(rootDir, options.outDir ?? path.join('results', 'notebooks'));
  const resultsRoot = path.resolve(rootDir, options.resultsRoot ?? 'results');
  const historyFile = path.join(outDir, TIMING_HISTORY_FILE);
  const eta = new RunEta(files, preset, readTimingHistory(historyFile, log));
  const reports: NotebookReport[] = [];
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  log(
    `run: ${files.length} notebook(s), preset ${preset}, expected about ${formatDuration(eta.remainingS())} (${eta.describeSources()})`,
  );
  for (let i = 0; i < files.length; i++) {
    const scale = eta.speedFactor;
    log(
      `[notebook ${i + 1}/${files.length}] ${notebookKey(files[i])} · elapsed ${formatDuration(elapsed())} · this one ~${formatDuration(eta.expectedS(i) * scale)} · whole run ~${formatDuration(eta.remainingS())} left`,
    );
    const report = await runNotebook(files[i], { ...options, rootDir, log });
    reports.push(report);
    eta.finished(files[i], report.durationS);
    try {
      recordTiming(historyFile, preset, notebookKey(files[i]), report.durationS);
    } catch (err) {
      log(`(could not record the timing in ${historyFile}: ${(err as Error).message})`);
    }
    if (i + 1 < files.length)
      log(
        `[notebook ${i + 1}/${files.length}] done in ${formatDuration(report.durationS)} · elapsed ${formatDuration(elapsed())} · ~${formatDuration(eta.remainingS())} left (x${eta.speedFactor.toFixed(2)} of the expected so far)`,
      );
  }
  log(`all ${files.length} notebook(s) ran in ${fmtS(elapsed())}`);
  try {
    const { file, lines } = writeRunSummary({
      preset,
      resultsRoot,
      notebooks: reports.map((r, i) => ({ file: files[i], durationS: r.durationS })),
      totalS: elapsed(),
      warn: log,
    });
    log('');
    for (const line of lines) log(line);
    log(`summary: ${path.relative(rootDir, file) || file}`);
  } catch (err) {
    log(`(could not write the run summary: ${(err as Error).message})`);
  }
  return reports;
}
