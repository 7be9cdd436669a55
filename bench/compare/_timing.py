"""Shared timing helper for the bench/compare scripts: the fastest of several blocks, like
divan's "fastest" column, in microseconds per call.

The clock is this thread's CPU time (`time.thread_time`), not the wall clock: on the shared,
loaded machine a block of 0.02 s is often descheduled part-way, which the wall clock would
count and the Rust side's (much shorter) fastest sample would not. BLAS threads are pinned to
one, as the Rust side uses one core."""

import os

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import time  # noqa: E402

# The precision of a PyTorch script's run: "f64" (the Rust units' own) or "f32" (compare.py's
# "PyTorch f32" column, what a PyTorch user would train in).
DTYPE = os.environ.get("COMPARE_DTYPE", "f64")


def fastest_us(step, block=None, repeats=7, budget=0.15):
    """Calls `step()` in blocks and returns the fastest block's time per call, in µs.

    The block size is chosen so that one block takes about `budget` seconds (at least 1 call);
    the machine is shared, so the minimum over `repeats` blocks is the meaningful figure."""
    step()  # warm up (first-call allocations, caches)
    if block is None:
        n, t = 1, 0.0
        while t < budget / 10:
            t0 = time.thread_time()
            for _ in range(n):
                step()
            t = time.thread_time() - t0
            n *= 2
        block = max(1, int(n / 2 * budget / 10 / max(t, 1e-9)) * 10)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.thread_time()
        for _ in range(block):
            step()
        best = min(best, (time.thread_time() - t0) / block)
    return best * 1e6
