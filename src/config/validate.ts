import { z } from 'zod';

export { z };

/** Raised when a configuration object fails validation; the message names every bad field. */
export class ConfigError extends Error {
  constructor(
    readonly what: string,
    readonly issues: { path: string; message: string }[],
  ) {
    super(`Invalid ${what}: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates `value` against a zod schema and returns the parsed (defaulted) value, or throws a
 * {@link ConfigError} naming each offending field.
 *
 * @example
 * ```ts
 * const Schema = z.object({ lr: z.number().positive().default(0.1) });
 * const cfg = parseConfig(Schema, { lr: -1 }, 'trainer config'); // throws "Invalid trainer config: lr: Number must be greater than 0"
 * ```
 */
export function parseConfig<S extends z.ZodTypeAny>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ConfigError(
    what,
    result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
  );
}
