import { tf } from '../../backend';
import { Rng } from '../../random';
import type { RngState } from '../../random';
import { counterfactualAlternatives } from '../../credit/counterfactual';
import type { Alternatives } from '../../credit/counterfactual';
import { Adam } from '../adam';
import type { AdamState } from '../adam';
import { parseSingleStepConfig } from './config';
import type { SingleStepConfig, SingleStepConfigInput } from './config';
import { ReplayBuffer } from './replay';
import { argmax, uid } from './util';
import type { ReplayState } from './replay';
import { AutoregressivePolicy } from './autoregressive';
import { MlpCritic } from './mlp-critic';
import { RidgeCritic } from './ridge';
import { categoricalEntropy, categoricalKl, centredSumsOfSquares, explainedVariance, rSquared } from './diagnostics';
import type { UpdateDiagnostics } from './diagnostics';

/** A joint action: for each agent, its token indices. */
export type JointAction = number[][];

/** Per-update diagnostics of {@link SingleStepLearner.observe}. */
export interface ObserveStats {
  /** Mean observed team reward of the batch. */
  meanReward: number;
  /** Mean squared error of the critic on its last mini-batch (NaN without critic). */
  criticLoss: number;
  /** Mean absolute advantage of the last actor update. */
  meanAbsAdvantage: number;
  /**
   * Sum over agents of KL(pi_i || rho_i) after the update (autoregressive policy: estimated on
   * the observed batch as the mean of `sum_t KL(pi(.|a_<t) || rho(.|a_<t))` along each row's
   * prefix, which needs no extra sampling; {@link SingleStepLearner.klToTarget} gives the exact or
   * Monte-Carlo value).
   */
  kl: number;
  /** Per-update diagnostics (issue 12): entropy, KL to the previous and target policies, critic explained variance, advantage scale, distinct proposals, inner steps, credit used. */
  diagnostics: UpdateDiagnostics;
}

/** Result of {@link SingleStepLearner.run}. */
export interface RunResult {
  /** Reward of every evaluation in order. */
  rewards: number[];
  /** Mean reward per proposed batch. */
  batchMeans: number[];
  /** Best reward and its joint action. */
  best: { reward: number; action: JointAction };
  /** Evaluations used when `stopAt` was reached (undefined when it never was). */
  reachedAt?: number;
}

/** Checkpointable state (plain JSON-safe data). */
export interface SingleStepLearnerState {
  version: 1;
  config: SingleStepConfig;
  /** Factorised policy: the `[numTokens, Vmax]` logits (empty for the autoregressive policy). */
  logits: number[];
  /** Factorised policy: the target probabilities (empty for the autoregressive policy). */
  rho: number[];
  /** Autoregressive policy: GRU and head parameters by name. */
  actor?: Record<string, number[]>;
  /** Autoregressive policy: target-policy parameters by name. */
  actorTarget?: Record<string, number[]>;
  critic: Record<string, number[]>;
  actorOpt: AdamState;
  criticOpt: AdamState;
  replay: ReplayState;
  baselines: number[];
  baselineSet: boolean[];
  valueOpt: { step: number; m: number; v: number }[];
  rng: { sample: RngState; replay: RngState; counterfactual: RngState; resample?: RngState };
  observed: number;
  /** Diagnostic and credit-gate bookkeeping (absent in states saved before issue 12: then reset). */
  tracking?: {
    updates: number;
    distinct: string[];
    gate: { err: number; y: number; set: boolean; last: number | null };
  };
}

/**
 * Cooperative multi-agent learner for single-step games with factored token actions (the
 * algorithm MA2ML needs). Each agent i emits a token sequence; its policy is one categorical per
 * token (`log pi_i(a_i) = sum_t log p_t(a_t)`), all agents' logits held in one `[T, Vmax]` table so
 * one forward serves every agent and token. One code path with switches:
 *
 * - `credit: 'counterfactual'` (default): centralised critic `Q(a)` (MLP on the concatenated one-hot
 *   tokens of all agents, regressed onto r over replay mini-batches) and the counterfactual
 *   advantage `A_i = Q(a) - E_{a_i'~pi_i} Q(a_i', a_-i)` (exact where an agent's space has at most
 *   `enumerateLimit` actions, else K Monte-Carlo samples drawn once per update and shared by its rows;
 *   all agents' alternatives in one critic call).
 *   `'shared'`: `A_i = r - b` (no credit assignment). `'perAgent'`: `A_i = r_i - b_i` from per-agent
 *   rewards passed to {@link observe} (difference rewards, Shapley values).
 * - `offPolicy: true` (default): every evaluation goes to a replay buffer; each `observe` runs
 *   `updatesPerObserve` steps on replay mini-batches. `false`: the actor learns from each observed
 *   batch once (REINFORCE; with counterfactual credit this is MA2ML-Lite).
 * - Actor loss `-log pi_i(a_i) * [A_i - w (log(pi_i/rho_i)(a_i) - KL(pi_i||rho_i))]` (bracket held
 *   constant), target policies `rho_i <- (1 - tau) rho_i + tau pi_i` per token. `w = 0` without replay
 *   is plain REINFORCE.
 * - `jointAgent: true`: one agent over the joint token sequence (single-agent REINFORCE baseline).
 *   With factorised policies this makes exactly the updates of independent agents with the shared
 *   reward; with `policy: 'autoregressive'` it is one GRU over all tokens, which can correlate
 *   tokens across agents.
 * - `policy: 'autoregressive'` (`gruSize`, default 32): per policy group a GRU reads the previous
 *   token's embedding (a start input at t = 0) and a per-position head sized to token t's vocabulary
 *   gives `p_t(. | a_<t)`; `log pi_g(a) = sum_t log p_t(a_t | a_<t)`, sampling is sequential from the
 *   sample stream. Every feature above works with it: counterfactual alternatives are enumerated
 *   with weights pi_g(a') where the group has at most `enumerateLimit` sequences, else sampled
 *   autoregressively from pi_g; target policies rho are Polyak averages of the GRU parameters
 *   (`theta_rho <- (1 - tau) theta_rho + tau theta`); the KL in the actor bracket is the update
 *   batch's mean of `sum_t KL(pi(.|a_<t) || rho(.|a_<t))` (exact per-token KLs conditioned on each
 *   row's prefix), and {@link klToTarget} is exact where enumerable, else a Monte-Carlo mean of the
 *   same quantity over sequences drawn from pi. {@link actorGradient} then returns the gradient of
 *   all GRU parameters (flattened in state order) instead of the logits table.
 *
 * - Options of issue 12 (all off by default; see `SingleStepConfigSchema` and `src/ma2ml/README.md`):
 *   `critic: 'ridge'` (closed-form ridge critic on one-hot + pairwise token features, exact
 *   counterfactual baselines), `innerSteps` + `klLimit` (actor steps per `observe`, stopped once the
 *   mean `KL(pi_old || pi)` exceeds the limit), `creditGate` (counterfactual credit only while the
 *   critic's held-out explained variance passes a threshold), `offPolicyActor: 'expected'` (exact
 *   expected gradient over each agent's own token values instead of `-log pi(a_replayed) A`),
 *   `entropyBonus`, `targetUpdate: 'per-batch'`. Every `observe` returns `diagnostics`
 *   ({@link UpdateDiagnostics}): entropy, KL to the previous and target policies, critic explained
 *   variance on the replay and held out, advantage scale, distinct proposals, steps, credit used.
 *
 * Ask/tell: {@link propose} then {@link observe} (suits expensive, cached, parallel evaluations);
 * {@link run} loops over a synchronous reward function. Deterministic for a seed and backend.
 *
 * @example
 * ```ts
 * const learner = new SingleStepLearner({ agents: [{ name: 'aug', vocab: [15, 11] }, { name: 'hpo', vocab: [4, 3, 5] }], seed: 1 });
 * // or, with correlated tokens inside each agent: { ..., policy: 'autoregressive', gruSize: 32 }
 * for (let it = 0; it < 20; it++) {
 *   const batch = learner.propose(8);
 *   learner.observe(batch, batch.map(evaluatePipeline));
 * }
 * learner.dispose();
 * // issue 12 settings: exact expected gradient, ridge critic, per-batch target, KL-limited steps
 * const l2 = new SingleStepLearner({ agents, seed: 1, critic: 'ridge', offPolicyActor: 'expected', targetUpdate: 'per-batch', tau: 0.2, klLimit: 0.005, innerSteps: 16 });
 * const stats = l2.observe(batch, rewards);  // stats.diagnostics.entropyFraction, .klPrevious, .criticEvHeldOut, ...
 * ```
 */
