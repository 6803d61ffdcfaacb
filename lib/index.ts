/**
 * realfake's public API (package.json "main"/"types"): the pieces a program needs to build datasets, train,
 * evaluate and predict. Notebooks and the CLI import the modules directly; this file only re-exports.
 *
 *   const { initBackend, Predictor } = require('realfake');
 *   await initBackend();
 *   const predictor = await Predictor.fromRun('outputs/runs/<id>');
 *   try { console.log(await predictor.predictFile('face.jpg')); } finally { await predictor.dispose(); }
 */
export { PRESET_NAMES, PRESETS, resolveConfig, STUDY_DEFAULTS, validateConfig } from './config';
export type { Config, PresetName, ResizeMethod, ScoringMode } from './config';
export { describeBackend, initBackend } from './backend/backend';
export type { BackendInfo, BackendName } from './backend/backend';

export { loadDataset, readDatasetInfo } from './data/dataset';
export type { Dataset, DatasetInfo } from './data/dataset';
export { ensureDataset, findCachedDataset } from './data/dataset-cache';
export { loadImageRgb } from './data/images';
export { preprocessFolders } from './data/preprocess';
export type { PreprocessOptions, PreprocessResult } from './data/preprocess';
export { findImageData, resolveDataSource } from './data/sources';
export type { DataSource } from './data/sources';
export { datasetSplit, splitRows } from './data/split';
export { generateSynthDataset } from './data/synth';
export { splitIndices } from './random';

export { buildModel, STUDY_PARAMETER_COUNT } from './model/model';
export { loadModel, saveModel } from './model/model-io';
export { buildFamilyModel, familyOf, registerFamily } from './model/families';
export type { FamilyLayer, ModelFamily, TrainingPlan } from './model/families';

export { trainRun } from './train/experiment';
export type { TrainRunOptions, TrainRunResult } from './train/experiment';
export { estimateTrainingTime } from './train/estimate';
export { latestRun, openRun } from './runs/runs';
export type { Run, RunMeta } from './runs/runs';

export { evaluateRun } from './eval/evaluate';
export type { RunEvaluation } from './eval/evaluate';
export { computeMetrics } from './metrics/metrics';
export type { Metrics } from './metrics/metrics';
export { buildReport } from './eval/report';
export { formatMetricsTable } from './eval/tables';

export { collectImagePaths, Predictor } from './infer/predict';
export { TfjsEngine } from './infer/engine';
export { verdictFor, type Verdict, type VerdictPolicy } from './infer/verdict';
export { pickUncertainBand } from './infer/uncertain-band';
export { runVerdictPolicy } from './infer/run-policy';
export type { Prediction } from './infer/predict';
export type { InferenceEngine } from './infer/engine';
export { DEFAULT_ENGINE, loadEngine } from './infer/onnx-engine';
export type { EngineChoice } from './infer/onnx-engine';
export { exportRunToOnnx } from './infer/onnx-export';
export { scoreImages } from './infer/scoring';
export type { ScoredImage } from './infer/scoring';
export { loadScoringEngine } from './infer/scoring-engine';
export { tileGrid } from './infer/tiles';

export { formatPipelineSummary, runPipeline } from './pipeline';
