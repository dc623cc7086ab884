import { z, parseConfig } from '../config';
import { GroupsInput, LRScheduler, ParamGroups, ScheduleState, checkState, pyMod, stateArray, toGroups } from './core';

const posInt = z.number().int().positive();

/**
 * Constant learning rate (no scheduler): every group keeps its base LR.
 *
 * @example
 * ```ts
 * const s = new ConstantSchedule([0.1, 0.05]);
 * s.step(); s.lastLr; // [0.1, 0.05]
 * ```
 */
export class ConstantSchedule extends LRScheduler {
  constructor(groups: GroupsInput) {
    super(groups, 'ConstantSchedule');
    this.initialStep();
  }

  protected computeLr(): number[] {
    return [...this.groups.lr];
  }

  protected override closedFormLr(): number[] {
    return [...this.baseLrs];
  }
}

/** Config of {@link StepLR}. */
export interface StepLRConfig {
  /** Period of decay in epochs (> 0). */
  stepSize: number;
  /** Multiplicative decay factor (default 0.1). */
  gamma?: number;
}
const StepLRSchema = z.object({ stepSize: posInt, gamma: z.number().finite().default(0.1) }).strict();

/**
 * PyTorch `StepLR`: multiplies the LR by `gamma` every `stepSize` epochs.
 *
 * @example
 * ```ts
 * const s = new StepLR(0.1, { stepSize: 2, gamma: 0.5 });
 * [s.lastLr[0], s.step()[0], s.step()[0]]; // [0.1, 0.1, 0.05]
 * ```
 */
export class StepLR extends LRScheduler {
  readonly config: Required<StepLRConfig>;

  constructor(groups: GroupsInput, config: StepLRConfig) {
    super(groups, 'StepLR');
    this.config = parseConfig(StepLRSchema, config, 'StepLR config');
    this.initialStep();
  }

  protected computeLr(): number[] {
    const { stepSize, gamma } = this.config;
    if (this.lastEpoch === 0 || this.lastEpoch % stepSize !== 0) return [...this.groups.lr];
    return this.groups.lr.map((lr) => lr * gamma);
  }

  protected override closedFormLr(): number[] {
    const { stepSize, gamma } = this.config;
    return this.baseLrs.map((b) => b * gamma ** Math.floor(this.lastEpoch / stepSize));
  }
}

/** Config of {@link MultiStepLR}. */
export interface MultiStepLRConfig {
  /** Epochs at which to decay; repeats decay several times at once (PyTorch uses a Counter). */
  milestones: number[];
  /** Multiplicative decay factor (default 0.1). */
  gamma?: number;
}
const MultiStepSchema = z
  .object({ milestones: z.array(z.number().int().nonnegative()), gamma: z.number().finite().default(0.1) })
  .strict();

/**
 * PyTorch `MultiStepLR`: multiplies the LR by `gamma^k` at an epoch listed `k` times in `milestones`.
 *
 * @example
 * ```ts
 * const s = new MultiStepLR(1, { milestones: [2, 2], gamma: 0.5 });
 * s.step(); s.step(); // epoch 2: 1 * 0.5^2 = 0.25
 * ```
 */
export class MultiStepLR extends LRScheduler {
  readonly config: Required<MultiStepLRConfig>;
  private readonly counts = new Map<number, number>();

  constructor(groups: GroupsInput, config: MultiStepLRConfig) {
    super(groups, 'MultiStepLR');
    this.config = parseConfig(MultiStepSchema, config, 'MultiStepLR config');
    for (const m of this.config.milestones) this.counts.set(m, (this.counts.get(m) ?? 0) + 1);
    this.initialStep();
  }

  protected computeLr(): number[] {
    const k = this.counts.get(this.lastEpoch);
    if (k === undefined) return [...this.groups.lr];
    return this.groups.lr.map((lr) => lr * this.config.gamma ** k);
  }

  protected override closedFormLr(): number[] {
    let k = 0;
    for (const m of this.config.milestones) if (m <= this.lastEpoch) k++;
    return this.baseLrs.map((b) => b * this.config.gamma ** k);
  }
}

/** Config of {@link ExponentialLR}. */
export interface ExponentialLRConfig {
  /** Multiplicative factor per epoch. */
  gamma: number;
}
const ExponentialSchema = z.object({ gamma: z.number().finite().nonnegative() }).strict();

