import { strict as assert } from 'assert';
import {
  barFigure,
  cdfFigure,
  heatmapFigure,
  imageGridFigure,
  lineFigure,
  smallMultiplesFigure,
  withAlpha,
  PALETTE,
} from '../../src/notebook/figures';

describe('figure builders', () => {
  it('lineFigure draws each band as upper + filled lower trace before its line', () => {
    const fig = lineFigure(
      [
        { name: 'agents', x: [0, 1, 2], y: [0.5, 0.7, 0.8], lower: [0.4, 0.6, 0.75], upper: [0.6, 0.8, 0.85] },
        { name: 'cosine', x: [0, 1, 2], y: [0.5, 0.6, 0.7], dash: 'dash' },
      ],
      { title: 'Validation accuracy', xTitle: 'step', yTitle: 'acc', logY: true },
    );
    assert.equal(fig.data.length, 4);
    const [up, lo, line, other] = fig.data;
    assert.deepEqual(up.y, [0.6, 0.8, 0.85]);
    assert.equal(up.showlegend, false);
    assert.deepEqual(lo.y, [0.4, 0.6, 0.75]);
    assert.equal(lo.fill, 'tonexty');
    assert.equal(lo.fillcolor, 'rgba(31,119,180,0.2)');
    assert.deepEqual(line.y, [0.5, 0.7, 0.8]);
    assert.equal((line.line as { color: string }).color, PALETTE[0]);
    assert.equal((other.line as { dash: string; color: string }).dash, 'dash');
    assert.equal((other.line as { color: string }).color, PALETTE[1]);
    assert.deepEqual(fig.layout.title, { text: 'Validation accuracy' });
    assert.equal((fig.layout.yaxis as { type: string }).type, 'log');
    // the figure is plain JSON (what the plotly MIME bundle carries)
    assert.deepEqual(JSON.parse(JSON.stringify(fig)), fig);
  });

  it('lineFigure shows a one-point series as a marker with its CI as an error bar (a line would draw nothing)', () => {
    const fig = lineFigure([
      { name: '1x', x: [640], y: [80], lower: [70], upper: [85] },
      { name: 'curve', x: [1, 2], y: [3, 4], markers: true },
      { name: 'plain', x: [1, 2], y: [3, 4] },
    ]);
    const point = fig.data[2];
    assert.equal(point.mode, 'lines+markers');
    assert.deepEqual(point.error_y, {
      type: 'data',
      symmetric: false,
      array: [5],
      arrayminus: [10],
      color: PALETTE[0],
    });
    assert.equal(fig.data[3].mode, 'lines+markers');
    assert.equal(fig.data[4].mode, 'lines');
  });

  it('lineFigure rejects mismatched lengths and half bands, naming the series and field', () => {
    assert.throws(
      () => lineFigure([{ name: 'a', x: [0, 1], y: [1] }]),
      /lineFigure: series 0 \('a'\): y has length 1, expected 2/,
    );
    assert.throws(
      () => lineFigure([{ name: 'b', x: [0, 1], y: [1, 2], lower: [0, 1] }]),
      /series 0 \('b'\): give both lower and upper/,
    );
    assert.throws(() => lineFigure([]), /at least one series/);
  });

  it('heatmapFigure keeps the grid, blanks non-finite cells and labels values', () => {
    const fig = heatmapFigure({
      z: [
        [0.8, NaN],
        [0.7, 0.1234],
      ],
      x: [1e-3, 0.1],
      y: ['wd 0', 'wd 1e-4'],
      labelDigits: 2,
      zmin: 0,
      zmax: 1,
    });
    const t = fig.data[0];
    assert.equal(t.type, 'heatmap');
    assert.deepEqual(t.z, [
      [0.8, null],
      [0.7, 0.1234],
    ]);
    assert.deepEqual(t.x, ['0.001', '0.1']);
    assert.deepEqual(t.text, [
      ['0.80', ''],
      ['0.70', '0.12'],
    ]);
    assert.equal(t.zmin, 0);
    assert.throws(
      () => heatmapFigure({ z: [[1, 2]], x: [1], y: ['a'] }),
      /heatmapFigure: z row 0 has 2 values, expected 1/,
    );
    assert.throws(() => heatmapFigure({ z: [[1]], x: [1], y: ['a', 'b'] }), /z has 1 rows, expected 2/);
  });

  it('barFigure converts CI bounds into asymmetric error bars', () => {
    const fig = barFigure([
      { name: 'acc', x: ['cosine', 'agents'], y: [0.81, 0.84], lower: [0.79, 0.83], upper: [0.84, 0.86] },
    ]);
    const e = fig.data[0].error_y as { array: number[]; arrayminus: number[]; symmetric: boolean };
    assert.equal(e.symmetric, false);
    e.array.forEach((v, i) => assert.ok(Math.abs(v - [0.03, 0.02][i]) < 1e-12));
    e.arrayminus.forEach((v, i) => assert.ok(Math.abs(v - [0.02, 0.01][i]) < 1e-12));
    assert.equal(fig.layout.barmode, 'group');
    assert.throws(
      () => barFigure([{ name: 'acc', x: ['a'], y: [0.9], lower: [0.91], upper: [0.95] }]),
      /bar 0 \('a'\) has y=0.9 outside its error range/,
    );
  });

  it('barFigure turns to horizontal bars when category labels are long or many (no cut rotated labels)', () => {
    const labels = ['GANNO (greedy)', 'constant (initial LR, untuned)', 'cosine (tuned)'];
    const fig = barFigure([{ name: 'acc', x: labels, y: [22, 33, 50], lower: [21, 30, 44], upper: [23, 36, 57] }], {
      yTitle: 'test accuracy %',
    });
    const t = fig.data[0];
    assert.equal(t.orientation, 'h');
    assert.deepEqual(t.y, labels, 'categories on the y axis, in the given order');
    assert.deepEqual(t.x, [22, 33, 50]);
    assert.deepEqual((t.error_x as { array: number[] }).array, [1, 3, 7]);
    assert.equal(t.error_y, undefined);
    const layout = fig.layout as {
      xaxis: { title: { text: string } };
      yaxis: { autorange: string; automargin: boolean };
    };
    assert.equal(layout.xaxis.title.text, 'test accuracy %', 'yTitle names the value axis');
    assert.equal(layout.yaxis.autorange, 'reversed', 'first category on top');
    assert.equal(layout.yaxis.automargin, true, 'the margin grows to fit the labels');
    const short = barFigure([{ name: 'acc', x: ['a', 'b'], y: [1, 2] }]);
    assert.equal(short.data[0].orientation, undefined, 'short labels keep vertical bars');
    assert.equal(
      barFigure([{ name: 'acc', x: labels, y: [1, 2, 3] }], { orientation: 'v' }).data[0].orientation,
      undefined,
    );
    assert.throws(
      () => barFigure([{ name: 'a', x: ['a'], y: [1] }], { orientation: 'x' as never }),
      /orientation must be/,
    );
  });

  it('smallMultiplesFigure puts each series in its own panel on shared axes, with a reference line', () => {
    const series = ['ma2ml', 'random', 'sequential'].map((name, i) => ({
      name,
      x: [1, 2, 3],
      y: [0.5 + i / 10, 0.6, 0.7],
      lower: [0.4, 0.5, 0.6],
      upper: [0.7, 0.7, 0.8],
    }));
    const fig = smallMultiplesFigure(series, { reference: 'ma2ml', columns: 2, title: 'Best so far' });
    const axesOf = (name: string) => fig.data.filter((t) => t.name === name).map((t) => t.xaxis);
    assert.deepEqual(axesOf('random'), ['x2']);
    assert.deepEqual(axesOf('sequential'), ['x3']);
    assert.deepEqual(axesOf('ma2ml (reference)'), ['x2', 'x3'], 'reference in every other panel');
    assert.equal(fig.data.filter((t) => t.fill === 'tonexty').length, 3, 'one band per panel');
    const l = fig.layout as Record<string, { matches?: string; domain?: number[] }>;
    assert.equal(l.yaxis2.matches, 'y');
    assert.equal(l.yaxis3.matches, 'y');
    assert.ok(l.yaxis3.domain![1] < l.yaxis.domain![0], 'third panel on the second row');
    assert.ok(fig.data.every((t) => t.showlegend === false));
    assert.match(JSON.stringify(fig.layout.title), /dotted line in every panel: ma2ml/);
    assert.throws(() => smallMultiplesFigure(series, { reference: 'nope' }), /reference 'nope' is not a series/);
  });

  it('withAlpha validates colours', () => {
    assert.equal(withAlpha('#ff7f0e', 0.5), 'rgba(255,127,14,0.5)');
    assert.throws(() => withAlpha('red', 0.5), /expected a colour like #1f77b4, got 'red'/);
  });

  it('imageGridFigure: one heatmap per tile on its own axes, rows of pixels, titles on the edges', () => {
    const tile = (v: number) => Float32Array.from([v, 0, 0, 1]); // 2 x 2
    const fig = imageGridFigure(
      [
        [tile(0.125), tile(0.25)],
        [tile(0.375), tile(0.5)],
      ],
      ['a', 'b'],
      ['x', 'y'],
      'grid',
    );
    assert.equal(fig.data.length, 4);
    assert.deepEqual(fig.data[3].z, [
      [0.5, 0],
      [0, 1],
    ]);
    assert.equal(fig.data[0].xaxis, 'x');
    assert.equal(fig.data[3].yaxis, 'y4');
    const notes = (fig.layout.annotations as { text: string }[]).map((a) => a.text);
    assert.deepEqual(notes.sort(), ['a', 'b', 'x', 'y']);
    assert.throws(() => imageGridFigure([[tile(0)]], ['a', 'b'], ['x'], 't'), /need 1 row titles/);
    assert.throws(() => imageGridFigure([[Float32Array.from([1, 2, 3])]], ['a'], ['x'], 't'), /square images/);
  });

  it('cdfFigure: sorted values with cumulative shares, one dashed marker per threshold with its share', () => {
    const fig = cdfFigure(
      [4, 1, 3, 2],
      [
        { x: 2, label: 'tight', color: '#d62728' },
        { x: 3, label: 'loose' },
      ],
      {
        title: 'MACs',
      },
    );
    assert.deepEqual(fig.data[0].x, [1, 2, 3, 4]);
    assert.deepEqual(fig.data[0].y, [0.25, 0.5, 0.75, 1]);
    const shapes = fig.layout.shapes as { x0: number; line: { color: string; dash: string } }[];
    assert.deepEqual(
      shapes.map((s) => [s.x0, s.line.dash]),
      [
        [2, 'dash'],
        [3, 'dash'],
      ],
    );
    assert.equal(shapes[0].line.color, '#d62728');
    const notes = (fig.layout.annotations as { text: string; x: number }[]).map((a) => a.text);
    assert.deepEqual(notes, [' tight: 50% fit', ' loose: 75% fit']);
    assert.throws(() => cdfFigure([], []), /no values/);
  });
});
