import { tf, initBackend } from './src/backend';
type TI = { dataId: object; shape: number[]; dtype: tf.DataType };
async function main() {
  await initBackend();
  const k = tf.getKernel('BatchMatMul', 'wasm')!;
  const stock = k.kernelFunc as (a: unknown) => TI;
  const sliced = (args: any): TI => {
    const { inputs, backend, attrs } = args;
    const { a, b } = inputs as { a: TI; b: TI };
    const ra = a.shape.length, rb = b.shape.length;
    const batchA = a.shape.slice(0, -2).reduce((x, y) => x * y, 1), batchB = b.shape.slice(0, -2).reduce((x, y) => x * y, 1);
    if ((batchA <= 1 && batchB <= 1) || attrs.transposeA || attrs.transposeB) return stock(args);
    const [M, K] = a.shape.slice(-2), N = b.shape[rb - 1];
    const batch = Math.max(batchA, batchB);
    const out = backend.makeOutput([batch, M, N], 'float32');
    const H = (t: TI) => backend.typedArrayFromHeap(t) as Float32Array;
    for (let i = 0; i < batch; i++) {
      const a2 = backend.makeOutput([M, K], 'float32'), b2 = backend.makeOutput([K, N], 'float32');
      const ia = batchA === 1 ? 0 : i, ib = batchB === 1 ? 0 : i;
      H(a2).set(H(a).subarray(ia * M * K, (ia + 1) * M * K));
      H(b2).set(H(b).subarray(ib * K * N, (ib + 1) * K * N));
      const o = stock({ inputs: { a: a2, b: b2 }, backend, attrs: { transposeA: false, transposeB: false } });
      H(out).set(H(o), i * M * N);
      backend.disposeData(o.dataId);
      backend.disposeData(a2.dataId); backend.disposeData(b2.dataId);
    }
    out.shape = [...(batchA >= batchB ? a.shape.slice(0, -2) : b.shape.slice(0, -2)), M, N];
    return out;
  };
  const time = (name: string, f: () => tf.Tensor | tf.Tensor[], reps = 200) => { for (let i = 0; i < 10; i++) tf.dispose(f()); const t0 = performance.now(); for (let i = 0; i < reps; i++) tf.dispose(f()); console.log(name.padEnd(40), ((performance.now() - t0) / reps * 1000).toFixed(0), 'us'); };
  const B = 8;
  const a = tf.randomNormal([B, 64, 64]), w = tf.randomNormal([B, 64, 64]);
  const ref = tf.matMul(a, w);
  time('stock batched', () => tf.matMul(a, w));
  tf.unregisterKernel('BatchMatMul', 'wasm'); tf.registerKernel({ ...k, kernelFunc: sliced as any });
  const got = tf.matMul(a, w);
  console.log('maxdiff', tf.max(tf.abs(tf.sub(ref, got))).dataSync()[0]);
  time('sliced batched', () => tf.matMul(a, w));
  const as = tf.unstack(a), ws = tf.unstack(w);
  time('8x 2D', () => as.map((x, i) => tf.matMul(x, ws[i])));
  const xb = tf.randomNormal([B, 64, 784]), wt = tf.randomNormal([B, 784, 64]);
  time('sliced [8,64,784]@[8,784,64]', () => tf.matMul(xb, wt));
}
main();
