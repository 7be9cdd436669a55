"""numpy side of `cargo bench -p rnn-lm`: one SGD step of Britz's RNN language model (notes §6)
at the tutorial's sizes (N_x = 8000 words, N_h = 100 hidden units, truncated BPTT with K = 4)
on a sentence of T = 20 and T = 45 tokens, one BLAS thread. Written from the notes' equations:

    h_i = tanh(U x_i + W h_{i-1})            (U x_i: column x_i of U, x_i one-hot)
    y_i = softmax(V h_i)
    dV  = sum_i (y_i - t_i) h_i^T
    z_i = (V^T (y_i - t_i)) * (1 - h_i^2)
    b_ij = (W^T b_{i,j+1}) * (1 - h_j^2),  b_{i,i} = z_i,  j = i-1 ... i-K
    dW  = sum_i [z_i h_{i-1}^T + sum_j b_ij h_{j-1}^T],  dU likewise with x_j

The products with V are one matrix product over the sentence each (`V @ H`, `V.T @ dY`,
`dY @ H.T`), as the Rust side does: the notes' sums, batched, which is the fastest numpy can do
them. For reference it also times the tutorial's own way (a matrix-vector product and an
8000 × 100 outer product per time step) and prints that on stderr.

Prints one line per unit: `<divan bench path>\t<microseconds per unit>` (thread CPU time, the
fastest block: `_timing.fastest_us`)."""

import sys

from _timing import fastest_us
import numpy as np

N_x, N_h, K = 8000, 100, 4
rng = np.random.default_rng(10)
# The tutorial's initialisation: uniform in +-1/sqrt(n).
U = rng.uniform(-1 / np.sqrt(N_x), 1 / np.sqrt(N_x), (N_h, N_x))  # N_h x N_x
V = rng.uniform(-1 / np.sqrt(N_h), 1 / np.sqrt(N_h), (N_x, N_h))  # N_x x N_h
W = rng.uniform(-1 / np.sqrt(N_h), 1 / np.sqrt(N_h), (N_h, N_h))  # N_h x N_h


def softmax_columns(S):
    E = np.exp(S - S.max(axis=0))
    return E / E.sum(axis=0)


def forward(x):
    """H: N_h x (T+1), column 0 is h_{-1} = 0; Y: N_x x T."""
    T = len(x)
    H = np.zeros((N_h, T + 1))
    for i in range(T):
        H[:, i + 1] = np.tanh(U[:, x[i]] + W @ H[:, i])
    Y = softmax_columns(V @ H[:, 1:])  # y_i = softmax(V h_i) for all i: one product
    return H, Y


def forward_loss(x, t):
    H, Y = forward(x)
    return -np.log(Y[t, np.arange(len(t))]).sum()


dV_buf = np.zeros_like(V)  # N_x x N_h, preallocated


def sgd_step(x, t, lr=1e-9):
    T = len(x)
    H, Y = forward(x)
    loss = -np.log(Y[t, np.arange(T)]).sum()
    dY = Y
    dY[t, np.arange(T)] -= 1.0  # y_i - t_i
    S = H[:, 1:]  # h_0 ... h_{T-1}
    Z = (V.T @ dY) * (1.0 - S * S)  # z_i for all i (with the old V)
    dV = dV_buf
    np.matmul(dY, S.T, out=dV)  # dV = sum_i (y_i - t_i) h_i^T
    # delta_j = z_j + sum_i b_ij: everything that flows back into step j.
    D = Z.copy()
    for i in range(T):
        b = Z[:, i]
        for j in range(i - 1, max(-1, i - K - 1), -1):
            b = (W.T @ b) * (1.0 - H[:, j + 1] ** 2)  # b_ij
            D[:, j] += b
    dW = D @ H[:, :T].T  # sum_i [z_i h_{i-1}^T + sum_j b_ij h_{j-1}^T]
    dV *= lr
    V[:] -= dV
    W[:] -= lr * dW
    np.subtract.at(U.T, x, lr * D.T)  # dU = sum_j delta_j x_j^T: only columns x_j change
    return loss


def sgd_step_tutorial(x, t, lr=1e-9):
    """The tutorial's numpy code path (RNNNumpy.bptt): per time step V.dot(s_t), outer products."""
    T = len(x)
    s = np.zeros((T + 1, N_h))
    o = np.zeros((T, N_x))
    for i in range(T):
        s[i] = np.tanh(U[:, x[i]] + W.dot(s[i - 1]))
        e = np.exp(V.dot(s[i]) - np.max(V.dot(s[i])))
        o[i] = e / e.sum()
    dU, dV, dW = np.zeros(U.shape), np.zeros(V.shape), np.zeros(W.shape)
    delta_o = o
    delta_o[np.arange(T), t] -= 1.0
    for i in range(T)[::-1]:
        dV += np.outer(delta_o[i], s[i].T)
        delta_t = V.T.dot(delta_o[i]) * (1 - s[i] ** 2)
        for step in np.arange(max(0, i - K), i + 1)[::-1]:
            dW += np.outer(delta_t, s[step - 1])
            dU[:, x[step]] += delta_t
            delta_t = W.T.dot(delta_t) * (1 - s[step - 1] ** 2)
    U[:] -= lr * dU
    V[:] -= lr * dV
    W[:] -= lr * dW


def sentence(T, seed=11):
    r = np.random.default_rng(seed)
    ids = r.integers(0, N_x, size=T + 1)
    return ids[:T], ids[1:]


A = rng.standard_normal((256, 256))
B = rng.standard_normal((256, 256))

# The products with V alone at T = 20 (the v_products group of the Rust bench).
Hp = rng.uniform(-1, 1, (N_h, 20))  # N_h x T
dYp = rng.uniform(-1e-3, 1e-3, (N_x, 20))  # N_x x T
Vp = V.copy()


def v_h():
    return Vp @ Hp  # Y = V H


def vt_dy_and_update():
    Z = Vp.T @ dYp  # V^T (Y - T)
    Vp[:] -= 1e-9 * (dYp @ Hp.T)  # V <- V - lr (Y - T) H^T
    return Z


units = []
for T in (20, 45):
    x, t = sentence(T)
    units.append((f"sgd_step/sgd_step/{T}", lambda x=x, t=t: sgd_step(x, t)))
    units.append((f"sgd_step/forward_loss/{T}", lambda x=x, t=t: forward_loss(x, t)))
units.append(("sgd_step/gemm_256", lambda: A @ B))
units.append(("sgd_step/v_products/kernel_V_H", v_h))
units.append(("sgd_step/v_products/kernel_Vt_dY_and_update", vt_dy_and_update))
for unit, step in units:
    print(f"{unit}\t{fastest_us(step):.1f}", flush=True)
for T in (20, 45):
    x, t = sentence(T)
    us = fastest_us(lambda: sgd_step_tutorial(x, t), repeats=3)
    print(f"tutorial's per-step numpy code, sgd_step T = {T}: {us / 1e3:.1f} ms", file=sys.stderr)
