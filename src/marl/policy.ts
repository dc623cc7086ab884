import { tf } from '../backend';
import { parseConfig, z } from '../config';
import { Rng } from '../random';
import { ParamSet, dense, gruCell, uniformInit, type GruWeights } from './nn';

const int = () => z.number().int();

export const PolicyConfigSchema = z
  .object({
    /** Per-agent observation length (the env's `spec.observationSize`). */
    observationSize: int().positive(),
    /** Number of discrete actions. */
    numActions: int().min(2),
    /** Global state length (required > 0 for a centralised critic). */
    stateSize: int().min(0).default(0),
    /** `gru`: MLP layers, then a GRU, then heads; `mlp`: feed-forward only. */
    torso: z.enum(['gru', 'mlp']).default('gru'),
    /** Widths of the dense layers before the GRU (or of the whole MLP torso). */
    hiddenSizes: z.array(int().positive()).default([64]),
    /** GRU hidden size (torso `gru`). */
    gruSize: int().positive().default(64),
    activation: z.enum(['tanh', 'relu']).default('tanh'),
    /** `shared`: one parameter set for all agents; `independent`: one per agent index (needs maxAgents). */
    sharing: z.enum(['shared', 'independent']).default('shared'),
    /** Upper bound on agent indices (for `independent` and `agentId`). */
    maxAgents: int().positive().optional(),
    /** Append a one-hot agent id (maxAgents long) to the actor's and critic's inputs. */
    agentId: z.boolean().default(false),
    /** `decentralised` (IPPO): V(o_i); `centralised` (MAPPO): V(global state[, o_i]). */
    critic: z.enum(['decentralised', 'centralised']).default('decentralised'),
    /** Inputs of a centralised critic: the global state alone, or the state and the agent's own observation. */
    centralisedInput: z.enum(['state', 'state+obs']).default('state+obs'),
    /** Scale of the actor's output-layer init (small = near-uniform initial policy). */
    actorHeadScale: z.number().positive().default(0.01),
    /** Seed for the parameter initialisation. */
    seed: int().default(0),
  })
  .strict()
  .superRefine((c, ctx) => {
    if ((c.sharing === 'independent' || c.agentId) && c.maxAgents === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxAgents'],
        message: `required when sharing is 'independent' or agentId is true`,
      });
    }
    if (c.critic === 'centralised' && c.stateSize === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['stateSize'],
        message: 'a centralised critic needs stateSize > 0 (the env must provide a global state)',
      });
    }
  });
export type PolicyConfig = z.input<typeof PolicyConfigSchema>;
export type ResolvedPolicyConfig = z.output<typeof PolicyConfigSchema>;

/** Inputs of one batched rollout forward over B agent rows (all agents of all environments). */
export interface PolicyStepInput {
  /** [B * observationSize] row-major observations. */
  observations: Float32Array;
  /** Agent index of each row (selects unshared parameters / the one-hot id). */
  agentIndex: Int32Array;
  /** [B * stateSize] global state per row (centralised critic only). */
  states?: Float32Array;
  /** [B * actorHiddenSize] recurrent state of the actor (ignored for `mlp`). */
  actorHidden?: Float32Array;
  /** [B * criticHiddenSize] recurrent state of the critic. */
  criticHidden?: Float32Array;
  /** [B * numActions] 1 = allowed, 0 = masked out. */
  actionMasks?: Uint8Array | Float32Array;
}

/** Outputs of {@link ActorCritic.step}, all read back to JavaScript. */
export interface PolicyStepOutput {
  /** [B * numActions] action log-probabilities (masked actions ≈ -1e9). */
  logProbs: Float32Array;
  /** [B] state values. */
  values: Float32Array;
  /** [B * actorHiddenSize] actor hidden state after this step. */
  actorHidden: Float32Array;
  /** [B * criticHiddenSize] critic hidden state after this step. */
  criticHidden: Float32Array;
}

