"""PyTorch (CPU, one thread, f64; f32 with COMPARE_DTYPE=f32) side of `cargo bench -p rnn-adder`: one training example of
the binary adder (notes §6 RNN toy model; 8 time steps, N_h = 16, L² cost, α = 0.1), the way a
PyTorch user writes it: the forward pass over the 8 bit pairs with tensors, autograd for BPTT,
and a plain SGD update. (nn.RNN has no sigmoid cell, so the cell is written out:
h_i = σ(W_xh x_i + W_hh h_{i−1}), y_i = σ(W_hy h_i), E = ½ Σ (t_i − y_i)².)

Prints one line per unit: `<divan bench path>\t<microseconds per unit>`."""

from _timing import DTYPE, fastest_us
import torch

torch.set_num_threads(1)
torch.set_default_dtype(torch.float32 if DTYPE == "f32" else torch.float64)
T, N_h, alpha = 8, 16, 0.1
g = torch.Generator().manual_seed(1)
W_xh = (2 * torch.rand(N_h, 2, generator=g) - 1).requires_grad_()  # N_h × 2
W_hh = (2 * torch.rand(N_h, N_h, generator=g) - 1).requires_grad_()  # N_h × N_h
W_hy = (2 * torch.rand(1, N_h, generator=g) - 1).requires_grad_()  # 1 × N_h


def example(a, b):
    c = a + b
    X = torch.tensor([[(a >> i) & 1 for i in range(T)], [(b >> i) & 1 for i in range(T)]], dtype=torch.get_default_dtype())
    t = torch.tensor([(c >> i) & 1 for i in range(T)], dtype=torch.get_default_dtype())
    h = torch.zeros(N_h)
    ys = []
    for i in range(T):
        h = torch.sigmoid(W_xh @ X[:, i] + W_hh @ h)
        ys.append(torch.sigmoid(W_hy @ h))
    y = torch.cat(ys)
    E = 0.5 * ((t - y) ** 2).sum()
    E.backward()
    with torch.no_grad():
        for W in (W_xh, W_hh, W_hy):
            W -= alpha * W.grad
            W.grad = None
    return E.item()


print(f"train_step/example/L2\t{fastest_us(lambda: example(9, 60)):.3f}")
