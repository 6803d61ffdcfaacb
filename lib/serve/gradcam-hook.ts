/**
 * Grad-CAM for the page and the API: for `?gradcam=1`, the server calls this explainer with the exact model input it
 * scored (size x size x 3 uint8 RGB) and returns the overlay (lib/eval/gradcam.ts) as a PNG data URL per face.
 * A run whose model has no convolution Grad-CAM can look through (e.g. a frozen backbone packed as one layer)
 * has no explainer; the API then leaves `gradcam` out and `GET /api/v1/model` says `"gradcam": false`.
 */
import * as path from 'path';
import { explainImage, lastConvLayerName } from '../eval/gradcam';
import { loadModel } from '../model/model-io';

export type FaceExplainer = (pixels: Uint8Array, size: number) => Promise<string>;

export async function loadGradcamExplainer(runDir: string): Promise<FaceExplainer | null> {
  const model = await loadModel(path.join(runDir, 'model'));
  try {
    lastConvLayerName(model);
  } catch {
    model.dispose();
    return null;
  }
  return async (pixels, size) => {
    const { overlay } = await explainImage(model, pixels, size);
    return `data:image/png;base64,${overlay.toString('base64')}`;
  };
}
