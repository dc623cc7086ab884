/**
 * Credit quality on the synthetic reward (issue 12, deliverable 3): after every learner update, the
 * correlation between the advantage the learner uses for the batch it just observed and the TRUE
 * counterfactual advantage of each agent, `A_i(a) = R(a) - E_{a_i'~pi_i} R(a_i', a_-i)`, which the
 * synthetic reward gives exactly (`syntheticCounterfactualAdvantages`). The same rows' shared
 * reward (minus any constant baseline: a Pearson correlation ignores it) is the reference every
 * credit method has to beat.
 */
import { meanCI } from '../../eval';
import type { Interval } from '../../eval';
import { SingleStepLearner } from '../../marl/singlestep';
import type { JointAction, SingleStepConfigInput } from '../../marl/singlestep';
import { learnerAgents } from '../pipeline';
import { syntheticCounterfactualAdvantages, syntheticTokenReward } from '../search';
import type { SearchSpace } from '../spaces';
import { METHOD_CONFIGS } from '../strategies/learner';

/**
 * The credit configurations compared by default: `ma2ml` (ridge critic), the same gated on the
 * critic's held-out explained variance (threshold 0: "better than a constant"), the replay learner's
 * MLP critic (`ma2ml-replay`), on-policy counterfactual credit (`ma2ml-lite`) and the shared reward
 * (`independent`).
 */
export const CREDIT_QUALITY_METHODS: Readonly<Record<string, Partial<SingleStepConfigInput>>> = Object.freeze({
  ma2ml: METHOD_CONFIGS.ma2ml,
  'ma2ml gated': { ...METHOD_CONFIGS.ma2ml, creditGate: { minHeldOutEv: 0 } },
  'ma2ml-replay': METHOD_CONFIGS['ma2ml-replay'],
  'ma2ml-lite': METHOD_CONFIGS['ma2ml-lite'],
  independent: METHOD_CONFIGS.independent,
});

/** One learner update of the credit-quality check. */
export interface CreditQualityRow {
  method: string;
  seed: number;
  update: number;
  /** Evaluations observed so far (this batch included). */
  evaluations: number;
  /** Credit the update used ('shared' for shared-reward methods and closed gates). */
  creditUsed: string;
  /** Pearson correlation (over the batch's rows x agents) of the used advantage with the true counterfactual advantage; NaN when either is constant. */
  usedCorrelation: number;
  /** The same for the shared reward of the rows (the no-credit reference on the same rows). */
  sharedCorrelation: number;
  /** The same for the critic's counterfactual advantage (whether or not the update used it; NaN without critic). */
  criticCorrelation: number;
  /** Critic explained variance on the batch, predicted before the critic saw it (NaN without critic). */
  criticEvHeldOut: number;
}

/** Options of {@link creditQuality}. */
export interface CreditQualityOptions {
  space: SearchSpace;
  /** Seed of the synthetic reward tables (the function being optimised). */
  rewardSeed: number;
  /** Learner seeds. */
  seeds: readonly number[];
  evaluations: number;
  batchSize: number;
  /** Learner configurations by name (default {@link CREDIT_QUALITY_METHODS}). */
  methods?: Readonly<Record<string, Partial<SingleStepConfigInput>>>;
}

/**
 * Pearson correlation of two equally long arrays; NaN when either has no variance.
 *
 * @example
 * ```ts
 * pearson([1, 2, 3], [2, 4, 7]); // 0.993
 * ```
 */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  if (n !== y.length) throw new Error(`pearson: lengths differ (${n} vs ${y.length})`);
  if (n < 2) return NaN;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx > 1e-18 && syy > 1e-18 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

/**
 * Runs every method for every seed on the noiseless synthetic reward (inline) and records, after each
 * update, how well its advantage for the observed batch matches each agent's true counterfactual
 * advantage under the policy after the update (the critic and baseline after the update, so both
 * sides use the same policy).
 *
 * @example
 * ```ts
 * const rows = creditQuality({ space, rewardSeed: 7, seeds: [0, 1, 2], evaluations: 400, batchSize: 4 });
 * creditQualitySummary(rows, [36, 200, 400]);
 * ```
 */
