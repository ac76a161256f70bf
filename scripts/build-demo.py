#!/usr/bin/env python3
"""Build fixtures/demo/jak-sle-demo.json: a FHIR R4 transaction Bundle with four SLE demo
patients for the CDS Hooks sandbox (docs/sandbox.md; scripts/demo-fhir-server.sh serves it), or to load into any R4 server with one curl.
Every entry is a PUT with a fixed id, so the ids are known in advance and loading twice is
harmless.

What each patient gets (tests/demo_sandbox.rs checks it through the real service):

  jak-demo-vte     SLE + resolved pulmonary embolism    tofacitinib/ruxolitinib/baricitinib:
                                                        contraindicated (critical)
  jak-demo-early   SLE, standard therapies not tried,   not recommended (warning) + pre-treatment
                   low activity, prednisone 5 mg/day    (TB screening, zoster vaccine) (info)
  jak-demo-refrac  refractory SLE: rituximab,           tofacitinib/ruxolitinib: not recommended
                   mycophenolate, belimumab tried;      (warning, "no SLE efficacy data") offering
                   prednisone 15 mg/day, SLEDAI-2K 12,  baricitinib 2 mg + pre-treatment (zoster
                   lupus arthritis; eGFR 50, IGRA neg., vaccine) (info). baricitinib 4 mg (not in
                   no zoster vaccine                    the sandbox; fixtures/demo/refrac-
                                                        baricitinib-order-select.json): reduce to
                                                        2 mg (warning) + conditional (info) +
                                                        pre-treatment (info)
  jak-demo-monitor on baricitinib 4 mg for over a year, Patient View (jak-sle-monitor): lower
                   eGFR now 45, no zoster vaccine       to 2 mg (warning) + monitoring due:
                                                        zoster vaccine (info)

Dates are relative to the day given (default today) and recorded in Bundle.timestamp. Labs
must fall inside the service's windows (CBC within 3 months, eGFR and IGRA within 12,
SLEDAI-2K within 6), so the newest CBC here is 15-30 days old: regenerate before a demo when
Bundle.timestamp is more than about two months old.
    python3 scripts/build-demo.py [YYYY-MM-DD] [--out PATH]
"""
import argparse
import json
from datetime import date, timedelta

ARGS = argparse.ArgumentParser(description="Build the sandbox demo transaction Bundle.")
ARGS.add_argument("today", nargs="?", type=date.fromisoformat, default=date.today(),
                  help="the day the dates are relative to (default: today)")
ARGS.add_argument("--out", default="fixtures/demo/jak-sle-demo.json", help="output file")
OPTS = ARGS.parse_args()
TODAY = OPTS.today
SCT, ICD, LOINC, RX = "http://snomed.info/sct", "http://hl7.org/fhir/sid/icd-10-cm", "http://loinc.org", "http://www.nlm.nih.gov/research/umls/rxnorm"
CLIN = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
entries = []


def ago(days):
    return (TODAY - timedelta(days=days)).isoformat()


def put(resource):
    entries.append({"fullUrl": f"{resource['resourceType']}/{resource['id']}", "resource": resource,
                    "request": {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"}})


def patient(pid, given, birth):
    put({"resourceType": "Patient", "id": pid, "active": True, "name": [{"family": "Demo", "given": [given]}],
         "gender": "female", "birthDate": birth})


def condition(pid, n, system, code, display, status="active", onset=1500):
    put({"resourceType": "Condition", "id": f"{pid}-c{n}",
         "clinicalStatus": {"coding": [{"system": CLIN, "code": status}]},
         "verificationStatus": {"coding": [{"system": VER, "code": "confirmed"}]},
         "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": "problem-list-item"}]}],
         "code": {"coding": [{"system": system, "code": code, "display": display}], "text": display},
         "subject": {"reference": f"Patient/{pid}"}, "onsetDateTime": ago(onset)})


def med(pid, n, code, text, status, days, tablets=None, per_day=1):
    r = {"resourceType": "MedicationRequest", "id": f"{pid}-m{n}", "status": status, "intent": "order",
         "medicationCodeableConcept": {"coding": [{"system": RX, "code": code, "display": text}], "text": text},
         "subject": {"reference": f"Patient/{pid}"}, "authoredOn": ago(days)}
    if tablets is not None:
        r["dosageInstruction"] = [{"timing": {"repeat": {"frequency": per_day, "period": 1, "periodUnit": "d"}},
                                   "doseAndRate": [{"doseQuantity": {"value": tablets, "unit": "tablet", "system": "http://unitsofmeasure.org", "code": "{tbl}"}}]}]
    put(r)


def lab(pid, n, code, display, value, unit, days, interpretation=None):
    r = {"resourceType": "Observation", "id": f"{pid}-o{n}", "status": "final",
         "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}],
         "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display},
         "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": ago(days),
         "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}}
    if interpretation:
        r["interpretation"] = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": interpretation}]}]
    put(r)


def sledai(pid, n, score, days):
    put({"resourceType": "Observation", "id": f"{pid}-s{n}", "status": "final",
         "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey"}]}],
         "code": {"coding": [{"system": "https://jak-sle-cds.github.io/fhir/CodeSystem/sle-assessment", "code": "sledai-2k", "display": "SLEDAI-2K"}], "text": "SLEDAI-2K"},
         "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": ago(days), "valueInteger": score})


