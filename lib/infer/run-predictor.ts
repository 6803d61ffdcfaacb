/**
 * A Predictor for a run as `realfake predict` asks for one: the run's ttaFlip and scoring settings unless
 * overridden, its engine (with flips and ensemble members averaged, lib/infer/scoring-engine.ts), and its verdict
 * policy (lib/infer/run-policy.ts) with the threshold and calibration overrides.
 */
import type { ScoringMode } from '../config';
import { openRun } from '../runs/runs';
import type { EngineChoice } from './onnx-engine';
import { Predictor } from './predict';
import { runVerdictPolicy, type PolicyOverrides } from './run-policy';
import { loadScoringEngine } from './scoring-engine';

export interface RunPredictorOptions {
  engine?: EngineChoice;
  ttaFlip?: boolean;
  ensemble?: string[];
  scoring?: ScoringMode;
  policy?: PolicyOverrides;
  /** Hears which engine runs. */
  onNote?: (line: string) => void;
}

export async function runPredictor(runDir: string, options: RunPredictorOptions = {}): Promise<Predictor> {
  const { config } = openRun(runDir);
  const scoring = options.scoring ?? config.scoring ?? 'resize';
  // The policy first: a missing threshold.json or calibration.json fails before any model loads.
  const policy = runVerdictPolicy(runDir, config.threshold, options.policy);
  const engine = await loadScoringEngine(runDir, {
    engine: options.engine,
    scoring,
    ttaFlip: options.ttaFlip ?? config.ttaFlip ?? false,
    ensemble: options.ensemble,
    onNote: options.onNote,
  });
  return new Predictor(engine, { ...config, scoring }, policy);
}