export class SingleStepLearner {
  readonly config: SingleStepConfig;
  /** Number of agents (as given; jointAgent still reports the original agents). */
  readonly numAgents: number;
  /** Total tokens over all agents. */
  readonly numTokens: number;
  private readonly vocab: number[];
  private readonly vmax: number;
  private readonly tokenStart: number[];
  private readonly tokenOffset: number[];
  private readonly inputSize: number;
  private readonly groups: number[][];
  private readonly logitsVar: tf.Variable | null;
  private readonly rhoVar: tf.Variable | null;
  /** The autoregressive policy (null for 'factorised'). */
  private readonly ar: AutoregressivePolicy | null;
  private readonly maskBias: tf.Tensor;
  private readonly groupMatrix: tf.Tensor;
  private readonly actorParams: Map<string, tf.Variable>;
  private readonly mlp: MlpCritic;
  private readonly actorOpt: Adam;
  private readonly replay: ReplayBuffer;
  private readonly sampleRng: Rng;
  private readonly replayRng: Rng;
  private readonly cfRng: Rng;
  /** Resampling of an agent's own tokens by the expected-gradient actor with the MLP critic. */
  private readonly resampleRng: Rng;
  /** The closed-form critic (`critic: 'ridge'`), else null. */
  private readonly ridge: RidgeCritic | null;
  private readonly groupNames: string[];
  private updates = 0;
  private readonly distinct = new Set<string>();
  /** Credit gate: EMAs of the held-out centred sums of squares, and the latest batch's EV. */
  private gate = { err: 0, y: 0, set: false, last: NaN };
  private baselines: number[];
  private baselineSet: boolean[];
  private valueOpt: { step: number; m: number; v: number }[];
  private observed = 0;
  private disposed = false;

  constructor(config: SingleStepConfigInput) {
    this.config = parseSingleStepConfig(config);
    const c = this.config;
    this.numAgents = c.agents.length;
    this.vocab = c.agents.flatMap((a) => a.vocab);
    this.numTokens = this.vocab.length;
    this.vmax = Math.max(...this.vocab);
    this.tokenStart = [];
    let t0 = 0;
    for (const a of c.agents) {
      this.tokenStart.push(t0);
      t0 += a.vocab.length;
    }
    this.tokenOffset = [];
    let off = 0;
    for (const v of this.vocab) {
      this.tokenOffset.push(off);
      off += v;
    }
    this.inputSize = off;
    this.groups = c.jointAgent
      ? [Array.from({ length: this.numTokens }, (_, t) => t)]
      : c.agents.map((a, i) => a.vocab.map((_, k) => this.tokenStart[i] + k));
    const root = new Rng(c.seed);
    this.sampleRng = root.fork('sample');
    this.replayRng = root.fork('replay');
    this.cfRng = root.fork('counterfactual');
    this.resampleRng = root.fork('actor-resample');
    const initRng = root.fork('init');
    this.groupNames = c.jointAgent ? ['joint'] : c.agents.map((a, i) => a.name ?? `agent${i}`);
    const agentOf = c.agents.flatMap((a, i) => a.vocab.map(() => i));
    this.ridge =
      c.critic === 'ridge'
        ? new RidgeCritic(this.vocab, agentOf, { lambda: c.ridge?.lambda, pairs: c.ridge?.pairs })
        : null;

    const T = this.numTokens;
    const V = this.vmax;
    const mask = new Float32Array(T * V);
    for (let t = 0; t < T; t++) for (let v = this.vocab[t]; v < V; v++) mask[t * V + v] = -1e9;
    const gm = new Float32Array(T * this.groups.length);
    this.groups.forEach((g, gi) => g.forEach((t) => (gm[t * this.groups.length + gi] = 1)));
    this.maskBias = tf.tensor2d(mask, [T, V]);
    this.groupMatrix = tf.tensor2d(gm, [T, this.groups.length]);
    if (c.policy === 'autoregressive') {
      this.ar = new AutoregressivePolicy(this.groups, this.vocab, this.vmax, c.gruSize, root.fork('actor-init'));
      this.logitsVar = null;
      this.rhoVar = null;
      this.actorParams = this.ar.params;
    } else {
      this.ar = null;
      const logits = ownedVariable(tf.zeros([T, V]), true, `singlestep_logits_${uid()}`);
      this.logitsVar = logits;
      this.rhoVar = ownedVariable(
        tf.tidy(() => tf.softmax(tf.add(logits, this.maskBias))),
        false,
      );
      this.actorParams = new Map([['logits', logits]]);
    }

    // Built (and initialised from initRng) even with the ridge critic, so every setting draws the same streams.
    this.mlp = new MlpCritic(
      { numTokens: T, vocab: this.vocab, tokenOffset: this.tokenOffset, inputSize: this.inputSize },
      c.criticHidden,
      c.criticLr,
      initRng,
    );
    this.actorOpt = new Adam({ lr: c.actorLr }).initState(this.actorParams);
    const numRewardSlots = this.groups.length;
    this.replay = new ReplayBuffer(c.replayCapacity, T, this.numAgents);
    this.baselines = new Array(numRewardSlots).fill(0);
    this.baselineSet = new Array(numRewardSlots).fill(false);
    this.valueOpt = Array.from({ length: numRewardSlots }, () => ({ step: 0, m: 0, v: 0 }));
  }

  private get logits(): tf.Variable {
    if (!this.logitsVar) throw new Error('SingleStepLearner: no per-token logits (policy is autoregressive)');
    return this.logitsVar;
  }

  private get rho(): tf.Variable {
    if (!this.rhoVar) throw new Error('SingleStepLearner: no per-token target table (policy is autoregressive)');
    return this.rhoVar;
  }

  /** Number of policy groups (agents, or 1 with `jointAgent`). */
  get numPolicies(): number {
    return this.groups.length;
  }

  /** Evaluations observed so far. */
  get observedCount(): number {
    return this.observed;
  }

  /**
   * Current token probabilities: `[agent][token]` -> Float32Array over that token's vocabulary.
   * For the autoregressive policy these are the conditionals along the greedy prefix
   * (`p_t(. | greedy a_<t)`), since its tokens have no fixed marginals.
   *
   * @example
   * ```ts
   * learner.probabilities()[0][1]; // agent 0, token 1
   * ```
   */
  probabilities(): Float32Array[][] {
    this.checkAlive();
    if (this.ar) {
      const { row0Probs } = this.ar.decode(1, null);
      return this.config.agents.map((a, i) => a.vocab.map((_, k) => row0Probs[this.tokenStart[i] + k]));
    }
    const flat = this.flatProbs();
    return this.config.agents.map((a, i) =>
      a.vocab.map((v, k) => flat.slice((this.tokenStart[i] + k) * this.vmax, (this.tokenStart[i] + k) * this.vmax + v)),
    );
  }

