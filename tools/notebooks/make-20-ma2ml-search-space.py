"""Writes notebooks/20-ma2ml-search-space.ipynb (nbformat 4.5, stable cell ids). Run: python3 tools/notebooks/make-20-ma2ml-search-space.py"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nbgen import code, md, write  # noqa: E402

md("""
# 20 · MA2ML: the search space, augmented images, FLOPs and one pipeline evaluation

MA2ML (Wang et al., CVPR 2023) treats AutoML as a cooperative multi-agent game: one agent per module
(data augmentation **AUG**, architecture **NAS**, hyper-parameters **HPO**), whose joint action is one
ML pipeline, rewarded by the pipeline's validation accuracy under a FLOPs budget. This notebook is the
spec's experiment 1, a walk through that search space before any search runs:

1. the three agents' token spaces and the size of the joint space;
2. sampled pipelines, described, with their MACs, parameters and validity under both budgets;
3. the AUG agent's image operations on Fashion-MNIST (each op at several magnitudes, and whole sampled
   sub-policies);
4. the MAC distribution of the NAS space against the two FLOPs budgets;
5. one real pipeline evaluation (proxy training, validation accuracy, reward under the hard and the soft
   budget rule), repeated over seeds to show the reward noise.

**Stated vs reconstructed.** The paper states the three agents, the shared validation-accuracy reward,
FLOPs budgets (600M / 800M on ImageNet) and an AutoAugment-style AUG space. Everything at this scale is
a *reconstruction* (labelled below): Fashion-MNIST 28x28 instead of ImageNet, the smaller NAS spaces
(MLP for `smoke`, plain conv for `quick`, MobileNetV2-style for `full`), the HPO grids, the budget pair
(3 : 4, placed inside each space's MAC distribution), the soft rule's exponent -0.07 and the proxy
training sizes. See `src/ma2ml/README.md` for the full table.
""")
code("""
import { initBackend, tf } from './dist/src/backend';
import { Rng } from './dist/src/random';
import {
  presetSpace, flopsBudgets, spaceSize, agentDimensions, samplePipeline, describePipeline, checkPipeline,
  applyOp, augmentBatch, evaluatePipeline, evaluationDefaults, proxyData, budgetReward, AGENTS,
} from './dist/src/ma2ml';
import type { AugOpName, Pipeline, PipelineEvaluation, SpacePreset } from './dist/src/ma2ml';
import { preset, budget, showFigure, showTable, provenance } from './dist/src/notebook';
import type { PlotlyFigure, PlotlyTrace } from './dist/src/notebook';

const backend = await initBackend();
const spacePreset: SpacePreset = budget<SpacePreset>({ smoke: 'smoke', quick: 'quick', full: 'full' });
const space = presetSpace(spacePreset);
const [tightBudget, looseBudget] = flopsBudgets(spacePreset);
const evalSeeds: number[] = budget({ smoke: [0, 1], quick: [0, 1, 2], full: [0, 1, 2, 3, 4] });
const numSamples: number = budget({ smoke: 6, quick: 10, full: 12 });
const notebookStart = Date.now();
console.log(`backend: ${backend.summary}`);
console.log(`preset ${preset()}: search space '${space.name}' (NAS kind ${space.nas.kind}), FLOPs budgets ${tightBudget} / ${looseBudget} MACs per image`);
""")
md("""
## The agents' token spaces

Each agent emits a short sequence of tokens; a token indexes one dimension's choices. The AUG agent
describes S sub-policies of two ops each (op, probability, magnitude level); the NAS agent the input
resolution and the architecture; the HPO agent the optimiser and its hyper-parameters (the
learning-rate token indexes the chosen optimiser's grid). Spaces are plain JSON (`presetSpace(...)`
returns an editable copy), so a cell can change any grid before a search.
""")
code("""
const dims = agentDimensions(space);
const size = spaceSize(space);
const dimRows = AGENTS.flatMap((agent) =>
  dims[agent]
    .filter((d, i) => agent !== 'aug' || i < 3) // one AUG op slot stands for all 2 x S
    .map((d) => ({ agent: agent, token: agent === 'aug' ? d.name.replace('sp0.', 'sp*.').replace(/0$/, '*') : d.name, '#choices': d.choices.length, 'choice values': d.choices.map(String).join(', ') })),
);
const tokenTable = showTable(dimRows, { name: 'ma2ml-token-space', caption: `Token dimensions of the '${space.name}' space (AUG: ${space.aug.subPolicies} sub-policies x 2 op slots, each slot shown once; reconstruction)` });
console.log(`tokens per agent: ${AGENTS.map((a) => `${a} ${dims[a].length}`).join(', ')}`);
console.log(`pipelines: aug ${size.perAgent.aug}, nas ${size.perAgent.nas}, hpo ${size.perAgent.hpo}; joint 10^${size.log10.toFixed(1)}`);
""")
md("""
## Sampled pipelines

Uniformly random tokens for every agent (what random search proposes, and what every learner starts
from). MACs (multiply-accumulates per image) and parameters come from the analytic counter of
`src/nn`; *valid (hard)* says whether the pipeline may be trained under each budget's hard rule.
""")
code("""
const sampleRng = new Rng(2026).fork('notebook-20-samples');
const samples: Pipeline[] = Array.from({ length: numSamples }, () => samplePipeline(space, sampleRng));
const sampleRows = samples.map((p, i) => {
  const c = checkPipeline(space, p);
  const macs = c.macs ?? NaN;
  return {
    '#': i + 1,
    pipeline: describePipeline(p),
    MACs: macs,
    params: c.params ?? NaN,
    [`valid @ ${tightBudget}`]: c.valid && macs <= tightBudget ? 'yes' : 'no',
    [`valid @ ${looseBudget}`]: c.valid && macs <= looseBudget ? 'yes' : 'no',
  };
});
const sampleTable = showTable(sampleRows, { name: 'ma2ml-sampled-pipelines', caption: `${numSamples} uniformly sampled pipelines of '${space.name}': ${provenance({ seeds: [2026], budget: `${numSamples} samples (no training)`, wallSeconds: 0 })}` });
""")
md("""
## What the AUG agent does to an image

Each AUG op at magnitude levels 0, 3, 6 and 9 (torchvision AutoAugment ranges; signed ops with a
positive sign) on one training image. Level 0 is the identity for the geometric and enhancement ops;
AutoContrast, Equalize and Invert have no magnitude. Cutout fills with 0, our background
(reconstruction: AutoAugment fills grey).
""")
code("""
const { train: proxyTrain } = proxyData(evaluationDefaults(spacePreset).data);
const imageSize = proxyTrain.height * proxyTrain.width;
const pick = (i: number) => proxyTrain.images.slice(i * imageSize, (i + 1) * imageSize);
const image = tf.tensor4d(pick(3), [1, proxyTrain.height, proxyTrain.width, 1]);
const galleryOps: AugOpName[] = ['Rotate', 'ShearX', 'TranslateY', 'Contrast', 'Sharpness', 'Posterize', 'Solarize', 'Equalize', 'Cutout'];
const levels = [0, 3, 6, 9];

function imageGrid(tiles: Float32Array[][], rowTitles: string[], colTitles: string[], title: string): PlotlyFigure {
  const rows = tiles.length;
  const cols = tiles[0].length;
  const side = proxyTrain.height;
  const data: PlotlyTrace[] = [];
  const layout: Record<string, unknown> = {
    title: { text: title },
    grid: { rows: rows, columns: cols, pattern: 'independent', xgap: 0.04, ygap: 0.06 },
    width: 130 * cols + 160,
    height: 120 * rows + 80,
    margin: { l: 130, r: 10, t: 60, b: 10 },
    showlegend: false,
    annotations: [] as Record<string, unknown>[],
  };
  tiles.forEach((row, r) =>
    row.forEach((px, c) => {
      const k = r * cols + c + 1;
      const ax = k === 1 ? '' : String(k);
      const z: number[][] = [];
      for (let y = 0; y < side; y++) z.push(Array.from(px.subarray(y * side, (y + 1) * side)));
      data.push({ type: 'heatmap', z: z, colorscale: 'Greys', reversescale: true, zmin: 0, zmax: 1, showscale: false, xaxis: `x${ax}`, yaxis: `y${ax}` });
      layout[`xaxis${ax}`] = { visible: false };
      layout[`yaxis${ax}`] = { visible: false, autorange: 'reversed', scaleanchor: `x${ax}` };
      if (r === 0) (layout.annotations as Record<string, unknown>[]).push({ text: colTitles[c], xref: `x${ax} domain`, yref: `y${ax} domain`, x: 0.5, y: 1.18, showarrow: false });
      if (c === 0) (layout.annotations as Record<string, unknown>[]).push({ text: rowTitles[r], xref: `x${ax} domain`, yref: `y${ax} domain`, x: -0.15, y: 0.5, xanchor: 'right', showarrow: false });
    }),
  );
  return { data: data, layout: layout };
}

const galleryTiles: Float32Array[][] = galleryOps.map((op) =>
  levels.map((level) => {
    const out = applyOp(image, op, level, { sign: 1, center: [12, 12] });
    const px = out.dataSync() as Float32Array;
    out.dispose();
    return Float32Array.from(px);
  }),
);
await showFigure(imageGrid(galleryTiles, galleryOps, levels.map((l) => `level ${l}`), 'AUG ops at magnitude levels 0, 3, 6, 9 (one Fashion-MNIST image)'), { name: 'ma2ml-aug-ops' });
image.dispose();
""")
md("""
Whole policies: three sampled AUG policies applied to the same six images (each image draws one of
the policy's sub-policies, and each op fires with its probability, as in training).
""")
code("""
const six = tf.tensor4d(Float32Array.from([0, 1, 2, 5, 8, 13].flatMap((i) => Array.from(pick(i)))), [6, proxyTrain.height, proxyTrain.width, 1]);
const policyRows: Float32Array[][] = [];
const policyTitles: string[] = ['original'];
const split6 = (t: Float32Array) => Array.from({ length: 6 }, (_, i) => t.slice(i * imageSize, (i + 1) * imageSize));
policyRows.push(split6(six.dataSync() as Float32Array));
const policyRng = new Rng(7).fork('notebook-20-policies');
const shownPolicies: string[] = [];
for (let k = 0; k < 3; k++) {
  const p = samples[k];
  const out = augmentBatch(six, p.aug, policyRng);
  policyRows.push(split6(out.dataSync() as Float32Array));
  out.dispose();
  policyTitles.push(`policy ${k + 1}`);
  shownPolicies.push(`policy ${k + 1}: ` + p.aug.map((sp) => sp.map((o) => `${o.op}(p${o.prob},m${o.level})`).join(' + ')).join(' | '));
}
six.dispose();
await showFigure(imageGrid(policyRows, policyTitles, ['img 1', 'img 2', 'img 3', 'img 4', 'img 5', 'img 6'], 'Sampled AUG policies (rows) applied to six training images'), { name: 'ma2ml-aug-policies' });
console.log(shownPolicies.join('\\n'));
""")
md("""
## MACs of the NAS space vs the two budgets

Every architecture of the space (or, for the 472,392 architectures of the `full` space, a uniform
sample of 3000) at its own input resolution. The two budgets mirror the paper's 600M / 800M pair
(ratio 3 : 4); their placement inside the distribution is a reconstruction (`flopsBudgets`).
""")
code("""
const archRng = new Rng(11).fork('notebook-20-archs');
const nasCount = Number(size.perAgent.nas);
const archMacs: number[] = [];
const seenArch = new Set<string>();
const maxArch = Math.min(nasCount, 3000);
for (let tries = 0; archMacs.length < maxArch && tries < 20 * maxArch; tries++) {
  const p = samplePipeline(space, archRng);
  const key = JSON.stringify(p.arch);
  if (nasCount <= 3000 && seenArch.has(key)) continue; // enumerate small spaces exactly (distinct architectures)
  seenArch.add(key);
  const c = checkPipeline(space, { ...p, hpo: { ...p.hpo, dropout: 0 } });
  if (c.macs !== undefined) archMacs.push(c.macs);
}
const share = (b: number) => archMacs.filter((m) => m <= b).length / archMacs.length;
const sorted = [...archMacs].sort((a, b) => a - b);
// Empirical CDF: the share of architectures with at most x MACs (log axis: annotations take log10 coordinates, shapes data values)
const macFig: PlotlyFigure = {
  data: [{ type: 'scatter', mode: sorted.length <= 100 ? 'lines+markers' : 'lines', line: { shape: 'hv', color: '#1f77b4' }, x: sorted, y: sorted.map((_, i) => (i + 1) / sorted.length), name: 'architectures' }],
  layout: {
    template: 'plotly_white',
    title: { text: `MACs per image of the '${space.name}' NAS space: cumulative share of ${archMacs.length} architectures` },
    xaxis: { title: { text: 'MACs per image (log scale)' }, type: 'log', range: [Math.log10(Math.min(sorted[0], tightBudget)) - 0.1, Math.log10(Math.max(sorted[sorted.length - 1], looseBudget)) + 0.1] },
    yaxis: { title: { text: 'share of architectures with at most x MACs' }, range: [0, 1.05] },
    shapes: [tightBudget, looseBudget].map((b, i) => ({ type: 'line', x0: b, x1: b, yref: 'paper', y0: 0, y1: 1, line: { color: i === 0 ? '#d62728' : '#ff7f0e', dash: 'dash' } })),
    annotations: [tightBudget, looseBudget].map((b, i) => ({ x: Math.log10(b), y: i === 0 ? 0.97 : 0.06, yref: 'paper', xanchor: 'left', text: ` ${i === 0 ? 'tight' : 'loose'} budget ${b}: ${(100 * share(b)).toFixed(0)}% fit`, showarrow: false })),
    showlegend: false,
    width: 760,
    height: 400,
  },
};
await showFigure(macFig, { name: 'ma2ml-nas-macs' });
const shareTable = showTable(
  [tightBudget, looseBudget].map((b, i) => ({ budget: i === 0 ? 'tight' : 'loose', MACs: b, 'architectures within (%)': (100 * share(b)).toFixed(1) })),
  { name: 'ma2ml-budget-share', caption: `Share of the '${space.name}' NAS space within each budget (min ${sorted[0]}, median ${sorted[Math.floor(sorted.length / 2)]}, max ${sorted[sorted.length - 1]} MACs; reconstruction)` },
);
""")
md("""
## One pipeline evaluation

The reward of a pipeline comes from **proxy training** (reconstruction): the pipeline's network is
trained on a seeded, class-balanced subset of the Fashion-MNIST training file, with the AUG policy
applied to every mini-batch, the HPO choices (optimiser, learning rate, weight decay, batch size, label
smoothing, mixup, dropout) and inputs resized to the architecture's resolution; the reward is the
accuracy on a held-out validation split. Under the **hard** rule a pipeline over budget is not trained
and scores 0; under the **soft** rule it is trained and its accuracy is scaled by (F / B)^-0.07.

We pick a sampled pipeline whose MACs lie between the two budgets where there is one (so the rules
disagree on it), and evaluate it with several training seeds to show the reward noise. The training
does not depend on the budget, so each seed trains once and the four (budget, rule) rows share it
(`train s` repeats that training's time); a hard budget the pipeline exceeds is a separate call that
does not train.
""")
code("""
const evalCfg = evaluationDefaults(spacePreset);
const between = samples.find((p) => { const c = checkPipeline(space, p); return c.valid && c.macs > tightBudget && c.macs <= looseBudget; });
const chosen: Pipeline = between ?? samples.find((p) => checkPipeline(space, p).valid) ?? samples[0];
console.log(`pipeline: ${describePipeline(chosen)}`);
console.log(`proxy training: ${evalCfg.data.trainSubset} training / ${evalCfg.data.validationSize} validation examples, ${evalCfg.epochs} epoch(s), data source ${proxyData(evalCfg.data).train.source}`);
const evalStart = Date.now();
const evalRows: Record<string, string | number>[] = [];
const softLoose: PipelineEvaluation[] = [];
for (const seed of evalSeeds) {
  // One proxy training per seed (the training does not depend on the budget); each (budget, rule) cell
  // then either reuses it through budgetReward or, hard and over budget, is a call that does not train.
  const trained = evaluatePipeline(chosen, { space: space, data: evalCfg.data, epochs: evalCfg.epochs, seed: seed, flopsBudget: looseBudget, budgetRule: 'soft' });
  softLoose.push(trained);
  for (const [name, b] of [['tight', tightBudget], ['loose', looseBudget]] as [string, number][]) {
    for (const rule of ['hard', 'soft'] as const) {
      const macs = trained.macs ?? NaN;
      const r: PipelineEvaluation = trained.valid && !trained.diverged && !(rule === 'hard' && macs > b)
        ? { ...trained, reward: budgetReward(trained.valAccuracy as number, macs, b, rule) }
        : rule === 'hard' && macs > b
          ? evaluatePipeline(chosen, { space: space, data: evalCfg.data, epochs: evalCfg.epochs, seed: seed, flopsBudget: b, budgetRule: 'hard' })
          : trained;
      evalRows.push({
        seed: seed,
        budget: `${name} (${b})`,
        rule: rule,
        trained: r.valid ? 'yes' : 'no',
        'val accuracy': r.valAccuracy === null ? '-' : r.valAccuracy.toFixed(3),
        reward: r.reward.toFixed(3),
        MACs: r.macs ?? NaN,
        'train s': r.trainSeconds.toFixed(2),
        note: r.reason ?? '',
      });
    }
  }
}
const evalWall = (Date.now() - evalStart) / 1000;
const evalTable = showTable(evalRows, { name: 'ma2ml-one-evaluation', caption: `One pipeline under both budgets and rules: ${provenance({ seeds: evalSeeds, budget: `proxy training ${evalCfg.data.trainSubset} examples x ${evalCfg.epochs} epoch(s), validation ${evalCfg.data.validationSize}`, wallSeconds: evalWall })}` });
const accs = softLoose.map((r) => r.valAccuracy ?? 0);
const meanAcc = accs.reduce((a, b) => a + b, 0) / accs.length;
const sdAcc = Math.sqrt(accs.reduce((a, b) => a + (b - meanAcc) ** 2, 0) / Math.max(1, accs.length - 1));
const trainedSeconds = softLoose.reduce((a, r) => a + r.trainSeconds, 0) / softLoose.length;
console.log(`validation accuracy over ${accs.length} training seeds: mean ${meanAcc.toFixed(3)}, sd ${sdAcc.toFixed(3)} (reward noise)`);
console.log(`one proxy training takes ${trainedSeconds.toFixed(2)} s here: about ${(60 / trainedSeconds).toFixed(0)} evaluations per minute per worker`);
""")
md("""
## Summary
""")
code("""
const notebookWall = (Date.now() - notebookStart) / 1000;
const summaryTable = showTable(
  [
    { item: 'search space', value: `${space.name} (AUG S=${space.aug.subPolicies}, NAS ${space.nas.kind}, HPO ${dims.hpo.length} tokens)` },
    { item: 'joint space size', value: `10^${size.log10.toFixed(1)}` },
    { item: 'NAS within tight / loose budget', value: `${(100 * share(tightBudget)).toFixed(1)}% / ${(100 * share(looseBudget)).toFixed(1)}%` },
    { item: 'evaluated pipeline', value: describePipeline(chosen) },
    { item: 'validation accuracy (soft, loose), mean / sd over seeds', value: `${meanAcc.toFixed(3)} / ${sdAcc.toFixed(3)}` },
    { item: 'seconds per proxy training', value: trainedSeconds.toFixed(2) },
  ],
  { name: 'ma2ml-search-space-summary', caption: provenance({ seeds: evalSeeds, budget: `${numSamples} samples, ${evalSeeds.length} evaluation seeds`, wallSeconds: notebookWall }) },
);
""")
md("""
## What next

* `21-ma2ml-search` runs every search method (MA2ML, MA2ML-Lite, without credit assignment,
  independent agents, single agent, sequential, random) under equal evaluation budgets with
  `runSearch` from `src/ma2ml`, each batch of proposed pipelines evaluated in parallel worker threads
  and cached in the experiment store.
* Edit `space` above (e.g. `space.aug.ops = ['Identity', 'Rotate', 'Cutout']`) and re-run the cells to
  see a different search space.
""")

write("20-ma2ml-search-space.ipynb", "ma2ml-20")
