/**
 * GRAD-CAM HOOK (not wired yet). The page shows a Grad-CAM overlay for a face when the API result carries
 * `gradcam` (a PNG data URL) for it, and the server fills it, for `?gradcam=1`, by calling the explainer returned
 * here with the exact model input it scored (size x size x 3 uint8 RGB).
 *
 * lib/eval/gradcam.ts (issue 11) was not on main when this was written, so no explainer exists yet: this returns
 * null and the API leaves `gradcam` out. To wire it: return a function that computes the heat map for the run's
 * tfjs model on those pixels and encodes the overlay as PNG (sharp), e.g. `data:image/png;base64,...`.
 */
export type FaceExplainer = (pixels: Uint8Array, size: number) => Promise<string>;

export function loadGradcamExplainer(_runDir: string): FaceExplainer | null {
  return null;
}
