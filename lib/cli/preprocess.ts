/** `realfake preprocess`: image folders > X.npy, Y.npy, manifest.csv (logic in lib/data/preprocess.ts). */
import { Command, Option } from 'commander';
import { DECODE_MODES, DecodeMode, RESIZE_METHODS, ResizeMethod, STUDY_DEFAULTS } from '../config';
import { configureDecoding, MAX_IMAGE_PIXELS, MIN_IMAGE_SIDE } from '../data/images';
import { checkClassFolders, preprocessFolders } from '../data/preprocess';
import { action, escapeControls, parseInteger, UsageError } from './common';

interface PreprocessFlags {
  real: string;
  fake: string;
  out: string;
  limit?: number;
  size: number;
  resize: ResizeMethod;
  decode: DecodeMode;
  harmonize?: boolean;
  alignFaces?: boolean;
  concurrency?: number;
  maxPixels: number;
}

export function registerPreprocessCommand(program: Command): void {
  program
    .command('preprocess')
    .description(
      'decode, convert to RGB and resize two image folders into X.npy (uint8 N x H x W x 3), Y.npy (0 real, 1 fake) and manifest.csv',
    )
    .requiredOption('--real <dir>', 'folder of real face images')
    .requiredOption('--fake <dir>', 'folder of AI-generated face images')
    .requiredOption('--out <dir>', 'output folder')
    .option('--limit <n>', 'at most n images per class, in sorted file order', parseInteger)
    .option('--size <px>', 'output side in pixels', parseInteger, STUDY_DEFAULTS.imageSize)
    .addOption(
      new Option('--resize <method>', 'resize method (nearest = Keras load_img / PIL NEAREST, as in the study)')
        .choices(RESIZE_METHODS as string[])
        .default(STUDY_DEFAULTS.resize),
    )
    .addOption(
      new Option(
        '--decode <mode>',
        'JPEG decoding: full (as Keras load_img, the study) or fast (shrink while decoding: faster, not PIL-exact)',
      )
        .choices(DECODE_MODES as string[])
        .default(STUDY_DEFAULTS.decode),
    )
    .option(
      '--harmonize',
      'first bring both classes to the same source size, format and JPEG quality (lib/data/harmonize.ts)',
    )
    .option(
      '--align-faces',
      "crop each image to its largest face's FFHQ-style square exactly as predict --faces does (no face found: the whole image)",
    )
    .option('--concurrency <n>', 'images decoded at once (default: one per core)', parseInteger)
    .option(
      '--max-pixels <n>',
      'refuse images with more pixels; decoding holds at most ~4 bytes x this in memory',
      parseInteger,
      MAX_IMAGE_PIXELS,
    )
    .action(
      action(async (flags: PreprocessFlags) => {
        if (flags.size < MIN_IMAGE_SIDE)
          throw new UsageError(`--size must be at least ${MIN_IMAGE_SIDE} (got ${flags.size})`);
        if (flags.limit !== undefined && flags.limit <= 0)
          throw new UsageError(`--limit must be positive (got ${flags.limit})`);
        if (flags.alignFaces && flags.harmonize)
          throw new UsageError('--align-faces cannot be combined with --harmonize');
        try {
          checkClassFolders(flags.real, flags.fake);
          configureDecoding({ maxPixels: flags.maxPixels, concurrency: flags.concurrency });
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
        const result = await preprocessFolders({
          realDir: flags.real,
          fakeDir: flags.fake,
          out: flags.out,
          size: flags.size,
          resize: flags.resize,
          decode: flags.decode,
          harmonize: flags.harmonize ?? false,
          alignFaces: flags.alignFaces ?? false,
          limitPerClass: flags.limit ?? null,
          concurrency: flags.concurrency,
          onProgress: (p) => {
            if (p.status === 'skipped') process.stderr.write(`skipped ${escapeControls(p.file)}: ${p.reason}\n`);
          },
        });
        process.stdout.write(`${result.summary}\n`);
      }),
    );
}
