/**
 * AutoAugment-style augmentation for the MA2ML AUG agent: grayscale image ops with torchvision's
 * AutoAugment magnitude ranges, sub-policies of two ops, applied as batched tfjs ops on
 * `[B, H, W, 1]` images with pixels in [0, 1].
 */
import { tf } from '../backend';
import type { Tensor } from '../backend';
import { Rng } from '../random';

/**
 * The 15 grayscale ops of the AUG agent (AutoAugment's list without Color, plus Identity and Cutout).
 *
 * @example
 * ```ts
 * AUG_OPS.indexOf('Rotate'); // 5 (the op token of a sub-policy indexes the space's `ops`, which defaults to this list)
 * ```
 */
export const AUG_OPS = [
  'Identity',
  'ShearX',
  'ShearY',
  'TranslateX',
  'TranslateY',
  'Rotate',
  'AutoContrast',
  'Invert',
  'Equalize',
  'Solarize',
  'Posterize',
  'Contrast',
  'Brightness',
  'Sharpness',
  'Cutout',
] as const;
/** Name of one augmentation op. */
export type AugOpName = (typeof AUG_OPS)[number];

/**
 * Number of magnitude levels (0..9), as torchvision's AutoAugment `num_bins = 10`.
 *
 * @example
 * ```ts
 * augMagnitude('Rotate', AUG_LEVELS - 1); // 30
 * ```
 */
export const AUG_LEVELS = 10;

/** One op of a sub-policy: applied with probability `prob` at magnitude `level` (0..9). */
export interface AugOp {
  op: AugOpName;
  prob: number;
  level: number;
}
/** Two ops applied in order. */
export type SubPolicy = [AugOp, AugOp];
/** A policy: one sub-policy is drawn uniformly per image. */
export type AugPolicy = SubPolicy[];

const SIGNED: ReadonlySet<AugOpName> = new Set<AugOpName>([
  'ShearX',
  'ShearY',
  'TranslateX',
  'TranslateY',
  'Rotate',
  'Brightness',
  'Contrast',
  'Sharpness',
]);
const AFFINE: ReadonlySet<AugOpName> = new Set<AugOpName>(['ShearX', 'ShearY', 'TranslateX', 'TranslateY', 'Rotate']);

/**
 * Whether an op takes a random sign (torchvision's `signed` flag).
 *
 * @example
 * ```ts
 * isSignedOp('Rotate'); // true
 * isSignedOp('Solarize'); // false
 * ```
 */
export function isSignedOp(op: AugOpName): boolean {
  return SIGNED.has(op);
}

/**
 * The unsigned magnitude of `op` at `level` for an image of `height` x `width`, as torchvision's
 * `AutoAugment._augmentation_space(num_bins=10)`: `linspace(0, max, 10)[level]`:
 * - ShearX/Y: 0-0.3 (shear factor; the image is sheared about its top-left corner);
 * - TranslateX/Y: 0-150/331 of the width/height in pixels, truncated to an integer (`int(magnitude)`);
 * - Rotate: 0-30 degrees;
 * - Brightness/Contrast/Sharpness: 0-0.9; the enhancement factor is `1 + sign * magnitude`;
 * - Posterize: bits kept `8 - round(level / 2.25)` (8, 8, 7, 7, 6, 6, 5, 5, 4, 4);
 * - Solarize: threshold `linspace(255, 0, 10)[level]` on the 0-255 scale (pixels >= threshold are
 *   inverted; level 0 therefore still inverts pure white pixels, as in PIL/torchvision);
 * - Cutout (not in torchvision; AutoAugment's own code uses squares of up to 20 px on 32 px CIFAR
 *   images): side `int(linspace(0, 0.625 * min(h, w), 10)[level])` pixels, see {@link augmentBatch};
 * - Identity, AutoContrast, Invert, Equalize: no magnitude (0).
 *
 * @example
 * ```ts
 * augMagnitude('Rotate', 9); // 30
 * augMagnitude('TranslateX', 9, 28, 28); // 12 (int(150 / 331 * 28))
 * augMagnitude('Posterize', 9); // 4
 * ```
 */
