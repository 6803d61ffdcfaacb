/**
 * Display helpers for the tslab notebooks (notebooks/*.ipynb): HTML tables, Plotly figures, image grids and live
 * training progress. Only how things are shown lives here; what is shown comes from the modules that own it
 * (parameters: lib/notebook/params.ts; datasets: lib/data; runs: lib/runs/runs.ts; metrics: lib/metrics, lib/eval).
 *
 * The builders return HTML strings and need no kernel; the show* functions hand them to tslab's display,
 * which exists only inside a running tslab kernel (tslab is loaded lazily, so this module imports anywhere).
 */
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import type { DataFrame } from 'danfojs-node';
import type { Callback, TrainingContext } from '../train/callbacks';
import type { EpochLogs, HistoryData } from '../runs/history';
import { emptyHistory, HISTORY_KEYS } from '../runs/history';
import type { Config } from '../config';
import { datasetImage, type Dataset } from '../data/dataset';
import type { RunEvaluation } from '../eval/evaluate';
import type { ScoredImage } from '../eval/misclassified';
import { loadImageRgb } from '../data/images';
import { lossAccuracyFigures, notebookHtml, takePlotlyLoader, type Figure } from '../viz/plots';
import { escapeHtml } from '../viz/html';
import type { Prediction } from '../infer/predict';
import { formatDuration } from '../train/estimate';
import { configRows, type NotebookParams } from './params';

// ---------------------------------------------------------------------------------------------------------
// HTML building blocks

function formatCell(value: unknown): string {
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return value.toLocaleString('en-US');
    return Number.isFinite(value) ? String(+value.toPrecision(5)) : 'n/a';
  }
  return value === null || value === undefined ? '' : String(value);
}

const TABLE_STYLE = 'border-collapse:collapse;font-size:13px;margin:4px 0';
const CELL_STYLE = 'border:1px solid #ccc;padding:3px 8px;';

function tableHtml(columns: string[], values: unknown[][], caption?: string, index?: unknown[]): string {
  const th = (s: string) => `<th style="${CELL_STYLE}background:#f3f3f3;text-align:left">${escapeHtml(s)}</th>`;
  const td = (v: unknown) =>
    `<td style="${CELL_STYLE}text-align:${typeof v === 'number' ? 'right' : 'left'}">${escapeHtml(formatCell(v))}</td>`;
  const head = `<tr>${index ? th('') : ''}${columns.map(th).join('')}</tr>`;
  const body = values
    .map((row, i) => `<tr>${index ? th(formatCell(index[i])) : ''}${row.map(td).join('')}</tr>`)
    .join('');
  const cap = caption
    ? `<caption style="caption-side:top;text-align:left;font-weight:bold;padding:4px 0">${escapeHtml(caption)}</caption>`
    : '';
  return `<table style="${TABLE_STYLE}">${cap}${head}${body}</table>`;
}

/** A danfojs DataFrame as an HTML table (danfojs-node itself prints tables as text only). */
export function dataFrameHtml(df: DataFrame, options: { caption?: string; showIndex?: boolean } = {}): string {
  const values = df.values as unknown[][];
  return tableHtml(
    df.columns.map(String),
    values,
    options.caption,
    options.showIndex ? (df.index as unknown[]) : undefined,
  );
}

/** PNG data URL of one RGB image (uint8, size x size x 3). */
export async function pngDataUrl(pixels: Uint8Array, size: number): Promise<string> {
  const png = await sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), {
    raw: { width: size, height: size, channels: 3 },
  })
    .png()
    .toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

export interface GridImage {
  /** uint8 RGB, size x size x 3. */
  pixels: Uint8Array;
  size: number;
  caption: string;
  /** Frame colour: 'ok' green, 'wrong' red, none grey. */
  mark?: 'ok' | 'wrong';
}

/**
 * A grid of images with captions. Pixels are scaled up without smoothing (`displaySize`), so what is shown is
 * exactly what the model sees after resizing.
 */
