import * as os from 'os';
import type { BenchRow, BenchValue, SuiteReport } from './registry';

/**
 * Renders rows as an aligned text table (columns in first-seen order; numbers right-aligned).
 *
 * @example
 * ```ts
 * console.log(formatTable([{ model: 'mlp', 'ms/step': 9.7 }]));
 * ```
 */
export function formatTable(rows: readonly BenchRow[]): string {
  if (rows.length === 0) return '(no rows)';
  const cols: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  const cell = (v: BenchValue | undefined): string => {
    if (v === undefined || v === null) return '-';
    if (typeof v === 'number') {
      if (!Number.isFinite(v) || Number.isInteger(v)) return String(v);
      const a = Math.abs(v);
      return a >= 100 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toPrecision(3);
    }
    return String(v);
  };
  const body = rows.map((r) => cols.map((c) => cell(r[c])));
  const widths = cols.map((c, j) => Math.max(c.length, ...body.map((b) => b[j].length)));
  const numeric = cols.map((c) => rows.every((r) => r[c] === undefined || r[c] === null || typeof r[c] === 'number'));
  const line = (vals: string[]) =>
    vals.map((v, j) => (numeric[j] ? v.padStart(widths[j]) : v.padEnd(widths[j]))).join('  ');
  const trimmed = (vals: string[]) => line(vals).trimEnd();
  return [trimmed(cols), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(trimmed)].join('\n');
}

/**
 * Human-readable report of all suites: table, checks (PASS/FAIL) and notes per suite.
 *
 * @example
 * ```ts
 * process.stdout.write(formatReport(reports));
 * ```
 */
export function formatReport(reports: readonly SuiteReport[]): string {
  const parts: string[] = [];
  for (const r of reports) {
    parts.push(`== ${r.name}: ${r.description} (${(r.durationMs / 1000).toFixed(1)} s)`);
    if (r.error) parts.push(`ERROR: ${r.error}`);
    if (r.rows.length) parts.push(formatTable(r.rows));
    for (const c of r.checks) {
      const v = c.value === null ? 'not measured' : `${c.value.toFixed(2)} ${c.unit}`;
      parts.push(`${c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${v} (target ${c.op} ${c.target} ${c.unit})`);
    }
    for (const n of r.notes) parts.push(`note: ${n}`);
    parts.push('');
  }
  return parts.join('\n');
}

/**
 * Machine facts stored with each report (timings only compare on the same machine and load).
 *
 * @example
 * ```ts
 * console.log(machineInfo().loadAvg1m);
 * ```
 */
export function machineInfo(): Record<string, BenchValue> {
  const load = os.loadavg();
  return {
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? null,
    totalMemGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAvg1m: Math.round(load[0] * 100) / 100,
  };
}
