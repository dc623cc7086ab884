/**
 * Tuning-free optimisers for {@link LayerwiseTrainer}, written from the papers' update rules (and
 * the authors' reference implementations where the papers leave an order of operations open):
 *
 * - `schedule-free-sgd` (Defazio et al., NeurIPS 2024): gradient at `y`, `z ← z − γ g(y)`,
 *   `x ← (1 − c) x + c z` with `c = w_k / Σ w`, `w_k = (k+1)^r · γ_max^p`, `y = (1 − β) z + β x`;
 *   linear warm-up of γ over `warmupSteps`; the model holds `y`, evaluation uses `x`.
 * - `d-adapt-sgd` (Defazio & Mishchenko, ICML 2023, the SGD "v3" form): `dlr = d · lr / ‖g₀‖`;
 *   numerator `+= dlr ⟨g, s⟩` with `s` *before* it is updated; `s += dlr g`; `d̂ = 2 · numerator /
 *   ‖s‖`; `d ← max(d, min(d̂, d · growthRate))` (never decreases); `z = x₀ − s`; the weights move to
 *   `β w + (1 − β) z` (β = `momentum`, default 0: the weights are `z`).
 * - `prodigy` (Mishchenko & Defazio, ICML 2024): Adam moments scaled by d (`m ← β₁m + d(1−β₁)g`,
 *   `v ← β₂v + d²(1−β₂)g²`), numerator `← β₃ · numerator + (d/d₀) · dlr ⟨g, x₀ − x⟩`,
 *   `s ← β₃ s + (d/d₀) · dlr · g`, `d̂ = dCoef · numerator / ‖s‖₁`; at d = d₀ the first move is
 *   `max(d, d̂)` (not capped by `growthRate`), later `d ← min(max(d_max, d̂), d · growthRate)`; the
 *   step uses the **old** `dlr = d · lr` and the denominator `√v + ε · d` the **new** d; decoupled
 *   weight decay `w −= wd · dlr · w` by default; no bias correction; β₃ = √β₂ by default.
 * - `dog` (Ivgi, Hinder, Carmon, ICML 2023): `η_t = lr · r̄_t / √(G_t + ε)` with
 *   `r̄_t = max(r_ε, max_{i≤t} ‖x_i − x₀‖)`, `r_ε = repsRel · (1 + ‖x₀‖)`, `G_t = Σ_{i≤t} ‖g_i‖²`, all
 *   norms over the whole parameter vector; `ldog`: the same per parameter tensor (a layer's weight
 *   and bias each get their own state, as the paper's layer-wise DoG); `dog-group`: one state per
 *   parameter group (= per layer here: our variant, the natural non-learned per-layer rival of
 *   GANNO). Polynomial-decay iterate averaging `x̄_k = (1 − (γ+1)/(k+γ)) x̄_{k−1} + (γ+1)/(k+γ) x_k`
 *   (γ = 8, as in the paper; `averaging: 0` turns it off); evaluation uses `x̄`.
 *
 * The trainer's per-group learning rates are multipliers of each rule's step (default 1: the
 * tuning-free setting). Weight decay is coupled (`g += wd · w`) unless the trainer's
 * `decoupledWeightDecay` is set, which only Prodigy supports (its reference default: set it for
 * Prodigy with weight decay).
 */
import { tf } from '../backend';
import type { Tensor, Variable } from '../backend';
import { z } from '../config';

/** The tuning-free optimiser names of {@link LayerwiseTrainer}. */
export const TUNING_FREE_OPTIMIZERS = [
  'schedule-free-sgd',
  'd-adapt-sgd',
  'prodigy',
  'dog',
  'ldog',
  'dog-group',
] as const;
/** One of {@link TUNING_FREE_OPTIMIZERS}. */
export type TuningFreeOptimizer = (typeof TUNING_FREE_OPTIMIZERS)[number];

