import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type * as Ort from 'onnxruntime-node';
import { ConfigError, parseConfig, z } from '../../config';
import { checkConfigs, LCBENCH_PARAMS, LCBENCH_RANGES, rangeProblem, X_CONT_COLUMNS } from './space';
import type { LcbenchConfig, LcbenchParam } from './space';

/** Names the ONNX model must use (YAHPO Gym's `x_cat` / `x_cont` inputs, one `output`). */
export const LCBENCH_MODEL_IO = Object.freeze({
  inputs: ['x_cat', 'x_cont'] as const,
  output: 'output',
  xContWidth: 8,
  outputWidth: 6,
});

/**
 * Columns of the model's output, in order (YAHPO Gym `lcbench` `y_names`); `val_accuracy` is in
 * percent, the balanced accuracies are fractions, `time` is seconds of training up to the epoch.
 */
export const LCBENCH_OUTPUTS = [
  'time',
  'val_accuracy',
  'val_cross_entropy',
  'val_balanced_accuracy',
  'test_cross_entropy',
  'test_balanced_accuracy',
] as const;

/** The surrogate's prediction for one configuration at one epoch. */
export interface LcbenchPrediction {
  /** Validation accuracy as a fraction (the model predicts percent; divided by 100, not clipped). */
  valAccuracy: number;
  valCrossEntropy: number;
  valBalancedAccuracy: number;
  testBalancedAccuracy: number;
  testCrossEntropy: number;
  /** Predicted training time in seconds up to this epoch. */
  time: number;
}

/** Options of {@link LcbenchSurrogate.load}. */
export interface LcbenchLoadOptions {
  /** ONNX Runtime intra-op threads (default 1: cheap, and parallelism belongs to the caller's workers). */
  threads?: number;
}

/**
 * The vendored surrogate's directory `data/yahpo-lcbench`, found by walking up from this module (works
 * from `src/`, a compiled `dist/src/` and notebooks); the error says where it looked.
 *
 * @example
 * ```ts
 * lcbenchDataDir(); // '/path/to/repo/data/yahpo-lcbench'
 * ```
 */
