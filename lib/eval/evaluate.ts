/**
 * Evaluation of a trained run: scores on the held-back split (test when the run has one, else validation),
 * or on another preprocessed dataset; metrics.json, predictions.csv and the figures.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { HistoryData } from '../runs/history';
import { loadDataset } from '../data/dataset';
import { csvField, readJson, storedPath, writeFileAtomic } from '../files';
import { computeMetrics, Metrics, metricsToJson } from '../metrics/metrics';
import type { ScoringMode } from '../config';
import { loadScoringEngine } from '../infer/scoring-engine';
import { scoreSourceImages } from './source-scoring';
import { metricIntervals, type MetricIntervals } from './bootstrap';
import { hasSeveralSources, perSourceMetrics, type SourceMetrics } from './per-source';
import { applyTemperature, fitTemperature } from './calibration';
import { buildModelCard, type ModelCard } from './model-card';
import { writeModelCard } from './model-card-text';
import { pickUncertainBand } from '../infer/uncertain-band';
import { DEFAULT_ENGINE, EngineChoice } from '../infer/onnx-engine';
import {
  confusionMatrixFigure,
  Figure,
  lossAccuracyFigures,
  perSourceFigure,
  precisionRecallFigure,
  rocFigure,
  writeFigures,
} from '../viz/plots';
import type { InferenceEngine } from '../infer/engine';
import { checkRunDataset, openRun } from '../runs/runs';
import { ImageData, scaledRows } from '../data/pixels';

export type EvaluatedSplit = 'val' | 'test' | 'external';

/** How the images were scored (metrics.json `scoring`): the mode, flips, ensemble size, and for tiles/native what was done. */
export interface ScoringRecord {
  mode: ScoringMode;
  ttaFlip: boolean;
  /** Runs whose scores were averaged (1: this run alone). */
  models: number;
  /** tiles/native: images too small to tile, scored resized instead; tiles scored in all. */
  resizedFallback?: number;
  tiles?: number;
}

export interface RunEvaluation {
  metrics: Metrics & {
    split: EvaluatedSplit;
    dataDir: string;
    intervals: MetricIntervals;
    /** Per source (lib/eval/per-source.ts): recall or specificity, and AUC, with intervals. */
    perSource: SourceMetrics[];
    temperature?: number;
    scoring: ScoringRecord;
  };
  /** Per image: its file, label, source (lib/data/dataset.ts sourceOf) and pFake. */
  predictions: Array<{ file: string; label: number; source: string; pFake: number }>;
  figures: Record<string, Figure>;
  files: string[];
  /** Whether PNGs were written, or why not. */
  figureNote: string;
  /** Which inference engine scored the images, and why. */
  engineNote: string;
  /** The model card (lib/eval/model-card.ts), for the run's own held-back split without a temperature override. */
  card?: ModelCard;
}

/**
 * The figures of a run: training curves (if there is a history), confusion matrix, ROC, precision-recall, and
 * per-source bars when some class has several sources (with one source per class the bars repeat the overall
 * specificity, recall and AUC, and each figure page costs ~4.8 MB of inlined plotly.js).
 */
export function runFigures(
  metrics: Metrics & { perSource?: SourceMetrics[] },
  history?: HistoryData,
): Record<string, Figure> {
  const figures: Record<string, Figure> = {};
  if (history && history.epoch.length) Object.assign(figures, lossAccuracyFigures(history));
  figures.confusion_matrix = confusionMatrixFigure(metrics.confusion);
  figures.roc = rocFigure(metrics.roc, metrics.auc);
  const prevalence = (metrics.confusion.tp + metrics.confusion.fn) / Math.max(metrics.n, 1);
  figures.precision_recall = precisionRecallFigure(metrics.pr, metrics.averagePrecision, prevalence);
  if (metrics.perSource && hasSeveralSources(metrics.perSource))
    figures.per_source = perSourceFigure(metrics.perSource);
  return figures;
}

/** predictions.csv: file,label,source,pFake, one row per scored image (lib/eval/compare.ts parsePredictionsCsv reads it). */
export function predictionsCsv(rows: Array<{ file: string; label: number; source: string; pFake: number }>): string {
  const lines = rows.map((p) => `${csvField(p.file)},${p.label},${csvField(p.source)},${p.pFake}`);
  return ['file,label,source,pFake', ...lines].join('\n') + '\n';
}

