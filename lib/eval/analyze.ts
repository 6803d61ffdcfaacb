/**
 * `realfake analyze`: the research-grade look at one trained run, written to RUNDIR/analysis/.
 *   intervals    seeded bootstrap 95 % intervals of every metric on the held-back split (test, else validation)
 *   per source   recall or specificity and AUC of each source (lib/eval/per-source.ts) at the picked threshold
 *   thresholds   metrics against the threshold; a threshold picked on validation by a rule (Youden, EER, target
 *                FPR) and applied unchanged to the test split; stored in RUNDIR/threshold.json
 *   calibration  reliability diagram and ECE; temperature fitted on validation, stored in RUNDIR/calibration.json
 *   robustness   accuracy and AUC of the held-back images under JPEG, resizing, blur, noise and combinations
 *   spectra      class-mean 2D and 1D spectra of the run's images
 *   gradcam      Grad-CAM overlays of the most confident right and wrong held-back predictions
 * Each part is one module of lib/eval; this file only wires them to a run.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Dataset } from '../data/dataset';
import { writeFileAtomic, writeJsonAtomic } from '../files';
import { EngineChoice, loadEngine } from '../infer/onnx-engine';
import { CALIBRATION_FILE, THRESHOLD_FILE, type StoredCalibration, type StoredThreshold } from '../infer/run-policy';
import type { InferenceEngine } from '../infer/engine';
import { loadModel } from '../model/model-io';
import { loadRunDataset, openRun, type Run } from '../runs/runs';
import { scaleToUnit } from '../data/pixels';
import {
  figureImageFiles,
  imageFormats,
  notebookHtml,
  perSourceFigure,
  plotlyLoaderHtml,
  writeFigureImages,
  type Figure,
} from '../viz/plots';
import { formatInterval, INTERVAL_METRICS, metricIntervals, type MetricIntervals } from './bootstrap';
import {
  applyTemperature,
  expectedCalibrationError,
  fitTemperature,
  reliability,
  reliabilityFigure,
} from './calibration';
import { scoreRows } from './evaluate';
import { perSourceMetrics, sourceTableCells, type SourceMetrics } from './per-source';
import { explainImage } from './gradcam';
import {
  DEFAULT_PERTURBATIONS,
  QUICK_PERTURBATIONS,
  robustnessFigure,
  robustnessGrid,
  type RobustnessRow,
} from './robustness';
import { classSpectra, spectrumFigures } from './spectrum';
import { parseThresholdRule, pickThreshold, thresholdFigure, thresholdSweep } from './thresholds';

// The files analyze writes are read by predict/evaluate/serve through lib/infer/run-policy.ts.
export { CALIBRATION_FILE, readStoredCalibration, readStoredThreshold, THRESHOLD_FILE } from '../infer/run-policy';
export type { StoredCalibration, StoredThreshold } from '../infer/run-policy';

export interface AnalyzeOptions {
  engine?: EngineChoice;
  /** youden | eer | fpr=X (default youden). */
  thresholdRule?: string;
  resamples?: number;
  /** full grid, a quick one (smoke runs), or none. */
  robustness?: 'full' | 'quick' | 'none';
  spectra?: boolean;
  /** Grad-CAM overlays of this many most-confident right and as many wrong predictions (0: none). */
  gradcam?: number;
  writeFiles?: boolean;
  /** Also write each figure as SVG beside its PNG (vector figures for papers). */
  svg?: boolean;
  log?: (line: string) => void;
}

export interface GradCamItem {
  file: string;
  label: number;
  pFake: number;
  kind: 'right' | 'wrong';
  explained: 'fake' | 'real';
  /** PNG overlay. */
  overlay: Buffer;
  /** Where it was written (when files are written). */
  path?: string;
}

