/**
 * The layering of lib/ (ARCHITECTURE.md), checked on the source: every import of every lib/**\/*.ts file
 * (static, type-only, `export ... from`, dynamic `import()` and `require()`, as TypeScript's own
 * preProcessFile finds them), and every `./lib/...` a notebook names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';

const ROOT = path.join(__dirname, '..', '..');
const LIB = path.join(ROOT, 'lib');

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(file);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [file] : [];
  });
}

/** A module's name relative to lib/ without extension: 'infer/predict', 'config', 'cli/main'. */
const moduleName = (file: string, lib = LIB): string =>
  path.relative(lib, file).replace(/\.ts$/, '').split(path.sep).join('/');

/** The lib/ modules `file` imports (relative specifiers only; packages are not lib/). */
function libImports(file: string, lib = LIB): string[] {
  const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
  const found: string[] = [];
  for (const { fileName } of info.importedFiles) {
    if (!fileName.startsWith('.')) continue;
    const target = path.resolve(path.dirname(file), fileName);
    const candidates = [`${target}.ts`, path.join(target, 'index.ts')];
    const hit = candidates.find((c) => fs.existsSync(c));
    if (hit && hit.startsWith(lib + path.sep)) found.push(moduleName(hit, lib));
  }
  return [...new Set(found)];
}

const files = tsFiles(LIB);
const graph = new Map(files.map((f) => [moduleName(f), libImports(f)]));
/** The folder a module lives in ('infer'), or the module itself for files at lib/'s top ('pipeline'). */
const layer = (name: string): string => name.split('/')[0];

/** Strongly connected components of more than one module (Tarjan): each is an import cycle. */
function importCycles(g: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of g.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (g.get(v) ?? []).includes(v)) cycles.push(component.sort());
  };
  for (const v of g.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

/** "from -> to" for every import of a module in layer `from` into one in a forbidden layer. */
function forbidden(from: string, to: readonly string[]): string[] {
  const bad: string[] = [];
  for (const [name, imports] of graph) {
    if (layer(name) !== from) continue;
    for (const target of imports) if (to.includes(layer(target))) bad.push(`${name} -> ${target}`);
  }
  return bad;
}

test('the import parser sees static, type-only, re-export, dynamic and require imports', () => {
  const lib = fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-architecture-'));
  try {
    for (const name of ['config', 'files', 'random', 'interrupt', 'file-access']) {
      fs.writeFileSync(path.join(lib, `${name}.ts`), 'export {};\n');
    }
    fs.mkdirSync(path.join(lib, 'probe'));
    const probe = path.join(lib, 'probe', 'probe.ts');
    fs.writeFileSync(
      probe,
      [
        "import { x } from '../config';",
        "import type { Run } from '../files';",
        "export { y } from '../random';",
        "const lazy = () => import('../interrupt');",
        "const old = require('../file-access');",
        "import * as fs from 'fs';",
      ].join('\n'),
    );
    assert.deepEqual(libImports(probe, lib).sort(), ['config', 'file-access', 'files', 'interrupt', 'random']);
  } finally {
    fs.rmSync(lib, { recursive: true, force: true });
  }
});

test('the cycle finder finds a cycle and passes a tree', () => {
  const cyclic = new Map([
    ['a', ['b']],
    ['b', ['c']],
    ['c', ['a']],
    ['d', ['a']],
  ]);
  assert.deepEqual(importCycles(cyclic), [['a', 'b', 'c']]);
  assert.deepEqual(
    importCycles(
      new Map([
        ['a', ['b']],
        ['b', []],
      ]),
    ),
    [],
  );
});

test('lib/ has no import cycle', () => {
  assert.deepEqual(importCycles(graph), []);
});

test('infer, eval and serve never import train/ (inference does not depend on the training loop)', () => {
  assert.deepEqual(
    [...forbidden('infer', ['train']), ...forbidden('eval', ['train']), ...forbidden('serve', ['train'])],
    [],
  );
});

test('train never imports eval/ (the loop asks for metrics by name, from a lower home)', () => {
  assert.deepEqual(forbidden('train', ['eval']), []);
});

test('data never imports audit/ (image facts are data columns)', () => {
  assert.deepEqual(forbidden('data', ['audit']), []);
});

test('the layers below train import nothing above them', () => {
  const above = [
    'train',
    'infer',
    'eval',
    'serve',
    'cli',
    'notebook',
    'audit',
    'pipeline',
    'crossval',
    'sweep',
    'index',
  ];
  const below = ['config', 'files', 'file-access', 'random', 'interrupt', 'backend', 'data', 'runs', 'model'];
  assert.deepEqual(
    below.flatMap((from) => forbidden(from, above)),
    [],
  );
});

test('no notebook imports lib/cli', () => {
  const notebooks = path.join(ROOT, 'notebooks');
  const bad: string[] = [];
  for (const name of fs.readdirSync(notebooks).filter((n) => n.endsWith('.ipynb'))) {
    const text = fs.readFileSync(path.join(notebooks, name), 'utf8');
    if (/\.\/lib\/cli\//.test(text)) bad.push(name);
  }
  assert.deepEqual(bad, []);
});

test('one spectrum.ts, one bootstrap.ts, one class HttpError in lib/', () => {
  const named = (base: string): string[] => files.filter((f) => path.basename(f) === base).map((f) => moduleName(f));
  assert.equal(named('spectrum.ts').length, 1, named('spectrum.ts').join(', '));
  assert.equal(named('bootstrap.ts').length, 1, named('bootstrap.ts').join(', '));
  const httpErrors = files
    .filter((f) => /\bclass HttpError\b/.test(fs.readFileSync(f, 'utf8')))
    .map((f) => moduleName(f));
  assert.equal(httpErrors.length, 1, httpErrors.join(', '));
});
