/** `realfake train`: the study's model and training on a preprocessed dataset (logic in lib/train/experiment.ts). */
import { Command } from 'commander';
import { presetNamed } from '../config';
import { trainRun } from '../train/experiment';
import { DEFAULT_RUNS_DIR } from '../runs/runs';
import { action } from './common';
import { addConfigFlags, ConfigFlags, configFromFlags } from './config-flags';
import { BatchProgressBar, GracefulInterrupt } from './progress';
import { stepperFactory } from '../train/steppers';

export function registerTrainCommand(program: Command): void {
  const command = program
    .command('train')
    .description(
      "train the study's CNN; writes config, history, the best-val_accuracy checkpoint and metrics inputs to outputs/runs/<id>/",
    )
    .requiredOption('--data <dir>', 'preprocessed dataset folder (from `realfake preprocess`)')
    .option('--out <dir>', 'parent folder of run folders', DEFAULT_RUNS_DIR);
  addConfigFlags(command, 'study').action(
    action(async (flags: ConfigFlags & { data: string; out: string }) => {
      const config = configFromFlags(flags);
      const result = await trainRun({
        dataDir: flags.data,
        config,
        preset: presetNamed(flags.preset ?? 'study'),
        runsDir: flags.out,
        callbacks: [new BatchProgressBar(), new GracefulInterrupt()],
        makeStepper: stepperFactory(config),
      });
      process.stdout.write(`run folder: ${result.run.dir}\n`);
    }),
  );
}
