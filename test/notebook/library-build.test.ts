import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ensureLibraryBuildAt, usesCompiledLibrary } from '../../src/cli/library-build';

const REPO = path.resolve(__dirname, '..', '..');

interface LibraryBuild {
  libraryBuildState(root: string): { state: 'fresh' | 'missing' | 'stale'; changed?: string };
  ensureLibraryBuild(o: { root: string; quiet?: boolean; log?: (s: string) => void }): void;
}
const lib = require(path.join(REPO, 'jupyter', 'library-build.js')) as LibraryBuild;

/** A one-file project with the repository's build layout (src/ → dist/src/, stamp in dist/). */
function tinyProject(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'libbuild-'));
  fs.mkdirSync(path.join(root, 'src'));
  fs.mkdirSync(path.join(root, 'jupyter'));
  fs.copyFileSync(path.join(REPO, 'jupyter', 'library-build.js'), path.join(root, 'jupyter', 'library-build.js'));
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  fs.writeFileSync(
    path.join(root, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'commonjs',
        strict: true,
        declaration: true,
        outDir: 'dist',
        rootDir: '.',
        types: [],
      },
    }),
  );
  fs.writeFileSync(
    path.join(root, 'tsconfig.build.json'),
    JSON.stringify({ extends: './tsconfig.json', include: ['src/**/*.ts'] }),
  );
  fs.writeFileSync(path.join(root, 'src', 'index.ts'), 'export const answer: number = 42;\n');
  return root;
}

describe('compiled library for notebooks (jupyter/library-build.js)', function () {
  this.timeout(120000);

  it('builds dist/ when missing, is fresh after, and rebuilds when a source file is newer', () => {
    const root = tinyProject();
    try {
      assert.equal(lib.libraryBuildState(root).state, 'missing');
      const lines: string[] = [];
      ensureLibraryBuildAt(root, (l) => lines.push(l));
      assert.match(lines.join('\n'), /dist\/ has no build yet: building dist\//);
      assert.equal((require(path.join(root, 'dist', 'src', 'index.js')) as { answer: number }).answer, 42);
      assert.ok(fs.existsSync(path.join(root, 'dist', 'src', 'index.d.ts')));
      assert.equal(lib.libraryBuildState(root).state, 'fresh');
      lines.length = 0;
      ensureLibraryBuildAt(root, (l) => lines.push(l));
      assert.equal(lines.length, 0, 'a current build is not rebuilt and prints nothing when quiet');

      const later = new Date(Date.now() + 5000);
      fs.writeFileSync(path.join(root, 'src', 'index.ts'), 'export const answer: number = 43;\n');
      fs.utimesSync(path.join(root, 'src', 'index.ts'), later, later);
      const st = lib.libraryBuildState(root);
      assert.equal(st.state, 'stale');
      assert.equal(st.changed, path.join('src', 'index.ts'));
      lib.ensureLibraryBuild({ root, log: (l) => lines.push(l) });
      assert.match(lines.join('\n'), /src\/index\.ts is newer than dist\//);
      assert.match(fs.readFileSync(path.join(root, 'dist', 'src', 'index.js'), 'utf8'), /43/);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('a type error fails the build with the compiler message', () => {
    const root = tinyProject();
    try {
      fs.writeFileSync(path.join(root, 'src', 'index.ts'), "export const answer: number = 'no';\n");
      assert.throws(() => ensureLibraryBuildAt(root, () => undefined), /library build failed[\s\S]*TS2322/);
      assert.notEqual(lib.libraryBuildState(root).state, 'fresh');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('every notebook imports the compiled library after its build check, never ./src directly', () => {
    const dir = path.join(REPO, 'notebooks');
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.ipynb'))) {
      const file = path.join(dir, f);
      assert.ok(usesCompiledLibrary(file), `${f} should import ./dist/src/...`);
      const nb = JSON.parse(fs.readFileSync(file, 'utf8')) as {
        cells: { cell_type: string; source: string | string[] }[];
      };
      const code = nb.cells
        .filter((c) => c.cell_type === 'code')
        .map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source));
      assert.match(code[0], /ensureLibraryBuild/, `${f}: the first code cell checks the build`);
      for (const src of code) assert.doesNotMatch(src, /from '\.\/src\//, `${f} imports ./src/ directly`);
    }
  });
});
