import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { computeMetrics } from '../lib/metrics/metrics';
import { requireAll, skipForMissingTool } from './helpers/tools';
import { runFigures } from '../lib/eval/evaluate';
import { HAND_SOURCES } from './fixtures/per-source';
import {
  classBalanceFigure,
  confusionMatrixFigure,
  lossAccuracyFigures,
  notebookHtml,
  perSourceFigure,
  precisionRecallFigure,
  resetNotebookPlotly,
  rocFigure,
  figureImageFiles,
  imageDataUrlBytes,
  writeFigureHtml,
  writeFigureImages,
  writeFigurePng,
  writeFigures,
} from '../lib/viz/plots';

const labels = [0, 0, 1, 1, 0, 1, 1, 0];
const scores = [0.1, 0.4, 0.35, 0.8, 0.4, 0.8, 0.4, 0.9];
const metrics = computeMetrics(labels, scores);
const history = {
  epoch: [1, 2, 3],
  loss: [0.7, 0.5, 0.4],
  accuracy: [0.5, 0.7, 0.8],
  val_loss: [0.69, 0.55, 0.5],
  val_accuracy: [0.52, 0.66, 0.75],
};

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-plots-'));
}

test('lossAccuracyFigures: train and validation traces per metric', () => {
  const { loss, accuracy } = lossAccuracyFigures(history);
  assert.deepEqual(
    loss.data.map((t) => t.name),
    ['train loss', 'validation loss'],
  );
  assert.deepEqual(loss.data[1].y, history.val_loss);
  assert.deepEqual(
    accuracy.data.map((t) => t.y),
    [history.accuracy, history.val_accuracy],
  );
  assert.deepEqual(accuracy.data[0].x, history.epoch);
  assert.throws(
    () => lossAccuracyFigures({ ...history, val_loss: [1] }),
    /history\.val_loss has 1 values but history\.epoch has 3/,
  );
});

test('confusionMatrixFigure: rows Actual, columns Predicted, Real first, counts annotated', () => {
  const fig = confusionMatrixFigure({ tp: 602, fp: 7, fn: 5, tn: 586 });
  const heat = fig.data[0];
  assert.equal(heat.type, 'heatmap');
  assert.deepEqual(heat.z, [
    [586, 7],
    [5, 602],
  ]);
  assert.deepEqual(heat.x, ['Real', 'Fake']);
  assert.deepEqual(heat.y, ['Real', 'Fake']);
  assert.equal((fig.layout.xaxis as { title: { text: string } }).title.text, 'Predicted');
  assert.equal((fig.layout.yaxis as { title: { text: string } }).title.text, 'Actual');
  const notes = (fig.layout.annotations as Array<{ x: string; y: string; text: string }>).map(
    (a) => `${a.y}/${a.x}=${a.text}`,
  );
  assert.deepEqual(notes, ['Real/Real=586', 'Real/Fake=7', 'Fake/Real=5', 'Fake/Fake=602']);
});

test('rocFigure: curve values, AUC in the legend, chance diagonal', () => {
  const fig = rocFigure(metrics.roc, metrics.auc);
  assert.equal(fig.data[0].name, 'ROC (AUC = 0.5625)');
  assert.deepEqual(fig.data[0].x, [0, 0.25, 0.25, 0.75, 0.75, 1]);
  assert.deepEqual(fig.data[0].y, [0, 0, 0.5, 0.75, 1, 1]);
  assert.equal((fig.data[0].customdata as unknown[])[0], 'inf');
  assert.deepEqual(
    [fig.data[1].x, fig.data[1].y],
    [
      [0, 1],
      [0, 1],
    ],
  );
});

test('precisionRecallFigure: steps, AP in the legend, optional chance line', () => {
  const fig = precisionRecallFigure(metrics.pr, metrics.averagePrecision, 0.5);
  assert.equal(fig.data[0].name, 'PR (AP = 0.6012)'); // 101/168
  assert.deepEqual(fig.data[0].x, metrics.pr.recall);
  assert.equal((fig.data[0].line as { shape: string }).shape, 'hv');
  assert.deepEqual(fig.data[1].y, [0.5, 0.5]);
  assert.equal(precisionRecallFigure(metrics.pr, metrics.averagePrecision).data.length, 1);
});