export function lcbenchDataDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 7; i++) {
    const candidate = path.join(dir, 'data', 'yahpo-lcbench');
    if (fs.existsSync(path.join(candidate, 'model.onnx'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`LcbenchSurrogate: data/yahpo-lcbench/model.onnx not found in any directory above ${__dirname}`);
}

const EncodingSchema = z.object({ OpenML_task_id: z.record(z.number().int().min(0)) });
const ConfigSpaceSchema = z.object({
  hyperparameters: z.array(
    z
      .object({
        name: z.string(),
        type: z.string(),
        choices: z.array(z.string()).optional(),
        lower: z.number().optional(),
        upper: z.number().optional(),
        log: z.boolean().optional(),
      })
      .passthrough(),
  ),
});

function readJson(file: string, what: string): unknown {
  if (!fs.existsSync(file)) throw new Error(`LcbenchSurrogate.load: ${what} file ${file} not found`);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`LcbenchSurrogate.load: ${what} file ${file} is not valid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Task ids of config_space.json, after checking every range against {@link LCBENCH_RANGES}. */
function readTasks(file: string): string[] {
  const space = parseConfig(ConfigSpaceSchema, readJson(file, 'config space'), `LCBench config space ${file}`);
  const byName = new Map(space.hyperparameters.map((h) => [h.name, h]));
  const task = byName.get('OpenML_task_id');
  if (!task || !task.choices || task.choices.length === 0)
    throw new Error(`LcbenchSurrogate.load: ${file} has no OpenML_task_id choices`);
  for (const name of X_CONT_COLUMNS) {
    const h = byName.get(name);
    const r = LCBENCH_RANGES[name];
    if (
      !h ||
      h.lower !== r.lower ||
      h.upper !== r.upper ||
      (h.log ?? false) !== r.log ||
      (h.type === 'uniform_int') !== r.integer
    ) {
      throw new Error(
        `LcbenchSurrogate.load: ${file}: hyper-parameter ${name} is ${JSON.stringify(h ?? null)}, expected ${JSON.stringify(r)} (a different surrogate version?)`,
      );
    }
  }
  return task.choices.slice();
}

/**
 * The YAHPO Gym surrogate of LCBench (Pfisterer et al. 2022; Zimmer, Lindauer, Hutter 2021): an ONNX
 * network that predicts, for 34 OpenML tasks, how a funnel-shaped MLP trained with SGD performs at a
 * given epoch as a function of 7 hyper-parameters. One batched inference replaces one training run.
 *
 * `onnxruntime-node` (CPU) is loaded on the first {@link LcbenchSurrogate.load}, not when this module
 * is imported. Inputs follow YAHPO Gym: `x_cat` int32 `[n, 1]` (task code from `encoding.json`),
 * `x_cont` float32 `[n, 8]` raw values in the order of `X_CONT_COLUMNS`. Call {@link dispose} when done.
 *
 * @example
 * ```ts
 * const s = await LcbenchSurrogate.load();
 * s.tasks.length; // 34
 * const [p] = await s.predict('3945', [{ batch_size: 64, learning_rate: 0.01, momentum: 0.9, weight_decay: 1e-4, num_layers: 2, max_units: 256, max_dropout: 0.25 }]);
 * p.valAccuracy; // fraction in [0, 1]
 * await s.dispose();
 * ```
 */
export class LcbenchSurrogate {
  /** The 34 OpenML task ids (strings, the order of config_space.json). */
  readonly tasks: readonly string[];
  /** sha256 (hex) of the loaded model.onnx (part of table cache keys). */
  readonly modelSha256: string;
  /** Directory the files were read from. */
  readonly dir: string;
  private readonly taskCodes: ReadonlyMap<string, number>;
  private session: Ort.InferenceSession | undefined;
  private readonly ort: typeof Ort;

  private constructor(
    ort: typeof Ort,
    session: Ort.InferenceSession,
    dir: string,
    tasks: string[],
    codes: Map<string, number>,
    sha: string,
  ) {
    this.ort = ort;
    this.session = session;
    this.dir = dir;
    this.tasks = Object.freeze(tasks);
    this.taskCodes = codes;
    this.modelSha256 = sha;
  }

  /**
   * Loads `model.onnx`, `encoding.json` and `config_space.json` from `dir` (default {@link lcbenchDataDir}).
   * Errors name the file: missing, not an ONNX model, inputs/outputs other than `x_cat` `[n, 1]`,
   * `x_cont` `[n, 8]` -> `output` `[n, 6]`, an encoding without a code for a task, ranges that differ
   * from {@link LCBENCH_RANGES}.
   *
   * @example
   * ```ts
   * const s = await LcbenchSurrogate.load(undefined, { threads: 1 });
   * ```
   */
  static async load(dir?: string, options: LcbenchLoadOptions = {}): Promise<LcbenchSurrogate> {
    const opts = parseConfig(
      z.object({ threads: z.number().int().min(1).max(64).default(1) }).strict(),
      options,
      'LcbenchSurrogate.load options',
    );
    const root = path.resolve(dir ?? lcbenchDataDir());
    const modelFile = path.join(root, 'model.onnx');
    if (!fs.existsSync(modelFile))
      throw new Error(
        `LcbenchSurrogate.load: model file ${modelFile} not found (expected the vendored YAHPO Gym LCBench surrogate, see data/README.md)`,
      );
    const tasks = readTasks(path.join(root, 'config_space.json'));
    const encFile = path.join(root, 'encoding.json');
    const enc = parseConfig(EncodingSchema, readJson(encFile, 'encoding'), `LCBench encoding ${encFile}`);
    const codes = new Map<string, number>();
    for (const t of tasks) {
      const code = enc.OpenML_task_id[t];
      if (code === undefined)
        throw new Error(`LcbenchSurrogate.load: ${encFile} has no OpenML_task_id code for task ${t}`);
      codes.set(t, code);
    }
    const bytes = fs.readFileSync(modelFile);
    const sha = createHash('sha256').update(bytes).digest('hex');
    // Loaded lazily so importing src/ma2ml does not load the native runtime.

    const ort = require('onnxruntime-node') as typeof Ort;
    let session: Ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: opts.threads,
        interOpNumThreads: 1,
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'all',
      });
    } catch (err) {
      throw new Error(
        `LcbenchSurrogate.load: cannot load the ONNX model ${modelFile} (corrupt or not an ONNX file?): ${(err as Error).message}`,
        { cause: err },
      );
    }
    try {
      checkModelIo(session, modelFile);
    } catch (err) {
      await session.release();
      throw err;
    }
    return new LcbenchSurrogate(ort, session, root, tasks, codes, sha);
  }

  /** The model's integer code of `taskId` (throws naming the task when unknown). */
  taskCode(taskId: string): number {
    const code = this.taskCodes.get(String(taskId));
    if (code === undefined)
      throw new Error(`LcbenchSurrogate: unknown taskId ${JSON.stringify(taskId)} (one of ${this.tasks.join(', ')})`);
    return code;
  }

  /**
   * Predicts every configuration at `epoch` (1..52, default 52 = the end of LCBench's training) on
   * one task, in one inference. Configurations are validated first (a `ConfigError` names
   * `configs.<i>.<field>`, e.g. `learning_rate` out of [1e-4, 0.1]).
   *
   * @example
   * ```ts
   * const preds = await s.predict('3945', configs);      // one LcbenchPrediction per config
   * const early = await s.predict('3945', configs, 1);   // after one epoch
   * ```
   */
  async predict(taskId: string, configs: readonly LcbenchConfig[], epoch = 52): Promise<LcbenchPrediction[]> {
    checkConfigs(configs);
    const n = configs.length;
    const x = new Float32Array(n * 8);
    for (let i = 0; i < n; i++) {
      x[i * 8] = epoch;
      for (let j = 0; j < LCBENCH_PARAMS.length; j++) x[i * 8 + 1 + j] = configs[i][LCBENCH_PARAMS[j]];
    }
    const out = await this.predictRaw(taskId, x);
    const res: LcbenchPrediction[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const o = i * 6;
      res[i] = {
        valAccuracy: out[o + 1] / 100,
        valCrossEntropy: out[o + 2],
        valBalancedAccuracy: out[o + 3],
        testBalancedAccuracy: out[o + 5],
        testCrossEntropy: out[o + 4],
        time: out[o],
      };
    }
    return res;
  }

  /**
   * The model's raw output for a row-major `x_cont` matrix (`n x 8`, columns `X_CONT_COLUMNS`, raw
   * values): `n x 6` floats in the order of {@link LCBENCH_OUTPUTS} (`val_accuracy` in percent). Every
   * value is range-checked (the error names the row and column). Used by the exhaustive tables.
   *
   * @example
   * ```ts
   * const out = await s.predictRaw('3945', Float32Array.of(52, 64, 0.01, 0.9, 1e-4, 2, 256, 0.25));
   * out[1] / 100; // validation accuracy
   * ```
   */
  async predictRaw(taskId: string, xCont: Float32Array): Promise<Float32Array> {
    const session = this.session;
    if (!session) throw new Error('LcbenchSurrogate: used after dispose()');
    const code = this.taskCode(taskId);
    if (!(xCont instanceof Float32Array) || xCont.length % 8 !== 0)
      throw new Error(
        `LcbenchSurrogate.predictRaw: xCont must be a Float32Array of n x 8 values, got length ${(xCont as { length?: number })?.length}`,
      );
    const n = xCont.length / 8;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < 8; j++) {
        const name = X_CONT_COLUMNS[j] as LcbenchParam | 'epoch';
        const v = xCont[i * 8 + j];
        const r = LCBENCH_RANGES[name];
        // Fast path: the float32 value inside the (float64) bounds, widened by float32 rounding.
        if (v >= r.lower * (1 - 1e-7) && v <= r.upper * (1 + 1e-7) && (!r.integer || Number.isInteger(v))) continue;
        const why = rangeProblem(name, v);
        if (why) throw new ConfigError('LCBench configuration', [{ path: `xCont.${i}.${name}`, message: why }]);
      }
    }
    if (n === 0) return new Float32Array(0);
    const xCat = new this.ort.Tensor('int32', new Int32Array(n).fill(code), [n, 1]);
    const xc = new this.ort.Tensor('float32', xCont, [n, 8]);
    const result = await session.run({ x_cat: xCat, x_cont: xc });
    const out = result[LCBENCH_MODEL_IO.output];
    const data = out.data;
    if (!(data instanceof Float32Array) || data.length !== n * 6)
      throw new Error(
        `LcbenchSurrogate: model output has ${data.length} values of type ${out.type}, expected ${n * 6} float32`,
      );
    const copy = new Float32Array(data);
    out.dispose?.();
    return copy;
  }

  /** Releases the ONNX session (idempotent); later predictions throw. */
  async dispose(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    if (s) await s.release();
  }
}

/**
 * Throws (naming `file`) unless the session has the YAHPO Gym LCBench interface: inputs exactly
 * `x_cat` and `x_cont`, an `output`, and where the runtime reports metadata, int32 `[n, 1]`, float32
 * `[n, 8]` and float32 `[n, 6]`. Internal; exported for tests.
 *
 * @example
 * ```ts
 * checkModelIo(session, 'model.onnx');
 * ```
 */
export function checkModelIo(session: Pick<Ort.InferenceSession, 'inputNames' | 'outputNames'>, file: string): void {
  const ins = [...session.inputNames];
  const outs = [...session.outputNames];
  const expectIns = [...LCBENCH_MODEL_IO.inputs];
  if (ins.length !== 2 || !expectIns.every((n) => ins.includes(n)) || !outs.includes(LCBENCH_MODEL_IO.output)) {
    throw new Error(
      `LcbenchSurrogate.load: ${file} has inputs [${ins.join(', ')}] and outputs [${outs.join(', ')}], expected inputs [${expectIns.join(', ')}] and output ${LCBENCH_MODEL_IO.output}`,
    );
  }
  // Shapes and types, where this onnxruntime version reports metadata.
  const meta = session as unknown as { inputMetadata?: unknown; outputMetadata?: unknown };
  const want: Record<string, { type: string; width: number }> = {
    x_cat: { type: 'int32', width: 1 },
    x_cont: { type: 'float32', width: LCBENCH_MODEL_IO.xContWidth },
    [LCBENCH_MODEL_IO.output]: { type: 'float32', width: LCBENCH_MODEL_IO.outputWidth },
  };
  const entries = [...toList(meta.inputMetadata), ...toList(meta.outputMetadata)];
  for (const m of entries) {
    const w = want[m.name];
    if (!w || m.isTensor === false || m.type === undefined || m.shape === undefined) continue;
    const last = m.shape[m.shape.length - 1];
    if (m.type !== w.type || m.shape.length !== 2 || last !== w.width) {
      throw new Error(
        `LcbenchSurrogate.load: ${file}: ${m.name} is ${m.type} ${JSON.stringify(m.shape)}, expected ${w.type} [n, ${w.width}]`,
      );
    }
  }
}

interface IoMeta {
  name: string;
  isTensor?: boolean;
  type?: string;
  shape?: readonly (number | string)[];
}

function toList(meta: unknown): IoMeta[] {
  if (!Array.isArray(meta)) return [];
  return meta.filter((m): m is IoMeta => m !== null && typeof m === 'object' && typeof (m as IoMeta).name === 'string');
}
