/** `realfake predict`: verdicts for images and folders (logic in lib/infer/run-predictor.ts, predict.ts, faces.ts). */
import * as fs from 'fs';
import * as path from 'path';
import { Command } from 'commander';
import { explainFile, overlayName } from '../eval/gradcam';
import { loadModel } from '../model/model-io';
import { initBackend } from '../backend/backend';
import { csvField } from '../files';
import { PhotoVerdict, predictFacesInFiles } from '../infer/faces';
import { configureDecoding, MAX_IMAGE_PIXELS } from '../data/images';
import { collectImageInputs, Prediction, Predictor } from '../infer/predict';
import { loadRunPredictor } from '../infer/run-predictor';
import { runVerdictPolicy } from '../infer/run-policy';
import { openRun } from '../runs/runs';
import {
  calibratedOption,
  engineOption,
  policyOverrides,
  scoringOption,
  thresholdOption,
  withPolicyUsage,
} from './options';
import { action, escapeControls, parseInteger, parseNumber, UsageError } from './common';
import { isVideoFile } from '../video/sniff';
import { predictVideoFiles } from './predict-video';
import { predictOnQueue, queueOptions, type QueueFlags } from './predict-queue';

/** Text output is one line per image, tab-separated: control characters in names (a newline) are escaped. */
const FORMATS = {
  text: (p: Prediction) =>
    `${escapeControls(p.file)}\t${p.verdict}\t${(p.confidence * 100).toFixed(1)}%\tpFake=${p.pFake.toFixed(4)}`,
  json: (p: Prediction) => JSON.stringify(p),
  csv: (p: Prediction) =>
    [csvField(p.file), csvField(p.verdict), p.confidence.toFixed(6), p.pFake.toFixed(6)].join(','),
};

const CSV_HEADER = 'file,verdict,confidence,pFake\n';
const FACE_CSV_HEADER = 'file,face,x,y,width,height,verdict,confidence,pFake\n';

/** `--faces`: one line per face found (or one saying there is none), in each format. */
const FACE_FORMATS = {
  text: (file: string, p: PhotoVerdict) =>
    p.faces.length === 0
      ? [`${escapeControls(file)}\tno face found`]
      : p.faces.map(
          (f, i) =>
            `${escapeControls(file)}\tface ${i + 1}/${p.faces.length} at ${f.crop.x},${f.crop.y} ${f.crop.width}x${f.crop.height}\t${f.verdict}\t${(f.confidence * 100).toFixed(1)}%\tpFake=${f.pFake.toFixed(4)}`,
        ),
  json: (file: string, p: PhotoVerdict) => [JSON.stringify({ file, ...p })],
  csv: (file: string, p: PhotoVerdict) =>
    p.faces.length === 0
      ? [[csvField(file), '', '', '', '', '', 'no face found', '', ''].join(',')]
      : p.faces.map((f, i) =>
          [
            csvField(file),
            i + 1,
            f.crop.x,
            f.crop.y,
            f.crop.width,
            f.crop.height,
            csvField(f.verdict),
            f.confidence.toFixed(6),
            f.pFake.toFixed(6),
          ].join(','),
        ),
};

/** `--faces`: each photo's faces in the chosen format, skipped files on stderr. */
function predictFacesInFilesTo(predictor: Predictor, files: string[], format: keyof typeof FACE_FORMATS) {
  if (format === 'csv') process.stdout.write(FACE_CSV_HEADER);
  return predictFacesInFiles(predictor, files, {
    onPhoto: (file, photo) => {
      for (const line of FACE_FORMATS[format](file, photo)) process.stdout.write(line + '\n');
    },
    onFailure: (file, reason) => process.stderr.write(`skipped ${escapeControls(file)}: ${reason}\n`),
  });
}

