/** The DataFrame views of a manifest and a training history (danfojs-node), against counts done by hand. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { manifestFrame, manifestSummary, skipReasons } from '../lib/data/manifest-frame';
import { historyFrame, historySummary } from '../lib/train/history-frame';

test('manifest: files per class, status and type; skip reasons', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-frame-'));
  fs.writeFileSync(
    path.join(dir, 'manifest.csv'),
    [
      'path,label,status,reason',
      '../real/a.png,0,ok,',
      '../real/b.png,0,ok,',
      '../real/c.PNG,0,skipped,truncated file',
      '../fake/a.jpg,1,ok,',
      '../fake/b.jpg,1,skipped,empty file',
      '../fake/c.jpg,1,skipped,empty file',
      '',
    ].join('\n'),
  );
  const frame = manifestFrame(dir);
  assert.deepEqual(frame.shape, [6, 6]);
  const summary = manifestSummary(frame);
  const rows = (summary.values as unknown[][]).map((r) => r.join(' ')).sort();
  assert.deepEqual(rows, ['fake ok .jpg 1', 'fake skipped .jpg 2', 'real ok .png 2', 'real skipped .png 1']);
  const reasons = (skipReasons(frame).values as unknown[][]).map((r) => r.join(' ')).sort();
  assert.deepEqual(reasons, ['fake empty file 2', 'real truncated file 1']);
});

test('history: one row per epoch with the loss gap, and describe()', () => {
  const history = {
    epoch: [1, 2, 3],
    loss: [0.7, 0.5, 0.3],
    accuracy: [0.5, 0.7, 0.9],
    val_loss: [0.69, 0.6, 0.65],
    val_accuracy: [0.5, 0.6, 0.55],
    val_auc: [0.5, 0.7, 0.65],
    seconds: [2, 2, 2],
  };
  const frame = historyFrame(history);
  assert.deepEqual(frame.columns, [
    'epoch',
    'loss',
    'accuracy',
    'val_loss',
    'val_accuracy',
    'val_auc',
    'gap',
    'seconds',
  ]);
  const gap = frame.column('gap').values as number[];
  [-0.01, 0.1, 0.35].forEach((want, i) => assert.ok(Math.abs(gap[i] - want) < 1e-12, `gap ${i}`));
  const described = historySummary(history);
  assert.deepEqual(described.index.slice(0, 2), ['count', 'mean']);
  const mean = (described.values as number[][])[1];
  assert.ok(Math.abs(mean[described.columns.indexOf('loss')] - 0.5) < 1e-12);
});
