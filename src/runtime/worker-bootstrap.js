'use strict';
// Entry file of each WorkerPoolExecutor thread when the library runs from TypeScript sources:
// worker threads do not inherit the parent's tsx loader, so register it here, then load the
// TypeScript worker module. (Compiled builds point piscina at worker.js directly.)
require('tsx/cjs');
module.exports = require('./worker.ts');
