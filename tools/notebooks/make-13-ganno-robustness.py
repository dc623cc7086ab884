"""Writes notebooks/13-ganno-robustness.ipynb. Run: python3 tools/notebooks/make-13-ganno-robustness.py"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nbgen import code, md, write  # noqa: E402

md("""
# 13 · Robustness to initial conditions (spec experiment 4)

The paper's claim: the agents are *robust across unseen initial conditions* — the initial learning rate
and the weight decay. The agents of notebook 11 were trained with initial LRs drawn from [0.01, 0.3] and
**no weight decay**. Here every cell of a grid (initial LR from 1e-4 to 1, several weight decays) fixes
both, and the trained agents (greedy and sampled) run next to two schedules **started at the same
values**: a constant LR and a cosine decay from that LR (neither is tuned: the question is what happens
when the starting point is wrong, which an adaptive controller can correct and a fixed schedule cannot).

**Fair comparison.** Every controller runs under the same LR bounds: the agents' action set clips every
LR to [1e-5, 1], and the schedules' LRs are clipped to the same interval (`runController`). The grid stays
inside these bounds, so no cell measures the clip instead of the controller. As a control, the
**"always keep"** controller (every agent takes the keep action at every decision, through the same
environment and clip) runs on every cell: a gain an agent shares with "always keep" is not the agent's.

**Tuning-free optimisers** (issue 14) run on the same grid, because robustness to the starting step size is
what they were built for. None of them has GANNO's "initial LR" as such, so each gets **the knob its own
paper claims robustness to, set to the cell's initial LR** (`TUNING_FREE_INITIAL_STEP_KNOB`): Schedule-Free
SGD its learning rate; D-Adaptation and Prodigy `d0` (the initial distance estimate); DoG, LDoG and
per-layer DoG `repsRel` (the relative size of the first move). Weight decay comes from the task. Nothing is
tuned. D-Adaptation, Prodigy and DoG only ever *grow* their step-size estimate, so they are built for a
knob set too small; the upper part of the grid (a knob far above the true distance or first move) tests an
overestimate their papers do not claim to handle, the analogue of an initial LR that is too large.

**Reconstructed:** the grid, the task seeds, the budgets (see `gannoPlan`) and the knob mapping.
""")
code("""
import { evaluateEntries, agentEntries, tuningFreeInitialStepEntries, TUNING_FREE_INITIAL_STEP_KNOB, summarise, scoreMatrix, evaluateClaim, learnerEvidence, movedText, formatInterval, TEST_ACCURACY } from './dist/src/ganno';
import type { VariantAgent, EvalRow, ControllerEntry, LayerLrEnvConfig } from './dist/src/ganno';
import { TUNING_FREE_OPTIMIZERS } from './dist/src/nn';
import { openGannoSession, showFigure, showTable, heatmapFigure, notebookProgress, provenance } from './dist/src/notebook';

const session = await openGannoSession(); // backend, this preset's plan, executor (2 workers; inline for smoke), store
const backend = session.backend;
const plan = session.plan;
const executor = session.executor;
const store = session.store;
const task = plan.env.task!;
const started = Date.now();
const agents: VariantAgent[] = await session.defaultAgents(); // notebook 11's agents (trained now if missing)
const grid = plan.robustness;
const budgetText = `agents: ${plan.train.updates} PPO updates x ${plan.train.numEnvs} episodes; every run ${task.totalSteps} SGD steps; grid ${grid.initialLrs.length} initial LRs x ${grid.weightDecays.length} weight decays x ${grid.seeds.length} task seeds`;
console.log(`backend ${backend.summary}; preset ${plan.preset}; ${budgetText}`);
""")
md("""
## Run the grid

