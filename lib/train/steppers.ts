/**
 * Which training stepper the CLI and the notebooks use: data-parallel workers when they help (logic in
 * lib/train/parallel.ts), their notes printed to stdout.
 */
import type { Config } from '../config';
import type { TrainRunOptions } from './experiment';
import { parallelStepperFactory } from './parallel';

export function stepperFactory(config: Config): TrainRunOptions['makeStepper'] {
  return parallelStepperFactory(config, (line) => process.stdout.write(line + '\n'));
}
