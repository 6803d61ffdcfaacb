/**
 * Plotly figures for realfake (plain JSON {data, layout}, so they can be saved, diffed and tested) and
 * writers: self-contained HTML (plotly.js inlined, works offline), PNG and SVG through headless Chromium
 * (optional: skipped with a reason when playwright-core or Chromium is missing), and notebook HTML for
 * tslab's display.html.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Confusion, PrCurve, RocCurve } from '../metrics/metrics';
import type { SourceMetrics } from '../eval/per-source';
import { writeFileAtomic } from '../files';
import { escapeHtml } from './html';

export interface Figure {
  data: Array<Record<string, unknown>>;
  layout: Record<string, unknown>;
}

export interface TrainingHistory {
  epoch: number[];
  loss: number[];
  accuracy: number[];
  val_loss: number[];
  val_accuracy: number[];
}

/** Plotly's default colour cycle (tab10): one colour per run or group in overlaid figures. */
export const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

const TRAIN_COLOR = '#1f77b4';
const VAL_COLOR = '#ff7f0e';

function baseLayout(title: string, xTitle: string, yTitle: string): Record<string, unknown> {
  return {
    title: { text: title },
    xaxis: { title: { text: xTitle } },
    yaxis: { title: { text: yTitle } },
    margin: { l: 70, r: 30, t: 60, b: 60 },
    legend: { x: 1, xanchor: 'right', y: 0, yanchor: 'bottom', bgcolor: 'rgba(255,255,255,0.7)' },
  };
}

function trainValFigure(h: TrainingHistory, train: number[], val: number[], what: string): Figure {
  const title = what[0].toUpperCase() + what.slice(1);
  const line = (name: string, y: number[], color: string) => ({
    type: 'scatter',
    mode: 'lines+markers',
    name,
    x: h.epoch,
    y,
    line: { color },
    marker: { size: 4 },
  });
  return {
    data: [line(`train ${what}`, train, TRAIN_COLOR), line(`validation ${what}`, val, VAL_COLOR)],
    layout: {
      ...baseLayout(`${title} per epoch`, 'Epoch', title),
      // Few epochs: force integer ticks (Plotly would otherwise label 1.5, 2.5, ...).
      xaxis: { title: { text: 'Epoch' }, ...(h.epoch.length <= 10 ? { dtick: 1 } : {}) },
    },
  };
}

/** Two figures, as in the study: loss (train vs validation) and accuracy (train vs validation) per epoch. */
export function lossAccuracyFigures(history: TrainingHistory): { loss: Figure; accuracy: Figure } {
  const n = history.epoch.length;
  for (const key of ['loss', 'accuracy', 'val_loss', 'val_accuracy'] as const) {
    if (history[key].length !== n) {
      throw new Error(`plots: history.${key} has ${history[key].length} values but history.epoch has ${n}`);
    }
  }
  const loss = trainValFigure(history, history.loss, history.val_loss, 'loss');
  // The loss legend goes top-right: loss curves fall, so the bottom-right corner is where they end.
  loss.layout.legend = { ...(loss.layout.legend as object), y: 1, yanchor: 'top' };
  return { loss, accuracy: trainValFigure(history, history.accuracy, history.val_accuracy, 'accuracy') };
}

// matplotlib's Blues (light = few, dark = many); Plotly's built-in 'Blues' runs the other way round.
const BLUES = [
  [0, '#f7fbff'],
  [0.5, '#6baed6'],
  [1, '#08306b'],
];

/** Heatmap of the confusion matrix, rows Actual, columns Predicted, Real first; counts written in the cells. */
export function confusionMatrixFigure(c: Confusion): Figure {
  const classes = ['Real', 'Fake'];
  const z = [
    [c.tn, c.fp],
    [c.fn, c.tp],
  ];
  const max = Math.max(c.tn, c.fp, c.fn, c.tp);
  const annotations = z.flatMap((row, i) =>
    row.map((count, j) => ({
      x: classes[j],
      y: classes[i],
      text: String(count),
      showarrow: false,
      font: { size: 18, color: count > max / 2 ? 'white' : 'black' }, // readable on dark and light cells
    })),
  );
  return {
    data: [
      {
        type: 'heatmap',
        x: classes,
        y: classes,
        z,
        colorscale: BLUES,
        showscale: true,
        hovertemplate: 'Actual %{y}<br>Predicted %{x}<br>%{z}<extra></extra>',
      },
    ],
    layout: {
      ...baseLayout('Confusion matrix (positive class: Fake)', 'Predicted', 'Actual'),
      // Plotly draws the first row at the bottom; reversing puts Actual=Real on top, like sklearn's display.
      yaxis: { title: { text: 'Actual' }, autorange: 'reversed' },
      xaxis: { title: { text: 'Predicted' }, side: 'bottom' },
      annotations,
      width: 520,
      height: 460,
    },
  };
}

