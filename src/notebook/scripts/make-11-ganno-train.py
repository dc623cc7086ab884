"""Writes notebooks/11-ganno-train.ipynb. Run: python3 src/notebook/scripts/make-11-ganno-train.py"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nbgen import code, md, write  # noqa: E402

md("""
# 11 · Training the GANNO agents (spec experiment 2)

One agent per layer sets its layer's learning rate every K SGD steps; all layer agents share one GRU
actor-critic trained with IPPO on exact difference rewards, over a distribution of training tasks
(small MLPs on MNIST-style digits, random initial LR). This notebook trains the **default agent** of
the active preset with several independent training seeds, shows the learning curves, and opens up what
the trained agents do: the **per-layer LR trajectories** they produce on held-out tasks.

The trained agents are stored (checkpoints under `results/ganno-agents/<preset>/`, summaries in the
experiment store), so notebooks 12-15 evaluate *these* agents; re-running a cell reuses them, and an
interrupted training resumes from its last checkpoint.

**Stated by the paper vs reconstructed here.** Stated: one agent per layer, local + global observations,
per-layer LR actions, cooperative MARL, difference rewards; a follow-up describes a shared recurrent IPPO
policy with 9 cumulative actions. **Reconstructed** (configuration values with documented defaults, see
`src/ganno/README.md` and `gannoPlan` in `src/ganno/experiments/plan.ts`): the task distribution, K, the
feature set, the reward `-(ln L_val(t+1) - ln L_val(t))`, PPO hyper-parameters and every budget. The
paper trains for about 50k agent timesteps; our `quick` budget is far smaller (printed below).
""")
code("""
import * as path from 'path';
import { DEFAULT_VARIANT, trainGannoVariants, evaluateEntries, agentEntries, baselineController, baselineDefs, summarise, formatInterval, TEST_ACCURACY, VAL_LOSS_AUC } from './src/ganno';
import type { VariantAgent, EvalRow } from './src/ganno';
import { meanCI } from './src/eval';
import { openGannoSession, showFigure, showTable, lineFigure, notebookProgress, provenance } from './src/notebook';

const session = await openGannoSession(); // backend, this preset's plan, executor (2 workers; inline for smoke), store
const backend = session.backend;
const plan = session.plan;
const executor = session.executor;
const store = session.store;
const task = plan.env.task!;
const agentSteps = plan.train.updates * plan.train.numEnvs * plan.train.episodesPerEnv * (task.totalSteps! / task.k!);
const budgetText = `${plan.train.updates} PPO updates x ${plan.train.numEnvs} episodes x ${task.totalSteps} SGD steps (K = ${task.k}: ${agentSteps} decisions per agent seed)`;
console.log(`backend ${backend.summary}; preset ${plan.preset}; store ${store.file}`);
console.log(`training budget per agent seed: ${budgetText}; agent seeds ${plan.agentSeeds.join(', ')}`);
""")
md("""
## Train the default agent

One runtime job per training seed; with the worker pool two agents train at once. Each job writes a
checkpoint every few updates and keeps the checkpoint with the best greedy score on held-out
**validation tasks** (their own seeds, never the test tasks of notebooks 12-15).
""")
code("""
const trainStarted = Date.now();
const agents: VariantAgent[] = await trainGannoVariants({ plan: plan, variants: [DEFAULT_VARIANT], executor: executor, store: store, progress: notebookProgress({ intervalMs: 15000 }) });
const trainWall = (Date.now() - trainStarted) / 1000;
void showTable(
  agents.map((a) => ({
    'agent seed': a.seed,
    updates: a.updates,
    'first-update team return': a.teamReturn[0],
    'last-update team return': a.teamReturn[a.teamReturn.length - 1],
    'best validation score': a.best ? a.best.score : NaN,
    'best at update': a.best ? a.best.update : NaN,
    'training seconds': a.seconds,
  })),
  { name: 'training-summary', digits: 4, caption: `Default GANNO agent, one row per training seed (team return = ${plan.env.rewardScale ?? 1} x ln(L_val(0) / L_val(T)) of a training episode, the reward scale being a reconstruction; validation score = the same for the greedy policy on the validation tasks): ${provenance({ seeds: plan.agentSeeds, budget: budgetText, wallSeconds: trainWall })} (near 0 s when the agents came from the store; training seconds are the original jobs')` },
);
""")
md("""
## Learning curves

Mean team return of the training episodes per PPO update (mean over agent seeds with a 95% bootstrap
band), and the greedy policy's validation score at every evaluation. Training episodes are drawn from
the task distribution, so the curve is noisy: tasks differ in how much the loss can fall at all.
""")
code("""
const curve = (values: number[][], name: string, color?: string) => {
  const x = values[0].map((_, u) => u + 1);
  const cis = x.map((_, u) => meanCI(values.map((v) => v[u]), { seed: u }));
  return { name: name, x: x, y: cis.map((c) => c.point), lower: cis.map((c) => c.lo), upper: cis.map((c) => c.hi), color: color };
};
void await showFigure(lineFigure([curve(agents.map((a) => a.teamReturn), 'team return (training episodes)')], { title: 'Default GANNO agent: team return per PPO update (mean over agent seeds, 95% CI)', xTitle: 'PPO update', yTitle: `${plan.env.rewardScale ?? 1} x ln(L_val(0) / L_val(T))` }), { name: 'learning-curve' });
const valX = agents[0].validation.map((v) => v.update);
void await showFigure(lineFigure(agents.map((a) => ({ name: `agent seed ${a.seed}`, x: valX, y: a.validation.map((v) => v.score) })), { title: 'Greedy policy on the validation tasks', xTitle: 'PPO update', yTitle: 'validation score' }), { name: 'validation-curve' });
""")
md("""
## What the trained agents do: per-layer LR trajectories

