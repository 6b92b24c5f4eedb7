#!/usr/bin/env python3
"""Check that Hugo and driftless built the same wiki from a corpus, before timing them.

    python3 bench/check.py CORPUS HUGO_PUBLIC DRIFTLESS_OUT

CORPUS is a folder written by gen_corpus.py (its manifest.json and hugo/ are read). Checks:

  - page counts: Hugo writes N+2 index.html files (articles, home, wiki/ section); driftless
    N+3 (the same, plus its data catalog at data/);
  - every article exists in both at wiki/page-NNNNN/index.html, with the same number of h2
    headings, tables and links; driftless's rewritten links lead to pages that exist;
  - data workload: in every article, the data table has 20 rows in both, the same GPUs and the
    same EUR/MTok values, each equal to the generator's formula recomputed from the CSV
    (watts*720/1000*0.15 / (tok_s*2592000/1e6), printed with 3 decimals), and the sentence
    carries the same three inline values.

Exits 1 with a list of differences if any check fails. Stdlib only.
"""

import csv
import json
from fractions import Fraction
import os
import re
import sys

TABLE_RE = re.compile(r'<table class="data">(.*?)</table>', re.S)
ROW_RE = re.compile(r"<tr>(.*?)</tr>", re.S)
CELL_RE = re.compile(r"<td[^>]*>(.*?)</td>", re.S)
INLINE_RE = re.compile(r"has (\S+) GB of memory, the .*? generates (\S+) tokens per second, "
                       r"and electricity for the .*? works out at EUR (\S+) per million tokens")
HREF_RE = re.compile(r'<a href="([^"]*)"')
PROSE_TABLE_RE = re.compile(r"<table>")
H2_RE = re.compile(r"<h2[ >]")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def count_index(root):
    n = 0
    for _, _, files in os.walk(root):
        n += files.count("index.html")
    return n


def data_rows(html):
    """The rows of the first data table: lists of cell texts (without thousands separators)."""
    m = TABLE_RE.search(html)
    if not m:
        return None
    body = m.group(1).split("<tbody>", 1)[-1]
    return [[c.replace(",", "").strip() for c in CELL_RE.findall(r)] for r in ROW_RE.findall(body)]


def expected_eur(row):
    """The formula's value with 3 decimals, and whether the exact value is a tie (x.xxx5).

    On a tie the shown digit depends on the rounding rule and on the last bit of the floating
    point result (Hugo: %.3f of its float; driftless: half away from zero on the shortest
    decimal of its float, after unit conversions), so either neighbour is accepted there."""
    exact = (Fraction(row["watts"]) * 720 / 1000 * Fraction(15, 100)
             / (Fraction(row["tok_s"]) * 2592000 / 1000000))
    scaled = exact * 10000
    tie = scaled.denominator == 1 and scaled.numerator % 10 == 5
    watts, tok_s = float(row["watts"]), float(row["tok_s"])
    shown = "%.3f" % (watts * 720 / 1000 * 0.15 / (tok_s * 2592000 / 1e6))
    if tie:
        low = Fraction(scaled.numerator - 5, 10000)
        return {"%.3f" % float(low), "%.3f" % float(low + Fraction(1, 1000))}, True
    return {shown}, False


def row_key(cells):
    """GPU names repeat in the dataset; the displayed input columns identify a row."""
    return tuple(cells[:6])


