/**
 * Where a run's images come from, in order of preference:
 *   data/real + data/fake                 your own images
 *   data/kaggle/real + data/kaggle/fake   the study's data (`realfake data kaggle`)
 *   data/synth                            the embedded synthetic smoke-test set, generated on first use
 */
import * as path from 'path';
import { PRESET_ALIASES, type Config } from '../config';
import { listImageFiles } from './image-files';
import { extractionIsComplete } from './unzip';
import { DEFAULT_SYNTH_DIFFICULTY, generateSynthDataset, synthDatasetIsFresh, type SynthOptions } from './synth';

export interface DataSource {
  kind: 'user' | 'kaggle' | 'synthetic' | 'synthetic-study';
  realDir: string;
  fakeDir: string;
}

/** Where the CLI looks for images and keeps data/cache, relative to its working directory. */
export const DEFAULT_DATA_ROOT = 'data';

/** Images per class of the synthetic set when the config sets no limit. */
export const DEFAULT_SYNTH_COUNT = 300;

function hasImages(dir: string): boolean {
  try {
    return listImageFiles(dir).length > 0;
  } catch {
    return false;
  }
}

/** The first of data/{real,fake}, data/kaggle/{real,fake} whose two folders both hold images; else null. */
export function findImageData(dataRoot = DEFAULT_DATA_ROOT): DataSource | null {
  const candidates: DataSource[] = [
    { kind: 'user', realDir: path.join(dataRoot, 'real'), fakeDir: path.join(dataRoot, 'fake') },
    { kind: 'kaggle', realDir: path.join(dataRoot, 'kaggle', 'real'), fakeDir: path.join(dataRoot, 'kaggle', 'fake') },
  ];
  const found = candidates.find((c) => hasImages(c.realDir) && hasImages(c.fakeDir)) ?? null;
  // An interrupted `realfake data kaggle` leaves some images but no completion marker: never train on it.
  const unfinished = found?.kind === 'kaggle' ? [found.realDir, found.fakeDir].find((dir) => !extractionIsComplete(dir)) : undefined;
  if (unfinished) throw new Error(`${unfinished}: extraction did not finish (interrupted?); re-run \`realfake data kaggle\` to complete it`);
  return found;
}

/** data/synth as a source, whether or not it has been generated yet. */
export function synthSource(dataRoot: string): DataSource {
  const out = path.join(dataRoot, 'synth');
  return { kind: 'synthetic', realDir: path.join(out, 'real'), fakeDir: path.join(out, 'fake') };
}

/** The images found under dataRoot (yours, else Kaggle's), else the synthetic set, without generating anything. */
export function currentDataSource(dataRoot: string): DataSource {
  return findImageData(dataRoot) ?? synthSource(dataRoot);
}

/** data/synth (or data/<folder>), (re)generated when missing or made with other settings. */
export async function ensureSynthData(dataRoot: string, params: Omit<SynthOptions, 'out'>, log: (line: string) => void, folder = 'synth'): Promise<DataSource> {
  const out = path.join(dataRoot, folder);
  if (!synthDatasetIsFresh({ out, ...params })) {
    log(`generating the synthetic smoke-test dataset (${params.count} + ${params.count} images, ${params.size}px) in ${out}`);
    await generateSynthDataset({ out, ...params });
  }
  return { kind: 'synthetic', realDir: path.join(out, 'real'), fakeDir: path.join(out, 'fake') };
}

/** The synthetic set's settings for a config: the config's image size and limit, its seed. */
export function synthParamsFor(config: Pick<Config, 'limitPerClass' | 'imageSize' | 'seed'>): Omit<SynthOptions, 'out'> {
  return { count: config.limitPerClass ?? DEFAULT_SYNTH_COUNT, size: config.imageSize, seed: config.seed, difficulty: DEFAULT_SYNTH_DIFFICULTY };
}

/**
 * Presets that stand for the study itself: their numbers only mean something on the study's faces, so they never
 * fall back to the synthetic stand-in unless told to (an unattended `npm start -- --preset study` would otherwise
 * train for hours on cartoon faces and report it as the study).
 */
export const PRESETS_NEEDING_FACES: readonly string[] = ['study', ...Object.keys(PRESET_ALIASES).filter((a) => PRESET_ALIASES[a] === 'study')];

export interface SyntheticPolicy {
  /** The preset of the run (a name or alias); a preset in PRESETS_NEEDING_FACES refuses the synthetic set. */
  preset?: string;
  /** Use the synthetic stand-in even for the study's preset. */
  allowSynthetic?: boolean;
  /** How the caller's user allows it, named in the refusal (the CLI's flag by default). */
  allowHint?: string;
}

/**
 * Throws one line (naming `realfake data kaggle` and the data/real + data/fake folders) when the preset needs the
 * study's faces, none are under dataRoot and the synthetic set was not allowed; else returns.
 */
export function checkSyntheticAllowed(dataRoot: string, policy: SyntheticPolicy = {}): void {
  if (policy.allowSynthetic || !policy.preset || !PRESETS_NEEDING_FACES.includes(policy.preset)) return;
  throw new Error(
    `preset ${policy.preset} needs the study's faces and found none in ${dataRoot}: get them with \`realfake data kaggle\` ` +
      `(into ${path.join(dataRoot, 'kaggle')}) or put images in ${path.join(dataRoot, 'real')} + ${path.join(dataRoot, 'fake')}; ` +
      `${policy.allowHint ?? '--allow-synthetic'} trains on the synthetic stand-in instead`,
  );
}

/**
 * The images a run uses: data/real + data/fake, else data/kaggle/{real,fake}, else the synthetic set
 * (generated on first use, at the config's image size, with as many images per class as the limit asks), which
 * the study's preset refuses unless `policy.allowSynthetic` (checkSyntheticAllowed).
 */
export async function resolveDataSource(
  config: Config,
  dataRoot: string,
  log: (line: string) => void,
  policy: SyntheticPolicy = {},
): Promise<DataSource> {
  const found = findImageData(dataRoot);
  if (found) return found;
  checkSyntheticAllowed(dataRoot, policy);
  return ensureSynthData(dataRoot, synthParamsFor(config), log);
}