const CHANCE_LINE = { color: 'gray', dash: 'dash', width: 1 };

/** A grey dashed reference line from (0, y0) to (1, y1), without hover: chance, perfect calibration. */
export function referenceLine(name: string, y0 = 0, y1 = 1): Record<string, unknown> {
  return { type: 'scatter', mode: 'lines', name, x: [0, 1], y: [y0, y1], line: CHANCE_LINE, hoverinfo: 'skip' };
}

/** ROC curve with the chance diagonal; AUC shown in the legend; thresholds in the hover text. */
export function rocFigure(roc: RocCurve, auc: number): Figure {
  return {
    data: [
      {
        type: 'scatter',
        mode: 'lines',
        name: `ROC (AUC = ${auc.toFixed(4)})`,
        x: roc.fpr,
        y: roc.tpr,
        // JSON turns the leading +Infinity threshold into null; the hover shows "inf" instead of nothing.
        customdata: roc.thresholds.map((t) => (Number.isFinite(t) ? t : 'inf')),
        hovertemplate: 'FPR %{x:.4f}<br>TPR %{y:.4f}<br>threshold %{customdata}<extra></extra>',
        line: { color: TRAIN_COLOR, width: 2 },
      },
      referenceLine('chance'),
    ],
    layout: {
      ...baseLayout('ROC curve (positive class: Fake)', 'False positive rate', 'True positive rate'),
      xaxis: { title: { text: 'False positive rate' }, range: [-0.01, 1.01] },
      yaxis: { title: { text: 'True positive rate' }, range: [-0.01, 1.01], scaleanchor: 'x' },
      width: 560,
      height: 540,
    },
  };
}

/**
 * Precision-recall curve drawn as steps (like sklearn's PrecisionRecallDisplay), AP in the legend.
 * With `prevalence` (fraction of fakes) the no-skill line is added: a random scorer's precision.
 */
export function precisionRecallFigure(pr: PrCurve, ap: number, prevalence?: number): Figure {
  const data: Array<Record<string, unknown>> = [
    {
      type: 'scatter',
      mode: 'lines',
      name: `PR (AP = ${ap.toFixed(4)})`,
      x: pr.recall,
      y: pr.precision,
      line: { shape: 'hv', color: TRAIN_COLOR, width: 2 },
    },
  ];
  if (prevalence !== undefined) {
    data.push(referenceLine(`chance (${prevalence.toFixed(3)})`, prevalence, prevalence));
  }
  return {
    data,
    layout: {
      ...baseLayout('Precision-recall curve (positive class: Fake)', 'Recall', 'Precision'),
      xaxis: { title: { text: 'Recall' }, range: [-0.01, 1.01] },
      yaxis: { title: { text: 'Precision' }, range: [-0.01, 1.05] },
      width: 560,
      height: 540,
    },
  };
}

/**
 * Bar chart of image counts. Flat `{Real: 3000, Fake: 3000}` gives one bar per class; nested
 * `{train: {Real, Fake}, val: {Real, Fake}}` gives grouped bars, one group per split.
 */
