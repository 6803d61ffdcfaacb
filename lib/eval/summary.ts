/** Terminal tables for metrics and for the `npm start` summary. */
import type { Metrics } from './metrics';
import { textTable } from './report';

const f4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : 'n/a');

export function formatMetricsTable(m: Metrics & { split?: string }): string {
  const c = m.confusion;
  return textTable(['Metric', 'Value'], [
    ['split', `${m.split ?? 'n/a'} (${m.n} images)`],
    ['accuracy', f4(m.accuracy)],
    ['precision', f4(m.precision)],
    ['recall', f4(m.recall)],
    ['f1', f4(m.f1)],
    ['specificity', f4(m.specificity)],
    ['auc', f4(m.auc)],
    ['average precision', f4(m.averagePrecision)],
    ['confusion (fake = positive)', `TP ${c.tp}  FP ${c.fp}  FN ${c.fn}  TN ${c.tn}`],
    ['threshold', String(m.threshold)],
  ]);
}