test('classBalanceFigure: flat and per-split counts', () => {
  const flat = classBalanceFigure({ Real: 3000, Fake: 2900 });
  assert.deepEqual([flat.data.length, flat.data[0].x, flat.data[0].y], [1, ['Real', 'Fake'], [3000, 2900]]);
  const split = classBalanceFigure({ train: { Real: 2400, Fake: 2400 }, val: { Real: 600, Fake: 601 } });
  assert.deepEqual(
    split.data.map((t) => [t.name, t.x, t.y]),
    [
      ['Real', ['train', 'val'], [2400, 600]],
      ['Fake', ['train', 'val'], [2400, 601]],
    ],
  );
});

test('perSourceFigure: rate and AUC bars per source, real and fake apart, intervals as error bars', () => {
  const fig = perSourceFigure(HAND_SOURCES);
  const bars = fig.data.map((t) => [
    t.name,
    t.offsetgroup,
    t.x,
    t.y,
    (t.error_y as { array: unknown[] }).array,
    (t.error_y as { arrayminus: unknown[] }).arrayminus,
  ]);
  const reals = ['ffhq (real, 50)', 'celeba (real, 30)'];
  const fakes = ['sd14 (fake, 40)', 'gan (fake, 20)'];
  assert.deepEqual(bars, [
    ['specificity, real sources', 'rate', reals, [0.875, 0.75], [0.125, 0.125], [0.125, 0.25]],
    ['AUC, real sources', 'auc', reals, [0.9375, 0.8125], [0.0625, 0.0625], [0.0625, 0.0625]],
    ['recall, fake sources', 'rate', fakes, [0.625, 0.5], [0.125, 0.25], [0.125, 0.25]],
    // gan's AUC is undefined: no bar and no error bar, rather than NaN (which JSON cannot hold).
    ['AUC, fake sources', 'auc', fakes, [0.875, null], [0.0625, null], [0.0625, null]],
  ]);
  const colors = fig.data.map((t) => (t.marker as { color: string }).color);
  assert.equal(colors[0], colors[1], 'real sources share a colour');
  assert.notEqual(colors[0], colors[2], 'fake sources have another');
  assert.deepEqual(perSourceFigure(HAND_SOURCES.slice(0, 2)).data.length, 2, 'no empty fake traces');
});

test('runFigures adds per_source only when some class has several sources', () => {
  const withSources = (perSource: typeof HAND_SOURCES) => Object.keys(runFigures({ ...metrics, perSource }));
  assert.ok(withSources(HAND_SOURCES).includes('per_source'));
  assert.ok(!withSources([HAND_SOURCES[0], HAND_SOURCES[2]]).includes('per_source'), 'one source per class');
});

test('writeFigureHtml: self-contained page with plotly.js and the data', () => {
  const file = path.join(tmpDir(), 'sub', 'roc.html');
  writeFigureHtml(rocFigure(metrics.roc, metrics.auc), file);
  const html = fs.readFileSync(file, 'utf8');
  assert.match(html, /plotly\.js v3\.1\.2/);
  assert.match(html, /<title>ROC curve \(positive class: Fake\)<\/title>/);
  assert.match(html, /"name":"ROC \(AUC = 0\.5625\)"/);
  assert.match(html, /"x":\[0,0\.25,0\.25,0\.75,0\.75,1\]/);
  assert.ok(!/<script src=/.test(html), 'no external script: the page must open offline');
  assert.ok(html.length > 3_000_000, `plotly.js should be inlined, page is only ${html.length} bytes`);
});

