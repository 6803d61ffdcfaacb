/**
 * One typed configuration for a realfake run. The defaults are the study's values; presets sit on top;
 * a JSON file and command-line flags override both. Every run writes the fully resolved config to its folder.
 */
import { readJson } from './files';

export type ResizeMethod = 'nearest' | 'bilinear' | 'lanczos3';
export const RESIZE_METHODS: readonly ResizeMethod[] = ['nearest', 'bilinear', 'lanczos3'];
/** 'full': decode every pixel, then resize (what Keras's load_img does). 'fast': let libjpeg shrink JPEGs while decoding. */
export type DecodeMode = 'full' | 'fast';
export const DECODE_MODES: readonly DecodeMode[] = ['full', 'fast'];

/**
 * Model family names (lib/model/families/, one descriptor file each): the study's CNN, a small BatchNorm ResNet,
 * a frozen face-recognition ResNet + head, and any family registered at run time (registerFamily there).
 */
export type ModelFamilyName = string;
/** The built-in families. Config is the bottom layer and the schema of every run's config.json, so it names them. */
export const MODEL_FAMILIES: readonly ModelFamilyName[] = ['study', 'resnet', 'facefeat'];
/** Families registered later (lib/model/families/family.ts registerFamily tells config their names). */
const registeredFamilies = new Set<ModelFamilyName>();

/** Makes `name` a valid `model` (called by the family registry, which sits above config). */
export function registerFamilyName(name: ModelFamilyName): void {
  registeredFamilies.add(name);
}

/** Every name `model` may take: the built-in families, then those registered. */
export function familyNames(): ModelFamilyName[] {
  return [...new Set([...MODEL_FAMILIES, ...registeredFamilies])];
}
/** What the model does to its [0, 1] input first (lib/model/input-transform.ts). */
export type InputMode = 'unit' | 'rgb' | 'npr' | 'highpass';
export const INPUT_MODES: readonly InputMode[] = ['unit', 'rgb', 'npr', 'highpass'];
/**
 * How the facefeat backbone summarises each stage's activations: 'mean' (global average per channel) or
 * 'meanstd' (the average and the standard deviation per channel: second-order texture statistics, as in style
 * features; measured on faces-dev, README "The faces preset").
 */
export type FacePooling = 'mean' | 'meanstd';
export const FACE_POOLINGS: readonly FacePooling[] = ['mean', 'meanstd'];
export type LrSchedule = 'constant' | 'cosine' | 'onecycle';
export const LR_SCHEDULES: readonly LrSchedule[] = ['constant', 'cosine', 'onecycle'];
export type MonitorName = 'val_accuracy' | 'val_loss' | 'val_auc';
export const MONITORS: readonly MonitorName[] = ['val_accuracy', 'val_loss', 'val_auc'];
/**
 * How evaluate and predict turn an image into the model's input (lib/infer/scoring.ts): 'resize' to the input
 * size (as in training); 'tiles' of the input size cut from the image at its own resolution, pFake averaged;
 * 'native' the whole image in one pass (models fully convolutional up to a global pooling).
 */
export type ScoringMode = 'resize' | 'tiles' | 'native';
export const SCORING_MODES: readonly ScoringMode[] = ['resize', 'tiles', 'native'];

/** Per-sample training augmentation (lib/data/augment.ts): each op applies with its probability. */
export interface AugmentConfig {
  flip: number;
  /** Random resized crop: probability, and the smallest area fraction kept. */
  crop: number;
  cropMinScale: number;
  /** Colour jitter: probability, and the largest relative change of brightness, contrast and saturation. */
  jitter: number;
  jitterStrength: number;
  /** JPEG re-compression at a quality drawn uniformly from jpegQuality (inclusive). */
  jpeg: number;
  jpegQuality: [number, number];
  /** Gaussian blur with sigma drawn uniformly from blurSigma. */
  blur: number;
  blurSigma: [number, number];
}

/** CNNDetection's (Wang et al. 2020) "Blur+JPEG (0.5)" recipe plus flips, at the sizes realfake trains on. */
export const CNNDETECTION_AUGMENT: Readonly<AugmentConfig> = Object.freeze({
  flip: 0.5,
  crop: 0,
  cropMinScale: 0.8,
  jitter: 0,
  jitterStrength: 0.2,
  jpeg: 0.5,
  jpegQuality: [30, 100] as [number, number],
  blur: 0.5,
  blurSigma: [0.3, 3] as [number, number],
});

