"""numpy side of `cargo bench -p conv-im2col` (notes §5, Saito's SimpleConvNet, ch. 7).

Times the same units at the same sizes as conv-im2col/benches/conv.rs and prints one line per
unit, `<divan bench name>\t<microseconds per unit>`, the fastest of several repeats (as divan's
"fastest"). numpy's BLAS is pinned to one thread, like the Rust side.

    /work/venv/bin/python bench/compare/conv-im2col.py [--epoch] [--cpu]

Units (MNIST sizes: N = 100 images of 1 × 28 × 28, FN = 30 filters 5 × 5, stride 1, pad 0):
  gemm_256               one 256 × 256 × 256 f64 product (the machine's yardstick)
  conv_forward_backward  im2col, out = col·col_W + b, then db, dW = colᵀ·dout,
                         dcol = dout·col_Wᵀ, dx = col2im(dcol)
  simple_convnet_batch   conv → ReLU → max-pool 2×2 → affine 100 → ReLU → affine 10 →
                         softmax-with-loss, backward, Adam (lr 1e-3): one step on 100 images
  epoch_8000             (with --epoch) 80 such steps over 8000 images in a shuffled order

Written from the notes' definitions of im2col / col2im (rows (n, oy, ox), columns
(c, fy, fx)); the layer formulas are those of Saito's `common/layers.py`.
"""

import os
import sys
import time

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402

N, C, H, W = 100, 1, 28, 28
FN, FS = 30, 5
HIDDEN, CLASSES = 100, 10


def im2col(x, fh, fw, stride=1, pad=0):
    """x (N, C, H, W) -> col (N·OH·OW, C·FH·FW); col[(n,oy,ox), (c,fy,fx)] = x_pad[n, c, S·oy+fy, S·ox+fx]."""
    n, c, h, w = x.shape
    oh, ow = (h + 2 * pad - fh) // stride + 1, (w + 2 * pad - fw) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    # taps[n, c, fy, fx, oy, ox]: one strided slice of the padded image per filter tap
    taps = np.empty((n, c, fh, fw, oh, ow), dtype=x.dtype)
    for fy in range(fh):
        for fx in range(fw):
            taps[:, :, fy, fx] = xp[:, :, fy:fy + stride * oh:stride, fx:fx + stride * ow:stride]
    return taps.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, c * fh * fw), oh, ow


def col2im(col, shape, fh, fw, stride=1, pad=0):
    """Adjoint of im2col: every entry of col is added back onto the pixel it came from."""
    n, c, h, w = shape
    oh, ow = (h + 2 * pad - fh) // stride + 1, (w + 2 * pad - fw) // stride + 1
    taps = col.reshape(n, oh, ow, c, fh, fw).transpose(0, 3, 4, 5, 1, 2)
    xp = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=col.dtype)
    for fy in range(fh):
        for fx in range(fw):
            xp[:, :, fy:fy + stride * oh:stride, fx:fx + stride * ow:stride] += taps[:, :, fy, fx]
    return xp[:, :, pad:pad + h, pad:pad + w]


class Conv:
    def __init__(self, W, b):
        self.W, self.b = W, b  # W (FN, C, FH, FW), b (FN,)

    def forward(self, x):
        fn, _, fh, fw = self.W.shape
        self.x_shape = x.shape
        self.col, oh, ow = im2col(x, fh, fw)              # (N·OH·OW, K)
        self.col_W = self.W.reshape(fn, -1).T              # (K, FN)
        out = self.col @ self.col_W + self.b               # (N·OH·OW, FN)
        return out.reshape(x.shape[0], oh, ow, fn).transpose(0, 3, 1, 2)

    def backward(self, dout, need_dx=True):
        fn, c, fh, fw = self.W.shape
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, fn)  # (N·OH·OW, FN)
        self.db = dout.sum(axis=0)
        self.dW = (self.col.T @ dout).T.reshape(fn, c, fh, fw)
        if not need_dx:
            return None
        dcol = dout @ self.col_W.T                         # (N·OH·OW, K)
        return col2im(dcol, self.x_shape, fh, fw)


class Pool:
    def __init__(self, p):
        self.p = p

    def forward(self, x):
        n, c, h, w = x.shape
        p = self.p
        oh, ow = (h - p) // p + 1, (w - p) // p + 1
        self.x_shape = x.shape
        col, _, _ = im2col(x.reshape(n * c, 1, h, w), p, p, stride=p)
        # rows (n, c, oy, ox); first maximum wins ties
        self.arg = col.argmax(axis=1)
        return col.max(axis=1).reshape(n, c, oh, ow)

    def backward(self, dout):
        n, c, h, w = self.x_shape
        p = self.p
        dcol = np.zeros((dout.size, p * p))
        dcol[np.arange(dout.size), self.arg] = dout.ravel()
        return col2im(dcol, (n * c, 1, h, w), p, p, stride=p).reshape(n, c, h, w)


