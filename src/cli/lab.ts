/**
 * `npm run lab [-- <extra jupyter args>]`: starts Jupyter on the repository with the project
 * kernel ("TypeScript (marl-automl)", which runs tslab in the repository root so cells import
 * `./src/...`). Where Jupyter is missing it says exactly what to install, and how to use VS Code
 * or the headless runner instead.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ensureLibraryBuildAt } from './library-build';

/** Name of the project kernel (folder `jupyter/kernels/marl-automl`). */
export const KERNEL_NAME = 'marl-automl';

/** What `npm run lab` will do. */
export interface LabPlan {
  /** `lab` (JupyterLab), `notebook` (classic Notebook) or `missing` (nothing to start). */
  kind: 'lab' | 'notebook' | 'missing';
  /** Repository root (Jupyter's working and root directory). */
  root: string;
  /** Folder to put on `JUPYTER_PATH` so Jupyter finds the project kernel. */
  jupyterPath: string;
  /** Command and arguments to run (empty when missing). */
  command: string;
  args: string[];
  /** Environment for the command. */
  env: NodeJS.ProcessEnv;
  /** Text for the user: what starts, or what to install. */
  message: string;
}

/**
 * Finds the repository root: the nearest folder above `from` holding the project kernelspec.
 *
 * @example
 * ```ts
 * findRepoRoot(); // '/home/me/marl-automl'
 * ```
 */
export function findRepoRoot(from: string = __dirname): string {
  let dir = path.resolve(from);
  for (;;) {
    if (fs.existsSync(path.join(dir, 'jupyter', 'kernels', KERNEL_NAME, 'kernel.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new Error(`npm run lab: jupyter/kernels/${KERNEL_NAME}/kernel.json not found above ${from}`);
    dir = parent;
  }
}

function onPath(exe: string, envPath: string | undefined): string | undefined {
  for (const dir of (envPath ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, exe);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Install instructions shown when Jupyter (or its Lab/Notebook front end) is missing.
 *
 * @example
 * ```ts
 * console.log(installHelp(findRepoRoot(), false));
 * ```
 */
export function installHelp(root: string, hasJupyterCore: boolean): string {
  const jp = path.join(root, 'jupyter');
  return [
    hasJupyterCore
      ? 'Jupyter is installed, but neither JupyterLab (jupyter-lab) nor the classic Notebook (jupyter-notebook) is.'
      : 'Jupyter is not installed (no `jupyter` on PATH).',
    '',
    'Install one of:',
    '  Debian/Ubuntu:  sudo apt-get install jupyter-notebook        (classic Notebook, Debian 12 packages 6.4)',
    '  pip (any OS):   python3 -m venv .venv && .venv/bin/pip install jupyterlab && export PATH="$PWD/.venv/bin:$PATH"',
    'then run `npm run lab` again. Node packages (tslab) come from `npm ci`; no global tslab is needed.',
    '',
    'VS Code instead: install the "Jupyter" extension, start VS Code with the project kernel visible',
    `  JUPYTER_PATH=${jp} code ${root}`,
    'open a notebook under notebooks/ and pick the kernel "TypeScript (marl-automl)".',
    '',
    'No front end at all: run notebooks headlessly with `npm run notebooks -- --preset quick` (executed copies go to results/notebooks/).',
  ].join('\n');
}

/**
 * Decides how to start Jupyter: JupyterLab if installed, else the classic Notebook, else nothing
 * (with install instructions). Pure apart from looking at the filesystem; `npm run lab` runs it.
 *
 * @example
 * ```ts
 * const plan = labPlan();
 * console.log(plan.kind, plan.message);
 * ```
 */
export function labPlan(
  env: NodeJS.ProcessEnv = process.env,
  extraArgs: string[] = [],
  root: string = findRepoRoot(),
  isRoot: boolean = process.getuid?.() === 0,
): LabPlan {
  const jupyterPath = path.join(root, 'jupyter');
  const childEnv: NodeJS.ProcessEnv = {
    ...env,
    JUPYTER_PATH: env.JUPYTER_PATH ? `${jupyterPath}${path.delimiter}${env.JUPYTER_PATH}` : jupyterPath,
  };
  const jupyter = onPath('jupyter', env.PATH);
  const lab = onPath('jupyter-lab', env.PATH);
  const notebook = onPath('jupyter-notebook', env.PATH);
  const base = { root, jupyterPath, env: childEnv };
  if (jupyter && (lab || notebook)) {
    const kind = lab ? 'lab' : 'notebook';
    // The first interactive figure of a kernel carries plotly.js inline (4.8 MB in one output), over the
    // server's default IOPub data rate limit (1 MB/s over 3 s), which would drop it.
    const rate = kind === 'lab' ? '--ServerApp.iopub_data_rate_limit=1e10' : '--NotebookApp.iopub_data_rate_limit=1e10';
    const args =
      kind === 'lab'
        ? ['lab', `--ServerApp.root_dir=${root}`, rate, ...extraArgs]
        : ['notebook', `--notebook-dir=${root}`, rate, ...extraArgs];
    // Jupyter refuses to run as root (containers, CI) without this flag.
    if (isRoot && !args.includes('--allow-root')) args.push('--allow-root');
    const message = [
      `Starting ${kind === 'lab' ? 'JupyterLab' : 'Jupyter Notebook'} in ${root}`,
      `with JUPYTER_PATH=${childEnv.JUPYTER_PATH} (kernel "TypeScript (marl-automl)": tslab in the repository root, cells import ./src/...).`,
      'Pick the preset with MARL_AUTOML_PRESET=smoke|quick|full before `npm run lab` (default quick).',
    ].join('\n');
    return { ...base, kind, command: jupyter, args, message };
  }
  return { ...base, kind: 'missing', command: '', args: [], message: installHelp(root, !!jupyter) };
}

/** Runs `npm run lab`; resolves to the exit code. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(
      'usage: npm run lab [-- <extra arguments for jupyter lab/notebook>]\n       npm run lab -- --check   (only report what would start)\n',
    );
    return 0;
  }
  const check = argv.includes('--check');
  const plan = labPlan(
    process.env,
    argv.filter((a) => a !== '--check'),
  );
  if (plan.kind === 'missing') {
    process.stderr.write(plan.message + '\n');
    return 1;
  }
  process.stdout.write(plan.message + '\n');
  const specs = spawnSync(plan.command, ['kernelspec', 'list'], { env: plan.env, encoding: 'utf8' });
  if (specs.status === 0 && !specs.stdout.includes(KERNEL_NAME)) {
    process.stderr.write(`warning: jupyter does not list the ${KERNEL_NAME} kernel:\n${specs.stdout}\n`);
  }
  if (check) {
    process.stdout.write(`would run: ${plan.command} ${plan.args.join(' ')}\n`);
    return 0;
  }
  // The notebooks import the compiled library (dist/): build it now when missing or stale, so the
  // first cell of a notebook does not wait for it.
  try {
    ensureLibraryBuildAt(plan.root, (line) => process.stdout.write(line + '\n'));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n(notebooks will report this again in their first cell)\n`);
  }
  return new Promise<number>((resolve) => {
    const child = spawn(plan.command, plan.args, { cwd: plan.root, env: plan.env, stdio: 'inherit' });
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.on('error', (err) => {
      process.stderr.write(`npm run lab: could not start ${plan.command}: ${err.message}\n`);
      resolve(1);
    });
  });
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`${(err as Error).message ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
