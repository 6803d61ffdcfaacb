/** `realfake synth`: the embedded default dataset (logic in lib/data/synth.ts). */
import { Command, Option } from 'commander';
import { generateSynthDataset, MIN_SYNTH_SIZE, SYNTH_DEFAULTS, SynthFormats } from '../data/synth';
import { action, parseInteger, parseNumber, UsageError } from './common';

export function registerSynthCommand(program: Command): void {
  program
    .command('synth')
    .description(
      'generate the embedded default dataset: procedural faces, "real" via a camera-like path, "fake" via a GAN-like upsampler (a smoke-test dataset, not evidence about real deepfakes)',
    )
    .requiredOption('--out <dir>', 'output folder (writes <out>/real/*.png and <out>/fake/*.png)')
    .option('--count <n>', 'images per class', parseInteger, SYNTH_DEFAULTS.count)
    .option('--size <px>', `image side in pixels (even, >= ${MIN_SYNTH_SIZE})`, parseInteger, SYNTH_DEFAULTS.size)
    .option('--seed <n>', 'random seed', parseInteger, SYNTH_DEFAULTS.seed)
    .option('--difficulty <d>', '0 (obvious generator traces) to 1 (faint)', parseNumber, SYNTH_DEFAULTS.difficulty)
    .addOption(
      new Option(
        '--formats <kind>',
        "same: both classes PNG; study: reals PNG, fakes 4x larger JPEG (the study's data shape)",
      )
        .choices(['same', 'study'])
        .default('same'),
    )
    .action(
      action(
        async (flags: {
          out: string;
          count: number;
          size: number;
          seed: number;
          difficulty: number;
          formats: SynthFormats;
        }) => {
          if (flags.count <= 0) throw new UsageError(`--count must be positive (got ${flags.count})`);
          if (flags.size < MIN_SYNTH_SIZE)
            throw new UsageError(`--size must be at least ${MIN_SYNTH_SIZE} (got ${flags.size})`);
          if (!(flags.difficulty >= 0 && flags.difficulty <= 1))
            throw new UsageError(`--difficulty must be in [0, 1] (got ${flags.difficulty})`);
          const started = Date.now();
          await generateSynthDataset(flags);
          process.stdout.write(
            `wrote ${flags.count} real + ${flags.count} fake ${flags.size}px images to ${flags.out} in ${((Date.now() - started) / 1000).toFixed(1)}s\n`,
          );
        },
      ),
    );
}
