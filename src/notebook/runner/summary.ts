/**
 * The closing summary of a headless run: for each paper, the claim rows the notebooks wrote (claim,
 * comparison, difference with its CI, verdict), where each notebook's tables and figures are, the
 * data sources, preset, machine and timings. Printed at the end of `npm start` / `npm run notebooks`
 * and written as `results/SUMMARY.md`.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as Papa from 'papaparse';
import { locateDataset } from '../../data';
import { writeFileAtomic } from '../files';
import type { PresetName } from '../presets';
import { formatDuration, notebookKey } from './eta';

/** One claim row read from a notebook's claim table. */
export interface ClaimRow {
  notebook: string;
  /** The table file it came from (relative to the results root). */
  table: string;
  claim: string;
  /** The compared pair or setting when the table names it (`A vs B`, budget, metric). */
  detail: string;
  /** The difference with its CI, as the table wrote it. */
  difference: string;
  verdict: string;
}

/** What one notebook left in its results folder. */
export interface NotebookOutputs {
  notebook: string;
  dir: string;
  tables: string[];
  figures: string[];
  claims: ClaimRow[];
  durationS?: number;
}

/** Which paper a notebook belongs to, by its number. */
export function paperOf(notebook: string): 'GANNO' | 'MA2ML' | 'other' {
  const n = Number(notebookKey(notebook).slice(0, 2));
  if (n >= 10 && n < 20) return 'GANNO';
  if (n >= 20 && n < 30) return 'MA2ML';
  return 'other';
}

/** Decided claim rows printed on the console per paper (all rows go to SUMMARY.md). */
const CONSOLE_CLAIMS = 15;

/** Verdict phrases the claim tables write (a sentence column starts with one of them). */
const VERDICT_PHRASE = /^(holds|does not hold|contradicted|not shown|untestable|better|worse)\b/i;
/** Cells that mark a reference row rather than a verdict. */
const REFERENCE_CELL = /^\((baseline|reference)\)$|^$/;

/** The verdict of a cell: its leading verdict phrase, lower-case (`holds here: …` → `holds`). */
function verdictOf(cell: string): string | null {
  const m = VERDICT_PHRASE.exec(cell.trim());
  return m ? m[1].toLowerCase() : null;
}

/**
 * Reads the claim rows of a notebook's CSV tables: a column named `verdict` (notebooks 01, 22, 23:
 * the claim is the first column, the difference the first column naming a difference or
 * improvement), and sentence columns whose every cell starts with a verdict phrase (`holds: +2.1 pp
 * […]`, `not shown here (…)`, `untestable at this budget: …`, as notebooks 12–15 and 22 write them; the
 * claim is the table's `claim` column or the sentence column's name). Reference rows and empty
 * verdicts are skipped; a row repeated in a summary table is listed once. A table that cannot be
 * parsed is skipped with a warning (it never stops the summary).
 */
