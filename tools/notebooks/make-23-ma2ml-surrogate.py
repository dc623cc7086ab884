"""Writes notebooks/23-ma2ml-surrogate.ipynb (nbformat 4.5, stable cell ids). Run: python3 tools/notebooks/make-23-ma2ml-surrogate.py"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nbgen import code, md, write  # noqa: E402

md("""
# 23 · MA2ML on a surrogate benchmark: joint two-agent search with exact regret

Issue 12, deliverable 6. The proxy-training experiments of notebooks 21 and 22 cost seconds per
evaluation, so they run a few dozen evaluations per search and their rewards are noisy. Here the
same learners search a cheap, externally made benchmark where every configuration's value is known,
so methods can be compared at 36, 200 and 1000 evaluations on many tasks and seeds with **exact** regret.

**Benchmark.** The YAHPO Gym surrogate of LCBench (Pfisterer et al. 2022; LCBench: Zimmer et al. 2021):
an ONNX model that predicts how a funnel-shaped MLP trained with SGD does on 34 OpenML tasks from 7
hyper-parameters and the epoch. Data, citation and licence (Apache-2.0): `data/README.md` and
`data/yahpo-lcbench/`. Its predictions are a model of LCBench, not LCBench measurements.

**Two agents on a discretised grid** (`defaultLcbenchGrid`, 84,000 joint configurations): the
*architecture* agent picks `num_layers` (1-5), `max_units` (64-1024) and `max_dropout` (0-0.75)
(100 architectures); the *optimisation* agent picks `batch_size` (16-512), `learning_rate`
(1e-4 to 1e-1, half-decades), `momentum` (0.1-0.99) and `weight_decay` (1e-5 to 1e-1) (840 settings).
The team reward of a joint action is the surrogate's validation accuracy at the final epoch (52).

**Exact regret.** Each task's whole grid is evaluated once (about 1 s per task, cached as a file), so
the optimum is known. After each evaluation we record the noiseless value of the best configuration
evaluated so far; regret = optimum − that value, normalised by optimum − median of the grid (0 at the
optimum, 1 at the median configuration), so tasks of different difficulty are comparable.

**Noise model.** The learners observe `value + N(0, 0.01²)` (sd 0.01 = one accuracy point, the size of
the seed-to-seed spread of real proxy rewards), i.i.d. per evaluation from the search seed's stream;
regret always uses the noiseless table. Set `plan.noiseSd = 0` for the noiseless problem.

**Methods.** The learner configurations of notebook 21 (`METHOD_CONFIGS`): `ma2ml` (since issue 12: ridge
critic, exact expected off-policy actor, per-batch target update tau 0.2, KL limit 0.005, 16 inner
steps), `ma2ml-replay` (the learner `ma2ml` was before: MLP critic, replayed actions, 8 steps, tau 0.01
per step), `ma2ml-lite`, `ma2ml-no-credit`, `independent`, `single-agent` (one autoregressive agent over
the joint space), each with the actor learning rate tuned for each budget on validation tasks
(`TUNED_ACTOR_LR`; `plan.actorLr = 'default'` turns it off), `sequential` (architecture for half the budget with the optimisation
agent at random tokens, then optimisation with the best architecture), `random` (uniform over the
grid), and the module-only searches `ma2ml only architecture` / `ma2ml only optimisation` (the other
agent fixed at a hand default: 2 layers of 256 units, no dropout; batch 64, lr 0.01, momentum 0.9,
weight decay 1e-4). The learners are driven directly through `SingleStepLearner` on the problem's
agents and reward (`src/ma2ml/experiments/surrogate`). A learner does not know its budget, so each
search runs once at the largest budget and is read at 36 / 200 / 1000, except where the tuned learning
rate of a smaller budget differs: that budget gets its own run of exactly its length. `sequential`
splits its budget, so it runs once per budget.

