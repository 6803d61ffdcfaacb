/**
 * Run folders: everything one training run produced, under outputs/runs/<id>/.
 *   config.json     the fully resolved Config (feed it back with --config to repeat the run)
 *   run.json        where the data came from, the backend, times, split sizes
 *   split.json      the row indices of the train / validation / test splits
 *   history.csv/json, checkpoint.json, model/ (best val_accuracy, tfjs layers format)
 *   metrics.json, predictions.csv, figures/     written by evaluate
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Config } from '../config';
import { validateConfig } from '../config';
import { projectRoot, readJson, writeJsonAtomic } from '../files';
import type { SplitIndices } from '../random';

export const DEFAULT_RUNS_DIR = path.join('outputs', 'runs');

export interface RunMeta {
  id: string;
  createdAt: string;
  /** The preprocessed dataset folder the run trained on (X.npy, Y.npy, manifest.csv). */
  dataDir: string;
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
  const stamp = new Date().toISOString().replace(/\.\d+Z$/, '').replace(/:/g, '-');
  let id = `${stamp}_${preset}`;
  for (let i = 2; fs.existsSync(path.join(root, id)); i++) id = `${stamp}_${preset}-${i}`;
  return id;
}

export function createRun(options: { root?: string; config: Config; preset: string; dataDir: string; split: SplitIndices; backend?: string }): Run {
  const root = options.root ?? DEFAULT_RUNS_DIR;
  fs.mkdirSync(root, { recursive: true });
  const id = newRunId(root, options.preset);
  const dir = path.join(root, id);
  fs.mkdirSync(dir);
  const meta: RunMeta = {
    id,
    createdAt: new Date().toISOString(),
    dataDir: path.resolve(options.dataDir),
    preset: options.preset,
    backend: options.backend,
    workers: options.config.workers,
    realfakeVersion: version(),
    splitSizes: { train: options.split.train.length, val: options.split.val.length, test: options.split.test.length },
  };
  writeJsonAtomic(path.join(dir, 'config.json'), options.config);
  writeJsonAtomic(path.join(dir, 'run.json'), meta);
  writeJsonAtomic(path.join(dir, 'split.json'), options.split);
  return { dir, config: options.config, meta, split: options.split };
}

export function updateRunMeta(run: Run, changes: Partial<RunMeta>): void {
  Object.assign(run.meta, changes);
  writeJsonAtomic(path.join(run.dir, 'run.json'), run.meta);
}

export function openRun(dir: string): Run {
  if (!fs.existsSync(dir)) throw new Error(`${dir}: run folder not found`);
  return {
    dir,
    config: validateConfig(readJson<Config>(path.join(dir, 'config.json'), 'run config')),
    meta: readJson<RunMeta>(path.join(dir, 'run.json'), 'run metadata'),
    split: readJson<SplitIndices>(path.join(dir, 'split.json'), 'run split'),
  };
}

/** The newest run folder under `root` that holds a saved model, or null. */
export function latestRun(root: string = DEFAULT_RUNS_DIR): string | null {
  if (!fs.existsSync(root)) return null;
  const ids = fs.readdirSync(root).filter((id) => fs.existsSync(path.join(root, id, 'model', 'model.json'))).sort();
  return ids.length ? path.join(root, ids[ids.length - 1]) : null;
}
