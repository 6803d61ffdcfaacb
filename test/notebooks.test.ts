/**
 * The notebooks: committed without outputs; the lib code they import compiles under tslab's own
 * compiler settings; they execute headless with the smoke preset (npm run notebooks:run); and the exported
 * HTML of the evaluation notebook draws its Plotly charts in headless Chromium (screenshot saved under
 * outputs/notebooks/). The headless run is reused when outputs/notebooks/run.json is newer than every
 * notebook, lib and runner file; skipped with a message when Jupyter, playwright-core or Chromium is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { skipForMissingTool, toolSkip } from './helpers/tools';
import { CHROMIUM_FLAGS, chromiumPath } from '../lib/viz/plots';
import {
  findJupyterPython,
  JUPYTER_INSTALL_HINT,
  NOTEBOOKS,
  notebookRunnerPaths,
  runNotebooks,
  type RunSummary,
} from '../scripts/notebooks';

const paths = notebookRunnerPaths();
const CHROMIUM = chromiumPath();

interface Cell {
  cell_type: string;
  source: string[] | string;
  outputs?: unknown[];
  execution_count?: number | null;
}

function readNotebook(file: string): { cells: Cell[]; metadata: { kernelspec?: { name?: string } } } {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

const notebookFile = (name: string) => path.join(paths.notebooks, `${name}.ipynb`);
const sourceText = (cell: Cell) => (Array.isArray(cell.source) ? cell.source.join('') : cell.source);

test('every notebook is committed without outputs and uses the tslab kernel', () => {
  for (const name of NOTEBOOKS) {
    const nb = readNotebook(notebookFile(name));
    assert.equal(nb.metadata.kernelspec?.name, 'tslab', `${name}: kernel`);
    const code = nb.cells.filter((c) => c.cell_type === 'code');
    assert.ok(code.length > 0, `${name}: has code cells`);
    for (const [i, cell] of code.entries()) {
      assert.deepEqual(
        cell.outputs,
        [],
        `${name}: code cell ${i + 1} has outputs (run \`node dist/scripts/notebooks.js clear\`)`,
      );
      assert.equal(cell.execution_count, null, `${name}: code cell ${i + 1} has an execution count`);
    }
    assert.ok(
      nb.cells.some((c) => c.cell_type === 'markdown' && /^## Parameters/m.test(sourceText(c))),
      `${name}: has a Parameters section`,
    );
  }
});

test("notebooks' code is a thin caller of lib (never lib/cli) and takes every shared-data path from sharedRoot()", () => {
  for (const name of NOTEBOOKS) {
    const text = readNotebook(notebookFile(name))
      .cells.filter((c) => c.cell_type === 'code')
      .map(sourceText)
      .join('\n');
    assert.doesNotMatch(text, /from '\.\/lib\/cli\//, `${name}: imports lib/cli (move what it needs into lib/)`);
    // A path like '../shared' or '../../shared' only works from one checkout's layout; sharedRoot() reads REALFAKE_SHARED.
    assert.doesNotMatch(text, /['"`](\.\.\/)+shared\b/, `${name}: a hard-coded shared path (use sharedRoot())`);
  }
});

/** The lib modules the notebooks import (tslab type-checks them, and everything they import, itself). */
function importedLibFiles(): string[] {
  const files = new Set<string>();
  for (const name of NOTEBOOKS) {
    for (const cell of readNotebook(notebookFile(name)).cells) {
      for (const m of sourceText(cell).matchAll(/from '\.\/(lib\/[\w/.-]+)'/g))
        files.add(path.join(paths.root, `${m[1]}.ts`));
    }
  }
  return [...files].sort();
}

test("the lib code the notebooks import compiles under tslab's compiler settings", (t) => {
  // tslab compiles with its own TypeScript (5.0), without `strict`, and with no DOM types: code that passes
  // the project's tsc can still fail there (e.g. narrowing that needs strictNullChecks, or `window`).
  const tsc = path.join(paths.root, 'node_modules', '@tslab', 'typescript-for-tslab', 'bin', 'tsc');
  if (skipForMissingTool(t, !fs.existsSync(tsc) && `${tsc} not installed (it comes with the tslab devDependency)`))
    return;
  const files = importedLibFiles();
  assert.ok(files.length >= 5, 'notebooks import lib modules');
  const args = [
    '--noEmit',
    '--lib',
    'es2022',
    '--target',
    'es2022',
    '--module',
    'esnext',
    '--moduleResolution',
    'node',
    '--esModuleInterop',
    '--skipLibCheck',
    '--resolveJsonModule',
    '--types',
    'node',
    ...files,
  ];
  const result = spawnSync(process.execPath, [tsc, ...args], { cwd: paths.root, encoding: 'utf8' });
  assert.equal(
    result.status,
    0,
    `tslab's compiler rejects lib code the notebooks import:\n${result.stdout}${result.stderr}`,
  );
});

