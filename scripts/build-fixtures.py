#!/usr/bin/env python3
"""Build the clinical fixtures: fixtures/patients/<rule>-<case>.json (complete CDS Hooks
order-sign requests, every prefetch key of hooks/services.json present), expected.json (the
cards each must produce) and README.md (the table). Standard library only.

Each fixture starts from one patient who meets the off-label bar with complete, normal data
(see `base()`), and changes one thing. "Today" for the tests is 2026-11-26.

    python3 scripts/build-fixtures.py        # rewrites fixtures/patients/
"""

import copy
import json
import os

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "patients")
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
CVX = "http://hl7.org/fhir/sid/cvx"
ASSESS = "https://jak-sle-cds.github.io/fhir/CodeSystem/sle-assessment"
CLIN = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"

RECENT = "2026-10-15"
OLDER = "2025-06-01"


def condition(cid, system, code, display, clinical="active", verification="confirmed"):
    return {
        "resourceType": "Condition",
        "id": cid,
        "clinicalStatus": {"coding": [{"system": CLIN, "code": clinical}]},
        "verificationStatus": {"coding": [{"system": VER, "code": verification}]},
        "code": {"coding": [{"system": system, "code": code, "display": display}], "text": display},
        "subject": {"reference": "Patient/PID"},
        "recordedDate": OLDER,
    }


def obs(oid, code, display, value, unit, ucum, date=RECENT, system=LOINC, category="laboratory"):
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": category}]}],
        "code": {"coding": [{"system": system, "code": code, "display": display}], "text": display},
        "subject": {"reference": "Patient/PID"},
        "effectiveDateTime": date,
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": ucum},
    }


def igra(result="negative", date=RECENT):
    codes = {"negative": ("260385009", "Negative"), "positive": ("10828004", "Positive")}
    code, display = codes[result]
    return {
        "resourceType": "Observation",
        "id": "igra",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "71773-6"}], "text": "IGRA"},
        "subject": {"reference": "Patient/PID"},
        "effectiveDateTime": date,
        "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": code, "display": display}], "text": display},
    }


def sledai(score, date=RECENT):
    o = obs("sledai", "sledai-2k", "SLEDAI-2K total score", score, "{score}", "{score}", date, ASSESS, "survey")
    del o["valueQuantity"]
    o["valueInteger"] = score
    return o


def med(mid, text, code=None, status="active", dose_mg=None, tablets=None, per_day=1, authored=OLDER):
    concept = {"text": text}
    if code:
        concept["coding"] = [{"system": RXNORM, "code": code, "display": text}]
    r = {
        "resourceType": "MedicationRequest",
        "id": mid,
        "status": status,
        "intent": "order",
        "subject": {"reference": "Patient/PID"},
        "authoredOn": authored,
        "medicationCodeableConcept": concept,
    }
    if dose_mg is not None or tablets is not None:
        q = ({"value": dose_mg, "unit": "mg", "system": UCUM, "code": "mg"} if dose_mg is not None
             else {"value": tablets, "unit": "tablet", "system": UCUM, "code": "{tbl}"})
        r["dosageInstruction"] = [{
            "timing": {"repeat": {"frequency": per_day, "period": 1, "periodUnit": "d"}},
            "doseAndRate": [{"doseQuantity": q}],
        }]
    return r


def statement(sid, text, code=None, status="completed"):
    concept = {"text": text}
    if code:
        concept["coding"] = [{"system": RXNORM, "code": code, "display": text}]
    return {
        "resourceType": "MedicationStatement",
        "id": sid,
        "status": status,
        "subject": {"reference": "Patient/PID"},
        "effectivePeriod": {"start": "2024-01-10", "end": "2025-01-10"},
        "medicationCodeableConcept": concept,
    }


def rzv(iid, date):
    return {
        "resourceType": "Immunization",
        "id": iid,
        "status": "completed",
        "vaccineCode": {"coding": [{"system": CVX, "code": "187"}], "text": "zoster vaccine recombinant"},
        "patient": {"reference": "Patient/PID"},
        "occurrenceDateTime": date,
    }


