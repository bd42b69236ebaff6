#!/usr/bin/env python3
"""Summarises LfU's per-step readings in lfu train logs: α and λ (median), the relative change of the hidden states and
the gradient ratio λ·‖∇consistency‖/‖∇SFT‖ (median over the run and over each quarter of it), and the clean states'
mean square (consistency / relative change², median). The automatic calibration's defaults
(LfUCalibration.DefaultRelativeChange, DefaultConsistencyWeight = λ × mean h²) are the readings of the bundled base's
best grid point.

    scripts/calibration-readings.py data/benchmark/calibration/readings/*.csv
"""
import csv, os, statistics, sys

def quarters(values):
    n = len(values)
    return [statistics.median(values[i * n // 4:(i + 1) * n // 4]) for i in range(4)]

print("| run | α | λ | relative change: median (quarters) | gradient ratio: median (quarters) | mean h² | λ × mean h² |")
print("|---|---:|---:|---|---|---:|---:|")
for path in sys.argv[1:]:
    rows = list(csv.DictReader(open(path, encoding="utf-8")))
    r = [float(x["relative_change"]) for x in rows]
    g = [float(x["gradient_ratio"]) for x in rows]
    alpha = statistics.median(float(x["alpha"]) for x in rows)
    lam = statistics.median(float(x["lambda"]) for x in rows)
    h2 = statistics.median(float(x["consistency_loss"]) / float(x["relative_change"]) ** 2 for x in rows if float(x["relative_change"]) > 0)
    weight = statistics.median(float(x["lambda"]) * float(x["consistency_loss"]) / float(x["relative_change"]) ** 2 for x in rows if float(x["relative_change"]) > 0)
    fmt = lambda v, f: " / ".join(f.format(x) for x in v)
    print(f"| {os.path.basename(path)} | {alpha:.3g} | {lam:.3g} | {statistics.median(r):.4f} ({fmt(quarters(r), '{:.4f}')}) "
          f"| {statistics.median(g):.2f} ({fmt(quarters(g), '{:.2f}')}) | {h2:.3g} | {weight:.3g} |")
