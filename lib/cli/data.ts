/** `realfake data kaggle`: fetch the study's datasets (logic in lib/data/kaggle.ts). */
import { Command } from 'commander';
import { KAGGLE_DATASETS, downloadStudyData } from '../data/kaggle';
import { UsageError, action, parseInteger } from './common';

interface KaggleFlags {
  out: string;
  realLimit?: number;
  fakeLimit?: number;
  force?: boolean;
}

export function registerDataCommand(program: Command): void {
  const data = program.command('data').description('get the datasets');
  data
    .command('kaggle')
    .description(
      `download the study's datasets from Kaggle (${KAGGLE_DATASETS.real.owner}/${KAGGLE_DATASETS.real.slug} and ` +
        `${KAGGLE_DATASETS.fake.owner}/${KAGGLE_DATASETS.fake.slug}) and extract them into <out>/real and <out>/fake; ` +
        'needs ~/.kaggle/kaggle.json or KAGGLE_USERNAME/KAGGLE_KEY; re-running resumes',
    )
    .option('--out <dir>', 'output folder', 'data/kaggle')
    .option('--real-limit <n>', 'extract only the first n real images (sorted by path)', parseInteger)
    .option('--fake-limit <n>', 'extract only the first n fake images (sorted by path)', parseInteger)
    .option('--force', 'download again and overwrite extracted images')
    .action(
      action(async (flags: KaggleFlags) => {
        for (const [flag, value] of [['--real-limit', flags.realLimit], ['--fake-limit', flags.fakeLimit]] as const) {
          if (value !== undefined && value <= 0) throw new UsageError(`${flag} must be a positive integer (got ${value})`);
        }
        const result = await downloadStudyData({
          out: flags.out,
          realLimit: flags.realLimit,
          fakeLimit: flags.fakeLimit,
          force: flags.force,
        });
        process.stdout.write(`real: ${result.real.destDir}\nfake: ${result.fake.destDir}\n`);
      }),
    );
}
