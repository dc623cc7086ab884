import { tf } from '../backend';
import type { Tensor, Variable } from '../backend';
import { Rng } from '../random';
import { INIT_SCHEMES, initValues } from './init';
import type { InitScheme } from './init';
import { resolveSpec, primitives } from './spec';
import type {
  Activation,
  NetworkCount,
  PrimitiveLayerSpec,
  ResolvedLayer,
  ResolvedPrimitive,
  SequentialSpec,
} from './spec';
import { countFlops } from './spec';

/** Kinds of layer that own trainable parameters. */
export type ParamLayerKind = 'dense' | 'conv2d' | 'depthwiseConv2d' | 'batchNorm';
/** Role of one variable inside a {@link ParamGroup}. */
export type ParamRole = 'kernel' | 'bias' | 'gamma' | 'beta';

/**
 * The parameters one layer agent controls: a dense/conv/depthwise layer's kernel and bias, plus the
 * gamma/beta of a batch norm that directly follows it (a batch norm with no parameterised layer
 * right before it forms its own group).
 */
export interface ParamGroup {
  /** Position in `model.groups` (= the learning-rate index). */
  index: number;
  /** Name of the owning layer, e.g. `dense_0` or `conv2d_3`. */
  name: string;
  kind: ParamLayerKind;
  /** Names of all layers whose parameters are in the group, e.g. `['conv2d_0', 'batchNorm_0']`. */
  layers: string[];
  variables: Variable[];
  /** `roles[i]` says what `variables[i]` is. */
  roles: ParamRole[];
  /** Inputs feeding one output unit (dense: in; conv: k*k*cIn; depthwise: k*k). */
  fanIn: number;
  fanOut: number;
  numParams: number;
}

/** Options of {@link SequentialModel.forward}. */
export interface ForwardOptions {
  /** Training mode: batch statistics in batch norm (and running-statistics updates), active dropout. Default false. */
  training?: boolean;
  /** Source of dropout seeds (required in training mode when the model has dropout with rate > 0). */
  rng?: Rng;
}

/** Options of {@link buildSequential}. */
export interface BuildOptions {
  /** Seed of the weight initialisation (default 0). Each layer draws from its own stream keyed by its name. */
  seed?: number;
  /** Initialisation scheme (default `torch`). */
  init?: InitScheme;
}

/** Cloned values of every model variable (trainable and batch-norm running statistics). */
export interface WeightSnapshot {
  readonly values: Tensor[];
}

interface Ctx {
  training: boolean;
  rng?: Rng;
}

interface Runtime {
  apply(x: Tensor, ctx: Ctx): Tensor;
}

