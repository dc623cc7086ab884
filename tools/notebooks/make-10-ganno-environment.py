"""Writes notebooks/10-ganno-environment.ipynb (nbformat 4.5, stable cell ids). Run: python3 tools/notebooks/make-10-ganno-environment.py"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nbgen import code, md, write  # noqa: E402

md("""
# 10 · GANNO environment walkthrough (spec experiment 1)

GANNO (arXiv 2311.18598) trains **one agent per layer** of a network: every K SGD steps each agent
looks at its layer's training dynamics plus global training metrics and changes its layer's learning
rate; all agents share one team reward. This notebook opens the environment up:

1. one training run **step by step**: the task, the observation of every agent as a table with feature
   names, a few decisions with their actions, per-layer learning rates and team rewards;
2. **credit assignment**: the shared team reward vs the difference reward of each agent, first the
   per-interval (myopic) one computed by replaying the same K mini-batches from a snapshot, then the
   horizon-true one from counterfactual trajectories (the default of `trainGannoAgents`);
3. a **custom observation feature** added from a notebook cell, with the observation size following;
4. a **brief retraining** of the agents (IPPO, shared GRU policy, difference rewards) with and without
   the custom feature: learning curves and a small evaluation table.

The cells only call the library: every step of this walkthrough is a documented, tested function
of `src/ganno/experiments/walkthrough.ts` (`observationTable`, `playScript`, `stepCreditComparison`,
`horizonDifferenceDemo`, `trainFeatureArms`, `evaluateFeatureArms`, ...).

**What is from the paper and what is reconstructed.** The paper states: one agent per layer, local +
global observations, per-layer LR actions, cooperative MARL with a difference reward; a follow-up
describes 9 cumulative LR actions and a shared recurrent IPPO policy. Everything concrete below is a
**reconstruction** with documented defaults (`src/ganno/README.md`): the task distribution (small MLPs
on MNIST-style digits, initial LR log-uniform in [0.01, 0.3]), K, the feature set and its
normalisation, the reward `-(ln L_val(t+1) - ln L_val(t))`, the PPO hyper-parameters, and the budgets.
""")
code("""
import * as path from 'path';
import { initBackend } from './dist/src/backend';
import {
  LayerLrEnv, observationTable, playScript, stepCreditComparison, horizonDifferenceDemo,
  trainFeatureArms, armTeamReturnCurves, evaluateFeatureArms, armEvaluationTable, armTrainingSummary, constantComparisonLines,
} from './dist/src/ganno';
import type { FeatureArm, FeatureDef } from './dist/src/ganno';
import { preset, budget, showFigure, showTable, lineFigure, notebookProgress, provenance, resultsDir } from './dist/src/notebook';

const backend = await initBackend();
// A demonstration of the machinery, not a result: the budgets stay small (notebook 11 trains the agents every table uses).
const totalSteps: number = budget({ smoke: 40, quick: 200, full: 200 });
const updates: number = budget({ smoke: 2, quick: 8, full: 16 });
const trainSeeds: number[] = budget({ smoke: [0], quick: [0, 1], full: [0, 1, 2] });
const evalTaskSeeds: number[] = budget({ smoke: [7001], quick: [7001, 7002, 7003], full: [7001, 7002, 7003, 7004, 7005] });
const envConfig = { k: 10, task: { datasets: ['digits' as const], depth: [1, 2] as [number, number], totalSteps: totalSteps } };
console.log(`backend: ${backend.summary}`);
console.log(`preset ${preset()}: episodes of ${totalSteps} SGD steps (K = 10, T = ${totalSteps / 10} decisions); ${updates} PPO updates x 2 episodes per training seed; training seeds ${trainSeeds.join(', ')}`);
""")
md("""
## One task, one episode

`LayerLrEnv` samples a task from the task distribution with `reset(seed)`: dataset, MLP depth and
widths, one initial LR for all layers, network and data-order seeds, and disjoint train / validation
subsets of the dataset's training file (the test file is never seen by the environment). An episode is
one complete training run of that freshly initialised network.
""")
code("""
const env = new LayerLrEnv(envConfig);
const walkSeed = 3;
let obs = env.reset(walkSeed).observations;
const task = env.task;
console.log(`task ${walkSeed}: ${task.dataset}, MLP hidden [${task.hidden.join(', ')}] -> ${env.numAgents} layer agents, initial LR ${task.initialLr.toFixed(4)}, ${task.optimizer}, batch ${task.batchSize}`);
console.log(`spec: observationSize ${env.spec.observationSize}, numActions ${env.spec.numActions}, horizon ${env.spec.maxSteps} decisions`);
console.log(`initial validation loss ${env.state.valLoss.toFixed(4)}, accuracy ${(100 * env.state.valAccuracy).toFixed(1)}%`);
void showTable(
  env.features.features.map((f) => ({ feature: f.name, scope: f.scope, normalisation: f.normalisation, description: f.description })),
  { name: 'features', caption: 'Observation features (reconstruction defaults; local first, then global)' },
);
""")
md("""
## Observations at reset

