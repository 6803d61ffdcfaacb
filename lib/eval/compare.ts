/**
 * Runs side by side (`realfake compare RUN...`): a table of the settings that differ, metrics with bootstrap
 * intervals, overlaid ROC and PR curves and training histories, and paired tests on the images the runs share
 * (McNemar for accuracy, DeLong for AUC; lib/eval/paired.ts). Reads what `evaluate` wrote: config.json,
 * metrics.json, predictions.csv and history.json.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Config } from '../config';
import type { DatasetInfo, SourceCount } from '../data/dataset';
import { readJson, resolveStoredPath, writeFileAtomic } from '../files';
import type { HistoryData } from '../runs/history';
import {
  figureImageFiles,
  PALETTE,
  perSourceFigure,
  referenceLine,
  writeFigureImages,
  type Figure,
} from '../viz/plots';
import { figuresPageHtml } from './analyze';
import { formatInterval, INTERVAL_METRICS, metricIntervals, type MetricIntervals } from './bootstrap';
import { computeMetrics, parseMetricsJson, type Metrics } from '../metrics/metrics';
import { delongTest, mcnemarTest, type DeLongResult, type McNemarResult } from './paired';
import { groupBySeed, hasSeedRepeats, seedGroupRows, seedSpreadFigure, type SeedGroup } from './seed-groups';
import { hasSeveralSources, perSourceFromPredictions, sourceTableRows, type SourceMetrics } from './per-source';

export interface ComparedRun {
  dir: string;
  id: string;
  config: Config;
  metrics: Metrics & { split?: string; intervals?: MetricIntervals; perSource?: SourceMetrics[] };
  intervals: MetricIntervals;
  predictions: Array<{ file: string; label: number; source?: string; pFake: number }>;
  history?: HistoryData;
  /** Per source on the evaluated split (metrics.json, else recomputed from predictions.csv); null: no sources known. */
  perSource: SourceMetrics[] | null;
  /** Images per source in the run's dataset (its dataset.json), null when that is not at hand or predates sources. */
  sourceCounts: SourceCount[] | null;
}

export interface PairedRow {
  a: string;
  b: string;
  n: number;
  mcnemar: McNemarResult;
  delong: DeLongResult | null;
}

export interface Comparison {
  runs: ComparedRun[];
  configRows: Array<Record<string, string>>;
  metricRows: Array<Record<string, string>>;
  sourceRows: Array<Record<string, string>>;
  sourceCountRows: Array<Record<string, string>>;
  paired: PairedRow[];
  /** Runs grouped by their settings without seed and splitSeed (lib/eval/seed-groups.ts). */
  seedGroups: SeedGroup[];
  /** Per group and metric: each run's value and mean ± sample sd; empty when no group has two runs. */
  seedRows: Array<Record<string, string>>;
  figures: Record<string, Figure>;
  markdown: string;
}

const GLOB = /[*?]/;

