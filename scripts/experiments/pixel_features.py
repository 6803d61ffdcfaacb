#!/usr/bin/python3
"""Issue 18 exploration: low-level (content-light) features of each dataset image at its native resolution.

Per image (the original file of manifest.csv, RGB): noise residuals of four high-pass filters (first differences
across and down, the Laplacian, SRM's 3x3 KV kernel) on the luma and on the two chroma differences, summarised
by their spread, kurtosis and a 5-bin histogram of the rounded, clipped residual; the azimuthal average of the
luma residual's log power spectrum (24 radial bins, mean-removed); the correlation of neighbouring residuals.
Written to OUT as float64 (rows outside SUBSET, when given, NaN) [2, N, width] (plain, mirrored: the same, for loso_features.py's layout).

Run: /usr/bin/python3 scripts/experiments/pixel_features.py OUT.npy
"""
import csv
import json
import os
import sys

import numpy as np
from PIL import Image
from scipy.ndimage import convolve

MAIN = os.environ.get('REALFAKE_MAIN', os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
DATA = f'{MAIN}/data/cache/user-224px-lanczos3-all-ac244ca15340'

KERNELS = {
    'dx': np.array([[0, 0, 0], [0, -1, 1], [0, 0, 0]], float),
    'dy': np.array([[0, 0, 0], [0, -1, 0], [0, 1, 0]], float),
    'lap': np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], float) / 4,
    'kv': np.array([[-1, 2, -1], [2, -4, 2], [-1, 2, -1]], float) / 4,
}


def residual_stats(plane):
    out = []
    for k in KERNELS.values():
        r = convolve(plane, k, mode='reflect')[2:-2, 2:-2]
        r = r - r.mean()
        r2 = r * r
        var = r2.mean() + 1e-6
        out += [0.5 * np.log(var), (r2 * r2).mean() / var**2]
        q = np.clip(np.rint(r), -2, 2).astype(np.int64) + 2
        out += list(np.bincount(q.ravel(), minlength=5) / q.size)
        # neighbour correlation of the residual (periodic upsampling traces raise it at lag 1 or 2)
        for lag in (1, 2):
            out.append((r[:, :-lag] * r[:, lag:]).mean() / var)
    return out


def spectrum(plane, bins=24):
    r = convolve(plane, KERNELS['lap'], mode='reflect')
    f = np.abs(np.fft.fftshift(np.fft.fft2(r - r.mean()))) ** 2
    h, w = f.shape
    yy, xx = np.indices(f.shape)
    rad = np.hypot((yy - h / 2) / (h / 2), (xx - w / 2) / (w / 2))
    idx = np.minimum((rad / np.sqrt(2) * bins).astype(int), bins - 1)
    s = np.log(np.bincount(idx.ravel(), f.ravel(), bins) / np.bincount(idx.ravel(), None, bins) + 1e-8)
    return list(s - s.mean())


def features(path):
    x = np.asarray(Image.open(path).convert('RGB'), dtype=np.float32)
    yl = 0.299 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2]
    planes = [yl, x[..., 0] - x[..., 1], x[..., 2] - x[..., 1]]
    out = []
    for p in planes:
        out += residual_stats(p)
    return out + spectrum(yl)


def main():
    rows = list(csv.DictReader(open(f'{DATA}/manifest.csv')))
    # SUBSET: a JSON list of dataset rows to compute (others stay NaN), to keep the run short on a busy machine
    wanted = set(json.load(open(os.environ['SUBSET']))) if os.environ.get('SUBSET') else None
    feats = []
    for i, r in enumerate(rows):
        if wanted is not None and i not in wanted:
            feats.append(None)
            continue
        feats.append(features(os.path.join(DATA, r['path'])))
        if i % 500 == 0:
            print(i, file=sys.stderr, flush=True)
    width = len(next(f for f in feats if f is not None))
    f = np.array([np.nan_to_num(f) if f is not None else np.full(width, np.nan) for f in feats])
    np.save(sys.argv[1], np.stack([f, f]))
    print(f.shape)


if __name__ == '__main__':
    main()
