"""Writes notebooks/21-ma2ml-search.ipynb (nbformat 4.5, stable cell ids). Run: python3 tools/notebooks/make-21-ma2ml-search.py"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nbgen import code, md, write  # noqa: E402

md("""
# 21 · MA2ML: every search method under equal evaluation budgets and two FLOPs budgets

The spec's experiment 2. Seven methods search the same pipeline space (AUG x NAS x HPO), each for the
same number of pipeline evaluations, under a tight and a loose FLOPs budget (the paper's 600M / 800M
pair, scaled to this space):

| method | what it is |
|---|---|
| `ma2ml` | full MA2ML: centralised critic on the joint tokens, counterfactual (marginal-contribution) advantages, replay, target policies with divergence weight w = 0.1 |
| `ma2ml-lite` | on-policy REINFORCE with the counterfactual advantage |
| `ma2ml-no-credit` | `ma2ml` with the shared reward minus a baseline instead of the counterfactual advantage |
| `independent` | one REINFORCE learner per agent on the shared reward |
| `single-agent` | one agent over the joint token sequence |
| `sequential` | AUG, then NAS, then HPO, a third of the budget each, the others fixed |
| `random` | uniform random pipelines |

We report, per budget: best-so-far validation reward vs evaluations (mean over seeds with a 95%
stratified-bootstrap band), a table of the final best reward (mean and IQM with CIs, and the
probability that `ma2ml` beats each method over seeds), the test accuracy of each search's best
pipeline after retraining, and the reward noise of a few pipelines re-evaluated with several seeds.

**Stated vs reconstructed.** Stated by the paper: the agents, the shared validation reward, credit
assignment, off-policy learning, the variants and the FLOPs budgets. *Reconstructed here* (see
`src/ma2ml/README.md`): Fashion-MNIST instead of ImageNet, the small search spaces, the proxy training
sizes, the budget values, all learner hyper-parameters, and the budget rule used below: **hard, masked
at sampling** (a proposal over the budget is redrawn before evaluation, so every method spends all its
evaluations on feasible pipelines and the reward is the validation accuracy).
""")
code("""
import {
  planCost, MEASURED_COSTS, mainCells, runSearches, bestSoFarCurves, comparisonRows, formatComparisonRows,
  retrainBest, rewardNoise, selectRuns, describePipeline,
} from './dist/src/ma2ml';
import type { SearchRun } from './dist/src/ma2ml';
import { openMa2mlSession, showFigure, showTable, smallMultiplesFigure, provenance, PALETTE } from './dist/src/notebook';

// The preset's plan, its search space, executor and the experiment store (cached, resumable); prints the mode.
const session = await openMa2mlSession();
const { plan, space, executor, store } = session;
const budgets = plan.flops.map((f) => f.budget); // tight, loose (MACs per image; rule hard, masked at sampling)
const notebookStart = session.started;
""")
md("""
## The plan

Everything this notebook runs comes from `ma2mlPlan(preset)` (edit a copy and `parsePlan` it to change
it). The last line is an upper bound on the compute, assuming no evaluation is shared between searches
(the store shares every repeated pipeline across methods, seeds and both budgets, so the real cost is
lower), at the per-evaluation costs measured in `src/ma2ml/README.md`.
""")
code("""
const cost = planCost(plan, MEASURED_COSTS[plan.preset]);
const planTable = showTable(
  [
    { item: 'search space', value: `${space.name} (NAS ${space.nas.kind}, AUG ${space.aug.subPolicies} sub-policies)` },
    { item: 'proxy evaluation', value: `${plan.evaluation.data.trainSubset} training / ${plan.evaluation.data.validationSize} validation examples x ${plan.evaluation.epochs} epoch(s), evaluation seed ${plan.evaluation.seed}` },
    { item: 'FLOPs budgets (MACs per image)', value: `tight ${budgets[0]}, loose ${budgets[1]}; rule: hard, masked at sampling` },
    { item: 'evaluations per search', value: `${plan.evaluations} (batches of ${plan.batchSize})` },
    { item: 'search seeds', value: plan.seeds.join(', ') },
    { item: 'retraining of best pipelines', value: `${plan.retrain.trainLimit} training examples x ${plan.retrain.epochs} epoch(s), first ${plan.retrain.testLimit} test examples, seed ${plan.retrain.seed}` },
    { item: 'upper bound of compute (no sharing)', value: `${cost.searchEvaluations21} search evaluations + ${cost.retrains} retrains + ${cost.noiseEvaluations} noise evaluations (notebook 21), + ${cost.extraEvaluations22} evaluations and ${cost.syntheticUpdates} synthetic updates (notebook 22): about ${(cost.totalSeconds / 60).toFixed(1)} min` },
  ],
  { name: 'ma2ml-search-plan', caption: `Plan of preset ${plan.preset}: ${plan.description} (reconstruction)` },
);
""")
md("""
## Run the searches

