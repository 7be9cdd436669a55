"""numpy side of `cargo bench -p char-rnn`: Karpathy's min-char-rnn (notes §6) at the
reference's sizes (N_x = 65 characters, N_h = 100 hidden units, T = 25 characters per chunk),
one BLAS thread. Written from the notes' equations, step by step as the numpy program does
them (one-hot column vectors, one time step at a time):

    s_t = tanh(U x_t + W s_{t-1} + b_h)      (K1)
    y_t = SoftMax(V s_t + b_y)               (K2)
    L   = sum_t -ln y_t[target_t]

then element-wise clipping to [-5, 5] and Adagrad (mem += d^2; p -= lr d / sqrt(mem + 1e-8)).

Prints one line per unit: `<divan bench path>\t<microseconds per unit>` (thread CPU time, the
fastest block: `_timing.fastest_us`)."""

from _timing import fastest_us
import numpy as np

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


x0, t0 = text[0:T], text[1 : T + 1]
s0 = np.zeros((N_h, 1))
for unit, step in [
    ("iteration/iteration", iteration),
    ("iteration/loss_and_grads", lambda: loss_and_grads(x0, t0, s0)),
    ("iteration/forward", lambda: forward(x0, t0, s0)),
    ("iteration/sample_200", sample_200),
    ("iteration/gemm_256", gemm_256),
]:
    print(f"{unit}\t{fastest_us(step):.1f}", flush=True)