  /**
   * `log pi_g(a_g)` of joint actions under the current policies, `[actions.length * numPolicies]`
   * (row-major): the sum of the group's per-token log-probabilities (conditioned on the preceding
   * tokens of the group for the autoregressive policy).
   *
   * @example
   * ```ts
   * const lp = learner.logProbs(learner.propose(4)); // 4 * numPolicies numbers
   * ```
   */
  logProbs(actions: JointAction[]): Float32Array {
    this.checkAlive();
    const n = actions.length;
    const T = this.numTokens;
    const tokens = new Int32Array(n * T);
    actions.forEach((a, b) => this.flattenInto(a, tokens, b * T, `actions[${b}]`));
    if (this.ar) return this.ar.logProbs(tokens, n);
    const p = this.flatProbs();
    const G = this.groups.length;
    const out = new Float32Array(n * G);
    for (let b = 0; b < n; b++)
      this.groups.forEach((members, g) =>
        members.forEach((t) => (out[b * G + g] += Math.log(p[t * this.vmax + tokens[b * T + t]]))),
      );
    return out;
  }

  /**
   * The most probable token of every position (the policies' mode; for the autoregressive policy,
   * greedy decoding: each token the arg-max given the greedy prefix).
   */
  greedy(): JointAction {
    this.checkAlive();
    if (this.ar) return this.unflatten(this.ar.decode(1, null).tokens, 0);
    return this.probabilities().map((agent) => agent.map((p) => argmax(p)));
  }

  /**
   * Samples `n` joint actions from the current policies.
   *
   * @example
   * ```ts
   * const batch = learner.propose(16); // JointAction[]
   * ```
   */
  propose(n: number): JointAction[] {
    this.checkAlive();
    if (!Number.isInteger(n) || n < 1) throw new Error(`propose: n must be a positive integer, got ${n}`);
    if (this.ar) {
      const { tokens } = this.ar.decode(n, this.sampleRng);
      return Array.from({ length: n }, (_, b) => this.unflatten(tokens, b));
    }
    const p = this.flatProbs();
    const out: JointAction[] = [];
    for (let b = 0; b < n; b++) {
      out.push(
        this.config.agents.map((a, i) =>
          a.vocab.map((v, k) => {
            const t = this.tokenStart[i] + k;
            return this.sampleRng.categorical(p.subarray(t * this.vmax, t * this.vmax + v));
          }),
        ),
      );
    }
    return out;
  }

  /**
   * Reports rewards of evaluated joint actions and updates critic, actors and target policies.
   * `agentRewards[b][i]` (required for `credit: 'perAgent'`) is agent i's reward for evaluation b.
   *
   * @example
   * ```ts
   * const batch = learner.propose(8);
   * learner.observe(batch, batch.map((a) => game.reward(a)));
   * ```
   */
  observe(actions: JointAction[], rewards: ArrayLike<number>, agentRewards?: ArrayLike<number>[]): ObserveStats {
    this.checkAlive();
    const c = this.config;
    const n = actions.length;
    if (n === 0) throw new Error('observe: actions is empty');
    if (rewards.length !== n) throw new Error(`observe: ${n} actions but ${rewards.length} rewards`);
    if (c.credit === 'perAgent' && !agentRewards)
      throw new Error("observe: credit 'perAgent' needs agentRewards (one array of per-agent rewards per action)");
    if (agentRewards && agentRewards.length !== n)
      throw new Error(`observe: ${n} actions but ${agentRewards.length} agentRewards rows`);
    const tokens = new Int32Array(n * this.numTokens);
    actions.forEach((a, b) => this.flattenInto(a, tokens, b * this.numTokens, `actions[${b}]`));
    let sum = 0;
    for (let b = 0; b < n; b++) {
      if (!Number.isFinite(rewards[b])) throw new Error(`observe: rewards[${b}] is not finite (${rewards[b]})`);
      sum += rewards[b];
      const ar = agentRewards?.[b];
      if (ar) {
        if (ar.length !== this.numAgents)
          throw new Error(`observe: agentRewards[${b}] has ${ar.length} entries, expected ${this.numAgents}`);
        for (let i = 0; i < ar.length; i++)
          if (!Number.isFinite(ar[i])) throw new Error(`observe: agentRewards[${b}][${i}] is not finite`);
      }
    }
    const needsCritic = c.credit === 'counterfactual';
    // Held-out prediction of the batch by the critic before it sees the batch, and a snapshot of the
    // policy for KL(pi_before || pi_after): pure reads, no learning stream is touched.
    const heldOut = needsCritic ? this.criticPredict(tokens, n) : null;
    const before = this.policySnapshot(tokens, n);
    // Validated as a whole before anything is stored.
    for (let b = 0; b < n; b++)
      this.replay.add(tokens.subarray(b * this.numTokens, (b + 1) * this.numTokens), rewards[b], agentRewards?.[b]);
    this.observed += n;
    const batchKeys = new Set<string>();
    for (let b = 0; b < n; b++) {
      const key = tokens.subarray(b * this.numTokens, (b + 1) * this.numTokens).join(',');
      batchKeys.add(key);
      this.distinct.add(key);
    }
    let evHeld = NaN;
    let r2Held = NaN;
    if (heldOut) {
      const y = Array.from(rewards);
      evHeld = explainedVariance(y, heldOut);
      r2Held = rSquared(y, heldOut);
      if (heldOut.every(Number.isFinite)) {
        const ss = centredSumsOfSquares(y, heldOut);
        const d = c.creditGate?.emaDecay ?? 0.8;
        this.gate = this.gate.set
          ? { err: d * this.gate.err + ss.err, y: d * this.gate.y + ss.y, set: true, last: evHeld }
          : { err: ss.err, y: ss.y, set: true, last: evHeld };
      } else this.gate = { ...this.gate, last: evHeld };
    }
    const gateEv = c.creditGate
      ? (c.creditGate.source ?? 'ema') === 'last'
        ? this.gate.last
        : this.gate.set && this.gate.y > 0
          ? 1 - this.gate.err / this.gate.y
          : NaN
      : NaN;
    const useCf = needsCritic && (!c.creditGate || (Number.isFinite(gateEv) && gateEv >= c.creditGate.minHeldOutEv));
    const expected = c.offPolicyActor === 'expected';
    const maxSteps = c.innerSteps ?? (c.offPolicy ? c.updatesPerObserve : 1);
    const perStepTarget = (c.targetUpdate ?? 'per-step') === 'per-step';
    const advStats = { abs: 0, sd: 0, count: 0 };
    let criticLoss = NaN;
    let meanAbsAdv = 0;
    let steps = 0;
    let klStopped = false;
    // After every actor step: target update (per step) and the KL limit.
    const afterStep = (): boolean => {
      steps += 1;
      if (perStepTarget) this.polyak();
      if (c.klLimit !== undefined) {
        const kl = before.klTo();
        if (kl.reduce((x, y) => x + y, 0) / kl.length > c.klLimit) klStopped = true;
      }
      return klStopped;
    };
    if (c.offPolicy) {
      const slotRewards = this.slotRewards(rewards, agentRewards);
      this.updateBaselines(slotRewards, n);
      if (needsCritic && this.ridge) criticLoss = this.fitRidge();
      let u = 0;
      while (u < maxSteps) {
        u++;
        if (needsCritic && !this.ridge)
          for (let s = 0; s < c.criticSteps; s++)
            criticLoss = this.criticStep(this.replay.sample(c.miniBatch, this.replayRng));
        if (expected && !useCf) {
          // Gate closed: no trusted Q for the expected gradient; score-function step on the fresh (on-policy) batch.
          const adv = this.advantages(tokens, n, slotRewards, false, advStats);
          meanAbsAdv = meanAbs(adv);
          this.actorStep(tokens, n, adv);
        } else {
          const idx = this.replay.sample(c.miniBatch, this.replayRng);
          const mbTokens = new Int32Array(idx.length * this.numTokens);
          const mbRewards = new Float32Array(idx.length);
          const mbAgent: Float32Array[] = [];
          idx.forEach((j, b) => {
            mbTokens.set(this.replay.tokens.subarray(j * this.numTokens, (j + 1) * this.numTokens), b * this.numTokens);
            mbRewards[b] = this.replay.rewards[j];
            mbAgent.push(this.replay.agentRewards.subarray(j * this.numAgents, (j + 1) * this.numAgents));
          });
          if (expected) {
            meanAbsAdv = this.expectedActorStep(mbTokens, idx.length, advStats);
          } else {
            const adv = this.advantages(mbTokens, idx.length, this.slotRewards(mbRewards, mbAgent), useCf, advStats);
            meanAbsAdv = meanAbs(adv);
            this.actorStep(mbTokens, idx.length, adv);
          }
        }
        if (afterStep()) break;
      }
      // An early stop ends the actor's steps only: the critic still takes all of its steps.
      if (needsCritic && !this.ridge)
        for (; u < maxSteps; u++)
          for (let s = 0; s < c.criticSteps; s++)
            criticLoss = this.criticStep(this.replay.sample(c.miniBatch, this.replayRng));
    } else {
      if (needsCritic) {
        if (this.ridge) criticLoss = this.fitRidge();
        else
          for (let s = 0; s < c.criticSteps; s++)
            criticLoss = this.criticStep(this.replay.sample(Math.min(c.miniBatch, this.replay.size), this.replayRng));
      }
      const slotRewards = this.slotRewards(rewards, agentRewards);
      const adv = expected && useCf ? null : this.advantages(tokens, n, slotRewards, useCf, advStats);
      this.updateBaselines(slotRewards, n);
      if (adv) meanAbsAdv = meanAbs(adv);
      for (let u = 0; u < maxSteps; u++) {
        if (adv) this.actorStep(tokens, n, adv);
        else meanAbsAdv = this.expectedActorStep(tokens, n, advStats);
        if (afterStep()) break;
      }
    }
    if (!perStepTarget) this.polyak();
    const kl = this.ar ? this.batchKl(this.ar, tokens, n) : this.klToTarget();
    const diagnostics = this.updateDiagnostics({
      tokens,
      n,
      before,
      steps,
      klStopped,
      evHeld,
      r2Held,
      gateEv,
      advStats,
      batchDistinct: batchKeys.size,
      creditUsed: c.credit === 'perAgent' ? 'perAgent' : useCf ? 'counterfactual' : 'shared',
    });
    this.updates += 1;
    return { meanReward: sum / n, criticLoss, meanAbsAdvantage: meanAbsAdv, kl, diagnostics };
  }

