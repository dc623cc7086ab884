import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runNotebook } from '../../src/notebook/runner';
import { resolveSourceModule } from '../../src/runtime/jobs';

const ROOT = path.resolve(__dirname, '..', '..');

describe('runtime from a tslab kernel', function () {
  this.timeout(180000);

  it('maps a tslab-style .js module path to the .ts source that exists', () => {
    const ts = path.join(ROOT, 'src', 'runtime', 'jobs.ts');
    assert.equal(resolveSourceModule(ts.replace(/\.ts$/, '.js')), ts);
    assert.equal(resolveSourceModule(ts), ts);
    assert.equal(resolveSourceModule('/nonexistent/x.js'), '/nonexistent/x.js');
  });

  it('runs WorkerPoolExecutor jobs from a notebook with the same results as inline', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nbpool-'));
    try {
      const report = await runNotebook(path.join(ROOT, 'test', 'fixtures', 'notebooks', 'worker-pool.ipynb'), {
        rootDir: ROOT,
        outDir: path.join(tmp, 'out'),
        resultsRoot: path.join(tmp, 'res'),
        preset: 'smoke',
        timeoutS: 150,
        log: () => undefined,
      });
      assert.equal(report.ok, true);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
