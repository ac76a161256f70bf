#!/usr/bin/env python3
"""Print the median of every criterion benchmark last run (target/criterion/*/*/new), in
microseconds or milliseconds, for the README's Performance section.

    cargo bench --bench evaluate -- --warm-up-time 1 --measurement-time 5
    python3 benches/medians.py
"""
import glob
import json
import os

medians = {}
for path in sorted(glob.glob("target/criterion/*/*/new/estimates.json")):
    bench = json.load(open(os.path.join(os.path.dirname(path), "benchmark.json")))
    median_ns = json.load(open(path))["median"]["point_estimate"]
    medians[bench["full_id"]] = median_ns
    shown = f"{median_ns / 1e6:.1f} ms" if median_ns >= 1e6 else f"{median_ns / 1e3:.1f} µs"
    print(f"{bench['full_id']:45} median {shown}")

# The in-process time against serde_json's scan of the same body, measured in the same run:
# a figure that travels between machines (docs/perf.md, round 7).
full = medians.get("evaluate/realistic/full")
scan = medians.get("evaluate/realistic/scan-only")
if full and scan:
    print(f"{'realistic full / scan-only':45} {full / scan:.2f}x")
