#!/usr/bin/env python3
"""Build the monitoring fixtures (knowledge.md 4.11, patient-view): fixtures/monitoring/<case>.json
(complete CDS Hooks patient-view requests for the service jak-sle-monitor, every prefetch key
present as a searchset Bundle), expected.json (the cards each must produce: indicator, topic,
words of the summary, the action) and README.md (the table). Standard library only.

Each case starts from one SLE patient on baricitinib 4 mg once daily since START whose
monitoring is up to date (see `base()`: no cards), and changes one thing. "Today" for the
tests is 2026-11-26.

    python3 scripts/build-monitoring-fixtures.py      # rewrites fixtures/monitoring/
"""

import copy
import zlib
import json
import os
from datetime import date, timedelta

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "monitoring")
TODAY = date(2026, 11, 26)
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
CVX = "http://hl7.org/fhir/sid/cvx"
CLIN = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"

START = "2025-06-02"  # more than a year ago: lipids and first-year TB screening are past
RECENT = "2026-10-15"


def ago(days):
    return (TODAY - timedelta(days=days)).isoformat()


def condition(cid, system, code, display, onset, clinical="active"):
    return {
        "resourceType": "Condition", "id": cid,
        "clinicalStatus": {"coding": [{"system": CLIN, "code": clinical}]},
        "verificationStatus": {"coding": [{"system": VER, "code": "confirmed"}]},
        "code": {"coding": [{"system": system, "code": code, "display": display}], "text": display},
        "subject": {"reference": "Patient/PID"}, "onsetDateTime": onset,
    }


def obs(oid, code, display, value, unit, ucum, when=RECENT):
    return {
        "resourceType": "Observation", "id": oid, "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}],
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display},
        "subject": {"reference": "Patient/PID"}, "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": ucum},
    }


def cbc(when=RECENT, alc=1.6, anc=4.2, hb=12.8, prefix="cbc"):
    return [
        obs(f"{prefix}-alc", "731-0", "Lymphocytes [#/volume] in Blood", alc, "10*3/uL", "10*3/uL", when),
        obs(f"{prefix}-anc", "751-8", "Neutrophils [#/volume] in Blood", anc, "10*3/uL", "10*3/uL", when),
        obs(f"{prefix}-hb", "718-7", "Hemoglobin [Mass/volume] in Blood", hb, "g/dL", "g/dL", when),
    ]


def egfr(value, when=RECENT, oid="egfr"):
    return obs(oid, "62238-1", "Glomerular filtration rate/1.73 sq M.predicted (CKD-EPI)", value,
               "mL/min/{1.73_m2}", "mL/min/{1.73_m2}", when)


def lipids(when):
    return obs("lipids", "2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", 212, "mg/dL", "mg/dL", when)


def igra(when):
    return {
        "resourceType": "Observation", "id": "igra", "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "71773-6"}], "text": "IGRA"},
        "subject": {"reference": "Patient/PID"}, "effectiveDateTime": when,
        "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "260385009", "display": "Negative"}], "text": "Negative"},
    }


def med(mid, text, code=None, status="active", tablets=1, per_day=1, authored=START):
    concept = {"text": text}
    if code:
        concept["coding"] = [{"system": RXNORM, "code": code, "display": text}]
    return {
        "resourceType": "MedicationRequest", "id": mid, "status": status, "intent": "order",
        "subject": {"reference": "Patient/PID"}, "authoredOn": authored,
        "medicationCodeableConcept": concept,
        "requester": {"reference": "Practitioner/rheum-1", "display": "Dr. Rheumatologist"},
        "dosageInstruction": [{
            "text": f"{tablets} tablet {per_day} times a day",
            "timing": {"repeat": {"frequency": per_day, "period": 1, "periodUnit": "d"}},
            "doseAndRate": [{"doseQuantity": {"value": tablets, "unit": "tablet", "system": UCUM, "code": "{tbl}"}}],
        }],
        # Members the service does not read: an update must give them back unchanged.
        "dispenseRequest": {"numberOfRepeatsAllowed": 2, "quantity": {"value": 30 * tablets * per_day, "unit": "tablet"}},
        "note": [{"text": "Dispense in original container."}],
    }


