/** Notebook display helpers for the analysis (04) and experiments (07) notebooks; the logic is in lib/eval. */
import * as path from 'path';
import { INTERVAL_METRICS, type MetricIntervals } from '../eval/bootstrap';
import type { GradCamItem } from '../eval/analyze';
import type { RobustnessRow } from '../eval/robustness';

const f4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : 'n/a');

/** metric | estimate | low | high, for a DataFrame. */
export function intervalTableRows(m: MetricIntervals): Array<Record<string, string>> {
  return INTERVAL_METRICS.map((key) => {
    const i = m.intervals[key];
    return {
      metric: key,
      estimate: f4(i.estimate),
      [`${m.confidence * 100} % low`]: f4(i.low),
      [`${m.confidence * 100} % high`]: f4(i.high),
    };
  });
}

export function robustnessTableRows(rows: RobustnessRow[]): Array<Record<string, string>> {
  return rows.map((r) => ({
    perturbation: r.perturbation,
    images: String(r.n),
    accuracy: f4(r.accuracy),
    auc: f4(r.auc),
  }));
}

/** Grad-CAM overlays in a grid, captioned with the truth, the verdict explained and pFake; red frame when wrong. */
export function gradcamGridHtml(items: GradCamItem[], displaySize = 192): string {
  const cells = items.map((g) => {
    const colour = g.kind === 'right' ? '#2ca02c' : '#d62728';
    const caption = `${path.basename(g.file)}<br>is ${g.label ? 'Fake' : 'Real'}, pFake ${g.pFake.toFixed(3)}<br>map explains "${g.explained}"`;
    return `<figure style="margin:4px;text-align:center;font-size:11px"><img src="data:image/png;base64,${g.overlay.toString('base64')}" width="${displaySize}" height="${displaySize}" style="border:3px solid ${colour};image-rendering:pixelated"><figcaption>${caption}</figcaption></figure>`;
  });
  return `<div style="display:flex;flex-wrap:wrap">${cells.join('')}</div>`;
}
