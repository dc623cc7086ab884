/**
 * Generalised advantage estimation over one contiguous trajectory segment of one agent.
 * `nextValue` is the value of the state after the last step: 0 when the episode terminated,
 * V(s_T) when it was truncated or the rollout window ended (bootstrapping).
 *
 * δ_t = r_t + γ V(s_{t+1}) − V(s_t),  A_t = δ_t + γλ A_{t+1},  R_t = A_t + V(s_t).
 *
 * @example
 * ```ts
 * const { advantages, returns } = computeGae([1, 0, 1], [0.5, 0.4, 0.3], 0, 0.99, 0.95);
 * ```
 */
export function computeGae(
  rewards: ArrayLike<number>,
  values: ArrayLike<number>,
  nextValue: number,
  gamma: number,
  lambda: number,
): { advantages: Float32Array; returns: Float32Array } {
  const n = rewards.length;
  if (values.length !== n) throw new Error(`computeGae: values has length ${values.length}, rewards has ${n}`);
  if (!(gamma >= 0 && gamma <= 1)) throw new Error(`computeGae: gamma must be in [0, 1], got ${gamma}`);
  if (!(lambda >= 0 && lambda <= 1)) throw new Error(`computeGae: lambda must be in [0, 1], got ${lambda}`);
  const advantages = new Float32Array(n);
  const returns = new Float32Array(n);
  let next = nextValue;
  let acc = 0;
  for (let t = n - 1; t >= 0; t--) {
    const delta = rewards[t] + gamma * next - values[t];
    acc = delta + gamma * lambda * acc;
    advantages[t] = acc;
    returns[t] = acc + values[t];
    next = values[t];
  }
  return { advantages, returns };
}
