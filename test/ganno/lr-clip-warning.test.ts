import { strict as assert } from 'assert';
import {
  LR_CLIP_WARNING,
  LayerLrEnv,
  constantController,
  initialLrClipWarning,
  resetLrClipWarnings,
  runController,
} from '../../src/ganno';

/** A tiny synthetic task distribution with a fixed initial LR. */
function envWith(initialLr: [number, number], lrClip: [number, number]): LayerLrEnv {
  return new LayerLrEnv({
    task: { datasets: ['synthetic'], totalSteps: 20, trainSize: 100, valSize: 50, widths: [8], initialLr },
    lrClip,
  });
}

/** Warnings of type LR_CLIP_WARNING emitted while `fn` runs (Node delivers them on a later tick). */
async function clipWarnings(fn: () => void): Promise<Error[]> {
  const seen: Error[] = [];
  const listener = (w: Error) => {
    if (w.name === LR_CLIP_WARNING) seen.push(w);
  };
  process.on('warning', listener);
  try {
    fn();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off('warning', listener);
  }
  return seen;
}

describe('ganno/env: warning when a task initial LR lies outside the LR clip', function () {
  this.timeout(60_000);
  beforeEach(() => resetLrClipWarnings());

  it('names the task, its LR and the bounds; null inside the bounds (edges included)', () => {
    const msg = initialLrClipWarning({ seed: 5, dataset: 'digits', initialLr: 2 }, [1e-5, 1]);
    assert.ok(msg);
    assert.match(msg, /GANNO task 5 \(digits\): initial LR 2 lies outside the env's lrClip \[0\.00001, 1\]/);
    assert.match(msg, /moves to 1 at the first decision/);
    assert.match(msg, /Widen lrClip or narrow task\.initialLr/);
    assert.equal(initialLrClipWarning({ seed: 5, dataset: 'digits', initialLr: 1 }, [1e-5, 1]), null);
    assert.equal(initialLrClipWarning({ seed: 5, dataset: 'digits', initialLr: 1e-5 }, [1e-5, 1]), null);
    assert.match(
      initialLrClipWarning({ seed: 1, dataset: 'synthetic', initialLr: 1e-6 }, [1e-5, 1]) ?? '',
      /moves to 0\.00001/,
    );
  });

  it('reset warns once per task distribution and clip, however many tasks and envs reset', async () => {
    const seen = await clipWarnings(() => {
      for (const env of [envWith([2, 2], [1e-5, 1]), envWith([2, 2], [1e-5, 1])]) {
        for (const seed of [11, 12, 13]) env.reset(seed);
        env.dispose();
      }
    });
    assert.equal(seen.length, 1, seen.map((w) => w.message).join('\n'));
    assert.match(
      seen[0].message,
      /GANNO task 11 \(synthetic\): initial LR 2 lies outside the env's lrClip \[0\.00001, 1\]/,
    );
    // another clip is another configuration: reported once more
    const other = await clipWarnings(() => {
      const env = envWith([2, 2], [1e-4, 0.5]);
      env.reset(1);
      env.reset(2);
      env.dispose();
    });
    assert.equal(other.length, 1);
    assert.match(other[0].message, /lrClip \[0\.0001, 0\.5\]/);
  });

  it('a step controller run (runController without the env loop) warns too', async () => {
    const seen = await clipWarnings(() => {
      const env = {
        task: {
          datasets: ['synthetic' as const],
          totalSteps: 20,
          trainSize: 100,
          valSize: 50,
          widths: [8],
          initialLr: [3, 3] as [number, number],
        },
      };
      runController(constantController(), 4, { env, testSize: 0 });
      runController(constantController(), 5, { env, testSize: 0 });
    });
    assert.equal(seen.length, 1);
    assert.match(seen[0].message, /GANNO task 4 \(synthetic\): initial LR 3 lies outside/);
  });

  it('no warning when every initial LR lies inside the clip', async () => {
    const seen = await clipWarnings(() => {
      const env = envWith([0.01, 0.3], [1e-5, 1]);
      for (const seed of [1, 2, 3]) env.reset(seed);
      env.dispose();
    });
    assert.equal(seen.length, 0);
  });
});
