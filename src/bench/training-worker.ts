/**
 * Worker side of the `training` bench suite: initialises its own tfjs + wasm (with or without
 * the gradient overrides), builds the model with plain tfjs ops, warms up, reports `ready`,
 * waits for `go` (so concurrent workers time the same interval), times the steps and reports.
 */
import { parentPort, workerData } from 'worker_threads';
import { tf, initBackend } from '../backend';
import { Rng } from '../random';
import type { TrainingJob, WorkerMessage } from './training-types';

type T = tf.Tensor;

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function heInit(rng: Rng, shape: number[], fanIn: number): tf.Variable {
  return tf.variable(tf.tensor(rng.normalArray(size(shape), 0, Math.sqrt(2 / fanIn)), shape));
}

/** Builds a model and a fixed synthetic batch; returns the loss closure and its variables. */
function build(job: TrainingJob): { vars: tf.Variable[]; loss: () => tf.Scalar; data: T[] } {
  const rng = new Rng(job.seed);
  const n = job.batch;
  const classes = 10;
  const labels = Int32Array.from({ length: n }, () => rng.int(classes));
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), classes);
  if (job.model === 'mlp') {
    const x = tf.tensor2d(rng.normalArray(n * 784), [n, 784]);
    const vars = [
      heInit(rng, [784, 256], 784),
      tf.variable(tf.zeros([256])),
      heInit(rng, [256, 256], 256),
      tf.variable(tf.zeros([256])),
      heInit(rng, [256, 10], 256),
      tf.variable(tf.zeros([10])),
    ];
    const [w1, b1, w2, b2, w3, b3] = vars;
    const loss = () => {
      const h1 = tf.relu(tf.add(tf.matMul(x, w1), b1));
      const h2 = tf.relu(tf.add(tf.matMul(h1, w2), b2));
      return tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(h2, w3), b3)) as tf.Scalar;
    };
    return { vars, loss, data: [x, y] };
  }
  const x = tf.tensor4d(rng.normalArray(n * 28 * 28), [n, 28, 28, 1]);
  const vars = [
    heInit(rng, [3, 3, 1, 16], 9),
    tf.variable(tf.zeros([16])),
    heInit(rng, [3, 3, 16, 32], 144),
    tf.variable(tf.zeros([32])),
    heInit(rng, [7 * 7 * 32, 10], 7 * 7 * 32),
    tf.variable(tf.zeros([10])),
  ];
  const [c1, cb1, c2, cb2, w, b] = vars;
  const loss = () => {
    let h = tf.relu(tf.add(tf.conv2d(x, c1 as tf.Tensor4D, 1, 'same'), cb1)) as tf.Tensor4D;
    h = tf.maxPool(h, 2, 2, 'valid');
    h = tf.relu(tf.add(tf.conv2d(h, c2 as tf.Tensor4D, 1, 'same'), cb2)) as tf.Tensor4D;
    h = tf.maxPool(h, 2, 2, 'valid');
    const logits = tf.add(tf.matMul(tf.reshape(h, [n, -1]), w), b);
    return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
  };
  return { vars, loss, data: [x, y] };
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('training-worker must run in a worker thread');
  const job = workerData as TrainingJob;
  const send = (m: WorkerMessage) => port.postMessage(m);
  let model: ReturnType<typeof build>;
  let optimizer: tf.SGDOptimizer;
  const lossValues: number[] = [];
  const step = (record: boolean) => {
    const cost = optimizer.minimize(model.loss, true, model.vars)!;
    if (record) lossValues.push(cost.dataSync()[0]);
    cost.dispose();
  };
  try {
    const info = await initBackend({ backend: 'wasm', gradientOverrides: job.gradientOverrides });
    if (info.gradientOverrides !== job.gradientOverrides)
      throw new Error(`gradient overrides ${info.gradientOverrides} != requested ${job.gradientOverrides}`);
    model = build(job);
    optimizer = tf.train.sgd(job.learningRate);
    for (let i = 0; i < job.warmup; i++) step(i === 0);
  } catch (err) {
    send({ type: 'ready', error: (err as Error).message ?? String(err) });
    return;
  }
  send({ type: 'ready' });
  await new Promise<void>((resolve) => port.once('message', () => resolve()));
  const tensorsBefore = tf.memory().numTensors;
  const t0 = performance.now();
  for (let i = 0; i < job.steps; i++) step(false);
  model.vars[0].dataSync(); // wasm runs synchronously; this only guards against lazy backends
  const elapsed = performance.now() - t0;
  const leaked = tf.memory().numTensors - tensorsBefore;
  step(true);
  send({
    type: 'done',
    msPerStep: elapsed / job.steps,
    firstLoss: lossValues[0],
    lastLoss: lossValues[lossValues.length - 1],
    leakedTensors: leaked,
  });
  tf.dispose([...model.data, ...model.vars]);
  optimizer.dispose();
}

main().catch((err) => {
  parentPort?.postMessage({
    type: 'ready',
    error: `worker crashed: ${(err as Error).stack ?? String(err)}`,
  } satisfies WorkerMessage);
});
