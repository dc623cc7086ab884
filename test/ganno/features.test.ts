import { strict as assert } from 'assert';
import { DEFAULT_FEATURE_NAMES, FeatureRegistry, builtinFeature } from '../../src/ganno';
import type { GannoTrainingState } from '../../src/ganno';

/** A hand-made state: 3 layers, t = 2 of T = 8, 9 actions. */
function state(): GannoTrainingState {
  return {
    t: 2,
    horizon: 8,
    k: 10,
    sgdSteps: 20,
    numAgents: 3,
    numActions: 9,
    lrs: [0.1, 0.01, 1e-3],
    referenceLr: 0.1,
    lrHistory: [[0.1, 0.1, 0.1]],
    prevActions: Int32Array.from([8, 4, 0]),
    layers: [
      { gradNormMean: 100, weightNorm: 10, updateNormMean: 0.1, signAgreementMean: 0.5 },
      { gradNormMean: 1, weightNorm: 1000, updateNormMean: 1, signAgreementMean: -0.25 },
      { gradNormMean: 0.01, weightNorm: 1, updateNormMean: 1e-5, signAgreementMean: 0 },
    ],
    logGradNormEma: Float64Array.from([1.5, NaN, -1]),
    trainLossEma: 0.1,
    trainLossEmaPrev: 1,
    trainLossMean: 0.2,
    lossVarEma: 0.001,
    valLoss: 10,
    valAccuracy: 0.75,
    valLossHistory: [20, 15, 10],
    diverged: false,
  };
}

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

