// The compiled library for notebooks: `dist/src/...` (JavaScript plus declaration files), built
// from `src/` by `npm run build` (tsc -p tsconfig.build.json).
//
// Notebooks import the compiled library (`import { ... } from './dist/src/ganno'`) rather than
// the TypeScript sources: tslab then type-checks a cell against the small declaration files
// instead of compiling the whole `src/` graph on every kernel start (setup cells went from
// 16-37 s to a few seconds; see environment.md, "Setup cells"). The first cell of every notebook
// calls `ensureLibraryBuild()`, which rebuilds `dist/` when any file under `src/` (or a tsconfig)
// is newer than the last build, and says so; the headless runner (`npm run notebooks`) and
// `npm run lab` call it before starting. Plain CommonJS (no compilation needed) so that it works
// when `dist/` is missing or stale.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

/** File written into dist/ after a successful build; its mtime is the build time. */
const STAMP = '.library-build.json';

function repoRoot(from) {
  let dir = path.resolve(from || __dirname);
  for (;;) {
    if (fs.existsSync(path.join(dir, 'tsconfig.build.json')) && fs.existsSync(path.join(dir, 'src'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`library build: tsconfig.build.json and src/ not found above ${from || __dirname}`);
    dir = parent;
  }
}

/** Newest modification among src/ (files and folders: a deleted file changes its folder) and the build configs. */
function newestInput(root) {
  let newest = { mtimeMs: 0, file: '' };
  const consider = (p, st) => {
    if (st.mtimeMs > newest.mtimeMs) newest = { mtimeMs: st.mtimeMs, file: path.relative(root, p) };
  };
  const walk = (dir) => {
    consider(dir, fs.statSync(dir));
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) consider(p, fs.statSync(p));
    }
  };
  walk(path.join(root, 'src'));
  for (const f of ['tsconfig.json', 'tsconfig.build.json', 'package.json']) {
    const p = path.join(root, f);
    if (fs.existsSync(p)) consider(p, fs.statSync(p));
  }
  return newest;
}

/**
 * Whether `dist/` is missing or older than `src/`.
 * Returns { state: 'fresh' | 'missing' | 'stale', changed?: string, builtAt?: Date }.
 */
function libraryBuildState(root) {
  root = repoRoot(root);
  const stamp = path.join(root, 'dist', STAMP);
  if (!fs.existsSync(stamp) || !fs.existsSync(path.join(root, 'dist', 'src', 'index.js'))) return { state: 'missing' };
  const built = fs.statSync(stamp);
  const newest = newestInput(root);
  if (newest.mtimeMs > built.mtimeMs) return { state: 'stale', changed: newest.file, builtAt: built.mtime };
  return { state: 'fresh', builtAt: built.mtime };
}

/** Runs the project's TypeScript compiler (tsc -p tsconfig.build.json); throws with its output on failure. */
function buildLibrary(root) {
  root = repoRoot(root);
  const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
  const t0 = Date.now();
  // An incremental build whose outputs were deleted would emit nothing: forget its state first.
  if (!fs.existsSync(path.join(root, 'dist', 'src', 'index.js'))) fs.rmSync(path.join(root, 'dist', '.tsbuildinfo'), { force: true });
  const res = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' });
  if (res.status !== 0) {
    const out = `${res.stdout || ''}${res.stderr || ''}`.trim() || (res.error ? res.error.message : `exit ${res.status}`);
    throw new Error(`library build failed (npm run build in ${root}):\n${out}`);
  }
  const stamp = path.join(root, 'dist', STAMP);
  const tmp = `${stamp}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ builtAt: new Date().toISOString(), seconds: (Date.now() - t0) / 1000 }) + '\n');
  fs.renameSync(tmp, stamp);
  return (Date.now() - t0) / 1000;
}

/** Whether this process has already loaded modules from dist/ (a rebuild then needs a restart). */
function distLoaded(root) {
  const prefix = path.join(root, 'dist') + path.sep;
  return Object.keys(require.cache).some((k) => k.startsWith(prefix));
}

/**
 * Makes sure dist/ is current: builds it when missing or older than src/, printing what it does
 * through `log` (default console.log). `quiet` prints nothing when it is fresh. Returns nothing (a
 * notebook cell would print a return value). When this process already loaded the old build (a
 * kernel that ran cells before the source changed), it rebuilds and says to restart the kernel.
 */
function ensureLibraryBuild(options) {
  const opts = options || {};
  const log = opts.log || ((s) => console.log(s));
  const root = repoRoot(opts.root);
  const st = libraryBuildState(root);
  if (st.state === 'fresh') {
    if (!opts.quiet) log(`compiled library dist/ is up to date with src/ (built ${st.builtAt.toISOString()})`);
    return undefined;
  }
  const why =
    st.state === 'missing'
      ? 'dist/ has no build yet'
      : `src/ changed since the last build (${st.changed} is newer than dist/, built ${st.builtAt.toISOString()})`;
  const loaded = distLoaded(root);
  log(`${why}: building dist/ with \`npm run build\` (tsc, about 20-60 s)...`);
  const seconds = buildLibrary(root);
  log(`built dist/ in ${seconds.toFixed(1)} s`);
  if (loaded)
    log(
      'NOTE: this kernel has already loaded the previous build; restart the kernel (Kernel > Restart) so that every cell uses the new one.',
    );
  return undefined;
}

module.exports = { ensureLibraryBuild, libraryBuildState, buildLibrary, repoRoot, STAMP };