export function augMagnitude(op: AugOpName, level: number, height = 28, width = 28): number {
  if (!Number.isInteger(level) || level < 0 || level >= AUG_LEVELS) {
    throw new Error(`augMagnitude: level must be an integer in 0..${AUG_LEVELS - 1}, got ${level} (op ${op})`);
  }
  const t = level / (AUG_LEVELS - 1);
  switch (op) {
    case 'ShearX':
    case 'ShearY':
      return 0.3 * t;
    case 'TranslateX':
      return Math.trunc(((150 / 331) * width * level) / (AUG_LEVELS - 1));
    case 'TranslateY':
      return Math.trunc(((150 / 331) * height * level) / (AUG_LEVELS - 1));
    case 'Rotate':
      return 30 * t;
    case 'Brightness':
    case 'Contrast':
    case 'Sharpness':
      return 0.9 * t;
    case 'Posterize':
      return 8 - Math.round(level / ((AUG_LEVELS - 1) / 4));
    case 'Solarize':
      return 255 * (1 - t);
    case 'Cutout':
      return Math.trunc(0.625 * Math.min(height, width) * t + 1e-9);
    case 'Identity':
    case 'AutoContrast':
    case 'Invert':
    case 'Equalize':
      return 0;
  }
}

/**
 * Validates a policy; throws an Error naming the sub-policy, op and field at fault.
 *
 * @example
 * ```ts
 * validatePolicy([[{ op: 'Rotate', prob: 0.5, level: 3 }, { op: 'Invert', prob: 0.2, level: 0 }]]);
 * ```
 */
export function validatePolicy(policy: AugPolicy): void {
  if (!Array.isArray(policy) || policy.length === 0)
    throw new Error('augmentation policy: must be a non-empty array of sub-policies');
  policy.forEach((sp, i) => {
    if (!Array.isArray(sp) || sp.length !== 2)
      throw new Error(`augmentation policy: sub-policy ${i} must be an array of 2 ops, got ${JSON.stringify(sp)}`);
    sp.forEach((o, j) => {
      const where = `augmentation policy: sub-policy ${i} op ${j}`;
      if (!o || !(AUG_OPS as readonly string[]).includes(o.op))
        throw new Error(`${where}: unknown op ${JSON.stringify(o && o.op)} (expected one of ${AUG_OPS.join(', ')})`);
      if (typeof o.prob !== 'number' || !(o.prob >= 0 && o.prob <= 1))
        throw new Error(`${where} (${o.op}): prob must be in [0, 1], got ${o.prob}`);
      if (!Number.isInteger(o.level) || o.level < 0 || o.level >= AUG_LEVELS)
        throw new Error(`${where} (${o.op}): level must be an integer in 0..${AUG_LEVELS - 1}, got ${o.level}`);
    });
  });
}

/** Per-image decision for one op slot, drawn from the Rng (exposed for tests and visualisation). */
export interface AugDraw {
  /** Index of the sub-policy drawn for this image. */
  subPolicy: number;
  /** Per op of the sub-policy: applied or not, the sign (+1/-1; +1 for unsigned ops), and the cutout centre [row, col]. */
  ops: { applied: boolean; sign: number; center: [number, number] }[];
}

/**
 * Draws the per-image random choices of {@link augmentBatch}: per image a sub-policy (uniform),
 * then per op `applied = u < prob`, a sign for signed ops and a cutout centre, in a fixed order so
 * the same Rng state gives the same draws.
 *
 * @example
 * ```ts
 * const draws = drawAugmentation(policy, 128, new Rng(1), 28, 28);
 * ```
 */
export function drawAugmentation(policy: AugPolicy, batch: number, rng: Rng, height = 28, width = 28): AugDraw[] {
  validatePolicy(policy);
  const out: AugDraw[] = [];
  for (let b = 0; b < batch; b++) {
    const s = rng.int(policy.length);
    const ops = policy[s].map((o) => {
      const applied = rng.next() < o.prob;
      const sign = rng.next() < 0.5 ? -1 : 1;
      const center: [number, number] = [rng.int(height), rng.int(width)];
      return { applied, sign: isSignedOp(o.op) ? sign : 1, center };
    });
    out.push({ subPolicy: s, ops });
  }
  return out;
}

