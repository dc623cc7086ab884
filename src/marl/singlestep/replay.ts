import type { Rng } from '../../random';

/** Serialisable replay contents. */
export interface ReplayState {
  capacity: number;
  size: number;
  next: number;
  tokens: number[];
  rewards: number[];
  agentRewards: number[];
}

/**
 * FIFO replay buffer of single-step joint actions (flat token indices), team rewards and optional
 * per-agent rewards (NaN when absent).
 *
 * @example
 * ```ts
 * const buf = new ReplayBuffer(1000, numTokens, numAgents);
 * buf.add(tokens, 0.7);
 * const idx = buf.sample(64, rng);
 * ```
 */
export class ReplayBuffer {
  readonly tokens: Int32Array;
  readonly rewards: Float32Array;
  readonly agentRewards: Float32Array;
  size = 0;
  private next = 0;

  constructor(
    readonly capacity: number,
    readonly numTokens: number,
    readonly numAgents: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new Error(`ReplayBuffer: capacity must be a positive integer, got ${capacity}`);
    this.tokens = new Int32Array(capacity * numTokens);
    this.rewards = new Float32Array(capacity);
    this.agentRewards = new Float32Array(capacity * numAgents).fill(NaN);
  }

  /** Appends one transition (overwrites the oldest when full). */
  add(tokens: ArrayLike<number>, reward: number, agentRewards?: ArrayLike<number>): void {
    const i = this.next;
    for (let t = 0; t < this.numTokens; t++) this.tokens[i * this.numTokens + t] = tokens[t];
    this.rewards[i] = reward;
    for (let a = 0; a < this.numAgents; a++)
      this.agentRewards[i * this.numAgents + a] = agentRewards ? agentRewards[a] : NaN;
    this.next = (i + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  /** `n` indices drawn uniformly with replacement. */
  sample(n: number, rng: Rng): Int32Array {
    if (this.size === 0) throw new Error('ReplayBuffer.sample: buffer is empty');
    const out = new Int32Array(n);
    for (let k = 0; k < n; k++) out[k] = rng.int(this.size);
    return out;
  }

  /** Indices of the `k` most recent transitions (at most `size`), oldest first. */
  recent(k: number): Int32Array {
    const m = Math.min(Math.max(0, Math.floor(k)), this.size);
    const out = new Int32Array(m);
    for (let j = 0; j < m; j++) out[j] = (this.next - m + j + this.capacity) % this.capacity;
    return out;
  }

  getState(): ReplayState {
    return {
      capacity: this.capacity,
      size: this.size,
      next: this.next,
      tokens: Array.from(this.tokens.subarray(0, this.size * this.numTokens)),
      rewards: Array.from(this.rewards.subarray(0, this.size)),
      agentRewards: Array.from(this.agentRewards.subarray(0, this.size * this.numAgents), (x) =>
        Number.isNaN(x) ? null : x,
      ) as number[],
    };
  }

  setState(s: ReplayState): void {
    if (!s || s.capacity !== this.capacity)
      throw new Error(`replay state: capacity ${s?.capacity} does not match ${this.capacity}`);
    if (!Number.isInteger(s.size) || s.size < 0 || s.size > this.capacity)
      throw new Error(`replay state: size ${s.size} out of range`);
    if (
      s.tokens.length !== s.size * this.numTokens ||
      s.rewards.length !== s.size ||
      s.agentRewards.length !== s.size * this.numAgents
    ) {
      throw new Error('replay state: tokens/rewards/agentRewards lengths do not match size');
    }
    this.tokens.fill(0);
    this.tokens.set(s.tokens);
    this.rewards.fill(0);
    this.rewards.set(s.rewards);
    this.agentRewards.fill(NaN);
    s.agentRewards.forEach((x, i) => (this.agentRewards[i] = x === null ? NaN : x));
    this.size = s.size;
    this.next = s.next;
  }
}
