/**
 * Raw RGB frames from ffmpeg's stdout, one sample at a time (never the whole video in memory).
 *
 * ffmpeg rotates by the display matrix itself (autorotate, its default), so a phone clip filmed upright comes out
 * upright; the frame size asked for is the rotated one, shrunk to at most MAX_FRAME_SIDE on the longer side (the
 * face finder looks at 1024 px at most anyway). Sampling is lib/video/sampling.ts's plan: the fps filter ticks on
 * timestamps, so sample k is the picture shown at k / fps seconds after the video's start.
 */
import { InterruptedError } from '../interrupt';
import type { RgbImage } from '../data/images';
import { ffmpegPath, firstToolLine, startTool, VideoError } from './ffmpeg';
import type { VideoInfo } from './probe';
import type { SamplingPlan } from './sampling';

export const MAX_FRAME_SIDE = 1280;

export interface VideoFrame {
  /** 0, 1, 2 ... in sampling order. */
  index: number;
  /** Seconds from the video's start. */
  time: number;
  image: RgbImage;
}

/** The size frames are decoded at: rotated like the display, longer side at most MAX_FRAME_SIDE. */
export function frameSize(info: Pick<VideoInfo, 'width' | 'height' | 'rotation'>): { width: number; height: number } {
  const turned = info.rotation === 90 || info.rotation === 270;
  const w = turned ? info.height : info.width;
  const h = turned ? info.width : info.height;
  const scale = Math.min(1, MAX_FRAME_SIDE / Math.max(w, h));
  return { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(h * scale)) };
}

/**
 * The planned samples of `file`, decoded. Throws VideoError when ffmpeg decodes no frame at all; when it fails
 * part-way (a truncated file), the frames it gave are kept and `onWarning` says what happened.
 */
export async function* decodeFrames(
  file: string,
  info: VideoInfo,
  plan: SamplingPlan,
  onWarning: (line: string) => void = () => {},
): AsyncGenerator<VideoFrame> {
  const { width, height } = frameSize(info);
  const frameBytes = width * height * 3;
  const args = [
    ...['-nostdin', '-hide_banner', '-v', 'error', '-i', file],
    ...['-map', '0:v:0', '-an', '-sn', '-dn'],
    ...['-vf', `fps=${plan.fps.toPrecision(12)},scale=${width}:${height}:flags=area`],
    ...['-frames:v', String(plan.frames), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
  ];
  const { child, done } = startTool(ffmpegPath(), args);
  let index = 0;
  let pending: Buffer = Buffer.alloc(0);
  let readAll = false;
  try {
    for await (const chunk of child.stdout! as AsyncIterable<Buffer>) {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= frameBytes) {
        const data = new Uint8Array(pending.subarray(0, frameBytes));
        pending = pending.subarray(frameBytes);
        yield { index, time: index / plan.fps, image: { data, width, height } };
        index++;
      }
    }
    readAll = true;
  } finally {
    // The caller stopped early (an error, or enough frames): ffmpeg must not go on in the background.
    if (!readAll) child.kill('SIGKILL');
  }
  const { code, stderr, interrupted } = await done;
  if (interrupted) throw new InterruptedError(`${file}: interrupted while decoding`);
  const reason = firstToolLine(stderr, file);
  if (index === 0)
    throw new VideoError(
      file,
      `no frame could be decoded: zero frames or a corrupt stream${stderr.trim() ? ` (${reason})` : ''}`,
      'no_frames',
    );
  if (code !== 0 || stderr.trim())
    onWarning(
      `${file}: decoding stopped with errors after ${index} of ${plan.frames} frames (${reason}); the frames decoded are used`,
    );
}