/** Run folders from arguments; a quoted glob (* and ? in the last path segment) is expanded, sorted. */
export function expandRunArgs(args: string[]): string[] {
  const dirs: string[] = [];
  for (const arg of args) {
    if (!GLOB.test(arg)) {
      dirs.push(arg);
      continue;
    }
    const parent = path.dirname(arg);
    if (GLOB.test(parent)) throw new Error(`${arg}: only the last path segment may hold * or ?`);
    const pattern = new RegExp(
      `^${path
        .basename(arg)
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    );
    const matches = fs.existsSync(parent)
      ? fs
          .readdirSync(parent)
          .filter((name) => pattern.test(name) && fs.existsSync(path.join(parent, name, 'config.json')))
      : [];
    if (!matches.length) throw new Error(`${arg}: matches no run folder`);
    dirs.push(...matches.sort().map((name) => path.join(parent, name)));
  }
  return [...new Set(dirs)];
}

/**
 * predictions.csv as evaluate writes it: file,label,source,pFake (file and source quoted when they hold a comma or
 * quote); files written before sources existed have file,label,pFake, and their rows get no source.
 */
export function parsePredictionsCsv(text: string, file = 'predictions.csv'): ComparedRun['predictions'] {
  const lines = text.split('\n').filter((l) => l.length);
  const withSource = lines[0] === 'file,label,source,pFake';
  if (!withSource && lines[0] !== 'file,label,pFake')
    throw new Error(`${file}: expected the header file,label,source,pFake`);
  const field = '(?:"((?:[^"]|"")*)"|([^,"]*))';
  const pattern = new RegExp(`^${field},([01]),${withSource ? `${field},` : ''}([^,]+)$`);
  const unquote = (quoted: string | undefined, plain: string | undefined) =>
    quoted !== undefined ? quoted.replace(/""/g, '"') : (plain ?? '');
  return lines.slice(1).map((line, i) => {
    const m = pattern.exec(line);
    if (!m) throw new Error(`${file}: line ${i + 2} is not ${lines[0]}`);
    const row = { file: unquote(m[1], m[2]), label: Number(m[3]), pFake: Number(m[withSource ? 6 : 4]) };
    return withSource ? { ...row, source: unquote(m[4], m[5]) } : row;
  });
}

export function loadComparedRun(dir: string, options: { resamples?: number } = {}): ComparedRun {
  const need = (name: string) => {
    const file = path.join(dir, name);
    if (!fs.existsSync(file))
      throw new Error(
        `${file}: not found (${name === 'config.json' ? 'not a run folder' : `run \`realfake evaluate --run ${dir}\` first`})`,
      );
    return file;
  };
  const config = readJson<Config>(need('config.json'), 'run config');
  const metrics = parseMetricsJson(fs.readFileSync(need('metrics.json'), 'utf8')) as ComparedRun['metrics'];
  const predictions = parsePredictionsCsv(
    fs.readFileSync(need('predictions.csv'), 'utf8'),
    path.join(dir, 'predictions.csv'),
  );
  const historyFile = path.join(dir, 'history.json');
  const history = fs.existsSync(historyFile) ? readJson<HistoryData>(historyFile) : undefined;
  // Older metrics.json files have no intervals: computed here from the predictions, with the run's seed.
  const intervals =
    metrics.intervals ??
    metricIntervals(
      predictions.map((p) => p.label),
      predictions.map((p) => p.pFake),
      metrics.threshold,
      { resamples: options.resamples ?? 1000, seed: config.seed },
    );
  const perSource =
    metrics.perSource ??
    perSourceFromPredictions(predictions, metrics.threshold, {
      resamples: options.resamples ?? 1000,
      seed: config.seed,
    });
  const id = path.basename(path.resolve(dir));
  return {
    dir,
    id,
    config,
    metrics,
    intervals,
    predictions,
    history,
    perSource,
    sourceCounts: datasetSourceCounts(dir),
  };
}

/** sourceCounts of the dataset a run trained on (run.json's dataDir), or null when it is gone or predates sources. */
function datasetSourceCounts(runDir: string): SourceCount[] | null {
  const runFile = path.join(runDir, 'run.json');
  if (!fs.existsSync(runFile)) return null;
  const infoFile = path.join(
    resolveStoredPath(readJson<{ dataDir: string }>(runFile, 'run').dataDir, runDir),
    'dataset.json',
  );
  if (!fs.existsSync(infoFile)) return null;
  return readJson<Partial<DatasetInfo>>(infoFile, 'dataset description').sourceCounts ?? null;
}

/** "ffhq (real)": a source is named with its class, since a real and a fake folder may share a name. */
const sourceKey = (s: { source: string; label: number }) => `${s.source} (${s.label ? 'fake' : 'real'})`;

/** Every (source, class) of these lists, real sources first, in order of first appearance. */
function sourceKeys(lists: Array<Array<{ source: string; label: number }>>): string[] {
  const all = lists.flat().sort((a, b) => a.label - b.label);
  return [...new Set(all.map(sourceKey))];
}

/**
 * One row per source, one column per run: "recall 0.910 [0.860, 0.950]; AUC 0.970 [0.950, 0.990] (n 140)" on the
 * run's evaluated split; "—" when the run scored no image of it, "n/a" when the run has no per-source numbers.
 */
export function perSourceCompareRows(runs: ComparedRun[]): Array<Record<string, string>> {
  const cells = runs.map((r) => {
    const table = sourceTableRows(r.perSource ?? []);
    return new Map(
      table.map((t) => [`${t.source} (${t.class})`, `${t['recall / specificity']}; AUC ${t.AUC} (n ${t.images})`]),
    );
  });
  return sourceKeys(runs.map((r) => r.perSource ?? [])).map((key) => ({
    source: key,
    ...Object.fromEntries(runs.map((r, i) => [r.id, r.perSource ? (cells[i].get(key) ?? '—') : 'n/a'])),
  }));
}

/** Images per source in each run's dataset: which sources a run saw at all ("—": none; "n/a": unknown). */
export function sourceCountRows(runs: ComparedRun[]): Array<Record<string, string>> {
  const counts = runs.map((r) => new Map((r.sourceCounts ?? []).map((c) => [sourceKey(c), String(c.count)])));
  return sourceKeys(runs.map((r) => r.sourceCounts ?? [])).map((key) => ({
    source: key,
    ...Object.fromEntries(runs.map((r, i) => [r.id, r.sourceCounts ? (counts[i].get(key) ?? '—') : 'n/a'])),
  }));
}

const show = (v: unknown) => (v === null ? 'all' : v === undefined ? '—' : String(v));

/** One row per setting whose value differs between the runs. */
export function configDifferenceRows(runs: ComparedRun[]): Array<Record<string, string>> {
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.config)))].sort();
  return keys
    .filter(
      (key) => new Set(runs.map((r) => JSON.stringify((r.config as unknown as Record<string, unknown>)[key]))).size > 1,
    )
    .map((key) => ({
      setting: key,
      ...Object.fromEntries(runs.map((r) => [r.id, show((r.config as unknown as Record<string, unknown>)[key])])),
    }));
}

export function metricRows(runs: ComparedRun[]): Array<Record<string, string>> {
  return [
    {
      metric: 'split (images)',
      ...Object.fromEntries(runs.map((r) => [r.id, `${r.metrics.split ?? '?'} (${r.metrics.n})`])),
    },
    ...INTERVAL_METRICS.map((key) => ({
      metric: key,
      ...Object.fromEntries(runs.map((r) => [r.id, formatInterval(r.intervals.intervals[key])])),
    })),
  ];
}

/** Each run's point estimate of every interval metric: `{ accuracy: [run 0, run 1, ...], ... }`. */
export function metricValues(runs: ComparedRun[]): Record<string, number[]> {
  return Object.fromEntries(INTERVAL_METRICS.map((key) => [key, runs.map((r) => r.intervals.intervals[key].estimate)]));
}

/** Paired tests for every pair of runs, on the images both scored (matched by file, labels must agree). */
export function pairedTests(runs: ComparedRun[]): PairedRow[] {
  const rows: PairedRow[] = [];
  for (let i = 0; i < runs.length; i++) {
    for (let j = i + 1; j < runs.length; j++) {
      const a = runs[i];
      const b = runs[j];
      const byFile = new Map(b.predictions.map((p) => [p.file, p]));
      const shared = a.predictions.filter((p) => byFile.get(p.file)?.label === p.label);
      if (!shared.length) continue;
      const labels = shared.map((p) => p.label);
      const sa = shared.map((p) => p.pFake);
      const sb = shared.map((p) => byFile.get(p.file)!.pFake);
      const mcnemar = mcnemarTest(
        labels,
        sa.map((s) => (s >= a.metrics.threshold ? 1 : 0)),
        sb.map((s) => (s >= b.metrics.threshold ? 1 : 0)),
      );
      const bothClasses = labels.includes(0) && labels.includes(1);
      rows.push({
        a: a.id,
        b: b.id,
        n: shared.length,
        mcnemar,
        delong: bothClasses ? delongTest(labels, sa, sb) : null,
      });
    }
  }
  return rows;
}

export function comparisonFigures(runs: ComparedRun[], seedGroups?: SeedGroup[]): Record<string, Figure> {
  const color = (i: number) => PALETTE[i % PALETTE.length];
  const layout = (title: string, x: string, y: string, extra: Record<string, unknown> = {}) => ({
    title: { text: title },
    xaxis: { title: { text: x } },
    yaxis: { title: { text: y } },
    width: 640,
    height: 480,
    margin: { l: 70, r: 30, t: 60, b: 60 },
    ...extra,
  });
  const curves = runs.map((r) =>
    computeMetrics(
      r.predictions.map((p) => p.label),
      r.predictions.map((p) => p.pFake),
      r.metrics.threshold,
    ),
  );
  const figures: Record<string, Figure> = {
    compare_roc: {
      data: [
        ...runs.map((r, i) => ({
          type: 'scatter',
          mode: 'lines',
          name: `${r.id} (AUC ${curves[i].auc.toFixed(3)})`,
          x: curves[i].roc.fpr,
          y: curves[i].roc.tpr,
          line: { color: color(i) },
        })),
        referenceLine('chance'),
      ],
      layout: layout('ROC curves (positive class: Fake)', 'False positive rate', 'True positive rate'),
    },
    compare_pr: {
      data: runs.map((r, i) => ({
        type: 'scatter',
        mode: 'lines',
        name: `${r.id} (AP ${curves[i].averagePrecision.toFixed(3)})`,
        x: curves[i].pr.recall,
        y: curves[i].pr.precision,
        line: { shape: 'hv', color: color(i) },
      })),
      layout: layout('Precision-recall curves (positive class: Fake)', 'Recall', 'Precision'),
    },
  };
  for (const [key, title] of [
    ['loss', 'Loss per epoch'],
    ['accuracy', 'Accuracy per epoch'],
  ] as const) {
    const data = runs.flatMap((r, i) =>
      r.history
        ? [
            {
              type: 'scatter',
              mode: 'lines',
              name: `${r.id} train`,
              x: r.history.epoch,
              y: r.history[key],
              line: { color: color(i), dash: 'dot' },
            },
            {
              type: 'scatter',
              mode: 'lines',
              name: `${r.id} validation`,
              x: r.history.epoch,
              y: r.history[`val_${key}` as 'val_loss' | 'val_accuracy'],
              line: { color: color(i) },
            },
          ]
        : [],
    );
    if (data.length)
      figures[`compare_${key}`] = { data, layout: layout(`${title} (dotted: train, solid: validation)`, 'Epoch', key) };
  }
  if (seedGroups && hasSeedRepeats(seedGroups))
    figures.compare_seeds = seedSpreadFigure(seedGroups, INTERVAL_METRICS, metricValues(runs));
  // One per-source chart per run that has several sources in a class (as evaluate writes them).
  for (const r of runs)
    if (r.perSource && hasSeveralSources(r.perSource))
      figures[`per_source_${r.id}`] = perSourceFigure(r.perSource, `${r.id}: per source (95 % bootstrap intervals)`);
  return figures;
}

function markdownTable(rows: Array<Record<string, string>>): string {
  if (!rows.length) return '(none)';
  const headers = Object.keys(rows[0]);
  return [
    `| ${headers.join(' | ')} |`,
    `|${headers.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${headers.map((h) => r[h] ?? '').join(' | ')} |`),
  ].join('\n');
}

export function pairedTableRows(paired: PairedRow[]): Array<Record<string, string>> {
  const p = (v: number) => (v < 1e-4 ? v.toExponential(2) : v.toFixed(4));
  return paired.map((r) => ({
    'run A': r.a,
    'run B': r.b,
    images: String(r.n),
    'McNemar b / c': `${r.mcnemar.b} / ${r.mcnemar.c}`,
    'McNemar p (exact)': p(r.mcnemar.exactPValue),
    'McNemar p (chi2, cc)': p(r.mcnemar.pValue),
    'AUC A - B': r.delong ? r.delong.difference.toFixed(4) : 'n/a',
    'DeLong p': r.delong ? p(r.delong.pValue) : 'n/a',
  }));
}

export function compareRuns(dirs: string[], options: { resamples?: number } = {}): Comparison {
  if (dirs.length < 1) throw new Error('compare: give at least one run folder');
  const runs = dirs.map((d) => loadComparedRun(d, options));
  const configRows = configDifferenceRows(runs);
  const rows = metricRows(runs);
  const paired = pairedTests(runs);
  const sourceRows = perSourceCompareRows(runs);
  const countRows = sourceCountRows(runs);
  const seedGroups = groupBySeed(runs.map((r) => r.config));
  const seedRows = hasSeedRepeats(seedGroups) ? seedGroupRows(seedGroups, INTERVAL_METRICS, metricValues(runs)) : [];
  const markdown = [
    `# Comparison of ${runs.length} runs`,
    '',
    '## Settings that differ',
    '',
    markdownTable(configRows),
    '',
    `## Metrics (${runs[0].intervals.confidence * 100} % bootstrap intervals)`,
    '',
    markdownTable(rows),
    '',
    ...(seedRows.length
      ? [
          '## Across seeds (mean ± sample sd, ddof = 1)',
          '',
          "Runs whose settings differ only in seed and/or splitSeed, grouped; each run's value in the order of its seeds.",
          '',
          markdownTable(seedRows),
          '',
        ]
      : []),
    '## Per source (95 % bootstrap intervals)',
    '',
    "On each run's evaluated split at its threshold: fake sources' recall and real sources' specificity, and ROC AUC against the whole other class. n/a: the run was evaluated before sources existed (run evaluate again); —: it scored no image of that source.",
    '',
    markdownTable(sourceRows),
    '',
    "## Sources each run's dataset holds (images)",
    '',
    "From each run's dataset.json; n/a: the dataset is not at hand or predates sources.",
    '',
    markdownTable(countRows),
    '',
    '## Paired tests on the shared images',
    '',
    'McNemar: b = images A gets right and B wrong, c = the reverse (exact binomial p, and chi-square with continuity correction). DeLong: difference of the ROC AUCs.',
    '',
    markdownTable(pairedTableRows(paired)),
    '',
  ].join('\n');
  return {
    runs,
    configRows,
    metricRows: rows,
    sourceRows,
    sourceCountRows: countRows,
    paired,
    seedGroups,
    seedRows,
    figures: comparisonFigures(runs, seedGroups),
    markdown,
  };
}

/**
 * Writes a comparison into `out`: comparison.md, figures.html (every figure, interactive) and, with `svg`, each
 * figure as out/figures/NAME.svg (rendered in Chromium; `note` says why when it could not be). Returns the files.
 */
export async function writeComparisonFiles(
  out: string,
  title: string,
  markdown: string,
  figures: Record<string, Figure>,
  options: { svg?: boolean } = {},
): Promise<{ files: string[]; note?: string }> {
  fs.mkdirSync(out, { recursive: true });
  const files = [path.join(out, 'comparison.md'), path.join(out, 'figures.html')];
  writeFileAtomic(files[0], markdown);
  writeFileAtomic(files[1], figuresPageHtml(title, figures));
  if (!options.svg) return { files };
  fs.mkdirSync(path.join(out, 'figures'), { recursive: true });
  const images = await writeFigureImages(figureImageFiles(figures, path.join(out, 'figures'), ['svg']));
  return { files: [...files, ...images.written], note: images.skipped };
}
