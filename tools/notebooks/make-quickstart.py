"""Writes notebooks/00-quickstart.ipynb. Run: python3 tools/notebooks/make-quickstart.py"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nbgen import code, md, write  # noqa: E402


md("""
# 00 · Quick start: per-layer learning rates on Fashion-MNIST

This notebook walks through the library's foundation, the pieces every later notebook builds on:

1. initialise the compute backend (wasm with our fast gradients, or tfjs-node where installed);
2. load Fashion-MNIST and make seeded train / validation / test splits;
3. build an MLP whose parameters are grouped **by layer** (one group = one future GANNO agent);
4. train it with **one learning rate per layer**: a constant schedule for all layers vs. a hand-set
   per-layer schedule (higher rates in early layers, cosine-annealed with PyTorch semantics);
5. plot loss curves and each layer's learning rate, and show a results table with 95% bootstrap CIs.

The budget (steps, seeds) comes from the active preset (`smoke` in CI, `quick` by default, `full` for
the README numbers), so the same notebook runs in seconds or minutes.
""")
code("""
import { initBackend } from './dist/src/backend';
import { loadFashionMnist, makeSplits, BatchIterator, datasetToTensors, classCounts, FASHION_MNIST_CLASSES } from './dist/src/data';
import { buildMlp, mlpSpec, countFlops, LayerwiseTrainer, runTraining } from './dist/src/nn';
import type { TrainingRunResult } from './dist/src/nn';
import { CosineAnnealingLR } from './dist/src/schedules';
import { meanCI, probabilityOfImprovement } from './dist/src/eval';
import { preset, budget, showFigure, showTable, lineFigure, notebookProgress, provenance } from './dist/src/notebook';

const backend = await initBackend();
const steps: number = budget({ smoke: 60, quick: 1500, full: 4000 });
const seeds: number[] = budget({ smoke: [0], quick: [0, 1, 2], full: [0, 1, 2, 3, 4] });
const batchSize = 128;
console.log(`backend: ${backend.summary}`);
console.log(`preset ${preset()}: ${steps} SGD steps at batch ${batchSize}, seeds ${seeds.join(', ')}`);
""")
md("""
## Data

`loadFashionMnist()` looks for the data in `FASHION_MNIST_DIR`, then the Debian package
`dataset-fashion-mnist`, then the class-balanced subset committed in `data/`; `source` says which one
it used. A stratified validation split is drawn from the training file with a fixed seed; the test file
stays untouched until the final evaluation.
""")
code("""
const raw = loadFashionMnist();
const splits = makeSplits(raw, { validationSize: budget({ smoke: 1000, quick: 5000, full: 5000 }), seed: 2026 });
console.log(`source: ${raw.source} (${splits.train.source})`);
console.log(`train ${splits.train.n}, validation ${splits.validation.n}, test ${splits.test.n}; ${splits.train.height}x${splits.train.width} grayscale, ${splits.train.numClasses} classes`);
console.log(`validation examples per class: ${Array.from(classCounts(splits.validation)).join(' ')}`);
console.log(`classes: ${FASHION_MNIST_CLASSES.join(', ')}`);
""")
md("""
## The network and its layer groups

An MLP 784-256-256-10. Each parameterised layer (weight + bias) is one *group*: the trainer keeps a
learning rate and optimiser state per group, which is exactly the control surface GANNO's agents act on.
The analytic counter gives parameters and multiply-accumulates (MACs) per example.
""")
code("""
const spec = mlpSpec({ inputSize: 784, hidden: [256, 256], numClasses: 10 });
const counts = countFlops(spec);
const probe = buildMlp({ inputSize: 784, hidden: [256, 256], numClasses: 10, seed: 0 });
showTable(
  probe.groups.map((g, i) => ({ group: g.name, kind: g.kind, params: g.numParams, MACs: counts.layers.filter((l) => l.params > 0)[i]?.macs ?? 0 })),
  { name: 'layer-groups', caption: `MLP 784-256-256-10: ${counts.totalParams} parameters, ${counts.totalMacs} MACs per example` },
);
probe.dispose();
""")
md("""
## Two learning-rate plans

* **constant**: every layer at the same rate, 0.05, for the whole run.
* **per-layer cosine** (hand-set): first layer 0.1, second 0.05, output layer 0.02, each annealed with
  PyTorch's `CosineAnnealingLR` (stepped once per SGD step) down to 0 at the end of the budget.

Both use plain SGD at batch 128 with the same initial weights and the same mini-batch order per seed,
so the only difference between the two arms is the learning-rate plan.
""")
code("""
type Plan = { name: string; makePlan: () => (t: number) => number[] };
const plans: Plan[] = [
  { name: 'constant 0.05', makePlan: () => () => [0.05, 0.05, 0.05] },
  {
    name: 'per-layer cosine 0.1/0.05/0.02',
    makePlan: () => {
      const schedule = new CosineAnnealingLR([0.1, 0.05, 0.02], { tMax: steps });
      let last = -1;
      // The plan is asked once per step in order; step the PyTorch-style schedule to match.
      return (t: number) => { while (last < t - 1) { schedule.step(); last++; } return schedule.lastLr; };
    },
  },
];

