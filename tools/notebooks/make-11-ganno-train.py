"""Writes notebooks/11-ganno-train.ipynb. Run: python3 tools/notebooks/make-11-ganno-train.py"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nbgen import code, md, write  # noqa: E402

md("""
# 11 · Training the GANNO agents (spec experiment 2)

One agent per layer sets its layer's learning rate every K SGD steps; all layer agents share one GRU
actor-critic trained with IPPO, over a distribution of training tasks (small MLPs on MNIST-style digits,
random initial LR). This notebook trains the **default agent** of the active preset with several
independent training seeds and then asks the question every learning result needs first: **did the
learner move?** It shows the learner diagnostics of every PPO update, the budget curve (test accuracy
after 1x, 3x, ... the decision budget, against a tuned cosine schedule), and what the trained agents do:
the **per-layer LR trajectories** on held-out tasks.

The trained agents are stored (checkpoints under `results/ganno-agents/<preset>/`, summaries in the
experiment store), so notebooks 12-15 evaluate *these* agents; re-running a cell reuses them, and an
interrupted training resumes from its last checkpoint.

**Stated by the paper vs reconstructed here.** Stated: one agent per layer, local + global observations,
per-layer LR actions, cooperative MARL, difference rewards; a follow-up describes a shared recurrent IPPO
policy with 9 cumulative actions. **Reconstructed** (configuration values with documented defaults, see
`src/ganno/README.md` and `gannoPlan` in `src/ganno/experiments/plan.ts`): the task distribution, K, the
feature set, the reward `-(ln L_val(t+1) - ln L_val(t))`, the difference reward's counterfactual, PPO
settings and every budget.

**Credit with the right horizon.** An LR change acts on every later step of the run, so the default
difference reward of agent i compares the run with a *shadow run* in which agent i keeps its LR while
the other layers follow the factual LRs on the same mini-batches: `D_i,t = G_t − G_t^(−i)`, whose sum
over the episode is exactly what agent i's choices did to the episode return (tested). The earlier
per-interval reward (replay only the next K steps) is kept as the `myopic-difference` variant
(notebook 15). **PPO settings** (`GANNO_PPO_DEFAULTS`): value targets normalised by running return
statistics (no hand-set reward scale), no value clipping, actor and critic gradients clipped separately,
learning rate and epochs chosen by the sweep on validation tasks (`npm run ganno-sweep`, README).
""")
code("""
import * as path from 'path';
import { DEFAULT_VARIANT, evaluateEntries, agentEntries, summarise, formatInterval, tuneBaselines, baselineDefs, evaluateBudgetCurve,
         diagnosticsRows, diagnosticsCurve, actionShares, movedText, degenerateShare, POLICY_MOVED_KL, TEST_ACCURACY, VAL_LOSS_AUC } from './dist/src/ganno';
import type { VariantAgent, EvalRow } from './dist/src/ganno';
import { meanCI, writeTable } from './dist/src/eval';
import { openGannoSession, showFigure, showTable, lineFigure, barFigure, notebookProgress, provenance, resultsDir } from './dist/src/notebook';

const session = await openGannoSession(); // backend, this preset's plan, executor (2 workers; inline for smoke), store
const backend = session.backend;
const plan = session.plan;
const executor = session.executor;
const store = session.store;
const task = plan.env.task!;
const decisionsPerUpdate = plan.train.numEnvs * plan.train.episodesPerEnv * (task.totalSteps! / plan.env.k!);
const budgetText = `${plan.train.updates} PPO updates x ${plan.train.numEnvs} episodes x ${task.totalSteps} SGD steps (K = ${plan.env.k}: ${plan.train.updates * decisionsPerUpdate} decisions per agent seed)`;
console.log(`backend ${backend.summary}; preset ${plan.preset}; store ${store.file}`);
console.log(`training budget per agent seed: ${budgetText}; agent seeds ${plan.agentSeeds.join(', ')}; budget curve ${plan.budgetCurve.map((m) => `${m}x`).join(', ')}`);
""")
md("""
## Train the default agent

