"""PIL's own Keras load_img path, timed on the same files as bench/preprocess-speed.ts: the anchor for preprocessing.

keras.utils.load_img(path, target_size=(s, s), interpolation='nearest') is: PIL open, convert('RGB') when the
mode differs, resize((s, s), NEAREST); img_to_array then makes it an array. One process per core (PIL decodes
in one thread). Prints one JSON object: images/s per process count. Run by bench/preprocess-speed.ts.
Usage: pil_bench.py SIZE PROCESSES FILE...
"""
import json
import sys
import time
from multiprocessing import Pool

import numpy as np
from PIL import Image


def load_img(path, size):
    with open(path, 'rb') as f:  # load_img reads the bytes, then opens them from memory
        img = Image.open(__import__('io').BytesIO(f.read()))
        if img.mode != 'RGB':
            img = img.convert('RGB')
        img = img.resize((size, size), Image.NEAREST)
        return np.asarray(img, dtype=np.uint8).shape


def load_all(args):
    size, files = args
    for f in files:
        load_img(f, size)
    return len(files)


if __name__ == '__main__':
    size, processes, files = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    chunks = [files[k::processes] for k in range(processes)]
    with Pool(processes) as pool:
        pool.map(load_all, [(size, c[:2]) for c in chunks])  # start the workers and import PIL first
        started = time.perf_counter()
        count = sum(pool.map(load_all, [(size, c) for c in chunks]))
        seconds = time.perf_counter() - started
    print(json.dumps({'pillow': Image.__version__, 'images': count, 'seconds': seconds, 'imagesPerSecond': count / seconds}))