BARI4 = ("baricitinib 4 MG Oral Tablet", "2047232")
TOFA5 = ("tofacitinib 5 MG Oral Tablet", "1357541")
UPA30 = ("upadacitinib 30 MG Extended Release Oral Tablet", "2196092")


def rzv(iid, when):
    return {
        "resourceType": "Immunization", "id": iid, "status": "completed",
        "vaccineCode": {"coding": [{"system": CVX, "code": "187"}], "text": "zoster vaccine recombinant"},
        "patient": {"reference": "Patient/PID"}, "occurrenceDateTime": when,
    }


def base():
    """SLE, baricitinib 4 mg once daily since START, normal CBC and eGFR within their windows,
    lipids checked after the start, IGRA negative before the start, two RZV doses, age 51."""
    return {
        "patient": {"resourceType": "Patient", "id": "PID", "gender": "female", "birthDate": "1975-06-01"},
        "conditions": [condition("sle", SNOMED, "55464009", "Systemic lupus erythematosus", "2015-03-01")],
        "medications": [
            med("jak", *BARI4),
            med("hcq", "hydroxychloroquine sulfate 200 MG Oral Tablet", "979092", tablets=1, per_day=2, authored="2016-01-10"),
        ],
        "statements": [],
        "labs": cbc() + [egfr(85), lipids("2025-08-20"), igra("2025-05-10")],
        "assessments": [],
        "immunizations": [rzv("rzv1", "2024-01-15"), rzv("rzv2", "2024-04-15")],
    }


def bundle(items, pid):
    entries = []
    for r in items:
        r = json.loads(json.dumps(r).replace("Patient/PID", f"Patient/{pid}"))
        entries.append({"fullUrl": f"https://ehr.example.org/fhir/{r['resourceType']}/{r['id']}", "resource": r})
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}


def request(name, p):
    pid = f"mon-{name}"
    patient = dict(p["patient"], id=pid)
    prefetch = {"patient": patient}
    for key in ["conditions", "medications", "statements", "labs", "assessments", "immunizations"]:
        prefetch[key] = bundle(p[key], pid)
    return {
        "hookInstance": f"00000000-0000-4000-8000-{zlib.crc32(name.encode()):012d}",
        "hook": "patient-view",
        "fhirServer": "https://ehr.example.org/fhir",
        "context": {"userId": "Practitioner/prac-1", "patientId": pid, "encounterId": "enc-1"},
        "prefetch": prefetch,
    }


def replace_med(p, *meds):
    p["medications"] = [m for m in p["medications"] if m["id"] != "jak"] + list(meds)


def set_labs(p, drop_prefix, *new):
    p["labs"] = [o for o in p["labs"] if not o["id"].startswith(drop_prefix)] + list(new)


CASES = []


def case(name, finding, change, cards, words=(), action=None):
    """cards: [(indicator, topic)], words: words every card summary of the first card holds;
    action: (type, what) of the first card's first suggestion ("status on-hold", "dose 2",
    "ServiceRequest 57021-8")."""
    def deco(fn):
        CASES.append((name, finding, change, cards, list(words), action, fn))
        return fn
    return deco


STOP, REASSESS, DOSE, DUE = "jaki-monitoring-stop", "jaki-monitoring-reassess", "jaki-monitoring-dose", "jaki-monitoring-due"


@case("ok-everything-in-order", "none", "baricitinib 4 mg, monitoring up to date", [])
def _(p):
    pass


@case("ok-no-sle-ra", "none (no SLE)", "rheumatoid arthritis, no SLE, on baricitinib; VTE after the start", [])
def _(p):
    p["conditions"] = [condition("ra", ICD10, "M06.9", "Rheumatoid arthritis, unspecified", "2015-03-01"),
                       condition("dvt", ICD10, "I82.401", "Acute embolism and thrombosis of unspecified deep veins of right lower extremity", "2026-09-01")]


@case("ok-no-jak", "none (no JAK inhibitor)", "SLE, VTE, no JAK inhibitor on record", [])
def _(p):
    replace_med(p)
    p["conditions"].append(condition("dvt", ICD10, "I82.401", "Acute embolism and thrombosis of unspecified deep veins of right lower extremity", "2026-09-01"))


