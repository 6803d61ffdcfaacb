/** The training-time estimate the notebooks print before training: measured, and scaled the way fit() runs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../lib/backend/backend';
import { resolveConfig } from '../lib/config';
import { estimateTrainingTime, formatDuration } from '../lib/train/estimate';
import { paramsNote } from '../scripts/notebooks';

test('estimateTrainingTime measures real steps and scales them to epochs x (steps + validation)', async () => {
  await initBackend('wasm');
  const config = resolveConfig({ preset: 'smoke', overrides: { batchSize: 4, epochs: 3 } });
  const estimate = await estimateTrainingTime(config, { train: 10, val: 6 }, 2);
  assert.ok(estimate.perStep > 0 && estimate.perValImage > 0);
  const perEpoch = Math.ceil(10 / 4) * estimate.perStep + 6 * estimate.perValImage;
  assert.ok(Math.abs(estimate.perEpoch - perEpoch) < 1e-9);
  assert.ok(Math.abs(estimate.seconds - 3 * perEpoch) < 1e-9);
});

test('formatDuration and the note `npm run notebooks` prints about the parameters', () => {
  assert.equal(formatDuration(42.4), '42 s');
  assert.equal(formatDuration(600), '10 min');
  assert.equal(formatDuration(3 * 3600), '3.0 h');
  assert.match(
    paramsNote(),
    /^parameters: \S+params\.json: preset "smoke" \(64px, 150 images per class, 12 epochs\)\nfull study: set "preset": "study" in notebooks\/params\.json/,
  );
});
