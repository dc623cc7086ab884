import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  MarlEvalRecord,
  formatTable,
  scoreMatrixFromMarlEval,
  toMarlEvalJson,
  writeMarlEvalJson,
  writeCsvAndMarkdown,
  writeTable,
} from '../../src/eval';

const records: MarlEvalRecord[] = [
  { env: 'ganno', task: 'digits', algorithm: 'cosine', run: 1, step: 0, stepCount: 0, metrics: { acc: [0.5, 0.52] } },
  {
    env: 'ganno',
    task: 'digits',
    algorithm: 'cosine',
    run: 0,
    step: 1,
    stepCount: 1000,
    metrics: { acc: 0.8, loss: 0.6 },
  },
  { env: 'ganno', task: 'digits', algorithm: 'cosine', run: 0, step: 0, stepCount: 0, metrics: { acc: 0.4 } },
  { env: 'ganno', task: 'digits', algorithm: 'cosine', run: 0, step: 'absolute', metrics: { acc: [0.81, 0.83] } },
  { env: 'ganno', task: 'digits', algorithm: 'cosine', run: 1, step: 'absolute', metrics: { acc: [0.9] } },
  { env: 'ganno', task: 'fmnist', algorithm: 'cosine', run: 0, step: 'absolute', metrics: { acc: [0.7] } },
  { env: 'ganno', task: 'fmnist', algorithm: 'cosine', run: 1, step: 'absolute', metrics: { acc: [0.75] } },
];

describe('eval/export', () => {
  it('nests records as env/task/algorithm/run_k/step_j with step_count and absolute_metrics', () => {
    const json = toMarlEvalJson(records);
    assert.deepEqual(json.ganno.digits.cosine, {
      run_0: {
        step_0: { step_count: 0, acc: [0.4] },
        step_1: { step_count: 1000, acc: [0.8], loss: [0.6] },
        absolute_metrics: { acc: [0.81, 0.83] },
      },
      run_1: { step_0: { step_count: 0, acc: [0.5, 0.52] }, absolute_metrics: { acc: [0.9] } },
    });
    // keys come out in numeric order regardless of input order
    assert.deepEqual(Object.keys(json.ganno.digits.cosine.run_0), ['step_0', 'step_1', 'absolute_metrics']);
    const m = scoreMatrixFromMarlEval(json, { env: 'ganno', algorithm: 'cosine', metric: 'acc', step: 'absolute' });
    const expected = [
      [0.82, 0.7],
      [0.9, 0.75],
    ]; // [run][task], per-run mean over evaluation episodes
    m.forEach((row, r) =>
      row.forEach((v, t) => assert.ok(Math.abs(v - expected[r][t]) < 1e-12, `[${r}][${t}] = ${v}`)),
    );
    assert.throws(
      () => scoreMatrixFromMarlEval(json, { env: 'ganno', algorithm: 'cosine', metric: 'loss', step: 0 }),
      /missing metric 'loss' at ganno\/digits\/cosine\/run_0\/step_0/,
    );
  });

  it('rejects duplicates, bad names and non-finite values with the record index', () => {
    assert.throws(
      () => toMarlEvalJson([records[2], records[2]]),
      /record 1: duplicate \(env 'ganno', task 'digits', algorithm 'cosine', run 0, step 0\)/,
    );
    assert.throws(() => toMarlEvalJson([{ ...records[0], task: '' }]), /record 0: task must be a non-empty string/);
    assert.throws(
      () => toMarlEvalJson([{ ...records[0], metrics: { acc: [NaN] } }]),
      /record 0: metric 'acc'\[0\] must be a finite number/,
    );
    assert.throws(() => toMarlEvalJson([{ ...records[0], run: -1 }]), /run must be a non-negative integer/);
    assert.throws(() => toMarlEvalJson([{ ...records[0], metrics: { step_count: 1 } }]), /'step_count' is reserved/);
  });

  it('writes JSON atomically (no temp files left) and the file round-trips', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eval-export-'));
    try {
      const file = path.join(dir, 'sub', 'raw.json');
      const json = writeMarlEvalJson(file, records);
      assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), json);
      writeTable(path.join(dir, 'sub', 't.csv'), [{ a: 1 }], ['a'], { format: 'csv' });
      assert.deepEqual(fs.readdirSync(path.join(dir, 'sub')).sort(), ['raw.json', 't.csv']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  const rows = [
    { method: 'GANNO, multi-agent', acc: { point: 0.8123, lo: 0.7809, hi: 0.8431 }, n: 5 },
    { method: 'cos | "tuned" 50%_x', acc: { point: 0.79, lo: 0.775, hi: 0.8 }, n: -0.0001 },
  ];
  const cols = ['method', { key: 'acc', header: 'test acc & CI' }, { key: 'n', digits: 0 }];

  it('formats CSV with RFC 4180 quoting and CI cells', () => {
    assert.equal(
      formatTable(rows, cols, { format: 'csv' }),
      'method,test acc & CI,n\n' +
        '"GANNO, multi-agent","0.81 [0.78, 0.84]",5\n' +
        '"cos | ""tuned"" 50%_x","0.79 [0.78, 0.80]",0\n',
    );
  });

  it('formats Markdown with escaped pipes and right-aligned numeric columns', () => {
    assert.equal(
      formatTable(rows, cols, { format: 'markdown', digits: 3 }),
      '| method | test acc & CI | n |\n|---|---:|---:|\n' +
        '| GANNO, multi-agent | 0.812 [0.781, 0.843] | 5 |\n' +
        '| cos \\| "tuned" 50%_x | 0.790 [0.775, 0.800] | 0 |\n',
    );
  });

  it('formats LaTeX with escaped specials and booktabs rules', () => {
    assert.equal(
      formatTable(rows, cols, { format: 'latex' }),
      '\\begin{tabular}{lrr}\n\\toprule\nmethod & test acc \\& CI & n \\\\\n\\midrule\n' +
        'GANNO, multi-agent & 0.81 [0.78, 0.84] & 5 \\\\\n' +
        'cos | "tuned" 50\\%\\_x & 0.79 [0.78, 0.80] & 0 \\\\\n\\bottomrule\n\\end{tabular}\n',
    );
  });

  it('rejects bad table options naming them', () => {
    assert.throws(
      () => formatTable(rows, cols, { format: 'html' as never }),
      /format must be 'csv', 'markdown' or 'latex', got "html"/,
    );
    assert.throws(() => formatTable(rows, cols, { format: 'csv', digits: -1 }), /digits must be an integer/);
    assert.throws(() => formatTable(rows, [], { format: 'csv' }), /columns must be a non-empty array/);
  });
});

describe('eval/export: writeCsvAndMarkdown', () => {
  it('writes <name>.csv (4 digits) and <name>.md (3 digits) per table and returns the Markdown by name', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csvmd-'));
    try {
      const md = writeCsvAndMarkdown(dir, { a: [{ x: 1.23456, y: 'q' }], b: [{ z: 2 }] });
      assert.deepEqual(fs.readdirSync(dir).sort(), ['a.csv', 'a.md', 'b.csv', 'b.md']);
      assert.equal(fs.readFileSync(path.join(dir, 'a.csv'), 'utf8'), 'x,y\n1.2346,q\n');
      assert.equal(md.a, fs.readFileSync(path.join(dir, 'a.md'), 'utf8'));
      assert.match(md.a, /\| 1\.235 \| q \|/);
      assert.throws(() => writeCsvAndMarkdown(dir, { empty: [] }), /table 'empty' has no rows/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
