#!/usr/bin/env python3
"""Generate the benchmark fixtures (fixtures/perf/): a realistic SLE patient (~200 resources,
~150 KB of prefetch: years of labs, 40 medication requests, 30 conditions) and a minimal one,
each as an order-select request for baricitinib with every prefetch key of hooks/services.json.

Deterministic (fixed seed and dates), so benchmark inputs never drift. Run from the repo root:
    python3 scripts/build-perf-fixtures.py
"""
import json
import random
from datetime import date, timedelta

TODAY = date(2026, 11, 26)
PID = "perf-sle-1"
rng = random.Random(20261126)
LOINC = "http://loinc.org"
SCT = "http://snomed.info/sct"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"
RX = "http://www.nlm.nih.gov/research/umls/rxnorm"


def d(days_ago):
    return (TODAY - timedelta(days=days_ago)).isoformat()


def meta():
    return {"versionId": str(rng.randint(1, 9)), "lastUpdated": d(rng.randint(0, 900)) + "T08:00:00Z",
            "source": "#ehr-" + "".join(rng.choice("abcdef0123456789") for _ in range(16))}


def ident(kind, i):
    return [{"use": "official", "system": "urn:oid:2.16.840.1.113883.19.5.99999." + kind, "value": f"{kind}-{i:06d}"}]


def condition(i, system, code, display, status="active", onset_days=2000):
    return {"resourceType": "Condition", "id": f"cond-{i}", "meta": meta(), "identifier": ident("cond", i),
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": status}]},
            "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]},
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": "problem-list-item", "display": "Problem List Item"}]}],
            "code": {"coding": [{"system": system, "code": code, "display": display}], "text": display},
            "subject": {"reference": f"Patient/{PID}"}, "onsetDateTime": d(onset_days), "recordedDate": d(onset_days - 3)}


def obs(i, code, display, value, unit, ucum, days_ago, category="laboratory"):
    return {"resourceType": "Observation", "id": f"obs-{i}", "meta": meta(), "identifier": ident("obs", i), "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": category}]}],
            "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display},
            "subject": {"reference": f"Patient/{PID}"}, "effectiveDateTime": d(days_ago) + "T09:30:00Z", "issued": d(days_ago) + "T14:00:00Z",
            "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": ucum}}


def medreq(i, code, text, status, days_ago, dose=None, unit=None, freq=1, period_unit="d"):
    m = {"resourceType": "MedicationRequest", "id": f"med-{i}", "meta": meta(), "identifier": ident("med", i), "status": status, "intent": "order",
         "medicationCodeableConcept": {"coding": [{"system": RX, "code": code, "display": text}], "text": text},
         "subject": {"reference": f"Patient/{PID}"}, "authoredOn": d(days_ago),
         "requester": {"reference": "Practitioner/rheum-1", "display": "Dr. Rheumatologist"}}
    if dose is not None:
        m["dosageInstruction"] = [{"text": f"{dose} {unit} {freq} times per {period_unit}",
                                   "timing": {"repeat": {"frequency": freq, "period": 1, "periodUnit": period_unit}},
                                   "route": {"coding": [{"system": SCT, "code": "26643006", "display": "Oral route"}]},
                                   "doseAndRate": [{"doseQuantity": {"value": dose, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}}]}]
    return m