/** One image's op application (op, signed magnitude, cutout centre). */
interface Application {
  op: AugOpName;
  level: number;
  sign: number;
  center: [number, number];
}

/**
 * Inverse affine map of PIL/torchvision (output pixel centre -> input point, pixel-centre
 * coordinates with the origin at the top-left corner), as `[a, b, c, d, e, f]`:
 * `xIn = a x + b y + c`, `yIn = d x + e y + f`.
 */
function inverseAffine(op: AugOpName, m: number, h: number, w: number): number[] {
  switch (op) {
    case 'ShearX': // torchvision: F.affine(shear=[degrees(atan(m)), 0], center=[0, 0])
      return [1, m, 0, 0, 1, 0];
    case 'ShearY':
      return [1, 0, 0, m, 1, 0];
    case 'TranslateX': // F.affine(translate=[int(m), 0]): the content moves right by m pixels
      return [1, 0, -m, 0, 1, 0];
    case 'TranslateY':
      return [1, 0, 0, 0, 1, -m];
    case 'Rotate': {
      // PIL Image.rotate(angle) about (w/2, h/2), counter-clockwise for positive angles.
      const a = -(m * Math.PI) / 180;
      const cos = Math.cos(a);
      const sin = Math.sin(a);
      const cx = w / 2;
      const cy = h / 2;
      return [cos, sin, cx - cos * cx - sin * cy, -sin, cos, cy + sin * cx - cos * cy];
    }
    default:
      return [1, 0, 0, 0, 1, 0];
  }
}

/**
 * tfjs `image.transform` row for a PIL inverse map: tfjs samples input `round(A [x, y, 1])` at
 * integer output indices, PIL samples `floor(A [x + 0.5, y + 0.5, 1])`; shifting the offset by
 * `0.5 a + 0.5 b - 0.5` makes the two agree.
 */
function tfTransformRow(inv: number[]): number[] {
  const [a, b, c, d, e, f] = inv;
  return [a, b, c + 0.5 * a + 0.5 * b - 0.5, d, e, f + 0.5 * d + 0.5 * e - 0.5, 0, 0];
}

function perImage(values: number[]): Tensor {
  return tf.tensor4d(values, [values.length, 1, 1, 1]);
}

function blend(img: Tensor, degenerate: Tensor, factor: Tensor): Tensor {
  // torchvision _blend(img1, img2, ratio) = clamp(ratio * img1 + (1 - ratio) * img2, 0, 1)
  return tf.clipByValue(tf.add(tf.mul(factor, img), tf.mul(tf.sub(1, factor), degenerate)), 0, 1);
}

/** Per-image min/max stretch to [0, 1]; constant images are unchanged (torchvision autocontrast). */
function autoContrast(x: Tensor): Tensor {
  const lo = tf.min(x, [1, 2, 3], true);
  const hi = tf.max(x, [1, 2, 3], true);
  const range = tf.sub(hi, lo);
  const flat = tf.lessEqual(range, 0);
  const scale = tf.where(flat, tf.onesLike(range), tf.div(1, tf.maximum(range, 1e-12)));
  const offset = tf.where(flat, tf.zerosLike(lo), lo);
  return tf.clipByValue(tf.mul(tf.sub(x, offset), scale), 0, 1);
}

/**
 * Histogram equalisation on 256 bins per image (PIL ImageOps.equalize / torchvision equalize) for
 * the images with `use[b]`; the others are copied. Runs in JavaScript on the read-back pixels: a
 * per-image look-up table is one pass over the data, while a tensor gather of 100k look-ups is
 * slow on wasm (the stock kernel reads the indices back to JavaScript anyway).
 */
