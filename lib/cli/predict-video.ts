/** `realfake predict VIDEO --faces`: one verdict per tracked face (logic in lib/video/predict-video.ts). */
import * as path from 'path';
import { csvField } from '../files';
import { InterruptedError } from '../interrupt';
import type { Predictor } from '../infer/predict';
import { predictVideo, type VideoVerdict } from '../video/predict-video';
import type { SamplingOptions } from '../video/sampling';
import { videoTimelineFigure } from '../viz/video-timeline';
import { writeFigureHtml } from '../viz/plots';
import { escapeControls } from './common';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export const VIDEO_CSV_HEADER =
  'file,face,frames,firstSeen,lastSeen,x,y,width,height,verdict,confidence,pFake,low,high,fakeShare';

/** One line per tracked face (or one saying there is none), in each format; JSON carries every frame's score. */
const VIDEO_FORMATS = {
  text: (v: VideoVerdict) =>
    v.tracks.length === 0
      ? [`${escapeControls(v.file)}\tno face found in ${v.sampling.decoded} frames`]
      : v.tracks.map(
          (t) =>
            `${escapeControls(v.file)}\tface ${t.id}\t${t.firstSeen.toFixed(1)}-${t.lastSeen.toFixed(1)} s\t${t.frames} frames\t${t.verdict}\t${pct(t.confidence)}\tpFake=${t.pFake.toFixed(4)} [${t.interval.low.toFixed(4)}, ${t.interval.high.toFixed(4)}]\tfake in ${pct(t.fakeShare)} of frames`,
        ),
  json: (v: VideoVerdict) => [JSON.stringify(v)],
  csv: (v: VideoVerdict) =>
    v.tracks.length === 0
      ? [[csvField(v.file), '', 0, '', '', '', '', '', '', 'no face found', '', '', '', '', ''].join(',')]
      : v.tracks.map((t) =>
          [
            csvField(v.file),
            t.id,
            t.frames,
            t.firstSeen,
            t.lastSeen,
            t.box.x,
            t.box.y,
            t.box.width,
            t.box.height,
            csvField(t.verdict),
            t.confidence.toFixed(6),
            t.pFake.toFixed(6),
            t.interval.low.toFixed(6),
            t.interval.high.toFixed(6),
            t.fakeShare.toFixed(6),
          ].join(','),
        ),
};

/** FILE.html for one video; FILE.<video name>.html for each of several. */
function timelineFile(timeline: string, video: string, several: boolean): string {
  if (!several) return timeline;
  const ext = path.extname(timeline) || '.html';
  return `${timeline.slice(0, timeline.length - path.extname(timeline).length)}.${path.basename(video).replace(/\.[^.]+$/, '')}${ext}`;
}

/** Verdicts for each video; a bad video is reported on stderr (one line naming it) and skipped. */
export async function predictVideoFiles(
  predictor: Predictor,
  videos: string[],
  format: keyof typeof VIDEO_FORMATS,
  options: SamplingOptions & { timeline?: string },
): Promise<{ ok: number; failed: number }> {
  if (format === 'csv') process.stdout.write(VIDEO_CSV_HEADER + '\n');
  let ok = 0;
  let failed = 0;
  const note = (line: string) => process.stderr.write(`${escapeControls(line)}\n`);
  for (const file of videos) {
    try {
      const video = await predictVideo(predictor, file, { ...options, onWarning: note });
      for (const line of VIDEO_FORMATS[format](video)) process.stdout.write(line + '\n');
      if (options.timeline) {
        const out = timelineFile(options.timeline, file, videos.length > 1);
        writeFigureHtml(videoTimelineFigure(video, predictor.policy), out);
        note(`timeline: ${out}`);
      }
      ok++;
    } catch (err) {
      if (err instanceof InterruptedError) throw err;
      failed++;
      note(`skipped ${file}: ${(err as Error).message.replace(`${file}: `, '')}`);
    }
  }
  return { ok, failed };
}
