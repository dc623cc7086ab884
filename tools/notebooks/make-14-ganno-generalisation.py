"""Writes notebooks/14-ganno-generalisation.ipynb. Run: python3 tools/notebooks/make-14-ganno-generalisation.py"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nbgen import code, md, write  # noqa: E402

md("""
# 14 · Zero-shot generalisation (spec experiment 5)

The paper's claim: agents trained on simple networks and datasets *generalise to deeper networks and
harder datasets*. The agents of notebook 11 (trained on MLPs with 1-2 hidden layers on MNIST-style
digits) are frozen and run, without any retraining, on:

- **deeper MLPs** (4-5 hidden layers: more layer agents than ever seen; the policy is shared and
  observes the relative depth, so it runs on any depth),
- a **CNN** (conv layers are new kinds of layers for the agents),
- **Fashion-MNIST** (a harder dataset),
- **longer runs** (several times the training horizon; `progress` = t/T still goes from 0 to 1).

Baselines get the same zero-shot treatment: their peak LR is the one tuned on the *training* tasks in
notebook 12 (cached in the store), scaled to the target's run length where the schedule needs it
(cosine `T_max`). We also show the constant initial LR, the agents' own starting point.
**Reconstructed:** the target distributions and budgets (see `gannoPlan(...).generalisation`).
""")
code("""
import { tuneBaselines, evaluateEntries, agentEntries, tuningFreeEntries, baselineController, baselineDefs, summarise, scoreMatrix, evaluateClaim, learnerEvidence, degenerateShare, movedText, formatInterval, TEST_ACCURACY, VAL_LOSS_AUC } from './dist/src/ganno';
import type { VariantAgent, EvalRow, ControllerEntry, TunedBaseline } from './dist/src/ganno';
import { openGannoSession, showFigure, showTable, barFigure, notebookProgress, provenance } from './dist/src/notebook';

const session = await openGannoSession(); // backend, this preset's plan, executor (2 workers; inline for smoke), store
const backend = session.backend;
const plan = session.plan;
const executor = session.executor;
const store = session.store;
const task = plan.env.task!;
const started = Date.now();
const agents: VariantAgent[] = await session.defaultAgents(); // notebook 11's agents (trained now if missing)
const kept = ['constant', 'cosine', 'warmup+cosine'];
const tuned: TunedBaseline[] = await tuneBaselines({ baselines: baselineDefs(task.totalSteps!), env: plan.env, grid: plan.peakGrid, seeds: plan.tuneSeeds, executor: executor, store: store, progress: notebookProgress({ intervalMs: 15000 }) });
const peaks = new Map(tuned.map((t) => [t.def.name, t.peakLr]));
const budgetText = `agents: ${plan.train.updates} PPO updates x ${plan.train.numEnvs} episodes of ${task.totalSteps} SGD steps on the training tasks; ${plan.generalisationSeeds.length} test tasks per target`;
console.log(`backend ${backend.summary}; preset ${plan.preset}; tuned on training tasks: ${kept.map((k) => `${k} ${peaks.get(k)}`).join(', ')}`);
""")
md("""
## Run the targets

