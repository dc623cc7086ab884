import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import { ppoLoss } from '../../src/marl';
import { assertClose, f, torchRef, type PpoRef } from './helpers';

function check(ref: PpoRef, valueClip: number | null) {
  const before = tf.memory().numTensors;
  const logits = tf.tensor2d(f(18, 30), [6, 3]);
  const values = tf.tensor1d(f(6, 31));
  const fixed = {
    actions: tf.tensor1d([0, 1, 2, 1, 0, 2], 'int32'),
    oldLogProbs: tf.tensor1d(ref.oldLogProbs),
    advantages: tf.tensor1d(f(6, 33)),
    returns: tf.tensor1d(f(6, 34)),
    oldValues: tf.tensor1d(ref.oldValues),
    mask: tf.tensor1d([1, 1, 1, 1, 1, 0]),
  };
  const opts = { clip: 0.2, valueClip, valueCoef: 0.5, entropyCoef: 0.01 };
  const terms = tf.tidy(() => {
    const t = ppoLoss({ logProbs: tf.logSoftmax(logits) as tf.Tensor2D, values, ...fixed }, opts);
    return [t.loss, t.policyLoss, t.valueLoss, t.entropy, t.approxKl, t.clipFraction].map((x) => x.dataSync()[0]);
  });
  const names = ['loss', 'policyLoss', 'valueLoss', 'entropy', 'approxKl', 'clipFraction'] as const;
  names.forEach((n, i) => assert.ok(Math.abs(terms[i] - ref[n]) < 2e-6, `${n}: ${terms[i]} vs torch ${ref[n]}`));
  const [gl, gv] = tf.grads(
    (l: tf.Tensor, v: tf.Tensor) =>
      ppoLoss({ logProbs: tf.logSoftmax(l) as tf.Tensor2D, values: v as tf.Tensor1D, ...fixed }, opts).loss,
  )([logits, values]);
  assertClose(gl.dataSync(), ref.gradLogits, 2e-6, 'dloss/dlogits');
  assertClose(gv.dataSync(), ref.gradValues, 2e-6, 'dloss/dvalues');
  // padded sample (mask 0) receives no gradient
  assert.deepEqual(Array.from(gl.dataSync().slice(15)), [0, 0, 0]);
  [gl, gv, logits, values, ...Object.values(fixed)].forEach((t) => t.dispose());
  assert.equal(tf.memory().numTensors, before);
}

describe('marl/ppoLoss', () => {
  it('loss terms and gradients match PyTorch on fixed inputs (value clipping on)', () => {
    assert.ok(
      torchRef.ppo.clipFraction > 0 && torchRef.ppo.clipFraction < 1,
      'fixture mixes clipped and unclipped ratios',
    );
    check(torchRef.ppo, 0.2);
  });

  it('loss terms and gradients match PyTorch without value clipping', () => {
    assert.notEqual(torchRef.ppo.valueLoss, torchRef.ppoNoValueClip.valueLoss);
    check(torchRef.ppoNoValueClip, null);
  });

  it('names the offending input on a shape mismatch', () => {
    tf.tidy(() => {
      const z = tf.zeros([4]) as tf.Tensor1D;
      assert.throws(
        () =>
          ppoLoss(
            {
              logProbs: tf.zeros([4, 2]) as tf.Tensor2D,
              values: z,
              actions: z,
              oldLogProbs: tf.zeros([3]) as tf.Tensor1D,
              advantages: z,
              returns: z,
              oldValues: z,
              mask: z,
            },
            { clip: 0.2, valueClip: null, valueCoef: 0.5, entropyCoef: 0 },
          ),
        /oldLogProbs has shape \[3\], expected \[4\]/,
      );
    });
  });
});
