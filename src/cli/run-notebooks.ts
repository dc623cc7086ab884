/**
 * `npm run notebooks -- [--preset smoke|quick|full] [--timeout <s per cell>] [--out results/notebooks] [--quiet] [files...]`
 *
 * Runs notebooks headlessly with tslab's compiler and executor (no Jupyter or Python needed),
 * writes executed copies under `--out`, and exits 1 naming the notebook, cell and error on the
 * first failure.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { PRESET_NAMES, parsePreset, type PresetName } from '../notebook/presets';
import { NotebookRunError, defaultNotebooks, runNotebooks } from '../notebook/runner';
import { ensureLibraryBuildAt, usesCompiledLibrary } from './library-build';

function parseTimeout(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected seconds >= 0 (0 = no limit), got '${v}'`);
  return n;
}

function parsePresetArg(v: string): PresetName {
  try {
    return parsePreset(v, '--preset');
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** Parses the command line and runs the notebooks; resolves to the process exit code. */
export async function main(argv: string[] = process.argv): Promise<number> {
  const program = new Command()
    .name('npm run notebooks --')
    .description('Run notebooks headlessly (tslab compiler + executor) and save executed copies.')
    .option('--preset <name>', `compute preset: ${PRESET_NAMES.join(' | ')}`, parsePresetArg, 'quick' as PresetName)
    .option(
      '--timeout <seconds>',
      'per-cell time limit in seconds (0 = none; default by preset: smoke 300, quick 3600, full 86400)',
      parseTimeout,
    )
    .option('--out <dir>', 'folder for executed copies', 'results/notebooks')
    .option('--results <dir>', 'folder under which each notebook writes <name>/ tables and figures', 'results')
    .option('--quiet', 'do not echo cell output to the terminal')
    .option('--root <dir>', 'repository root: working directory of the notebooks (default: current directory)')
    .argument('[files...]', 'notebooks to run (default: notebooks/*.ipynb in name order)')
    .showHelpAfterError()
    .exitOverride();
  try {
    program.parse(argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
  const opts = program.opts<{
    preset: PresetName;
    timeout?: number;
    out: string;
    results: string;
    quiet?: boolean;
    root?: string;
  }>();
  try {
    // The notebooks import the compiled library (dist/): build it first when missing or stale, so the
    // notebooks' first cell finds it current (and the build's time is not charged to a cell).
    const root = path.resolve(opts.root ?? process.cwd());
    const files = program.args.length ? program.args.map((f) => path.resolve(root, f)) : defaultNotebooks(root);
    if (files.some((f) => fs.existsSync(f) && usesCompiledLibrary(f)))
      ensureLibraryBuildAt(root, (line) => process.stdout.write(line + '\n'));
    await runNotebooks({
      files: program.args,
      preset: opts.preset,
      timeoutS: opts.timeout,
      outDir: opts.out,
      resultsRoot: opts.results,
      echo: !opts.quiet,
      rootDir: opts.root,
    });
    return 0;
  } catch (err) {
    if (err instanceof NotebookRunError) {
      process.stderr.write(
        `\nFAILED: ${err.message}\nexecuted copy with outputs up to the failure: ${err.report.output}\n`,
      );
    } else {
      process.stderr.write(`\nFAILED: ${(err as Error).message ?? String(err)}\n`);
    }
    return 1;
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
