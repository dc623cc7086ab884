import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
const TOOLS = path.join(ROOT, 'tools', 'notebooks');

describe('notebook generators (tools/notebooks) match the committed notebooks', function () {
  this.timeout(60_000);
  const scripts = fs
    .readdirSync(TOOLS)
    .filter((f) => /^make-.*\.py$/.test(f))
    .sort();
  const python = spawnSync('/usr/bin/python3', ['--version'], { encoding: 'utf8' });

  it('every generated notebook exists, and every notebook but the toolchain check has a generator', function () {
    const notebooks = fs
      .readdirSync(path.join(ROOT, 'notebooks'))
      .filter((f) => f.endsWith('.ipynb'))
      .sort();
    assert.ok(scripts.length >= 12, `found ${scripts.length} generators`);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'nbgen-'));
    if (python.status !== 0) this.skip(); // python3 is installed by CI's Jupyter packages
    const generated: string[] = [];
    for (const script of scripts) {
      const r = spawnSync('/usr/bin/python3', [path.join(TOOLS, script)], {
        env: { ...process.env, NBGEN_OUT: out },
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, `${script} failed: ${r.stderr}`);
      generated.push(...fs.readdirSync(out).filter((f) => !generated.includes(f)));
    }
    for (const nb of generated) {
      const committed = path.join(ROOT, 'notebooks', nb);
      assert.ok(fs.existsSync(committed), `${nb} is generated but not committed`);
      assert.equal(
        fs.readFileSync(committed, 'utf8'),
        fs.readFileSync(path.join(out, nb), 'utf8'),
        `notebooks/${nb} differs from its generator: edit tools/notebooks/ and regenerate (tools/notebooks/README.md)`,
      );
    }
    assert.deepEqual(
      notebooks.filter((n) => !generated.includes(n)),
      ['99-toolchain-check.ipynb'],
    );
    fs.rmSync(out, { recursive: true, force: true });
  });
});
