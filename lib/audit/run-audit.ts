/**
 * The whole audit as one call (what `realfake audit` and notebook 06 run): audit the source folders, then the
 * probes (and optionally the study's CNN) under the study's preprocessing and harmonised; write everything
 * to <outRoot>/<timestamp>/ and return it with a plain-text report.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Config } from '../config';
import { ensureSynthData } from '../data/sources';
import type { DataSource } from '../data/sources';
import { DEFAULT_SYNTH_DIFFICULTY } from '../data/synth';
import { AuditRow, auditFindings, auditFolders, auditSummary, writeAudit } from './audit';
import {
  CompareOptions,
  ComparisonRow,
  comparisonTable,
  compareStudyVsHarmonized,
  markdownTable,
  writeComparison,
} from './compare';
import type { ProbeOptions } from './probes';

export interface RunAuditOptions {
  /** Both or neither: without them, the embedded synthetic set in the study's two formats (data/synth-study). */
  realDir?: string;
  fakeDir?: string;
  config: Config;
  /** Default outputs/audit. */
  outRoot?: string;
  /** Where the synthetic set and preprocessed caches go (default data). */
  dataRoot?: string;
  studyCnn?: boolean;
  probes?: ProbeOptions;
  makeStepper?: CompareOptions['makeStepper'];
  log?: (line: string) => void;
}

export interface AuditResult {
  dir: string;
  source: DataSource;
  rows: AuditRow[];
  findings: string[];
  comparison: ComparisonRow[];
  files: string[];
  /** The summary table, findings and comparison table, ready to print. */
  text: string;
}

/** Images per class of the embedded synthetic audit set (small: it only has to show what the audit finds). */
export const SYNTH_AUDIT_COUNT = 150;

/** The folders to audit: the given pair, else the embedded synthetic set in the study's two formats (generated once). */
export async function auditSource(
  realDir: string | null | undefined,
  fakeDir: string | null | undefined,
  config: Config,
  dataRoot: string,
  log: (line: string) => void,
): Promise<DataSource> {
  if (realDir && fakeDir) return { kind: 'user', realDir, fakeDir };
  const count = Math.min(config.limitPerClass ?? SYNTH_AUDIT_COUNT, SYNTH_AUDIT_COUNT);
  const params = {
    count,
    size: config.imageSize,
    seed: config.seed,
    difficulty: DEFAULT_SYNTH_DIFFICULTY,
    formats: 'study' as const,
  };
  const synth = await ensureSynthData(dataRoot, params, log, 'synth-study');
  return { ...synth, kind: 'synthetic-study' };
}

export async function runAudit(options: RunAuditOptions): Promise<AuditResult> {
  const log = options.log ?? (() => undefined);
  const { config } = options;
  const dataRoot = options.dataRoot ?? 'data';
  const source = await auditSource(options.realDir, options.fakeDir, config, dataRoot, log);
  const dir = path.join(
    options.outRoot ?? path.join('outputs', 'audit'),
    new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19),
  );
  fs.mkdirSync(dir, { recursive: true });
  const rows = await auditFolders({
    realDir: source.realDir,
    fakeDir: source.fakeDir,
    limitPerClass: config.limitPerClass,
    onSkip: (file, reason) => log(`skipped ${file}: ${reason}`),
  });
  const files = writeAudit(rows, dir);
  const findings = auditFindings(rows);
  log(`audit of ${rows.length} files written to ${dir}; probing (study preprocessing, then harmonised)`);
  const comparison = await compareStudyVsHarmonized({
    source,
    config,
    workDir: dataRoot,
    studyCnn: options.studyCnn,
    probes: options.probes,
    makeStepper: options.makeStepper,
    log,
  });
  files.push(...writeComparison(comparison, dir));
  const text = [
    `Audit of ${source.realDir} (real) and ${source.fakeDir} (fake):`,
    markdownTable(auditSummary(rows)),
    '',
    findings.length
      ? `Class differences:\n${findings.map((f) => `- ${f}`).join('\n')}`
      : "No class difference found in the files' metadata.",
    '',
    `Probes (${config.imageSize} px ${config.resize}; accuracy and AUC with 95 % bootstrap intervals on the ${comparison[0]?.split ?? ''} split of ${comparison[0]?.evalN ?? 0} images):`,
    markdownTable(comparisonTable(comparison)),
    '',
    `written to ${dir}`,
  ].join('\n');
  return { dir, source, rows, findings, comparison, files, text };
}
