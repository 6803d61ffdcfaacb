/** `realfake export --run RUNDIR --format onnx` (logic in lib/infer/onnx-export.ts), and the --engine flag it enables. */
import { Command, Option } from 'commander';
import { initBackend } from '../backend/backend';
import { exportRunToOnnx } from '../infer/onnx-export';
import { DEFAULT_ENGINE, ENGINE_CHOICES } from '../infer/onnx-engine';
import { action } from './common';

/** `--engine auto|onnx|tfjs`, shared by predict and evaluate. */
export function engineOption(): Option {
  return new Option('--engine <name>', 'inference engine: onnx (onnxruntime-node, all cores), tfjs, or auto = onnx when available')
    .choices(ENGINE_CHOICES as string[])
    .default(DEFAULT_ENGINE);
}

export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description('write a trained run\'s model in another format: onnx > RUNDIR/model.onnx (input "input" NHWC [N,H,W,3] in [0,1]; outputs "probabilities" [N,2] and "pFake" [N])')
    .requiredOption('--run <dir>', 'run folder with a trained model')
    .addOption(new Option('--format <name>', 'output format').choices(['onnx']).default('onnx'))
    .action(action(async (flags: { run: string; format: 'onnx' }) => {
      await initBackend();
      const { file, bytes } = await exportRunToOnnx(flags.run);
      process.stdout.write(`wrote ${file} (${(bytes.length / 1e6).toFixed(1)} MB)\n`);
    }));
}
