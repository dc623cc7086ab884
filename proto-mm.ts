import { tf, initBackend } from './src/backend';
async function main() {
  await initBackend();
  const time = (name: string, f: () => tf.Tensor | tf.Tensor[], reps = 300) => { for (let i = 0; i < 20; i++) tf.dispose(f()); const t0 = performance.now(); for (let i = 0; i < reps; i++) tf.dispose(f()); console.log(name.padEnd(40), ((performance.now() - t0) / reps * 1000).toFixed(0), 'us'); };
  const B = 8;
  const a = tf.randomNormal([B, 64, 64]), w = tf.randomNormal([B, 64, 64]);
  const as = tf.unstack(a), ws = tf.unstack(w);
  time('batched [8,64,64]@[8,64,64]', () => tf.matMul(a, w));
  time('8x [64,64]@[64,64]', () => as.map((x, i) => tf.matMul(x, ws[i])));
  const x = tf.randomNormal([64, 784]), W = tf.randomNormal([784, 512]), W1 = tf.randomNormal([784, 64]);
  time('wide [64,784]@[784,512]', () => tf.matMul(x, W));
  time('1x [64,784]@[784,64]', () => tf.matMul(x, W1));
  const a3 = tf.randomNormal([B, 64, 10]), w3 = tf.randomNormal([B, 64, 10]);
  time('batched [8,64,64]@[8,64,10]', () => tf.matMul(a, w3));
  const wt = tf.randomNormal([B, 784, 64]);
  time('transpose [8,784,64]->[784,8,64]', () => tf.transpose(wt, [1, 0, 2]));
  const xb = tf.randomNormal([B, 64, 784]);
  time('batched [8,64,784]@[8,784,64]', () => tf.matMul(xb, wt));
  const bd = tf.randomNormal([512, 512]); const h = tf.randomNormal([64, 512]);
  time('blockdiag [64,512]@[512,512]', () => tf.matMul(h, bd));
  time('elementwise mul [8,784,64]', () => tf.mul(wt, 0.5));
}
main();
