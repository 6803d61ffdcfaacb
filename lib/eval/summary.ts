/** Terminal tables for metrics and for the `npm start` summary. */
import type { Metrics } from './metrics';
import { textTable } from './report';
import type { Interval, MetricIntervals } from './bootstrap';

const f4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : 'n/a');

/** With bootstrap intervals (metrics.json from evaluate), a third column shows the 95 % interval. */
export function formatMetricsTable(m: Metrics & { split?: string; intervals?: MetricIntervals }): string {
  const c = m.confusion;
  const ci = (i?: Interval) => (i ? `[${f4(i.low)}, ${f4(i.high)}]` : '');
  const iv = m.intervals?.intervals;
  const rows = [
    ['split', `${m.split ?? 'n/a'} (${m.n} images)`, ''],
    ['accuracy', f4(m.accuracy), ci(iv?.accuracy)],
    ['precision', f4(m.precision), ci(iv?.precision)],
    ['recall', f4(m.recall), ci(iv?.recall)],
    ['f1', f4(m.f1), ci(iv?.f1)],
    ['specificity', f4(m.specificity), ci(iv?.specificity)],
    ['auc', f4(m.auc), ci(iv?.auc)],
    ['average precision', f4(m.averagePrecision), ci(iv?.averagePrecision)],
    ['confusion (fake = positive)', `TP ${c.tp}  FP ${c.fp}  FN ${c.fn}  TN ${c.tn}`, ''],
    ['threshold', String(m.threshold), ''],
  ];
  if (!m.intervals) return textTable(['Metric', 'Value'], rows.map((r) => r.slice(0, 2)));
  return textTable(['Metric', 'Value', `${m.intervals.confidence * 100} % interval (bootstrap, ${m.intervals.resamples})`], rows);
}
