import * as path from 'path';
import { writeFileAtomic } from '../io';
export { writeFileAtomic };
import type { Interval } from './bootstrap';

/**
 * One evaluation of one run: the raw data that {@link toMarlEvalJson} nests into the common MARL
 * evaluation layout (Gorsane et al. 2022, `marl-eval`).
 */
export interface MarlEvalRecord {
  env: string;
  task: string;
  algorithm: string;
  /** Run (seed) index; becomes the key `run_<run>`. */
  run: number;
  /** Evaluation index; becomes `step_<step>`. `'absolute'` stores the run's `absolute_metrics`. */
  step: number | 'absolute';
  /** Environment steps at this evaluation (`step_count`); defaults to `step`. Ignored for `'absolute'`. */
  stepCount?: number;
  /** Metric values; a number is stored as a one-element list (one evaluation episode). */
  metrics: Record<string, number | readonly number[]>;
}

/** The nested layout `{env: {task: {algorithm: {run_k: {step_j: {step_count, metric: [..]}, absolute_metrics: {..}}}}}}`. */
export type MarlEvalJson = Record<
  string,
  Record<string, Record<string, Record<string, Record<string, Record<string, number | number[]>>>>>
>;

const RESERVED = new Set(['step_count']);

function checkName(v: unknown, field: string, i: number): string {
  if (typeof v !== 'string' || v.length === 0)
    throw new Error(`toMarlEvalJson: record ${i}: ${field} must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Nests raw per-run records into the MARL evaluation JSON layout used by `marl-eval`:
 * `{env: {task: {algorithm: {"run_k": {"step_j": {"step_count": n, metric: [values]}, "absolute_metrics": {metric: [values]}}}}}}`.
 * Runs and steps are keyed `run_<run>` and `step_<step>` in ascending numeric order.
 * A duplicate (env, task, algorithm, run, step) or a non-finite value raises an Error naming the record.
 *
 * @example
 * ```ts
 * const json = toMarlEvalJson([
 *   { env: 'ganno', task: 'digits-mlp', algorithm: 'cosine', run: 0, step: 0, stepCount: 100, metrics: { test_acc: 0.91 } },
 *   { env: 'ganno', task: 'digits-mlp', algorithm: 'cosine', run: 0, step: 'absolute', metrics: { test_acc: [0.93] } },
 * ]);
 * // json.ganno['digits-mlp'].cosine.run_0.step_0 -> { step_count: 100, test_acc: [0.91] }
 * ```
 */
export function toMarlEvalJson(records: readonly MarlEvalRecord[]): MarlEvalJson {
  if (!Array.isArray(records)) throw new Error('toMarlEvalJson: records must be an array');
  type Entry = { run: number; step: number; body: Record<string, number | number[]> };
  const groups = new Map<string, { env: string; task: string; alg: string; entries: Entry[] }>();
  const seen = new Set<string>();
  records.forEach((rec, i) => {
    if (rec === null || typeof rec !== 'object') throw new Error(`toMarlEvalJson: record ${i} must be an object`);
    const env = checkName(rec.env, 'env', i);
    const task = checkName(rec.task, 'task', i);
    const alg = checkName(rec.algorithm, 'algorithm', i);
    if (!Number.isInteger(rec.run) || rec.run < 0)
      throw new Error(
        `toMarlEvalJson: record ${i}: run must be a non-negative integer, got ${JSON.stringify(rec.run)}`,
      );
    const absolute = rec.step === 'absolute';
    if (!absolute && (!Number.isInteger(rec.step) || (rec.step as number) < 0)) {
      throw new Error(
        `toMarlEvalJson: record ${i}: step must be a non-negative integer or 'absolute', got ${JSON.stringify(rec.step)}`,
      );
    }
    const key = JSON.stringify([env, task, alg, rec.run, rec.step]);
    if (seen.has(key))
      throw new Error(
        `toMarlEvalJson: record ${i}: duplicate (env '${env}', task '${task}', algorithm '${alg}', run ${rec.run}, step ${rec.step})`,
      );
    seen.add(key);
    if (rec.metrics === null || typeof rec.metrics !== 'object' || Object.keys(rec.metrics).length === 0) {
      throw new Error(`toMarlEvalJson: record ${i}: metrics must be a non-empty object`);
    }
    const body: Record<string, number | number[]> = {};
    if (!absolute) {
      const sc = rec.stepCount ?? (rec.step as number);
      if (!Number.isInteger(sc) || sc < 0)
        throw new Error(
          `toMarlEvalJson: record ${i}: stepCount must be a non-negative integer, got ${JSON.stringify(rec.stepCount)}`,
        );
      body.step_count = sc;
    }
    for (const [name, value] of Object.entries(rec.metrics)) {
      if (RESERVED.has(name))
        throw new Error(`toMarlEvalJson: record ${i}: metric name '${name}' is reserved (use stepCount)`);
      const list = typeof value === 'number' ? [value] : Array.isArray(value) ? [...value] : undefined;
      if (!list || list.length === 0)
        throw new Error(
          `toMarlEvalJson: record ${i}: metric '${name}' must be a number or a non-empty array of numbers`,
        );
      list.forEach((v, k) => {
        if (typeof v !== 'number' || !Number.isFinite(v)) {
          throw new Error(
            `toMarlEvalJson: record ${i}: metric '${name}'[${k}] must be a finite number, got ${String(v)} (JSON cannot hold NaN/Infinity)`,
          );
        }
      });
      body[name] = list;
    }
    const gk = JSON.stringify([env, task, alg]);
    let g = groups.get(gk);
    if (!g) {
      g = { env, task, alg, entries: [] };
      groups.set(gk, g);
    }
    g.entries.push({ run: rec.run, step: absolute ? Number.POSITIVE_INFINITY : (rec.step as number), body });
  });
  const out: MarlEvalJson = {};
  for (const g of groups.values()) {
    g.entries.sort((a, b) => a.run - b.run || a.step - b.step);
    const algObj: Record<string, Record<string, Record<string, number | number[]>>> = {};
    for (const e of g.entries) {
      const runKey = `run_${e.run}`;
      const stepKey = e.step === Number.POSITIVE_INFINITY ? 'absolute_metrics' : `step_${e.step}`;
      (algObj[runKey] ??= {})[stepKey] = e.body;
    }
    ((out[g.env] ??= {})[g.task] ??= {})[g.alg] = algObj;
  }
  return out;
}

/**
 * {@link toMarlEvalJson} written atomically to `file` (pretty-printed JSON).
 *
 * @example
 * ```ts
 * writeMarlEvalJson('results/ganno-raw.json', records);
 * ```
 */
export function writeMarlEvalJson(file: string, records: readonly MarlEvalRecord[]): MarlEvalJson {
  const json = toMarlEvalJson(records);
  writeFileAtomic(file, JSON.stringify(json, null, 2) + '\n');
  return json;
}

/**
 * Extracts a score matrix `[run][task]` from a MARL evaluation JSON: for each task (in `tasks`
 * order) and run, the mean of `metric` at `step` (or in `absolute_metrics`). Throws naming the
 * missing env/task/algorithm/run/step/metric.
 *
 * @example
 * ```ts
 * const scores = scoreMatrixFromMarlEval(json, { env: 'ganno', algorithm: 'cosine', metric: 'test_acc', step: 'absolute' });
 * ```
 */
export function scoreMatrixFromMarlEval(
  json: MarlEvalJson,
  sel: { env: string; algorithm: string; metric: string; step: number | 'absolute'; tasks?: string[] },
): number[][] {
  const envObj = json[sel.env];
  if (!envObj)
    throw new Error(`scoreMatrixFromMarlEval: env '${sel.env}' not found (have: ${Object.keys(json).join(', ')})`);
  const tasks = sel.tasks ?? Object.keys(envObj);
  const stepKey = sel.step === 'absolute' ? 'absolute_metrics' : `step_${sel.step}`;
  const cols: number[][] = tasks.map((task) => {
    const algObj = envObj[task]?.[sel.algorithm];
    if (!algObj)
      throw new Error(`scoreMatrixFromMarlEval: no algorithm '${sel.algorithm}' for env '${sel.env}', task '${task}'`);
    const runKeys = Object.keys(algObj).sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)));
    return runKeys.map((rk) => {
      const v = algObj[rk][stepKey]?.[sel.metric];
      if (!Array.isArray(v) || v.length === 0)
        throw new Error(
          `scoreMatrixFromMarlEval: missing metric '${sel.metric}' at ${sel.env}/${task}/${sel.algorithm}/${rk}/${stepKey}`,
        );
      return v.reduce((a, b) => a + b, 0) / v.length;
    });
  });
  const runs = cols[0].length;
  cols.forEach((c, t) => {
    if (c.length !== runs)
      throw new Error(`scoreMatrixFromMarlEval: task '${tasks[t]}' has ${c.length} runs but '${tasks[0]}' has ${runs}`);
  });
  return Array.from({ length: runs }, (_, r) => cols.map((c) => c[r]));
}

/** A table cell: text, a number, an interval (rendered `point [lo, hi]`), or empty. */
export type Cell = string | number | Interval | null | undefined;

/** A table column: the row key, with an optional header and per-column digits. */
export type Column = string | { key: string; header?: string; digits?: number };

/** Options of {@link formatTable}. */
export interface TableOptions {
  format: 'csv' | 'markdown' | 'latex';
  /** Digits after the decimal point for numbers and intervals (default 2). */
  digits?: number;
}

function isInterval(c: unknown): c is Interval {
  return typeof c === 'object' && c !== null && 'point' in c && 'lo' in c && 'hi' in c;
}

function fmtNum(v: number, digits: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  const s = v.toFixed(digits);
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s; // no "-0.00"
}

function cellText(c: Cell, digits: number): string {
  if (c === null || c === undefined) return '';
  if (typeof c === 'number') return fmtNum(c, digits);
  if (typeof c === 'string') return c;
  if (isInterval(c)) return `${fmtNum(c.point, digits)} [${fmtNum(c.lo, digits)}, ${fmtNum(c.hi, digits)}]`;
  throw new Error(`formatTable: unsupported cell value ${JSON.stringify(c)}`);
}

function escCsv(s: string): string {
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function escMarkdown(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

const LATEX_ESC: Record<string, string> = {
  '\\': '\\textbackslash{}',
  '&': '\\&',
  '%': '\\%',
  $: '\\$',
  '#': '\\#',
  _: '\\_',
  '{': '\\{',
  '}': '\\}',
  '~': '\\textasciitilde{}',
  '^': '\\textasciicircum{}',
};

function escLatex(s: string): string {
  return s.replace(/[\\&%$#_{}~^]/g, (ch) => LATEX_ESC[ch]).replace(/\r?\n/g, ' ');
}

/**
 * Renders a summary table as CSV (RFC 4180 quoting), GitHub Markdown (pipes escaped) or a LaTeX
 * `tabular` with booktabs rules (special characters escaped). Interval cells print as
 * `0.81 [0.78, 0.84]`; numeric columns are right-aligned in Markdown and LaTeX.
 *
 * @param rows objects keyed by column key
 * @param columns keys to print, in order, optionally with a header text and digits
 *
 * @example
 * ```ts
 * formatTable(
 *   [{ method: 'GANNO', acc: { point: 0.812, lo: 0.781, hi: 0.843 } }],
 *   ['method', { key: 'acc', header: 'test acc (95% CI)' }],
 *   { format: 'markdown' },
 * );
 * // | method | test acc (95% CI) |
 * // |---|---:|
 * // | GANNO | 0.81 [0.78, 0.84] |
 * ```
 */
export function formatTable(
  rows: ReadonlyArray<Readonly<Record<string, Cell>>>,
  columns: readonly Column[],
  opts: TableOptions,
): string {
  const format = opts?.format;
  if (format !== 'csv' && format !== 'markdown' && format !== 'latex') {
    throw new Error(`formatTable: format must be 'csv', 'markdown' or 'latex', got ${JSON.stringify(format)}`);
  }
  const digits = opts.digits ?? 2;
  if (!Number.isInteger(digits) || digits < 0 || digits > 20)
    throw new Error(`formatTable: digits must be an integer in [0, 20], got ${digits}`);
  if (!Array.isArray(rows)) throw new Error('formatTable: rows must be an array of objects');
  if (!Array.isArray(columns) || columns.length === 0)
    throw new Error('formatTable: columns must be a non-empty array');
  const cols = columns.map((c, i) => {
    const col = typeof c === 'string' ? { key: c } : c;
    if (!col || typeof col.key !== 'string' || col.key.length === 0)
      throw new Error(`formatTable: column ${i} needs a non-empty key`);
    if (col.digits !== undefined && (!Number.isInteger(col.digits) || col.digits < 0 || col.digits > 20)) {
      throw new Error(`formatTable: column '${col.key}' digits must be an integer in [0, 20], got ${col.digits}`);
    }
    return { key: col.key, header: col.header ?? col.key, digits: col.digits ?? digits };
  });
  const numeric = cols.map(
    (c) =>
      rows.some((r) => typeof r[c.key] === 'number' || isInterval(r[c.key])) &&
      rows.every((r) => typeof r[c.key] !== 'string'),
  );
  const body = rows.map((r, i) => {
    if (r === null || typeof r !== 'object') throw new Error(`formatTable: row ${i} must be an object`);
    return cols.map((c) => cellText(r[c.key], c.digits));
  });
  const headers = cols.map((c) => c.header);
  if (format === 'csv') {
    return [headers, ...body].map((line) => line.map(escCsv).join(',')).join('\n') + '\n';
  }
  if (format === 'markdown') {
    const line = (cells: string[]): string => `| ${cells.map(escMarkdown).join(' | ')} |`;
    const sep = `|${numeric.map((n) => (n ? '---:' : '---')).join('|')}|`;
    return [line(headers), sep, ...body.map(line)].join('\n') + '\n';
  }
  const align = numeric.map((n) => (n ? 'r' : 'l')).join('');
  const line = (cells: string[]): string => `${cells.map(escLatex).join(' & ')} \\\\`;
  return (
    [
      `\\begin{tabular}{${align}}`,
      '\\toprule',
      line(headers),
      '\\midrule',
      ...body.map(line),
      '\\bottomrule',
      '\\end{tabular}',
    ].join('\n') + '\n'
  );
}

/**
 * {@link formatTable} written atomically to `file`.
 *
 * @example
 * ```ts
 * writeTable('results/main.csv', rows, ['method', 'acc'], { format: 'csv' });
 * ```
 */
export function writeTable(
  file: string,
  rows: ReadonlyArray<Readonly<Record<string, Cell>>>,
  columns: readonly Column[],
  opts: TableOptions,
): string {
  const text = formatTable(rows, columns, opts);
  writeFileAtomic(file, text);
  return text;
}

/**
 * Writes each named table as `<dir>/<name>.csv` (4 digits) and `<dir>/<name>.md` (3 digits), columns in
 * the first row's key order; returns the Markdown text by name (e.g. to print the summary of a sweep).
 *
 * @example
 * ```ts
 * const md = writeCsvAndMarkdown('results/sweep', { runs, summary });
 * console.log(md.summary);
 * ```
 */
export function writeCsvAndMarkdown(
  dir: string,
  tables: Readonly<Record<string, ReadonlyArray<Readonly<Record<string, Cell>>>>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, rows] of Object.entries(tables)) {
    if (rows.length === 0) throw new Error(`writeCsvAndMarkdown: table '${name}' has no rows`);
    const cols = Object.keys(rows[0]);
    writeTable(path.join(dir, `${name}.csv`), rows, cols, { format: 'csv', digits: 4 });
    out[name] = writeTable(path.join(dir, `${name}.md`), rows, cols, { format: 'markdown', digits: 3 });
  }
  return out;
}
