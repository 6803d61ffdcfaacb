import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PRESETS, presetNamed, resolveConfig, STUDY_DEFAULTS } from '../lib/config';

test("defaults are the study's values", () => {
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
  assert.throws(() => resolveConfig({ file: '/nonexistent/c.json' }), /\/nonexistent\/c\.json: config JSON not found/);
  assert.throws(() => resolveConfig({ overrides: { colour: 1 } as never }), /colour is not a known setting/);
});

test('presets: study is exactly the defaults, seed is its old alias; a value equal to the study default is kept', () => {
  assert.deepEqual(resolveConfig({ preset: 'study' }), { ...STUDY_DEFAULTS });
  assert.deepEqual(resolveConfig({ preset: 'seed' }), resolveConfig({ preset: 'study' }));
  assert.equal(presetNamed('seed'), 'study');
  assert.equal(STUDY_DEFAULTS.splitSeed, 5);
  // Asking the smoke preset for the study's learning rate gives the study's learning rate (no silent replacement).
  const c = resolveConfig({
    preset: 'smoke',
    overrides: { learningRate: STUDY_DEFAULTS.learningRate, imageSize: STUDY_DEFAULTS.imageSize },
  });
  assert.equal(c.learningRate, STUDY_DEFAULTS.learningRate);
  assert.equal(c.imageSize, STUDY_DEFAULTS.imageSize);
  assert.equal(c.epochs, PRESETS.smoke.epochs);
});

test('splitSeed is its own setting, checked as NumPy checks a seed', () => {
  assert.equal(resolveConfig({ overrides: { splitSeed: 7 } }).splitSeed, 7);
  assert.equal(resolveConfig({ overrides: { seed: 7 } }).splitSeed, 5);
  assert.throws(
    () => resolveConfig({ overrides: { splitSeed: -1 } }),
    /splitSeed must be an integer in \[0, 2\^32 - 1\]/,
  );
  assert.throws(() => resolveConfig({ overrides: { splitSeed: 1.5 } }), /splitSeed/);
});
