import { createHash } from 'crypto';
import { ConfigError, parseConfig, z } from '../../config';
import { LCBENCH_PARAMS, rangeProblem } from './space';
import type { LcbenchConfig, LcbenchParam } from './space';

/** One hyper-parameter of a grid agent: its token `k` selects `values[k]`. */
export interface GridParam {
  name: LcbenchParam;
  values: number[];
}

/** One agent of a joint grid: it emits one token per parameter, in order. */
export interface GridAgent {
  name: string;
  params: GridParam[];
}

/**
 * A discretised joint search space over the LCBench hyper-parameters, split between agents. Every
 * LCBench parameter belongs to exactly one agent. Plain JSON: edit a copy, then {@link parseGrid}.
 */
export interface LcbenchGrid {
  name: string;
  agents: GridAgent[];
}

/** Sizes of a grid: joint configurations, per agent (product of its vocabularies), per token. */
export interface GridSizes {
  joint: number;
  perAgent: number[];
  perToken: number[][];
}

/** Largest joint grid accepted (the tables evaluate every configuration). */
export const MAX_GRID_SIZE = 2_000_000;

/**
 * The default joint grid (84,000 configurations): an architecture agent (num_layers 1-5; max_units
 * 64, 128, 256, 512, 1024; max_dropout 0, 0.25, 0.5, 0.75: 100 architectures) and an optimisation
 * agent (batch_size 16-512 in powers of 2; learning_rate 1e-4 to 1e-1 in half-decades (7 values);
 * momentum 0.1, 0.5, 0.9, 0.99; weight_decay 1e-5 to 1e-1 in decades: 840 settings). All values
 * lie inside the LCBench ranges; integer parameters take integer values. A fresh copy each call.
 *
 * @example
 * ```ts
 * const grid = defaultLcbenchGrid();
 * gridSizes(grid); // { joint: 84000, perAgent: [100, 840], perToken: [[5, 5, 4], [6, 7, 4, 5]] }
 * ```
 */
export function defaultLcbenchGrid(): LcbenchGrid {
  return {
    name: 'lcbench-default',
    agents: [
      {
        name: 'architecture',
        params: [
          { name: 'num_layers', values: [1, 2, 3, 4, 5] },
          { name: 'max_units', values: [64, 128, 256, 512, 1024] },
          { name: 'max_dropout', values: [0, 0.25, 0.5, 0.75] },
        ],
      },
      {
        name: 'optimisation',
        params: [
          { name: 'batch_size', values: [16, 32, 64, 128, 256, 512] },
          {
            name: 'learning_rate',
            values: [1e-4, 0.00031622776601683794, 1e-3, 0.0031622776601683794, 1e-2, 0.03162277660168379, 1e-1],
          },
          { name: 'momentum', values: [0.1, 0.5, 0.9, 0.99] },
          { name: 'weight_decay', values: [1e-5, 1e-4, 1e-3, 1e-2, 1e-1] },
        ],
      },
    ],
  };
}

const GridSchema = z
  .object({
    name: z.string().min(1),
    agents: z
      .array(
        z
          .object({
            name: z.string().min(1),
            params: z
              .array(
                z
                  .object({
                    name: z.enum(LCBENCH_PARAMS),
                    values: z.array(z.number()).min(1, 'needs at least one value'),
                  })
                  .strict(),
              )
              .min(1, 'an agent needs at least one parameter'),
          })
          .strict(),
      )
      .min(1, 'at least one agent is needed'),
  })
  .strict()
  .superRefine((g, ctx) => {
    const agentNames = new Set<string>();
    const seen = new Map<string, string>();
    g.agents.forEach((a, ai) => {
      if (agentNames.has(a.name))
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['agents', ai, 'name'],
          message: `duplicate agent name '${a.name}'`,
        });
      agentNames.add(a.name);
      a.params.forEach((p, pi) => {
        const where = ['agents', ai, 'params', pi];
        if (seen.has(p.name))
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            path: [...where, 'name'],
            message: `${p.name} already belongs to agent '${seen.get(p.name)}'`,
          });
        seen.set(p.name, a.name);
        if (new Set(p.values).size !== p.values.length)
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            path: [...where, 'values'],
            message: `${p.name} values must be distinct`,
          });
        p.values.forEach((v, vi) => {
          const why = rangeProblem(p.name, v);
          if (why)
            ctx.addIssue({ code: z.ZodIssueCode.custom, path: [...where, 'values', vi], message: `${p.name} ${why}` });
        });
      });
    });
    for (const p of LCBENCH_PARAMS) {
      if (!seen.has(p))
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['agents'],
          message: `parameter ${p} belongs to no agent (each LCBench parameter needs a grid)`,
        });
    }
    const joint = g.agents.reduce((acc, a) => acc * a.params.reduce((m, p) => m * p.values.length, 1), 1);
    if (joint > MAX_GRID_SIZE)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['agents'],
        message: `joint grid has ${joint} configurations, more than ${MAX_GRID_SIZE}`,
      });
  });