function newestMtime(dir: string, pattern: RegExp): number {
  if (!fs.existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full, pattern));
    else if (pattern.test(entry.name)) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

/** The last headless smoke run, if it succeeded and nothing it depends on changed since. */
function freshSmokeRun(): RunSummary | null {
  if (!fs.existsSync(paths.runFile)) return null;
  const summary = JSON.parse(fs.readFileSync(paths.runFile, 'utf8')) as RunSummary;
  if (!summary.ok || summary.preset !== 'smoke' || summary.notebooks.length !== NOTEBOOKS.length) return null;
  const inputs = Math.max(
    newestMtime(paths.notebooks, /\.ipynb$/),
    newestMtime(path.join(paths.root, 'lib'), /\.ts$/),
    newestMtime(path.join(paths.root, 'scripts'), /\.(ts|py)$/),
  );
  return fs.statSync(paths.runFile).mtimeMs > inputs ? summary : null;
}

let headless: RunSummary | null = null;
const jupyterPython = findJupyterPython();

test(
  'npm run notebooks:run executes every notebook headless without a cell error (smoke preset)',
  { skip: toolSkip(jupyterPython ? false : `Jupyter not installed: ${JUPYTER_INSTALL_HINT}`) },
  (t) => {
    headless = freshSmokeRun();
    if (headless) {
      t.diagnostic(`reusing the headless run of ${headless.startedAt} (${headless.seconds} s): nothing changed since`);
    } else {
      headless = runNotebooks(NOTEBOOKS, { preset: 'smoke' });
      t.diagnostic(
        `headless run: ${headless.seconds} s (${headless.notebooks.map((n) => `${path.basename(n.notebook)} ${n.seconds} s`).join(', ')})`,
      );
    }
    const failed = headless.notebooks.filter((n) => !n.ok);
    assert.deepEqual(
      failed.map((n) => `${n.notebook} cell ${n.cell}: ${n.error}`),
      [],
    );
    assert.equal(headless.notebooks.length, NOTEBOOKS.length);
    assert.ok(headless.ok);
    for (const name of NOTEBOOKS) {
      for (const ext of ['ipynb', 'html'])
        assert.ok(fs.existsSync(path.join(paths.outputs, `${name}.${ext}`)), `${name}.${ext} written`);
      // plotly.js is inlined at most once per notebook, not once per chart.
      const html = fs.readFileSync(path.join(paths.outputs, `${name}.html`), 'utf8');
      const copies = html.split('* plotly.js v').length - 1;
      assert.ok(copies <= 1, `${name}.html holds ${copies} copies of plotly.js`);
      if (name !== '02_model') assert.equal(copies, 1, `${name}.html has its charts' plotly.js`);
    }
  },
);