test('notebookHtml inlines plotly.js once, then only div + newPlot, with a static fallback', () => {
  resetNotebookPlotly();
  const fig = confusionMatrixFigure({ tp: 3, fp: 1, fn: 2, tn: 4 });
  const first = notebookHtml(fig);
  const second = notebookHtml(fig);
  assert.match(first, /if \(!window\.Plotly\) \{/);
  assert.match(first, /plotly\.js v3\.1\.2/);
  assert.ok(!second.includes('plotly.js v3.1.2'), 'plotly.js must not be inlined twice');
  assert.ok(second.length < 10_000);
  assert.match(second, /Plotly\.newPlot\(el, fig\.data, fig\.layout/);
  // Fallback without PNG: a table of the confusion counts; with a PNG: an inline image.
  assert.match(second, /<tr><td>Real<\/td><td>4<\/td><td>1<\/td><\/tr>/);
  assert.match(
    notebookHtml(fig, { png: Buffer.from('not really a png') }),
    /<img alt="Confusion matrix[^"]*" src="data:image\/png;base64,/,
  );
  assert.notEqual(first.match(/id="(realfake-plot-[^"]+)"/)![1], second.match(/id="(realfake-plot-[^"]+)"/)![1]);
  assert.match(notebookHtml(fig, { includePlotly: true }), /plotly\.js v3\.1\.2/);
});

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function pngSize(file: string): { width: number; height: number } {
  const buf = fs.readFileSync(file);
  assert.ok(buf.subarray(0, 8).equals(PNG_SIGNATURE), `${file} is not a PNG`);
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) }; // IHDR follows the signature
}

test('writeFigurePng renders in headless Chromium (skips when Chromium or playwright-core is absent)', async (t) => {
  const dir = tmpDir();
  const result = await writeFigurePng([
    { fig: rocFigure(metrics.roc, metrics.auc), file: path.join(dir, 'roc.png') },
    { fig: lossAccuracyFigures(history).loss, file: path.join(dir, 'loss.png') },
  ]);
  if (result.skipped) {
    assert.deepEqual(result.written, []);
    skipForMissingTool(t, result.skipped);
    return;
  }
  assert.deepEqual(result.written, [path.join(dir, 'roc.png'), path.join(dir, 'loss.png')]);
  assert.deepEqual(pngSize(path.join(dir, 'roc.png')), { width: 560, height: 540 }); // the layout's size
  assert.deepEqual(pngSize(path.join(dir, 'loss.png')), { width: 900, height: 600 }); // the default size
  // A blank canvas compresses to a few KB; a plot with axes, text and lines is larger.
  assert.ok(fs.statSync(path.join(dir, 'roc.png')).size > 10_000);
});

test('writeFigurePng reports a missing browser instead of throwing', async () => {
  const saved = process.env.REALFAKE_CHROMIUM;
  process.env.REALFAKE_CHROMIUM = '/nonexistent/chromium';
  try {
    const result = await writeFigurePng([
      { fig: rocFigure(metrics.roc, metrics.auc), file: path.join(tmpDir(), 'x.png') },
    ]);
    assert.deepEqual(result.written, []);
    assert.match(
      result.skipped ?? '',
      /PNG skipped: (no Chromium at \/nonexistent\/chromium|optional package playwright-core)/,
    );
  } finally {
    if (saved === undefined) delete process.env.REALFAKE_CHROMIUM;
    else process.env.REALFAKE_CHROMIUM = saved;
  }
});

test('writeFigures writes HTML for all and PNG when possible, with a note', async () => {
  const dir = tmpDir();
  const { files, note } = await writeFigures(
    { confusion: confusionMatrixFigure(metrics.confusion), balance: classBalanceFigure({ Real: 4, Fake: 4 }) },
    dir,
  );
  assert.ok(files.includes(path.join(dir, 'confusion.html')) && files.includes(path.join(dir, 'balance.html')));
  const pngs = files.filter((f) => f.endsWith('.png'));
  if (pngs.length === 0) {
    assert.match(note, /PNG skipped/);
    assert.ok(!requireAll(), `REALFAKE_REQUIRE_ALL=1: ${note}`);
  } else {
    assert.equal(note, 'wrote 2 figures as HTML and PNG');
    for (const f of pngs) pngSize(f);
  }
});