@case("stop-vte-after-start", "stop: VTE after the start", "DVT 2026-09-01",
      [("critical", STOP)], ["Baricitinib", "VTE after the start"], "status stopped")
def _(p):
    p["conditions"].append(condition("dvt", ICD10, "I82.401", "Acute embolism and thrombosis of unspecified deep veins of right lower extremity", "2026-09-01"))


@case("ok-vte-before-start", "none (VTE before the start)", "DVT 2024-11-01, before the start", [])
def _(p):
    p["conditions"].append(condition("dvt", ICD10, "I82.401", "Acute embolism and thrombosis of unspecified deep veins of right lower extremity", "2024-11-01", "resolved"))


@case("stop-mi-after-start", "stop: myocardial infarction after the start", "NSTEMI 2026-08-10",
      [("critical", STOP)], ["Baricitinib", "arterial event"], "status stopped")
def _(p):
    p["conditions"].append(condition("mi", ICD10, "I21.4", "Non-ST elevation (NSTEMI) myocardial infarction", "2026-08-10", "resolved"))


@case("stop-pregnancy-after-start", "stop: pregnancy after the start", "Z33.1 pregnant state 2026-10-01",
      [("critical", STOP)], ["Baricitinib", "pregnancy"], "status on-hold")
def _(p):
    p["conditions"].append(condition("preg", ICD10, "Z33.1", "Pregnant state, incidental", "2026-10-01"))


@case("stop-active-tb", "stop: active TB (any time)", "pulmonary TB active",
      [("critical", STOP)], ["Baricitinib", "active TB"], "status on-hold")
def _(p):
    p["conditions"].append(condition("tb", ICD10, "A15.0", "Tuberculosis of lung", "2026-11-01"))


@case("stop-infection-after-start", "stop: active serious infection after the start", "pneumonia 2026-11-10, active",
      [("critical", STOP)], ["Baricitinib", "infection"], "status on-hold")
def _(p):
    p["conditions"].append(condition("pneu", ICD10, "J18.9", "Pneumonia, unspecified organism", "2026-11-10"))


@case("due-cbc-91-days", "monitoring due: CBC at 91 days", "latest CBC 91 days ago",
      [("info", DUE)], ["blood count"], "ServiceRequest 57021-8")
def _(p):
    set_labs(p, "cbc", *cbc(ago(91)))


@case("ok-cbc-89-days", "none (CBC at 89 days)", "latest CBC 89 days ago", [])
def _(p):
    set_labs(p, "cbc", *cbc(ago(89)))


@case("due-lipids-9-weeks", "monitoring due: no lipids 9 weeks after the start", "started 63 days ago (IGRA before), no lipids since",
      [("info", DUE)], ["lipids"], "ServiceRequest 24331-1")
def _(p):
    p["medications"][0]["authoredOn"] = ago(63)
    set_labs(p, "lipids")
    set_labs(p, "igra", igra(ago(70)))


@case("ok-lipids-7-weeks", "none (7 weeks after the start)", "started 49 days ago (IGRA before), no lipids yet", [])
def _(p):
    p["medications"][0]["authoredOn"] = ago(49)
    set_labs(p, "lipids")
    set_labs(p, "igra", igra(ago(56)))


@case("dose-egfr-31", "dose: eGFR 31 on baricitinib 4 mg", "eGFR 31",
      [("warning", DOSE)], ["Baricitinib", "2 mg", "eGFR 31"], "dose 2")
def _(p):
    set_labs(p, "egfr", egfr(31))


@case("stop-egfr-29", "stop: eGFR 29 on baricitinib", "eGFR 29",
      [("critical", STOP)], ["Baricitinib", "eGFR 29"], "status on-hold")
def _(p):
    set_labs(p, "egfr", egfr(29))


@case("dose-probenecid-after-start", "dose: probenecid started after baricitinib 4 mg", "probenecid active since 2026-09-01",
      [("warning", DOSE)], ["Baricitinib", "2 mg", "probenecid"], "dose 2")
