// Initialise tfjs once for the whole suite (wasm by default; MARL_AUTOML_BACKEND overrides).
import { initBackend } from '../../src/backend';

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(60000);
    await initBackend();
  },
};
