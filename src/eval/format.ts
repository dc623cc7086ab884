import type { Interval } from './bootstrap';

/**
 * Formats an interval as `point [lo, hi]` with `digits` decimals, each value times `scale` (e.g. 100
 * for percentages). The one formatter of every table in the project.
 *
 * @example
 * ```ts
 * formatInterval({ point: 0.7123, lo: 0.69, hi: 0.73 }); // '0.712 [0.690, 0.730]'
 * formatInterval({ point: 0.7123, lo: 0.69, hi: 0.73 }, 2, 100); // '71.23 [69.00, 73.00]'
 * ```
 */
export function formatInterval(i: Interval, digits = 3, scale = 1): string {
  return `${(scale * i.point).toFixed(digits)} [${(scale * i.lo).toFixed(digits)}, ${(scale * i.hi).toFixed(digits)}]`;
}