/**
 * Validates a grid (every LCBench parameter in exactly one agent, values distinct and in range, joint
 * size at most {@link MAX_GRID_SIZE}); returns it, or throws a `ConfigError` naming the field, e.g.
 * `agents.1.params.1.values.0: learning_rate must be in [0.0001, 0.1], got 5`.
 *
 * @example
 * ```ts
 * const g = defaultLcbenchGrid();
 * g.agents[1].params[1].values = [1e-3, 1e-2];
 * parseGrid(g);
 * ```
 */
export function parseGrid(grid: unknown): LcbenchGrid {
  return parseConfig(GridSchema, grid, 'LCBench grid') as LcbenchGrid;
}

/**
 * Joint, per-agent and per-token sizes of a grid.
 *
 * @example
 * ```ts
 * gridSizes(defaultLcbenchGrid()).joint; // 84000
 * ```
 */
export function gridSizes(grid: LcbenchGrid): GridSizes {
  const perToken = grid.agents.map((a) => a.params.map((p) => p.values.length));
  const perAgent = perToken.map((v) => v.reduce((m, k) => m * k, 1));
  return { joint: perAgent.reduce((m, k) => m * k, 1), perAgent, perToken };
}

/**
 * The `agents` field of a `SingleStepLearner` configuration for this grid (one vocabulary per token),
 * so a learner's joint actions are this grid's token arrays.
 *
 * @example
 * ```ts
 * const learner = new SingleStepLearner({ agents: gridLearnerAgents(defaultLcbenchGrid()), seed: 0 });
 * ```
 */
export function gridLearnerAgents(grid: LcbenchGrid): { name: string; vocab: number[] }[] {
  return grid.agents.map((a) => ({ name: a.name, vocab: a.params.map((p) => p.values.length) }));
}

/**
 * sha256 (hex) of the grid's canonical JSON (agents, parameters and values in order; the name is
 * excluded): two grids with the same hash give the same table.
 *
 * @example
 * ```ts
 * gridHash(defaultLcbenchGrid()).length; // 64
 * ```
 */
export function gridHash(grid: LcbenchGrid): string {
  const canonical = JSON.stringify(grid.agents.map((a) => [a.name, a.params.map((p) => [p.name, p.values])]));
  return createHash('sha256').update(canonical).digest('hex');
}

function tokenError(message: string): ConfigError {
  return new ConfigError('grid tokens', [{ path: 'tokens', message }]);
}

/**
 * Mixed-radix encoding of a joint configuration: tokens are read agent by agent, parameter by
 * parameter, the first token most significant (row-major, as numpy's `ravel_multi_index`), so the
 * last parameter of the last agent varies fastest. Throws naming the agent and parameter of a bad token.
 *
 * @example
 * ```ts
 * const g = defaultLcbenchGrid();
 * gridTokensToIndex(g, [[0, 0, 0], [0, 0, 0, 1]]); // 1
 * gridTokensToIndex(g, [[0, 0, 1], [0, 0, 0, 0]]); // 840
 * ```
 */
export function gridTokensToIndex(grid: LcbenchGrid, tokens: readonly (readonly number[])[]): number {
  if (!Array.isArray(tokens) || tokens.length !== grid.agents.length)
    throw tokenError(
      `expected ${grid.agents.length} token arrays (one per agent), got ${Array.isArray(tokens) ? tokens.length : typeof tokens}`,
    );
  let index = 0;
  grid.agents.forEach((a, ai) => {
    const t = tokens[ai];
    if (!t || t.length !== a.params.length)
      throw tokenError(`agent '${a.name}' needs ${a.params.length} tokens, got ${t ? t.length : t}`);
    a.params.forEach((p, pi) => {
      const k = t[pi];
      if (!Number.isInteger(k) || k < 0 || k >= p.values.length)
        throw tokenError(
          `agent '${a.name}' ${p.name} token must be an integer in [0, ${p.values.length - 1}], got ${k}`,
        );
      index = index * p.values.length + k;
    });
  });
  return index;
}

