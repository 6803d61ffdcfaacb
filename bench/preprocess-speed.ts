/**
 * Preprocessing throughput: 1024px JPEGs (like thispersondoesnotexist's) and 128px PNGs (like FFHQ thumbnails)
 * through preprocessFolders, one image at a time and on all cores. Inputs are synthetic faces scaled up and
 * saved in those formats: decode and resize cost depends on the format and size, not on what is drawn.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import type { DecodeMode, ResizeMethod } from '../lib/config';
import { loadImageRgb } from '../lib/data/images';
import { preprocessFolders } from '../lib/data/preprocess';
import { synthImage } from '../lib/data/synth';
import { projectRoot } from '../lib/files';

export interface PreprocessSpeed {
  /** realfake (sharp) or PIL (Keras load_img's own path, bench/pil_bench.py). */
  engine: string;
  input: string;
  outputSize: number;
  resize: ResizeMethod;
  /** 'fast': JPEG shrink-on-load (the `--decode fast` opt-in); 'full': every pixel decoded. */
  decode: DecodeMode;
  concurrency: number;
  images: number;
  imagesPerSecond: number;
}

/** `count` images per class of side `side` in `format`, under `dir`/{real,fake}. */
async function makeInputs(dir: string, count: number, side: number, format: 'jpeg' | 'png'): Promise<void> {
  for (const [label, name] of [
    [0, 'real'],
    [1, 'fake'],
  ] as const) {
    fs.mkdirSync(path.join(dir, name), { recursive: true });
    for (let i = 0; i < count; i++) {
      const face = sharp(await synthImage(7, label, i, 256, 0.5)).resize(side, side, { kernel: 'lanczos3' });
      const encoded = format === 'jpeg' ? face.jpeg({ quality: 90 }) : face.png();
      await encoded.toFile(path.join(dir, name, `${String(i).padStart(5, '0')}.${format === 'jpeg' ? 'jpg' : 'png'}`));
    }
  }
}

/** PIL's own load_img over `files` with `processes` processes, when Debian's python3-pil is installed. */
function measurePil(
  files: string[],
  size: number,
  processes: number,
): { pillow: string; images: number; imagesPerSecond: number } | { skipped: string } {
  const script = path.join(projectRoot(), 'bench', 'pil_bench.py');
  const run = spawnSync('/usr/bin/python3', [script, String(size), String(processes), ...files], { encoding: 'utf8' });
  if (run.status !== 0)
    return {
      skipped: `PIL comparison skipped: ${(run.stderr || 'python3 failed').trim().split('\n').pop()} (apt-get install python3-pil)`,
    };
  return JSON.parse(run.stdout.trim().split('\n').pop()!);
}

/** The engine name of the rows doing only what Keras's load_img does (read, decode, PIL-nearest resize). */
export const LOAD_ONLY_ENGINE = "realfake loadImageRgb (load_img's work)";

/**
 * realfake's per-image work that matches PIL's bench exactly: read, full decode, Pillow's NEAREST sampling, into
 * an array; no manifest, image facts, fingerprint or X.npy (preprocessFolders does those too, PIL's bench doesn't).
 */
async function loadOnlyRate(files: string[], size: number, concurrency: number): Promise<number> {
  for (const file of files.slice(0, 4)) await loadImageRgb(file, size, 'nearest'); // warm the code paths
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < files.length) await loadImageRgb(files[next++], size, 'nearest');
    }),
  );
  return files.length / ((performance.now() - started) / 1000);
}

export async function measurePreprocessSpeed(
  options: { count?: number; log?: (line: string) => void } = {},
): Promise<PreprocessSpeed[]> {
  const count = options.count ?? 100;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-bench-pre-'));
  const results: PreprocessSpeed[] = [];
  try {
    const inputs = [
      { input: '1024px JPEG', dir: path.join(root, 'jpeg1024'), side: 1024, format: 'jpeg' as const },
      { input: '128px PNG', dir: path.join(root, 'png128'), side: 128, format: 'png' as const },
    ];
    for (const input of inputs) await makeInputs(input.dir, count, input.side, input.format);
    // nearest is the study's (full decode, then PIL's sampling); bilinear lets libjpeg shrink on load.
    const cases = inputs.flatMap((input) =>
      [64, 128].flatMap((outputSize) => [
        ...(['nearest', 'bilinear'] as ResizeMethod[]).map((resize) => ({
          input,
          outputSize,
          resize,
          decode: 'full' as DecodeMode,
        })),
        ...(input.format === 'jpeg'
          ? [{ input, outputSize, resize: 'nearest' as ResizeMethod, decode: 'fast' as DecodeMode }]
          : []),
      ]),
    );
    for (const { input, outputSize, resize, decode } of cases) {
      for (const concurrency of [1, os.availableParallelism()]) {
        const out = path.join(root, 'out');
        const run = {
          realDir: path.join(input.dir, 'real'),
          fakeDir: path.join(input.dir, 'fake'),
          out,
          size: outputSize,
          resize,
          decode,
          concurrency,
        };
        // One untimed pass warms the page cache, so both concurrencies read from memory.
        if (concurrency === 1) await preprocessFolders(run);
        const result = await preprocessFolders(run);
        const row = {
          engine: 'realfake',
          input: input.input,
          outputSize,
          resize,
          decode,
          concurrency,
          images: result.info.count,
          imagesPerSecond: result.info.count / result.seconds,
        };
        results.push(row);
        options.log?.(JSON.stringify(row));
      }
    }
    // PIL's load_img on the same JPEGs (nearest is the only resize Keras's study used).
    const jpegs = ['real', 'fake'].flatMap((label) =>
      fs.readdirSync(path.join(inputs[0].dir, label)).map((f) => path.join(inputs[0].dir, label, f)),
    );
    for (const outputSize of [64, 128]) {
      for (const concurrency of [1, os.availableParallelism()]) {
        const row = {
          engine: LOAD_ONLY_ENGINE,
          input: inputs[0].input,
          outputSize,
          resize: 'nearest' as ResizeMethod,
          decode: 'full' as DecodeMode,
          concurrency,
          images: jpegs.length,
          imagesPerSecond: await loadOnlyRate(jpegs, outputSize, concurrency),
        };
        results.push(row);
        options.log?.(JSON.stringify(row));
      }
    }
    for (const outputSize of [64, 128]) {
      for (const concurrency of [1, os.availableParallelism()]) {
        const pil = measurePil(jpegs, outputSize, concurrency);
        if ('skipped' in pil) {
          options.log?.(pil.skipped);
          break;
        }
        const row = {
          engine: `PIL ${pil.pillow} (Keras load_img)`,
          input: inputs[0].input,
          outputSize,
          resize: 'nearest' as ResizeMethod,
          decode: 'full' as DecodeMode,
          concurrency,
          images: pil.images,
          imagesPerSecond: pil.imagesPerSecond,
        };
        results.push(row);
        options.log?.(JSON.stringify(row));
      }
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  return results;
}