test('imageDataUrlBytes: base64 PNG and URI-encoded SVG data URLs to file bytes', () => {
  assert.deepEqual(imageDataUrlBytes('data:image/png;base64,iVBORw=='), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  const svg = '<svg xmlns="http://www.w3.org/2000/svg"><text>a < b & "c" ü</text></svg>';
  assert.equal(imageDataUrlBytes(`data:image/svg+xml,${encodeURIComponent(svg)}`).toString('utf8'), svg);
  assert.equal(imageDataUrlBytes(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`).toString('utf8'), svg);
  assert.throws(() => imageDataUrlBytes('data:image/jpeg;base64,AAAA'), /unexpected image data URL/);
});

test('figureImageFiles: one file per figure and format, PNG first', () => {
  const figs = { roc: rocFigure(metrics.roc, metrics.auc), cm: confusionMatrixFigure(metrics.confusion) };
  assert.deepEqual(
    figureImageFiles(figs, 'd', ['png', 'svg']).map((f) => f.file),
    [path.join('d', 'roc.png'), path.join('d', 'cm.png'), path.join('d', 'roc.svg'), path.join('d', 'cm.svg')],
  );
  assert.equal(figureImageFiles(figs, 'd').length, 2, 'PNG only by default');
});

test('writeFigureImages renders SVG in headless Chromium: vector, the layout size, the figure text', async (t) => {
  const dir = tmpDir();
  const result = await writeFigureImages([
    { fig: rocFigure(metrics.roc, metrics.auc), file: path.join(dir, 'roc.svg') },
    { fig: confusionMatrixFigure(metrics.confusion), file: path.join(dir, 'cm.svg') },
  ]);
  if (result.skipped) {
    assert.match(result.skipped, /^SVG skipped: /);
    skipForMissingTool(t, result.skipped);
    return;
  }
  assert.deepEqual(result.written, [path.join(dir, 'roc.svg'), path.join(dir, 'cm.svg')]);
  const roc = fs.readFileSync(path.join(dir, 'roc.svg'), 'utf8');
  assert.match(roc, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(roc, /^<svg [^>]*width="560" height="540"/, "the layout's size");
  assert.match(roc, /ROC curve \(positive class: Fake\)/, 'the title as text, not pixels');
  assert.match(roc, new RegExp(`AUC = ${metrics.auc.toFixed(4)}`), 'the legend');
  assert.match(roc, /<path [^>]*d="M[^"]{20,}/, 'the curve as a path');
  assert.ok(roc.trim().endsWith('</svg>'));
  // The confusion counts (hand-checked at 0.5: reals 0.1 0.4 0.4 0.9 give TN 3 FP 1, fakes 0.35 0.8 0.8 0.4 give FN 2 TP 2) are annotations in the SVG.
  const cm = fs.readFileSync(path.join(dir, 'cm.svg'), 'utf8');
  const { tn, fp, fn, tp } = metrics.confusion;
  assert.deepEqual([tn, fp, fn, tp], [3, 1, 2, 2]);
  const annotations = [...cm.matchAll(/class="annotation-text"[^>]*>(\d+)<\/text>/g)].map((m) => Number(m[1]));
  assert.deepEqual(annotations.sort(), [tn, fp, fn, tp].sort());
});

test('writeFigures with svg writes HTML, PNG and SVG for every figure', async (t) => {
  const dir = tmpDir();
  const { files, note } = await writeFigures({ balance: classBalanceFigure({ Real: 4, Fake: 4 }) }, dir, { svg: true });
  if (skipForMissingTool(t, files.length === 1 && note)) return;
  assert.deepEqual(
    files,
    ['balance.html', 'balance.png', 'balance.svg'].map((f) => path.join(dir, f)),
  );
  assert.equal(note, 'wrote 1 figures as HTML and PNG and SVG');
  assert.match(fs.readFileSync(path.join(dir, 'balance.svg'), 'utf8'), /^<svg /);
});