/**
 * Options of the tuning-free optimisers (defaults from the papers / reference implementations).
 * - `scheduleFree`: `momentum` β (0.9), `warmupSteps` (0), `r` (0), `weightLrPower` p (2).
 * - `dAdapt`: `d0` (1e-6), `growthRate` (Infinity), `momentum` (0).
 * - `prodigy`: `d0` (1e-6), `dCoef` (1), `growthRate` (Infinity), `beta3` (√β₂ of the trainer's
 *   `betas`), `eps` (1e-8); Adam's β₁, β₂ are the trainer's `betas`.
 * - `dog`: `repsRel` (1e-6), `eps` (1e-8), `averaging` γ (8; 0 = evaluate at the last iterate).
 */
export const TuningFreeOptionsSchema = z
  .object({
    scheduleFree: z
      .object({
        momentum: z.number().min(0).lt(1).default(0.9),
        warmupSteps: z.number().int().nonnegative().default(0),
        r: z.number().nonnegative().default(0),
        weightLrPower: z.number().nonnegative().default(2),
      })
      .strict()
      .default({}),
    dAdapt: z
      .object({
        d0: z.number().positive().default(1e-6),
        growthRate: z.number().gt(1).default(Infinity),
        momentum: z.number().min(0).lt(1).default(0),
      })
      .strict()
      .default({}),
    prodigy: z
      .object({
        d0: z.number().positive().default(1e-6),
        dCoef: z.number().nonnegative().default(1),
        growthRate: z.number().gt(1).default(Infinity),
        beta3: z.number().min(0).lt(1).optional(),
        eps: z.number().positive().default(1e-8),
      })
      .strict()
      .default({}),
    dog: z
      .object({
        repsRel: z.number().positive().default(1e-6),
        eps: z.number().positive().default(1e-8),
        averaging: z.number().nonnegative().default(8),
      })
      .strict()
      .default({}),
  })
  .strict()
  .default({});
export type TuningFreeOptions = z.input<typeof TuningFreeOptionsSchema>;
export type ResolvedTuningFreeOptions = z.output<typeof TuningFreeOptionsSchema>;

/** What a rule needs to know about one trainable variable. */
export interface RuleSlot {
  v: Variable;
  group: number;
}

/** The tensors and host numbers one rule keeps (its part of a trainer snapshot). */
export interface RuleState {
  /** Per slot, the rule's tensors (in the rule's fixed order). */
  perSlot: Variable[][];
  /** Scalars kept as tensors (data-dependent: d, numerators, norms). */
  globals: Variable[];
  /** Scalars kept on the host (data-independent: step counts, weight sums). */
  host: number[];
}

/** Inputs of one step of a rule (inside the trainer's `tf.tidy`). */
export interface RuleStepInput {
  slots: readonly RuleSlot[];
  /** Gradients after clipping (before weight decay). */
  grads: readonly Tensor[];
  /** Learning-rate multipliers per group. */
  lrs: readonly number[];
  /** Steps taken before this one (0 at the first step). */
  step: number;
  weightDecay: number;
  decoupledWeightDecay: boolean;
  betas: [number, number];
}

/** A tuning-free update rule: state layout, one step, and the evaluation point. */
export interface TuningFreeRule {
  readonly name: TuningFreeOptimizer;
  /** Creates the rule's state for the trainer's current weights. */
  init(slots: readonly RuleSlot[]): RuleState;
  /** The new weights of every slot (the trainer assigns them and derives the update metrics). */
  step(state: RuleState, input: RuleStepInput): Tensor[];
  /** Where to evaluate (per slot): null = at the weights themselves. */
  evaluationPoint(state: RuleState, slots: readonly RuleSlot[]): Tensor[] | null;
}

const variable = (t: Tensor) => tf.variable(t, false);
const copyOf = (v: Variable) => tf.tidy(() => variable(tf.clone(v)));
const zerosOf = (v: Variable) => tf.tidy(() => variable(tf.zerosLike(v)));
const scalarVar = (x: number) => tf.tidy(() => variable(tf.scalar(x)));
const sumSq = (ts: readonly Tensor[]) =>
  ts.length === 1 ? tf.sum(tf.square(ts[0])) : tf.addN(ts.map((t) => tf.sum(tf.square(t))));