def draft(text="baricitinib 4 MG Oral Tablet", code="2047232", tablets=1, per_day=1, dose_mg=None, did="jak-draft"):
    r = med(did, text, code, status="draft", dose_mg=dose_mg, tablets=tablets, per_day=per_day, authored="2026-11-26")
    r["intent"] = "proposal"
    if code:  # an ingredient code: its display is the ingredient name
        r["medicationCodeableConcept"]["coding"][0]["display"] = text.split(" ")[0]
    return r


def base():
    """A patient who meets the bar: all three standard therapies tried, prednisone 15 mg/day,
    SLEDAI-2K 12, normal eGFR and CBC, negative IGRA, two RZV doses."""
    return {
        "draft": draft(),
        "conditions": [condition("sle", SNOMED, "55464009", "Systemic lupus erythematosus")],
        "medications": [
            med("pred", "prednisone 5 MG Oral Tablet", "312617", dose_mg=15),
            med("rtx", "rituximab", "121191", status="completed"),
            med("mmf", "mycophenolate mofetil", "68149", status="stopped"),
        ],
        "statements": [statement("bel", "belimumab")],
        "labs": [
            obs("egfr", "33914-3", "eGFR", 90, "mL/min/1.73m2", "mL/min/{1.73_m2}"),
            obs("alc", "731-0", "Lymphocytes", 1.5, "10*3/uL", "10*3/uL"),
            obs("anc", "751-8", "Neutrophils", 4.0, "10*3/uL", "10*3/uL"),
            obs("hb", "718-7", "Hemoglobin", 12.5, "g/dL", "g/dL"),
            igra(),
        ],
        "assessments": [sledai(12)],
        "immunizations": [rzv("rzv1", "2025-03-01"), rzv("rzv2", "2025-06-01")],
        "extra_drafts": [],
    }


def replace(items, rid, new):
    return [new if i.get("id") == rid else i for i in items] if new else [i for i in items if i.get("id") != rid]


