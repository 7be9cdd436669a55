"""char-rnn (notes §6, Karpathy's min-char-rnn) in numpy: the units `cargo bench -p char-rnn`
times, at the same sizes (N_x = 65 characters, N_h = 100 hidden units, T = 25 characters per
chunk), one core. Prints `<unit>\t<microseconds per unit>`: the fastest of many single calls,
as divan's "fastest" (on a shared machine, the call no other process interrupted).

    s_t = tanh(U x_t + W s_{t-1} + b_h)      (K1)
    y_t = SoftMax(V s_t + b_y)               (K2)
    L   = sum_t -ln y_t[target_t]

Written from the notes, step by step as the numpy reference program does it (one-hot column
vectors, one time step at a time), with element-wise clipping to [-5, 5] and Adagrad
(mem += d^2; p -= lr d / sqrt(mem + 1e-8)).

Run: /work/venv/bin/python bench/compare/char-rnn.py
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402

N_x, N_h, T = 65, 100, 25
rng = np.random.default_rng(1)

U = 0.01 * rng.standard_normal((N_h, N_x))  # N_h x N_x
W = 0.01 * rng.standard_normal((N_h, N_h))  # N_h x N_h
V = 0.01 * rng.standard_normal((N_x, N_h))  # N_x x N_h
b_h = np.zeros((N_h, 1))  # N_h x 1
b_y = np.zeros((N_x, 1))  # N_x x 1
params = [U, W, V, b_h, b_y]
mems = [np.zeros_like(p) for p in params]

text = rng.integers(0, N_x, size=200_000)


def forward(x, targets, s_prev):
    """(K1), (K2) and the summed loss, one step at a time; returns what backward needs."""
    xs, s, y = {}, {-1: np.copy(s_prev)}, {}
    loss = 0.0
    for t in range(len(x)):
        xs[t] = np.zeros((N_x, 1))  # one-hot x_t
        xs[t][x[t]] = 1.0
        s[t] = np.tanh(U @ xs[t] + W @ s[t - 1] + b_h)  # (K1)
        z = V @ s[t] + b_y
        e = np.exp(z - np.max(z))
        y[t] = e / np.sum(e)  # (K2), max-subtracted
        loss += -np.log(y[t][targets[t], 0])
    return loss, xs, s, y


def loss_and_grads(x, targets, s_prev):
    loss, xs, s, y = forward(x, targets, s_prev)
    dU, dW, dV = np.zeros_like(U), np.zeros_like(W), np.zeros_like(V)
    db_h, db_y = np.zeros_like(b_h), np.zeros_like(b_y)
    ds_next = np.zeros((N_h, 1))
    for t in reversed(range(len(x))):
        dy = np.copy(y[t])
        dy[targets[t]] -= 1.0  # y_t - t_t
        dV += dy @ s[t].T
        db_y += dy
        ds = V.T @ dy + ds_next  # dL/ds_t
        dz = (1.0 - s[t] * s[t]) * ds  # through tanh
        db_h += dz
        dU += dz @ xs[t].T
        dW += dz @ s[t - 1].T
        ds_next = W.T @ dz
    return loss, [dU, dW, dV, db_h, db_y], s[len(x) - 1]


state = {"p": 0, "s_prev": np.zeros((N_h, 1))}


def iteration():
    p = state["p"]
    if p + T + 1 >= len(text):
        p, state["s_prev"] = 0, np.zeros((N_h, 1))
    x, targets = text[p : p + T], text[p + 1 : p + T + 1]
    loss, grads, state["s_prev"] = loss_and_grads(x, targets, state["s_prev"])
    for param, d, mem in zip(params, grads, mems):
        np.clip(d, -5, 5, out=d)
        mem += d * d
        param += -0.1 * d / np.sqrt(mem + 1e-8)  # Adagrad
    state["p"] = p + T
    return loss


def sample_200():
    s = np.zeros((N_h, 1))
    c = 0
    out = []
    for _ in range(200):
        x = np.zeros((N_x, 1))
        x[c] = 1.0
        s = np.tanh(U @ x + W @ s + b_h)
        z = V @ s + b_y
        e = np.exp(z - np.max(z))
        c = rng.choice(N_x, p=(e / np.sum(e)).ravel())
        out.append(c)
    return out


A = rng.standard_normal((256, 256))
B = rng.standard_normal((256, 256))


def gemm_256():
    return A @ B


def fastest(f, calls, rounds):
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(calls):
            f()
        best = min(best, (time.perf_counter() - t0) / calls)
    return best * 1e6


x0, t0 = text[0:T], text[1 : T + 1]
s0 = np.zeros((N_h, 1))
units = [
    ("iteration", iteration, 1, 300),
    ("loss_and_grads", lambda: loss_and_grads(x0, t0, s0), 1, 300),
    ("forward", lambda: forward(x0, t0, s0), 1, 300),
    ("sample_200", sample_200, 1, 100),
    ("gemm_256", gemm_256, 1, 300),
]
for name, f, calls, rounds in units:
    print(f"{name}\t{fastest(f, calls, rounds):.1f}", flush=True)
