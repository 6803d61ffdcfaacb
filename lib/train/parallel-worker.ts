/**
 * Entry point of one data-parallel training worker (started by lib/train/parallel.ts from dist/lib/).
 *
 * It keeps a replica of the model on its own backend. Per step: copy the shared weights into the replica,
 * build its shard of the batch from the shared dataset, compute the gradient of the shard's mean loss with
 * the global step's dropout masks, and write it into its shared gradient slot.
 */
import { parentPort } from 'worker_threads';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/backend';
import { setDropoutStep } from '../model/layers'; // also registers the custom layers the topology names
import type { VariableSlot, WorkerInit, WorkerReply, WorkerStep } from './parallel';
import { binaryCrossEntropy, countCorrect, makeBatch } from './train';
import { ImageData } from '../data/pixels';

interface Replica {
  model: tf.LayersModel;
  variables: tf.Variable[];
  slots: VariableSlot[];
  data: ImageData;
  weights: Float32Array;
  gradient: Float32Array;
  microBatch: number;
}

let replica: Replica | null = null;

async function init(message: WorkerInit): Promise<void> {
  await initBackend(message.backend);
  const model = await tf.models.modelFromJSON({
    modelTopology: message.modelTopology as tf.io.ModelJSON['modelTopology'],
  });
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  // Variable names may differ between threads (tfjs makes them unique per process); order and shapes may not.
  if (
    variables.length !== message.slots.length ||
    variables.some((v, i) => v.shape.join() !== message.slots[i].shape.join())
  ) {
    throw new Error("the rebuilt model's variables do not match the main thread's");
  }
  replica = {
    model,
    variables,
    slots: message.slots,
    data: { x: message.x, y: message.y, size: message.size },
    weights: message.weights,
    gradient: message.gradient,
    microBatch: message.microBatch,
  };
}

/**
 * The gradient of the shard's mean loss, computed `microBatch` rows at a time and summed weighted by rows:
 * the same gradient, but activation memory for a few rows instead of the whole shard (see lib/train/parallel.ts).
 */
function step(message: WorkerStep): WorkerReply {
  if (!replica) throw new Error('step before init');
  const { model, variables, slots, data, weights, gradient, microBatch } = replica;
  const timings = { loadWeights: 0, makeBatch: 0, gradients: 0, writeGradient: 0 };
  let t = performance.now();
  const lap = (phase: keyof typeof timings) => {
    const now = performance.now();
    timings[phase] += now - t;
    t = now;
  };
  // slice(): the cpu backend would otherwise keep a view of shared memory the main thread later overwrites.
  variables.forEach((v, i) => {
    const { offset, size, shape } = slots[i];
    tf.tidy(() => v.assign(tf.tensor(weights.slice(offset, offset + size), shape)));
  });
  lap('loadWeights');
  let loss = 0;
  let correct = 0;
  for (let start = 0; start < message.rows.length; start += microBatch) {
    const rows = message.rows.slice(start, start + microBatch);
    const share = rows.length / message.rows.length;
    const { xs, ys } = makeBatch(data, rows);
    lap('makeBatch');
    let correctRows: tf.Scalar | undefined;
    setDropoutStep({
      step: message.step,
      globalBatchSize: message.globalBatchSize,
      rowOffset: message.rowOffset + start,
    });
    const { value, grads } = tf.variableGrads(() => {
      const outputs = model.apply(xs, { training: true }) as tf.Tensor2D;
      correctRows = tf.keep(countCorrect(ys, outputs));
      return binaryCrossEntropy(ys, outputs);
    }, variables);
    setDropoutStep(null);
    loss += share * value.dataSync()[0];
    correct += correctRows!.dataSync()[0];
    lap('gradients');
    variables.forEach((v, i) => {
      const part = grads[v.name].dataSync();
      const offset = slots[i].offset;
      for (let j = 0; j < part.length; j++)
        gradient[offset + j] = (start === 0 ? 0 : gradient[offset + j]) + share * part[j];
    });
    tf.dispose([xs, ys, value, correctRows!, ...Object.values(grads)]);
    lap('writeGradient');
  }
  return { type: 'done', loss, correct, timings };
}

const port = parentPort;
if (!port) throw new Error('parallel-worker.js runs as a worker thread (started by lib/train/parallel.ts)');
port.on('message', async (message: WorkerInit | WorkerStep) => {
  try {
    if (message.type === 'init') {
      await init(message);
      port.postMessage({ type: 'ready' } satisfies WorkerReply);
    } else {
      port.postMessage(step(message));
    }
  } catch (err) {
    port.postMessage({ type: 'error', message: (err as Error).message.split('\n')[0] } satisfies WorkerReply);
  }
});
