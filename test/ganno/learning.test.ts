import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  POLICY_MOVED_KL,
  constantController,
  controllerFromSpec,
  evaluateController,
  trainGannoAgents,
} from '../../src/ganno';
import type { GannoTrainConfig, LayerLrEnvConfig } from '../../src/ganno';
import { PolicyController } from '../../src/ganno/controllers';

/**
 * A small GANNO task distribution on which a learner must move: synthetic 4-class images, MLPs with
 * one hidden layer, and initial LRs far too small (log-uniform in [1e-3, 3e-3]) so that raising
 * the LRs is what helps. 8 decisions of K = 4 SGD steps per episode.
 */
const env: LayerLrEnvConfig = {
  k: 4,
  task: {
    datasets: ['synthetic'],
    depth: [1, 1],
    widths: [16, 32],
    trainSize: 512,
    valSize: 256,
    batchSize: 32,
    totalSteps: 32,
    initialLr: [1e-3, 3e-3],
  },
};
const HELD_OUT = [7001, 7002, 7003, 7004, 7005, 7006];

function train(dir: string, extra: Partial<GannoTrainConfig> = {}) {
  return trainGannoAgents({
    env: env as Record<string, unknown>,
    numEnvs: 4,
    policy: { hiddenSizes: [32], gruSize: 32 },
    seed: 11,
    updates: 12,
    evalEvery: 4,
    checkpointEvery: 12,
    valSeeds: [8001, 8002],
    dir,
    ...extra,
  });
}

/** Mean ln(L_val(0) / L_val(T)) of a controller on the held-out tasks. */
function meanLogRatio(controller: ReturnType<typeof constantController>): number {
  const runs = evaluateController(controller, { env, seeds: HELD_OUT, testSize: 0 });
  return runs.reduce((s, r) => s + Math.log(r.valLoss[0] / r.valLoss[r.valLoss.length - 1]), 0) / runs.length;
}

describe('ganno/learning: trained agents move and beat the untuned constant LR', function () {
  this.timeout(300_000);
  let root: string;
  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'ganno-learn-'));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('with the GANNO PPO defaults the policy moves and its greedy controller beats the constant initial LR on held-out tasks', () => {
    const res = train(path.join(root, 'defaults'));
    const last = res.diagnostics[res.diagnostics.length - 1];
    assert.ok(
      last.klFromInitial > POLICY_MOVED_KL,
      `KL from the initial policy ${last.klFromInitial} (threshold ${POLICY_MOVED_KL})`,
    );
    const c = controllerFromSpec({ type: 'policy', checkpoint: res.bestDir!, greedy: true }, env);
    const agent = meanLogRatio(c);
    (c as PolicyController).policy.dispose();
    const constant = meanLogRatio(constantController());
    assert.ok(
      agent > constant + 0.1,
      `greedy agent ln(L0/LT) ${agent.toFixed(3)} vs constant initial LR ${constant.toFixed(3)}`,
    );
  });

  it('the settings the learning audit found (Adam 2.5e-4, value clipping in raw units, no value normalisation, one joint gradient clip) do not pass it', () => {
    const res = train(path.join(root, 'audit'), {
      ppo: {
        learningRate: 2.5e-4,
        criticLearningRate: 2.5e-4,
        epochs: 4,
        minibatches: 2,
        entropyCoef: 0.01,
        valueNorm: false,
        clipValue: true,
        gradClip: 'joint',
        maxGradNorm: 0.5,
        chunkLength: 16,
      },
    });
    const last = res.diagnostics[res.diagnostics.length - 1];
    assert.ok(
      last.klFromInitial < POLICY_MOVED_KL,
      `KL from the initial policy ${last.klFromInitial}: the audit's settings should leave the policy near its initial one`,
    );
  });
});
