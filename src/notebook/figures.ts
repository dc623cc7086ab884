/**
 * Small builders for the project's common plotly figures. They are pure functions returning plain
 * plotly figure objects (`{ data, layout }`), so they are easy to test and to tweak in a notebook
 * before passing them to `showFigure`.
 */

/** A plotly trace (kept open: any plotly attribute may be set). */
export type PlotlyTrace = Record<string, unknown> & { type: string };

/** A plotly figure: traces plus layout. */
export interface PlotlyFigure {
  data: PlotlyTrace[];
  layout: Record<string, unknown>;
}

/** Colour cycle (plotly's default "D3" palette). */
export const PALETTE: readonly string[] = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

/**
 * Translucent version of a `#rrggbb` colour, for CI bands.
 *
 * @example
 * ```ts
 * withAlpha('#1f77b4', 0.2); // 'rgba(31,119,180,0.2)'
 * ```
 */
export function withAlpha(hex: string, alpha: number): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) throw new Error(`withAlpha: expected a colour like #1f77b4, got '${hex}'`);
  return `rgba(${parseInt(m[1], 16)},${parseInt(m[2], 16)},${parseInt(m[3], 16)},${alpha})`;
}

/** Common axis and title options. */
export interface AxesOptions {
  title?: string;
  xTitle?: string;
  yTitle?: string;
  logX?: boolean;
  logY?: boolean;
  width?: number;
  height?: number;
}

/** One curve of {@link lineFigure}: a centre line with an optional band (e.g. a 95% CI). */
export interface LineSeries {
  name: string;
  x: readonly number[];
  y: readonly number[];
  /** Lower edge of the band (same length as `y`). */
  lower?: readonly number[];
  /** Upper edge of the band (same length as `y`). */
  upper?: readonly number[];
  color?: string;
  dash?: 'solid' | 'dash' | 'dot' | 'dashdot';
  /** Draw a marker at every point (always on for a one-point series, which a line cannot show). */
  markers?: boolean;
}

function checkLength(what: string, field: string, arr: readonly unknown[] | undefined, n: number): void {
  if (arr !== undefined && arr.length !== n)
    throw new Error(`${what}: ${field} has length ${arr.length}, expected ${n} (the length of x)`);
}

function layoutFor(opts: AxesOptions): Record<string, unknown> {
  const layout: Record<string, unknown> = {
    template: 'plotly_white',
    // automargin: plotly widens the margins for long tick labels instead of cutting them off.
    xaxis: { title: { text: opts.xTitle ?? '' }, automargin: true, ...(opts.logX ? { type: 'log' } : {}) },
    yaxis: { title: { text: opts.yTitle ?? '' }, automargin: true, ...(opts.logY ? { type: 'log' } : {}) },
    margin: { l: 60, r: 20, t: opts.title ? 50 : 20, b: 50 },
  };
  if (opts.title) layout.title = { text: opts.title };
  if (opts.width) layout.width = opts.width;
  if (opts.height) layout.height = opts.height;
  return layout;
}

/**
 * Line curves with optional shaded bands (mean with a 95% CI over seeds, say). Each band is drawn
 * as an invisible upper trace plus a lower trace filled to it, before its centre line.
 *
 * @example
 * ```ts
 * const fig = lineFigure(
 *   [{ name: 'agents', x: [0, 1, 2], y: [0.5, 0.7, 0.8], lower: [0.45, 0.65, 0.76], upper: [0.55, 0.75, 0.84] }],
 *   { title: 'Validation accuracy', xTitle: 'step', yTitle: 'accuracy' },
 * );
 * await showFigure(fig, { name: 'val-accuracy' });
 * ```
 */
