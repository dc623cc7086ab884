import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import { dense, gruCell } from '../../src/marl';
import { assertClose, f, torchRef, transpose } from './helpers';

describe('marl/nn', () => {
  it('gruCell matches torch.nn.GRUCell for one step', () => {
    const before = tf.memory().numTensors;
    const h1 = tf.tidy(() =>
      gruCell(tf.tensor2d(f(6, 1), [2, 3]), tf.tensor2d(f(8, 2, 0.5), [2, 4]), {
        wih: tf.tensor2d(transpose(f(36, 3, 0.4), 12, 3), [3, 12]),
        whh: tf.tensor2d(transpose(f(48, 4, 0.4), 12, 4), [4, 12]),
        bih: tf.tensor1d(f(12, 5, 0.2)),
        bhh: tf.tensor1d(f(12, 6, 0.2)),
      }),
    );
    assertClose(h1.dataSync(), torchRef.gru.h1, 2e-6, 'h1');
    h1.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  it('dense with per-agent weights equals each agent using its own weight set', () => {
    const [n, din, dout, b] = [3, 4, 2, 5];
    const w = f(n * din * dout, 1);
    const bias = f(n * dout, 2);
    const x = f(b * din, 3);
    const agents = [2, 0, 1, 2, 0];
    const onehot = new Float32Array(b * n);
    agents.forEach((a, i) => (onehot[i * n + a] = 1));
    const y = tf.tidy(() =>
      dense(
        tf.tensor2d(x, [b, din]),
        tf.tensor3d(w, [n, din, dout]),
        tf.tensor2d(bias, [n, dout]),
        tf.tensor2d(onehot, [b, n]),
      ).dataSync(),
    );
    for (let i = 0; i < b; i++) {
      const a = agents[i];
      for (let o = 0; o < dout; o++) {
        let s = bias[a * dout + o];
        for (let k = 0; k < din; k++) s += x[i * din + k] * w[a * din * dout + k * dout + o];
        assert.ok(Math.abs(y[i * dout + o] - s) < 1e-5, `row ${i} out ${o}: ${y[i * dout + o]} vs ${s}`);
      }
    }
  });
});
