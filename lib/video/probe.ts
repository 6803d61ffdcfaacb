/**
 * What a video is, from ffprobe's JSON, and whether realfake takes it: refused before any frame is decoded when
 * it has no video stream, no frames, or is over the byte, duration, frame or pixel limits (each with the reason).
 */
import * as fs from 'fs';
import { InterruptedError } from '../interrupt';
import { ffprobePath, firstToolLine, startTool, VideoError } from './ffmpeg';

export interface VideoInfo {
  /** Container name as ffprobe says it (e.g. "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm"). */
  format: string;
  codec: string;
  /** Seconds (the video stream's, else the container's). */
  duration: number;
  /** Coded size, before rotation. */
  width: number;
  height: number;
  /** Display rotation in degrees (display matrix or the older `rotate` tag), counter-clockwise, 0/90/180/270. */
  rotation: number;
  /** Average frame rate (frames / duration); differs from the nominal rate for variable-frame-rate clips. */
  frameRate: number;
  /** Nominal (base) frame rate: ffprobe's r_frame_rate. */
  nominalFrameRate: number;
  variableFrameRate: boolean;
  /** Frames in the stream: the container's count, else duration x average rate (null when neither is known). */
  frames: number | null;
  bytes: number;
}

export interface VideoLimits {
  /** Largest file, bytes. */
  maxBytes: number;
  /** Longest video, seconds. */
  maxDuration: number;
  /** Most frames in the stream (bounds the decoding work: each frame is decoded once). */
  maxStreamFrames: number;
  /** Largest frame, pixels. */
  maxPixels: number;
}

/** The CLI's limits: a 2-hour film is taken (sampled within --max-frames); the server's are tighter. */
export const CLI_VIDEO_LIMITS: VideoLimits = {
  maxBytes: 20 * 1024 ** 3,
  maxDuration: 4 * 3600,
  maxStreamFrames: 4 * 3600 * 60,
  maxPixels: 40_000_000,
};

interface ProbeJson {
  streams?: Array<{
    codec_type?: string;
    codec_name?: string;
    width?: number;
    height?: number;
    duration?: string;
    nb_frames?: string;
    avg_frame_rate?: string;
    r_frame_rate?: string;
    tags?: Record<string, string>;
    side_data_list?: Array<{ rotation?: number }>;
    disposition?: { attached_pic?: number };
  }>;
  format?: { format_name?: string; duration?: string };
}

const rate = (r: string | undefined): number => {
  const [n, d] = (r ?? '0/0').split('/').map(Number);
  return d > 0 && Number.isFinite(n / d) ? n / d : 0;
};

const number = (s: string | undefined): number | null => {
  const v = s === undefined ? NaN : Number(s);
  return Number.isFinite(v) ? v : null;
};

/** Video facts from ffprobe's `-show_format -show_streams` JSON; throws VideoError when there is no video. */
export function videoInfoFromProbe(json: ProbeJson, file: string, bytes: number): VideoInfo {
  // Cover art (an attached picture) is a "video" stream of one still image: not a video.
  const v = (json.streams ?? []).find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  if (!v) {
    const kinds = [...new Set((json.streams ?? []).map((s) => s.codec_type ?? 'unknown'))];
    const has = kinds.length ? `only ${kinds.join(' and ')}` : 'no streams at all';
    throw new VideoError(file, `no video stream (${has})`, 'no_video');
  }
  const duration = number(v.duration) ?? number(json.format?.duration) ?? 0;
  const frameRate = rate(v.avg_frame_rate);
  const nominalFrameRate = rate(v.r_frame_rate);
  const counted = number(v.nb_frames);
  const frames = counted ?? (duration > 0 && frameRate > 0 ? Math.round(duration * frameRate) : null);
  const matrix = v.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation;
  const rotation = (((Math.round((matrix ?? number(v.tags?.rotate) ?? 0) / 90) * 90) % 360) + 360) % 360;
  return {
    format: json.format?.format_name ?? 'unknown',
    codec: v.codec_name ?? 'unknown',
    duration,
    width: v.width ?? 0,
    height: v.height ?? 0,
    rotation,
    frameRate,
    nominalFrameRate,
    variableFrameRate: frameRate > 0 && nominalFrameRate > 0 && Math.abs(frameRate - nominalFrameRate) > 0.01,
    frames,
    bytes,
  };
}

/** Throws VideoError saying which limit a video is over, or that it holds no frame. */
export function checkVideoLimits(info: VideoInfo, limits: VideoLimits, file: string): void {
  const mb = (b: number) => `${(b / 1024 ** 2).toFixed(1)} MB`;
  const minutes = (s: number) => (s >= 120 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(1)} s`);
  if (info.bytes > limits.maxBytes)
    throw new VideoError(file, `${mb(info.bytes)} is over the limit of ${mb(limits.maxBytes)}`, 'too_large');
  if (info.frames === 0 || info.duration <= 0)
    throw new VideoError(file, 'the video stream has zero frames', 'no_frames');
  if (info.width <= 0 || info.height <= 0)
    throw new VideoError(file, 'the video stream has no frame size', 'no_frames');
  if (info.duration > limits.maxDuration)
    throw new VideoError(
      file,
      `${minutes(info.duration)} long, over the limit of ${minutes(limits.maxDuration)}`,
      'too_long',
    );
  if (info.frames !== null && info.frames > limits.maxStreamFrames)
    throw new VideoError(file, `${info.frames} frames, over the limit of ${limits.maxStreamFrames}`, 'too_long');
  const pixels = info.width * info.height;
  if (pixels > limits.maxPixels)
    throw new VideoError(
      file,
      `${info.width}x${info.height} frames are ${(pixels / 1e6).toFixed(1)} megapixels (limit ${(limits.maxPixels / 1e6).toFixed(1)})`,
      'too_large',
    );
}

/** ffprobe's facts about a video file; a file ffprobe cannot read (corrupt, truncated) is a VideoError. */
export async function probeVideo(file: string, timeoutMs = 60_000): Promise<VideoInfo> {
  let bytes: number;
  try {
    bytes = fs.statSync(file).size;
  } catch (err) {
    throw new VideoError(file, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (err as Error).message);
  }
  if (bytes === 0) throw new VideoError(file, 'empty file');
  const { child, done } = startTool(ffprobePath(), [
    '-v',
    'error',
    '-print_format',
    'json',
    '-show_format',
    '-show_streams',
    file,
  ]);
  // A file that makes ffprobe wait (a FIFO, a stalled network mount) must not hang the command.
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  let out = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => (out += chunk));
  const { code, stderr, interrupted } = await done;
  clearTimeout(timer);
  if (interrupted) throw new InterruptedError(`${file}: interrupted while probing`);
  if (code !== 0) {
    const reason = code === null ? `ffprobe did not finish in ${timeoutMs / 1000} s` : firstToolLine(stderr, file);
    throw new VideoError(file, `not a readable video: corrupt or truncated (${reason})`);
  }
  let json: ProbeJson;
  try {
    json = JSON.parse(out) as ProbeJson;
  } catch {
    throw new VideoError(file, 'not a readable video (ffprobe gave no description)');
  }
  return videoInfoFromProbe(json, file, bytes);
}
