"""numpy side of `cargo bench -p lstm-gru`: forward + backward (BPTT) of one recurrent layer,
input D = 128, hidden H = 128, T = 50 steps, batch B = 1 and 32, with dE/dx as a stacked layer
needs it; one BLAS thread, f64. Written from the notes' equations (§6, after Colah), columns
are examples (the notes' layout), the same algorithm as the Rust crate: the input part of every
gate for all T steps in one product, the recurrent part step by step, the weight gradients as
one product each after the BPTT loop.

LSTM (gate rows stacked f, i, o, g):
    f_t, i_t, o_t = sigma(W_xh x_t + W_hh h_{t-1} + b_h),  g_t = tanh(...)
    c_t = f_t * c_{t-1} + i_t * g_t,   h_t = o_t * tanh(c_t)
GRU (the notes' convention, rows z, r, n):
    z_t = sigma(W_z [h_{t-1}, x_t]),  r_t = sigma(W_r [h_{t-1}, x_t])
    h~_t = tanh(W [r_t * h_{t-1}, x_t]),  h_t = (1 - z_t) * h_{t-1} + z_t * h~_t
vanilla: h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h)

Prints one line per unit: `<divan bench path>\t<microseconds per unit>` (thread CPU time, the
fastest block: `_timing.fastest_us`)."""

from _timing import fastest_us
import numpy as np

D, H, T = 128, 128, 50
rng = np.random.default_rng(1)


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def uniform(rows, cols):
    k = 1.0 / np.sqrt(H)
    return rng.uniform(-k, k, size=(rows, cols))


class Lstm:
    def __init__(self):
        self.W_xh = uniform(4 * H, D)  # 4H x D
        self.W_hh = uniform(4 * H, H)  # 4H x H
        self.b_h = np.zeros((4 * H, 1))  # 4H x 1
        self.b_h[:H] = 1.0  # forget-gate bias 1

    def fwd_bwd(self, X, dH):
        """X: T x D x B, dH: T x H x B (dE/dh_t from above). Returns dW_xh, dW_hh, db_h, dX."""
        B = X.shape[2]
        # input part of all gates, all steps: one product over the T*B columns
        Xc = X.transpose(1, 0, 2).reshape(D, T * B)  # D x T*B
        A = (self.W_xh @ Xc + self.b_h).reshape(4 * H, T, B).transpose(1, 0, 2).copy()  # T x 4H x B
        h = np.zeros((T + 1, H, B))
        c = np.zeros((T + 1, H, B))
        tc = np.zeros((T, H, B))
        for t in range(T):
            a = A[t]
            a += self.W_hh @ h[t]  # + W_hh h_{t-1}
            a[: 3 * H] = sigmoid(a[: 3 * H])  # f, i, o
            a[3 * H :] = np.tanh(a[3 * H :])  # g
            f, i, o, g = a[:H], a[H : 2 * H], a[2 * H : 3 * H], a[3 * H :]
            c[t + 1] = f * c[t] + i * g  # c_t = f_t * c_{t-1} + i_t * g_t
            tc[t] = np.tanh(c[t + 1])
            h[t + 1] = o * tc[t]  # h_t = o_t * tanh(c_t)
        dA = np.empty_like(A)
        dh_next = np.zeros((H, B))
        dc_next = np.zeros((H, B))
        for t in reversed(range(T)):
            a = A[t]
            f, i, o, g = a[:H], a[H : 2 * H], a[2 * H : 3 * H], a[3 * H :]
            dh = dH[t] + dh_next
            da = dA[t]
            da[2 * H : 3 * H] = dh * tc[t] * o * (1 - o)  # through h_t = o_t * tanh(c_t)
            dc = dh * o * (1 - tc[t] * tc[t]) + dc_next
            da[:H] = dc * c[t] * f * (1 - f)  # c_t = f_t * c_{t-1} + ...
            da[H : 2 * H] = dc * g * i * (1 - i)
            da[3 * H :] = dc * i * (1 - g * g)
            dc_next = dc * f
            dh_next = self.W_hh.T @ da  # dE/dh_{t-1} = W_hh^T dA_t
        self.h = h
        dAc = dA.transpose(1, 0, 2).reshape(4 * H, T * B)  # 4H x T*B
        hc = h[:T].transpose(1, 0, 2).reshape(H, T * B)  # h_0 .. h_{T-1}
        dW_hh = dAc @ hc.T
        dW_xh = dAc @ Xc.T
        db_h = dAc.sum(axis=1, keepdims=True)
        dX = self.W_xh.T @ dAc
        return dW_xh, dW_hh, db_h, dX


