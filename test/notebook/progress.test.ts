import { strict as assert } from 'assert';
import { PassThrough } from 'stream';
import { lineProgress, formatDuration } from '../../src/progress';
import { terminalProgress } from '../../src/progress/terminal';
import { notebookProgress } from '../../src/notebook/progress';

describe('progress sinks', () => {
  it('lineProgress prints start, throttled lines with rate and ETA, and a final line', () => {
    let t = 1000;
    const lines: string[] = [];
    const p = lineProgress((l) => lines.push(l), { intervalMs: 1000, now: () => t });
    p.start(10, 'episodes');
    for (let i = 0; i < 10; i++) {
      t += 500; // 2 episodes per second
      p.tick(1, { reward: 0.25 });
    }
    p.end();
    assert.equal(lines[0], '▸ episodes: 0/10');
    // one line per second of fake time: after ticks 2, 4, 6, 8, 10
    assert.equal(lines.length, 1 + 5 + 1);
    assert.equal(lines[1], '… episodes 2/10 (20%) 2.00/s ETA 4.0s elapsed 1.0s  reward=0.2500');
    assert.equal(lines[6], '✓ episodes 10/10 in 5.0s (2.00/s)  reward=0.2500');
    // ticks after end are ignored
    p.tick();
    assert.equal(lines.length, 7);
  });

  it('lineProgress handles an unknown total and validates input', () => {
    let t = 0;
    const lines: string[] = [];
    const p = lineProgress((l) => lines.push(l), { intervalMs: 0, now: () => t });
    p.start(0, 'search');
    t += 1000;
    p.tick(3);
    p.end();
    assert.deepEqual(lines, ['▸ search: started', '… search 3 3.00/s elapsed 1.0s', '✓ search 3 in 1.0s (3.00/s)']);
    assert.throws(() => p.start(-1, 'x'), /progress.start: total must be a number >= 0/);
    assert.throws(() => lineProgress(() => undefined, { intervalMs: -5 }), /intervalMs must be a number >= 0/);
  });

  it('formatDuration is compact', () => {
    assert.deepEqual(
      [formatDuration(4.25), formatDuration(42), formatDuration(185), formatDuration(3720), formatDuration(NaN)],
      ['4.3s', '42s', '3m05s', '1h02m', '?'],
    );
  });

  it('terminalProgress falls back to lines on a non-TTY stream', async () => {
    const stream = new PassThrough() as unknown as NodeJS.WriteStream;
    const chunks: string[] = [];
    (stream as unknown as PassThrough).on('data', (b: Buffer) => chunks.push(b.toString()));
    const p = terminalProgress({ stream, intervalMs: 0 });
    p.start(2, 'seeds');
    p.tick(1);
    p.tick(1);
    p.end();
    await new Promise((r) => setImmediate(r));
    const out = chunks.join('');
    assert.match(out, /^▸ seeds: 0\/2\n/);
    assert.match(out, /… seeds 1\/2 \(50%\)/);
    assert.match(out, /✓ seeds 2\/2 in /);
  });

  it('terminalProgress draws a cli-progress bar on a TTY stream', async () => {
    const stream = new PassThrough() as unknown as NodeJS.WriteStream & {
      isTTY: boolean;
      columns: number;
      cursorTo(): boolean;
      clearLine(): boolean;
      moveCursor(): boolean;
    };
    stream.isTTY = true;
    stream.columns = 120;
    stream.cursorTo = () => true;
    stream.clearLine = () => true;
    stream.moveCursor = () => true;
    const chunks: string[] = [];
    (stream as unknown as PassThrough).on('data', (b: Buffer) => chunks.push(b.toString()));
    const p = terminalProgress({ stream });
    p.start(4, 'runs');
    for (let i = 0; i < 4; i++) p.tick(1, { acc: 0.5 });
    p.end();
    await new Promise((r) => setImmediate(r));
    const out = chunks.join('');
    assert.match(out, /runs \[.*\] 100% \| 4\/4 \|/);
    assert.match(out, /acc=0\.5000/);
  });

  it('notebookProgress writes its lines to stdout', () => {
    const written: string[] = [];
    const orig = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (written.push(String(s)), true)) as typeof process.stdout.write;
    try {
      const p = notebookProgress({ intervalMs: 0 });
      p.start(1, 'cell work');
      p.tick(1);
      p.end();
    } finally {
      process.stdout.write = orig;
    }
    assert.equal(written[0], '▸ cell work: 0/1\n');
    assert.match(written[written.length - 1], /^✓ cell work 1\/1 in /);
  });
});
