/**
 * Fast, complete gradients for the wasm backend (placeholder until the overrides land):
 * see ../shared/notes/stack.md. Installing replaces tfjs's stock gradients globally.
 */
export function installGradientOverrides(): void {
  // Filled in by the backend gradient work.
}