def _(p):
    p["medications"].append(med("prob", "probenecid 500 MG Oral Tablet", tablets=1, per_day=2, authored="2026-09-01"))


@case("ok-age-64", "none (age 64 on 4 mg)", "born 1962-01-10", [])
def _(p):
    p["patient"]["birthDate"] = "1962-01-10"


@case("dose-age-65", "dose: age 65 on baricitinib 4 mg", "born 1961-11-20",
      [("warning", DOSE)], ["Baricitinib", "2 mg", "age 65"], "dose 2")
def _(p):
    p["patient"]["birthDate"] = "1961-11-20"


@case("ok-tofacitinib-hb-8_1", "none (tofacitinib, Hb 8.1)", "tofacitinib 5 mg twice daily, Hb 9.8 before the start, 8.1 now", [])
def _(p):
    replace_med(p, med("jak", *TOFA5, per_day=2))
    set_labs(p, "cbc", *cbc(hb=8.1), obs("hb-before", "718-7", "Hemoglobin [Mass/volume] in Blood", 9.8, "g/dL", "g/dL", "2025-05-20"))


@case("stop-tofacitinib-hb-7_9", "stop: tofacitinib, Hb 7.9", "tofacitinib 5 mg twice daily, Hb 7.9",
      [("critical", STOP)], ["Tofacitinib", "Hb 7.9"], "status on-hold")
def _(p):
    replace_med(p, med("jak", *TOFA5, per_day=2))
    set_labs(p, "cbc", *cbc(hb=7.9), obs("hb-before", "718-7", "Hemoglobin [Mass/volume] in Blood", 9.8, "g/dL", "g/dL", "2025-05-20"))


@case("stop-tofacitinib-hb-fall-2_1", "stop: tofacitinib, Hb fell 2.1 g/dL from before the start", "Hb 12.3 before the start, 10.2 now",
      [("critical", STOP)], ["Tofacitinib", "Hb fell 2.1"], "status on-hold")
def _(p):
    replace_med(p, med("jak", *TOFA5, per_day=2))
    set_labs(p, "cbc", *cbc(hb=10.2), obs("hb-before", "718-7", "Hemoglobin [Mass/volume] in Blood", 12.3, "g/dL", "g/dL", "2025-05-20"))


@case("ok-tofacitinib-hb-fall-1_9", "none (tofacitinib, Hb fell 1.9 g/dL)", "Hb 12.1 before the start, 10.2 now", [])
def _(p):
    replace_med(p, med("jak", *TOFA5, per_day=2))
    set_labs(p, "cbc", *cbc(hb=10.2), obs("hb-before", "718-7", "Hemoglobin [Mass/volume] in Blood", 12.1, "g/dL", "g/dL", "2025-05-20"))


@case("stop-lymphocytes", "stop: lymphocytes below 0.5 on baricitinib", "ALC 0.4",
      [("critical", STOP)], ["Baricitinib", "lymphocytes 0.4"], "status on-hold")
def _(p):
    set_labs(p, "cbc", *cbc(alc=0.4))


@case("stop-upadacitinib-egfr-14", "stop: eGFR below 15 on upadacitinib", "upadacitinib 30 mg, eGFR 14",
      [("critical", STOP)], ["Upadacitinib", "eGFR 14"], "status on-hold")
def _(p):
    replace_med(p, med("jak", *UPA30))
    set_labs(p, "egfr", egfr(14))


@case("dose-upadacitinib-age-65", "dose: age 65 on upadacitinib 30 mg", "upadacitinib 30 mg, born 1961-11-20",
      [("warning", DOSE)], ["Upadacitinib", "15 mg", "age 65"], "dose 15")
def _(p):
    replace_med(p, med("jak", *UPA30))
    p["patient"]["birthDate"] = "1961-11-20"


@case("reassess-malignancy-after-start", "reassess: malignancy after the start (and, a new risk factor, the dose)", "breast cancer 2026-07-01",
      [("warning", REASSESS), ("warning", DOSE)], ["Baricitinib", "malignancy"], None)
def _(p):
    p["conditions"].append(condition("ca", ICD10, "C50.911", "Malignant neoplasm of unspecified site of right female breast", "2026-07-01"))


