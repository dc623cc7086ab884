export { tf } from './tf';
export type { Tensor, Variable } from './tf';
export { initBackend, backendInfo, BACKEND_ENV, BACKEND_ORDER, GRAD_OVERRIDES_ENV } from './select';
export type { BackendInfo, BackendName, InitBackendOptions } from './select';
export {
  installGradientOverrides,
  uninstallGradientOverrides,
  gradientOverridesInstalled,
  OVERRIDDEN_KERNELS,
} from './gradients';
export { installWasmKernelFixes, wasmKernelFixesInstalled, FIXED_WASM_KERNELS } from './kernel-fixes';
