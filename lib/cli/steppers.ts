/** Which training stepper a command uses: data-parallel workers when they help (logic in lib/train/parallel.ts). */
import type { Config } from '../config';
import type { TrainRunOptions } from '../train/experiment';
import { parallelStepperFactory } from '../train/parallel';

export function stepperFactory(config: Config): TrainRunOptions['makeStepper'] {
  return parallelStepperFactory(config, (line) => process.stdout.write(line + '\n'));
}