/**
 * PyTorch `ExponentialLR`: multiplies the LR by `gamma` every epoch.
 *
 * @example
 * ```ts
 * const s = new ExponentialLR(0.1, { gamma: 0.9 });
 * s.step(); // [0.09]
 * ```
 */
export class ExponentialLR extends LRScheduler {
  readonly config: ExponentialLRConfig;

  constructor(groups: GroupsInput, config: ExponentialLRConfig) {
    super(groups, 'ExponentialLR');
    this.config = parseConfig(ExponentialSchema, config, 'ExponentialLR config');
    this.initialStep();
  }

  protected computeLr(): number[] {
    if (this.lastEpoch === 0) return [...this.groups.lr];
    return this.groups.lr.map((lr) => lr * this.config.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.config.gamma ** this.lastEpoch);
  }
}

/** Config of {@link ConstantLR}. */
export interface ConstantLRConfig {
  /** Factor in [0, 1] applied until `totalIters` (default 1/3). */
  factor?: number;
  /** Epochs with the reduced LR (default 5). */
  totalIters?: number;
}
const ConstantLRSchema = z
  .object({
    factor: z
      .number()
      .gt(0)
      .max(1)
      .default(1 / 3),
    totalIters: z.number().int().nonnegative().default(5),
  })
  .strict();

/**
 * PyTorch `ConstantLR`: LR times `factor` for the first `totalIters` epochs, then the base LR.
 *
 * @example
 * ```ts
 * const s = new ConstantLR(0.1, { factor: 0.5, totalIters: 2 }); // 0.05, 0.05, 0.1, 0.1, ...
 * ```
 */
export class ConstantLR extends LRScheduler {
  readonly config: Required<ConstantLRConfig>;

  constructor(groups: GroupsInput, config: ConstantLRConfig = {}) {
    super(groups, 'ConstantLR');
    this.config = parseConfig(ConstantLRSchema, config, 'ConstantLR config');
    this.initialStep();
  }

  protected computeLr(): number[] {
    const { factor, totalIters } = this.config;
    if (this.lastEpoch === 0) return this.groups.lr.map((lr) => lr * factor);
    if (this.lastEpoch !== totalIters) return [...this.groups.lr];
    return this.groups.lr.map((lr) => lr * (1.0 / factor));
  }

  protected override closedFormLr(): number[] {
    const { factor, totalIters } = this.config;
    return this.baseLrs.map((b) => b * (factor + (this.lastEpoch >= totalIters ? 1 : 0) * (1 - factor)));
  }
}

/** Config of {@link LinearLR}. */
export interface LinearLRConfig {
  /** Factor at epoch 0, in (0, 1] (default 1/3). */
  startFactor?: number;
  /** Factor from epoch `totalIters` on, in [0, 1] (default 1). */
  endFactor?: number;
  /** Epochs of the linear ramp (default 5). */
  totalIters?: number;
}
const LinearLRSchema = z
  .object({
    startFactor: z
      .number()
      .gt(0)
      .max(1)
      .default(1 / 3),
    endFactor: z.number().min(0).max(1).default(1),
    totalIters: posInt.default(5),
  })
  .strict();

/**
 * PyTorch `LinearLR`: the LR factor moves linearly from `startFactor` to `endFactor` over
 * `totalIters` epochs (a linear warm-up when `endFactor = 1`).
 *
 * @example
 * ```ts
 * const s = new LinearLR(0.1, { startFactor: 0.1, totalIters: 4 }); // 0.01, 0.0325, 0.055, 0.0775, 0.1, 0.1, ...
 * ```
 */
export class LinearLR extends LRScheduler {
  readonly config: Required<LinearLRConfig>;

  constructor(groups: GroupsInput, config: LinearLRConfig = {}) {
    super(groups, 'LinearLR');
    this.config = parseConfig(LinearLRSchema, config, 'LinearLR config');
    this.initialStep();
  }

  protected computeLr(): number[] {
    const { startFactor: s, endFactor: e, totalIters: n } = this.config;
    if (this.lastEpoch === 0) return this.groups.lr.map((lr) => lr * s);
    if (this.lastEpoch > n) return [...this.groups.lr];
    return this.groups.lr.map((lr) => lr * (1 + (e - s) / (n * s + (this.lastEpoch - 1) * (e - s))));
  }