/** Chunked sequences for training: C chunks of L steps (padded steps carry any values). */
export interface SequenceInput {
  chunks: number;
  length: number;
  /** [C * L * observationSize] */
  observations: Float32Array;
  /** [C] agent index of each chunk. */
  agentIndex: Int32Array;
  /** [C * L * stateSize] */
  states?: Float32Array;
  /** [C * actorHiddenSize] hidden state at each chunk's first step (as stored during the rollout). */
  actorHidden?: Float32Array;
  /** [C * criticHiddenSize] */
  criticHidden?: Float32Array;
  /** [C * L * numActions] */
  actionMasks?: Float32Array;
}

/**
 * Categorical actor-critic for discrete multi-agent control: MLP or GRU torso, parameters
 * shared across agents (optionally conditioned on a one-hot agent id) or independent per
 * agent index, and a decentralised (IPPO) or centralised (MAPPO) critic. Actor and critic are
 * separate networks with separate hidden states. All agents of all environments go through
 * one batched forward per call.
 *
 * @example
 * ```ts
 * const policy = new ActorCritic({ observationSize: 8, numActions: 9, torso: 'gru', gruSize: 64 });
 * const out = policy.step({ observations, agentIndex, actorHidden, criticHidden });
 * policy.dispose();
 * ```
 */
export class ActorCritic {
  readonly config: ResolvedPolicyConfig;
  readonly params = new ParamSet();
  /** Hidden size of the actor's recurrent state (0 for `mlp`). */
  readonly actorHiddenSize: number;
  /** Hidden size of the critic's recurrent state (0 for `mlp`). */
  readonly criticHiddenSize: number;
  private readonly actorInputSize: number;
  private readonly criticInputSize: number;

  constructor(config: PolicyConfig) {
    this.config = parseConfig(PolicyConfigSchema, config, 'policy config');
    const c = this.config;
    const idDims = c.agentId ? (c.maxAgents as number) : 0;
    this.actorInputSize = c.observationSize + idDims;
    this.criticInputSize =
      c.critic === 'centralised'
        ? c.stateSize + (c.centralisedInput === 'state+obs' ? c.observationSize : 0) + idDims
        : this.actorInputSize;
    const recurrent = c.torso === 'gru';
    this.actorHiddenSize = recurrent ? c.gruSize : 0;
    this.criticHiddenSize = recurrent ? c.gruSize : 0;
    const rng = new Rng(c.seed);
    this.build('actor', this.actorInputSize, c.numActions, c.actorHeadScale, rng);
    this.build('critic', this.criticInputSize, 1, 1, rng);
  }

  private get agentSets(): number {
    return this.config.sharing === 'independent' ? (this.config.maxAgents as number) : 0;
  }

  private addDense(
    name: string,
    inDim: number,
    outDim: number,
    bound: number,
    rng: Rng,
    scale = 1,
    zeroBias = false,
  ): void {
    const n = this.agentSets;
    const lead = n > 0 ? [n] : [];
    const count = Math.max(n, 1);
    const w = uniformInit(rng.fork(`${name}/w`), count * inDim * outDim, bound);
    if (scale !== 1) for (let i = 0; i < w.length; i++) w[i] *= scale;
    const b = zeroBias ? new Float32Array(count * outDim) : uniformInit(rng.fork(`${name}/b`), count * outDim, bound);
    this.params.add(`${name}/w`, [...lead, inDim, outDim], w);
    this.params.add(`${name}/b`, [...lead, outDim], b);
  }

  private build(prefix: string, inDim: number, outDim: number, headScale: number, rng: Rng): void {
    const c = this.config;
    let d = inDim;
    c.hiddenSizes.forEach((h, i) => {
      this.addDense(`${prefix}/fc${i}`, d, h, 1 / Math.sqrt(d), rng);
      d = h;
    });
    if (c.torso === 'gru') {
      const h = c.gruSize;
      const bound = 1 / Math.sqrt(h);
      const n = this.agentSets;
      const lead = n > 0 ? [n] : [];
      const count = Math.max(n, 1);
      this.params.add(
        `${prefix}/gru/wih`,
        [...lead, d, 3 * h],
        uniformInit(rng.fork(`${prefix}/gru/wih`), count * d * 3 * h, bound),
      );
      this.params.add(
        `${prefix}/gru/whh`,
        [...lead, h, 3 * h],
        uniformInit(rng.fork(`${prefix}/gru/whh`), count * h * 3 * h, bound),
      );
      this.params.add(
        `${prefix}/gru/bih`,
        [...lead, 3 * h],
        uniformInit(rng.fork(`${prefix}/gru/bih`), count * 3 * h, bound),
      );
      this.params.add(
        `${prefix}/gru/bhh`,
        [...lead, 3 * h],
        uniformInit(rng.fork(`${prefix}/gru/bhh`), count * 3 * h, bound),
      );
      d = h;
    }
    this.addDense(`${prefix}/head`, d, outDim, 1 / Math.sqrt(d), rng, headScale, headScale !== 1);
  }