export function lineFigure(series: readonly LineSeries[], opts: AxesOptions = {}): PlotlyFigure {
  if (!series || series.length === 0) throw new Error('lineFigure: expected at least one series');
  const data: PlotlyTrace[] = [];
  series.forEach((s, i) => {
    const what = `lineFigure: series ${i} ('${s.name}')`;
    checkLength(what, 'y', s.y, s.x.length);
    checkLength(what, 'lower', s.lower, s.x.length);
    checkLength(what, 'upper', s.upper, s.x.length);
    if ((s.lower === undefined) !== (s.upper === undefined))
      throw new Error(`${what}: give both lower and upper, or neither`);
    const color = s.color ?? PALETTE[i % PALETTE.length];
    if (s.lower && s.upper) {
      data.push({
        type: 'scatter',
        mode: 'lines',
        x: [...s.x],
        y: [...s.upper],
        line: { width: 0, color },
        hoverinfo: 'skip',
        showlegend: false,
        legendgroup: s.name,
        name: `${s.name} upper`,
      });
      data.push({
        type: 'scatter',
        mode: 'lines',
        x: [...s.x],
        y: [...s.lower],
        line: { width: 0, color },
        fill: 'tonexty',
        fillcolor: withAlpha(color.startsWith('#') ? color : PALETTE[i % PALETTE.length], 0.2),
        hoverinfo: 'skip',
        showlegend: false,
        legendgroup: s.name,
        name: `${s.name} lower`,
      });
    }
    // A series of one point would draw nothing as a line: show its markers (and error bars for a band).
    const single = s.x.length === 1;
    const errorY =
      single && s.lower && s.upper
        ? {
            error_y: {
              type: 'data',
              symmetric: false,
              array: [s.upper[0] - s.y[0]],
              arrayminus: [s.y[0] - s.lower[0]],
              color,
            },
          }
        : {};
    data.push({
      type: 'scatter',
      mode: single || s.markers ? 'lines+markers' : 'lines',
      name: s.name,
      x: [...s.x],
      y: [...s.y],
      line: { color, dash: s.dash ?? 'solid', width: 2 },
      legendgroup: s.name,
      ...errorY,
    });
  });
  return { data, layout: layoutFor(opts) };
}

/** Input of {@link heatmapFigure}. */
export interface HeatmapInput {
  /** Values by row (y) then column (x): `z[i][j]` is at (x[j], y[i]). NaN/null cells stay blank. */
  z: readonly (readonly (number | null)[])[];
  x: readonly (string | number)[];
  y: readonly (string | number)[];
  colorbarTitle?: string;
  zmin?: number;
  zmax?: number;
  /** Plotly colour scale name (default `Viridis`). */
  colorscale?: string;
  /** Write each value in its cell with this many decimals (omit for no labels). */
  labelDigits?: number;
}

/**
 * A heat map, e.g. final accuracy over (initial LR, weight decay).
 *
 * @example
 * ```ts
 * const fig = heatmapFigure(
 *   { z: [[0.8, 0.6], [0.7, 0.1]], x: ['1e-3', '1e-1'], y: ['wd 0', 'wd 1e-4'], labelDigits: 2 },
 *   { title: 'Final accuracy', xTitle: 'initial LR', yTitle: 'weight decay' },
 * );
 * ```
 */
export function heatmapFigure(input: HeatmapInput, opts: AxesOptions = {}): PlotlyFigure {
  const { z, x, y } = input;
  if (z.length !== y.length)
    throw new Error(`heatmapFigure: z has ${z.length} rows, expected ${y.length} (the length of y)`);
  z.forEach((row, i) => {
    if (row.length !== x.length)
      throw new Error(`heatmapFigure: z row ${i} has ${row.length} values, expected ${x.length} (the length of x)`);
  });
  const clean = z.map((row) => row.map((v) => (v === null || !Number.isFinite(v) ? null : v)));
  const trace: PlotlyTrace = {
    type: 'heatmap',
    z: clean,
    x: [...x].map(String),
    y: [...y].map(String),
    colorscale: input.colorscale ?? 'Viridis',
    colorbar: { title: { text: input.colorbarTitle ?? '' } },
    hoverongaps: false,
  };
  if (input.zmin !== undefined) trace.zmin = input.zmin;
  if (input.zmax !== undefined) trace.zmax = input.zmax;
  if (input.labelDigits !== undefined) {
    const d = input.labelDigits;
    trace.text = clean.map((row) => row.map((v) => (v === null ? '' : v.toFixed(d))));
    trace.texttemplate = '%{text}';
  }
  const layout = layoutFor(opts);
  (layout.xaxis as Record<string, unknown>).type = 'category';
  (layout.yaxis as Record<string, unknown>).type = 'category';
  return { data: [trace], layout };
}

