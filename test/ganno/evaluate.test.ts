import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import {
  LayerLrEnv,
  PolicyController,
  constantController,
  controllerFromSpec,
  hypergradientController,
  evaluateController,
  gannoEvalRun,
  gannoEvalRunKind,
  larsController,
  runController,
  scheduleController,
  tunePeakLr,
  tuningFreeController,
  tuningFreeEntries,
  tuningFreeInitialStepEntries,
  tuningFreeInitialStepSpec,
} from '../../src/ganno';
import type { LrController, ControllerTaskInfo, DecisionInput } from '../../src/ganno';
import { ActorCritic } from '../../src/marl';
import { InlineExecutor } from '../../src/runtime';
import { larsLearningRates } from '../../src/schedules';

const task = {
  datasets: ['synthetic' as const],
  depth: [1, 1] as [number, number],
  widths: [16],
  trainSize: 256,
  valSize: 128,
  batchSize: 32,
  totalSteps: 24,
  initialLr: [0.05, 0.05] as [number, number],
};
const env = { k: 4, task };

/** A decision controller that always keeps the LR (the env's default action). */
function keepController(): LrController & { lastActions: Int32Array } {
  let n = 0;
  const c = {
    name: 'keep',
    interval: 'decision' as const,
    lastActions: new Int32Array(0),
    reset(info: ControllerTaskInfo) {
      n = info.numLayers;
    },
    decide(input: DecisionInput) {
      c.lastActions = new Int32Array(n).fill(4); // factor 1 in factors9
      return input.lrs.slice();
    },
  };
  return c;
}