function equalize(x: Tensor, use: boolean[]): Tensor {
  const [n, h, w] = x.shape;
  const p = h * w;
  const src = x.dataSync();
  const out = Float32Array.from(src);
  const q = new Uint8Array(p);
  const hist = new Int32Array(256);
  const lut = new Float32Array(256);
  for (let b = 0; b < n; b++) {
    if (!use[b]) continue;
    hist.fill(0);
    const off = b * p;
    for (let i = 0; i < p; i++) {
      const v = Math.round(src[off + i] * 255);
      q[i] = v < 0 ? 0 : v > 255 ? 255 : v;
      hist[q[i]]++;
    }
    let last = 255;
    while (last > 0 && hist[last] === 0) last--;
    const step = Math.floor((p - hist[last]) / 255);
    if (step === 0) continue; // a single grey level (or nearly): unchanged, as PIL
    let cum = Math.floor(step / 2);
    for (let i = 0; i < 256; i++) {
      lut[i] = Math.min(255, Math.floor(cum / step)) / 255;
      cum += hist[i];
    }
    for (let i = 0; i < p; i++) out[off + i] = lut[q[i]];
  }
  return tf.tensor(out, x.shape, 'float32');
}

function sharpnessDegenerate(x: Tensor): Tensor {
  const [, h, w] = x.shape;
  const k = tf.tensor4d(
    [1, 1, 1, 1, 5, 1, 1, 1, 1].map((v) => v / 13),
    [3, 3, 1, 1],
  );
  const smooth = tf.conv2d(x as tf.Tensor4D, k as tf.Tensor4D, 1, 'same');
  const interior = new Float32Array(h * w);
  for (let r = 1; r < h - 1; r++) for (let c = 1; c < w - 1; c++) interior[r * w + c] = 1;
  const mask = tf.tensor4d(interior, [1, h, w, 1]);
  return tf.add(tf.mul(mask, smooth), tf.mul(tf.sub(1, mask), x));
}

function cutout(x: Tensor, apps: Application[]): Tensor {
  const [, h, w] = x.shape;
  const top: number[] = [];
  const bottom: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  for (const a of apps) {
    const half = Math.floor(augMagnitude('Cutout', a.level, h, w) / 2);
    top.push(Math.max(0, a.center[0] - half));
    bottom.push(Math.min(h, a.center[0] + half));
    left.push(Math.max(0, a.center[1] - half));
    right.push(Math.min(w, a.center[1] + half));
  }
  const rows = tf.range(0, h, 1, 'float32').reshape([1, h, 1, 1]);
  const cols = tf.range(0, w, 1, 'float32').reshape([1, 1, w, 1]);
  // integer coordinates: [r >= top] = step(r - top + 0.5), [r < bottom] = step(bottom - r - 0.5)
  const inRows = tf.mul(
    tf.step(tf.sub(rows, perImage(top.map((t) => t - 0.5)))),
    tf.step(tf.sub(perImage(bottom.map((v) => v - 0.5)), rows)),
  );
  const inCols = tf.mul(
    tf.step(tf.sub(cols, perImage(left.map((t) => t - 0.5)))),
    tf.step(tf.sub(perImage(right.map((v) => v - 0.5)), cols)),
  );
  return tf.mul(x, tf.sub(1, tf.mul(inRows, inCols)));
}

/**
 * Applies one pixel (non-affine) op to the whole batch, with per-image parameters from `apps[i]`
 * (images with `null` get neutral parameters; the caller keeps only the images that use the op).
 * Call inside tidy.
 */
