"""PyTorch (CPU, one thread) side of `cargo bench -p shared --bench gemm`: the same products,
m × k times k × n. The `f64_kernel` units run in f64 (in f32 with COMPARE_DTYPE=f32, the
"PyTorch f32" column), the `f32_kernel` units always in f32.

Prints one line per unit: `<divan bench path>\t<microseconds per unit>` (thread CPU time, the
fastest block: `_timing.fastest_us`)."""

from _timing import DTYPE, fastest_us
import torch

torch.set_num_threads(1)
SHAPES = ["256x256x256", "65x100x25", "512x128x32", "30x25x57600", "500x784x100"]
g = torch.Generator().manual_seed(4)
f64_units = torch.float32 if DTYPE == "f32" else torch.float64

for name, dtype in [("f64_kernel", f64_units), ("f32_kernel", torch.float32)]:
    for shape in SHAPES:
        m, k, n = (int(d) for d in shape.split("x"))
        a = 2 * torch.rand(m, k, generator=g, dtype=dtype) - 1
        b = 2 * torch.rand(k, n, generator=g, dtype=dtype) - 1
        c = torch.empty(m, n, dtype=dtype)
        print(f"gemm/{name}/{shape}\t{fastest_us(lambda: torch.mm(a, b, out=c)):.1f}", flush=True)