**Statistics.** Means over tasks and seeds with two-level bootstrap 95% CIs (tasks resampled, then
seeds within each task: `hierarchicalMeanCI`); differences paired by task (`pairedDifferenceCI`);
probability of improvement with tasks as strata (`probabilityOfImprovement`).
""")
code("""
import * as path from 'path';
import {
  surrogateCells, surrogateLabels, runSurrogateSearches, regretCurves, budgetRows, formatBudgetRows,
  claimRows, formatClaimRows, diagnosticsSummaryRows, diagnosticsUpdateRows, writeCsv, gridSizesOf,
} from './dist/src/ma2ml/experiments/surrogate';
import { openMa2mlSurrogateSession, showFigure, showTable, smallMultiplesFigure, provenance, resultsDir, PALETTE } from './dist/src/notebook';

// The preset's surrogate plan, its executor and the experiment store (every search cached); prints the mode.
const session = await openMa2mlSurrogateSession();
const { plan, executor, store } = session;
const labels = surrogateLabels(plan);
const cells = surrogateCells(plan);
const notebookStart = session.started;
console.log(`${cells.length} searches`);
""")
md("""
## The plan

Tasks: a fixed prefix of a seeded shuffle of the 34 task ids (`shuffledTasks`, seed 2026): the tasks
are the benchmark's instances, nothing is tuned on them. Edit a copy of the plan and
`parseSurrogatePlan` it to change anything.
""")
code("""
const planTable = showTable(
  [
    { item: 'tasks (OpenML ids)', value: plan.tasks.join(', ') },
    { item: 'search seeds', value: plan.seeds.join(', ') },
    { item: 'budgets (evaluations)', value: `${plan.budgets.join(', ')} (batches of ${plan.batchSize})` },
    { item: 'grid', value: `${plan.grid.name}: ${gridSizesOf(plan.grid)} joint configurations, agents ${plan.grid.agents.map((a) => `${a.name} (${a.params.map((p) => p.name).join(', ')})`).join('; ')}` },
    { item: 'reward', value: `surrogate validation accuracy at epoch ${plan.epoch} + N(0, ${plan.noiseSd}^2) observation noise` },
    { item: 'methods', value: labels.join(', ') },
    { item: 'module-only default', value: plan.moduleOnly ? JSON.stringify(plan.moduleOnly.config) : 'none' },
    { item: 'bootstrap', value: `${plan.bootstrap.reps} resamples, two-level (tasks, then seeds)` },
  ],
  { name: 'surrogate-plan', caption: `Plan of preset ${plan.preset}: ${plan.description}` },
);
""")
md("""
## Run the searches

One store job per search (experiment `ma2ml-surrogate-searches`, job kind `ma2ml-surrogate-search`):
re-running this cell replays every search from the store; an interrupted run resumes.
""")
code("""
const searchStart = Date.now();
const { runs, computed, cached } = await runSurrogateSearches(plan, cells, { executor: executor, store: store });
const searchWall = (Date.now() - searchStart) / 1000;
await session.close();
console.log(`${runs.length} searches: ${computed} computed, ${cached} from the store; wall ${searchWall.toFixed(1)} s`);
""")
md("""
## Normalised regret vs evaluations

Mean over tasks and seeds of the exact normalised regret of the best configuration evaluated so far,
with a two-level bootstrap 95% band (log x axis; 0 = optimum, 1 = grid median), one panel per method.
""")
code("""
const curves = regretCurves(runs, plan, labels);
// One panel per method (same axes; overlapping bands in one plot are unreadable), ma2ml dotted in every panel.
const fig = smallMultiplesFigure(
  labels.map((m, k) => ({ name: m, x: curves[m].steps, y: curves[m].point, lower: curves[m].lo, upper: curves[m].hi, color: PALETTE[k % PALETTE.length] })),
  { reference: labels.includes('ma2ml') ? 'ma2ml' : undefined, columns: 4, title: `Normalised regret (mean over ${plan.tasks.length} tasks x ${plan.seeds.length} seeds, 95% CI)`, xTitle: 'evaluations', yTitle: 'normalised regret', logX: true, width: 900 },
);
await showFigure(fig, { name: 'surrogate-regret-curves' });
""")
md("""
## Regret at each budget, probability of improvement