Each agent's observation is its local features followed by the global ones. The table shows the raw
value and the normalised value the policy sees for every agent. Gradient features are 0 at reset (no
SGD step yet); `running` features are centred by running statistics that persist across episodes.
""")
code("""
void showTable(observationTable(env, obs), { name: 'observations-reset', digits: 4, caption: `Observations at reset, task ${walkSeed} (preset ${preset()})` });
""")
md("""
## A few decisions

Actions are indices into the 9 multiplicative factors {1/2, 1/1.5, 1/1.25, 1/1.1, 1, 1.1, 1.25, 1.5, 2}
(index 4 = keep), applied to each layer's current LR and clipped to [1e-5, 1]. We play a fixed script:
raise the first layer's LR, keep the others; then lower the output layer; then keep everything. Every
decision runs K = 10 SGD steps and evaluates the fixed validation set; the team reward is the
decrease of the log validation loss.
""")
code("""
const n = env.numAgents;
const script: number[][] = [
  Array.from({ length: n }, (_, i) => (i === 0 ? 8 : 4)), // raise layer 0
  Array.from({ length: n }, (_, i) => (i === n - 1 ? 0 : 4)), // lower the output layer
  Array.from({ length: n }, () => 4), // keep everything
];
const played = playScript(env, script);
obs = played.observations;
void showTable(played.rows, { name: 'decisions', digits: 5, caption: `Three scripted decisions on task ${walkSeed} (K = 10 SGD steps each)` });
""")
md("""
## Shared vs difference rewards for one step

With a **shared** reward every agent receives the team reward G(a). The **difference reward** of agent
i is D_i = G(a) − G(a with a_i replaced by "keep"): how much better the team did because of agent i's
action. `counterfactualTeamReward` computes G for any joint action by restoring a snapshot of the
weights and optimiser state and replaying the *same* K mini-batches against the same validation set,
so the factual replay equals the real step bit for bit, and an agent that played "keep" gets exactly 0.
This replay covers only the next K steps: it is the **myopic** (per-interval) difference reward.
""")
code("""
const joint: number[] = Array.from({ length: n }, (_, i) => (i === 0 ? 7 : i === n - 1 ? 2 : 4));
const credit = stepCreditComparison(env, joint);
console.log(`team reward G(a) of the real step: ${credit.teamReward}; replayed from the snapshot: ${credit.replayed} (identical: ${credit.teamReward === credit.replayed})`);
void showTable(credit.rows, { name: 'shared-vs-difference', digits: 6, caption: `One step (decision 3) on task ${walkSeed}: shared vs exact difference rewards` });
""")
md("""
## Horizon-true difference rewards: counterfactual trajectories

An LR change acts on every later interval of the run, not only the next K steps, so the per-interval
reward can get its sign wrong (a larger LR may cost loss now and pay off later). With
`agentRewards: 'difference'` the environment keeps one **shadow run** per agent: from the agent's
first non-keep action on, the same network continues with that agent's LR kept and every other layer on
the factual LRs, on the same mini-batches and validation set. The agent's reward at step t is
`D_i,t = G_t − G_t^(−i)`; summed over the episode it is exactly the change of the episode return the
agent's choices caused. An agent that never leaves "keep" has no shadow and gets exactly 0. The cell
below doubles layer 0's LR once, keeps everything afterwards, and compares both rewards with the effect
on the episode return measured by a separate all-keep run.
""")
code("""
const horizon = horizonDifferenceDemo(envConfig, walkSeed, { agent: 0, action: 8 }); // x2 for layer 0 at the first decision
void showTable([
  { reward: 'myopic difference reward of the change (next K steps only)', value: Number(horizon.myopic.toFixed(5)) },
  { reward: 'horizon-true: first step D_0,0', value: Number(horizon.perStep[0].toFixed(5)) },
  { reward: 'horizon-true: sum over the episode of D_0,t', value: Number(horizon.episodeSum.toFixed(5)) },
  { reward: 'effect on the episode return (changed run minus all-keep run)', value: Number(horizon.effect.toFixed(5)) },
], { name: 'horizon-true-difference', digits: 5, caption: `Task ${walkSeed}: layer 0 doubles its LR at the first decision, then every agent keeps (units: ln of validation-loss ratios)` });
""")
md("""
## Adding a feature from a notebook cell