For each cell the task distribution is the training one with the initial LR and weight decay fixed
(`task.initialLr: [lr, lr]`, `task.weightDecay: [wd]`), evaluated on the same task seeds by all three
controllers. Test accuracy on the dataset's test file; a diverged run scores 0.
""")
code("""
const cellEnv = (lr: number, wd: number): LayerLrEnvConfig => ({ ...plan.env, task: { ...task, initialLr: [lr, lr], weightDecay: [wd] } });
const entries: ControllerEntry[] = [];
for (const lr of grid.initialLrs) {
  for (const wd of grid.weightDecays) {
    const env = cellEnv(lr, wd);
    const tags = { initialLr: lr, weightDecay: wd };
    entries.push(...agentEntries(agents, 'GANNO (greedy)', env, grid.seeds, true, tags));
    entries.push(...agentEntries(agents, 'GANNO (sampled)', env, grid.seeds, false, tags));
    entries.push({ label: 'always keep', controller: { type: 'keep' }, env: env, seeds: grid.seeds, tags: tags });
    entries.push({ label: 'constant', controller: { type: 'constant' }, env: env, seeds: grid.seeds, tags: tags });
    entries.push({ label: 'cosine', controller: { type: 'schedule', schedule: { type: 'cosine' }, name: 'cosine' }, env: env, seeds: grid.seeds, tags: tags });
    entries.push(...tuningFreeInitialStepEntries(env, lr, grid.seeds, TUNING_FREE_OPTIMIZERS, tags));
  }
}
const rows: EvalRow[] = await evaluateEntries({ name: 'ganno-13', entries: entries, executor: executor, store: store, progress: notebookProgress({ intervalMs: 15000 }) });
const wall = (Date.now() - started) / 1000;
const cellMean = (label: string, lr: number, wd: number) => {
  const xs = rows.filter((r) => r.label === label && r.tags.initialLr === lr && r.tags.weightDecay === wd).map((r) => r.testAccuracy);
  return xs.reduce((a, b) => a + b, 0) / xs.length;
};
const heat = (f: (lr: number, wd: number) => number, title: string, name: string, diff: boolean) => showFigure(
  heatmapFigure({ z: grid.weightDecays.map((wd) => grid.initialLrs.map((lr) => 100 * f(lr, wd))), x: grid.initialLrs, y: grid.weightDecays, colorbarTitle: diff ? 'pp' : '%', labelDigits: 1, colorscale: diff ? 'RdBu' : 'Viridis', zmin: diff ? -30 : 0, zmax: diff ? 30 : 100 }, { title: title, xTitle: 'initial LR', yTitle: 'weight decay' }),
  { name: name },
);
void await heat((lr, wd) => cellMean('GANNO (greedy)', lr, wd), 'GANNO (greedy): test accuracy % per initial condition', 'heatmap-ganno', false);
void await heat((lr, wd) => cellMean('GANNO (greedy)', lr, wd) - cellMean('constant', lr, wd), 'GANNO minus constant LR (percentage points)', 'heatmap-vs-constant', true);
void await heat((lr, wd) => cellMean('GANNO (greedy)', lr, wd) - cellMean('cosine', lr, wd), 'GANNO minus cosine from the same LR (percentage points)', 'heatmap-vs-cosine', true);
""")
md("""
## Table

