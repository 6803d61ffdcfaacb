/**
 * Faces followed across sampled frames, so each person gets one verdict.
 *
 * The rule, per sample, over the tracks still open and the faces found in this frame:
 * 1. every (track, face) pair whose boxes overlap with IoU >= MIN_IOU is a candidate (the track's box is where it
 *    was last seen);
 * 2. candidates are taken greedily, best first: IoU in steps of IOU_STEP (higher first), and within a step the
 *    smaller landmark distance (mean distance of the 68 landmarks, over the face box's diagonal) first; a track
 *    and a face are matched at most once;
 * 3. a face left unmatched starts a new track (ids 1, 2, 3 ... in order of first sighting);
 * 4. a track left unmatched misses this sample; after more than `maxMissed` missed samples in a row it ends, and
 *    a face seen there later starts a new track.
 * At 2 samples a second a face moves little between samples, so boxes overlap strongly; the landmark distance
 * settles the close calls (two faces near each other) by which face looks like the one seen before.
 */
import type { Box, Point } from '../faces/crop';

export const MIN_IOU = 0.3;
export const IOU_STEP = 0.05;
export const DEFAULT_MAX_MISSED = 2;

export interface Sighting<T> {
  /** Sample index and time (s). */
  index: number;
  time: number;
  box: Box;
  landmarks?: Point[];
  /** What the caller attaches (the face's score). */
  value: T;
}

export interface Track<T> {
  id: number;
  sightings: Array<Sighting<T>>;
}

export function iou(a: Box, b: Box): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (a.width * a.height + b.width * b.height - inter);
}

/** Mean landmark distance over the box diagonal; Infinity when either side has no landmarks. */
export function landmarkDistance(a: Sighting<unknown>, b: Sighting<unknown>): number {
  const p = a.landmarks;
  const q = b.landmarks;
  if (!p || !q || p.length !== q.length || p.length === 0) return Infinity;
  const sum = p.reduce((s, pt, i) => s + Math.hypot(pt.x - q[i].x, pt.y - q[i].y), 0);
  return sum / p.length / Math.max(1, Math.hypot(b.box.width, b.box.height));
}

export class FaceTracker<T> {
  private open: Array<Track<T> & { missed: number }> = [];
  private closed: Array<Track<T>> = [];
  private nextId = 1;

  constructor(private readonly maxMissed = DEFAULT_MAX_MISSED) {}

  /** Adds one sample's faces (all with the same index and time). */
  add(faces: Array<Sighting<T>>): void {
    const pairs: Array<{ t: number; f: number; overlap: number; distance: number }> = [];
    this.open.forEach((track, t) => {
      const last = track.sightings[track.sightings.length - 1];
      faces.forEach((face, f) => {
        const overlap = iou(last.box, face.box);
        if (overlap >= MIN_IOU) pairs.push({ t, f, overlap, distance: landmarkDistance(last, face) });
      });
    });
    const step = (o: number) => Math.floor(o / IOU_STEP);
    pairs.sort((a, b) => step(b.overlap) - step(a.overlap) || a.distance - b.distance || b.overlap - a.overlap);
    const trackUsed = new Set<number>();
    const faceUsed = new Set<number>();
    for (const p of pairs) {
      if (trackUsed.has(p.t) || faceUsed.has(p.f)) continue;
      trackUsed.add(p.t);
      faceUsed.add(p.f);
      this.open[p.t].sightings.push(faces[p.f]);
      this.open[p.t].missed = 0;
    }
    this.open.forEach((track, t) => {
      if (!trackUsed.has(t)) track.missed++;
    });
    for (const track of this.open.filter((tr) => tr.missed > this.maxMissed)) this.closed.push(strip(track));
    this.open = this.open.filter((tr) => tr.missed <= this.maxMissed);
    faces.forEach((face, f) => {
      if (!faceUsed.has(f)) this.open.push({ id: this.nextId++, sightings: [face], missed: 0 });
    });
  }

  /** Every track, ended or still open, by id. */
  tracks(): Array<Track<T>> {
    return [...this.closed, ...this.open.map(strip)].sort((a, b) => a.id - b.id);
  }
}

const strip = <T>(t: Track<T>): Track<T> => ({ id: t.id, sightings: t.sightings });
