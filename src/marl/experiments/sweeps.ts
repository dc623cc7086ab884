/**
 * Seed sweeps of the MARL basics experiments through the runtime: one job per (game, method,
 * seed), run on any executor (inline or a worker pool) and cached in an experiment store, so a
 * re-run returns the stored results.
 */
import type { ProgressSink } from '../../progress';
import { runExperiment } from '../../runtime/experiment';
import type { Executor } from '../../runtime/executor';
import type { ExperimentStore } from '../../runtime/store';
import { DILUTED_METHODS, dilutedGameSeedKind } from './diluted';
import type { DilutedMethod, DilutedSeedConfigInput, DilutedSeedResult } from './diluted';
import { MATRIX_METHODS, matrixGameSeedKind } from './matrix';
import type { MatrixMethod, MatrixSeedResult } from './matrix';

/** A matrix game of a sweep: `{ game: 'climbing' }` or `{ game: 'penalty', penaltyK: -5 }`. */
export interface MatrixGameSpec {
  game: 'climbing' | 'penalty';
  penaltyK?: number;
}

/** Bookkeeping of a sweep run. */
export interface SweepStats {
  jobs: number;
  computed: number;
  cached: number;
  /** Wall time of this call (near 0 when every run came from the store). */
  wallSeconds: number;
}

/**
 * Label of a matrix game: `climbing` or `penalty(k=-5)`.
 *
 * @example
 * ```ts
 * matrixGameLabel({ game: 'penalty', penaltyK: -5 }); // 'penalty(k=-5)'
 * ```
 */
export function matrixGameLabel(spec: MatrixGameSpec): string {
  return spec.game === 'penalty' ? `penalty(k=${spec.penaltyK ?? -5})` : spec.game;
}

function checkSeeds(seeds: readonly number[], what: string): void {
  if (!Array.isArray(seeds) || seeds.length === 0)
    throw new Error(`${what}: seeds must be a non-empty array of integers`);
  seeds.forEach((s, i) => {
    if (!Number.isSafeInteger(s)) throw new Error(`${what}: seeds[${i}] must be an integer, got ${JSON.stringify(s)}`);
  });
  if (new Set(seeds).size !== seeds.length) throw new Error(`${what}: seeds must be distinct, got ${seeds.join(', ')}`);
}

/** Options of {@link runMatrixSweep}. */
export interface MatrixSweepOptions {
  /** Experiment name in the store. */
  name: string;
  games: readonly MatrixGameSpec[];
  methods?: readonly MatrixMethod[];
  seeds: readonly number[];
  iterations: number;
  batchSize?: number;
  actorLr?: number;
  executor: Executor;
  store: ExperimentStore;
  progress?: ProgressSink;
  force?: boolean;
}

/**
 * Runs every (game, method, seed) of the matrix-game comparison as a `marl-matrix-seed` job and
 * returns the results grouped as `results[gameLabel][method]` (in seed order).
 *
 * @example
 * ```ts
 * const sweep = await runMatrixSweep({ name: '01-matrix', games: [{ game: 'climbing' }], seeds: [0, 1, 2], iterations: 150, executor, store });
 * sweep.results.climbing.independent.length; // 3
 * ```
 */
export async function runMatrixSweep(
  opts: MatrixSweepOptions,
): Promise<{ results: Record<string, Record<string, MatrixSeedResult[]>> } & SweepStats> {
  const methods = opts.methods ?? MATRIX_METHODS;
  checkSeeds(opts.seeds, 'runMatrixSweep');
  if (!Array.isArray(opts.games) || opts.games.length === 0)
    throw new Error('runMatrixSweep: games must list at least one game');
  const labels = opts.games.map(matrixGameLabel);
  if (new Set(labels).size !== labels.length)
    throw new Error(`runMatrixSweep: games must be distinct, got ${labels.join(', ')}`);
  const jobs = opts.games.flatMap((g, gi) =>
    methods.flatMap((method) =>
      opts.seeds.map((seed) => {
        const config: Record<string, unknown> = { game: g.game, method, iterations: opts.iterations };
        if (g.game === 'penalty') config.penaltyK = g.penaltyK ?? -5;
        if (opts.batchSize !== undefined) config.batchSize = opts.batchSize;
        if (opts.actorLr !== undefined) config.actorLr = opts.actorLr;
        return matrixGameSeedKind.job(`${labels[gi]}/${method}/seed=${seed}`, config, seed);
      }),
    ),
  );
  const t0 = Date.now();
  const res = await runExperiment<MatrixSeedResult>({
    name: opts.name,
    jobs,
    executor: opts.executor,
    store: opts.store,
    progress: opts.progress,
    force: opts.force,
  });
  const results: Record<string, Record<string, MatrixSeedResult[]>> = {};
  let k = 0;
  for (const label of labels) {
    results[label] = {};
    for (const method of methods) results[label][method] = opts.seeds.map(() => res.results[k++]);
  }
  return {
    results,
    jobs: res.jobs.length,
    computed: res.computed,
    cached: res.cached,
    wallSeconds: (Date.now() - t0) / 1000,
  };
}

/** Options of {@link runDilutedSweep}. */
export interface DilutedSweepOptions {
  name: string;
  methods?: readonly DilutedMethod[];
  seeds: readonly number[];
  /** Settings shared by all runs (episodes is required). */
  game: Omit<DilutedSeedConfigInput, 'method'>;
  executor: Executor;
  store: ExperimentStore;
  progress?: ProgressSink;
  force?: boolean;
}

/**
 * Runs every (method, seed) of the diluted-game comparison as a `marl-diluted-seed` job and returns
 * `results[method]` in seed order.
 *
 * @example
 * ```ts
 * const sweep = await runDilutedSweep({ name: '01-diluted', seeds: [0, 1, 2], game: { numAgents: 20, episodes: 1600 }, executor, store });
 * sweep.results.difference[0].episodesToThreshold;
 * ```
 */
export async function runDilutedSweep(
  opts: DilutedSweepOptions,
): Promise<{ results: Record<string, DilutedSeedResult[]> } & SweepStats> {
  const methods = opts.methods ?? DILUTED_METHODS;
  checkSeeds(opts.seeds, 'runDilutedSweep');
  const jobs = methods.flatMap((method) =>
    opts.seeds.map((seed) => dilutedGameSeedKind.job(`diluted/${method}/seed=${seed}`, { ...opts.game, method }, seed)),
  );
  const t0 = Date.now();
  const res = await runExperiment<DilutedSeedResult>({
    name: opts.name,
    jobs,
    executor: opts.executor,
    store: opts.store,
    progress: opts.progress,
    force: opts.force,
  });
  const results: Record<string, DilutedSeedResult[]> = {};
  let k = 0;
  for (const method of methods) results[method] = opts.seeds.map(() => res.results[k++]);
  return {
    results,
    jobs: res.jobs.length,
    computed: res.computed,
    cached: res.cached,
    wallSeconds: (Date.now() - t0) / 1000,
  };
}