/** pFake for the given dataset rows, scored in batches by any inference engine. */
export async function scoreRows(
  engine: InferenceEngine,
  data: ImageData,
  rows: number[],
  batchSize: number,
): Promise<Float32Array> {
  const scores = new Float32Array(rows.length);
  for (let start = 0; start < rows.length; start += batchSize) {
    const chunk = rows.slice(start, start + batchSize);
    scores.set(await engine.scores(scaledRows(data, chunk), chunk.length, data.size), start);
  }
  return scores;
}

/** `engine` picks the inference engine (lib/infer/onnx-engine.ts): ONNX when available, else tfjs, by default. */
/**
 * `threshold` replaces the run's threshold (e.g. one `analyze` picked on validation); `temperature` applies
 * temperature scaling (lib/eval/calibration.ts) to pFake first. Bootstrap intervals (`resamples`, default 1000,
 * seeded with the run's seed) are stored in metrics.json beside the point estimates. `ttaFlip` and `ensemble`
 * average flipped images' and other runs' scores in (lib/infer/averaging.ts). `scoring` (default: the run's
 * config, else 'resize') 'tiles' or 'native' re-reads the rows' original files (lib/eval/source-scoring.ts).
 */
export async function evaluateRun(
  runDir: string,
  options: {
    dataDir?: string;
    writeFiles?: boolean;
    /** Write the figures with the files (default true; cross-validation's folds skip them). */
    figures?: boolean;
    /** Also write each figure as SVG beside its PNG (vector figures for papers). */
    svg?: boolean;
    engine?: EngineChoice;
    ttaFlip?: boolean;
    ensemble?: string[];
    scoring?: ScoringMode;
    threshold?: number;
    temperature?: number;
    resamples?: number;
  } = {},
): Promise<RunEvaluation> {
  const run = openRun(runDir);
  const external = options.dataDir !== undefined;
  const dataDir = options.dataDir ?? run.meta.dataDir;
  const dataset = loadDataset(dataDir);
  if (!external) checkRunDataset(run, dataset, dataDir);
  const scoring = options.scoring ?? run.config.scoring ?? 'resize';
  // tiles/native read the originals, so the arrays' size does not matter then.
  if (scoring === 'resize' && dataset.size !== run.config.imageSize) {
    throw new Error(
      `${dataDir}: images are ${dataset.size}px but the run's model takes ${run.config.imageSize}px (preprocess with --size ${run.config.imageSize})`,
    );
  }
  const split: EvaluatedSplit = external ? 'external' : run.split.test.length > 0 ? 'test' : 'val';
  const rows = external ? Array.from({ length: dataset.n }, (_, i) => i) : run.split[split as 'val' | 'test'];
  let engineNote = '';
  // Flip averaging: the run's config says (ttaFlip), an explicit option overrides; ensemble members average in.
  const ttaFlip = options.ttaFlip ?? run.config.ttaFlip ?? false;
  const members = options.ensemble ?? [];
  const engine = await loadScoringEngine(runDir, {
    engine: options.engine ?? DEFAULT_ENGINE,
    scoring,
    ttaFlip,
    ensemble: members,
    onNote: (line) => (engineNote = line),
  });
  if (ttaFlip || members.length) engineNote += `; scores averaged: ${engine.name}`;
  const record: ScoringRecord = { mode: scoring, ttaFlip, models: 1 + members.length };
  // The model card needs the validation split scored the same way (no card for other data or another temperature).
  const withCard = !external && options.temperature === undefined;
  const score = async (these: number[], note: boolean): Promise<Float32Array> => {
    if (scoring === 'resize') return scoreRows(engine, dataset, these, 64);
    const settings = { imageSize: run.config.imageSize, resize: run.config.resize, scoring };
    const source = await scoreSourceImages(engine, dataset, these, settings);
    if (note) {
      Object.assign(record, { resizedFallback: source.record.resizedFallback, tiles: source.record.tiles });
      const tiles = scoring === 'tiles' ? `${source.record.tiles} tiles, ` : '';
      engineNote += `; scoring ${scoring}: ${these.length} originals re-read, ${tiles}${source.record.resizedFallback} too small (resized)`;
    }
    return source.scores;
  };
  let scores: Float32Array;
  let valScores: Float32Array | undefined;
  try {
    scores = await score(rows, true);
    if (withCard) valScores = split === 'val' ? scores : await score(run.split.val, false);
  } finally {
    await engine.dispose();
  }
  const rawScores = scores;
  if (options.temperature !== undefined) scores = scores.map((p) => applyTemperature(p, options.temperature as number));
  const labels = Uint8Array.from(rows, (row) => dataset.y[row]);
  const threshold = options.threshold ?? run.config.threshold;
  const bootstrap = { resamples: options.resamples ?? 1000, seed: run.config.seed };
  const intervals = metricIntervals(labels, scores, threshold, bootstrap);
  const sources = rows.map((row) => dataset.sources[row]);
  const metrics = {
    ...computeMetrics(labels, scores, threshold),
    split,
    dataDir: path.resolve(dataDir),
    intervals,
    perSource: perSourceMetrics(labels, scores, sources, threshold, bootstrap),
    temperature: options.temperature,
    scoring: record,
  };
  const card =
    withCard && valScores
      ? runModelCard(run, dataset, valScores, bootstrap, {
          split,
          threshold,
          labels,
          rawScores,
          perSource: metrics.perSource,
        })
      : undefined;
  const predictions = rows.map((row, i) => ({
    file: dataset.files[row],
    label: labels[i],
    source: sources[i],
    pFake: scores[i],
  }));
  const historyFile = path.join(runDir, 'history.json');
  const history = fs.existsSync(historyFile) ? readJson<HistoryData>(historyFile) : undefined;
  const figures = runFigures(metrics, history);
  let files: string[] = [];
  let figureNote = 'figures not written';
  if (options.writeFiles !== false) {
    const suffix = external ? '.external' : '';
    const metricsFile = path.join(runDir, `metrics${suffix}.json`);
    // The dataset folder is stored relative to the run folder, like run.json's (resolved by whoever reads it).
    const stored: Metrics = { ...metrics, dataDir: storedPath(metrics.dataDir, runDir) } as Metrics;
    writeFileAtomic(metricsFile, metricsToJson(stored));
    const csv = predictionsCsv(predictions);
    const predictionsFile = path.join(runDir, `predictions${suffix}.csv`);
    writeFileAtomic(predictionsFile, csv);
    const written =
      options.figures === false
        ? { files: [], note: 'figures not written (asked not to)' }
        : await writeFigures(figures, path.join(runDir, external ? 'figures-external' : 'figures'), {
            svg: options.svg,
          });
    files = [metricsFile, predictionsFile, ...(card ? writeModelCard(runDir, card) : []), ...written.files];
    figureNote = written.note;
  }
  return { metrics, predictions, figures, files, figureNote, engineNote, card };
}

