/**
 * tfjs's Adam with its update done by one native call per variable on the native backend. tfjs applies Adam as
 * ~12 tensor ops per variable (~250 kernel calls a step for the study's model, each a pass over the variable and
 * a new tensor); the addon's `adam` reads the gradient and updates value and both moments in place, in one pass,
 * with tfjs's formulas and operation order. On any other backend, and for anything but float32 variables, it is
 * tfjs's AdamOptimizer unchanged. Its state (moments, iterations) is tfjs's own, so getWeights/setWeights and
 * serialisation ('Adam') work as before.
 */
import * as tf from '@tensorflow/tfjs';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { nativeTrainingAddon } from './native-backend';

interface Moment {
  originalName: string;
  variable: tf.Variable;
}

/** The private parts of tfjs's AdamOptimizer this class shares. */
interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Moment[];
  accumulatedSecondMoment: Moment[];
  incrementIterations(): void;
}

type VariableGradients = Parameters<tf.AdamOptimizer['applyGradients']>[0];

export class NativeAdamOptimizer extends tf.AdamOptimizer {
  applyGradients(variableGradients: VariableGradients): void {
    const addon = nativeTrainingAddon();
    const names = Array.isArray(variableGradients)
      ? variableGradients.map((v) => v.name)
      : Object.keys(variableGradients);
    const gradients = names.map((name, i) =>
      Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name],
    );
    const backend = tf.backend() as MathBackendCPU;
    const isF32 = (t: tf.Tensor | undefined) =>
      !t || (t.dtype === 'float32' && backend.data.get(t.dataId)?.values instanceof Float32Array);
    const variables = names.map((name) => tf.engine().registeredVariables[name]);
    if (!addon || !variables.every(isF32) || !gradients.every(isF32)) return super.applyGradients(variableGradients);

    const state = this as unknown as AdamState;
    const beta1Power = state.accBeta1.dataSync()[0];
    const beta2Power = state.accBeta2.dataSync()[0];
    // tfjs's scalars are float32: every constant is rounded as it would be (1 - x computed in JavaScript).
    const params = Float64Array.from([
      0,
      -this.learningRate,
      this.beta1,
      this.beta2,
      1 - this.beta1,
      1 - this.beta2,
      this.epsilon,
      Math.fround(1 - beta1Power),
      Math.fround(1 - beta2Power),
    ]);
    names.forEach((name, i) => {
      const value = variables[i];
      const moment = (moments: Moment[], suffix: string) =>
        (moments[i] ??= {
          originalName: `${name}/${suffix}`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        }).variable;
      const m = moment(state.accumulatedFirstMoment, 'm');
      const v = moment(state.accumulatedSecondMoment, 'v');
      const gradient = gradients[i];
      if (!gradient) return;
      params[0] = value.size;
      addon.adam(
        ownValues(backend, value),
        ownValues(backend, m),
        ownValues(backend, v),
        backend.data.get(gradient.dataId).values as Float32Array,
        params,
      );
    });
    tf.tidy(() => {
      state.accBeta1.assign(state.accBeta1.mul(this.beta1));
      state.accBeta2.assign(state.accBeta2.mul(this.beta2));
    });
    state.incrementIterations();
  }
}

/**
 * The variable's values, safe to write in place: when another tensor shares them (a variable made from, or
 * assigned, a tensor its caller still holds), the variable first gets a copy of its own.
 */
function ownValues(backend: MathBackendCPU, variable: tf.Variable): Float32Array {
  const values = backend.data.get(variable.dataId).values as Float32Array;
  if (backend.refCount(variable.dataId) === 1) return values;
  const copy = tf.tensor(values.slice(), variable.shape, 'float32');
  variable.assign(copy);
  copy.dispose();
  return backend.data.get(variable.dataId).values as Float32Array;
}
