/**
 * Cheap probes that answer "can the label be read without looking at faces?", each trained on the run's
 * training split and scored on its held-back split (test when there is one, else validation), with 95 %
 * bootstrap intervals:
 *   metadata  logistic regression on the manifest's audit columns (format, size, bytes, JPEG quality, ...)
 *   spectrum  logistic regression on the azimuthally averaged log power spectrum (Durall et al. 2020)
 *   cnn       a three-layer CNN trained for a fixed short budget (lib/audit/cnn-probe.ts)
 * A probe near 1.0 means the classes differ in something a detector should not rely on; near 0.5, it found
 * nothing of its kind.
 */
import type { Config } from '../config';
import { initBackend } from '../backend/backend';
import { loadDataset, readManifest } from '../data/dataset';
import type { Dataset } from '../data/dataset';
import { datasetSplit } from '../data/split';
import { bootstrapAccuracyAuc, type ValueInterval as Interval } from '../eval/bootstrap';
import { cnnProbeScores, CnnProbeOptions } from './cnn-probe';
import type { ImageFacts } from '../data/image-facts';
import { fitLogistic } from './logistic';
import { azimuthalSpectrum } from '../eval/spectrum';

export type ProbeName = 'metadata' | 'spectrum' | 'cnn';
export const PROBE_NAMES: readonly ProbeName[] = ['metadata', 'spectrum', 'cnn'];

export const PROBE_DESCRIPTIONS: Record<ProbeName, string> = {
  metadata: 'logistic regression on file metadata (format, size, bytes, JPEG quality, colour mode, EXIF)',
  spectrum: 'logistic regression on the azimuthally averaged log power spectrum (Durall et al. 2020)',
  cnn: 'small CNN (8-16-32 filters) on the preprocessed pixels, short fixed budget',
};

export interface ProbeResult {
  probe: ProbeName;
  accuracy: Interval;
  auc: Interval;
  trainN: number;
  evalN: number;
  /** Which split was scored. */
  split: 'test' | 'val';
  seconds: number;
}

export interface ProbeOptions {
  probes?: readonly ProbeName[];
  cnn?: CnnProbeOptions;
  /** Bootstrap replicates (default 1000). */
  replicates?: number;
}

/** The numeric features of one image's facts; categories are one-hot over `vocab`. */
export function metadataFeatures(facts: ImageFacts, vocab: { formats: string[]; modes: string[] }): number[] {
  return [
    facts.width,
    facts.height,
    Math.log(Math.max(facts.fileBytes, 1)),
    facts.bytesPerPixel,
    facts.jpegQuality ?? 0,
    facts.exif ? 1 : 0,
    ...vocab.formats.map((f) => (facts.format === f ? 1 : 0)),
    ...vocab.modes.map((m) => (facts.colourMode === m ? 1 : 0)),
  ];
}

function datasetFacts(dataset: Dataset): ImageFacts[] {
  const facts = readManifest(dataset.manifestPath)
    .filter((r) => r.status === 'ok')
    .map((r) => r.facts ?? null);
  if (facts.some((f) => f === null)) {
    throw new Error(
      `${dataset.manifestPath}: has no audit columns (made by an older realfake); preprocess the images again`,
    );
  }
  return facts as ImageFacts[];
}

/** The training and held-back rows of `dataset` under `config`, exactly as trainRun splits them. */
export function probeSplit(
  dataset: Dataset,
  config: Config,
): { train: number[]; held: number[]; split: 'test' | 'val' } {
  const split = datasetSplit(dataset.y, config, dataset.sources);
  return split.test.length
    ? { train: split.train, held: split.test, split: 'test' }
    : { train: split.train, held: split.val, split: 'val' };
}

export async function runProbes(dataDir: string, config: Config, options: ProbeOptions = {}): Promise<ProbeResult[]> {
  await initBackend();
  const dataset = loadDataset(dataDir);
  const { train, held, split } = probeSplit(dataset, config);
  const labelsOf = (rows: number[]) => Uint8Array.from(rows, (r) => dataset.y[r]);
  const results: ProbeResult[] = [];
  for (const probe of options.probes ?? PROBE_NAMES) {
    const started = performance.now();
    let scores: Float32Array;
    if (probe === 'cnn') {
      scores = await cnnProbeScores(dataset, train, held, { seed: config.seed, ...options.cnn });
    } else {
      let features: (row: number) => number[];
      if (probe === 'metadata') {
        const facts = datasetFacts(dataset);
        const vocab = {
          formats: [...new Set(facts.map((f) => f.format))].sort(),
          modes: [...new Set(facts.map((f) => f.colourMode))].sort(),
        };
        features = (row) => metadataFeatures(facts[row], vocab);
      } else {
        const pixels = dataset.size * dataset.size * 3;
        features = (row) =>
          Array.from(azimuthalSpectrum(dataset.x.subarray(row * pixels, (row + 1) * pixels), dataset.size));
      }
      const model = await fitLogistic(train.map(features), labelsOf(train));
      scores = model.predict(held.map(features));
    }
    const boot = bootstrapAccuracyAuc(labelsOf(held), scores, { seed: config.seed, replicates: options.replicates });
    results.push({
      probe,
      accuracy: boot.accuracy,
      auc: boot.auc,
      trainN: train.length,
      evalN: held.length,
      split,
      seconds: (performance.now() - started) / 1000,
    });
  }
  return results;
}
