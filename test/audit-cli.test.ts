/** `realfake audit` end to end on the embedded synthetic set made in two formats. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { realfake as runCli } from './helpers/cli';

const realfake = (args: string[], cwd: string) => runCli(args, cwd, 600_000);

test('realfake audit: usage errors exit 2, a missing folder exits 1 with one line', () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-audit-'));
  assert.equal(realfake(['audit', '--real', 'a'], cwd).code, 2);
  assert.equal(realfake(['audit', '--harmonize'], cwd).code, 2);
  const missing = realfake(['audit', '--real', 'nope-real', '--fake', 'nope-fake', '--size', '64'], cwd);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr.trim(), /^realfake: nope-real: folder not found$/);
});

test('realfake audit on the embedded data: finds the format difference, prints and writes the probes table', () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-audit-'));
  const run = realfake(['audit', '--size', '64', '--limit', '40', '--val-fraction', '0.3', '--out', 'out'], cwd);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /every fake is a 256x256 px JPEG; every real a 64x64 px PNG/);
  assert.match(run.stdout, /\| metadata \| 1\.000 \[1\.000, 1\.000\] \|/);
  for (const model of ['spectrum', 'cnn']) assert.match(run.stdout, new RegExp(`\\| ${model} \\| \\d\\.\\d{3} \\[`));
  const [dir] = fs.readdirSync(path.join(cwd, 'out'));
  const files = fs.readdirSync(path.join(cwd, 'out', dir));
  for (const f of [
    'audit.csv',
    'audit.json',
    'audit_file_size.html',
    'comparison.json',
    'comparison.csv',
    'comparison.html',
  ])
    assert.ok(files.includes(f), f);
  const comparison = JSON.parse(fs.readFileSync(path.join(cwd, 'out', dir, 'comparison.json'), 'utf8'));
  assert.deepEqual(
    comparison.map((r: { preprocessing: string; model: string }) => `${r.preprocessing} ${r.model}`),
    ['study metadata', 'study spectrum', 'study cnn', 'harmonized metadata', 'harmonized spectrum', 'harmonized cnn'],
  );
  const audit = fs
    .readFileSync(path.join(cwd, 'out', dir, 'audit.csv'), 'utf8')
    .trim()
    .split('\n');
  assert.equal(audit.length, 81);
  assert.match(audit[1], /,real,ok,,png,64,64,\d+,[\d.]+,,srgb,0$/);
  assert.match(audit[80], /,fake,ok,,jpeg,256,256,\d+,[\d.]+,95,srgb,0$/);
});
