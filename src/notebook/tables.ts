import type { DataFrame } from 'danfojs-node';

/** One table row: column name → cell value. */
export type TableRow = Record<string, string | number | boolean | null | undefined>;

/** A table cell as stored in a DataFrame. */
export type TableCell = string | number | boolean | null | undefined;

/** Options for the text renderings of a table. */
export interface TableFormatOptions {
  /** Decimals for non-integer numbers in Markdown/HTML (default 3; CSV keeps full precision). */
  digits?: number;
  /** Caption: Markdown gets it as an italic line above the table, HTML as `<caption>`. */
  caption?: string;
  /**
   * Shorten verdict sentences (`not shown here (only 2 tasks; …): -10.10 pp [-13.50, -6.70] test
   * accuracy, P(A > B) = …`) to the verdict, the effect and its CI (`not shown: -10.10 pp [-13.50,
   * -6.70]`), with each distinct reason written once below the table (default true; the CSV keeps
   * the full sentences). See {@link shortenVerdict}.
   */
  shortVerdicts?: boolean;
  /** File holding the full table (named in the note under shortened verdicts), e.g. `claims.csv`. */
  fullTableFile?: string;
}

type Danfo = typeof import('danfojs-node');
let danfo: Danfo | undefined;

/**
 * danfojs-node, loaded on first use (it takes about a second to import).
 *
 * @example
 * ```ts
 * const df = await danfojs().readCSV('results/03-main/table.csv');
 * ```
 */
export function danfojs(): Danfo {
  if (!danfo) danfo = require('danfojs-node') as Danfo;
  return danfo;
}

function isDataFrame(x: unknown): x is DataFrame {
  return (
    !!x &&
    typeof x === 'object' &&
    Array.isArray((x as DataFrame).columns) &&
    'values' in (x as object) &&
    typeof (x as DataFrame).toJSON === 'function'
  );
}

/**
 * Builds a danfojs DataFrame from rows (or returns a DataFrame unchanged). Columns are the union of
 * the rows' keys in first-seen order; a missing value becomes null. Empty input and non-object rows
 * are errors naming the row.
 *
 * @example
 * ```ts
 * const df = toDataFrame([{ method: 'cosine', acc: 0.81 }, { method: 'agents', acc: 0.84 }]);
 * df.shape; // [2, 2]
 * ```
 */
export function toDataFrame(rows: readonly TableRow[] | DataFrame): DataFrame {
  if (isDataFrame(rows)) return rows;
  if (!Array.isArray(rows))
    throw new Error(
      `toDataFrame: expected an array of row objects or a DataFrame, got ${rows === null ? 'null' : typeof rows}`,
    );
  if (rows.length === 0) throw new Error('toDataFrame: the table has no rows');
  const columns: string[] = [];
  const seen = new Set<string>();
  rows.forEach((r, i) => {
    if (!r || typeof r !== 'object' || Array.isArray(r))
      throw new Error(`toDataFrame: row ${i} is not an object (got ${Array.isArray(r) ? 'array' : typeof r})`);
    for (const k of Object.keys(r)) {
      const v = r[k];
      if (v !== null && v !== undefined && !['string', 'number', 'boolean'].includes(typeof v)) {
        throw new Error(
          `toDataFrame: row ${i}, column '${k}' holds a ${typeof v}; cells must be strings, numbers, booleans or null`,
        );
      }
      if (!seen.has(k)) {
        seen.add(k);
        columns.push(k);
      }
    }
  });
  const data = rows.map((r) => columns.map((c) => (r[c] === undefined ? null : r[c])));
  const { DataFrame: DF } = danfojs();
  return new DF(data, { columns });
}

function cells(df: DataFrame): { columns: string[]; rows: TableCell[][] } {
  const columns = df.columns.map(String);
  const values = df.values as unknown as TableCell[][] | TableCell[];
  const rows =
    values.length && !Array.isArray(values[0]) ? (values as TableCell[]).map((v) => [v]) : (values as TableCell[][]);
  return { columns, rows };
}

/**
 * A cell as display text: non-integer numbers with `digits` decimals, NaN/null/undefined as empty,
 * ±Infinity as `inf`/`-inf`.
 *
 * @example
 * ```ts
 * formatCell(0.123456, 3); // '0.123'
 * formatCell(42, 3);       // '42'
 * ```
 */
export function formatCell(v: TableCell, digits = 3): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return '';
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
    if (Number.isInteger(v)) return String(v);
    const abs = Math.abs(v);
    if (abs !== 0 && (abs < Math.pow(10, -digits) || abs >= 1e9)) return v.toExponential(Math.max(1, digits - 1));
    return v.toFixed(digits);
  }
  return String(v);
}

