// PostgreSQL connection helpers shared by the PostgreSQL store, the queue executor and the worker:
// URL checks, credential masking, and errors that name the problem without leaking a password.
// `pg` is loaded lazily, so the embedded SQLite path never touches it.
import type { Pool, PoolClient } from 'pg';

/** Environment variable that switches notebooks, `npm start` and the CLIs to distributed mode. */
export const DB_ENV = 'MARL_AUTOML_DB';

/**
 * The distributed-mode database URL from `MARL_AUTOML_DB`, or undefined (embedded SQLite mode).
 *
 * @example
 * ```ts
 * const url = distributedDbUrl(); // 'postgres://user:pw@db:5432/marl' or undefined
 * ```
 */
export function distributedDbUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const v = env[DB_ENV]?.trim();
  return v ? v : undefined;
}

/**
 * A connection URL with its password replaced by `***` (for every message and log line).
 * Unparseable text is masked wholesale after the scheme.
 *
 * @example
 * ```ts
 * maskUrl('postgres://me:hunter2@db:5432/x'); // 'postgres://me:***@db:5432/x'
 * ```
 */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const k of [...u.searchParams.keys()]) if (/pass|secret|key|token/i.test(k)) u.searchParams.set(k, '***');
    return u.toString();
  } catch {
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)?.*$/i, (_m, scheme: string | undefined) => `${scheme ?? ''}***`);
  }
}

/**
 * `text` with every occurrence of the URL's password (raw and URL-decoded), and the URL itself,
 * replaced by masked forms.
 *
 * @example
 * ```ts
 * maskSecrets('failed for postgres://me:hunter2@db/x (hunter2)', 'postgres://me:hunter2@db/x'); // no 'hunter2' left
 * ```
 */
export function maskSecrets(text: string, url: string | undefined): string {
  let out = text;
  if (!url) return out;
  out = out.split(url).join(maskUrl(url));
  const secrets = new Set<string>();
  try {
    const u = new URL(url);
    if (u.password) {
      secrets.add(u.password);
      secrets.add(decodeURIComponent(u.password));
    }
    for (const [k, v] of u.searchParams) if (/pass|secret|key|token/i.test(k) && v) secrets.add(v);
  } catch {
    // unparseable: the URL itself was replaced above
  }
  if (process.env.PGPASSWORD) secrets.add(process.env.PGPASSWORD);
  for (const s of secrets) if (s.length >= 3) out = out.split(s).join('***');
  return out;
}

/**
 * An Error for a PostgreSQL failure: names what was being done, the masked URL and a hint for
 * the common causes (unreachable server, authentication, missing database), never the password.
 */
export class PgError extends Error {
  /** The database URL with its password masked. */
  readonly location: string;
  constructor(
    url: string,
    what: string,
    cause: unknown,
    readonly code?: string,
  ) {
    const raw = cause instanceof Error ? cause.message || String(cause) : String(cause);
    super(`PostgreSQL ${maskUrl(url)}: ${what}: ${maskSecrets(raw, url)}${hint(code, raw)}`);
    this.name = 'PgError';
    this.location = maskUrl(url);
    this.stack = maskSecrets(this.stack ?? '', url);
  }
}

function hint(code: string | undefined, msg: string): string {
  if (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(msg))
    return ' (is the server running and listening on that host and port?)';
  if (code === 'ENOTFOUND' || /ENOTFOUND|getaddrinfo/.test(msg)) return ' (unknown host name)';
  if (code === '28P01' || code === '28000') return ' (check the user name and password)';
  if (code === '3D000') return ' (create the database first: createdb <name>)';
  return '';
}

/** Wraps anything thrown by `pg` into a {@link PgError}. */
export function pgError(url: string, what: string, err: unknown): PgError {
  if (err instanceof PgError) return err;
  return new PgError(url, what, err, (err as { code?: string })?.code);
}

/**
 * Checks that `url` looks like a PostgreSQL URL (`postgres://` or `postgresql://`), with a
 * clear error naming the variable or option it came from.
 */
export function checkPgUrl(url: unknown, from = 'database URL'): string {
  if (typeof url !== 'string' || url.trim() === '')
    throw new Error(`${from}: expected a postgres:// URL, got ${JSON.stringify(url)}`);
  if (!/^postgres(ql)?:\/\//i.test(url.trim()))
    throw new Error(
      `${from}: expected a URL starting with postgres:// or postgresql://, got '${maskUrl(url)}' ` +
        '(for the embedded SQLite store leave MARL_AUTOML_DB unset and use MARL_AUTOML_STORE)',
    );
  try {
    new URL(url);
  } catch {
    throw new Error(`${from}: not a valid URL: '${maskUrl(url)}'`);
  }
  return url.trim();
}

/**
 * Opens a `pg` pool and checks the connection once (so a bad URL, wrong password or a server
 * that is down fail here, clearly, instead of at the first query).
 */
export async function openPool(url: string, options: { max?: number; application?: string } = {}): Promise<Pool> {
  checkPgUrl(url);
  const pg = require('pg') as typeof import('pg');
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 4,
    application_name: options.application ?? 'marl-automl',
    connectionTimeoutMillis: 10_000,
  });
  // An idle client that loses its connection emits 'error' on the pool: never crash on it.
  pool.on('error', () => undefined);
  let client: PoolClient | undefined;
  try {
    client = await pool.connect();
    await client.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw pgError(url, 'cannot connect', err);
  } finally {
    client?.release();
  }
  return pool;
}

/** Runs `fn` in one transaction (BEGIN / COMMIT, ROLLBACK on error). */
export async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