export async function imageGridHtml(items: GridImage[], displaySize = 128): Promise<string> {
  const frame = { ok: '#2ca02c', wrong: '#d62728' } as const;
  const cells = await Promise.all(
    items.map(async (item) => {
      const color = item.mark ? frame[item.mark] : '#ccc';
      return (
        `<figure style="margin:4px;width:${displaySize + 6}px;display:inline-block;vertical-align:top">` +
        `<img src="${await pngDataUrl(item.pixels, item.size)}" width="${displaySize}" height="${displaySize}" ` +
        `style="image-rendering:pixelated;border:3px solid ${color}" alt="${escapeHtml(item.caption)}">` +
        `<figcaption style="font-size:11px;line-height:1.2;word-break:break-all">${escapeHtml(item.caption)}</figcaption></figure>`
      );
    }),
  );
  return `<div style="display:flex;flex-wrap:wrap">${cells.join('')}</div>`;
}

// ---------------------------------------------------------------------------------------------------------
// Showing things (inside a tslab kernel only)

function tslabDisplay(): typeof import('tslab') {
  return require('tslab');
}

export function showHtml(html: string): void {
  tslabDisplay().display.html(html);
}

export function showMarkdown(markdown: string): void {
  tslabDisplay().display.markdown(markdown);
}

export function showDataFrame(df: DataFrame, options: { caption?: string; showIndex?: boolean } = {}): void {
  showHtml(dataFrameHtml(df, options));
}

/**
 * The parameters in effect, as the first cell of every notebook shows them: where they come from (the file and the
 * preset) and every setting beside the study's value.
 */
export function paramsHtml(params: NotebookParams): string {
  const rows = configRows(params.config);
  const overridden = new Set(Object.keys(params.overrides));
  const presetNote =
    params.presetFrom === 'REALFAKE_PRESET'
      ? "REALFAKE_PRESET (replaces the file's preset)"
      : path.basename(params.file);
  const caption = `Parameters: preset "${params.preset}" (from ${presetNote}), ${overridden.size} override(s) from ${params.file}`;
  return tableHtml(
    ['setting', 'value', 'study', 'differs', 'set by'],
    rows.map((r) => [
      r.setting,
      r.value,
      r.study,
      r.differs,
      overridden.has(r.setting) ? 'override' : r.differs ? `preset ${params.preset}` : '',
    ]),
    caption,
  );
}

export function showParams(params: NotebookParams): void {
  showHtml(paramsHtml(params));
}

function figureHtml(fig: Figure, png?: string): string {
  return notebookHtml(fig, { png: png && fs.existsSync(png) ? png : undefined });
}

/**
 * An interactive Plotly figure. `png` (a file, e.g. one evaluate wrote) becomes the static fallback for
 * viewers that run no script; without it the fallback is a small table of the figure's data.
 */
export function showFigure(fig: Figure, png?: string): void {
  showHtml(figureHtml(fig, png));
}

/** Several figures side by side (wrapping on narrow pages). */
export function showFigures(figs: Array<{ fig: Figure; png?: string }>): void {
  showHtml(figuresRowHtml(figs.map(({ fig, png }) => figureHtml(fixedWidth(fig), png))));
}

/**
 * A copy with a fixed width when the layout has none. Plotly sizes an autosized plot once, when it draws,
 * which can be before the row's flex layout settles (its fallback is still in place); a fixed width
 * keeps figures side by side from overlapping.
 */
function fixedWidth(fig: Figure, width = 560): Figure {
  return fig.layout.width === undefined ? { data: fig.data, layout: { ...fig.layout, width } } : fig;
}

/** Figures of an evaluation by name, each with the PNG evaluate wrote (when Chromium was there) as its fallback. */
export function showRunFigures(evaluation: RunEvaluation, names: string[]): void {
  showFigures(
    names.map((name) => {
      const fig = evaluation.figures[name];
      if (!fig)
        throw new Error(
          `no figure "${name}" in this evaluation (it has: ${Object.keys(evaluation.figures).join(', ')})`,
        );
      return { fig, png: evaluation.files.find((f) => path.basename(f) === `${name}.png`) };
    }),
  );
}

function figuresRowHtml(parts: string[]): string {
  return `<div style="display:flex;flex-wrap:wrap;gap:8px">${parts.map((p) => `<div style="flex:1 1 420px;min-width:380px">${p}</div>`).join('')}</div>`;
}

// ---------------------------------------------------------------------------------------------------------
// 01 preprocessing

