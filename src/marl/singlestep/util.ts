/** Small helpers shared by the single-step learner and its autoregressive policy. */

let uidCounter = 0;
/** A process-unique integer, for unique tfjs variable names. */
export function uid(): number {
  return uidCounter++;
}

/** Index of the largest value (the first on ties). */
export function argmax(p: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
  return best;
}
