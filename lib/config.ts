/**
 * One typed configuration for a realfake run. The defaults are the study's values; presets sit on top;
 * a JSON file and command-line flags override both. Every run writes the fully resolved config to its folder.
 */
import * as fs from 'fs';

export type ResizeMethod = 'nearest' | 'bilinear' | 'lanczos3';
export const RESIZE_METHODS: readonly ResizeMethod[] = ['nearest', 'bilinear', 'lanczos3'];

export interface Config {
  /** Side of the square input images, in pixels. The study: 128. */
  imageSize: number;
  /** How images are resized to imageSize. The study (Keras load_img default): PIL NEAREST. */
  resize: ResizeMethod;
  /**
   * Bring both classes to the same source first (lib/data/harmonize.ts: same side by antialiased resize, same
   * format and JPEG quality), then apply `resize`. The study: false (its classes differ in size and format).
   */
  harmonize: boolean;
  /** At most this many images per class, taken in sorted file order (null: all). The study: 3000. */
  limitPerClass: number | null;
  /** Fraction of the data held out for validation (checkpoint selection). The study: 0.2. */
  valFraction: number;
  /** Fraction held out as a test split never seen during training or checkpointing (the study had none). */
  testFraction: number;
  /** Seed of the train/validation(/test) split: NumPy's RandomState(splitSeed), as scikit-learn's random_state. The study: 5. */
  splitSeed: number;
  /** Seed of weight initialisation, shuffling and dropout (the study left these unseeded). */
  seed: number;
  /** Dropout rate after each hidden dense layer. The study: 0.5. */
  dropout: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  beta1: number;
  beta2: number;
  /** Adam's epsilon; Keras's default is 1e-7. */
  epsilon: number;
  /** Stop after this many epochs without val_accuracy improvement (null: never; the study trained all epochs). */
  earlyStoppingPatience: number | null;
  /** Worker threads for data-parallel training on CPU backends (0: as many as cores). */
  workers: number;
  /** pFake at or above this is called "Fake (AI-generated)". */
  threshold: number;
}

/** The study's values. */
export const STUDY_DEFAULTS: Readonly<Config> = Object.freeze({
  imageSize: 128,
  resize: 'nearest',
  harmonize: false,
  limitPerClass: 3000,
  valFraction: 0.2,
  testFraction: 0,
  splitSeed: 5,
  seed: 42,
  dropout: 0.5,
  epochs: 100,
  batchSize: 32,
  learningRate: 1e-5,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-7,
  earlyStoppingPatience: null,
  workers: 0,
  threshold: 0.5,
});

export const PRESETS = {
  /** Exactly the study: its data sizes, split (random_state=5), model and training. */
  study: {},
  /** Small and fast: a real learning curve in a minute or two on 2 CPU cores. */
  smoke: {
    imageSize: 64,
    limitPerClass: 150,
    epochs: 12,
    // Small batches give the ~150 updates this model needs before it starts to learn (measured: loss stays at
    // ln 2 for the first ~120 steps at lr 1e-3 from the study's initialisation).
    batchSize: 16,
    learningRate: 1e-3,
  },
} satisfies Record<string, Partial<Config>>;

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

/** Old preset names still accepted (and mapped to the current name); `seed` was the study's preset before `study`. */
export const PRESET_ALIASES: Readonly<Record<string, PresetName>> = { seed: 'study' };

/** The preset a name (or alias) stands for; throws one line listing the choices for an unknown name. */
export function presetNamed(name: string, where = 'preset'): PresetName {
  if ((PRESET_NAMES as string[]).includes(name)) return name as PresetName;
  const alias = PRESET_ALIASES[name];
  if (alias) return alias;
  throw new Error(`${where}: unknown preset "${name}" (choose one of: ${PRESET_NAMES.join(', ')})`);
}

