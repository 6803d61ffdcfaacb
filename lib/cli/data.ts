/** `realfake data kaggle`: fetch the study's datasets (lib/data/kaggle.ts); `realfake data shared`: link the shared dev faces (lib/data/source-folders.ts). */
import * as fs from 'fs';
import { Command } from 'commander';
import { Option } from 'commander';
import {
  KAGGLE_140K_SPLITS,
  KAGGLE_DATASETS,
  KAGGLE_SOURCES,
  downloadStudyData,
  kaggle140kDatasets,
  type Kaggle140kSplit,
  type KaggleSource,
} from '../data/kaggle';
import { UsageError, action, parseInteger } from './common';
import { DEFAULT_DATA_ROOT } from '../data/sources';
import { linkSharedSources, sharedRoot } from '../data/source-folders';

interface KaggleFlags {
  out: string;
  realLimit?: number;
  fakeLimit?: number;
  force?: boolean;
  dataset: KaggleSource;
  split: Kaggle140kSplit;
  limit?: number;
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
    .option('--out <dir>', 'output folder (default data/kaggle; with --dataset 140k, data/kaggle-140k)', 'data/kaggle')
    .option('--real-limit <n>', 'extract only the first n real images (sorted by path)', parseInteger)
    .option('--fake-limit <n>', 'extract only the first n fake images (sorted by path)', parseInteger)
    .option('--force', 'download again and overwrite extracted images')
    .addOption(
      new Option(
        '--dataset <name>',
        "study: the study's two datasets; 140k: xhlulu/140k-real-and-fake-faces (FFHQ vs StyleGAN, 256 px JPEG)",
      )
        .choices(KAGGLE_SOURCES as string[])
        .default('study'),
    )
    .addOption(
      new Option('--split <name>', 'with --dataset 140k: which of its folders to extract')
        .choices(KAGGLE_140K_SPLITS as string[])
        .default('train'),
    )
    .option('--limit <n>', 'extract only the first n images of each class (sorted by path)', parseInteger)
    .action(
      action(async (flags: KaggleFlags) => {
        for (const [flag, value] of [
          ['--real-limit', flags.realLimit],
          ['--fake-limit', flags.fakeLimit],
          ['--limit', flags.limit],
        ] as const) {
          if (value !== undefined && value <= 0)
            throw new UsageError(`${flag} must be a positive integer (got ${value})`);
        }
        const is140k = flags.dataset === '140k';
        const result = await downloadStudyData({
          out: is140k && flags.out === 'data/kaggle' ? 'data/kaggle-140k' : flags.out,
          subdir: is140k ? flags.split : undefined,
          realLimit: flags.realLimit ?? flags.limit,
          fakeLimit: flags.fakeLimit ?? flags.limit,
          force: flags.force,
          datasets: is140k ? kaggle140kDatasets(flags.split) : undefined,
        });
        process.stdout.write(`real: ${result.real.destDir}\nfake: ${result.fake.destDir}\n`);
      }),
    );
  data
    .command('shared')
    .description(
      'link the shared development faces (faces-dev, faces-diffusion-dev) as one folder per source into <data-root>/real/<source> and <data-root>/fake/<source> (links, never copies)',
    )
    .option(
      '--shared <dir>',
      'the folder holding faces-dev and faces-diffusion-dev (default: REALFAKE_SHARED, else ../shared beside the project)',
    )
    .option('--data-root <dir>', 'where to link them', DEFAULT_DATA_ROOT)
    .action(
      action(async (flags: { shared?: string; dataRoot: string }) => {
        const links = linkSharedSources(flags.dataRoot, flags.shared ?? sharedRoot());
        process.stdout.write(`${links.map((l) => `linked ${l} -> ${fs.readlinkSync(l)}`).join('\n')}\n`);
      }),
    );
}
