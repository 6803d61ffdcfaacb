/**
 * The data audit of a real/fake folder pair: per image, what the file says about itself (lib/data/image-facts.ts);
 * per class, a summary; and, in plain words, every fact in which the classes differ ("every fake is a
 * 1024x1024 JPEG; every real a 128x128 PNG"). A difference here is a label a classifier can read without
 * looking at a face.
 */
import * as fs from 'fs';
import * as path from 'path';
import { csvField, writeFileAtomic } from '../files';
import { listImageFiles } from '../data/image-files';
import type { Figure } from '../viz/plots';
import { writeFigureHtml } from '../viz/plots';
import { AUDIT_COLUMNS, factsFields, ImageFacts, imageFileFacts } from '../data/image-facts';

export const CLASS_NAMES = ['real', 'fake'] as const;
export type ClassName = (typeof CLASS_NAMES)[number];

export interface AuditRow {
  file: string;
  label: 0 | 1;
  status: 'ok' | 'skipped';
  reason: string;
  facts: ImageFacts | null;
}

export interface AuditOptions {
  realDir: string;
  fakeDir: string;
  /** At most this many files per class, in sorted order (null: all). */
  limitPerClass?: number | null;
  concurrency?: number;
  /** Told about each file that cannot be audited (it is recorded as skipped and the audit goes on). */
  onSkip?: (file: string, reason: string) => void;
}

