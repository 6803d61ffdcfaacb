/**
 * Flags several commands share, declared once: the engine, the scoring mode, and the verdict-policy overrides
 * (--threshold, --calibrated; resolved by lib/infer/run-policy.ts for predict, evaluate and serve alike).
 */
import { Option } from 'commander';
import { SCORING_MODES } from '../config';
import { DEFAULT_ENGINE, ENGINE_CHOICES } from '../infer/onnx-engine';
import { MissingRunFileError, parseThresholdOverride, type PolicyOverrides } from '../infer/run-policy';
import { UsageError } from './common';

/** `--engine auto|onnx|tfjs`. */
export function engineOption(): Option {
  return new Option(
    '--engine <name>',
    'inference engine: onnx (onnxruntime-node, all cores), tfjs, or auto = onnx when available',
  )
    .choices(ENGINE_CHOICES as string[])
    .default(DEFAULT_ENGINE);
}

/** `--scoring` (lib/infer/scoring.ts says what each mode does). */
export function scoringOption(): Option {
  return new Option(
    '--scoring <mode>',
    "resize: to the model's input size; tiles: input-sized tiles at the image's own resolution, pFake averaged; native: the whole image in one pass (default: the run's scoring setting)",
  ).choices(SCORING_MODES as string[]);
}

/** `--threshold <p|picked>`, described as the command uses it. */
export function thresholdOption(description: string): Option {
  return new Option('--threshold <p|picked>', description);
}

/** `--calibrated`, described as the command uses it. */
export function calibratedOption(description: string): Option {
  return new Option('--calibrated', description);
}

export interface PolicyFlags {
  threshold?: string;
  calibrated?: boolean;
}

/** --threshold and --calibrated as overrides of a run's verdict policy; a value that is not one is a usage error. */
export function policyOverrides(flags: PolicyFlags): PolicyOverrides {
  try {
    return { threshold: parseThresholdOverride(flags.threshold), calibrated: flags.calibrated };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Runs `resolve` (lib/infer/run-policy.ts), turning a missing analyze file into a usage error. */
export function withPolicyUsage<T>(resolve: () => T): T {
  try {
    return resolve();
  } catch (err) {
    throw err instanceof MissingRunFileError ? new UsageError(err.message) : err;
  }
}