def main():
    corpus, hugo_out, dl_out = sys.argv[1:4]
    manifest = json.load(open(os.path.join(corpus, "manifest.json")))
    n = manifest["pages"]
    data = manifest["workload"] == "data"
    problems = []

    hugo_pages, dl_pages = count_index(hugo_out), count_index(dl_out)
    if hugo_pages != n + 2:
        problems.append("Hugo wrote %d pages, expected %d" % (hugo_pages, n + 2))
    if dl_pages != n + 3:
        problems.append("driftless wrote %d pages, expected %d" % (dl_pages, n + 3))

    by_name = {}
    if data:
        for path in (os.path.join(corpus, "hugo", "assets", "data", "gpus.csv"),):
            if os.path.exists(path):
                for r in csv.DictReader(open(path, encoding="utf-8")):
                    key = (r["name"], r["vendor"], r["vram_gb"], r["bandwidth_gbs"], r["watts"],
                           r["tok_s"])
                    by_name[key] = r

    # Every article for the data workload (all 5,000 rows appear in some table); a sample of
    # 200 for prose.
    step = 1 if data else max(1, n // 200)
    checked_cells = 0
    ties = set()
    for i in range(0, n, step):
        rel = os.path.join("wiki", "page-%05d" % i, "index.html")
        try:
            h, d = read(os.path.join(hugo_out, rel)), read(os.path.join(dl_out, rel))
        except OSError as e:
            problems.append("%s: %s" % (rel, e))
            continue
        h_body = h.split("</nav>", 1)[-1]  # after the table of contents
        d_body = d.split("</nav>", 1)[-1]
        for what, rx in (("h2 headings", H2_RE), ("tables", PROSE_TABLE_RE)):
            a, b = len(rx.findall(h_body)), len(rx.findall(d_body))
            if a != b:
                problems.append("%s: %d %s in Hugo, %d in driftless" % (rel, a, what, b))
        h_links = [x for x in HREF_RE.findall(h_body) if "/wiki/page-" in x]
        d_links = [x for x in HREF_RE.findall(d_body) if "page-" in x and "#" not in x]
        if len(h_links) != len(d_links):
            problems.append("%s: %d article links in Hugo, %d in driftless"
                            % (rel, len(h_links), len(d_links)))
        for x in d_links:
            target = os.path.normpath(os.path.join(dl_out, "wiki", "page-%05d" % i, x, "index.html"))
            if not os.path.exists(target):
                problems.append("%s: driftless link %s leads nowhere" % (rel, x))
                break
        if not data:
            continue
        hr, dr = data_rows(h), data_rows(d)
        if hr is None or dr is None or len(hr) != 20 or len(dr) != 20:
            problems.append("%s: data table rows Hugo %s, driftless %s"
                            % (rel, hr and len(hr), dr and len(dr)))
            continue
        for a, b in zip(hr, dr):
            # columns: GPU, Vendor, VRAM, Bandwidth, Watts, tok/s, EUR/MTok
            row = by_name.get(row_key(b))
            if a[:6] != b[:6] or row is None:
                problems.append("%s: row differs: Hugo %s, driftless %s" % (rel, a, b))
                continue
            want, tie = expected_eur(row)
            if tie:
                ties.add((row["id"], a[6], b[6]))
            if a[6] not in want or b[6] not in want or (a[6] != b[6] and not tie):
                problems.append("%s: %s EUR/MTok: Hugo %s, driftless %s, the formula %s"
                                % (rel, row["id"], a[6], b[6], "/".join(sorted(want))))
            checked_cells += 1
        hi, di = INLINE_RE.search(h), INLINE_RE.search(d)
        same = hi and di and (hi.groups() == di.groups() or (
            hi.groups()[:2] == di.groups()[:2]
            and (hi.group(3), di.group(3)) in {(t[1], t[2]) for t in ties}))
        if not same:
            problems.append("%s: inline values Hugo %s, driftless %s"
                            % (rel, hi and hi.groups(), di and di.groups()))
    if problems:
        print("CHECK FAILED (%d problems):" % len(problems))
        for p in problems[:40]:
            print("  " + p)
        sys.exit(1)
    print("check ok: %d pages Hugo, %d driftless; %d articles compared%s"
          % (hugo_pages, dl_pages, len(range(0, n, step)),
             ", %d table rows equal and recomputed" % checked_cells if data else ""))
    for row_id, a, b in sorted(ties):
        print("  exact tie %s (x.xxx5): Hugo %s, driftless %s%s"
              % (row_id, a, b, "" if a == b else "  <- differs in the last digit"))


if __name__ == "__main__":
    main()
