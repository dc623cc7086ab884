import { initBackend } from '../backend';
import type { BackendInfo } from '../backend';
import { gannoPlan } from '../ganno/experiments/plan';
import { trainGannoVariants } from '../ganno/experiments/training';
import type { VariantAgent } from '../ganno/experiments/training';
import { DEFAULT_VARIANT } from '../ganno/experiments/variants';
import { notebookProgress } from './progress';
import type { GannoPlan } from '../ganno/experiments/plan';
import type { PresetName } from '../config';
import { InlineExecutor } from '../runtime/executor';
import type { Executor } from '../runtime/executor';
import { WorkerPoolExecutor } from '../runtime/worker-pool';
import { executorMode, modeExecutor } from '../runtime/distributed';
import { ExperimentStore } from '../runtime/store';
import { preset } from './presets';
import { interruptible } from './interrupt';

/**
 * Environment variable that overrides the default agent's budget curve (multiples of the plan's PPO
 * updates, e.g. `1,3,10`: the "paper" budget curve of notebook 11; see src/ganno/README.md).
 */
export const BUDGET_CURVE_ENV = 'MARL_AUTOML_GANNO_BUDGET_CURVE';

/**
 * The budget curve from {@link BUDGET_CURVE_ENV}, or undefined (the preset's default) when unset.
 *
 * @example
 * ```ts
 * budgetCurveFromEnv({ MARL_AUTOML_GANNO_BUDGET_CURVE: '1,3,10' }); // [1, 3, 10]
 * ```
 */
export function budgetCurveFromEnv(env: NodeJS.ProcessEnv = process.env): number[] | undefined {
  const raw = env[BUDGET_CURVE_ENV]?.trim();
  if (!raw) return undefined;
  const values = raw.split(',').map((v) => Number(v.trim()));
  if (values.some((v) => !Number.isInteger(v) || v < 1))
    throw new Error(
      `${BUDGET_CURVE_ENV}: expected comma-separated positive integers starting with 1 (e.g. 1,3,10), got ${JSON.stringify(raw)}`,
    );
  return values;
}

/** What every GANNO notebook (11-15) starts from. */
export interface GannoSession {
  backend: BackendInfo;
  /** The active preset's plan (`gannoPlan(preset())`). */
  plan: GannoPlan;
  /**
   * Inline for `smoke` (fast start in CI), two worker threads otherwise; in distributed mode
   * (`MARL_AUTOML_DB` set) a `QueueExecutor` whose jobs run on `npm run worker` processes. Wrapped in
   * {@link interruptible}: Kernel › Interrupt cancels its queued and running jobs (finished ones stay
   * in the store).
   */
  executor: Executor;
  /** Which mode the session runs in, e.g. `embedded (2 worker threads)` or `distributed (PostgreSQL queue at ...)`. */
  mode: string;
  /** The project's experiment store (`MARL_AUTOML_STORE` or `results/experiments.sqlite`). */
  store: ExperimentStore;
  /**
   * The default agents of this plan (notebook 11's), one per agent seed: loaded from the store, or
   * trained now (with progress lines) when missing.
   */
  defaultAgents(): Promise<VariantAgent[]>;
  /** Cancels the executor's runs in progress, then closes the executor and the store (the last cell of a notebook). */
  close(): Promise<void>;
}

/**
 * Initialises the backend and opens the plan, executor and store shared by the GANNO notebooks, so
 * their first cell stays one line and they all run the same agents and tasks.
 *
 * @example
 * ```ts
 * const session = await openGannoSession();
 * const agents = await session.defaultAgents(); // trained in notebook 11, cached in the store
 * await session.close();
 * ```
 */
export async function openGannoSession(): Promise<GannoSession> {
  const backend = await initBackend();
  const plan = gannoPlan(preset() as PresetName, { budgetCurve: budgetCurveFromEnv() });
  const inner: Executor = modeExecutor(
    () => (plan.preset === 'smoke' ? new InlineExecutor() : new WorkerPoolExecutor({ workers: 2 })),
    { log: () => undefined },
  );
  const executor = interruptible(inner);
  const store = ExperimentStore.open();
  const mode = executorMode(inner);
  console.log(`GANNO session: ${mode}; experiment store ${store.file}`);
  return {
    backend,
    plan,
    executor,
    mode,
    store,
    defaultAgents: () =>
      trainGannoVariants({
        plan,
        variants: [DEFAULT_VARIANT],
        executor,
        store,
        progress: notebookProgress({ intervalMs: 15000 }),
      }),
    async close() {
      await executor.close();
      store.close();
    },
  };
}
