import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import {
  applyOp,
  augOpGallery,
  augPolicyTiles,
  checkPipeline,
  evaluateUnderBudgets,
  flopsBudgets,
  nasMacSample,
  pipelineBetweenBudgets,
  presetSpace,
  samplePipeline,
  sampledPipelineRows,
  shareWithin,
  spaceSize,
  spaceSummaryLines,
  tokenSpaceRows,
} from '../../src/ma2ml';
import type { Pipeline } from '../../src/ma2ml';
import { Rng } from '../../src/random';

describe('ma2ml/experiments/walkthrough: notebook 20 as library functions', function () {
  this.timeout(120_000);
  const space = presetSpace('smoke');
  const [tight, loose] = flopsBudgets('smoke');

  it('token rows show one AUG op slot and every NAS / HPO dimension; the summary lines count them', () => {
    const rows = tokenSpaceRows(space);
    const aug = rows.filter((r) => r.agent === 'aug');
    assert.equal(aug.length, 3);
    assert.ok(
      aug.every((r) => r.token.startsWith('sp*.')),
      aug.map((r) => r.token).join(','),
    );
    assert.ok(rows.some((r) => r.agent === 'nas') && rows.some((r) => r.agent === 'hpo'));
    for (const r of rows) assert.equal(r['choice values'].split(', ').length, r['#choices']);
    const lines = spaceSummaryLines(space);
    assert.match(lines[1], new RegExp(`joint 10\\^${spaceSize(space).log10.toFixed(1).replace('.', '\\.')}$`));
  });

  it('sampled rows say which budget may train each pipeline; the between-budget pick is one the rules disagree on', () => {
    const rng = new Rng(2026);
    const samples: Pipeline[] = Array.from({ length: 40 }, () => samplePipeline(space, rng));
    const rows = sampledPipelineRows(space, samples, [tight, loose]);
    rows.forEach((r, i) => {
      const c = checkPipeline(space, samples[i]);
      assert.equal(r[`valid @ ${tight}`], c.valid && (c.macs as number) <= tight ? 'yes' : 'no');
      assert.equal(r[`valid @ ${loose}`], c.valid && (c.macs as number) <= loose ? 'yes' : 'no');
    });
    const chosen = pipelineBetweenBudgets(space, samples, tight, loose);
    const c = checkPipeline(space, chosen);
    const exists = samples.some((p) => {
      const k = checkPipeline(space, p);
      return k.valid && k.macs > tight && k.macs <= loose;
    });
    if (exists) assert.ok(c.valid && c.macs > tight && c.macs <= loose);
    assert.throws(() => pipelineBetweenBudgets(space, [], tight, loose), /no samples/);
  });

  it('the op gallery equals applyOp tile by tile, policy rows start with the originals, no tensors leak', () => {
    const n0 = tf.memory().numTensors;
    const px = Float32Array.from({ length: 28 * 28 }, (_, i) => ((i * 37) % 101) / 100);
    const tiles = augOpGallery(px, 28, 28, ['Rotate', 'Cutout'], [0, 9]);
    assert.equal(tiles.length, 2);
    assert.equal(tiles[0].length, 2);
    const x = tf.tensor4d(px, [1, 28, 28, 1]);
    const y = applyOp(x, 'Cutout', 9, { sign: 1, center: [12, 12] });
    assert.deepEqual(Array.from(tiles[1][1]), Array.from(y.dataSync()));
    tf.dispose([x, y]);
    const two = Float32Array.from([...px, ...px.map((v) => 1 - v)]);
    const rows = augPolicyTiles(two, 2, 28, 28, [samplePipeline(space, new Rng(1)).aug], new Rng(7));
    assert.equal(rows.length, 2);
    assert.deepEqual(Array.from(rows[0][1]), Array.from(two.subarray(784)));
    assert.throws(() => augOpGallery(px, 27, 28, ['Rotate'], [0]), /expected 756 pixels/);
    assert.equal(tf.memory().numTensors, n0);
  });

  it('MAC sample: every distinct architecture of a small space once; shares are fractions', () => {
    const macs = nasMacSample(space, new Rng(11));
    assert.equal(macs.length, Number(spaceSize(space).perAgent.nas));
    assert.equal(shareWithin([1, 2, 3, 4], 2), 0.5);
    assert.ok(shareWithin(macs, loose) >= shareWithin(macs, tight));
    assert.equal(nasMacSample(space, new Rng(11), 5).length, 5);
  });

  it('evaluateUnderBudgets: one training per seed, four (budget, rule) rows each, rewards follow the rules', () => {
    const rng = new Rng(3);
    const samples = Array.from({ length: 30 }, () => samplePipeline(space, rng));
    const chosen = pipelineBetweenBudgets(space, samples, tight, loose);
    const r = evaluateUnderBudgets(chosen, {
      space,
      data: { source: 'embedded', trainSubset: 100, validationSize: 100 },
      epochs: 1,
      seeds: [0, 1],
      budgets: [
        { name: 'tight', budget: tight },
        { name: 'loose', budget: loose },
      ],
    });
    assert.equal(r.rows.length, 8);
    assert.equal(r.trained.length, 2);
    assert.equal(r.trainSeconds.length, 2);
    assert.ok(r.trainSeconds.every((s) => s >= 0));
    const macs = checkPipeline(space, chosen).macs as number;
    for (const row of r.rows) {
      const overHard = row.rule === 'hard' && macs > Number(/\((\d+)\)/.exec(String(row.budget))![1]);
      if (overHard) {
        assert.equal(row.trained, 'no');
        assert.equal(row.reward, '0.000');
      } else assert.equal(row.trained, 'yes');
    }
    // the soft reward under the loose budget (the trained one) is the trained evaluation's
    const softLoose = r.rows.filter((x) => x.rule === 'soft' && String(x.budget).startsWith('loose'));
    softLoose.forEach((row, i) => assert.equal(row.reward, r.trained[i].reward.toFixed(3)));
    const accs = r.trained.map((t) => t.valAccuracy ?? 0);
    assert.ok(Math.abs(r.meanAccuracy - (accs[0] + accs[1]) / 2) < 1e-12);
    assert.ok(Math.abs(r.sdAccuracy - Math.abs(accs[0] - accs[1]) / Math.SQRT2) < 1e-12);
  });
});
