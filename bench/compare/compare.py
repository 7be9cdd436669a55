#!/usr/bin/env python3
"""Runs each chapter's Rust benchmarks (divan) and its numpy / PyTorch counterparts in one go
and prints the ratios.

    python3 bench/compare/compare.py                 # every chapter that has a script here
    python3 bench/compare/compare.py rnn-adder char-rnn
    python3 bench/compare/compare.py --markdown      # the table for the README

Each `bench/compare/<crate>.py` (numpy) and optional `<crate>_torch.py` prints one line per
unit, `<unit>\t<microseconds per unit>`, where `<unit>` is the divan path of the Rust bench
that does the same work (`<bench file>/<function>[/<arg>]`). The Rust side is the *fastest*
sample of `cargo bench -p <crate>` (divan), the Python side the best of its own repeats: both
are "best of several", which is the fair comparison on a machine other work may disturb.
A PyTorch script runs twice: in the unit's own precision (f64 unless the unit's name says f32)
and with COMPARE_DTYPE=f32, the "PyTorch f32" column: what a PyTorch user would train in.
Not part of CI: it needs Python with numpy (and optionally torch) and takes minutes.
"""

import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
UNITS = {"ns": 1e-3, "µs": 1.0, "us": 1.0, "ms": 1e3, "s": 1e6}
ROW = re.compile(r"^((?:│  |   )*)(?:├─|╰─) (\S+)\s+(?:(\d[\d.]*) (ns|µs|ms|s))?\s*│")
HEAD = re.compile(r"^(\S+)\s+fastest\s+│")


def divan_fastest(text):
    """{unit path: fastest µs} from divan's tree table."""
    out, stack, bench = {}, [], None
    for line in text.splitlines():
        m = HEAD.match(line)
        if m:
            bench, stack = m.group(1), []
            continue
        m = ROW.match(line)
        if not m or bench is None:
            continue
        depth = len(m.group(1)) // 3
        stack = stack[:depth] + [m.group(2)]
        if m.group(3):
            out["/".join([bench] + stack)] = float(m.group(3)) * UNITS[m.group(4)]
    return out


def python_units(script, python, dtype="f64"):
    """{unit: µs} printed by a comparison script, or {} if it cannot run; `dtype` is the
    precision a PyTorch script runs in (COMPARE_DTYPE, see _timing.py)."""
    env = dict(os.environ, COMPARE_DTYPE=dtype)
    try:
        p = subprocess.run([python, script], capture_output=True, text=True, cwd=ROOT, timeout=1800, env=env)
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"  {os.path.basename(script)}: {e}", file=sys.stderr)
        return {}
    if p.returncode != 0:
        print(f"  {os.path.basename(script)} failed: {p.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return {}
    units = {}
    for line in p.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) == 2:
            try:
                units[parts[0]] = float(parts[1])
            except ValueError:
                pass
    return units


def fmt(us):
    if us is None:
        return "–"
    if us >= 1e6:
        return f"{us / 1e6:.2f} s"
    if us >= 1e3:
        return f"{us / 1e3:.2f} ms"
    if us >= 1:
        return f"{us:.2f} µs"
    return f"{us * 1e3:.0f} ns"


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    markdown = "--markdown" in sys.argv
    python = os.environ.get("PYTHON", sys.executable)
    crates = args or sorted(
        f[:-3] for f in os.listdir(HERE) if f.endswith(".py") and f not in ("compare.py",) and not f.endswith("_torch.py")
    )
    rows = []
    for crate in crates:
        print(f"== {crate}: cargo bench", file=sys.stderr)
        bench = subprocess.run(["cargo", "bench", "-q", "-p", crate], capture_output=True, text=True, cwd=ROOT)
        rust = divan_fastest(bench.stdout)
        if bench.returncode != 0 or not rust:
            print(f"  cargo bench -p {crate} failed or printed no divan table", file=sys.stderr)
        print(f"== {crate}: numpy", file=sys.stderr)
        numpy = python_units(os.path.join(HERE, f"{crate}.py"), python)
        torch_script = os.path.join(HERE, f"{crate}_torch.py")
        has_torch = os.path.exists(torch_script)
        torch = python_units(torch_script, python) if has_torch else {}
        torch32 = python_units(torch_script, python, "f32") if has_torch else {}
        for unit in sorted(set(numpy) | set(torch)):
            r = rust.get(unit)
            if r is None:
                print(f"  no Rust bench named {unit}", file=sys.stderr)
            rows.append((crate, unit, r, numpy.get(unit), torch.get(unit), torch32.get(unit)))

    def ratio(other, r):
        if not (other and r):
            return "–"
        x = other / r
        return f"{x:.0f}×" if x >= 10 else f"{x:.1f}×"

    if markdown:
        print("| crate | unit | this workspace | numpy | PyTorch CPU | PyTorch f32 | vs numpy | vs PyTorch | vs PyTorch f32 |")
        print("|---|---|---|---|---|---|---|---|---|")
        for c, u, r, n, t, t32 in rows:
            print(
                f"| {c} | `{u}` | {fmt(r)} | {fmt(n)} | {fmt(t)} | {fmt(t32)} "
                f"| {ratio(n, r)} | {ratio(t, r)} | {ratio(t32, r)} |"
            )
    else:
        print(
            f"{'unit':<48} {'rust':>10} {'numpy':>10} {'torch':>10} {'torch32':>10} "
            f"{'×numpy':>8} {'×torch':>8} {'×torch32':>8}"
        )
        for c, u, r, n, t, t32 in rows:
            print(
                f"{c + ':' + u:<48} {fmt(r):>10} {fmt(n):>10} {fmt(t):>10} {fmt(t32):>10} "
                f"{ratio(n, r):>8} {ratio(t, r):>8} {ratio(t32, r):>8}"
            )


if __name__ == "__main__":
    main()
