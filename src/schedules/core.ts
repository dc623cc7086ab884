/**
 * Learning-rate schedules with PyTorch `torch.optim.lr_scheduler` semantics (1.13): the same step
 * convention, the same chainable (recursive) formulas and therefore the same float64 values.
 */

/**
 * The per-group state a schedule drives — PyTorch's `optimizer.param_groups` reduced to what
 * schedulers read and write. One group per layer for layerwise training. Several schedulers may
 * share one `ParamGroups` (as several PyTorch schedulers share one optimizer), which is how
 * {@link SequentialLR} composes them.
 *
 * @example
 * ```ts
 * const groups = new ParamGroups([0.1, 0.05]); // two layers with their own base LR
 * const s = new StepLR(groups, { stepSize: 10 });
 * groups.lr; // [0.1, 0.05]
 * ```
 */
export class ParamGroups {
  /** Current learning rate of each group (what the optimizer should use now). */
  readonly lr: number[];
  /** PyTorch `initial_lr`: set by the first scheduler attached to these groups. */
  initialLr: number[] | undefined;
  /** Current momentum (SGD) or beta1 (Adam) of each group, when a schedule cycles it. */
  momentum: number[] | undefined;

  constructor(lrs: number | readonly number[], numGroups = 1) {
    const list = typeof lrs === 'number' ? new Array<number>(numGroups).fill(lrs) : [...lrs];
    if (list.length === 0) throw new Error('ParamGroups: need at least one param group (learning rate)');
    list.forEach((v, i) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw new Error(`ParamGroups: learning rate of group ${i} must be a finite number >= 0, got ${String(v)}`);
      }
    });
    this.lr = list;
  }

  /** Number of param groups. */
  get size(): number {
    return this.lr.length;
  }
}

/** Base learning rates, or groups shared with other schedulers. */
export type GroupsInput = ParamGroups | number | readonly number[];

/** Normalises a {@link GroupsInput} to a {@link ParamGroups} (the same object when one is given). */
export function toGroups(g: GroupsInput): ParamGroups {
  return g instanceof ParamGroups ? g : new ParamGroups(g);
}

/** JSON-serialisable scheduler state ({@link Schedule.stateDict}); non-finite numbers are stored as strings. */
export type ScheduleState = { kind: string } & Record<string, unknown>;

/**
 * A learning-rate schedule over one or more param groups, with PyTorch's step convention: after
 * construction `lastLr` is the LR for epoch (or batch) 0; after `t` calls to `step()` it is the LR for
 * epoch `t`. Call `step()` after each optimizer step/epoch (ReduceLROnPlateau: `step(metric)`).
 *
 * @example
 * ```ts
 * const s: Schedule = new CosineAnnealingLR([0.1, 0.01], { tMax: 100 });
 * for (let epoch = 0; epoch < 100; epoch++) {
 *   trainOneEpoch(s.lastLr); // one LR per layer
 *   s.step();
 * }
 * ```
 */
export interface Schedule {
  /** Name of the schedule class (also `stateDict().kind`). */
  readonly kind: string;
  /** Current LR of every group (PyTorch `get_last_lr()`); a copy. */
  readonly lastLr: number[];
  /** Current momentum / beta1 of every group where the schedule cycles momentum, else undefined. */
  readonly momentum: number[] | undefined;
  /** Same as {@link lastLr}. */
  getLr(): number[];
  /** Advances one epoch/step and returns the new LRs. `metric` is required by ReduceLROnPlateau only. */
  step(metric?: number): number[];
  /** Serialisable state (to resume exactly). */
  stateDict(): ScheduleState;
  /** Restores a state produced by `stateDict()` of the same kind and group count. */
  loadStateDict(state: ScheduleState): void;
}

/** Encodes a number for JSON (Infinity/NaN as strings). */
export function encodeNum(v: number): number | string {
  return Number.isFinite(v) ? v : String(v);
}

/** Inverse of {@link encodeNum}. */
export function decodeNum(v: unknown, field: string): number {
  if (typeof v === 'number') return v;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (v === 'NaN') return NaN;
  throw new Error(`loadStateDict: field '${field}' must be a number, got ${JSON.stringify(v)}`);
}

/** Checks a state's kind and returns it typed as a record. */
export function checkState(state: ScheduleState, kind: string): Record<string, unknown> {
  if (state === null || typeof state !== 'object') throw new Error(`${kind}.loadStateDict: state must be an object`);
  if (state.kind !== kind)
    throw new Error(`${kind}.loadStateDict: state is for '${String(state.kind)}', not '${kind}'`);
  return state;
}

/** Reads a numeric array field of a state and checks its length. */
export function stateArray(state: Record<string, unknown>, field: string, length: number, kind: string): number[] {
  const v = state[field];
  if (!Array.isArray(v) || v.length !== length) {
    throw new Error(
      `${kind}.loadStateDict: '${field}' must be an array of ${length} numbers (one per param group), got ${JSON.stringify(v)}`,
    );
  }
  return v.map((x, i) => decodeNum(x, `${field}[${i}]`));
}