`runSearches` runs the 7 x 2 x seeds searches one after another; each proposed batch is evaluated in
parallel by the worker pool, and every evaluation is committed to the experiment store as it finishes.
Re-running this cell replays the stored evaluations (the learners are deterministic given their seed
and the rewards), so an interrupted run resumes where it stopped.
""")
code("""
const searchStart = Date.now();
const runs: SearchRun[] = await runSearches(plan, mainCells(plan), {
  space: space, executor: executor, store: store,
  onRun: (r, i, n) => { if ((i + 1) % plan.seeds.length === 0) console.log(`${i + 1}/${n} ${r.label} @ ${r.cell.flops.budget}: best ${r.result.best.reward.toFixed(3)} (${r.result.computed} computed, ${r.result.cached} cached, ${r.result.masked} masked)`); },
});
const searchWall = (Date.now() - searchStart) / 1000;
const computed = runs.reduce((s, r) => s + r.result.computed, 0);
console.log(`${runs.length} searches, ${runs.length * plan.evaluations} evaluations: ${computed} computed now, the rest from the store; wall ${searchWall.toFixed(1)} s`);
""")
md("""
## Best-so-far validation reward vs evaluations

For each method, the best reward found after each evaluation, averaged over seeds, with a 95%
stratified-bootstrap band (whole seeds resampled). One figure per FLOPs budget, one panel per method
(same axes), with `ma2ml` as a dotted line in every panel.
""")
code("""
for (const [i, b] of budgets.entries()) {
  const curves = bestSoFarCurves(runs, plan.methods, b, plan.bootstrap);
  // One panel per method (its band readable), ma2ml repeated as a dotted line in every panel.
  const fig = smallMultiplesFigure(
    plan.methods.map((m, k) => ({ name: m, x: curves[m].steps, y: curves[m].point, lower: curves[m].lo, upper: curves[m].hi, color: PALETTE[k % PALETTE.length] })),
    { reference: 'ma2ml', columns: 4, title: `Best-so-far validation reward, ${i === 0 ? 'tight' : 'loose'} budget ${b} MACs (mean over ${plan.seeds.length} seeds, 95% CI)`, xTitle: 'evaluations', yTitle: 'best val reward so far', width: 900 },
  );
  await showFigure(fig, { name: `ma2ml-best-so-far-${i === 0 ? 'tight' : 'loose'}` });
}
""")
md("""
## Retraining each search's best pipeline

The best pipeline of every search is retrained on a larger part of the Fashion-MNIST training file and
scored on the test set (one retraining per distinct pipeline, cached in the store as `ma2ml-retrains`).
The validation reward chose the pipeline; the test accuracy is the honest measure of what was found.
""")
code("""
const retrainStart = Date.now();
const retrains = await retrainBest(plan, space, runs, { executor: executor, store: store });
const retrainWall = (Date.now() - retrainStart) / 1000;
console.log(`${retrains.size} distinct best pipelines retrained or loaded in ${retrainWall.toFixed(1)} s`);
""")
md("""
## Final comparison

