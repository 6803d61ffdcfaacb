/** `realfake run` (= `npm start`): the whole study on whatever data is present (logic in lib/pipeline.ts). */
import { Command } from 'commander';
import { presetNamed } from '../config';
import { DEFAULT_DATA_ROOT } from '../data/sources';
import { formatPipelineSummary, runPipeline } from '../pipeline';
import { DEFAULT_RUNS_DIR } from '../runs/runs';
import { action } from './common';
import { addConfigFlags, ConfigFlags, configFromFlags } from './config-flags';
import { BatchProgressBar, GracefulInterrupt } from './progress';
import { stepperFactory } from '../train/steppers';

export function registerRunCommand(program: Command): void {
  const command = program
    .command('run')
    .description(
      "the main job: data (yours in data/real + data/fake, else the study's in data/kaggle, else synthetic, which --preset study refuses without --allow-synthetic) > preprocess > train > evaluate > predict two samples > summary",
    )
    .option('--data-root <dir>', 'where to look for data', DEFAULT_DATA_ROOT)
    .option('--out <dir>', 'parent folder of run folders', DEFAULT_RUNS_DIR)
    .option(
      '--allow-synthetic',
      "with --preset study: train on the synthetic stand-in when no faces are found (otherwise it stops, saying how to get the study's data)",
    );
  addConfigFlags(command, 'smoke').action(
    action(async (flags: ConfigFlags & { dataRoot: string; out: string; allowSynthetic?: boolean }) => {
      const config = configFromFlags(flags);
      const result = await runPipeline({
        config,
        preset: presetNamed(flags.preset ?? 'smoke'),
        dataRoot: flags.dataRoot,
        allowSynthetic: flags.allowSynthetic,
        runsDir: flags.out,
        callbacks: [new BatchProgressBar(), new GracefulInterrupt()],
        makeStepper: stepperFactory(config),
      });
      process.stdout.write(`\n${formatPipelineSummary(result)}\n`);
    }),
  );
}
