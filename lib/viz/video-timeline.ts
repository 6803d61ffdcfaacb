/**
 * pFake over time for each tracked face of a video (lib/video/predict-video.ts): one line per track, the
 * threshold as a dashed line and the run's uncertain band shaded, all on the probability shown (temperature-
 * scaled, lib/infer/verdict.ts), so a point above the band is a frame that alone would be called fake.
 */
import { applyTemperature, verdictCuts, type VerdictPolicy } from '../infer/verdict';
import type { VideoVerdict } from '../video/predict-video';
import { PALETTE, type Figure } from './plots';

export function videoTimelineFigure(video: VideoVerdict, policy: VerdictPolicy): Figure {
  const shown = (raw: number) => applyTemperature(raw, policy.temperature);
  const { realBelow, fakeFrom } = verdictCuts(policy);
  const data = video.tracks.map((t, i) => ({
    type: 'scatter',
    mode: 'lines+markers',
    name: `face ${t.id}: ${t.verdict} (pFake ${t.pFake.toFixed(3)})`,
    x: t.scores.map((s) => s.time),
    y: t.scores.map((s) => s.pFake),
    line: { color: PALETTE[i % PALETTE.length] },
    marker: { size: 5 },
  }));
  const shapes: Array<Record<string, unknown>> = [];
  if (fakeFrom > realBelow) {
    const low = Number.isFinite(realBelow) ? shown(realBelow) : 0;
    const high = Number.isFinite(fakeFrom) ? shown(fakeFrom) : 1;
    shapes.push({
      type: 'rect',
      xref: 'paper',
      x0: 0,
      x1: 1,
      y0: low,
      y1: high,
      fillcolor: 'rgba(176,125,0,0.15)',
      line: { width: 0 },
      layer: 'below',
    });
  }
  shapes.push({
    type: 'line',
    xref: 'paper',
    x0: 0,
    x1: 1,
    y0: shown(policy.threshold),
    y1: shown(policy.threshold),
    line: { color: 'black', width: 1.5, dash: 'dash' },
  });
  const name = video.file.split(/[\\/]/).pop();
  return {
    data,
    layout: {
      title: { text: `${name}: pFake per tracked face (${video.tracks.length} tracks)` },
      xaxis: { title: { text: 'Time (s)' }, range: [0, Math.max(video.video.duration, 0.5)] },
      yaxis: { title: { text: 'pFake' }, range: [0, 1] },
      shapes,
      annotations: [
        {
          xref: 'paper',
          x: 1,
          y: 1,
          yref: 'paper',
          showarrow: false,
          xanchor: 'right',
          text: fakeFrom > realBelow ? 'shaded: uncertain band; dashed: threshold' : 'dashed: threshold',
        },
      ],
      margin: { l: 70, r: 30, t: 60, b: 60 },
      legend: { x: 0, xanchor: 'left', y: -0.2, yanchor: 'top', orientation: 'h' },
      width: 900,
      height: 450,
    },
  };
}
