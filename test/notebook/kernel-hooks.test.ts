import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
// Plain JS shared by the kernel (launch.js) and the headless runner.
const hooks = require(path.join(ROOT, 'jupyter', 'kernels', 'marl-automl', 'kernel-hooks.js')) as {
  errorContent(err: unknown, root: string): { ename: string; evalue: string; traceback: string[] };
  createSourceWatch(root: string): { loaded(file: string): void; check(): string[]; files(): string[] };
  findNotebookPath(
    configPath: string,
    fetch: (url: string, token: string) => Promise<unknown>,
  ): Promise<string | undefined>;
};

describe('kernel hooks: error content and edited-source watch', () => {
  it('keeps name, message and the frames of the cell and src/, drops node, vm and tslab internals', () => {
    const err = new RangeError('lr must be positive, got -1');
    err.stack = [
      'RangeError: lr must be positive, got -1',
      `    at parseConfig (${ROOT}/src/config/index.js:40:11)`,
      `    at validate (${ROOT}/dist/src/config/validate.js:12:3)`,
      '    at evalmachine.<anonymous>:5:44',
      '    at evalmachine.<anonymous>:7:3',
      '    at sigintHandlersWrap (node:vm:280:12)',
      '    at Script.runInThisContext (node:vm:135:14)',
      `    at Object.execute (${ROOT}/node_modules/tslab/dist/executor.js:160:38)`,
      `    at JupyterHandlerImpl.handleExecuteImpl (${ROOT}/node_modules/tslab/dist/jupyter.js:250:38)`,
      `    at Handler.handleExecuteImpl (${ROOT}/jupyter/kernels/marl-automl/kernel-hooks.js:190:20)`,
    ].join('\n');
    assert.deepEqual(hooks.errorContent(err, ROOT), {
      ename: 'RangeError',
      evalue: 'lr must be positive, got -1',
      traceback: [
        'RangeError: lr must be positive, got -1',
        '    at parseConfig (src/config/index.ts, compiled line 40)',
        '    at validate (src/config/validate.ts, compiled line 12)',
        '    at <cell>',
      ],
    });
  });

  it('reports an interrupt as KeyboardInterrupt and a thrown non-Error value by its text', () => {
    assert.equal(hooks.errorContent(new Error('Interrupted asynchronously'), ROOT).ename, 'KeyboardInterrupt');
    assert.equal(hooks.errorContent(new Error('Script execution interrupted.'), ROOT).ename, 'KeyboardInterrupt');
    assert.deepEqual(hooks.errorContent('plain string', ROOT), {
      ename: 'Error',
      evalue: 'non-Error value thrown: plain string',
      traceback: ['Error: non-Error value thrown: plain string'],
    });
  });

  it('reports a loaded src/ file whose content changed, once; ignores touches and files outside src/', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'watch-'));
    try {
      fs.mkdirSync(path.join(root, 'src', 'a'), { recursive: true });
      const ts = path.join(root, 'src', 'a', 'mod.ts');
      const other = path.join(root, 'notebooks-helper.ts');
      fs.writeFileSync(ts, 'export const a = 1;\n');
      fs.writeFileSync(other, 'export const b = 1;\n');
      const watch = hooks.createSourceWatch(root);
      watch.loaded(path.join(root, 'src', 'a', 'mod.js')); // tslab's in-memory name of mod.ts
      watch.loaded(other);
      assert.deepEqual(watch.files(), ['src/a/mod.ts']);
      // The compiled library (dist/src/x.js, what notebooks import) is watched through its source.
      const viaDist = hooks.createSourceWatch(root);
      viaDist.loaded(path.join(root, 'dist', 'src', 'a', 'mod.js'));
      assert.deepEqual(viaDist.files(), ['src/a/mod.ts']);
      assert.deepEqual(watch.check(), []);
      const later = new Date(Date.now() + 5000);
      fs.utimesSync(ts, later, later); // touched, same content
      assert.deepEqual(watch.check(), []);
      fs.writeFileSync(ts, 'export const a = 2;\n');
      const lines = watch.check();
      assert.match(lines[0], /library code changed on disk since this kernel loaded it: src\/a\/mod\.ts \(changed\)/);
      assert.match(lines.join('\n'), /Restart the kernel/);
      assert.deepEqual(watch.check(), [], 'each change is reported once');
      fs.rmSync(ts);
      assert.match(watch.check()[0], /src\/a\/mod\.ts \(was deleted\)/);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it("finds the notebook of this kernel's session from the servers' info files next to its connection file", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runtime-'));
    try {
      const kernel = path.join(dir, 'kernel-abc-123.json');
      fs.writeFileSync(kernel, '{}');
      fs.writeFileSync(
        path.join(dir, 'nbserver-11.json'),
        JSON.stringify({ url: 'http://127.0.0.1:8888/', token: 't1' }),
      );
      fs.writeFileSync(
        path.join(dir, 'jpserver-12.json'),
        JSON.stringify({ url: 'http://127.0.0.1:9999/lab', token: 't2' }),
      );
      const asked: string[] = [];
      const fetch = async (url: string, token: string) => {
        asked.push(`${url} ${token}`);
        if (url.startsWith('http://127.0.0.1:8888/')) return [{ path: 'other.ipynb', kernel: { id: 'zzz' } }];
        return [{ path: 'notebooks/12-ganno-vs-schedules.ipynb', kernel: { id: 'abc-123' } }];
      };
      assert.equal(await hooks.findNotebookPath(kernel, fetch), 'notebooks/12-ganno-vs-schedules.ipynb');
      // Each server is asked with its own token, at its base URL.
      assert.ok(asked.includes('http://127.0.0.1:9999/lab/api/sessions t2'), asked.join(' | '));
      assert.ok(
        asked.every((a) => /^http:\/\/127\.0\.0\.1:(8888\/api\/sessions t1|9999\/lab\/api\/sessions t2)$/.test(a)),
      );
      assert.equal(await hooks.findNotebookPath(path.join(dir, 'not-a-kernel.json'), fetch), undefined);
      assert.equal(await hooks.findNotebookPath(kernel, async () => undefined), undefined);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