function pixelOp(op: AugOpName, x: Tensor, apps: (Application | null)[]): Tensor {
  const [, h, w] = x.shape;
  const mags = apps.map((a) => (a ? augMagnitude(op, a.level, h, w) : 0));
  switch (op) {
    case 'AutoContrast':
      return autoContrast(x);
    case 'Invert':
      return tf.sub(1, x);
    case 'Equalize':
      return equalize(
        x,
        apps.map((a) => a !== null),
      );
    case 'Solarize': {
      const thr = perImage(mags.map((m) => m / 255 - 1e-6));
      // step(x - thr) = [x >= threshold]: broadcast comparisons are ~25x slower than sub + step on wasm
      const m = tf.step(tf.sub(x, thr));
      return tf.add(x, tf.mul(m, tf.sub(1, tf.mul(2, x)))); // m ? 1 - x : x (exact for m in {0, 1})
    }
    case 'Posterize': {
      const div = perImage(apps.map((a, i) => (a ? 2 ** (8 - mags[i]) : 1)));
      const q = tf.clipByValue(tf.round(tf.mul(x, 255)), 0, 255);
      return tf.div(tf.mul(tf.floor(tf.div(q, div)), div), 255);
    }
    case 'Brightness':
    case 'Contrast':
    case 'Sharpness': {
      const factor = perImage(apps.map((a, i) => (a ? 1 + a.sign * mags[i] : 1)));
      let degenerate: Tensor;
      if (op === 'Brightness') degenerate = tf.zerosLike(x);
      else if (op === 'Contrast') degenerate = tf.mean(x, [1, 2, 3], true);
      else degenerate = sharpnessDegenerate(x);
      return blend(x, degenerate, factor);
    }
    case 'Cutout':
      return cutout(
        x,
        apps.map((a) => a ?? { op: 'Cutout', level: 0, sign: 1, center: [0, 0] }),
      );
    default:
      throw new Error(`pixelOp: ${op} is not a pixel op`);
  }
}

/**
 * Applies one application per image (the same op slot of each image's sub-policy): all affine ops
 * in one `tf.image.transform` call (nearest, fill 0; identity rows for the other images), then each
 * pixel op used in the slot once over the batch, kept by a per-image 0/1 mask (`y * m + out * (1 - m)`,
 * exact for m in {0, 1}). Returns a new tensor; call inside tidy.
 */
function applyStage(x: Tensor, apps: (Application | null)[]): Tensor {
  const [n, h, w] = x.shape;
  const pixelGroups = new Map<AugOpName, number[]>();
  const affineRows: number[] = [];
  let anyAffine = false;
  apps.forEach((a, i) => {
    const affine = a !== null && AFFINE.has(a.op);
    if (affine) anyAffine = true;
    else if (a && a.op !== 'Identity') {
      if (!pixelGroups.has(a.op)) pixelGroups.set(a.op, []);
      pixelGroups.get(a.op)!.push(i);
    }
    const inv = affine ? inverseAffine(a!.op, a!.sign * augMagnitude(a!.op, a!.level, h, w), h, w) : [1, 0, 0, 0, 1, 0];
    affineRows.push(...tfTransformRow(inv));
  });
  let out: Tensor = anyAffine
    ? tf.image.transform(x as tf.Tensor4D, tf.tensor2d(affineRows, [n, 8]), 'nearest', 'constant', 0)
    : x;
  for (const [op, idx] of pixelGroups) {
    const y = pixelOp(
      op,
      x,
      apps.map((a) => (a && a.op === op ? a : null)),
    );
    if (idx.length === n) {
      out = y;
      continue;
    }
    const m = new Float32Array(n);
    for (const i of idx) m[i] = 1;
    const mask = perImage(Array.from(m));
    out = tf.add(tf.mul(y, mask), tf.mul(out, tf.sub(1, mask)));
  }
  return out === x ? x.clone() : out;
}

/**
 * Augments a batch of grayscale images `[B, H, W, 1]` (pixels in [0, 1]) with an AutoAugment-style
 * policy. Per image (all choices from `rng`, see {@link drawAugmentation}): one sub-policy drawn
 * uniformly, then its two ops in order, each applied with its probability, signed ops with a random
 * sign. Semantics follow torchvision's AutoAugment on float tensors and PIL:
 * - affine ops (ShearX/Y about the top-left corner, TranslateX/Y, Rotate about the centre) use
 *   nearest-neighbour sampling (torchvision's default) with fill 0, PIL's pixel-centre convention;
 * - AutoContrast stretches each image's min..max to 0..1 (constant images unchanged);
 * - Equalize: PIL/torchvision histogram equalisation on 256 bins of the image quantised to uint8;
 * - Posterize keeps the top bits of the uint8 value; Solarize inverts pixels >= threshold / 255;
 * - Brightness blends with black, Contrast with the image's mean, Sharpness with the 3x3 smoothed
 *   image (kernel [[1,1,1],[1,5,1],[1,1,1]] / 13, border pixels kept), factor `1 +- magnitude`,
 *   result clamped to [0, 1] (float, not re-quantised);
 * - Cutout zeroes a square of side `2 * floor(size / 2)` centred at a uniform pixel, clipped at the
 *   borders (AutoAugment's cutout code; fill 0 = the background here rather than its grey).
 * All affine ops of an op slot run in one `tf.image.transform` call; each pixel op used in the slot
 * runs once over the batch and is kept by a per-image mask (no per-image loops, no gathers). Returns a new tensor (the input is not disposed); no other tensors are kept.
 *
 * @example
 * ```ts
 * const policy: AugPolicy = [[{ op: 'Rotate', prob: 0.8, level: 5 }, { op: 'Equalize', prob: 0.5, level: 0 }],
 *                            [{ op: 'ShearX', prob: 0.6, level: 3 }, { op: 'Cutout', prob: 0.4, level: 6 }]];
 * const xAug = augmentBatch(batch.x, policy, rng.fork('aug'));
 * ```
 */
