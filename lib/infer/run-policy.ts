/**
 * A run's verdict policy (lib/infer/verdict.ts), from the files in its folder:
 *   model-card.json   written by every evaluation (lib/eval/model-card.ts): threshold, temperature and the
 *                     uncertain band fitted on validation; runs evaluated before cards existed have none, and
 *                     decide by their config threshold alone, as before;
 *   threshold.json    a threshold `realfake analyze` picked on validation (predict/evaluate --threshold picked);
 *   calibration.json  the temperature `realfake analyze` fitted on validation (predict/evaluate --calibrated).
 * predict, evaluate and serve all read the policy here, with the same overrides (--threshold, --calibrated).
 */
import * as fs from 'fs';
import * as path from 'path';
import { readJson } from '../files';
import { applyTemperature, thresholdPolicy, type VerdictPolicy } from './verdict';

export const THRESHOLD_FILE = 'threshold.json';
export const CALIBRATION_FILE = 'calibration.json';
export const MODEL_CARD_JSON = 'model-card.json';
export const MODEL_CARD_MD = 'model-card.md';

/** threshold.json (lib/eval/analyze.ts writes it; fields of lib/eval/thresholds.ts PickedThreshold). */
export interface StoredThreshold {
  rule: string;
  threshold: number;
  tpr: number;
  fpr: number;
  n: number;
  pickedOn: 'val';
  runId: string;
}

/** calibration.json (lib/eval/analyze.ts writes it; fields of lib/eval/calibration.ts TemperatureFit). */
export interface StoredCalibration {
  temperature: number;
  nllBefore: number;
  nllAfter: number;
  n: number;
  method: 'temperature scaling of logit(pFake) = ln p1 - ln p0';
  fittedOn: 'val';
  runId: string;
}

const readIfThere = <T>(file: string): T | null => (fs.existsSync(file) ? readJson<T>(file) : null);

/** The stored threshold / calibration of a run, or null when `analyze` has not written them. */
export function readStoredThreshold(runDir: string): StoredThreshold | null {
  return readIfThere<StoredThreshold>(path.join(runDir, THRESHOLD_FILE));
}

export function readStoredCalibration(runDir: string): StoredCalibration | null {
  return readIfThere<StoredCalibration>(path.join(runDir, CALIBRATION_FILE));
}

/** The policy in the run's model card, or null for a run without one. */
export function readCardPolicy(runDir: string): VerdictPolicy | null {
  return readIfThere<{ policy: VerdictPolicy }>(path.join(runDir, MODEL_CARD_JSON))?.policy ?? null;
}

/** A request for a run file that is not there (the CLI reports it as a usage error). */
export class MissingRunFileError extends Error {}

export interface PolicyOverrides {
  /** A threshold on the raw pFake, or 'picked': the one in threshold.json. */
  threshold?: number | 'picked';
  /** Use calibration.json's temperature instead of the card's. */
  calibrated?: boolean;
}

/**
 * The run's policy: its model card's, else its config threshold alone; `overrides` replace the threshold or the
 * temperature (the band stays: its edges are on the raw pFake too, lib/infer/verdict.ts).
 */
export function runVerdictPolicy(runDir: string, runThreshold: number, overrides: PolicyOverrides = {}): VerdictPolicy {
  const policy = { ...(readCardPolicy(runDir) ?? thresholdPolicy(runThreshold)) };
  if (overrides.threshold === 'picked') {
    const stored = readStoredThreshold(runDir);
    if (!stored)
      throw new MissingRunFileError(`${runDir}: no ${THRESHOLD_FILE} (run \`realfake analyze --run ${runDir}\` first)`);
    policy.threshold = stored.threshold;
  } else if (overrides.threshold !== undefined) {
    policy.threshold = overrides.threshold;
  }
  if (overrides.calibrated) {
    const calibration = readStoredCalibration(runDir);
    if (!calibration)
      throw new MissingRunFileError(
        `${runDir}: no ${CALIBRATION_FILE} (run \`realfake analyze --run ${runDir}\` first)`,
      );
    policy.temperature = calibration.temperature;
  }
  return policy;
}

/** A --threshold value: a number in [0, 1], or "picked" (threshold.json); undefined stays undefined. */
export function parseThresholdOverride(text: string | undefined): number | 'picked' | undefined {
  if (text === undefined) return undefined;
  if (text === 'picked') return 'picked'; // spelled out: tslab's older compiler does not narrow `text` here
  const threshold = Number(text);
  if (!(threshold >= 0 && threshold <= 1) || text.trim() === '')
    throw new Error(`--threshold ${text}: expected a number in [0, 1] or "picked"`);
  return threshold;
}

/**
 * What an evaluation scores with under `overrides`: only what they ask for replaces the run's config threshold
 * (not the model card's, which the last evaluation wrote); with `calibrated`, calibration.json's temperature, and
 * the threshold moved onto the calibrated scale. Undefined fields: the evaluation's own defaults.
 */
export function evaluationOverrides(
  runDir: string,
  runThreshold: number,
  overrides: PolicyOverrides,
): { threshold?: number; temperature?: number } {
  const policy = runVerdictPolicy(runDir, runThreshold, overrides);
  const threshold = overrides.threshold === undefined ? runThreshold : policy.threshold;
  const temperature = overrides.calibrated ? policy.temperature : undefined;
  if (overrides.threshold === undefined && temperature === undefined) return {};
  return { temperature, threshold: temperature === undefined ? threshold : applyTemperature(threshold, temperature) };
}
