import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { labPlan, installHelp, KERNEL_NAME } from '../../src/cli/lab';
import { joinText, readNotebook, runNotebook, type Notebook } from '../../src/notebook/runner';

const ROOT = path.resolve(__dirname, '..', '..');
const FIX = path.join(ROOT, 'test', 'fixtures', 'notebooks');
const HAS_NBCONVERT = spawnSync('jupyter', ['nbconvert', '--version'], { encoding: 'utf8' }).status === 0;

/** Cell outputs as comparable text: stream text per stream name, display bundles by MIME type. */
function outputsOf(nb: Notebook): unknown[] {
  return nb.cells
    .filter((c) => c.cell_type === 'code')
    .map((c) =>
      (c.outputs ?? []).map((o) =>
        o.output_type === 'stream'
          ? { stream: o.name, text: joinText(o.text) }
          : o.output_type === 'display_data'
            ? {
                display: Object.fromEntries(
                  Object.entries(o.data).map(([k, v]) => [k, Array.isArray(v) ? v.join('') : v]),
                ),
              }
            : { type: o.output_type },
      ),
    );
}

describe('project kernel and npm run lab', function () {
  this.timeout(120000);
  let tmp: string;
  before(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kernel-'))));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('kernelspec starts the local tslab from the repository root', () => {
    const spec = JSON.parse(fs.readFileSync(path.join(ROOT, 'jupyter', 'kernels', KERNEL_NAME, 'kernel.json'), 'utf8'));
    assert.deepEqual(spec.argv, ['node', '{resource_dir}/launch.js', '--config-path', '{connection_file}']);
    assert.equal(spec.language, 'typescript');
    const launch = spawnSync(process.execPath, [path.join(ROOT, 'jupyter', 'kernels', KERNEL_NAME, 'launch.js')], {
      encoding: 'utf8',
    });
    assert.equal(launch.status, 2);
    assert.match(launch.stderr, /missing connection file/);
  });

  (HAS_NBCONVERT ? it : it.skip)(
    'Jupyter finds the kernel via JUPYTER_PATH and executes a notebook with the same outputs as the headless runner',
    async () => {
      const env = {
        ...process.env,
        JUPYTER_PATH: path.join(ROOT, 'jupyter'),
        MARL_AUTOML_PRESET: 'smoke',
        MARL_AUTOML_RESULTS_DIR: path.join(tmp, 'res', 'outputs'),
      };
      const list = spawnSync('jupyter', ['kernelspec', 'list', '--json'], { env, encoding: 'utf8' });
      assert.equal(list.status, 0, list.stderr);
      assert.equal(
        JSON.parse(list.stdout).kernelspecs[KERNEL_NAME].resource_dir,
        path.join(ROOT, 'jupyter', 'kernels', KERNEL_NAME),
      );
      const conv = spawnSync(
        'jupyter',
        [
          'nbconvert',
          '--to',
          'notebook',
          '--execute',
          `--ExecutePreprocessor.kernel_name=${KERNEL_NAME}`,
          '--ExecutePreprocessor.timeout=120',
          '--output-dir',
          path.join(tmp, 'nbconvert'),
          path.join(FIX, 'outputs.ipynb'),
        ],
        { env, encoding: 'utf8', cwd: tmp },
      );
      assert.equal(conv.status, 0, conv.stderr);
      const viaKernel = readNotebook(path.join(tmp, 'nbconvert', 'outputs.ipynb'));
      const report = await runNotebook(path.join(FIX, 'outputs.ipynb'), {
        rootDir: ROOT,
        preset: 'smoke',
        outDir: path.join(tmp, 'runner'),
        resultsRoot: path.join(tmp, 'res'),
        log: () => undefined,
      });
      const viaRunner = readNotebook(report.output);
      assert.deepEqual(outputsOf(viaRunner), outputsOf(viaKernel));
      assert.equal(outputsOf(viaKernel).length, 4);
    },
  );

  (HAS_NBCONVERT ? it : it.skip)('Jupyter reports a failing cell as a failed execution', () => {
    const env = { ...process.env, JUPYTER_PATH: path.join(ROOT, 'jupyter') };
    const conv = spawnSync(
      'jupyter',
      [
        'nbconvert',
        '--to',
        'notebook',
        '--execute',
        `--ExecutePreprocessor.kernel_name=${KERNEL_NAME}`,
        '--output-dir',
        path.join(tmp, 'nbconvert'),
        path.join(FIX, 'failing.ipynb'),
      ],
      { env, encoding: 'utf8', cwd: tmp },
    );
    assert.notEqual(conv.status, 0);
    assert.match(conv.stderr, /CellExecutionError[\s\S]*boom\(\)/);
    // The execute reply carries the error's name and message (tslab alone gives "<Error>: ").
    assert.match(conv.stderr, /\nRangeError: boom in fixture\n/);
    assert.doesNotMatch(conv.stderr, /<Error>:/);
    assert.doesNotMatch(conv.stderr, /node_modules[\\/]tslab/);
  });

  it('npm run lab: starts JupyterLab, else Notebook, with the kernel on JUPYTER_PATH', () => {
    const bin = path.join(tmp, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    for (const exe of ['jupyter', 'jupyter-notebook']) {
      fs.writeFileSync(path.join(bin, exe), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    }
    let plan = labPlan({ PATH: bin, JUPYTER_PATH: '/other' }, ['--no-browser'], ROOT, false);
    assert.equal(plan.kind, 'notebook');
    assert.equal(plan.command, path.join(bin, 'jupyter'));
    assert.deepEqual(plan.args, [
      'notebook',
      `--notebook-dir=${ROOT}`,
      '--NotebookApp.iopub_data_rate_limit=1e10',
      '--no-browser',
    ]);
    assert.equal(plan.env.JUPYTER_PATH, `${path.join(ROOT, 'jupyter')}:/other`);
    fs.writeFileSync(path.join(bin, 'jupyter-lab'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    plan = labPlan({ PATH: bin }, [], ROOT, true);
    assert.equal(plan.kind, 'lab');
    assert.deepEqual(plan.args, [
      'lab',
      `--ServerApp.root_dir=${ROOT}`,
      '--ServerApp.iopub_data_rate_limit=1e10',
      '--allow-root',
    ]);
    assert.equal(plan.env.JUPYTER_PATH, path.join(ROOT, 'jupyter'));
  });

  it('npm run lab: explains what to install where Jupyter is missing', () => {
    const plan = labPlan({ PATH: path.join(tmp, 'empty') }, [], ROOT);
    assert.equal(plan.kind, 'missing');
    assert.match(plan.message, /^Jupyter is not installed/);
    assert.match(plan.message, /sudo apt-get install jupyter-notebook/);
    assert.match(plan.message, /pip install jupyterlab/);
    assert.ok(plan.message.includes(`JUPYTER_PATH=${path.join(ROOT, 'jupyter')} code ${ROOT}`));
    assert.match(installHelp(ROOT, true), /^Jupyter is installed, but neither JupyterLab/);
  });
});
