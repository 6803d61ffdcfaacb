/**
 * Run folders: everything one training run produced, under outputs/runs/<id>/.
 *   config.json     the fully resolved Config (feed it back with --config to repeat the run)
 *   run.json        where the data came from (dataDir stored relative to the run folder, resolved on read) and
 *                   its fingerprint, the backend, times, split sizes
 *   split.json      the row indices of the train / validation / test splits
 *   history.csv/json, checkpoint.json, model/ (best val_accuracy, tfjs layers format)
 *   metrics.json, predictions.csv, figures/     written by evaluate
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Config } from '../config';
import { validateConfig } from '../config';
import { loadDataset, type Dataset } from '../data/dataset';
import { projectRoot, readJson, resolveStoredPath, storedPath, writeJsonAtomic } from '../files';
import type { SplitIndices } from '../random';

export const DEFAULT_RUNS_DIR = path.join('outputs', 'runs');

export interface RunMeta {
  id: string;
  createdAt: string;
  /** The preprocessed dataset folder the run trained on (absolute in memory; relative to the run folder on disk). */
  dataDir: string;
  /** dataset.json's fingerprint of that dataset (sha256 of its pixels and labels): split.json indexes its rows. */
  datasetFingerprint: string;
  preset: string;
  backend?: string;
  workers?: number;
  realfakeVersion: string;
  splitSizes: { train: number; val: number; test: number };
  finishedAt?: string;
  stopReason?: string;
  bestEpoch?: number;
}

export interface Run {
  dir: string;
  config: Config;
  meta: RunMeta;
  split: SplitIndices;
}

function version(): string {
  return readJson<{ version: string }>(path.join(projectRoot(), 'package.json')).version;
}

/** A sortable, readable, unique id: 2026-11-28T03-04-05_smoke (suffixed if taken). */
function newRunId(root: string, preset: string): string {
  const stamp = new Date()
    .toISOString()
    .replace(/\.\d+Z$/, '')
    .replace(/:/g, '-');
  let id = `${stamp}_${preset}`;
  for (let i = 2; fs.existsSync(path.join(root, id)); i++) id = `${stamp}_${preset}-${i}`;
  return id;
}

function writeMeta(dir: string, meta: RunMeta): void {
  writeJsonAtomic(path.join(dir, 'run.json'), { ...meta, dataDir: storedPath(meta.dataDir, dir) });
}

export function createRun(options: {
  root?: string;
  config: Config;
  preset: string;
  dataDir: string;
  datasetFingerprint: string;
  split: SplitIndices;
  backend?: string;
}): Run {
  const root = options.root ?? DEFAULT_RUNS_DIR;
  fs.mkdirSync(root, { recursive: true });
  const id = newRunId(root, options.preset);
  const dir = path.join(root, id);
  fs.mkdirSync(dir);
  const meta: RunMeta = {
    id,
    createdAt: new Date().toISOString(),
    dataDir: path.resolve(options.dataDir),
    datasetFingerprint: options.datasetFingerprint,
    preset: options.preset,
    backend: options.backend,
    workers: options.config.workers,
    realfakeVersion: version(),
    splitSizes: { train: options.split.train.length, val: options.split.val.length, test: options.split.test.length },
  };
  writeJsonAtomic(path.join(dir, 'config.json'), options.config);
  writeMeta(dir, meta);
  writeJsonAtomic(path.join(dir, 'split.json'), options.split);
  return { dir, config: options.config, meta, split: options.split };
}

export function updateRunMeta(run: Run, changes: Partial<RunMeta>): void {
  Object.assign(run.meta, changes);
  writeMeta(run.dir, run.meta);
}

export function openRun(dir: string): Run {
  if (!fs.existsSync(dir)) throw new Error(`${dir}: run folder not found`);
  const meta = readJson<RunMeta>(path.join(dir, 'run.json'), 'run metadata');
  return {
    dir,
    config: validateConfig(readJson<Config>(path.join(dir, 'config.json'), 'run config')),
    meta: { ...meta, dataDir: resolveStoredPath(meta.dataDir, dir) },
    split: readJson<SplitIndices>(path.join(dir, 'split.json'), 'run split'),
  };
}

/** Run folders under `root` that hold a saved model, newest first (ids start with their creation time). */
export function trainedRuns(root: string = DEFAULT_RUNS_DIR): string[] {
  if (!fs.existsSync(root)) return [];
  const ids = fs.readdirSync(root).filter((id) => fs.existsSync(path.join(root, id, 'model', 'model.json')));
  return ids
    .sort()
    .reverse()
    .map((id) => path.join(root, id));
}

/** The newest run folder under `root` that holds a saved model, or null. */
export function latestRun(root: string = DEFAULT_RUNS_DIR): string | null {
  return trainedRuns(root)[0] ?? null;
}

/** `runDir` if given (it must exist), else the newest trained run; an error says what to run when there is none. */
export function requireRun(runDir: string | null, runsRoot: string): string {
  if (runDir) {
    openRun(runDir); // throws "<dir>: run folder not found" with the path
    return runDir;
  }
  const latest = latestRun(runsRoot);
  if (!latest)
    throw new Error(`no trained run in ${runsRoot}: run notebooks/03_training.ipynb first (or \`realfake train\`)`);
  return latest;
}

/**
 * Throws unless `dataset` is the one the run trained on (same fingerprint): split.json holds row numbers, which
 * mean other images in any other dataset, e.g. one preprocessed again after the source folders changed.
 */
export function checkRunDataset(run: Run, dataset: Pick<Dataset, 'info'>, dataDir: string): void {
  if (run.meta.datasetFingerprint === undefined) {
    throw new Error(
      `${path.join(run.dir, 'run.json')}: no datasetFingerprint (written by an older realfake): train the run again`,
    );
  }
  if (dataset.info.fingerprint !== run.meta.datasetFingerprint) {
    throw new Error(
      `${dataDir}: not the dataset run ${run.meta.id} trained on (fingerprint ${dataset.info.fingerprint.slice(0, 12)}, ` +
        `the run's ${run.meta.datasetFingerprint.slice(0, 12)}); its split would name other images: ` +
        'preprocess the same images again or train a new run',
    );
  }
}

/** The dataset a run trained on, checked to be unchanged since. */
export function loadRunDataset(run: Run): Dataset {
  const dataset = loadDataset(run.meta.dataDir);
  checkRunDataset(run, dataset, run.meta.dataDir);
  return dataset;
}

/** Held-back images of a run (its test split, else validation): `perClass` of each class, in row order. */
export function heldBackImages(runDir: string, perClass: number): Array<{ file: string; label: number }> {
  const run = openRun(runDir);
  const dataset = loadRunDataset(run);
  const rows = run.split.test.length ? run.split.test : run.split.val;
  const picked: Array<{ file: string; label: number }> = [];
  for (const label of [0, 1]) {
    picked.push(
      ...rows
        .filter((r) => dataset.y[r] === label)
        .slice(0, perClass)
        .map((r) => ({ file: dataset.files[r], label })),
    );
  }
  return picked;
}
