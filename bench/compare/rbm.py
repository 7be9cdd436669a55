#!/usr/bin/env python3
"""numpy side of `cargo bench -p rbm` (notes §7): the same units at the same sizes.

Prints `<unit>\t<microseconds per unit>` per line, `<unit>` being the divan path of the Rust
bench doing the same work. Written from the notes and Hinton's practical guide, not from the
Rust code: CD-1 as the guide prescribes it (h0 sampled, reconstruction and statistics as
probabilities, classic momentum, weight cost on W), log Z by the notes' sum over the hidden
configurations in log space (softplus, logsumexp), the model expectations by the same
enumeration. BLAS is held to one thread, like the Rust side (matrixmultiply, one core).
Best of several repeats, as divan's "fastest"; with `--cpu` the clock is the process's CPU
time (time.process_time), which other work on a shared machine does not inflate.
"""

import os

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

rng = np.random.default_rng(1)
clock = time.process_time if "--cpu" in sys.argv[1:] else time.perf_counter


def best_us(fn, min_time=0.3, repeats=7):
    """Best mean time of one call in µs over `repeats` rounds of ~min_time / repeats each."""
    fn()
    t = clock()
    fn()
    once = max(clock() - t, 1e-7)
    n = max(1, int(min_time / repeats / once))
    best = float("inf")
    for _ in range(repeats):
        t = clock()
        for _ in range(n):
            fn()
        best = min(best, (clock() - t) / n)
    return best * 1e6


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def softplus(x):
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def binary_data(n_v, n):
    return (rng.random((n_v, n)) < 0.3).astype(np.float64)


class Cd1:
    """One CD-1 update on a batch V0 (n_v × B), W n_h × n_v, biases a (n_v × 1), b (n_h × 1),
    every array in `dtype` (float64, or float32 for the `cd1_batch_f32` units)."""

    def __init__(self, n_v, n_h, B, lr=0.05, mu=0.9, weight_cost=1e-4, dtype=np.float64):
        self.dtype = dtype
        self.V0 = binary_data(n_v, B).astype(dtype)
        p = np.clip(self.V0.mean(axis=1, keepdims=True), 1e-3, 1 - 1e-3)
        self.W = rng.normal(0.0, 0.01, (n_h, n_v)).astype(dtype)
        self.a = np.log(p / (1 - p)).astype(dtype)
        self.b = np.zeros((n_h, 1), dtype=dtype)
        self.vW, self.va, self.vb = np.zeros_like(self.W), np.zeros_like(self.a), np.zeros_like(self.b)
        self.lr, self.mu, self.lam, self.B = lr, mu, weight_cost, B

    def step(self):
        W, a, b, V0, B = self.W, self.a, self.b, self.V0, self.B
        H0 = sigmoid(W @ V0 + b)  # p(h | v0)
        Hs = (rng.random(H0.shape, dtype=self.dtype) < H0).astype(self.dtype)  # h0 sampled
        Vk = sigmoid(W.T @ Hs + a)  # reconstruction, as probabilities
        Hk = sigmoid(W @ Vk + b)
        dW = (H0 @ V0.T - Hk @ Vk.T) / B  # <h v^T>_data - <h v^T>_recon
        da = (V0 - Vk).mean(axis=1, keepdims=True)
        db = (H0 - Hk).mean(axis=1, keepdims=True)
        # classic momentum on the ascent direction with weight cost on W
        self.vW = self.mu * self.vW + self.lr * (dW - self.lam * W)
        self.va = self.mu * self.va + self.lr * da
        self.vb = self.mu * self.vb + self.lr * db
        self.W += self.vW
        self.a += self.va
        self.b += self.vb


def configurations(n, start, count):
    """Rows: the binary configurations start .. start + count of n units (unit 1 most significant)."""
    k = np.arange(start, start + count, dtype=np.int64)[:, None]
    return ((k >> np.arange(n - 1, -1, -1)) & 1).astype(np.float64)


def log_z_and_expectations(W, a, b, expectations, block=1 << 12):
    """log Z summed over the hidden configurations (closed form over v), in blocks; with
    `expectations` also <v>, <h>, <h v^T> under the model."""
    n_h, n_v = W.shape
    logs, Ev, Eh, Ehv = [], 0.0, 0.0, 0.0
    parts = []
    for start in range(0, 1 << n_h, block):
        H = configurations(n_h, start, min(block, (1 << n_h) - start))  # K × n_h
        X = H @ W + a.T  # K × n_v: a_i + (W^T h)_i
        t = H @ b[:, 0] + softplus(X).sum(axis=1)  # log sum_v e^{-E(v, h)}
        logs.append(t)
        if expectations:
            parts.append((H, sigmoid(X), t))
    t_all = np.concatenate(logs)
    m = t_all.max()
    log_z = m + np.log(np.exp(t_all - m).sum())
    if expectations:
        for H, P, t in parts:
            p = np.exp(t - log_z)
            Ev = Ev + P.T @ p
            Eh = Eh + H.T @ p
            Ehv = Ehv + (H * p[:, None]).T @ P
    return log_z, Ev, Eh, Ehv


def trained_like(n_v, n_h):
    W = rng.normal(0.0, 0.5, (n_h, n_v))
    return W, rng.normal(0.0, 0.5, (n_v, 1)), np.zeros((n_h, 1))


def main():
    for unit, dtype in [("cd1_batch", np.float64), ("cd1_batch_f32", np.float32)]:
        for name, (n_v, n_h, B) in [
            ("mnist_784_500_100", (784, 500, 100)),
            ("mnist_784_16_10", (784, 16, 10)),
            ("pa4_256_300_100", (256, 300, 100)),
            ("digits_64_12_10", (64, 12, 10)),
            ("bars_16_16_10", (16, 16, 10)),
        ]:
            cd = Cd1(n_v, n_h, B, dtype=dtype)
            print(f"rbm/{unit}/{name}\t{best_us(cd.step):.3f}", flush=True)
    A, Bm = rng.normal(size=(256, 256)), rng.normal(size=(256, 256))
    print(f"rbm/gemm_256\t{best_us(lambda: A @ Bm):.3f}", flush=True)
    for n_h in [12, 14, 16, 18, 20]:
        W, a, b = trained_like(64, n_h)
        us = best_us(lambda: log_z_and_expectations(W, a, b, False), min_time=0.1, repeats=3)
        print(f"rbm/exact_log_z/{n_h}\t{us:.3f}", flush=True)
    for name, (n_v, n_h) in [("bars_16_16", (16, 16)), ("digits_64_12", (64, 12))]:
        W, a, b = trained_like(n_v, n_h)
        us = best_us(lambda: log_z_and_expectations(W, a, b, True), min_time=0.2, repeats=5)
        print(f"rbm/exact_gradient/{name}\t{us:.3f}", flush=True)


if __name__ == "__main__":
    main()
