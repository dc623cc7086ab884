import { tf } from '../backend';

/** Per-sample inputs of the PPO loss (N samples; padded samples have mask 0). */
export interface PpoLossInputs {
  /** [N, A] log-probabilities of the current policy. */
  logProbs: tf.Tensor2D;
  /** [N] current value predictions. */
  values: tf.Tensor1D;
  /** [N] int32 actions taken. */
  actions: tf.Tensor1D;
  /** [N] log-probabilities of the actions under the behaviour policy. */
  oldLogProbs: tf.Tensor1D;
  /** [N] advantages (already normalised if wanted). */
  advantages: tf.Tensor1D;
  /** [N] value targets. */
  returns: tf.Tensor1D;
  /** [N] values predicted during the rollout (for value clipping). */
  oldValues: tf.Tensor1D;
  /** [N] 1 for real samples, 0 for padding. */
  mask: tf.Tensor1D;
}

export interface PpoLossOptions {
  /** Ratio clip ε. */
  clip: number;
  /** Clip range for the value prediction around the old value; null disables value clipping. */
  valueClip: number | null;
  valueCoef: number;
  entropyCoef: number;
}

/** Scalar tensors of one PPO loss evaluation. */
export interface PpoLossTerms {
  loss: tf.Scalar;
  policyLoss: tf.Scalar;
  valueLoss: tf.Scalar;
  entropy: tf.Scalar;
  approxKl: tf.Scalar;
  clipFraction: tf.Scalar;
}

/**
 * The PPO objective (CleanRL / MAPPO form), as masked means over the samples:
 * policy loss −min(ρA, clip(ρ, 1±ε)A); value loss ½·max((V−R)², (V_old + clip(V−V_old, ±c) − R)²)
 * (or ½(V−R)² without value clipping); total = policy + valueCoef·value − entropyCoef·entropy.
 * Also returns the approximate KL ((ρ−1) − log ρ) and the fraction of clipped ratios.
 * Call inside `tf.tidy` or a gradient function.
 *
 * @example
 * ```ts
 * const terms = ppoLoss(inputs, { clip: 0.2, valueClip: 0.2, valueCoef: 0.5, entropyCoef: 0.01 });
 * ```
 */
export function ppoLoss(x: PpoLossInputs, o: PpoLossOptions): PpoLossTerms {
  const n = x.logProbs.shape[0];
  const numActions = x.logProbs.shape[1];
  for (const [name, t] of Object.entries({
    values: x.values,
    actions: x.actions,
    oldLogProbs: x.oldLogProbs,
    advantages: x.advantages,
    returns: x.returns,
    oldValues: x.oldValues,
    mask: x.mask,
  })) {
    if (t.rank !== 1 || t.shape[0] !== n) throw new Error(`ppoLoss: ${name} has shape [${t.shape}], expected [${n}]`);
  }
  const count = tf.maximum(tf.sum(x.mask), 1);
  const mmean = (t: tf.Tensor) => tf.div(tf.sum(tf.mul(t, x.mask)), count) as tf.Scalar;
  const onehot = tf.oneHot(tf.cast(x.actions, 'int32'), numActions);
  const newLogp = tf.sum(tf.mul(x.logProbs, onehot), 1);
  const logRatio = tf.sub(newLogp, x.oldLogProbs);
  const ratio = tf.exp(logRatio);
  const pg1 = tf.mul(ratio, x.advantages);
  const pg2 = tf.mul(tf.clipByValue(ratio, 1 - o.clip, 1 + o.clip), x.advantages);
  const policyLoss = tf.neg(mmean(tf.minimum(pg1, pg2))) as tf.Scalar;
  const unclipped = tf.square(tf.sub(x.values, x.returns));
  let vTerm: tf.Tensor = unclipped;
  if (o.valueClip !== null) {
    const vClipped = tf.add(x.oldValues, tf.clipByValue(tf.sub(x.values, x.oldValues), -o.valueClip, o.valueClip));
    vTerm = tf.maximum(unclipped, tf.square(tf.sub(vClipped, x.returns)));
  }
  const valueLoss = tf.mul(0.5, mmean(vTerm)) as tf.Scalar;
  const probs = tf.exp(x.logProbs);
  const entropy = mmean(tf.neg(tf.sum(tf.mul(probs, x.logProbs), 1)));
  const loss = tf.sub(tf.add(policyLoss, tf.mul(o.valueCoef, valueLoss)), tf.mul(o.entropyCoef, entropy)) as tf.Scalar;
  const approxKl = mmean(tf.sub(tf.sub(ratio, 1), logRatio));
  const clipFraction = mmean(tf.cast(tf.greater(tf.abs(tf.sub(ratio, 1)), o.clip), 'float32'));
  return { loss, policyLoss, valueLoss, entropy, approxKl, clipFraction };
}