def searchset(resources):
    return {"resourceType": "Bundle", "type": "searchset", "total": len(resources),
            "link": [{"relation": "self", "url": "https://fhir.example.org/r4/search"}],
            "entry": [{"fullUrl": f"https://fhir.example.org/r4/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}} for r in resources]}


def request(patient, conditions, meds, labs, assessments, immunizations, draft_text="baricitinib 4 MG Oral Tablet"):
    draft = {"resourceType": "MedicationRequest", "id": "draft-bari-1", "status": "draft", "intent": "order",
             "medicationCodeableConcept": {"coding": [{"system": RX, "code": "2047232", "display": "baricitinib"}], "text": draft_text},
             "subject": {"reference": f"Patient/{patient['id']}"},
             "dosageInstruction": [{"timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                                    "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet", "system": "http://unitsofmeasure.org", "code": "{tbl}"}}]}]}
    return {"hookInstance": "5d2e6d34-3c4c-4a8d-9a0e-6f1b6c5a0b11", "hook": "order-select", "fhirServer": "https://fhir.example.org/r4",
            "context": {"patientId": patient["id"], "userId": "Practitioner/rheum-1", "selections": ["MedicationRequest/draft-bari-1"],
                        "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": draft}]}},
            "prefetch": {"patient": patient, "conditions": searchset(conditions), "medications": searchset(meds), "statements": searchset([]),
                         "administrations": searchset([]), "labs": searchset(labs), "status": searchset([]),
                         "vte-history": searchset([]), "vte-history-2": searchset([]),
                         "assessments": searchset(assessments), "immunizations": searchset(immunizations)}}


def realistic():
    patient = {"resourceType": "Patient", "id": PID, "meta": meta(), "identifier": ident("mrn", 1), "active": True,
               "name": [{"family": "Example", "given": ["Pat"]}], "gender": "female", "birthDate": "1988-04-12"}
    cond_list = [(ICD, "M32.14", "Glomerular disease in systemic lupus erythematosus", "resolved"),
                 (SCT, "55464009", "Systemic lupus erythematosus", "active"),
                 (SCT, "95408003", "Arthritis due to systemic lupus erythematosus", "active"),
                 (ICD, "L93.2", "Other local lupus erythematosus", "active"),
                 (ICD, "I10", "Essential (primary) hypertension", "active"),
                 (ICD, "E78.5", "Hyperlipidemia, unspecified", "active"),
                 (ICD, "D64.9", "Anemia, unspecified", "resolved"),
                 (ICD, "M81.0", "Age-related osteoporosis without current pathological fracture", "active"),
                 (ICD, "K21.9", "Gastro-esophageal reflux disease without esophagitis", "active"),
                 (ICD, "F32.A", "Depression, unspecified", "active"),
                 (ICD, "G43.909", "Migraine, unspecified", "active"),
                 (ICD, "J45.909", "Unspecified asthma, uncomplicated", "active"),
                 (ICD, "E03.9", "Hypothyroidism, unspecified", "active"),
                 (ICD, "M79.7", "Fibromyalgia", "active"),
                 (ICD, "R53.83", "Other fatigue", "active"),
                 (ICD, "L65.9", "Nonscarring hair loss, unspecified", "resolved"),
                 (ICD, "I73.00", "Raynaud's syndrome without gangrene", "active"),
                 (ICD, "M35.00", "Sjogren syndrome, unspecified", "active"),
                 (ICD, "D69.6", "Thrombocytopenia, unspecified", "resolved"),
                 (ICD, "N39.0", "Urinary tract infection, site not specified", "resolved"),
                 (ICD, "J06.9", "Acute upper respiratory infection, unspecified", "resolved"),
                 (ICD, "R51.9", "Headache, unspecified", "resolved"),
                 (ICD, "K59.00", "Constipation, unspecified", "resolved"),
                 (ICD, "E55.9", "Vitamin D deficiency, unspecified", "active"),
                 (ICD, "Z79.52", "Long term (current) use of systemic steroids", "active"),
                 (ICD, "Z79.899", "Other long term (current) drug therapy", "active"),
                 (ICD, "H04.123", "Dry eye syndrome of bilateral lacrimal glands", "active"),
                 (ICD, "L70.0", "Acne vulgaris", "resolved"),
                 (ICD, "M25.50", "Pain in unspecified joint", "active"),
                 (ICD, "R76.8", "Other specified abnormal immunological findings in serum", "active")]
    conditions = [condition(i, s, c, t, st, rng.randint(200, 4000)) for i, (s, c, t, st) in enumerate(cond_list)]

    meds = []
    # Glucocorticoid history: many stopped tapers, one active prednisone 12.5 mg/day.
    for k in range(14):
        meds.append(medreq(len(meds), "312617", "prednisone 5 MG Oral Tablet", "stopped", 1800 - k * 120, 2 + k % 3, "{tbl}"))
    meds.append(medreq(len(meds), "312617", "prednisone 5 MG Oral Tablet", "active", 40, 2.5, "{tbl}"))
    meds.append(medreq(len(meds), "979092", "hydroxychloroquine sulfate 200 MG Oral Tablet", "active", 2500, 1, "{tbl}", 2))
    meds.append(medreq(len(meds), "311627", "mycophenolate mofetil 500 MG Oral Tablet", "stopped", 1500, 3, "{tbl}", 2))
    meds.append(medreq(len(meds), "311627", "mycophenolate mofetil 500 MG Oral Tablet", "completed", 1100, 2, "{tbl}", 2))
    meds.append(medreq(len(meds), "1657079", "rituximab 10 MG/ML Injectable Solution", "completed", 900))
    meds.append(medreq(len(meds), "1657079", "rituximab 10 MG/ML Injectable Solution", "completed", 886))
    meds.append(medreq(len(meds), "1098137", "belimumab 120 MG Injection", "stopped", 600))
    meds.append(medreq(len(meds), "197361", "amlodipine 5 MG Oral Tablet", "active", 1200, 1, "{tbl}"))
    meds.append(medreq(len(meds), "617318", "atorvastatin 20 MG Oral Tablet", "active", 1000, 1, "{tbl}"))
    meds.append(medreq(len(meds), "966247", "levothyroxine sodium 0.05 MG Oral Tablet", "active", 1400, 1, "{tbl}"))
    meds.append(medreq(len(meds), "636676", "omeprazole 20 MG Delayed Release Oral Capsule", "active", 900, 1, "{cap}"))
    meds.append(medreq(len(meds), "308136", "alendronate 70 MG Oral Tablet", "active", 800, 1, "{tbl}", 1, "wk"))
    meds.append(medreq(len(meds), "636671", "cholecalciferol 1000 UNT Oral Tablet", "active", 800, 1, "{tbl}"))
    while len(meds) < 40:
        meds.append(medreq(len(meds), "313782", "acetaminophen 325 MG Oral Tablet", rng.choice(["stopped", "completed"]), rng.randint(100, 2000), 2, "{tbl}", 3))

    labs = []
    # Three to four years of labs: eGFR, UPCR and C3 quarterly, CBC every other month.
    for q in range(12):
        days = 10 + q * 91
        labs.append(obs(len(labs), "62238-1", "GFR/BSA.pred SerPlBld CKD-EPI-ar", round(rng.uniform(70, 95), 1), "mL/min/{1.73_m2}", "mL/min/{1.73_m2}", days))
        labs.append(obs(len(labs), "2890-2", "Protein/Creat Ur", round(rng.uniform(0.05, 0.3), 2), "g/g", "g/g", days))
        labs.append(obs(len(labs), "4485-9", "C3 SerPl-mCnc", rng.randint(60, 110), "mg/dL", "mg/dL", days))
    for m in range(24):
        days = 12 + m * 61
        labs.append(obs(len(labs), "731-0", "Lymphocytes # Bld AutoCnt", round(rng.uniform(0.8, 2.0), 2), "10*3/uL", "10*3/uL", days))
        labs.append(obs(len(labs), "751-8", "Neutrophils # Bld AutoCnt", round(rng.uniform(2.0, 6.0), 2), "10*3/uL", "10*3/uL", days))
        labs.append(obs(len(labs), "718-7", "Hgb Bld-mCnc", round(rng.uniform(10.5, 13.5), 1), "g/dL", "g/dL", days))
    labs.append(obs(len(labs), "71773-6", "M tb IFN-g Bld-aCnc", 0.05, "[IU]/mL", "[IU]/mL", 60))
    labs[-1]["interpretation"] = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "NEG"}]}]

    assessments = []
    for k in range(8):
        a = {"resourceType": "Observation", "id": f"sledai-{k}", "meta": meta(), "status": "final",
             "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey"}]}],
             "code": {"coding": [{"system": "https://jak-sle-cds.github.io/fhir/CodeSystem/sle-assessment", "code": "sledai-2k", "display": "SLEDAI-2K"}], "text": "SLEDAI-2K"},
             "subject": {"reference": f"Patient/{PID}"}, "effectiveDateTime": d(20 + k * 120), "valueInteger": [12, 8, 10, 6, 14, 9, 4, 11][k]}
        assessments.append(a)

    immunizations = []
    for k, (cvx, name) in enumerate([("187", "zoster vaccine recombinant, adjuvanted"), ("187", "zoster vaccine recombinant, adjuvanted"),
                                     ("208", "SARS-COV-2 (COVID-19) vaccine, mRNA"), ("150", "Influenza, injectable, quadrivalent"), ("33", "pneumococcal polysaccharide PPV23")]):
        immunizations.append({"resourceType": "Immunization", "id": f"imm-{k}", "meta": meta(), "status": "completed",
                              "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": cvx, "display": name}]},
                              "patient": {"reference": f"Patient/{PID}"}, "occurrenceDateTime": d(300 + k * 70), "primarySource": True})
    return request(patient, conditions, meds, labs, assessments, immunizations)


def minimal():
    patient = {"resourceType": "Patient", "id": "perf-sle-min", "gender": "female", "birthDate": "1990-01-01"}
    global PID
    PID = "perf-sle-min"
    conditions = [condition(0, SCT, "55464009", "Systemic lupus erythematosus")]
    return request(patient, conditions, [], [], [], [])


if __name__ == "__main__":
    for name, req in [("realistic-order-select.json", realistic()), ("minimal-order-select.json", minimal())]:
        text = json.dumps(req, separators=(",", ":"))
        with open(f"fixtures/perf/{name}", "w") as f:
            f.write(text + "\n")
        n = sum(len(v.get("entry", [])) if v.get("resourceType") == "Bundle" else 1 for v in req["prefetch"].values())
        print(f"fixtures/perf/{name}: {len(text)} bytes, {n} prefetched resources")
