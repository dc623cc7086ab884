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
 * GitHub-flavoured Markdown table; numeric columns are right-aligned and rounded to `digits`.
 *
 * @example
 * ```ts
 * tableToMarkdown(toDataFrame([{ method: 'agents', acc: 0.84123 }]), { digits: 2 });
 * // '| method | acc |\n| --- | ---: |\n| agents | 0.84 |\n'
 * ```
 */
export function tableToMarkdown(table: readonly TableRow[] | DataFrame, options: TableFormatOptions = {}): string {
  const digits = checkDigits(options.digits, 'tableToMarkdown');
  const { columns, rows } = cells(toDataFrame(table));
  const numeric = columns.map((_, j) =>
    rows.every((r) => r[j] === null || r[j] === undefined || typeof r[j] === 'number'),
  );
  const lines: string[] = [];
  if (options.caption) lines.push(`*${mdEscape(options.caption)}*`, '');
  lines.push(`| ${columns.map(mdEscape).join(' | ')} |`);
  lines.push(`| ${numeric.map((n) => (n ? '---:' : '---')).join(' | ')} |`);
  for (const r of rows) lines.push(`| ${r.map((v) => mdEscape(formatCell(v, digits))).join(' | ')} |`);
  return lines.join('\n') + '\n';
}

function htmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * An HTML `<table>` (escaped, numbers right-aligned and rounded to `digits`) for notebook display.
 *
 * @example
 * ```ts
 * tableToHtml(toDataFrame([{ method: 'agents', acc: 0.84 }]), { caption: 'Test accuracy' });
 * ```
 */
export function tableToHtml(table: readonly TableRow[] | DataFrame, options: TableFormatOptions = {}): string {
  const digits = checkDigits(options.digits, 'tableToHtml');
  const { columns, rows } = cells(toDataFrame(table));
  const numeric = columns.map((_, j) =>
    rows.every((r) => r[j] === null || r[j] === undefined || typeof r[j] === 'number'),
  );
  const out: string[] = ['<table class="marl-automl-table" style="border-collapse:collapse">'];
  if (options.caption)
    out.push(
      `<caption style="caption-side:top;text-align:left;font-weight:bold">${htmlEscape(options.caption)}</caption>`,
    );
  out.push(
    '<thead><tr>' +
      columns
        .map(
          (c, j) =>
            `<th style="text-align:${numeric[j] ? 'right' : 'left'};padding:2px 8px;border-bottom:1px solid #888">${htmlEscape(c)}</th>`,
        )
        .join('') +
      '</tr></thead>',
  );
  out.push('<tbody>');
  for (const r of rows) {
    out.push(
      '<tr>' +
        r
          .map(
            (v, j) =>
              `<td style="text-align:${numeric[j] ? 'right' : 'left'};padding:2px 8px">${htmlEscape(formatCell(v, digits))}</td>`,
          )
          .join('') +
        '</tr>',
    );
  }
  out.push('</tbody></table>');
  return out.join('\n');
}

function checkDigits(d: number | undefined, what: string): number {
  if (d === undefined) return 3;
  if (!Number.isInteger(d) || d < 0 || d > 15) throw new Error(`${what}: digits must be an integer in 0..15, got ${d}`);
  return d;
}
