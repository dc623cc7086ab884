// A throw-away PostgreSQL cluster for tests: initdb in a temp directory, a free loopback port,
// password authentication over TCP. Started once per test process (shared by the PG test files)
// and stopped when the process exits. When the PostgreSQL server binaries are absent, tests that
// need it are skipped with a visible message (CI installs Debian's `postgresql`).
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

export interface TestPostgres {
  /** `postgres://postgres:<password>@127.0.0.1:<port>/postgres` */
  url: string;
  password: string;
  port: number;
  /** Creates a fresh database and returns its URL (isolates test files from one another). */
  createDatabase(name: string): string;
  /** Stops the server (`fast`), e.g. to test "database down". */
  stop(): void;
  /** Starts it again after {@link stop}. */
  start(): void;
}

/** Directory of initdb/pg_ctl: `$MARL_AUTOML_PG_BIN`, else the newest /usr/lib/postgresql/<v>/bin. */
export function postgresBinDir(): string | undefined {
  const env = process.env.MARL_AUTOML_PG_BIN;
  if (env) return fs.existsSync(path.join(env, 'initdb')) ? env : undefined;
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return undefined;
  const versions = fs
    .readdirSync(root)
    .filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(root, versions[0], 'bin') : undefined;
}

/** Why PostgreSQL tests are skipped, or undefined when they can run. */
export function postgresSkipReason(): string | undefined {
  if (!postgresBinDir())
    return 'PostgreSQL server binaries not found (apt-get install postgresql, or set MARL_AUTOML_PG_BIN): skipping PostgreSQL tests';
  return undefined;
}

let shared: TestPostgres | undefined;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** The shared test cluster (started on first use). */
export async function testPostgres(): Promise<TestPostgres> {
  if (shared) return shared;
  const bin = postgresBinDir();
  if (!bin) throw new Error(postgresSkipReason());
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'marl-pg-'));
  const data = path.join(root, 'data');
  const password = 's3cr3t-' + Math.random().toString(36).slice(2, 10);
  fs.writeFileSync(path.join(root, 'pw'), password + '\n');
  const port = await freePort();
  // The server refuses to run as root: run it as the postgres user then.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) execFileSync('chown', ['-R', 'postgres', root]);
  fs.chmodSync(root, 0o755);
  const run = (cmd: string, args: string[]) => {
    const full = path.join(bin, cmd);
    const r = asRoot
      ? spawnSync('runuser', ['-u', 'postgres', '--', full, ...args], { encoding: 'utf8' })
      : spawnSync(full, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr || r.stdout}`);
  };
  run('initdb', [
    '-D',
    data,
    '-U',
    'postgres',
    '--pwfile',
    path.join(root, 'pw'),
    '--auth-host=scram-sha-256',
    '--auth-local=trust',
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  const opts = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`;
  const start = () => run('pg_ctl', ['-D', data, '-o', opts, '-l', path.join(root, 'log'), '-w', 'start']);
  const stop = () => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  start();
  let running = true;
  // Interrupted test runs still stop the server: turn signals into a normal exit.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
  process.on('exit', () => {
    try {
      if (running) stop();
    } catch {
      // best effort
    }
    fs.rmSync(root, { recursive: true, force: true });
  });
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  shared = {
    url,
    password,
    port,
    createDatabase(name: string) {
      run('psql', ['-h', root, '-p', String(port), '-U', 'postgres', '-q', '-c', `CREATE DATABASE "${name}"`]);
      return `postgres://postgres:${password}@127.0.0.1:${port}/${name}`;
    },
    stop() {
      stop();
      running = false;
    },
    start() {
      start();
      running = true;
    },
  };
  return shared;
}