/** One group of bars in {@link barFigure}. */
export interface BarSeries {
  name: string;
  /** Category labels. */
  x: readonly string[];
  y: readonly number[];
  /** Lower ends of the error bars (absolute values, e.g. CI lower bounds). */
  lower?: readonly number[];
  /** Upper ends of the error bars (absolute values). */
  upper?: readonly number[];
  color?: string;
}

const BAR_PATTERNS = ['/', 'x', '.', '\\'];

/** Options of {@link barFigure}. */
export interface BarOptions extends AxesOptions {
  /**
   * `v` vertical bars, `h` horizontal bars (categories down the left, labels written in full), or
   * `auto` (default): horizontal when a category label is longer than 12 characters or there are
   * more than 8 categories, where rotated labels under vertical bars would be cut or unreadable.
   * `yTitle` always names the value axis.
   */
  orientation?: 'v' | 'h' | 'auto';
}

/** Bar orientation {@link barFigure} picks for these categories (see {@link BarOptions.orientation}). */
export function autoBarOrientation(categories: readonly string[]): 'v' | 'h' {
  return categories.length > 8 || categories.some((c) => c.length > 12) ? 'h' : 'v';
}

/**
 * Bars with asymmetric error bars (e.g. mean with a bootstrap CI), grouped when there are several
 * series. Long or many category labels get horizontal bars (see {@link BarOptions.orientation}),
 * listed top to bottom in the given order.
 *
 * @example
 * ```ts
 * const fig = barFigure([{ name: 'test acc', x: ['cosine', 'agents'], y: [0.81, 0.84], lower: [0.79, 0.82], upper: [0.83, 0.86] }],
 *   { yTitle: 'accuracy' });
 * ```
 */
export function barFigure(series: readonly BarSeries[], opts: BarOptions = {}): PlotlyFigure {
  if (!series || series.length === 0) throw new Error('barFigure: expected at least one series');
  const categories = [...new Set(series.flatMap((s) => s.x))];
  const orientation =
    !opts.orientation || opts.orientation === 'auto' ? autoBarOrientation(categories) : opts.orientation;
  if (orientation !== 'v' && orientation !== 'h')
    throw new Error(`barFigure: orientation must be 'v', 'h' or 'auto', got '${String(opts.orientation)}'`);
  const data: PlotlyTrace[] = series.map((s, i) => {
    const what = `barFigure: series ${i} ('${s.name}')`;
    checkLength(what, 'y', s.y, s.x.length);
    checkLength(what, 'lower', s.lower, s.x.length);
    checkLength(what, 'upper', s.upper, s.x.length);
    if ((s.lower === undefined) !== (s.upper === undefined))
      throw new Error(`${what}: give both lower and upper, or neither`);
    const trace: PlotlyTrace = {
      type: 'bar',
      name: s.name,
      x: [...s.x],
      y: [...s.y],
      marker: {
        color: s.color ?? PALETTE[i % PALETTE.length],
        // Past the palette's 10 colours, a hatch pattern tells series of the same colour apart.
        ...(i >= PALETTE.length && !s.color
          ? { pattern: { shape: BAR_PATTERNS[(Math.floor(i / PALETTE.length) - 1) % BAR_PATTERNS.length] } }
          : {}),
      },
    };
    if (s.lower && s.upper) {
      const lo = s.lower;
      const hi = s.upper;
      s.y.forEach((v, j) => {
        if (lo[j] > v || hi[j] < v)
          throw new Error(`${what}: bar ${j} ('${s.x[j]}') has y=${v} outside its error range [${lo[j]}, ${hi[j]}]`);
      });
      trace.error_y = {
        type: 'data',
        symmetric: false,
        array: s.y.map((v, j) => hi[j] - v),
        arrayminus: s.y.map((v, j) => v - lo[j]),
        visible: true,
      };
    }
    if (orientation === 'h') {
      trace.orientation = 'h';
      trace.x = [...s.y];
      trace.y = [...s.x];
      if (trace.error_y) {
        trace.error_x = trace.error_y;
        delete trace.error_y;
      }
    }
    return trace;
  });
  if (orientation === 'v') {
    const layout = layoutFor(opts);
    layout.barmode = 'group';
    return { data, layout };
  }
  // Horizontal: the value axis is x (it takes yTitle and logY); categories read top to bottom.
  const layout = layoutFor({
    ...opts,
    xTitle: opts.yTitle,
    yTitle: opts.xTitle,
    logX: opts.logY,
    logY: false,
    height: opts.height ?? Math.max(300, 120 + categories.length * (14 + 12 * series.length)),
  });
  layout.barmode = 'group';
  (layout.yaxis as Record<string, unknown>).autorange = 'reversed';
  (layout.yaxis as Record<string, unknown>).type = 'category';
  return { data, layout };
}