  /** Named variables (actor/..., critic/...), in a stable order. */
  variables(): Map<string, tf.Variable> {
    const m = new Map<string, tf.Variable>();
    for (const name of this.params.names()) m.set(name, this.params.get(name));
    return m;
  }

  /** Zero hidden states for `rows` agent rows. */
  initialHidden(rows: number): { actor: Float32Array; critic: Float32Array } {
    return {
      actor: new Float32Array(rows * this.actorHiddenSize),
      critic: new Float32Array(rows * this.criticHiddenSize),
    };
  }

  /**
   * One batched forward for B agent rows: action log-probabilities, values and next hidden
   * states, read back in a single transfer.
   */
  step(input: PolicyStepInput): PolicyStepOutput {
    const c = this.config;
    const b = input.agentIndex.length;
    this.checkLength('observations', input.observations.length, b * c.observationSize);
    if (c.critic === 'centralised') this.checkLength('states', input.states?.length ?? 0, b * c.stateSize);
    const ha = this.actorHiddenSize;
    const hc = this.criticHiddenSize;
    const actorH = input.actorHidden ?? new Float32Array(b * ha);
    const criticH = input.criticHidden ?? new Float32Array(b * hc);
    this.checkLength('actorHidden', actorH.length, b * ha);
    this.checkLength('criticHidden', criticH.length, b * hc);
    if (input.actionMasks) this.checkLength('actionMasks', input.actionMasks.length, b * c.numActions);
    const onehot = this.agentOneHot(input.agentIndex);
    const packed = tf.tidy(() => {
      const agents = onehot ? tf.tensor2d(onehot, [b, onehot.length / b]) : undefined;
      const obs = tf.tensor2d(input.observations, [b, c.observationSize]);
      const states =
        c.critic === 'centralised' ? tf.tensor2d(input.states as Float32Array, [b, c.stateSize]) : undefined;
      const masks = input.actionMasks
        ? tf.tensor2d(Float32Array.from(input.actionMasks), [b, c.numActions])
        : undefined;
      const { actorIn, criticIn } = this.inputs(obs, states, agents);
      const a = this.torsoStep('actor', actorIn, ha ? tf.tensor2d(actorH, [b, ha]) : undefined, agents);
      const v = this.torsoStep('critic', criticIn, hc ? tf.tensor2d(criticH, [b, hc]) : undefined, agents);
      const logp = this.logProbs(this.head('actor', a.features, agents), masks);
      const parts: tf.Tensor2D[] = [logp, this.head('critic', v.features, agents)];
      if (a.hidden) parts.push(a.hidden);
      if (v.hidden) parts.push(v.hidden);
      return tf.concat(parts, 1);
    });
    const data = packed.dataSync() as Float32Array;
    packed.dispose();
    const width = c.numActions + 1 + ha + hc;
    const out = emptyStepOutput(b, c.numActions, ha, hc);
    for (let i = 0; i < b; i++) {
      const row = i * width;
      out.logProbs.set(data.subarray(row, row + c.numActions), i * c.numActions);
      out.values[i] = data[row + c.numActions];
      out.actorHidden.set(data.subarray(row + c.numActions + 1, row + c.numActions + 1 + ha), i * ha);
      out.criticHidden.set(data.subarray(row + c.numActions + 1 + ha, row + width), i * hc);
    }
    return out;
  }