export function classBalanceFigure(counts: Record<string, number> | Record<string, Record<string, number>>): Figure {
  const entries = Object.entries(counts);
  const nested = entries.length > 0 && typeof entries[0][1] === 'object';
  const bar = (name: string | undefined, x: string[], y: number[]) =>
    ({ type: 'bar', name, x, y, text: y.map(String), textposition: 'auto' }) as Record<string, unknown>;
  let data: Array<Record<string, unknown>>;
  if (!nested) {
    const flat = counts as Record<string, number>;
    const colors = Object.keys(flat).map((k) => (k.toLowerCase() === 'fake' ? VAL_COLOR : TRAIN_COLOR));
    data = [{ ...bar(undefined, Object.keys(flat), Object.values(flat)), marker: { color: colors } }];
  } else {
    const groups = counts as Record<string, Record<string, number>>;
    const splits = Object.keys(groups);
    const classes = [...new Set(splits.flatMap((s) => Object.keys(groups[s])))];
    data = classes.map((cls) =>
      bar(
        cls,
        splits,
        splits.map((s) => groups[s][cls] ?? 0),
      ),
    );
  }
  return {
    data,
    layout: {
      ...baseLayout('Class balance', nested ? 'Split' : 'Class', 'Images'),
      barmode: 'group',
      showlegend: nested,
      // Outside the plot area: the shared bottom-right legend would cover the bars.
      legend: { x: 1.02, xanchor: 'left', y: 1, yanchor: 'top' },
      width: 560,
      height: 420,
    },
  };
}

/**
 * Per-source bars: for each source its recall (fake source) or specificity (real source) and its AUC against the
 * whole other class, with the bootstrap intervals as asymmetric error bars. One group per source; real sources in
 * blue, fake in orange, AUC bars paler; rate and AUC each keep one slot per group (offsetgroup), so a group is two
 * bars wide whatever its class. A source's AUC is null (no bar) when the other class was not scored.
 */
export function perSourceFigure(rows: SourceMetrics[], title = 'Per source (95 % bootstrap intervals)'): Figure {
  const category = (r: SourceMetrics) => `${r.source} (${r.label ? 'fake' : 'real'}, ${r.n})`;
  const finite = (v: number) => (Number.isFinite(v) ? v : null);
  const bars = (label: 0 | 1, metric: 'rate' | 'auc', color: string, opacity: number) => {
    const group = rows.filter((r) => r.label === label);
    const what = metric === 'auc' ? 'AUC' : label ? 'recall' : 'specificity';
    return {
      type: 'bar',
      name: `${what}, ${label ? 'fake' : 'real'} sources`,
      offsetgroup: metric,
      x: group.map(category),
      y: group.map((r) => finite(r[metric].estimate)),
      error_y: {
        type: 'data',
        symmetric: false,
        array: group.map((r) => finite(r[metric].high - r[metric].estimate)),
        arrayminus: group.map((r) => finite(r[metric].estimate - r[metric].low)),
      },
      customdata: group.map((r) => [finite(r[metric].low), finite(r[metric].high)]),
      hovertemplate: `${what} %{y:.3f} [%{customdata[0]:.3f}, %{customdata[1]:.3f}]<extra>%{x}</extra>`,
      marker: { color, opacity },
    } as Record<string, unknown>;
  };
  return {
    data: [
      bars(0, 'rate', TRAIN_COLOR, 1),
      bars(0, 'auc', TRAIN_COLOR, 0.5),
      bars(1, 'rate', VAL_COLOR, 1),
      bars(1, 'auc', VAL_COLOR, 0.5),
    ].filter((trace) => (trace.x as string[]).length > 0),
    layout: {
      ...baseLayout(title, 'Source (class, images)', 'Share right / AUC'),
      yaxis: { title: { text: 'Share right / AUC' }, range: [0, 1.05] },
      barmode: 'group',
      legend: { x: 1.02, xanchor: 'left', y: 1, yanchor: 'top' },
      width: Math.max(560, 160 + 110 * rows.length),
      height: 460,
    },
  };
}

