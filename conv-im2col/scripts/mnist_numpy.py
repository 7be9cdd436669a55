"""The MNIST recipe of `conv-im2col train --mnist DIR` in numpy (not a benchmark): the
SimpleConvNet of conv-im2col.py, 0.01·N(0, 1) init (or --he), Adam 1e-3, batch 100, trained on
t10k images 0..8000 and tested on 8000..10000, 8 epochs of shuffled batches (or
--replacement: each batch drawn with replacement, as Saito's trainer). Prints the test
accuracy after each epoch. Used to check whether the Rust crate's results at Saito's init
differ from an independent implementation of the same recipe. About 4 min of CPU.

    /work/venv/bin/python conv-im2col/scripts/mnist_numpy.py /work/shared/data/mnist [--seed 1]

(It lives outside bench/compare so that the benchmark driver does not run it.)
"""

import gzip
import importlib.util
import os
import sys
import time

spec = importlib.util.spec_from_file_location(
    "conv_np", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "..", "..", "bench", "compare", "conv-im2col.py"))
conv_np = importlib.util.module_from_spec(spec)
spec.loader.exec_module(conv_np)
np = conv_np.np


def idx(path):
    data = gzip.open(path).read() if path.endswith(".gz") else open(path, "rb").read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def main():
    folder = sys.argv[1]
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 1
    x = idx(os.path.join(folder, "t10k-images-idx3-ubyte.gz")).astype(np.float64) / 255.0
    t = idx(os.path.join(folder, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    x = x.reshape(-1, 1, 28, 28)
    xtr, ttr, xte, tte = x[:8000], t[:8000], x[8000:], t[8000:]
    rng = np.random.default_rng(seed)
    net = conv_np.SimpleConvNet(rng)
    if "--he" in sys.argv:
        for W, fan_in in ((net.conv.W, 25), (net.params["W2"], 4320), (net.params["W3"], 100)):
            W *= np.sqrt(2.0 / fan_in) / 0.01

    def acc(xs, ts):
        return np.mean(np.concatenate(
            [net.scores(xs[i:i + 500]).argmax(axis=1) for i in range(0, len(xs), 500)]) == ts)

    for epoch in range(1, 9):
        t0 = time.process_time()
        if "--replacement" in sys.argv:
            order = rng.integers(0, 8000, 8000)
        else:
            order = rng.permutation(8000)
        losses = [net.step(xtr[order[i:i + 100]], ttr[order[i:i + 100]])
                  for i in range(0, 8000, 100)]
        cpu = time.process_time() - t0
        print(f"epoch {epoch}: mean loss {np.mean(losses):.4f}, "
              f"train acc (first 1000) {acc(xtr[:1000], ttr[:1000]):.4f}, "
              f"test acc {acc(xte, tte):.4f} ({cpu:.1f} s CPU training)", flush=True)


if __name__ == "__main__":
    main()
