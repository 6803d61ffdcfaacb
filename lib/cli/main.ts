/** The `realfake` command line: one thin subcommand per step; the logic lives in lib/. */
import { Command, CommanderError } from 'commander';
import { registerAuditCommand } from './audit';
import { installInterruptHandlers } from '../interrupt';
import { registerAnalyzeCommand } from './analyze';
import { registerCompareCommand } from './compare';
import { registerDataCommand } from './data';
import { registerEvaluateCommand } from './evaluate';
import { registerExportCommand } from './export';
import { registerPredictCommand } from './predict';
import { registerPreprocessCommand } from './preprocess';
import { registerReportCommand } from './report';
import { registerRunCommand } from './run';
import { registerServeCommand } from './serve';
import { registerSweepCommand } from './sweep';
import { registerCrossvalCommand } from './crossval';
import { registerSynthCommand } from './synth';
import { registerTrainCommand } from './train';
import { registerWorkerCommand } from './worker';

export function buildProgram(): Command {
  const program = new Command('realfake')
    .description(
      'Tell real face photos from AI-generated ones (a TypeScript port of a Kaggle/Keras study).\nREALFAKE_BACKEND=tfjs-node-gpu|tfjs-node|wasm|cpu forces a TensorFlow.js backend.',
    )
    .version(require('../../../package.json').version)
    // Usage errors exit with 2 (commander's default is 1); --help and --version with 0.
    .exitOverride()
    .showHelpAfterError('(add --help for usage)');
  registerRunCommand(program);
  registerSynthCommand(program);
  registerPreprocessCommand(program);
  registerTrainCommand(program);
  registerEvaluateCommand(program);
  registerPredictCommand(program);
  registerExportCommand(program);
  registerReportCommand(program);
  registerServeCommand(program);
  registerWorkerCommand(program);
  registerDataCommand(program);
  registerAnalyzeCommand(program);
  registerCompareCommand(program);
  registerSweepCommand(program);
  registerCrossvalCommand(program);
  registerAuditCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  installInterruptHandlers();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      const ok = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(err.code);
      process.exitCode = ok ? 0 : 2;
      return;
    }
    throw err;
  }
}