/**
 * Inverse of {@link gridTokensToIndex}: the per-agent token arrays of joint index `index`.
 *
 * @example
 * ```ts
 * gridIndexToTokens(defaultLcbenchGrid(), 840); // [[0, 0, 1], [0, 0, 0, 0]]
 * ```
 */
export function gridIndexToTokens(grid: LcbenchGrid, index: number): number[][] {
  const size = gridSizes(grid).joint;
  if (!Number.isInteger(index) || index < 0 || index >= size)
    throw new ConfigError('grid index', [
      { path: 'index', message: `must be an integer in [0, ${size - 1}], got ${index}` },
    ]);
  const out = grid.agents.map((a) => new Array<number>(a.params.length).fill(0));
  let rest = index;
  for (let ai = grid.agents.length - 1; ai >= 0; ai--) {
    const params = grid.agents[ai].params;
    for (let pi = params.length - 1; pi >= 0; pi--) {
      const k = params[pi].values.length;
      out[ai][pi] = rest % k;
      rest = Math.floor(rest / k);
    }
  }
  return out;
}

/**
 * The LCBench configuration that per-agent tokens select.
 *
 * @example
 * ```ts
 * gridTokensToConfig(defaultLcbenchGrid(), [[1, 2, 0], [2, 4, 2, 1]]);
 * // { num_layers: 2, max_units: 256, max_dropout: 0, batch_size: 64, learning_rate: 0.01, momentum: 0.9, weight_decay: 1e-4 }
 * ```
 */
export function gridTokensToConfig(grid: LcbenchGrid, tokens: readonly (readonly number[])[]): LcbenchConfig {
  gridTokensToIndex(grid, tokens); // validates
  const config: Partial<LcbenchConfig> = {};
  grid.agents.forEach((a, ai) => a.params.forEach((p, pi) => (config[p.name] = p.values[tokens[ai][pi]])));
  return config as LcbenchConfig;
}

/**
 * The LCBench configuration of joint index `index`.
 *
 * @example
 * ```ts
 * gridIndexToConfig(defaultLcbenchGrid(), 0).learning_rate; // 1e-4
 * ```
 */
export function gridIndexToConfig(grid: LcbenchGrid, index: number): LcbenchConfig {
  return gridTokensToConfig(grid, gridIndexToTokens(grid, index));
}

/**
 * Tokens of a configuration whose every value is one of the grid's (exact match); throws naming the
 * parameter otherwise.
 *
 * @example
 * ```ts
 * const g = defaultLcbenchGrid();
 * gridConfigToTokens(g, gridIndexToConfig(g, 123)); // gridIndexToTokens(g, 123)
 * ```
 */
export function gridConfigToTokens(grid: LcbenchGrid, config: LcbenchConfig): number[][] {
  return grid.agents.map((a) =>
    a.params.map((p) => {
      const k = p.values.indexOf(config[p.name]);
      if (k < 0)
        throw new ConfigError('grid configuration', [
          { path: p.name, message: `${config[p.name]} is not one of the grid values ${JSON.stringify(p.values)}` },
        ]);
      return k;
    }),
  );
}

/**
 * Fills the surrogate's `x_cont` rows (`epoch`, then the LCBench parameters in `X_CONT_COLUMNS`
 * order) for joint indices `start .. start + count - 1`: the input of one batched inference.
 *
 * @example
 * ```ts
 * const x = gridXCont(grid, 0, 4096, 52); // Float32Array of 4096 x 8
 * ```
 */
export function gridXCont(grid: LcbenchGrid, start: number, count: number, epoch: number): Float32Array {
  // Column of each token in x_cont (1 + position in LCBENCH_PARAMS).
  const flat: { col: number; values: number[] }[] = [];
  for (const a of grid.agents)
    for (const p of a.params) flat.push({ col: 1 + LCBENCH_PARAMS.indexOf(p.name), values: p.values });
  const x = new Float32Array(count * 8);
  for (let i = 0; i < count; i++) {
    let rest = start + i;
    const row = i * 8;
    x[row] = epoch;
    for (let t = flat.length - 1; t >= 0; t--) {
      const k = flat[t].values.length;
      x[row + flat[t].col] = flat[t].values[rest % k];
      rest = Math.floor(rest / k);
    }
  }
  return x;
}
