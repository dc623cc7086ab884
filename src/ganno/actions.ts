import { parseConfig, z } from '../config';

/** The 9 multiplicative factors of the default action set (index 4 = keep). */
export const DEFAULT_LR_FACTORS: readonly number[] = Object.freeze([
  1 / 2,
  1 / 1.5,
  1 / 1.25,
  1 / 1.1,
  1,
  1.1,
  1.25,
  1.5,
  2,
]);
/** The 3 multiplicative factors of the ablation action set (index 1 = keep). */
export const SMALL_LR_FACTORS: readonly number[] = Object.freeze([1 / 1.25, 1, 1.25]);

const clipSchema = z
  .tuple([z.number().positive().finite(), z.number().positive().finite()])
  .refine((c) => c[0] < c[1], { message: 'lrClip must be [min, max] with min < max' });

/**
 * Configuration of an {@link ActionSet}:
 * - `'factors9'` (default): the 9 factors {@link DEFAULT_LR_FACTORS} multiply the layer's current LR;
 * - `'factors3'`: {@link SMALL_LR_FACTORS} (ablation);
 * - `'levels9'`: 9 absolute LRs `ref * 10^((k - 4) * decadesEachSide / 4)`, `ref` = the episode's initial LR;
 * - `{ kind: 'factors', factors }`: custom factors (must contain exactly one 1, the default action);
 * - `{ kind: 'levels', count, decadesEachSide }`: custom log grid (odd `count`, centred on `ref`).
 * Every resulting LR is clipped to `lrClip` (default [1e-5, 1]).
 *
 * @example
 * ```ts
 * ActionSetConfigSchema.parse({ kind: 'levels' }); // { kind: 'levels', count: 9, decadesEachSide: 1 }
 * ```
 */
export const ActionSetConfigSchema = z.union([
  z.enum(['factors9', 'factors3', 'levels9']),
  z.object({ kind: z.literal('factors'), factors: z.array(z.number().positive().finite()).min(2) }).strict(),
  z
    .object({
      kind: z.literal('levels'),
      count: z.number().int().min(2).default(9),
      decadesEachSide: z.number().positive().finite().default(1),
    })
    .strict(),
]);
export type ActionSetConfig = z.input<typeof ActionSetConfigSchema>;

/**
 * A discrete learning-rate action space shared by all layer agents.
 *
 * @example
 * ```ts
 * const a = makeActionSet('factors9');
 * a.apply(0.1, 8, 0.1);        // 0.2 (factor 2)
 * a.defaultAction(0.1, 0.1);   // 4 (factor 1 = keep)
 * ```
 */
export interface ActionSet {
  /** Short description, e.g. `factors9` or `levels9(ref*10^±1)`. */
  readonly name: string;
  /** Number of discrete actions. */
  readonly size: number;
  /** `multiplicative` (relative to the current LR) or `absolute` (levels around the reference LR). */
  readonly kind: 'multiplicative' | 'absolute';
  /** Clip range of every resulting LR. */
  readonly lrClip: readonly [number, number];
  /** The LR after `action`, given the layer's current LR and the episode's reference (initial) LR; clipped to `lrClip`. */
  apply(currentLr: number, action: number, referenceLr: number): number;
  /**
   * The "keep LR" action: factor 1 for multiplicative sets; for absolute levels the level nearest
   * the current LR in log distance (ties go to the lower level). The current LR is always a level
   * (or a clip bound) after the first decision, and the initial LR is the centre level, so this is
   * an exact keep unless clipping moved the LR off the grid.
   */
  defaultAction(currentLr: number, referenceLr: number): number;
}

function clip(lr: number, c: readonly [number, number]): number {
  return Math.min(c[1], Math.max(c[0], lr));
}

function checkAction(a: number, size: number, name: string): void {
  if (!Number.isInteger(a) || a < 0 || a >= size)
    throw new Error(`action set ${name}: action ${a} is not an integer in [0, ${size})`);
}

/**
 * Builds an {@link ActionSet} from its config (see {@link ActionSetConfigSchema}).
 *
 * @example
 * ```ts
 * const levels = makeActionSet('levels9', [1e-5, 1]);
 * levels.apply(0.5, 8, 0.01); // 0.1 (one decade above the reference 0.01)
 * ```
 */
export function makeActionSet(
  config: ActionSetConfig = 'factors9',
  lrClip: readonly [number, number] = [1e-5, 1],
): ActionSet {
  const c = parseConfig(ActionSetConfigSchema, config, 'action set config');
  const lc = parseConfig(clipSchema, [lrClip[0], lrClip[1]], 'lrClip') as [number, number];
  if (c === 'factors9' || c === 'factors3' || (typeof c === 'object' && c.kind === 'factors')) {
    const factors =
      c === 'factors9' ? DEFAULT_LR_FACTORS.slice() : c === 'factors3' ? SMALL_LR_FACTORS.slice() : c.factors.slice();
    const ones = factors.filter((f) => f === 1).length;
    if (ones !== 1)
      throw new Error(
        `action set config: factors must contain exactly one factor 1 (the "keep LR" default action), got ${ones} in [${factors.join(', ')}]`,
      );
    const keep = factors.indexOf(1);
    const name = typeof c === 'string' ? c : `factors[${factors.map((f) => +f.toPrecision(4)).join(',')}]`;
    return {
      name,
      size: factors.length,
      kind: 'multiplicative',
      lrClip: lc,
      apply(currentLr, action) {
        checkAction(action, factors.length, name);
        return clip(currentLr * factors[action], lc);
      },
      defaultAction: () => keep,
    };
  }
  const count = c === 'levels9' ? 9 : c.count;
  const decades = c === 'levels9' ? 1 : c.decadesEachSide;
  if (count % 2 !== 1)
    throw new Error(`action set config: levels count must be odd (centred on the reference LR), got ${count}`);
  const half = (count - 1) / 2;
  const exps = Array.from({ length: count }, (_, k) => ((k - half) * decades) / half);
  const name = `levels${count}(ref*10^±${decades})`;
  return {
    name,
    size: count,
    kind: 'absolute',
    lrClip: lc,
    apply(_currentLr, action, referenceLr) {
      checkAction(action, count, name);
      return clip(referenceLr * Math.pow(10, exps[action]), lc);
    },
    defaultAction(currentLr, referenceLr) {
      let best = 0;
      let bestD = Infinity;
      for (let k = 0; k < count; k++) {
        const d = Math.abs(Math.log(clip(referenceLr * Math.pow(10, exps[k]), lc)) - Math.log(currentLr));
        if (d < bestD - 1e-12) {
          bestD = d;
          best = k;
        }
      }
      return best;
    },
  };
}
