"""PyTorch (CPU, one thread, f64; f32 with COMPARE_DTYPE=f32; the `_f32` units always f32) side of `cargo bench -p rnn-lm`: one SGD step of Britz's RNN
language model (notes §6; N_x = 8000, N_h = 100) on a sentence of T = 20 and 45 tokens, the way
a PyTorch user writes it: h_i = tanh(U x_i + W h_{i-1}) with U x_i an index into U's columns,
all scores V H in one product, `cross_entropy` summed over the sentence, autograd for the
backward pass (full BPTT: autograd has no truncation; at N_h = 100 the recurrence is a
negligible part of the cost, the products with V are the same) and a plain SGD update.

Prints one line per unit: `<divan bench path>\t<microseconds per unit>`."""

from _timing import DTYPE, fastest_us
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
N_x, N_h = 8000, 100


def uniform(rows, cols, n, g, dtype):
    return ((2 * torch.rand(rows, cols, generator=g, dtype=dtype) - 1) / n**0.5).requires_grad_()


def units(dtype, suffix):
    """Times one SGD step and the forward loss in `dtype`, printed as the Rust units
    `sgd_step<suffix>/T` and `forward_loss<suffix>/T`."""
    g = torch.Generator().manual_seed(10)
    U = uniform(N_h, N_x, N_x, g, dtype)  # N_h x N_x
    V = uniform(N_x, N_h, N_h, g, dtype)  # N_x x N_h
    W = uniform(N_h, N_h, N_h, g, dtype)  # N_h x N_h

    def loss_of(x, t):
        h = torch.zeros(N_h, dtype=dtype)
        hs = []
        for i in x.tolist():
            h = torch.tanh(U[:, i] + W @ h)  # h_i = tanh(U x_i + W h_{i-1})
            hs.append(h)
        S = V @ torch.stack(hs, dim=1)  # V h_i for all i: N_x x T
        return F.cross_entropy(S.T, t, reduction="sum")  # sum_i -ln softmax(V h_i)[t_i]

    def sgd_step(x, t, lr=1e-9):
        L = loss_of(x, t)
        L.backward()
        with torch.no_grad():
            for p in (U, V, W):
                p -= lr * p.grad
                p.grad = None
        return L.item()

    def forward_loss(x, t):
        with torch.no_grad():
            return loss_of(x, t).item()

    r = torch.Generator().manual_seed(11)
    for T in (20, 45):
        ids = torch.randint(0, N_x, (T + 1,), generator=r)
        x, t = ids[:T], ids[1:]
        print(f"sgd_step/sgd_step{suffix}/{T}\t{fastest_us(lambda: sgd_step(x, t)):.1f}", flush=True)
        print(f"sgd_step/forward_loss{suffix}/{T}\t{fastest_us(lambda: forward_loss(x, t)):.1f}", flush=True)


# The f64 units in the run's precision (f64, or f32 for compare.py's "PyTorch f32" column);
# the units named _f32 (`train --dtype f32`) in f32 always.
units(torch.float32 if DTYPE == "f32" else torch.float64, "")
units(torch.float32, "_f32")
g = torch.Generator().manual_seed(12)
dt = torch.float32 if DTYPE == "f32" else torch.float64
A = torch.randn(256, 256, generator=g, dtype=dt)
B = torch.randn(256, 256, generator=g, dtype=dt)
print(f"sgd_step/gemm_256\t{fastest_us(lambda: A @ B):.1f}", flush=True)