def bundle(items, pid):
    text = json.dumps({"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in items]})
    return json.loads(text.replace("Patient/PID", f"Patient/{pid}"))


# Every prefetch key of the order-sign service (hooks/services.json) but `patient`: a key a
# request lacks would be fetched or, without a FHIR server, reported as unavailable.
with open(os.path.join(os.path.dirname(__file__), "..", "hooks", "services.json"), encoding="utf-8") as f:
    PREFETCH_KEYS = [k for k in next(s for s in json.load(f)["services"] if s["id"] == "jak-sle-order-sign")["prefetch"]
                     if k != "patient"]


def request(name, p):
    pid = f"pat-{name}"
    drafts = [p["draft"]] + p["extra_drafts"]
    prefetch = {
        "patient": {"resourceType": "Patient", "id": pid, "gender": "female", "birthDate": "1986-04-02"},
    }
    for key in PREFETCH_KEYS:
        value = p.get(key, [])
        prefetch[key] = value if isinstance(value, dict) and value.get("resourceType") == "OperationOutcome" else bundle(value, pid)
    return {
        "hook": "order-sign",
        "hookInstance": f"fixture-{name}",
        "context": {"userId": "Practitioner/fixture", "patientId": pid, "draftOrders": bundle(drafts, pid)},
        "prefetch": prefetch,
    }


# ---------------------------------------------------------------------------------------------
# The fixtures: name -> (rule, what it shows, edit, expected cards, dose mg, link that must appear)
# expected cards: list of (topic, indicator) in response order.
# ---------------------------------------------------------------------------------------------

CONTRA = ("jaki-sle-contraindicated", "critical")
NOTREC = ("jaki-sle-not-recommended", "warning")
COND = ("jaki-sle-conditional", "info")
DOSE = ("jaki-dose-adjustment", "warning")
PRE_INFO = ("jaki-pre-treatment-screening", "info")
PRE_WARN = ("jaki-pre-treatment-screening", "warning")
TYK2 = ("jaki-tyk2-investigational", "info")
CART = "CAR-T"
RANK = {"critical": 0, "warning": 1, "info": 2}


def add(key, *items):
    def edit(p):
        p[key] = p[key] + list(items)
    return edit


def lab(rid, value, date=RECENT):
    def edit(p):
        old = next(i for i in p["labs"] if i["id"] == rid)
        new = copy.deepcopy(old)
        new["valueQuantity"]["value"] = value
        new["effectiveDateTime"] = date
        p["labs"] = replace(p["labs"], rid, new)
    return edit


def drop(key, rid):
    def edit(p):
        p[key] = replace(p[key], rid, None)
    return edit


def set_pred(mg=None, tablets=None, text="prednisone 5 MG Oral Tablet", code="312617"):
    def edit(p):
        p["medications"] = replace(p["medications"], "pred", med("pred", text, code, dose_mg=mg, tablets=tablets))
    return edit


def set_sledai(score, date=RECENT):
    def edit(p):
        p["assessments"] = [sledai(score, date)]
    return edit


def set_draft(**kw):
    def edit(p):
        p["draft"] = draft(**kw)
    return edit


def both(*edits):
    def edit(p):
        for e in edits:
            e(p)
    return edit


LOW_BAR = both(set_pred(mg=5), set_sledai(4))  # no severity criterion met

FIXTURES = [
    # 4.1 contraindications
    ("contra-vte-active", "4.1 VTE history", "active pulmonary embolism (ICD-10-CM I26.99)",
     add("conditions", condition("pe", ICD10, "I26.99", "Other pulmonary embolism without acute cor pulmonale")),
     [CONTRA], None, CART),
    ("contra-vte-resolved", "4.1 VTE history", "resolved DVT (SNOMED 128053003) still counts as history",
     add("conditions", condition("dvt", SNOMED, "128053003", "Deep venous thrombosis", clinical="resolved")),
     [CONTRA], None, CART),
    ("contra-vte-history-code", "4.1 VTE history", "personal history of DVT (ICD-10-CM Z86.718)",
     add("conditions", condition("hx", ICD10, "Z86.718", "Personal history of other venous thrombosis and embolism")),
     [CONTRA], None, None),
    ("contra-active-tb", "4.1 active TB", "active pulmonary TB (ICD-10-CM A15.0)",
     add("conditions", condition("tb", ICD10, "A15.0", "Tuberculosis of lung")),
     [CONTRA], None, None),
    ("contra-lupus-nephritis-active", "4.1 active lupus nephritis", "active LN (ICD-10-CM M32.14), UPCR 3.5 g/g",
     both(add("conditions", condition("ln", ICD10, "M32.14", "Glomerular disease in systemic lupus erythematosus")),
          add("labs", obs("upcr", "2890-2", "Protein/Creatinine ratio", 3.5, "g/g", "g/g"))),
     [CONTRA], None, CART),
    ("contra-cns-lupus", "4.1 CNS lupus", "neuropsychiatric lupus (SNOMED 1144942002)",
     add("conditions", condition("cns", SNOMED, "1144942002", "Neuropsychiatric systemic lupus erythematosus")),
     [CONTRA], None, None),
    ("contra-egfr-29_9", "4.1 eGFR < 30 (baricitinib) / boundary", "eGFR 29.9",
     lab("egfr", 29.9), [CONTRA], None, None),
    ("contra-alc-low", "4.1 cytopenia", "ALC 0.4 x10^3/uL", lab("alc", 0.4), [CONTRA], None, None),
    ("contra-anc-low", "4.1 cytopenia", "ANC 0.9 x10^3/uL", lab("anc", 0.9), [CONTRA], None, None),
    ("contra-hb-low", "4.1 cytopenia", "Hb 7.9 g/dL", lab("hb", 7.9), [CONTRA], None, None),
    ("contra-hb-tofacitinib", "4.1 cytopenia (tofacitinib Hb < 9)", "tofacitinib with Hb 8.5 g/dL",
     both(lab("hb", 8.5), set_draft(text="tofacitinib 5 MG Oral Tablet", code="1357541", per_day=2)),
     [CONTRA], None, None),
    ("boundary-egfr-30", "4.1/4.4 eGFR boundary", "eGFR 30: not contraindicated, reduced dose",
     lab("egfr", 30), [COND, DOSE], 2, None),
    ("boundary-egfr-59_9", "4.4 eGFR boundary", "eGFR 59.9: reduced dose",
     lab("egfr", 59.9), [COND, DOSE], 2, None),
    ("boundary-egfr-60", "4.4 eGFR boundary", "eGFR 60: standard dose, no dose card",
     lab("egfr", 60), [COND], None, None),
    ("other-upadacitinib-egfr-25", "4.1 eGFR < 30 (other agents: warning)", "upadacitinib with eGFR 25",
     both(lab("egfr", 25), set_draft(text="upadacitinib 30 MG Extended Release Oral Tablet", code="2196092")),
     [NOTREC], None, CART),
    # refuted / entered-in-error / remission
    ("refuted-vte", "1/2 refuted conditions", "DVT refuted: ignored",
     add("conditions", condition("dvt", SNOMED, "128053003", "Deep venous thrombosis", verification="refuted")),
     [COND], None, None),
    ("entered-in-error-tb", "1/2 entered-in-error", "active TB entered in error: ignored",
     add("conditions", condition("tb", ICD10, "A15.0", "Tuberculosis of lung", verification="entered-in-error")),
     [COND], None, None),
    ("ln-remission", "4.1 LN in remission does not exclude", "LN (M32.14) in remission",
     add("conditions", condition("ln", ICD10, "M32.14", "Glomerular disease in SLE", clinical="remission")),
     [COND], None, None),
    ("no-sle", "1 no SLE", "no SLE condition: no cards",
     drop("conditions", "sle"), [], None, None),
    ("no-sle-refuted", "1 no SLE", "SLE refuted: no cards",
     lambda p: p.update(conditions=[condition("sle", SNOMED, "55464009", "Systemic lupus erythematosus", verification="refuted")]),
     [], None, None),
    ("out-of-scope-order", "1 no in-scope order", "methotrexate draft: no cards",
     set_draft(text="methotrexate 2.5 MG Oral Tablet", code="105585", tablets=6), [], None, None),
    # 4.2 off-label bar
    ("bar-belimumab-untried", "4.2 standard therapies not exhausted", "no belimumab on record",
     drop("statements", "bel"), [NOTREC], None, CART),
    ("bar-no-severity", "4.2 no severity criterion", "prednisone 5 mg/day, SLEDAI-2K 4, no MSK/cutaneous",
     LOW_BAR, [NOTREC], None, CART),
    ("boundary-gc-9_9", "4.2 glucocorticoid boundary", "prednisone 9.9 mg/day, SLEDAI-2K 4",
     both(LOW_BAR, set_pred(mg=9.9)), [NOTREC], None, None),
    ("boundary-gc-10", "4.2 glucocorticoid boundary", "prednisone 10 mg/day, SLEDAI-2K 4",
     both(LOW_BAR, set_pred(mg=10)), [COND], None, None),
    ("bar-gc-methylprednisolone", "4.2 glucocorticoid equivalence", "methylprednisolone 2 x 4 mg tablets = 10 mg/day prednisone-equivalent",
     both(LOW_BAR, set_pred(tablets=2, text="methylprednisolone 4 MG Oral Tablet", code="259966")), [COND], None, None),
    ("boundary-sledai-10", "4.2 SLEDAI-2K boundary", "SLEDAI-2K 10, prednisone 5 mg/day",
     both(LOW_BAR, set_sledai(10)), [NOTREC], None, None),
    ("boundary-sledai-11", "4.2 SLEDAI-2K boundary", "SLEDAI-2K 11, prednisone 5 mg/day",
     both(LOW_BAR, set_sledai(11)), [COND], None, None),
    ("bar-sledai-stale", "4.2 data older than a window", "SLEDAI-2K 14 from 7 months ago, prednisone 5 mg/day",
     both(LOW_BAR, set_sledai(14, "2026-04-20")), [NOTREC], None, None),
    ("bar-msk-cutaneous", "4.2 MSK/cutaneous predominant", "SLE arthritis (SNOMED 95408003), prednisone 5 mg/day, SLEDAI-2K 4",
     both(LOW_BAR, add("conditions", condition("arth", SNOMED, "95408003", "Arthritis due to SLE"))), [COND], None, None),
    # 4.3
    ("conditional-baricitinib", "4.3 conditionally permitted", "bar met, nothing contraindicated, baricitinib 4 mg",
     lambda p: None, [COND], None, None),
    # fail safe
    ("failsafe-egfr-stale", "fail safe: data older than a window", "eGFR from 13 months ago",
     lab("egfr", 90, "2025-10-20"), [NOTREC], None, None),
    ("failsafe-cbc-missing", "fail safe: CBC missing", "no ALC/ANC/Hb",
     both(drop("labs", "alc"), drop("labs", "anc"), drop("labs", "hb")), [NOTREC, PRE_INFO], None, None),
    ("failsafe-unreadable-lab", "fail safe: unreadable resource", "one lab Observation cannot be parsed",
     add("labs", {"resourceType": "Observation", "id": "broken", "status": "final",
                  "code": {"coding": [{"system": LOINC, "code": "33914-3"}]}, "valueQuantity": {"value": "n/a"}}),
     [NOTREC], None, None),
    ("failsafe-labs-unavailable", "fail safe: data unavailable", "labs prefetch is an OperationOutcome",
     lambda p: p.update(labs={"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "timeout"}]}),
     [NOTREC, PRE_INFO], None, None),
    # 4.4 dose
    ("dose-2mg-no-reason", "4.4 ordered reduced dose without reason", "baricitinib 2 mg, eGFR 90",
     set_draft(text="baricitinib 2 MG Oral Tablet"), [COND, DOSE], 4, None),
    ("dose-4mg-egfr-45", "4.4 reduce for eGFR 30-<60", "baricitinib 4 mg, eGFR 45",
     lab("egfr", 45), [COND, DOSE], 2, None),
    ("dose-4mg-probenecid", "4.4 reduce for OAT3 inhibitor", "baricitinib 4 mg with probenecid",
     add("medications", med("prob", "probenecid 500 MG Oral Tablet", None, tablets=1, per_day=2)), [COND, DOSE], 2, None),
    ("dose-2mg-egfr-45", "4.4 reduced dose with reason", "baricitinib 2 mg, eGFR 45: no dose card",
     both(lab("egfr", 45), set_draft(text="baricitinib 2 MG Oral Tablet")), [COND], None, None),
    ("dose-unreadable", "4.4 dose cannot be read", "baricitinib order without dosageInstruction",
     lambda p: p["draft"].pop("dosageInstruction"), [COND, DOSE], 4, None),
    # 4.5 other agents
    ("other-tofacitinib", "4.5 other JAK inhibitors", "tofacitinib 5 mg twice daily (sandbox product code)",
     set_draft(text="tofacitinib 5 MG Oral Tablet", code="1357541", per_day=2), [NOTREC], None, None),
    ("other-ruxolitinib", "4.5 other JAK inhibitors", "ruxolitinib 10 mg twice daily",
     set_draft(text="ruxolitinib 10 MG Oral Tablet", code="1193331", per_day=2), [NOTREC], None, None),
    ("other-upadacitinib", "4.5 upadacitinib like baricitinib", "upadacitinib 30 mg, bar met",
     set_draft(text="upadacitinib 30 MG Extended Release Oral Tablet", code="2196092"), [COND], None, None),
    # 4.6 before starting
    ("pre-no-tb-screening", "4.6 TB screening", "no IGRA/TST",
     drop("labs", "igra"), [COND, PRE_INFO], None, None),
    ("pre-latent-tb", "4.6 latent TB untreated", "latent TB (ICD-10-CM Z22.7)",
     add("conditions", condition("ltbi", ICD10, "Z22.7", "Latent tuberculosis")), [PRE_WARN, COND], None, None),
    ("pre-igra-positive", "4.6 positive IGRA", "IGRA positive",
     lambda p: p.update(labs=replace(p["labs"], "igra", igra("positive"))), [PRE_WARN, COND], None, None),
    ("pre-igra-positive-treated", "4.6 positive IGRA, latent TB treated", "IGRA positive with treated latent TB (ICD-10-CM Z86.15)",
     both(lambda p: p.update(labs=replace(p["labs"], "igra", igra("positive"))),
          add("conditions", condition("ltbi-tx", ICD10, "Z86.15", "Personal history of latent tuberculosis infection", clinical="resolved"))),
     [COND, PRE_INFO], None, None),
    ("pre-no-zoster-vaccine", "4.6 zoster vaccine", "no RZV",
     lambda p: p.update(immunizations=[]), [COND, PRE_INFO], None, None),
    ("pre-combination-azathioprine", "4.6 combination therapy", "azathioprine active",
     add("medications", med("aza", "azathioprine 50 MG Oral Tablet", "1256", tablets=2)), [PRE_WARN, COND], None, None),
    ("pre-pregnancy", "4.6 pregnancy", "pregnancy (ICD-10-CM Z33.1)",
     add("conditions", condition("preg", ICD10, "Z33.1", "Pregnant state, incidental")), [PRE_WARN, COND], None, None),
    # two in-scope drafts: one card set per order, critical/warning/info order across them
    ("multi-order", "4.4/4.5 two orders", "baricitinib 4 mg and tofacitinib 5 mg twice daily, eGFR 45",
     both(lab("egfr", 45), lambda p: p["extra_drafts"].append(
         draft(text="tofacitinib 5 MG Oral Tablet", code="1357541", per_day=2, did="jak-draft-2"))),
     [COND, DOSE, NOTREC], 2, None),
    # 4.7
    ("tyk2-deucravacitinib", "4.7 deucravacitinib", "deucravacitinib 6 mg, bar met",
     set_draft(text="deucravacitinib 6 MG Oral Tablet", code="2612087"), [NOTREC, TYK2], None, "deucravacitinib"),
]


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".json"):
            os.remove(os.path.join(OUT, f))
    expected = {}
    rows = []
    for name, rule, what, edit, cards, dose, link in FIXTURES:
        p = base()
        edit(p)
        # The engine puts critical cards first, then warning, then info (stable).
        cards = sorted(cards, key=lambda c: RANK[c[1]])
        with open(os.path.join(OUT, f"{name}.json"), "w") as fh:
            json.dump(request(name, p), fh, indent=1)
            fh.write("\n")
        expected[name] = {"rule": rule, "cards": [list(c) for c in cards], "dose_mg": dose, "link": link}
        shown = ", ".join(f"{t} ({i})" for t, i in cards) or "no cards"
        rows.append(f"| `{name}.json` | {rule} | {what} | {shown} | {dose if dose else ''} |")
    with open(os.path.join(OUT, "expected.json"), "w") as fh:
        json.dump(expected, fh, indent=1)
        fh.write("\n")
    with open(os.path.join(OUT, "README.md"), "w") as fh:
        fh.write("# Clinical fixtures\n\n")
        fh.write("Complete CDS Hooks `order-sign` requests, one per rule of knowledge.md 4.1-4.8 and per boundary. ")
        fh.write("Generated by `scripts/build-fixtures.py` (edit it, not the JSON); `expected.json` holds what ")
        fh.write("`tests/clinical_fixtures.rs` asserts, evaluated as of 2026-11-26. Every fixture starts from a patient ")
        fh.write("who meets the off-label bar with complete, normal data (rituximab, mycophenolate and belimumab tried; ")
        fh.write("prednisone 15 mg/day; SLEDAI-2K 12; eGFR 90; normal CBC; negative IGRA; two RZV doses; draft ")
        fh.write("baricitinib 4 mg once daily) and changes one thing.\n\n")
        fh.write("| fixture | rule | case | expected cards (topic, indicator), in order | proposed dose (mg) |\n")
        fh.write("| --- | --- | --- | --- | --- |\n")
        fh.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
