/**
 * Sweeps: train and evaluate one run per point of a grid of settings (`realfake sweep --set lr=1e-3,1e-4
 * --set epochs=20,40`), then compare them. Resumable: SWEEPDIR/sweep.json records each point's run folder;
 * a point whose run finished training and has metrics.json is kept and skipped when the sweep is started again,
 * an unfinished one is trained anew (its old folder is left as it was). A point that fails is reported and the
 * sweep goes on.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Config, validateConfig } from './config';
import { readJson, writeJsonAtomic } from './files';
import type { Figure } from './viz/plots';
import { evaluateRun } from './eval/evaluate';
import { trainRun, type TrainRunOptions } from './train/experiment';

/** Flag-style names (as `train` takes them) and config names, to config keys. */
export const SWEEP_KEYS: Record<string, keyof Config> = {
  lr: 'learningRate',
  'learning-rate': 'learningRate',
  learningRate: 'learningRate',
  epochs: 'epochs',
  'batch-size': 'batchSize',
  batchSize: 'batchSize',
  size: 'imageSize',
  imageSize: 'imageSize',
  resize: 'resize',
  limit: 'limitPerClass',
  limitPerClass: 'limitPerClass',
  seed: 'seed',
  'split-seed': 'splitSeed',
  splitSeed: 'splitSeed',
  dropout: 'dropout',
  'val-fraction': 'valFraction',
  valFraction: 'valFraction',
  'test-fraction': 'testFraction',
  testFraction: 'testFraction',
  'early-stopping': 'earlyStoppingPatience',
  earlyStoppingPatience: 'earlyStoppingPatience',
  beta1: 'beta1',
  beta2: 'beta2',
};

export interface SweepAxis {
  key: keyof Config;
  values: Array<number | string>;
}

/** "lr=1e-3,1e-4" > { key: 'learningRate', values: [0.001, 0.0001] }. */
export function parseSetArgs(sets: string[]): SweepAxis[] {
  const axes: SweepAxis[] = [];
  for (const set of sets) {
    const m = /^([\w-]+)=(.+)$/.exec(set);
    if (!m) throw new Error(`--set ${set}: expected NAME=V1,V2,... (e.g. lr=1e-3,1e-4)`);
    const key = SWEEP_KEYS[m[1]];
    if (!key)
      throw new Error(`--set ${set}: unknown setting "${m[1]}" (one of: ${Object.keys(SWEEP_KEYS).join(', ')})`);
    if (axes.some((a) => a.key === key)) throw new Error(`--set ${set}: ${key} is set twice`);
    const values = m[2]
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean)
      .map((v) => (key === 'resize' ? v : Number(v)));
    if (values.some((v) => typeof v === 'number' && Number.isNaN(v)))
      throw new Error(`--set ${set}: not a number in ${m[2]}`);
    axes.push({ key, values });
  }
  if (!axes.length) throw new Error('sweep: give at least one --set NAME=V1,V2');
  return axes;
}

/** Every combination of the axes' values (the first axis varies slowest). */
export function gridPoints(axes: SweepAxis[]): Array<Partial<Config>> {
  return axes.reduce<Array<Partial<Config>>>(
    (points, axis) => points.flatMap((p) => axis.values.map((v) => ({ ...p, [axis.key]: v }))),
    [{}],
  );
}

