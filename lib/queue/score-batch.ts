/**
 * One job's images scored on a worker, by the same calls local `realfake predict` makes (Predictor.predictFiles,
 * or predictFaces per photo with --faces), so the rows are the same. Images sent as bytes are written to a private
 * file first (named by their index, with their extension): the predictor reads files, exactly as locally, and
 * a decoding error reads as it does locally once the file name in front of it is taken off.
 */
import * as fs from 'fs';
import * as path from 'path';
import { predictFaces } from '../infer/faces';
import type { Prediction, Predictor } from '../infer/predict';
import type { ImageResult, JobImage } from './jobs';

/** The reason without the "<file>: " in front, as local predict reports it after the name it knows. */
const reasonOf = (err: unknown, file: string) => (err as Error).message.replace(`${file}: `, '');

export async function scoreBatch(
  predictor: Predictor,
  images: JobImage[],
  options: { faces: boolean; tmpDir: string; tag: string },
): Promise<ImageResult[]> {
  const files = images.map((image) =>
    image.bytes !== undefined ? path.join(options.tmpDir, `${options.tag}-${image.index}${image.ext}`) : image.path!,
  );
  try {
    images.forEach((image, i) => {
      if (image.bytes !== undefined) fs.writeFileSync(files[i], Buffer.from(image.bytes, 'base64'));
    });
    if (options.faces) return await scoreFaces(predictor, images, files);
    const byFile = new Map<string, Array<Prediction | string>>();
    const keep = (file: string, outcome: Prediction | string) =>
      byFile.set(file, [...(byFile.get(file) ?? []), outcome]);
    await predictor.predictFiles(files, {
      batchSize: files.length,
      onPrediction: (p) => keep(p.file, p),
      onFailure: (f) => keep(f.file, f.reason),
    });
    return images.map((image, i) => {
      const outcome = byFile.get(files[i])!.shift()!;
      if (typeof outcome === 'string') return { index: image.index, reason: outcome };
      const { file: _file, ...prediction } = outcome;
      return { index: image.index, prediction };
    });
  } finally {
    images.forEach((image, i) => image.bytes !== undefined && fs.rmSync(files[i], { force: true }));
  }
}

async function scoreFaces(predictor: Predictor, images: JobImage[], files: string[]): Promise<ImageResult[]> {
  const results: ImageResult[] = [];
  for (const [i, image] of images.entries()) {
    try {
      results.push({ index: image.index, photo: await predictFaces(predictor, files[i]) });
    } catch (err) {
      results.push({ index: image.index, reason: reasonOf(err, files[i]) });
    }
  }
  return results;
}
