#!/usr/bin/env python3
"""Convert a benchmark corpus (the hugo/ layout written by gen_corpus.py) into a driftless wiki.

    python3 bench/to_driftless.py CORPUS            # reads CORPUS/hugo, writes CORPUS/driftless
    python3 bench/to_driftless.py CORPUS --out DIR  # writes the wiki to DIR instead

Stdlib only, deterministic. The wiki has the same articles at the same addresses as the Hugo
site (content/wiki/page-NNNNN.md is published at wiki/page-NNNNN/):

  - TOML front matter (title, weight) becomes YAML (title, order);
  - links /wiki/page-NNNNN/ become links to the source file (page-NNNNN.md from an article,
    wiki/page-NNNNN.md from the home page), which driftless rewrites and checks;
  - the data workload's shortcodes become driftless expressions:
      {{< gpu_table group="N" >}}         -> {{ table(gpus, columns=[...], where="grp == N", caption="") }}
      {{< gpu_value id="X" field="F" >}}  -> {{ gpus["X"].F | number }}
  - assets/data/gpus.csv (or data/gpus.yaml with --data-format yaml) becomes data/gpus.csv plus a
    schema data/gpus.yaml whose derived column eur_per_mtok is a unit-checked formula over the
    parameters electricity_rate (EUR/kWh) and hours_per_month (h) of data/params.yaml:
      eur_per_mtok = watts * hours_per_month * electricity_rate / (tok_s * hours_per_month)
    which is the generator's watts*720/1000*0.15 / (tok_s*2592000/1e6) with the unit
    conversions (W*h -> kWh, tok/s*h -> tok, EUR/tok -> EUR/MTok) done by driftless;
  - templates like the Hugo ones: base layout, article with a table of contents, home page, plus
    the data catalog layout driftless requires (data.html, kept minimal).
"""

import argparse
import csv
import io
import json
import os
import re
import shutil
import sys

TOML_FM_RE = re.compile(r"\A\+\+\+\n(.*?)\n\+\+\+\n", re.S)
TOML_KV_RE = re.compile(r'^(\w+)\s*=\s*(".*"|[-0-9.]+)\s*$')
LINK_RE = re.compile(r"\]\(/wiki/(page-\d{5})/\)")
TABLE_RE = re.compile(r'\{\{<\s*gpu_table\s+group="(\d+)"\s*>\}\}')
VALUE_RE = re.compile(r'\{\{<\s*gpu_value\s+id="([^"]+)"\s+field="([a-z_]+)"\s*>\}\}')
# Anything that minijinja would read as template syntax, left after the conversion.
JINJA_RE = re.compile(r"\{\{|\{%|\{#!|\{<")

TABLE_COLUMNS = ["name", "vendor", "vram_gb", "bandwidth_gbs", "watts", "tok_s", "eur_per_mtok"]
CSV_COLUMNS = ["id", "name", "vendor", "grp", "vram_gb", "bandwidth_gbs", "watts", "tok_s",
               "price_usd"]

DRIFTLESS_YAML = """title: Benchmark Wiki
description: Generated benchmark corpus.
base_url: https://wiki.example.org/
"""

PARAMS_YAML = """params:
  electricity_rate:
    title: Electricity rate
    value: 0.15
    unit: EUR/kWh
    precision: 2
  hours_per_month:
    title: Hours in a month
    value: 720
    unit: h
    precision: 0
    description: A 30-day month running around the clock.
"""

# Titles are chosen so that the default table headers equal the Hugo ones: driftless appends
# " (unit)" unless the title already contains the unit symbol.
GPUS_YAML = """title: GPUs
description: Generated GPU dataset of the benchmark corpus.
key: id
label: name
columns:
  id: { type: text }
  name: { type: text, title: GPU }
  vendor: { type: text, title: Vendor }
  grp: { type: integer, title: Group }
  vram_gb: { unit: GB, title: VRAM, precision: 0 }
  bandwidth_gbs: { unit: GB/s, title: Bandwidth, precision: 0 }
  watts: { unit: W, title: Watts, precision: 0 }
  tok_s: { unit: tok/s, title: tok/s, precision: 1 }
  price_usd: { unit: USD, title: Price, precision: 0 }
  eur_per_mtok:
    unit: EUR/MTok
    title: EUR/MTok
    precision: 3
    formula: watts * hours_per_month * electricity_rate / (tok_s * hours_per_month)
    description: >-
      Electricity cost per million tokens: a month of power at electricity_rate divided by the
      tokens generated in the same month.
"""