/**
 * One decimal rule per column: integers stay integers when the column holds only integers;
 * otherwise every number of the column gets `digits` decimals, or, when some value needs it (a
 * non-zero magnitude below 10^-digits or from 1e9 up), every number is written in exponent form
 * with `digits - 1` decimals. Text, empty and infinite cells are written as by {@link formatCell}.
 *
 * @example
 * ```ts
 * const f = columnFormatter([0.3, 3, 0.25], 3);
 * [0.3, 3, 0.25].map(f); // ['0.300', '3.000', '0.250']
 * ```
 */
export function columnFormatter(values: readonly TableCell[], digits = 3): (v: TableCell) => string {
  const nums = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (nums.every((v) => Number.isInteger(v) && Math.abs(v) < 1e9)) return (v) => formatCell(v, digits);
  const exp = nums.some((v) => v !== 0 && (Math.abs(v) < Math.pow(10, -digits) || Math.abs(v) >= 1e9));
  return (v) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return formatCell(v, digits);
    return exp ? v.toExponential(Math.max(1, digits - 1)) : v.toFixed(digits);
  };
}

/** Verdict phrases of the claim tables (as `src/notebook/runner/summary.ts` reads them from CSV). */
const VERDICT_HEAD = /^(holds|does not hold|contradicted|not shown|untestable|better|worse)\b/i;
/** An effect with its CI: `+2.10 pp [0.50, 3.70]`, `0.030 [0.010, 0.050]`. */
const EFFECT_CI = /[+\-\u2212]?\d+(?:\.\d+)?(?:e[+-]?\d+)?(?:\s*(?:pp|%))?\s*\[[^\]]+\]/i;

/**
 * A long verdict sentence as a short cell: the verdict phrase, the effect and its CI
 * (`not shown: -10.10 pp [-13.50, -6.70]`), plus the reason given with the verdict, if any (text in
 * parentheses right after it), to be written once below the table. Undefined for a cell that is not
 * a verdict sentence with an effect and CI, or is short already (up to 40 characters).
 *
 * @example
 * ```ts
 * shortenVerdict('holds here: +2.10 pp [0.50, 3.70] test accuracy, P(A > B) = 0.91 [0.80, 1.00]');
 * // { short: 'holds: +2.10 pp [0.50, 3.70]', reason: undefined }
 * ```
 */
export function shortenVerdict(cell: string): { short: string; reason?: string } | undefined {
  const text = cell.trim();
  if (text.length <= 40) return undefined;
  const head = VERDICT_HEAD.exec(text);
  if (!head) return undefined;
  const effect = EFFECT_CI.exec(text.slice(head[0].length));
  if (!effect) return undefined;
  const paren = /^\s*(?:here|exactly|at this budget)?\s*\(([^)]*)\)/i.exec(text.slice(head[0].length));
  return {
    short: `${head[1].toLowerCase()}: ${effect[0].replace(/\s+/g, ' ')}`,
    reason: paren ? `${head[1].toLowerCase()}: ${paren[1]}` : undefined,
  };
}

interface DisplayTable {
  columns: string[];
  rows: string[][];
  numeric: boolean[];
  notes: string[];
}

/** Cells as display text: empty columns dropped, one number format per column, verdicts shortened. */
function displayTable(df: DataFrame, digits: number, options: TableFormatOptions): DisplayTable {
  const { columns, rows } = cells(df);
  const isEmpty = (v: TableCell) =>
    v === null || v === undefined || v === '' || (typeof v === 'number' && Number.isNaN(v));
  // An all-empty column says nothing (e.g. a grid value no row was run at); the CSV keeps it.
  const keep = columns.map((_, j) => rows.length === 0 || !rows.every((r) => isEmpty(r[j])));
  if (!keep.some(Boolean)) keep.fill(true);
  const idx = columns.map((_, j) => j).filter((j) => keep[j]);
  const numeric = idx.map((j) => rows.every((r) => r[j] === null || r[j] === undefined || typeof r[j] === 'number'));
  const formatters = idx.map((j) =>
    columnFormatter(
      rows.map((r) => r[j]),
      digits,
    ),
  );
  const reasons: string[] = [];
  let shortened = false;
  const out = rows.map((r) =>
    idx.map((j, k) => {
      const v = r[j];
      if (typeof v === 'string' && (options.shortVerdicts ?? true)) {
        const sv = shortenVerdict(v);
        if (sv) {
          shortened = true;
          if (sv.reason && !reasons.includes(sv.reason)) reasons.push(sv.reason);
          return sv.short;
        }
      }
      return formatters[k](v);
    }),
  );
  const notes: string[] = [];
  if (shortened) {
    notes.push(
      `Verdict cells show the verdict, the effect and its 95% CI; the full sentences (with P(A > B) and the other details) are in ${options.fullTableFile ?? 'the CSV export'}.`,
    );
    for (const r of reasons)
      notes.push(`Reason given for "${r.split(':')[0]}": ${r.slice(r.indexOf(':') + 1).trim()}.`);
  }
  return { columns: idx.map((j) => columns[j]), rows: out, numeric, notes };
}