class SimpleConvNet:
    def __init__(self, rng, std=0.01):
        oh = H - FS + 1
        D = FN * (oh // 2) * (oh // 2)
        self.conv = Conv(std * rng.standard_normal((FN, C, FS, FS)), np.zeros(FN))
        self.pool = Pool(2)
        self.params = {
            "W2": std * rng.standard_normal((D, HIDDEN)), "b2": np.zeros(HIDDEN),
            "W3": std * rng.standard_normal((HIDDEN, CLASSES)), "b3": np.zeros(CLASSES),
        }
        self.m = {k: 0.0 for k in ("W1", "b1", "W2", "b2", "W3", "b3")}
        self.v = dict(self.m)
        self.t = 0

    def scores(self, x):
        """Forward only: class scores (n, 10)."""
        P = self.params
        Z1 = np.maximum(self.conv.forward(x), 0)
        X2 = self.pool.forward(Z1).reshape(x.shape[0], -1)
        return np.maximum(X2 @ P["W2"] + P["b2"], 0) @ P["W3"] + P["b3"]

    def step(self, x, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        P = self.params
        n = x.shape[0]
        # forward
        A1 = self.conv.forward(x)
        Z1 = np.maximum(A1, 0)
        P1 = self.pool.forward(Z1)
        X2 = P1.reshape(n, -1)
        A2 = X2 @ P["W2"] + P["b2"]
        Z2 = np.maximum(A2, 0)
        S3 = Z2 @ P["W3"] + P["b3"]
        S3 = S3 - S3.max(axis=1, keepdims=True)
        Y3 = np.exp(S3)
        Y3 /= Y3.sum(axis=1, keepdims=True)
        loss = -np.log(Y3[np.arange(n), t] + 1e-7).mean()
        # backward
        dS3 = Y3.copy()
        dS3[np.arange(n), t] -= 1
        dS3 /= n
        g = {"W3": Z2.T @ dS3, "b3": dS3.sum(axis=0)}
        dZ2 = dS3 @ P["W3"].T
        dA2 = dZ2 * (A2 > 0)
        g["W2"], g["b2"] = X2.T @ dA2, dA2.sum(axis=0)
        dP1 = (dA2 @ P["W2"].T).reshape(P1.shape)
        dZ1 = self.pool.backward(dP1)
        dA1 = dZ1 * (A1 > 0)
        self.conv.backward(dA1, need_dx=False)
        g["W1"], g["b1"] = self.conv.dW, self.conv.db
        # Adam (Kingma & Ba, bias-corrected)
        self.t += 1
        a = lr * np.sqrt(1 - beta2 ** self.t) / (1 - beta1 ** self.t)
        for k, p in (("W1", self.conv.W), ("b1", self.conv.b), ("W2", P["W2"]),
                     ("b2", P["b2"]), ("W3", P["W3"]), ("b3", P["b3"])):
            self.m[k] = beta1 * self.m[k] + (1 - beta1) * g[k]
            self.v[k] = beta2 * self.v[k] + (1 - beta2) * g[k] ** 2
            p -= a * self.m[k] / (np.sqrt(self.v[k]) + eps * np.sqrt(1 - beta2 ** self.t))
        return loss


CPU = "--cpu" in sys.argv


def fastest(f, repeats, budget=20.0):
    """Microseconds per call of f(): the minimum wall time over `repeats` calls (fewer past
    `budget` s), like divan's "fastest"; with --cpu, this thread's mean CPU time per call after
    one warm-up call (steadier than wall time on a loaded machine; compare with
    `perf stat -e task-clock` on the Rust side)."""
    if CPU:
        f()
        t0, n = time.thread_time(), 0
        while n < repeats and (n < 2 or time.thread_time() - t0 < budget):
            f()
            n += 1
        return (time.thread_time() - t0) / n * 1e6
    best, start = float("inf"), time.perf_counter()
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
        if time.perf_counter() - start > budget:
            break
    return best * 1e6


def main():
    rng = np.random.default_rng(1)
    a = rng.random((256, 256))
    b = rng.random((256, 256))
    print(f"conv/gemm_256\t{fastest(lambda: a @ b, 200):.1f}", flush=True)

    conv = Conv(0.01 * rng.standard_normal((FN, C, FS, FS)), np.zeros(FN))
    x = rng.random((N, C, H, W))
    dy = 0.5 * conv.forward(x) + 0.1

    def conv_unit():
        conv.forward(x)
        conv.backward(dy)

    print(f"conv/conv_forward_backward\t{fastest(conv_unit, 50):.1f}", flush=True)

    net = SimpleConvNet(rng)
    t = np.arange(N) % 10
    print(f"conv/simple_convnet_batch\t{fastest(lambda: net.step(x, t), 30):.1f}", flush=True)

    if "--epoch" in sys.argv:
        X = rng.random((8000, C, H, W))
        T = np.arange(8000) % 10

        def epoch():
            order = rng.permutation(8000)
            for i in range(0, 8000, N):
                idx = order[i:i + N]
                net.step(X[idx], T[idx])

        print(f"epoch_8000\t{fastest(epoch, 2, budget=1.0):.1f}", flush=True)


if __name__ == "__main__":
    main()
