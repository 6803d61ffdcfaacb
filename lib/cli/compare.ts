/** `realfake compare`: runs side by side with paired tests (logic in lib/eval/compare.ts). */
import * as fs from 'fs';
import * as path from 'path';
import { Command } from 'commander';
import { compareRuns, expandRunArgs } from '../eval/compare';
import { figuresPageHtml } from '../eval/analyze';
import { writeFileAtomic } from '../files';
import { action, UsageError } from './common';

export function registerCompareCommand(program: Command): void {
  program
    .command('compare')
    .description(
      'compare evaluated runs: settings that differ, metrics with 95 % intervals, overlaid curves, McNemar and DeLong tests',
    )
    .argument('<runs...>', 'run folders, or a quoted glob such as "outputs/runs/*smoke*"')
    .option('--out <dir>', 'write comparison.md and figures.html here')
    .action(
      action(async (runs: string[], flags: { out?: string }) => {
        let dirs: string[];
        try {
          dirs = expandRunArgs(runs);
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
        const comparison = compareRuns(dirs);
        process.stdout.write(comparison.markdown);
        if (flags.out) {
          fs.mkdirSync(flags.out, { recursive: true });
          writeFileAtomic(path.join(flags.out, 'comparison.md'), comparison.markdown);
          writeFileAtomic(
            path.join(flags.out, 'figures.html'),
            figuresPageHtml(`realfake comparison of ${comparison.runs.length} runs`, comparison.figures),
          );
          process.stdout.write(`wrote ${path.join(flags.out, 'comparison.md')} and figures.html\n`);
        }
      }),
    );
}
