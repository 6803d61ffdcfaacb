import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PRESETS, resolveConfig, STUDY_DEFAULTS } from '../lib/config';
import { splitIndices } from '../lib/random';

test('defaults are the study\'s values', () => {
  const c = resolveConfig();
  assert.equal(c.imageSize, 128);
  assert.equal(c.resize, 'nearest');
  assert.equal(c.limitPerClass, 3000);
  assert.equal(c.valFraction, 0.2);
  assert.equal(c.epochs, 100);
  assert.equal(c.batchSize, 32);
  assert.equal(c.learningRate, 1e-5);
  assert.equal(c.beta1, 0.9);
  assert.equal(c.beta2, 0.999);
  assert.equal(c.dropout, 0.5);
});

test('precedence: defaults < preset < file < overrides', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rf-config-')), 'c.json');
  fs.writeFileSync(file, JSON.stringify({ epochs: 3, seed: 9 }));
  const c = resolveConfig({ preset: 'smoke', file, overrides: { seed: 5, learningRate: undefined } });
  assert.equal(c.imageSize, PRESETS.smoke.imageSize);
  assert.equal(c.learningRate, PRESETS.smoke.learningRate);
  assert.equal(c.epochs, 3);
  assert.equal(c.seed, 5);
  assert.equal(c.batchSize, PRESETS.smoke.batchSize);
  assert.equal(c.valFraction, STUDY_DEFAULTS.valFraction);
});

test('bad values are rejected with the field named', () => {
  assert.throws(() => resolveConfig({ overrides: { imageSize: 32 } }), /imageSize/);
  assert.throws(() => resolveConfig({ overrides: { valFraction: 0 } }), /valFraction/);
  assert.throws(() => resolveConfig({ overrides: { valFraction: 0.5, testFraction: 0.5 } }), /testFraction/);
  assert.throws(() => resolveConfig({ overrides: { resize: 'cubic' as never } }), /resize/);
  assert.throws(() => resolveConfig({ preset: 'fast' }), /unknown preset "fast"/);
  assert.throws(() => resolveConfig({ file: '/nonexistent/c.json' }), /\/nonexistent\/c\.json: cannot read config JSON/);
  assert.throws(() => resolveConfig({ overrides: { colour: 1 } as never }), /colour is not a known setting/);
});

test('seeded split: sizes like scikit-learn, disjoint, reproducible', () => {
  const a = splitIndices(10, 0.2, 0.1, 42);
  assert.equal(a.val.length, 2);
  assert.equal(a.test.length, 1);
  assert.equal(a.train.length, 7);
  assert.deepEqual(new Set([...a.train, ...a.val, ...a.test]).size, 10);
  assert.deepEqual(splitIndices(10, 0.2, 0.1, 42), a);
  assert.notDeepEqual(splitIndices(10, 0.2, 0.1, 43), a);
  // 6,000 images, 20 %: the study's 1,200 validation images.
  assert.equal(splitIndices(6000, 0.2, 0, 1).val.length, 1200);
});
