import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tf } from '../../src/backend';
import {
  LayerLrEnv,
  actionFactor,
  armEvaluationTable,
  armTeamReturnCurves,
  armTrainingSummary,
  constantComparisonLines,
  evaluateFeatureArms,
  horizonDifferenceDemo,
  observationTable,
  playScript,
  stepCreditComparison,
  trainFeatureArms,
} from '../../src/ganno';
import type { ArmEvaluation, ControllerRunResult, FeatureArm, FeatureDef } from '../../src/ganno';

const ENV = { task: { datasets: ['synthetic' as const], totalSteps: 20, trainSize: 200, valSize: 100, widths: [16] } };

describe('ganno/experiments/walkthrough: notebook 10 as library functions', function () {
  this.timeout(180_000);

  it('observation table, scripted decisions and the step credit comparison are exact', () => {
    const env = new LayerLrEnv(ENV);
    try {
      const obs = env.reset(3).observations;
      const table = observationTable(env, obs);
      assert.equal(table.length, env.features.labels.length);
      assert.deepEqual(Object.keys(table[0]), [
        'feature',
        ...obs.flatMap((_, i) => [`agent ${i} raw`, `agent ${i} obs`]),
      ]);
      assert.equal(actionFactor(env, 8), 2);
      assert.equal(actionFactor(env, 4), 1);
      const n = env.numAgents;
      const { rows, observations } = playScript(env, [Array.from({ length: n }, (_, i) => (i === 0 ? 8 : 4))]);
      assert.equal(rows.length, n);
      assert.equal(rows[0]['LR after'], Number((2 * (rows[0]['LR before'] as number)).toPrecision(4)));
      assert.equal(observations.length, n);
      const joint = Array.from({ length: n }, (_, i) => (i === 0 ? 7 : 4));
      const c = stepCreditComparison(env, joint);
      assert.equal(c.teamReward, c.replayed, 'the replay equals the real step to the bit');
      // an agent that keeps gets exactly 0
      c.rows.forEach((r, i) => {
        if (joint[i] === 4) assert.equal(r['difference reward D_i'], 0);
      });
    } finally {
      env.dispose();
    }
  });

  it('horizon-true difference rewards sum to the effect of the change on the episode return', () => {
    const d = horizonDifferenceDemo(ENV, 3, { agent: 0, action: 8 });
    assert.equal(d.perStep.length, 2); // 20 steps / K = 10
    assert.ok(Math.abs(d.episodeSum - d.effect) < 1e-6, `${d.episodeSum} vs ${d.effect}`);
    assert.throws(() => horizonDifferenceDemo(ENV, 3, { agent: 99, action: 8 }), /agent 99 is not one of/);
  });

  it('trains arms (the custom feature grows the observation), evaluates them and summarises without leaking tensors', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ganno-walk-'));
    const before = tf.memory().numTensors;
    try {
      const extra: FeatureDef = {
        name: 'log_lr_ratio',
        scope: 'local',
        normalisation: 'log',
        description: 'layer LR / initial LR',
        compute: (s, i) => s.lrs[i] / s.referenceLr,
      };
      const arms: FeatureArm[] = [{ name: 'default' }, { name: 'custom', setup: (f) => void f.add(extra) }];
      const seen: string[] = [];
      const trained = trainFeatureArms({
        env: ENV,
        arms,
        seeds: [0],
        updates: 1,
        dir,
        onAgent: (a) => seen.push(a.arm),
      });
      assert.deepEqual(seen, ['default', 'custom']);
      assert.equal(trained[1].result.observationSize, trained[0].result.observationSize + 1);
      const curves = armTeamReturnCurves(trained);
      assert.deepEqual(
        curves.map((c) => c.name),
        ['default', 'custom'],
      );
      assert.deepEqual(curves[0].y, trained[0].result.teamReturn);
      const rows = evaluateFeatureArms(trained, arms, ENV, [7001]);
      assert.deepEqual(
        rows.map((r) => r.arm),
        [
          'constant (initial LR)',
          'GANNO greedy, default',
          'GANNO sampled, default',
          'GANNO greedy, custom',
          'GANNO sampled, custom',
        ],
      );
      const table = armEvaluationTable(rows);
      assert.equal(table.length, 5);
      assert.equal(table[0].runs, 1);
      assert.equal(armTrainingSummary(trained)[1]['observation size'], trained[1].result.observationSize);
      assert.match(constantComparisonLines(rows)[0], /one run per side in this preset: no interval, no verdict/);
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('constantComparisonLines gives a verdict only with non-overlapping intervals', () => {
    const runs = (accs: number[]) => accs.map((a) => ({ testAccuracy: a }) as ControllerRunResult);
    const rows: ArmEvaluation[] = [
      { arm: 'constant (initial LR)', runs: runs([0.5, 0.51, 0.49, 0.5]) },
      { arm: 'better', runs: runs([0.9, 0.91, 0.89, 0.9]) },
      { arm: 'same', runs: runs([0.5, 0.52, 0.48, 0.5]) },
    ];
    const lines = constantComparisonLines(rows);
    assert.match(lines[0], /^better: test accuracy 90\.0% vs constant 50\.0% -> better than the constant LR/);
    assert.match(lines[1], /not distinguishable from/);
  });
});