Per budget and method: normalised regret and regret in accuracy units (mean [95% CI]), the
probability that `ma2ml` has lower regret than the method (0.5 = no difference), the fraction of runs
whose learner moved (lowest entropy fraction of uniform <= 0.95) and the mean time of one search.
""")
code("""
const bRows = budgetRows(runs, plan, labels, 'ma2ml');
const budgetTable = showTable(formatBudgetRows(bRows, 'ma2ml'), {
  name: 'surrogate-budgets',
  caption: `LCBench surrogate, noise sd ${plan.noiseSd}: ${provenance({ seeds: plan.seeds, budget: `${plan.tasks.length} tasks x budgets ${plan.budgets.join('/')} evaluations x ${labels.length} methods`, wallSeconds: searchWall })} (${computed} searches computed in this run, ${cached} from the store)`,
});
""")
md("""
## The paper's claims

Each row compares A with B on one metric at one budget; lower is better for both metrics
(normalised regret; fraction of learner updates where the exact expected value of the policy under
the noiseless table dropped: the monotonic-improvement claim, computed exactly for factorised
policies from the per-agent token probabilities). Verdict: **holds** when the 95% CI of A − B
(paired by task, two-level bootstrap) is below 0, **contradicted** when above, **not shown** when it
includes 0, **untestable** when A's or B's learner did not move within the budget (entropy above 0.95
of uniform in most runs) or, for the credit-assignment rows, when A's critic predicts fresh evaluations
no better than a constant (mean held-out explained variance of its last 3 updates within the budget at
most 0, column "A critic held-out EV"): the comparison would then test noise, not credit.
""")
code("""
const cRows = claimRows(runs, plan);
const claimTable = showTable(formatClaimRows(cRows), {
  name: 'surrogate-claims',
  caption: `Claims on the LCBench surrogate: ${provenance({ seeds: plan.seeds, budget: `${plan.tasks.length} tasks, budgets ${plan.budgets.join('/')}`, wallSeconds: searchWall })}`,
});
""")
md("""
## Learner diagnostics

`diagnostics-summary.csv`: one row per learner search at the largest budget (lowest and final
entropy fraction, final KL to the target policy, mean KL between successive policies, final held-out
critic explained variance, inner steps, KL-limit stops, monotonic drop fraction, final normalised
regret). `diagnostics-updates.csv`: every update of the first task's seed-0 searches. The table below
averages the summary per method.
""")
code("""
const dRows = diagnosticsSummaryRows(runs, plan);
const dir = resultsDir();
writeCsv(path.join(dir, 'diagnostics-summary.csv'), dRows);
writeCsv(path.join(dir, 'diagnostics-updates.csv'), diagnosticsUpdateRows(runs, (r) => r.cell.task === plan.tasks[0] && r.cell.seed === plan.seeds[0] && r.cell.evaluations === plan.budgets[plan.budgets.length - 1]));
const byLabel = labels.filter((l) => dRows.some((r) => r.label === l)).map((l) => {
  const rs = dRows.filter((r) => r.label === l);
  const mean = (k: string) => rs.reduce((s, r) => s + Number(r[k]), 0) / rs.length;
  return { method: l, runs: rs.length, 'min entropy fraction': mean('minEntropyFraction'), 'final entropy fraction': mean('finalEntropyFraction'), 'final KL(pi||rho)': mean('finalKlTarget'), 'final held-out critic EV': mean('finalCriticEvHeldOut'), 'inner steps': mean('meanInnerSteps'), 'drop fraction': mean('monotonicDropFraction') };
});
const diagTable = showTable(byLabel, { name: 'surrogate-diagnostics', caption: `Learner diagnostics at ${plan.budgets[plan.budgets.length - 1]} evaluations, mean over tasks and seeds (NaN: not defined for that method); CSVs in ${dir}` });
console.log(`notebook wall ${((Date.now() - notebookStart) / 1000).toFixed(1)} s`);
""")
md("""
## Reading the results

* The `smoke` preset checks the code path on one task with 2 seeds; its rows say nothing about the claims.
* `quick` (10 tasks x 10 seeds, budgets 36 and 200) and `full` (adds 1000) are the runs to read. At 36
  evaluations (4-5 learner updates) several learners have barely moved, which the `untestable`
  verdicts make explicit instead of reading noise as evidence.
* The surrogate is a model of LCBench: it likes the grid's edges (the argmax has momentum 0.99 on 30
  of 34 tasks), which favours methods that commit quickly; exact regret is exact for the surrogate,
  not for real training.
""")

write("23-ma2ml-surrogate.ipynb", "ma2ml-23")
