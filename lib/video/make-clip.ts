/**
 * A short clip of faces gliding over a plain background, made with ffmpeg from face photos: a known answer for
 * the video path (one track per face) in the tests and notebook 05. Face i starts in its own column and drifts
 * a few pixels a second, so boxes overlap strongly from one sample to the next.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ffmpegPath, firstToolLine, startTool } from './ffmpeg';

export interface ClipOptions {
  seconds?: number;
  width?: number;
  height?: number;
  /** Side of each face, pixels. */
  faceSize?: number;
  /** Frames a second of the clip. */
  rate?: number;
  /** Store the frames turned a quarter clockwise with display rotation metadata that turns them back upright. */
  rotated?: boolean;
}

/** Writes the clip to `out` (its extension picks the container: .mp4, .mov, .mkv, .webm). */
export async function makeFaceClip(faces: string[], out: string, options: ClipOptions = {}): Promise<void> {
  const { seconds = 12, width = 640, height = 360, faceSize = 150, rate = 10 } = options;
  const inputs = faces.flatMap((f) => ['-loop', '1', '-i', f]);
  const column = width / faces.length;
  const filters = faces.map((_, i) => `[${i + 1}]scale=${faceSize}:${faceSize}[f${i}]`);
  let last = '0';
  faces.forEach((_, i) => {
    const x = Math.round(i * column + (column - faceSize) / 2);
    const y = Math.round((height - faceSize) / 2) + (i % 2 ? 30 : -30);
    const dx = i % 2 ? -6 : 8;
    const dy = i % 2 ? -3 : 3;
    filters.push(`[${last}][f${i}]overlay=x='${x}+${dx}*t':y='${y}+${dy}*t':shortest=1[v${i}]`);
    last = `v${i}`;
  });
  if (options.rotated) filters.push(`[${last}]transpose=clock[rot]`);
  const webm = out.toLowerCase().endsWith('.webm');
  const args = [
    ...[
      '-nostdin',
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      `color=c=0x5a7864:s=${width}x${height}:r=${rate}:d=${seconds}`,
    ],
    ...inputs,
    ...['-filter_complex', filters.join(';'), '-map', options.rotated ? '[rot]' : `[${last}]`, '-t', String(seconds)],
    ...(webm
      ? ['-c:v', 'libvpx', '-b:v', '400k', '-deadline', 'realtime']
      : ['-c:v', 'libx264', '-pix_fmt', 'yuv420p']),
    options.rotated ? `${out}.turned${path.extname(out)}` : out,
  ];
  await runFfmpeg(args, out);
  if (options.rotated) {
    // ffmpeg writes a display matrix from the `rotate` tag only when it copies the stream (not when it encodes):
    // rotate=90 tells players (and ffmpeg's autorotate) to turn the stored frames back upright.
    const turned = `${out}.turned${path.extname(out)}`;
    try {
      await runFfmpeg(
        ['-nostdin', '-v', 'error', '-y', '-i', turned, '-c', 'copy', '-metadata:s:v', 'rotate=90', out],
        out,
      );
    } finally {
      fs.rmSync(turned, { force: true });
    }
  }
}

async function runFfmpeg(args: string[], out: string): Promise<void> {
  const { code, stderr } = await startTool(ffmpegPath(), args).done;
  if (code !== 0) throw new Error(`${out}: ffmpeg could not make the clip (${firstToolLine(stderr, out)})`);
}
