import { z, parseConfig } from '../config';
import {
  GroupsInput,
  ParamGroups,
  Schedule,
  ScheduleState,
  checkState,
  decodeNum,
  encodeNum,
  stateArray,
  toGroups,
} from './core';

/** Config of {@link ReduceLROnPlateau} (PyTorch names in camelCase, same defaults). */
export interface ReduceLROnPlateauConfig {
  /** 'min' (default): reduce when the metric stops decreasing; 'max': when it stops increasing. */
  mode?: 'min' | 'max';
  /** new LR = LR * factor, factor < 1 (default 0.1). */
  factor?: number;
  /** Bad epochs tolerated before reducing (default 10). */
  patience?: number;
  /** Improvement threshold (default 1e-4). */
  threshold?: number;
  /** 'rel' (default): best * (1 ∓ threshold); 'abs': best ∓ threshold. */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting bad epochs again (default 0). */
  cooldown?: number;
  /** Lower bound on the LR, one value or one per group (default 0). */
  minLr?: number | number[];
  /** Reductions smaller than eps are skipped (default 1e-8). */
  eps?: number;
}

const Schema = z
  .object({
    mode: z.enum(['min', 'max']).default('min'),
    factor: z.number().nonnegative().lt(1, 'factor should be < 1.0').default(0.1),
    patience: z.number().int().nonnegative().default(10),
    threshold: z.number().finite().nonnegative().default(1e-4),
    thresholdMode: z.enum(['rel', 'abs']).default('rel'),
    cooldown: z.number().int().nonnegative().default(0),
    minLr: z.union([z.number().finite().nonnegative(), z.array(z.number().finite().nonnegative()).min(1)]).default(0),
    eps: z.number().finite().nonnegative().default(1e-8),
  })
  .strict();

/**
 * PyTorch `ReduceLROnPlateau`: multiplies each group's LR by `factor` (not below its `minLr`) when the
 * monitored metric has not improved by more than `threshold` for more than `patience` calls to
 * `step(metric)`; then waits `cooldown` epochs. A reduction smaller than `eps` is skipped. A NaN
 * metric counts as no improvement.
 *
 * @example
 * ```ts
 * const s = new ReduceLROnPlateau([0.1, 0.05], { mode: 'max', patience: 2, factor: 0.5 });
 * for (const valAcc of [0.5, 0.6, 0.6, 0.6, 0.6]) s.step(valAcc); // the 5th call halves both LRs
 * ```
 */
export class ReduceLROnPlateau implements Schedule {
  readonly kind = 'ReduceLROnPlateau';
  readonly groups: ParamGroups;
  readonly config: Omit<Required<ReduceLROnPlateauConfig>, 'minLr'>;
  readonly minLrs: number[];
  /** Best metric so far (±Infinity before the first step). */
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;

  constructor(groups: GroupsInput, config: ReduceLROnPlateauConfig = {}) {
    this.groups = toGroups(groups);
    const c = parseConfig(Schema, config, 'ReduceLROnPlateau config');
    const n = this.groups.size;
    if (Array.isArray(c.minLr) && c.minLr.length !== n) {
      throw new Error(
        `ReduceLROnPlateau config: minLr: expected ${n} values (one per param group), got ${c.minLr.length}`,
      );
    }
    this.minLrs = Array.isArray(c.minLr) ? [...c.minLr] : new Array<number>(n).fill(c.minLr);
    const { minLr: _unused, ...rest } = c;
    this.config = rest;
    this.best = this.modeWorse();
  }

  private modeWorse(): number {
    return this.config.mode === 'min' ? Infinity : -Infinity;
  }

  /** Whether `a` improves on `best` under the mode and threshold (PyTorch `is_better`). */
  isBetter(a: number, best: number): boolean {
    const { mode, threshold, thresholdMode } = this.config;
    if (mode === 'min' && thresholdMode === 'rel') return a < best * (1 - threshold);
    if (mode === 'min') return a < best - threshold;
    if (thresholdMode === 'rel') return a > best * (threshold + 1);
    return a > best + threshold;
  }

  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  get lastLr(): number[] {
    return [...this.groups.lr];
  }

  get momentum(): number[] | undefined {
    return undefined;
  }

  getLr(): number[] {
    return this.lastLr;
  }

  /** Records the epoch's metric and reduces the LRs if it has plateaued; returns the LRs. */
  step(metric?: number): number[] {
    if (typeof metric !== 'number')
      throw new Error(
        `ReduceLROnPlateau.step: metric must be a number (the monitored quantity), got ${String(metric)}`,
      );
    this.lastEpoch += 1;
    if (this.isBetter(metric, this.best)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.inCooldown) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.config.patience) {
      this.reduceLr();
      this.cooldownCounter = this.config.cooldown;
      this.numBadEpochs = 0;
    }
    return this.lastLr;
  }

  private reduceLr(): void {
    const lr = this.groups.lr;
    for (let i = 0; i < lr.length; i++) {
      const oldLr = lr[i];
      const newLr = Math.max(oldLr * this.config.factor, this.minLrs[i]);
      if (oldLr - newLr > this.config.eps) lr[i] = newLr;
    }
  }

  stateDict(): ScheduleState {
    return {
      kind: this.kind,
      best: encodeNum(this.best),
      numBadEpochs: this.numBadEpochs,
      cooldownCounter: this.cooldownCounter,
      lastEpoch: this.lastEpoch,
      lr: [...this.groups.lr],
    };
  }

  loadStateDict(state: ScheduleState): void {
    const s = checkState(state, this.kind);
    const lr = stateArray(s, 'lr', this.groups.size, this.kind);
    for (const f of ['numBadEpochs', 'cooldownCounter', 'lastEpoch']) {
      if (!Number.isInteger(s[f]))
        throw new Error(`ReduceLROnPlateau.loadStateDict: '${f}' must be an integer, got ${JSON.stringify(s[f])}`);
    }
    this.best = decodeNum(s.best, 'best');
    this.numBadEpochs = s.numBadEpochs as number;
    this.cooldownCounter = s.cooldownCounter as number;
    this.lastEpoch = s.lastEpoch as number;
    lr.forEach((v, i) => (this.groups.lr[i] = v));
  }
}
