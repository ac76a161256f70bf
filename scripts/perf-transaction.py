#!/usr/bin/env python3
"""For the fallback load test: turn a benchmark request's prefetch into a FHIR transaction
Bundle for the test FHIR server (urn:uuid references, server-assigned ids), and write the same
request without prefetch, with placeholders FHIR_BASE and PATIENT_ID that scripts/load.sh fills
once the server has assigned the patient's id.

    scripts/perf-transaction.py REQUEST.json OUT_BUNDLE.json OUT_REQUEST.json
"""
import json
import sys
import uuid

src, out_bundle, out_request = sys.argv[1:4]
req = json.load(open(src))
pid = req["context"]["patientId"]
patient_urn = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, pid)}"
entries = []
for value in req["prefetch"].values():
    resources = [e["resource"] for e in value.get("entry", [])] if value.get("resourceType") == "Bundle" else [value]
    for r in resources:
        r = json.loads(json.dumps(r).replace(f'"Patient/{pid}"', f'"{patient_urn}"'))
        urn = patient_urn if r["resourceType"] == "Patient" else f"urn:uuid:{uuid.uuid4()}"
        r.pop("id", None)
        r.pop("meta", None)
        entries.append({"fullUrl": urn, "resource": r, "request": {"method": "POST", "url": r["resourceType"]}})
json.dump({"resourceType": "Bundle", "type": "transaction", "entry": entries}, open(out_bundle, "w"))

del req["prefetch"]
req["fhirServer"] = "FHIR_BASE"
text = json.dumps(req).replace(f'"Patient/{pid}"', '"Patient/PATIENT_ID"').replace(f'"patientId": "{pid}"', '"patientId": "PATIENT_ID"')
open(out_request, "w").write(text)
print(f"{len(entries)} resources in {out_bundle}; request template in {out_request}")
