// Notebook-facing behaviour of the marl-automl kernel that tslab 1.0.22 does not provide, installed
// from the project side (no change to node_modules): launch.js calls installKernelHooks before
// tslab starts; the headless runner (src/notebook/runner/child.ts) uses errorContent so both
// report errors identically.
//
// 1. Errors in the execute reply. tslab answers a failing cell with `{status: 'error'}` only and
//    prints the error (with ~12 frames of tslab/vm internals) to stderr, so nbconvert reports
//    "<Error>:" with an empty message and front ends show no error output. The hooks record the
//    error tslab prints, publish it as an `error` output (ename, evalue, a traceback without
//    node/tslab internals) and put ename/evalue/traceback into the execute reply.
// 2. Edited library code. A kernel keeps the modules it loaded from src/; after an edit tslab
//    recompiles the file and later imports see the new code while objects made before keep the
//    old: silently mixed versions. Before each cell the hooks compare the src/ files loaded so far
//    with the disk (mtime, then content hash) and say in that cell's output which changed and that
//    a restart is needed.
// 3. The notebook's name. Classic Notebook 6.4 does not tell the kernel which notebook it serves
//    (jupyter_server 2 sets JPY_SESSION_NAME), so interactive results went to results/interactive/.
//    The kernel asks the server that started it: the server's info file (nbserver-*.json /
//    jpserver-*.json, next to the kernel's connection file in Jupyter's runtime folder) gives its
//    URL and token, and GET /api/sessions maps this kernel's id to the notebook path; the name is
//    put into MARL_AUTOML_NOTEBOOK (unless set) for src/notebook's resultsDir().
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const Module = require('module');