/** `perClass` images of each class, evenly spaced through the class's (sorted) rows. */
export function datasetSamples(dataset: Dataset, perClass: number): GridImage[] {
  const items: GridImage[] = [];
  for (const label of [0, 1]) {
    const rows: number[] = [];
    dataset.y.forEach((l, row) => l === label && rows.push(row));
    const take = Math.min(perClass, rows.length);
    for (let k = 0; k < take; k++) {
      const row = rows[Math.floor((k * rows.length) / take)];
      const name = dataset.files?.[row] ? path.basename(dataset.files[row]) : `row ${row}`;
      items.push({
        pixels: datasetImage(dataset, row),
        size: dataset.size,
        caption: `${label ? 'Fake' : 'Real'} · ${name}`,
      });
    }
  }
  return items;
}

// ---------------------------------------------------------------------------------------------------------
// 03 training

/**
 * Live training progress in one notebook output that is redrawn in place: a progress bar with the time
 * left, the loss and accuracy curves so far, and the training log. Pass it to trainRun as a callback and its
 * `log` as the log. In the saved notebook (and nbconvert's HTML) the output keeps its final state.
 */
export class LiveTraining implements Callback {
  readonly history: HistoryData = emptyHistory();
  private readonly lines: string[] = [];
  private handle: ReturnType<typeof import('tslab').newDisplay> | null = null;
  private epochs = 0;
  private stepsPerEpoch = 0;
  private batchNote = '';
  private started = Date.now();
  private lastBatchDraw = 0;

  /** Log lines (backend, run folder, data, one line per epoch) appear under the curves. */
  readonly log = (line: string): void => {
    this.lines.push(line);
    this.draw();
  };

  onTrainBegin(ctx: TrainingContext): void {
    this.epochs = ctx.epochs;
    this.stepsPerEpoch = ctx.stepsPerEpoch;
    this.started = Date.now();
    this.draw();
  }

  onBatchEnd(step: number, logs: { loss: number; accuracy: number }): void {
    // Redraw at most every 3 s within an epoch: enough to see that a long study epoch is moving.
    if (Date.now() - this.lastBatchDraw < 3000) return;
    this.lastBatchDraw = Date.now();
    this.batchNote = `epoch ${this.history.epoch.length + 1}: batch ${step + 1}/${this.stepsPerEpoch}, loss ${logs.loss.toFixed(4)}, accuracy ${logs.accuracy.toFixed(4)}`;
    this.draw();
  }

  onEpochEnd(logs: EpochLogs): void {
    for (const key of HISTORY_KEYS) this.history[key].push(logs[key]);
    this.batchNote = '';
    this.draw();
  }

  onTrainEnd(ctx: TrainingContext): void {
    this.batchNote = ctx.stopReason ?? '';
    this.draw();
  }

  /** The output's HTML (also used by tests). */
  html(): string {
    const done = this.history.epoch.length;
    const elapsed = (Date.now() - this.started) / 1000;
    const perEpoch = done ? elapsed / done : NaN;
    const total = this.epochs || done;
    const status =
      done >= total && total > 0
        ? `finished ${done} epochs in ${formatDuration(elapsed)}`
        : `epoch ${done}/${total || '?'} done, ${done ? `${perEpoch.toFixed(1)} s per epoch, about ${formatDuration(perEpoch * (total - done))} left` : 'first epoch running'}`;
    const head =
      `<div style="font-family:sans-serif;font-size:13px"><progress value="${done}" max="${total || 1}" style="width:320px"></progress> ${escapeHtml(status)}` +
      (this.batchNote ? `<br><span style="color:#555">${escapeHtml(this.batchNote)}</span>` : '') +
      '</div>';
    let charts = '';
    if (done > 0) {
      const { loss, accuracy } = lossAccuracyFigures(this.history);
      // The loader was shown once before this output (see ensurePlotly), so redraws never resend plotly.js.
      const live = (fig: Figure) =>
        notebookHtml(fixedWidth({ ...fig, layout: { ...fig.layout, height: 360 } }, 520), { includePlotly: false });
      charts = figuresRowHtml([live(loss), live(accuracy)]);
    }
    const log = `<pre style="max-height:220px;overflow:auto;font-size:12px;background:#f7f7f7;padding:6px">${escapeHtml(this.lines.join('\n'))}</pre>`;
    return head + charts + log;
  }

