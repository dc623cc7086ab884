"""Writes notebooks/22-ma2ml-ablations.ipynb (nbformat 4.5, stable cell ids). Run: python3 src/notebook/scripts/make-22-ma2ml-ablations.py"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nbgen import code, md, write  # noqa: E402

md("""
# 22 · MA2ML ablations: credit assignment, off-policy learning, monotonic improvement, joint search

The paper's ablations (spec experiments 3-6), each reduced to a comparison with a 95% bootstrap CI and
one sentence saying whether the paper's claim holds **here**:

* **(a) credit assignment**: `ma2ml` vs `ma2ml-no-credit` (off-policy, with and without the
  counterfactual advantage) and `ma2ml-lite` vs `independent` (on-policy, with and without it);
* **(b) off- vs on-policy sample efficiency**: `ma2ml` vs `ma2ml-lite`: evaluations needed to reach a
  reward threshold, and the area under the best-so-far curve;
* **(c) monotonic improvement**: the expected reward of the policy after every update, for several
  divergence weights w including 0, and how often it drops: exactly on the synthetic reward (where the
  expectation can be computed in closed form), and estimated by batch means on the training evaluator;
* **(d) joint vs single-module search**: `ma2ml` over all three agents vs `ma2ml` over only AUG, only
  NAS or only HPO (the other modules fixed at a documented default pipeline), and vs `sequential`.

All searches use the plan of `21-ma2ml-search` (`ma2mlPlan(preset)`) at its tight FLOPs budget with the
hard budget masked at sampling; those identical to notebook 21's searches are served from the
experiment store. **Reconstructed** (not from the paper): everything at this scale (data, spaces,
proxy sizes, learner settings), the synthetic reward, the default pipeline of the single-module
searches, the reward threshold of (b) and the choice of metrics.
""")
code("""
import { initBackend } from './src/backend';
import { ExperimentStore } from './src/runtime';
import {
  ma2mlPlan, planSpace, planExecutor, ablationCells, runSearches, selectRuns, ablationRow, medianFinalBest,
  evaluationsToThreshold, areaUnderCurve, monotonicSynthetic, monotonicRows, bestSoFarCurves, formatAblationRows,
  formatInterval, defaultPipeline, describePipeline,
} from './src/ma2ml';
import type { AblationRow, SearchRun } from './src/ma2ml';
import { preset, showFigure, showTable, lineFigure, provenance, PALETTE } from './src/notebook';
import type { LineSeries } from './src/notebook';

const backend = await initBackend();
const plan = ma2mlPlan(preset());
const space = planSpace(plan);
const budgetB = plan.flops[plan.ablations.budgetIndex].budget;
const executor = planExecutor(plan);
const store = ExperimentStore.open(); // shared with notebook 21: its searches are reused
const bs = plan.bootstrap;
const notebookStart = Date.now();
console.log(`backend: ${backend.summary}; store: ${store.file}`);
console.log(`plan: ${plan.description}; ablation budget ${budgetB} MACs (hard, masked at sampling); seeds ${plan.seeds.join(', ')}`);
console.log(`single-module default pipeline: ${describePipeline(defaultPipeline(space, budgetB))}`);
""")
md("""
## Run the ablation searches

Credit/off-policy methods, `ma2ml` with each divergence weight, `ma2ml` on one module only, and
`sequential`, each for every seed and the plan's number of evaluations.
""")
code("""
const searchStart = Date.now();
const runs: SearchRun[] = await runSearches(plan, ablationCells(plan), { space: space, executor: executor, store: store });
const searchWall = (Date.now() - searchStart) / 1000;
const computed = runs.reduce((s, r) => s + r.result.computed, 0);
console.log(`${runs.length} searches: ${computed} evaluations computed now, the rest from the store; wall ${searchWall.toFixed(1)} s`);
const E = plan.evaluations;
const finalBest = (r: SearchRun) => r.result.best.reward;
const metricBest = `best-so-far at ${E} evaluations`;
const allRows: AblationRow[] = [];
const caption = (what: string, wall: number) => `${what}: ${provenance({ seeds: plan.seeds, budget: `${E} evaluations per search, FLOPs budget ${budgetB} (hard, masked)`, wallSeconds: wall })}`;
""")
md("""
## (a) Credit assignment on / off