const INSTALLED = Symbol.for('marl-automl.kernel-hooks');
/** tslab's message for an asynchronous interrupt, and Node's for a synchronous one (breakOnSigint). */
const INTERRUPT_MESSAGES = new Set(['Interrupted asynchronously', 'Script execution interrupted.']);
/** Stack frames that say nothing about the user's code. */
const INTERNAL_FRAME = [
  /\(node:/,
  /^\s*at node:/,
  /^\s*at (?:new )?Promise \(<anonymous>\)/,
  /[\\/]node_modules[\\/]/,
  /sigintHandlersWrap/,
  /[\\/]jupyter[\\/]kernels[\\/]marl-automl[\\/]/,
  /^\s*at process\.processTicksAndRejections/,
  /^\s*at async Promise\.all/,
];
const MAX_FRAMES = 10;

/**
 * The `error` output of a failed cell: `{ename, evalue, traceback}` with the error's name and
 * message and the stack frames of the cell and of project files (paths relative to `root`,
 * `evalmachine.<anonymous>` shown as `<cell>`), without node, vm and tslab internals.
 */
function errorContent(err, root) {
  if (!(err instanceof Error)) {
    const text = typeof err === 'string' ? err : require('util').inspect(err);
    return { ename: 'Error', evalue: `non-Error value thrown: ${text}`, traceback: [`Error: non-Error value thrown: ${text}`] };
  }
  if (INTERRUPT_MESSAGES.has(err.message)) {
    const evalue = 'the cell was stopped by Kernel › Interrupt';
    return { ename: 'KeyboardInterrupt', evalue, traceback: [`KeyboardInterrupt: ${evalue}`] };
  }
  const ename = err.name || 'Error';
  const evalue = err.message || '';
  const head = `${ename}: ${evalue}`;
  const stack = typeof err.stack === 'string' ? err.stack.split('\n') : [];
  // Frames start at the first "    at " line (the message may span several lines).
  const first = stack.findIndex((l) => /^\s+at /.test(l));
  const rootPrefix = root ? path.resolve(root) + path.sep : null;
  const frames = (first >= 0 ? stack.slice(first) : [])
    .filter((l) => !INTERNAL_FRAME.some((re) => re.test(l)))
    .map((l) => {
      let s = l.replace(/evalmachine\.<anonymous>(:\d+:\d+)?/g, '<cell>');
      if (rootPrefix) s = s.split(rootPrefix).join('');
      s = s.replace(/\bdist\/src\//g, 'src/'); // the compiled library notebooks import
      // tslab serves src/x.ts as in-memory src/x.js: name the source (line numbers are the compiled file's).
      return s.replace(/(\bsrc\/[^\s():]+)\.js:(\d+):\d+/g, '$1.ts, compiled line $2');
    })
    .filter((l, i, all) => i === 0 || l !== all[i - 1]);
  const shown = frames.slice(0, MAX_FRAMES);
  if (frames.length > shown.length) shown.push(`    ... ${frames.length - shown.length} more frame(s)`);
  return { ename, evalue, traceback: [head, ...shown] };
}

/** The content of a failed cell made of TypeScript diagnostics (as tslab prints them). */
function diagnosticsContent(lines) {
  return { ename: 'TypeScriptError', evalue: lines.join('\n'), traceback: ['TypeScriptError: the cell does not type-check', ...lines] };
}

/**
 * Tracks the project's source files (under `<root>/src`) that this process has loaded and reports
 * the ones whose content changed on disk since. `check()` returns one line per newly changed
 * file (each change is reported once).
 */
function createSourceWatch(root) {
  const srcDir = path.join(path.resolve(root), 'src') + path.sep;
  const distSrcDir = path.join(path.resolve(root), 'dist', 'src') + path.sep;
  const loaded = new Map();
  const hashOf = (file) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  const snapshot = (file) => {
    try {
      const st = fs.statSync(file);
      return { mtimeMs: st.mtimeMs, size: st.size, hash: hashOf(file), loadedAt: new Date() };
    } catch {
      return null;
    }
  };
  /** On-disk source of a loaded module: tslab's in-memory `x.js` is `x.ts` (or `.tsx`) on disk. */
  const sourceOf = (filename) => {
    if (fs.existsSync(filename)) return filename;
    for (const ext of ['.ts', '.tsx']) {
      const candidate = filename.replace(/\.js$/, ext);
      if (fs.existsSync(candidate)) return candidate;
    }
    return null;
  };
  return {
    srcDir,
    /** Records a module file being loaded (first load, or a reload after tslab recompiled it). */
    loaded(filename) {
      if (typeof filename !== 'string') return;
      // Notebooks import the compiled library (dist/src/x.js): watch its source, src/x.ts.
      if (filename.startsWith(distSrcDir)) filename = path.join(srcDir, filename.slice(distSrcDir.length));
      if (!filename.startsWith(srcDir)) return;
      if (filename.includes(`${path.sep}node_modules${path.sep}`)) return;
      const file = sourceOf(filename);
      if (!file) return;
      const snap = snapshot(file);
      if (snap) loaded.set(file, snap);
    },
    /** Files (relative to root) loaded so far. */
    files() {
      return [...loaded.keys()].map((f) => path.relative(path.dirname(srcDir), f)).sort();
    },
    /** Lines describing files changed since they were loaded; each change is reported once. */
    check() {
      const changed = [];
      for (const [file, snap] of loaded) {
        let st;
        try {
          st = fs.statSync(file);
        } catch {
          changed.push({ file, what: 'was deleted', snap });
          loaded.delete(file);
          continue;
        }
        if (st.mtimeMs === snap.mtimeMs && st.size === snap.size) continue;
        const hash = hashOf(file);
        const was = snap.hash;
        snap.mtimeMs = st.mtimeMs;
        snap.size = st.size;
        if (hash === was) continue; // touched, same content
        snap.hash = hash;
        changed.push({ file, what: 'changed', snap });
      }
      if (changed.length === 0) return [];
      const rel = (f) => path.relative(path.dirname(srcDir), f);
      return [
        `⚠ library code changed on disk since this kernel loaded it: ${changed.map((c) => `${rel(c.file)} (${c.what})`).join(', ')}.`,
        '  Objects created before keep the old code while new imports get the new one (worker threads started',
        '  from now on load the new one too): results would mix versions. Restart the kernel',
        '  (Kernel › Restart, then run the cells again) to use the edited code consistently.',
      ];
    },
  };
}

/**
 * Installs the hooks in the kernel process (once): call before tslab's startKernel. `root` is the
 * repository root, `tslabMain` the path of tslab's main file. Returns false (and changes nothing)
 * when the tslab version is not the one the hooks were written for.
 */
function installKernelHooks(root, tslabMain) {
  if (globalThis[INSTALLED]) return true;
  const tslabDir = path.dirname(path.dirname(tslabMain));
  const version = JSON.parse(fs.readFileSync(path.join(tslabDir, 'package.json'), 'utf8')).version;
  if (version !== '1.0.22') {
    process.stderr.write(`marl-automl kernel: hooks written for tslab 1.0.22, found ${version}: error details and edit warnings are off\n`);
    return false;
  }
  globalThis[INSTALLED] = true;
  const executorModule = require(path.join(tslabDir, 'dist', 'executor.js'));
  const jupyterModule = require(path.join(tslabDir, 'dist', 'jupyter.js'));

  // Edited sources: record every src/ module the kernel evaluates (tslab compiles them in memory).
  const watch = createSourceWatch(root);
  const compile = Module.prototype._compile;
  Module.prototype._compile = function (content, filename) {
    watch.loaded(filename);
    return compile.apply(this, arguments);
  };

  // Errors: the console tslab's executor reports through records what a cell failed with.
  let current = null; // { error?: unknown, diagnostics: string[] } of the cell being executed
  const createExecutor = executorModule.createExecutor;
  executorModule.createExecutor = function (rootDir, convs, cons) {
    const wrapped = {
      log: (...args) => cons.log(...args),
      error: (...args) => {
        if (current && args.length === 5 && args[0] === '%s%d:%d - %s') {
          const [, file, line, col, text] = args;
          current.diagnostics.push(`${file ? path.relative(rootDir, file) + ' ' : 'cell '}line ${line}:${col} - ${text}`);
          return;
        }
        if (current && args.length === 1 && current.error === undefined) {
          current.error = args[0];
          return; // shown as the cell's error output instead
        }
        cons.error(...args);
      },
    };
    const executor = createExecutor.call(this, rootDir, convs, wrapped);
    const execute = executor.execute;
    executor.execute = async function (src) {
      const lines = watch.check();
      if (lines.length) process.stderr.write(lines.join('\n') + '\n');
      return execute.call(this, src);
    };
    return executor;
  };

  const errors = new WeakMap();
  const Handler = jupyterModule.JupyterHandlerImpl.prototype;
  const handleExecuteImpl = Handler.handleExecuteImpl;
  Handler.handleExecuteImpl = async function (req, writeStream, writeDisplayData) {
    current = { error: undefined, diagnostics: [] };
    const cell = current;
    try {
      return await handleExecuteImpl.call(this, req, writeStream, writeDisplayData);
    } finally {
      if (cell.diagnostics.length) errors.set(req, diagnosticsContent(cell.diagnostics));
      else if (cell.error !== undefined) errors.set(req, errorContent(cell.error, root));
      if (current === cell) current = null;
    }
  };

  // The execute reply (and an `error` output) carry the recorded error.
  jupyterModule.ZmqServer.prototype.handleExecute = async function (sock, msg) {
    const reply = msg.createReply();
    reply.header.msg_type = 'execute_reply';
    const writeStream = (name, text) => {
      const out = msg.createReply();
      out.header.msg_type = 'stream';
      out.content = { name, text };
      out.signAndSend(this.connInfo.key, this.iopub);
    };
    const writeDisplayData = (data, update) => {
      const out = msg.createReply();
      out.header.msg_type = update ? 'update_display_data' : 'display_data';
      out.content = data;
      out.signAndSend(this.connInfo.key, this.iopub);
    };
    const content = await this.handler.handleExecute(msg.content, writeStream, writeDisplayData);
    if (content.status === 'error') {
      const e = errors.get(msg.content) || {
        ename: 'Error',
        evalue: 'the cell failed (see its output)',
        traceback: ['Error: the cell failed (see its output)'],
      };
      const out = msg.createReply();
      out.header.msg_type = 'error';
      out.content = { ename: e.ename, evalue: e.evalue, traceback: e.traceback };
      out.signAndSend(this.connInfo.key, this.iopub);
      Object.assign(content, { ename: e.ename, evalue: e.evalue, traceback: e.traceback });
    }
    reply.content = content;
    reply.signAndSend(this.connInfo.key, sock);
  };
  return true;
}

/** GET `url` (JSON) with a Jupyter token; resolves undefined on any failure. */
function fetchJson(url, token, timeoutMs = 3000) {
  return new Promise((resolve) => {
    let mod;
    try {
      mod = require(new URL(url).protocol === 'https:' ? 'https' : 'http');
    } catch {
      resolve(undefined);
      return;
    }
    const req = mod.get(
      url,
      { headers: token ? { Authorization: `token ${token}` } : {}, timeout: timeoutMs, rejectUnauthorized: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => {
          try {
            resolve(res.statusCode === 200 ? JSON.parse(body) : undefined);
          } catch {
            resolve(undefined);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

/**
 * The path (relative to the server root) of the notebook whose session runs the kernel with
 * connection file `configPath`, asked from the Jupyter servers whose info files lie next to it;
 * undefined when no server knows it (nbconvert, a console, or the session is not registered yet).
 */
async function findNotebookPath(configPath, fetch = fetchJson) {
  const m = /^kernel-(.+)\.json$/.exec(path.basename(configPath));
  if (!m) return undefined;
  const kernelId = m[1];
  const dir = path.dirname(path.resolve(configPath));
  let names;
  try {
    names = fs.readdirSync(dir).filter((f) => /^(nb|jp)server-\d+\.json$/.test(f));
  } catch {
    return undefined;
  }
  for (const name of names) {
    let info;
    try {
      info = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
    } catch {
      continue;
    }
    if (!info || typeof info.url !== 'string') continue;
    const base = info.url.endsWith('/') ? info.url : info.url + '/';
    const sessions = await fetch(`${base}api/sessions`, info.token);
    if (!Array.isArray(sessions)) continue;
    const s = sessions.find((x) => x && x.kernel && x.kernel.id === kernelId);
    const p = s && (s.path || (s.notebook && s.notebook.path));
    if (typeof p === 'string' && p) return p;
  }
  return undefined;
}

/**
 * Sets MARL_AUTOML_NOTEBOOK from the Jupyter session of this kernel, in the background (the server
 * registers the session just after starting the kernel: retried for about a minute). Does nothing
 * when the name is already known (MARL_AUTOML_NOTEBOOK or JPY_SESSION_NAME set).
 */
function resolveNotebookName(configPath, env = process.env, delaysMs = [500, 1000, 2000, 4000, 8000, 15000, 30000]) {
  if (env.MARL_AUTOML_NOTEBOOK || (env.JPY_SESSION_NAME && env.JPY_SESSION_NAME.endsWith('.ipynb'))) {
    return Promise.resolve(undefined);
  }
  return (async () => {
    for (const delay of delaysMs) {
      await new Promise((r) => setTimeout(r, delay).unref());
      if (env.MARL_AUTOML_NOTEBOOK) return env.MARL_AUTOML_NOTEBOOK;
      const p = await findNotebookPath(configPath);
      if (p && p.endsWith('.ipynb')) {
        env.MARL_AUTOML_NOTEBOOK = path.basename(p, '.ipynb');
        return env.MARL_AUTOML_NOTEBOOK;
      }
    }
    return undefined;
  })();
}

module.exports = {
  installKernelHooks,
  errorContent,
  diagnosticsContent,
  createSourceWatch,
  findNotebookPath,
  resolveNotebookName,
};
