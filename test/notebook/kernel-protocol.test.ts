import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
const PYTHON = '/usr/bin/python3';
/** Debian's jupyter-client (what CI installs); the test is skipped without it. */
const HAS_JUPYTER_CLIENT =
  fs.existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import jupyter_client'], { encoding: 'utf8' }).status === 0;
/** Classic Notebook (Debian's jupyter-notebook, what `npm run lab` starts there). */
const HAS_NOTEBOOK =
  HAS_JUPYTER_CLIENT && spawnSync('jupyter-notebook', ['--version'], { encoding: 'utf8' }).status === 0;

interface ErrorReply {
  status: string;
  ename: string | null;
  evalue: string | null;
  traceback: string[] | null;
}

/**
 * Kernel › Interrupt, error replies and the edited-source warning, through the real Jupyter
 * protocol (test/notebook/kernel-protocol.py drives the marl-automl kernel with jupyter_client, as
 * a front end does). One kernel, about 40-70 s.
 */
describe('project kernel through the Jupyter protocol', function () {
  this.timeout(240000);

  (HAS_JUPYTER_CLIENT ? it : it.skip)(
    'interrupt cancels the executor (workers gone, no store writes), errors carry name and message, edits are reported',
    () => {
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kernel-protocol-'));
      // A throw-away module under src/ that the driver edits between cells.
      const probe = path.join(ROOT, 'src', `__kernel_probe_${process.pid}.ts`);
      fs.writeFileSync(probe, 'export const probeValue = 41;\n');
      let res: ReturnType<typeof spawnSync>;
      try {
        res = spawnSync(PYTHON, [path.join(__dirname, 'kernel-protocol.py'), ROOT, tmp, probe], {
          encoding: 'utf8',
          timeout: 220000,
        });
      } finally {
        fs.rmSync(probe, { force: true });
        fs.rmSync(tmp, { recursive: true, force: true });
      }
      assert.equal(res.status, 0, `driver failed: ${res.stderr}`);
      const out = JSON.parse(String(res.stdout).trim().split('\n').pop()!);
      if (process.env.MARL_AUTOML_TEST_VERBOSE) console.log(JSON.stringify(out, null, 2));

      assert.equal(out.setup.status, 'ok', out.setup.text);
      assert.match(out.setup.text, /ready 41/);

      // 1. Interrupt: the cell ends as a KeyboardInterrupt, says what it cancelled; the workers that
      // were training are terminated and nothing more reaches the store.
      const it = out.interrupt;
      assert.equal(it.status, 'error');
      assert.equal(it.ename, 'KeyboardInterrupt');
      assert.equal(it.errors.length, 1);
      assert.match(it.text, /interrupted: cancelled 1 run\(s\)/);
      assert.match(it.text, /kp: cancelled 5 unfinished job\(s\) of 6 .*; 1 finished/);
      assert.match(it.text, /re-running the cell resumes/);
      assert.equal(it.rows_at_interrupt, 1);
      assert.equal(it.rows_after, it.rows_at_interrupt, 'no store write after the interrupt');
      assert.ok(it.busy_threads.length >= 1, 'found the training worker threads');
      assert.notEqual(it.busy_threads_gone_after_s, null, 'the training worker threads were terminated');
      // Re-running resumes from the store, on the same executor.
      assert.equal(out.after.status, 'ok', out.after.text);
      assert.match(out.after.text, /resumed: cached 1, computed 1/);

      // 2. Errors: name and message in the execute reply and the error output, no internal frames.
      const lib: ErrorReply & { outputs: ErrorReply[]; stderr: string } = out.library_error;
      assert.equal(lib.status, 'error');
      assert.equal(lib.ename, 'Error');
      assert.equal(lib.evalue, "budget: missing value for preset 'full'");
      assert.equal(lib.traceback![0], "Error: budget: missing value for preset 'full'");
      assert.ok(
        lib.traceback!.some((l) => /at budget \(src\/notebook\/presets\.ts/.test(l)),
        lib.traceback!.join('\n'),
      );
      for (const line of lib.traceback!) assert.doesNotMatch(line, /node_modules|node:|tslab|evalmachine/);
      assert.deepEqual(lib.outputs, [{ ename: lib.ename, evalue: lib.evalue, traceback: lib.traceback }]);
      assert.equal(lib.stderr, '', 'the error is not printed a second time on stderr');
      const ts: ErrorReply = out.type_error;
      assert.equal(ts.status, 'error');
      assert.equal(ts.ename, 'TypeScriptError');
      assert.match(ts.evalue!, /Type 'string' is not assignable to type 'number'/);

      // 3. An edited src/ file is reported in the next cell's output, once.
      assert.equal(out.edit.status, 'ok');
      assert.match(out.edit.text, new RegExp(`library code changed on disk .*src/__kernel_probe_${process.pid}\\.ts`));
      assert.match(out.edit.text, /Restart the kernel/);
      assert.match(out.edit.text, /\b2\n$/);
      assert.equal(out.edit_again.text, '4\n');
    },
  );

  (HAS_NOTEBOOK ? it : it.skip)('in classic Notebook the kernel learns its notebook name from the server', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'notebook-name-'));
    let res: ReturnType<typeof spawnSync>;
    try {
      res = spawnSync(PYTHON, [path.join(__dirname, 'notebook-name.py'), ROOT, tmp, 'notebooks/11-ganno-train.ipynb'], {
        encoding: 'utf8',
        timeout: 150000,
      });
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    assert.equal(res.status, 0, `driver failed: ${res.stderr}`);
    const out = JSON.parse(String(res.stdout).trim().split('\n').pop()!);
    assert.equal(out.session_path, 'notebooks/11-ganno-train.ipynb');
    // Notebook 6 sets no JPY_SESSION_NAME: the name comes from the kernel's own look-up.
    assert.equal(out.kernel_says, 'name=11-ganno-train jpy=');
  });
});
