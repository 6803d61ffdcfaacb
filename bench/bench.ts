/**
 * `npm run bench`: preprocessing, training, inference and memory, printed and written to BENCHMARKS.md with
 * the machine, versions and load named. Speed targets are checked here, never in timed tests.
 * The real-data section of BENCHMARKS.md (written by `npm run bench:real`) is kept as it is.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { BackendName, initBackend, describeBackend } from '../lib/backend/backend';
import { loadNativeAddon } from '../lib/backend/native-addon';
import { NATIVE_KERNELS } from '../lib/backend/native-kernels';
import { projectRoot, writeFileAtomic } from '../lib/files';
import { describeJpegDecoder } from '../lib/data/jpeg-native';
import { loadOnnxRuntime } from '../lib/infer/onnx-engine';
import { measureDecodeMemory, memorySection } from './memory';
import { markedBlock } from './sections';
import { LOAD_ONLY_ENGINE, measurePreprocessSpeed, PreprocessSpeed } from './preprocess-speed';
import {
  InferenceSpeed,
  measureInferenceSpeed,
  measureKernelProfile,
  measureTrainingMemory,
  measureTrainingSpeed,
  TrainingMemory,
  TrainingSpeed,
} from './speed';

export const REAL_SECTION_MARKER = '<!-- bench:real -->';

/**
 * Floating-point work of one 128 px image through the study's model: 2 x multiply-adds of the convolutions
 * (128^2*64*75 + 64^2*64*1600 + 32^2*64*1600 + 16^2*32*576 + 8^2*16*288 + 4^2*16*144) and dense layers.
 */
const STUDY_GFLOP_128 =
  (2 *
    (128 ** 2 * 64 * 75 +
      64 ** 2 * 64 * 1600 +
      32 ** 2 * 64 * 1600 +
      16 ** 2 * 32 * 576 +
      8 ** 2 * 16 * 288 +
      4 ** 2 * 16 * 144 +
      16 * 400 +
      400 * 512 +
      512 * 400 +
      400 * 2)) /
  1e9;

interface TorchResult {
  imageSize: number;
  threads: number;
  trainImagesPerSecond: number;
  inferenceImagesPerSecond: number;
  oneImageMs: number;
}

/** The same model in PyTorch, when Debian's python3-torch is installed; otherwise the reason it was skipped. */
function measureTorch(threads: number): { version: string; results: TorchResult[] } | { skipped: string } {
  const script = path.join(projectRoot(), 'bench', 'torch_bench.py');
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0)
    return {
      skipped: 'PyTorch comparison skipped: /usr/bin/python3 cannot import torch (apt-get install python3-torch)',
    };
  const run = spawnSync('/usr/bin/python3', [script, String(threads), '64', '128'], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (run.status !== 0) return { skipped: `PyTorch comparison failed: ${(run.stderr || '').trim().split('\n').pop()}` };
  const parsed = JSON.parse(run.stdout.trim().split('\n').pop()!);
  return { version: parsed.torch, results: parsed.results };
}