describe('ganno/features', () => {
  const s = state();
  const val = (name: string, agent = 0) => builtinFeature(name).compute(s, agent) as number;

  it('local features match hand-computed values', () => {
    close(val('log_lr', 0), -1);
    close(val('log_lr', 2), -3);
    close(val('log_grad_norm', 0), 2);
    close(val('log_grad_norm', 2), -2);
    close(val('log_weight_norm', 1), 3);
    close(val('log_update_ratio', 0), -2); // 0.1 / 10
    close(val('log_update_ratio', 1), -3); // 1 / 1000
    close(val('log_update_ratio', 2), -5);
    close(val('grad_norm_change', 0), 0.5); // log10 100 - 1.5
    assert.equal(val('grad_norm_change', 1), 0); // no EMA yet
    close(val('grad_norm_change', 2), -1); // -2 - (-1)
    assert.equal(val('grad_alignment', 1), -0.25);
    assert.equal(val('prev_action', 0), 1);
    assert.equal(val('prev_action', 1), 0.5);
    assert.equal(val('prev_action', 2), 0);
    assert.equal(val('relative_depth', 0), 0);
    assert.equal(val('relative_depth', 1), 0.5);
    assert.equal(val('relative_depth', 2), 1);
    assert.equal(builtinFeature('relative_depth').compute({ ...s, numAgents: 1 }, 0), 0);
  });

  it('global features match hand-computed values', () => {
    assert.equal(val('progress'), 0.25);
    close(val('log_train_loss'), -1);
    close(val('log_val_loss'), 1);
    assert.equal(val('val_accuracy'), 0.75);
    close(val('train_loss_change'), -1); // log10 0.1 - log10 1
    assert.ok(Number.isNaN(builtinFeature('train_loss_change').compute({ ...s, trainLossEmaPrev: NaN }, 0) as number));
    close(val('log_loss_variance'), -3);
  });

  it('observations: locals per agent, then globals; non-finite values become 0; size follows the registry', () => {
    const reg = new FeatureRegistry(['log_lr', 'relative_depth', 'val_accuracy', 'train_loss_change']);
    assert.equal(reg.observationSize, 4);
    assert.deepEqual(reg.labels, ['log_lr', 'relative_depth', 'val_accuracy', 'train_loss_change']);
    const obs = reg.observe(s);
    assert.equal(obs.length, 3);
    assert.deepEqual(Array.from(obs[1]), [Math.fround(-2), 0.5, 0.75, Math.fround(-1)]);
    const nan = reg.observe({ ...s, trainLossEmaPrev: NaN });
    assert.equal(nan[0][3], 0);
    const full = new FeatureRegistry();
    assert.equal(full.observationSize, 14);
    assert.deepEqual(full.names, DEFAULT_FEATURE_NAMES);
  });

  it('add / remove / replace from user code; multi-valued and log-normalised features', () => {
    const reg = new FeatureRegistry(['log_lr', 'progress']);
    reg.add({
      name: 'lr_over_ref',
      scope: 'local',
      normalisation: 'log',
      description: 'LR / initial LR',
      compute: (st, i) => st.lrs[i] / st.referenceLr,
    });
    reg.add({
      name: 'acc_pair',
      scope: 'global',
      size: 2,
      normalisation: 'none',
      description: 'acc and 1 - acc',
      compute: (st) => [st.valAccuracy, 1 - st.valAccuracy],
    });
    assert.equal(reg.observationSize, 5);
    assert.deepEqual(reg.labels, ['log_lr', 'lr_over_ref', 'progress', 'acc_pair[0]', 'acc_pair[1]']);
    const o = reg.observe(s);
    assert.deepEqual(Array.from(o[2]), [-3, -2, 0.25, 0.75, 0.25].map(Math.fround));
    reg.remove('log_lr');
    assert.equal(reg.observationSize, 4);
    reg.replace('progress', {
      name: 'progress',
      scope: 'global',
      normalisation: 'none',
      description: 'remaining',
      compute: (st) => 1 - st.t / st.horizon,
    });
    assert.equal(reg.observe(s)[0][1], 0.75);
    assert.throws(() => reg.add('progress'), /feature "progress" already exists/);
    assert.throws(() => reg.remove('nope'), /no feature "nope"/);
    assert.throws(
      () =>
        reg.add({ name: 'bad', scope: 'local', normalisation: 'zscore' as 'none', description: 'x', compute: () => 0 }),
      /normalisation must be 'none', 'log' or 'running'/,
    );
    reg.add({ name: 'two', scope: 'local', normalisation: 'none', description: 'x', compute: () => [1, 2] });
    assert.throws(() => reg.observe(s), /feature "two": compute returned 2 values, its size is 1/);
  });

  it('running normalisation: Welford mean/std over all agents, warm-up divisor max(std, 1), clip to [-5, 5], frozen mode', () => {
    const reg = new FeatureRegistry(['log_grad_norm'], { warmup: 4 });
    // first call: values 2, 0, -2 (agents pooled) -> mean 0, std sqrt(8/3) = 1.633; count 3 < warm-up 4 -> divisor max(std, 1) = std
    const o1 = reg.observe(s);
    const std = Math.sqrt(8 / 3);
    close(o1[0][0], Math.fround(2 / std), 1e-6);
    close(o1[2][0], Math.fround(-2 / std), 1e-6);
    const st = reg.statistics('log_grad_norm')!;
    assert.deepEqual(st.count, [3]);
    close(st.mean[0], 0);
    close(st.std[0], std);
    // small spread during warm-up: divisor 1
    const reg2 = new FeatureRegistry(['log_grad_norm'], { warmup: 100 });
    const flat = { ...s, layers: s.layers.map((l, i) => ({ ...l, gradNormMean: Math.pow(10, 0.01 * i) })) };
    const o2 = reg2.observe(flat);
    close(o2[0][0], Math.fround(-0.01), 1e-7); // (0 - 0.01) / 1
    // after warm-up the (small) std is used; frozen statistics are not updated; values clip at +-5
    const reg3 = new FeatureRegistry(['log_grad_norm'], { warmup: 0 });
    reg3.observe(flat);
    close(reg3.observe(flat)[0][0], Math.fround(-0.01 / Math.sqrt(0.0002 / 3)), 1e-5); // std of {0, .01, .02} twice
    reg3.frozen = true;
    const before = reg3.statistics('log_grad_norm')!;
    const far = { ...s, layers: s.layers.map((l) => ({ ...l, gradNormMean: 1e6 })) };
    assert.equal(reg3.observe(far)[0][0], 5);
    assert.deepEqual(reg3.statistics('log_grad_norm'), before);
    reg3.frozen = false;
    assert.ok(reg3.observe(far)[0][0] < 5, 'unfrozen: the far values enter the statistics first');
    reg3.resetStatistics();
    assert.equal(reg3.statistics('log_grad_norm'), undefined);
  });
});
