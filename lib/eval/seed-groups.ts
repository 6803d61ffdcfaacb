/**
 * Seeds as an axis of their own: runs whose settings are the same except for `seed` (weights, shuffling,
 * dropout) and/or `splitSeed` (which images land in which split) are repeats of one experiment, and what a
 * reader wants of them is each run's number beside the group's mean ± sd. The sd is the sample standard
 * deviation (ddof = 1, as numpy's `std(ddof=1)` and pandas' `std()`): the spread one would expect of a new repeat,
 * not of these few runs alone. Used by `compare` and `sweep` (lib/eval/compare.ts) and notebook 07.
 */
import type { Config } from '../config';
import { PALETTE, type Figure } from '../viz/plots';

/** The settings that only pick random draws; runs differing only in these repeat one experiment. */
export const SEED_KEYS = ['seed', 'splitSeed'] as const;

/** Settings that never change what a run is (the thread count). */
const IRRELEVANT_KEYS: ReadonlySet<string> = new Set(['workers']);

export interface SeedGroup {
  /** What sets the group apart from the other groups ("learningRate=0.001"), or "all runs" when only seeds differ. */
  label: string;
  /** Indices of the group's runs, in the order given. */
  members: number[];
  /** Each member's seed and splitSeed. */
  seeds: Array<{ seed: number; splitSeed: number }>;
}

export interface MeanSd {
  n: number;
  mean: number;
  /** Sample standard deviation (ddof = 1); NaN for fewer than two values. */
  sd: number;
}

/** Mean and sample standard deviation (ddof = 1) of the finite values; NaN where there are too few. */
export function meanSd(values: number[]): MeanSd {
  const xs = values.filter((v) => Number.isFinite(v));
  const n = xs.length;
  const mean = n ? xs.reduce((a, b) => a + b, 0) / n : NaN;
  const sd = n > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1)) : NaN;
  return { n, mean, sd };
}

/** "0.9000 ± 0.0100"; a lone value has no spread ("0.9000 ± n/a"). */
export function formatMeanSd(m: MeanSd, digits = 4): string {
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
  return `${f(m.mean)} ± ${f(m.sd)}`;
}

const asRecord = (c: Config) => c as unknown as Record<string, unknown>;

/**
 * Groups runs by their settings with the seeds (and the thread count) left out, in order of first appearance.
 * Each group is labelled by the non-seed settings that differ between groups.
 */
export function groupBySeed(configs: Config[]): SeedGroup[] {
  const ignored = new Set<string>([...SEED_KEYS, ...IRRELEVANT_KEYS]);
  const keys = [...new Set(configs.flatMap((c) => Object.keys(c)))].filter((k) => !ignored.has(k)).sort();
  const signature = (c: Config) => JSON.stringify(keys.map((k) => asRecord(c)[k] ?? null));
  const varying = keys.filter((k) => new Set(configs.map((c) => JSON.stringify(asRecord(c)[k] ?? null))).size > 1);
  const groups = new Map<string, number[]>();
  configs.forEach((c, i) => groups.set(signature(c), [...(groups.get(signature(c)) ?? []), i]));
  return [...groups.values()].map((members) => {
    const first = asRecord(configs[members[0]]);
    return {
      label: varying.length
        ? varying.map((k) => `${k}=${first[k] === null ? 'all' : first[k]}`).join(', ')
        : 'all runs',
      members,
      seeds: members.map((i) => ({ seed: configs[i].seed, splitSeed: configs[i].splitSeed })),
    };
  });
}

/** True when some group holds two or more runs: there is a spread across seeds to show. */
export function hasSeedRepeats(groups: SeedGroup[]): boolean {
  return groups.some((g) => g.members.length > 1);
}

/**
 * One row per group and metric: the group, its runs' seeds, the metric, mean ± sd (n) and each run's value in
 * the group's order. `values[metric][i]` is run i's value.
 */
export function seedGroupRows(
  groups: SeedGroup[],
  metrics: readonly string[],
  values: Record<string, number[]>,
  digits = 4,
): Array<Record<string, string>> {
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
  return groups.flatMap((g) =>
    metrics.map((metric) => {
      const points = g.members.map((i) => values[metric][i]);
      const stats = meanSd(points);
      return {
        group: g.label,
        'seeds (seed/splitSeed)': g.seeds.map((s) => `${s.seed}/${s.splitSeed}`).join(', '),
        metric,
        'mean ± sd': `${formatMeanSd(stats, digits)} (n ${stats.n})`,
        runs: points.map(f).join(', '),
      };
    }),
  );
}

/**
 * Each run's value as a dot and each group's mean with ± 1 sd as a bar, per metric (groups side by side within a
 * metric): how far apart repeats fall next to how far apart the settings do.
 */
export function seedSpreadFigure(
  groups: SeedGroup[],
  metrics: readonly string[],
  values: Record<string, number[]>,
): Figure {
  const width = 0.6 / Math.max(groups.length, 1);
  const offset = (g: number) => (g - (groups.length - 1) / 2) * width;
  const data = groups.flatMap((group, g) => {
    const color = PALETTE[g % PALETTE.length];
    const stats = metrics.map((m) => meanSd(group.members.map((i) => values[m][i])));
    return [
      {
        type: 'scatter',
        mode: 'markers',
        name: `${group.label}: runs`,
        legendgroup: group.label,
        x: metrics.flatMap((_, k) => group.members.map(() => k + offset(g))),
        y: metrics.flatMap((m) => group.members.map((i) => values[m][i])),
        text: metrics.flatMap((m) => group.seeds.map((s) => `${m}, seed ${s.seed}, splitSeed ${s.splitSeed}`)),
        hovertemplate: '%{text}: %{y:.4f}<extra></extra>',
        marker: { color, size: 7, opacity: 0.6 },
      },
      {
        type: 'scatter',
        mode: 'markers',
        name: `${group.label}: mean ± sd (n ${group.members.length})`,
        legendgroup: group.label,
        x: metrics.map((_, k) => k + offset(g) + width / 3),
        y: stats.map((s) => s.mean),
        error_y: { type: 'data', array: stats.map((s) => (Number.isFinite(s.sd) ? s.sd : 0)), visible: true, color },
        hovertemplate: 'mean %{y:.4f} ± %{error_y.array:.4f}<extra></extra>',
        marker: { color, size: 11, symbol: 'diamond' },
      },
    ];
  });
  return {
    data,
    layout: {
      title: { text: 'Across seeds: each run (dots) and mean ± sample sd (diamonds)' },
      xaxis: {
        tickvals: metrics.map((_, k) => k),
        ticktext: [...metrics],
        range: [-0.5, metrics.length - 0.5],
        zeroline: false,
      },
      yaxis: { title: { text: 'value' } },
      width: 760,
      height: 460,
      margin: { l: 70, r: 30, t: 60, b: 60 },
    },
  };
}
