import { parseConfig, z } from '../../config';

const AgentSchema = z
  .object({
    name: z.string().min(1).optional(),
    vocab: z
      .array(z.number().int().min(1, 'each token vocabulary size must be >= 1'))
      .min(1, 'an agent emits at least one token'),
  })
  .strict();

/** zod schema of {@link SingleStepConfig}. */
export const SingleStepConfigSchema = z
  .object({
    /** Agents and their token vocabulary sizes (agent i emits `vocab.length` tokens). */
    agents: z.array(AgentSchema).min(1, 'at least one agent is needed'),
    /** Root seed (all sampling, initialisation and replay draws derive from it). */
    seed: z.number().int().default(0),
    /**
     * 'counterfactual': A_i = Q(a) - E_{a_i'~pi_i} Q(a_i', a_-i) from the centralised critic;
     * 'shared': every agent uses the team reward minus a baseline (no credit assignment);
     * 'perAgent': agent i uses the per-agent reward given to observe() (difference rewards,
     * Shapley values) minus its own baseline.
     */
    credit: z.enum(['counterfactual', 'shared', 'perAgent']).default('counterfactual'),
    /** Baseline for 'shared'/'perAgent' credit: moving average, learned scalar value, batch mean, none. */
    baseline: z.enum(['movingAverage', 'value', 'batchMean', 'none']).default('movingAverage'),
    /** Decay of the moving-average baseline. */
    baselineDecay: z.number().min(0).lt(1).default(0.9),
    /** Adam step size of the learned value baseline (a scalar per agent: single-step games have no state). */
    valueLr: z.number().positive().default(0.05),
    /** true: actor (and critic) updates on replay mini-batches; false: the actor learns from each observed batch once (REINFORCE / MA2ML-Lite). */
    offPolicy: z.boolean().default(true),
    /** Treat all agents' tokens as one agent's sequence (single-agent RL over the joint action). */
    jointAgent: z.boolean().default(false),
    /** Divergence weight w of the trust region to the target policies (0 disables it). */
    divergenceWeight: z.number().min(0).default(0.1),
    /** Polyak rate tau of the target policies rho <- (1 - tau) rho + tau pi. */
    tau: z.number().min(0).max(1).default(0.01),
    /**
     * Policy of each group (agent, or the joint sequence with `jointAgent`).
     * 'factorised': independent logits per token, `log pi_i(a_i) = sum_t log p_t(a_t)`.
     * 'autoregressive': a small GRU per group reads the previous token's embedding (a start input
     * at t = 0) and a per-position head gives token t's logits over its own vocabulary, so tokens
     * of one agent can be correlated: `log pi_i(a_i) = sum_t log p_t(a_t | a_<t)`. Sampling is
     * sequential. Target policies are Polyak averages of the GRU parameters, and the KL of the
     * trust-region term is estimated per update (see `SingleStepLearner`). Adam at `actorLr` moves
     * the GRU policy faster than the same lr moves logits: 0.01-0.02 worked better than 0.05
     * (measured: early collapse at 0.05 in 1 of 5 seeds on a factored token game; lr 0.01 best for
     * the MA2ML single-agent search on the synthetic reward).
     */
    policy: z.enum(['factorised', 'autoregressive']).default('factorised'),
    /** Hidden size of the autoregressive policy's GRU (ignored by 'factorised'). */
    gruSize: z.number().int().positive().default(32),
    /** Actor optimiser (per-token logits, or the GRU parameters with `policy: 'autoregressive'`). */
    actorOptimizer: z.enum(['adam', 'sgd']).default('adam'),
    actorLr: z.number().positive().default(0.05),
    criticLr: z.number().positive().default(3e-3),
    criticHidden: z.array(z.number().int().positive()).default([64]),
    /** Critic regression steps per actor update (off-policy) or per observe() (on-policy). */
    criticSteps: z.number().int().min(1).default(1),
    replayCapacity: z.number().int().positive().default(4096),
    miniBatch: z.number().int().positive().default(64),
    /** Off-policy gradient steps per observe() call. */
    updatesPerObserve: z.number().int().positive().default(8),
    /** Monte-Carlo samples K of the counterfactual baseline. */
    counterfactualSamples: z.number().int().positive().default(32),
    /** An agent's action space is enumerated exactly when it has at most this many actions. */
    enumerateLimit: z.number().int().min(0).default(64),
    /** Divide advantages by their standard deviation over each update batch (scale only, the baseline is kept), which makes w independent of the reward scale. */
    normalizeAdvantages: z.boolean().default(true),
    // ---- Options of issue 12 (all optional; absent = the behaviour before them, bit for bit). ----
    /**
     * Centralised critic of the counterfactual credit. 'mlp' (default): the MLP on joint one-hot
     * tokens regressed by Adam (`criticHidden`, `criticLr`, `criticSteps`). 'ridge': closed-form ridge
     * regression on one-hot plus pairwise token-pair features (see `ridge`), refitted on the replay at
     * every `observe`; its counterfactual baseline `E_{a_i'~pi_i} Q(a_i', a_-i)` is exact for the
     * factorised policy at any action-space size (the model is multilinear in the token indicators).
     *
     * @example `{ critic: 'ridge', ridge: { lambda: 1 } }`
     */
    critic: z.enum(['mlp', 'ridge']).optional(),
    /** Settings of `critic: 'ridge'` (see {@link RidgeCritic}); defaults `{ lambda: 1, pairs: 'cross-agent', maxRows: 1024 }`. */
    ridge: z
      .object({
        /** L2 penalty on all feature weights (not on the intercept, which is the mean reward of the fitted rows). */
        lambda: z.number().positive().optional(),
        /** Pair features: token pairs of different agents ('cross-agent'), or every token pair ('all'). */
        pairs: z.enum(['cross-agent', 'all']).optional(),
        /** The fit uses at most this many replay rows (the most recent); cost O(rows^3 / 3) per observe. */
        maxRows: z.number().int().min(2).optional(),
      })
      .strict()
      .optional(),
    /**
     * Maximum actor steps per `observe` (default: `updatesPerObserve` when `offPolicy`, 1 on-policy).
     * Off-policy each step is `criticSteps` critic steps (MLP critic) plus one actor step on a fresh
     * replay mini-batch, as before; on-policy every step reuses the observed batch.
     *
     * @example `{ offPolicy: false, innerSteps: 16, klLimit: 0.02 }`
     */
    innerSteps: z.number().int().positive().optional(),
    /**
     * Per-batch KL limit (CleanRL / SB3 `target_kl` style): after each actor step, the mean over policy
     * groups of `KL(pi_old || pi)` (pi_old = the policy at the start of this `observe`; exact for the
     * factorised policy, estimated for the autoregressive one) is measured and the inner loop stops
     * once it exceeds `klLimit`. The step that crosses the limit is kept. Absent: no limit.
     *
     * @example `{ klLimit: 0.01, innerSteps: 32 }`
     */
    klLimit: z.number().positive().optional(),
    /**
     * Credit that earns its place (needs `credit: 'counterfactual'`): the counterfactual advantage is
     * used in an update only when the critic's held-out explained variance reaches `minHeldOutEv`;
     * otherwise the update uses the shared reward minus its baseline (`baseline`). Held-out: every
     * observed batch is predicted by the critic before the critic sees it. `source: 'ema'` (default)
     * gates on `1 - E_err / E_y`, where `E_err` and `E_y` are exponential moving averages (decay
     * `emaDecay`, default 0.8) of the batch's centred sums of squares of the prediction errors and of
     * the rewards (a ratio of averages, so one near-constant batch cannot dominate); `'last'` gates
     * on the explained variance of the latest batch alone. The critic is trained either way.
     *
     * @example `{ creditGate: { minHeldOutEv: 0.3 } }`
     */
    creditGate: z
      .object({
        minHeldOutEv: z.number().max(1),
        source: z.enum(['ema', 'last']).optional(),
        emaDecay: z.number().min(0).lt(1).optional(),
      })
      .strict()
      .optional(),
    /**
     * Actor update on replayed (or observed) joint actions. 'replay' (default): `-log pi_i(a_i) * A_i`
     * on the replayed `a_i` (no importance weights). 'expected': for every row, the exact expected
     * gradient over agent i's own token values, `sum_{a_i} pi_i(a_i) Q(a_i, a_-i) grad log pi_i(a_i)`
     * with `a_-i` from the row and the critic held constant: with `critic: 'ridge'` exactly over all of
     * agent i's tokens (closed form); with the MLP critic exactly per token, agent i's other tokens
     * being resampled from the current policy (DMAC style, stream 'actor-resample'). The divergence
     * term becomes the exact `w * KL(pi_i || rho_i)`. Needs `credit: 'counterfactual'` and
     * `policy: 'factorised'`. When a `creditGate` is closed the update is the shared-reward
     * score-function step on the batch just observed (on-policy rows).
     *
     * @example `{ offPolicyActor: 'expected', critic: 'ridge', targetUpdate: 'per-batch', tau: 0.2, klLimit: 0.02 }`
     */
    offPolicyActor: z.enum(['replay', 'expected']).optional(),
    /** Entropy bonus beta: the actor maximises `... + beta * H(pi_i)` (exact per-token entropies; autoregressive: conditional entropies along each row's prefix). Default 0. */
    entropyBonus: z.number().min(0).optional(),
    /**
     * When the target policies move: 'per-step' (default, after every actor step) or 'per-batch'
     * (once per `observe`, after its inner loop), so `tau` is a rate per batch of evaluations.
     */
    targetUpdate: z.enum(['per-step', 'per-batch']).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.jointAgent && c.credit === 'perAgent') {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['credit'],
        message: "'perAgent' credit needs separate agents (jointAgent is true)",
      });
    }
    if (c.creditGate && c.credit !== 'counterfactual') {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['creditGate'],
        message: "gates the counterfactual advantage: needs credit 'counterfactual'",
      });
    }
    if (c.offPolicyActor === 'expected' && c.credit !== 'counterfactual') {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['offPolicyActor'],
        message: "'expected' needs a critic: credit must be 'counterfactual'",
      });
    }
    if (c.offPolicyActor === 'expected' && c.policy !== 'factorised') {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['offPolicyActor'],
        message: "'expected' needs policy 'factorised'",
      });
    }
    if (c.offPolicy && c.miniBatch > c.replayCapacity) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['miniBatch'],
        message: `must not exceed replayCapacity (${c.replayCapacity})`,
      });
    }
  });

/** Input form of the single-step learner configuration (defaults filled by {@link parseSingleStepConfig}). */
export type SingleStepConfigInput = z.input<typeof SingleStepConfigSchema>;
/** Parsed single-step learner configuration. */
export type SingleStepConfig = z.output<typeof SingleStepConfigSchema>;

/**
 * Validates a learner configuration; throws an Error naming each bad field.
 *
 * @example
 * ```ts
 * const cfg = parseSingleStepConfig({ agents: [{ vocab: [4, 4] }], credit: 'shared' });
 * ```
 */
export function parseSingleStepConfig(value: unknown): SingleStepConfig {
  return parseConfig(SingleStepConfigSchema, value, 'single-step learner config');
}
