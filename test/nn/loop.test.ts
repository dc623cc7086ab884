import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import { buildMlp, LayerwiseTrainer, runTraining } from '../../src/nn';
import { BatchIterator, datasetToTensors, makeSyntheticTrainTest } from '../../src/data';

describe('nn/runTraining', () => {
  const data = makeSyntheticTrainTest({
    nTrain: 512,
    nTest: 256,
    height: 6,
    width: 6,
    channels: 1,
    numClasses: 4,
    seed: 3,
    noise: 0.3,
  });

  function setup(seed = 1) {
    const model = buildMlp({ inputSize: 36, hidden: [16], numClasses: 4, seed });
    const trainer = new LayerwiseTrainer(model, { optimizer: 'sgd', learningRates: [0.1, 0.1] });
    const batches = new BatchIterator(data.train, { batchSize: 32, seed, flatten: true });
    return { model, trainer, batches };
  }

  it('follows the learning-rate plan per step and learns', () => {
    const { model, trainer, batches } = setup();
    const val = datasetToTensors(data.test, { flatten: true });
    const before = tf.memory().numTensors;
    const res = runTraining(trainer, batches, {
      steps: 150,
      evalEvery: 50,
      validation: val,
      learningRates: (t) => [0.2 * (1 - t / 150), 0.1],
    });
    assert.equal(tf.memory().numTensors, before, 'no tensors leaked by the loop');
    assert.equal(res.steps, 150);
    assert.equal(res.diverged, false);
    assert.equal(res.history.length, 150);
    assert.deepEqual(res.history[9].learningRates, [0.2 * (1 - 9 / 150), 0.1]);
    assert.deepEqual(
      res.history.filter((r) => r.valAccuracy !== undefined).map((r) => r.step),
      [50, 100, 150],
    );
    assert.ok(res.final.valAccuracy > 0.8, `validation accuracy ${res.final.valAccuracy}`);
    tf.dispose([val.x, val.y]);
    trainer.dispose();
    model.dispose();
    batches.dispose();
  });

  it('reports divergence as an outcome and stops early', () => {
    const { model, trainer, batches } = setup(2);
    const val = datasetToTensors(data.test, { flatten: true });
    const res = runTraining(trainer, batches, { steps: 200, validation: val, learningRates: () => 1e6 });
    assert.equal(res.diverged, true);
    assert.ok(res.steps < 200);
    assert.ok(Number.isNaN(res.final.valAccuracy));
    tf.dispose([val.x, val.y]);
    trainer.dispose();
    model.dispose();
    batches.dispose();
  });

  it('rejects bad options with the field name', () => {
    const { model, trainer, batches } = setup();
    assert.throws(
      () =>
        runTraining(trainer, batches, { steps: 0, validation: { x: tf.zeros([1, 36]), y: tf.zeros([1], 'int32') } }),
      /training run options: steps/,
    );
    trainer.dispose();
    model.dispose();
    batches.dispose();
  });
});