export interface Analysis {
  runId: string;
  split: 'test' | 'val';
  n: number;
  intervals: MetricIntervals;
  threshold: StoredThreshold & { onEvaluated: { threshold: number; intervals: MetricIntervals } };
  /** Per source on the evaluated split at the threshold picked on validation (evaluate's are at the run's own). */
  perSource: SourceMetrics[];
  calibration: StoredCalibration & { eceValBefore: number; eceBefore: number; eceAfter: number; bins: number };
  robustness: RobustnessRow[];
  spectra?: { real: number; fake: number };
  gradcam: GradCamItem[];
  figures: Record<string, Figure>;
  files: string[];
  notes: string[];
  markdown: string;
}

function rowImages(data: Dataset, rows: number[]): Uint8Array[] {
  const pixels = data.size * data.size * 3;
  return rows.map((r) => data.x.subarray(r * pixels, (r + 1) * pixels));
}

function engineScorer(engine: InferenceEngine, size: number): (images: Uint8Array[]) => Promise<Float32Array> {
  return async (images) => {
    const out = new Float32Array(images.length);
    const pixels = size * size * 3;
    for (let start = 0; start < images.length; start += 64) {
      const chunk = images.slice(start, start + 64);
      const batch = new Float32Array(chunk.length * pixels);
      chunk.forEach((img, i) => scaleToUnit(img, batch, i * pixels));
      out.set(await engine.scores(batch, chunk.length, size), start);
    }
    return out;
  };
}

