import { strict as assert } from 'assert';
import { Rng } from '../../src/random';

// Rng.getState/setState were added for MARL checkpoints (exact resume of action sampling).
describe('random/Rng state (for marl checkpoints)', () => {
  it('restores the exact position, including a cached normal sample, through JSON', () => {
    const r = new Rng(42);
    r.next();
    r.normal(); // leaves a spare normal cached
    const saved = JSON.parse(JSON.stringify(r.getState()));
    const expected = [r.normal(), r.next(), r.int(1000), r.normal()];
    const restored = new Rng(42);
    restored.setState(saved);
    assert.deepEqual([restored.normal(), restored.next(), restored.int(1000), restored.normal()], expected);
  });

  it('rejects a state of another seed or a malformed state', () => {
    const s = new Rng(1).getState();
    assert.throws(() => new Rng(2).setState(s), /state is for seed 1, this stream has seed 2/);
    assert.throws(() => new Rng(1).setState({ ...s, gen: [1, 2] }), /state.gen must be 4 integers/);
  });
});
