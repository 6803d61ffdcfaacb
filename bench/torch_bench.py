"""The study's CNN in PyTorch, timed the same way as bench/speed.ts: the anchor users compare realfake with.

Prints one JSON object: training img/s (Adam, BCE on one-hot labels, dropout on) and inference img/s at
batch 32, and one-image latency, per image size. Run by bench/bench.ts when Debian's python3-torch is there.
"""
import json
import sys
import time

import torch
from torch import nn


def study_model() -> nn.Module:
    def conv(cin, cout, k, dilation=1):
        # 'same' padding for odd k: dilation * (k - 1) / 2 on each side
        return [nn.Conv2d(cin, cout, k, padding=dilation * (k - 1) // 2, dilation=dilation), nn.ReLU(), nn.MaxPool2d(2)]

    layers = conv(3, 64, 5) + conv(64, 64, 5) + conv(64, 64, 5)
    layers += conv(64, 32, 3, 2) + conv(32, 16, 3, 2) + conv(16, 16, 3, 2)
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    for cin, cout in [(16, 400), (400, 512), (512, 400)]:
        layers += [nn.Linear(cin, cout), nn.Dropout(0.5), nn.ReLU()]
    layers += [nn.Linear(400, 2), nn.Sigmoid()]
    return nn.Sequential(*layers)


def timed(fn, repeats):
    started = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - started) / repeats


def bench(size, threads, batch=32, train_steps=5, infer_batches=5, singles=20):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = study_model()
    params = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-5, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = nn.BCELoss()
    x = torch.rand(batch, 3, size, size)
    y = nn.functional.one_hot(torch.randint(0, 2, (batch,)), 2).float()

    def train_step():
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()

    model.train()
    train_step()  # warm-up
    train_seconds = timed(train_step, train_steps)
    model.eval()
    with torch.no_grad():
        model(x)
        infer_seconds = timed(lambda: model(x), infer_batches)
        one = torch.rand(1, 3, size, size)
        model(one)
        single_seconds = timed(lambda: model(one), singles)
    return {
        'imageSize': size,
        'threads': threads,
        'parameters': params,
        'trainImagesPerSecond': batch / train_seconds,
        'inferenceImagesPerSecond': batch / infer_seconds,
        'oneImageMs': single_seconds * 1000,
    }


if __name__ == '__main__':
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else torch.get_num_threads()
    sizes = [int(s) for s in sys.argv[2:]] or [64, 128]
    print(json.dumps({'torch': torch.__version__, 'results': [bench(s, threads) for s in sizes]}))
