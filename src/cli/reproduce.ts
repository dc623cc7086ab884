/**
 * `npm start` — the headless reproduction: runs every notebook in notebooks/ (name order) with the
 * `quick` preset (override with `--preset`), writing executed copies to results/notebooks/ and each
 * notebook's tables and figures to results/<notebook>/, then prints where everything went.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import * as path from 'path';
import { PRESET_NAMES, parsePreset, type PresetName } from '../notebook/presets';
import { NotebookRunError, runNotebooks } from '../notebook/runner';

export async function main(argv: string[] = process.argv): Promise<number> {
  const program = new Command()
    .name('npm start --')
    .description('Regenerate every notebook, table and figure headlessly.')
    .option('--preset <name>', `compute preset: ${PRESET_NAMES.join(' | ')}`, (v: string) => {
      try {
        return parsePreset(v, '--preset');
      } catch (err) {
        throw new InvalidArgumentError((err as Error).message);
      }
    }, 'quick' as PresetName)
    .argument('[files...]', 'notebooks to run (default: all of notebooks/*.ipynb)')
    .exitOverride();
  try {
    program.parse(argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
  const { preset } = program.opts<{ preset: PresetName }>();
  const started = Date.now();
  try {
    const reports = await runNotebooks({ files: program.args, preset, outDir: 'results/notebooks', resultsRoot: 'results', echo: true });
    const minutes = ((Date.now() - started) / 60000).toFixed(1);
    process.stdout.write(`\nReproduction (${preset} preset) finished in ${minutes} min:\n`);
    for (const r of reports) process.stdout.write(`  ${path.basename(r.notebook)} → ${path.relative(process.cwd(), r.output)}\n`);
    process.stdout.write('Tables (CSV/Markdown) and figures (PNG/JSON) are under results/<notebook>/.\n');
    return 0;
  } catch (err) {
    if (err instanceof NotebookRunError) {
      process.stderr.write(`\nFAILED: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

if (require.main === module) {
  main().then((code) => process.exit(code), (err) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