const validation = datasetToTensors(splits.validation, { flatten: true });
const test = datasetToTensors(splits.test, { flatten: true });
const runs: { plan: string; seed: number; result: TrainingRunResult; testLoss: number; testAccuracy: number }[] = [];
const started = Date.now();
for (const plan of plans) {
  for (const seed of seeds) {
    const model = buildMlp({ inputSize: 784, hidden: [256, 256], numClasses: 10, seed });
    const trainer = new LayerwiseTrainer(model, { optimizer: 'sgd', learningRates: 0.05 });
    const batches = new BatchIterator(splits.train, { batchSize: batchSize, seed, flatten: true });
    const result = runTraining(trainer, batches, {
      steps: steps,
      evalEvery: Math.max(10, Math.floor(steps / 15)),
      logEvery: 5,
      validation: validation,
      learningRates: plan.makePlan(),
      progress: notebookProgress({ intervalMs: 5000 }),
    });
    const testEval = result.diverged ? { loss: NaN, accuracy: NaN } : trainer.evaluate(test.x, test.y, 1024);
    runs.push({ plan: plan.name, seed: seed, result: result, testLoss: testEval.loss, testAccuracy: testEval.accuracy });
    console.log(`${plan.name}, seed ${seed}: test accuracy ${(100 * testEval.accuracy).toFixed(2)}% (${result.wallSeconds.toFixed(1)} s)`);
    trainer.dispose();
    model.dispose();
    batches.dispose();
  }
}
const wallSeconds = (Date.now() - started) / 1000;
""")
md("""
## Curves

Training loss (smoothed over the logged steps) and validation loss, mean over seeds with the min-max
band; and the learning rate each layer actually used at every step.
""")
code("""
function meanBand(series: number[][]) {
  const n = Math.min(...series.map((s) => s.length));
  const pick = (f: (v: number[]) => number) => Array.from({ length: n }, (_, i) => f(series.map((s) => s[i])));
  return { y: pick((v) => v.reduce((a, b) => a + b, 0) / v.length), lower: pick((v) => Math.min(...v)), upper: pick((v) => Math.max(...v)) };
}
const lossSeries = plans.flatMap((plan) => {
  const mine = runs.filter((r) => r.plan === plan.name);
  const logged = mine[0].result.history;
  const train = meanBand(mine.map((r) => r.result.history.map((h) => h.trainLoss)));
  const evalRows = logged.filter((h) => h.valLoss !== undefined);
  const val = meanBand(mine.map((r) => r.result.history.filter((h) => h.valLoss !== undefined).map((h) => h.valLoss as number)));
  return [
    { name: `${plan.name} · train`, x: logged.map((h) => h.step), ...train },
    { name: `${plan.name} · validation`, x: evalRows.map((h) => h.step), ...val, dash: 'dash' as const },
  ];
});
await showFigure(lineFigure(lossSeries, { title: 'Loss (mean over seeds, min-max band)', xTitle: 'SGD step', yTitle: 'cross-entropy', logY: true }), { name: 'loss-curves' });

const cosineRun = runs.find((r) => r.plan === plans[1].name)!;
const layerNames = ['layer 1 (784→256)', 'layer 2 (256→256)', 'output (256→10)'];
const lrSeries = layerNames.map((name, i) => ({ name: name, x: cosineRun.result.history.map((h) => h.step), y: cosineRun.result.history.map((h) => h.learningRates[i]) }));
await showFigure(lineFigure(lrSeries, { title: 'Per-layer learning rates of the hand-set plan', xTitle: 'SGD step', yTitle: 'learning rate' }), { name: 'layer-learning-rates' });
""")
md("""
## Results

Test accuracy and loss per plan: mean over seeds with a 95% percentile-bootstrap CI (2000 resamples).
With one seed (the `smoke` preset) the interval collapses to the point; read the `quick` or `full`
tables for comparisons. The last line is the probability that the per-layer plan beats the constant
plan on a random seed pair (ties count one half), with its bootstrap CI.
""")
code("""
const fmt = (i: { point: number; lo: number; hi: number }, scale = 1, digits = 2) => `${(scale * i.point).toFixed(digits)} [${(scale * i.lo).toFixed(digits)}, ${(scale * i.hi).toFixed(digits)}]`;
const rows = plans.map((plan) => {
  const mine = runs.filter((r) => r.plan === plan.name);
  const acc = meanCI(mine.map((r) => r.testAccuracy), { seed: 1 });
  const loss = meanCI(mine.map((r) => r.testLoss), { seed: 2 });
  return { plan: plan.name, seeds: mine.length, 'test accuracy % (95% CI)': fmt(acc, 100), 'test loss (95% CI)': fmt(loss, 1, 4), diverged: mine.filter((r) => r.result.diverged).length };
});
const caption = `Fashion-MNIST (${raw.source}), MLP 784-256-256-10, SGD: ${provenance({ seeds: seeds, budget: `${steps} steps x batch ${batchSize}`, wallSeconds: wallSeconds })}`;
showTable(rows, { name: 'quickstart-results', caption: caption });
const accOf = (name: string) => runs.filter((r) => r.plan === name).map((r) => [r.testAccuracy]);
const poi = probabilityOfImprovement(accOf(plans[1].name), accOf(plans[0].name), { seed: 3 });
console.log(`P(per-layer cosine > constant) = ${fmt(poi)}`);
validation.x.dispose(); validation.y.dispose(); test.x.dispose(); test.y.dispose();
""")
md("""
## What next

* `01-marl-basics`: the cooperative MARL core on matrix games, with and without credit assignment.
* The GANNO notebooks (`1x-ganno-*`) replace the hand-set plan above with learned per-layer agents.
* Change anything above and re-run: the learning-rate plan is an ordinary function `(step) => number[]`,
  so any schedule from `src/schedules` (StepLR, OneCycleLR, ReduceLROnPlateau, ...) or your own rule
  plugs in without touching library code.
""")
write("00-quickstart.ipynb", "qs")
