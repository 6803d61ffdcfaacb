/** The verdict policy and the uncertain band on small validation sets whose edges are worked out by hand. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pickUncertainBand } from '../lib/infer/uncertain-band';
import { applyTemperature, verdictFor, type VerdictPolicy } from '../lib/infer/verdict';
import { notValidatedOn } from '../lib/eval/model-card';

// Ten validation images, sorted by pFake: R R R F R F R F F F.
const SCORES = [0.1, 0.2, 0.3, 0.35, 0.4, 0.6, 0.7, 0.8, 0.9, 0.95];
const LABELS = [0, 0, 0, 1, 0, 1, 0, 1, 1, 1];

test('band edges at 95 %: fake from 0.8 (3 of 3 fake), real below 0.35 (3 of 3 real)', () => {
  // Fake side, lowest cut first: >= 0.1: 5/10, ..., >= 0.6: 4/5, >= 0.7: 3/4, >= 0.8: 3/3 -> 0.8.
  // Real side, highest cut first: < 1: 5/10, ..., < 0.6: 4/5, < 0.4: 3/4, < 0.35: 3/3 -> 0.35.
  const { band, notes, n } = pickUncertainBand(LABELS, SCORES);
  assert.equal(n, 10);
  assert.deepEqual(notes, []);
  assert.deepEqual(band, {
    target: 0.95,
    real: { calibrated: 0.35, raw: 0.35, precision: 1, count: 3, correct: 3 },
    fake: { calibrated: 0.8, raw: 0.8, precision: 1, count: 3, correct: 3 },
  });
  const policy: VerdictPolicy = { threshold: 0.5, temperature: 1, band };
  const verdict = (p: number) => verdictFor(p, policy).verdict;
  assert.equal(verdict(0.2), 'Real');
  assert.equal(verdict(0.35), 'Uncertain', 'the real edge is exclusive');
  assert.equal(verdict(0.5), 'Uncertain');
  assert.equal(verdict(0.7999), 'Uncertain');
  assert.equal(verdict(0.8), 'Fake (AI-generated)', 'the fake edge is inclusive');
  assert.deepEqual(verdictFor(0.3, policy), { verdict: 'Real', confidence: 0.7, pFake: 0.3 });
  assert.deepEqual(verdictFor(0.6, policy), { verdict: 'Uncertain', confidence: 0.6, pFake: 0.6 });
  // Without a band, the threshold alone decides (runs without a model card).
  assert.equal(verdictFor(0.5, { ...policy, band: null }).verdict, 'Fake (AI-generated)');
  assert.equal(verdictFor(0.4999, { ...policy, band: null }).verdict, 'Real');
});

test('at 75 % the edges meet at 0.6 (an empty band); the threshold 0.5 widens it to [0.5, 0.6)', () => {
  // Fake: >= 0.35: 5/7, >= 0.4: 4/6, >= 0.6: 4/5 = 0.8 -> 0.6. Real: < 0.7: 4/6, < 0.6: 4/5 = 0.8 -> 0.6.
  const { band } = pickUncertainBand(LABELS, SCORES, 1, 0.75);
  assert.deepEqual(
    [band?.real?.raw, band?.real?.correct, band?.real?.count, band?.fake?.raw, band?.fake?.correct, band?.fake?.count],
    [0.6, 4, 5, 0.6, 4, 5],
  );
  const policy: VerdictPolicy = { threshold: 0.5, temperature: 1, band };
  assert.equal(verdictFor(0.49, policy).verdict, 'Real');
  assert.equal(verdictFor(0.55, policy).verdict, 'Uncertain');
  assert.equal(verdictFor(0.6, policy).verdict, 'Fake (AI-generated)');
});

test('a temperature moves the calibrated edges but not which images fall in the band', () => {
  const T = 2;
  const { band } = pickUncertainBand(LABELS, SCORES, T);
  assert.equal(band?.fake?.raw, 0.8);
  assert.equal(band?.real?.raw, 0.35);
  assert.ok(Math.abs(band!.fake!.calibrated - applyTemperature(0.8, T)) < 1e-12);
  assert.ok(Math.abs(band!.fake!.calibrated - 1 / (1 + Math.sqrt(0.2 / 0.8))) < 1e-9, 's(logit(0.8) / 2)');
  const policy: VerdictPolicy = { threshold: 0.5, temperature: T, band };
  const fake = verdictFor(0.9, policy);
  assert.equal(fake.verdict, 'Fake (AI-generated)');
  assert.ok(Math.abs(fake.pFake - 0.75) < 1e-9, 's(ln(9) / 2) = 3/4');
});

test('edge cases: crossing edges give no band; sides that never reach the target make everything uncertain', () => {
  // R R F R F F at 60 %: fake from 0.2 (3 of 5), real below 0.6 (3 of 5): they cross.
  const crossed = pickUncertainBand([0, 0, 1, 0, 1, 1], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], 1, 0.6);
  assert.equal(crossed.band, null);
  assert.match(crossed.notes[0], /edges cross .*real below 0\.6000, fake from 0\.2000.*plain threshold/);
  // F R: the top image is real and the bottom one fake: no cut reaches 95 % on either side.
  const none = pickUncertainBand([1, 0], [0.1, 0.2]);
  assert.deepEqual(none.band, { target: 0.95, real: null, fake: null });
  assert.equal(none.notes.length, 2);
  for (const p of [0, 0.1, 0.5, 0.99, 1])
    assert.equal(verdictFor(p, { threshold: 0.5, temperature: 1, band: none.band }).verdict, 'Uncertain');
  // All real: nothing reaches 95 % fake, every image lies below the real cut 1.
  const allReal = pickUncertainBand([0, 0, 0], [0.2, 0.5, 0.9]);
  assert.equal(allReal.band?.fake, null);
  assert.deepEqual(allReal.band?.real, { calibrated: 1, raw: 1, precision: 1, count: 3, correct: 3 });
  const policy = { threshold: 0.5, temperature: 1, band: allReal.band };
  assert.equal(verdictFor(0.4, policy).verdict, 'Real');
  assert.equal(verdictFor(0.6, policy).verdict, 'Uncertain', 'above the threshold, but nothing is called fake');
  // Tied scores are one cut: images at the same p are on the same side.
  const tied = pickUncertainBand([0, 1, 1, 1], [0.5, 0.5, 0.7, 0.7], 1, 0.9);
  assert.equal(tied.band?.fake?.raw, 0.7);
  assert.equal(tied.band?.real, null, 'below 0.5 there is nothing, below 0.7 only 1 of 2 is real');
  assert.equal(pickUncertainBand([], []).band, null);
});

test('not validated on: loose source-name matching; a plain "stylegan" is StyleGAN v1 only', () => {
  const missing = notValidatedOn(['stylegan', 'sd14_blonde_woman', 'Midjourney-v6', 'FLUX.1']);
  for (const seen of ['StyleGAN (v1)', 'Stable Diffusion 1.x', 'Midjourney', 'Flux'])
    assert.ok(!missing.includes(seen));
  for (const unseen of ['StyleGAN2', 'StyleGAN3', 'Stable Diffusion XL', 'DALL-E 3', 'face swaps'])
    assert.ok(missing.includes(unseen), unseen);
  assert.ok(notValidatedOn(['stylegan2-ffhq']).includes('StyleGAN (v1)'));
  assert.ok(!notValidatedOn(['stylegan2-ffhq']).includes('StyleGAN2'));
});
