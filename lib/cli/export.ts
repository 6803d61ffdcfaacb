/** `realfake export --run RUNDIR --format onnx` (logic in lib/infer/onnx-export.ts) or `--format web`. */
import { Command, Option } from 'commander';
import { initBackend } from '../backend/backend';
import { exportRunToOnnx } from '../infer/onnx-export';
import { exportWebPage } from '../serve/web-export';
import { action, UsageError } from './common';

export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description(
      'write a trained run\'s model in another format: onnx > RUNDIR/model.onnx (input "input" NHWC [N,H,W,3] in [0,1]; outputs "probabilities" [N,2] and "pFake" [N]); web > the page as static files that check photos in the browser (--out DIR)',
    )
    .requiredOption('--run <dir>', 'run folder with a trained model')
    .addOption(new Option('--format <name>', 'output format').choices(['onnx', 'web']).default('onnx'))
    .option('--out <dir>', 'output folder (--format web)')
    .action(
      action(async (flags: { run: string; format: 'onnx' | 'web'; out?: string }) => {
        await initBackend();
        if (flags.format === 'web') {
          if (!flags.out) throw new UsageError('--format web needs --out DIR');
          const { files, bytes } = await exportWebPage(flags.run, flags.out);
          process.stdout.write(
            `wrote ${files} files (${(bytes / 1e6).toFixed(1)} MB) to ${flags.out}; open ${flags.out}/index.html, or serve the folder statically\n`,
          );
          return;
        }
        const { file, bytes } = await exportRunToOnnx(flags.run);
        process.stdout.write(`wrote ${file} (${(bytes.length / 1e6).toFixed(1)} MB)\n`);
      }),
    );
}
