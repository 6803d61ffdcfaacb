/**
 * The model card ("say what is validated"): written by every evaluation of a run
 * (lib/eval/evaluate.ts) as RUNDIR/model-card.json and model-card.md, shown by `serve` (/api/v1/model, the page).
 * It says what the model saw (sources and counts per split), how it did on each source on validation and on
 * test (recall or specificity and AUC with 95 % bootstrap intervals, lib/eval/per-source.ts), the verdict policy
 * (threshold, temperature, uncertain band; lib/infer/verdict.ts), and the generators it was NOT validated on.
 * The card's `policy` is what predict and serve use (lib/infer/run-policy.ts).
 */
import type { Run } from '../runs/runs';
import type { BandPick } from '../infer/uncertain-band';
import { verdictFor, type VerdictPolicy } from '../infer/verdict';
import type { SourceMetrics } from './per-source';

/**
 * Generator families and kinds of fakes in the field (2018-2025), for "not validated on". A family counts as
 * seen when the name of one of the run's FAKE sources, lower-cased with everything but letters and digits
 * removed, matches its pattern (so `sd14_blonde_woman` is Stable Diffusion 1.x, `stylegan2-ffhq` StyleGAN2). A
 * plain `stylegan` counts as StyleGAN (v1) only: the versions differ in their artifacts.
 */
export const FIELD_GENERATORS: ReadonlyArray<{ name: string; pattern: RegExp }> = [
  { name: 'StyleGAN (v1)', pattern: /stylegan(1|v1)?(?![0-9]|xl)/ },
  { name: 'StyleGAN2', pattern: /stylegan(v)?2/ },
  { name: 'StyleGAN3', pattern: /stylegan(v)?3/ },
  { name: 'ProGAN', pattern: /progan|pggan/ },
  { name: 'Stable Diffusion 1.x', pattern: /(sd|stablediffusion)v?1/ },
  { name: 'Stable Diffusion 2.x', pattern: /(sd|stablediffusion)v?2/ },
  { name: 'Stable Diffusion XL', pattern: /sdxl|stablediffusionxl/ },
  { name: 'Stable Diffusion 3', pattern: /(sd|stablediffusion)v?3/ },
  { name: 'Midjourney', pattern: /midjourney|^mj/ },
  { name: 'DALL-E 2', pattern: /dall-?e2/ },
  { name: 'DALL-E 3', pattern: /dall-?e3/ },
  { name: 'Adobe Firefly', pattern: /firefly/ },
  { name: 'Flux', pattern: /flux/ },
  { name: 'Imagen', pattern: /imagen/ },
  { name: 'face swaps', pattern: /swap|deepfacelab|roop/ },
  { name: 'video deepfakes', pattern: /video|faceforensics|celebdf|dfdc/ },
  { name: 'heavy edits and filters', pattern: /edit|filter|retouch|photoshop/ },
];

export const MATCHING_RULE =
  'a family counts as validated when a fake source name, lower-cased with all but letters and digits removed, matches it (a plain "stylegan" is StyleGAN v1 only)';

/** Per-source numbers below these bars are listed as known weaknesses. */
export const WEAKNESS_BARS = { auc: 0.9, rate: 0.8 };

export interface SourceCount {
  source: string;
  label: number;
  train: number;
  val: number;
  test: number;
}

export interface ModelCard {
  card: 'realfake model card v1';
  run: string;
  evaluatedAt: string;
  model: { family: string; imageSize: number; resize: string; scoring: string; preset: string; config: string };
  data: { datasetFingerprint: string; sources: SourceCount[]; totals: { train: number; val: number; test: number } };
  policy: VerdictPolicy;
  band: { pickedOn: 'val'; n: number; notes: string[]; temperatureNote: string };
  validation: { n: number; perSource: SourceMetrics[] };
  /** The held-back split the run's metrics.json is on ('val' when the run has no test split). */
  test: { split: string; n: number; perSource: SourceMetrics[]; uncertain: number; accuracyOutsideBand: number };
  validatedOn: string[];
  notValidatedOn: string[];
  matchingRule: string;
  knownWeaknesses: string[];
}

