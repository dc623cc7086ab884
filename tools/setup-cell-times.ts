/**
 * Measures what a notebook's setup cell costs before any experiment work: tslab type-checking and
 * loading the library the notebook imports. For each notebook it builds a one-cell copy holding all
 * of the notebook's `import` statements and runs it through the headless runner (tslab's own
 * compiler and executor, as in the Jupyter kernel), then prints the cell's time.
 *
 *   npx tsx tools/setup-cell-times.ts [--rewrite-to src|dist] [--after-build-cell] [notebooks...]
 *
 * `--after-build-cell` runs the notebooks' build-check cell first (as the notebooks do), so the
 * import cell's time no longer includes tslab's own start-up.
 * `--rewrite-to src` rewrites `./dist/src/...` imports to `./src/...` (the old way, for a
 * before/after comparison); `--rewrite-to dist` does the opposite. Default: imports as written.
 * Results of 2026-12-07 are in environment.md ("Setup cells").
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { defaultNotebooks, joinText, readNotebook, runNotebook } from '../src/notebook/runner';

function importsOf(file: string): string {
  const nb = readNotebook(file);
  const out: string[] = [];
  for (const c of nb.cells) {
    if (c.cell_type !== 'code') continue;
    const src = joinText(c.source);
    for (const m of src.matchAll(/^import\s[\s\S]*?\sfrom\s+'[^']+';/gm)) out.push(m[0]);
    for (const m of src.matchAll(/^import\s+'[^']+';/gm)) out.push(m[0]);
  }
  return [...new Set(out)].join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let rewrite: 'src' | 'dist' | undefined;
  const i = args.indexOf('--rewrite-to');
  if (i >= 0) {
    const v = args[i + 1];
    if (v !== 'src' && v !== 'dist') throw new Error(`--rewrite-to: expected src or dist, got ${v}`);
    rewrite = v;
    args.splice(i, 2);
  }
  const afterBuild = args.includes('--after-build-cell');
  if (afterBuild) args.splice(args.indexOf('--after-build-cell'), 1);
  const root = process.cwd();
  const files = args.length ? args.map((f) => path.resolve(f)) : defaultNotebooks(root);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'setup-times-'));
  const rows: string[] = [];
  for (const file of files) {
    let imports = importsOf(file);
    if (rewrite === 'src') imports = imports.replace(/'\.\/dist\/src\//g, "'./src/");
    if (rewrite === 'dist') imports = imports.replace(/'\.\/src\//g, "'./dist/src/");
    const name = path.basename(file, '.ipynb');
    const nbFile = path.join(tmp, `${name}.ipynb`);
    const source = `${imports}\nconsole.log('imports loaded');`;
    fs.writeFileSync(
      nbFile,
      JSON.stringify({
        cells: [
          ...(afterBuild
            ? [
                {
                  cell_type: 'code',
                  id: 'b0',
                  metadata: {},
                  execution_count: null,
                  outputs: [],
                  source: "require('./jupyter/library-build').ensureLibraryBuild({ log: console.log });",
                },
              ]
            : []),
          { cell_type: 'code', id: 'c0', metadata: {}, execution_count: null, outputs: [], source },
        ],
        metadata: {
          kernelspec: { name: 'marl-automl', display_name: 'TypeScript (marl-automl)', language: 'typescript' },
        },
        nbformat: 4,
        nbformat_minor: 5,
      }),
    );
    const t0 = performance.now();
    const report = await runNotebook(nbFile, {
      preset: 'smoke',
      rootDir: root,
      outDir: path.join(tmp, 'out'),
      resultsRoot: path.join(tmp, 'results'),
      echo: false,
      log: () => undefined,
    });
    const total = (performance.now() - t0) / 1000;
    const cell = report.cells[report.cells.length - 1];
    const first = afterBuild ? `build-check cell ${report.cells[0].durationS.toFixed(2)} s, ` : '';
    rows.push(
      `${name.padEnd(24)} ${first}import cell ${cell.durationS.toFixed(2)} s   (process total ${total.toFixed(2)} s)`,
    );
    process.stdout.write(rows[rows.length - 1] + '\n');
  }
  fs.rmSync(tmp, { recursive: true, force: true });
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
