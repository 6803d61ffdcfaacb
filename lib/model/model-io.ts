/**
 * Saving and loading models in the tfjs layers format (model.json + binary weights) without tfjs-node's
 * file:// handler, which the wasm and cpu backends lack.
 *
 * Saving is crash-safe: the weights go to a new file named by their content hash, then model.json, which
 * names that file, is renamed into place atomically, and only then is the old weights file removed. At every
 * instant model.json points at a complete weights file, so a crash or Ctrl-C never corrupts a checkpoint.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../files';
import './layers'; // registers DilatedConv2D and SeededDropout so saved models deserialise
import './input-transform'; // and InputTransform
import './families'; // and every built-in family's own layer classes (FaceResNetBackbone)

interface ModelJson {
  modelTopology: object;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
}

function concatWeightData(data: ArrayBuffer | ArrayBuffer[] | undefined): Buffer {
  if (!data) return Buffer.alloc(0);
  const parts = Array.isArray(data) ? data : [data];
  return Buffer.concat(parts.map((p) => Buffer.from(p)));
}

/** Saves `model` into `dir` (model.json + weights.<hash>.bin). */
export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = concatWeightData(artifacts.weightData as ArrayBuffer | ArrayBuffer[]);
      const weightsFile = `weights.${crypto.createHash('sha256').update(weights).digest('hex').slice(0, 12)}.bin`;
      writeFileAtomic(path.join(dir, weightsFile), weights);
      const modelJson: ModelJson = {
        modelTopology: artifacts.modelTopology as object,
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        convertedBy: null,
        weightsManifest: [{ paths: [weightsFile], weights: artifacts.weightSpecs ?? [] }],
      };
      writeJsonAtomic(path.join(dir, 'model.json'), modelJson);
      for (const name of fs.readdirSync(dir)) {
        if (/^weights\..*\.bin$/.test(name) && name !== weightsFile) fs.rmSync(path.join(dir, name), { force: true });
      }
      return {
        modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.length },
      };
    }),
  );
}

/** Loads a model saved by saveModel (or any tfjs layers-format folder with model.json). */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  const modelJsonPath = path.join(dir, 'model.json');
  const modelJson = readJson<ModelJson>(modelJsonPath, 'saved model (model.json)');
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of modelJson.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) {
      const file = path.join(dir, p);
      try {
        buffers.push(fs.readFileSync(file));
      } catch {
        throw new Error(`${file}: weights file missing (named by ${modelJsonPath})`);
      }
    }
  }
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs, weightData }));
}