/** Audits every image file of both folders (headers and quantisation tables only: no pixel decoding). */
export async function auditFolders(options: AuditOptions): Promise<AuditRow[]> {
  const jobs: Array<{ file: string; label: 0 | 1 }> = [];
  ([options.realDir, options.fakeDir] as const).forEach((dir, label) => {
    const files = listImageFiles(dir);
    if (files.length === 0) throw new Error(`${dir}: no image files for class ${CLASS_NAMES[label]}`);
    const limit = options.limitPerClass ?? files.length;
    for (const file of files.slice(0, limit)) jobs.push({ file, label: label as 0 | 1 });
  });
  const rows: AuditRow[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      const { file, label } = jobs[i];
      try {
        rows[i] = { file, label, status: 'ok', reason: '', facts: await imageFileFacts(file) };
      } catch (err) {
        const reason = (err as Error).message.split('\n')[0].replace(`${file}: `, '');
        options.onSkip?.(file, reason);
        rows[i] = { file, label, status: 'skipped', reason, facts: null };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  return rows;
}

type Tally = Array<[string, number]>;

/** Values and how often each occurs, most frequent first. */
function tally(values: string[]): Tally {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const tallyText = (t: Tally, total: number) =>
  t
    .slice(0, 4)
    .map(([v, n]) => (n === total ? v : `${v} (${n})`))
    .join(', ') + (t.length > 4 ? ', ...' : '');
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const sizeOf = (f: ImageFacts) => `${f.width}x${f.height}`;
const qualityOf = (f: ImageFacts) => (f.jpegQuality === null ? 'none' : `q${f.jpegQuality}`);

function factsOf(rows: AuditRow[], label: number): ImageFacts[] {
  return rows.filter((r) => r.label === label && r.facts).map((r) => r.facts!);
}

/** One summary record per class (plain objects: print them, or hand them to danfojs). */
export function auditSummary(rows: AuditRow[]): Array<Record<string, string | number>> {
  return CLASS_NAMES.map((name, label) => {
    const facts = factsOf(rows, label);
    const n = facts.length;
    const bytes = facts.map((f) => f.fileBytes);
    return {
      class: name,
      images: n,
      skipped: rows.filter((r) => r.label === label && r.status === 'skipped').length,
      format: tallyText(tally(facts.map((f) => f.format)), n),
      'width x height': tallyText(tally(facts.map(sizeOf)), n),
      'file size (median [min, max])': n
        ? `${kb(median(bytes))} [${kb(Math.min(...bytes))}, ${kb(Math.max(...bytes))}]`
        : '',
      'bytes per pixel (median)': n ? +median(facts.map((f) => f.bytesPerPixel)).toFixed(3) : NaN,
      'JPEG quality': tallyText(tally(facts.map(qualityOf)), n),
      'colour mode': tallyText(tally(facts.map((f) => f.colourMode)), n),
      EXIF: `${facts.filter((f) => f.exif).length} of ${n}`,
    };
  });
}

/** The summary as a danfojs DataFrame, one row per class (danfojs is loaded only when asked for). */
export function auditSummaryFrame(rows: AuditRow[]): import('danfojs-node').DataFrame {
  const { DataFrame } = require('danfojs-node') as typeof import('danfojs-node');
  return new DataFrame(auditSummary(rows));
}

const CATEGORICAL: Array<{ what: string; of: (f: ImageFacts) => string; say: (v: string) => string }> = [
  { what: 'format', of: (f) => f.format.toUpperCase(), say: (v) => `a ${v}` },
  { what: 'size', of: sizeOf, say: (v) => `${v} px` },
  { what: 'JPEG quality', of: qualityOf, say: (v) => (v === 'none' ? 'not a JPEG' : `JPEG quality ${v.slice(1)}`) },
  { what: 'colour mode', of: (f) => f.colourMode, say: (v) => `colour mode ${v}` },
  { what: 'EXIF', of: (f) => (f.exif ? 'with EXIF' : 'without EXIF'), say: (v) => v },
];

const NUMERIC: Array<{ what: string; of: (f: ImageFacts) => number; show: (v: number) => string }> = [
  { what: 'file size', of: (f) => f.fileBytes, show: kb },
  { what: 'bytes per pixel', of: (f) => f.bytesPerPixel, show: (v) => v.toFixed(3) },
];

/**
 * Every fact in which the classes differ, in plain words. Categorical facts: "every real ..., every fake ..."
 * when each class has one value, "no ... is shared" when the sets are disjoint, otherwise the share of the
 * most common value when it differs by 25 points or more. Numeric facts: ranges that do not overlap, or
 * medians more than 2x apart. Empty when nothing differs.
 */
export function auditFindings(rows: AuditRow[]): string[] {
  const real = factsOf(rows, 0);
  const fake = factsOf(rows, 1);
  if (!real.length || !fake.length) return ['one class has no readable images: nothing to compare'];
  const findings: string[] = [];
  const single = (facts: ImageFacts[], of: (f: ImageFacts) => string) => {
    const values = new Set(facts.map(of));
    return values.size === 1 ? [...values][0] : null;
  };
  // The headline the issue asks for: "every fake is a 1024x1024 JPEG; every real a 128x128 PNG".
  const headline = (facts: ImageFacts[]) => {
    const size = single(facts, sizeOf);
    const format = single(facts, (f) => f.format.toUpperCase());
    return size && format ? `${size} px ${format}` : null;
  };
  const [hr, hf] = [headline(real), headline(fake)];
  if (hr && hf && hr !== hf) findings.push(`every fake is a ${hf}; every real a ${hr}`);
  for (const c of CATEGORICAL) {
    const r = tally(real.map(c.of));
    const f = tally(fake.map(c.of));
    if (hr && hf && hr !== hf && (c.what === 'format' || c.what === 'size')) {
      if (r.length === 1 && f.length === 1) continue; // already in the headline
    }
    const rs = new Set(r.map(([v]) => v));
    const shared = f.filter(([v]) => rs.has(v));
    if (r.length === 1 && f.length === 1 && r[0][0] !== f[0][0]) {
      findings.push(`${c.what}: every real is ${c.say(r[0][0])}; every fake is ${c.say(f[0][0])}`);
    } else if (shared.length === 0) {
      findings.push(
        `${c.what}: no value is shared (real: ${tallyText(r, real.length)}; fake: ${tallyText(f, fake.length)})`,
      );
    } else {
      const top = r[0][0];
      const shareReal = r[0][1] / real.length;
      const shareFake = (f.find(([v]) => v === top)?.[1] ?? 0) / fake.length;
      if (Math.abs(shareReal - shareFake) >= 0.25) {
        findings.push(
          `${c.what}: ${c.say(top)} for ${(shareReal * 100).toFixed(0)} % of reals but ${(shareFake * 100).toFixed(0)} % of fakes`,
        );
      }
    }
  }
  for (const c of NUMERIC) {
    const r = real.map(c.of);
    const f = fake.map(c.of);
    const [rMin, rMax, fMin, fMax] = [Math.min(...r), Math.max(...r), Math.min(...f), Math.max(...f)];
    const range = (lo: number, hi: number) => `${c.show(lo)}-${c.show(hi)}`;
    if (fMin > rMax)
      findings.push(
        `${c.what}: every fake has more than every real (real ${range(rMin, rMax)}, fake ${range(fMin, fMax)})`,
      );
    else if (rMin > fMax)
      findings.push(
        `${c.what}: every real has more than every fake (real ${range(rMin, rMax)}, fake ${range(fMin, fMax)})`,
      );
    else {
      const [mr, mf] = [median(r), median(f)];
      if (mr > 0 && mf > 0 && Math.max(mr / mf, mf / mr) > 2) {
        findings.push(
          `${c.what}: medians differ ${Math.max(mr / mf, mf / mr).toFixed(1)}x (real ${c.show(mr)}, fake ${c.show(mf)})`,
        );
      }
    }
  }
  return findings;
}

/** Overlaid per-class histograms of file size, bytes per pixel, width and JPEG quality. */
export function auditFigures(rows: AuditRow[]): Record<string, Figure> {
  const panels: Array<{ name: string; title: string; of: (f: ImageFacts) => number | null }> = [
    { name: 'audit_file_size', title: 'File size (KB)', of: (f) => f.fileBytes / 1024 },
    { name: 'audit_bytes_per_pixel', title: 'Bytes per pixel', of: (f) => f.bytesPerPixel },
    { name: 'audit_width', title: 'Width (px)', of: (f) => f.width },
    {
      name: 'audit_jpeg_quality',
      title: 'JPEG quality (from quantisation tables; non-JPEGs left out)',
      of: (f) => f.jpegQuality,
    },
  ];
  const colours = ['#1f77b4', '#ff7f0e'];
  return Object.fromEntries(
    panels.map((p) => [
      p.name,
      {
        data: CLASS_NAMES.map((name, label) => ({
          type: 'histogram',
          name,
          x: factsOf(rows, label)
            .map(p.of)
            .filter((v): v is number => v !== null),
          opacity: 0.6,
          marker: { color: colours[label] },
        })),
        layout: {
          title: { text: `${p.title}, by class` },
          barmode: 'overlay',
          xaxis: { title: { text: p.title } },
          yaxis: { title: { text: 'Images' } },
          width: 640,
          height: 380,
        },
      } satisfies Figure,
    ]),
  );
}

/** audit.csv (one row per file: path, class, status, reason, AUDIT_COLUMNS), audit.json, and the histograms. */
export function writeAudit(rows: AuditRow[], dir: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const csv = path.join(dir, 'audit.csv');
  const json = path.join(dir, 'audit.json');
  const lines = rows.map((r) =>
    [r.file, CLASS_NAMES[r.label], r.status, r.reason, ...factsFields(r.facts)].map(csvField).join(','),
  );
  writeFileAtomic(csv, `${['path,class,status,reason', AUDIT_COLUMNS.join(',')].join(',')}\n${lines.join('\n')}\n`);
  writeFileAtomic(json, `${JSON.stringify({ summary: auditSummary(rows), findings: auditFindings(rows) }, null, 2)}\n`);
  const written = [csv, json];
  for (const [name, fig] of Object.entries(auditFigures(rows))) {
    const file = path.join(dir, `${name}.html`);
    writeFigureHtml(fig, file);
    written.push(file);
  }
  return written;
}
