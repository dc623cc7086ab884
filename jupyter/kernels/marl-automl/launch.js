#!/usr/bin/env node
// Jupyter kernel launcher for marl-automl notebooks.
// Starts the project's own tslab (node_modules/tslab) with the repository root as working
// directory, so notebook cells import library code as `./src/...` (tslab compiles only files under
// its working directory) and relative paths such as `results/` resolve from the root.
// Used through `JUPYTER_PATH=<repo>/jupyter` (see `npm run lab` and README).
'use strict';
const path = require('path');
const fs = require('fs');

const root = path.resolve(__dirname, '..', '..', '..');
const args = process.argv.slice(2);
const i = args.indexOf('--config-path');
const configPath = i >= 0 ? args[i + 1] : args[0];
if (!configPath) {
  console.error('marl-automl kernel: missing connection file (usage: launch.js --config-path <file>)');
  process.exit(2);
}
const main = path.join(root, 'node_modules', 'tslab', 'dist', 'main.js');
if (!fs.existsSync(main)) {
  console.error(`marl-automl kernel: ${main} not found; run \`npm ci\` in ${root} first`);
  process.exit(1);
}
process.chdir(root);
require('./tslab-patches').applyTslabPatches(root, main);
// Error name and message in execute replies, a warning when imported src/ files change (kernel-hooks.js).
const hooks = require('./kernel-hooks');
hooks.installKernelHooks(root, main);
// The notebook's name for results/<notebook>/ where the front end does not pass it (Notebook 6.4).
hooks.resolveNotebookName(path.resolve(configPath)).catch(() => undefined);
require(main).startKernel({ configPath: path.resolve(configPath), enableFindLocal: false, jsKernel: false });
