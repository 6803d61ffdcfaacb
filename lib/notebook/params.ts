/**
 * The notebooks' one source of parameters: notebooks/params.json, read by the first cell of every notebook.
 *
 *   { "preset": "smoke", "overrides": { "epochs": 20 } }
 *
 * The config is the study's defaults < the preset < the overrides (lib/config.ts resolveConfig): no value is
 * ever replaced behind the researcher's back. REALFAKE_PRESET (headless runs, CI) replaces the file's preset and
 * REALFAKE_PARAMS points at another file. A notebook that loads a dataset or a run checks it was made with
 * these parameters and, when not, says which differ and which notebook to re-run.
 */
import * as fs from 'fs';
import * as path from 'path';
import { presetNamed, resolveConfig, STUDY_DEFAULTS, type Config, type PresetName } from '../config';
import { projectRoot, readJson, writeJsonAtomic } from '../files';
import { openRun, trainedRuns } from '../runs/runs';

export interface NotebookPaths {
  /** The realfake package folder. */
  root: string;
  /** Image folders and the preprocessed-dataset cache (data/cache). */
  data: string;
  /** Run folders (outputs/runs). */
  runs: string;
}

/**
 * Absolute project paths: notebooks run with notebooks/ as working directory, the CLI from the project root.
 * REALFAKE_DATA_ROOT and REALFAKE_RUNS_ROOT point the notebooks at other folders (tests use them).
 */
export function notebookPaths(): NotebookPaths {
  const root = projectRoot();
  return {
    root,
    data: path.resolve(process.env.REALFAKE_DATA_ROOT || path.join(root, 'data')),
    runs: path.resolve(process.env.REALFAKE_RUNS_ROOT || path.join(root, 'outputs', 'runs')),
  };
}

/** notebooks/params.json as written on disk. */
export interface ParamsFile {
  preset: string;
  overrides?: Partial<Config>;
  [comment: string]: unknown;
}

export interface NotebookParams {
  file: string;
  preset: PresetName;
  /** Where the preset came from: the file, or REALFAKE_PRESET. */
  presetFrom: 'params.json' | 'REALFAKE_PRESET';
  overrides: Partial<Config>;
  config: Config;
}

/** REALFAKE_PARAMS, else <project>/notebooks/params.json. */
export function paramsFile(): string {
  return process.env.REALFAKE_PARAMS || path.join(projectRoot(), 'notebooks', 'params.json');
}

/** Reads and resolves the parameters file; a bad value is an error naming the file and the field. */
export function readNotebookParams(file = paramsFile()): NotebookParams {
  const raw = readJson<ParamsFile>(file, 'notebook parameters');
  const fromEnv = process.env.REALFAKE_PRESET;
  let preset: PresetName;
  try {
    preset = presetNamed(fromEnv || raw.preset || 'study', fromEnv ? 'REALFAKE_PRESET' : 'preset');
  } catch (err) {
    throw new Error(`${fromEnv ? '' : `${file}: `}${(err as Error).message}`);
  }
  const overrides = raw.overrides ?? {};
  let config: Config;
  try {
    config = resolveConfig({ preset, overrides });
  } catch (err) {
    throw new Error(`${file}: overrides: ${(err as Error).message}`);
  }
  return { file, preset, presetFrom: fromEnv ? 'REALFAKE_PRESET' : 'params.json', overrides, config };
}

/**
 * Saves changes into the parameters file (merged into its overrides; `preset` switches the preset), so every
 * notebook uses them from its next run; returns the new parameters. Values are checked before anything is written.
 */
export function editNotebookParams(
  changes: Partial<Config> & { preset?: string },
  file = paramsFile(),
): NotebookParams {
  const raw = fs.existsSync(file) ? readJson<ParamsFile>(file, 'notebook parameters') : { preset: 'smoke' };
  const { preset, ...values } = changes;
  const next: ParamsFile = {
    ...raw,
    preset: preset ? presetNamed(preset) : raw.preset,
    overrides: { ...raw.overrides, ...values },
  };
  resolveConfig({ preset: next.preset, overrides: next.overrides }); // throws on a bad value, before writing
  writeJsonAtomic(file, next);
  return readNotebookParams(file);
}

/** Setting | value | study, for the given settings; differences from the study are marked. */
export function configRows(
  config: Config,
  keys: ReadonlyArray<keyof Config> = Object.keys(STUDY_DEFAULTS) as Array<keyof Config>,
): Array<Record<string, string>> {
  const show = (v: unknown) => (v === null ? 'all' : String(v));
  return keys.map((key) => ({
    setting: key,
    value: show(config[key]),
    study: show(STUDY_DEFAULTS[key]),
    differs: config[key] === STUDY_DEFAULTS[key] ? '' : '≠ study',
  }));
}

/** Settings that may differ between the parameters and a run without changing what the run is. */
const IRRELEVANT_TO_A_RUN: ReadonlySet<string> = new Set(['workers']);

/** The settings (other than the thread count) whose values differ, as "name: a ≠ b". */
export function configDifferences(wanted: Config, actual: Config): string[] {
  const keys = new Set([...Object.keys(wanted), ...Object.keys(actual)]);
  const show = (v: unknown) => (v === undefined ? '(unset)' : JSON.stringify(v));
  return [...keys]
    .filter((key) => !IRRELEVANT_TO_A_RUN.has(key))
    .filter(
      (key) =>
        JSON.stringify((wanted as unknown as Record<string, unknown>)[key]) !==
        JSON.stringify((actual as unknown as Record<string, unknown>)[key]),
    )
    .map(
      (key) =>
        `${key}: params ${show((wanted as unknown as Record<string, unknown>)[key])} ≠ run ${show((actual as unknown as Record<string, unknown>)[key])}`,
    );
}

/**
 * The run a notebook shows: `runDir` if given, else the newest trained run made with these parameters. Either
 * way the run's config must match the parameters; otherwise the error lists the differences and what to re-run.
 */
export function requireRunFor(config: Config, runDir: string | null, runsRoot: string): string {
  if (runDir) {
    const differences = configDifferences(config, openRun(runDir).config);
    if (differences.length) {
      throw new Error(
        `${runDir} was trained with other parameters (${differences.join('; ')}): use a run made with these parameters, or change notebooks/params.json to match`,
      );
    }
    return runDir;
  }
  const runs = trainedRuns(runsRoot);
  if (runs.length === 0)
    throw new Error(`no trained run in ${runsRoot}: run notebooks/03_training.ipynb first (or \`realfake train\`)`);
  const match = runs.find((dir) => {
    try {
      return configDifferences(config, openRun(dir).config).length === 0;
    } catch {
      return false; // unreadable or older-format run: not a match
    }
  });
  if (match) return match;
  let newest = '';
  try {
    newest = ` (the newest, ${path.basename(runs[0])}, differs in ${configDifferences(config, openRun(runs[0]).config).join('; ')})`;
  } catch (err) {
    newest = ` (the newest is unreadable: ${(err as Error).message})`;
  }
  throw new Error(
    `no run in ${runsRoot} was trained with the parameters in notebooks/params.json${newest}: ` +
      'run notebooks/03_training.ipynb again (after 01_preprocessing.ipynb if the data settings changed), or set RUN_DIR',
  );
}
