/**
 * The engine evaluate and predict score with for a config's `scoring` (lib/infer/scoring.ts): the usual engine
 * (lib/infer/onnx-engine.ts) for 'resize' and 'tiles', a tfjs engine on a free-size copy of the model for
 * 'native' (lib/infer/native.ts); flips and ensemble members averaged in (lib/infer/averaging.ts).
 */
import * as path from 'path';
import type { ScoringMode } from '../config';
import { activeBackend } from '../backend/backend';
import { loadModel } from '../model/model-io';
import { openRun } from '../runs/runs';
import { AveragingEngine, checkEnsembleMembers } from './averaging';
import { checkNativeScoring, freeSizeCopy, nativeSideMultiple } from './native';
import { DEFAULT_ENGINE, EngineChoice, loadEngine } from './onnx-engine';
import { InferenceEngine, TfjsEngine } from './engine';

/**
 * A tfjs engine on a free-size copy of the run's model, for `scoring: 'native'`; refuses (one line naming the
 * family) a model that needs a fixed input size, and the onnx engine (an ONNX export has a fixed input size).
 */
export async function loadNativeEngine(
  runDir: string,
  choice: EngineChoice = DEFAULT_ENGINE,
  onNote?: (line: string) => void,
): Promise<TfjsEngine> {
  if (choice === 'onnx')
    throw new Error('--scoring native runs on tfjs (an ONNX export has a fixed input size); use --engine tfjs or auto');
  const model = await loadModel(path.join(runDir, 'model'));
  try {
    checkNativeScoring(model, openRun(runDir).config.model, runDir);
    const engine = new TfjsEngine(await freeSizeCopy(model), true, nativeSideMultiple(model));
    onNote?.(
      `engine: tfjs (${activeBackend()?.name ?? 'no'} backend) on a free-size copy of the model, for --scoring native`,
    );
    return engine;
  } finally {
    model.dispose();
  }
}

/**
 * The engine evaluate and predict score with: the run's (and each ensemble member's) engine for `scoring`,
 * averaged over flips and members when asked (lib/infer/averaging.ts). `onNote` hears the main run's engine line.
 */
export async function loadScoringEngine(
  runDir: string,
  options: {
    engine?: EngineChoice;
    scoring?: ScoringMode;
    ttaFlip?: boolean;
    ensemble?: string[];
    onNote?: (line: string) => void;
  } = {},
): Promise<InferenceEngine> {
  const members = options.ensemble ?? [];
  checkEnsembleMembers(runDir, members);
  const choice = options.engine ?? DEFAULT_ENGINE;
  const load = (dir: string, onNote?: (line: string) => void) =>
    options.scoring === 'native' ? loadNativeEngine(dir, choice, onNote) : loadEngine(dir, choice, onNote);
  const engines: InferenceEngine[] = [await load(runDir, options.onNote)];
  try {
    for (const member of members) engines.push(await load(member));
  } catch (err) {
    for (const engine of engines) await engine.dispose();
    throw err;
  }
  return options.ttaFlip || members.length ? new AveragingEngine(engines, options.ttaFlip ?? false) : engines[0];
}
