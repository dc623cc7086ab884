import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import { Adam, clipGradNorm } from '../../src/marl';
import { assertClose, f, torchRef } from './helpers';

describe('marl/Adam and clipGradNorm', () => {
  it('Adam follows torch.optim.Adam over 5 steps with gradients spanning 4 orders of magnitude', () => {
    const before = tf.memory().numTensors;
    const p = tf.tidy(() => tf.variable(tf.tensor1d(f(5, 7))));
    const opt = new Adam({ lr: 0.01 });
    for (let t = 0; t < 5; t++) {
      const g = tf.tensor1d(f(5, 10 + t).map((v) => v * 10 ** (t - 2)));
      opt.apply(new Map([['p', p]]), new Map([['p', g]]));
      g.dispose();
    }
    assertClose(p.dataSync(), torchRef.adam.p5, 1e-6, 'p after 5 steps');
    assert.equal(opt.step, 5);
    opt.dispose();
    p.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  it('keeps moments by name: two parameters updated in different orders give the same result', () => {
    const run = (order: string[]) => {
      const ps = new Map([
        ['a', tf.variable(tf.tensor1d([1, 2]))],
        ['b', tf.variable(tf.tensor1d([3]))],
      ]);
      const opt = new Adam({ lr: 0.1 });
      for (let t = 0; t < 3; t++) {
        const gs = new Map(
          order.map((n) => [n, n === 'a' ? tf.tensor1d([0.5, -1 * (t + 1)]) : tf.tensor1d([2])] as [string, tf.Tensor]),
        );
        opt.apply(ps, gs);
        gs.forEach((g) => g.dispose());
      }
      const out = [...ps.get('a')!.dataSync(), ...ps.get('b')!.dataSync()];
      opt.dispose();
      ps.forEach((v) => v.dispose());
      return out;
    };
    assert.deepEqual(run(['a', 'b']), run(['b', 'a']));
  });

  it('rejects gradients for unknown parameters or of the wrong shape', () => {
    const p = tf.variable(tf.zeros([2]));
    const g = tf.zeros([3]);
    const opt = new Adam();
    assert.throws(() => opt.apply(new Map([['p', p]]), new Map([['q', g]])), /unknown parameter 'q'/);
    assert.throws(
      () => opt.apply(new Map([['p', p]]), new Map([['p', g]])),
      /'p' has shape \[3\], parameter has \[2\]/,
    );
    assert.throws(() => new Adam({ lr: -1 }), /lr/);
    opt.dispose();
    p.dispose();
    g.dispose();
  });

  it('clipGradNorm matches torch.nn.utils.clip_grad_norm_ and leaves small gradients alone', () => {
    const before = tf.memory().numTensors;
    const grads = new Map<string, tf.Tensor>([
      ['a', tf.tensor2d(f(6, 20), [2, 3])],
      ['b', tf.tensor1d(f(4, 21, 2))],
    ]);
    const { grads: clipped, totalNorm } = clipGradNorm(grads, 0.5);
    assert.ok(Math.abs(totalNorm - torchRef.clip.total) < 1e-5, `total ${totalNorm}`);
    assertClose(clipped.get('a')!.dataSync(), torchRef.clip.a, 1e-6, 'a');
    assertClose(clipped.get('b')!.dataSync(), torchRef.clip.b, 1e-6, 'b');
    const same = clipGradNorm(clipped, 10);
    assert.equal(same.grads, clipped);
    clipped.forEach((g) => g.dispose());
    assert.equal(tf.memory().numTensors, before);
  });
});