  protected override closedFormLr(): number[] {
    const { startFactor: s, endFactor: e, totalIters: n } = this.config;
    return this.baseLrs.map((b) => b * (s + ((e - s) * Math.min(n, this.lastEpoch)) / n));
  }
}

/** Config of {@link CosineAnnealingLR}. */
export interface CosineAnnealingLRConfig {
  /** Half-period in epochs (> 0). */
  tMax: number;
  /** Minimum LR (default 0). */
  etaMin?: number;
}
const CosineSchema = z.object({ tMax: posInt, etaMin: z.number().finite().nonnegative().default(0) }).strict();

/**
 * PyTorch `CosineAnnealingLR` in its chainable form: cosine from the base LR down to `etaMin` over
 * `tMax` epochs; past `tMax` it keeps following the cosine back up (period `2 tMax`), exactly as
 * PyTorch does, including the special case at `T_cur = (2k+1) tMax`.
 *
 * @example
 * ```ts
 * const s = new CosineAnnealingLR([0.1, 0.01], { tMax: 10, etaMin: 0.001 });
 * for (let i = 0; i < 10; i++) s.step();
 * s.lastLr; // [0.001, 0.001]
 * ```
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly config: Required<CosineAnnealingLRConfig>;

  constructor(groups: GroupsInput, config: CosineAnnealingLRConfig) {
    super(groups, 'CosineAnnealingLR');
    this.config = parseConfig(CosineSchema, config, 'CosineAnnealingLR config');
    this.initialStep();
  }

  protected computeLr(): number[] {
    const { tMax, etaMin } = this.config;
    const e = this.lastEpoch;
    if (e === 0) return [...this.groups.lr];
    if (this.stepCount === 1 && e > 0) {
      return this.baseLrs.map((b) => etaMin + ((b - etaMin) * (1 + Math.cos((e * Math.PI) / tMax))) / 2);
    }
    if (pyMod(e - 1 - tMax, 2 * tMax) === 0) {
      return this.groups.lr.map((lr, i) => lr + ((this.baseLrs[i] - etaMin) * (1 - Math.cos(Math.PI / tMax))) / 2);
    }
    return this.groups.lr.map(
      (lr) =>
        ((1 + Math.cos((Math.PI * e) / tMax)) / (1 + Math.cos((Math.PI * (e - 1)) / tMax))) * (lr - etaMin) + etaMin,
    );
  }

  protected override closedFormLr(): number[] {
    const { tMax, etaMin } = this.config;
    return this.baseLrs.map((b) => etaMin + ((b - etaMin) * (1 + Math.cos((Math.PI * this.lastEpoch) / tMax))) / 2);
  }
}

function bisectRight(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x < a[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * PyTorch `SequentialLR`: runs `schedulers[0]` until `milestones[0]`, then `schedulers[1]` (restarted
 * at its epoch 0 through its closed form), and so on. All schedulers must share the same
 * {@link ParamGroups}. See {@link warmupCosine} for the usual warm-up-then-cosine composition.
 *
 * @example
 * ```ts
 * const g = new ParamGroups([0.1]);
 * const s = new SequentialLR(g, [new LinearLR(g, { startFactor: 0.1, totalIters: 5 }), new CosineAnnealingLR(g, { tMax: 95 })], [5]);
 * ```
 */
export class SequentialLR extends LRScheduler {
  readonly schedulers: LRScheduler[];
  readonly milestones: number[];

