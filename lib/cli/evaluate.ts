/** `realfake evaluate`: metrics and figures for a trained run (logic in lib/eval/evaluate.ts). */
import { Command } from 'commander';
import { initBackend } from '../backend/backend';
import { evaluateRun } from '../eval/evaluate';
import { evaluationOverrides } from '../infer/run-policy';
import type { EngineChoice } from '../infer/onnx-engine';
import { formatMetricsTable } from '../eval/tables';
import { formatSourceTable } from '../eval/per-source';
import { cardSummary } from '../eval/model-card-text';
import { action } from './common';
import {
  calibratedOption,
  engineOption,
  policyOverrides,
  scoringOption,
  thresholdOption,
  withPolicyUsage,
} from './options';
import type { ScoringMode } from '../config';
import { openRun } from '../runs/runs';

export function registerEvaluateCommand(program: Command): void {
  program
    .command('evaluate')
    .description(
      "metrics (fake = positive) on the run's held-back split, or on another dataset, into RUNDIR/metrics.json with figures",
    )
    .requiredOption('--run <dir>', 'run folder')
    .option('--data <dir>', 'evaluate on this preprocessed dataset instead (writes metrics.external.json)')
    .option('--tta-flip', "average each image's score with its mirror image's (default: the run's ttaFlip setting)")
    .option('--ensemble <dirs...>', "average the scores of these other runs' models with this run's")
    .addOption(scoringOption())
    .addOption(
      thresholdOption('threshold instead of the run\'s; "picked": the one `realfake analyze` picked on validation'),
    )
    .option('--svg', 'also write every figure as SVG beside its PNG (vector, for papers; needs Chromium)')
    .addOption(calibratedOption('temperature-scale pFake with the temperature `realfake analyze` fitted on validation'))
    .addOption(engineOption())
    .action(
      action(
        async (flags: {
          run: string;
          data?: string;
          engine: EngineChoice;
          ttaFlip?: boolean;
          ensemble?: string[];
          scoring?: ScoringMode;
          threshold?: string;
          calibrated?: boolean;
          svg?: boolean;
        }) => {
          const overrides = policyOverrides(flags);
          const { threshold, temperature } = withPolicyUsage(() =>
            evaluationOverrides(flags.run, openRun(flags.run).config.threshold, overrides),
          );
          await initBackend();
          const result = await evaluateRun(flags.run, {
            dataDir: flags.data,
            engine: flags.engine,
            svg: flags.svg,
            temperature,
            ttaFlip: flags.ttaFlip,
            ensemble: flags.ensemble,
            scoring: flags.scoring,
            threshold,
          });
          process.stdout.write(
            `${result.engineNote}\n${formatMetricsTable(result.metrics)}\nper source (95 % bootstrap intervals):\n${formatSourceTable(result.metrics.perSource)}\n${result.card ? cardSummary(result.card) + '\n' : ''}${result.figureNote}\n${result.files.map((f) => `wrote ${f}`).join('\n')}\n`,
          );
        },
      ),
    );
}
