#!/usr/bin/python3
"""Issue 18 exploration: which views of the cached face-api features generalise to a held-out source?

Throwaway experiment script (not part of lib/). Reads the `faces` preset's cached backbone features and the
leave-one-source-out split of outputs/crossval/faces-base (the "all sources" fold's split.json), and for every
variant trains on everything except source S and scores:
  - held-out AUC: a fake S against the fold's test reals; a real S against the fold's test fakes (as BENCHMARKS);
  - rate at a threshold picked on the training sources' validation part so 95 % of validation reals are real
    (recall for a fake S, specificity for a real S);
  - all-sources test AUC (the fold with every source) to show in-distribution is not broken.
Mirrored features train as extra rows and are averaged at scoring (the preset's flip + ttaFlip).

Run: [FEATS=faceapi,pixel,faceres] OMP_NUM_THREADS=1 /usr/bin/python3 scripts/experiments/loso_features.py [variant-prefix ...]
Needs numpy + scikit-learn (Debian python3-sklearn).
"""
import csv
import json
import os
import sys
import time

import numpy as np
from sklearn.covariance import LedoitWolf
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

MAIN = os.environ.get('REALFAKE_MAIN', os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
DATA = f'{MAIN}/data/cache/user-224px-lanczos3-all-ac244ca15340'
FEATURES = f'{DATA}/features-86a5c5be17a2-224px-meanstd.npy'
SPLIT = f'{MAIN}/outputs/crossval/faces-base/runs/2026-12-06T15-23-54_faces/split.json'

WIDTHS = [32, 64, 128, 256, 256]  # the five stages' channels; means then stds
OFF = np.concatenate([[0], np.cumsum(WIDTHS)])
HALF = int(OFF[-1])  # 736


def cols(stages=range(5), stats=('mean', 'std')):
    out = []
    for stat in stats:
        base = 0 if stat == 'mean' else HALF
        for s in stages:
            out.extend(range(base + OFF[s], base + OFF[s + 1]))
    return np.array(out)


# Other feature sets, [2, N, width] or [N, width] (then used for both plain and mirrored), NaN rows not computed:
# pixel (pixel_features.py), faceres (faceres-deep on a subset, faceres_features.js).
OTHER = {
    'pixel': os.environ.get('PIXEL_FEATURES', os.path.join(MAIN, 'outputs', 'experiments', 'pixel.npy')),
    'faceres': os.environ.get('FACERES_FEATURES', os.path.join(MAIN, 'outputs', 'experiments', 'faceres-deep.npy')),
}


def load_set(name, n):
    if name == 'faceapi':
        return np.load(FEATURES).astype(np.float64)  # [2, N, 1472]: plain, mirrored
    f = np.load(OTHER[name]).astype(np.float64)
    return f if f.ndim == 3 else np.stack([f, f])


def load(names=('faceapi',)):
    """Features of the sets named, joined side by side (faceapi first, so cols() still points at it);
    rows missing from any set are left out of every split."""
    rows = list(csv.DictReader(open(f'{DATA}/manifest.csv')))
    assert all(r['status'] == 'ok' for r in rows)
    feats = np.concatenate([load_set(name, len(rows)) for name in names], 2)
    assert feats.shape[1] == len(rows)
    y = np.array([int(r['label']) for r in rows])
    key = np.array([('fake/' if int(r['label']) else 'real/') + r['source'] for r in rows])
    ok = ~np.isnan(feats).any((0, 2))
    if os.environ.get('SUBSET'):  # a JSON list of rows: compare feature sets on the same images
        ok &= np.isin(np.arange(len(rows)), json.load(open(os.environ['SUBSET'])))
    split = {k: np.array([r for r in v if ok[r]]) for k, v in json.load(open(SPLIT)).items()}
    return feats, y, key, split


def folds(key, split):
    yield 'all sources', None, split['train'], split['val'], split['test']
    for s in sorted(set(key)):
        keep = lambda rows: rows[key[rows] != s]
        test = np.sort(np.concatenate([split['test'], np.where(key == s)[0]]))
        test = np.unique(test)
        yield f'without {s}', s, keep(split['train']), keep(split['val']), test


# ---------- feature transforms: fit on training rows, return a function of a matrix ----------


def standardise(x):
    mu, sd = x.mean(0), x.std(0) + 1e-8
    return lambda z: (z - mu) / sd


def stage_blocks(c):
    """Column groups (stage x stat) within a column selection, for per-block normalisation."""
    groups = []
    for stat_base in (0, HALF):
        for s in range(5):
            block = set(range(stat_base + OFF[s], stat_base + OFF[s + 1]))
            idx = [i for i, j in enumerate(c) if j in block]
            if idx:
                groups.append(np.array(idx))
    return groups


def l2_blocks(groups):
    def f(z):
        z = z.copy()
        for g in groups:
            z[:, g] /= np.linalg.norm(z[:, g], axis=1, keepdims=True) + 1e-8
        return z

    return f


# ---------- source-invariance: directions that separate sources within a class ----------


def lda_directions(x, groups, k, reg=1e-1):
    """Top-k generalised eigenvectors of between-group vs within-group scatter (x standardised)."""
    labels = np.unique(groups)
    mu = x.mean(0)
    sb = np.zeros((x.shape[1],) * 2)
    sw = np.zeros_like(sb)
    for g in labels:
        xg = x[groups == g]
        d = (xg.mean(0) - mu)[:, None]
        sb += len(xg) * d @ d.T
        c = xg - xg.mean(0)
        sw += c.T @ c
    sw = sw / len(x) + reg * np.eye(x.shape[1])
    sb = sb / len(x)
    # whiten by sw, eigen-decompose
    w, v = np.linalg.eigh(sw)
    wh = v / np.sqrt(w)
    m = wh.T @ sb @ wh
    ew, ev = np.linalg.eigh(m)
    dirs = wh @ ev[:, ::-1][:, :k]  # in original coordinates (not orthonormal)
    q, _ = np.linalg.qr(dirs)
    return q


def inlp_directions(x, groups, iters, c=0.1):
    """Iterative null-space projection: repeatedly fit a linear source classifier and remove its directions."""
    basis = np.zeros((x.shape[1], 0))
    z = x
    for _ in range(iters):
        clf = LogisticRegression(C=c, max_iter=300).fit(z, groups)
        w = clf.coef_.T  # [d, classes or 1]
        basis = np.linalg.qr(np.concatenate([basis, w], 1))[0]
        z = x - (x @ basis) @ basis.T
    return basis


def project_out(basis):
    return lambda z: z - (z @ basis) @ basis.T


# ---------- variants ----------


class Variant:
    """A feature selection + transform pipeline + scorer. fit(x, y, keys) -> score(x) (higher = faker)."""

    def __init__(self, name, c=None, transform=None, head='lr', C=0.05, weight=None, nuisance=None):
        self.name, self.c, self.transform, self.head = name, c, transform, head
        self.C, self.weight, self.nuisance = C, weight, nuisance

    def fit(self, x, y, k):
        c = self.c if self.c is not None else np.arange(x.shape[1])
        steps = []
        z = x[:, c]
        for t in self.transform or ['std']:
            if t == 'std':
                f = standardise(z)
            elif t == 'log':  # stds are positive and skewed
                f = lambda a: np.log(np.abs(a) + 1e-3)
            elif t == 'l2block':
                f = l2_blocks(stage_blocks(c))
            elif t == 'l2':
                f = lambda a: a / (np.linalg.norm(a, axis=1, keepdims=True) + 1e-8)
            elif t == 'sqrt':
                f = lambda a: np.sign(a) * np.sqrt(np.abs(a))
            elif t.startswith('pca'):  # pcaN or pcawN (whitened)
                n = int(t.lstrip('pcaw'))
                p = PCA(n_components=n, whiten=t.startswith('pcaw'), random_state=0).fit(z)
                f = p.transform
            else:
                raise ValueError(t)
            steps.append(f)
            z = f(z)
        if self.nuisance:
            kind, n = self.nuisance
            within = {
                'real': y == 0,
                'fake': y == 1,
                'both': np.ones_like(y, bool),
            }
            scope, method = kind.split(':')
            m = within[scope]
            basis = (lda_directions if method == 'lda' else inlp_directions)(z[m], k[m], n)
            f = project_out(basis)
            steps.append(f)
            z = f(z)

        def prep(a):
            a = a[:, c]
            for f in steps:
                a = f(a)
            return a

        self.prep = prep
        if self.head == 'lr':
            sw = None
            if self.weight == 'class':
                sw = np.where(y == 1, 0.5 / (y == 1).sum(), 0.5 / (y == 0).sum())
            elif self.weight == 'source':
                # every source the same total weight, and both classes the same total
                sw = np.zeros(len(y))
                for lab in (0, 1):
                    srcs = np.unique(k[y == lab])
                    for s in srcs:
                        sw[k == s] = 0.5 / len(srcs) / (k == s).sum()
            if sw is not None:
                sw = sw * len(y)
            clf = LogisticRegression(C=self.C, max_iter=2000).fit(z, y, sample_weight=sw)
            return lambda a: clf.decision_function(prep(a))
        # one-class heads: fitted on real rows only; score = distance from the reals
        r = z[y == 0]
        if self.head == 'maha':
            lw = LedoitWolf().fit(r)
            return lambda a: lw.mahalanobis(prep(a))
        if self.head.startswith('pcarec'):  # PCA reconstruction error with n components
            n = int(self.head[6:])
            p = PCA(n_components=n, random_state=0).fit(r)
            return lambda a: ((prep(a) - p.inverse_transform(p.transform(prep(a)))) ** 2).sum(1)
        if self.head.startswith('knn'):  # mean distance to the n nearest training reals
            n = int(self.head[3:])
            rn = r / (np.linalg.norm(r, axis=1, keepdims=True) + 1e-8)

            def knn(a):
                an = prep(a)
                an = an / (np.linalg.norm(an, axis=1, keepdims=True) + 1e-8)
                sim = an @ rn.T
                return -np.sort(sim, 1)[:, -n:].mean(1)

            return knn
        if self.head == 'gauss2':  # log-likelihood ratio of two Gaussians (real vs fake), shrunk covariances
            lr_, lf = LedoitWolf().fit(r), LedoitWolf().fit(z[y == 1])
            return lambda a: lr_.mahalanobis(prep(a)) - lf.mahalanobis(prep(a))
        raise ValueError(self.head)


def variants():
    A = cols()
    V = [
        Variant('baseline: all 1472, standardised, LR C=0.05'),
        Variant('baseline LR C=1', C=1.0),
        Variant('baseline LR C=0.005', C=0.005),
    ]
    for s in range(5):
        V.append(Variant(f'stage {s + 1} only (mean+std)', c=cols([s])))
    V += [
        Variant('stages 1-2 (texture)', c=cols([0, 1])),
        Variant('stages 1-3', c=cols([0, 1, 2])),
        Variant('stages 4-5', c=cols([3, 4])),
        Variant('means only', c=cols(stats=('mean',))),
        Variant('stds only', c=cols(stats=('std',))),
        Variant('stds only, stages 1-3', c=cols([0, 1, 2], ('std',))),
        Variant('per-stage L2 then standardise', transform=['l2block', 'std']),
        Variant('log then standardise', transform=['log', 'std']),
        Variant('signed sqrt + L2 + standardise', transform=['sqrt', 'l2', 'std']),
        Variant('PCA 64', transform=['std', 'pca64']),
        Variant('PCA-whitened 64', transform=['std', 'pcaw64']),
        Variant('PCA-whitened 256', transform=['std', 'pcaw256']),
        Variant('class-balanced weights', weight='class'),
        Variant('source-balanced weights', weight='source'),
        Variant('project out real-source LDA dirs', nuisance=('real:lda', 2)),
        Variant('project out LDA dirs of sources within each class', nuisance=('both:lda', 8)),
        Variant('INLP real sources x5', nuisance=('real:inlp', 5)),
        Variant('INLP real sources x20', nuisance=('real:inlp', 20)),
        Variant('INLP all sources x20 (source id, both classes)', nuisance=('both:inlp', 20)),
        Variant('one-class Mahalanobis (LedoitWolf), all', head='maha'),
        Variant('one-class Mahalanobis, PCA-whitened 64', transform=['std', 'pca64'], head='maha'),
        Variant('one-class Mahalanobis, stages 1-3', c=cols([0, 1, 2]), head='maha'),
        Variant('one-class Mahalanobis, stds', c=cols(stats=('std',)), head='maha'),
        Variant('one-class PCA recon error (32)', head='pcarec32'),
        Variant('one-class PCA recon error (128)', head='pcarec128'),
        Variant('one-class kNN cosine (k=10)', head='knn10'),
        Variant('two Gaussians LLR (real vs fake)', head='gauss2'),
    ]
    return V


def evaluate(v, feats, y, key, split):
    plain, flip = feats
    out = {}
    for name, held, tr, va, te in folds(key, split):
        xtr = np.concatenate([plain[tr], flip[tr]])
        ytr = np.concatenate([y[tr], y[tr]])
        ktr = np.concatenate([key[tr], key[tr]])
        score = v.fit(xtr, ytr, ktr)
        s = lambda rows: (score(plain[rows]) + score(flip[rows])) / 2
        sv = s(va)
        thr = np.quantile(sv[y[va] == 0], 0.95)  # 95 % of validation reals below: called real
        st = s(te)
        yt, kt = y[te], key[te]
        if held is None:
            out['all'] = roc_auc_score(yt, st)
            continue
        m = kt == held
        if os.environ.get('DIAG'):  # the held-out source against each source of the other class on its own
            other = sorted(set(kt[yt != (1 if held.startswith('fake/') else 0)]))
            parts = [f'{o.split("/")[1]} {roc_auc_score(yt[m | (kt == o)], st[m | (kt == o)]):.3f}' for o in other]
            print(f'    {held}: ' + ', '.join(parts), file=sys.stderr, flush=True)
        if held.startswith('fake/'):
            sel = m | (yt == 0)
            out[held] = (roc_auc_score(yt[sel], st[sel]), (st[m] > thr).mean())
        else:
            sel = m | (yt == 1)
            out[held] = (roc_auc_score(yt[sel], st[sel]), (st[m] <= thr).mean())
    return out


def main():
    names = os.environ.get('FEATS', 'faceapi').split(',')
    feats, y, key, split = load(names)
    print(f'features {names}: width {feats.shape[2]}, rows {sum(len(v) for v in split.values())}\n')
    sources = sorted(set(key))
    fakes = [s for s in sources if s.startswith('fake/')]
    reals = [s for s in sources if s.startswith('real/')]
    only = sys.argv[1:]
    short = {s: s.split('/')[1] for s in sources}
    print('| variant | ' + ' | '.join(short[s] for s in sources) + ' | fake mean AUC (min) | fake mean recall | '
          'real mean spec | all-sources test AUC |')
    print('|' + '---|' * (len(sources) + 5))
    for v in variants():
        if only and not any(v.name.startswith(o) for o in only):
            continue
        t = time.time()
        r = evaluate(v, feats, y, key, split)
        fa = [r[s][0] for s in fakes]
        cells = [f'{r[s][0]:.3f} ({r[s][1]:.2f})' for s in sources]
        print(f'| {v.name} | ' + ' | '.join(cells) +
              f' | {np.mean(fa):.3f} ({min(fa):.3f}) | {np.mean([r[s][1] for s in fakes]):.2f} | '
              f'{np.mean([r[s][1] for s in reals]):.2f} | {r["all"]:.3f} |', flush=True)
        print(f'  [{time.time() - t:.0f} s]', file=sys.stderr, flush=True)


if __name__ == '__main__':
    main()
