/** `realfake predict`: verdicts for images and folders (logic in lib/infer/predict.ts). */
import { Command } from 'commander';
import { initBackend } from '../backend/backend';
import { csvField } from '../files';
import { EngineChoice, loadEngine } from '../infer/onnx-engine';
import { configureDecoding, MAX_IMAGE_PIXELS } from '../data/images';
import { collectImageInputs, Prediction, Predictor } from '../infer/predict';
import { engineOption } from './export';
import { AveragingEngine, checkEnsembleMembers } from '../infer/averaging';
import { openRun } from '../train/runs';
import { action, escapeControls, parseInteger, UsageError } from './common';

/** Text output is one line per image, tab-separated: control characters in names (a newline) are escaped. */
const FORMATS = {
  text: (p: Prediction) => `${escapeControls(p.file)}\t${p.verdict}\t${(p.confidence * 100).toFixed(1)}%\tpFake=${p.pFake.toFixed(4)}`,
  json: (p: Prediction) => JSON.stringify(p),
  csv: (p: Prediction) => [csvField(p.file), csvField(p.verdict), p.confidence.toFixed(6), p.pFake.toFixed(6)].join(','),
};

export function registerPredictCommand(program: Command): void {
  program
    .command('predict')
    .description('say "Real" or "Fake (AI-generated)" with confidence for each image; folders are walked, unreadable files reported and skipped')
    .requiredOption('--run <dir>', 'run folder with a trained model')
    .argument('<paths...>', 'image files or folders')
    .option('--json', 'one JSON object per line')
    .option('--csv', 'CSV with a header line')
    .option('--max-pixels <n>', 'refuse images with more pixels; decoding holds at most ~4 bytes x this in memory', parseInteger, MAX_IMAGE_PIXELS)
    .option('--concurrency <n>', 'images decoded at once (default: one per core)', parseInteger)
    .option('--tta-flip', 'average each image\'s score with its mirror image\'s (default: the run\'s ttaFlip setting)')
    .option('--ensemble <dirs...>', 'average the scores of these other runs\' models with this run\'s')
    .addOption(engineOption())
    .action(action(async (paths: string[], flags: { run: string; json?: boolean; csv?: boolean; engine: EngineChoice; maxPixels: number; concurrency?: number; ttaFlip?: boolean; ensemble?: string[] }) => {
      if (flags.json && flags.csv) throw new UsageError('choose one of --json and --csv');
      const format = flags.json ? 'json' : flags.csv ? 'csv' : 'text';
      configureDecoding({ maxPixels: flags.maxPixels, concurrency: flags.concurrency });
      let inputs: ReturnType<typeof collectImageInputs>;
      try {
        inputs = collectImageInputs(paths);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      const { files, problems } = inputs;
      for (const p of problems) process.stderr.write(`skipped ${escapeControls(p.path)}: ${p.reason}\n`);
      if (files.length === 0) throw new Error(`no image files found in ${paths.join(', ')}`);
      await initBackend();
      // Which engine runs goes to stderr, so --json and --csv output stays clean.
      const note = (line: string) => process.stderr.write(line + '\n');
      const members = flags.ensemble ?? [];
      checkEnsembleMembers(flags.run, members);
      const ttaFlip = flags.ttaFlip ?? openRun(flags.run).config.ttaFlip ?? false;
      const predictor = await Predictor.fromRun(flags.run, async (dir) => {
        const engines = [await loadEngine(dir, flags.engine, note)];
        for (const member of members) engines.push(await loadEngine(member, flags.engine, note));
        return ttaFlip || members.length ? new AveragingEngine(engines, ttaFlip) : engines[0];
      });
      let result: Awaited<ReturnType<Predictor['predictFiles']>>;
      try {
        if (format === 'csv') process.stdout.write('file,verdict,confidence,pFake\n');
        result = await predictor.predictFiles(files, {
          onPrediction: (p) => process.stdout.write(FORMATS[format](p) + '\n'),
          onFailure: (f) => process.stderr.write(`skipped ${escapeControls(f.file)}: ${f.reason}\n`),
        });
      } finally {
        await predictor.dispose();
      }
      const { predictions, failures } = result;
      if (failures.length) process.stderr.write(`${predictions.length} predicted, ${failures.length} skipped\n`);
      if (predictions.length === 0) throw new Error('no image could be read');
    }));
}
