/**
 * `realfake predict --queue URL`: the same rows as local predict, scored by `realfake worker`s (logic in
 * lib/queue/client.ts). lib/cli/predict.ts hands over its line formats, so the output is written by the same code.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Option } from 'commander';
import type { PhotoVerdict } from '../infer/faces';
import type { Prediction } from '../infer/predict';
import type { EngineChoice } from '../infer/onnx-engine';
import type { ScoringMode } from '../config';
import type { PolicyOverrides } from '../infer/run-policy';
import { scoreOnQueue } from '../queue/client';
import { redisOptions } from '../queue/connection';
import { DEFAULT_JOB_IMAGES, DEFAULT_MAX_JOB_IMAGE_MB, SEND_MODES, type SendMode } from '../queue/jobs';
import { countBar } from './progress';
import { escapeControls, parseInteger, parseNumber, UsageError } from './common';

export interface QueueFlags {
  run: string;
  queue: string;
  queueSend: SendMode;
  queueMaxMb: number;
  queueBatch: number;
  queueTimeout: number;
  faces?: boolean;
  engine: EngineChoice;
  maxPixels: number;
  ttaFlip?: boolean;
  ensemble?: string[];
  scoring?: ScoringMode;
  threshold?: string;
  calibrated?: boolean;
  explain?: string;
}

/** predict's --queue flags. */
export function queueOptions(): Option[] {
  return [
    new Option('--queue <url>', 'score on the `realfake worker`s of this Redis (redis://HOST:PORT); same output'),
    new Option('--queue-send <how>', 'bytes: each image inside its job (no shared storage); paths: shared storage')
      .choices(SEND_MODES as string[])
      .default('bytes'),
    new Option('--queue-max-mb <n>', 'bytes: largest image sent in a job')
      .argParser(parseNumber)
      .default(DEFAULT_MAX_JOB_IMAGE_MB),
    new Option('--queue-batch <n>', 'images per job').argParser(parseInteger).default(DEFAULT_JOB_IMAGES),
    new Option('--queue-timeout <s>', 'give up when Redis has not answered for this long')
      .argParser(parseNumber)
      .default(10),
  ];
}

/** Writes each image's lines (or its "skipped" line) in order, then predict's summary; throws when none was read. */
export async function predictOnQueue(
  files: string[],
  flags: QueueFlags,
  local: {
    /** --threshold and --calibrated, parsed; `check` reads them against the run when the run is here too. */
    overrides: PolicyOverrides;
    check: () => void;
    prediction: (p: Prediction) => string;
    faces: (file: string, photo: PhotoVerdict) => string[];
  },
): Promise<void> {
  if (flags.explain) throw new UsageError('--explain needs the model here: leave out --queue');
  try {
    redisOptions(flags.queue);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (!(flags.queueBatch >= 1)) throw new UsageError(`--queue-batch ${flags.queueBatch}: expected 1 or more`);
  if (!(flags.queueMaxMb > 0)) throw new UsageError(`--queue-max-mb ${flags.queueMaxMb}: expected a number above 0`);
  if (!(flags.queueTimeout > 0))
    throw new UsageError(`--queue-timeout ${flags.queueTimeout}: expected a number above 0`);
  // The run is read by the workers; when it is here too, a missing analyze file is caught before any job is sent.
  if (fs.existsSync(path.join(flags.run, 'config.json'))) local.check();
  const bar = process.stdout.isTTY ? null : countBar('scored', files.length);
  let ok = 0;
  let failed = 0;
  try {
    await scoreOnQueue(
      files,
      {
        url: flags.queue,
        settings: {
          run: path.resolve(flags.run),
          engine: flags.engine,
          scoring: flags.scoring,
          ttaFlip: flags.ttaFlip,
          ensemble: flags.ensemble?.map((dir) => path.resolve(dir)),
          overrides: local.overrides,
          faces: flags.faces ?? false,
          maxPixels: flags.maxPixels,
        },
        send: flags.queueSend,
        jobImages: flags.queueBatch,
        maxImageBytes: flags.queueMaxMb * 1024 * 1024,
        timeoutMs: flags.queueTimeout * 1000,
        onNote: (line) => process.stderr.write(line + '\n'),
        onProgress: (done) => bar?.update(done),
      },
      (file, result) => {
        if (result.reason !== undefined) {
          failed++;
          process.stderr.write(`skipped ${escapeControls(file)}: ${result.reason}\n`);
          return;
        }
        ok++;
        const out = result.photo
          ? local.faces(file, result.photo)
          : [local.prediction({ file, ...result.prediction! })];
        for (const line of out) process.stdout.write(line + '\n');
      },
    );
  } finally {
    bar?.stop();
  }
  if (failed) process.stderr.write(`${ok} predicted, ${failed} skipped\n`);
  if (ok === 0) throw new Error('no image could be read');
}
