/**
 * The agent variants of the GANNO ablation (spec experiment 6) as data: each is the default
 * agent with one switch changed, trained with the same budget, seeds and task distribution.
 */
import { DEFAULT_LOCAL_FEATURES } from '../features';
import type { LayerLrEnvConfig } from '../env';
import type { GannoTrainConfig } from '../train';
import type { GannoPlan } from './plan';

/** One agent variant: the default training config with overrides. */
export interface GannoVariant {
  /** Short identifier (used in checkpoint folder names and job keys). */
  name: string;
  /** Row label for tables. */
  label: string;
  /** What changes relative to the default agent. */
  description: string;
  /**
   * The paper's claim this variant tests, phrased so that "holds" means the *default* agent is
   * better than this variant (null for the default itself).
   */
  claim: string | null;
  /** Environment overrides (merged into the plan's env; `task` merged field by field). */
  env?: LayerLrEnvConfig & Record<string, unknown>;
  policy?: GannoTrainConfig['policy'];
  credit?: 'difference' | 'difference-myopic' | 'shared';
}

/** The default agent: shared GRU IPPO policy, local + global features, exact difference rewards, 9 actions, K from the plan. */
export const DEFAULT_VARIANT: GannoVariant = {
  name: 'default',
  label: 'GANNO (default)',
  description:
    'one agent per layer; shared GRU IPPO policy; local + global features; horizon-true difference rewards (counterfactual trajectories); 9 multiplicative actions',
  claim: null,
};

/**
 * The ablation variants of a plan, default first. The single global agent uses the env's
 * `control: 'global'` mode (one agent, one LR for all layers, global features plus its own LR).
 *
 * @example
 * ```ts
 * gannoVariants(gannoPlan('quick')).map((v) => v.name);
 * // ['default', 'single-global', 'local-only', 'shared-reward', 'feed-forward', 'actions-3', 'k-5', 'k-20']
 * ```
 */
export function gannoVariants(plan: GannoPlan): GannoVariant[] {
  const k0 = plan.env.k ?? 10;
  const variants: GannoVariant[] = [
    DEFAULT_VARIANT,
    {
      name: 'single-global',
      label: 'single global-LR agent',
      description: 'one RL agent sets one LR for all layers from global features and its own LR (Xu et al. 2019 style)',
      claim: 'the multi-agent layerwise formulation beats a single agent controlling one global LR',
      env: { control: 'global' },
    },
    {
      name: 'local-only',
      label: 'local observations only',
      description: `agents observe only the ${DEFAULT_LOCAL_FEATURES.length} local (layer) features, no global training metrics`,
      claim: 'local + global observations beat local-only observations',
      env: { features: DEFAULT_LOCAL_FEATURES.map((f) => f.name) },
    },
    {
      name: 'shared-reward',
      label: 'shared team reward',
      description: 'every agent receives the team reward (no difference rewards; gamma 0.99 as for every variant)',
      claim: 'difference rewards beat the shared team reward',
      credit: 'shared',
    },
    {
      name: 'myopic-difference',
      label: 'myopic difference reward',
      description:
        'per-interval exact difference reward: "keep" replayed over the next K steps only (the earlier default)',
      claim:
        'horizon-true difference rewards beat the per-interval (myopic) ones (this reproduction’s question, not a paper claim)',
      credit: 'difference-myopic',
    },
    {
      name: 'feed-forward',
      label: 'feed-forward policy',
      description: 'MLP actor-critic instead of the GRU (no memory across decisions)',
      claim: 'a recurrent policy beats a feed-forward one',
      policy: { torso: 'mlp' },
    },
    {
      name: 'actions-3',
      label: '3 actions',
      description: 'factors {1/1.25, 1, 1.25} instead of the 9 factors',
      claim: '9 actions beat 3 actions',
      env: { actions: 'factors3' },
    },
  ];
  for (const k of plan.ablationK) {
    if (k === k0) continue;
    variants.push({
      name: `k-${k}`,
      label: `K = ${k}`,
      description: `decision every ${k} SGD steps instead of ${k0}`,
      claim: `K = ${k0} (default) beats K = ${k} (reconstruction: the paper gives no K ablation numbers)`,
      env: { k },
    });
  }
  return variants;
}

/** The env config of a variant under a plan (`task` merged field by field). */
export function variantEnv(plan: GannoPlan, variant: GannoVariant): LayerLrEnvConfig {
  const base = plan.env as Record<string, unknown>;
  const over = (variant.env ?? {}) as Record<string, unknown>;
  const merged: Record<string, unknown> = { ...base, ...over };
  if (over.task) merged.task = { ...(base.task as object), ...(over.task as object) };
  return merged as LayerLrEnvConfig;
}

/**
 * The `trainGannoAgents` config (without `dir`) of a variant and agent seed under a plan.
 *
 * @example
 * ```ts
 * const cfg = variantTrainConfig(gannoPlan('smoke'), DEFAULT_VARIANT, 0);
 * cfg.updates; // 2
 * ```
 */
export function variantTrainConfig(
  plan: GannoPlan,
  variant: GannoVariant,
  seed: number,
): Omit<GannoTrainConfig, 'dir'> {
  const t = plan.train;
  return {
    env: variantEnv(plan, variant) as Record<string, unknown>,
    numEnvs: t.numEnvs,
    episodesPerEnv: t.episodesPerEnv,
    policy: variant.policy ?? {},
    credit: variant.credit ?? 'difference',
    seed,
    updates: t.updates,
    checkpointEvery: t.checkpointEvery,
    evalEvery: t.evalEvery,
    valSeeds: t.valSeeds,
  };
}