The paper: credit assignment (each agent's marginal contribution) improves the search. Metric: the best
validation reward found in the whole budget, per seed; the difference of means with a bootstrap CI
(seeds resampled independently per method).
""")
code("""
const creditRows = [
  ablationRow(runs, { ablation: '(a) credit assignment, off-policy', a: 'ma2ml', b: 'ma2ml-no-credit', budget: budgetB, metric: metricBest, value: finalBest, ...bs }),
  ablationRow(runs, { ablation: '(a) credit assignment, on-policy', a: 'ma2ml-lite', b: 'independent', budget: budgetB, metric: metricBest, value: finalBest, ...bs }),
];
allRows.push(...creditRows);
const creditTable = showTable(formatAblationRows(creditRows), { name: 'ma2ml-ablation-credit', caption: caption('(a) credit assignment', searchWall) });
""")
md("""
## (b) Off-policy vs on-policy sample efficiency

The paper: off-policy learning (replay, target policies) is more sample-efficient than the on-policy
MA2ML-Lite. Two metrics per seed: the number of evaluations until the best-so-far reward first reaches
a threshold (the median final best of the two methods' runs pooled; a run that never reaches it counts
as E + 1, censored), and the area under the best-so-far curve (its mean over evaluations).
""")
code("""
const threshold = medianFinalBest([...selectRuns(runs, 'ma2ml', budgetB), ...selectRuns(runs, 'ma2ml-lite', budgetB)]);
const toThreshold = (r: SearchRun) => evaluationsToThreshold(r.result.log.map((e) => e.bestSoFar), threshold) ?? E + 1;
const effRows = [
  ablationRow(runs, { ablation: '(b) off- vs on-policy', a: 'ma2ml', b: 'ma2ml-lite', budget: budgetB, metric: `evaluations to reach ${threshold.toFixed(3)}`, value: toThreshold, higherIsBetter: false, digits: 1, ...bs }),
  ablationRow(runs, { ablation: '(b) off- vs on-policy', a: 'ma2ml', b: 'ma2ml-lite', budget: budgetB, metric: 'area under the best-so-far curve', value: (r) => areaUnderCurve(r.result.log.map((e) => e.bestSoFar)), ...bs }),
];
allRows.push(...effRows);
const unreached = ['ma2ml', 'ma2ml-lite'].map((m) => `${m} ${selectRuns(runs, m, budgetB).filter((r) => toThreshold(r) > E).length}`).join(', ');
const effTable = showTable(formatAblationRows(effRows, 2), { name: 'ma2ml-ablation-offpolicy', caption: caption(`(b) sample efficiency, threshold ${threshold.toFixed(3)} (runs that never reach it: ${unreached})`, searchWall) });
const effCurves = bestSoFarCurves(runs, ['ma2ml', 'ma2ml-lite'], budgetB, bs);
const effSeries: LineSeries[] = ['ma2ml', 'ma2ml-lite'].map((m, k) => ({ name: m, x: effCurves[m].steps, y: effCurves[m].point, lower: effCurves[m].lo, upper: effCurves[m].hi, color: PALETTE[k] }));
effSeries.push({ name: 'threshold', x: [1, E], y: [threshold, threshold], color: '#7f7f7f', dash: 'dot' });
const effFigure = await showFigure(lineFigure(effSeries,
  { title: `Off- vs on-policy: best-so-far reward (mean over ${plan.seeds.length} seeds, 95% CI)`, xTitle: 'evaluations', yTitle: 'best validation reward so far', width: 760, height: 420 }), { name: 'ma2ml-offpolicy-curves' });
""")
md("""
## (c) Monotonic improvement and the divergence weight w

The paper's theorem: with the divergence-regularised update toward slowly moving target policies, the
objective (the expected reward of the joint policy) improves monotonically. We record the policy after
every learner update and measure how often its expected reward *drops*:

* **synthetic reward, exact**: the reward is additive over tokens plus pair bonuses, so the expected
  reward of the factorised policy is computed in closed form (`syntheticExpectedReward`): a drop is a
  real drop. Many cheap updates, several seeds per w.
* **training evaluator, estimated**: the mean reward of each proposed batch estimates the expected reward
  of the policy that proposed it; with small batches and noisy proxy rewards this estimate drops often
  by chance alone, so compare the w values with each other rather than with 0.
""")
code("""
const monoStart = Date.now();
const traces = await monotonicSynthetic(plan, space);
const monoWall = (Date.now() - monoStart) / 1000;
const mono = monotonicRows(traces, runs, budgetB, bs);
allRows.push(...mono.rows);
const monoTable = showTable(
  mono.summaries.map((s) => ({
    w: String(s.divergenceWeight),
    'synthetic: drops / updates (exact)': `${s.syntheticDrops} / ${s.syntheticUpdates}`,
    'synthetic: per-seed drop fraction [95% CI]': formatInterval(s.syntheticDropFraction, 3),
    'synthetic: expected reward start -> end': `${s.syntheticMeanCurve[0].toFixed(3)} -> ${s.syntheticMeanCurve[s.syntheticMeanCurve.length - 1].toFixed(3)}`,
    'training: batch-mean drop fraction [95% CI]': s.trainingDropFraction ? formatInterval(s.trainingDropFraction, 3) : '-',
    claim: s.claim,
  })),
  { name: 'ma2ml-ablation-monotonic', caption: `(c) monotonic improvement: synthetic ${plan.ablations.synthetic.seeds.length} seeds x ${plan.ablations.synthetic.updates} updates of ${plan.ablations.synthetic.batchSize} (wall ${monoWall.toFixed(1)} s); training: ${caption('batch means', searchWall)}` },
);
const monoFigure = await showFigure(lineFigure(mono.summaries.map((s, k) => ({ name: `w = ${s.divergenceWeight}`, x: s.syntheticMeanCurve.map((_, i) => i), y: s.syntheticMeanCurve, color: PALETTE[k] })),
  { title: 'Exact expected synthetic reward of the policy per update (mean over seeds)', xTitle: 'learner update', yTitle: 'expected reward', width: 760, height: 420 }), { name: 'ma2ml-monotonic-curves' });
""")
md("""
## (d) Joint vs single-module search

The paper: optimising the modules jointly beats optimising them separately. `ma2ml only aug` (`nas`,
`hpo`) searches one agent's tokens while the other two modules stay at the default pipeline printed at
the top (no augmentation; the middle choice of every HPO grid; the middle architecture, shrunk until it
fits the budget). `sequential` searches the modules one after another with a third of the budget each.
""")
code("""
const jointRows = ['ma2ml only aug', 'ma2ml only nas', 'ma2ml only hpo', 'sequential'].map((b) =>
  ablationRow(runs, { ablation: '(d) joint vs single-module', a: 'ma2ml', b: b, budget: budgetB, metric: metricBest, value: finalBest, ...bs }));
allRows.push(...jointRows);
const jointTable = showTable(formatAblationRows(jointRows), { name: 'ma2ml-ablation-joint', caption: caption('(d) joint vs single-module search', searchWall) });
""")
md("""
## Summary: does each claim hold here?

One row per comparison, A - B with its 95% CI, and the sentence generated from that CI: *holds here*
(the CI excludes 0 in the claimed direction), *not shown here* (the CI includes 0: no evidence either
way at this budget), or *contradicted here* (the CI excludes 0 in the other direction).
""")
code("""
await executor.close();
const summaryTable = showTable(formatAblationRows(allRows), { name: 'ma2ml-ablations-summary', caption: caption('MA2ML ablations, all rows', (Date.now() - notebookStart) / 1000) });
""")
md("""
## Reading the results

* At the `smoke` and `quick` budgets the searches are short (a few learner updates), so most rows are
  expected to read *not shown here*: the CIs are wide. That is the honest outcome at this scale, not a
  failure of the code; the `full` preset (5 seeds, 36 evaluations per search) narrows them.
* The exact synthetic check in (c) needs no large budget: it shows directly whether, and how often, the
  expected reward of the policy drops after an update, and how w changes that.
""")

write("22-ma2ml-ablations.ipynb", "ma2ml-22")
