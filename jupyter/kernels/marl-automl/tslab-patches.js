// Fixes for three tslab 1.0.22 limitations, shared by the marl-automl kernel (launch.js) and the
// headless notebook runner (src/notebook/runner/child.ts) so both execute notebooks identically.
//
// 1. Folder imports. tslab compiles the project's .ts files itself and serves them from memory,
//    but looks them up only as `<id>.js`: `import { tf } from './src/backend'` (a folder with
//    index.ts, the project's convention) is not found ("Cannot find module"). The patched
//    require maps a relative import of a folder that has an index.ts (and no index.js) to
//    `<folder>/index`, which tslab does serve.
// 2. "Unexpected pending rebuildTimer". When a watched directory changes between cells (a cell
//    writes a file next to imported sources, or a source folder gains a file), TypeScript
//    schedules a second, different rebuild timer and tslab's converter throws on the next cell.
//    Directory watches only notice newly created modules, so they are turned off; file watches
//    stay, so edited sources are still recompiled.
// 3. Non-strict type checking. tslab compiles with fixed, non-strict options, where library code
//    written for the project's `strict` tsconfig can fail to type-check (e.g. `if (!r.ok) r.error`
//    on a union discriminated by `ok: true | false` does not narrow without strictNullChecks).
//    The patch adds `strict: true`, so notebooks and library code are checked as by `tsc`.
//    MARL_AUTOML_TSLAB_STRICT=0 restores tslab's default. Must run before tslab's converter loads.
'use strict';
const fs = require('fs');
const path = require('path');
const Module = require('module');

const APPLIED = Symbol.for('marl-automl.tslab-patches');

function hasTsIndex(dir) {
  try {
    if (!fs.statSync(dir).isDirectory()) return false;
  } catch {
    return false;
  }
  if (fs.existsSync(path.join(dir, 'index.js'))) return false;
  return fs.existsSync(path.join(dir, 'index.ts')) || fs.existsSync(path.join(dir, 'index.tsx'));
}

/**
 * Applies both patches once per process. `root` is tslab's root (the kernel's working directory);
 * `tslabMain` is the path of the tslab package's main file (to find its TypeScript).
 */
function applyTslabPatches(root, tslabMain) {
  if (globalThis[APPLIED]) return;
  globalThis[APPLIED] = true;
  const rootDir = path.resolve(root);

  const tsPath = require.resolve('@tslab/typescript-for-tslab', { paths: [path.dirname(tslabMain)] });
  const ts = require(tsPath);
  ts.sys.watchDirectory = () => ({ close() {} });

  // 3. Strict type checking, as in the project's tsconfig (see the header).
  if (process.env.MARL_AUTOML_TSLAB_STRICT !== '0') {
    const mod = require.cache[tsPath];
    if (mod && mod.exports === ts) {
      // The module's exports are non-configurable getters, so tslab's converter is handed a copy
      // whose createWatchCompilerHost adds `strict: true` to tslab's fixed compiler options.
      const copy = {};
      for (const k of Object.keys(ts)) Object.defineProperty(copy, k, { enumerable: true, configurable: true, get: () => ts[k] });
      const createHost = ts.createWatchCompilerHost;
      Object.defineProperty(copy, 'createWatchCompilerHost', {
        enumerable: true,
        value: function (rootFiles, options, ...rest) {
          return createHost.call(this, rootFiles, Object.assign({}, options, { strict: true }), ...rest);
        },
      });
      Object.defineProperty(copy, '__esModule', { value: true });
      mod.exports = copy;
    }
  }

  const original = Module.prototype.require;
  Module.prototype.require = function patchedRequire(id) {
    if (typeof id === 'string' && (id.startsWith('./') || id.startsWith('../')) && globalThis.__tslab__) {
      const base = this && this.filename ? path.dirname(this.filename) : rootDir;
      const abs = path.resolve(base, id);
      const rel = path.relative(rootDir, abs);
      if (rel && !rel.startsWith('..') && !path.isAbsolute(rel) && !rel.split(path.sep).includes('node_modules') && hasTsIndex(abs)) {
        return globalThis.__tslab__.require('./' + path.join(rel, 'index').split(path.sep).join('/'));
      }
    }
    return original.apply(this, arguments);
  };
}

module.exports = { applyTslabPatches };