One runtime job per training seed; with the worker pool two agents train at once. With a budget curve
longer than 1x the job trains to the largest multiple and keeps the best-so-far checkpoint at each
multiple; the **1x checkpoint** (identical to a run trained for 1x: tested) is the agent that notebooks
12-15 evaluate. Checkpoints are chosen on held-out **validation tasks** (their own seeds, never the test
tasks).
""")
code("""
const trainStarted = Date.now();
const agents: VariantAgent[] = await session.defaultAgents();
const trainWall = (Date.now() - trainStarted) / 1000;
void showTable(
  agents.map((a) => {
    const last = a.diagnostics[a.diagnostics.length - 1];
    return {
      'agent seed': a.seed,
      'updates trained': a.updates,
      'kept checkpoint (update)': a.best ? a.best.update : NaN,
      'validation, greedy': a.best ? a.best.greedy : NaN,
      'validation, sampled': a.best ? a.best.sampled : NaN,
      'KL from initial (kept)': a.klFromInitial,
      moved: a.moved ? 'yes' : `NO (< ${POLICY_MOVED_KL})`,
      'entropy, last update': last.policyEntropy,
      'training seconds': a.seconds,
    };
  }),
  { name: 'training-summary', digits: 4, caption: `Default GANNO agent, one row per training seed. Validation score = mean ln(L_val(0) / L_val(T)) on the validation tasks (greedy and sampled policy); the kept checkpoint is the best greedy score up to ${plan.train.updates} updates (1x). ${provenance({ seeds: plan.agentSeeds, budget: budgetText, wallSeconds: trainWall })} (near 0 s when the agents came from the store; training seconds are the original jobs')` },
);
""")
md("""
## Learner diagnostics

Every PPO update records what tells a learner that moved from one that only ran: the **KL from the
initial policy** (the policy is flagged "did not move" below 0.05 nats, about the KL of moving 10% of a
uniform 9-way policy's mass onto one action), the KL per update and the PPO clip fraction (step size),
the **policy entropy** (ln 9 = 2.197 is uniform), the **critic's explained variance** (does the value
function predict the returns it is fitted to?) and the pre-clip gradient norms of actor and critic.
Curves are means over agent seeds with 95% bootstrap bands; every value of every update and seed is in
`learner-diagnostics.csv`.
""")
code("""
const diagRows = diagnosticsRows(agents);
writeTable(path.join(resultsDir(), 'learner-diagnostics.csv'), diagRows, Object.keys(diagRows[0]), { format: 'csv', digits: 6 });
const band = (field: Parameters<typeof diagnosticsCurve>[1], name: string, color?: string) => ({ name: name, color: color, ...diagnosticsCurve(agents, field) });
const xs = diagnosticsCurve(agents, 'klFromInitial').x;
const flat = (v: number, name: string) => ({ name: name, x: [xs[0], xs[xs.length - 1]], y: [v, v], dash: 'dash' as const, color: '#7f7f7f' });
void await showFigure(lineFigure([band('klFromInitial', 'KL from the initial policy'), band('kl', 'KL per update (vs behaviour policy)'), flat(POLICY_MOVED_KL, 'moved threshold')], { title: 'Did the policy move? (nats, mean over agent seeds, 95% CI)', xTitle: 'PPO update', yTitle: 'KL (nats)', logY: true }), { name: 'diag-kl' });
void await showFigure(lineFigure([band('policyEntropy', 'policy entropy'), flat(Math.log(plan.env.actions === 'factors3' ? 3 : 9), 'uniform (ln A)')], { title: 'Policy entropy on the rollout observations (nats)', xTitle: 'PPO update', yTitle: 'entropy (nats)' }), { name: 'diag-entropy' });
void await showFigure(lineFigure([band('explainedVariance', 'critic explained variance'), band('clipFraction', 'PPO clip fraction')], { title: 'Critic fit and PPO step size', xTitle: 'PPO update', yTitle: 'fraction' }), { name: 'diag-critic-clip' });
void await showFigure(lineFigure([band('actorGradNorm', 'actor (mean)'), band('criticGradNorm', 'critic (mean)'), band('actorGradNormMax', 'actor (max)'), band('criticGradNormMax', 'critic (max)')], { title: 'Pre-clip gradient norms (clipped separately)', xTitle: 'PPO update', yTitle: 'L2 norm', logY: true }), { name: 'diag-grad-norms' });
const nUpd = Math.max(...agents.map((a) => a.diagnostics.length));
const q = Math.max(1, Math.floor(nUpd / 4));
const early = actionShares(agents, 1, q);
const late = actionShares(agents, nUpd - q + 1, nUpd);
const actionNames = early.map((_, k) => `a${k}`);
void await showFigure(barFigure([{ name: `updates 1-${q}`, x: actionNames, y: early }, { name: `updates ${nUpd - q + 1}-${nUpd}`, x: actionNames, y: late }], { title: 'Actions taken in the training rollouts (shares; a4 = keep, a0 = x1/2 ... a8 = x2)', yTitle: 'share' }), { name: 'diag-actions' });
const summaryAt = (u: number) => {
  const ds = agents.map((a) => a.diagnostics[u - 1]).filter((d) => d !== undefined);
  const m = (f: (d: (typeof ds)[number]) => number) => meanCI(ds.map(f), { seed: u });
  return { update: u, 'KL from initial': formatInterval(m((d) => d.klFromInitial), 3), entropy: formatInterval(m((d) => d.policyEntropy), 3), 'max prob': formatInterval(m((d) => d.maxProb), 3), 'clip fraction': formatInterval(m((d) => d.clipFraction), 3), 'explained variance': formatInterval(m((d) => d.explainedVariance), 2), 'actor grad norm': formatInterval(m((d) => d.actorGradNorm), 2), 'critic grad norm': formatInterval(m((d) => d.criticGradNorm), 2) };
};
void showTable([1, plan.train.updates, nUpd].filter((u, i, all) => all.indexOf(u) === i).map(summaryAt), { name: 'learner-diagnostics-summary', caption: `Learner diagnostics at the first update, at 1x and at the end of training (mean over agent seeds [95% CI]): ${provenance({ seeds: plan.agentSeeds, budget: budgetText, wallSeconds: trainWall })}` });
""")
md("""
## Learning curves