const f1 = (v: number) => v.toFixed(1);
const table = (headers: string[], rows: Array<Array<string | number>>) =>
  [
    `| ${headers.join(' | ')} |`,
    `|${headers.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');

function versions(): string {
  const ort = loadOnnxRuntime();
  let ortVersion = 'not installed';
  if ('ort' in ort) ortVersion = require('onnxruntime-node/package.json').version;
  return `Node ${process.version}, TensorFlow.js ${tf.version.tfjs}, onnxruntime-node ${ortVersion}, sharp ${require('sharp').versions.sharp} (libvips ${require('sharp').versions.vips})`;
}

/** Everything the bench measures, in the order it measures it. */
async function measure(log: (line: string) => void) {
  const started = Date.now();
  const backend = await initBackend();
  const native = 'addon' in loadNativeAddon();
  const cores = os.availableParallelism();
  const loadAtStart = os.loadavg()[0];
  log(`backend: ${describeBackend(backend)}; ${cores} cores; load ${loadAtStart.toFixed(2)}`);

  log('preprocessing ...');
  const preprocess: PreprocessSpeed[] = await measurePreprocessSpeed({ log });
  log('training ...');
  // native: one process on all cores (oneDNN threads); wasm: 1 and `cores` worker threads, as before.
  const trainingRuns: Array<{ backend: BackendName; workers: number }> = [
    ...(native ? [{ backend: 'native' as const, workers: 1 }] : []),
    { backend: 'wasm', workers: 1 },
    { backend: 'wasm', workers: cores },
  ];
  const training: TrainingSpeed[] = [];
  for (const imageSize of [64, 128]) {
    for (const run of trainingRuns) {
      training.push(
        await measureTrainingSpeed({ imageSize, workers: run.workers, backend: run.backend, steps: 4, warmup: 1 }),
      );
      log(JSON.stringify(training[training.length - 1]));
    }
  }
  const profile = native ? await measureKernelProfile({ imageSize: 128 }) : null;
  if (profile) log(JSON.stringify(profile.kernels.slice(0, 12)));
  log('inference ...');
  const inference: InferenceSpeed[] = [];
  const engines: Array<{ engine: 'tfjs' | 'onnx'; backend?: BackendName }> = [
    ...(native ? [{ engine: 'tfjs' as const, backend: 'native' as const }] : []),
    { engine: 'tfjs', backend: 'wasm' },
    ...('ort' in loadOnnxRuntime() ? [{ engine: 'onnx' as const }] : []),
  ];
  for (const imageSize of [64, 128]) {
    for (const { engine, backend: b } of engines) {
      inference.push(await measureInferenceSpeed({ engine, imageSize, backend: b }));
      log(JSON.stringify(inference[inference.length - 1]));
    }
  }
  log('memory ...');
  const memory: TrainingMemory = native
    ? measureTrainingMemory({ images: 6000, imageSize: 128, workers: 1, backend: 'native' })
    : measureTrainingMemory({ images: 6000, imageSize: 128, workers: cores, backend: 'wasm' });
  log(JSON.stringify(memory));
  const decodeMemory = await measureDecodeMemory(log);
  log('PyTorch ...');
  const torch = measureTorch(cores);
  log(JSON.stringify(torch));
  return {
    started,
    backend,
    native,
    cores,
    loadAtStart,
    preprocess,
    training,
    profile,
    inference,
    memory,
    decodeMemory,
    torch,
  };
}

type Measured = Awaited<ReturnType<typeof measure>>;

/** Lookups into the measurements that the report's sections share. */
function lookups(m: Measured) {
  const { cores, preprocess, training, inference, torch } = m;
  const torchAt = (size: number) => ('results' in torch ? torch.results.find((r) => r.imageSize === size) : undefined);
  const ratio = (ours: number, theirs: number | undefined) => (theirs ? `${(ours / theirs).toFixed(2)}x` : 'n/a');
  const fastest = (size: number) =>
    training.filter((t) => t.imageSize === size).sort((a, b) => b.imagesPerSecond - a.imagesPerSecond)[0];
  const wasmOne = (size: number) =>
    training.find((t) => t.imageSize === size && t.backend === 'wasm' && t.workers === 1)!;
  const wasmAll = (size: number) =>
    training.find((t) => t.imageSize === size && t.backend === 'wasm' && t.workers === cores)!;
  const onnx128 = inference.find((i) => i.imageSize === 128 && i.engine.startsWith('onnx'));
  const ours = (size: number, concurrency: number, resize: string, decode = 'full') =>
    preprocess.find(
      (p) =>
        p.engine === 'realfake' &&
        p.input === '1024px JPEG' &&
        p.outputSize === size &&
        p.resize === resize &&
        p.decode === decode &&
        p.concurrency === concurrency,
    )!;
  const loadOnly = (size: number, concurrency: number) =>
    preprocess.find((p) => p.engine === LOAD_ONLY_ENGINE && p.outputSize === size && p.concurrency === concurrency)!;
  const pil = (size: number, concurrency: number) =>
    preprocess.find((p) => p.engine.startsWith('PIL') && p.outputSize === size && p.concurrency === concurrency);
  const check = (ok: boolean) => (ok ? 'met' : '**missed**');
  const trainTarget = (size: number) => {
    const best = fastest(size);
    const theirs = torchAt(size)?.trainImagesPerSecond;
    return [
      `training ${size} px >= 1.0x PyTorch (batch 32)`,
      `${f1(best.imagesPerSecond)} img/s (${best.backend}) vs ${theirs ? f1(theirs) : 'n/a'}: ${ratio(best.imagesPerSecond, theirs)}`,
      check(!!theirs && best.imagesPerSecond >= theirs),
    ];
  };
  const pil128 = pil(128, cores);
  const pil128One = pil(128, 1);
  const workersLabel = (t: TrainingSpeed) =>
    t.backend === 'native' ? `1 process, ${cores} threads` : `${t.workers} worker${t.workers > 1 ? 's' : ''}`;
  return {
    torchAt,
    ratio,
    fastest,
    wasmOne,
    wasmAll,
    onnx128,
    ours,
    loadOnly,
    pil,
    check,
    trainTarget,
    pil128,
    pil128One,
    workersLabel,
  };
}

/** The targets table: each target, what was measured, met or missed. */
function targetsSection(m: Measured): string[] {
  const { memory, cores } = m;
  const { torchAt, ratio, onnx128, ours, loadOnly, check, trainTarget, pil128, pil128One } = lookups(m);
  return [
    '## Targets',
    '',
    table(
      ['target', 'measured', ''],
      [
        trainTarget(128),
        trainTarget(64),
        [
          'inference >= 2x PyTorch at batch 32, 128 px (onnxruntime-node)',
          onnx128
            ? `${f1(onnx128.imagesPerSecond)} img/s vs ${f1(torchAt(128)?.inferenceImagesPerSecond ?? NaN)}: ${ratio(onnx128.imagesPerSecond, torchAt(128)?.inferenceImagesPerSecond)}`
            : 'onnxruntime-node absent',
          check(!!onnx128 && !!torchAt(128) && onnx128.imagesPerSecond >= 2 * torchAt(128)!.inferenceImagesPerSecond),
        ],
        [
          'one image <= 8 ms, 128 px (onnxruntime-node)',
          onnx128 ? `${f1(onnx128.oneImageMs)} ms` : 'onnxruntime-node absent',
          check(!!onnx128 && onnx128.oneImageMs <= 8),
        ],
        [
          `peak memory training on 6,000 images at 128 px <= 1.5 GB (${memory.backend})`,
          `${memory.peakRssMB} MB`,
          check(memory.peakRssMB <= 1536),
        ],
        [
          'preprocessing 1024px JPEG to 128 nearest (PIL-exact), per core >= PIL load_img per core (the same work: read, decode, resize)',
          pil128One
            ? `${f1(loadOnly(128, 1).imagesPerSecond)} vs ${f1(pil128One.imagesPerSecond)} img/s on 1 core (whole preprocess, dataset written too: ${f1(ours(128, 1, 'nearest').imagesPerSecond)})`
            : 'PIL absent',
          check(!!pil128One && loadOnly(128, 1).imagesPerSecond >= pil128One.imagesPerSecond),
        ],
        [
          `the same on all ${cores} cores`,
          pil128
            ? `${f1(loadOnly(128, cores).imagesPerSecond)} vs ${f1(pil128.imagesPerSecond)} img/s (whole preprocess: ${f1(ours(128, cores, 'nearest').imagesPerSecond)})`
            : 'PIL absent',
          check(!!pil128 && loadOnly(128, cores).imagesPerSecond >= pil128.imagesPerSecond),
        ],
        [
          `--decode fast (opt-in, shrink-on-load), 128 px nearest, all ${cores} cores`,
          `${f1(ours(128, cores, 'nearest', 'fast').imagesPerSecond)} img/s`,
          'opt-in',
        ],
      ],
    ),
    '',
  ];
}

/** BENCHMARKS.md's bench section from the measurements. */
function report(m: Measured): string {
  const {
    started,
    backend,
    native,
    cores,
    loadAtStart,
    preprocess,
    training,
    profile,
    inference,
    memory,
    decodeMemory,
    torch,
  } = m;
  const { torchAt, ratio, fastest, wasmOne, wasmAll, onnx128, workersLabel } = lookups(m);
  return [
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` (bench/bench.ts) on ${new Date().toISOString().slice(0, 10)}, in ${((Date.now() - started) / 60000).toFixed(1)} min.`,
    `Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${cores} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.arch()}; no GPU.`,
    `TensorFlow.js default backend: ${describeBackend(backend)}. ${versions()}.`,
    `Load average when the bench started: ${loadAtStart.toFixed(2)} (numbers on a 2-core machine move with other load; each row carries its own, ` +
      'and PyTorch ran in the same bench run, so compare ratios).',
    '',
    ...targetsSection(m),
    '## Preprocessing (decode, RGB, resize; images/s)',
    '',
    table(
      ['engine', 'input', 'output', 'resize', 'decode', 'concurrency', 'images', 'img/s'],
      preprocess.map((p) => [
        p.engine,
        p.input,
        `${p.outputSize} px`,
        p.resize,
        p.decode,
        p.concurrency,
        p.images,
        f1(p.imagesPerSecond),
      ]),
    ),
    '',
    `realfake's JPEG decoder on the nearest/full rows: ${describeJpegDecoder()}; sharp/libvips on the others.`,
    '',
    "## Training (the study's model, batch 32, Adam, dropout on; images/s)",
    '',
    table(
      [
        'size',
        'backend',
        'parallelism',
        'img/s',
        'vs wasm 1 worker',
        'CPU s/img',
        'PyTorch img/s',
        'realfake / PyTorch',
        'load',
      ],
      training.map((t) => [
        `${t.imageSize} px`,
        t.backend,
        workersLabel(t),
        f1(t.imagesPerSecond),
        `${(t.imagesPerSecond / wasmOne(t.imageSize).imagesPerSecond).toFixed(2)}x`,
        t.cpuSecondsPerImage.toFixed(3),
        torchAt(t.imageSize) ? f1(torchAt(t.imageSize)!.trainImagesPerSecond) : 'n/a',
        ratio(t.imagesPerSecond, torchAt(t.imageSize)?.trainImagesPerSecond),
        t.load.loadAverage1m,
      ]),
    ),
    '',
    ...(training.some((t) => t.phasesMs)
      ? [
          'Milliseconds per step with wasm workers, by phase:',
          '',
          table(
            ['size', ...Object.keys(training.find((t) => t.phasesMs)!.phasesMs!)],
            training.filter((t) => t.phasesMs).map((t) => [`${t.imageSize} px`, ...Object.values(t.phasesMs!)]),
          ),
          '',
        ]
      : []),
    ...(profile
      ? [
          "## Where a native training step's time goes (128 px, batch 32)",
          '',
          `Wall time per tfjs kernel, ${f1(profile.stepMs)} ms per step in all (load ${os.loadavg()[0].toFixed(2)}); kernels in **bold** run natively (oneDNN or the addon's OpenMP loops), the rest are tfjs's JavaScript CPU kernels.`,
          '',
          table(
            ['kernel', 'ms per step', 'calls per step', 'share of the step'],
            profile.kernels
              .filter((k) => k.share >= 0.002)
              .map((k) => [
                k.kernel in NATIVE_KERNELS ? `**${k.kernel}**` : k.kernel,
                f1(k.msPerStep),
                k.callsPerStep,
                `${(100 * k.share).toFixed(1)} %`,
              ]),
          ),
          '',
          `Native kernels: ${Object.keys(NATIVE_KERNELS).join(', ')}; every other op runs tfjs's CPU kernel on the same Float32Arrays. ` +
            `Outside the table: Adam's update is one native call per variable (lib/backend/native-adam.ts), Conv2D layers train as one FusedConv2D (lib/model/fused-conv.ts), and native outputs are recycled while training (lib/backend/native-backend.ts).`,
          '',
        ]
      : []),
    '## Inference (preprocessed input; batch 32 images/s, and one image)',
    '',
    table(
      [
        'size',
        'engine',
        'img/s (batch 32)',
        'one image (ms, median)',
        'PyTorch img/s',
        'PyTorch one image (ms)',
        'load',
      ],
      inference.map((i) => [
        `${i.imageSize} px`,
        i.engine,
        f1(i.imagesPerSecond),
        f1(i.oneImageMs),
        torchAt(i.imageSize) ? f1(torchAt(i.imageSize)!.inferenceImagesPerSecond) : 'n/a',
        torchAt(i.imageSize) ? f1(torchAt(i.imageSize)!.oneImageMs) : 'n/a',
        i.load.loadAverage1m,
      ]),
    ),
    '',
    '## Memory',
    '',
    `Peak RSS of a training process holding ${memory.images} images at ${memory.imageSize} px (uint8), ${memory.backend} backend` +
      `${memory.backend === 'native' ? ', batch 32 in one pass, six steps and a validation pass' : ` with ${memory.workers} workers`}: **${memory.peakRssMB} MB** (the study's float64 arrays alone were 2.4 GB).`,
    '',
    markedBlock('memory', memorySection(decodeMemory)),
    '',
    '## PyTorch anchor',
    '',
    'results' in torch
      ? `PyTorch ${torch.version} (Debian python3-torch), the same model (bench/torch_bench.py), ${cores} threads, run in the same bench; columns above.`
      : torch.skipped,
    '',
    '## Notes',
    '',
    `- **Training**: the native backend is tfjs's CPU backend with oneDNN kernels (lib/backend/native-kernels.ts) on the tensors' own ` +
      `Float32Arrays, one process on all cores. CPU seconds per image (all threads) hardly depend on other load: at 128 px native ` +
      `${native ? fastest(128).cpuSecondsPerImage.toFixed(3) : 'n/a'}, wasm ${wasmAll(128).cpuSecondsPerImage.toFixed(3)}` +
      (torchAt(128)
        ? `, PyTorch at most ${(cores / torchAt(128)!.trainImagesPerSecond).toFixed(3)} (= ${cores} threads / its img/s).`
        : '.'),
    `- **ONNX inference**: the study's model costs ${STUDY_GFLOP_128.toFixed(2)} GFLOP per 128 px image, almost all in the three 5x5 convolutions; ` +
      `${onnx128 ? f1(onnx128.imagesPerSecond) : 'n/a'} img/s is ${onnx128 ? f1(onnx128.imagesPerSecond * STUDY_GFLOP_128) : 'n/a'} GFLOP/s on ${cores} cores.`,
    `- **Preprocessing 1024 px JPEG**: PIL-exact nearest needs the full 1024x1024 decode (what Keras's load_img does); bilinear can shrink on ` +
      'load (DCT scaling) and is faster, but is not what the study did.',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const log = (line: string) => process.stdout.write(line + '\n');
  const md = report(await measure(log));
  const file = writeBenchmarks(md);
  log(`\n${md}\nwrote ${file}`);
}

/**
 * Writes BENCHMARKS.md: this bench's part first, then the rest of the previous file as it was, from the first
 * section another bench maintains (`<!-- bench:NAME -->`, e.g. bench:serve, bench:faces, bench:real) to the end,
 * prose written between those sections included. A block this run wrote afresh (bench:memory) is dropped from
 * what is kept, so it never stands twice.
 */
export function mergeBenchmarks(md: string, previous: string): string {
  const ours = new Set([...md.matchAll(/<!-- bench:([\w-]+) -->/g)].map((m) => m[1]));
  const firstOther = [...previous.matchAll(/<!-- bench:([\w-]+) -->/g)].find((m) => !ours.has(m[1]));
  let rest = firstOther ? previous.slice(firstOther.index) : '';
  for (const name of ours)
    rest = rest.replace(new RegExp(`<!-- bench:${name} -->[\\s\\S]*?<!-- /bench:${name} -->\\n*`), '');
  return md + (rest ? `\n${rest}` : '');
}

function writeBenchmarks(md: string): string {
  const file = path.join(projectRoot(), 'BENCHMARKS.md');
  const previous = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  writeFileAtomic(file, mergeBenchmarks(md, previous));
  return file;
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    process.exitCode = 1;
  });
}
