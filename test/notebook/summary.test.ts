import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeCsv } from '../../src/io';
import {
  MEASURED_NOTEBOOK_SECONDS,
  RunEta,
  formatDuration,
  readTimingHistory,
  recordTiming,
} from '../../src/notebook/runner/eta';
import { paperOf, readClaimRows, runSummary, writeRunSummary } from '../../src/notebook/runner/summary';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'marl-summary-'));

describe('notebook runner: ETA and closing summary', () => {
  it('expects each notebook from the measured costs, then scales the rest by how the finished ones compared', () => {
    const files = ['notebooks/00-quickstart.ipynb', 'notebooks/23-ma2ml-surrogate.ipynb', 'notebooks/77-new.ipynb'];
    const eta = new RunEta(files, 'quick');
    const q = MEASURED_NOTEBOOK_SECONDS.quick;
    const guess = (q['00-quickstart'] + q['23-ma2ml-surrogate']) / 2; // an unknown notebook gets the mean of the known ones
    assert.equal(eta.expectedS(2), guess);
    assert.equal(eta.remainingS(), q['00-quickstart'] + q['23-ma2ml-surrogate'] + guess);
    assert.match(eta.describeSources(), /2 from the project's measured costs, 1 without a measured cost/);
    eta.finished(files[0], 2 * q['00-quickstart']); // twice as slow as measured
    assert.equal(eta.speedFactor, 2);
    assert.equal(eta.remainingS(), 2 * (q['23-ma2ml-surrogate'] + guess));
    assert.equal(eta.remainingS(10), 2 * (q['23-ma2ml-surrogate'] + guess) - 10);
  });

  it("prefers this machine's recorded timings; a corrupt history is ignored with a warning", () => {
    const dir = tmp();
    const file = path.join(dir, 'timings.json');
    recordTiming(file, 'quick', '00-quickstart', 12.34, new Date('2026-12-07T00:00:00Z'));
    recordTiming(file, 'smoke', '00-quickstart', 3);
    const history = readTimingHistory(file);
    assert.deepEqual(history.quick, { '00-quickstart': { seconds: 12.3, measuredAt: '2026-12-07T00:00:00.000Z' } });
    const eta = new RunEta(['x/00-quickstart.ipynb'], 'quick', history);
    assert.equal(eta.expectedS(0), 12.3);
    assert.match(eta.describeSources(), /1 from this machine's earlier runs/);
    fs.writeFileSync(file, '{ not json');
    const warnings: string[] = [];
    assert.deepEqual(
      readTimingHistory(file, (m) => warnings.push(m)),
      {},
    );
    assert.equal(warnings.length, 1);
    fs.rmSync(dir, { recursive: true });
  });

  it('formats durations for progress lines', () => {
    assert.equal(formatDuration(41.4), '41s');
    assert.equal(formatDuration(312), '5m12s');
    assert.equal(formatDuration(3720), '1h02m');
  });

  it('reads the claim rows of tables with a verdict column (quoted CIs included) and lists tables and figures per paper', () => {
    const root = tmp();
    const d23 = path.join(root, '23-ma2ml-surrogate');
    fs.mkdirSync(path.join(root, '12-ganno-vs-schedules'), { recursive: true });
    writeCsv(path.join(d23, 'surrogate-claims.csv'), [
      {
        claim: 'MA2ML beats random search',
        'A vs B': 'ma2ml vs random',
        budget: 200,
        'A - B [95% CI]': '-0.032 [-0.050, -0.015]',
        verdict: 'holds',
      },
      {
        claim: 'credit assignment helps',
        'A vs B': 'ma2ml vs ma2ml-no-credit',
        budget: 36,
        'A - B [95% CI]': '0.010 [-0.020, 0.040]',
        verdict: 'untestable',
      },
    ]);
    writeCsv(path.join(d23, 'other.csv'), [{ method: 'x', regret: 0.1 }]); // no verdict column: not a claim table
    fs.writeFileSync(path.join(d23, 'surrogate-claims.md'), '| x |');
    fs.writeFileSync(path.join(d23, 'regret.png'), '');
    writeCsv(path.join(root, '12-ganno-vs-schedules', 'claims.csv'), [
      { claim: 'GANNO is competitive with cosine', improvement: '-0.96 pp [-1.64, -0.37]', verdict: 'not shown' },
    ]);
    // GANNO-style sentence columns: the verdict is the cell's leading phrase; a summary table repeating a row is read once
    writeCsv(path.join(root, '12-ganno-vs-schedules', 'claims-sentences.csv'), [
      {
        GANNO: 'greedy',
        baseline: 'cosine (tuned)',
        'competitive (within 1 pp)': 'holds: -0.50 pp [-0.90, -0.10] test accuracy',
        'strictly better': 'not shown',
      },
      {
        GANNO: 'greedy',
        baseline: 'constant (initial LR, untuned)',
        'competitive (within 1 pp)': 'not shown here (only 2 tasks): +1.0 pp',
        'strictly better': 'contradicted',
      },
    ]);
    writeCsv(path.join(root, '12-ganno-vs-schedules', 'zz-summary.csv'), [
      {
        GANNO: 'greedy',
        baseline: 'cosine (tuned)',
        'competitive (within 1 pp)': 'holds: -0.50 pp [-0.90, -0.10] test accuracy',
      },
    ]);
    const sentences = readClaimRows(path.join(root, '12-ganno-vs-schedules'), '12-ganno-vs-schedules', root).filter(
      (r) => r.table.includes('claims-sentences') || r.table.includes('zz-summary'),
    );
    assert.deepEqual(
      sentences.map((r) => [r.claim, r.verdict, r.difference]),
      [
        ['competitive (within 1 pp)', 'holds', '-0.50 pp [-0.90, -0.10] test accuracy'],
        ['strictly better', 'not shown', ''],
        ['competitive (within 1 pp)', 'not shown', '(only 2 tasks): +1.0 pp'],
        ['strictly better', 'contradicted', ''],
      ],
    );
    assert.equal(sentences[0].detail, 'GANNO: greedy; baseline: cosine (tuned)');
    const rows = readClaimRows(d23, '23-ma2ml-surrogate', root);
    assert.equal(rows.length, 2);
    assert.deepEqual(rows[0], {
      notebook: '23-ma2ml-surrogate',
      table: path.join('23-ma2ml-surrogate', 'surrogate-claims.csv'),
      claim: 'MA2ML beats random search',
      detail: 'A vs B: ma2ml vs random; budget: 200',
      difference: 'A - B [95% CI]: -0.032 [-0.050, -0.015]',
      verdict: 'holds',
    });
    assert.equal(paperOf('notebooks/12-ganno-vs-schedules.ipynb'), 'GANNO');
    assert.equal(paperOf('00-quickstart'), 'other');
    const s = runSummary({
      preset: 'quick',
      resultsRoot: root,
      notebooks: [
        { file: 'notebooks/12-ganno-vs-schedules.ipynb', durationS: 100 },
        { file: 'notebooks/23-ma2ml-surrogate.ipynb', durationS: 150 },
        { file: 'notebooks/00-quickstart.ipynb' },
      ],
      totalS: 250,
    });
    assert.match(s.markdown, /## GANNO[\s\S]*GANNO is competitive with cosine[\s\S]*\*\*not shown\*\*/);
    assert.match(
      s.markdown,
      /## MA2ML[\s\S]*MA2ML beats random search \| A vs B: ma2ml vs random; budget: 200 \| A - B \[95% CI\]: -0.032 \[-0.050, -0.015\] \| \*\*holds\*\*/,
    );
    assert.match(s.markdown, /\| 23-ma2ml-surrogate \| 2m30s \| 1 \| 1 \|/);
    assert.match(s.markdown, /## Data sources[\s\S]*Fashion-MNIST[\s\S]*MNIST digits/);
    assert.ok(s.lines.some((l) => /MA2ML: 2 claim row\(s\): 1 holds, 1 untestable/.test(l)));
    const { file } = writeRunSummary({
      preset: 'quick',
      resultsRoot: root,
      notebooks: [{ file: '23-ma2ml-surrogate', durationS: 1 }],
      totalS: 1,
    });
    assert.equal(file, path.join(root, 'SUMMARY.md'));
    assert.match(fs.readFileSync(file, 'utf8'), /^# Reproduction summary/);
    fs.rmSync(root, { recursive: true });
  });
});