  constructor(groups: ParamGroups, schedulers: LRScheduler[], milestones: number[]) {
    super(groups, 'SequentialLR');
    if (!Array.isArray(schedulers) || schedulers.length === 0)
      throw new Error('SequentialLR: schedulers must be a non-empty array');
    schedulers.forEach((s, i) => {
      if (!(s instanceof LRScheduler))
        throw new Error(`SequentialLR: schedulers[${i}] is not an LRScheduler (ReduceLROnPlateau cannot be sequenced)`);
      if (s.groups !== groups)
        throw new Error(
          `SequentialLR: schedulers[${i}] drives different ParamGroups; construct every scheduler on the same groups object`,
        );
    });
    if (!Array.isArray(milestones) || milestones.length !== schedulers.length - 1) {
      throw new Error(
        `SequentialLR: expected ${schedulers.length - 1} milestones (one fewer than schedulers), got ${JSON.stringify(milestones)}`,
      );
    }
    milestones.forEach((m, i) => {
      if (!Number.isInteger(m) || m < 0 || (i > 0 && m < milestones[i - 1])) {
        throw new Error(
          `SequentialLR: milestones must be non-decreasing non-negative integers, got ${JSON.stringify(milestones)}`,
        );
      }
    });
    this.schedulers = schedulers;
    this.milestones = [...milestones];
    // PyTorch: last_epoch = -1 + 1; reset LRs to initial_lr; undo the sub-schedulers' initial steps;
    // redo the initial step of the first one only.
    this.lastEpoch = 0;
    const init = groups.initialLr ?? groups.lr;
    init.forEach((v, i) => (groups.lr[i] = v));
    for (const s of schedulers) s.lastEpoch -= 1;
    schedulers[0].initialStep();
    this.syncLast();
  }

  private syncLast(): void {
    // PyTorch: self._last_lr = scheduler.get_last_lr()
    this.last = this.groups.lr.slice();
  }

  protected computeLr(): number[] {
    return [...this.groups.lr];
  }

  override step(): number[] {
    this.lastEpoch++;
    const idx = bisectRight(this.milestones, this.lastEpoch);
    const s = this.schedulers[idx];
    if (idx > 0 && this.milestones[idx - 1] === this.lastEpoch) s.stepToEpoch(0);
    else s.step();
    this.syncLast();
    return this.lastLr;
  }

  override stepToEpoch(_epoch: number): number[] {
    throw new Error('SequentialLR.stepToEpoch: SequentialLR has no closed form; nest it only as the last scheduler');
  }

  override stateDict(): ScheduleState {
    return {
      kind: this.kind,
      lastEpoch: this.lastEpoch,
      lr: [...this.groups.lr],
      schedulers: this.schedulers.map((s) => s.stateDict()),
    };
  }

  override loadStateDict(state: ScheduleState): void {
    const s = checkState(state, this.kind);
    const subs = s.schedulers;
    if (!Array.isArray(subs) || subs.length !== this.schedulers.length) {
      throw new Error(
        `SequentialLR.loadStateDict: expected ${this.schedulers.length} scheduler states, got ${Array.isArray(subs) ? subs.length : typeof subs}`,
      );
    }
    if (!Number.isInteger(s.lastEpoch)) throw new Error('SequentialLR.loadStateDict: lastEpoch must be an integer');
    const lr = stateArray(s, 'lr', this.groups.size, this.kind);
    subs.forEach((sub, i) => this.schedulers[i].loadStateDict(sub as ScheduleState));
    this.lastEpoch = s.lastEpoch as number;
    lr.forEach((v, i) => (this.groups.lr[i] = v));
    this.syncLast();
  }
}

/** Config of {@link warmupCosine}. */
export interface WarmupCosineConfig {
  /** Epochs of linear warm-up (the SequentialLR milestone, > 0). */
  warmupSteps: number;
  /** LinearLR start factor in (0, 1]. */
  startFactor: number;
  /** LinearLR end factor (default 1). */
  endFactor?: number;
  /** CosineAnnealingLR half-period after warm-up. */
  tMax: number;
  /** Minimum LR of the cosine (default 0). */
  etaMin?: number;
}
const WarmupCosineSchema = z
  .object({
    warmupSteps: posInt,
    startFactor: z.number().gt(0).max(1),
    endFactor: z.number().min(0).max(1).default(1),
    tMax: posInt,
    etaMin: z.number().finite().nonnegative().default(0),
  })
  .strict();

/**
 * Linear warm-up then cosine annealing, exactly
 * `SequentialLR(opt, [LinearLR(opt, startFactor, endFactor, total_iters=warmupSteps), CosineAnnealingLR(opt, tMax, etaMin)], milestones=[warmupSteps])`.
 *
 * @example
 * ```ts
 * const s = warmupCosine([0.1, 0.05], { warmupSteps: 5, startFactor: 0.1, tMax: 45 });
 * ```
 */
