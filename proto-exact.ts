import { tf, initBackend } from './src/backend';
import { buildMlp, LayerwiseTrainer, VectorisedTrainer } from './src/nn';
import { Rng } from './src/random';
async function main() {
  await initBackend();
  for (const [inp, hid, N] of [[784, [64, 64], 64], [64, [32], 32], [784, [128, 32], 64]] as [number, number[], number][]) {
    for (const optimizer of ['sgd', 'momentum', 'adam'] as const) {
      const mk = (s: number) => buildMlp({ inputSize: inp, hidden: hid, numClasses: 10, seed: s });
      const lw = new LayerwiseTrainer(mk(1), { optimizer, learningRates: 0.05 });
      const v1 = new VectorisedTrainer([mk(1)], { optimizer, learningRates: 0.05 });
      const v4 = new VectorisedTrainer([mk(1), mk(2), mk(1), mk(3)], { optimizer, learningRates: 0.05 });
      let same1 = true, same4 = true, same4b = true;
      for (let t = 0; t < 10; t++) {
        const r = new Rng(t);
        const b = { x: tf.tensor2d(r.normalArray(N * inp), [N, inp]), y: tf.tensor1d(Array.from({ length: N }, () => r.int(10)), 'int32') };
        const a = lw.step(b), c = v1.step(b)[0], d = v4.step(b);
        const eq = (p: any, q: any) => p.loss === q.loss && p.perSampleLossVar === q.perSampleLossVar && ['gradNorms', 'weightNorms', 'updateNorms', 'updateSignAgreement'].every((k) => p[k].every((x: number, i: number) => x === q[k][i]));
        same1 &&= eq(a, c); same4 &&= eq(a, d[0]); same4b &&= eq(d[0], d[2]);
        tf.dispose([b.x, b.y]);
      }
      const ev = lw.evaluate(tf.ones([5, inp]), tf.zeros([5], 'int32'));
      console.log(inp, hid, optimizer, 'B1==LW', same1, 'B4[0]==LW', same4, 'B4[0]==B4[2]', same4b);
    }
  }
}
main();