BASE_HTML = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{% block title %}{{ page.title }} | {{ site.title }}{% endblock %}</title>
<link rel="stylesheet" href="{{ root }}assets/style.css"></head>
<body>
<header><a href="{{ root }}">{{ site.title }}</a></header>
<main>{% block main %}{% endblock %}</main>
<footer>Generated page.</footer>
</body>
</html>
"""

# The table of contents like Hugo's .TableOfContents: h2 entries, h3 entries nested below.
ARTICLE_HTML = """{% extends "base.html" %}
{% block main %}<article>
<h1>{{ page.title }}</h1>
<nav class="toc"><ul>
{%- for h in page.toc %}
{%- if h.level == 2 %}{% if not loop.first %}</li>{% endif %}<li><a href="#{{ h.id }}">{{ h.title }}</a>
{%- else %}{% if loop.first or loop.previtem.level == 2 %}<ul>{% endif %}<li><a href="#{{ h.id }}">{{ h.title }}</a></li>
{%- if loop.last or loop.nextitem.level == 2 %}</ul>{% endif %}
{%- endif %}
{%- if loop.last %}</li>{% endif %}
{%- endfor %}
</ul></nav>
{{ page.content }}
</article>{% endblock %}
"""

INDEX_HTML = """{% extends "base.html" %}
{% block main %}<h1>{{ page.title }}</h1>
{{ page.content }}{% endblock %}
"""

# Required by driftless (the data catalog at data/); kept minimal.
DATA_HTML = """{% extends "base.html" %}
{% block main %}<h1>{{ page.title }}</h1>
<ul>{% for d in datasets %}<li>{{ d.title }}: {{ d.rows }} rows, <a href="{{ root }}{{ d.csv_url }}">CSV</a></li>{% endfor %}</ul>
{% endblock %}
"""


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def parse_front(text, path):
    m = TOML_FM_RE.match(text)
    if not m:
        sys.exit("%s: no TOML front matter" % path)
    front = {}
    for line in m.group(1).splitlines():
        kv = TOML_KV_RE.match(line)
        if not kv:
            sys.exit("%s: unexpected front matter line %r" % (path, line))
        key, raw = kv.groups()
        front[key] = json.loads(raw) if raw.startswith('"') else float(raw)
    return front, text[m.end():]


def yaml_front(title, order=None):
    lines = ["---", "title: %s" % json.dumps(title)]
    if order is not None:
        lines.append("order: %d" % order)
    lines.append("---")
    return "\n".join(lines) + "\n"


def table_expr(group):
    cols = ", ".join('"%s"' % c for c in TABLE_COLUMNS)
    return '{{ table(gpus, columns=[%s], where="grp == %s", caption="") }}' % (cols, group)


def convert_body(body, link_prefix, path):
    body = LINK_RE.sub(lambda m: "](%s%s.md)" % (link_prefix, m.group(1)), body)
    if "](/" in body:
        sys.exit("%s: a root-relative link was not converted" % path)
    # Check the prose before adding expressions: it must hold no template syntax of its own.
    stripped = VALUE_RE.sub("", TABLE_RE.sub("", body))
    bad = JINJA_RE.search(stripped)
    if bad:
        sys.exit("%s: template syntax in the prose: %r" % (path, stripped[bad.start():bad.start() + 40]))
    body = TABLE_RE.sub(lambda m: table_expr(m.group(1)), body)
    return VALUE_RE.sub(lambda m: '{{ gpus["%s"].%s | number }}' % m.groups(), body)


def dataset_csv(hugo):
    """The dataset as CSV text (the input columns only; eur_per_mtok is derived)."""
    csv_path = os.path.join(hugo, "assets", "data", "gpus.csv")
    if os.path.exists(csv_path):
        return read(csv_path)
    yaml_path = os.path.join(hugo, "data", "gpus.yaml")
    if not os.path.exists(yaml_path):
        return None
    # The generator's YAML: "rows:", then "  - id: X" and "    key: value" lines.
    rows, row = [], None
    for line in read(yaml_path).splitlines():
        if line.startswith("  - "):
            row = {}
            rows.append(row)
            line = "    " + line[4:]
        if line.startswith("    "):
            key, _, value = line.strip().partition(": ")
            row[key] = json.loads(value) if value.startswith('"') else value
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in rows:
        w.writerow([r[c] for c in CSV_COLUMNS])
    return buf.getvalue()


def convert(corpus, out):
    hugo = os.path.join(corpus, "hugo")
    if not os.path.isdir(hugo):
        sys.exit("%s has no hugo/ folder (generate it with --tools including hugo)" % corpus)
    if os.path.exists(out):
        shutil.rmtree(out)
    write(os.path.join(out, "driftless.yaml"), DRIFTLESS_YAML)
    write(os.path.join(out, "templates", "base.html"), BASE_HTML)
    write(os.path.join(out, "templates", "article.html"), ARTICLE_HTML)
    write(os.path.join(out, "templates", "index.html"), INDEX_HTML)
    write(os.path.join(out, "templates", "data.html"), DATA_HTML)
    write(os.path.join(out, "templates", "assets", "style.css"),
          read(os.path.join(hugo, "static", "style.css")))

    rows_csv = dataset_csv(hugo)
    if rows_csv is not None:
        header = rows_csv.split("\n", 1)[0].split(",")
        if header != CSV_COLUMNS:
            sys.exit("unexpected dataset columns: %s" % header)
        write(os.path.join(out, "data", "gpus.csv"), rows_csv)
        write(os.path.join(out, "data", "gpus.yaml"), GPUS_YAML)
        write(os.path.join(out, "data", "params.yaml"), PARAMS_YAML)

    content = os.path.join(hugo, "content")
    # Home page: content/_index.md -> content/index.md (published at the site root).
    front, body = parse_front(read(os.path.join(content, "_index.md")), "_index.md")
    write(os.path.join(out, "content", "index.md"),
          yaml_front(front["title"]) + convert_body(body, "wiki/", "_index.md"))
    names = sorted(n for n in os.listdir(os.path.join(content, "wiki"))
                   if n.endswith(".md") and n != "_index.md")
    # Section page: content/wiki/_index.md -> content/wiki/index.md (published at wiki/). Hugo
    # counts the section's pages in its template; driftless has no page count, so the converter
    # writes it.
    front, _ = parse_front(read(os.path.join(content, "wiki", "_index.md")), "wiki/_index.md")
    write(os.path.join(out, "content", "wiki", "index.md"),
          yaml_front(front["title"]) + "\n%d articles.\n" % len(names))
    md_bytes = 0
    for name in names:
        rel = "wiki/" + name
        front, body = parse_front(read(os.path.join(content, "wiki", name)), rel)
        text = yaml_front(front["title"], int(front.get("weight", 0))) + convert_body(body, "", rel)
        md_bytes += len(text.encode("utf-8"))
        write(os.path.join(out, "content", "wiki", name), text)
    return {"articles": len(names), "markdown_bytes": md_bytes, "data": rows_csv is not None}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", help="a folder written by gen_corpus.py (with hugo/)")
    ap.add_argument("--out", help="the driftless wiki to write (default CORPUS/driftless)")
    args = ap.parse_args(argv)
    out = args.out or os.path.join(args.corpus, "driftless")
    print(json.dumps(convert(args.corpus, out)))


if __name__ == "__main__":
    main()
