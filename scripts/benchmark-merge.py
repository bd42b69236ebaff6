#!/usr/bin/env python3
"""Merges the results of benchmarks run in parallel into one folder.

    scripts/benchmark-merge.py OUTPUT SHARD [SHARD ...]

Every folder must hold results of the same settings (benchmark.json equal). Rows are keyed by (method, setting, seed);
a shard's row replaces OUTPUT's. Predictions files are copied. Then rewrite the report with
`REPORT_ONLY=1 scripts/benchmark-frontier.sh`, which checks the settings again and runs nothing.
"""
import csv, io, os, shutil, sys

def read(folder):
    with open(os.path.join(folder, "results.csv"), newline="", encoding="utf-8") as f:
        return list(csv.reader(f))

def main(out, shards):
    settings = open(os.path.join(out, "benchmark.json"), encoding="utf-8").read()
    rows = read(out)
    header, merged = rows[0], {}
    key = lambda r: (r[header.index("method")], r[header.index("setting")], r[header.index("seed")])
    for r in rows[1:]: merged[key(r)] = r
    for shard in shards:
        if open(os.path.join(shard, "benchmark.json"), encoding="utf-8").read() != settings:
            sys.exit(f"{shard}: benchmark.json differs from {out}'s: these results cannot be merged.")
        shard_rows = read(shard)
        if shard_rows[0] != header: sys.exit(f"{shard}/results.csv: another column layout than {out}'s.")
        for r in shard_rows[1:]: merged[key(r)] = r
        src = os.path.join(shard, "predictions")
        if os.path.isdir(src): shutil.copytree(src, os.path.join(out, "predictions"), dirs_exist_ok=True)
    text = io.StringIO()
    w = csv.writer(text, lineterminator="\n")
    w.writerow(header)
    for r in merged.values(): w.writerow(r)
    tmp = os.path.join(out, "results.csv.merge-tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as f: f.write(text.getvalue())
    os.replace(tmp, os.path.join(out, "results.csv"))
    print(f"{len(merged)} runs in {out}/results.csv; now rewrite the report: REPORT_ONLY=1 scripts/benchmark-frontier.sh")

if __name__ == "__main__":
    if len(sys.argv) < 3: sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