export function creditQuality(options: CreditQualityOptions): CreditQualityRow[] {
  const { space, rewardSeed, evaluations, batchSize } = options;
  if (!(Number.isInteger(evaluations) && evaluations >= 1))
    throw new Error(`creditQuality: evaluations must be a positive integer, got ${evaluations}`);
  if (!(Number.isInteger(batchSize) && batchSize >= 2))
    throw new Error(`creditQuality: batchSize must be an integer >= 2 (a correlation needs rows), got ${batchSize}`);
  const methods = options.methods ?? CREDIT_QUALITY_METHODS;
  const rows: CreditQualityRow[] = [];
  for (const [method, cfg] of Object.entries(methods)) {
    if (cfg.jointAgent)
      throw new Error(`creditQuality: '${method}' is a joint agent (one policy): per-agent credit is not defined`);
    for (const seed of options.seeds) {
      const learner = new SingleStepLearner({ agents: learnerAgents(space), seed, ...cfg });
      const hasCritic = (cfg.credit ?? 'counterfactual') === 'counterfactual';
      try {
        let done = 0;
        let update = 0;
        while (done < evaluations) {
          const batch: JointAction[] = learner.propose(Math.min(batchSize, evaluations - done));
          const rewards = batch.map((a) => syntheticTokenReward(space, rewardSeed, a));
          done += batch.length;
          const stats = learner.observe(batch, rewards);
          const G = batch[0].length;
          const truth = syntheticCounterfactualAdvantages(space, rewardSeed, learner.probabilities(), batch);
          const shared = new Float64Array(batch.length * G);
          rewards.forEach((r, b) => shared.fill(r, b * G, (b + 1) * G));
          const critic = hasCritic ? learner.counterfactualAdvantages(batch) : null;
          const creditUsed = stats.diagnostics.creditUsed;
          const sharedCorrelation = pearson(shared, truth);
          const criticCorrelation = critic ? pearson(critic, truth) : NaN;
          rows.push({
            method,
            seed,
            update: update++,
            evaluations: done,
            creditUsed,
            usedCorrelation: creditUsed === 'counterfactual' ? criticCorrelation : sharedCorrelation,
            sharedCorrelation,
            criticCorrelation,
            criticEvHeldOut: stats.diagnostics.criticEvHeldOut,
          });
        }
      } finally {
        learner.dispose();
      }
    }
  }
  return rows;
}

/** Per-method summary of a window of evaluations (see {@link creditQualitySummary}). */
export interface CreditQualitySummary {
  method: string;
  /** Window `(from, to]` of evaluations. */
  from: number;
  to: number;
  /** Mean over seeds of each seed's mean correlation in the window, with a bootstrap CI over seeds. */
  used: Interval;
  shared: Interval;
  /** NaN interval for methods without a critic. */
  critic: Interval;
  /** Share of the window's updates that used the counterfactual advantage. */
  counterfactualShare: number;
}

/**
 * Summary per method and evaluation window (`(0, b1], (b1, b2], ...`): each seed's mean correlation
 * over the window's updates (updates with an undefined correlation are skipped), then the mean over
 * seeds with a 95% bootstrap CI.
 *
 * @example
 * ```ts
 * creditQualitySummary(rows, [36, 200, 400]);
 * ```
 */
export function creditQualitySummary(
  rows: readonly CreditQualityRow[],
  bounds: readonly number[],
  bs: { reps?: number; seed?: number } = {},
): CreditQualitySummary[] {
  const o = { reps: bs.reps ?? 2000, seed: bs.seed ?? 0 };
  const out: CreditQualitySummary[] = [];
  const nan: Interval = { point: NaN, lo: NaN, hi: NaN };
  const ci = (xs: number[]): Interval =>
    xs.length >= 2 ? meanCI(xs, o) : xs.length === 1 ? { point: xs[0], lo: xs[0], hi: xs[0] } : nan;
  for (const method of [...new Set(rows.map((r) => r.method))]) {
    const mine = rows.filter((r) => r.method === method);
    let from = 0;
    for (const to of bounds) {
      const win = mine.filter((r) => r.evaluations > from && r.evaluations <= to);
      if (win.length > 0) {
        const perSeed = (key: 'usedCorrelation' | 'sharedCorrelation' | 'criticCorrelation'): number[] =>
          [...new Set(win.map((r) => r.seed))]
            .map((s) => win.filter((r) => r.seed === s && Number.isFinite(r[key])).map((r) => r[key]))
            .filter((v) => v.length > 0)
            .map((v) => v.reduce((a, b) => a + b, 0) / v.length);
        out.push({
          method,
          from,
          to,
          used: ci(perSeed('usedCorrelation')),
          shared: ci(perSeed('sharedCorrelation')),
          critic: ci(perSeed('criticCorrelation')),
          counterfactualShare: win.filter((r) => r.creditUsed === 'counterfactual').length / win.length,
        });
      }
      from = to;
    }
  }
  return out;
}