  /**
   * Convenience loop over a synchronous reward function: propose `batchSize`, evaluate, observe,
   * until `evaluations` are spent or the batch mean reward reaches `stopAt`.
   *
   * @example
   * ```ts
   * const res = learner.run((a) => game.reward(a), { evaluations: 2000, batchSize: 16, stopAt: 0.9 });
   * res.reachedAt; // evaluations used to reach a batch mean of 0.9
   * ```
   */
  run(
    reward: (action: JointAction) => number,
    options: { evaluations: number; batchSize: number; stopAt?: number },
  ): RunResult {
    const { evaluations, batchSize, stopAt } = options;
    if (!Number.isInteger(evaluations) || evaluations < 1)
      throw new Error(`run: evaluations must be a positive integer, got ${evaluations}`);
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new Error(`run: batchSize must be a positive integer, got ${batchSize}`);
    const rewards: number[] = [];
    const batchMeans: number[] = [];
    let best = { reward: Number.NEGATIVE_INFINITY, action: [] as JointAction };
    let reachedAt: number | undefined;
    while (rewards.length < evaluations) {
      const batch = this.propose(Math.min(batchSize, evaluations - rewards.length));
      const r = batch.map((a) => reward(a));
      r.forEach((x, b) => {
        rewards.push(x);
        if (x > best.reward) best = { reward: x, action: batch[b] };
      });
      const m = r.reduce((s, x) => s + x, 0) / r.length;
      batchMeans.push(m);
      if (stopAt !== undefined && m >= stopAt) {
        reachedAt = rewards.length;
        break;
      }
      this.observe(batch, r);
    }
    return { rewards, batchMeans, best, reachedAt };
  }

  /**
   * Gradient of the actor loss w.r.t. the `[numTokens, Vmax]` logits (factorised) or w.r.t. every
   * autoregressive parameter (the `actor` arrays of {@link getState}, concatenated in that order)
   * for given joint actions and advantages (`advantages[b * numPolicies + g]`) under the current pi,
   * rho and w. For inspection and tests; does not change any state.
   *
   * @example
   * ```ts
   * const g = learner.actorGradient(batch, Float32Array.from([1, -1]));
   * ```
   */
  actorGradient(actions: JointAction[], advantages: Float32Array): Float32Array {
    const n = actions.length;
    if (advantages.length !== n * this.groups.length)
      throw new Error(`actorGradient: advantages must have ${n * this.groups.length} entries (actions x policies)`);
    const tokens = new Int32Array(n * this.numTokens);
    actions.forEach((a, b) => this.flattenInto(a, tokens, b * this.numTokens, `actions[${b}]`));
    const g = tf.tidy(() => {
      const vars = this.ar ? [...this.actorParams.values()] : [this.logits];
      const { grads } = tf.variableGrads(this.actorLossFn(tokens, n, advantages), vars);
      return tf.concat(vars.map((v) => tf.reshape(grads[v.name], [-1])));
    });
    const out = g.dataSync().slice() as Float32Array;
    g.dispose();
    return out;
  }

  /**
   * Counterfactual advantages `A_g = Q(a) - E_{a_g'~pi_g} Q(a_g', a_-g)` of joint actions under the
   * current critic and policies, `[actions.length * numPolicies]` (row-major), unnormalised.
   * Monte-Carlo alternatives come from `rng` (default: a fresh stream, so learning is unaffected).
   *
   * @example
   * ```ts
   * const adv = learner.counterfactualAdvantages(batch); // per-agent credit of each evaluation
   * ```
   */
  counterfactualAdvantages(actions: JointAction[], rng?: Rng): Float32Array {
    this.checkAlive();
    const tokens = new Int32Array(actions.length * this.numTokens);
    actions.forEach((a, b) => this.flattenInto(a, tokens, b * this.numTokens, `actions[${b}]`));
    return this.cfAdvantages(tokens, actions.length, rng ?? new Rng(this.config.seed).fork('diagnostic'));
  }

  /**
   * Sum over policies of KL(pi || rho) (factorised: exact sum over tokens; autoregressive: exact
   * for groups with at most `enumerateLimit` sequences, else a Monte-Carlo estimate from
   * `counterfactualSamples` sequences of a diagnostic stream that learning does not use).
   */
  klToTarget(): number {
    if (this.ar) {
      // Exact where a group's space is enumerable; else Monte-Carlo from a diagnostic stream that
      // does not touch the learning streams (deterministic for a seed and observation count).
      const kl = this.ar.kl(
        this.config.counterfactualSamples,
        this.config.enumerateLimit,
        new Rng(this.config.seed).fork('kl-diagnostic').fork(this.observed),
      );
      return kl.reduce((s, x) => s + x, 0);
    }
    const k = tf.tidy(() => tf.sum(this.klPerGroup()));
    const v = k.dataSync()[0];
    k.dispose();
    return v;
  }

  /**
   * Critic predictions Q(a) for joint actions.
   *
   * @example
   * ```ts
   * learner.criticValues([[[0, 1]], [[2, 3]]]); // Float32Array of 2 values
   * ```
   */
  criticValues(actions: JointAction[]): Float32Array {
    const tokens = new Int32Array(actions.length * this.numTokens);
    actions.forEach((a, b) => this.flattenInto(a, tokens, b * this.numTokens, `actions[${b}]`));
    return Float32Array.from(this.criticPredict(tokens, actions.length));
  }

