import { strict as assert } from 'assert';
import { z, parseConfig, ConfigError } from '../../src/config';

describe('config/parseConfig', () => {
  const Schema = z.object({
    lr: z.number().positive().default(0.1),
    layers: z.array(z.number().int().positive()).min(1),
  });
  it('returns parsed values with defaults', () => {
    assert.deepEqual(parseConfig(Schema, { layers: [3] }, 'test config'), { lr: 0.1, layers: [3] });
  });
  it('names every bad field', () => {
    assert.throws(
      () => parseConfig(Schema, { lr: -1, layers: [0] }, 'test config'),
      (e: unknown) => e instanceof ConfigError && /Invalid test config: lr: .*; layers\.0: /.test(e.message),
    );
  });
});