export function pointKey(settings: Partial<Config>): string {
  return Object.entries(settings)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export interface SweepPoint {
  key: string;
  settings: Partial<Config>;
  runDir?: string;
  status: 'pending' | 'done' | 'skipped' | 'failed';
  error?: string;
}

export interface SweepState {
  dataDir: string;
  preset: string;
  base: Config;
  axes: SweepAxis[];
  points: SweepPoint[];
}

export const SWEEP_FILE = 'sweep.json';

/** A run folder counts as finished when training ended (run.json finishedAt) and evaluate wrote metrics.json. */
export function runIsFinished(runDir: string | undefined): boolean {
  if (!runDir || !fs.existsSync(path.join(runDir, 'metrics.json')) || !fs.existsSync(path.join(runDir, 'run.json')))
    return false;
  return Boolean(readJson<{ finishedAt?: string }>(path.join(runDir, 'run.json')).finishedAt);
}

export interface SweepOptions {
  dir: string;
  dataDir: string;
  preset: string;
  base: Config;
  axes: SweepAxis[];
  /** Trains one run into `runsDir` and evaluates it (writing metrics.json); returns the run folder. */
  trainAndEvaluate: (config: Config, runsDir: string) => Promise<string>;
  log?: (line: string) => void;
}

/**
 * The sweep's points, each with the run folder an earlier start of this sweep (SWEEPDIR/sweep.json) made for it,
 * all pending; nothing is trained or written. `runIsFinished(point.runDir)` says which runSweep will keep.
 */
export function planSweep(options: Pick<SweepOptions, 'dir' | 'dataDir' | 'preset' | 'base' | 'axes'>): SweepState {
  const file = path.join(options.dir, SWEEP_FILE);
  const previous = fs.existsSync(file) ? readJson<SweepState>(file, 'sweep state') : null;
  return {
    dataDir: path.resolve(options.dataDir),
    preset: options.preset,
    base: options.base,
    axes: options.axes,
    points: gridPoints(options.axes).map((settings) => {
      const key = pointKey(settings);
      const before = previous?.points.find((p) => p.key === key);
      return { key, settings, runDir: before?.runDir, status: 'pending' as const };
    }),
  };
}

export async function runSweep(options: SweepOptions): Promise<SweepState> {
  const log = options.log ?? (() => undefined);
  fs.mkdirSync(options.dir, { recursive: true });
  const file = path.join(options.dir, SWEEP_FILE);
  const state = planSweep(options);
  const save = () => writeJsonAtomic(file, state);
  save();
  const runsDir = path.join(options.dir, 'runs');
  for (const [i, point] of state.points.entries()) {
    const tag = `sweep ${i + 1}/${state.points.length} (${point.key})`;
    if (runIsFinished(point.runDir)) {
      point.status = 'skipped';
      log(`${tag}: finished before, kept: ${point.runDir}`);
      save();
      continue;
    }
    try {
      const config = validateConfig({ ...options.base, ...point.settings });
      log(`${tag}: training`);
      point.runDir = await options.trainAndEvaluate(config, runsDir);
      point.status = 'done';
      delete point.error;
    } catch (err) {
      point.status = 'failed';
      point.error = (err as Error).message.split('\n')[0];
      log(`${tag}: FAILED: ${point.error}`);
    }
    save();
  }
  return state;
}

/** Parallel coordinates of the swept settings (learning rate on a log10 axis) against a metric per run. */
export function parallelCoordinatesFigure(
  axes: SweepAxis[],
  runs: Array<{ settings: Partial<Config>; value: number }>,
  metric = 'test AUC',
): Figure {
  const dimensions = axes.map((axis) => {
    const raw = runs.map((r) => r.settings[axis.key] as number | string);
    if (axis.values.every((v) => typeof v === 'number')) {
      const log = axis.key === 'learningRate';
      return {
        label: log ? 'log10 learningRate' : axis.key,
        values: raw.map((v) => (log ? Math.log10(v as number) : (v as number))),
      };
    }
    const names = axis.values.map(String);
    return {
      label: axis.key,
      values: raw.map((v) => names.indexOf(String(v))),
      tickvals: names.map((_, i) => i),
      ticktext: names,
    };
  });
  const values = runs.map((r) => (Number.isFinite(r.value) ? r.value : 0.5));
  return {
    data: [
      {
        type: 'parcoords',
        line: {
          color: values,
          colorscale: 'Viridis',
          showscale: true,
          cmin: Math.min(0.5, ...values),
          cmax: 1,
          colorbar: { title: { text: metric } },
        },
        dimensions: [...dimensions, { label: metric, values, range: [Math.min(0.5, ...values), 1] }],
      },
    ],
    layout: {
      title: { text: `Sweep: settings against ${metric}` },
      width: 760,
      height: 440,
      margin: { l: 80, r: 80, t: 80, b: 40 },
    },
  };
}

/** The usual trainAndEvaluate: lib/train/experiment's trainRun, then lib/eval/evaluate's evaluateRun (metrics.json). */
export function trainThenEvaluate(
  dataDir: string,
  preset: string,
  extra: Partial<Pick<TrainRunOptions, 'makeStepper' | 'callbacks' | 'log'>> = {},
): SweepOptions['trainAndEvaluate'] {
  return async (config, runsDir) => {
    const result = await trainRun({ dataDir, config, preset, runsDir, ...extra, makeStepper: extra.makeStepper });
    await evaluateRun(result.run.dir, { engine: 'tfjs' });
    return result.run.dir;
  };
}
