/**
 * The notebook process of the headless runner: runs code cells in order with tslab's own
 * converter (TypeScript 5.0 compiler) and executor in this one Node process, and reports outputs,
 * display bundles, errors and timings to the parent over IPC. Not part of the public API.
 */
import * as fs from 'fs';
import Module from 'module';
import * as path from 'path';
import * as util from 'util';
import type { ChildMessage, RunRequest } from './protocol';
import { runCleanups } from './protocol';

interface TslabConverter {
  close(): void;
}
interface TslabExecutor {
  execute(src: string): Promise<boolean>;
  close(): void;
}

/**
 * Plain Node `require` (this file may be loaded through a tsx namespace): tslab and the patches
 * must be the very module instances that notebook code reaches, e.g. `tslab/dist/jupyter` for
 * display output.
 */
const nodeRequire = Module.createRequire(__filename);

let current = -1;
const failed = new Set<number>();
const errored = new Set<number>();
const diagnostics: string[] = [];

function send(msg: ChildMessage): void {
  if (process.send) process.send(msg);
}

function stream(name: 'stdout' | 'stderr', text: string): void {
  if (text) send({ type: 'stream', index: current, name, text });
}

interface ErrorContent {
  ename: string;
  evalue: string;
  traceback: string[];
}
/** The kernel's error formatting (jupyter/kernels/marl-automl/kernel-hooks.js), set in `run`. */
let errorContent: ((err: unknown, root: string) => ErrorContent) | undefined;
let rootDir = process.cwd();

function reportError(err: unknown): void {
  errored.add(current);
  // Same ename/evalue/traceback as the Jupyter kernel: name, message, frames of the cell and src/ only.
  const c: ErrorContent = errorContent
    ? errorContent(err, rootDir)
    : err instanceof Error
      ? { ename: err.name || 'Error', evalue: err.message, traceback: (err.stack ?? String(err)).split('\n') }
      : { ename: 'Error', evalue: util.inspect(err), traceback: [util.inspect(err)] };
  send({ type: 'error', index: current, ename: c.ename, evalue: c.evalue, traceback: c.traceback });
}

function hookOutput(): void {
  const decoder = new util.TextDecoder();
  const make =
    (name: 'stdout' | 'stderr') =>
    (chunk: unknown, encoding?: unknown, cb?: unknown): boolean => {
      const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk as Uint8Array);
      stream(name, text);
      const callback = typeof encoding === 'function' ? encoding : cb;
      if (typeof callback === 'function') process.nextTick(callback as () => void);
      return true;
    };
  process.stdout.write = make('stdout') as typeof process.stdout.write;
  process.stderr.write = make('stderr') as typeof process.stderr.write;
}

/**
 * Finds `jupyter/kernels/marl-automl/tslab-patches.js` (shared with the project kernel, so the
 * runner and Jupyter execute notebooks identically) above this file.
 */
function findPatches(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, 'jupyter', 'kernels', 'marl-automl', 'tslab-patches.js');
    if (fs.existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new Error(`headless runner: jupyter/kernels/marl-automl/tslab-patches.js not found above ${__dirname}`);
    dir = parent;
  }
}

async function run(req: RunRequest): Promise<void> {
  hookOutput();
  rootDir = req.rootDir;
  const patches = findPatches();
  errorContent = (
    nodeRequire(path.join(path.dirname(patches), 'kernel-hooks.js')) as {
      errorContent(err: unknown, root: string): ErrorContent;
    }
  ).errorContent;
  (nodeRequire(patches) as { applyTslabPatches(root: string, tslabMain: string): void }).applyTslabPatches(
    req.rootDir,
    nodeRequire.resolve('tslab'),
  );
  // tslab's display API writes through this hook (the kernel sets it per execute request).
  const jupyter = nodeRequire('tslab/dist/jupyter') as { lastWriteDisplayData: unknown };
  jupyter.lastWriteDisplayData = (
    msg: { data: Record<string, unknown>; metadata?: Record<string, unknown>; transient?: { display_id?: string } },
    update: boolean,
  ) => {
    send({
      type: 'display',
      index: current,
      data: msg.data,
      metadata: msg.metadata ?? {},
      displayId: msg.transient?.display_id,
      update: !!update,
    });
  };
  const { createConverter } = nodeRequire('tslab/dist/converter') as {
    createConverter(o: { isJS: boolean; isBrowser: boolean }): TslabConverter;
  };
  const { createExecutor } = nodeRequire('tslab/dist/executor') as {
    createExecutor(
      root: string,
      convs: unknown,
      console: { log(...a: unknown[]): void; error(...a: unknown[]): void },
    ): TslabExecutor;
  };
  let node: TslabConverter | undefined;
  const convs = {
    get node() {
      if (!node) node = createConverter({ isJS: false, isBrowser: false });
      return node;
    },
    get browser(): TslabConverter {
      throw new Error('browser-mode cells (//%browser) are not supported by the headless runner');
    },
    close() {
      node?.close();
    },
  };
  const executor = createExecutor(req.rootDir, convs, {
    log: (...args: unknown[]) => stream('stdout', util.format(...args) + '\n'),
    error: (...args: unknown[]) => {
      if (args.length === 1 && args[0] instanceof Error) {
        reportError(args[0]);
      } else if (args.length === 5 && args[0] === '%s%d:%d - %s') {
        // A TypeScript diagnostic printed by tslab's executor.
        const [, file, line, col, text] = args as [string, string, number, number, string];
        const msg = `${file ? file : 'cell '}line ${line}:${col} - ${text}`;
        diagnostics.push(msg);
        stream('stderr', msg + '\n');
      } else {
        stream('stderr', util.format(...args) + '\n');
      }
    },
  });
  process.on('uncaughtException', (err) => {
    failed.add(current);
    reportError(err);
  });
  process.on('unhandledRejection', (reason) => {
    failed.add(current);
    reportError(reason);
  });

  for (const cell of req.cells) {
    current = cell.index;
    diagnostics.length = 0;
    send({ type: 'cell-start', index: cell.index });
    const t0 = performance.now();
    let ok: boolean;
    try {
      ok = await executor.execute(cell.source);
    } catch (err) {
      reportError(err);
      ok = false;
    }
    // Let output written in the cell's last tick (and fire-and-forget rejections) arrive first.
    await new Promise((r) => setImmediate(r));
    if (failed.has(cell.index)) ok = false;
    if (!ok && !errored.has(cell.index)) {
      send({
        type: 'error',
        index: cell.index,
        ename: diagnostics.length ? 'TypeScriptError' : 'Error',
        evalue: diagnostics.length ? diagnostics.join('\n') : 'cell failed',
        traceback: diagnostics.length ? [...diagnostics] : ['cell failed'],
      });
    }
    send({ type: 'cell-end', index: cell.index, ok, durationMs: performance.now() - t0 });
    if (!ok) break;
  }
  const cleanupErrors = await runCleanups();
  for (const e of cleanupErrors) stream('stderr', `clean-up failed: ${e}\n`);
  executor.close();
  await new Promise<void>((resolve) => {
    if (process.send) process.send({ type: 'done' } satisfies ChildMessage, undefined, undefined, () => resolve());
    else resolve();
  });
  process.exit(0);
}

// The runner is the only reader of this process's results: when it goes (killed, crashed, Ctrl-C),
// the IPC channel closes and the notebook must stop rather than keep training and writing the store.
process.on('disconnect', () => process.exit(143));

process.once('message', (msg: RunRequest) => {
  if (msg && msg.type === 'run') {
    run(msg).catch((err) => {
      reportError(err);
      process.exit(2);
    });
  }
});
send({ type: 'ready' });
