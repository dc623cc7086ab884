import { parseConfig, z } from '../../config';
import { Rng } from '../../random';
import type { MultiAgentEnv, MultiAgentEnvSpec, ResetResult, StepResult } from '../env';

export const MemoryCueConfigSchema = z
  .object({
    /** Fewest agents in an episode. */
    minAgents: z.number().int().positive().default(2),
    /** Most agents in an episode (the count is drawn per episode). */
    maxAgents: z.number().int().positive().default(4),
    /** Number of distinct cues (= meaningful actions). */
    numCues: z.number().int().min(2).default(2),
    /** Steps per episode; the cue is visible at step 0 only and must be reported at the last step. */
    length: z.number().int().positive().default(4),
    /** `individual`: each agent is rewarded for its own answer; `team`: all get the fraction correct. */
    rewardMode: z.enum(['individual', 'team']).default('individual'),
    /** Extra actions that are always masked out (exercises action masks); 0 = no masks. */
    maskedActions: z.number().int().min(0).default(0),
  })
  .strict()
  .refine((c) => c.minAgents <= c.maxAgents, { message: 'minAgents must be <= maxAgents', path: ['minAgents'] });
export type MemoryCueConfig = z.input<typeof MemoryCueConfigSchema>;

/**
 * A partially observable cooperative memory task. Each episode draws 2..maxAgents agents and a
 * private cue per agent; an agent sees its cue (one-hot) only at step 0, then zeros, plus the
 * episode progress and a "final step" flag. At the last step each agent must answer its cue:
 * reward 1 for a correct answer (or the team's fraction correct). A feed-forward policy cannot
 * beat chance (1/numCues); a recurrent one can reach 1. With `length: 1` the cue is visible when
 * answering, so any policy can solve it (a contextual bandit). The global state (for MAPPO) is
 * [progress, final flag, fraction of agents per cue].
 *
 * @example
 * ```ts
 * const env = new MemoryCueEnv({ length: 4, numCues: 2 });
 * let r = env.reset(1);
 * // ... step with one action per agent; the last step's reward says who remembered its cue
 * ```
 */
export class MemoryCueEnv implements MultiAgentEnv<{ correct: number }> {
  readonly config: z.output<typeof MemoryCueConfigSchema>;
  readonly spec: MultiAgentEnvSpec;
  private cues: Int32Array = new Int32Array(0);
  private t = 0;
  private done = true;

  constructor(config: MemoryCueConfig = {}) {
    this.config = parseConfig(MemoryCueConfigSchema, config, 'MemoryCueEnv config');
    const c = this.config;
    this.spec = {
      observationSize: c.numCues + 2,
      numActions: c.numCues + c.maskedActions,
      stateSize: c.numCues + 2,
      maxSteps: c.length,
    };
  }

  /** Number of agents in the current episode. */
  get numAgents(): number {
    return this.cues.length;
  }

  reset(seed: number): ResetResult {
    const c = this.config;
    const rng = new Rng(seed);
    const n = c.minAgents + rng.int(c.maxAgents - c.minAgents + 1);
    this.cues = Int32Array.from({ length: n }, () => rng.int(c.numCues));
    this.t = 0;
    this.done = false;
    return this.observe();
  }

  private observe(): ResetResult {
    const c = this.config;
    const n = this.cues.length;
    const progress = this.t / c.length;
    const final = this.t === c.length - 1 ? 1 : 0;
    const observations = Array.from({ length: n }, (_, i) => {
      const o = new Float32Array(c.numCues + 2);
      if (this.t === 0) o[this.cues[i]] = 1;
      o[c.numCues] = progress;
      o[c.numCues + 1] = final;
      return o;
    });
    const state = new Float32Array(c.numCues + 2);
    state[0] = progress;
    state[1] = final;
    for (let i = 0; i < n; i++) state[2 + this.cues[i]] += 1 / n;
    const out: ResetResult = { observations, state };
    if (c.maskedActions > 0) {
      out.actionMasks = Array.from({ length: n }, () => {
        const m = new Uint8Array(c.numCues + c.maskedActions);
        m.fill(1, 0, c.numCues);
        return m;
      });
    }
    return out;
  }

  private correctness(actions: ArrayLike<number>): Float32Array {
    const n = this.cues.length;
    if (actions.length !== n) throw new Error(`MemoryCueEnv.step: got ${actions.length} actions for ${n} agents`);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const a = actions[i];
      if (!Number.isInteger(a) || a < 0 || a >= this.spec.numActions)
        throw new Error(`MemoryCueEnv.step: action ${a} of agent ${i} is not in [0, ${this.spec.numActions})`);
      out[i] = a === this.cues[i] ? 1 : 0;
    }
    return out;
  }

  step(actions: ArrayLike<number>): StepResult<{ correct: number }> {
    if (this.done) throw new Error('MemoryCueEnv.step: episode is over; call reset(seed)');
    const n = this.cues.length;
    const c = this.config;
    const final = this.t === c.length - 1;
    const correct = this.correctness(actions);
    let teamReward = 0;
    const rewards = new Float32Array(n);
    if (final) {
      for (let i = 0; i < n; i++) teamReward += correct[i] / n;
      for (let i = 0; i < n; i++) rewards[i] = c.rewardMode === 'team' ? teamReward : correct[i];
    }
    this.t++;
    this.done = final;
    const next = final ? this.observeTerminal() : this.observe();
    return {
      ...next,
      rewards,
      teamReward,
      terminated: final,
      truncated: false,
      info: { correct: final ? teamReward : 0 },
    };
  }

  private observeTerminal(): ResetResult {
    const t = this.t;
    this.t = this.config.length - 1; // observation past the end: reuse the last layout
    const o = this.observe();
    this.t = t;
    return o;
  }

  counterfactualTeamReward(actions: ArrayLike<number>): number {
    if (this.done) throw new Error('MemoryCueEnv.counterfactualTeamReward: episode is over');
    if (this.t !== this.config.length - 1) return 0;
    const correct = this.correctness(actions);
    let g = 0;
    for (let i = 0; i < correct.length; i++) g += correct[i] / correct.length;
    return g;
  }

  defaultAction(): number {
    return 0;
  }
}