export function warmupCosine(groups: GroupsInput, config: WarmupCosineConfig): SequentialLR {
  const c = parseConfig(WarmupCosineSchema, config, 'warmupCosine config');
  const g = toGroups(groups);
  const warm = new LinearLR(g, { startFactor: c.startFactor, endFactor: c.endFactor, totalIters: c.warmupSteps });
  const cos = new CosineAnnealingLR(g, { tMax: c.tMax, etaMin: c.etaMin });
  return new SequentialLR(g, [warm, cos], [c.warmupSteps]);
}

/** Config of {@link OneCycleLR} (PyTorch names in camelCase). */
export interface OneCycleLRConfig {
  /** Peak LR, one value or one per group. */
  maxLr: number | number[];
  /** Total steps in the cycle; or give `epochs` and `stepsPerEpoch`. */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent increasing the LR (default 0.3). */
  pctStart?: number;
  /** 'cos' (default) or 'linear'. */
  annealStrategy?: 'cos' | 'linear';
  /** Cycle momentum (SGD momentum or Adam beta1) inversely to the LR (default true). */
  cycleMomentum?: boolean;
  /** Momentum at the LR peak (default 0.85), one value or per group. */
  baseMomentum?: number | number[];
  /** Momentum at the start and end (default 0.95), one value or per group. */
  maxMomentum?: number | number[];
  /** initial LR = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** min LR = initial LR / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** Three phases (up, down to initial, annihilate) as in Smith's paper (default false). */
  threePhase?: boolean;
}
const numOrList = z.union([z.number().finite(), z.array(z.number().finite()).min(1)]);
const OneCycleSchema = z
  .object({
    maxLr: numOrList,
    totalSteps: posInt.optional(),
    epochs: posInt.optional(),
    stepsPerEpoch: posInt.optional(),
    pctStart: z.number().min(0).max(1).default(0.3),
    annealStrategy: z.enum(['cos', 'linear']).default('cos'),
    cycleMomentum: z.boolean().default(true),
    baseMomentum: numOrList.default(0.85),
    maxMomentum: numOrList.default(0.95),
    divFactor: z.number().positive().finite().default(25),
    finalDivFactor: z.number().positive().finite().default(1e4),
    threePhase: z.boolean().default(false),
  })
  .strict()
  .refine((c) => c.totalSteps !== undefined || (c.epochs !== undefined && c.stepsPerEpoch !== undefined), {
    message: 'define either totalSteps or both epochs and stepsPerEpoch',
    path: ['totalSteps'],
  });

type Phase = {
  endStep: number;
  startLr: 'initial' | 'max' | 'min';
  endLr: 'initial' | 'max' | 'min';
  startMom: 'max' | 'base';
  endMom: 'max' | 'base';
};

/**
 * PyTorch `OneCycleLR` (per batch): LR rises from `maxLr/divFactor` to `maxLr` over `pctStart` of
 * the cycle, then anneals to `maxLr/divFactor/finalDivFactor` (two phases, fastai style) or, with
 * `threePhase`, back to the initial LR and then down to the minimum. Momentum (SGD) or beta1 (Adam)
 * cycles inversely between `maxMomentum` and `baseMomentum` and is exposed as `momentum`.
 * Not chainable. Like PyTorch, stepping past `totalSteps` throws, and so does a configuration whose
 * phase boundaries coincide (PyTorch: ZeroDivisionError), with a message naming totalSteps and pctStart.
 *
 * @example
 * ```ts
 * const s = new OneCycleLR(1, { maxLr: 0.1, totalSteps: 1000 });
 * for (let b = 0; b < 1000; b++) { trainBatch(s.lastLr[0], s.momentum![0]); if (b < 999) s.step(); }
 * ```
 */
export class OneCycleLR extends LRScheduler {
  readonly totalSteps: number;
  readonly config: z.output<typeof OneCycleSchema>;
  private readonly phases: Phase[];
  private readonly lrs: { initial: number[]; max: number[]; min: number[] };
  private readonly moms: { max: number[]; base: number[] } | undefined;
  private mom: number[] | undefined;