  private draw(): void {
    if (!this.handle) {
      // The live chart is redrawn in place, so plotly.js goes into an output of its own first.
      const loader = takePlotlyLoader();
      if (loader) showHtml(loader);
      this.handle = tslabDisplay().newDisplay();
    }
    this.handle.html(this.html());
  }
}

/** One row per epoch of a run's history, with the best val_accuracy marked (the checkpoint kept). */
export function historyRows(history: HistoryData, bestEpoch?: number): Array<Record<string, unknown>> {
  return history.epoch.map((epoch, i) => ({
    epoch,
    loss: history.loss[i],
    accuracy: history.accuracy[i],
    val_loss: history.val_loss[i],
    val_accuracy: history.val_accuracy[i],
    seconds: history.seconds[i],
    checkpoint: epoch === bestEpoch ? 'best (saved)' : '',
  }));
}

// ---------------------------------------------------------------------------------------------------------
// 04 evaluation and 05 prediction

/** Scored images as a grid, decoded and resized as the model saw them; green frame when right, red when wrong. */
export async function scoredImagesHtml(
  images: ScoredImage[],
  config: Pick<Config, 'imageSize' | 'resize' | 'threshold'>,
): Promise<string> {
  const items = await Promise.all(
    images.map(async (p): Promise<GridImage> => {
      const called = p.pFake >= config.threshold ? 'Fake' : 'Real';
      const truth = p.label === undefined ? undefined : p.label === 1 ? 'Fake' : 'Real';
      return {
        pixels: await loadImageRgb(p.file, config.imageSize, config.resize),
        size: config.imageSize,
        caption: `${path.basename(p.file)} · ${truth ? `is ${truth}, ` : ''}called ${called} (pFake ${p.pFake.toFixed(3)})`,
        mark: truth === undefined ? undefined : called === truth ? 'ok' : 'wrong',
      };
    }),
  );
  return imageGridHtml(items);
}

/** One row per prediction; with `known` labels (e.g. held-back images) also the truth and whether it was right. */
export function batchRows(
  predictions: Prediction[],
  known: Array<{ file: string; label: number }> = [],
): Array<Record<string, unknown>> {
  const labels = new Map(known.map((k) => [k.file, k.label]));
  return predictions.map((p) => {
    const label = labels.get(p.file);
    const truth = label === undefined ? '' : label === 1 ? 'Fake' : 'Real';
    return {
      file: path.basename(p.file),
      verdict: p.verdict,
      confidence: +p.confidence.toFixed(4),
      pFake: +p.pFake.toFixed(4),
      ...(known.length
        ? { truth, correct: truth === '' ? '' : (p.verdict === 'Real') === (truth === 'Real') ? 'yes' : 'NO' }
        : {}),
    };
  });
}

/** The image as given (up to 256 px) and as the model saw it, with the verdict and confidence. */
export async function verdictCardHtml(
  prediction: Prediction,
  config: Pick<Config, 'imageSize' | 'resize'>,
): Promise<string> {
  const original = await sharp(prediction.file)
    .rotate()
    .resize(256, 256, { fit: 'inside', withoutEnlargement: true })
    .png()
    .toBuffer();
  const seen = await pngDataUrl(await loadImageRgb(prediction.file, config.imageSize, config.resize), config.imageSize);
  const color = prediction.verdict === 'Real' ? '#2ca02c' : '#d62728';
  return `<div style="display:flex;gap:16px;align-items:flex-start;font-family:sans-serif">
<figure style="margin:0"><img src="data:image/png;base64,${original.toString('base64')}" alt="input image"><figcaption style="font-size:11px">${escapeHtml(path.basename(prediction.file))}</figcaption></figure>
<figure style="margin:0"><img src="${seen}" width="128" height="128" style="image-rendering:pixelated" alt="model input"><figcaption style="font-size:11px">what the model sees (${config.imageSize}px, ${config.resize})</figcaption></figure>
<div><div style="font-size:22px;font-weight:bold;color:${color}">${escapeHtml(prediction.verdict)}</div>
<div style="font-size:15px">confidence ${(prediction.confidence * 100).toFixed(1)}%</div>
<div style="font-size:13px;color:#555">pFake ${prediction.pFake.toFixed(4)}</div></div></div>`;
}
