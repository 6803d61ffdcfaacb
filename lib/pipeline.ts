/**
 * The main job (`npm start` / `realfake run`): find data, preprocess (cached), train, evaluate on the held-back
 * split, predict two held-back sample images, summarise.
 *
 * Data, in order of preference:
 *   data/real + data/fake            your own images
 *   data/kaggle/real + data/kaggle/fake   the study's data (`realfake data kaggle`)
 *   data/synth                        the embedded synthetic smoke-test set, generated on first use
 */
import * as path from 'path';
import type { Config } from './config';
import { describeBackend, BackendInfo } from './backend/backend';
import { evaluateRun, RunEvaluation } from './eval/evaluate';
import { trainRun, TrainRunOptions } from './train/experiment';
import { listImageFiles } from './data/image-files';
import { loadEngine } from './infer/onnx-engine';
import { Prediction, Predictor } from './infer/predict';
import { datasetCacheIsFresh, preprocessFolders } from './data/preprocess';
import { DEFAULT_SYNTH_DIFFICULTY, generateSynthDataset, synthDatasetIsFresh, SynthOptions } from './data/synth';
import type { Callback } from './train/callbacks';

export interface DataSource {
  kind: 'user' | 'kaggle' | 'synthetic' | 'synthetic-study';
  realDir: string;
  fakeDir: string;
}

function hasImages(dir: string): boolean {
  try {
    return listImageFiles(dir).length > 0;
  } catch {
    return false;
  }
}

/** The first of data/{real,fake}, data/kaggle/{real,fake} whose two folders both hold images; else null. */
export function findImageData(dataRoot = 'data'): DataSource | null {
  const candidates: DataSource[] = [
    { kind: 'user', realDir: path.join(dataRoot, 'real'), fakeDir: path.join(dataRoot, 'fake') },
    { kind: 'kaggle', realDir: path.join(dataRoot, 'kaggle', 'real'), fakeDir: path.join(dataRoot, 'kaggle', 'fake') },
  ];
  return candidates.find((c) => hasImages(c.realDir) && hasImages(c.fakeDir)) ?? null;
}

/** data/synth (or data/<folder>), (re)generated when missing or made with other settings. */
export async function ensureSynthData(dataRoot: string, params: Omit<SynthOptions, 'out'>, log: (line: string) => void, folder = 'synth'): Promise<DataSource> {
  const out = path.join(dataRoot, folder);
  const source: DataSource = { kind: 'synthetic', realDir: path.join(out, 'real'), fakeDir: path.join(out, 'fake') };
  if (!synthDatasetIsFresh({ out, ...params })) {
    log(`generating the synthetic smoke-test dataset (${params.count} + ${params.count} images, ${params.size}px) in ${out}`);
    await generateSynthDataset({ out, ...params });
  }
  return source;
}

/**
 * The images a run uses: data/real + data/fake, else data/kaggle/{real,fake}, else the synthetic set
 * (generated on first use, at the config's image size, with as many images per class as the limit asks).
 */
export async function resolveDataSource(config: Config, dataRoot: string, log: (line: string) => void): Promise<DataSource> {
  const found = findImageData(dataRoot);
  if (found) return found;
  const count = config.limitPerClass ?? 300;
  return ensureSynthData(dataRoot, { count, size: config.imageSize, seed: config.seed, difficulty: DEFAULT_SYNTH_DIFFICULTY }, log);
}

