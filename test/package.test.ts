/** package.json tells the truth: main/types exist after the build, engines covers what the code needs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { projectRoot } from '../lib/files';

const root = projectRoot();
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

test('main and types point at files the build writes, and main loads the public API', () => {
  for (const field of ['main', 'types'])
    assert.ok(fs.existsSync(path.join(root, pkg[field])), `${field}: ${pkg[field]} exists`);
  const api = require(path.join(root, pkg.main));
  for (const name of [
    'resolveConfig',
    'preprocessFolders',
    'trainRun',
    'evaluateRun',
    'Predictor',
    'runPipeline',
    'splitIndices',
  ]) {
    assert.equal(typeof api[name], 'function', `${name} exported`);
  }
});

test('engines.node starts at a Node with zlib.crc32 (20.15), and this Node satisfies it', () => {
  const min = /^>=(\d+)\.(\d+)/.exec(pkg.engines.node);
  assert.ok(min, `engines.node "${pkg.engines.node}" has a lower bound`);
  assert.deepEqual([Number(min[1]), Number(min[2])], [20, 15]);
  assert.equal(typeof (require('zlib') as { crc32?: unknown }).crc32, 'function');
});
