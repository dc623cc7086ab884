import { strict as assert } from 'assert';
import { budget, parsePreset, preset, PRESET_ENV } from '../../src/notebook/presets';
import {
  notebookName,
  resultsDir,
  setResultsDir,
  RESULTS_DIR_ENV,
  NOTEBOOK_NAME_ENV,
} from '../../src/notebook/results';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

describe('notebook presets', () => {
  const saved = process.env[PRESET_ENV];
  afterEach(() => {
    if (saved === undefined) delete process.env[PRESET_ENV];
    else process.env[PRESET_ENV] = saved;
  });

  it('reads the preset from MARL_AUTOML_PRESET and defaults to quick', () => {
    assert.equal(preset({}), 'quick');
    assert.equal(preset({ [PRESET_ENV]: '' }), 'quick');
    assert.equal(preset({ [PRESET_ENV]: 'smoke' }), 'smoke');
    assert.equal(preset({ [PRESET_ENV]: ' full ' }), 'full');
  });

  it('rejects an unknown preset naming the variable and the accepted names', () => {
    assert.throws(
      () => preset({ [PRESET_ENV]: 'fast' }),
      /environment variable MARL_AUTOML_PRESET: unknown preset "fast"; expected one of smoke, quick, full/,
    );
    assert.throws(() => parsePreset('Smoke', '--preset'), /--preset: unknown preset "Smoke"/);
  });

  it('budget picks the active preset value', () => {
    const values = { smoke: 1, quick: 3, full: 5 };
    process.env[PRESET_ENV] = 'smoke';
    assert.equal(budget(values), 1);
    process.env[PRESET_ENV] = 'full';
    assert.equal(budget(values), 5);
    delete process.env[PRESET_ENV];
    assert.equal(budget(values), 3);
    assert.deepEqual(budget({ smoke: [1], quick: [1, 2], full: [1, 2, 3] }, 'quick'), [1, 2]);
  });

  it('budget rejects missing, unknown and non-object values', () => {
    assert.throws(() => budget({ smoke: 1, quick: 2 } as never), /budget: missing value for preset 'full'/);
    assert.throws(() => budget({ smoke: 1, quick: 2, full: 3, huge: 4 } as never), /budget: unknown preset key 'huge'/);
    assert.throws(() => budget(null as never), /budget: expected an object with keys smoke, quick, full, got null/);
    process.env[PRESET_ENV] = 'tiny';
    assert.throws(() => budget({ smoke: 1, quick: 2, full: 3 }), /MARL_AUTOML_PRESET: unknown preset "tiny"/);
  });
});

describe('notebook results folder', () => {
  const savedDir = process.env[RESULTS_DIR_ENV];
  afterEach(() => {
    setResultsDir(undefined);
    if (savedDir === undefined) delete process.env[RESULTS_DIR_ENV];
    else process.env[RESULTS_DIR_ENV] = savedDir;
  });

  it('names the notebook from the runner, Jupyter or falls back to interactive', () => {
    assert.equal(notebookName({ [NOTEBOOK_NAME_ENV]: '03-main' }), '03-main');
    assert.equal(notebookName({ JPY_SESSION_NAME: '/home/u/repo/notebooks/04-robust.ipynb' }), '04-robust');
    assert.equal(notebookName({}), 'interactive');
  });

  it('uses MARL_AUTOML_RESULTS_DIR, an override, and creates the folder', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resdir-'));
    try {
      process.env[RESULTS_DIR_ENV] = path.join(tmp, 'a', 'b');
      assert.equal(resultsDir(), path.join(tmp, 'a', 'b'));
      assert.ok(fs.statSync(path.join(tmp, 'a', 'b')).isDirectory());
      setResultsDir(path.join(tmp, 'c'));
      assert.equal(resultsDir(), path.join(tmp, 'c'));
      assert.throws(() => setResultsDir('  '), /setResultsDir: expected a non-empty folder path/);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