/** Checks every field's type and range; throws one line naming the field. */
export function validateConfig(config: Config): Config {
  const fail = (field: string, why: string): never => {
    throw new Error(`config: ${field} ${why}`);
  };
  const positiveInt = (field: keyof Config) => {
    const v = config[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) fail(field, `must be a positive integer (got ${v})`);
  };
  for (const key of Object.keys(config)) {
    if (!(key in STUDY_DEFAULTS)) fail(key, 'is not a known setting');
  }
  positiveInt('imageSize');
  positiveInt('epochs');
  positiveInt('batchSize');
  if (config.imageSize < 64) fail('imageSize', `must be at least 64 (six 2x poolings; got ${config.imageSize})`);
  if (!RESIZE_METHODS.includes(config.resize)) fail('resize', `must be one of ${RESIZE_METHODS.join(', ')} (got ${config.resize})`);
  if (typeof config.harmonize !== 'boolean') fail('harmonize', `must be true or false (got ${config.harmonize})`);
  if (config.limitPerClass !== null && !(Number.isInteger(config.limitPerClass) && config.limitPerClass > 0)) {
    fail('limitPerClass', `must be a positive integer or null (got ${config.limitPerClass})`);
  }
  if (!(config.valFraction > 0 && config.valFraction < 1)) fail('valFraction', `must be in (0, 1) (got ${config.valFraction})`);
  if (!(config.testFraction >= 0 && config.valFraction + config.testFraction < 1)) {
    fail('testFraction', `must be >= 0 with valFraction + testFraction < 1 (got ${config.testFraction})`);
  }
  if (!Number.isInteger(config.seed)) fail('seed', `must be an integer (got ${config.seed})`);
  if (!(Number.isInteger(config.splitSeed) && config.splitSeed >= 0 && config.splitSeed <= 0xffffffff)) {
    fail('splitSeed', `must be an integer in [0, 2^32 - 1], as NumPy's RandomState takes (got ${config.splitSeed})`);
  }
  if (!(config.dropout >= 0 && config.dropout < 1)) fail('dropout', `must be in [0, 1) (got ${config.dropout})`);
  if (!(config.learningRate > 0)) fail('learningRate', `must be > 0 (got ${config.learningRate})`);
  for (const beta of ['beta1', 'beta2'] as const) {
    if (!(config[beta] >= 0 && config[beta] < 1)) fail(beta, `must be in [0, 1) (got ${config[beta]})`);
  }
  if (!(config.epsilon > 0)) fail('epsilon', `must be > 0 (got ${config.epsilon})`);
  if (config.earlyStoppingPatience !== null && !(Number.isInteger(config.earlyStoppingPatience) && config.earlyStoppingPatience > 0)) {
    fail('earlyStoppingPatience', `must be a positive integer or null (got ${config.earlyStoppingPatience})`);
  }
  if (!(Number.isInteger(config.workers) && config.workers >= 0)) fail('workers', `must be an integer >= 0 (got ${config.workers})`);
  if (!(config.threshold > 0 && config.threshold < 1)) fail('threshold', `must be in (0, 1) (got ${config.threshold})`);
  return config;
}

/** Study defaults < preset < JSON file < explicit overrides (e.g. command-line flags). */
export function resolveConfig(options: { preset?: string; file?: string; overrides?: Partial<Config> } = {}): Config {
  const { preset = 'study', file, overrides = {} } = options;
  const name = presetNamed(preset);
  let fromFile: Partial<Config> = {};
  if (file) {
    try {
      fromFile = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`${file}: cannot read config JSON (${(err as Error).message})`);
    }
  }
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  return validateConfig({ ...STUDY_DEFAULTS, ...PRESETS[name], ...fromFile, ...defined });
}

/** The preset chosen by the REALFAKE_PRESET environment variable (used by headless notebook runs and CI). */
export function presetFromEnv(fallback: PresetName = 'study'): PresetName {
  const name = process.env.REALFAKE_PRESET;
  return name ? presetNamed(name, 'REALFAKE_PRESET') : fallback;
}
