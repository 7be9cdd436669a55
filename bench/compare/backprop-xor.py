"""numpy side of `cargo bench -p backprop-xor`: one iteration of the notes' 11-line network
(§4.1, figure 12) on the XOR data, full batch of 4, layers 3-4-1, written from the notes'
equations: X1 = σ(X0 W0), X2 = σ(X1 W1), dX2 = (t − X2)·X2(1 − X2),
dX1 = dX2 W1ᵀ · X1(1 − X1), W1 += X1ᵀ dX2, W0 += X0ᵀ dX1.

Prints one line per unit: `<divan bench path>\t<microseconds per unit>`."""

from _timing import fastest_us
import numpy as np

X0 = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float64)  # 4 × 3
t = np.array([[0, 1, 1, 0]], dtype=np.float64).T  # 4 × 1
np.random.seed(1)
W = {"W0": 2 * np.random.random((3, 4)) - 1, "W1": 2 * np.random.random((4, 1)) - 1}


def iteration():
    W0, W1 = W["W0"], W["W1"]
    X1 = 1 / (1 + np.exp(-(X0 @ W0)))  # 4 × 4
    X2 = 1 / (1 + np.exp(-(X1 @ W1)))  # 4 × 1
    dX2 = (t - X2) * (X2 * (1 - X2))  # −dX̄₂
    dX1 = (dX2 @ W1.T) * (X1 * (1 - X1))  # −dX̄₁
    W1 += X1.T @ dX2
    W0 += X0.T @ dX1


print(f"iteration/eleven_lines\t{fastest_us(iteration):.3f}")
