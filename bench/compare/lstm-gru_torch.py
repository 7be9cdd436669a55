"""PyTorch (CPU, one thread, f64; f32 with COMPARE_DTYPE=f32) side of `cargo bench -p lstm-gru`: forward + backward of one
`nn.LSTM` / `nn.GRU` / `nn.RNN` (tanh) layer, input 128, hidden 128, sequence 50, batch 1 and
32, the gradient arriving at every output h_t from above (as in the Rust bench, where dE/dh_t
is a fixed random matrix), dE/dx computed as a stacked layer needs it.

The same sizes and FLOPs as the Rust units, but not bit-for-bit the same models: PyTorch's
cells keep two bias vectors per gate, order the LSTM's blocks i, f, g, o, and its GRU weights
the old state by z and applies r after the recurrent product (notes: h_t = (1 − z_t) h_{t−1} +
z_t h̃_t with h̃_t = tanh(W [r_t h_{t−1}, x_t])).

Prints one line per unit: `<divan bench path>\t<microseconds per unit>` (thread CPU time, the
fastest block: `_timing.fastest_us`)."""

from _timing import DTYPE, fastest_us
import torch

torch.set_num_threads(1)
torch.set_default_dtype(torch.float32 if DTYPE == "f32" else torch.float64)
torch.manual_seed(1)
D, H, T = 128, 128, 50

for name, cls, extra in [("lstm", torch.nn.LSTM, {}), ("gru", torch.nn.GRU, {}), ("rnn", torch.nn.RNN, {"nonlinearity": "tanh"})]:
    layer = cls(D, H, num_layers=1, **extra)
    for B in (1, 32):
        X = (2 * torch.rand(T, B, D) - 1).requires_grad_()  # T × B × D (seq-first)
        dH = 2 * torch.rand(T, B, H) - 1  # ∂E/∂h_t, T × B × H

        def fwd_bwd():
            layer.zero_grad(set_to_none=False)
            X.grad = None
            out, _ = layer(X)  # h_1 … h_T
            out.backward(dH)  # BPTT: parameter gradients and ∂E/∂x

        print(f"cells/{name}/{B}\t{fastest_us(fwd_bwd):.1f}", flush=True)

A = torch.randn(256, 256)
Bm = torch.randn(256, 256)
print(f"cells/gemm_256\t{fastest_us(lambda: A @ Bm):.1f}", flush=True)
