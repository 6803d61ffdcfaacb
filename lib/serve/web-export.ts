/**
 * `realfake export --format web --out DIR`: the page as static files, in-browser mode only, for any static host
 * or for opening DIR/index.html straight from the disk.
 *
 * A page opened as a file (file://) may not fetch anything, so the binary assets (the model as ONNX, the face
 * models, onnxruntime-web's and tfjs' wasm) are written base64-encoded into embedded.js, loaded with a plain
 * <script> tag, and app.js takes them from there (4/3 of their size: the price of a page that works from a disk).
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../files';
import { exportRunToOnnx } from '../infer/onnx-export';
import { openRun } from '../runs/runs';
import { pageAssets } from './assets';
import { inBrowserUnavailable, runDescription } from './server';

/** The assets app.js reads from embedded.js (by file name), when the page cannot fetch them. */
const EMBEDDED = [
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
  'ort-wasm-simd-threaded.mjs',
  'ort-wasm-simd-threaded.wasm',
  'face-models/tiny_face_detector_model-weights_manifest.json',
  'face-models/tiny_face_detector_model.bin',
  'face-models/ssd_mobilenetv1_model-weights_manifest.json',
  'face-models/ssd_mobilenetv1_model.bin',
  'face-models/face_landmark_68_tiny_model-weights_manifest.json',
  'face-models/face_landmark_68_tiny_model.bin',
  'face-models/blazeface.json',
  'face-models/blazeface.bin',
];

export async function exportWebPage(runDir: string, out: string): Promise<{ files: number; bytes: number }> {
  const run = openRun(runDir);
  const unavailable = inBrowserUnavailable(run.config.resize);
  if (unavailable) throw new Error(`${runDir}: ${unavailable}`);
  const { bytes: onnx } = await exportRunToOnnx(runDir, { write: false });
  const assets = pageAssets();
  fs.mkdirSync(out, { recursive: true });
  let total = 0;
  const write = (name: string, data: Buffer | Uint8Array | string) => {
    fs.mkdirSync(path.dirname(path.join(out, name)), { recursive: true });
    writeFileAtomic(path.join(out, name), data);
    total += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  };
  for (const [url, file] of Object.entries(assets)) {
    if (EMBEDDED.includes(url.replace(/^vendor\//, ''))) continue; // in embedded.js only
    if (url === 'index.html') {
      // The same page, plus embedded.js before app.js.
      write(
        url,
        fs
          .readFileSync(file, 'utf8')
          .replace(
            '<script src="app.js"></script>',
            '<script src="embedded.js"></script>\n  <script src="app.js"></script>',
          ),
      );
    } else {
      write(url, fs.readFileSync(file));
    }
  }
  const model = { ...runDescription(run), engine: 'none', inBrowser: { available: true, onnx: 'embedded' } };
  write('config.js', `window.REALFAKE_CONFIG = ${JSON.stringify({ server: false, model })};\n`);
  const embedded: Record<string, string> = { 'model/model.onnx': Buffer.from(onnx).toString('base64') };
  for (const name of EMBEDDED) embedded[name] = fs.readFileSync(assets[`vendor/${name}`]).toString('base64');
  write('embedded.js', `window.REALFAKE_EMBEDDED = ${JSON.stringify(embedded)};\n`);
  return { files: Object.keys(assets).length - EMBEDDED.length + 2, bytes: total };
}