function csvField(v: TableCell): string {
  let s: string;
  if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) s = '';
  else if (typeof v === 'number') s = Number.isFinite(v) ? String(v) : v > 0 ? 'inf' : '-inf';
  else s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * RFC 4180 CSV of a table (header row, full numeric precision, fields with commas, quotes or
 * newlines quoted, empty for missing values).
 *
 * @example
 * ```ts
 * tableToCsv(toDataFrame([{ a: 1, b: 'x,y' }])); // 'a,b\n1,"x,y"\n'
 * ```
 */
export function tableToCsv(table: readonly TableRow[] | DataFrame): string {
  const { columns, rows } = cells(toDataFrame(table));
  return [columns.map(csvField).join(','), ...rows.map((r) => r.map(csvField).join(','))].join('\n') + '\n';
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/**
 * GitHub-flavoured Markdown table; numeric columns are right-aligned, one decimal rule per column
 * ({@link columnFormatter}), all-empty columns left out, long verdict sentences shortened with their
 * reasons once below the table ({@link shortenVerdict}).
 *
 * @example
 * ```ts
 * tableToMarkdown(toDataFrame([{ method: 'agents', acc: 0.84123 }]), { digits: 2 });
 * // '| method | acc |\n| --- | ---: |\n| agents | 0.84 |\n'
 * ```
 */
export function tableToMarkdown(table: readonly TableRow[] | DataFrame, options: TableFormatOptions = {}): string {
  const digits = checkDigits(options.digits, 'tableToMarkdown');
  const t = displayTable(toDataFrame(table), digits, options);
  const lines: string[] = [];
  if (options.caption) lines.push(`*${mdEscape(options.caption)}*`, '');
  lines.push(`| ${t.columns.map(mdEscape).join(' | ')} |`);
  lines.push(`| ${t.numeric.map((n) => (n ? '---:' : '---')).join(' | ')} |`);
  for (const r of t.rows) lines.push(`| ${r.map(mdEscape).join(' | ')} |`);
  if (t.notes.length) lines.push('', ...t.notes.map((n) => `*${mdEscape(n)}*`));
  return lines.join('\n') + '\n';
}

function htmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * An HTML `<table>` (escaped, numbers right-aligned, one decimal rule per column, all-empty columns
 * left out, long verdict sentences shortened with their reasons once below) for notebook display.
 *
 * @example
 * ```ts
 * tableToHtml(toDataFrame([{ method: 'agents', acc: 0.84 }]), { caption: 'Test accuracy' });
 * ```
 */
export function tableToHtml(table: readonly TableRow[] | DataFrame, options: TableFormatOptions = {}): string {
  const digits = checkDigits(options.digits, 'tableToHtml');
  const t = displayTable(toDataFrame(table), digits, options);
  const out: string[] = ['<table class="marl-automl-table" style="border-collapse:collapse">'];
  if (options.caption)
    out.push(
      `<caption style="caption-side:top;text-align:left;font-weight:bold">${htmlEscape(options.caption)}</caption>`,
    );
  out.push(
    '<thead><tr>' +
      t.columns
        .map(
          (c, j) =>
            `<th style="text-align:${t.numeric[j] ? 'right' : 'left'};padding:2px 8px;border-bottom:1px solid #888">${htmlEscape(c)}</th>`,
        )
        .join('') +
      '</tr></thead>',
  );
  out.push('<tbody>');
  for (const r of t.rows) {
    out.push(
      '<tr>' +
        r
          .map(
            (v, j) => `<td style="text-align:${t.numeric[j] ? 'right' : 'left'};padding:2px 8px">${htmlEscape(v)}</td>`,
          )
          .join('') +
        '</tr>',
    );
  }
  out.push('</tbody></table>');
  for (const n of t.notes) out.push(`<p style="font-size:85%;color:#555;margin:2px 0">${htmlEscape(n)}</p>`);
  return out.join('\n');
}

function checkDigits(d: number | undefined, what: string): number {
  if (d === undefined) return 3;
  if (!Number.isInteger(d) || d < 0 || d > 15) throw new Error(`${what}: digits must be an integer in 0..15, got ${d}`);
  return d;
}
