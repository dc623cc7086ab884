import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import {
  buildSequential,
  cnnSpec,
  countFlops,
  countParams,
  makeDivisible,
  mlpSpec,
  mobileNetV2Spec,
} from '../../src/nn';
import type { SequentialSpec } from '../../src/nn';

describe('nn/countFlops and countParams', () => {
  it('dense layers: hand counts', () => {
    const one = countFlops({ inputShape: [784], layers: [{ type: 'dense', units: 256 }] });
    assert.equal(one.totalMacs, 200704);
    assert.equal(one.totalParams, 200704 + 256);
    const mlp = countParams(mlpSpec({ inputSize: 784, hidden: [256, 256], numClasses: 10 }));
    assert.equal(mlp.totalParams, 784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10);
    assert.equal(mlp.totalMacs, 784 * 256 + 256 * 256 + 256 * 10);
    assert.deepEqual(mlp.outputShape, [10]);
    assert.deepEqual(
      mlp.layers.map((l) => [l.name, l.params]),
      [
        ['dense_0', 200960],
        ['dense_1', 65792],
        ['dense_2', 2570],
      ],
    );
    const noBias = countParams({ inputShape: [10], layers: [{ type: 'dense', units: 4, bias: false }] });
    assert.equal(noBias.totalParams, 40);
  });

  it('conv, depthwise, batch norm and pooling: hand counts', () => {
    const spec: SequentialSpec = {
      inputShape: [28, 28, 1],
      layers: [
        { type: 'conv2d', filters: 16, kernel: 3, activation: 'relu' }, // same, stride 1 -> 28x28x16
        { type: 'maxPool', size: 2 }, // -> 14x14x16
        { type: 'conv2d', filters: 32, kernel: 3, padding: 'valid' }, // -> 12x12x32
        { type: 'batchNorm', activation: 'relu6' },
        { type: 'depthwiseConv2d', kernel: 3, stride: 2 }, // same -> 6x6x32
        { type: 'avgPool', size: 2 }, // -> 3x3x32
        { type: 'conv2d', filters: 8, kernel: 1, stride: 2, bias: false }, // same -> 2x2x8
        { type: 'globalAvgPool' }, // -> 8
        { type: 'dense', units: 10 },
      ],
    };
    const c = countFlops(spec);
    const expected: [string, number, number, number[]][] = [
      ['conv2d_0', 28 * 28 * 9 * 16, 9 * 16 + 16, [28, 28, 16]],
      ['maxPool_0', 0, 0, [14, 14, 16]],
      ['conv2d_1', 12 * 12 * 9 * 16 * 32, 9 * 16 * 32 + 32, [12, 12, 32]],
      ['batchNorm_0', 12 * 12 * 32, 64, [12, 12, 32]],
      ['depthwiseConv2d_0', 6 * 6 * 9 * 32, 9 * 32 + 32, [6, 6, 32]],
      ['avgPool_0', 3 * 3 * 32 * 4, 0, [3, 3, 32]],
      ['conv2d_2', 2 * 2 * 32 * 8, 32 * 8, [2, 2, 8]],
      ['globalAvgPool_0', 2 * 2 * 8, 0, [8]],
      ['dense_0', 80, 90, [10]],
    ];
    assert.deepEqual(
      c.layers.map((l) => [l.name, l.macs, l.params, l.outShape]),
      expected,
    );
    assert.equal(
      c.totalMacs,
      expected.reduce((a, e) => a + e[1], 0),
    );
    assert.equal(
      c.totalParams,
      expected.reduce((a, e) => a + e[2], 0),
    );
    assert.equal(c.layers[0].macs, 112896);
  });

  it('inverted residual blocks expand to expand/depthwise/project with BN, and input resolution can be overridden', () => {
    const spec: SequentialSpec = {
      inputShape: [14, 14, 16],
      layers: [
        { type: 'invertedResidual', filters: 16, expansion: 6, kernel: 3 },
        { type: 'invertedResidual', filters: 24, expansion: 1, kernel: 5, stride: 2 },
      ],
    };
    const c = countFlops(spec);
    const hw = 14 * 14;
    const block1 = hw * 16 * 96 + hw * 96 + hw * 9 * 96 + hw * 96 + hw * 96 * 16 + hw * 16;
    const p1 = 16 * 96 + 192 + 9 * 96 + 192 + 96 * 16 + 32;
    const block2 = 7 * 7 * 25 * 16 + 7 * 7 * 16 + 7 * 7 * 16 * 24 + 7 * 7 * 24; // expansion 1: no expand conv
    const p2 = 25 * 16 + 32 + 16 * 24 + 48;
    assert.equal(c.totalMacs, block1 + block2);
    assert.equal(c.totalParams, p1 + p2);
    assert.deepEqual(c.outputShape, [7, 7, 24]);
    assert.deepEqual(
      c.layers.map((l) => l.name),
      [
        'conv2d_0',
        'batchNorm_0',
        'depthwiseConv2d_0',
        'batchNorm_1',
        'conv2d_1',
        'batchNorm_2',
        'depthwiseConv2d_1',
        'batchNorm_3',
        'conv2d_2',
        'batchNorm_4',
      ],
    );
    const small = countFlops(spec, [10, 10, 16]);
    assert.equal(small.layers[0].macs, 100 * 16 * 96);
    assert.deepEqual(small.outputShape, [5, 5, 24]);
  });

  it('MobileNetV2 spec: width multiplier rounding and totals equal the built model', () => {
    assert.equal(makeDivisible(8), 8);
    assert.equal(makeDivisible(16 * 0.5), 8);
    assert.equal(makeDivisible(24 * 0.75), 24); // torchvision: 16 would be < 90% of 18
    assert.equal(makeDivisible(32 * 0.75), 24);
    const spec = mobileNetV2Spec({
      inputShape: [20, 20, 1],
      numClasses: 10,
      widthMultiplier: 0.75,
      stages: [
        { depth: 1, kernel: 3, expansion: 1, filters: 16, stride: 1 },
        { depth: 2, kernel: 5, expansion: 6, filters: 24, stride: 2 },
        { depth: 3, kernel: 3, expansion: 3, filters: 32, stride: 2 },
      ],
      headFilters: 64,
      dropout: 0.2,
    });
    const c = countFlops(spec);
    assert.deepEqual(c.outputShape, [10]);
    const model = buildSequential(spec, { seed: 1 });
    try {
      assert.equal(model.numParams(), c.totalParams);
      assert.equal(
        model.groups.reduce((a, g) => a + g.numParams, 0),
        c.totalParams,
      );
      // One group per conv/dense; every BN joined the conv before it.
      assert.equal(
        model.groups.length,
        c.layers.filter((l) => l.type === 'conv2d' || l.type === 'depthwiseConv2d' || l.type === 'dense').length,
      );
      assert.ok(model.groups.every((g) => g.kind !== 'batchNorm'));
      // Stem 3x3 conv to makeDivisible(16 * 0.75) = 16 channels at 20x20.
      assert.equal(c.layers[0].macs, 20 * 20 * 9 * 1 * 16);
      // Resolution changes the MACs but not the parameters.
      const c28 = countFlops(spec, [28, 28, 1]);
      assert.equal(c28.totalParams, c.totalParams);
      assert.ok(c28.totalMacs > 1.8 * c.totalMacs);
      const logits = tf.tidy(() => model.forward(tf.zeros([2, 20, 20, 1])).shape);
      assert.deepEqual(logits, [2, 10]);
    } finally {
      model.dispose();
    }
  });

  it('built MLP and CNN parameter counts equal the analytic counts', () => {
    const specs = [
      mlpSpec({ inputSize: 784, hidden: [256, 256], numClasses: 10 }),
      mlpSpec({ inputSize: 20, hidden: [16], numClasses: 4, batchNorm: true, dropout: 0.1 }),
      cnnSpec({
        inputShape: [28, 28, 1],
        blocks: [
          { filters: 16, kernel: 3, pool: { type: 'max', size: 2 } },
          { filters: 32, kernel: 3, batchNorm: true, pool: { type: 'max', size: 2 } },
        ],
        dense: [32],
        numClasses: 10,
      }),
    ];
    for (const spec of specs) {
      const model = buildSequential(spec, { seed: 2 });
      assert.equal(model.numParams(), countParams(spec).totalParams);
      model.dispose();
    }
  });

  it('shape errors name the layer and the shapes', () => {
    assert.throws(
      () => countFlops({ inputShape: [28, 28, 1], layers: [{ type: 'dense', units: 10 }] }),
      /layers\[0\] \(dense_0\): expects an input \[features\], got \[28, 28, 1\].*flatten/,
    );
    assert.throws(
      () => countFlops({ inputShape: [784], layers: [{ type: 'conv2d', filters: 2, kernel: 3 }] }),
      /conv2d_0.*\[height, width, channels\], got \[784\]/,
    );
    assert.throws(
      () =>
        countFlops({ inputShape: [4, 4, 1], layers: [{ type: 'conv2d', filters: 2, kernel: 5, padding: 'valid' }] }),
      /kernel 5.*input size 4/,
    );
    assert.throws(
      () =>
        countFlops({
          inputShape: [8, 8, 4],
          layers: [{ type: 'residual', body: [{ type: 'conv2d', filters: 8, kernel: 3 }] }],
        }),
      /residual_0.*\[8, 8, 4\] to \[8, 8, 8\].*preserve/,
    );
    assert.throws(() => countFlops({ inputShape: [10], layers: [{ type: 'dense', units: 0 }] }), /layers\.0\.units/);
    assert.throws(
      () => countFlops({ inputShape: [10], layers: [{ type: 'dense', units: 3, unitz: 1 } as never] }),
      /unitz/,
    );
    assert.throws(() => countFlops({ inputShape: [10, 10], layers: [{ type: 'flatten' }] }), /inputShape/);
  });
});
