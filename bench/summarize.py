#!/usr/bin/env python3
"""Summarize the timing rounds written by bench/run.sh.

    python3 bench/summarize.py RESULTS_DIR RUNS CORPUS...

Reads RESULTS_DIR/CORPUS-round-I.json (I = 1..RUNS; round 0 is the warm-up) and
RESULTS_DIR/CORPUS-time-{hugo,driftless}.txt (/usr/bin/time -v), writes results.md and
results.json there and prints the table. Per corpus: median wall time of each tool, the ratio of
the medians, the median of the per-round ratios (the two tools run back to back in each round,
so this pairs them under the same machine load), median CPU seconds (user + system), and peak
RSS and CPU use of one extra run.
"""

import json
import os
import re
import statistics
import sys


def rusage(path):
    text = open(path).read()

    def get(key):
        return re.search(re.escape(key) + r": (.*)", text).group(1).strip()

    return {"rss_mb": int(get("Maximum resident set size (kbytes)")) / 1024,
            "cpu_percent": get("Percent of CPU this job got"),
            "user_s": float(get("User time (seconds)")),
            "sys_s": float(get("System time (seconds)"))}


def main():
    results, runs, corpora = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    out = {}
    lines = [
        "| corpus | Hugo (s) | driftless (s) | floor (s) | driftless / Hugo | paired ratio | driftless / floor (paired) | CPU s Hugo / driftless | peak RSS Hugo / driftless | CPU use Hugo / driftless |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for c in corpora:
        wall = {"hugo": [], "driftless": [], "floor": []}
        cpu = {"hugo": [], "driftless": [], "floor": []}
        for i in range(1, runs + 1):
            for r in json.load(open(os.path.join(results, "%s-round-%d.json" % (c, i))))["results"]:
                wall[r["command"]].extend(r["times"])
                cpu[r["command"]].append(r["user"] + r["system"])
        med = {k: statistics.median(v) for k, v in wall.items() if v}
        cpu_med = {k: statistics.median(v) for k, v in cpu.items() if v}
        paired = statistics.median(d / h for h, d in zip(wall["hugo"], wall["driftless"]))
        # Rounds from before the floor existed have no floor run.
        floor_paired = (statistics.median(d / f for f, d in zip(wall["floor"], wall["driftless"]))
                        if wall["floor"] else float("nan"))
        ru = {k: rusage(os.path.join(results, "%s-time-%s.txt" % (c, k))) for k in ("hugo", "driftless")}
        out[c] = {"wall": wall, "cpu": cpu, "median": med, "cpu_median": cpu_med,
                  "ratio_of_medians": med["driftless"] / med["hugo"], "paired_ratio": paired,
                  "floor_paired_ratio": floor_paired,
                  "rusage": ru}
        lines.append("| %s | %.2f | %.2f | %.2f | %.2fx | %.2fx | %.2fx | %.1f / %.1f | %d MB / %d MB | %s / %s |" % (
            c, med["hugo"], med["driftless"], med.get("floor", float("nan")), med["driftless"] / med["hugo"], paired, floor_paired,
            cpu_med["hugo"], cpu_med["driftless"], ru["hugo"]["rss_mb"],
            ru["driftless"]["rss_mb"], ru["hugo"]["cpu_percent"], ru["driftless"]["cpu_percent"]))
    json.dump(out, open(os.path.join(results, "results.json"), "w"), indent=2)
    open(os.path.join(results, "results.md"), "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