  /** Snapshot of weights, optimiser moments, target policies, replay, baselines and RNG streams. */
  getState(): SingleStepLearnerState {
    this.checkAlive();
    const critic = this.mlp.getWeights();
    return {
      version: 1,
      config: JSON.parse(JSON.stringify(this.config)),
      logits: this.ar ? [] : Array.from(this.logits.dataSync()),
      rho: this.ar ? [] : Array.from(this.rho.dataSync()),
      ...(this.ar ? { actor: this.ar.getValues('pi'), actorTarget: this.ar.getValues('rho') } : {}),
      critic,
      actorOpt: this.actorOpt.getState(),
      criticOpt: this.mlp.getOptimizerState(),
      replay: this.replay.getState(),
      baselines: this.baselines.slice(),
      baselineSet: this.baselineSet.slice(),
      valueOpt: this.valueOpt.map((o) => ({ ...o })),
      rng: {
        sample: this.sampleRng.getState(),
        replay: this.replayRng.getState(),
        counterfactual: this.cfRng.getState(),
        resample: this.resampleRng.getState(),
      },
      observed: this.observed,
      tracking: {
        updates: this.updates,
        distinct: [...this.distinct],
        gate: { ...this.gate, last: Number.isFinite(this.gate.last) ? this.gate.last : null },
      },
    };
  }

  /**
   * Restores a snapshot from {@link getState} (the learner must have been built with the same config).
   *
   * @example
   * ```ts
   * const saved = JSON.stringify(learner.getState());
   * const resumed = new SingleStepLearner(cfg);
   * resumed.setState(JSON.parse(saved));
   * ```
   */
  setState(state: SingleStepLearnerState): void {
    this.checkAlive();
    if (!state || state.version !== 1) throw new Error('setState: unsupported learner state (version must be 1)');
    if (JSON.stringify(parseSingleStepConfig(state.config)) !== JSON.stringify(this.config)) {
      throw new Error(
        "setState: state.config differs from this learner's config; build the learner with the saved config",
      );
    }
    if (this.ar) {
      this.ar.setValues('pi', state.actor, 'setState: actor');
      this.ar.setValues('rho', state.actorTarget, 'setState: actorTarget');
    } else {
      const T = this.numTokens * this.vmax;
      if (state.logits?.length !== T || state.rho?.length !== T)
        throw new Error(`setState: logits and rho must have ${T} numbers`);
      tf.tidy(() => {
        this.logits.assign(tf.tensor2d(state.logits, [this.numTokens, this.vmax]));
        this.rho.assign(tf.tensor2d(state.rho, [this.numTokens, this.vmax]));
      });
    }
    this.mlp.setWeights(state.critic, 'setState: critic');
    this.actorOpt.setState(state.actorOpt, 'setState actorOpt');
    this.mlp.setOptimizerState(state.criticOpt, 'setState criticOpt');
    this.replay.setState(state.replay);
    if (state.baselines.length !== this.baselines.length)
      throw new Error(`setState: baselines must have ${this.baselines.length} entries`);
    this.baselines = state.baselines.slice();
    this.baselineSet = state.baselineSet.slice();
    if (!Array.isArray(state.valueOpt) || state.valueOpt.length !== this.valueOpt.length)
      throw new Error(`setState: valueOpt must have ${this.valueOpt.length} entries`);
    this.valueOpt = state.valueOpt.map((o) => ({ step: o.step, m: o.m, v: o.v }));
    this.sampleRng.setState(state.rng.sample);
    this.replayRng.setState(state.rng.replay);
    this.cfRng.setState(state.rng.counterfactual);
    if (state.rng.resample) this.resampleRng.setState(state.rng.resample);
    else this.resampleRng.setState(new Rng(this.config.seed).fork('actor-resample').getState());
    this.observed = state.observed;
    const tr = state.tracking;
    this.updates = tr?.updates ?? 0;
    this.distinct.clear();
    for (const k of tr?.distinct ?? []) this.distinct.add(k);
    this.gate = tr
      ? {
          err: tr.gate.err,
          y: tr.gate.y,
          set: tr.gate.set,
          last: typeof tr.gate.last === 'number' ? tr.gate.last : NaN,
        }
      : { err: 0, y: 0, set: false, last: NaN };
    if (this.ridge) {
      if (this.replay.size > 0) this.fitRidge();
      else this.resetRidge();
    }
  }

  /** Frees all tensors. The learner cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.logitsVar?.dispose();
    this.rhoVar?.dispose();
    this.ar?.dispose();
    this.maskBias.dispose();
    this.groupMatrix.dispose();
    this.mlp.dispose();
    this.actorOpt.dispose();
  }

  // ---------------------------------------------------------------- internals

  private checkAlive(): void {
    if (this.disposed) throw new Error('SingleStepLearner: used after dispose()');
  }

  private flattenInto(a: JointAction, out: Int32Array, at: number, what: string): void {
    const agents = this.config.agents;
    if (!Array.isArray(a) || a.length !== agents.length)
      throw new Error(
        `${what}: expected ${agents.length} agents' token lists, got ${Array.isArray(a) ? a.length : typeof a}`,
      );
    for (let i = 0; i < agents.length; i++) {
      const toks = a[i];
      const voc = agents[i].vocab;
      if (!toks || toks.length !== voc.length)
        throw new Error(`${what}[${i}]: agent ${agents[i].name ?? i} emits ${voc.length} tokens, got ${toks?.length}`);
      for (let k = 0; k < voc.length; k++) {
        const v = toks[k];
        if (!Number.isInteger(v) || v < 0 || v >= voc[k])
          throw new Error(`${what}[${i}][${k}]: token must be an integer in [0, ${voc[k]}), got ${v}`);
        out[at + this.tokenStart[i] + k] = v;
      }
    }
  }

  private unflatten(tokens: Int32Array, row: number): JointAction {
    const at = row * this.numTokens;
    return this.config.agents.map((a, i) => a.vocab.map((_, k) => tokens[at + this.tokenStart[i] + k]));
  }

  private flatProbs(): Float32Array {
    const p = tf.tidy(() => tf.softmax(tf.add(this.logits, this.maskBias)));
    const out = p.dataSync() as Float32Array;
    p.dispose();
    return out;
  }

  /** Rewards per (row, policy group) for the non-counterfactual credits: shared r or per-agent r_i. */
  private slotRewards(rewards: ArrayLike<number>, agentRewards?: ArrayLike<number>[]): Float32Array {
    const G = this.groups.length;
    const n = rewards.length;
    const out = new Float32Array(n * G);
    for (let b = 0; b < n; b++) {
      for (let g = 0; g < G; g++) {
        let r = rewards[b];
        if (this.config.credit === 'perAgent') {
          r = agentRewards![b][g];
          if (!Number.isFinite(r))
            throw new Error(
              `observe: replayed evaluation has no per-agent reward for agent ${g} (credit 'perAgent' needs agentRewards on every observe)`,
            );
        }
        out[b * G + g] = r;
      }
    }
    return out;
  }

  private updateBaselines(slot: Float32Array, n: number): void {
    const c = this.config;
    const G = this.groups.length;
    for (let g = 0; g < G; g++) {
      let m = 0;
      for (let b = 0; b < n; b++) m += slot[b * G + g];
      m /= n;
      if (!this.baselineSet[g]) {
        this.baselines[g] = m;
        this.baselineSet[g] = true;
      } else if (c.baseline === 'value') {
        // Learned value: a scalar V_g fitted by Adam (PyTorch semantics) to the batch's squared error.
        let grad = 0;
        for (let b = 0; b < n; b++) grad += this.baselines[g] - slot[b * G + g];
        grad /= n;
        const st = this.valueOpt[g];
        st.step += 1;
        st.m = 0.9 * st.m + 0.1 * grad;
        st.v = 0.999 * st.v + 0.001 * grad * grad;
        const mHat = st.m / (1 - Math.pow(0.9, st.step));
        const vHat = st.v / (1 - Math.pow(0.999, st.step));
        this.baselines[g] -= (c.valueLr * mHat) / (Math.sqrt(vHat) + 1e-8);
      } else {
        this.baselines[g] = c.baselineDecay * this.baselines[g] + (1 - c.baselineDecay) * m;
      }
    }
  }