export interface Config {
  /** Side of the square input images, in pixels. The study: 128. */
  imageSize: number;
  /** How images are resized to imageSize. The study (Keras load_img default): PIL NEAREST. */
  resize: ResizeMethod;
  /**
   * 'full' (the study's, and every preset's): JPEGs are decoded at full size, then resized. 'fast' (opt-in):
   * libjpeg's DCT scaling shrinks them by up to 8x while decoding, several times faster but not PIL's pixels.
   */
  decode: DecodeMode;
  /**
   * Bring both classes to the same source first (lib/data/harmonize.ts: same side by antialiased resize, same
   * format and JPEG quality), then apply `resize`. The study: false (its classes differ in size and format).
   */
  harmonize: boolean;
  /**
   * Frame each training image the way `predict --faces` frames a face: the same detector (lib/faces/detector.ts)
   * finds the largest face, whose FFHQ-style square (lib/faces/crop.ts) is cut out and resized exactly as
   * prediction does (lib/faces/crop-resize.ts); an image with no face found is resized whole, as without it.
   * For photos that are not already aligned face crops (diffusion output, Unsplash). The study: false.
   * Absent in runs saved before it existed: false.
   */
  alignFaces: boolean;
  /** At most this many images per class, taken in sorted file order (null: all). The study: 3000. */
  limitPerClass: number | null;
  /** Fraction of the data held out for validation (checkpoint selection). The study: 0.2. */
  valFraction: number;
  /** Fraction held out as a test split never seen during training or checkpointing (the study had none). */
  testFraction: number;
  /** Seed of the train/validation(/test) split: NumPy's RandomState(splitSeed), as scikit-learn's random_state. The study: 5. */
  splitSeed: number;
  /**
   * Split each (class, source) group on its own with the same fractions and seed (lib/data/split.ts), so every
   * source has its share in training, validation and test. The study: false (one shuffle of all rows).
   */
  stratifyBySource: boolean;
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
  /** Model family (the study's CNN by default). */
  model: ModelFamilyName;
  /** Input transform inside the model; 'unit' is the study's /255 (the pipeline always feeds [0, 1]). */
  input: InputMode;
  /** resnet: channels of the first stage (doubling per stage) and number of stages (one residual block each). */
  width: number;
  depth: number;
  /** facefeat: per-stage pooling of the frozen backbone's activations (the head's inputs). */
  facePooling: FacePooling;
  /** Training augmentation (null: none, as in the study). */
  augment: AugmentConfig | null;
  /** Decoupled weight decay (AdamW, Loshchilov & Hutter 2019) on kernels; 0: plain Adam. */
  weightDecay: number;
  /** Label smoothing: one-hot targets become 1 - e/2 and e/2. */
  labelSmoothing: number;
  lrSchedule: LrSchedule;
  /** Linear warm-up from 0 over this many epochs (any schedule). */
  warmupEpochs: number;
  /** What the best-checkpoint and early stopping watch. The study: val_accuracy. */
  monitor: MonitorName;
  /**
   * Draw each batch half real, half fake (with replacement from the smaller class) instead of shuffling; 'source':
   * also give each source of a class an equal share of that class's half (lib/train/train.ts balancedOrder).
   */
  balancedSampling: boolean | 'source';
  /** Average the score of each image and its mirror image at evaluation and prediction. */
  ttaFlip: boolean;
  /** How evaluation and prediction score an image: resized (the study's way), tiles averaged, or native size. */
  scoring: ScoringMode;
}

/** The study's values. */
export const STUDY_DEFAULTS: Readonly<Config> = Object.freeze({
  imageSize: 128,
  resize: 'nearest',
  decode: 'full',
  harmonize: false,
  alignFaces: false,
  limitPerClass: 3000,
  valFraction: 0.2,
  testFraction: 0,
  splitSeed: 5,
  stratifyBySource: false,
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
  model: 'study',
  input: 'unit',
  width: 32,
  depth: 4,
  facePooling: 'mean',
  augment: null,
  weightDecay: 0,
  labelSmoothing: 0,
  lrSchedule: 'constant',
  warmupEpochs: 0,
  monitor: 'val_accuracy',
  balancedSampling: false,
  ttaFlip: false,
  scoring: 'resize',
});

