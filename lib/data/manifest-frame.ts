/**
 * A dataset's manifest as a danfojs DataFrame, for looking at what went in: files per class, status and file
 * type, and why files were skipped. The study's data had real faces as PNG and fakes as JPEG: a group-by of class
 * against file type shows such a confound at a glance.
 */
import * as path from 'path';
import * as dfd from 'danfojs-node';
import { DATASET_FILES, readManifest } from './dataset';

/** One row per file tried: file, class (real/fake), label, status (ok/skipped), reason, type (extension). */
export function manifestFrame(dataDir: string): dfd.DataFrame {
  const rows = readManifest(path.join(dataDir, DATASET_FILES.manifest));
  return new dfd.DataFrame({
    file: rows.map((r) => path.basename(r.path)),
    class: rows.map((r) => (r.label === 1 ? 'fake' : 'real')),
    label: rows.map((r) => r.label),
    status: rows.map((r) => r.status),
    reason: rows.map((r) => r.reason),
    type: rows.map((r) => path.extname(r.path).toLowerCase() || '(none)'),
  });
}

/** Files per class, status and file type. */
export function manifestSummary(manifest: dfd.DataFrame): dfd.DataFrame {
  const grouped = manifest.groupby(['class', 'status', 'type']).col(['file']).count();
  return grouped.rename({ file_count: 'files' });
}

/** Skipped files per class and reason (empty when nothing was skipped). */
export function skipReasons(manifest: dfd.DataFrame): dfd.DataFrame {
  const skipped = manifest.query(manifest.status.eq('skipped'));
  if (skipped.shape[0] === 0) return new dfd.DataFrame([], { columns: ['class', 'reason', 'files'] });
  return skipped.groupby(['class', 'reason']).col(['file']).count().rename({ file_count: 'files' });
}