/** Options of {@link smallMultiplesFigure}. */
export interface SmallMultiplesOptions extends AxesOptions {
  /** Panels per row (default 4). */
  columns?: number;
  /** Name of a series drawn (thin, dotted, without band) in every other panel for comparison. */
  reference?: string;
  /** Height of one row of panels in pixels (default 200). */
  rowHeight?: number;
}

/**
 * One small panel per series (its line and band), all on the same axes ranges, instead of many
 * overlapping translucent bands in one plot. With `reference`, that series is repeated as a thin
 * dotted line in every other panel, so each method is read against it.
 *
 * @example
 * ```ts
 * const fig = smallMultiplesFigure(
 *   [{ name: 'ma2ml', x: [1, 2], y: [0.5, 0.7], lower: [0.4, 0.6], upper: [0.6, 0.8] }, { name: 'random', x: [1, 2], y: [0.4, 0.6] }],
 *   { reference: 'ma2ml', xTitle: 'evaluations', yTitle: 'best reward', title: 'Best so far' },
 * );
 * ```
 */
export function smallMultiplesFigure(series: readonly LineSeries[], opts: SmallMultiplesOptions = {}): PlotlyFigure {
  if (!series || series.length === 0) throw new Error('smallMultiplesFigure: expected at least one series');
  const columns = Math.min(opts.columns ?? 4, series.length);
  if (!Number.isInteger(columns) || columns < 1)
    throw new Error(`smallMultiplesFigure: columns must be a positive integer, got ${String(opts.columns)}`);
  const ref = opts.reference === undefined ? undefined : series.find((s) => s.name === opts.reference);
  if (opts.reference !== undefined && !ref)
    throw new Error(
      `smallMultiplesFigure: reference '${opts.reference}' is not a series (${series.map((s) => s.name).join(', ')})`,
    );
  const rows = Math.ceil(series.length / columns);
  const gapX = 0.06;
  const gapY = 0.5 / (rows * 2 + 1);
  const w = (1 - gapX * (columns - 1)) / columns;
  const h = (1 - gapY * (rows - 1)) / rows;
  const data: PlotlyTrace[] = [];
  const layout = layoutFor({ ...opts, xTitle: undefined, yTitle: undefined });
  delete layout.xaxis;
  delete layout.yaxis;
  const annotations: Record<string, unknown>[] = [];
  const values = series.flatMap((s) => [...s.y, ...(s.lower ?? []), ...(s.upper ?? [])]).filter(Number.isFinite);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const pad = (hi - lo) * 0.05 || 1e-9;
  series.forEach((s, i) => {
    const k = i + 1;
    const axis = k === 1 ? '' : String(k);
    const row = Math.floor(i / columns);
    const col = i % columns;
    const x0 = col * (w + gapX);
    const y1 = 1 - row * (h + gapY);
    const panel = lineFigure([{ ...s, color: s.color ?? PALETTE[i % PALETTE.length] }]).data;
    if (ref && ref !== s) {
      data.push({
        type: 'scatter',
        mode: 'lines',
        name: `${ref.name} (reference)`,
        x: [...ref.x],
        y: [...ref.y],
        line: { color: '#333', width: 1, dash: 'dot' },
        showlegend: false,
        hoverinfo: 'skip',
        xaxis: `x${axis}`,
        yaxis: `y${axis}`,
      });
    }
    for (const t of panel) data.push({ ...t, showlegend: false, xaxis: `x${axis}`, yaxis: `y${axis}` });
    const bottom = row === rows - 1 || i + columns >= series.length;
    layout[`xaxis${axis}`] = {
      domain: [x0, x0 + w],
      anchor: `y${axis}`,
      automargin: true,
      ...(k > 1 ? { matches: 'x' } : {}),
      ...(opts.logX ? { type: 'log' } : {}),
      title: { text: bottom ? (opts.xTitle ?? '') : '' },
      showticklabels: bottom,
    };
    layout[`yaxis${axis}`] = {
      domain: [y1 - h, y1],
      anchor: `x${axis}`,
      automargin: true,
      ...(k > 1 ? { matches: 'y' } : { range: opts.logY ? undefined : [lo - pad, hi + pad] }),
      ...(opts.logY ? { type: 'log' } : {}),
      title: { text: col === 0 ? (opts.yTitle ?? '') : '' },
      showticklabels: col === 0,
    };
    annotations.push({
      text: `<b>${s.name}</b>`,
      x: x0 + w / 2,
      y: y1,
      xref: 'paper',
      yref: 'paper',
      xanchor: 'center',
      yanchor: 'bottom',
      showarrow: false,
      font: { size: 12 },
    });
  });
  layout.annotations = annotations;
  layout.height = opts.height ?? 90 + rows * (opts.rowHeight ?? 200);
  if (ref) {
    // The reference is named under the title (an annotation there would collide with a long title).
    const note = `dotted line in every panel: ${ref.name}`;
    layout.title = { text: opts.title ? `${opts.title}<br><sup>${note}</sup>` : note };
    layout.margin = { ...(layout.margin as Record<string, unknown>), t: 80 };
  }
  return { data, layout };
}