  /**
   * Differentiable forward over chunked sequences (call inside `tf.tidy`/`variableGrads`):
   * returns log-probabilities [C*L, A] and values [C*L], time-major within each chunk
   * (row = chunk * L + t).
   */
  sequence(input: SequenceInput): { logProbs: tf.Tensor2D; values: tf.Tensor1D } {
    const c = this.config;
    const { chunks, length } = input;
    const rows = chunks * length;
    this.checkLength('observations', input.observations.length, rows * c.observationSize);
    if (c.critic === 'centralised') this.checkLength('states', input.states?.length ?? 0, rows * c.stateSize);
    const rowAgents = new Int32Array(rows);
    for (let i = 0; i < rows; i++) rowAgents[i] = input.agentIndex[Math.floor(i / length)];
    const ohRows = this.agentOneHot(rowAgents);
    const ohChunks = this.agentOneHot(input.agentIndex);
    const agentsRows = ohRows ? tf.tensor2d(ohRows, [rows, ohRows.length / rows]) : undefined;
    const agentsChunks = ohChunks ? tf.tensor2d(ohChunks, [chunks, ohChunks.length / chunks]) : undefined;
    const obs = tf.tensor2d(input.observations, [rows, c.observationSize]);
    const states =
      c.critic === 'centralised' ? tf.tensor2d(input.states as Float32Array, [rows, c.stateSize]) : undefined;
    const { actorIn, criticIn } = this.inputs(obs, states, agentsRows);
    const a = this.torsoSequence('actor', actorIn, chunks, length, input.actorHidden, agentsRows, agentsChunks);
    const v = this.torsoSequence('critic', criticIn, chunks, length, input.criticHidden, agentsRows, agentsChunks);
    const masks = input.actionMasks ? tf.tensor2d(input.actionMasks, [rows, c.numActions]) : undefined;
    const logProbs = this.logProbs(this.head('actor', a, agentsRows), masks);
    const values = tf.reshape(this.head('critic', v, agentsRows), [rows]) as tf.Tensor1D;
    return { logProbs, values };
  }

  private inputs(obs: tf.Tensor2D, states: tf.Tensor2D | undefined, agents: tf.Tensor2D | undefined) {
    const c = this.config;
    const id = c.agentId ? this.idTensor(agents, obs.shape[0]) : undefined;
    const actorIn = id ? tf.concat([obs, id], 1) : obs;
    let criticIn = actorIn;
    if (c.critic === 'centralised') {
      const parts: tf.Tensor2D[] = [states as tf.Tensor2D];
      if (c.centralisedInput === 'state+obs') parts.push(obs);
      if (id) parts.push(id);
      criticIn = parts.length === 1 ? parts[0] : tf.concat(parts, 1);
    }
    return { actorIn, criticIn };
  }

  /** The one-hot id block: when parameters are shared, `agents` is the id itself. */
  private idTensor(agents: tf.Tensor2D | undefined, rows: number): tf.Tensor2D {
    if (!agents) throw new Error(`ActorCritic: internal error, missing agent one-hot for ${rows} rows`);
    return agents;
  }

  /** One-hot [rows, maxAgents] when needed (independent params or agent id), else undefined. */
  private agentOneHot(agentIndex: Int32Array): Float32Array | undefined {
    const c = this.config;
    if (c.sharing !== 'independent' && !c.agentId) return undefined;
    const n = c.maxAgents as number;
    const out = new Float32Array(agentIndex.length * n);
    for (let i = 0; i < agentIndex.length; i++) {
      const a = agentIndex[i];
      if (!Number.isInteger(a) || a < 0 || a >= n)
        throw new Error(`ActorCritic: agent index ${a} out of range [0, ${n}) (raise policy config maxAgents)`);
      out[i * n + a] = 1;
    }
    return out;
  }

  private unshared(agents: tf.Tensor2D | undefined): tf.Tensor2D | undefined {
    return this.config.sharing === 'independent' ? agents : undefined;
  }