function chromiumSkipReason(): string | false {
  try {
    require.resolve('playwright-core');
  } catch {
    return 'optional package playwright-core is not installed';
  }
  return fs.existsSync(CHROMIUM)
    ? false
    : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set REALFAKE_CHROMIUM)`;
}

test(
  'the exported evaluation notebook draws its confusion matrix, ROC and loss/accuracy charts in headless Chromium',
  { skip: jupyterPython ? toolSkip(chromiumSkipReason()) : 'Jupyter not installed' },
  async (t) => {
    const htmlFile = path.join(paths.outputs, '04_evaluation.html');
    if (!headless?.ok || !fs.existsSync(htmlFile)) return void t.skip('the headless run did not succeed');
    const { chromium } = require('playwright-core') as typeof import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      // The export links require.js and MathJax from a CDN; offline, those requests fail and must not matter.
      await page.goto(`file://${htmlFile}`, { waitUntil: 'domcontentloaded', timeout: 120_000 });
      await page.waitForFunction(
        () =>
          document.querySelectorAll('.js-plotly-plot .main-svg').length >= 5 &&
          !document.querySelector('[id$="-fallback"]'),
        undefined,
        { timeout: 120_000 },
      );
      const charts = await page.evaluate(() =>
        Array.from(document.querySelectorAll('.js-plotly-plot')).map((plot) => ({
          title: plot.querySelector('.gtitle')?.textContent ?? '',
          svgs: plot.querySelectorAll('svg.main-svg').length,
          heatmapImages: plot.querySelectorAll('g.hm image').length,
          lines: Array.from(plot.querySelectorAll('.scatterlayer path.js-line')).filter(
            (p) => (p.getAttribute('d') ?? '').length > 10,
          ).length,
          annotations: Array.from(plot.querySelectorAll('.annotation-text')).map((a) => a.textContent),
        })),
      );
      const find = (prefix: string) => {
        const chart = charts.find((c) => c.title.startsWith(prefix));
        assert.ok(chart, `no chart titled "${prefix}…" (found: ${charts.map((c) => c.title).join(' | ')})`);
        assert.ok(chart.svgs > 0, `${prefix}: no Plotly SVG`);
        return chart;
      };
      const confusion = find('Confusion matrix');
      assert.equal(confusion.heatmapImages, 1, 'confusion matrix heatmap drawn');
      assert.equal(confusion.annotations.length, 4, 'four counts written in the cells');
      assert.ok(find('ROC curve').lines >= 2, 'ROC curve and chance line drawn');
      assert.ok(find('Loss per epoch').lines >= 2, 'train and validation loss drawn');
      assert.ok(find('Accuracy per epoch').lines >= 2, 'train and validation accuracy drawn');
      assert.ok(find('Precision-recall curve').lines >= 1, 'precision-recall curve drawn');
      const screenshot = path.join(paths.outputs, '04_evaluation.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      t.diagnostic(`screenshot: ${path.relative(paths.root, screenshot)}`);

      // Viewers that run no script (GitHub, untrusted notebooks) get the static fallback of every chart.
      const noScript = await browser.newPage({ javaScriptEnabled: false });
      await noScript.goto(`file://${htmlFile}`, { waitUntil: 'domcontentloaded', timeout: 120_000 });
      const fallbacks = await noScript.evaluate(
        () =>
          Array.from(document.querySelectorAll('[id$="-fallback"]')).filter((f) => f.querySelector('img, table'))
            .length,
      );
      assert.ok(fallbacks >= 5, `static fallbacks without JavaScript: ${fallbacks}`);
    } finally {
      await browser.close();
    }
  },
);

test(
  'a dataset and run made by the CLI elsewhere are reused by notebooks run from notebooks/ (01 finds the cache, 05 predicts)',
  { skip: toolSkip(jupyterPython ? false : `Jupyter not installed: ${JUPYTER_INSTALL_HINT}`) },
  () => {
    const work = fs.mkdtempSync(path.join(require('os').tmpdir(), 'rf-nb-cli-'));
    const bin = path.join(paths.root, 'bin', 'realfake.js');
    // The CLI from its own working directory with relative paths, as `npm start` runs from the project root.
    const cli = spawnSync(
      process.execPath,
      [
        bin,
        'run',
        '--preset',
        'smoke',
        '--limit',
        '10',
        '--epochs',
        '1',
        '--data-root',
        'data',
        '--out',
        'runs',
        '--workers',
        '1',
      ],
      {
        cwd: work,
        encoding: 'utf8',
        env: { ...process.env, REALFAKE_BACKEND: 'wasm' },
      },
    );
    assert.equal(cli.status, 0, cli.stderr);
    const paramsFile = path.join(work, 'params.json');
    fs.writeFileSync(paramsFile, JSON.stringify({ preset: 'smoke', overrides: { limitPerClass: 10, epochs: 1 } }));
    const saved = { ...process.env };
    Object.assign(process.env, {
      REALFAKE_PARAMS: paramsFile,
      REALFAKE_DATA_ROOT: path.join(work, 'data'),
      REALFAKE_RUNS_ROOT: path.join(work, 'runs'),
    });
    let summary: RunSummary;
    try {
      summary = runNotebooks(['01_preprocessing', '05_prediction'], {
        preset: 'smoke',
        paths: { ...paths, outputs: path.join(work, 'executed'), runFile: path.join(work, 'executed', 'run.json') },
      });
    } finally {
      for (const key of ['REALFAKE_PARAMS', 'REALFAKE_DATA_ROOT', 'REALFAKE_RUNS_ROOT']) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
    assert.deepEqual(
      summary.notebooks.filter((n) => !n.ok).map((n) => `${n.notebook} cell ${n.cell}: ${n.error}`),
      [],
    );
    const executed = fs.readFileSync(path.join(work, 'executed', '01_preprocessing.ipynb'), 'utf8');
    assert.match(
      executed,
      /preprocessed data: \S+data\/cache\/synthetic-64px-nearest-10-[0-9a-f]{12} \(cached\)/,
      "01 reused the CLI's dataset",
    );
    assert.equal(fs.readdirSync(path.join(work, 'data', 'cache')).length, 1);
    const predicted = fs.readFileSync(path.join(work, 'executed', '05_prediction.ipynb'), 'utf8');
    assert.match(predicted, /(Real|Fake \(AI-generated\))/);
  },
);
