import { strict as assert } from 'assert';
import { initBackend, backendInfo, tf } from '../../src/backend';

describe('backend/initBackend', () => {
  it('reports the chosen backend and why faster ones were skipped', async () => {
    const info = await initBackend();
    assert.equal(backendInfo(), info);
    assert.equal(tf.getBackend(), info.tfBackend);
    if (!process.env.MARL_AUTOML_BACKEND) {
      // On machines without libtensorflow the two native backends are skipped with reasons.
      for (const s of info.skipped) assert.ok(s.reason.length > 0);
      assert.ok(info.summary.startsWith(info.name));
    }
  });

  it('refuses to switch backend within a process', async () => {
    const info = await initBackend();
    const other = info.name === 'cpu' ? 'wasm' : 'cpu';
    await assert.rejects(initBackend({ backend: other }), /already initialised/);
  });

  it('rejects unknown backend names clearly', async () => {
    await assert.rejects(initBackend({ backend: 'tpu' as never }), /unknown backend 'tpu'/);
  });
});
