/**
 * Sequential module search: AUG, then NAS, then HPO, each phase a learner on one agent while the
 * others stay fixed.
 */
import { SingleStepLearner } from '../../marl/singlestep';
import type { JointAction, ObserveStats } from '../../marl/singlestep';
import { Rng } from '../../random';
import { AGENTS, learnerAgents, sampleTokens } from '../pipeline';
import { METHOD_CONFIGS } from './learner';
import type { SearchStrategy, StrategyContext, StrategyDiagnostics, StrategyFactory } from './strategy';

/**
 * Sequential module search: AUG, then NAS, then HPO, a third of the evaluations each (the remainder
 * to HPO; a phase with no evaluations is skipped), each phase with `independent`'s learner
 * (`METHOD_CONFIGS.independent`, then the context's `learner` overrides) on that agent while the
 * other agents stay fixed: initially at a uniformly drawn pipeline (redrawn until `ctx.feasible`;
 * the rejected draws count as masked), a finished module at its best evaluated tokens. All draws
 * (the starting pipeline, then each phase learner's seed) come from the stream
 * `ma2ml-sequential-search` of the search seed. `propose` never crosses a phase boundary (it returns
 * fewer proposals at the end of a phase). Searches all agents (no `modules`).
 *
 * @example
 * ```ts
 * const s = sequentialStrategy(strategyContext({ space, evaluations: 24, batchSize: 4, seed: 0 }));
 * s.propose(4); // only the AUG tokens vary in the first 8 evaluations
 * ```
 */
export const sequentialStrategy: StrategyFactory = (ctx) => new SequentialStrategy(ctx);

class SequentialStrategy implements SearchStrategy {
  private readonly rng: Rng;
  /** The fixed tokens of every agent (the searched agent's entry is replaced in proposals). */
  private readonly fixed: number[][];
  private readonly third: number;
  /** Current phase (index into AGENTS; -1 before the first). */
  private phase = -1;
  private phaseBudget = 0;
  private used = 0;
  private best: { reward: number; tokens: number[] } = { reward: Number.NEGATIVE_INFINITY, tokens: [] };
  private learner: SingleStepLearner | undefined;
  private stats: ObserveStats | undefined;

  constructor(private readonly ctx: StrategyContext) {
    if (ctx.fixedTokens || ctx.searched.length !== AGENTS.length)
      throw new Error(
        "runSearch: modules is not supported with method 'sequential' (it already searches one module at a time)",
      );
    this.rng = new Rng(ctx.seed).fork('ma2ml-sequential-search');
    let fixed = sampleTokens(ctx.space, this.rng);
    for (let tries = 1; !ctx.feasible(fixed); tries++) {
      ctx.reject(1);
      if (tries >= ctx.maskMaxTries)
        throw new Error(
          `runSearch: sequential found no starting pipeline within ${ctx.flops?.budget} MACs in ${tries} draws`,
        );
      fixed = sampleTokens(ctx.space, this.rng);
    }
    this.fixed = fixed;
    this.third = Math.floor(ctx.evaluations / 3);
  }

  propose(n: number): JointAction[] {
    if (!this.learner || this.used >= this.phaseBudget) this.nextPhase();
    const k = this.phase;
    const own = (this.learner as SingleStepLearner).propose(Math.min(n, this.phaseBudget - this.used));
    return own.map((a) => this.fixed.map((t, j) => (j === k ? a[0] : t)));
  }

  observe(proposals: JointAction[], rewards: number[]): void {
    const k = this.phase;
    const own = proposals.map((p) => [p[k]]);
    rewards.forEach((r, i) => {
      if (r > this.best.reward) this.best = { reward: r, tokens: own[i][0] };
    });
    this.stats = (this.learner as SingleStepLearner).observe(own, rewards);
    this.used += proposals.length;
    if (this.used >= this.phaseBudget) this.fixed[k] = this.best.tokens;
  }

  diagnostics(): StrategyDiagnostics | undefined {
    if (!this.stats || !this.learner) return undefined;
    return { agents: [AGENTS[this.phase]], probabilities: this.learner.probabilities(), stats: this.stats };
  }

  dispose(): void {
    this.learner?.dispose();
    this.learner = undefined;
  }

  /** Moves to the next phase with evaluations (a finished phase's learner is kept until here, for `diagnostics`). */
  private nextPhase(): void {
    this.learner?.dispose();
    this.learner = undefined;
    this.stats = undefined;
    do {
      this.phase++;
      if (this.phase >= AGENTS.length)
        throw new Error(`sequential: all ${AGENTS.length} phases are finished (${this.ctx.evaluations} evaluations)`);
      this.phaseBudget = this.phase < AGENTS.length - 1 ? this.third : this.ctx.evaluations - 2 * this.third;
    } while (this.phaseBudget <= 0);
    this.used = 0;
    this.best = { reward: Number.NEGATIVE_INFINITY, tokens: this.fixed[this.phase] };
    const agents = learnerAgents(this.ctx.space);
    this.learner = new SingleStepLearner({
      agents: [agents[this.phase]],
      seed: this.rng.int(2 ** 31 - 1),
      ...METHOD_CONFIGS.independent,
      ...(this.ctx.learner ?? {}),
    });
  }
}