export function readClaimRows(
  dir: string,
  notebook: string,
  resultsRoot: string,
  warn: (m: string) => void = () => {},
): ClaimRow[] {
  if (!fs.existsSync(dir)) return [];
  const out: ClaimRow[] = [];
  const seen = new Set<string>();
  const push = (row: ClaimRow) => {
    const key = [row.claim, row.detail, row.difference, row.verdict].join('\u0000');
    if (seen.has(key)) return;
    seen.add(key);
    out.push(row);
  };
  for (const file of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.csv'))
    .sort()) {
    const full = path.join(dir, file);
    const parsed = Papa.parse<Record<string, string>>(fs.readFileSync(full, 'utf8'), {
      header: true,
      skipEmptyLines: true,
    });
    const fields = parsed.meta.fields ?? [];
    const verdictCol = fields.find((f) => f.trim().toLowerCase() === 'verdict');
    const sentenceCols = fields.filter((f) => {
      if (f === verdictCol) return false;
      const cells = parsed.data.map((r) => (r[f] ?? '').trim()).filter((c) => !REFERENCE_CELL.test(c));
      return cells.length > 0 && cells.every((c) => verdictOf(c) !== null);
    });
    if (!verdictCol && sentenceCols.length === 0) continue;
    if (parsed.errors.length) {
      warn(`summary: ${full}: ${parsed.errors[0].message}; table skipped`);
      continue;
    }
    const table = path.relative(resultsRoot, full);
    const diffCol = fields.find((f) => /(a - b|difference|improvement|gap)/i.test(f));
    const detailCols = fields.filter((f) => /^(a vs b|vs|budget|metric|setting|variant|comparison)$/i.test(f.trim()));
    const claimCol = fields.find((f) => f.trim().toLowerCase() === 'claim' && !sentenceCols.includes(f));
    // context of a sentence row: the table's leading columns that are neither the claim nor a sentence
    const contextCols = fields
      .filter((f) => f !== claimCol && !sentenceCols.includes(f) && f !== verdictCol)
      .slice(0, 3);
    for (const row of parsed.data) {
      if (verdictCol && !REFERENCE_CELL.test((row[verdictCol] ?? '').trim())) {
        push({
          notebook,
          table,
          claim: row[fields[0]] ?? '',
          detail: detailCols.map((c) => `${c}: ${row[c]}`).join('; '),
          difference: diffCol ? `${diffCol}: ${row[diffCol]}` : '',
          verdict: (row[verdictCol] ?? '').trim(),
        });
      }
      for (const col of sentenceCols) {
        const cell = (row[col] ?? '').trim();
        const verdict = verdictOf(cell);
        if (!verdict) continue;
        // a sentence column called "claim" is named by its table (e.g. ma2ml-ablation-monotonic)
        const claim =
          claimCol && row[claimCol] && !REFERENCE_CELL.test(row[claimCol].trim())
            ? row[claimCol]
            : /^claim$/i.test(col.trim())
              ? path.basename(file, '.csv')
              : col;
        push({
          notebook,
          table,
          claim,
          detail: contextCols.map((c) => `${c}: ${row[c]}`).join('; '),
          difference: cell.replace(VERDICT_PHRASE, '').replace(/^(\s*(here|at this budget))?\s*:?\s*/i, ''),
          verdict,
        });
      }
    }
  }
  return out;
}

/** The tables (`.md`), figures (`.png`) and claim rows a notebook left in `<resultsRoot>/<name>/`. */
export function notebookOutputs(
  resultsRoot: string,
  notebook: string,
  durationS?: number,
  warn?: (m: string) => void,
): NotebookOutputs {
  const name = notebookKey(notebook);
  const dir = path.join(resultsRoot, name);
  const walk = (d: string): string[] =>
    fs.existsSync(d)
      ? fs
          .readdirSync(d, { withFileTypes: true })
          .flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]))
      : [];
  const files = walk(dir)
    .map((f) => path.relative(resultsRoot, f))
    .sort();
  return {
    notebook: name,
    dir: path.relative(resultsRoot, dir) || '.',
    tables: files.filter((f) => f.endsWith('.md')),
    figures: files.filter((f) => f.endsWith('.png')),
    claims: readClaimRows(dir, name, resultsRoot, warn),
    durationS,
  };
}

/** Options of {@link runSummary}. */
export interface RunSummaryOptions {
  preset: PresetName;
  /** Folder the notebooks wrote their results under (`results`). */
  resultsRoot: string;
  /** Notebooks of the run with their wall seconds (in run order). */
  notebooks: { file: string; durationS?: number }[];
  totalS: number;
  now?: Date;
  warn?: (m: string) => void;
}

/** The data sources the notebooks' default loaders use on this machine (dataset, where used, source). */
export function dataSources(): { dataset: string; usedBy: string; source: string }[] {
  const of = (name: 'fashion-mnist' | 'digits') => {
    const where = locateDataset(name);
    return where.source === 'embedded'
      ? `embedded subset (${path.relative(process.cwd(), where.dir) || where.dir})`
      : `${where.source} (${where.label})`;
  };
  return [
    { dataset: 'Fashion-MNIST', usedBy: 'notebooks 00, 14, 20-22', source: of('fashion-mnist') },
    { dataset: 'MNIST digits', usedBy: 'GANNO tasks, notebooks 10-15', source: of('digits') },
    { dataset: 'LCBench surrogate', usedBy: 'notebook 23', source: 'embedded YAHPO Gym ONNX model in data/' },
  ];
}

/**
 * Markdown summary of a run (see the module description). `lines` is the same as short console lines.
 *
 * @example
 * ```ts
 * const { markdown } = runSummary({ preset: 'quick', resultsRoot: 'results', notebooks: [{ file: 'notebooks/23-ma2ml-surrogate.ipynb', durationS: 150 }], totalS: 150 });
 * ```
 */
