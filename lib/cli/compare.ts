/** `realfake compare`: runs side by side with paired tests (logic in lib/eval/compare.ts). */
import { Command } from 'commander';
import { compareRuns, expandRunArgs, writeComparisonFiles } from '../eval/compare';
import { action, UsageError } from './common';

export function registerCompareCommand(program: Command): void {
  program
    .command('compare')
    .description(
      'compare evaluated runs: settings that differ, metrics with 95 % intervals, overlaid curves, McNemar and DeLong tests',
    )
    .argument('<runs...>', 'run folders, or a quoted glob such as "outputs/runs/*smoke*"')
    .option('--out <dir>', 'write comparison.md and figures.html here')
    .option('--svg', 'with --out: also write every figure as figures/NAME.svg (vector, for papers; needs Chromium)')
    .action(
      action(async (runs: string[], flags: { out?: string; svg?: boolean }) => {
        let dirs: string[];
        try {
          dirs = expandRunArgs(runs);
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
        const comparison = compareRuns(dirs);
        process.stdout.write(comparison.markdown);
        if (flags.svg && !flags.out) throw new UsageError('--svg needs --out (the folder to write the figures into)');
        if (flags.out) {
          const written = await writeComparisonFiles(
            flags.out,
            `realfake comparison of ${comparison.runs.length} runs`,
            comparison.markdown,
            comparison.figures,
            { svg: flags.svg },
          );
          process.stdout.write(`${written.files.map((f) => `wrote ${f}`).join('\n')}\n`);
          if (written.note) process.stdout.write(`note: ${written.note}\n`);
        }
      }),
    );
}
