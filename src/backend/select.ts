import { tf } from './tf';
import { installGradientOverrides } from './gradients';
import { installWasmKernelFixes } from './kernel-fixes';

/** Backends the library can run on, fastest first. */
export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

/** Environment variable that forces a backend (`auto` or one of {@link BackendName}). */
export const BACKEND_ENV = 'MARL_AUTOML_BACKEND';
/** Environment variable that disables the wasm gradient overrides when set to `0`. */
export const GRAD_OVERRIDES_ENV = 'MARL_AUTOML_GRAD_OVERRIDES';

/** What {@link initBackend} chose and why. */
export interface BackendInfo {
  /** Library-level name of the chosen backend. */
  name: BackendName;
  /** tfjs's own backend name (`tensorflow`, `wasm`, `cpu`). */
  tfBackend: string;
  /** Whether the fast gradient overrides are installed (wasm only). */
  gradientOverrides: boolean;
  /** Why each faster candidate was skipped. */
  skipped: { name: BackendName; reason: string }[];
  /** One-line human summary. */
  summary: string;
}

export interface InitBackendOptions {
  /** `auto` (default: env var, else fastest available) or a specific backend. */
  backend?: BackendName | 'auto';
  /** Install the wasm gradient overrides (default true; env `MARL_AUTOML_GRAD_OVERRIDES=0` disables). */
  gradientOverrides?: boolean;
}

let current: BackendInfo | undefined;
let pending: Promise<BackendInfo> | undefined;

/** The backend chosen by {@link initBackend}, or undefined before it ran. */
export function backendInfo(): BackendInfo | undefined {
  return current;
}

/**
 * Initialises tfjs once per process (or worker) and reports the chosen backend.
 * Order: tfjs-node-gpu, tfjs-node, wasm, cpu; the first that loads wins. `MARL_AUTOML_BACKEND`
 * or `options.backend` forces one, and a forced backend that cannot load is an error.
 * Calling it again returns the first result (a different explicit request is an error).
 *
 * @example
 * ```ts
 * const info = await initBackend();
 * console.log(info.summary); // e.g. "wasm (SIMD, gradient overrides on); skipped tensorflow-gpu: not installed, ..."
 * ```
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const requested = resolveRequest(options.backend);
  if (current) {
    if (requested !== 'auto' && requested !== current.name) {
      throw new Error(
        `initBackend: backend already initialised as '${current.name}', cannot switch to '${requested}' in the same process`,
      );
    }
    return current;
  }
  if (!pending) {
    pending = doInit(requested, options).then(
      (info) => (current = info),
      (err) => {
        pending = undefined;
        throw err;
      },
    );
  }
  return pending;
}

function resolveRequest(explicit: InitBackendOptions['backend']): BackendName | 'auto' {
  const raw = explicit ?? process.env[BACKEND_ENV] ?? 'auto';
  if (raw === 'auto' || (BACKEND_ORDER as readonly string[]).includes(raw)) return raw as BackendName | 'auto';
  throw new Error(
    `${BACKEND_ENV}/backend option: unknown backend '${raw}'; expected one of auto, ${BACKEND_ORDER.join(', ')}`,
  );
}

async function doInit(requested: BackendName | 'auto', options: InitBackendOptions): Promise<BackendInfo> {
  const candidates = requested === 'auto' ? BACKEND_ORDER : [requested];
  const skipped: BackendInfo['skipped'] = [];
  for (const name of candidates) {
    const reason = await tryLoad(name);
    if (reason === undefined) {
      const tfBackend = tf.getBackend();
      let overrides = false;
      const wantOverrides = options.gradientOverrides ?? process.env[GRAD_OVERRIDES_ENV] !== '0';
      if (name === 'wasm' && wantOverrides) {
        installGradientOverrides();
        overrides = true;
      }
      const extra = name === 'wasm' ? ` (gradient overrides ${overrides ? 'on' : 'off'})` : '';
      const skippedText = skipped.length ? `; skipped ${skipped.map((s) => `${s.name}: ${s.reason}`).join(', ')}` : '';
      return { name, tfBackend, gradientOverrides: overrides, skipped, summary: `${name}${extra}${skippedText}` };
    }
    if (requested !== 'auto') throw new Error(`initBackend: requested backend '${name}' is unavailable: ${reason}`);
    skipped.push({ name, reason });
  }
  throw new Error(
    `initBackend: no backend could be initialised (${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')})`,
  );
}

/** Loads and activates one backend; returns undefined on success or the reason it is unavailable. */
async function tryLoad(name: BackendName): Promise<string | undefined> {
  try {
    switch (name) {
      case 'tensorflow-gpu':
      case 'tensorflow': {
        const pkg = name === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
        let mod: { __marlAutomlStub?: boolean } | undefined;
        try {
          mod = require(pkg);
        } catch (err) {
          const msg = (err as Error).message ?? String(err);
          return /Cannot find module/.test(msg) && msg.includes(pkg)
            ? 'not installed'
            : `failed to load (${firstLine(msg)})`;
        }
        if (mod?.__marlAutomlStub) return 'only the danfojs stub is installed';
        if (!(await tf.setBackend('tensorflow'))) return 'tfjs refused the tensorflow backend';
        await tf.ready();
        return undefined;
      }
      case 'wasm': {
        // Imported lazily: importing the wasm package makes it the highest-priority backend.
        require('@tensorflow/tfjs-backend-wasm');
        if (!(await tf.setBackend('wasm'))) return 'wasm backend failed to initialise';
        await tf.ready();
        installWasmKernelFixes(); // wrong-result kernels of tfjs-backend-wasm 4.22 (see kernel-fixes.ts)
        return undefined;
      }
      case 'cpu':
        if (!(await tf.setBackend('cpu'))) return 'cpu backend failed to initialise';
        await tf.ready();
        return undefined;
    }
  } catch (err) {
    return `failed to initialise (${firstLine((err as Error).message ?? String(err))})`;
  }
}

function firstLine(s: string): string {
  return s.split('\n')[0].slice(0, 200);
}
