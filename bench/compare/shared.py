"""numpy side of `cargo bench -p shared --bench gemm`: the same products, m × k times k × n, in
f64 (the `f64_kernel` units) and f32 (`f32_kernel`), one BLAS thread (numpy's OpenBLAS).

Prints one line per unit: `<divan bench path>\t<microseconds per unit>` (thread CPU time, the
fastest block: `_timing.fastest_us`)."""

from _timing import fastest_us
import numpy as np

SHAPES = ["256x256x256", "65x100x25", "512x128x32", "30x25x57600", "500x784x100"]
rng = np.random.default_rng(4)

for name, dtype in [("f64_kernel", np.float64), ("f32_kernel", np.float32)]:
    for shape in SHAPES:
        m, k, n = (int(d) for d in shape.split("x"))
        a = rng.uniform(-1, 1, (m, k)).astype(dtype)
        b = rng.uniform(-1, 1, (k, n)).astype(dtype)
        c = np.zeros((m, n), dtype=dtype)
        print(f"gemm/{name}/{shape}\t{fastest_us(lambda: np.matmul(a, b, out=c)):.1f}", flush=True)
