import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as api from '../src';

describe('package entry point', () => {
  it("package.json's main and types point at the compiled src/index.ts, which exposes one namespace per core folder", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
    assert.equal(pkg.main, 'dist/src/index.js');
    assert.equal(pkg.types, 'dist/src/index.d.ts');
    assert.ok(fs.existsSync(path.join(__dirname, '..', 'src', 'index.ts')));
    assert.deepEqual(Object.keys(api).sort(), [
      'backend',
      'config',
      'credit',
      'data',
      'evaluation',
      'ganno',
      'io',
      'ma2ml',
      'marl',
      'nn',
      'progress',
      'random',
      'runtime',
      'schedules',
    ]);
    assert.equal(typeof api.nn.VectorisedTrainer, 'function');
    assert.equal(typeof api.ganno.LayerLrEnv, 'function');
    assert.deepEqual(api.config.PRESET_NAMES, ['smoke', 'quick', 'full']);
  });
});
