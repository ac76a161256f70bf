#!/usr/bin/env python3
"""Generate a synthetic FHIR Bulk Data export (NDJSON, one file per resource type) for the
`cohort` command's tests and benchmark (docs/governance.md).

    python3 scripts/gen-bulk-export.py --patients 100000 --out target/bulk-100k
    python3 scripts/gen-bulk-export.py --patients 800 --sle-prevalence 0.05 --gzip Observation \
        --bad-lines 3 --out target/bulk-small

A seeded population (same arguments, same bytes): about 0.2% of patients have SLE (a
realistic prevalence: 0.1-0.3%), each with an SLE Condition, a varied history (lupus
nephritis, VTE, TB, pregnancy, CNS lupus), standard therapies tried or not, glucocorticoids,
recent or missing labs (eGFR, lymphocytes, neutrophils, haemoglobin, UPCR, IGRA), SLEDAI-2K
scores and zoster vaccination. Everyone else has ordinary encounters, conditions, vitals and
prescriptions. Record sizes are Synthea-like (about 0.5-1.3 KB per resource, ~25 resources per
patient). `--bad-lines N` inserts N malformed lines at seeded places; `--gzip TYPE` writes that
type's file as .ndjson.gz. Python standard library only.
"""

import argparse
import gzip
import json
import os
import random
from datetime import date, timedelta

TODAY = date(2026, 12, 2)
LOINC = "http://loinc.org"
SCT = "http://snomed.info/sct"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"
RX = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
CVX = "http://hl7.org/fhir/sid/cvx"
TYPES = ["Patient", "Encounter", "Condition", "Observation", "MedicationRequest", "Immunization"]

COMMON_CONDITIONS = [
    ("I10", "Essential (primary) hypertension"), ("E78.5", "Hyperlipidemia, unspecified"),
    ("E11.9", "Type 2 diabetes mellitus without complications"), ("J45.909", "Unspecified asthma, uncomplicated"),
    ("F32.A", "Depression, unspecified"), ("K21.9", "Gastro-esophageal reflux disease without esophagitis"),
    ("M54.50", "Low back pain, unspecified"), ("E03.9", "Hypothyroidism, unspecified"),
    ("J06.9", "Acute upper respiratory infection, unspecified"), ("N39.0", "Urinary tract infection, site not specified"),
    ("M17.9", "Osteoarthritis of knee, unspecified"), ("G43.909", "Migraine, unspecified"),
    ("E66.9", "Obesity, unspecified"), ("F41.1", "Generalized anxiety disorder"), ("R51.9", "Headache, unspecified"),
]
VITALS = [
    ("8867-4", "Heart rate", 55, 100, "/min"), ("29463-7", "Body weight", 50, 110, "kg"),
    ("8302-2", "Body height", 150, 195, "cm"), ("8480-6", "Systolic blood pressure", 100, 160, "mm[Hg]"),
    ("2339-0", "Glucose [Mass/volume] in Blood", 70, 180, "mg/dL"), ("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", 120, 280, "mg/dL"),
    ("39156-5", "Body mass index (BMI) [Ratio]", 18, 40, "kg/m2"),
]
COMMON_MEDS = [
    ("197361", "amlodipine 5 MG Oral Tablet"), ("617318", "atorvastatin 20 MG Oral Tablet"),
    ("860975", "metformin hydrochloride 500 MG Oral Tablet"), ("966247", "levothyroxine sodium 0.05 MG Oral Tablet"),
    ("636676", "omeprazole 20 MG Delayed Release Oral Capsule"), ("313782", "acetaminophen 325 MG Oral Tablet"),
    ("310965", "ibuprofen 200 MG Oral Tablet"), ("314076", "lisinopril 10 MG Oral Tablet"),
]
VACCINES = [("208", "SARS-COV-2 (COVID-19) vaccine, mRNA"), ("150", "Influenza, injectable, quadrivalent"),
            ("33", "pneumococcal polysaccharide PPV23"), ("115", "Tdap")]