Per budget and method: the best validation reward of each search (mean over seeds and IQM, with 95%
bootstrap CIs), the probability of improvement P(ma2ml > method) (Mann-Whitney over seeds, with a
bootstrap CI: 0.5 means no difference), the retrained test accuracy of the best pipelines, and how many
distinct pipelines a search evaluated and how many proposals the budget mask rejected.
""")
code("""
const comparisonTables = budgets.map((b, i) => showTable(
  formatComparisonRows(comparisonRows(runs, plan.methods, b, { reference: 'ma2ml', retrains: retrains, ...plan.bootstrap })),
  { name: `ma2ml-comparison-${i === 0 ? 'tight' : 'loose'}`, caption: `${i === 0 ? 'Tight' : 'Loose'} budget ${b} MACs, ${plan.evaluations} evaluations per search: ${provenance({ seeds: plan.seeds, budget: `${plan.evaluations} evaluations x ${plan.methods.length} methods, hard budget masked at sampling; retrain ${plan.retrain.trainLimit} x ${plan.retrain.epochs} epoch(s)`, wallSeconds: searchWall + retrainWall })} (${computed} evaluations computed in this run, the rest loaded from the store)` },
));
""")
md("""
## Reward noise

A pipeline's reward is one proxy training with one seed. To see how much of the differences above is
noise, the best pipelines found (over all methods, tight budget) are evaluated again with several
training seeds (seed 0 is the search's own evaluation, served from the store).
""")
code("""
const noiseStart = Date.now();
const noise = await rewardNoise(plan, space, runs.filter((r) => r.cell.flops.budget === budgets[0]), { executor: executor, store: store });
const noiseWall = (Date.now() - noiseStart) / 1000;
const noiseTable = showTable(
  noise.map((n, i) => ({ '#': i + 1, pipeline: n.pipeline, rewards: n.rewards.map((r) => r.toFixed(3)).join(', '), mean: n.mean, sd: n.sd, 'max - min': n.max - n.min })),
  { name: 'ma2ml-reward-noise', caption: `Validation reward of the ${noise.length} best pipelines (tight budget) over evaluation seeds ${plan.noise.seeds.join(', ')}: ${provenance({ seeds: plan.noise.seeds, budget: `${plan.evaluation.data.trainSubset} x ${plan.evaluation.epochs} epoch(s) proxy`, wallSeconds: noiseWall })}` },
);
const meanSd = noise.reduce((s, n) => s + n.sd, 0) / noise.length;
console.log(`mean reward sd over seeds: ${meanSd.toFixed(3)}: differences between methods' best rewards smaller than about ${(2 * meanSd).toFixed(3)} are within evaluation noise`);
""")
md("""
## Summary
""")
code("""
const best = (m: string, b: number) => selectRuns(runs, m, b).map((r) => r.result.best);
const topRows = budgets.map((b, i) => {
  const all = plan.methods.flatMap((m) => best(m, b).map((x) => ({ m: m, x: x })));
  const top = all.reduce((a, c) => (c.x.reward > a.x.reward ? c : a));
  return { budget: `${i === 0 ? 'tight' : 'loose'} (${b})`, 'best reward found': top.x.reward, 'found by': top.m, pipeline: describePipeline(top.x.pipeline) };
});
await session.close();
const summaryTable = showTable(topRows, { name: 'ma2ml-search-summary', caption: provenance({ seeds: plan.seeds, budget: `${plan.evaluations} evaluations x ${plan.methods.length} methods x 2 budgets`, wallSeconds: (Date.now() - notebookStart) / 1000 }) });
""")
md("""
## Reading the results

* With few evaluations per search (the `smoke` and `quick` presets) the curves of the learning methods
  stay close to random search: the learners have had only a handful of updates. The probability of
  improvement and its CI say whether any difference is more than seed-to-seed variation; the reward
  noise table says how large the evaluation noise alone is.
* The `full` preset (5 seeds, more evaluations) is the one whose numbers go into the README; it uses the
  plain-conv space, not the MobileNetV2-style space, because the latter costs about 110 s per
  evaluation on this machine (see `src/ma2ml/README.md`, "Full-budget choice").
* `22-ma2ml-ablations` reuses these searches from the store for its credit-assignment and sample
  efficiency rows.
""")

write("21-ma2ml-search.ipynb", "ma2ml-21")
