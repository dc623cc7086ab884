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
import { initBackend } from './dist/src/backend';
import { Rng } from './dist/src/random';
import {
  presetSpace, flopsBudgets, samplePipeline, describePipeline, agentDimensions, spaceSize, evaluationDefaults, proxyData,
  tokenSpaceRows, spaceSummaryLines, sampledPipelineRows, augOpGallery, augPolicyTiles, nasMacSample, shareWithin,
  pipelineBetweenBudgets, evaluateUnderBudgets,
} from './dist/src/ma2ml';
import type { AugOpName, Pipeline, SpacePreset } from './dist/src/ma2ml';
import { preset, budget, showFigure, showTable, provenance, imageGridFigure, cdfFigure } from './dist/src/notebook';

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
const tokenTable = showTable(tokenSpaceRows(space), { name: 'ma2ml-token-space', caption: `Token dimensions of the '${space.name}' space (AUG: ${space.aug.subPolicies} sub-policies x 2 op slots, each slot shown once; reconstruction)` });
console.log(spaceSummaryLines(space).join('\\n'));
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
const sampleTable = showTable(sampledPipelineRows(space, samples, [tightBudget, looseBudget]), { name: 'ma2ml-sampled-pipelines', caption: `${numSamples} uniformly sampled pipelines of '${space.name}': ${provenance({ seeds: [2026], budget: `${numSamples} samples (no training)`, wallSeconds: 0 })}` });
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
const galleryOps: AugOpName[] = ['Rotate', 'ShearX', 'TranslateY', 'Contrast', 'Sharpness', 'Posterize', 'Solarize', 'Equalize', 'Cutout'];
const levels = [0, 3, 6, 9];
const galleryTiles = augOpGallery(pick(3), proxyTrain.height, proxyTrain.width, galleryOps, levels);
await showFigure(imageGridFigure(galleryTiles, galleryOps, levels.map((l) => `level ${l}`), 'AUG ops at magnitude levels 0, 3, 6, 9 (one Fashion-MNIST image)'), { name: 'ma2ml-aug-ops' });
""")
md("""
Whole policies: three sampled AUG policies applied to the same six images (each image draws one of
the policy's sub-policies, and each op fires with its probability, as in training).
""")
code("""
const sixImages = Float32Array.from([0, 1, 2, 5, 8, 13].flatMap((i) => Array.from(pick(i))));
const shown = samples.slice(0, 3);
const policyRows = augPolicyTiles(sixImages, 6, proxyTrain.height, proxyTrain.width, shown.map((p) => p.aug), new Rng(7).fork('notebook-20-policies'));
await showFigure(imageGridFigure(policyRows, ['original', ...shown.map((_, k) => `policy ${k + 1}`)], ['img 1', 'img 2', 'img 3', 'img 4', 'img 5', 'img 6'], 'Sampled AUG policies (rows) applied to six training images'), { name: 'ma2ml-aug-policies' });
console.log(shown.map((p, k) => `policy ${k + 1}: ` + p.aug.map((sp) => sp.map((o) => `${o.op}(p${o.prob},m${o.level})`).join(' + ')).join(' | ')).join('\\n'));
""")
md("""
## MACs of the NAS space vs the two budgets

Every architecture of the space (or, for the 472,392 architectures of the `full` space, a uniform
sample of 3000) at its own input resolution. The two budgets mirror the paper's 600M / 800M pair
(ratio 3 : 4); their placement inside the distribution is a reconstruction (`flopsBudgets`).
""")
code("""
const archMacs = nasMacSample(space, new Rng(11).fork('notebook-20-archs'));
const sorted = [...archMacs].sort((a, b) => a - b);
await showFigure(cdfFigure(archMacs, [
  { x: tightBudget, label: `tight budget ${tightBudget}`, color: '#d62728' },
  { x: looseBudget, label: `loose budget ${looseBudget}`, color: '#ff7f0e' },
], { title: `MACs per image of the '${space.name}' NAS space: cumulative share of ${archMacs.length} architectures`, xTitle: 'MACs per image (log scale)', yTitle: 'share of architectures with at most x MACs' }), { name: 'ma2ml-nas-macs' });
const shareTable = showTable(
  [tightBudget, looseBudget].map((b, i) => ({ budget: i === 0 ? 'tight' : 'loose', MACs: b, 'architectures within (%)': (100 * shareWithin(archMacs, b)).toFixed(1) })),
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
(`train s` repeats that training's wall time, measured around the call: results hold no timings); a
hard budget the pipeline exceeds is a separate call that does not train. The logic lives in
`evaluateUnderBudgets` (`src/ma2ml/experiments/walkthrough.ts`), like every other step of this
walkthrough: the cells only call it.
""")
code("""
const evalCfg = evaluationDefaults(spacePreset);
const chosen = pipelineBetweenBudgets(space, samples, tightBudget, looseBudget);
console.log(`pipeline: ${describePipeline(chosen)}`);
console.log(`proxy training: ${evalCfg.data.trainSubset} training / ${evalCfg.data.validationSize} validation examples, ${evalCfg.epochs} epoch(s), data source ${proxyData(evalCfg.data).train.source}`);
const evalStart = Date.now();
const one = evaluateUnderBudgets(chosen, { space: space, data: evalCfg.data, epochs: evalCfg.epochs, seeds: evalSeeds, budgets: [{ name: 'tight', budget: tightBudget }, { name: 'loose', budget: looseBudget }] });
const evalWall = (Date.now() - evalStart) / 1000;
const evalTable = showTable(one.rows, { name: 'ma2ml-one-evaluation', caption: `One pipeline under both budgets and rules: ${provenance({ seeds: evalSeeds, budget: `proxy training ${evalCfg.data.trainSubset} examples x ${evalCfg.epochs} epoch(s), validation ${evalCfg.data.validationSize}`, wallSeconds: evalWall })}` });
const trainedSeconds = one.trainSeconds.reduce((a, b) => a + b, 0) / one.trainSeconds.length;
console.log(`validation accuracy over ${one.trained.length} training seeds: mean ${one.meanAccuracy.toFixed(3)}, sd ${one.sdAccuracy.toFixed(3)} (reward noise)`);
console.log(`one proxy training takes ${trainedSeconds.toFixed(2)} s here: about ${(60 / trainedSeconds).toFixed(0)} evaluations per minute per worker`);
""")
md("""
## Summary
""")
code("""
const notebookWall = (Date.now() - notebookStart) / 1000;
const summaryTable = showTable(
  [
    { item: 'search space', value: `${space.name} (AUG S=${space.aug.subPolicies}, NAS ${space.nas.kind}, HPO ${agentDimensions(space).hpo.length} tokens)` },
    { item: 'joint space size', value: `10^${spaceSize(space).log10.toFixed(1)}` },
    { item: 'NAS within tight / loose budget', value: `${(100 * shareWithin(archMacs, tightBudget)).toFixed(1)}% / ${(100 * shareWithin(archMacs, looseBudget)).toFixed(1)}%` },
    { item: 'evaluated pipeline', value: describePipeline(chosen) },
    { item: 'validation accuracy (soft, loose), mean / sd over seeds', value: `${one.meanAccuracy.toFixed(3)} / ${one.sdAccuracy.toFixed(3)}` },
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