@case("reassess-two-jak", "reassess: two JAK inhibitors active", "tofacitinib (started 16 days ago) active beside baricitinib",
      [("warning", REASSESS), ("warning", REASSESS)], ["another JAK inhibitor"], None)
def _(p):
    p["medications"].append(med("jak2", *TOFA5, per_day=2, authored=ago(16)))


@case("stop-statement-only", "stop: VTE after the start, therapy known from a MedicationStatement", "baricitinib stated active, DVT 2026-09-01",
      [("critical", STOP)], ["Baricitinib", "VTE after the start"], "none")
def _(p):
    replace_med(p)
    p["statements"] = [{
        "resourceType": "MedicationStatement", "id": "jak-st", "status": "active",
        "subject": {"reference": "Patient/PID"}, "effectivePeriod": {"start": START},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": BARI4[1], "display": BARI4[0]}], "text": BARI4[0]},
    }]
    p["conditions"].append(condition("dvt", ICD10, "I82.401", "Acute embolism and thrombosis of unspecified deep veins of right lower extremity", "2026-09-01"))


@case("due-zoster-vaccine", "monitoring due: no zoster vaccine", "no RZV, not declined",
      [("info", DUE)], ["zoster vaccine"], "ImmunizationRecommendation 187")
def _(p):
    p["immunizations"] = []


@case("ok-zoster-declined", "none (zoster vaccine declined)", "RZV not-done with a reason", [])
def _(p):
    p["immunizations"] = [{
        "resourceType": "Immunization", "id": "rzv-declined", "status": "not-done",
        "statusReason": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "PATOBJ", "display": "patient objection"}], "text": "patient objection"},
        "vaccineCode": {"coding": [{"system": CVX, "code": "187"}], "text": "zoster vaccine recombinant"},
        "patient": {"reference": "Patient/PID"}, "occurrenceDateTime": "2025-07-01",
    }]


@case("due-tb-screening", "monitoring due: no TB screening, therapy in its first year", "started 200 days ago, no IGRA/TST on record",
      [("info", DUE)], ["TB screening"], "ServiceRequest 71773-6")
def _(p):
    p["medications"][0]["authoredOn"] = ago(200)
    set_labs(p, "igra")
    set_labs(p, "lipids", lipids(ago(120)))


@case("ok-tb-screening-before-start", "none (TB screening before the start)", "started 200 days ago, IGRA 210 days ago", [])
def _(p):
    p["medications"][0]["authoredOn"] = ago(200)
    set_labs(p, "igra", igra(ago(210)))
    set_labs(p, "lipids", lipids(ago(120)))


@case("combined-due", "monitoring due: one combined card", "CBC 120 days old, no zoster vaccine",
      [("info", DUE)], ["blood count", "zoster vaccine"], "ServiceRequest 57021-8")
def _(p):
    set_labs(p, "cbc", *cbc(ago(120)))
    p["immunizations"] = []


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".json"):
            os.remove(os.path.join(OUT, f))
    expected = {}
    rows = []
    for name, finding, change, cards, words, action, fn in CASES:
        p = base()
        fn(p)
        with open(os.path.join(OUT, f"{name}.json"), "w") as f:
            json.dump(request(name, copy.deepcopy(p)), f, indent=1)
            f.write("\n")
        expected[name] = {"finding": finding, "cards": [list(c) for c in cards], "summary_words": words, "action": action}
        shown = "<br>".join(f"{i} `{t}`" for i, t in cards) or "none"
        rows.append(f"| `{name}` | {finding} | {change} | {shown} |")
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write("# Monitoring fixtures (patient-view, knowledge.md 4.11)\n\n")
        f.write("Built by `python3 scripts/build-monitoring-fixtures.py`; checked by `tests/monitoring_fixtures.rs`\n")
        f.write("as of 2026-11-26. Every case is the base patient (SLE, baricitinib 4 mg once daily since\n")
        f.write(f"{START}, monitoring up to date: no cards) with one change.\n\n")
        f.write("| case | finding | change from the base patient | cards |\n| --- | --- | --- | --- |\n")
        f.write("\n".join(rows) + "\n")
    print(f"{OUT}: {len(CASES)} cases")


main()
