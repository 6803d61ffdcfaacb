/** The flags that override the run config, shared by `train` and `run`. */
import { Command, Option } from 'commander';
import {
  Config,
  DECODE_MODES,
  INPUT_MODES,
  MODEL_FAMILIES,
  PRESET_ALIASES,
  PRESET_NAMES,
  RESIZE_METHODS,
  resolveConfig,
  SCORING_MODES,
} from '../config';
import { parseInteger, parseNumber, UsageError } from './common';

export interface ConfigFlags {
  preset?: string;
  config?: string;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  size?: number;
  resize?: Config['resize'];
  decode?: Config['decode'];
  harmonize?: boolean;
  alignFaces?: boolean;
  limit?: number;
  valFraction?: number;
  testFraction?: number;
  splitSeed?: number;
  seed?: number;
  dropout?: number;
  earlyStopping?: number;
  workers?: number;
  threshold?: number;
  model?: Config['model'];
  input?: Config['input'];
  ttaFlip?: boolean;
  scoring?: Config['scoring'];
}

export function addConfigFlags(command: Command, defaultPreset: string): Command {
  return command
    .addOption(
      new Option(
        '--preset <name>',
        `starting values (study = exactly the study; ${Object.keys(PRESET_ALIASES).join(', ')}: old name of study)`,
      )
        .choices([...PRESET_NAMES, ...Object.keys(PRESET_ALIASES)])
        .default(defaultPreset),
    )
    .option('--config <file.json>', "JSON file with config values (e.g. a run's config.json)")
    .option('--epochs <n>', 'training epochs', parseInteger)
    .option('--batch-size <n>', 'mini-batch size', parseInteger)
    .option('--lr <x>', 'Adam learning rate', parseNumber)
    .option('--size <px>', 'image side in pixels (>= 64)', parseInteger)
    .addOption(new Option('--resize <method>', 'resize method').choices(RESIZE_METHODS as string[]))
    .addOption(
      new Option(
        '--decode <mode>',
        'JPEG decoding: full (as Keras load_img) or fast (shrink while decoding; not PIL-exact)',
      ).choices(DECODE_MODES as string[]),
    )
    .option('--harmonize', 'give both classes the same source size, format and JPEG quality before resizing')
    .option('--align-faces', "crop each image to its largest face's FFHQ-style square, as predict --faces does")
    .option('--limit <n>', 'at most n images per class (sorted order)', parseInteger)
    .option('--val-fraction <f>', 'validation fraction', parseNumber)
    .option('--test-fraction <f>', 'held-out test fraction (metrics reported on it)', parseNumber)
    .option(
      '--split-seed <n>',
      "seed of the split (NumPy RandomState, as scikit-learn's random_state; the study: 5)",
      parseInteger,
    )
    .option('--seed <n>', 'seed for weights, shuffling and dropout', parseInteger)
    .option('--dropout <rate>', 'dropout rate', parseNumber)
    .option('--early-stopping <patience>', 'stop after this many epochs without val_accuracy gain', parseInteger)
    .option('--workers <n>', 'training worker threads on CPU backends (0: one per core)', parseInteger)
    .option('--threshold <p>', 'pFake threshold for "Fake"', parseNumber)
    .addOption(
      new Option('--model <family>', 'model family (other training options: --config file.json)').choices(
        MODEL_FAMILIES as string[],
      ),
    )
    .addOption(new Option('--input <mode>', 'input transform inside the model').choices(INPUT_MODES as string[]))
    .option('--tta-flip', "average each image's score with its mirror image's at evaluation")
    .addOption(
      new Option('--scoring <mode>', 'how evaluation scores images: resize, tiles or native (see README)').choices(
        SCORING_MODES as string[],
      ),
    );
}

/** Study defaults < preset < --config file < flags. Config errors are usage errors. */
export function configFromFlags(flags: ConfigFlags): Config {
  try {
    return resolveConfig({
      preset: flags.preset,
      file: flags.config,
      overrides: {
        epochs: flags.epochs,
        batchSize: flags.batchSize,
        learningRate: flags.lr,
        imageSize: flags.size,
        resize: flags.resize,
        decode: flags.decode,
        harmonize: flags.harmonize,
        alignFaces: flags.alignFaces,
        limitPerClass: flags.limit,
        valFraction: flags.valFraction,
        testFraction: flags.testFraction,
        splitSeed: flags.splitSeed,
        seed: flags.seed,
        dropout: flags.dropout,
        earlyStoppingPatience: flags.earlyStopping,
        workers: flags.workers,
        threshold: flags.threshold,
        model: flags.model,
        input: flags.input,
        ttaFlip: flags.ttaFlip,
        scoring: flags.scoring,
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