Mean test accuracy per cell with a 95% bootstrap CI (over task seeds, and agent seeds for GANNO).
Cells outside the training conditions (initial LR outside [0.01, 0.3], or weight decay > 0) are marked.
"always keep" and "constant" coincide by construction (same LR, same bounds): the keep row proves it.
""")
code("""
const trainLr = task.initialLr as [number, number];
const unseen = (lr: number, wd: number) => lr < trainLr[0] || lr > trainLr[1] || wd > 0;
const tableRows = grid.initialLrs.flatMap((lr) => grid.weightDecays.map((wd) => {
  const f = (r: EvalRow) => r.tags.initialLr === lr && r.tags.weightDecay === wd;
  const s = summarise(rows, ['GANNO (greedy)', 'GANNO (sampled)', 'always keep', 'constant', 'cosine'], TEST_ACCURACY, f);
  return {
    'initial LR': lr, 'weight decay': wd, 'unseen in training': unseen(lr, wd) ? 'yes' : '',
    'GANNO greedy % [95% CI]': formatInterval(s[0].mean, 1, 100), 'GANNO sampled % [95% CI]': formatInterval(s[1].mean, 1, 100), 'always keep %': formatInterval(s[2].mean, 1, 100),
    'constant % [95% CI]': formatInterval(s[3].mean, 1, 100), 'cosine % [95% CI]': formatInterval(s[4].mean, 1, 100),
    'diverged (greedy / sampled / keep / constant / cosine)': s.map((x) => x.diverged).join(' / '),
  };
}));
void showTable(tableRows, { name: 'robustness-table', caption: `Test accuracy per initial condition: ${provenance({ seeds: plan.agentSeeds, budget: budgetText, wallSeconds: wall })} (task seeds ${grid.seeds.join(',')})` });
""")
md("""
The tuning-free optimisers on the same cells: mean test accuracy (%) with a 95% bootstrap CI over task
seeds; the column header names the knob the cell's initial LR sets. The last row of each weight decay is
the spread over the grid's initial steps (max − min of the cell means): a robust method has a small one.
""")
code("""
const tfRows = grid.weightDecays.flatMap((wd) => {
  const perLr = grid.initialLrs.map((lr) => {
    const f = (r: EvalRow) => r.tags.initialLr === lr && r.tags.weightDecay === wd;
    const s = summarise(rows, ['GANNO (greedy)', ...TUNING_FREE_OPTIMIZERS], TEST_ACCURACY, f);
    const row: Record<string, string | number> = { 'weight decay': wd, 'initial step': lr, 'GANNO greedy %': formatInterval(s[0].mean, 1, 100) };
    TUNING_FREE_OPTIMIZERS.forEach((o, i) => { row[`${o} (${TUNING_FREE_INITIAL_STEP_KNOB[o]}) %`] = formatInterval(s[i + 1].mean, 1, 100); });
    return row;
  });
  const spread: Record<string, string | number> = { 'weight decay': wd, 'initial step': 'spread (pp)' };
  ['GANNO (greedy)', ...TUNING_FREE_OPTIMIZERS].forEach((label) => {
    const means = grid.initialLrs.map((lr) => cellMean(label, lr, wd));
    const key = label === 'GANNO (greedy)' ? 'GANNO greedy %' : `${label} (${TUNING_FREE_INITIAL_STEP_KNOB[label as (typeof TUNING_FREE_OPTIMIZERS)[number]]}) %`;
    spread[key] = (100 * (Math.max(...means) - Math.min(...means))).toFixed(1);
  });
  return [...perLr, spread];
});
void showTable(tfRows, { name: 'robustness-tuning-free', caption: `Tuning-free optimisers on the robustness grid (each knob set to the cell's initial LR, nothing tuned): ${provenance({ seeds: plan.agentSeeds, budget: budgetText, wallSeconds: wall })} (task seeds ${grid.seeds.join(',')})` });
""")
md("""
## Does the claim hold here?

Pooled over the **unseen** initial LRs (weight decay 0) and, separately, over the unseen weight decays
(initial LRs inside the training range), paired by cell and task: is the agent better than the same
schedule started at the same values, and than "always keep" (which only the clip moves)?
""")
code("""
const inLrRange = (lr: number) => lr >= trainLr[0] && lr <= trainLr[1];
const groups = [
  { name: 'unseen initial LRs (wd = 0)', f: (r: EvalRow) => !inLrRange(Number(r.tags.initialLr)) && r.tags.weightDecay === 0 },
  { name: 'unseen weight decays (initial LR in the training range)', f: (r: EvalRow) => inLrRange(Number(r.tags.initialLr)) && Number(r.tags.weightDecay) > 0 },
];
const learners = learnerEvidence(agents);
const claimRows = groups.flatMap((g) => {
  if (!rows.some(g.f)) return [];
  return ['greedy', 'sampled'].flatMap((mode) => ['always keep', 'constant', 'cosine', ...TUNING_FREE_OPTIMIZERS].map((b) => {
    const c = evaluateClaim(`GANNO is more robust than ${b}`, scoreMatrix(rows, `GANNO (${mode})`, TEST_ACCURACY, g.f), scoreMatrix(rows, b, TEST_ACCURACY, g.f), TEST_ACCURACY, { learners: learners });
    const against = b === 'always keep' ? 'always keep (same env and clip)' : (TUNING_FREE_OPTIMIZERS as readonly string[]).includes(b) ? `${b}, its ${TUNING_FREE_INITIAL_STEP_KNOB[b as (typeof TUNING_FREE_OPTIMIZERS)[number]]} at the same value (untuned)` : `${b} from the same LR (same clip)`;
    return { conditions: g.name, GANNO: mode, 'compared with': against, 'claim: GANNO is better here': c.sentence };
  }));
});
void showTable(claimRows, { name: 'claims', caption: `Paper claim "robust across unseen initial conditions" (paired two-level bootstrap over cells x tasks and agent seeds; every controller under the LR bounds [1e-5, 1]; ${movedText(agents)}): ${provenance({ seeds: plan.agentSeeds, budget: budgetText, wallSeconds: wall })}` });
""")
code("""
await session.close();
""")
write("13-ganno-robustness.ipynb", "g13")
