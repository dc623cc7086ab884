/**
 * The fixed pipeline of single-module MA2ML searches: the modules a search does not optimise stay at
 * this documented default (no augmentation, middle hyperparameters, the middle architecture lowered
 * until it fits the FLOPs budget).
 */
import { agentDimensions, checkPipeline, decodePipeline } from '../pipeline';
import type { Pipeline, SearchSpace } from '../spaces';

/**
 * The fixed pipeline of single-module searches (reconstruction, documented in the README): AUG
 * every op slot Identity with probability 0 (no augmentation); HPO every dimension at its middle
 * choice (index `floor((k - 1) / 2)`: SGD-momentum, lr 0.03, wd 5e-5, batch 128, label smoothing 0.1,
 * mixup 0.2, dropout 0.1 in the quick space); NAS every dimension at its middle choice, then, while
 * over `flopsBudget` (or invalid), the token whose lowering by one saves the most MACs is lowered.
 *
 * @example
 * ```ts
 * const p = defaultPipeline(presetSpace('quick'), 6e5);
 * checkPipeline(presetSpace('quick'), p, { flopsBudget: 6e5 }).valid; // true
 * ```
 */
export function defaultPipeline(space: SearchSpace, flopsBudget: number): Pipeline {
  if (!(flopsBudget > 0)) throw new Error(`defaultPipeline: flopsBudget must be positive, got ${flopsBudget}`);
  const dims = agentDimensions(space);
  const mid = (k: number) => Math.floor((k - 1) / 2);
  const aug = dims.aug.map((d) => {
    if (d.name.endsWith('op')) {
      const i = d.choices.indexOf('Identity');
      return i >= 0 ? i : 0;
    }
    const i = d.choices.indexOf(0);
    return i >= 0 ? i : 0;
  });
  const hpo = dims.hpo.map((d) => mid(d.choices.length));
  const nas = dims.nas.map((d) => mid(d.choices.length));
  const macsOf = (n: number[]): number => {
    const c = checkPipeline(space, decodePipeline(space, [aug, n, hpo]));
    return c.valid ? c.macs : Number.POSITIVE_INFINITY;
  };
  for (let guard = 0; macsOf(nas) > flopsBudget; guard++) {
    let best = -1;
    let bestMacs = Number.POSITIVE_INFINITY;
    nas.forEach((t, i) => {
      if (t === 0) return;
      const trial = nas.slice();
      trial[i] = t - 1;
      const m = macsOf(trial);
      if (m < bestMacs) [best, bestMacs] = [i, m];
    });
    if (best < 0 || guard > 1000)
      throw new Error(
        `defaultPipeline: no architecture of '${space.name}' reachable by lowering tokens fits ${flopsBudget} MACs`,
      );
    nas[best]--;
  }
  return decodePipeline(space, [aug, nas, hpo]);
}
