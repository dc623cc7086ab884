/**
 * Measures ms per LayerwiseTrainer.step (not a test; no assertions). Run:
 *   npx tsx test/nn/bench-step.ts
 * Prints ms/step for the MLP 784-256-256-10 and the small CNN at batch 128 with SGD.
 */
import * as os from 'os';
import { initBackend, tf } from '../../src/backend';
import { Rng } from '../../src/random';
import { LayerwiseTrainer, buildCnn, buildMlp } from '../../src/nn';
import type { SequentialModel } from '../../src/nn';
import { backendCanTrainConvs } from './helpers';

function bench(name: string, model: SequentialModel, xShape: number[], steps: number): void {
  const rng = new Rng(1);
  const B = xShape[0];
  const n = xShape.reduce((a, b) => a * b, 1);
  const x = tf.tensor(rng.uniformArray(n, 0, 1), xShape);
  const y = tf.tensor1d(
    Array.from({ length: B }, () => rng.int(10)),
    'int32',
  );
  const trainer = new LayerwiseTrainer(model, {
    optimizer: 'sgd',
    learningRates: [0.1, 0.05, 0.02]
      .slice(0, model.groups.length)
      .concat(new Array(Math.max(0, model.groups.length - 3)).fill(0.01)),
  });
  for (let i = 0; i < 5; i++) trainer.step({ x, y });
  const times: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    for (let i = 0; i < steps; i++) trainer.step({ x, y });
    const c = process.cpuUsage(c0);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6 / steps);
    cpu.push((c.user + c.system) / 1e3 / steps);
  }
  times.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  console.log(
    `${name} (${tf.getBackend()}): wall best ${times[0].toFixed(2)} / median ${times[1].toFixed(2)} ms/step; ` +
      `process CPU best ${cpu[0].toFixed(2)} ms/step (${steps} steps x 3; load average ${os.loadavg()[0].toFixed(1)})`,
  );
  tf.dispose([x, y]);
  trainer.dispose();
  model.dispose();
}

void (async () => {
  const info = await initBackend();
  console.log(info.summary);
  bench(
    'MLP 784-256-256-10 batch 128 SGD',
    buildMlp({ inputSize: 784, hidden: [256, 256], numClasses: 10, seed: 1 }),
    [128, 784],
    100,
  );
  if (backendCanTrainConvs()) {
    bench(
      'CNN conv3x3x16-pool-conv3x3x32-pool-dense10 batch 128 SGD',
      buildCnn({
        inputShape: [28, 28, 1],
        blocks: [
          { filters: 16, kernel: 3, pool: { type: 'max', size: 2 } },
          { filters: 32, kernel: 3, pool: { type: 'max', size: 2 } },
        ],
        numClasses: 10,
        seed: 1,
      }),
      [128, 28, 28, 1],
      20,
    );
  } else {
    console.log('CNN: this backend cannot train convolutions (no gradient overrides yet)');
  }
})();