We run each agent's best checkpoint greedily on held-out test tasks and record the LR of every layer at
every decision. For comparison the table below also runs the constant LR (each task's initial LR) and a
cosine schedule from the task's initial LR on the same tasks (same network, data and batch order).
""")
code("""
const evalStarted = Date.now();
const lrSeeds = plan.testSeeds.slice(0, Math.min(3, plan.testSeeds.length));
const rows: EvalRow[] = await evaluateEntries({
  name: 'ganno-11',
  entries: [
    ...agentEntries(agents, 'GANNO (greedy)', plan.env, lrSeeds, true),
    { label: 'constant (initial LR)', controller: { type: 'constant' }, env: plan.env, seeds: lrSeeds },
    { label: 'cosine (from initial LR)', controller: { type: 'schedule', schedule: { type: 'cosine' }, name: 'cosine' }, env: plan.env, seeds: lrSeeds },
  ],
  executor: executor,
  store: store,
  progress: notebookProgress({ intervalMs: 15000 }),
});
const evalWall = (Date.now() - evalStarted) / 1000;
const shown = rows.filter((r) => r.label === 'GANNO (greedy)' && r.taskSeed === lrSeeds[0]);
const series = shown.flatMap((r, k) => r.lrs[0].map((_, layer) => ({
  name: `seed ${r.run}, layer ${layer}`,
  x: r.lrs.map((_, t) => (t * task.k!)),
  y: r.lrs.map((l) => l[layer]),
  dash: (['solid', 'dash', 'dot', 'dashdot'] as const)[layer % 4],
  color: ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd'][k % 5],
})));
void await showFigure(lineFigure(series, { title: `Per-layer LRs chosen by the trained agents on test task ${lrSeeds[0]} (${shown[0].numLayers} layers, initial LR ${shown[0].initialLr.toFixed(3)})`, xTitle: 'SGD step', yTitle: 'learning rate', logY: true }), { name: 'lr-trajectories' });
""")
md("""
How the agents move the LRs, summarised over the test tasks: the ratio of the final to the initial LR per
layer position (geometric mean over tasks and seeds), and whether the layers end up with different LRs.
""")
code("""
const agentRows = rows.filter((r) => r.label === 'GANNO (greedy)');
const maxLayers = Math.max(...agentRows.map((r) => r.numLayers));
const layerTable = Array.from({ length: maxLayers }, (_, layer) => {
  const ratios = agentRows.filter((r) => layer < r.numLayers && r.lrs.length > 0).map((r) => Math.log10(r.lrs[r.lrs.length - 1][layer] / r.initialLr));
  const ci = meanCI(ratios, { seed: layer });
  return { layer: layer === 0 ? '0 (first)' : String(layer), runs: ratios.length, 'log10(final LR / initial LR), mean [95% CI]': formatInterval(ci, 3) };
});
void showTable(layerTable, { name: 'lr-ratios', caption: `LR moves of the trained agents on test tasks ${lrSeeds.join(',')} (layer index counted from the input; the last layer of a network may be index 1, 2 or 3): ${provenance({ seeds: plan.agentSeeds, budget: budgetText, wallSeconds: evalWall })}` });
const labels = ['GANNO (greedy)', 'constant (initial LR)', 'cosine (from initial LR)'];
const acc = summarise(rows, labels, TEST_ACCURACY);
const auc = summarise(rows, labels, VAL_LOSS_AUC);
void showTable(
  labels.map((l, i) => ({ controller: l, runs: acc[i].runs, tasks: acc[i].tasks, 'test accuracy % [95% CI]': formatInterval(acc[i].mean, 1, 100), 'val-loss AUC [95% CI]': formatInterval(auc[i].mean, 3), diverged: acc[i].diverged })),
  { name: 'trajectory-tasks', caption: `The same test tasks under the three controllers (two-level bootstrap over tasks and agent seeds; the full comparison against tuned schedules is notebook 12): ${provenance({ seeds: plan.agentSeeds, budget: budgetText, wallSeconds: evalWall })}` },
);
""")
md("""
## Reading the results

The trajectories show whether the agents learned a schedule-like behaviour (e.g. decaying the LR late
in the run, or treating the output layer differently from the first layer) or still act close to the
random walk they started from. With the `quick` budget (a few hundred decisions per agent seed against
the paper's ~50k timesteps) expect weak, seed-dependent policies; the `full` preset trains longer.
Notebook 12 compares these agents against *tuned* schedules; notebook 15 trains the ablation variants
with the same budget.
""")
code("""
await session.close();
""")
write("11-ganno-train.ipynb", "g11")