export function registerPredictCommand(program: Command): void {
  const command = program
    .command('predict')
    .description(
      'say "Real", "Fake (AI-generated)" or "Uncertain" (in the band the model card picked on validation) with confidence for each image; folders are walked, unreadable files reported and skipped',
    )
    .requiredOption('--run <dir>', 'run folder with a trained model')
    .argument('<paths...>', 'image files or folders; video files (mp4, mov, mkv, webm) get a verdict per tracked face')
    .option('--json', 'one JSON object per line')
    .option('--csv', 'CSV with a header line')
    .option(
      '--max-pixels <n>',
      'refuse images with more pixels; decoding holds at most ~4 bytes x this in memory',
      parseInteger,
      MAX_IMAGE_PIXELS,
    )
    .option('--concurrency <n>', 'images decoded at once (default: one per core)', parseInteger)
    .option(
      '--faces',
      'find the faces in each photo and give each its own verdict (crop with an FFHQ-style margin); says when a photo has none',
    )
    .option('--tta-flip', "average each image's score with its mirror image's (default: the run's ttaFlip setting)")
    .option('--ensemble <dirs...>', "average the scores of these other runs' models with this run's")
    .addOption(scoringOption())
    .addOption(
      thresholdOption('call "Fake" when pFake >= p; "picked": the threshold `realfake analyze` picked on validation'),
    )
    .addOption(
      calibratedOption(
        "temperature-scale pFake with the temperature `realfake analyze` fitted on validation (default: the model card's)",
      ),
    )
    .option('--explain <dir>', 'write a Grad-CAM overlay PNG per image into this folder')
    .option('--fps <n>', 'videos: frames a second to look at', parseNumber, 2)
    .option(
      '--max-frames <n>',
      'videos: most frames to look at; a longer video is sampled evenly over its whole length (says so)',
      parseInteger,
      600,
    )
    .option('--timeline <file.html>', 'videos: write pFake over time per tracked face (Plotly, one line per face)')
    .addOption(engineOption())
    .action(
      action(
        async (
          paths: string[],
          flags: Omit<QueueFlags, 'queue'> & {
            queue?: string;
            json?: boolean;
            csv?: boolean;
            concurrency?: number;
            fps: number;
            maxFrames: number;
            timeline?: string;
          },
        ) => {
          if (flags.json && flags.csv) throw new UsageError('choose one of --json and --csv');
          if (!(flags.fps > 0)) throw new UsageError(`--fps ${flags.fps}: expected a number above 0`);
          if (!(flags.maxFrames >= 1)) throw new UsageError(`--max-frames ${flags.maxFrames}: expected 1 or more`);
          const format = flags.json ? 'json' : flags.csv ? 'csv' : 'text';
          configureDecoding({ maxPixels: flags.maxPixels, concurrency: flags.concurrency });
          let inputs: ReturnType<typeof collectImageInputs>;
          try {
            inputs = collectImageInputs(paths);
          } catch (err) {
            throw new UsageError((err as Error).message);
          }
          const { problems } = inputs;
          for (const p of problems) process.stderr.write(`skipped ${escapeControls(p.path)}: ${p.reason}\n`);
          const videos = inputs.files.filter(isVideoFile);
          const files = inputs.files.filter((f) => !videos.includes(f));
          if (videos.length && files.length && format === 'csv')
            throw new UsageError('--csv takes images or videos, not both (their columns differ): run them separately');
          if (files.length === 0 && videos.length === 0) throw new Error(`no image files found in ${paths.join(', ')}`);
          if (flags.queue) {
            if (videos.length) throw new UsageError('--queue scores images: score videos without it');
            if (format === 'csv') process.stdout.write(flags.faces ? FACE_CSV_HEADER : CSV_HEADER);
            const local = {
              overrides: policyOverrides(flags),
              prediction: FORMATS[format],
              faces: FACE_FORMATS[format],
            };
            const check = () =>
              void withPolicyUsage(() =>
                runVerdictPolicy(flags.run, openRun(flags.run).config.threshold, policyOverrides(flags)),
              );
            return predictOnQueue(files, { ...flags, queue: flags.queue }, { ...local, check });
          }
          await initBackend();
          // Which engine runs goes to stderr, so --json and --csv output stays clean.
          const note = (line: string) => process.stderr.write(line + '\n');
          const overrides = policyOverrides(flags);
          const predictor = await withPolicyUsage(() =>
            loadRunPredictor(flags.run, {
              engine: flags.engine,
              ttaFlip: flags.ttaFlip,
              ensemble: flags.ensemble,
              scoring: flags.scoring,
              overrides,
              onNote: note,
            }),
          );
          if (videos.length) {
            let counts: { ok: number; failed: number };
            try {
              counts = await predictVideoFiles(predictor, videos, format, flags);
              if (files.length === 0) {
                if (counts.failed) process.stderr.write(`${counts.ok} predicted, ${counts.failed} skipped\n`);
                if (counts.ok === 0) throw new Error('no video could be read');
                return;
              }
            } finally {
              if (files.length === 0) await predictor.dispose();
            }
          }
          if (flags.faces) {
            let counts: { ok: number; failed: number };
            try {
              counts = await predictFacesInFilesTo(predictor, files, format);
            } finally {
              await predictor.dispose();
            }
            if (counts.failed) process.stderr.write(`${counts.ok} predicted, ${counts.failed} skipped\n`);
            if (counts.ok === 0) throw new Error('no image could be read');
            return;
          }
          let result: Awaited<ReturnType<Predictor['predictFiles']>>;
          const model = flags.explain ? await loadModel(path.join(flags.run, 'model')) : null;
          try {
            if (flags.explain) fs.mkdirSync(flags.explain, { recursive: true });
            const explanations: Array<Promise<string>> = [];
            const used = new Map<string, number>();
            if (format === 'csv') process.stdout.write(CSV_HEADER);
            const threshold = predictor.policy.threshold;
            result = await predictor.predictFiles(files, {
              onPrediction: (p) => {
                process.stdout.write(FORMATS[format](p) + '\n');
                if (model && flags.explain)
                  explanations.push(
                    explainFile(
                      model,
                      predictor,
                      p.file,
                      path.join(flags.explain, overlayName(p.file, used)),
                      threshold,
                    ),
                  );
              },
              onFailure: (f) => process.stderr.write(`skipped ${escapeControls(f.file)}: ${f.reason}\n`),
            });
            for (const line of await Promise.all(explanations)) process.stderr.write(line + '\n');
          } finally {
            model?.dispose();
            await predictor.dispose();
          }
          const { predictions, failures } = result;
          if (failures.length) process.stderr.write(`${predictions.length} predicted, ${failures.length} skipped\n`);
          if (predictions.length === 0) throw new Error('no image could be read');
        },
      ),
    );

  for (const option of queueOptions()) command.addOption(option);
}