class Gru:
    def __init__(self):
        self.W_xh = uniform(3 * H, D)  # 3H x D: rows z, r, n
        self.W_hh = uniform(3 * H, H)  # 3H x H
        self.b_h = np.zeros((3 * H, 1))

    def fwd_bwd(self, X, dH):
        B = X.shape[2]
        Xc = X.transpose(1, 0, 2).reshape(D, T * B)
        A = (self.W_xh @ Xc + self.b_h).reshape(3 * H, T, B).transpose(1, 0, 2).copy()  # T x 3H x B
        h = np.zeros((T + 1, H, B))
        rh = np.zeros((T, H, B))
        W_zr, W_n = self.W_hh[: 2 * H], self.W_hh[2 * H :]
        for t in range(T):
            a = A[t]
            a[: 2 * H] = sigmoid(a[: 2 * H] + W_zr @ h[t])  # z_t, r_t
            z, r = a[:H], a[H : 2 * H]
            rh[t] = r * h[t]  # r_t * h_{t-1}
            a[2 * H :] = np.tanh(a[2 * H :] + W_n @ rh[t])  # h~_t
            h[t + 1] = (1 - z) * h[t] + z * a[2 * H :]  # h_t = (1 - z) h_{t-1} + z h~_t
        dA = np.empty_like(A)
        dh_next = np.zeros((H, B))
        for t in reversed(range(T)):
            a = A[t]
            z, r, n = a[:H], a[H : 2 * H], a[2 * H :]
            dh = dH[t] + dh_next
            da = dA[t]
            da[:H] = dh * (n - h[t]) * z * (1 - z)
            da[2 * H :] = dh * z * (1 - n * n)
            drh = W_n.T @ da[2 * H :]  # dE/d(r_t * h_{t-1})
            da[H : 2 * H] = drh * h[t] * r * (1 - r)
            dh_next = dh * (1 - z) + drh * r + W_zr.T @ da[: 2 * H]
        self.h = h
        dAc = dA.transpose(1, 0, 2).reshape(3 * H, T * B)
        hc = h[:T].transpose(1, 0, 2).reshape(H, T * B)
        rhc = rh.transpose(1, 0, 2).reshape(H, T * B)
        dW_hh = np.vstack([dAc[: 2 * H] @ hc.T, dAc[2 * H :] @ rhc.T])
        dW_xh = dAc @ Xc.T
        db_h = dAc.sum(axis=1, keepdims=True)
        dX = self.W_xh.T @ dAc
        return dW_xh, dW_hh, db_h, dX


class Rnn:
    def __init__(self):
        self.W_xh = uniform(H, D)
        self.W_hh = uniform(H, H)
        self.b_h = np.zeros((H, 1))

    def fwd_bwd(self, X, dH):
        B = X.shape[2]
        Xc = X.transpose(1, 0, 2).reshape(D, T * B)
        h = np.zeros((T + 1, H, B))
        h[1:] = (self.W_xh @ Xc + self.b_h).reshape(H, T, B).transpose(1, 0, 2)
        for t in range(T):
            h[t + 1] = np.tanh(h[t + 1] + self.W_hh @ h[t])  # h_t = tanh(W_xh x_t + W_hh h_{t-1} + b)
        dA = np.empty((T, H, B))
        dh_next = np.zeros((H, B))
        for t in reversed(range(T)):
            dA[t] = (dH[t] + dh_next) * (1 - h[t + 1] * h[t + 1])
            dh_next = self.W_hh.T @ dA[t]
        self.h = h
        dAc = dA.transpose(1, 0, 2).reshape(H, T * B)
        hc = h[:T].transpose(1, 0, 2).reshape(H, T * B)
        return dAc @ Xc.T, dAc @ hc.T, dAc.sum(axis=1, keepdims=True), self.W_xh.T @ dAc


def check():
    """`--check`: the hand-written gradients against central differences of
    E = sum_t dH_t . h_t (so dE/dh_t = dH_t), a few entries of each parameter and of dX."""
    for name, cell in [("lstm", Lstm()), ("gru", Gru()), ("rnn", Rnn())]:
        X = rng.uniform(-1, 1, size=(T, D, 2))
        dH = rng.uniform(-1, 1, size=(T, H, 2))
        E = lambda: (cell.fwd_bwd(X, dH), float(np.sum(dH * cell.h[1:])))[1]
        grads = dict(zip(["W_xh", "W_hh", "b_h"], cell.fwd_bwd(X, dH)[:3]))
        dX = cell.fwd_bwd(X, dH)[3].reshape(D, T, 2).transpose(1, 0, 2)  # T x D x B
        worst = 0.0
        for p, g in [(getattr(cell, k), grads[k]) for k in grads] + [(X, dX)]:
            for _ in range(5):
                idx = tuple(rng.integers(0, n) for n in p.shape)
                old = p[idx]
                p[idx] = old + 1e-5
                up = E()
                p[idx] = old - 1e-5
                down = E()
                p[idx] = old
                num = (up - down) / 2e-5
                worst = max(worst, abs(num - g[idx]) / max(abs(num), abs(g[idx]), 1e-6))
        print(f"{name}: max relative error {worst:.1e}")
        assert worst < 1e-5


if "--check" in __import__("sys").argv:
    check()
    raise SystemExit


A256 = rng.standard_normal((256, 256))
B256 = rng.standard_normal((256, 256))

for name, cell in [("lstm", Lstm()), ("gru", Gru()), ("rnn", Rnn())]:
    for B in (1, 32):
        X = rng.uniform(-1, 1, size=(T, D, B))
        dH = rng.uniform(-1, 1, size=(T, H, B))
        print(f"cells/{name}/{B}\t{fastest_us(lambda: cell.fwd_bwd(X, dH)):.1f}", flush=True)
print(f"cells/gemm_256\t{fastest_us(lambda: A256 @ B256):.1f}", flush=True)
