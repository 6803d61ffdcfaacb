/**
 * The files the page needs, by URL path, all from this repository or node_modules (no CDN, no build step).
 * The server serves them and `realfake export --format web` copies them, so both use this one list.
 */
import * as fs from 'fs';
import * as path from 'path';
import { projectRoot, resolvePackageDir } from '../files';
import { BLAZEFACE_MODEL, FACE_MODEL_DIR } from '../faces/detector';

export const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.onnx': 'application/octet-stream',
};

export const mimeOf = (file: string) => MIME[path.extname(file)] ?? 'application/octet-stream';

/** URL path (relative, no leading slash) > file on disk. */
export function pageAssets(): Record<string, string> {
  const web = path.join(projectRoot(), 'lib', 'serve', 'web');
  const faceApi = resolvePackageDir('@vladmandic/face-api');
  const tfWasm = path.join(resolvePackageDir('@tensorflow/tfjs-backend-wasm'), 'dist');
  const ort = path.join(resolvePackageDir('onnxruntime-web'), 'dist');
  const assets: Record<string, string> = {
    'index.html': path.join(web, 'index.html'),
    'app.js': path.join(web, 'app.js'),
    'video.js': path.join(web, 'video.js'),
    'style.css': path.join(web, 'style.css'),
    // The crop arithmetic the server uses, compiled from lib/faces/crop.ts (app.js loads it with an exports shim).
    'crop.js': path.join(projectRoot(), 'dist', 'lib', 'faces', 'crop.js'),
    // The verdict policy the server uses, compiled from lib/infer/verdict.ts (loaded the same way).
    'verdict.js': path.join(projectRoot(), 'dist', 'lib', 'infer', 'verdict.js'),
    // sharp's lanczos3 shrink, compiled from lib/faces/lanczos.ts (for runs that resize with lanczos3).
    'lanczos.js': path.join(projectRoot(), 'dist', 'lib', 'faces', 'lanczos.js'),
    // BlazeFace's anchors and decoding, compiled from lib/faces/blazeface.ts (the model file is below).
    'blazeface.js': path.join(projectRoot(), 'dist', 'lib', 'faces', 'blazeface.js'),
    'vendor/face-api.js': path.join(faceApi, 'dist', 'face-api.js'),
    'vendor/ort.wasm.min.js': path.join(ort, 'ort.wasm.min.js'),
    'vendor/ort-wasm-simd-threaded.mjs': path.join(ort, 'ort-wasm-simd-threaded.mjs'),
    'vendor/ort-wasm-simd-threaded.wasm': path.join(ort, 'ort-wasm-simd-threaded.wasm'),
  };
  for (const file of [
    'tfjs-backend-wasm.wasm',
    'tfjs-backend-wasm-simd.wasm',
    'tfjs-backend-wasm-threaded-simd.wasm',
  ]) {
    assets[`vendor/${file}`] = path.join(tfWasm, file);
  }
  for (const model of ['tiny_face_detector_model', 'ssd_mobilenetv1_model', 'face_landmark_68_tiny_model']) {
    assets[`vendor/face-models/${model}-weights_manifest.json`] = path.join(
      FACE_MODEL_DIR,
      `${model}-weights_manifest.json`,
    );
    assets[`vendor/face-models/${model}.bin`] = path.join(FACE_MODEL_DIR, `${model}.bin`);
  }
  // BlazeFace (@vladmandic/human's graph model): its JSON and the weight files its manifest names.
  for (const file of blazeFaceFiles()) {
    assets[`vendor/face-models/${file}`] = path.join(path.dirname(BLAZEFACE_MODEL), file);
  }
  for (const [url, file] of Object.entries(assets)) {
    if (!fs.existsSync(file)) throw new Error(`page asset ${url}: ${file} is missing (run npm ci, then npm run build)`);
  }
  return assets;
}

/** blazeface.json and its weight files (by name, in the model's folder); the page reads the same manifest. */
function blazeFaceFiles(): string[] {
  if (!fs.existsSync(BLAZEFACE_MODEL)) return [path.basename(BLAZEFACE_MODEL)]; // reported missing below
  const json = JSON.parse(fs.readFileSync(BLAZEFACE_MODEL, 'utf8')) as { weightsManifest: Array<{ paths: string[] }> };
  return [path.basename(BLAZEFACE_MODEL), ...json.weightsManifest.flatMap((group) => group.paths)];
}
