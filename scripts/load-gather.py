#!/usr/bin/env python3
"""For the fallback load test (scripts/load.sh fallback): read the service's JSON log
(RUST_LOG=jak_sle_cds::fhir=debug, JAK_SLE_LOG_FORMAT=json) of calls made one at a time and
print, per gather, its wall time over its slowest query (the queries run concurrently, so the
ratio should stay near 1; target <= 1.3), as a RESULT line with the median and the worst.

    scripts/load-gather.py SERVICE_LOG
"""
import json
import statistics
import sys

ratios, gathers, slowest = [], [], []
queries = []
for line in open(sys.argv[1], errors="replace"):
    try:
        event = json.loads(line)
    except ValueError:
        continue
    fields = event.get("fields", {})
    message = fields.get("message")
    if message in ("FHIR query done", "FHIR query incomplete", "FHIR query failed"):
        queries.append(fields.get("elapsed_ms", 0))
    elif message == "gather done":
        if queries:
            gather_ms, slow_ms = fields.get("elapsed_ms", 0), max(queries)
            gathers.append(gather_ms)
            slowest.append(slow_ms)
            ratios.append(gather_ms / max(slow_ms, 1))
        queries = []
if not ratios:
    sys.exit("no gather found in the log (is RUST_LOG=jak_sle_cds::fhir=debug set?)")
print("RESULT gathers=%d gather_median_ms=%.0f slowest_query_median_ms=%.0f ratio_median=%.2f ratio_max=%.2f (target <= 1.30)"
      % (len(ratios), statistics.median(gathers), statistics.median(slowest),
         statistics.median(ratios), max(ratios)))
