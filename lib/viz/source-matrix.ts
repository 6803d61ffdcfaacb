/**
 * The leave-one-source-out matrix as a heatmap: rows are what a model was trained on ("all sources",
 * "without fake/sd14_blonde_woman", ...), columns the source it was tested on, the cell its AUC against the whole
 * other class (lib/eval/per-source.ts). Red is chance (0.5) or worse, green is 1; each cell is written out, and a
 * held-out cell (trained without the very source it is tested on) is framed, because that is the number that
 * says whether the detector generalises.
 */
import type { Figure } from './plots';

export interface SourceMatrix {
  rows: string[];
  columns: string[];
  values: number[][];
}

// Diverging around chance: below 0.5 a detector ranks the wrong way round, which a reader must see at once.
const RED_TO_GREEN = [
  [0, '#b2182b'],
  [0.5, '#f7f7f7'],
  [1, '#1a9850'],
];

/** `heldOut[i]` is the column that row i never trained on (null for none). */
export function sourceMatrixFigure(matrix: SourceMatrix, heldOut: Array<string | null>, title: string): Figure {
  const { rows, columns, values } = matrix;
  const text = values.map((row) => row.map((v) => (Number.isFinite(v) ? v.toFixed(3) : '')));
  const annotations = values.flatMap((row, i) =>
    row.map((v, j) => ({
      x: columns[j],
      y: rows[i],
      text: columns[j] === heldOut[i] ? `<b>${text[i][j]}</b>` : text[i][j],
      showarrow: false,
      font: { size: 13, color: 'black' },
    })),
  );
  const shapes = heldOut.flatMap((column, i) => {
    const j = column === null ? -1 : columns.indexOf(column);
    if (j < 0) return [];
    return [
      {
        type: 'rect',
        xref: 'x',
        yref: 'y',
        x0: j - 0.5,
        x1: j + 0.5,
        y0: i - 0.5,
        y1: i + 0.5,
        line: { color: 'black', width: 3 },
      },
    ];
  });
  return {
    data: [
      {
        type: 'heatmap',
        x: columns,
        y: rows,
        // JSON has no NaN: an untested cell is null, which Plotly leaves blank.
        z: values.map((row) => row.map((v) => (Number.isFinite(v) ? v : null))),
        zmin: 0,
        zmax: 1,
        colorscale: RED_TO_GREEN,
        colorbar: { title: { text: 'AUC' } },
        hovertemplate: 'trained: %{y}<br>tested on: %{x}<br>AUC %{z:.3f}<extra></extra>',
      },
    ],
    layout: {
      title: { text: title },
      xaxis: { title: { text: 'tested on' }, type: 'category' },
      yaxis: { title: { text: 'trained on' }, type: 'category', autorange: 'reversed', automargin: true },
      margin: { l: 220, r: 30, t: 60, b: 120 },
      annotations,
      shapes,
      width: 260 + 120 * columns.length,
      height: 180 + 48 * rows.length,
    },
  };
}