Mean team return of the training episodes per PPO update (mean over agent seeds with a 95% bootstrap
band), and the greedy and sampled policy's validation scores at every evaluation. Training episodes are
drawn from the task distribution, so the curve is noisy: tasks differ in how much the loss can fall at all.
""")
code("""
const curve = (values: number[][], name: string, color?: string) => {
  const n = Math.min(...values.map((v) => v.length));
  const x = Array.from({ length: n }, (_, u) => u + 1);
  const cis = x.map((_, u) => meanCI(values.map((v) => v[u]), { seed: u }));
  return { name: name, x: x, y: cis.map((c) => c.point), lower: cis.map((c) => c.lo), upper: cis.map((c) => c.hi), color: color };
};
void await showFigure(lineFigure([curve(agents.map((a) => a.teamReturn), 'team return (training episodes)')], { title: 'Default GANNO agent: team return per PPO update (mean over agent seeds, 95% CI)', xTitle: 'PPO update', yTitle: 'ln(L_val(0) / L_val(T))' }), { name: 'learning-curve' });
const valX = agents[0].validation.map((v) => v.update);
void await showFigure(lineFigure([curve(agents.map((a) => a.validation.map((v) => v.greedy)), 'greedy'), curve(agents.map((a) => a.validation.map((v) => v.sampled)), 'sampled')].map((s) => ({ ...s, x: valX.slice(0, s.x.length) })), { title: 'Validation score (mean over agent seeds, 95% CI)', xTitle: 'PPO update', yTitle: 'ln(L_val(0) / L_val(T))' }), { name: 'validation-curve' });
""")
md("""
## Budget curve: a budget limit or a method limit?

