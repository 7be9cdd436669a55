"""ngram-lm (notes §1, Hinton's assignment 2 = Bengio's neural language model) in numpy: the
units `cargo bench -p ngram-lm` times, at the same sizes (V = 250 words, D = 50, H = 200,
B = 100 cases per batch), one core. Prints `<unit>\t<microseconds per unit>`: the fastest of
several rounds, as divan's "fastest", in CPU time of this process (`time.process_time`): the
machine is shared, and wall time would count the time slices of other processes.

Written from the notes, one line per equation (cases are columns):

    X1 = [W0^T K1; W0^T K2; W0^T K3]             (1)  150 x 100, a gather (row X0[i, n] of W0)
    X2 = W1^T X1 + b1,  f = sigmoid                     200 x 100
    X3 = W2^T f(X2) + b2,  y = g(X3) = softmax          250 x 100
    dX3 = (y - t)/100
    dW2 = f(X2) dX3^T + lambda W2;  db2 = sum over rows dX3
    dX2 = (W2 dX3) o f(X2) o (1 - f(X2))
    dW1 = X1 dX2^T + lambda W1;  db1 = sum over rows dX2;  dX1 = W1 dX2
    dW0 = sum_i K_i dX1i^T                              a scatter-add (np.add.at)
    Delta <- mu Delta + g;  W <- W - alpha Delta        (train.m's momentum, every parameter)

lambda = 0 as in the assignment (its terms are skipped, as the Rust code skips them). The cross
entropy of each batch is computed too (train.m prints its running mean).

Units:
    one_batch          forward, cross-entropy, backward, momentum update of one batch of 100
    one_epoch_372550   3,725 such batches over 372,550 4-grams (no validation passes)
    gemm_256           one 256 x 256 x 256 f64 product (the machine's yardstick)

Run: /work/venv/bin/python bench/compare/ngram-lm.py
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402

V, D, H, B = 250, 50, 200, 100
CONTEXT = 3
lr, mu, init_wt = 0.1, 0.9, 0.01
TINY = np.exp(-30.0)
rng = np.random.default_rng(1)

W0 = init_wt * rng.standard_normal((V, D))  # V x D
W1 = init_wt * rng.standard_normal((CONTEXT * D, H))  # 3D x H
b1 = np.zeros((H, 1))  # H x 1
W2 = init_wt * rng.standard_normal((H, V))  # H x V
b2 = np.zeros((V, 1))  # V x 1
params = [W0, W1, b1, W2, b2]
deltas = [np.zeros_like(p) for p in params]

# The training 4-grams, 4 x N as the assignment's trainData (rows w1, w2, w3, target; 0-based).
N_TRAIN = 372_550
grams = rng.integers(0, V, size=(4, N_TRAIN))


def step(X0, target):
    """One batch: X0 3 x B word ids, target B ids. Returns the batch's cross-entropy."""
    n = X0.shape[1]
    # (1) X1 = [W0^T K1; W0^T K2; W0^T K3]: column n of W0^T K_i is row X0[i, n] of W0.
    X1 = W0[X0.T].reshape(n, CONTEXT * D).T  # 3D x B
    X2 = W1.T @ X1 + b1  # H x B
    fX2 = 1.0 / (1.0 + np.exp(-X2))  # H x B
    X3 = W2.T @ fX2 + b2  # V x B
    y = np.exp(X3 - X3.max(axis=0))  # V x B
    y /= y.sum(axis=0)
    cols = np.arange(n)
    ce = -np.log(y[target, cols] + TINY).sum() / n
    dX3 = y  # V x B: dX3 = (y - t)/B, in place
    dX3[target, cols] -= 1.0
    dX3 /= n
    dW2 = fX2 @ dX3.T  # H x V
    db2 = dX3.sum(axis=1, keepdims=True)  # V x 1
    dX2 = (W2 @ dX3) * fX2 * (1.0 - fX2)  # H x B
    dW1 = X1 @ dX2.T  # 3D x H
    db1 = dX2.sum(axis=1, keepdims=True)  # H x 1
    dX1 = W1 @ dX2  # 3D x B
    # dW0 = sum_i K_i dX1i^T: row w gets the columns of block i whose case has X0[i, n] = w.
    dW0 = np.zeros_like(W0)  # V x D
    for i in range(CONTEXT):
        np.add.at(dW0, X0[i], dX1[i * D : (i + 1) * D].T)
    for p, d, g in zip(params, deltas, [dW0, dW1, db1, dW2, db2]):
        d *= mu
        d += g
        p -= lr * d
    return ce


batch0 = grams[:, :B]


def one_batch():
    return step(batch0[:CONTEXT], batch0[CONTEXT])


def one_epoch():
    total = 0.0
    for m in range(N_TRAIN // B):
        b = grams[:, m * B : (m + 1) * B]
        total += step(b[:CONTEXT], b[CONTEXT])
    return total


A = rng.standard_normal((256, 256))
Bm = rng.standard_normal((256, 256))


def gemm_256():
    return A @ Bm


def fastest(f, rounds):
    best = float("inf")
    for _ in range(rounds):
        t0 = time.process_time()
        f()
        best = min(best, time.process_time() - t0)
    return best * 1e6


units = [
    ("step/one_batch", one_batch, 500),
    ("step/one_epoch_372550", one_epoch, 2),
    ("step/gemm_256", gemm_256, 300),
]
for name, f, rounds in units:
    print(f"{name}\t{fastest(f, rounds):.1f}", flush=True)