/** One self-contained HTML page holding every figure (plotly.js inlined once). */
export function figuresPageHtml(title: string, figures: Record<string, Figure>): string {
  const body = Object.values(figures)
    .map((fig) => `<div style="margin:12px 0">${notebookHtml(fig, { includePlotly: false })}</div>`)
    .join('\n');
  const safeTitle = title.replace(/[<&>]/g, '');
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${safeTitle}</title></head><body style="font-family:sans-serif">\n<h1>${safeTitle}</h1>\n${plotlyLoaderHtml()}\n${body}\n</body></html>\n`;
}

function markdownTable(headers: string[], rows: string[][]): string {
  return [
    `| ${headers.join(' | ')} |`,
    `|${headers.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/**
 * A run's held-back scores, the input of every analysis step: the evaluated split (test, else validation) and the
 * validation split (which picks the threshold and fits the temperature), scored once by the run's model.
 */
export interface ScoredSplits {
  runDir: string;
  run: Run;
  data: Dataset;
  split: 'test' | 'val';
  evalRows: number[];
  valRows: number[];
  evalLabels: Uint8Array;
  valLabels: Uint8Array;
  evalScores: Float32Array;
  valScores: Float32Array;
  /** Caveats found on the way (no test split, a temperature at the edge of its range). */
  notes: string[];
}

/** Step 1 of the analysis: score the evaluated and validation splits with the run's model. */
export async function scoreSplits(
  runDir: string,
  options: Pick<AnalyzeOptions, 'engine' | 'log'> = {},
): Promise<ScoredSplits> {
  const log = options.log ?? (() => undefined);
  const run: Run = openRun(runDir);
  const data = loadRunDataset(run);
  if (data.size !== run.config.imageSize)
    throw new Error(
      `${run.meta.dataDir}: images are ${data.size}px but the run's model takes ${run.config.imageSize}px`,
    );
  const split: 'test' | 'val' = run.split.test.length > 0 ? 'test' : 'val';
  const evalRows = run.split[split];
  const valRows = run.split.val;
  const notes: string[] = [];
  if (split === 'val')
    notes.push(
      'This run has no test split: the threshold and temperature are fitted and evaluated on the same validation images, which is optimistic. Train with --test-fraction > 0 for honest numbers.',
    );
  const engine = await loadEngine(runDir, options.engine ?? 'auto', (line) => log(line));
  try {
    const evalScores = await scoreRows(engine, data, evalRows, 64);
    const valScores = split === 'val' ? evalScores : await scoreRows(engine, data, valRows, 64);
    const evalLabels = Uint8Array.from(evalRows, (r) => data.y[r]);
    const valLabels = Uint8Array.from(valRows, (r) => data.y[r]);
    return { runDir, run, data, split, evalRows, valRows, evalLabels, valLabels, evalScores, valScores, notes };
  } finally {
    await engine.dispose();
  }
}

/** Bootstrap intervals of every metric on the evaluated split at the run's own threshold (seeded with its seed). */
export function bootstrapStep(s: ScoredSplits, resamples = 1000): MetricIntervals {
  return metricIntervals(s.evalLabels, s.evalScores, s.run.config.threshold, { resamples, seed: s.run.config.seed });
}

export interface ThresholdStep {
  stored: StoredThreshold;
  onEvaluated: { threshold: number; intervals: MetricIntervals };
  perSource: SourceMetrics[];
  figures: { thresholds: Figure; per_source: Figure };
}

/** A threshold picked on validation by `rule` (youden | eer | fpr=X), applied unchanged to the evaluated split. */
export function thresholdStep(s: ScoredSplits, rule = 'youden', resamples = 1000): ThresholdStep {
  const { seed, threshold: base } = s.run.config;
  const picked = pickThreshold(s.valLabels, s.valScores, parseThresholdRule(rule));
  const evalSources = s.evalRows.map((r) => s.data.sources[r]);
  const perSource = perSourceMetrics(s.evalLabels, s.evalScores, evalSources, picked.threshold, { resamples, seed });
  return {
    stored: { ...picked, pickedOn: 'val', runId: s.run.meta.id },
    onEvaluated: {
      threshold: picked.threshold,
      intervals: metricIntervals(s.evalLabels, s.evalScores, picked.threshold, { resamples, seed }),
    },
    perSource,
    figures: {
      thresholds: thresholdFigure(thresholdSweep(s.evalLabels, s.evalScores), [
        { name: 'argmax', threshold: base },
        { name: `${picked.rule} (val)`, threshold: picked.threshold },
      ]),
      // Always here, unlike evaluate's figure files: the analysis page inlines plotly.js once for all its figures.
      per_source: perSourceFigure(
        perSource,
        `Per source on ${s.split} at threshold ${picked.threshold.toFixed(4)} (${picked.rule}, picked on val)`,
      ),
    },
  };
}

export interface CalibrationStep {
  stored: StoredCalibration;
  calibration: Analysis['calibration'];
  figure: Figure;
  /** Set when the fitted temperature sits at the edge of its search range (the calibration is then undefined). */
  note?: string;
}

/** Temperature scaling fitted on validation, judged on the evaluated split (ECE over `bins` bins). */
export function calibrationStep(s: ScoredSplits, bins = 10): CalibrationStep {
  const fit = fitTemperature(s.valLabels, s.valScores);
  const calibratedEval = s.evalScores.map((p) => applyTemperature(p, fit.temperature));
  const stored: StoredCalibration = {
    method: 'temperature scaling of logit(pFake) = ln p1 - ln p0',
    fittedOn: 'val',
    runId: s.run.meta.id,
    ...fit,
  };
  return {
    stored,
    calibration: {
      ...stored,
      eceValBefore: expectedCalibrationError(s.valLabels, s.valScores, bins),
      eceBefore: expectedCalibrationError(s.evalLabels, s.evalScores, bins),
      eceAfter: expectedCalibrationError(s.evalLabels, calibratedEval, bins),
      bins,
    },
    figure: reliabilityFigure([
      { name: `${s.split}, raw`, reliability: reliability(s.evalLabels, s.evalScores, bins) },
      {
        name: `${s.split}, T = ${fit.temperature.toFixed(3)}`,
        reliability: reliability(s.evalLabels, calibratedEval, bins),
      },
    ]),
    note:
      fit.temperature > 50 || fit.temperature < 0.02
        ? `The fitted temperature (${fit.temperature.toFixed(3)}) is at the edge of the search range [0.01, 100]: on validation the scores carry almost no information (T -> infinity pulls every pFake to 0.5) or separate perfectly (T -> 0); treat the calibration as undefined.`
        : undefined,
  };
}

/** How many perturbations a robustness grid holds (each re-scores the evaluated split once). */
export function robustnessGridSize(grid: 'full' | 'quick' | 'none'): number {
  return grid === 'none' ? 0 : (grid === 'quick' ? QUICK_PERTURBATIONS : DEFAULT_PERTURBATIONS).length;
}

/** The evaluated split re-scored under each perturbation of the grid; its two figures when there are rows. */
export async function robustnessStep(
  s: ScoredSplits,
  grid: 'full' | 'quick' | 'none' = 'full',
  options: Pick<AnalyzeOptions, 'engine' | 'log'> = {},
): Promise<{ rows: RobustnessRow[]; figures: Record<string, Figure> }> {
  if (grid === 'none') return { rows: [], figures: {} };
  const log = options.log ?? (() => undefined);
  const perturbations = grid === 'quick' ? QUICK_PERTURBATIONS : DEFAULT_PERTURBATIONS;
  log(`robustness: ${perturbations.length} perturbations of ${s.evalRows.length} images`);
  const engine = await loadEngine(s.runDir, options.engine ?? 'auto', (line) => log(line));
  try {
    const rows = await robustnessGrid(
      rowImages(s.data, s.evalRows),
      s.evalLabels,
      s.data.size,
      engineScorer(engine, s.data.size),
      {
        perturbations,
        threshold: s.run.config.threshold,
        seed: s.run.config.seed,
        onProgress: (done, total) => log(`robustness: ${done}/${total}`),
      },
    );
    return {
      rows,
      figures: {
        robustness_accuracy: robustnessFigure(rows, 'accuracy'),
        robustness_auc: robustnessFigure(rows, 'auc'),
      },
    };
  } finally {
    await engine.dispose();
  }
}

/** Class-mean spectra of all the run's images (train, validation and test). */
export function spectraStep(s: ScoredSplits): {
  counts: { real: number; fake: number };
  figures: Record<string, Figure>;
} {
  const rows = [...s.run.split.train, ...s.run.split.val, ...s.run.split.test];
  const spectra = classSpectra(s.data.x, s.data.y, rows, s.data.size);
  return { counts: spectra.counts, figures: spectrumFigures(spectra) };
}

/** Grad-CAM of the `k` most confident right and `k` most confident wrong verdicts on the evaluated split. */
export async function gradcamStep(s: ScoredSplits, k = 4): Promise<GradCamItem[]> {
  const gradcam: GradCamItem[] = [];
  if (k <= 0) return gradcam;
  const base = s.run.config.threshold;
  const model = await loadModel(path.join(s.runDir, 'model'));
  try {
    const scored = s.evalRows.map((row, i) => ({ row, label: s.evalLabels[i], pFake: s.evalScores[i] }));
    const right = (x: { label: number; pFake: number }) => (x.pFake >= base ? 1 : 0) === x.label;
    const confidence = (x: { pFake: number }) => Math.abs(x.pFake - base);
    const pick = (wantRight: boolean) =>
      scored
        .filter((x) => right(x) === wantRight)
        .sort((a, b) => confidence(b) - confidence(a))
        .slice(0, k);
    for (const [kind, items] of [
      ['right', pick(true)],
      ['wrong', pick(false)],
    ] as const) {
      for (const x of items) {
        const cam = await explainImage(model, rowImages(s.data, [x.row])[0], s.data.size, { threshold: base });
        gradcam.push({
          file: s.data.files[x.row],
          label: x.label,
          pFake: x.pFake,
          kind,
          explained: cam.target,
          overlay: cam.overlay,
        });
      }
    }
  } finally {
    model.dispose();
  }
  return gradcam;
}

export interface AnalysisSteps {
  intervals: MetricIntervals;
  threshold: ThresholdStep;
  calibration: CalibrationStep;
  robustness?: { rows: RobustnessRow[]; figures: Record<string, Figure> };
  spectra?: { counts: { real: number; fake: number }; figures: Record<string, Figure> };
  gradcam?: GradCamItem[];
}

/**
 * The steps' results as one Analysis (markdown, every figure, notes); written into RUNDIR/analysis/ with
 * threshold.json and calibration.json unless `writeFiles` is false.
 */
export async function finishAnalysis(
  s: ScoredSplits,
  steps: AnalysisSteps,
  options: Pick<AnalyzeOptions, 'writeFiles' | 'svg'> = {},
): Promise<Analysis> {
  const analysis: Analysis = {
    runId: s.run.meta.id,
    split: s.split,
    n: s.evalRows.length,
    intervals: steps.intervals,
    threshold: { ...steps.threshold.stored, onEvaluated: steps.threshold.onEvaluated },
    perSource: steps.threshold.perSource,
    calibration: steps.calibration.calibration,
    robustness: steps.robustness?.rows ?? [],
    spectra: steps.spectra?.counts,
    gradcam: steps.gradcam ?? [],
    figures: {
      thresholds: steps.threshold.figures.thresholds,
      reliability: steps.calibration.figure,
      per_source: steps.threshold.figures.per_source,
      ...steps.robustness?.figures,
      ...steps.spectra?.figures,
    },
    files: [],
    notes: [...s.notes, ...(steps.calibration.note ? [steps.calibration.note] : [])],
    markdown: '',
  };
  analysis.markdown = analysisMarkdown(analysis);
  if (options.writeFiles !== false)
    analysis.files = await writeAnalysis(
      s.runDir,
      analysis,
      steps.threshold.stored,
      steps.calibration.stored,
      options.svg,
    );
  return analysis;
}

/** Every step in order (the notebook runs them one cell at a time): what `realfake analyze` does. */
export async function analyzeRun(runDir: string, options: AnalyzeOptions = {}): Promise<Analysis> {
  const log = options.log ?? (() => undefined);
  parseThresholdRule(options.thresholdRule ?? 'youden'); // a bad rule fails before anything is scored
  const s = await scoreSplits(runDir, options);
  const resamples = options.resamples ?? 1000;
  const robustness = await robustnessStep(s, options.robustness ?? 'full', options);
  log(`bootstrap: ${resamples} resamples of ${s.evalRows.length} images`);
  const steps: AnalysisSteps = {
    intervals: bootstrapStep(s, resamples),
    threshold: thresholdStep(s, options.thresholdRule ?? 'youden', resamples),
    calibration: calibrationStep(s),
    robustness,
  };
  if (options.spectra !== false) {
    log(`spectra: ${s.run.split.train.length + s.run.split.val.length + s.run.split.test.length} images`);
    steps.spectra = spectraStep(s);
  }
  steps.gradcam = await gradcamStep(s, options.gradcam ?? 4);
  return finishAnalysis(s, steps, options);
}

const f4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : 'n/a');

export function intervalRows(m: MetricIntervals): string[][] {
  return INTERVAL_METRICS.map((key) => [key, formatInterval(m.intervals[key])]);
}

export function analysisMarkdown(a: Analysis): string {
  const c = a.calibration;
  const t = a.threshold;
  const sourceTable = sourceTableCells(a.perSource);
  const lines = [
    `# Analysis of run ${a.runId}`,
    '',
    `Scored on the **${a.split}** split (${a.n} images); fake = positive. Intervals: ${a.intervals.method}, ${a.intervals.resamples} resamples, seed ${a.intervals.seed}, ${a.intervals.confidence * 100} %.`,
    ...a.notes.map((n) => `\n> ${n}`),
    '',
    '## Metrics with 95 % intervals',
    '',
    markdownTable(
      ['metric', `threshold 0.5 (argmax)`, `threshold ${f4(t.threshold)} (${t.rule}, picked on val)`],
      INTERVAL_METRICS.map((key) => [
        key,
        formatInterval(a.intervals.intervals[key]),
        formatInterval(t.onEvaluated.intervals.intervals[key]),
      ]),
    ),
    '',
    `Threshold rule ${t.rule} on the validation split (${t.n} images): threshold ${f4(t.threshold)}, TPR ${f4(t.tpr)}, FPR ${f4(t.fpr)} there; applied unchanged to the ${a.split} split.`,
    '',
    '## Per source',
    '',
    `On the ${a.split} split at the picked threshold ${f4(t.threshold)}: fake sources' recall and real sources' specificity, and ROC AUC against the whole other class, with 95 % bootstrap intervals.`,
    '',
    markdownTable(sourceTable.headers, sourceTable.cells),
    '',
    '## Calibration',
    '',
    `Temperature T = ${f4(c.temperature)} fitted on validation (NLL ${f4(c.nllBefore)} -> ${f4(c.nllAfter)}). ECE (${c.bins} bins) on ${a.split}: ${f4(c.eceBefore)} raw, ${f4(c.eceAfter)} after scaling (validation, raw: ${f4(c.eceValBefore)}).`,
  ];
  if (a.robustness.length) {
    lines.push(
      '',
      '## Robustness',
      '',
      markdownTable(
        ['perturbation', 'accuracy', 'AUC'],
        a.robustness.map((r) => [r.perturbation, f4(r.accuracy), f4(r.auc)]),
      ),
    );
  }
  if (a.spectra)
    lines.push(
      '',
      '## Spectra',
      '',
      `Class-mean spectra over ${a.spectra.real} real and ${a.spectra.fake} fake images of the run (figures spectrum_*).`,
    );
  if (a.gradcam.length) {
    lines.push(
      '',
      '## Grad-CAM',
      '',
      markdownTable(
        ['kind', 'file', 'label', 'pFake', 'explains', 'overlay'],
        a.gradcam.map((g) => [
          g.kind,
          path.basename(g.file),
          g.label ? 'fake' : 'real',
          f4(g.pFake),
          g.explained,
          g.path ? path.basename(g.path) : '',
        ]),
      ),
    );
  }
  return lines.join('\n') + '\n';
}

async function writeAnalysis(
  runDir: string,
  a: Analysis,
  threshold: StoredThreshold,
  calibration: StoredCalibration,
  svg = false,
): Promise<string[]> {
  const dir = path.join(runDir, 'analysis');
  fs.mkdirSync(path.join(dir, 'gradcam'), { recursive: true });
  const files: string[] = [];
  const write = (file: string, data: string | Uint8Array) => {
    writeFileAtomic(file, data);
    files.push(file);
  };
  a.gradcam.forEach((g, i) => {
    g.path = path.join(dir, 'gradcam', `${g.kind}-${i}-${path.basename(g.file).replace(/\.[^.]+$/, '')}.png`);
    write(g.path, g.overlay);
  });
  a.markdown = analysisMarkdown(a);
  writeJsonAtomic(path.join(runDir, THRESHOLD_FILE), threshold);
  writeJsonAtomic(path.join(runDir, CALIBRATION_FILE), calibration);
  files.push(path.join(runDir, THRESHOLD_FILE), path.join(runDir, CALIBRATION_FILE));
  const json = {
    ...a,
    figures: undefined,
    markdown: undefined,
    files: undefined,
    gradcam: a.gradcam.map(({ overlay: _overlay, ...rest }) => ({
      ...rest,
      path: rest.path && path.relative(dir, rest.path),
    })),
  };
  write(
    path.join(dir, 'analysis.json'),
    JSON.stringify(json, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2) + '\n',
  );
  write(path.join(dir, 'analysis.md'), a.markdown);
  write(path.join(dir, 'figures.html'), figuresPageHtml(`realfake analysis: ${a.runId}`, a.figures));
  const images = await writeFigureImages(figureImageFiles(a.figures, dir, imageFormats({ svg })));
  files.push(...images.written);
  if (images.skipped) a.notes.push(images.skipped);
  return files;
}
