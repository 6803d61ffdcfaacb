/** `realfake crossval --by-source`: leave-one-source-out training and the source matrix (logic in lib/crossval.ts). */
import * as path from 'path';
import { Command } from 'commander';
import { presetNamed } from '../config';
import { runCrossval, writeCrossvalReport } from '../crossval';
import { ensureDataset } from '../data/dataset-cache';
import { DEFAULT_DATA_ROOT, findImageData } from '../data/sources';
import { action, UsageError } from './common';
import { addConfigFlags, ConfigFlags, configFromFlags } from './config-flags';
import { GracefulInterrupt } from './progress';

export function registerCrossvalCommand(program: Command): void {
  const command = program
    .command('crossval')
    .description(
      'leave-one-source-out: train without each source in turn (fake and real), test on it; the train x test source matrix as a table and heatmap',
    )
    .option('--by-source', 'hold out one source at a time (the only mode; say it to be explicit)')
    .option(
      '--data <dir>',
      'preprocessed dataset folder (default: data/real + data/fake, preprocessed for the config, cached)',
    )
    .option('--data-root <dir>', 'where to look for data when --data is not given', DEFAULT_DATA_ROOT)
    .option('--out <dir>', 'cross-validation folder (crossval.json, crossval.md, figures/, runs/); run again to resume')
    .option(
      '--hold-out <sources...>',
      'hold out only these, e.g. fake/sd1_eyewear real/amfd_lab (default: every source)',
    );
  addConfigFlags(command, 'faces').action(
    action(
      async (
        flags: ConfigFlags & { data?: string; dataRoot: string; out?: string; holdOut?: string[]; svg?: boolean },
      ) => {
        const config = configFromFlags(flags);
        const log = (line: string) => process.stdout.write(line + '\n');
        let dataDir = flags.data;
        if (!dataDir) {
          const source = findImageData(flags.dataRoot);
          if (!source)
            throw new UsageError(
              `no images in ${flags.dataRoot}/real and ${flags.dataRoot}/fake: put one subfolder per source there, or pass --data`,
            );
          dataDir = await ensureDataset(source, config, flags.dataRoot, log);
        }
        const stamp = new Date()
          .toISOString()
          .replace(/\.\d+Z$/, '')
          .replace(/:/g, '-');
        const out = flags.out ?? path.join('outputs', 'crossval', stamp);
        const interrupt = new GracefulInterrupt();
        const result = await runCrossval({
          dataDir,
          config,
          preset: presetNamed(flags.preset ?? 'faces'),
          out,
          holdOut: flags.holdOut,
          log,
          train: { callbacks: [interrupt] },
        });
        const report = await writeCrossvalReport(result, out, { svg: flags.svg });
        log(`\n${report.markdown}\n\n${report.note}\n${report.files.map((f) => `wrote ${f}`).join('\n')}`);
      },
    ),
  );
}