class Export:
    def __init__(self, rng, gz_types):
        self.rng = rng
        self.gz_types = gz_types
        self.lines = {t: [] for t in TYPES}
        self.n = 0

    def d(self, days_ago):
        return (TODAY - timedelta(days=days_ago)).isoformat()

    def rid(self, kind):
        self.n += 1
        return f"{kind[:3].lower()}-{self.n:09d}"

    def meta(self):
        r = self.rng
        return {"versionId": str(r.randint(1, 9)), "lastUpdated": self.d(r.randint(0, 900)) + "T08:00:00.000Z",
                "source": "#ehr-" + "%016x" % r.getrandbits(64),
                "profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-" + "condition"]}

    def ident(self, kind):
        return [{"use": "official", "system": "urn:oid:2.16.840.1.113883.19.5.99999." + kind,
                 "value": "%s-%012x" % (kind, self.rng.getrandbits(48))}]

    def add(self, resource):
        self.lines[resource["resourceType"]].append(json.dumps(resource, separators=(",", ":")))

    def patient(self, pid, gender, birth):
        r = self.rng
        self.add({"resourceType": "Patient", "id": pid, "meta": self.meta(), "identifier": self.ident("mrn") + self.ident("ssn"),
                  "active": True, "name": [{"use": "official", "family": r.choice(["Smith", "Garcia", "Nguyen", "Okafor", "Müller", "Rossi"]),
                                              "given": [r.choice(["Ana", "Maria", "John", "Wei", "Fatima", "Lena", "Sam"])], "prefix": ["Ms."]}],
                  "telecom": [{"system": "phone", "value": "555-%04d" % r.randint(0, 9999), "use": "home"}],
                  "gender": gender, "birthDate": birth.isoformat(),
                  "address": [{"line": [f"{r.randint(1, 999)} Main Street"], "city": "Springfield", "state": "MA",
                               "postalCode": "%05d" % r.randint(1000, 99999), "country": "US"}],
                  "maritalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "M"}]},
                  "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "en-US", "display": "English"}]}}],
                  "extension": [{"url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex", "valueCode": gender[0].upper()}]})

    def encounter(self, pid, days_ago):
        self.add({"resourceType": "Encounter", "id": self.rid("Encounter"), "meta": self.meta(), "identifier": self.ident("enc"),
                  "status": "finished", "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                  "type": [{"coding": [{"system": SCT, "code": "185349003", "display": "Encounter for check up (procedure)"}],
                            "text": "Encounter for check up (procedure)"}],
                  "subject": {"reference": f"Patient/{pid}"},
                  "participant": [{"individual": {"reference": "Practitioner/pract-%04d" % self.rng.randint(1, 300), "display": "Dr. Example"}}],
                  "period": {"start": self.d(days_ago) + "T09:00:00Z", "end": self.d(days_ago) + "T09:30:00Z"},
                  "serviceProvider": {"reference": "Organization/org-1", "display": "Springfield General"}})

    def condition(self, pid, system, code, display, status="active", onset=2000):
        self.add({"resourceType": "Condition", "id": self.rid("Condition"), "meta": self.meta(), "identifier": self.ident("cond"),
                  "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": status}]},
                  "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]},
                  "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": "problem-list-item"}]}],
                  "code": {"coding": [{"system": system, "code": code, "display": display}], "text": display},
                  "subject": {"reference": f"Patient/{pid}"}, "onsetDateTime": self.d(onset), "recordedDate": self.d(max(onset - 3, 0))})

    def obs(self, pid, code, display, value, unit, days_ago, category="laboratory", interpretation=None):
        o = {"resourceType": "Observation", "id": self.rid("Observation"), "meta": self.meta(), "identifier": self.ident("obs"),
             "status": "final",
             "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": category}]}],
             "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display},
             "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": self.d(days_ago) + "T09:30:00Z",
             "issued": self.d(days_ago) + "T14:00:00.000Z",
             "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit}}
        if interpretation:
            o["interpretation"] = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": interpretation}]}]
        self.add(o)

    def sledai(self, pid, score, days_ago):
        self.add({"resourceType": "Observation", "id": self.rid("Observation"), "meta": self.meta(), "status": "final",
                  "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey"}]}],
                  "code": {"coding": [{"system": "https://jak-sle-cds.github.io/fhir/CodeSystem/sle-assessment", "code": "sledai-2k",
                                       "display": "SLEDAI-2K"}], "text": "SLEDAI-2K"},
                  "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": self.d(days_ago), "valueInteger": score})

    def medreq(self, pid, code, text, status, days_ago, dose=1, unit="{tbl}", freq=1):
        self.add({"resourceType": "MedicationRequest", "id": self.rid("MedicationRequest"), "meta": self.meta(),
                  "identifier": self.ident("med"), "status": status, "intent": "order",
                  "medicationCodeableConcept": {"coding": [{"system": RX, "code": code, "display": text}], "text": text},
                  "subject": {"reference": f"Patient/{pid}"}, "authoredOn": self.d(days_ago),
                  "requester": {"reference": "Practitioner/pract-%04d" % self.rng.randint(1, 300), "display": "Dr. Example"},
                  "dosageInstruction": [{"text": f"{dose} {unit} {freq} times per day",
                                         "timing": {"repeat": {"frequency": freq, "period": 1, "periodUnit": "d"}},
                                         "route": {"coding": [{"system": SCT, "code": "26643006", "display": "Oral route"}]},
                                         "doseAndRate": [{"doseQuantity": {"value": dose, "unit": unit, "system": UCUM, "code": unit}}]}]})

    def immunization(self, pid, cvx, name, days_ago):
        self.add({"resourceType": "Immunization", "id": self.rid("Immunization"), "meta": self.meta(), "status": "completed",
                  "vaccineCode": {"coding": [{"system": CVX, "code": cvx, "display": name}], "text": name},
                  "patient": {"reference": f"Patient/{pid}"}, "occurrenceDateTime": self.d(days_ago), "primarySource": True,
                  "lotNumber": "%08X" % self.rng.getrandbits(32)})

    def ordinary(self, pid):
        r = self.rng
        for _ in range(r.randint(2, 7)):
            self.encounter(pid, r.randint(1, 3000))
        for code, display in r.sample(COMMON_CONDITIONS, r.randint(1, 5)):
            self.condition(pid, ICD, code, display, r.choice(["active", "active", "resolved"]), r.randint(30, 4000))
        for code, display, lo, hi, unit in r.sample(VITALS, r.randint(4, 7)):
            for _ in range(r.randint(1, 2)):
                self.obs(pid, code, display, round(r.uniform(lo, hi), 1), unit, r.randint(1, 2000), "vital-signs")
        for code, text in r.sample(COMMON_MEDS, r.randint(0, 4)):
            self.medreq(pid, code, text, r.choice(["active", "stopped", "completed"]), r.randint(10, 2000))
        for cvx, name in r.sample(VACCINES, r.randint(0, 3)):
            self.immunization(pid, cvx, name, r.randint(30, 3000))

    def sle(self, pid, female):
        r = self.rng
        self.condition(pid, *r.choice([(SCT, "55464009", "Systemic lupus erythematosus"),
                                       (ICD, "M32.9", "Systemic lupus erythematosus, unspecified"),
                                       (ICD, "M32.10", "Systemic lupus erythematosus, organ or system involvement unspecified")]),
                       "active", r.randint(400, 6000))
        if r.random() < 0.15:
            self.condition(pid, ICD, "M32.14", "Glomerular disease in systemic lupus erythematosus",
                           r.choice(["active", "resolved"]), r.randint(100, 3000))
        if r.random() < 0.08:
            self.condition(pid, ICD, "I26.99", "Other pulmonary embolism without acute cor pulmonale", "resolved", r.randint(200, 3000))
        if r.random() < 0.03:
            self.condition(pid, ICD, "A15.0", "Tuberculosis of lung", "active", r.randint(10, 200))
        if r.random() < 0.05:
            self.condition(pid, ICD, "Z22.7", "Latent tuberculosis", "active", r.randint(100, 2000))
        if female and r.random() < 0.03:
            self.condition(pid, ICD, "Z33.1", "Pregnant state, incidental", "active", r.randint(10, 150))
        if r.random() < 0.5:
            self.medreq(pid, "979092", "hydroxychloroquine sulfate 200 MG Oral Tablet", "active", r.randint(300, 3000), 1, "{tbl}", 2)
        if r.random() < 0.6:
            self.medreq(pid, "312617", "prednisone 5 MG Oral Tablet", "active", r.randint(10, 120), r.choice([1, 2, 3, 4]))
        for p, code, text in [(0.5, "311627", "mycophenolate mofetil 500 MG Oral Tablet"),
                              (0.35, "1098137", "belimumab 120 MG Injection"),
                              (0.3, "1657079", "rituximab 10 MG/ML Injectable Solution"),
                              (0.1, "1437970", "cyclophosphamide 50 MG Oral Capsule")]:
            if r.random() < p:
                self.medreq(pid, code, text, r.choice(["stopped", "completed"]), r.randint(200, 2500))
        if r.random() < 0.85:
            days = r.randint(5, 200)
            self.obs(pid, "62238-1", "GFR/BSA.pred SerPlBld CKD-EPI-ar", round(r.choice([r.uniform(60, 110), r.uniform(60, 110), r.uniform(15, 60)]), 1),
                     "mL/min/{1.73_m2}", days)
            self.obs(pid, "731-0", "Lymphocytes # Bld AutoCnt", round(r.uniform(0.3, 2.5), 2), "10*3/uL", days)
            self.obs(pid, "751-8", "Neutrophils # Bld AutoCnt", round(r.uniform(0.7, 6.0), 2), "10*3/uL", days)
            self.obs(pid, "718-7", "Hgb Bld-mCnc", round(r.uniform(7.0, 14.0), 1), "g/dL", days)
        if r.random() < 0.6:
            self.obs(pid, "2890-2", "Protein/Creat Ur", round(r.uniform(0.05, 2.5), 2), "g/g", r.randint(5, 300))
        if r.random() < 0.6:
            pos = r.random() < 0.1
            self.obs(pid, "71773-6", "M tb IFN-g Bld-aCnc", 0.9 if pos else 0.05, "[IU]/mL", r.randint(10, 400),
                     interpretation="POS" if pos else "NEG")
        if r.random() < 0.7:
            self.sledai(pid, r.randint(0, 18), r.randint(5, 200))
        if r.random() < 0.4:
            self.immunization(pid, "187", "zoster vaccine recombinant, adjuvanted", r.randint(60, 1500))

    def bad(self, count):
        kinds = ['{"resourceType":"Observation","id":"broken",', "not json at all", "[1,2,3]", '{"id":"no-type"}']
        for k in range(count):
            t = self.rng.choice(TYPES)
            lines = self.lines[t]
            lines.insert(self.rng.randint(0, len(lines)), kinds[k % len(kinds)])

    def write(self, out):
        os.makedirs(out, exist_ok=True)
        total = 0
        for t, lines in self.lines.items():
            data = ("\n".join(lines) + "\n").encode() if lines else b""
            total += len(data)
            if t in self.gz_types:
                with gzip.open(os.path.join(out, f"{t}.ndjson.gz"), "wb", compresslevel=6) as f:
                    f.write(data)
            else:
                with open(os.path.join(out, f"{t}.ndjson"), "wb") as f:
                    f.write(data)
        return total


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patients", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=20261202)
    ap.add_argument("--sle-prevalence", type=float, default=0.002)
    ap.add_argument("--bad-lines", type=int, default=0)
    ap.add_argument("--gzip", action="append", default=[], choices=TYPES)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    export = Export(rng, set(args.gzip))
    sle = 0
    for i in range(args.patients):
        pid = f"pat-{i:07d}"
        female = rng.random() < (0.9 if rng.random() < args.sle_prevalence * 3 else 0.5)
        age_days = rng.randint(18 * 365, 85 * 365)
        export.patient(pid, "female" if female else "male", TODAY - timedelta(days=age_days))
        export.ordinary(pid)
        if rng.random() < args.sle_prevalence:
            export.sle(pid, female)
            sle += 1
    export.bad(args.bad_lines)
    total = export.write(args.out)
    print(f"{args.out}: {args.patients} patients, {sle} with SLE, {total / 1e6:.1f} MB of NDJSON")


if __name__ == "__main__":
    main()
