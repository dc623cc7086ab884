/** CSV output of plain rows (diagnostics, per-update tables), written atomically. */
import { writeFileAtomic } from './atomic';

/**
 * Writes rows as CSV (union of the rows' columns, in first-seen order) atomically.
 *
 * @example
 * ```ts
 * writeCsv('results/23-ma2ml-surrogate/diagnostics.csv', diagnosticsSummaryRows(runs, plan));
 * ```
 */
export function writeCsv(file: string, rows: readonly Record<string, string | number | boolean>[]): void {
  const cols: string[] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    for (const k of Object.keys(r)) {
      if (seen.has(k)) continue;
      seen.add(k);
      cols.push(k);
    }
  }
  const cell = (v: unknown): string => {
    if (v === undefined || v === null) return '';
    const s = String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  writeFileAtomic(file, [cols.join(','), ...rows.map((r) => cols.map((c) => cell(r[c])).join(','))].join('\n') + '\n');
}