  /** @param groups number of groups (a count), their LRs (ignored: OneCycle sets its own), or shared groups */
  constructor(groups: GroupsInput, config: OneCycleLRConfig) {
    const g =
      typeof groups === 'number'
        ? new ParamGroups(new Array<number>(Math.max(1, Math.floor(groups))).fill(0))
        : toGroups(groups);
    if (typeof groups === 'number' && (!Number.isInteger(groups) || groups < 1))
      throw new Error(`OneCycleLR: group count must be a positive integer, got ${groups}`);
    const c = parseConfig(OneCycleSchema, config, 'OneCycleLR config');
    const n = g.size;
    const list = (v: number | number[], name: string): number[] => {
      if (typeof v === 'number') return new Array<number>(n).fill(v);
      if (v.length !== n)
        throw new Error(`OneCycleLR: expected ${n} values for ${name} (one per param group), got ${v.length}`);
      return [...v];
    };
    const totalSteps = c.totalSteps ?? (c.epochs as number) * (c.stepsPerEpoch as number);
    const maxLrs = list(c.maxLr, 'maxLr');
    const initial = maxLrs.map((m) => m / c.divFactor);
    // PyTorch writes initial_lr into the groups before _LRScheduler reads it
    g.initialLr = [...initial];
    super(g, 'OneCycleLR');
    this.config = c;
    this.totalSteps = totalSteps;
    this.lrs = { initial, max: maxLrs, min: initial.map((i) => i / c.finalDivFactor) };
    const p = c.pctStart;
    this.phases = c.threePhase
      ? [
          { endStep: p * totalSteps - 1, startLr: 'initial', endLr: 'max', startMom: 'max', endMom: 'base' },
          { endStep: 2 * p * totalSteps - 2, startLr: 'max', endLr: 'initial', startMom: 'base', endMom: 'max' },
          { endStep: totalSteps - 1, startLr: 'initial', endLr: 'min', startMom: 'max', endMom: 'max' },
        ]
      : [
          { endStep: p * totalSteps - 1, startLr: 'initial', endLr: 'max', startMom: 'max', endMom: 'base' },
          { endStep: totalSteps - 1, startLr: 'max', endLr: 'min', startMom: 'base', endMom: 'max' },
        ];
    if (c.cycleMomentum) {
      this.moms = { max: list(c.maxMomentum, 'maxMomentum'), base: list(c.baseMomentum, 'baseMomentum') };
      this.mom = [...this.moms.max];
      g.momentum = [...this.mom];
    }
    this.initialStep();
  }

  override get momentum(): number[] | undefined {
    return this.mom ? [...this.mom] : undefined;
  }

  private anneal(start: number, end: number, pct: number): number {
    if (this.config.annealStrategy === 'cos') {
      const cosOut = Math.cos(Math.PI * pct) + 1;
      return end + ((start - end) / 2.0) * cosOut;
    }
    return (end - start) * pct + start;
  }

  protected computeLr(): number[] {
    const stepNum = this.lastEpoch;
    if (stepNum > this.totalSteps) {
      throw new Error(
        `OneCycleLR: tried to step ${stepNum + 1} times, but totalSteps is ${this.totalSteps} (the schedule allows at most totalSteps calls to step())`,
      );
    }
    const out: number[] = [];
    const moms: number[] = [];
    for (let gi = 0; gi < this.groups.size; gi++) {
      let start = 0;
      for (let i = 0; i < this.phases.length; i++) {
        const ph = this.phases[i];
        if (stepNum <= ph.endStep || i === this.phases.length - 1) {
          const den = ph.endStep - start;
          if (den === 0) {
            throw new Error(
              `OneCycleLR: phase ${i + 1} of ${this.phases.length} has zero length at step ${stepNum} (totalSteps=${this.totalSteps}, pctStart=${this.config.pctStart}, threePhase=${this.config.threePhase}); ` +
                'totalSteps is too small for this pctStart (PyTorch raises ZeroDivisionError here)',
            );
          }
          const pct = (stepNum - start) / den;
          out.push(this.anneal(this.lrs[ph.startLr][gi], this.lrs[ph.endLr][gi], pct));
          if (this.moms) moms.push(this.anneal(this.moms[ph.startMom][gi], this.moms[ph.endMom][gi], pct));
          break;
        }
        start = ph.endStep;
      }
    }
    if (this.moms) {
      this.mom = moms;
      this.groups.momentum = [...moms];
    }
    return out;
  }

  protected override extraState(): Record<string, unknown> {
    return this.mom ? { momentum: [...this.mom] } : {};
  }

  protected override loadExtraState(state: Record<string, unknown>): void {
    if (this.moms) {
      this.mom = stateArray(state, 'momentum', this.groups.size, this.kind);
      this.groups.momentum = [...this.mom];
    }
  }
}