export const PRESETS = {
  /** Exactly the study: its data sizes, split (random_state=5), model and training. */
  study: {},
  /** Small and fast: a real learning curve in minutes on a CPU (notebook 03 measures how long on this machine). */
  smoke: {
    imageSize: 64,
    limitPerClass: 150,
    epochs: 12,
    // Small batches give the ~150 updates this model needs before it starts to learn (measured: loss stays at
    // ln 2 for the first ~120 steps at lr 1e-3 from the study's initialisation).
    batchSize: 16,
    learningRate: 1e-3,
  },
  /**
   * The best recipe found on ../shared/faces-dev (README, "The faces preset"): face-api's face-recognition
   * ResNet, frozen, at 224 px (150, 192 and 256 px all scored lower), the mean and standard deviation of every
   * channel of its five stages (1,472 features; means alone scored lower) into a BatchNorm + logistic head
   * trained with AdamW;
   * mirrored training faces (cached), flip-averaged scores at test. Split: 65/15/20 (the test part was fixed first and never used in
   * choosing). Needs the 256 px faces-dev images (or Kaggle 140k) resized with lanczos3.
   */
  faces: {
    model: 'facefeat',
    facePooling: 'meanstd',
    imageSize: 224,
    resize: 'lanczos3',
    limitPerClass: null,
    valFraction: 0.15,
    testFraction: 0.2,
    splitSeed: 42,
    stratifyBySource: true,
    seed: 42,
    dropout: 0.2,
    epochs: 60,
    batchSize: 32,
    learningRate: 1e-3,
    weightDecay: 0.05,
    labelSmoothing: 0.1,
    lrSchedule: 'cosine',
    warmupEpochs: 2,
    monitor: 'val_loss',
    earlyStoppingPatience: 20,
    augment: { ...CNNDETECTION_AUGMENT, flip: 0.5, crop: 0, jitter: 0, jpeg: 0, blur: 0 },
    ttaFlip: true,
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
  if (!DECODE_MODES.includes(config.decode))
    fail('decode', `must be one of ${DECODE_MODES.join(', ')} (got ${config.decode})`);
  if (!RESIZE_METHODS.includes(config.resize))
    fail('resize', `must be one of ${RESIZE_METHODS.join(', ')} (got ${config.resize})`);
  if (typeof config.harmonize !== 'boolean') fail('harmonize', `must be true or false (got ${config.harmonize})`);
  // Runs saved before sources existed have no stratifyBySource in config.json: their split was not stratified.
  if (config.stratifyBySource !== undefined && typeof config.stratifyBySource !== 'boolean')
    fail('stratifyBySource', `must be true or false (got ${config.stratifyBySource})`);
  if (config.alignFaces !== undefined && typeof config.alignFaces !== 'boolean')
    fail('alignFaces', `must be true or false (got ${config.alignFaces})`);
  // Harmonising squeezes every image to a 128 px square first: no face would be left to align at prediction's scale.
  if (config.alignFaces && config.harmonize) fail('alignFaces', 'cannot be combined with harmonize');
  if (config.limitPerClass !== null && !(Number.isInteger(config.limitPerClass) && config.limitPerClass > 0)) {
    fail('limitPerClass', `must be a positive integer or null (got ${config.limitPerClass})`);
  }
  if (!(config.valFraction > 0 && config.valFraction < 1))
    fail('valFraction', `must be in (0, 1) (got ${config.valFraction})`);
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
  if (
    config.earlyStoppingPatience !== null &&
    !(Number.isInteger(config.earlyStoppingPatience) && config.earlyStoppingPatience > 0)
  ) {
    fail('earlyStoppingPatience', `must be a positive integer or null (got ${config.earlyStoppingPatience})`);
  }
  if (!(Number.isInteger(config.workers) && config.workers >= 0))
    fail('workers', `must be an integer >= 0 (got ${config.workers})`);
  if (!(config.threshold > 0 && config.threshold < 1)) fail('threshold', `must be in (0, 1) (got ${config.threshold})`);
  validateTrainingOptions(config, fail);
  return config;
}

function validateTrainingOptions(config: Config, fail: (field: string, why: string) => never): void {
  const oneOf = <T>(field: keyof Config, values: readonly T[]) => {
    if (!values.includes(config[field] as T)) fail(field, `must be one of ${values.join(', ')} (got ${config[field]})`);
  };
  oneOf('model', familyNames());
  oneOf('input', INPUT_MODES);
  oneOf('facePooling', FACE_POOLINGS);
  oneOf('lrSchedule', LR_SCHEDULES);
  oneOf('monitor', MONITORS);
  // Runs saved before `scoring` existed have none in config.json: they scored by resizing.
  if (config.scoring !== undefined) oneOf('scoring', SCORING_MODES);
  // Five 'valid' stride-2 stages: below ~112 px the last one has nothing left to convolve. Checked here, not in
  // the facefeat descriptor, so that resolveConfig refuses such a config before any model code is loaded.
  if (config.model === 'facefeat' && config.imageSize < 112)
    fail('imageSize', `must be at least 112 for model facefeat (its native size is 150; got ${config.imageSize})`);
  for (const field of ['width', 'depth'] as const) {
    if (!(Number.isInteger(config[field]) && config[field] > 0))
      fail(field, `must be a positive integer (got ${config[field]})`);
  }
  if (!(config.weightDecay >= 0)) fail('weightDecay', `must be >= 0 (got ${config.weightDecay})`);
  if (!(config.labelSmoothing >= 0 && config.labelSmoothing < 1))
    fail('labelSmoothing', `must be in [0, 1) (got ${config.labelSmoothing})`);
  if (!(config.warmupEpochs >= 0 && config.warmupEpochs <= config.epochs))
    fail('warmupEpochs', `must be in [0, epochs] (got ${config.warmupEpochs})`);
  if (typeof config.balancedSampling !== 'boolean' && config.balancedSampling !== 'source')
    fail('balancedSampling', `must be true, false or "source" (got ${config.balancedSampling})`);
  if (typeof config.ttaFlip !== 'boolean') fail('ttaFlip', `must be true or false (got ${config.ttaFlip})`);
  const a = config.augment;
  if (a === null) return;
  if (typeof a !== 'object') fail('augment', `must be an object or null (got ${a})`);
  for (const key of Object.keys(a))
    if (!(key in CNNDETECTION_AUGMENT)) fail(`augment.${key}`, 'is not a known setting');
  for (const key of ['flip', 'crop', 'jitter', 'jpeg', 'blur'] as const) {
    if (!(a[key] >= 0 && a[key] <= 1)) fail(`augment.${key}`, `must be a probability in [0, 1] (got ${a[key]})`);
  }
  if (!(a.cropMinScale > 0 && a.cropMinScale <= 1))
    fail('augment.cropMinScale', `must be in (0, 1] (got ${a.cropMinScale})`);
  if (!(a.jitterStrength >= 0 && a.jitterStrength < 1))
    fail('augment.jitterStrength', `must be in [0, 1) (got ${a.jitterStrength})`);
  const range = (key: 'jpegQuality' | 'blurSigma', lo: number, hi: number) => {
    const r = a[key];
    if (!Array.isArray(r) || r.length !== 2 || !(r[0] >= lo && r[0] <= r[1] && r[1] <= hi))
      fail(`augment.${key}`, `must be [low, high] within [${lo}, ${hi}] (got ${JSON.stringify(r)})`);
  };
  range('jpegQuality', 1, 100);
  range('blurSigma', 0.3, 20);
}

/** Study defaults < preset < JSON file < explicit overrides (e.g. command-line flags). */
export function resolveConfig(options: { preset?: string; file?: string; overrides?: Partial<Config> } = {}): Config {
  const { preset = 'study', file, overrides = {} } = options;
  const name = presetNamed(preset);
  const fromFile: Partial<Config> = file ? readJson<Partial<Config>>(file, 'config JSON') : {};
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const merged = { ...STUDY_DEFAULTS, ...PRESETS[name], ...fromFile, ...defined } as Config;
  // A partial augment object in a file or preset fills its gaps from CNNDetection's recipe.
  if (merged.augment) merged.augment = { ...CNNDETECTION_AUGMENT, ...merged.augment };
  return validateConfig(merged);
}

/** The preset chosen by the REALFAKE_PRESET environment variable (used by headless notebook runs and CI). */
export function presetFromEnv(fallback: PresetName = 'study'): PresetName {
  const name = process.env.REALFAKE_PRESET;
  return name ? presetNamed(name, 'REALFAKE_PRESET') : fallback;
}