/** A preprocessed copy of `source` for this config, reused while the sources and settings are unchanged. */
export async function ensureDataset(source: DataSource, config: Config, dataRoot: string, log: (line: string) => void): Promise<string> {
  const limit = config.limitPerClass === null ? 'all' : `${config.limitPerClass}`;
  const harmonized = config.harmonize ? '-harmonized' : '';
  const out = path.join(dataRoot, 'cache', `${source.kind}-${config.imageSize}px-${config.resize}${harmonized}-${limit}`);
  const options = {
    realDir: source.realDir,
    fakeDir: source.fakeDir,
    out,
    size: config.imageSize,
    resize: config.resize,
    harmonize: config.harmonize,
    limitPerClass: config.limitPerClass,
  };
  if (datasetCacheIsFresh(options)) {
    log(`preprocessed data: ${out} (cached)`);
  } else {
    const result = await preprocessFolders({ ...options, onProgress: (p) => p.status === 'skipped' && log(`skipped ${p.file}: ${p.reason}`) });
    log(result.summary);
  }
  return out;
}

export interface PipelineOptions {
  config: Config;
  preset: string;
  dataRoot?: string;
  runsDir?: string;
  callbacks?: Callback[];
  makeStepper?: TrainRunOptions['makeStepper'];
  log?: (line: string) => void;
}

export interface PipelineResult {
  source: DataSource;
  dataDir: string;
  runDir: string;
  backend: BackendInfo;
  evaluation: RunEvaluation;
  samples: Prediction[];
  seconds: number;
}

export async function runPipeline(options: PipelineOptions): Promise<PipelineResult> {
  const started = Date.now();
  const { config } = options;
  const dataRoot = options.dataRoot ?? 'data';
  const log = options.log ?? ((line: string) => process.stdout.write(line + '\n'));
  const source = await resolveDataSource(config, dataRoot, log);
  log(source.kind === 'synthetic'
    ? `data: synthetic smoke-test faces in ${path.dirname(source.realDir)} (put images in ${dataRoot}/real and ${dataRoot}/fake to use your own)`
    : `data: ${source.realDir} and ${source.fakeDir}`);
  const dataDir = await ensureDataset(source, config, dataRoot, log);
  const trained = await trainRun({ dataDir, config, preset: options.preset, runsDir: options.runsDir, callbacks: options.callbacks, makeStepper: options.makeStepper, log });
  const evaluation = await evaluateRun(trained.run.dir);
  // Two held-back images the model never trained on: the first real and the first fake of the evaluated split.
  const sampleFiles = [0, 1]
    .map((label) => evaluation.predictions.find((p) => p.label === label)?.file)
    .filter((f): f is string => f !== undefined);
  const predictor = await Predictor.fromRun(trained.run.dir, (dir) => loadEngine(dir, 'auto'));
  const { predictions: samples } = await predictor.predictFiles(sampleFiles);
  await predictor.dispose();
  return { source, dataDir, runDir: trained.run.dir, backend: trained.backend, evaluation, samples, seconds: (Date.now() - started) / 1000 };
}

export function formatPipelineSummary(result: PipelineResult): string {
  const m = result.evaluation.metrics;
  const f4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : 'n/a');
  const rows: Array<[string, string]> = [
    ['backend', describeBackend(result.backend)],
    ['data', `${result.source.kind} (${result.dataDir})`],
    ['evaluated on', `${m.split} split, ${m.n} held-back images`],
    ['inference', result.evaluation.engineNote.replace(/^engine: /, '')],
    ['accuracy', f4(m.accuracy)],
    ['precision (fake)', f4(m.precision)],
    ['recall (fake)', f4(m.recall)],
    ['f1', f4(m.f1)],
    ['auc', f4(m.auc)],
    ['confusion', `TP ${m.confusion.tp}  FP ${m.confusion.fp}  FN ${m.confusion.fn}  TN ${m.confusion.tn}`],
    ...result.samples.map((s): [string, string] => [`predict ${path.basename(s.file)}`, `${s.verdict} (${(s.confidence * 100).toFixed(1)}%)`]),
    ['run folder', result.runDir],
    ['figures', result.evaluation.files.filter((f) => /\.(html|png)$/.test(f)).map((f) => path.basename(f)).join(', ')],
    ['figure note', result.evaluation.figureNote],
    ['wall time', `${result.seconds.toFixed(1)} s`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}