The default agents' kept checkpoints at each multiple of the decision budget run greedily and sampled on
the **test tasks** (a fresh seed range that nothing was tuned, selected or diagnosed on), next to the
cosine schedule whose peak LR is tuned on the tuning tasks. If the gap to cosine closes as the budget
grows, the budget limits the agents; if it stays, the method does. The presets train 1x only (every
other agent of notebooks 12-15 gets 1x too); `MARL_AUTOML_GANNO_BUDGET_CURVE=1,3,10` trains the default
agents to 10x with checkpoints at 1x and 3x (the README quotes that run with its wall time).
""")
code("""
const curveStarted = Date.now();
const cosineDef = baselineDefs(task.totalSteps!).filter((d) => d.name === 'cosine');
const [cosine] = await tuneBaselines({ baselines: cosineDef, env: plan.env, grid: plan.peakGrid, seeds: plan.tuneSeeds, executor: executor, store: store, progress: notebookProgress({ intervalMs: 15000 }) });
const bc = await evaluateBudgetCurve({ plan: plan, agents: agents, baseline: cosine, executor: executor, store: store, progress: notebookProgress({ intervalMs: 15000 }) });
const curveWall = (Date.now() - curveStarted) / 1000;
const cosAcc = summarise(bc.rows, [bc.baselineLabel], TEST_ACCURACY)[0].mean;
void showTable(
  bc.points.map((p) => ({
    budget: `${p.multiple}x`,
    'PPO updates': p.updates,
    'decisions / seed': p.decisions,
    'greedy test acc % [95% CI]': formatInterval(p.greedy, 2, 100),
    'sampled test acc % [95% CI]': formatInterval(p.sampled, 2, 100),
    'greedy − cosine, pp [95% CI]': formatInterval(p.greedyGap, 2),
    'sampled − cosine, pp [95% CI]': formatInterval(p.sampledGap, 2),
    'greedy runs one-action (> 90%)': p.greedyDegenerate,
    'policies moved': `${p.moved}/${p.agents}`,
  })),
  { name: 'budget-curve', digits: 3, caption: `Default agents after 1x ... the decision budget on test tasks ${plan.testSeeds.join(',')}, against cosine (tuned peak LR ${cosine.peakLr}; ${formatInterval(cosAcc, 2, 100)} %). Two-level bootstrap CIs (tasks, then agent seeds); gaps paired by task. ${provenance({ seeds: plan.agentSeeds, budget: budgetText, wallSeconds: curveWall })}` },
);
const bx = bc.points.map((p) => p.decisions);
void await showFigure(lineFigure([
  { name: 'greedy', markers: true, x: bx, y: bc.points.map((p) => 100 * p.greedy.point), lower: bc.points.map((p) => 100 * p.greedy.lo), upper: bc.points.map((p) => 100 * p.greedy.hi) },
  { name: 'sampled', markers: true, x: bx, y: bc.points.map((p) => 100 * p.sampled.point), lower: bc.points.map((p) => 100 * p.sampled.lo), upper: bc.points.map((p) => 100 * p.sampled.hi) },
  { name: 'cosine (tuned)', x: bx, y: bx.map(() => 100 * cosAcc.point), lower: bx.map(() => 100 * cosAcc.lo), upper: bx.map(() => 100 * cosAcc.hi), dash: 'dash' },
], { title: 'Test accuracy vs training budget (95% CI)', xTitle: 'decisions per agent seed', yTitle: 'test accuracy %', logX: bx.length > 1 }), { name: 'budget-curve' });
""")
md("""
## What the trained agents do: per-layer LR trajectories