describe('ganno/evaluate', () => {
  it('tuning-free baselines train with their own optimiser at multiplier 1 (no tuning), cached like any controller', () => {
    const dog = runController(tuningFreeController('dog'), 11, { env, testSize: 100 });
    const viaSpec = runController(controllerFromSpec({ type: 'tuning-free', optimizer: 'dog' }, env), 11, {
      env,
      testSize: 100,
    });
    assert.equal(dog.testAccuracy, viaSpec.testAccuracy);
    assert.deepEqual(dog.valLoss, viaSpec.valLoss);
    assert.equal(dog.diverged, false);
    assert.ok(
      dog.valLoss[dog.valLoss.length - 1] < dog.valLoss[0],
      `DoG lowered the validation loss: ${dog.valLoss[0]} -> ${dog.valLoss[dog.valLoss.length - 1]}`,
    );
    // plain SGD at the same LRs (1 for every layer) is a different run: the optimiser really changed
    const sgdAt1 = runController(constantController(1), 11, { env, testSize: 100 });
    assert.notDeepEqual(sgdAt1.valLoss, dog.valLoss);
    const prodigy = runController(tuningFreeController('prodigy'), 11, { env, testSize: 0 });
    assert.ok(prodigy.valLoss.every(Number.isFinite));
    assert.throws(() => tuningFreeController('adamw' as 'dog'), /optimizer must be one of schedule-free-sgd/);
    const entries = tuningFreeEntries(env, [1, 2]);
    assert.deepEqual(
      entries.map((e) => e.label),
      [
        'schedule-free-sgd (untuned)',
        'd-adapt-sgd (untuned)',
        'prodigy (untuned)',
        'dog (untuned)',
        'ldog (untuned)',
        'dog-group (untuned)',
      ],
    );
  });

  it("the robustness grid sets each tuning-free optimiser's own initial-step knob, and the knob changes the run", () => {
    assert.deepEqual(tuningFreeInitialStepSpec('dog', 1e-3), {
      type: 'tuning-free',
      optimizer: 'dog',
      name: 'dog@0.001',
      tuningFree: { dog: { repsRel: 1e-3 } },
    });
    const knob = (spec: ReturnType<typeof tuningFreeInitialStepSpec>) =>
      spec.type === 'tuning-free' ? spec.tuningFree : undefined;
    assert.deepEqual(knob(tuningFreeInitialStepSpec('prodigy', 0.1)), { prodigy: { d0: 0.1 } });
    assert.deepEqual(knob(tuningFreeInitialStepSpec('d-adapt-sgd', 0.1)), { dAdapt: { d0: 0.1 } });
    const sf = tuningFreeInitialStepSpec('schedule-free-sgd', 0.3);
    assert.equal(sf.type === 'tuning-free' && sf.lr, 0.3);
    assert.throws(() => tuningFreeInitialStepSpec('dog', 0), /initialStep must be a positive number, got 0/);
    assert.throws(() => tuningFreeInitialStepSpec('sgd' as 'dog', 1), /optimizer must be one of/);
    const entries = tuningFreeInitialStepEntries(env, 0.01, [3], ['dog', 'prodigy'], { initialLr: 0.01 });
    assert.deepEqual(
      entries.map((e) => [e.label, e.tags]),
      [
        ['dog', { initialLr: 0.01 }],
        ['prodigy', { initialLr: 0.01 }],
      ],
    );
    // Each knob reaches the optimiser: two settings give two different runs.
    for (const [optimizer, a, b] of [
      ['dog', 1e-6, 1e-2],
      ['prodigy', 1e-6, 1e-2],
      ['d-adapt-sgd', 1e-6, 1e-2],
      ['schedule-free-sgd', 0.01, 0.5],
    ] as const) {
      const run = (x: number) =>
        runController(controllerFromSpec(tuningFreeInitialStepSpec(optimizer, x), env), 11, { env, testSize: 0 });
      assert.notDeepEqual(run(a).valLoss, run(b).valLoss, `${optimizer}: knob ${a} vs ${b}`);
    }
  });

  it('a constant step controller reproduces the environment run with keep actions exactly (same batches, same validation curve)', () => {
    const direct = runController(constantController(), 11, { env, testSize: 200 });
    const inEnv = runController(keepController(), 11, { env, testSize: 200 });
    assert.equal(direct.valLoss.length, 7, 'T + 1 = 24 / 4 + 1 validation points');
    assert.deepEqual(direct.valLoss, inEnv.valLoss);
    assert.deepEqual(direct.lrs, inEnv.lrs);
    assert.equal(direct.testLoss, inEnv.testLoss);
    assert.equal(direct.testAccuracy, inEnv.testAccuracy);
    assert.ok(direct.valLoss[6] < direct.valLoss[0] * 0.9, `training lowers the validation loss: ${direct.valLoss}`);
    assert.equal(direct.diverged, false);
    assert.equal(direct.divergedAtStep, null);
    const mean = direct.valLoss.slice(0, 6).reduce((s, v, t) => s + (v + direct.valLoss[t + 1]) / 2, 0) / 6;
    assert.ok(Math.abs(direct.valLossAuc - mean) < 1e-12, 'AUC is the normalised trapezoid');
    assert.deepEqual(JSON.parse(JSON.stringify(direct)), direct, 'results are plain JSON');
  });

  it('every controller runs under the env LR bounds: a constant LR above the clip trains at the bound, exactly as "always keep" does', () => {
    const far = { k: 4, task: { ...task, initialLr: [3, 3] as [number, number] } };
    const constant = runController(constantController(), 11, { env: far, testSize: 0 });
    const keep = runController(controllerFromSpec({ type: 'keep' }, far), 11, { env: far, testSize: 0 });
    assert.ok(
      constant.lrs.every((row) => row.every((lr) => lr === 1)),
      `clipped to lrClip[1] = 1: ${JSON.stringify(constant.lrs)}`,
    );
    assert.deepEqual(keep.lrs, constant.lrs);
    assert.deepEqual(
      keep.valLoss,
      constant.valLoss,
      'no gain from the clip alone: the keep row equals the constant row',
    );
    assert.ok(
      keep.actions.every((row) => row.every((a) => a === 4)),
      'keep = factor 1 at every decision',
    );
    assert.equal(Number.isNaN(constant.testAccuracy), true, 'testSize 0 never reads the test file');
  });

  it('schedule controllers follow PyTorch semantics per SGD step (cosine over the run, StepLR boundaries)', () => {
    const cos = runController(scheduleController({ type: 'cosine' }, { peakLr: 0.2 }), 5, { env, testSize: 50 });
    assert.equal(cos.lrs.length, 6);
    cos.lrs.forEach((row, t) => {
      const want = 0.5 * 0.2 * (1 + Math.cos((Math.PI * t * 4) / 24)); // tMax defaults to the run's 24 steps
      for (const v of row) assert.ok(Math.abs(v - want) < 1e-9, `interval ${t}: ${v} vs ${want}`);
    });
    const step = runController(scheduleController({ type: 'step', stepSize: 8, gamma: 0.5 }), 5, { env, testSize: 50 });
    assert.deepEqual(
      step.lrs.map((r) => r[0]),
      [0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125],
    );
  });

  it('OneCycleLR takes its peak and length from the run; ReduceLROnPlateau steps once per validation with the validation loss', () => {
    const seen: number[] = [];
    const inner = scheduleController({ type: 'onecycle' }, { peakLr: 0.2 });
    const spy: LrController = {
      name: 'onecycle-spy',
      interval: 'step',
      reset: (i) => inner.reset(i),
      decide: (x) => {
        const o = inner.decide(x);
        seen.push(o[0]);
        return o;
      },
    };
    runController(spy, 5, { env, testSize: 50 });
    assert.equal(seen.length, 24);
    // torch.optim.lr_scheduler.OneCycleLR(max_lr=0.2, total_steps=24, cycle_momentum=False), get_last_lr() before each step (PyTorch 1.13)
    const torchRef = [
      0.008000000000000007, 0.020062724850120117, 0.05321945500861161, 0.09913767979148361, 0.1462778385495329,
      0.18279329035589853, 0.19950745504562195, 0.19888308709018238, 0.19438835547750463, 0.18660259396828235,
      0.17579726912585605, 0.1623491307899526, 0.1467270759198549, 0.12947579953902066, 0.11119680282454035,
      0.09252742053339501, 0.07411859901736596, 0.056612199641739844, 0.04061861897072405, 0.02669550603776612,
      0.015328318766851281, 0.006913397485079045, 0.001744145703260466, 8e-7,
    ];
    seen.forEach((v, i) => assert.ok(Math.abs(v - torchRef[i]) < 1e-12, `step ${i}: ${v} vs PyTorch ${torchRef[i]}`));
    // mode 'max' on a falling loss: every validation after the first is "bad"; patience 0 halves the LR each time
    const plateau = runController(scheduleController({ type: 'plateau', mode: 'max', factor: 0.5, patience: 0 }), 5, {
      env,
      testSize: 50,
    });
    assert.deepEqual(
      plateau.lrs.map((r) => r[0]),
      [0.05, 0.05, 0.025, 0.0125, 0.00625, 0.003125],
    );
  });

  it('LARS uses the base LR first, then base * eta * ||w|| / ||g|| of the previous step', () => {
    let seen: number[][] = [];
    const inner = larsController({ eta: 0.02, peakLr: 1 });
    const spy: LrController = {
      name: 'lars-spy',
      interval: 'step',
      reset: (i) => inner.reset(i),
      decide: (input) => {
        const out = inner.decide(input);
        if (input.last) {
          const want = larsLearningRates(
            Array.from(input.last.gradNorms, (g, i) => ({ gradNorm: g, weightNorm: input.last!.weightNorms[i] })),
            1,
            { eta: 0.02 },
          );
          assert.deepEqual(out, want);
        } else assert.deepEqual(out, [1, 1]);
        seen.push(out);
        return out;
      },
    };
    const r = runController(spy, 5, { env, testSize: 50 });
    assert.equal(seen.length, 24);
    assert.ok(seen[1][0] !== seen[1][1], 'layers get different LRs');
    assert.ok(
      seen.slice(1).every((row) => row.every((v) => v > 0 && v < 1)),
      'trust ratios below 1 with eta 0.02',
    );
    assert.equal(r.diverged, false);
    seen = [];
  });

  it('hypergradient descent: exact update dot products, LR grows from a too-small start, refuses momentum tasks', () => {
    const seen: { dots?: number[]; lrs: number[]; norms?: Float64Array }[] = [];
    const inner = hypergradientController({ beta: 0.05, initialLr: 0.005 });
    const spy: LrController = {
      name: 'hd-spy',
      interval: 'step',
      needsUpdateDots: true,
      reset: (i) => inner.reset(i),
      decide: (x) => {
        const o = inner.decide(x);
        seen.push({ dots: x.updateDots, lrs: o, norms: x.last?.updateNorms });
        return o;
      },
    };
    const before = tf.memory().numTensors;
    const r = runController(spy, 5, { env, testSize: 50 });
    assert.equal(tf.memory().numTensors, before, 'no tensor leak');
    assert.equal(seen[0].dots, undefined);
    assert.equal(seen[1].dots, undefined, 'one update is not enough for a dot product');
    assert.deepEqual(seen[1].lrs, seen[0].lrs, 'the first two steps use the initial LR');
    assert.deepEqual(seen[0].lrs, [0.005, 0.005]);
    for (let t = 2; t < seen.length; t++) {
      const d = seen[t].dots!;
      const nNow = seen[t].norms!;
      const nPrev = seen[t - 1].norms!;
      d.forEach((v, i) =>
        assert.ok(
          Math.abs(v) <= nNow[i] * nPrev[i] * (1 + 1e-4),
          `Cauchy-Schwarz: |u_t . u_t-1| <= |u_t| |u_t-1| (layer ${i}, step ${t})`,
        ),
      );
      // the rule's update: alpha += beta * (u_t . u_t-1) / (alpha_t alpha_t-1)
      const want = seen[t - 1].lrs.map((a, i) =>
        Math.max(0, a + 0.05 * (d[i] / (seen[t - 1].lrs[i] * seen[t - 2].lrs[i]))),
      );
      seen[t].lrs.forEach((v, i) =>
        assert.ok(
          Math.abs(v - want[i]) <= 1e-12 * Math.max(1, Math.abs(want[i])),
          `step ${t} layer ${i}: ${v} vs ${want[i]}`,
        ),
      );
    }
    const final = seen[seen.length - 1].lrs;
    assert.ok(
      final.every((v) => v > 0.01),
      `aligned gradients at a tiny LR raise it: ${final}`,
    );
    assert.equal(r.diverged, false);
    const momentumEnv = { k: 4, task: { ...task, optimizer: ['momentum' as const] } };
    assert.throws(
      () => runController(hypergradientController({ beta: 0.01 }), 5, { env: momentumEnv, testSize: 50 }),
      /needs plain SGD without weight decay/,
    );
  });

  it('a good LR beats a tiny one on the test split; a huge LR diverges and is flagged, never thrown', () => {
    const seeds = [21, 22];
    const good = evaluateController(constantController(0.3), { env, seeds, testSize: 400 });
    const tiny = evaluateController(constantController(1e-4), { env, seeds, testSize: 400 });
    for (let i = 0; i < seeds.length; i++) {
      assert.ok(
        good[i].testAccuracy > tiny[i].testAccuracy + 0.2,
        `seed ${seeds[i]}: ${good[i].testAccuracy} vs ${tiny[i].testAccuracy}`,
      );
      assert.ok(good[i].valLossAuc < tiny[i].valLossAuc);
    }
    const huge = runController(constantController(1e30), 21, {
      env: { ...env, lrClip: [1e-5, 1e31] as [number, number] },
      testSize: 50,
    });
    assert.equal(huge.diverged, true);
    assert.ok(huge.divergedAtStep !== null && huge.divergedAtStep >= 1 && huge.divergedAtStep <= 24);
    assert.equal(huge.testAccuracy, 0);
    assert.ok(Number.isNaN(huge.testLoss) && Number.isNaN(huge.finalValLoss));
    assert.ok(
      Number.isFinite(huge.valLossAuc),
      'the curve is held at the initial loss after divergence, so the AUC stays finite',
    );
  });

  it('tunePeakLr picks the workable LR on training tasks and scores a diverging one as Infinity', () => {
    const { best, scores } = tunePeakLr(
      { type: 'cosine' },
      { ...env, lrClip: [1e-5, 1e31] },
      [1e-4, 0.3, 1e30],
      [31, 32],
    );
    assert.equal(best, 0.3);
    assert.equal(scores[2].meanFinalValLoss, Infinity);
    assert.equal(scores[2].diverged, 2);
    assert.ok(scores[1].meanFinalValLoss < scores[0].meanFinalValLoss);
  });

  it('a policy controller is deterministic (greedy; sampled with the same task seed), its LRs match the env, and nothing leaks', () => {
    const probe = new LayerLrEnv(env);
    const policy = new ActorCritic({
      observationSize: probe.spec.observationSize,
      numActions: 9,
      torso: 'gru',
      hiddenSizes: [8],
      gruSize: 8,
      actorHeadScale: 3,
      seed: 4,
    });
    const before = tf.memory().numTensors;
    const greedy = new PolicyController(policy, { actionSet: probe.actionSet, greedy: true });
    const a = runController(greedy, 41, { env, testSize: 50 });
    const b = runController(greedy, 41, { env, testSize: 50 });
    assert.deepEqual(a, b);
    const sampled = new PolicyController(policy, { actionSet: probe.actionSet, greedy: false });
    const s1 = runController(sampled, 41, { env, testSize: 50 });
    const s2 = runController(sampled, 41, { env, testSize: 50 });
    assert.deepEqual(s1, s2);
    assert.notDeepEqual(s1.lrs, a.lrs, 'sampling differs from greedy');
    assert.ok(
      a.lrs.some((row) => row[0] !== 0.05),
      'the policy changes LRs',
    );
    assert.equal(tf.memory().numTensors, before, 'no tensor leak over four runs');
    assert.throws(
      () =>
        runController(new PolicyController(policy, { actionSet: probe.actionSet, featureNames: ['log_lr'] }), 41, {
          env,
        }),
      /trained on features \[log_lr\]/,
    );
    policy.dispose();
    probe.dispose();
  });

  it('the job function and its runtime job kind give the same result as a direct run; bad input names the problem', async () => {
    const viaJob = gannoEvalRun({
      controller: { type: 'schedule', schedule: { type: 'step', stepSize: 8, gamma: 0.5 }, peakLr: 0.1 },
      env,
      taskSeed: 7,
      testSize: 50,
    });
    const direct = runController(scheduleController({ type: 'step', stepSize: 8, gamma: 0.5 }, { peakLr: 0.1 }), 7, {
      env,
      testSize: 50,
    });
    assert.deepEqual(viaJob, direct);
    const outcomes = await new InlineExecutor().run([
      gannoEvalRunKind.job(
        'step/7',
        {
          controller: { type: 'schedule', schedule: { type: 'step', stepSize: 8, gamma: 0.5 }, peakLr: 0.1 },
          env,
          taskSeed: 7,
          testSize: 50,
        },
        7,
      ),
    ]);
    assert.equal(outcomes[0].ok, true);
    assert.deepEqual(
      (outcomes[0] as { result: unknown }).result,
      JSON.parse(JSON.stringify(direct)),
      'the runtime job returns the same JSON',
    );
    assert.throws(
      () => evaluateController(constantController(), { env, seeds: [] }),
      /seeds must be a non-empty array/,
    );
    assert.throws(() => scheduleController({ type: 'cosine' }, { peakLr: -1 }), /peakLr must be a positive number/);
    assert.throws(() => tunePeakLr({ type: 'cosine' }, env, [], [1]), /grid must be a non-empty array/);
  });
});