  /**
   * Advantages `[n * G]` for rows of flat tokens: counterfactual when `useCf`, else the slot reward
   * minus its baseline. `stats` accumulates the raw (not normalised) mean |A| and sd.
   */
  private advantages(
    tokens: Int32Array,
    n: number,
    slot: Float32Array,
    useCf = this.config.credit === 'counterfactual',
    stats?: { abs: number; sd: number; count: number },
  ): Float32Array {
    const c = this.config;
    const G = this.groups.length;
    let adv: Float32Array;
    if (useCf) {
      adv = this.cfAdvantages(tokens, n);
    } else {
      adv = new Float32Array(n * G);
      for (let g = 0; g < G; g++) {
        let mean = 0;
        for (let b = 0; b < n; b++) mean += slot[b * G + g];
        mean /= n;
        let b0 = 0;
        if (c.baseline === 'batchMean') b0 = mean;
        else if (c.baseline !== 'none') b0 = this.baselineSet[g] ? this.baselines[g] : mean;
        for (let b = 0; b < n; b++) adv[b * G + g] = slot[b * G + g] - b0;
      }
    }
    if (stats) accumulateAdvantageStats(adv, stats);
    if (c.normalizeAdvantages && adv.length > 1) {
      const sd = advantageScale(adv);
      // Scale only: the baseline (not the batch mean) decides the sign of each advantage.
      for (let k = 0; k < adv.length; k++) adv[k] = adv[k] / sd;
    }
    return adv;
  }

  /**
   * COMA/MA2ML marginal contribution: A_g = Q(a) - E_{a_g'~pi_g} Q(a_g', a_-g), every factual row
   * and every alternative of every group in one critic call.
   */
  private cfAdvantages(tokens: Int32Array, n: number, rng: Rng = this.cfRng): Float32Array {
    if (this.ridge) return this.ridgeCfAdvantages(this.ridge, tokens, n, rng);
    const c = this.config;
    // Alternatives are drawn once per update and shared by all rows (exact ones do not depend on the
    // row; Monte-Carlo ones are common random numbers: each row's baseline stays unbiased). The
    // autoregressive policy enumerates its sequences weighted by pi_g, or samples them sequentially.
    let alts: Alternatives[];
    if (this.ar) {
      alts = this.ar.alternatives(c.counterfactualSamples, c.enumerateLimit, rng);
    } else {
      const p = this.flatProbs();
      const groupProbs = this.groups.map((g) => g.map((t) => p.subarray(t * this.vmax, t * this.vmax + this.vocab[t])));
      const opts = { samples: c.counterfactualSamples, enumerateLimit: c.enumerateLimit, rng };
      alts = groupProbs.map((gp) => counterfactualAlternatives(gp, { ...opts, mode: 'auto' }));
    }
    return this.mlp.counterfactualAdvantages(tokens, n, this.groups, alts);
  }

  // ------------------------------------------------------- issue 12: critic, actor, diagnostics

  /** Critic predictions Q of flat token rows (ridge: NaN before its first fit). */
  private criticPredict(tokens: Int32Array, n: number): Float64Array | Float32Array {
    if (this.ridge) return this.ridge.fitted ? this.ridge.predict(tokens, n) : new Float64Array(n).fill(NaN);
    return this.mlp.predict(tokens, n);
  }

  /** Refits the ridge critic on the most recent `ridge.maxRows` replay rows; returns its in-sample MSE. */
  private fitRidge(): number {
    const ridge = this.ridge!;
    const idx = this.replay.recent(this.config.ridge?.maxRows ?? 1024);
    const T = this.numTokens;
    const tokens = new Int32Array(idx.length * T);
    const y = new Float64Array(idx.length);
    idx.forEach((j, b) => {
      tokens.set(this.replay.tokens.subarray(j * T, (j + 1) * T), b * T);
      y[b] = this.replay.rewards[j];
    });
    ridge.fit(tokens, y, idx.length);
    return ridge.trainMse;
  }

  private resetRidge(): void {
    const ridge = this.ridge!;
    ridge.fittedRows = 0;
    ridge.intercept = NaN;
    ridge.trainMse = NaN;
    ridge.w1.fill(0);
    ridge.w2.fill(0);
  }

  /** Per-token probabilities of the factorised policy, by global token. */
  private tokenProbs(flat: Float32Array): Float32Array[] {
    return this.vocab.map((v, t) => flat.subarray(t * this.vmax, t * this.vmax + v));
  }

  /**
   * Counterfactual advantages from the ridge critic: `Q(a) - E_{a_g'~pi_g} Q(a_g', a_-g)`, the
   * expectation exact for the factorised policy (closed form); for the autoregressive policy over the
   * group's alternatives (enumerated with weights pi_g, or sampled with `rng`), as the MLP critic.
   */
  private ridgeCfAdvantages(ridge: RidgeCritic, tokens: Int32Array, n: number, rng: Rng): Float32Array {
    if (!ridge.fitted)
      throw new Error('SingleStepLearner: the ridge critic has not been fitted (observe a batch first)');
    const G = this.groups.length;
    const T = this.numTokens;
    const q = ridge.predict(tokens, n);
    const adv = new Float32Array(n * G);
    if (!this.ar) {
      const probs = this.tokenProbs(this.flatProbs());
      this.groups.forEach((members, g) => {
        const base = ridge.expectation(tokens, n, members, (t) => probs[t]);
        for (let b = 0; b < n; b++) adv[b * G + g] = q[b] - base[b];
      });
      return adv;
    }
    const alts = this.ar.alternatives(this.config.counterfactualSamples, this.config.enumerateLimit, rng);
    this.groups.forEach((members, g) => {
      const a = alts[g];
      const L = members.length;
      const rows = new Int32Array(n * a.count * T);
      for (let b = 0; b < n; b++) {
        for (let k = 0; k < a.count; k++) {
          const at = (b * a.count + k) * T;
          rows.set(tokens.subarray(b * T, (b + 1) * T), at);
          for (let m = 0; m < L; m++) rows[at + members[m]] = a.tokens[k * L + m];
        }
      }
      const qa = ridge.predict(rows, n * a.count);
      for (let b = 0; b < n; b++) {
        let base = 0;
        for (let k = 0; k < a.count; k++) base += a.weights[k] * qa[b * a.count + k];
        adv[b * G + g] = q[b] - base;
      }
    });
    return adv;
  }

