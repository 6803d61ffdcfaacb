/** The model card (lib/eval/model-card.ts) as model-card.md and model-card.json in the run folder. */
import * as path from 'path';
import { writeFileAtomic } from '../files';
import { MODEL_CARD_JSON, MODEL_CARD_MD } from '../infer/run-policy';
import { applyTemperature, verdictCuts, type BandEdge, type VerdictPolicy } from '../infer/verdict';
import { formatInterval } from './bootstrap';
import type { ModelCard } from './model-card';
import type { SourceMetrics } from './per-source';

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** The band in effect, on the probability shown (calibrated): the picked edges widened to hold the threshold. */
function effectiveBand(policy: VerdictPolicy): string {
  const { realBelow, fakeFrom } = verdictCuts(policy);
  const shown = (raw: number, end: string) =>
    Number.isFinite(raw) ? f3(applyTemperature(raw, policy.temperature)) : end;
  return `"Uncertain" when ${shown(realBelow, '0')} <= pFake < ${shown(fakeFrom, '1')}, Real below, Fake from there`;
}

function sourceTable(rows: SourceMetrics[]): string[] {
  return [
    '| source | class | images | recall / specificity [95 %] | AUC [95 %] |',
    '|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.source} | ${r.label ? 'fake' : 'real'} | ${r.n} | ${r.rateName} ${formatInterval(r.rate, 3)} | ${formatInterval(r.auc, 3)} |`,
    ),
  ];
}

function edgeLine(side: 'real' | 'fake', edge: BandEdge | null, target: number): string {
  if (!edge) return `- ${side}: no cut reached ${pct(target)} on validation, so nothing is called ${side}`;
  const where = side === 'fake' ? `p >= ${f3(edge.calibrated)}` : `p < ${f3(edge.calibrated)}`;
  return `- ${side} when ${where} (raw pFake ${side === 'fake' ? '>=' : '<'} ${f3(edge.raw)}): ${edge.correct} of ${edge.count} validation images there are ${side} (${pct(edge.precision)})`;
}

export function modelCardMarkdown(card: ModelCard): string {
  const { policy, band, test } = card;
  const lines = [
    `# Model card: run ${card.run}`,
    '',
    `Evaluated ${card.evaluatedAt}. Model ${card.model.family}, ${card.model.imageSize} px (${card.model.resize} resize, ${card.model.scoring} scoring), preset ${card.model.preset}: ${card.model.config}. Dataset fingerprint ${card.data.datasetFingerprint}.`,
    '',
    '## Validated on',
    '',
    '| source | class | train | val | test |',
    '|---|---|---|---|---|',
    ...card.data.sources.map(
      (s) => `| ${s.source} | ${s.label ? 'fake' : 'real'} | ${s.train} | ${s.val} | ${s.test} |`,
    ),
    `| all | | ${card.data.totals.train} | ${card.data.totals.val} | ${card.data.totals.test} |`,
    '',
    '## Not validated on',
    '',
    card.notValidatedOn.length ? card.notValidatedOn.join(', ') + '.' : 'every family on the list was seen.',
    `No claim is made for these. Rule: ${card.matchingRule}.`,
    '',
    '## Verdicts',
    '',
    `Threshold ${f3(policy.threshold)} on the raw pFake; temperature ${f3(policy.temperature)} (${band.temperatureNote}).`,
  ];
  if (policy.band) {
    lines.push(
      `Uncertain band, picked on the ${band.n} validation images' calibrated probabilities p (each side at ${pct(policy.band.target)}); "Uncertain" between:`,
      edgeLine('real', policy.band.real, policy.band.target),
      edgeLine('fake', policy.band.fake, policy.band.target),
      `In effect (the band widened to hold the threshold): ${effectiveBand(policy)}.`,
      `On ${test.split} (${test.n} images): ${test.uncertain} uncertain; accuracy on the rest ${f3(test.accuracyOutsideBand)}.`,
    );
  } else {
    lines.push('No uncertain band: the threshold alone decides.');
  }
  lines.push(...band.notes.map((n) => `> ${n}`));
  lines.push(
    '',
    '## Per source, validation',
    '',
    ...sourceTable(card.validation.perSource),
    '',
    `## Per source, ${test.split}`,
    '',
    ...sourceTable(test.perSource),
    '',
    '## Known weaknesses',
    '',
    ...(card.knownWeaknesses.length
      ? card.knownWeaknesses.map((w) => `- ${w}`)
      : ['None below the bars (AUC 0.9, rate 0.8) on the sources above; that says nothing about other sources.']),
  );
  return lines.join('\n') + '\n';
}

/** Two lines for a summary: the verdict policy and the band's effect on the held-back split; what is not validated. */
export function cardSummary(card: ModelCard): string {
  const { policy, test } = card;
  const policyText = policy.band
    ? `${effectiveBand(policy)}; on ${test.split} ${test.uncertain} of ${test.n} uncertain, accuracy ${f3(test.accuracyOutsideBand)} on the rest${card.band.notes.map((n) => `; ${n}`).join('')}`
    : `no uncertain band (${card.band.notes.join('; ') || 'none picked'})`;
  return [
    `model card: threshold ${f3(policy.threshold)}, temperature ${f3(policy.temperature)}; ${policyText}`,
    `not validated on: ${card.notValidatedOn.join(', ') || 'nothing on the list'}`,
  ].join('\n');
}

/** Writes model-card.json (NaN as "NaN", like metrics.json) and model-card.md; returns their paths. */
export function writeModelCard(runDir: string, card: ModelCard): string[] {
  const json = path.join(runDir, MODEL_CARD_JSON);
  const md = path.join(runDir, MODEL_CARD_MD);
  const finite = (_k: string, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v);
  writeFileAtomic(json, JSON.stringify(card, finite, 2) + '\n');
  writeFileAtomic(md, modelCardMarkdown(card));
  return [json, md];
}
