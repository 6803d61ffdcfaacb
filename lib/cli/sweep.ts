/** `realfake sweep`: a resumable grid of runs, then their comparison (logic in lib/sweep.ts, lib/eval/compare.ts). */
import { Command } from 'commander';
import { compareRuns, writeComparisonFiles } from '../eval/compare';
import { parallelCoordinatesFigure, parseSetArgs, runSweep, trainThenEvaluate } from '../sweep';
import { action, UsageError } from './common';
import { addConfigFlags, ConfigFlags, configFromFlags } from './config-flags';
import { stepperFactory } from '../train/steppers';

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerSweepCommand(program: Command): void {
  const command = program
    .command('sweep')
    .description(
      'train and evaluate one run per combination of --set values (resumable: finished runs are kept and skipped), then compare them',
    )
    .requiredOption('--data <dir>', 'preprocessed dataset folder')
    .requiredOption(
      '--out <dir>',
      'sweep folder (sweep.json, runs/, comparison.md, figures.html); run again with the same folder to resume',
    )
    .option(
      '--set <name=v1,v2>',
      'a setting and its values (repeatable), e.g. --set lr=1e-3,1e-4 --set epochs=20,40',
      collect,
      [],
    )
    .option(
      '--svg',
      'also write every figure as figures/NAME.svg in the sweep folder (vector, for papers; needs Chromium)',
    );
  addConfigFlags(command, 'study').action(
    action(async (flags: ConfigFlags & { data: string; out: string; set: string[]; svg?: boolean }) => {
      let axes;
      try {
        axes = parseSetArgs(flags.set);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      const base = configFromFlags(flags);
      const state = await runSweep({
        dir: flags.out,
        dataDir: flags.data,
        preset: flags.preset ?? 'study',
        base,
        axes,
        trainAndEvaluate: trainThenEvaluate(flags.data, flags.preset ?? 'study', { makeStepper: stepperFactory(base) }),
        log: (line) => process.stdout.write(line + '\n'),
      });
      const finished = state.points.filter((p) => p.status === 'done' || p.status === 'skipped');
      const failed = state.points.filter((p) => p.status === 'failed');
      if (!finished.length)
        throw new Error(
          `sweep ${flags.out}: no run finished (${failed.map((p) => `${p.key}: ${p.error}`).join('; ')})`,
        );
      const comparison = compareRuns(finished.map((p) => p.runDir as string));
      const figures = {
        parallel: parallelCoordinatesFigure(
          axes,
          finished.map((p, i) => ({ settings: p.settings, value: comparison.runs[i].metrics.auc })),
          `${comparison.runs[0].metrics.split ?? 'held-back'} AUC`,
        ),
        ...comparison.figures,
      };
      const written = await writeComparisonFiles(
        flags.out,
        `realfake sweep ${flags.out}`,
        comparison.markdown,
        figures,
        {
          svg: flags.svg,
        },
      );
      process.stdout.write(
        `${comparison.markdown}\n${finished.length} runs finished, ${failed.length} failed\n${written.files.map((f) => `wrote ${f}`).join('\n')}\n`,
      );
      if (written.note) process.stdout.write(`note: ${written.note}\n`);
      if (failed.length) process.exitCode = 1;
    }),
  );
}