/**
 * The run's model card from its validation scores: the temperature fitted there (1 when validation lacks a
 * class, or the fit runs to the edge of its range, where it means nothing), the uncertain band picked on the
 * calibrated probabilities, and per-source metrics at `test.threshold` on both splits.
 */
function runModelCard(
  run: ReturnType<typeof openRun>,
  dataset: ReturnType<typeof loadDataset>,
  valScores: Float32Array,
  bootstrap: { resamples: number; seed: number },
  test: { split: string; threshold: number; labels: Uint8Array; rawScores: Float32Array; perSource: SourceMetrics[] },
): ModelCard {
  const valLabels = Uint8Array.from(run.split.val, (row) => dataset.y[row]);
  const valSources = run.split.val.map((row) => dataset.sources[row]);
  let temperature = 1;
  let temperatureNote = 'none: validation lacks a class';
  if (valLabels.includes(0) && valLabels.includes(1)) {
    const fit = fitTemperature(valLabels, valScores);
    const atEdge = fit.temperature > 50 || fit.temperature < 0.02;
    temperature = atEdge ? 1 : fit.temperature;
    temperatureNote = atEdge
      ? `none: the fit ran to the edge of its range (${fit.temperature.toFixed(3)}), so calibration is undefined here`
      : `fitted on ${fit.n} validation images, NLL ${fit.nllBefore.toFixed(4)} -> ${fit.nllAfter.toFixed(4)}`;
  }
  const band = pickUncertainBand(valLabels, valScores, temperature);
  return buildModelCard({
    run,
    labels: dataset.y,
    sources: dataset.sources,
    policy: { threshold: test.threshold, temperature, band: band.band },
    band,
    temperatureNote,
    valPerSource: perSourceMetrics(valLabels, valScores, valSources, test.threshold, bootstrap),
    test,
  });
}
