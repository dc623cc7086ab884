import { tf, initBackend } from './src/backend';
import { buildMlp, LayerwiseTrainer } from './src/nn';
async function main() {
  await initBackend();
  const B = Number(process.argv[2] ?? 8), N = 64, dims = [784, 64, 64, 10];
  const x = tf.randomNormal([N, 784]); const y = tf.tensor1d(Array.from({ length: N }, (_, i) => i % 10), 'int32');
  const time = (name: string, f: () => void, reps = 200) => { for (let i = 0; i < 20; i++) f(); const t0 = performance.now(); for (let i = 0; i < reps; i++) f(); const ms = (performance.now() - t0) / reps; console.log(name, ms.toFixed(3), 'ms/step', (ms / B).toFixed(3), 'ms/net-step'); };
  // (c) separate trainers
  const trs = Array.from({ length: B }, (_, i) => new LayerwiseTrainer(buildMlp({ inputSize: 784, hidden: [64, 64], numClasses: 10, seed: i }), { optimizer: 'sgd', learningRates: 0.01 }));
  time('separate', () => { for (const t of trs) t.step({ x, y }); }, 50);
  const hot = tf.cast(tf.oneHot(y, 10), 'float32');
  for (const layout of ['bio', 'ibo'] as const) {
    const Ws = dims.slice(0, -1).map((d, l) => tf.variable(tf.randomNormal(l === 0 && layout === 'ibo' ? [d, B, dims[l + 1]] : [B, d, dims[l + 1]], 0, 0.05)));
    const bs = dims.slice(1).map((d) => tf.variable(tf.zeros([B, 1, d])));
    const vars = [...Ws, ...bs];
    const lr = tf.fill([B, 1, 1], 0.01);
    time(layout, () => {
      const m = tf.tidy(() => {
        let stats: tf.Tensor | undefined;
        const { grads } = tf.variableGrads(() => {
          const W0 = layout === 'ibo' ? tf.reshape(Ws[0], [784, B * 64]) : tf.reshape(tf.transpose(Ws[0], [1, 0, 2]), [784, B * 64]);
          let h: tf.Tensor = tf.transpose(tf.reshape(tf.matMul(x, W0), [N, B, 64]), [1, 0, 2]);
          h = tf.relu(tf.add(h, bs[0]));
          for (let l = 1; l < Ws.length; l++) { h = tf.add(tf.matMul(h, Ws[l]), bs[l]); if (l < Ws.length - 1) h = tf.relu(h); }
          const ps = tf.neg(tf.sum(tf.mul(hot, tf.logSoftmax(h)), 2)); // [B,N]
          const { mean, variance } = tf.moments(ps, 1);
          stats = tf.keep(tf.stack([mean, variance]));
          return tf.sum(mean) as tf.Scalar;
        }, vars);
        const out: tf.Tensor[] = [stats!];
        for (const v of vars) {
          const g = grads[v.name];
          const lrB = v === Ws[0] && layout === 'ibo' ? tf.reshape(lr, [1, B, 1]) : lr;
          const nw = tf.sub(v, tf.mul(g, lrB));
          v.assign(nw);
          const ax = v === Ws[0] && layout === 'ibo' ? [0, 2] : [1, 2];
          out.push(tf.stack([tf.sum(tf.square(g), ax), tf.sum(tf.square(nw), ax)]));
        }
        return tf.concat(out);
      });
      m.dataSync(); m.dispose();
    });
  }
  console.log(tf.memory().numTensors);
}
main();
