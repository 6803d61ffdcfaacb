/** `realfake analyze`: intervals, thresholds, calibration, robustness, spectra and Grad-CAM of a run (logic in lib/eval/analyze.ts). */
import { Command, Option } from 'commander';
import { initBackend } from '../backend/backend';
import { analyzeRun } from '../eval/analyze';
import { parseThresholdRule } from '../eval/thresholds';
import type { EngineChoice } from '../infer/onnx-engine';
import { action, parseInteger, UsageError } from './common';
import { engineOption } from './options';

export function registerAnalyzeCommand(program: Command): void {
  program
    .command('analyze')
    .description(
      'bootstrap intervals, threshold picked on validation, calibration (temperature), robustness grid, spectra and Grad-CAM; writes RUNDIR/analysis/, threshold.json, calibration.json',
    )
    .requiredOption('--run <dir>', 'run folder')
    .option('--threshold-rule <rule>', 'how to pick the threshold on validation: youden, eer or fpr=X', 'youden')
    .option('--resamples <n>', 'bootstrap resamples', parseInteger, 1000)
    .addOption(new Option('--robustness <grid>', 'robustness grid').choices(['full', 'quick', 'none']).default('full'))
    .option('--no-spectra', 'skip the frequency view')
    .option(
      '--gradcam <n>',
      'Grad-CAM overlays of the n most confident right and n most confident wrong predictions',
      parseInteger,
      4,
    )
    .option('--svg', 'also write every figure as SVG beside its PNG (vector, for papers; needs Chromium)')
    .addOption(engineOption())
    .action(
      action(
        async (flags: {
          run: string;
          thresholdRule: string;
          resamples: number;
          robustness: 'full' | 'quick' | 'none';
          spectra: boolean;
          gradcam: number;
          engine: EngineChoice;
          svg?: boolean;
        }) => {
          try {
            parseThresholdRule(flags.thresholdRule);
          } catch (err) {
            throw new UsageError((err as Error).message);
          }
          await initBackend();
          const analysis = await analyzeRun(flags.run, {
            engine: flags.engine,
            thresholdRule: flags.thresholdRule,
            resamples: flags.resamples,
            robustness: flags.robustness,
            spectra: flags.spectra,
            gradcam: flags.gradcam,
            svg: flags.svg,
            log: (line) => process.stderr.write(line + '\n'),
          });
          process.stdout.write(analysis.markdown);
          for (const note of analysis.notes) process.stdout.write(`note: ${note}\n`);
          process.stdout.write(analysis.files.map((f) => `wrote ${f}`).join('\n') + '\n');
        },
      ),
    );
}
