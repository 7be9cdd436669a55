"""numpy side of `cargo bench -p rnn-adder`: one training example of the binary adder (notes §6
RNN toy model; 8 time steps, N_h = 16, L² cost, α = 0.1): the forward pass over the 8 bit
pairs, BPTT as the notes write it, and the update W ← W + α dW. Written from the notes'
equations with column vectors:
  z_i = W_xh x_i + W_hh h_{i−1},  h_i = σ(z_i),  y_i = σ(W_hy h_i)
  δ_i = (t_i − y_i) y_i(1 − y_i),  dz_i = (W_hyᵀ δ_i + W_hhᵀ dz_{i+1}) ∘ h_i(1 − h_i)
  dW_hy = Σ δ_i h_iᵀ,  dW_hh = Σ dz_i h_{i−1}ᵀ,  dW_xh = Σ dz_i x_iᵀ

Prints one line per unit: `<divan bench path>\t<microseconds per unit>`."""

from _timing import fastest_us
import numpy as np

T, N_h, alpha = 8, 16, 0.1
rng = np.random.RandomState(1)
W = {
    "xh": 2 * rng.random_sample((N_h, 2)) - 1,  # N_h × 2
    "hh": 2 * rng.random_sample((N_h, N_h)) - 1,  # N_h × N_h
    "hy": 2 * rng.random_sample((1, N_h)) - 1,  # 1 × N_h
}


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def example(a, b):
    c = a + b
    X = np.array([[(a >> i) & 1 for i in range(T)], [(b >> i) & 1 for i in range(T)]], dtype=np.float64)  # 2 × T
    t = np.array([(c >> i) & 1 for i in range(T)], dtype=np.float64)  # T
    W_xh, W_hh, W_hy = W["xh"], W["hh"], W["hy"]
    H = np.zeros((N_h, T + 1))  # column 0 is h_{−1} = 0
    y = np.zeros(T)
    for i in range(T):
        H[:, i + 1 : i + 2] = sigmoid(W_xh @ X[:, i : i + 1] + W_hh @ H[:, i : i + 1])
        y[i] = sigmoid(W_hy @ H[:, i + 1 : i + 2])[0, 0]
    dW_xh, dW_hh, dW_hy = np.zeros_like(W_xh), np.zeros_like(W_hh), np.zeros_like(W_hy)
    dz_next = np.zeros((N_h, 1))
    for i in reversed(range(T)):
        h_i, h_prev = H[:, i + 1 : i + 2], H[:, i : i + 1]
        delta = (t[i] - y[i]) * y[i] * (1 - y[i])
        dW_hy += delta * h_i.T
        dz = (W_hy.T * delta + W_hh.T @ dz_next) * h_i * (1 - h_i)
        dW_hh += dz @ h_prev.T
        dW_xh += dz @ X[:, i : i + 1].T
        dz_next = dz
    W_xh += alpha * dW_xh
    W_hh += alpha * dW_hh
    W_hy += alpha * dW_hy
    return np.abs(t - y).sum()


# The same pair each time, as the Rust bench `train_step/example` does (9 + 60).
print(f"train_step/example/L2\t{fastest_us(lambda: example(9, 60)):.3f}")
