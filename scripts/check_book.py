#!/usr/bin/env python3
"""check_book.py BUILD_DIR [SRC_DIR]: the book's includes and internal links all resolve.

1. Every `{{#include FILE:ANCHOR}}` (and `#rustdoc_include`) in the Markdown sources (SRC_DIR,
   default docs/) names a file that exists and, with an anchor, holds both `ANCHOR: name` and
   `ANCHOR_END: name` (mdbook itself only warns, and includes nothing, when one is missing).
2. In each built HTML page every href/src that is not external names a file in the build, and
   every #fragment is an id on the target page.
Prints each problem and exits 1 if there is any.
"""
import html.parser
import os
import re
import sys
import urllib.parse

INCLUDE = re.compile(r"\{\{#(?:rustdoc_)?include\s+([^}:\s]+)(?::([A-Za-z_][\w-]*))?[^}]*\}\}")


def check_includes(src):
    bad, n = [], 0
    for root, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith(".md"):
                continue
            page = os.path.join(root, name)
            text = open(page, encoding="utf-8").read()
            for m in INCLUDE.finditer(text):
                n += 1
                target = os.path.normpath(os.path.join(root, m.group(1)))
                where = f"{os.path.relpath(page)}: {m.group(0)}"
                if not os.path.isfile(target):
                    bad.append(f"{where}: no such file")
                    continue
                anchor = m.group(2)
                if anchor and not anchor.isdigit():
                    body = open(target, encoding="utf-8").read()
                    start = re.search(r"ANCHOR:\s*" + re.escape(anchor) + r"\b", body)
                    end = re.search(r"ANCHOR_END:\s*" + re.escape(anchor) + r"\b", body)
                    if not (start and end and start.start() < end.start()):
                        bad.append(f"{where}: no anchor `{anchor}` (ANCHOR/ANCHOR_END) in {m.group(1)}")
    return bad, n


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        for key in ("href", "src"):
            if a.get(key):
                self.links.append(a[key])


def parse(path):
    p = Page()
    with open(path, encoding="utf-8") as f:
        p.feed(f.read())
    return p


def main(build, src):
    bad_includes, n_includes = check_includes(src)
    for b in bad_includes:
        print(b)
    print(f"{n_includes} includes checked, {len(bad_includes)} broken")
    build = os.path.abspath(build)
    pages = {}
    for root, _, files in os.walk(build):
        for name in files:
            if name.endswith(".html"):
                path = os.path.join(root, name)
                pages[path] = parse(path)
    bad = []
    for path, page in sorted(pages.items()):
        if os.path.basename(path) in ("print.html", "toc.html", "404.html"):
            continue
        for link in page.links:
            url = urllib.parse.urlparse(link)
            if url.scheme or link.startswith("//") or link.startswith("mailto:"):
                continue
            target = urllib.parse.unquote(url.path)
            if target:
                full = os.path.normpath(os.path.join(os.path.dirname(path), target))
            else:
                full = path
            if not os.path.exists(full):
                # mathjax/ is added by scripts/book.sh after the check, and may be absent.
                if "/mathjax/" not in full:
                    bad.append(f"{os.path.relpath(path, build)}: {link}: no such file")
                continue
            if url.fragment and full.endswith(".html"):
                target_page = pages.get(full) or parse(full)
                if url.fragment not in target_page.ids:
                    bad.append(f"{os.path.relpath(path, build)}: {link}: no anchor #{url.fragment}")
    for b in bad:
        print(b)
    print(f"{len(pages)} pages checked, {len(bad)} broken links")
    return 1 if bad or bad_includes else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(main(args[0] if args else "book/build", args[1] if len(args) > 1 else "docs"))