def cbc(pid, days):
    lab(pid, 10, "731-0", "Lymphocytes [#/volume] in Blood", 1.4, "10*3/uL", days)
    lab(pid, 11, "751-8", "Neutrophils [#/volume] in Blood", 3.9, "10*3/uL", days)
    lab(pid, 12, "718-7", "Hemoglobin [Mass/volume] in Blood", 12.1, "g/dL", days)


# 1. Contraindicated: VTE history (resolved PE still counts).
p = "jak-demo-vte"
patient(p, "Vera", "1984-03-02")
condition(p, 1, SCT, "55464009", "Systemic lupus erythematosus")
condition(p, 2, ICD, "Z86.711", "Personal history of pulmonary embolism", "resolved", 900)
med(p, 1, "312617", "prednisone 5 MG Oral Tablet", "active", 30, 3)
lab(p, 1, "62238-1", "Glomerular filtration rate/1.73 sq M.predicted (CKD-EPI)", 88, "mL/min/{1.73_m2}", 20)
cbc(p, 20)
sledai(p, 1, 12, 20)

# 2. Not recommended: standard therapies not tried, low activity, low steroid dose.
p = "jak-demo-early"
patient(p, "Erin", "1995-07-19")
condition(p, 1, ICD, "M32.10", "Systemic lupus erythematosus, organ or system involvement unspecified")
med(p, 1, "979092", "hydroxychloroquine sulfate 200 MG Oral Tablet", "active", 400, 1, 2)
med(p, 2, "312617", "prednisone 5 MG Oral Tablet", "active", 60, 1)
lab(p, 1, "62238-1", "Glomerular filtration rate/1.73 sq M.predicted (CKD-EPI)", 102, "mL/min/{1.73_m2}", 30)
cbc(p, 30)
sledai(p, 1, 6, 30)

# 3. Conditional: refractory (rituximab, mycophenolate, belimumab tried), prednisone 15 mg/day,
#    SLEDAI-2K 12, arthritis-predominant; eGFR 50 (baricitinib 2 mg), IGRA negative, no zoster vaccine.
p = "jak-demo-refrac"
patient(p, "Rita", "1979-11-30")
condition(p, 1, SCT, "55464009", "Systemic lupus erythematosus")
condition(p, 2, SCT, "95408003", "Arthritis due to systemic lupus erythematosus")
med(p, 1, "312617", "prednisone 5 MG Oral Tablet", "active", 45, 3)
med(p, 2, "311627", "mycophenolate mofetil 500 MG Oral Tablet", "stopped", 700, 3, 2)
med(p, 3, "1657079", "rituximab 10 MG/ML Injectable Solution", "completed", 500)
med(p, 4, "1098137", "belimumab 120 MG Injection", "stopped", 200)
med(p, 5, "979092", "hydroxychloroquine sulfate 200 MG Oral Tablet", "active", 2000, 1, 2)
lab(p, 1, "62238-1", "Glomerular filtration rate/1.73 sq M.predicted (CKD-EPI)", 50, "mL/min/{1.73_m2}", 15)
lab(p, 2, "71773-6", "M tuberculosis stimulated gamma interferon [Units/volume] in Blood", 0.04, "[IU]/mL", 40, "NEG")
cbc(p, 15)
sledai(p, 1, 12, 15)

# 4. Patient View (the monitoring service, jak-sle-monitor): on baricitinib 4 mg for over a
#    year; eGFR has fallen to 45 (lower to 2 mg: warning) and no zoster vaccine is on record
#    (monitoring due: info). Blood count recent, IGRA before the start.
p = "jak-demo-monitor"
patient(p, "Mona", "1970-04-12")
condition(p, 1, SCT, "55464009", "Systemic lupus erythematosus")
med(p, 1, "2047232", "baricitinib 4 MG Oral Tablet", "active", 400, 1)
med(p, 2, "979092", "hydroxychloroquine sulfate 200 MG Oral Tablet", "active", 2000, 1, 2)
lab(p, 1, "62238-1", "Glomerular filtration rate/1.73 sq M.predicted (CKD-EPI)", 45, "mL/min/{1.73_m2}", 12)
lab(p, 2, "71773-6", "M tuberculosis stimulated gamma interferon [Units/volume] in Blood", 0.03, "[IU]/mL", 420, "NEG")
cbc(p, 12)

bundle = {"resourceType": "Bundle", "type": "transaction", "timestamp": f"{TODAY.isoformat()}T00:00:00Z",
          "entry": entries}
with open(OPTS.out, "w") as f:
    json.dump(bundle, f, indent=1)
    f.write("\n")
print(f"{OPTS.out}: {len(entries)} resources, dates relative to {TODAY}")