/** Images per (label, source) in each split, in order of first appearance (real sources first). */
export function sourceCounts(
  split: Run['split'],
  labels: ArrayLike<number>,
  sources: readonly string[],
): SourceCount[] {
  const counts = new Map<string, SourceCount>();
  for (const part of ['train', 'val', 'test'] as const) {
    for (const row of split[part]) {
      const key = `${labels[row]}\u0000${sources[row]}`;
      const count =
        counts.get(key) ??
        counts.set(key, { source: sources[row], label: labels[row], train: 0, val: 0, test: 0 }).get(key)!;
      count[part]++;
    }
  }
  return [...counts.values()].sort((a, b) => a.label - b.label);
}

/** The field's generator families none of the fake sources matches (FIELD_GENERATORS, MATCHING_RULE). */
export function notValidatedOn(fakeSources: readonly string[]): string[] {
  const names = fakeSources.map((s) => s.toLowerCase().replace(/[^a-z0-9]/g, ''));
  return FIELD_GENERATORS.filter((g) => !names.some((n) => g.pattern.test(n))).map((g) => g.name);
}

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');

/** Sources whose rate or AUC on `split` is below WEAKNESS_BARS, one line each. */
export function weaknesses(rows: SourceMetrics[], split: string): string[] {
  return rows
    .filter((r) => r.rate.estimate < WEAKNESS_BARS.rate || r.auc.estimate < WEAKNESS_BARS.auc)
    .map(
      (r) =>
        `${r.source} (${r.label ? 'fake' : 'real'}) on ${split}: ${r.rateName} ${f3(r.rate.estimate)}, AUC ${f3(r.auc.estimate)} (${r.n} images)`,
    );
}

export interface CardInputs {
  run: Run;
  /** The dataset's labels and sources by row (split.json indexes them). */
  labels: ArrayLike<number>;
  sources: readonly string[];
  policy: VerdictPolicy;
  band: BandPick;
  temperatureNote: string;
  valPerSource: SourceMetrics[];
  test: { split: string; labels: ArrayLike<number>; rawScores: ArrayLike<number>; perSource: SourceMetrics[] };
  evaluatedAt?: Date;
}

export function buildModelCard(c: CardInputs): ModelCard {
  const counts = sourceCounts(c.run.split, c.labels, c.sources);
  const totals = { train: c.run.split.train.length, val: c.run.split.val.length, test: c.run.split.test.length };
  let uncertain = 0;
  let right = 0;
  for (let i = 0; i < c.test.labels.length; i++) {
    const v = verdictFor(c.test.rawScores[i], c.policy).verdict;
    if (v === 'Uncertain') uncertain++;
    else if ((v === 'Real' ? 0 : 1) === c.test.labels[i]) right++;
  }
  const decided = c.test.labels.length - uncertain;
  const config = c.run.config;
  return {
    card: 'realfake model card v1',
    run: c.run.meta.id,
    evaluatedAt: (c.evaluatedAt ?? new Date()).toISOString(),
    model: {
      family: config.model,
      imageSize: config.imageSize,
      resize: config.resize,
      scoring: config.scoring ?? 'resize',
      preset: c.run.meta.preset,
      config: `${config.epochs} epochs, batch ${config.batchSize}, lr ${config.learningRate}, seed ${config.seed}`,
    },
    data: { datasetFingerprint: c.run.meta.datasetFingerprint, sources: counts, totals },
    policy: c.policy,
    band: { pickedOn: 'val', n: c.band.n, notes: c.band.notes, temperatureNote: c.temperatureNote },
    validation: { n: totals.val, perSource: c.valPerSource },
    test: {
      split: c.test.split,
      n: c.test.labels.length,
      perSource: c.test.perSource,
      uncertain,
      accuracyOutsideBand: decided ? right / decided : NaN,
    },
    validatedOn: counts.map((s) => `${s.source} (${s.label ? 'fake' : 'real'})`),
    notValidatedOn: notValidatedOn(counts.filter((s) => s.label === 1).map((s) => s.source)),
    matchingRule: MATCHING_RULE,
    knownWeaknesses: [...weaknesses(c.valPerSource, 'val'), ...weaknesses(c.test.perSource, c.test.split)],
  };
}