Features are data: a name, a scope (`local` per layer or `global`), a normalisation and a function of the
training state (`GannoTrainingState`, see its TSDoc). Here we add **`log_lr_ratio`**, each layer's LR
relative to the episode's initial LR (log10): how far the agent has moved its layer from where the run
started, which the absolute `log_lr` does not tell it when initial LRs vary between tasks. After a change,
`reset` the env and size the policy by `env.spec.observationSize`.
""")
code("""
const lrRatio: FeatureDef = {
  name: 'log_lr_ratio',
  scope: 'local',
  normalisation: 'log',
  description: 'layer LR / the episode initial LR (log10)',
  compute: (s, i) => s.lrs[i] / s.referenceLr,
};
const sizeBefore = env.spec.observationSize;
env.features.add(lrRatio);
obs = env.reset(walkSeed).observations;
console.log(`observation size ${sizeBefore} -> ${env.spec.observationSize}; features now: ${env.features.labels.join(', ')}`);
const again = env.step(Array.from({ length: env.numAgents }, (_, i) => (i === 0 ? 8 : 4)));
const col = env.features.labels.indexOf('log_lr_ratio');
console.log(`after doubling layer 0's LR: log_lr_ratio per agent = [${again.observations.map((o) => o[col].toFixed(4)).join(', ')}] (log10 2 = 0.3010)`);
env.dispose();
""")
md("""
## Retraining briefly, with and without the custom feature

`trainGannoAgents` runs IPPO with one shared GRU actor-critic for all layer agents (`GANNO_PPO_DEFAULTS`:
clip 0.2, GAE(0.99, 0.95), value targets normalised by running return statistics, separate actor and
critic gradient clipping, the Adam step and epochs of the PPO sweep, entropy 0.01) and horizon-true
difference rewards, 2 parallel episodes per update drawn from the task distribution; it checkpoints atomically (an
interrupted run resumes where it stopped) and evaluates the greedy policy on held-out validation tasks
to keep the best checkpoint. Both arms use the same seeds, so they see the same tasks in the same order.
The budget is tiny (a few PPO updates): these curves show the machinery working, not a converged agent.
""")
code("""
const arms: FeatureArm[] = [
  { name: 'default features' },
  { name: '+ log_lr_ratio', setup: (f) => void f.add(lrRatio) },
];
const trainStarted = Date.now();
const trained = trainFeatureArms({
  env: envConfig, arms: arms, seeds: trainSeeds, updates: updates, dir: path.join(resultsDir(), 'runs'),
  progress: notebookProgress({ intervalMs: 10000 }),
  onAgent: ({ arm, seed, result }) => console.log(`${arm}, seed ${seed}: obs size ${result.observationSize}, ${result.updates} updates in ${result.seconds.toFixed(1)} s; best validation score ${result.best ? result.best.score.toFixed(4) : 'n/a'} at update ${result.best ? result.best.update : '-'}`),
});
const trainWall = (Date.now() - trainStarted) / 1000;
""")
code("""
const curvesFigure = await showFigure(lineFigure(armTeamReturnCurves(trained), { title: 'Mean team return per PPO update (mean over training seeds, min-max band)', xTitle: 'PPO update', yTitle: 'team return = ln(L_val(0) / L_val(T))' }), { name: 'learning-curves' });
""")
md("""
## Evaluation on held-out tasks

The best checkpoint of each training run (chosen on the validation tasks) is frozen and run on
held-out evaluation tasks, greedily (most probable action) and sampled (both reported, as the spec asks), (different task seeds), next to the constant-LR baseline that keeps each task's
initial LR. Test accuracy is measured on the dataset's **test file**, which neither training nor
checkpoint selection touched. `valLossAuc` is the area under the validation-loss curve over normalised
time (lower is better). Means with 95% bootstrap CIs over runs (training seeds x evaluation tasks).
""")
code("""
const evalStarted = Date.now();
const evalRows = evaluateFeatureArms(trained, arms, envConfig, evalTaskSeeds);
const evalWall = (Date.now() - evalStarted) / 1000;
void showTable(armEvaluationTable(evalRows), { name: 'evaluation', caption: `Held-out tasks ${evalTaskSeeds.join(',')}, ${totalSteps} SGD steps each; agents trained for ${updates} PPO updates: ${provenance({ seeds: trainSeeds, budget: `${updates} updates x 2 episodes x ${totalSteps} steps (training ${trainWall.toFixed(0)} s, evaluation ${evalWall.toFixed(0)} s)`, wallSeconds: trainWall + evalWall })}` });
void showTable(armTrainingSummary(trained), { name: 'training-summary', caption: `Training summary: ${provenance({ seeds: trainSeeds, budget: `${updates} PPO updates x 2 episodes x ${totalSteps} SGD steps`, wallSeconds: trainWall })}` });
""")
md("""
## Reading the results

The environment, its rewards and the replay are exact: the replayed team reward equals the real step's,
and an agent that keeps its LR gets a zero difference reward. The custom feature changed the observation
size and trained without touching library code. The comparison below is computed from the table above;
with the `smoke` and `quick` budgets the agents are trained for only a handful of PPO updates (the paper
trains for about 50k timesteps), so this is a check of the machinery, not a test of the paper's claims
(notebooks `11`–`15` train properly, report every learner diagnostic, and compare against tuned
schedules). A barely trained *greedy* policy can repeat one action at every decision (notebook 11
reports how often), which can be far worse than keeping the LR constant.
""")
code("""
for (const line of constantComparisonLines(evalRows)) console.log(line);
""")
write("10-ganno-environment.ipynb", "g10")