/** Applies a layer's activation function (shared by the model and the vectorised trainer). */
export function activate(x: Tensor, fn: Activation | undefined): Tensor {
  switch (fn ?? 'identity') {
    case 'relu':
      return tf.relu(x);
    case 'relu6':
      return tf.relu6(x);
    case 'tanh':
      return tf.tanh(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'identity':
      return x;
  }
}

const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

/**
 * A feed-forward network built from a {@link SequentialSpec} with raw tfjs variables, its trainable
 * parameters grouped per layer for layerwise optimisation.
 *
 * @example
 * ```ts
 * const model = buildSequential({ inputShape: [4], layers: [{ type: 'dense', units: 8, activation: 'relu' }, { type: 'dense', units: 3 }] }, { seed: 1 });
 * const logits = tf.tidy(() => model.forward(tf.zeros([2, 4])));
 * model.groups.map((g) => g.name); // ['dense_0', 'dense_1']
 * model.dispose();
 * ```
 */
export class SequentialModel {
  readonly spec: SequentialSpec;
  readonly inputShape: number[];
  readonly outputShape: number[];
  /** Parameter groups in forward order (one learning rate / agent each). */
  readonly groups: ParamGroup[] = [];
  /** The resolved layer tree (shapes, parameter and MAC counts). */
  readonly layers: ResolvedLayer[];
  private readonly runtime: Runtime[];
  private readonly trainable: Variable[] = [];
  private readonly buffers: Variable[] = [];
  private readonly hasDropout: boolean;
  private disposed = false;

  constructor(spec: SequentialSpec, options: BuildOptions = {}) {
    const init = options.init ?? 'torch';
    if (!INIT_SCHEMES.includes(init))
      throw new Error(`buildSequential: init must be one of ${INIT_SCHEMES.join(', ')}, got '${String(init)}'`);
    const seed = options.seed ?? 0;
    if (!Number.isFinite(seed)) throw new Error(`buildSequential: seed must be a finite number, got ${seed}`);
    const { layers, outputShape } = resolveSpec(spec);
    this.spec = spec;
    this.inputShape = spec.inputShape.slice();
    this.outputShape = outputShape;
    this.layers = layers;
    this.hasDropout = primitives(layers).some((p) => p.spec.type === 'dropout' && p.spec.rate > 0);
    const initRng = new Rng(seed).fork('init');
    let prevGroupOwner: ParamGroup | undefined;
    const build = (ls: ResolvedLayer[]): Runtime[] =>
      ls.map((l) => {
        if (l.kind === 'block') {
          prevGroupOwner = undefined;
          const body = build(l.body);
          prevGroupOwner = undefined;
          return {
            apply: (x: Tensor, ctx: Ctx) => {
              let y = x;
              for (const r of body) y = r.apply(y, ctx);
              return l.residual ? tf.add(x, y) : y;
            },
          };
        }
        const made = this.buildPrimitive(l, init, initRng.fork(l.name), prevGroupOwner);
        prevGroupOwner = made.group;
        return made.runtime;
      });
    try {
      this.runtime = build(layers);
    } catch (err) {
      this.dispose();
      throw err;
    }
  }

  private newVariable(values: Float32Array, shape: number[], trainable: boolean): Variable {
    const init = tf.tensor(values, shape, 'float32');
    const v = tf.variable(init, trainable);
    init.dispose(); // the variable holds its own reference to the data
    (trainable ? this.trainable : this.buffers).push(v);
    return v;
  }

  /** Builds one primitive; returns its runtime and the group it opened (undefined when it opened none). */
  private buildPrimitive(
    l: ResolvedPrimitive,
    init: InitScheme,
    rng: Rng,
    prevGroup: ParamGroup | undefined,
  ): { runtime: Runtime; group?: ParamGroup } {
    const s: PrimitiveLayerSpec = l.spec;
    const openGroup = (kind: ParamLayerKind, fanIn: number, fanOut: number): ParamGroup => {
      const g: ParamGroup = {
        index: this.groups.length,
        name: l.name,
        kind,
        layers: [l.name],
        variables: [],
        roles: [],
        fanIn,
        fanOut,
        numParams: 0,
      };
      this.groups.push(g);
      return g;
    };
    const addVar = (g: ParamGroup, role: ParamRole, v: Variable) => {
      g.variables.push(v);
      g.roles.push(role);
      g.numParams += v.size;
    };
    switch (s.type) {
      case 'dense': {
        const fin = l.inShape[0];
        const g = openGroup('dense', fin, s.units);
        const useBias = s.bias ?? true;
        const { weight, bias } = initValues(init, rng, fin * s.units, useBias ? s.units : 0, fin, s.units);
        const W = this.newVariable(weight, [fin, s.units], true);
        addVar(g, 'kernel', W);
        let b: Variable | undefined;
        if (useBias) addVar(g, 'bias', (b = this.newVariable(bias, [s.units], true)));
        return {
          group: g,
          runtime: {
            apply: (x) => {
              const z = tf.matMul(x, W);
              return activate(b ? tf.add(z, b) : z, s.activation);
            },
          },
        };
      }
      case 'conv2d':
      case 'depthwiseConv2d': {
        const cin = l.inShape[2];
        const k2 = s.kernel * s.kernel;
        const stride = s.stride ?? 1;
        const pad = s.padding ?? 'same';
        const dw = s.type === 'depthwiseConv2d';
        const cout = l.outShape[2];
        const mult = dw ? ((s as { multiplier?: number }).multiplier ?? 1) : 0;
        const fanIn = dw ? k2 : k2 * cin;
        const fanOut = dw ? k2 * mult : k2 * cout;
        const g = openGroup(s.type, fanIn, fanOut);
        const useBias = s.bias ?? true;
        const wShape = dw ? [s.kernel, s.kernel, cin, mult] : [s.kernel, s.kernel, cin, cout];
        const { weight, bias } = initValues(
          init,
          rng,
          wShape.reduce((a, c) => a * c, 1),
          useBias ? cout : 0,
          fanIn,
          fanOut,
        );
        const W = this.newVariable(weight, wShape, true);
        addVar(g, 'kernel', W);
        let b: Variable | undefined;
        if (useBias) addVar(g, 'bias', (b = this.newVariable(bias, [cout], true)));
        return {
          group: g,
          runtime: {
            apply: (x) => {
              const x4 = x as tf.Tensor4D;
              const z = dw
                ? tf.depthwiseConv2d(x4, W as tf.Tensor4D, stride, pad)
                : tf.conv2d(x4, W as tf.Tensor4D, stride, pad);
              return activate(b ? tf.add(z, b) : z, s.activation);
            },
          },
        };
      }
      case 'batchNorm': {
        const c = l.inShape[l.inShape.length - 1];
        const momentum = s.momentum ?? 0.1;
        const eps = s.eps ?? 1e-5;
        let g = prevGroup;
        if (g) g.layers.push(l.name);
        else g = openGroup('batchNorm', 1, 1);
        const gamma = this.newVariable(new Float32Array(c).fill(1), [c], true);
        const beta = this.newVariable(new Float32Array(c), [c], true);
        addVar(g, 'gamma', gamma);
        addVar(g, 'beta', beta);
        const runMean = this.newVariable(new Float32Array(c), [c], false);
        const runVar = this.newVariable(new Float32Array(c).fill(1), [c], false);
        const axes = l.inShape.length === 3 ? [0, 1, 2] : [0];
        const perChannel = l.inShape.length === 3 ? l.inShape[0] * l.inShape[1] : 1;
        return {
          // A following layer does not join this group.
          group: undefined,
          runtime: {
            apply: (x, ctx) => {
              let y: Tensor;
              if (ctx.training) {
                const { mean, variance } = tf.moments(x, axes);
                y = tf.batchNorm(x, mean, variance, beta, gamma, eps);
                const n = x.shape[0] * perChannel;
                const unbias = n > 1 ? n / (n - 1) : 1;
                runMean.assign(tf.add(tf.mul(runMean, 1 - momentum), tf.mul(mean, momentum)));
                runVar.assign(tf.add(tf.mul(runVar, 1 - momentum), tf.mul(variance, momentum * unbias)));
              } else {
                y = tf.batchNorm(x, runMean, runVar, beta, gamma, eps);
              }
              return activate(y, s.activation);
            },
          },
        };
      }
      case 'maxPool':
      case 'avgPool': {
        const stride = s.stride ?? s.size;
        const pad = s.padding ?? 'valid';
        const fn = s.type === 'maxPool' ? tf.maxPool : tf.avgPool;
        return { runtime: { apply: (x) => fn(x as tf.Tensor4D, s.size, stride, pad) } };
      }
      case 'globalAvgPool':
        return { runtime: { apply: (x) => tf.mean(x, [1, 2]) } };
      case 'flatten': {
        const n = l.outShape[0];
        return { runtime: { apply: (x) => tf.reshape(x, [x.shape[0], n]) } };
      }
      case 'dropout': {
        const rate = s.rate;
        return {
          runtime: {
            apply: (x, ctx) => {
              if (!ctx.training || rate === 0) return x;
              if (!ctx.rng)
                throw new Error(`forward: ${l.name} needs options.rng in training mode (dropout is seeded)`);
              const u = tf.randomUniform(x.shape, 0, 1, 'float32', ctx.rng.nextUint32());
              const mask = tf.cast(tf.greaterEqual(u, rate), 'float32');
              return tf.mul(x, tf.mul(mask, 1 / (1 - rate)));
            },
          },
        };
      }
      case 'activation':
        return { runtime: { apply: (x) => activate(x, s.fn) } };
    }
  }

  /**
   * Logits for a batch `x` of shape `[B, ...inputShape]` (float32). Call inside `tf.tidy`.
   * Throws an Error naming the expected and actual shape when they differ.
   */
  forward(x: Tensor, options: ForwardOptions = {}): Tensor {
    this.assertAlive('forward');
    this.checkInput(x, 'forward');
    const training = options.training ?? false;
    if (training && this.hasDropout && !options.rng)
      throw new Error('forward: this model has dropout; pass options.rng in training mode');
    const ctx: Ctx = { training, rng: options.rng };
    let y = x;
    for (const r of this.runtime) y = r.apply(y, ctx);
    return y;
  }

  /** Throws a descriptive Error when `x` is not `[B, ...inputShape]` float32. */
  checkInput(x: Tensor, where: string): void {
    const expected = shapeText(['B', ...this.inputShape] as unknown as number[]);
    const ok = x.rank === this.inputShape.length + 1 && this.inputShape.every((d, i) => x.shape[i + 1] === d);
    if (!ok) throw new Error(`${where}: input x must have shape ${expected}, got ${shapeText(x.shape)}`);
    if (x.dtype !== 'float32') throw new Error(`${where}: input x must be float32, got ${x.dtype}`);
  }

  /** Trainable variables, in group order (each group's variables contiguous). */
  trainableVariables(): Variable[] {
    return this.groups.flatMap((g) => g.variables);
  }

  /** Non-trainable state (batch-norm running mean and variance). */
  stateVariables(): Variable[] {
    return this.buffers.slice();
  }

  /** Number of trainable parameters (equals `countParams(spec).totalParams`). */
  numParams(): number {
    return this.trainable.reduce((a, v) => a + v.size, 0);
  }

  /** Analytic per-example MACs of this model at its input shape (see {@link countFlops}). */
  countFlops(): NetworkCount {
    return countFlops(this.spec);
  }

  /** Clones all variables (trainable and running statistics). Dispose with {@link disposeWeightSnapshot}. */
  snapshotWeights(): WeightSnapshot {
    this.assertAlive('snapshotWeights');
    return { values: this.allVariables().map((v) => tf.keep(v.clone())) };
  }

  /** Restores values from {@link snapshotWeights}; the snapshot stays valid and can be restored again. */
  restoreWeights(snapshot: WeightSnapshot): void {
    this.assertAlive('restoreWeights');
    const vars = this.allVariables();
    if (snapshot.values.length !== vars.length) {
      throw new Error(
        `restoreWeights: snapshot holds ${snapshot.values.length} tensors, model has ${vars.length} variables`,
      );
    }
    vars.forEach((v, i) => {
      const t = snapshot.values[i];
      if (t.isDisposed) throw new Error('restoreWeights: snapshot was disposed');
      if (shapeText(t.shape) !== shapeText(v.shape))
        throw new Error(
          `restoreWeights: variable ${i} has shape ${shapeText(v.shape)}, snapshot ${shapeText(t.shape)}`,
        );
      v.assign(t);
    });
  }

  /** Frees a {@link WeightSnapshot}. */
  disposeWeightSnapshot(snapshot: WeightSnapshot): void {
    for (const t of snapshot.values) t.dispose();
  }

  /** Frees all variables; the model cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.allVariables()) v.dispose();
  }

  /** Whether {@link dispose} was called. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  private allVariables(): Variable[] {
    return [...this.trainableVariables(), ...this.buffers];
  }

  private assertAlive(where: string): void {
    if (this.disposed) throw new Error(`${where}: model was disposed`);
  }
}

/**
 * Builds a network from a serialisable spec (validated; errors name the layer and shape).
 *
 * @example
 * ```ts
 * const model = buildSequential(
 *   { inputShape: [28, 28, 1], layers: [{ type: 'conv2d', filters: 8, kernel: 3, activation: 'relu' }, { type: 'globalAvgPool' }, { type: 'dense', units: 10 }] },
 *   { seed: 3 },
 * );
 * ```
 */
export function buildSequential(spec: SequentialSpec, options: BuildOptions = {}): SequentialModel {
  return new SequentialModel(spec, options);
}