/** A gauge of pFake (in %) with the decision threshold marked; the title gives the verdict and its confidence. */
export function verdictGaugeFigure(
  prediction: { pFake: number; verdict: string; confidence: number },
  threshold: number,
): Figure {
  const fake = prediction.pFake >= threshold;
  return {
    data: [
      {
        type: 'indicator',
        mode: 'gauge+number',
        value: +(prediction.pFake * 100).toFixed(2),
        number: { suffix: '%' },
        title: { text: 'pFake (probability the face is AI-generated)' },
        gauge: {
          axis: { range: [0, 100] },
          bar: { color: fake ? '#d62728' : '#2ca02c' },
          threshold: { value: threshold * 100, line: { color: 'black', width: 3 }, thickness: 0.9 },
        },
      },
    ],
    layout: {
      title: { text: `${prediction.verdict} (${(prediction.confidence * 100).toFixed(1)}% confidence)` },
      width: 460,
      height: 300,
      margin: { l: 30, r: 30, t: 70, b: 20 },
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Writers

let plotlySourceCache: string | undefined;

/** plotly.min.js, made safe to inline inside <script> (no literal "</script" can end the tag early). */
function plotlySource(): string {
  plotlySourceCache ??= fs
    .readFileSync(require.resolve('plotly.js-dist-min'), 'utf8')
    .replace(/<\/script/gi, '<\\/script');
  return plotlySourceCache;
}

/** JSON safe inside <script>: Infinity/NaN become null (JSON's rule), "<" is escaped so data can't close the tag. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

function figureTitle(fig: Figure): string {
  const t = fig.layout.title as { text?: string } | string | undefined;
  return (typeof t === 'string' ? t : t?.text) ?? 'realfake figure';
}

/** Writes one self-contained HTML page (about 4.8 MB: plotly.js is inlined so it opens offline). */
export function writeFigureHtml(fig: Figure, file: string, title = figureTitle(fig)): void {
  const html = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<script>${plotlySource()}</script></head>
<body style="margin:0">
<div id="plot" style="width:100%;height:95vh"></div>
<script>var fig = ${scriptJson(fig)}; Plotly.newPlot('plot', fig.data, fig.layout, {responsive: true});</script>
</body></html>
`;
  writeFileAtomic(file, html);
}

export interface PngOptions {
  /** Used when the figure's layout sets no width / height. */
  width?: number;
  height?: number;
  /** Pixel density multiplier (2 gives sharper PNGs for papers). */
  scale?: number;
}

/** The Chromium realfake drives: REALFAKE_CHROMIUM, else Debian's. */
export function chromiumPath(): string {
  return process.env.REALFAKE_CHROMIUM || '/usr/bin/chromium';
}

/** Headless Chromium without the background connections this offline machine refuses (also used by the browser tests). */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Image formats the figure writers render in Chromium: PNG (screens, notebooks) and SVG (vector, for papers). */
export type ImageFormat = 'png' | 'svg';

/** The one Plotly function the image renderer calls inside the page. */
interface PlotlyToImage {
  toImage(
    fig: unknown,
    options: { format: ImageFormat; width: number; height: number; scale: number },
  ): Promise<string>;
}

/** The file's bytes from what Plotly.toImage returns: base64 for PNG, a URI-encoded data URL for SVG. */
export function imageDataUrlBytes(dataUrl: string): Buffer {
  const png = /^data:image\/png;base64,/.exec(dataUrl);
  if (png) return Buffer.from(dataUrl.slice(png[0].length), 'base64');
  const svg = /^data:image\/svg\+xml(;charset=utf-8)?,/.exec(dataUrl);
  if (svg) return Buffer.from(decodeURIComponent(dataUrl.slice(svg[0].length)), 'utf8');
  throw new Error(`unexpected image data URL: ${dataUrl.slice(0, 40)}`);
}

/** The format a file name asks for (.png or .svg). */
function imageFormatOf(file: string): ImageFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.png' || ext === '.svg') return ext.slice(1) as ImageFormat;
  throw new Error(`${file}: figure images are .png or .svg`);
}

/**
 * Renders figures with Plotly.toImage in one headless Chromium (playwright-core), each in the format its file
 * name ends with (.png or .svg). When playwright-core or the browser (REALFAKE_CHROMIUM, else /usr/bin/chromium)
 * is missing or fails to launch, nothing is written and `skipped` says why: images are a convenience, the HTML
 * files carry the same figures.
 */
export async function writeFigureImages(
  figs: Array<{ fig: Figure; file: string }>,
  opts: PngOptions = {},
): Promise<{ written: string[]; skipped?: string }> {
  const formats = [...new Set(figs.map(({ file }) => imageFormatOf(file).toUpperCase()))].join(' and ') || 'PNG';
  let playwright: typeof import('playwright-core');
  try {
    playwright = require('playwright-core');
  } catch {
    return { written: [], skipped: `${formats} skipped: optional package playwright-core is not installed` };
  }
  const executablePath = chromiumPath();
  if (!fs.existsSync(executablePath)) {
    const hint = 'apt-get install chromium, or set REALFAKE_CHROMIUM';
    return { written: [], skipped: `${formats} skipped: no Chromium at ${executablePath} (${hint})` };
  }
  let browser: import('playwright-core').Browser;
  try {
    browser = await playwright.chromium.launch({ executablePath, args: CHROMIUM_FLAGS });
  } catch (err) {
    const reason = String((err as Error).message).split('\n')[0];
    return { written: [], skipped: `${formats} skipped: Chromium at ${executablePath} failed to start: ${reason}` };
  }
  const written: string[] = [];
  try {
    const page = await browser.newPage();
    await page.setContent('<!DOCTYPE html><html><body></body></html>');
    await page.addScriptTag({ content: plotlySource() });
    for (const { fig, file } of figs) {
      const width = (fig.layout.width as number | undefined) ?? opts.width ?? 900;
      const height = (fig.layout.height as number | undefined) ?? opts.height ?? 600;
      // Round-trip through JSON so the page sees exactly what the HTML files hold (Infinity -> null).
      const figJson = JSON.parse(JSON.stringify(fig));
      const dataUrl: string = await page.evaluate(
        ({ f, format, w, h, s }) =>
          (globalThis as unknown as { Plotly: PlotlyToImage }).Plotly.toImage(f, {
            format,
            width: w,
            height: h,
            scale: s,
          }),
        { f: figJson, format: imageFormatOf(file), w: width, h: height, s: opts.scale ?? 1 },
      );
      writeFileAtomic(file, imageDataUrlBytes(dataUrl));
      written.push(file);
    }
  } finally {
    await browser.close();
  }
  return { written };
}

/** PNGs only (every file name should end in .png): writeFigureImages. */
export async function writeFigurePng(
  figs: Array<{ fig: Figure; file: string }>,
  opts: PngOptions = {},
): Promise<{ written: string[]; skipped?: string }> {
  return writeFigureImages(figs, opts);
}

export interface FigureFileOptions extends PngOptions {
  /** Also write name.svg beside name.png (vector figures for papers). */
  svg?: boolean;
}

/** dir/name.FORMAT for every figure and format (png first): the files writeFigureImages renders. */
export function figureImageFiles(
  figs: Record<string, Figure>,
  dir: string,
  formats: ImageFormat[] = ['png'],
): Array<{ fig: Figure; file: string }> {
  return formats.flatMap((format) =>
    Object.entries(figs).map(([name, fig]) => ({ fig, file: path.join(dir, `${name}.${format}`) })),
  );
}

/** The formats the figure writers render: PNG, and SVG too when asked. */
export function imageFormats(opts: { svg?: boolean }): ImageFormat[] {
  return opts.svg ? ['png', 'svg'] : ['png'];
}

/**
 * Writes dir/name.html for every figure, and dir/name.png (and dir/name.svg with `svg`) when Chromium is
 * available; `note` says which.
 */
export async function writeFigures(
  figs: Record<string, Figure>,
  dir: string,
  opts: FigureFileOptions = {},
): Promise<{ files: string[]; note: string }> {
  fs.mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const [name, fig] of Object.entries(figs)) {
    const file = path.join(dir, `${name}.html`);
    writeFigureHtml(fig, file);
    files.push(file);
  }
  const images = await writeFigureImages(figureImageFiles(figs, dir, imageFormats(opts)), opts);
  files.push(...images.written);
  const note =
    images.skipped ?? `wrote ${Object.keys(figs).length} figures as HTML and ${opts.svg ? 'PNG and SVG' : 'PNG'}`;
  return { files, note };
}

// ---------------------------------------------------------------------------------------------------------
// Notebook display

let notebookPlotlyInlined = false;
let notebookPlotCount = 0;

/** Forget that plotly.js was inlined, so the next notebookHtml includes it again (e.g. after clearing outputs). */
export function resetNotebookPlotly(): void {
  notebookPlotlyInlined = false;
}

/** A plain-HTML summary shown by viewers that run no script (GitHub, untrusted notebooks). */
function staticFallback(fig: Figure, png?: Buffer | string): string {
  if (png !== undefined) {
    const bytes = typeof png === 'string' ? fs.readFileSync(png) : png;
    return `<img alt="${escapeHtml(figureTitle(fig))}" src="data:image/png;base64,${bytes.toString('base64')}">`;
  }
  const cell = (v: unknown) => `<td>${escapeHtml(typeof v === 'number' ? String(+v.toPrecision(6)) : String(v))}</td>`;
  const rows = fig.data.map((trace) => {
    const name = String(trace.name ?? trace.type ?? 'trace');
    if (trace.type === 'heatmap') {
      const x = trace.x as unknown[];
      const y = trace.y as unknown[];
      const z = trace.z as unknown[][];
      const head = `<tr><td></td>${x.map(cell).join('')}</tr>`;
      return `<table>${head}${z.map((row, i) => `<tr>${cell(y[i])}${row.map(cell).join('')}</tr>`).join('')}</table>`;
    }
    const x = (trace.x as unknown[]) ?? [];
    const y = (trace.y as unknown[]) ?? [];
    // Short traces (bars, the chance line) are listed in full; long curves only by size and last point.
    const points =
      x.length <= 12
        ? x.map((xi, i) => `${cell(xi)}${cell(y[i])}`).join('')
        : `<td>${x.length} points, last</td>${cell(x[x.length - 1])}${cell(y[y.length - 1])}`;
    return `<table><tr><td>${escapeHtml(name)}</td>${points}</tr></table>`;
  });
  return `<p><b>${escapeHtml(figureTitle(fig))}</b> (interactive plot needs JavaScript)</p>${rows.join('')}`;
}

/** plotly.js as a notebook output script, guarded so that a page never runs it twice. */
export function plotlyLoaderHtml(): string {
  return `<script type="text/javascript">if (!window.Plotly) {\n${plotlySource()}\n}</script>\n`;
}

/** The loader the first time it is asked for in this kernel, '' after that: plotly.js once per notebook. */
export function takePlotlyLoader(): string {
  if (notebookPlotlyInlined) return '';
  notebookPlotlyInlined = true;
  return plotlyLoaderHtml();
}

/**
 * HTML for tslab's display.html(). The first call in a kernel inlines plotly.js (guarded by
 * `if (!window.Plotly)`, so re-running cells never loads it twice in a page); later calls emit only a div
 * and a script that waits for window.Plotly (outputs can render out of order when a notebook reopens).
 * The static fallback (the PNG when given, else a text table) is removed once the plot draws, so
 * viewers that run no script still show something. Works in JupyterLab, classic Notebook and nbconvert
 * HTML: all run inline scripts of trusted outputs in document order.
 */
export function notebookHtml(
  fig: Figure,
  opts: { png?: Buffer | string; height?: number; includePlotly?: boolean } = {},
): string {
  const id = `realfake-plot-${process.pid}-${Date.now().toString(36)}-${notebookPlotCount++}`;
  const loader = opts.includePlotly === undefined ? takePlotlyLoader() : opts.includePlotly ? plotlyLoaderHtml() : '';
  if (opts.includePlotly) notebookPlotlyInlined = true;
  const height = opts.height ?? (fig.layout.height as number | undefined) ?? 450;
  // The div gets its height only when the plot draws, so script-less viewers show no empty box.
  return `${loader}<div id="${id}"></div><div id="${id}-fallback">${staticFallback(fig, opts.png)}</div>
<script type="text/javascript">(function () {
  var fig = ${scriptJson(fig)}, tries = 0;
  function draw() {
    var el = document.getElementById(${JSON.stringify(id)});
    if (!window.Plotly || !el) { if (tries++ < 100) setTimeout(draw, 100); return; }
    el.style.height = '${height}px';
    window.Plotly.newPlot(el, fig.data, fig.layout, {responsive: true}).then(function () {
      var fb = document.getElementById(${JSON.stringify(id + '-fallback')}); if (fb) fb.remove();
    });
  }
  draw();
})();</script>`;
}