/** Python's `%` for numbers (result has the sign of the divisor). */
export function pyMod(a: number, m: number): number {
  return ((a % m) + m) % m;
}

/**
 * Base class of the epoch-indexed schedulers (PyTorch `_LRScheduler`). Subclasses implement the
 * chainable `computeLr()` (reads the current group LRs) and, where PyTorch has one, the closed form
 * used when {@link SequentialLR} restarts a scheduler at a milestone. Subclass constructors must end
 * with `this.initialStep()`.
 *
 * @example
 * ```ts
 * class HalvingLR extends LRScheduler {
 *   constructor(groups: GroupsInput) { super(groups, 'HalvingLR'); this.initialStep(); }
 *   protected computeLr(): number[] { return this.lastEpoch === 0 ? [...this.groups.lr] : this.groups.lr.map((lr) => lr / 2); }
 * }
 * ```
 */
export abstract class LRScheduler implements Schedule {
  readonly kind: string;
  /** The groups this scheduler writes (possibly shared). */
  readonly groups: ParamGroups;
  /** PyTorch `base_lrs`: the groups' `initialLr` when this scheduler was created. */
  readonly baseLrs: number[];
  /** Number of `step()` calls since construction (PyTorch `last_epoch`, -1 before the initial step). */
  lastEpoch = -1;
  /** PyTorch `_step_count`. */
  protected stepCount = 0;
  /** LRs after the last step (PyTorch `_last_lr`). */
  protected last: number[] = [];

  protected constructor(groups: GroupsInput, kind: string) {
    this.kind = kind;
    this.groups = toGroups(groups);
    if (!this.groups.initialLr) this.groups.initialLr = [...this.groups.lr];
    this.baseLrs = [...this.groups.initialLr];
  }

  /** PyTorch `_initial_step`: resets the step count and performs step 0. */
  initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /** Chainable LR for `this.lastEpoch`, computed from the current group LRs. */
  protected abstract computeLr(): number[];

  /** Closed-form LR for `this.lastEpoch` (PyTorch `_get_closed_form_lr`), where defined. */
  protected closedFormLr(): number[] | undefined {
    return undefined;
  }

  get lastLr(): number[] {
    return [...this.last];
  }

  get momentum(): number[] | undefined {
    return undefined;
  }

  getLr(): number[] {
    return this.lastLr;
  }

  step(): number[] {
    this.stepCount++;
    this.lastEpoch++;
    return this.apply(this.computeLr());
  }

  /**
   * PyTorch's deprecated `step(epoch)`: jumps to `epoch` using the closed form where the scheduler
   * has one (used by {@link SequentialLR} at milestones).
   */
  stepToEpoch(epoch: number): number[] {
    if (!Number.isInteger(epoch) || epoch < 0)
      throw new Error(`${this.kind}.stepToEpoch: epoch must be a non-negative integer, got ${epoch}`);
    this.stepCount++;
    this.lastEpoch = epoch;
    return this.apply(this.closedFormLr() ?? this.computeLr());
  }

  private apply(values: number[]): number[] {
    for (let i = 0; i < values.length; i++) this.groups.lr[i] = values[i];
    this.last = [...this.groups.lr];
    return this.lastLr;
  }

  /** Extra state of a subclass (merged into {@link stateDict}). */
  protected extraState(): Record<string, unknown> {
    return {};
  }

  /** Restores extra state of a subclass. */
  protected loadExtraState(_state: Record<string, unknown>): void {
    /* none by default */
  }

  stateDict(): ScheduleState {
    return {
      kind: this.kind,
      lastEpoch: this.lastEpoch,
      stepCount: this.stepCount,
      baseLrs: [...this.baseLrs],
      initialLr: [...(this.groups.initialLr ?? this.baseLrs)],
      lr: [...this.groups.lr],
      lastLr: [...this.last],
      ...this.extraState(),
    };
  }

  loadStateDict(state: ScheduleState): void {
    const s = checkState(state, this.kind);
    const n = this.groups.size;
    const lr = stateArray(s, 'lr', n, this.kind);
    const baseLrs = stateArray(s, 'baseLrs', n, this.kind);
    const initialLr = stateArray(s, 'initialLr', n, this.kind);
    const lastLr = stateArray(s, 'lastLr', n, this.kind);
    if (!Number.isInteger(s.lastEpoch) || !Number.isInteger(s.stepCount)) {
      throw new Error(`${this.kind}.loadStateDict: lastEpoch and stepCount must be integers`);
    }
    this.loadExtraState(s);
    this.lastEpoch = s.lastEpoch as number;
    this.stepCount = s.stepCount as number;
    baseLrs.forEach((v, i) => (this.baseLrs[i] = v));
    this.groups.initialLr = initialLr;
    lr.forEach((v, i) => (this.groups.lr[i] = v));
    this.last = lastLr;
  }
}
