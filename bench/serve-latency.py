#!/usr/bin/env python3
"""Time from a one-cell data edit to the reload event of `driftless serve`.

    python3 bench/serve-latency.py                      # the shipped wiki, 20 edits
    python3 bench/serve-latency.py --wiki DIR --file data/x.csv --from 0.15 --to 0.16 --edits 50

The wiki is copied into a temporary folder; the edit alternates a value between two texts and
is written the way editors save (a temporary file renamed over the original). Each figure is
from the rename to the `reload` event on an open event stream, so it includes the watcher's
debounce, the rebuild and the event. Prints the median, the 90th percentile, the maximum and
the server's RSS before and after.
"""
import argparse, os, re, shutil, socket, statistics, subprocess, sys, tempfile, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wiki", default=REPO)
    ap.add_argument("--file", default="data/params.yaml")
    ap.add_argument("--from", dest="old", default="value: 0.15")
    ap.add_argument("--to", dest="new", default="value: 0.16")
    ap.add_argument("--edits", type=int, default=20)
    ap.add_argument("--driftless", default=os.path.join(REPO, "target/release/driftless"))
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="driftless-serve-")
    wiki = os.path.join(tmp, "wiki")
    os.makedirs(wiki)
    for part in ["content", "data", "templates"]:
        if os.path.isdir(os.path.join(a.wiki, part)):
            shutil.copytree(os.path.join(a.wiki, part), os.path.join(wiki, part))
    for f in ["driftless.yaml"]:
        if os.path.exists(os.path.join(a.wiki, f)):
            shutil.copy(os.path.join(a.wiki, f), wiki)
    path = os.path.join(wiki, a.file)
    text = open(path).read()
    if a.old not in text:
        sys.exit(f"{a.file} does not contain {a.old!r}")
    p = subprocess.Popen([a.driftless, "serve", "--port", "0", "--root", wiki],
                         stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    first = p.stderr.readline()
    port = int(re.search(r"127\.0\.0\.1:(\d+)", first).group(1))
    print(first.strip())
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"GET /__driftless/events HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n".encode())
    f = s.makefile("rb")
    while f.readline() not in (b"\r\n", b""):
        pass
    before = rss_kb(p.pid)
    times, lines = [], []
    for i in range(a.edits):
        body = text.replace(a.old, a.new) if i % 2 == 0 else text
        tmpf = path + ".tmp"
        with open(tmpf, "w") as out:
            out.write(body)
        t0 = time.perf_counter()
        os.rename(tmpf, path)
        while True:
            line = f.readline()
            if not line:
                sys.exit("the event stream ended")
            if line.strip() == b"event: reload":
                break
        times.append((time.perf_counter() - t0) * 1000)
        lines.append(p.stderr.readline().strip())
        time.sleep(0.1)
    after = rss_kb(p.pid)
    p.terminate()
    p.wait(timeout=10)
    shutil.rmtree(tmp)
    times.sort()
    q90 = times[int(0.9 * (len(times) - 1))]
    print(lines[-1])
    print(f"{a.edits} edits of {a.file}: write -> reload event median {statistics.median(times):.1f} ms, "
          f"p90 {q90:.1f} ms, max {times[-1]:.1f} ms; server RSS {before / 1024:.0f} MB before, {after / 1024:.0f} MB after; "
          f"load {os.getloadavg()[0]:.2f}")

main()
