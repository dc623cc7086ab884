import { strict as assert } from 'assert';
import { countFlops, resolveSpec } from '../../src/nn';
import type { ResolvedBlock } from '../../src/nn';
import {
  architectureSpec,
  checkPipeline,
  convSpace,
  flopsBudgets,
  mlpSpace,
  mobileNetSpace,
  parseSearchSpace,
  presetSpace,
  samplePipeline,
} from '../../src/ma2ml';
import type { MobileNetArch, SearchSpace } from '../../src/ma2ml';
import { Rng } from '../../src/random';

const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);

describe('ma2ml/spaces: NAS FLOPs and params against hand counts', () => {
  // r28; s0 (d1 k3 e1 w1) -> 16 ch; s1 (d2 k5 e6 w0.75) -> makeDivisible(18) = 24 ch; s2 (d1 k3 e3 w0.5) -> 16 ch
  const arch: MobileNetArch = {
    kind: 'mobilenetv2',
    resolution: 28,
    stages: [
      { depth: 1, kernel: 3, expansion: 1, width: 1 },
      { depth: 2, kernel: 5, expansion: 6, width: 0.75 },
      { depth: 1, kernel: 3, expansion: 3, width: 0.5 },
    ],
  };
  // [macs, params] per primitive layer, in order, counted by hand
  const hand: Record<string, [number, number][]> = {
    stem: [
      [28 * 28 * 9 * 1 * 16, 9 * 16], // conv 3x3, 1 -> 16, no bias
      [28 * 28 * 16, 2 * 16], // BN
    ],
    // inverted residual, expansion 1 (no expand conv), stride 1, 16 -> 16: residual
    s0b0: [
      [28 * 28 * 9 * 16, 9 * 16], // depthwise 3x3
      [28 * 28 * 16, 32],
      [28 * 28 * 16 * 16, 16 * 16], // project 1x1
      [28 * 28 * 16, 32],
    ],
    // expansion 6, 16 -> 96 hidden, depthwise 5x5 stride 2 (28 -> 14), project to 24: no residual
    s1b0: [
      [28 * 28 * 16 * 96, 16 * 96],
      [28 * 28 * 96, 2 * 96],
      [14 * 14 * 25 * 96, 25 * 96],
      [14 * 14 * 96, 2 * 96],
      [14 * 14 * 96 * 24, 96 * 24],
      [14 * 14 * 24, 2 * 24],
    ],
    // expansion 6, 24 -> 144, stride 1, 24 -> 24: residual
    s1b1: [
      [14 * 14 * 24 * 144, 24 * 144],
      [14 * 14 * 144, 2 * 144],
      [14 * 14 * 25 * 144, 25 * 144],
      [14 * 14 * 144, 2 * 144],
      [14 * 14 * 144 * 24, 144 * 24],
      [14 * 14 * 24, 2 * 24],
    ],
    // expansion 3, 24 -> 72, depthwise 3x3 stride 2 (14 -> 7), project to 16
    s2b0: [
      [14 * 14 * 24 * 72, 24 * 72],
      [14 * 14 * 72, 2 * 72],
      [7 * 7 * 9 * 72, 9 * 72],
      [7 * 7 * 72, 2 * 72],
      [7 * 7 * 72 * 16, 72 * 16],
      [7 * 7 * 16, 2 * 16],
    ],
    head: [
      [7 * 7 * 16 * 128, 16 * 128], // 1x1 conv to 128
      [7 * 7 * 128, 2 * 128],
    ],
    classifier: [
      [7 * 7 * 128, 0], // global average pooling
      [128 * 10, 128 * 10 + 10], // dense with bias
    ],
  };

  it('MobileNetV2-style: every layer (stem, IR e=1 and e>1, stride-2 depthwise, head, classifier) matches the hand count', () => {
    const spec = architectureSpec(arch, mobileNetSpace(), 0.1);
    const count = countFlops(spec);
    const expected = Object.values(hand).flat();
    const rows = count.layers.filter((l) => l.type !== 'dropout');
    assert.equal(rows.length, expected.length);
    rows.forEach((r, i) => {
      assert.equal(r.macs, expected[i][0], `layer ${i} (${r.name}) MACs`);
      assert.equal(r.params, expected[i][1], `layer ${i} (${r.name}) params`);
    });
    assert.equal(count.totalMacs, sum(expected.map((e) => e[0])));
    assert.equal(count.totalParams, sum(expected.map((e) => e[1])));
    assert.deepEqual(count.outputShape, [10]);
  });

  it('MobileNetV2-style: residual adds exactly where stride 1 and channels match', () => {
    const { layers } = resolveSpec(architectureSpec(arch, mobileNetSpace()));
    const blocks = layers.filter((l): l is ResolvedBlock => l.kind === 'block');
    assert.deepEqual(
      blocks.map((b) => b.residual),
      [true, false, true, false],
    );
    // width 0.5 in stage 0: 16 -> 8 channels, stride 1 but no residual
    const narrow: MobileNetArch = {
      ...arch,
      stages: [{ depth: 2, kernel: 3, expansion: 1, width: 0.5 }, ...arch.stages.slice(1)],
    };
    const nb = resolveSpec(architectureSpec(narrow, mobileNetSpace())).layers.filter(
      (l): l is ResolvedBlock => l.kind === 'block',
    );
    assert.deepEqual(
      nb.slice(0, 2).map((b) => [b.residual, b.outShape[2]]),
      [
        [false, 8],
        [true, 8],
      ],
    );
  });

  it('resolution changes spatial sizes (20 -> 10 -> 5 after the two stride-2 stages)', () => {
    const c = countFlops(architectureSpec({ ...arch, resolution: 20 }, mobileNetSpace()));
    assert.equal(c.layers[0].macs, 20 * 20 * 9 * 16);
    const gap = c.layers.find((l) => l.type === 'globalAvgPool')!;
    assert.deepEqual(gap.inShape, [5, 5, 128]);
  });

  it('plain conv and MLP spaces: hand counts', () => {
    const conv = countFlops(
      architectureSpec({ kind: 'conv', resolution: 20, depth: 2, width: 8, kernel: 5 }, convSpace()),
    );
    // conv 5x5 1->8 at 20x20, BN, pool to 10, conv 5x5 8->16, BN, pool to 5, flatten 400, dense 10
    assert.equal(conv.totalMacs, 20 * 20 * 25 * 8 + 20 * 20 * 8 + 10 * 10 * 25 * 8 * 16 + 10 * 10 * 16 + 400 * 10);
    assert.equal(conv.totalParams, 25 * 8 + 16 + 25 * 8 * 16 + 32 + 400 * 10 + 10);
    const mlp = countFlops(architectureSpec({ kind: 'mlp', resolution: 14, depth: 2, width: 64 }, mlpSpace(), 0.1));
    assert.equal(mlp.totalMacs, 196 * 64 + 64 * 64 + 64 * 10);
    assert.equal(mlp.totalParams, 196 * 64 + 64 + 64 * 64 + 64 + 64 * 10 + 10);
    assert.deepEqual(
      architectureSpec({ kind: 'mlp', resolution: 14, depth: 2, width: 64 }, mlpSpace()).inputShape,
      [196],
    );
  });

  it('an architecture that collapses the feature map is an invalid outcome, not an exception', () => {
    const space: SearchSpace = { ...presetSpace('quick'), nas: { ...convSpace(), resolutions: [20, 32], depths: [5] } };
    const p = samplePipeline(space, new Rng(0));
    const small = checkPipeline(space, { ...p, arch: { kind: 'conv', resolution: 20, depth: 5, width: 8, kernel: 3 } });
    assert.equal(small.valid, false);
    assert.match(small.valid ? '' : small.reason, /does not fit resolution 20.*input size 1/);
    const big = checkPipeline(space, { ...p, arch: { kind: 'conv', resolution: 32, depth: 5, width: 8, kernel: 3 } });
    assert.equal(big.valid, true);
    // malformed input still throws, naming the field
    assert.throws(
      () => checkPipeline(space, { ...p, arch: { kind: 'conv', resolution: 32, depth: 1, width: 0, kernel: 3 } }),
      /layers\.0\.filters/,
    );
    // with validOnly, sampling rejects the collapsing resolution
    for (let s = 0; s < 10; s++)
      assert.equal(samplePipeline(space, new Rng(s), { validOnly: true }).arch.resolution, 32);
  });

  it('hard FLOPs budget: over budget is an invalid outcome carrying the count', () => {
    const space = presetSpace('full');
    const p = samplePipeline(space, new Rng(1));
    const macs = countFlops(architectureSpec(p.arch, space.nas, p.hpo.dropout)).totalMacs;
    const within = checkPipeline(space, p, { flopsBudget: macs });
    assert.equal(within.valid, true);
    const over = checkPipeline(space, p, { flopsBudget: macs - 1 });
    assert.equal(over.valid, false);
    assert.equal(over.macs, macs);
    assert.match(over.valid ? '' : over.reason, /exceed the hard budget/);
    const budget = 3e6;
    for (let s = 0; s < 20; s++) {
      const q = samplePipeline(space, new Rng(100 + s), { flopsBudget: budget });
      const c = checkPipeline(space, q);
      assert.ok(c.valid && c.macs <= budget);
    }
  });

  it('preset FLOPs budgets split the quick space (enumerated): tight < loose, both cut it', () => {
    const space = convSpace();
    const macs: number[] = [];
    for (const r of space.resolutions)
      for (const d of space.depths)
        for (const w of space.widths)
          for (const k of space.kernels) {
            macs.push(
              countFlops(architectureSpec({ kind: 'conv', resolution: r, depth: d, width: w, kernel: k }, space))
                .totalMacs,
            );
          }
    assert.equal(macs.length, 54);
    const [tight, loose] = flopsBudgets('quick');
    assert.ok(tight < loose);
    const fit = (b: number) => macs.filter((m) => m <= b).length / macs.length;
    assert.ok(
      fit(tight) > 0.3 && fit(tight) < fit(loose) && fit(loose) < 0.7,
      `fractions ${fit(tight)}, ${fit(loose)}`,
    );
  });

  it('search spaces validate as data with errors naming the field', () => {
    for (const preset of ['smoke', 'quick', 'full'] as const) parseSearchSpace(presetSpace(preset));
    const bad = presetSpace('full');
    if (bad.nas.kind !== 'mobilenetv2') throw new Error('unexpected');
    bad.nas.stages[1].kernels = [3, 3];
    assert.throws(() => parseSearchSpace(bad), /nas\.stages\.1\.kernels: choices must be distinct/);
    const bad2 = presetSpace('quick');
    bad2.hpo.learningRates.adam = [1e-3];
    assert.throws(() => parseSearchSpace(bad2), /learningRates.*same length/);
    const bad3 = presetSpace('smoke');
    (bad3.aug.ops as string[]).push('Blur');
    assert.throws(() => parseSearchSpace(bad3), /aug\.ops\.15/);
    const bad4 = presetSpace('smoke');
    bad4.aug.levels = [0, 10];
    assert.throws(() => parseSearchSpace(bad4), /aug\.levels\.1/);
    // presets are fresh copies: editing one does not change the next
    assert.equal(
      presetSpace('full').nas.kind === 'mobilenetv2' &&
        (presetSpace('full').nas as { stages: { kernels: number[] }[] }).stages[1].kernels.length,
      2,
    );
  });

  it('architectureSpec rejects a mismatched kind with a message naming it', () => {
    assert.throws(
      () => architectureSpec({ kind: 'mlp', resolution: 14, depth: 1, width: 64 }, convSpace()),
      /kind 'mlp' does not match the NAS space kind 'conv'/,
    );
  });
});
