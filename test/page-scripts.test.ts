/**
 * The compiled lib/ modules the page loads as classic scripts (crop.js, verdict.js, lanczos.js, blazeface.js),
 * run as a browser runs them: in index.html's order, with its inline scripts, in one global scope. There the
 * scripts share their top-level names and one `exports` object, which their functions read again when called
 * (tsc compiles a module's use of its own exported const to `exports.NAME`). So no name may be declared or
 * exported twice: a const declared twice stops the page (SyntaxError), a function declared twice silently swaps
 * one module's helper for the other's, an export twice replaces the first module's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as vm from 'vm';
import { projectRoot } from '../lib/files';
import { pageAssets } from '../lib/serve/assets';

const assets = pageAssets();
const compiled = path.join(projectRoot(), 'dist', 'lib') + path.sep;

interface PageScript {
  name: string;
  code: string;
  /** The compiled module's file (absent for inline scripts). */
  module?: string;
}

/** index.html's compiled-module scripts and inline scripts, in document order (vendored libraries left out). */
function pageScripts(): PageScript[] {
  const html = fs.readFileSync(assets['index.html'], 'utf8');
  return [...html.matchAll(/<script(?: src="([^"]+)")?>([\s\S]*?)<\/script>/g)].flatMap(([, src, inline]) => {
    if (!src) return [{ name: 'inline script', code: inline }];
    const file = assets[src];
    return file?.startsWith(compiled) ? [{ name: src, code: fs.readFileSync(file, 'utf8'), module: file }] : [];
  });
}

const exportsOf = (file: string) => require(file) as Record<string, unknown>;

test("the page's compiled modules run side by side and their functions work when called", () => {
  const scripts = pageScripts();
  const modules = scripts.filter((s) => s.module).map((s) => s.name);
  assert.deepEqual(modules, ['crop.js', 'verdict.js', 'lanczos.js', 'blazeface.js']);
  const page = vm.createContext({});
  page.window = page;
  for (const s of scripts) {
    try {
      vm.runInContext(s.code, page, { filename: s.name });
    } catch (err) {
      assert.fail(`${s.name}: ${(err as Error).message}`);
    }
  }
  const lib = page.realfakeLib as Record<string, unknown>;
  for (const s of scripts.filter((x) => x.module))
    for (const [name, value] of Object.entries(exportsOf(s.module!)))
      assert.equal(String(lib[name]), String(value), `${s.name}: export ${name} on the page`);
  // Known answers from functions that read their module's exports when called: s(logit(0.7) / 2), 2 x 16 x 16 +
  // 6 x 8 x 8 anchors.
  const call = (fn: string, ...args: unknown[]) => (lib[fn] as (...a: unknown[]) => unknown)(...args);
  assert.ok(Math.abs((call('applyTemperature', 0.7, 2) as number) - 1 / (1 + Math.sqrt(3 / 7))) < 1e-12);
  assert.equal((call('blazeAnchors') as unknown[]).length, 896);
});

test("no name is declared or exported by two of the page's compiled modules", () => {
  // Two namespaces: the global scope (top-level declarations) and the shared `exports` object.
  const owners = { declared: new Map<string, string>(), exported: new Map<string, string>() };
  const twice: string[] = [];
  for (const s of pageScripts().filter((x) => x.module)) {
    const names = {
      declared: [...s.code.matchAll(/^(?:const|let|var|class|(?:async )?function\*?)\s+([\w$]+)/gm)].map((m) => m[1]),
      exported: Object.keys(exportsOf(s.module!)),
    };
    for (const kind of ['declared', 'exported'] as const)
      for (const name of names[kind]) {
        if (owners[kind].has(name)) twice.push(`${name} ${kind} in ${owners[kind].get(name)} and ${s.name}`);
        owners[kind].set(name, s.name);
      }
  }
  assert.ok(owners.declared.size > 20, `only ${owners.declared.size} declarations found: is the pattern still right?`);
  assert.deepEqual(twice, []);
});
