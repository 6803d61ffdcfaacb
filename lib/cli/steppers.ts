/** Which training stepper a command uses; data-parallel workers plug in here. */
import type { Config } from '../config';
import type { TrainRunOptions } from '../experiment';

export function stepperFactory(_config: Config): TrainRunOptions['makeStepper'] {
  return undefined;
}
