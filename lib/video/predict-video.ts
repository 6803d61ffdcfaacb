/**
 * Verdicts for the faces in a video: probe and check the limits (lib/video/probe.ts) > sample frames on
 * timestamps (sampling.ts) > decode them from ffmpeg (frames.ts) > find faces in each (lib/faces/detector.ts) and
 * score their FFHQ-style crops resized like training (lib/infer/faces.ts cropPixels) > follow faces across frames
 * (tracker.ts) > one verdict per track (track-verdict.ts), with every frame's score kept.
 *
 * Frames are scored resized to the model's input, as the server scores photos (the run's tiles/native scoring
 * is for whole images).
 */
import type { Box } from '../faces/crop';
import { detectFaces } from '../faces/detector';
import { cropPixels } from '../infer/faces';
import type { Predictor } from '../infer/predict';
import type { Verdict } from '../infer/verdict';
import { ffmpegMissing, VideoError } from './ffmpeg';
import { decodeFrames, frameSize } from './frames';
import { checkVideoLimits, CLI_VIDEO_LIMITS, probeVideo, type VideoInfo, type VideoLimits } from './probe';
import { planSampling, type SamplingOptions, type SamplingPlan } from './sampling';
import { FaceTracker } from './tracker';
import { trackVerdict, type TrackVerdict } from './track-verdict';

export interface FrameScore {
  /** Seconds from the start. */
  time: number;
  pFake: number;
  verdict: Verdict;
  /** The detector's box and the scored square, in pixels of the decoded (rotated) frame. */
  box: Box;
  crop: Box;
}

export interface VideoTrack extends TrackVerdict {
  id: number;
  /** Frames the face was found in. */
  frames: number;
  firstSeen: number;
  lastSeen: number;
  /** Where the face was first seen. */
  box: Box;
  scores: FrameScore[];
}

export interface VideoVerdict {
  file: string;
  video: Pick<VideoInfo, 'format' | 'codec' | 'duration' | 'rotation' | 'frameRate' | 'variableFrameRate'> & {
    /** Size of the frames looked at (rotated, maybe shrunk: lib/video/frames.ts). */
    width: number;
    height: number;
  };
  sampling: SamplingPlan & { decoded: number };
  warnings: string[];
  tracks: VideoTrack[];
}

export interface VideoOptions extends SamplingOptions {
  limits?: VideoLimits;
  /** Samples a track may miss before it ends (lib/video/tracker.ts). */
  maxMissed?: number;
  onWarning?: (line: string) => void;
  /** After each decoded sample (for progress). */
  onFrame?: (decoded: number, planned: number) => void;
}

let toolCheck: string | null | undefined;

/** Probes `file` and refuses it (VideoError) when it is over a limit; no frame is decoded. */
export async function checkVideo(file: string, limits: VideoLimits = CLI_VIDEO_LIMITS): Promise<VideoInfo> {
  toolCheck ??= ffmpegMissing();
  if (toolCheck) throw new Error(toolCheck);
  const info = await probeVideo(file);
  checkVideoLimits(info, limits, file);
  return info;
}

export async function predictVideo(
  predictor: Predictor,
  file: string,
  options: VideoOptions = {},
  checked?: VideoInfo,
): Promise<VideoVerdict> {
  const info = checked ?? (await checkVideo(file, options.limits));
  let plan: SamplingPlan;
  try {
    plan = planSampling(info, options);
  } catch (err) {
    throw new VideoError(file, (err as Error).message);
  }
  const warnings: string[] = [];
  const warn = (line: string) => {
    warnings.push(line);
    options.onWarning?.(line);
  };
  if (plan.note) warn(`${file}: ${plan.note}`);
  const tracker = new FaceTracker<{ raw: number; crop: Box }>(options.maxMissed);
  let decoded = 0;
  for await (const frame of decodeFrames(file, info, plan, warn)) {
    const faces = await detectFaces(frame.image);
    const pixels = await Promise.all(faces.map((f) => cropPixels(frame.image, f.crop, predictor)));
    const raw = faces.length ? await predictor.predictPixels(pixels) : [];
    tracker.add(
      faces.map((f, i) => ({
        index: frame.index,
        time: frame.time,
        box: f.box,
        landmarks: f.landmarks,
        value: { raw: raw[i], crop: f.crop },
      })),
    );
    decoded++;
    options.onFrame?.(decoded, plan.frames);
  }
  const round = (t: number) => Math.round(t * 1000) / 1000;
  const tracks = tracker.tracks().map((track): VideoTrack => {
    const s = track.sightings;
    return {
      id: track.id,
      frames: s.length,
      firstSeen: round(s[0].time),
      lastSeen: round(s[s.length - 1].time),
      box: s[0].box,
      ...trackVerdict(
        s.map((x) => x.value.raw),
        predictor.policy,
      ),
      scores: s.map((x) => {
        const { pFake, verdict } = predictor.toPrediction('', x.value.raw);
        return { time: round(x.time), pFake, verdict, box: x.box, crop: x.value.crop };
      }),
    };
  });
  const { width, height } = frameSize(info);
  const { format, codec, duration, rotation, frameRate, variableFrameRate } = info;
  return {
    file,
    video: { format, codec, duration, rotation, frameRate, variableFrameRate, width, height },
    sampling: { ...plan, decoded },
    warnings,
    tracks,
  };
}
