import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { npyHeader, readNpy, writeNpy } from '../lib/data/npy';
import { pythonSkip, runPython } from './fixtures/python';

const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'realfake-npy-'));

test('uint8 and float32 arrays round-trip with their shapes', () => {
  const dir = tmpDir();
  const bytes = Uint8Array.from({ length: 2 * 3 * 4 * 3 }, (_, i) => (i * 7) % 256);
  writeNpy(path.join(dir, 'x.npy'), bytes, [2, 3, 4, 3]);
  const x = readNpy(path.join(dir, 'x.npy'));
  assert.equal(x.dtype, 'uint8');
  assert.deepEqual(x.shape, [2, 3, 4, 3]);
  assert.deepEqual(x.data, bytes);

  const floats = Float32Array.from([0, -1.5, 3.25, 1e-7, 3.4e38]);
  writeNpy(path.join(dir, 'f.npy'), floats, [5]);
  const f = readNpy(path.join(dir, 'f.npy'));
  assert.equal(f.dtype, 'float32');
  assert.deepEqual(f.shape, [5]);
  assert.deepEqual(f.data, floats);

  writeNpy(path.join(dir, 'empty.npy'), new Uint8Array(0), [0, 8, 8, 3]);
  assert.deepEqual(readNpy(path.join(dir, 'empty.npy')).shape, [0, 8, 8, 3]);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['empty.npy', 'f.npy', 'x.npy'], 'no temporary files left behind');
});

test('header is padded to 64 bytes and ends with a newline, as NumPy writes it', () => {
  for (const shape of [[7], [6000, 128, 128, 3], []]) {
    const header = npyHeader('uint8', shape);
    assert.equal(header.length % 64, 0);
    assert.equal(header[header.length - 1], 0x0a);
    assert.equal(header.readUInt16LE(8), header.length - 10);
  }
  assert.match(
    npyHeader('float32', [7]).toString('latin1'),
    /\{'descr': '<f4', 'fortran_order': False, 'shape': \(7,\), \}/,
  );
});

test('bad input: wrong element count, missing file, not .npy, truncated', () => {
  const dir = tmpDir();
  assert.throws(() => writeNpy(path.join(dir, 'a.npy'), new Uint8Array(5), [2, 3]), /needs 6 elements but data has 5/);
  assert.throws(() => readNpy(path.join(dir, 'missing.npy')), /missing\.npy: cannot open \(ENOENT\)/);
  fs.writeFileSync(path.join(dir, 'text.npy'), 'hello world');
  assert.throws(() => readNpy(path.join(dir, 'text.npy')), /text\.npy: not an \.npy file/);
  writeNpy(path.join(dir, 'whole.npy'), new Uint8Array(100), [100]);
  fs.writeFileSync(path.join(dir, 'cut.npy'), fs.readFileSync(path.join(dir, 'whole.npy')).subarray(0, 120));
  assert.throws(() => readNpy(path.join(dir, 'cut.npy')), /cut\.npy: truncated \.npy file/);
});

const numpySkip = pythonSkip('numpy');
test('NumPy reads what we write and we read what NumPy writes', { skip: numpySkip }, () => {
  const dir = tmpDir();
  const bytes = Uint8Array.from({ length: 2 * 3 * 2 * 3 }, (_, i) => (i * 13) % 256);
  const floats = Float32Array.from([0.5, -2, 1 / 3, 1e30]);
  writeNpy(path.join(dir, 'ours_u8.npy'), bytes, [2, 3, 2, 3]);
  writeNpy(path.join(dir, 'ours_f4.npy'), floats, [2, 2]);
  const report = runPython(
    `
import json, sys, numpy as np
d = sys.argv[1]
u = np.load(d + '/ours_u8.npy'); f = np.load(d + '/ours_f4.npy')
np.save(d + '/np_u8.npy', np.arange(24, dtype=np.uint8).reshape(2, 4, 3) * 10)
np.save(d + '/np_f4.npy', np.array([[1.25, -3.5, 7.0]], dtype=np.float32))
print(json.dumps({'u': [str(u.dtype), list(u.shape), u.ravel().tolist()],
                  'f': [str(f.dtype), list(f.shape), f.ravel().tolist()]}))
`,
    dir,
  );
  const seen = JSON.parse(report);
  assert.deepEqual(seen.u, ['uint8', [2, 3, 2, 3], Array.from(bytes)]);
  assert.deepEqual(seen.f, ['float32', [2, 2], Array.from(floats)]);

  const u8 = readNpy(path.join(dir, 'np_u8.npy'));
  assert.equal(u8.dtype, 'uint8');
  assert.deepEqual(u8.shape, [2, 4, 3]);
  assert.deepEqual(
    Array.from(u8.data),
    Array.from({ length: 24 }, (_, i) => i * 10),
  );
  const f4 = readNpy(path.join(dir, 'np_f4.npy'));
  assert.equal(f4.dtype, 'float32');
  assert.deepEqual(f4.shape, [1, 3]);
  assert.deepEqual(Array.from(f4.data), [1.25, -3.5, 7]);
});