  /**
   * One step of the expected-gradient actor (`offPolicyActor: 'expected'`, factorised policy) on
   * rows of flat tokens: maximises `(1/n) sum_b sum_g E_{a_g ~ pi_g} Q(a_g, a_-g^b) / s - w KL(pi||rho)
   * + beta H(pi)` with Q held constant, s the sd of the rows' counterfactual advantages
   * (`normalizeAdvantages`, else 1). Ridge critic: exact over the whole group (linear coefficients
   * per token value, plus the group's within-pair quadratic terms). MLP critic: per token t of group g,
   * `sum_v pi_t(v) Q(v, a'_{g,-t}, a_-g)` with the group's other tokens `a'` resampled from pi.
   * Returns the mean |A| of the normalised counterfactual advantages of the rows.
   */
  private expectedActorStep(tokens: Int32Array, n: number, stats: { abs: number; sd: number; count: number }): number {
    const c = this.config;
    const T = this.numTokens;
    const V = this.vmax;
    const raw = this.cfAdvantages(tokens, n);
    accumulateAdvantageStats(raw, stats);
    const scale = c.normalizeAdvantages && raw.length > 1 ? advantageScale(raw) : 1;
    const coef = new Float32Array(T * V);
    let within: { t: number; s: number; weights: Float64Array }[] = [];
    if (this.ridge) {
      const terms = this.ridge.actorTerms(tokens, n, this.groups);
      terms.linear.forEach((lin, t) => lin.forEach((x, v) => (coef[t * V + v] = x)));
      within = terms.within;
    } else {
      this.mlpTokenValues(tokens, n, coef);
    }
    const w = c.divergenceWeight;
    const beta = c.entropyBonus ?? 0;
    tf.tidy(() => {
      const coefT = tf.tensor2d(coef, [T, V]);
      let withinT: { t: tf.Tensor; s: tf.Tensor; w: tf.Tensor } | null = null;
      if (within.length > 0) {
        const W = new Float32Array(within.length * V * V);
        within.forEach((p, k) => {
          const Vs = this.vocab[p.s];
          for (let a = 0; a < this.vocab[p.t]; a++)
            for (let b = 0; b < Vs; b++) W[(k * V + a) * V + b] = p.weights[a * Vs + b];
        });
        withinT = {
          t: tf.tensor1d(Int32Array.from(within.map((p) => p.t)), 'int32'),
          s: tf.tensor1d(Int32Array.from(within.map((p) => p.s)), 'int32'),
          w: tf.tensor3d(W, [within.length, V, V]),
        };
      }
      const loss = (): tf.Scalar => {
        const logPi = this.logPiAll();
        const pi = tf.exp(logPi);
        let objective = tf.div(tf.sum(tf.mul(pi, coefT)), n);
        if (withinT) {
          const pt = tf.reshape(tf.gather(pi, withinT.t), [-1, V, 1]);
          const ps = tf.reshape(tf.gather(pi, withinT.s), [-1, 1, V]);
          objective = tf.add(objective, tf.sum(tf.mul(tf.mul(pt, withinT.w), ps)));
        }
        let l = tf.neg(tf.div(objective, scale));
        if (w !== 0) l = tf.add(l, tf.mul(w, tf.sum(this.klPerGroup())));
        if (beta !== 0) l = tf.sub(l, tf.mul(beta, tf.neg(tf.sum(tf.mul(pi, logPi)))));
        return l as tf.Scalar;
      };
      const { grads } = tf.variableGrads(loss, [this.logits]);
      const g = grads[this.logits.name];
      if (c.actorOptimizer === 'sgd') this.logits.assign(tf.sub(this.logits, tf.mul(g, c.actorLr)));
      else this.actorOpt.apply(this.actorParams, new Map([['logits', g]]));
    });
    return raw.length ? meanAbs(raw) / scale : 0;
  }

  /**
   * MLP critic, expected actor: `coef[t * Vmax + v] = sum_b Q(row b with token t = v)`, where the
   * other tokens of t's group are resampled from the current policy (one draw per row and group,
   * stream 'actor-resample') and the other groups' tokens are the row's.
   */
  private mlpTokenValues(tokens: Int32Array, n: number, coef: Float32Array): void {
    const T = this.numTokens;
    const probs = this.tokenProbs(this.flatProbs());
    this.groups.forEach((members) => {
      const rows = tokens.slice(0, n * T);
      for (let b = 0; b < n; b++) for (const t of members) rows[b * T + t] = this.resampleRng.categorical(probs[t]);
      this.mlp.addTokenValues(rows, n, members, coef, this.vmax);
    });
  }

  /**
   * Snapshot of the policy for `KL(pi_snapshot || pi_now)` per group (`klTo`): exact for the
   * factorised policy and enumerable autoregressive groups, else estimated along the rows of the
   * observed batch (their prefix-conditional KLs).
   */
  private policySnapshot(tokens: Int32Array, n: number): { klTo(): number[] } {
    if (this.ar) {
      const snap = this.ar.klSnapshot(this.config.enumerateLimit, { tokens, n });
      return { klTo: () => Array.from(snap.klTo()) };
    }
    const old = this.tokenProbs(this.flatProbs().slice());
    return {
      klTo: () => {
        const now = this.tokenProbs(this.flatProbs());
        return this.groups.map((members) => members.reduce((s, t) => s + categoricalKl(old[t], now[t]), 0));
      },
    };
  }

  /** Per-update diagnostics after the update (pure reads; diagnostic streams only). */
  private updateDiagnostics(d: {
    tokens: Int32Array;
    n: number;
    before: { klTo(): number[] };
    steps: number;
    klStopped: boolean;
    evHeld: number;
    r2Held: number;
    gateEv: number;
    advStats: { abs: number; sd: number; count: number };
    batchDistinct: number;
    creditUsed: UpdateDiagnostics['creditUsed'];
  }): UpdateDiagnostics {
    const c = this.config;
    const G = this.groups.length;
    let entropy: number[];
    let klTarget: number[];
    if (this.ar) {
      entropy = Array.from(this.ar.entropy(c.enumerateLimit, { tokens: d.tokens, n: d.n }));
      const { slots } = this.ar.encode(d.tokens, d.n);
      const k = tf.tidy(() => {
        const s = tf.tensor1d(slots, 'int32');
        return tf.div(
          tf.sum(this.ar!.conditionalKl(this.ar!.logTables(s, d.n, 'pi'), this.ar!.logTables(s, d.n, 'rho')), 0),
          d.n,
        );
      });
      klTarget = Array.from(k.dataSync(), (x) => Math.max(0, x));
      k.dispose();
    } else {
      const probs = this.tokenProbs(this.flatProbs());
      entropy = this.groups.map((members) => members.reduce((s, t) => s + categoricalEntropy(probs[t]), 0));
      const k = tf.tidy(() => this.klPerGroup());
      klTarget = Array.from(k.dataSync(), (x) => Math.max(0, x));
      k.dispose();
    }
    const uniform = this.groups.map((members) => members.reduce((s, t) => s + Math.log(this.vocab[t]), 0));
    let evReplay = NaN;
    if (c.credit === 'counterfactual' && this.replay.size > 0) {
      const m = this.replay.size;
      const pred = this.criticPredict(this.replay.tokens.subarray(0, m * this.numTokens), m);
      evReplay = explainedVariance(this.replay.rewards.subarray(0, m), pred);
    }
    const cnt = Math.max(1, d.advStats.count);
    return {
      update: this.updates,
      evaluations: this.observed,
      batchSize: d.n,
      groups: this.groupNames.slice(0, G),
      entropy,
      entropyFraction: entropy.map((h, g) => (uniform[g] > 0 ? h / uniform[g] : 1)),
      klPrevious: d.before.klTo(),
      klTarget,
      innerSteps: d.steps,
      klStopped: d.klStopped,
      creditUsed: d.creditUsed,
      gateEv: d.gateEv,
      criticEvReplay: evReplay,
      criticEvHeldOut: d.evHeld,
      criticR2HeldOut: d.r2Held,
      advantageMeanAbs: d.advStats.count ? d.advStats.abs / cnt : NaN,
      advantageSd: d.advStats.count ? d.advStats.sd / cnt : NaN,
      distinctBatch: d.batchDistinct,
      distinctSoFar: this.distinct.size,
    };
  }

  private criticStep(idx: Int32Array): number {
    const n = idx.length;
    const T = this.numTokens;
    const tokens = new Int32Array(n * T);
    const y = new Float32Array(n);
    idx.forEach((j, b) => {
      tokens.set(this.replay.tokens.subarray(j * T, (j + 1) * T), b * T);
      y[b] = this.replay.rewards[j];
    });
    return this.mlp.fit(tokens, y, n);
  }

  private logPiAll(): tf.Tensor {
    return tf.logSoftmax(tf.add(this.logits, this.maskBias));
  }

  private logRhoAll(): tf.Tensor {
    return tf.log(tf.maximum(this.rho, 1e-30));
  }

  /** KL(pi_g || rho_g) per policy group, shape [G]. */
  private klPerGroup(): tf.Tensor {
    const logPi = this.logPiAll();
    const perToken = tf.sum(tf.mul(tf.exp(logPi), tf.sub(logPi, this.logRhoAll())), 1, true); // [T,1]
    return tf.reshape(tf.matMul(tf.transpose(perToken), this.groupMatrix), [-1]);
  }

