import { initBackend } from '../backend';
import type { BackendInfo } from '../backend';
import type { PresetName } from '../config';
import { ma2mlPlan, planExecutor, planSpace } from '../ma2ml/experiments/plan';
import type { Ma2mlPlan } from '../ma2ml/experiments/plan';
import { surrogatePlan } from '../ma2ml/experiments/surrogate/plan';
import type { SurrogatePlan } from '../ma2ml/experiments/surrogate/plan';
import { surrogateExecutor } from '../ma2ml/experiments/surrogate/search';
import type { SearchSpace } from '../ma2ml/spaces';
import type { Executor } from '../runtime/executor';
import { interruptible } from './interrupt';
import { ExperimentStore } from '../runtime/store';
import { preset } from './presets';

/** What the MA2ML notebooks (21-22) start from. */
export interface Ma2mlSession {
  backend: BackendInfo;
  /** The active preset's plan (`ma2mlPlan(preset())`). */
  plan: Ma2mlPlan;
  /** The plan's search space (`planSpace(plan)`). */
  space: SearchSpace;
  /** The plan's executor (`planExecutor(plan)`: worker threads, or inline with `workers: 0`). */
  executor: Executor;
  /** The project's experiment store (`MARL_AUTOML_STORE` or `results/experiments.sqlite`): cached, resumable. */
  store: ExperimentStore;
  /** When the session opened (`Date.now()`), for a notebook's total wall time. */
  started: number;
  /** The mode lines printed when the session opened (backend, store, plan, executor). */
  mode: string[];
  /** Closes the executor and the store (once; later calls do nothing). */
  close(): Promise<void>;
}

/** What notebook 23 (the LCBench surrogate) starts from: like {@link Ma2mlSession}, with the surrogate plan. */
export interface Ma2mlSurrogateSession extends Omit<Ma2mlSession, 'plan' | 'space'> {
  /** The active preset's surrogate plan (`surrogatePlan(preset())`). */
  plan: SurrogatePlan;
}

/** Options of {@link openMa2mlSession} and {@link openMa2mlSurrogateSession}. */
export interface Ma2mlSessionOptions {
  /** Where the mode lines go (default `console.log`; `() => {}` for none). */
  log?: (line: string) => void;
  /** Store file (default: `MARL_AUTOML_STORE` or `results/experiments.sqlite`). */
  storeFile?: string;
}

function executorText(workers: number): string {
  return workers > 0 ? `${workers} worker threads` : 'inline';
}

function closer(executor: Executor, store: ExperimentStore): () => Promise<void> {
  let closed = false;
  return async () => {
    if (closed) return;
    closed = true;
    await executor.close();
    store.close();
  };
}

/**
 * Initialises the backend and opens the preset's MA2ML plan, its search space, executor and the
 * experiment store, and prints the mode (backend, store file, plan, executor), so notebooks 21-22
 * start with one line and run the same plan and cache.
 *
 * @example
 * ```ts
 * const session = await openMa2mlSession();
 * const runs = await runSearches(session.plan, mainCells(session.plan), session);
 * await session.close();
 * ```
 */
export async function openMa2mlSession(options: Ma2mlSessionOptions = {}): Promise<Ma2mlSession> {
  const log = options.log ?? ((line: string) => console.log(line));
  const backend = await initBackend();
  const plan = ma2mlPlan(preset() as PresetName);
  const space = planSpace(plan);
  const store = ExperimentStore.open(options.storeFile);
  const executor = interruptible(planExecutor(plan)); // Kernel › Interrupt cancels its jobs
  const mode = [
    `backend: ${backend.summary}; store: ${store.file}`,
    `plan: ${plan.description}`,
    `search space '${space.name}'; ${plan.methods.length} methods x ${plan.flops.length} budgets x ${plan.seeds.length} seeds x ${plan.evaluations} evaluations (batch ${plan.batchSize}); ${executorText(plan.workers)}`,
  ];
  mode.forEach((l) => log(l));
  return { backend, plan, space, executor, store, started: Date.now(), mode, close: closer(executor, store) };
}

/**
 * Like {@link openMa2mlSession} for notebook 23: the preset's LCBench surrogate plan, its executor and
 * the experiment store, with the mode printed.
 *
 * @example
 * ```ts
 * const session = await openMa2mlSurrogateSession();
 * const { runs } = await runSurrogateSearches(session.plan, surrogateCells(session.plan), session);
 * await session.close();
 * ```
 */
export async function openMa2mlSurrogateSession(options: Ma2mlSessionOptions = {}): Promise<Ma2mlSurrogateSession> {
  const log = options.log ?? ((line: string) => console.log(line));
  const backend = await initBackend();
  const plan = surrogatePlan(preset() as PresetName);
  const store = ExperimentStore.open(options.storeFile);
  const executor = interruptible(surrogateExecutor(plan)); // Kernel › Interrupt cancels its jobs
  const mode = [
    `backend: ${backend.summary}; store: ${store.file}`,
    `plan: ${plan.description}; ${executorText(plan.workers)}`,
  ];
  mode.forEach((l) => log(l));
  return { backend, plan, executor, store, started: Date.now(), mode, close: closer(executor, store) };
}
