/**
 * A run's Predictor set up the way `realfake predict` sets it up: the engine for the run's (or the asked) scoring,
 * flips and ensemble members averaged in (lib/infer/scoring-engine.ts), verdicts by the run's policy with any
 * overrides (lib/infer/run-policy.ts). Local predict and the queue worker (lib/queue/worker.ts) both build their
 * predictor here, so a row scored on a worker equals the row scored locally.
 */
import type { ScoringMode } from '../config';
import { openRun } from '../runs/runs';
import type { EngineChoice } from './onnx-engine';
import { Predictor } from './predict';
import { runVerdictPolicy, type PolicyOverrides } from './run-policy';
import { loadScoringEngine } from './scoring-engine';
import type { VerdictPolicy } from './verdict';

/** What predict's flags choose about scoring; unset fields take the run's settings. */
export interface RunScoringOptions {
  engine?: EngineChoice;
  scoring?: ScoringMode;
  ttaFlip?: boolean;
  ensemble?: string[];
  /** --threshold / --calibrated; ignored when `policy` is given. */
  overrides?: PolicyOverrides;
}

export async function loadRunPredictor(
  runDir: string,
  options: RunScoringOptions & { policy?: VerdictPolicy; onNote?: (line: string) => void } = {},
): Promise<Predictor> {
  const { config } = openRun(runDir);
  // The policy first: a missing analyze file fails before a model is loaded.
  const policy = options.policy ?? runVerdictPolicy(runDir, config.threshold, options.overrides);
  const scoring = options.scoring ?? config.scoring ?? 'resize';
  const engine = await loadScoringEngine(runDir, {
    engine: options.engine,
    scoring,
    ttaFlip: options.ttaFlip ?? config.ttaFlip ?? false,
    ensemble: options.ensemble,
    onNote: options.onNote,
  });
  return new Predictor(engine, { ...config, scoring }, policy);
}