export function runSummary(options: RunSummaryOptions): {
  markdown: string;
  lines: string[];
  outputs: NotebookOutputs[];
} {
  const outputs = options.notebooks.map((n) => notebookOutputs(options.resultsRoot, n.file, n.durationS, options.warn));
  const sources = dataSources();
  const cpu = os.cpus();
  const md: string[] = [
    '# Reproduction summary',
    '',
    `Preset \`${options.preset}\`, ${outputs.length} notebook(s) in ${formatDuration(options.totalS)}, finished ${(options.now ?? new Date()).toISOString()}; machine: ${cpu[0]?.model?.trim() ?? 'unknown CPU'}, ${cpu.length} cores, Node ${process.version}.`,
    '',
    '## Data sources',
    '',
    ...sources.map((s) => `- ${s.dataset} (${s.usedBy}): ${s.source}`),
    '',
    'Numbers on the embedded subsets can differ from the README numbers measured on the full data (the README states the source of each).',
  ];
  const lines: string[] = [
    `summary (preset ${options.preset}; data: ${sources
      .slice(0, 2)
      .map((s) => `${s.dataset} ${s.source}`)
      .join('; ')})`,
  ];
  for (const paper of ['GANNO', 'MA2ML', 'other'] as const) {
    const mine = outputs.filter((o) => paperOf(o.notebook) === paper);
    if (!mine.length) continue;
    md.push('', `## ${paper === 'other' ? 'Other notebooks' : paper}`, '');
    const claims = mine.flatMap((o) => o.claims);
    if (claims.length) {
      md.push('| claim | setting | difference [95% CI] | verdict | table |', '|---|---|---|---|---|');
      for (const c of claims)
        md.push(
          `| ${cell(c.claim)} | ${cell(c.detail)} | ${cell(c.difference)} | **${cell(c.verdict)}** | \`${c.table}\` |`,
        );
      md.push('');
      const counts = new Map<string, number>();
      for (const c of claims) counts.set(c.verdict, (counts.get(c.verdict) ?? 0) + 1);
      lines.push(`${paper}: ${claims.length} claim row(s): ${[...counts].map(([v, k]) => `${k} ${v}`).join(', ')}`);
      // The console lists the decided rows (up to CONSOLE_CLAIMS); SUMMARY.md lists every row.
      const decided = claims.filter((c) => !/^(not shown|untestable)/i.test(c.verdict));
      for (const c of decided.slice(0, CONSOLE_CLAIMS))
        lines.push(
          `  ${c.verdict.padEnd(12)} ${c.claim}${c.detail ? ` (${c.detail})` : ''}${c.difference ? `: ${c.difference}` : ''}`.slice(
            0,
            240,
          ),
        );
      const rest = claims.length - Math.min(decided.length, CONSOLE_CLAIMS);
      if (rest > 0)
        lines.push(
          `  … ${rest} more row(s) (not shown / untestable, or beyond the first ${CONSOLE_CLAIMS} decided) in SUMMARY.md`,
        );
    } else if (paper !== 'other') {
      md.push('No claim tables were written by these notebooks.', '');
    }
    md.push('| notebook | wall time | tables | figures | folder |', '|---|---|---|---|---|');
    for (const o of mine)
      md.push(
        `| ${o.notebook} | ${o.durationS === undefined ? '-' : formatDuration(o.durationS)} | ${o.tables.length} | ${o.figures.length} | \`${o.dir}/\` |`,
      );
  }
  lines.push(
    `tables and figures: ${outputs.map((o) => `${o.dir}/ (${o.tables.length} tables, ${o.figures.length} figures)`).join(', ')}`,
  );
  return { markdown: `${md.join('\n')}\n`, lines, outputs };
}

/** Writes {@link runSummary}'s markdown to `<resultsRoot>/SUMMARY.md` (atomic) and returns its path. */
export function writeRunSummary(options: RunSummaryOptions): { file: string; lines: string[] } {
  const { markdown, lines } = runSummary(options);
  const file = path.join(options.resultsRoot, 'SUMMARY.md');
  writeFileAtomic(file, markdown);
  return { file, lines };
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