export function augmentBatch(x: Tensor, policy: AugPolicy, rng: Rng): Tensor {
  if (x.rank !== 4 || x.shape[3] !== 1)
    throw new Error(`augmentBatch: expects images [batch, height, width, 1], got shape [${x.shape.join(', ')}]`);
  const [n, h, w] = x.shape;
  const draws = drawAugmentation(policy, n, rng, h, w);
  return applyDraws(x, policy, draws);
}

/**
 * Applies pre-drawn choices (from {@link drawAugmentation}) to a batch; {@link augmentBatch} is
 * `applyDraws(x, policy, drawAugmentation(policy, B, rng, H, W))`.
 *
 * @example
 * ```ts
 * const draws = drawAugmentation(policy, 4, new Rng(0));
 * const out = applyDraws(x, policy, draws);
 * ```
 */
export function applyDraws(x: Tensor, policy: AugPolicy, draws: AugDraw[]): Tensor {
  if (draws.length !== x.shape[0])
    throw new Error(`applyDraws: ${draws.length} draws for a batch of ${x.shape[0]} images`);
  validatePolicy(policy);
  return tf.tidy(() => {
    let cur: Tensor = x;
    for (let slot = 0; slot < 2; slot++) {
      const apps = draws.map((d) => {
        const o = policy[d.subPolicy][slot];
        const dr = d.ops[slot];
        return dr.applied ? { op: o.op, level: o.level, sign: dr.sign, center: dr.center } : null;
      });
      cur = applyStage(cur, apps);
    }
    return cur;
  });
}

/**
 * Applies a single op to every image of a batch (sign +1 unless given; cutout centred at `center`).
 * For tests, galleries and notebooks.
 *
 * @example
 * ```ts
 * const rotated = applyOp(x, 'Rotate', 9); // +30 degrees
 * const sheared = applyOp(x, 'ShearX', 5, { sign: -1 });
 * ```
 */
export function applyOp(
  x: Tensor,
  op: AugOpName,
  level: number,
  options: { sign?: number; center?: [number, number] } = {},
): Tensor {
  if (x.rank !== 4 || x.shape[3] !== 1)
    throw new Error(`applyOp: expects images [batch, height, width, 1], got shape [${x.shape.join(', ')}]`);
  const [n, h, w] = x.shape;
  const policy: AugPolicy = [
    [
      { op, prob: 1, level },
      { op: 'Identity', prob: 0, level: 0 },
    ],
  ];
  validatePolicy(policy);
  const sign = options.sign ?? 1;
  if (sign !== 1 && sign !== -1) throw new Error(`applyOp: sign must be 1 or -1, got ${sign}`);
  const center = options.center ?? [Math.floor(h / 2), Math.floor(w / 2)];
  const draws: AugDraw[] = [];
  for (let b = 0; b < n; b++) {
    draws.push({
      subPolicy: 0,
      ops: [
        { applied: true, sign: isSignedOp(op) ? sign : 1, center },
        { applied: false, sign: 1, center },
      ],
    });
  }
  return applyDraws(x, policy, draws);
}
