import * as fs from 'fs';
import { z } from 'zod';

/** Text in nbformat: a string or a list of lines (each keeping its trailing newline). */
export type MultilineText = string | string[];

/** A `stream` output (stdout or stderr text). */
export interface StreamOutput {
  output_type: 'stream';
  name: 'stdout' | 'stderr';
  text: MultilineText;
}

/** A `display_data` output: one MIME bundle (e.g. plotly JSON + PNG + text). */
export interface DisplayDataOutput {
  output_type: 'display_data';
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  transient?: { display_id?: string };
}

/** An `error` output. */
export interface ErrorOutput {
  output_type: 'error';
  ename: string;
  evalue: string;
  traceback: string[];
}

/** An `execute_result` output (kept when reading notebooks executed elsewhere). */
export interface ExecuteResultOutput {
  output_type: 'execute_result';
  execution_count: number | null;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

/** Any nbformat 4 cell output. */
export type CellOutput = StreamOutput | DisplayDataOutput | ErrorOutput | ExecuteResultOutput;

/** One nbformat 4 cell. */
export interface NotebookCell {
  cell_type: 'code' | 'markdown' | 'raw';
  id?: string;
  source: MultilineText;
  metadata: Record<string, unknown>;
  outputs?: CellOutput[];
  execution_count?: number | null;
  attachments?: Record<string, unknown>;
}

/** An nbformat 4 notebook. */
export interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: NotebookCell[];
}

const Text = z.union([z.string(), z.array(z.string())]);
const NotebookSchema = z
  .object({
    nbformat: z.literal(4, { errorMap: () => ({ message: 'only nbformat 4 notebooks are supported' }) }),
    nbformat_minor: z.number().int().nonnegative(),
    metadata: z.record(z.unknown()).default({}),
    cells: z.array(
      z
        .object({
          cell_type: z.enum(['code', 'markdown', 'raw']),
          source: Text,
          metadata: z.record(z.unknown()).default({}),
        })
        .passthrough(),
    ),
  })
  .passthrough();

/**
 * Joins nbformat multiline text into one string.
 *
 * @example
 * ```ts
 * joinText(['a\n', 'b']); // 'a\nb'
 * ```
 */
export function joinText(text: MultilineText | undefined): string {
  if (text === undefined) return '';
  return Array.isArray(text) ? text.join('') : text;
}

/**
 * Splits text into nbformat lines (each keeps its `\n`), the way Jupyter writes notebooks.
 *
 * @example
 * ```ts
 * splitLines('a\nb'); // ['a\n', 'b']
 * ```
 */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/(?<=\n)/);
  return lines;
}

/**
 * Reads and validates an nbformat 4 notebook; errors name the file and the offending field.
 *
 * @example
 * ```ts
 * const nb = readNotebook('notebooks/01-environment.ipynb');
 * console.log(nb.cells.filter((c) => c.cell_type === 'code').length);
 * ```
 */
export function readNotebook(file: string): Notebook {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`notebook ${file}: cannot read (${(err as Error).message})`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new Error(`notebook ${file}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  const parsed = NotebookSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`notebook ${file}: invalid nbformat (${issues})`);
  }
  return parsed.data as unknown as Notebook;
}

/**
 * Serialises a notebook the way Jupyter does (1-space indent, trailing newline).
 *
 * @example
 * ```ts
 * writeFileAtomic('out.ipynb', serializeNotebook(readNotebook('in.ipynb')));
 * ```
 */
export function serializeNotebook(nb: Notebook): string {
  return JSON.stringify(nb, null, 1) + '\n';
}