const withCoupledDecay = (g: Tensor, w: Tensor, wd: number) => (wd > 0 ? tf.add(g, tf.mul(w, wd)) : g);

/**
 * The rule of a tuning-free optimiser.
 *
 * @example
 * ```ts
 * const rule = tuningFreeRule('dog', TuningFreeOptionsSchema.parse({}));
 * ```
 */
export function tuningFreeRule(name: TuningFreeOptimizer, options: ResolvedTuningFreeOptions): TuningFreeRule {
  switch (name) {
    case 'schedule-free-sgd':
      return scheduleFreeSgd(options.scheduleFree);
    case 'd-adapt-sgd':
      return dAdaptSgd(options.dAdapt);
    case 'prodigy':
      return prodigy(options.prodigy);
    case 'dog':
    case 'ldog':
    case 'dog-group':
      return dog(name, options.dog);
  }
}

function scheduleFreeSgd(o: ResolvedTuningFreeOptions['scheduleFree']): TuningFreeRule {
  const beta = o.momentum;
  return {
    name: 'schedule-free-sgd',
    // per slot: z, x; host per group: weightSum, lrMax (k is the trainer's step count)
    init: (slots) => ({
      perSlot: slots.map((s) => [copyOf(s.v), copyOf(s.v)]),
      globals: [],
      host: new Array<number>(2 * (Math.max(...slots.map((s) => s.group)) + 1)).fill(0),
    }),
    step(state, input) {
      const k = input.step;
      const sched = k < o.warmupSteps ? (k + 1) / o.warmupSteps : 1;
      const groups = state.host.length / 2;
      const c: number[] = [];
      for (let g = 0; g < groups; g++) {
        const lr = input.lrs[g] * sched;
        const lrMax = Math.max(lr, state.host[2 * g + 1]);
        const weight = Math.pow(k + 1, o.r) * Math.pow(lrMax, o.weightLrPower);
        const weightSum = state.host[2 * g] + weight;
        state.host[2 * g] = weightSum;
        state.host[2 * g + 1] = lrMax;
        c.push(weightSum > 0 ? weight / weightSum : 0);
      }
      return input.slots.map((slot, i) => {
        const [zv, xv] = state.perSlot[i];
        const y = slot.v;
        const lr = input.lrs[slot.group] * sched;
        const g = withCoupledDecay(input.grads[i], y, input.weightDecay);
        const zNew = tf.sub(zv, tf.mul(g, lr));
        const ck = c[slot.group];
        const xNew = ck === 1 ? zNew : tf.add(tf.mul(xv, 1 - ck), tf.mul(zNew, ck));
        zv.assign(zNew);
        xv.assign(xNew);
        return tf.add(tf.mul(zNew, 1 - beta), tf.mul(xNew, beta));
      });
    },
    evaluationPoint: (state) => state.perSlot.map(([, x]) => x),
  };
}

