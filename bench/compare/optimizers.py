"""numpy side of `cargo bench -p optimizers`: one epoch of Ng's "Optimization Methods"
experiment (notes §8) with Adam: 300 moons points, a new shuffle, mini-batches 4 × 64 + 44,
and for each the [2, 5, 2, 1] network's forward pass (ReLU, ReLU, sigmoid), cross-entropy
cost, backward pass and one Adam update (β₁ 0.9, β₂ 0.999, ε 1e-8, α 0.0007), columns are
examples. Written from the notes' and the notebook's equations, not copied.

Prints one line per unit: `<divan bench path>\t<microseconds per unit>`."""

from _timing import fastest_us
import numpy as np

rng = np.random.RandomState(1)
N = 300
# Two interleaving half circles with Gaussian noise 0.2 (the data only set the work's size).
theta = np.pi * rng.random_sample(N)
lab = (np.arange(N) % 2).astype(np.float64)
X = np.vstack([np.where(lab == 0, np.cos(theta), 1 - np.cos(theta)),
               np.where(lab == 0, np.sin(theta), 0.5 - np.sin(theta))])  # 2 × N
X += 0.2 * rng.standard_normal(X.shape)
Y = lab.reshape(1, N)  # 1 × N

layers = [2, 5, 2, 1]
P = {}
for l in range(1, 4):
    P[f"W{l}"] = rng.standard_normal((layers[l], layers[l - 1])) * np.sqrt(2 / layers[l - 1])
    P[f"b{l}"] = np.zeros((layers[l], 1))
V = {k: np.zeros_like(v) for k, v in P.items()}
S = {k: np.zeros_like(v) for k, v in P.items()}
state = {"t": 0}
lr, beta1, beta2, eps, batch = 0.0007, 0.9, 0.999, 1e-8, 64


def step(Xb, Yb):
    m = Xb.shape[1]
    Z1 = P["W1"] @ Xb + P["b1"]; A1 = np.maximum(Z1, 0)
    Z2 = P["W2"] @ A1 + P["b2"]; A2 = np.maximum(Z2, 0)
    Z3 = P["W3"] @ A2 + P["b3"]; A3 = 1 / (1 + np.exp(-Z3))
    cost = np.sum(-(Yb * np.log(A3) + (1 - Yb) * np.log(1 - A3)))
    dZ3 = (A3 - Yb) / m
    G = {"W3": dZ3 @ A2.T, "b3": dZ3.sum(axis=1, keepdims=True)}
    dZ2 = (P["W3"].T @ dZ3) * (A2 > 0)
    G["W2"] = dZ2 @ A1.T; G["b2"] = dZ2.sum(axis=1, keepdims=True)
    dZ1 = (P["W2"].T @ dZ2) * (A1 > 0)
    G["W1"] = dZ1 @ Xb.T; G["b1"] = dZ1.sum(axis=1, keepdims=True)
    state["t"] += 1
    t = state["t"]
    for k in P:
        V[k] = beta1 * V[k] + (1 - beta1) * G[k]
        S[k] = beta2 * S[k] + (1 - beta2) * G[k] ** 2
        v_hat = V[k] / (1 - beta1 ** t)
        s_hat = S[k] / (1 - beta2 ** t)
        P[k] -= lr * v_hat / (np.sqrt(s_hat) + eps)
    return cost


def epoch():
    perm = rng.permutation(N)
    Xs, Ys = X[:, perm], Y[:, perm]
    total = 0.0
    for k in range(0, N, batch):
        total += step(Xs[:, k:k + batch], Ys[:, k:k + batch])
    return total / N


print(f"epoch/moons_epoch/adam\t{fastest_us(epoch):.3f}")
