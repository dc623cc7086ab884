import prand from 'pure-rand';

/**
 * Seeded pseudo-random numbers for everything the library samples in JavaScript: weight init,
 * data order, task sampling, action sampling. One integer seed controls a whole experiment;
 * independent streams are derived with {@link Rng.fork} from a *key* (never from call order), so
 * adding a consumer or running jobs in another order does not change any other stream.
 *
 * @example
 * ```ts
 * const root = new Rng(42);
 * const dataRng = root.fork('data');
 * const perm = dataRng.permutation(10);
 * ```
 */
export class Rng {
  private gen: prand.RandomGenerator;
  /** The 32-bit seed this stream was created from. */
  readonly seed: number;
  private spareNormal: number | undefined;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`Rng: seed must be a finite number, got ${seed}`);
    this.seed = seed >>> 0;
    this.gen = prand.xoroshiro128plus(this.seed);
  }

  /**
   * Snapshot of the stream's position (for checkpoints); {@link Rng.setState} restores it exactly.
   *
   * @example
   * ```ts
   * const r = new Rng(1);
   * const s = r.getState();
   * const a = r.next();
   * r.setState(s);
   * r.next() === a; // true
   * ```
   */
  getState(): RngState {
    const gen = this.gen.getState?.();
    if (!gen) throw new Error('Rng.getState: generator does not expose its state');
    return { seed: this.seed, gen: Array.from(gen), spareNormal: this.spareNormal ?? null };
  }

  /** Restores a position captured by {@link Rng.getState} (the seed must match this stream's). */
  setState(state: RngState): void {
    if (!state || !Array.isArray(state.gen) || state.gen.length !== 4 || !state.gen.every((v) => Number.isInteger(v))) {
      throw new Error('Rng.setState: state.gen must be 4 integers (xoroshiro128+ state)');
    }
    if (state.seed >>> 0 !== this.seed)
      throw new Error(`Rng.setState: state is for seed ${state.seed}, this stream has seed ${this.seed}`);
    this.gen = prand.xoroshiro128plus.fromState(state.gen);
    this.spareNormal = state.spareNormal ?? undefined;
  }

  /** Derives an independent stream named by `key` (stable across runs and processes). */
  fork(key: string | number): Rng {
    return new Rng(deriveSeed(this.seed, key));
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const [v, g] = prand.uniformIntDistribution(0, 0xffffffff, this.gen);
    this.gen = g;
    return v >>> 0;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new Error(`Rng.int: n must be a positive integer, got ${n}`);
    const [v, g] = prand.uniformIntDistribution(0, n - 1, this.gen);
    this.gen = g;
    return v;
  }

  /** Uniform float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Log-uniform float in [lo, hi), both > 0. */
  logUniform(lo: number, hi: number): number {
    if (!(lo > 0 && hi > 0)) throw new Error(`Rng.logUniform: bounds must be > 0, got [${lo}, ${hi})`);
    return Math.exp(this.uniform(Math.log(lo), Math.log(hi)));
  }

  /** Standard normal sample (Marsaglia polar method). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== undefined) {
      const s = this.spareNormal;
      this.spareNormal = undefined;
      return mean + std * s;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.next() - 1;
      v = 2 * this.next() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * m;
    return mean + std * u * m;
  }

  /** Samples an index from unnormalised non-negative weights. */
  categorical(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) total += weights[i];
    if (!(total > 0) || !Number.isFinite(total))
      throw new Error('Rng.categorical: weights must be finite, non-negative and not all zero');
    let r = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i];
      if (r < 0) return i;
    }
    return weights.length - 1;
  }

  /** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    this.shuffleInPlace(p);
    return p;
  }

  /** Shuffles an array in place and returns it. */
  shuffleInPlace<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** Fills a Float32Array with N(mean, std^2) samples. */
  normalArray(n: number, mean = 0, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal(mean, std);
    return out;
  }

  /** Fills a Float32Array with U[lo, hi) samples. */
  uniformArray(n: number, lo: number, hi: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uniform(lo, hi);
    return out;
  }
}

/** Serialisable position of an {@link Rng} stream (JSON-safe). */
export interface RngState {
  seed: number;
  gen: number[];
  spareNormal: number | null;
}

/** Stable 32-bit seed for `key` under `parent` (FNV-1a over the key, mixed with the parent). */
export function deriveSeed(parent: number, key: string | number): number {
  const text = `${parent >>> 0}/${typeof key === 'number' ? `#${key}` : key}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // murmur3 finaliser for avalanche
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
