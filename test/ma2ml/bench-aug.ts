// Not a test (no .test suffix): ms per augmented batch of 128 Fashion-MNIST images.
// Run: npx tsx test/ma2ml/bench-aug.ts
import { initBackend, tf } from '../../src/backend';
import { loadFashionMnist } from '../../src/data';
import { AUG_OPS, applyOp, augmentBatch, presetSpace, samplePipeline } from '../../src/ma2ml';
import type { AugPolicy } from '../../src/ma2ml';
import { Rng } from '../../src/random';

function median(f: () => tf.Tensor, reps = 30): { median: number; p10: number; p90: number } {
  for (let i = 0; i < 3; i++) tf.dispose(f());
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const y = f();
    y.dataSync();
    times.push(performance.now() - t0);
    y.dispose();
  }
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.floor(p * (reps - 1))];
  return { median: q(0.5), p10: q(0.1), p90: q(0.9) };
}

void (async () => {
  await initBackend();
  const d = loadFashionMnist({ limit: 1000 }).train;
  const x = tf.tensor4d(d.images.subarray(0, 128 * 784), [128, 28, 28, 1]);
  const rng = new Rng(0);
  const fmt = (r: { median: number; p10: number; p90: number }) =>
    `${r.median.toFixed(2)} ms (p10 ${r.p10.toFixed(2)}, p90 ${r.p90.toFixed(2)})`;
  console.log('per op, every image (level 7):');
  for (const op of AUG_OPS) console.log(`  ${op.padEnd(13)} ${fmt(median(() => applyOp(x, op, 7)))}`);
  const s2 = presetSpace('quick');
  const s5 = presetSpace('full');
  console.log(
    `augmentBatch, S=2 random policy per batch: ${fmt(median(() => augmentBatch(x, samplePipeline(s2, rng).aug, rng)))}`,
  );
  console.log(
    `augmentBatch, S=5 random policy per batch: ${fmt(median(() => augmentBatch(x, samplePipeline(s5, rng).aug, rng)))}`,
  );
  const all: AugPolicy = [];
  for (let i = 0; i < AUG_OPS.length; i += 2)
    all.push([
      { op: AUG_OPS[i], prob: 1, level: 7 },
      { op: AUG_OPS[(i + 1) % AUG_OPS.length], prob: 1, level: 7 },
    ]);
  console.log(`augmentBatch, 8 sub-policies covering all ops, prob 1: ${fmt(median(() => augmentBatch(x, all, rng)))}`);
  x.dispose();
})();