  /** log prob per (row, group) of the tokens under a per-token log-prob table [T, V]. */
  private groupLogProb(table: tf.Tensor, tokensT: tf.Tensor): tf.Tensor {
    const oh = tf.oneHot(tokensT, this.vmax); // [n, T, V]
    const perToken = tf.sum(tf.mul(oh, table), 2); // [n, T]
    return tf.matMul(perToken, this.groupMatrix); // [n, G]
  }

  private actorLossFn(tokens: Int32Array, n: number, adv: Float32Array): () => tf.Scalar {
    const beta = this.config.entropyBonus ?? 0;
    const base = this.baseActorLossFn(tokens, n, adv);
    if (beta === 0) return base;
    return () => tf.sub(base(), tf.mul(beta, this.entropyTerm(tokens, n))) as tf.Scalar;
  }

  /** Sum over groups of the policy entropy (factorised: exact; autoregressive: mean over rows of the conditional entropies along the prefix), differentiable. */
  private entropyTerm(tokens: Int32Array, n: number): tf.Scalar {
    if (this.ar) {
      const { slots } = this.ar.encode(tokens, n);
      const t = this.ar.logTables(tf.tensor1d(slots, 'int32'), n, 'pi');
      return tf.div(tf.neg(tf.sum(tf.mul(tf.exp(t), t))), n) as tf.Scalar;
    }
    const logPi = this.logPiAll();
    return tf.neg(tf.sum(tf.mul(tf.exp(logPi), logPi))) as tf.Scalar;
  }

  private baseActorLossFn(tokens: Int32Array, n: number, adv: Float32Array): () => tf.Scalar {
    if (this.ar) return this.arLossFn(this.ar, tokens, n, adv);
    const G = this.groups.length;
    const w = this.config.divergenceWeight;
    const tokensT = tf.tensor2d(tokens, [n, this.numTokens], 'int32');
    const advT = tf.tensor2d(adv, [n, G]);
    // The bracket [A - w (log(pi/rho)(a) - KL)] is a constant of the loss (computed outside the gradient).
    const coef =
      w === 0
        ? advT
        : tf.sub(
            advT,
            tf.mul(
              w,
              tf.sub(
                tf.sub(this.groupLogProb(this.logPiAll(), tokensT), this.groupLogProb(this.logRhoAll(), tokensT)),
                tf.reshape(this.klPerGroup(), [1, G]),
              ),
            ),
          );
    return () => tf.neg(tf.div(tf.sum(tf.mul(this.groupLogProb(this.logPiAll(), tokensT), coef)), n)) as tf.Scalar;
  }

  /**
   * Autoregressive actor loss `-(1/n) sum_b sum_g log pi_g(a_bg) * coef_bg` with the bracket
   * `coef = A - w (log pi_g(a) - log rho_g(a) - KL_g)` held constant. KL_g is the mean over the
   * update's rows of `sum_k KL(pi_g(.|a_<k) || rho_g(.|a_<k))`, the exact per-token KL conditioned
   * on each row's sampled prefix (an unbiased estimate of the sequence KL for on-policy rows; it
   * only acts as a baseline of the divergence term).
   */
  private arLossFn(ar: AutoregressivePolicy, tokens: Int32Array, n: number, adv: Float32Array): () => tf.Scalar {
    const G = this.groups.length;
    const w = this.config.divergenceWeight;
    const { slots, seq } = ar.encode(tokens, n);
    const slotsT = tf.tensor1d(slots, 'int32');
    const seqT = ar.seqTensor(seq, n);
    const advT = tf.tensor2d(adv, [n, G]);
    let coef = advT;
    if (w !== 0) {
      const piTable = ar.logTables(slotsT, n, 'pi');
      const rhoTable = ar.logTables(slotsT, n, 'rho');
      const logRatio = tf.sub(ar.seqLogProb(piTable, seqT), ar.seqLogProb(rhoTable, seqT));
      const kl = tf.mean(ar.conditionalKl(piTable, rhoTable), 0, true); // [1, G]
      coef = tf.sub(advT, tf.mul(w, tf.sub(logRatio, kl)));
    }
    return () =>
      tf.neg(tf.div(tf.sum(tf.mul(ar.seqLogProb(ar.logTables(slotsT, n, 'pi'), seqT), coef)), n)) as tf.Scalar;
  }

  private actorStep(tokens: Int32Array, n: number, adv: Float32Array): void {
    if (this.ar) {
      const params = this.actorParams;
      tf.tidy(() => {
        const { grads } = tf.variableGrads(this.actorLossFn(tokens, n, adv), [...params.values()]);
        const byName = new Map<string, tf.Tensor>();
        for (const [name, v] of params) byName.set(name, grads[v.name]);
        if (this.config.actorOptimizer === 'sgd') {
          for (const [name, v] of params) v.assign(tf.sub(v, tf.mul(byName.get(name)!, this.config.actorLr)));
        } else {
          this.actorOpt.apply(params, byName);
        }
      });
      return;
    }
    tf.tidy(() => {
      const { grads } = tf.variableGrads(this.actorLossFn(tokens, n, adv), [this.logits]);
      const g = grads[this.logits.name];
      if (this.config.actorOptimizer === 'sgd') {
        this.logits.assign(tf.sub(this.logits, tf.mul(g, this.config.actorLr)));
      } else {
        this.actorOpt.apply(this.actorParams, new Map([['logits', g]]));
      }
    });
  }

  /** Sum over groups of the batch mean of the per-token conditional KLs along each row's prefix. */
  private batchKl(ar: AutoregressivePolicy, tokens: Int32Array, n: number): number {
    const { slots } = ar.encode(tokens, n);
    const k = tf.tidy(() => {
      const s = tf.tensor1d(slots, 'int32');
      return tf.div(tf.sum(ar.conditionalKl(ar.logTables(s, n, 'pi'), ar.logTables(s, n, 'rho'))), n);
    });
    const v = k.dataSync()[0];
    k.dispose();
    return Math.max(0, v);
  }

  private polyak(): void {
    const tau = this.config.tau;
    if (tau === 0) return;
    if (this.ar) {
      this.ar.polyak(tau);
      return;
    }
    tf.tidy(() => {
      this.rho.assign(tf.add(tf.mul(this.rho, 1 - tau), tf.mul(tf.softmax(tf.add(this.logits, this.maskBias)), tau)));
    });
  }
}

/** A variable that owns its value: the initial tensor is disposed (tf.variable keeps a reference). */
function ownedVariable(init: tf.Tensor, trainable: boolean, name?: string): tf.Variable {
  const v = tf.variable(init, trainable, name);
  init.dispose();
  return v;
}

function meanAbs(a: Float32Array): number {
  let s = 0;
  for (const x of a) s += Math.abs(x);
  return a.length ? s / a.length : 0;
}

/** Adds the raw advantages' mean |A| and (population) sd to running sums (one count per call). */
function accumulateAdvantageStats(adv: Float32Array, stats: { abs: number; sd: number; count: number }): void {
  if (adv.length === 0) return;
  let m = 0;
  let a = 0;
  for (const x of adv) {
    m += x;
    a += Math.abs(x);
  }
  m /= adv.length;
  let ss = 0;
  for (const x of adv) ss += (x - m) * (x - m);
  stats.abs += a / adv.length;
  stats.sd += Math.sqrt(ss / adv.length);
  stats.count += 1;
}

/** Population standard deviation of advantages plus 1e-8: the divisor of advantage normalisation. */
function advantageScale(adv: ArrayLike<number>): number {
  let m = 0;
  for (let k = 0; k < adv.length; k++) m += adv[k];
  m /= adv.length;
  let s = 0;
  for (let k = 0; k < adv.length; k++) s += (adv[k] - m) * (adv[k] - m);
  return Math.sqrt(s / adv.length) + 1e-8;
}
