/**
 * Evaluation with `scoring` 'tiles' or 'native' (lib/infer/scoring.ts). A preprocessed dataset holds only the
 * resized arrays, so these modes re-read the original image files its manifest lists (manifest.csv, resolved
 * from the dataset folder) for the rows being evaluated. Each original must still be the file preprocessing
 * read: it must exist, and where the manifest recorded its byte size and dimensions they must match; otherwise
 * evaluation stops with one line naming the file (scores on a silently different set would not be comparable).
 * A harmonised dataset's originals are harmonised again first (lib/data/harmonize.ts), since that is the
 * source image its arrays were resized from. A row preprocessing framed on a face (alignFaces) is that face's
 * square (the manifest's face_box) cut out at the photo's resolution, as `predict --faces` scores a face.
 */
import * as fs from 'fs';
import type { ScoringMode } from '../config';
import { Dataset, readManifest } from '../data/dataset';
import { harmonizedJpeg } from '../data/harmonize';
import { decodeImageRgb, RgbImage } from '../data/images';
import { cropAtOwnSize } from '../faces/crop';
import type { InferenceEngine } from '../infer/engine';
import { checkNativeSize, ScoringSettings, scoreImages } from '../infer/scoring';

/** Originals decoded and scored at once (full-size images are large). */
const IMAGES_PER_CHUNK = 8;

export interface SourceScores {
  scores: Float32Array;
  /** How the images were scored: images, how many were too small (so resized instead), tiles scored in all. */
  record: { mode: ScoringMode; images: number; resizedFallback: number; tiles: number };
}

function checkOriginal(
  file: string,
  row: number,
  dataset: Dataset,
  facts: { fileBytes: number } | null | undefined,
  mode: ScoringMode,
): void {
  const hint = `--scoring ${mode} re-reads the originals listed in ${dataset.manifestPath}; restore them, or use --scoring resize (the preprocessed arrays)`;
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    throw new Error(`${file}: original image of row ${row} not found (moved or deleted?); ${hint}`);
  }
  if (facts && facts.fileBytes !== size)
    throw new Error(
      `${file}: original image of row ${row} changed since preprocessing (${size} bytes, was ${facts.fileBytes}); ${hint}`,
    );
}

/** pFake of the dataset's `rows`, scored from their original files under `settings.scoring`. */
export async function scoreSourceImages(
  engine: InferenceEngine,
  dataset: Dataset,
  rows: number[],
  settings: ScoringSettings,
): Promise<SourceScores> {
  const usable = readManifest(dataset.manifestPath).filter((row) => row.status === 'ok');
  const facts = usable.map((row) => row.facts);
  for (const row of rows) checkOriginal(dataset.files[row], row, dataset, facts[row], settings.scoring);
  const scores = new Float32Array(rows.length);
  const record = { mode: settings.scoring, images: rows.length, resizedFallback: 0, tiles: 0 };
  for (let start = 0; start < rows.length; start += IMAGES_PER_CHUNK) {
    const chunk = rows.slice(start, start + IMAGES_PER_CHUNK);
    const images = await Promise.all(
      chunk.map(async (row): Promise<RgbImage> => {
        const file = dataset.files[row];
        const original = await decodeImageRgb(dataset.info.harmonize ? await harmonizedJpeg(file, file) : file, file);
        const known = facts[row];
        if (known && !dataset.info.harmonize && (known.width !== original.width || known.height !== original.height))
          throw new Error(
            `${file}: original image of row ${row} changed since preprocessing (${original.width}x${original.height}, was ${known.width}x${known.height})`,
          );
        const box = usable[row]?.faceBox;
        const image = box ? cropAtOwnSize(original, box) : original;
        if (settings.scoring === 'native') checkNativeSize(image, file);
        return image;
      }),
    );
    const scored = await scoreImages(engine, images, settings);
    scored.forEach((s, i) => {
      scores[start + i] = s.pFake;
      if (s.scoring === 'resize') record.resizedFallback++;
      if (s.scoring === 'tiles') record.tiles += s.tiles;
    });
  }
  return { scores, record };
}
