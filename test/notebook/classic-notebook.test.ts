import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ensureLibraryBuildAt } from '../../src/cli/library-build';

const ROOT = path.resolve(__dirname, '..', '..');
const HAVE = fs.existsSync('/usr/bin/chromium') && spawnSync('jupyter-notebook', ['--version']).status === 0;

describe('interactive figures in the classic Notebook (real browser)', function () {
  this.timeout(300000);

  (HAVE ? it : it.skip)(
    'figures are interactive plotly plots (hover, legend toggle, toolbar) and draw again after a reload',
    () => {
      ensureLibraryBuildAt(ROOT, () => undefined); // the notebook imports dist/; its build is not the subject here
      const res = spawnSync(
        process.execPath,
        ['--import', 'tsx', path.join(ROOT, 'tools', 'check-classic-notebook.ts')],
        {
          cwd: ROOT,
          encoding: 'utf8',
          env: { ...process.env, MARL_AUTOML_STATIC_FIGURES: '' },
          timeout: 280000,
        },
      );
      const out = `${res.stdout}${res.stderr}`;
      assert.equal(res.status, 0, out);
      for (const line of [
        /ok {3}classic Notebook shows the HTML figures, not PNGs/,
        /ok {3}hovering a curve shows a plotly hover label/,
        /ok {3}clicking a legend entry hides its curve/,
        /ok {3}after save and page reload both figures draw again/,
        /all checks passed/,
      ])
        assert.match(out, line);
    },
  );
});