function dAdaptSgd(o: ResolvedTuningFreeOptions['dAdapt']): TuningFreeRule {
  return {
    name: 'd-adapt-sgd',
    // per slot: s, x0, z; globals: d, numerator, g0Norm
    init: (slots) => ({
      perSlot: slots.map((s) => [zerosOf(s.v), copyOf(s.v), copyOf(s.v)]),
      globals: [scalarVar(o.d0), scalarVar(0), scalarVar(0)],
      host: [],
    }),
    step(state, input) {
      const [dv, numv, g0v] = state.globals;
      const grads = input.slots.map((s, i) => withCoupledDecay(input.grads[i], s.v, input.weightDecay));
      const gNorm = tf.sqrt(sumSq(grads));
      const g0 = tf.where(tf.equal(g0v, 0), gNorm, g0v);
      g0v.assign(g0);
      // dlr per group: d · lr / ||g0|| (0 while the first gradient is zero)
      const dOverG0 = tf.where(tf.greater(g0, 0), tf.div(dv, g0), tf.zerosLike(g0));
      let numerator: Tensor = numv;
      const sNew: Tensor[] = [];
      input.slots.forEach((slot, i) => {
        const dlr = tf.mul(dOverG0, input.lrs[slot.group]);
        const s = state.perSlot[i][0];
        numerator = tf.add(numerator, tf.mul(dlr, tf.sum(tf.mul(grads[i], s))));
        sNew.push(tf.add(s, tf.mul(grads[i], dlr)));
      });
      const sNorm = tf.sqrt(sumSq(sNew));
      const dHat = tf.where(tf.greater(sNorm, 0), tf.div(tf.mul(numerator, 2), sNorm), tf.zerosLike(sNorm));
      const dNew = tf.maximum(dv, Number.isFinite(o.growthRate) ? tf.minimum(dHat, tf.mul(dv, o.growthRate)) : dHat);
      numv.assign(numerator);
      dv.assign(dNew);
      return input.slots.map((slot, i) => {
        const [s, x0, z] = state.perSlot[i];
        s.assign(sNew[i]);
        const zNew = tf.sub(x0, sNew[i]);
        z.assign(zNew);
        return o.momentum > 0 ? tf.add(tf.mul(slot.v, o.momentum), tf.mul(zNew, 1 - o.momentum)) : zNew;
      });
    },
    evaluationPoint: () => null,
  };
}

function prodigy(o: ResolvedTuningFreeOptions['prodigy']): TuningFreeRule {
  return {
    name: 'prodigy',
    // per slot: s, x0, m, v; globals: d, dMax, numerator
    init: (slots) => ({
      perSlot: slots.map((s) => [zerosOf(s.v), copyOf(s.v), zerosOf(s.v), zerosOf(s.v)]),
      globals: [scalarVar(o.d0), scalarVar(o.d0), scalarVar(0)],
      host: [],
    }),
    step(state, input) {
      const [b1, b2] = input.betas;
      const b3 = o.beta3 ?? Math.sqrt(b2);
      const [dv, dMaxv, numv] = state.globals;
      const lrMax = Math.max(...input.lrs);
      const dlr = tf.mul(dv, lrMax); // the step below uses this (old) dlr
      const dRatio = tf.div(dv, o.d0);
      const decoupled = input.decoupledWeightDecay;
      let numerator: Tensor = tf.mul(numv, b3);
      let denom: Tensor = tf.scalar(0);
      const moments: [Tensor, Tensor][] = [];
      input.slots.forEach((slot, i) => {
        const [s, x0, m, v] = state.perSlot[i];
        const g = decoupled ? input.grads[i] : withCoupledDecay(input.grads[i], slot.v, input.weightDecay);
        numerator = tf.add(numerator, tf.mul(tf.mul(dRatio, dlr), tf.sum(tf.mul(g, tf.sub(x0, slot.v)))));
        const mNew = tf.add(tf.mul(m, b1), tf.mul(g, tf.mul(dv, 1 - b1)));
        const vNew = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), tf.mul(tf.square(dv), 1 - b2)));
        const sNew = tf.add(tf.mul(s, b3), tf.mul(g, tf.mul(dRatio, dlr)));
        s.assign(sNew);
        m.assign(mNew);
        v.assign(vNew);
        moments.push([mNew, vNew]);
        denom = tf.add(denom, tf.sum(tf.abs(sNew)));
      });
      const dHat = tf.where(tf.greater(denom, 0), tf.div(tf.mul(numerator, o.dCoef), denom), tf.zerosLike(denom));
      // At d = d0 the first move away is max(d, d̂), not capped by growthRate (reference implementation).
      const first = tf.equal(dv, o.d0);
      const dAfterFirst = tf.where(first, tf.maximum(dv, dHat), dv);
      const dMax = tf.maximum(dMaxv, dHat);
      const capped = Number.isFinite(o.growthRate) ? tf.mul(dAfterFirst, o.growthRate) : tf.scalar(Infinity);
      const dNew = tf.where(tf.greater(denom, 0), tf.minimum(dMax, capped), dv);
      numv.assign(numerator);
      dMaxv.assign(tf.where(tf.greater(denom, 0), dMax, dMaxv));
      dv.assign(dNew);
      return input.slots.map((slot, i) => {
        const [mNew, vNew] = moments[i];
        // Per-group multipliers scale each group's step; the d estimate uses the largest (as the reference's max lr).
        const groupDlr = input.lrs[slot.group] === lrMax ? dlr : tf.mul(dlr, input.lrs[slot.group] / lrMax);
        let w: Tensor = slot.v;
        if (decoupled && input.weightDecay > 0) w = tf.sub(w, tf.mul(w, tf.mul(groupDlr, input.weightDecay)));
        const den = tf.add(tf.sqrt(vNew), tf.mul(dNew, o.eps));
        return tf.sub(w, tf.mul(tf.div(mNew, den), groupDlr));
      });
    },
    evaluationPoint: () => null,
  };
}

