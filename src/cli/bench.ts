/**
 * `npm run bench [-- --only training --quick --json results/bench.json]`: runs the registered
 * benchmark suites, prints a table per suite and writes a JSON report atomically.
 */
import { Command } from 'commander';
import { writeFileAtomic } from '../eval';
import { formatReport, listBenches, machineInfo, runBenches, selectBenches } from '../bench';
import '../bench/suites';

interface Options {
  only?: string;
  json: string;
  quick?: boolean;
  list?: boolean;
  strict?: boolean;
}

async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name('bench')
    .description('Run the marl-automl benchmark suites (timings: compare only runs on the same machine and load).')
    .option('--only <names>', 'comma-separated suite names to run (default: all)')
    .option('--json <path>', 'where to write the JSON report', 'results/bench.json')
    .option('--quick', 'fewer iterations (smoke run)')
    .option('--list', 'list the suites and exit')
    .option('--strict', 'exit with status 1 when a target check fails')
    .showHelpAfterError();
  program.parse(argv);
  const opts = program.opts<Options>();
  if (opts.list) {
    for (const s of listBenches()) console.log(`${s.name.padEnd(16)} ${s.description}`);
    return 0;
  }
  const only = opts.only
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (opts.only !== undefined && (!only || only.length === 0))
    throw new Error('--only: expected a comma-separated list of suite names');
  const chosen = selectBenches(only);
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  const suites = await runBenches(chosen, { quick: !!opts.quick, log: (m) => console.error(m) });
  process.stdout.write(`\n${formatReport(suites)}`);
  const report = { startedAt, finishedAt: new Date().toISOString(), quick: !!opts.quick, machine, suites };
  writeFileAtomic(opts.json, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${opts.json}`);
  const errored = suites.filter((s) => s.error).length;
  const failedChecks = suites.reduce((n, s) => n + s.checks.filter((c) => !c.pass).length, 0);
  if (errored) return 1;
  return opts.strict && failedChecks ? 1 : 0;
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`bench: ${(err as Error).message ?? String(err)}`);
    process.exitCode = 1;
  },
);
