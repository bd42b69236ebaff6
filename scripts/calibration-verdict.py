#!/usr/bin/env python3
"""Issue 16's verdict on LfU's automatic calibration: for one base, the λ × α grid of LfU-LoRA (6 epochs) and the
auto-calibrated runs, mean ± sample std over seeds of in-domain accuracy and OOD average; the grid's best point (highest
mean of in-domain and OOD average); and whether auto lands within the seed spread of it on both.

    scripts/calibration-verdict.py NAME [--method lfu-reps] RESULTS.CSV [RESULTS.CSV ...]

Rows are lfu-lora runs (or --method's; for lfu-reps, α is the reps_alpha column) at 6 epochs; a run is auto where its
lambda and α cells read "auto".
"""
import csv, math, statistics, sys

def main(name, files, method="lfu-lora"):
    alpha = "reps_alpha" if method == "lfu-reps" else "alpha"
    runs = {}
    for path in files:
        for r in csv.DictReader(open(path, encoding="utf-8")):
            if r["method"] != method or r["epochs"] != "6":
                continue
            key = "auto" if r["lambda"] == "auto" and r[alpha] == "auto" else f"λ {float(r['lambda']):g}, α {float(r[alpha]):g}"
            runs.setdefault(key, {})[r["seed"]] = (float(r["in_domain"]), float(r["ood_avg"]))
    def stats(key):
        values = list(runs[key].values())
        ind, ood = [v[0] for v in values], [v[1] for v in values]
        sd = lambda xs: statistics.stdev(xs) if len(xs) > 1 else float("nan")
        return statistics.mean(ind), sd(ind), statistics.mean(ood), sd(ood), len(values)
    grid = [k for k in runs if k != "auto"]
    best = max(grid, key=lambda k: (stats(k)[0] + stats(k)[2]) / 2)
    print(f"### {name}\n")
    print("| setting | seeds | in-domain | OOD avg | mean of both |")
    print("|---|---:|---:|---:|---:|")
    for key in sorted(grid, key=lambda k: -(stats(k)[0] + stats(k)[2])) + (["auto"] if "auto" in runs else []):
        i, si, o, so, n = stats(key)
        mark = " (best)" if key == best else ""
        print(f"| {key}{mark} | {n} | {i:.3f} ± {si:.3f} | {o:.3f} ± {so:.3f} | {(i + o) / 2:.3f} |")
    if "auto" not in runs:
        return
    ai, asi, ao, aso, an = stats("auto")
    bi, bsi, bo, bso, bn = stats(best)
    for label, a, sa, b, sb in (("in-domain", ai, asi, bi, bsi), ("OOD avg", ao, aso, bo, bso)):
        spread = max(sa, sb)
        se = math.sqrt(sa * sa / an + sb * sb / bn)
        verdict = "within" if abs(a - b) <= spread else "outside"
        print(f"\n- {label}: auto − best = {a - b:+.3f} (standard error of the difference {se:.3f}; seed spread {spread:.3f}): {verdict} the seed spread.", end="")
    print()

if __name__ == "__main__":
    args = sys.argv[2:]
    method = "lfu-lora"
    if args[:1] == ["--method"]:
        method, args = args[1], args[2:]
    main(sys.argv[1], args, method)
