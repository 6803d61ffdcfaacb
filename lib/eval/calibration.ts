/**
 * Calibration of pFake: reliability diagram, expected calibration error, and temperature scaling.
 *
 * Reliability and ECE are over pFake itself (the probability that the image is fake), in equal-width bins,
 * like scikit-learn's calibration_curve(strategy='uniform'): ECE = sum over bins of (n_b / N) * |frac_fake_b -
 * mean_pFake_b| (Naeini et al. 2015; Guo et al. 2017).
 *
 * Which logit to scale. The study's model ends in two independent sigmoids, p0 = s(z0) for "real" and
 * p1 = s(z1) for "fake", and realfake's score is pFake = p1 / (p0 + p1). Its log-odds are
 *   logit(pFake) = ln(pFake / (1 - pFake)) = ln p1 - ln p0 = ln s(z1) - ln s(z0),
 * a single real number per image that is recoverable from pFake alone (no access to z0, z1 needed, so it works
 * for every engine and for stored predictions). Temperature scaling (Guo et al. 2017) divides that logit by
 * T > 0 fitted on the validation split by minimising the negative log-likelihood:
 *   pFake_T = s(logit(pFake) / T).
 * T > 1 softens an over-confident model, T < 1 sharpens. The map is strictly increasing and leaves 0.5 at 0.5,
 * so ROC AUC, AP and the 0.5 (argmax) verdict never change; a different threshold t is mapped the same way.
 */
import { applyTemperature, clipProbability as clip } from '../infer/verdict';
import { referenceLine, type Figure } from '../viz/plots';

// logit, sigmoid and the temperature map live with the verdict policy, which the page loads too.
export { applyTemperature, logit, sigmoid } from '../infer/verdict';

export interface ReliabilityBin {
  low: number;
  high: number;
  count: number;
  /** Mean pFake in the bin (NaN when empty). */
  meanScore: number;
  /** Fraction of fakes in the bin (NaN when empty). */
  fractionFake: number;
}

export interface Reliability {
  bins: ReliabilityBin[];
  ece: number;
  n: number;
}

/** Equal-width bins over [0, 1]; pFake = 1 goes into the last bin. */
export function reliability(labels: ArrayLike<number>, scores: ArrayLike<number>, nBins = 10): Reliability {
  if (labels.length !== scores.length)
    throw new Error(`calibration: labels and scores differ in length (${labels.length} vs ${scores.length})`);
  if (labels.length === 0) throw new Error('calibration: no samples');
  const count = new Array(nBins).fill(0);
  const sumScore = new Array(nBins).fill(0);
  const sumLabel = new Array(nBins).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const b = Math.min(nBins - 1, Math.floor(scores[i] * nBins));
    count[b]++;
    sumScore[b] += scores[i];
    sumLabel[b] += labels[i];
  }
  let ece = 0;
  const bins = count.map((c, b) => {
    if (c > 0) ece += (c / labels.length) * Math.abs(sumLabel[b] / c - sumScore[b] / c);
    return {
      low: b / nBins,
      high: (b + 1) / nBins,
      count: c,
      meanScore: c ? sumScore[b] / c : NaN,
      fractionFake: c ? sumLabel[b] / c : NaN,
    };
  });
  return { bins, ece, n: labels.length };
}

export function expectedCalibrationError(labels: ArrayLike<number>, scores: ArrayLike<number>, nBins = 10): number {
  return reliability(labels, scores, nBins).ece;
}

/** Mean negative log-likelihood (binary cross-entropy) of labels under pFake. */
export function negativeLogLikelihood(labels: ArrayLike<number>, scores: ArrayLike<number>, temperature = 1): number {
  let nll = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = clip(applyTemperature(scores[i], temperature));
    nll -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return nll / labels.length;
}

export interface TemperatureFit {
  temperature: number;
  nllBefore: number;
  nllAfter: number;
  n: number;
}

/**
 * The T minimising the NLL, by golden-section search on ln T in [ln 0.01, ln 100] (the NLL is unimodal in
 * 1/T for logistic scaling, so the search finds the optimum to ~1e-6 relative precision).
 */
export function fitTemperature(labels: ArrayLike<number>, scores: ArrayLike<number>): TemperatureFit {
  if (labels.length === 0) throw new Error('calibration: no samples to fit a temperature on');
  const f = (lnT: number) => negativeLogLikelihood(labels, scores, Math.exp(lnT));
  let a = Math.log(0.01);
  let b = Math.log(100);
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let fc = f(c);
  let fd = f(d);
  while (b - a > 1e-7) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = f(d);
    }
  }
  const temperature = Math.exp((a + b) / 2);
  return { temperature, nllBefore: f(0), nllAfter: f(Math.log(temperature)), n: labels.length };
}

/** Reliability diagram: fraction of fakes against mean pFake per bin, one trace per named score set. */
export function reliabilityFigure(curves: Array<{ name: string; reliability: Reliability }>): Figure {
  return {
    data: [
      referenceLine('perfectly calibrated'),
      ...curves.map(({ name, reliability: r }) => {
        const bins = r.bins.filter((b) => b.count > 0);
        return {
          type: 'scatter',
          mode: 'lines+markers',
          name: `${name} (ECE ${r.ece.toFixed(4)})`,
          x: bins.map((b) => b.meanScore),
          y: bins.map((b) => b.fractionFake),
          customdata: bins.map((b) => b.count),
          hovertemplate: 'mean pFake %{x:.3f}<br>fraction fake %{y:.3f}<br>%{customdata} images<extra></extra>',
        };
      }),
    ],
    layout: {
      title: { text: 'Reliability diagram (pFake, equal-width bins)' },
      xaxis: { title: { text: 'mean pFake in bin' }, range: [0, 1] },
      yaxis: { title: { text: 'fraction fake in bin' }, range: [0, 1], scaleanchor: 'x' },
      legend: { x: 0, xanchor: 'left', y: 1, yanchor: 'top', bgcolor: 'rgba(255,255,255,0.7)' },
      margin: { l: 70, r: 30, t: 60, b: 60 },
      width: 560,
      height: 540,
    },
  };
}