  private mlp(prefix: string, x: tf.Tensor2D, agents: tf.Tensor2D | undefined): tf.Tensor2D {
    const act = this.config.activation === 'tanh' ? tf.tanh : tf.relu;
    let h = x;
    for (let i = 0; i < this.config.hiddenSizes.length; i++) {
      h = act(
        dense(h, this.params.get(`${prefix}/fc${i}/w`), this.params.get(`${prefix}/fc${i}/b`), this.unshared(agents)),
      );
    }
    return h;
  }

  private gruWeights(prefix: string): GruWeights {
    return {
      wih: this.params.get(`${prefix}/gru/wih`),
      whh: this.params.get(`${prefix}/gru/whh`),
      bih: this.params.get(`${prefix}/gru/bih`),
      bhh: this.params.get(`${prefix}/gru/bhh`),
    };
  }

  private torsoStep(prefix: string, x: tf.Tensor2D, h: tf.Tensor2D | undefined, agents: tf.Tensor2D | undefined) {
    const f = this.mlp(prefix, x, agents);
    if (this.config.torso !== 'gru') return { features: f, hidden: undefined };
    const h1 = gruCell(f, h as tf.Tensor2D, this.gruWeights(prefix), this.unshared(agents));
    return { features: h1, hidden: h1 };
  }

  private torsoSequence(
    prefix: string,
    x: tf.Tensor2D,
    chunks: number,
    length: number,
    h0: Float32Array | undefined,
    agentsRows: tf.Tensor2D | undefined,
    agentsChunks: tf.Tensor2D | undefined,
  ): tf.Tensor2D {
    const f = this.mlp(prefix, x, agentsRows);
    if (this.config.torso !== 'gru') return f;
    const hs = this.config.gruSize;
    const w = this.gruWeights(prefix);
    const hInit = h0 ?? new Float32Array(chunks * hs);
    this.checkLength(`${prefix}Hidden`, hInit.length, chunks * hs);
    // Input projections for every step at once, then the recurrence step by step.
    // Time-major [L, C, 3H], split by gate, then contiguous per-step slices.
    const giAll = tf.transpose(
      tf.reshape(dense(f, w.wih, w.bih, this.unshared(agentsRows)), [chunks, length, 3 * hs]),
      [1, 0, 2],
    );
    const [gr, gz, gn] = tf.split(giAll, [hs, hs, hs], 2).map((g) => tf.unstack(g, 0) as tf.Tensor2D[]);
    let h = tf.tensor2d(hInit, [chunks, hs]);
    const outs: tf.Tensor2D[] = [];
    for (let t = 0; t < length; t++) {
      h = gruCell(null, h, w, this.unshared(agentsChunks), { r: gr[t], z: gz[t], n: gn[t] });
      outs.push(h);
    }
    return tf.reshape(tf.stack(outs, 1), [chunks * length, hs]) as tf.Tensor2D;
  }

  private head(prefix: string, x: tf.Tensor2D, agents: tf.Tensor2D | undefined): tf.Tensor2D {
    return dense(x, this.params.get(`${prefix}/head/w`), this.params.get(`${prefix}/head/b`), this.unshared(agents));
  }

  private logProbs(logits: tf.Tensor2D, masks: tf.Tensor2D | undefined): tf.Tensor2D {
    const l = masks ? tf.add(logits, tf.mul(tf.sub(masks, 1), 1e9)) : logits;
    return tf.logSoftmax(l) as tf.Tensor2D;
  }

  private checkLength(field: string, actual: number, expected: number): void {
    if (actual !== expected) throw new Error(`ActorCritic: ${field} has length ${actual}, expected ${expected}`);
  }

  /** Number of scalar parameters. */
  parameterCount(): number {
    return this.params.size();
  }

  /** Frees all variables. */
  dispose(): void {
    this.params.dispose();
  }
}

/** Zero-filled {@link PolicyStepOutput} buffers for `rows` agent rows. */
export function emptyStepOutput(
  rows: number,
  numActions: number,
  actorHidden: number,
  criticHidden: number,
): PolicyStepOutput {
  return {
    logProbs: new Float32Array(rows * numActions),
    values: new Float32Array(rows),
    actorHidden: new Float32Array(rows * actorHidden),
    criticHidden: new Float32Array(rows * criticHidden),
  };
}
