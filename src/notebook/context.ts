import * as os from 'os';
import { backendInfo } from '../backend';
import { preset } from './presets';

/** Where and how a result was produced: stated under every published table. */
export interface RunContext {
  preset: string;
  machine: string;
  backend: string;
  node: string;
}

/**
 * Describes the current machine, backend and preset.
 *
 * @example
 * ```ts
 * runContext(); // { preset: 'quick', machine: '2 x Intel(R) Xeon(R) ..., 24 GiB', backend: 'wasm', node: 'v20.20.2' }
 * ```
 */
export function runContext(): RunContext {
  const cpus = os.cpus();
  const model = cpus[0]?.model?.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
  return {
    preset: preset(),
    machine: `${cpus.length} x ${model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    backend: backendInfo()?.name ?? 'not initialised',
    node: process.version,
  };
}

/**
 * One-line provenance caption for a table or figure: preset, seeds, budget, wall time, machine.
 *
 * @example
 * ```ts
 * provenance({ seeds: [0, 1, 2], budget: '1500 SGD steps, batch 128', wallSeconds: 84.2 });
 * // "preset quick · seeds 0,1,2 · budget 1500 SGD steps, batch 128 · wall 84 s · wasm on 2 x ..."
 * ```
 */
export function provenance(info: { seeds: readonly number[]; budget: string; wallSeconds: number }): string {
  const c = runContext();
  return `preset ${c.preset} · seeds ${info.seeds.join(',')} · budget ${info.budget} · wall ${info.wallSeconds.toFixed(0)} s · ${c.backend} on ${c.machine}, Node ${c.node}`;
}
