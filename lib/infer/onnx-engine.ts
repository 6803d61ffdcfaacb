/**
 * Inference with onnxruntime-node (native, all cores) on a model exported by lib/infer/onnx-export.ts, and the
 * choice between it and tfjs.
 *
 * onnxruntime-node is an optional dependency: it is loaded on first use and its absence is a reason, not a
 * crash. The engine choice:
 *   tfjs  the tfjs model in RUNDIR/model, on the active tfjs backend.
 *   onnx  RUNDIR/model.onnx on onnxruntime; exported first if missing or older than the model
 *         (onnxExportIsCurrent); fails with a one-line reason when onnxruntime-node cannot load.
 *   auto  onnx when onnxruntime-node loads and the export succeeds, else tfjs (saying why).
 * Exporting on the fly writes RUNDIR/model.onnx once (a few hundred ms), so the speed-up needs no extra step;
 * when the run folder is read-only, the exported bytes are used from memory.
 */
import * as os from 'os';
import * as path from 'path';
import { activeBackend } from '../backend/backend';
import { writeFileAtomic } from '../files';
import { exportRunToOnnx, ONNX_FILE, onnxExportIsCurrent } from './onnx-export';
import { InferenceEngine, TfjsEngine } from './engine';

/** The part of onnxruntime-node's API realfake uses (typed here so building never needs the package). */
interface OrtTensor {
  data: unknown;
}
interface OrtSession {
  run(feeds: Record<string, OrtTensor>, fetches?: string[]): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
interface OrtModule {
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => OrtTensor;
  InferenceSession: {
    create(model: string | Uint8Array, options: Record<string, unknown>): Promise<OrtSession>;
  };
  env: { versions?: { node?: string } };
}

let runtime: { ort: OrtModule } | { reason: string } | undefined;

/** onnxruntime-node, or why it cannot load (remembered: loading is tried once per process). */
export function loadOnnxRuntime(): { ort: OrtModule } | { reason: string } {
  if (!runtime) {
    try {
      runtime = { ort: require('onnxruntime-node') as OrtModule };
    } catch (err) {
      runtime = { reason: `onnxruntime-node is not available (${(err as Error).message.split('\n')[0]})` };
    }
  }
  return runtime;
}

export class OnnxEngine implements InferenceEngine {
  readonly name = 'onnx';

  private constructor(
    private readonly ort: OrtModule,
    private readonly session: OrtSession,
    readonly threads: number,
  ) {}

  /** A session on an ONNX file or its bytes; one intra-op thread per core (realfake's graph is one chain). */
  static async create(model: string | Uint8Array, threads = os.availableParallelism()): Promise<OnnxEngine> {
    const loaded = loadOnnxRuntime();
    if ('reason' in loaded) throw new Error(loaded.reason);
    const session = await loaded.ort.InferenceSession.create(model, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    return new OnnxEngine(loaded.ort, session, threads);
  }

  get description(): string {
    return `onnx (onnxruntime-node ${this.ort.env.versions?.node ?? '?'}, ${this.threads} threads)`;
  }

  async scores(batch: Float32Array, n: number, size: number): Promise<Float32Array> {
    return (await this.outputs(batch, n, size, ['pFake'])).pFake;
  }

  /** Both outputs: the two sigmoids [p(real), p(fake)] per row (flattened) and pFake. */
  async outputs(
    batch: Float32Array,
    n: number,
    size: number,
    names = ['probabilities', 'pFake'],
  ): Promise<Record<string, Float32Array>> {
    const input = new this.ort.Tensor('float32', batch, [n, size, size, 3]);
    const results = await this.session.run({ input }, names);
    return Object.fromEntries(names.map((name) => [name, results[name].data as Float32Array]));
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

export type EngineChoice = 'auto' | 'onnx' | 'tfjs';
export const ENGINE_CHOICES: readonly EngineChoice[] = ['auto', 'onnx', 'tfjs'];
/** What predict, evaluate and the CLI's --engine use unless told otherwise. */
export const DEFAULT_ENGINE: EngineChoice = 'auto';

/** An ONNX engine for the run, exporting its model first when needed. */
async function onnxEngineForRun(runDir: string): Promise<{ engine: OnnxEngine; note: string }> {
  const loaded = loadOnnxRuntime();
  if ('reason' in loaded) throw new Error(loaded.reason);
  const file = path.join(runDir, ONNX_FILE);
  if (onnxExportIsCurrent(runDir)) return { engine: await OnnxEngine.create(file), note: '' };
  const { bytes } = await exportRunToOnnx(runDir, { write: false });
  let note = `; exported ${file}`;
  try {
    writeFileAtomic(file, bytes);
  } catch {
    note = `; exported in memory (${file} is not writable)`;
  }
  return { engine: await OnnxEngine.create(bytes), note };
}

/**
 * The inference engine for a trained run (see the module comment for the choice). `onNote` hears one line
 * saying which engine runs and why. Needs an initialised tfjs backend for tfjs and for exporting.
 */
export async function loadEngine(
  runDir: string,
  choice: EngineChoice = DEFAULT_ENGINE,
  onNote?: (line: string) => void,
): Promise<InferenceEngine> {
  if (!ENGINE_CHOICES.includes(choice))
    throw new Error(`unknown engine "${choice}" (choose one of: ${ENGINE_CHOICES.join(', ')})`);
  let fallback = '';
  if (choice !== 'tfjs') {
    try {
      const { engine, note } = await onnxEngineForRun(runDir);
      onNote?.(`engine: ${engine.description}${note}`);
      return engine;
    } catch (err) {
      const reason = (err as Error).message.split('\n')[0];
      if (choice === 'onnx') throw new Error(`engine onnx: ${reason}`);
      fallback = ` (onnx not used: ${reason})`;
    }
  }
  const engine = await TfjsEngine.load(path.join(runDir, 'model'));
  onNote?.(`engine: tfjs (${activeBackend()?.name ?? 'no'} backend)${fallback}`);
  return engine;
}