We run each agent's kept (1x) checkpoint greedily on held-out test tasks and record the LR of every layer
at every decision. For comparison the table below also runs the constant LR (each task's initial LR) and
a cosine schedule from the task's initial LR on the same tasks (same network, data and batch order).
""")
code("""
const evalStarted = Date.now();
const lrSeeds = plan.testSeeds.slice(0, Math.min(3, plan.testSeeds.length));
const rows: EvalRow[] = await evaluateEntries({
  name: 'ganno-11',
  entries: [
    ...agentEntries(agents, 'GANNO (greedy)', plan.env, lrSeeds, true),
    ...agentEntries(agents, 'GANNO (sampled)', plan.env, lrSeeds, false),
    { label: 'constant (initial LR)', controller: { type: 'constant' }, env: plan.env, seeds: lrSeeds },
    { label: 'cosine (from initial LR)', controller: { type: 'schedule', schedule: { type: 'cosine' }, name: 'cosine' }, env: plan.env, seeds: lrSeeds },
  ],
  executor: executor,
  store: store,
  progress: notebookProgress({ intervalMs: 15000 }),
});
const evalWall = (Date.now() - evalStarted) / 1000;
for (const mode of ['greedy', 'sampled']) {
  const shown = rows.filter((r) => r.label === `GANNO (${mode})` && r.taskSeed === lrSeeds[0]);
  const series = shown.flatMap((r, k) => r.lrs[0].map((_, layer) => ({
    name: `seed ${r.run}, layer ${layer}`,
    x: r.lrs.map((_, t) => (t * plan.env.k!)),
    y: r.lrs.map((l) => l[layer]),
    dash: (['solid', 'dash', 'dot', 'dashdot'] as const)[layer % 4],
    color: ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd'][k % 5],
  })));
  void await showFigure(lineFigure(series, { title: `Per-layer LRs of the trained agents (${mode}) on test task ${lrSeeds[0]} (${shown[0].numLayers} layers, initial LR ${shown[0].initialLr.toFixed(3)})`, xTitle: 'SGD step', yTitle: 'learning rate', logY: true }), { name: `lr-trajectories-${mode}` });
}
""")
md("""
How the agents move the LRs, summarised over the test tasks: the ratio of the final to the initial LR per
layer position (geometric mean over tasks and seeds), whether greedy runs collapse onto one action (the
degenerate-mode guard: one action at more than 90% of an agent's decisions), and the three controllers'
accuracy on these tasks.
""")
code("""
const layerTable = ['greedy', 'sampled'].flatMap((mode) => {
  const agentRows = rows.filter((r) => r.label === `GANNO (${mode})`);
  const maxLayers = Math.max(...agentRows.map((r) => r.numLayers));
  return Array.from({ length: maxLayers }, (_, layer) => {
    const ratios = agentRows.filter((r) => layer < r.numLayers && r.lrs.length > 0).map((r) => Math.log10(r.lrs[r.lrs.length - 1][layer] / r.initialLr));
    const ci = meanCI(ratios, { seed: layer });
    return { policy: mode, layer: layer === 0 ? '0 (first)' : String(layer), runs: ratios.length, 'log10(final LR / initial LR), mean [95% CI]': formatInterval(ci, 3) };
  });
});
void showTable(layerTable, { name: 'lr-ratios', caption: `LR moves of the trained agents on test tasks ${lrSeeds.join(',')} (layer index counted from the input; the last layer of a network may be index 1, 2 or 3): ${provenance({ seeds: plan.agentSeeds, budget: budgetText, wallSeconds: evalWall })}` });
const labels = ['GANNO (greedy)', 'GANNO (sampled)', 'constant (initial LR)', 'cosine (from initial LR)'];
const acc = summarise(rows, labels, TEST_ACCURACY);
const auc = summarise(rows, labels, VAL_LOSS_AUC);
void showTable(
  labels.map((l, i) => ({ controller: l, runs: acc[i].runs, tasks: acc[i].tasks, 'test accuracy % [95% CI]': formatInterval(acc[i].mean, 1, 100), 'val-loss AUC [95% CI]': formatInterval(auc[i].mean, 3), diverged: acc[i].diverged, 'one-action runs': l.startsWith('GANNO') ? degenerateShare(rows, l) : '', policies: l.startsWith('GANNO') ? movedText(agents) : '' })),
  { name: 'trajectory-tasks', caption: `The same test tasks under the four controllers (two-level bootstrap over tasks and agent seeds; the full comparison against tuned schedules is notebook 12): ${provenance({ seeds: plan.agentSeeds, budget: budgetText, wallSeconds: evalWall })}` },
);
""")
md("""
## Reading the results

First the diagnostics: a result about what GANNO agents can do is only evidence when the policies moved
(KL from the initial policy above the threshold, entropy below ln 9, a critic that explains part of the
return variance). The budget curve then says whether more training closes the gap to a tuned schedule,
and the trajectories show what was learned (e.g. raising a too-small initial LR, decaying late, treating
the output layer differently). Notebook 12 compares the 1x agents against every tuned schedule;
notebook 15 trains the ablation variants with the same budget. The README quotes the measured numbers
with their preset, seeds and machine.
""")
code("""
await session.close();
""")
write("11-ganno-train.ipynb", "g11")