function dog(name: 'dog' | 'ldog' | 'dog-group', o: ResolvedTuningFreeOptions['dog']): TuningFreeRule {
  /** The slots sharing one DoG state (whole vector, per tensor, or per group). */
  const units = (slots: readonly RuleSlot[]): number[][] => {
    if (name === 'dog') return [slots.map((_, i) => i)];
    if (name === 'ldog') return slots.map((_, i) => [i]);
    const byGroup = new Map<number, number[]>();
    slots.forEach((s, i) => byGroup.set(s.group, [...(byGroup.get(s.group) ?? []), i]));
    return [...byGroup.values()];
  };
  return {
    name,
    // per slot: x0, xbar; globals per unit: rbar, G
    init(slots) {
      const us = units(slots);
      const globals: Variable[] = [];
      for (const u of us) {
        const x0Norm = tf.tidy(() => tf.sqrt(sumSq(u.map((i) => slots[i].v))));
        globals.push(
          tf.tidy(() => variable(tf.mul(tf.add(x0Norm, 1), o.repsRel))),
          scalarVar(0),
        );
        x0Norm.dispose();
      }
      return { perSlot: slots.map((s) => [copyOf(s.v), copyOf(s.v)]), globals, host: [] };
    },
    step(state, input) {
      const us = units(input.slots);
      const grads = input.slots.map((s, i) => withCoupledDecay(input.grads[i], s.v, input.weightDecay));
      const next: Tensor[] = new Array<Tensor>(input.slots.length);
      us.forEach((u, k) => {
        const rbarV = state.globals[2 * k];
        const gV = state.globals[2 * k + 1];
        const moved = tf.sqrt(sumSq(u.map((i) => tf.sub(input.slots[i].v, state.perSlot[i][0]))));
        const rbar = tf.maximum(rbarV, moved);
        const G = tf.add(gV, sumSq(u.map((i) => grads[i])));
        rbarV.assign(rbar);
        gV.assign(G);
        const eta = tf.div(rbar, tf.sqrt(tf.add(G, o.eps)));
        for (const i of u)
          next[i] = tf.sub(input.slots[i].v, tf.mul(grads[i], tf.mul(eta, input.lrs[input.slots[i].group])));
      });
      if (o.averaging > 0) {
        const kk = input.step + 1;
        const w = (o.averaging + 1) / (kk + o.averaging);
        input.slots.forEach((_, i) => {
          const xbar = state.perSlot[i][1];
          xbar.assign(w >= 1 ? next[i] : tf.add(tf.mul(xbar, 1 - w), tf.mul(next[i], w)));
        });
      }
      return next;
    },
    evaluationPoint: (state) => (o.averaging > 0 ? state.perSlot.map(([, xbar]) => xbar) : null),
  };
}

/** Frees a rule's state. */
export function disposeRuleState(state: RuleState): void {
  for (const row of state.perSlot) for (const v of row) v.dispose();
  for (const v of state.globals) v.dispose();
}
