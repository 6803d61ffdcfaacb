/** `realfake predict`: verdicts for images and folders (logic in lib/infer/predict.ts). */
import { Command } from 'commander';
import { initBackend } from '../backend/backend';
import { csvField } from '../files';
import { EngineChoice, loadEngine } from '../infer/onnx-engine';
import { collectImagePaths, Prediction, Predictor } from '../infer/predict';
import { engineOption } from './export';
import { action, UsageError } from './common';


const FORMATS = {
  text: (p: Prediction) => `${p.file}\t${p.verdict}\t${(p.confidence * 100).toFixed(1)}%\tpFake=${p.pFake.toFixed(4)}`,
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
    .addOption(engineOption())
    .action(action(async (paths: string[], flags: { run: string; json?: boolean; csv?: boolean; engine: EngineChoice }) => {
      if (flags.json && flags.csv) throw new UsageError('choose one of --json and --csv');
      const format = flags.json ? 'json' : flags.csv ? 'csv' : 'text';
      let files: string[];
      try {
        files = collectImagePaths(paths);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      if (files.length === 0) throw new Error(`no image files found in ${paths.join(', ')}`);
      await initBackend();
      // Which engine runs goes to stderr, so --json and --csv output stays clean.
      const predictor = await Predictor.fromRun(flags.run, (dir) => loadEngine(dir, flags.engine, (line) => process.stderr.write(line + '\n')));
      let result: Awaited<ReturnType<Predictor['predictFiles']>>;
      try {
        if (format === 'csv') process.stdout.write('file,verdict,confidence,pFake\n');
        result = await predictor.predictFiles(files, {
          onPrediction: (p) => process.stdout.write(FORMATS[format](p) + '\n'),
          onFailure: (f) => process.stderr.write(`skipped ${f.file}: ${f.reason}\n`),
        });
      } finally {
        await predictor.dispose();
      }
      const { predictions, failures } = result;
      if (failures.length) process.stderr.write(`${predictions.length} predicted, ${failures.length} skipped\n`);
      if (predictions.length === 0) throw new Error('no image could be read');
    }));
}
