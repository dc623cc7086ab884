/**
 * Benchmark registry for `npm run bench`. A suite is a named async function that measures
 * something and returns table rows plus pass/fail checks against targets. Suites register
 * themselves at import time ({@link registerBench}); `src/bench/suites.ts` imports every suite
 * module, so adding a suite is one new file plus one import line there.
 */

/** One cell value of a benchmark row. */
export type BenchValue = number | string | boolean | null;

/** One measured configuration: printed as a table row and written to the JSON report. */
export type BenchRow = Record<string, BenchValue>;

/** A target a suite checks (e.g. "overrides make the MLP step >= 4x faster"). */
export interface BenchCheck {
  /** What is checked, in words. */
  name: string;
  /** Measured value (undefined/null when it could not be measured). */
  value: number | null;
  /** Comparison and threshold, e.g. `>= 4`. */
  op: '>=' | '<=';
  target: number;
  /** Unit of value and target (e.g. `x`, `steps/s`). */
  unit: string;
  pass: boolean;
}

/** What a suite returns. */
export interface BenchResult {
  rows: BenchRow[];
  checks: BenchCheck[];
  /** Free-form notes (machine load, skipped configurations, ...). */
  notes: string[];
}

/** Options passed to each suite. */
export interface BenchContext {
  /** Fewer warm-up and timed iterations (for smoke runs). */
  quick: boolean;
  /** Progress lines (the CLI prints them to stderr). */
  log: (message: string) => void;
}

/** A benchmark suite. */
export interface BenchSuite {
  /** Unique name, used by `--only`. Lowercase letters, digits, `-`. */
  name: string;
  /** One line describing what it measures. */
  description: string;
  run(ctx: BenchContext): Promise<BenchResult>;
}

/** A suite's result as stored in the JSON report. */
export interface SuiteReport extends BenchResult {
  name: string;
  description: string;
  durationMs: number;
  /** Set when the suite threw; rows/checks then hold whatever it had not produced (empty). */
  error?: string;
}

const suites = new Map<string, BenchSuite>();

/**
 * Registers a benchmark suite (throws on a duplicate or malformed name).
 *
 * @example
 * ```ts
 * registerBench({
 *   name: 'noop',
 *   description: 'measures nothing',
 *   run: async () => ({ rows: [{ config: 'a', ms: 1 }], checks: [], notes: [] }),
 * });
 * ```
 */
export function registerBench(suite: BenchSuite): void {
  if (!suite || typeof suite.name !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(suite.name)) {
    throw new Error(`registerBench: name must match /^[a-z0-9][a-z0-9-]*$/, got '${suite?.name}'`);
  }
  if (typeof suite.run !== 'function') throw new Error(`registerBench('${suite.name}'): run must be a function`);
  if (suites.has(suite.name)) throw new Error(`registerBench: a suite named '${suite.name}' is already registered`);
  suites.set(suite.name, suite);
}

/**
 * Registered suites in registration order.
 *
 * @example
 * ```ts
 * for (const s of listBenches()) console.log(s.name, s.description);
 * ```
 */
export function listBenches(): BenchSuite[] {
  return [...suites.values()];
}

/**
 * Resolves `--only` names to suites; unknown names raise an error listing the known ones.
 *
 * @example
 * ```ts
 * const chosen = selectBenches(['training']);
 * ```
 */
export function selectBenches(only?: readonly string[]): BenchSuite[] {
  if (!only || only.length === 0) return listBenches();
  const unknown = only.filter((n) => !suites.has(n));
  if (unknown.length) {
    throw new Error(
      `unknown bench suite(s) ${unknown.map((n) => `'${n}'`).join(', ')}; known: ${[...suites.keys()].join(', ') || '(none)'}`,
    );
  }
  return only.map((n) => suites.get(n)!);
}

/**
 * Builds a check: `pass` is false when the value is missing or misses the target.
 *
 * @example
 * ```ts
 * const c = check('MLP speed-up from overrides', 5.1, '>=', 4, 'x'); // c.pass === true
 * ```
 */
export function check(
  name: string,
  value: number | null | undefined,
  op: '>=' | '<=',
  target: number,
  unit: string,
): BenchCheck {
  const v = value === undefined || value === null || !Number.isFinite(value) ? null : value;
  const pass = v !== null && (op === '>=' ? v >= target : v <= target);
  return { name, value: v, op, target, unit, pass };
}

/**
 * Runs suites one after another (a throwing suite is recorded, not fatal).
 *
 * @example
 * ```ts
 * const reports = await runBenches(selectBenches(), { quick: true, log: console.error });
 * ```
 */
export async function runBenches(chosen: readonly BenchSuite[], ctx: BenchContext): Promise<SuiteReport[]> {
  const out: SuiteReport[] = [];
  for (const suite of chosen) {
    const t0 = performance.now();
    ctx.log(`[bench] ${suite.name}: ${suite.description}`);
    try {
      const r = await suite.run(ctx);
      out.push({ name: suite.name, description: suite.description, durationMs: performance.now() - t0, ...r });
    } catch (err) {
      const message = (err as Error)?.stack ?? String(err);
      out.push({
        name: suite.name,
        description: suite.description,
        durationMs: performance.now() - t0,
        rows: [],
        checks: [],
        notes: [],
        error: message,
      });
    }
  }
  return out;
}
