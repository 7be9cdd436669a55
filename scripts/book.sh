#!/usr/bin/env bash
# Builds the companion book (book/build), adds MathJax so its equations render offline, and
# checks every internal link and anchor.
#
#   bash scripts/book.sh            # needs mdbook 0.5 (cargo install mdbook --version 0.5.4 --locked)
#
# MathJax comes from PyPI (the `sphinx-mathjax-offline` wheel holds MathJax 3.2.2); without
# network access the pages fall back to a CDN copy when they are opened.
set -euo pipefail
cd "$(dirname "$0")/.."
mdbook build book
python3 scripts/check_book.py book/build
cache=target/mathjax
if [ ! -f "$cache/tex-svg.js" ]; then
    mkdir -p "$cache"
    if python3 -m pip download --quiet --no-deps --dest "$cache" sphinx-mathjax-offline==0.0.2 2>/dev/null; then
        python3 - "$cache" <<'PY'
import sys, zipfile, glob, os
cache = sys.argv[1]
wheel = glob.glob(os.path.join(cache, "*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    data = z.read("sphinx-mathjax-offline/static/mathjax/tex-svg.js")
open(os.path.join(cache, "tex-svg.js"), "wb").write(data)
PY
    else
        echo "MathJax not fetched (no access to PyPI): the pages will load it from a CDN" >&2
    fi
fi
if [ -f "$cache/tex-svg.js" ]; then
    mkdir -p book/build/mathjax
    cp "$cache/tex-svg.js" book/build/mathjax/
fi
echo "book: book/build/index.html"
