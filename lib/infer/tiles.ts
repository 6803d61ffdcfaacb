/**
 * The tile grid of `scoring: 'tiles'`: square tiles of the model's input size that cover an image at its own
 * resolution, with as little overlap as covering allows.
 *
 * Along a side of `length` pixels, with tiles of `tile` pixels (length >= tile): the fewest tiles that cover
 * it, n = ceil(length / tile), evenly spaced from the first edge to the last: start_i = round(i * (length - tile)
 * / (n - 1)). The first tile starts at 0, the last ends exactly at `length`, and the n - 1 overlaps share the
 * n * tile - length surplus pixels evenly (within one pixel of rounding). A side that is a multiple of `tile`
 * gets no overlap at all. Smaller images are not tiled (lib/infer/scoring.ts resizes them instead).
 */
import type { RgbImage } from '../data/images';

/** A tile's top-left corner in image pixels; every tile is `size` x `size`. */
export interface Tile {
  x: number;
  y: number;
}

/** Where the tiles start along one side (see the module comment). */
export function tileStarts(length: number, tile: number): number[] {
  if (!(Number.isInteger(length) && Number.isInteger(tile) && tile > 0))
    throw new Error(`tileStarts: integer sizes expected (got ${length}, ${tile})`);
  if (length < tile) throw new Error(`tileStarts: a ${length} px side is smaller than one ${tile} px tile`);
  const n = Math.ceil(length / tile);
  if (n === 1) return [0];
  return Array.from({ length: n }, (_, i) => Math.round((i * (length - tile)) / (n - 1)));
}

/** The tiles covering a width x height image, row by row (top to bottom, left to right). */
export function tileGrid(width: number, height: number, tile: number): Tile[] {
  const xs = tileStarts(width, tile);
  return tileStarts(height, tile).flatMap((y) => xs.map((x) => ({ x, y })));
}

/** The pixels of one tile (size x size x 3 uint8, row-major), copied out of the image. */
export function cutTile(image: RgbImage, { x, y }: Tile, size: number): Uint8Array {
  if (x < 0 || y < 0 || x + size > image.width || y + size > image.height)
    throw new Error(`cutTile: ${size} px tile at ${x},${y} is outside the ${image.width}x${image.height} image`);
  const out = new Uint8Array(size * size * 3);
  for (let row = 0; row < size; row++) {
    const from = ((y + row) * image.width + x) * 3;
    out.set(image.data.subarray(from, from + size * 3), row * size * 3);
  }
  return out;
}
