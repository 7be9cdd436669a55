"""PyTorch (CPU, one thread, float64; float32 with COMPARE_DTYPE=f32) side of `cargo bench -p conv-im2col`.

Same units and sizes as bench/compare/conv-im2col.py (MNIST sizes: N = 100 images of
1 × 28 × 28, 30 filters 5 × 5), one line per unit `<divan bench name>\t<microseconds>`, the
fastest of several repeats. PyTorch's conv2d does not use im2col + one GEMM on CPU the way the
notes do (it has its own convolution kernels); it is here as the "what a framework does" line.

    /work/venv/bin/python bench/compare/conv-im2col_torch.py [--epoch] [--cpu]
"""

import sys
import time

import torch
import torch.nn.functional as F
from _timing import DTYPE

torch.set_num_threads(1)
torch.set_default_dtype(torch.float32 if DTYPE == "f32" else torch.float64)

N, FN, FS = 100, 30, 5


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


class SimpleConvNet(torch.nn.Module):
    """conv 30×5×5 → ReLU → max-pool 2×2 → affine 100 → ReLU → affine 10 (softmax in the loss)."""

    def __init__(self, std=0.01):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, FN, FS)
        self.affine2 = torch.nn.Linear(FN * 12 * 12, 100)
        self.affine3 = torch.nn.Linear(100, 10)
        with torch.no_grad():
            for layer in (self.conv1, self.affine2, self.affine3):
                layer.weight.normal_(0.0, std)
                layer.bias.zero_()

    def forward(self, x):
        z1 = F.max_pool2d(F.relu(self.conv1(x)), 2)
        return self.affine3(F.relu(self.affine2(z1.flatten(1))))


def main():
    torch.manual_seed(1)
    a, b = torch.rand(256, 256), torch.rand(256, 256)
    print(f"conv/gemm_256\t{fastest(lambda: a @ b, 200):.1f}", flush=True)

    W = (0.01 * torch.randn(FN, 1, FS, FS)).requires_grad_()
    bias = torch.zeros(FN, requires_grad=True)
    x = torch.rand(N, 1, 28, 28, requires_grad=True)
    with torch.no_grad():
        dy = 0.5 * F.conv2d(x, W, bias) + 0.1

    def conv_unit():
        # forward, then dW, db and dx (as the Rust and numpy units)
        W.grad = bias.grad = x.grad = None
        F.conv2d(x, W, bias).backward(dy)

    print(f"conv/conv_forward_backward\t{fastest(conv_unit, 50):.1f}", flush=True)

    net = SimpleConvNet()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    xb = torch.rand(N, 1, 28, 28)
    t = torch.arange(N) % 10

    def step(xs, ts):
        opt.zero_grad()
        loss = F.cross_entropy(net(xs), ts)
        loss.backward()
        opt.step()
        return loss

    print(f"conv/simple_convnet_batch\t{fastest(lambda: step(xb, t), 30):.1f}", flush=True)

    if "--epoch" in sys.argv:
        X, T = torch.rand(8000, 1, 28, 28), torch.arange(8000) % 10

        def epoch():
            order = torch.randperm(8000)
            for i in range(0, 8000, N):
                idx = order[i:i + N]
                step(X[idx], T[idx])

        print(f"epoch_8000\t{fastest(epoch, 2, budget=1.0):.1f}", flush=True)


if __name__ == "__main__":
    main()
