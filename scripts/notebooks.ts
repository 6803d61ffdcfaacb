/**
 * The notebooks' runner (npm run notebooks / npm run notebooks:run).
 *
 *   node dist/scripts/notebooks.js open [jupyter args...]   start Jupyter (JupyterLab if installed, else classic Notebook)
 *   node dist/scripts/notebooks.js run [names...]           execute the notebooks in order headless; write the executed
 *                                                           notebooks and their HTML exports to outputs/notebooks/
 *   node dist/scripts/notebooks.js clear                    strip outputs from notebooks/*.ipynb (before committing)
 *
 * Both first register the tslab kernel project-locally, in .jupyter/ (never in the user's or system's Jupyter),
 * and point Jupyter at it with JUPYTER_PATH. Python with Jupyter is found as REALFAKE_PYTHON, else
 * /usr/bin/python3 (Debian/Ubuntu's apt packages), else python3 on PATH (pip).
 * `run` uses REALFAKE_PRESET=smoke unless the environment sets another preset (study = the full study: hours).
 * `open` says which parameters the notebooks will use (notebooks/params.json) and how to switch to the full study.
 */
import { spawnSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { projectRoot, readJson, writeFileAtomic, writeJsonAtomic } from '../lib/files';
import { readNotebookParams } from '../lib/notebook/params';

export const NOTEBOOKS = [
  '01_preprocessing',
  '02_model',
  '03_training',
  '04_evaluation',
  '05_prediction',
  '06_shortcut_audit',
  '07_experiments',
  '08_generalization',
] as const;
export const KERNEL_NAME = 'tslab';

export interface RunnerPaths {
  root: string;
  notebooks: string;
  outputs: string;
  jupyterPrefix: string;
  /** The run summary `run` writes last; tests use its time to decide whether outputs are fresh. */
  runFile: string;
}

export function notebookRunnerPaths(root = projectRoot()): RunnerPaths {
  return {
    root,
    notebooks: path.join(root, 'notebooks'),
    outputs: path.join(root, 'outputs', 'notebooks'),
    jupyterPrefix: path.join(root, '.jupyter'),
    runFile: path.join(root, 'outputs', 'notebooks', 'run.json'),
  };
}

export const JUPYTER_INSTALL_HINT =
  'install Jupyter: on Debian/Ubuntu `sudo apt-get install python3-notebook python3-nbconvert python3-nbclient python3-ipykernel`; ' +
  'elsewhere `python3 -m pip install notebook nbconvert nbclient` (or set REALFAKE_PYTHON to a Python that has them)';

function pythonHas(python: string, modules: string[]): boolean {
  const probe = spawnSync(python, ['-c', modules.map((m) => `import ${m}`).join('; ')], { stdio: 'ignore' });
  return probe.status === 0;
}

/** A Python with the given Jupyter modules, or null. */
export function findJupyterPython(
  modules: string[] = ['nbclient', 'nbconvert', 'nbformat', 'jupyter_client'],
): string | null {
  const candidates = process.env.REALFAKE_PYTHON
    ? [process.env.REALFAKE_PYTHON]
    : ['/usr/bin/python3', 'python3', 'python'];
  return candidates.find((python) => pythonHas(python, modules)) ?? null;
}

function kernelSpecFile(paths: RunnerPaths): string {
  return path.join(paths.jupyterPrefix, 'share', 'jupyter', 'kernels', KERNEL_NAME, 'kernel.json');
}

/** Registers the tslab kernel in <project>/.jupyter (again if the project moved); returns the env for Jupyter. */
export function ensureKernel(python: string, paths: RunnerPaths): NodeJS.ProcessEnv {
  const tslab = path.join(paths.root, 'node_modules', '.bin', 'tslab');
  if (!fs.existsSync(tslab))
    throw new Error(`${tslab}: not found (tslab is a devDependency: run \`npm install\` in ${paths.root})`);
  const specFile = kernelSpecFile(paths);
  let current: string | undefined;
  try {
    current = readJson<{ argv?: string[] }>(specFile, 'kernel spec').argv?.[0];
  } catch {
    current = undefined;
  }
  if (current !== tslab) {
    const result = spawnSync(
      tslab,
      ['install', `--python=${python}`, `--prefix=${paths.jupyterPrefix}`, `--binary=${tslab}`],
      { encoding: 'utf8' },
    );
    if (result.status !== 0 || !fs.existsSync(specFile)) {
      throw new Error(`tslab install failed: ${(result.stderr || result.stdout || '').trim().split('\n').pop()}`);
    }
    process.stdout.write(
      `registered the tslab kernel in ${path.relative(paths.root, paths.jupyterPrefix)}/ (project-local)\n`,
    );
  }
  const jupyterPath = [path.join(paths.jupyterPrefix, 'share', 'jupyter'), process.env.JUPYTER_PATH]
    .filter(Boolean)
    .join(path.delimiter);
  return { ...process.env, JUPYTER_PATH: jupyterPath };
}

export interface NotebookStatus {
  notebook: string;
  ok: boolean;
  seconds: number;
  cell?: number;
  error?: string;
}

export interface RunSummary {
  ok: boolean;
  preset: string;
  startedAt: string;
  seconds: number;
  notebooks: NotebookStatus[];
}

/**
 * Executes notebooks in order (stopping at the first failing cell) and writes run.json; a cell error is
 * reported in the summary, not thrown. The preset is `options.preset`, else REALFAKE_PRESET, else smoke.
 */
export function runNotebooks(
  names: readonly string[] = NOTEBOOKS,
  options: { preset?: string; paths?: RunnerPaths } = {},
): RunSummary {
  const paths = options.paths ?? notebookRunnerPaths();
  const python = findJupyterPython();
  if (!python) throw new Error(`no Python with Jupyter (nbclient, nbconvert) found: ${JUPYTER_INSTALL_HINT}`);
  const env = ensureKernel(python, paths);
  env.REALFAKE_PRESET = options.preset || env.REALFAKE_PRESET || 'smoke';
  const files = names.map((name) => {
    const file = path.join(paths.notebooks, name.endsWith('.ipynb') ? name : `${name}.ipynb`);
    if (!fs.existsSync(file)) throw new Error(`${file}: no such notebook (notebooks: ${NOTEBOOKS.join(', ')})`);
    return file;
  });
  fs.mkdirSync(paths.outputs, { recursive: true });
  fs.rmSync(paths.runFile, { force: true });
  // Per-cell limit: generous for the smoke preset; none for real runs (the study trains for hours).
  const timeout = process.env.REALFAKE_CELL_TIMEOUT ?? (env.REALFAKE_PRESET === 'smoke' ? '1800' : '0');
  process.stdout.write(
    `executing ${files.length} notebook(s) headless with REALFAKE_PRESET=${env.REALFAKE_PRESET} (${python}, kernel ${KERNEL_NAME})\n`,
  );
  const startedAt = new Date();
  const script = path.join(paths.root, 'scripts', 'execute_notebooks.py');
  const result = spawnSync(python, [script, paths.outputs, KERNEL_NAME, timeout, ...files], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const statuses: NotebookStatus[] = (result.stdout ?? '')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as NotebookStatus)
    .map((s) => ({
      notebook: path.relative(paths.root, s.notebook),
      ok: s.ok,
      seconds: s.seconds,
      cell: s.cell,
      error: s.error,
    }));
  for (const s of statuses) {
    process.stdout.write(
      `${s.ok ? 'ok    ' : 'FAILED'} ${s.notebook}  ${s.seconds.toFixed(1)} s${s.ok ? '' : `  (cell ${s.cell})`}\n`,
    );
  }
  const ok = result.status === 0 && statuses.length === files.length && statuses.every((s) => s.ok);
  const summary: RunSummary = {
    ok,
    preset: env.REALFAKE_PRESET,
    startedAt: startedAt.toISOString(),
    seconds: +((Date.now() - startedAt.getTime()) / 1000).toFixed(1),
    notebooks: statuses,
  };
  writeJsonAtomic(paths.runFile, summary);
  return summary;
}

/** Empties outputs and execution counts in place; returns the notebooks that changed. */
export function clearOutputs(paths = notebookRunnerPaths()): string[] {
  const changed: string[] = [];
  for (const name of fs
    .readdirSync(paths.notebooks)
    .filter((f) => f.endsWith('.ipynb'))
    .sort()) {
    const file = path.join(paths.notebooks, name);
    const text = fs.readFileSync(file, 'utf8');
    const nb = JSON.parse(text);
    for (const cell of nb.cells) {
      if (cell.cell_type !== 'code') continue;
      cell.outputs = [];
      cell.execution_count = null;
      delete cell.metadata?.execution;
    }
    const cleared = JSON.stringify(nb, null, 1) + '\n';
    if (cleared !== text) {
      writeFileAtomic(file, cleared);
      changed.push(file);
    }
  }
  return changed;
}

/** What `open` says about the parameters; a bad params.json is reported, not fatal (it can be fixed in Jupyter). */
export function paramsNote(): string {
  try {
    const params = readNotebookParams();
    const c = params.config;
    const overrides = Object.keys(params.overrides).length ? ` + overrides ${JSON.stringify(params.overrides)}` : '';
    return (
      `parameters: ${params.file}: preset "${params.preset}" (${c.imageSize}px, ${c.limitPerClass ?? 'all'} images per class, ${c.epochs} epochs)${overrides}\n` +
      (params.preset === 'study' ? '' : 'full study: set "preset": "study" in notebooks/params.json (hours on CPU)\n') +
      '03_training prints its measured time estimate before it trains\n'
    );
  } catch (err) {
    return `parameters: ${(err as Error).message}\n`;
  }
}

function openJupyter(args: string[], paths = notebookRunnerPaths()): void {
  const lab = findJupyterPython(['jupyterlab']);
  const python = lab ?? findJupyterPython(['notebook']);
  if (!python) throw new Error(`no Python with JupyterLab or Notebook found: ${JUPYTER_INSTALL_HINT}`);
  const env = ensureKernel(python, paths);
  const app = lab ? 'jupyterlab' : 'notebook';
  process.stdout.write(paramsNote());
  process.stdout.write(
    `starting ${lab ? 'JupyterLab' : 'Jupyter Notebook'} in ${paths.notebooks} (kernel: TypeScript / tslab; Ctrl-C to stop)\n`,
  );
  // Jupyter refuses to run as root without --allow-root (containers, CI machines).
  const rootFlag = process.getuid?.() === 0 && !args.includes('--allow-root') ? ['--allow-root'] : [];
  const child = spawn(python, ['-m', app, `--notebook-dir=${paths.notebooks}`, ...rootFlag, ...args], {
    env,
    stdio: 'inherit',
  });
  child.on('exit', (code) => process.exit(code ?? 1));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
}

function main(argv: string[]): void {
  const [command, ...rest] = argv;
  try {
    if (command === 'run') {
      const summary = runNotebooks(rest.length ? rest : NOTEBOOKS);
      const outputs = path.relative(process.cwd(), notebookRunnerPaths().outputs) || '.';
      process.stdout.write(
        `${summary.ok ? 'all notebooks ran' : 'notebook run FAILED'} in ${summary.seconds.toFixed(1)} s; executed notebooks and HTML in ${outputs}/\n`,
      );
      process.exit(summary.ok ? 0 : 1);
    } else if (command === 'open') {
      openJupyter(rest);
    } else if (command === 'clear') {
      const changed = clearOutputs();
      process.stdout.write(
        changed.length
          ? `cleared outputs of ${changed.map((f) => path.basename(f)).join(', ')}\n`
          : 'no notebook had outputs\n',
      );
    } else {
      process.stderr.write('usage: notebooks.js run [notebook...] | open [jupyter args...] | clear\n');
      process.exit(2);
    }
  } catch (err) {
    process.stderr.write(`notebooks: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

if (require.main === module) main(process.argv.slice(2));