/**
 * A grid of grayscale images (pixels in [0, 1], each `side * side`, row-major): one heatmap per
 * tile, row titles on the left, column titles on top (e.g. augmentation ops x magnitude levels).
 *
 * @example
 * ```ts
 * const fig = imageGridFigure(augOpGallery(px, 28, 28, ['Rotate'], [0, 9]), ['Rotate'], ['level 0', 'level 9'], 'AUG ops');
 * await showFigure(fig, { name: 'aug-ops' });
 * ```
 */
export function imageGridFigure(
  tiles: readonly (readonly Float32Array[])[],
  rowTitles: readonly string[],
  colTitles: readonly string[],
  title: string,
): PlotlyFigure {
  const rows = tiles.length;
  const cols = rows ? tiles[0].length : 0;
  if (!rows || !cols) throw new Error('imageGridFigure: no tiles');
  const side = Math.round(Math.sqrt(tiles[0][0].length));
  if (side * side !== tiles[0][0].length)
    throw new Error(`imageGridFigure: tiles must be square images, got ${tiles[0][0].length} pixels`);
  if (rowTitles.length !== rows || colTitles.length !== cols)
    throw new Error(
      `imageGridFigure: ${rows} x ${cols} tiles need ${rows} row titles and ${cols} column titles, got ${rowTitles.length} and ${colTitles.length}`,
    );
  const data: PlotlyTrace[] = [];
  const annotations: Record<string, unknown>[] = [];
  const layout: Record<string, unknown> = {
    title: { text: title },
    grid: { rows, columns: cols, pattern: 'independent', xgap: 0.04, ygap: 0.06 },
    width: 130 * cols + 160,
    height: 120 * rows + 80,
    margin: { l: 130, r: 10, t: 60, b: 10 },
    showlegend: false,
    annotations,
  };
  tiles.forEach((row, r) =>
    row.forEach((px, c) => {
      const k = r * cols + c + 1;
      const ax = k === 1 ? '' : String(k);
      const z: number[][] = [];
      for (let y = 0; y < side; y++) z.push(Array.from(px.subarray(y * side, (y + 1) * side)));
      data.push({
        type: 'heatmap',
        z,
        colorscale: 'Greys',
        reversescale: true,
        zmin: 0,
        zmax: 1,
        showscale: false,
        xaxis: `x${ax}`,
        yaxis: `y${ax}`,
      });
      layout[`xaxis${ax}`] = { visible: false };
      layout[`yaxis${ax}`] = { visible: false, autorange: 'reversed', scaleanchor: `x${ax}` };
      if (r === 0)
        annotations.push({
          text: colTitles[c],
          xref: `x${ax} domain`,
          yref: `y${ax} domain`,
          x: 0.5,
          y: 1.18,
          showarrow: false,
        });
      if (c === 0)
        annotations.push({
          text: rowTitles[r],
          xref: `x${ax} domain`,
          yref: `y${ax} domain`,
          x: -0.15,
          y: 0.5,
          xanchor: 'right',
          showarrow: false,
        });
    }),
  );
  return { data, layout };
}

