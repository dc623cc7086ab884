/**
 * The FLOPs constraint of MA2ML searches: one budget (MACs per image) and one rule for how it
 * applies, validated in one place and shared by experiment plans, `runSearch` options and the
 * search evaluators.
 */
import { parseConfig, z } from '../config';
import type { BudgetRule } from './pipeline';

/**
 * How a FLOPs budget applies:
 * - `hard`: an evaluated pipeline over the budget is not trained and gets reward 0;
 * - `soft`: over the budget the reward is `acc * (F / B)^-0.07` (`budgetReward`);
 * - `hard-mask`: hard, and a search rejects proposals over the budget (or invalid) before
 *   evaluation and redraws them ("masked at sampling"); an evaluator treats it as `hard`.
 *
 * @example
 * ```ts
 * FLOPS_RULES.includes(plan.flops[0].rule); // true
 * ```
 */
export const FLOPS_RULES = ['hard', 'soft', 'hard-mask'] as const;
/** One of {@link FLOPS_RULES}. */
export type FlopsRule = (typeof FLOPS_RULES)[number];

/**
 * Schema of a {@link FlopsConstraint} (`rule` defaults to `hard`); plans and search options embed it.
 *
 * @example
 * ```ts
 * const PlanFlops = FlopsConstraintSchema.extend({ rule: z.literal('hard-mask') });
 * ```
 */
export const FlopsConstraintSchema = z
  .object({
    /** FLOPs budget B in MACs per image (`checkPipeline(...).macs`). */
    budget: z.number().positive().finite(),
    rule: z.enum(FLOPS_RULES).default('hard'),
  })
  .strict();

/** A FLOPs budget and the rule it is applied with (plain JSON). */
export interface FlopsConstraint {
  budget: number;
  rule: FlopsRule;
}

/** Input form of a {@link FlopsConstraint}: `rule` may be left out (`hard`). */
export type FlopsConstraintInput = z.input<typeof FlopsConstraintSchema>;

/**
 * Validates a FLOPs constraint and fills in the default rule; throws naming the field
 * (`<what>: budget: ...`).
 *
 * @example
 * ```ts
 * parseFlopsConstraint({ budget: 6e5 });                      // { budget: 600000, rule: 'hard' }
 * parseFlopsConstraint({ budget: 6e5, rule: 'hard-mask' });
 * parseFlopsConstraint({ budget: -1 }, 'flops');              // throws "Invalid flops: budget: ..."
 * ```
 */
export function parseFlopsConstraint(value: unknown, what = 'FLOPs constraint'): FlopsConstraint {
  return parseConfig(FlopsConstraintSchema, value, what);
}

/**
 * The reward rule an evaluator applies for a constraint (`hard-mask` scores as `hard`: masking is
 * the search's part).
 *
 * @example
 * ```ts
 * rewardRule({ budget: 6e5, rule: 'hard-mask' }); // 'hard'
 * ```
 */
export function rewardRule(c: FlopsConstraint): BudgetRule {
  return c.rule === 'soft' ? 'soft' : 'hard';
}

/**
 * The FLOPs fields of evaluation job configs (`flopsBudget`, `budgetRule`): the jobs keep these flat
 * fields because their configs are hashed into the experiment store's cache keys.
 *
 * @example
 * ```ts
 * evaluationBudgetFields({ budget: 8e5, rule: 'hard-mask' }); // { flopsBudget: 800000, budgetRule: 'hard' }
 * ```
 */
export function evaluationBudgetFields(c: FlopsConstraint): { flopsBudget: number; budgetRule: BudgetRule } {
  return { flopsBudget: c.budget, budgetRule: rewardRule(c) };
}