Every target is a task distribution; all controllers run on the same test task seeds of each target.
The tuning-free optimisers (notebook 12) run at their default settings on every target too: they have
nothing to transfer, so they show what a method built to need no tuning does on the same shift.
""")
code("""
const entries: ControllerEntry[] = [];
for (const target of plan.generalisation) {
  const steps = target.env.task!.totalSteps!;
  const tags = { target: target.name };
  entries.push(...agentEntries(agents, 'GANNO (greedy, zero-shot)', target.env, plan.generalisationSeeds, true, tags));
  entries.push(...agentEntries(agents, 'GANNO (sampled, zero-shot)', target.env, plan.generalisationSeeds, false, tags));
  entries.push({ label: 'constant (initial LR)', controller: { type: 'constant' }, env: target.env, seeds: plan.generalisationSeeds, tags: tags });
  for (const def of baselineDefs(steps).filter((d) => kept.includes(d.name))) {
    entries.push({ label: `${def.name} (tuned on training tasks)`, controller: baselineController(def, peaks.get(def.name)!), env: target.env, seeds: plan.generalisationSeeds, tags: tags });
  }
  // tuning-free optimisers (DoG family, Prodigy, D-Adaptation, Schedule-Free) at default settings: nothing to transfer
  entries.push(...tuningFreeEntries(target.env, plan.generalisationSeeds, undefined, tags));
}
const rows: EvalRow[] = await evaluateEntries({ name: 'ganno-14', entries: entries, executor: executor, store: store, progress: notebookProgress({ intervalMs: 15000 }) });
const wall = (Date.now() - started) / 1000;
const labels = [...new Set(entries.map((e) => e.label))];
const tableRows = plan.generalisation.flatMap((target) => {
  const f = (r: EvalRow) => r.tags.target === target.name;
  const acc = summarise(rows, labels, TEST_ACCURACY, f);
  const auc = summarise(rows, labels, VAL_LOSS_AUC, f);
  const mine = rows.filter(f);
  return labels.map((l, i) => ({ target: target.name, controller: l, 'test accuracy % [95% CI]': formatInterval(acc[i].mean, 2, 100), 'val-loss AUC [95% CI]': formatInterval(auc[i].mean, 4), diverged: acc[i].diverged, 'one-action runs': l.startsWith('GANNO') ? degenerateShare(mine, l) : '' }));
});
void showTable(tableRows, { name: 'generalisation-table', caption: `Zero-shot targets (${plan.generalisation.map((t) => t.description).join('; ')}): ${provenance({ seeds: plan.agentSeeds, budget: budgetText, wallSeconds: wall })}` });
const series = labels.map((l) => {
  const s = plan.generalisation.map((t) => summarise(rows, [l], TEST_ACCURACY, (r) => r.tags.target === t.name)[0].mean);
  return { name: l, x: plan.generalisation.map((t) => t.name), y: s.map((i) => 100 * i.point), lower: s.map((i) => 100 * i.lo), upper: s.map((i) => 100 * i.hi) };
});
void await showFigure(barFigure(series, { title: 'Zero-shot test accuracy per target (95% CI)', yTitle: 'test accuracy %' }), { name: 'generalisation-bar' });
""")
md("""
## Does the claim hold here?

Per target: is the zero-shot agent **competitive** with the tuned cosine schedule (non-inferior by
1 percentage point of test accuracy), and does it **improve on its own starting point** (the constant
initial LR)? Paired by task, two-level bootstrap over tasks and agent seeds.
""")
code("""
const learners = learnerEvidence(agents);
const claimRows = plan.generalisation.flatMap((target) => ['greedy', 'sampled'].map((mode) => {
  const f = (r: EvalRow) => r.tags.target === target.name;
  const a = scoreMatrix(rows, `GANNO (${mode}, zero-shot)`, TEST_ACCURACY, f);
  const vsCos = evaluateClaim(`competitive with tuned cosine on ${target.name}`, a, scoreMatrix(rows, 'cosine (tuned on training tasks)', TEST_ACCURACY, f), TEST_ACCURACY, { margin: 1, learners: learners });
  const vsConst = evaluateClaim(`better than constant initial LR on ${target.name}`, a, scoreMatrix(rows, 'constant (initial LR)', TEST_ACCURACY, f), TEST_ACCURACY, { learners: learners });
  return { target: target.name, GANNO: mode, 'competitive with tuned cosine (within 1 pp)': vsCos.sentence, 'better than its starting LR': vsConst.sentence };
}));
void showTable(claimRows, { name: 'claims', caption: `Paper claim "generalises to deeper networks and harder datasets" (${movedText(agents)}): ${provenance({ seeds: plan.agentSeeds, budget: budgetText, wallSeconds: wall })}` });
""")
code("""
await session.close();
""")
write("14-ganno-generalisation.ipynb", "g14")