/** A vertical marker of {@link cdfFigure} (a budget, a threshold). */
export interface CdfMarker {
  x: number;
  label: string;
  color?: string;
}

/**
 * Empirical CDF of `values` (share of values at most x) on a log x axis, with dashed vertical
 * markers labelled with the share of values at most each (e.g. MACs of a NAS space vs the budgets).
 *
 * @example
 * ```ts
 * const fig = cdfFigure(macs, [{ x: 45e3, label: 'tight budget 45000' }], { title: 'MACs', xTitle: 'MACs per image (log scale)' });
 * ```
 */
export function cdfFigure(
  values: readonly number[],
  markers: readonly CdfMarker[],
  opts: AxesOptions = {},
): PlotlyFigure {
  if (!values.length) throw new Error('cdfFigure: no values');
  const sorted = [...values].sort((a, b) => a - b);
  const share = (b: number) => sorted.filter((m) => m <= b).length / sorted.length;
  const xs = [sorted[0], sorted[sorted.length - 1], ...markers.map((m) => m.x)];
  const colour = (i: number, m: CdfMarker) => m.color ?? PALETTE[(i + 3) % PALETTE.length];
  return {
    data: [
      {
        type: 'scatter',
        mode: sorted.length <= 100 ? 'lines+markers' : 'lines',
        line: { shape: 'hv', color: PALETTE[0] },
        x: sorted,
        y: sorted.map((_, i) => (i + 1) / sorted.length),
        name: 'values',
      },
    ],
    layout: {
      template: 'plotly_white',
      ...(opts.title ? { title: { text: opts.title } } : {}),
      xaxis: {
        title: { text: opts.xTitle ?? '' },
        type: 'log',
        range: [Math.log10(Math.min(...xs)) - 0.1, Math.log10(Math.max(...xs)) + 0.1],
      },
      yaxis: { title: { text: opts.yTitle ?? 'share of values at most x' }, range: [0, 1.05] },
      // annotations take log10 coordinates on a log axis, shapes data values
      shapes: markers.map((m, i) => ({
        type: 'line',
        x0: m.x,
        x1: m.x,
        yref: 'paper',
        y0: 0,
        y1: 1,
        line: { color: colour(i, m), dash: 'dash' },
      })),
      annotations: markers.map((m, i) => ({
        x: Math.log10(m.x),
        y: i % 2 === 0 ? 0.97 : 0.06,
        yref: 'paper',
        xanchor: 'left',
        text: ` ${m.label}: ${(100 * share(m.x)).toFixed(0)}% fit`,
        showarrow: false,
      })),
      showlegend: false,
      width: opts.width ?? 760,
      height: opts.height ?? 400,
    },
  };
}
