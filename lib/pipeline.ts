/**
 * The main job (`npm start` / `realfake run`): find data, preprocess (cached), train, evaluate on the held-back
 * split, predict two held-back sample images, summarise.
 *
 * Data (lib/data/sources.ts): yours in data/real + data/fake, else the study's in data/kaggle, else the
 * embedded synthetic set (never for the study's preset unless allowSynthetic); preprocessed once into the cache (lib/data/dataset-cache.ts), shared with the notebooks.
 */
import * as path from 'path';
import type { Config } from './config';
import { describeBackend, BackendInfo } from './backend/backend';
import { evaluateRun, RunEvaluation } from './eval/evaluate';
import { cardSummary } from './eval/model-card-text';
import { metricsTableRows } from './eval/tables';
import { formatSourceTable, hasSeveralSources } from './eval/per-source';
import { trainRun, TrainRunOptions } from './train/experiment';
import { ensureDataset } from './data/dataset-cache';
import { DEFAULT_DATA_ROOT, resolveDataSource, type DataSource } from './data/sources';
import { Prediction, Predictor } from './infer/predict';
import type { Callback } from './train/callbacks';

export interface PipelineOptions {
  config: Config;
  preset: string;
  dataRoot?: string;
  runsDir?: string;
  callbacks?: Callback[];
  makeStepper?: TrainRunOptions['makeStepper'];
  log?: (line: string) => void;
  /** Train on the synthetic stand-in when no images are found, even with the study's preset (which refuses it). */
  allowSynthetic?: boolean;
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
  const dataRoot = options.dataRoot ?? DEFAULT_DATA_ROOT;
  const log = options.log ?? ((line: string) => process.stdout.write(line + '\n'));
  const source = await resolveDataSource(config, dataRoot, log, {
    preset: options.preset,
    allowSynthetic: options.allowSynthetic,
  });
  log(
    source.kind === 'synthetic'
      ? `data: synthetic smoke-test faces in ${path.dirname(source.realDir)} (put images in ${dataRoot}/real and ${dataRoot}/fake to use your own)`
      : `data: ${source.realDir} and ${source.fakeDir}`,
  );
  const dataDir = await ensureDataset(source, config, dataRoot, log);
  const trained = await trainRun({
    dataDir,
    config,
    preset: options.preset,
    runsDir: options.runsDir,
    callbacks: options.callbacks,
    makeStepper: options.makeStepper,
    log,
  });
  const evaluation = await evaluateRun(trained.run.dir);
  // Two held-back images the model never trained on: the first real and the first fake of the evaluated split.
  const sampleFiles = [0, 1]
    .map((label) => evaluation.predictions.find((p) => p.label === label)?.file)
    .filter((f): f is string => f !== undefined);
  const predictor = await Predictor.fromRun(trained.run.dir);
  let samples: Prediction[];
  try {
    samples = (await predictor.predictFiles(sampleFiles)).predictions;
  } finally {
    await predictor.dispose();
  }
  return {
    source,
    dataDir,
    runDir: trained.run.dir,
    backend: trained.backend,
    evaluation,
    samples,
    seconds: (Date.now() - started) / 1000,
  };
}

export function formatPipelineSummary(result: PipelineResult): string {
  const m = result.evaluation.metrics;
  const rows: Array<[string, string]> = [
    ['backend', describeBackend(result.backend)],
    ['data', `${result.source.kind} (${result.dataDir})`],
    ['evaluated on', `${m.split} split, ${m.n} held-back images`],
    ['inference', result.evaluation.engineNote.replace(/^engine: /, '')],
    // The same metrics table as `realfake evaluate` and notebook 04 (lib/eval/tables.ts), without the image count.
    ...metricsTableRows(m)
      .slice(1)
      // With its 95 % bootstrap interval (evaluate stores them in metrics.json).
      .map((r): [string, string] => [r.metric, r.interval ? `${r.value}  95 % ${r.interval}` : r.value]),
    // Where the model works and where not, one source at a time (lib/eval/per-source.ts).
    ...(hasSeveralSources(m.perSource)
      ? formatSourceTable(m.perSource)
          .split('\n')
          .map((line, i): [string, string] => [i ? '' : 'per source', line])
      : []),
    // The verdict policy and what the model was not validated on (lib/eval/model-card.ts, model-card.md).
    ...(result.evaluation.card
      ? cardSummary(result.evaluation.card)
          .split('\n')
          .map((line, i): [string, string] => [i ? '' : 'model card', line])
      : []),
    ...result.samples.map((s): [string, string] => [
      `predict ${path.basename(s.file)}`,
      `${s.verdict} (${(s.confidence * 100).toFixed(1)}%)`,
    ]),
    ['run folder', result.runDir],
    [
      'figures',
      result.evaluation.files
        .filter((f) => /\.(html|png)$/.test(f))
        .map((f) => path.basename(f))
        .join(', '),
    ],
    ['figure note', result.evaluation.figureNote],
    ['wall time', `${result.seconds.toFixed(1)} s`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}
