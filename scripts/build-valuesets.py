#!/usr/bin/env python3
"""Build the FHIR ValueSet files under hooks/valuesets/ (and the local CodeSystem under
hooks/codesystems/) from the shared terminology expansions (../shared/terminology/*.tsv)
and the codes named in ../shared/clinical/knowledge.md sections 3c and 3d.

Python 3.11, standard library only. Run from anywhere:

    python3 scripts/build-valuesets.py            # writes hooks/valuesets/*.json
    python3 scripts/build-valuesets.py --check    # exits 1 when the committed files differ

The generated JSON is committed: the service never reads ../shared at run time.
Every inclusion and exclusion decision is made here, in code, with its reason; docs/clinical-decisions.md
lists them for readers.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TERMINOLOGY = REPO.parent / "shared" / "terminology"
OUT = REPO / "hooks" / "valuesets"
CS_OUT = REPO / "hooks" / "codesystems"

BASE = "https://jak-sle-cds.github.io/fhir"
# Fixed so that regenerating with unchanged inputs gives byte-identical files.
EXPANSION_TIMESTAMP = "2026-11-26T00:00:00Z"

ICD = "http://hl7.org/fhir/sid/icd-10-cm"
SCT = "http://snomed.info/sct"
LOINC = "http://loinc.org"
CVX = "http://hl7.org/fhir/sid/cvx"
LOCAL = f"{BASE}/CodeSystem/sle-assessment"

KNOWLEDGE = "../shared/clinical/knowledge.md"


# --------------------------------------------------------------------------------------------
# Reading the shared expansions
# --------------------------------------------------------------------------------------------

def icd_dotted(code: str) -> str:
    """A150 -> A15.0; I8290 -> I82.90; M320 -> M32.0; codes of three characters stay."""
    code = code.strip().upper().replace(".", "")
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"


def read_tsv(name: str) -> list[tuple[str, str, str]]:
    """(system, code, display) rows; icd_*.tsv files have no system column and no dot."""
    path = TERMINOLOGY / name
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        cols = line.split("\t")
        if name.startswith("icd_"):
            if len(cols) != 2:
                sys.exit(f"{path}:{n}: expected 2 columns, got {len(cols)}")
            rows.append((ICD, icd_dotted(cols[0]), cols[1].strip()))
        else:
            if len(cols) != 3:
                sys.exit(f"{path}:{n}: expected 3 columns, got {len(cols)}")
            system, code, display = (c.strip() for c in cols)
            if system == ICD:
                code = icd_dotted(code)
            rows.append((system, code, display))
    return rows


def matches(code: str, patterns: list[str]) -> bool:
    """ICD patterns: 'I26.*' prefix, 'I80.1*-I80.3' range (inclusive, by prefix), or exact."""
    for p in patterns:
        if "-" in p:
            lo, hi = (x.rstrip("*") for x in p.split("-"))
            # Compare the code cut to the bound's length so that 'I82.C*' includes I82.C11.
            if lo <= code[: len(lo)] and code[: len(hi)] <= hi:
                return True
        elif p.endswith("*"):
            if code.startswith(p[:-1]):
                return True
        elif code == p:
            return True
    return False


def select(rows, patterns: list[str]):
    return [r for r in rows if r[0] == ICD and matches(r[1], patterns)]


def snomed(rows):
    return [r for r in rows if r[0] == SCT]


def named(system: str, codes: dict[str, str | None], section: str):
    """Codes named in knowledge.md with the display we know; None -> a neutral display."""
    return [
        (system, code, display or f"Concept listed in knowledge.md {section} (display not verified)")
        for code, display in codes.items()
    ]


# --------------------------------------------------------------------------------------------
# Value set definitions
# --------------------------------------------------------------------------------------------

def build() -> dict[str, dict]:
    lupus = read_tsv("lupus.tsv")
    m32 = read_tsv("icd_m32.tsv")
    i26 = read_tsv("icd_i26.tsv") + read_tsv("air_thromb_embol.tsv")
    i80 = read_tsv("icd_i80.tsv")
    i82 = read_tsv("icd_i82.tsv")
    vte = read_tsv("vte.tsv")
    vte_preg = read_tsv("vte_preg.tsv")
    z86 = read_tsv("icd_z86.tsv")
    tb = read_tsv("active_tb.tsv") + sum(
        (read_tsv(f"icd_a1{n}.tsv") for n in (5, 7, 8, 9)), []
    )
    r76 = read_tsv("icd_r76.tsv")
    b02 = read_tsv("icd_b02.tsv")
    l93 = read_tsv("icd_l93.tsv")
    preg = read_tsv("pregnant_state.tsv") + read_tsv("icd_z33.tsv")
    egfr = read_tsv("egfr.tsv")
    hgb = read_tsv("hgb.tsv")

    # Drug-induced lupus (ICD M32.0 and the SNOMED drug-induced concepts of VSAC "Lupus") is
    # not SLE: it resolves when the drug is stopped and the SLE evidence does not apply.
    drug_induced = {"M32.0", "201436003", "22888007", "54912002", "61458006", "80258006"}
    # VSAC "Lupus" also holds concepts that are not SLE or one of its descendants: the generic
    # parent "Lupus erythematosus" and cutaneous-only forms. They do not establish SLE.
    not_sle = {"200936003", "239886003", "239888002"}
    sle_rows = [r for r in m32 + lupus if r[1] not in drug_induced | not_sle]

    vte_icd = [
        "I26.*", "I80.1*-I80.3", "I80.9", "I82.2*", "I82.4*", "I82.5*", "I82.6*",
        "I82.A*-I82.C*", "I82.890", "I82.90", "O22.3*", "O87.1", "O88.2*",
        "Z86.711", "Z86.718",
    ]
    vte_rows = (
        select(i26 + i80 + i82 + vte + vte_preg + z86, vte_icd)
        + snomed(vte)
        + named(ICD, {
            "O87.1": "Deep phlebothrombosis in the puerperium",
            "O88.211": "Thromboembolism in pregnancy, first trimester",
        }, "3c")
        + named(SCT, {
            "128053003": "Deep venous thrombosis (disorder)",
            "59282003": "Pulmonary embolism (disorder)",
            "233935004": "Pulmonary thromboembolism (disorder)",
            "404223003": "Deep venous thrombosis of lower extremity (disorder)",
            "429098002": "Thromboembolism of vein (disorder)",
            "444325005": "Deep vein thrombosis of bilateral lower extremities (disorder)",
            "161512003": "History of venous thromboembolism (situation; listed in knowledge.md 3c)",
            "161511005": "History of venous thromboembolism (situation; listed in knowledge.md 3c)",
        }, "3c")
    )
    # Guard: everything the shared VTE expansion holds for ICD must fall in knowledge.md's ranges.
    for _, code, _ in vte:
        if code[0].isalpha() and not matches(code, vte_icd):
            sys.exit(f"vte.tsv: ICD code {code} outside the ranges of knowledge.md 3c")

    ln_sct = {
        "68815009": None, "73286009": None, "4676006": None, "76521009": None,
        "36402006": None, "52042003": None, "11013005": None, "1144973003": None,
        "308751000119106": None, "295101000119105": None, "295111000119108": None,
        "295121000119101": None,
    }
    lupus_display = {code: disp for _, code, disp in lupus}
    ln_rows = select(m32, ["M32.14", "M32.15"]) + named(
        SCT, {c: lupus_display.get(c) for c in ln_sct}, "3c"
    )

    cns_rows = named(SCT, {
        c: lupus_display.get(c) for c in
        ["1144942002", "95644001", "1263491001", "1263518006", "724781003",
         "1259517005", "724767000", "230307005"]
    }, "3c")

    msk_rows = select(l93, ["L93.0", "L93.1", "L93.2"]) + named(SCT, {
        "95408003": "Systemic lupus erythematosus arthritis (listed in knowledge.md 3c)",
        **{c: lupus_display.get(c) for c in
           ["1144970000", "200938002", "239891002", "403502003", "95332009", "239888002"]},
    }, "3c")

    a16 = {
        "A16.0": "Tuberculosis of lung, bacteriologically and histologically negative",
        "A16.1": "Tuberculosis of lung, bacteriological and histological examination not done",
        "A16.2": "Tuberculosis of lung, without mention of bacteriological or histological confirmation",
        "A16.3": "Tuberculosis of intrathoracic lymph nodes, without mention of bacteriological or histological confirmation",
        "A16.4": "Tuberculosis of larynx, trachea and bronchus, without mention of bacteriological or histological confirmation",
        "A16.5": "Tuberculous pleurisy, without mention of bacteriological or histological confirmation",
        "A16.7": "Primary respiratory tuberculosis without mention of bacteriological or histological confirmation",
        "A16.8": "Other respiratory tuberculosis, without mention of bacteriological or histological confirmation",
        "A16.9": "Respiratory tuberculosis unspecified, without mention of bacteriological or histological confirmation",
    }
    active_tb_rows = (
        select(tb, ["A15*-A19*"])
        + named(ICD, a16, "3c")
        + named(SCT, {
            "56717001": "Tuberculosis (disorder)",
            "427099000": "Active tuberculosis (disorder)",
            "25629007": "Acute tuberculosis (disorder)",
            "154283005": "Pulmonary tuberculosis (disorder)",
        }, "3c")
    )

    latent_rows = select(r76, ["R76.11", "R76.12"]) + named(
        ICD, {"Z22.7": "Latent tuberculosis"}, "3c"
    )
    latent_treated_rows = named(
        ICD, {"Z86.15": "Personal history of latent tuberculosis infection"}, "3c"
    )

    zoster_rows = select(b02, ["B02*"]) + named(SCT, {"4740000": "Herpes zoster (disorder)"}, "3c")
    preg_rows = preg_filter(preg) + named(SCT, {"77386006": None}, "3c")

    egfr_rows = egfr + named(LOINC, {
        "33914-3": "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum or Plasma by Creatinine-based formula (MDRD)",
    }, "3d")
    # Panels and plasma (free) hemoglobin are not blood hemoglobin concentrations.
    hb_rows = [r for r in hgb if r[1] not in {"24360-0", "35183-3"}]

    loinc = lambda codes: named(LOINC, codes, "3d")  # noqa: E731
    sets = {
        "sle": (
            "SystemicLupusErythematosus", "Systemic lupus erythematosus",
            "ICD-10-CM M32.* and the VSAC 'Lupus' expansion (2.16.840.1.113883.3.464.1003.117.12.1010, "
            "../shared/terminology/lupus.tsv), per knowledge.md 3c, EXCLUDING drug-induced lupus "
            "(M32.0, SNOMED 201436003, 22888007, 54912002, 61458006, 80258006: not SLE) and VSAC concepts "
            "that are not SLE or a descendant of 55464009 (200936003 lupus erythematosus, 239886003 limited "
            "lupus erythematosus, 239888002 lupus panniculitis).",
            sle_rows,
        ),
        "lupus-nephritis": (
            "LupusNephritis", "Lupus nephritis",
            f"ICD-10-CM M32.14, M32.15 and the SNOMED CT concepts of {KNOWLEDGE} 3c.",
            ln_rows,
        ),
        "cns-lupus": (
            "CnsLupus", "CNS / neuropsychiatric lupus",
            f"SNOMED CT concepts of {KNOWLEDGE} 3c. No specific ICD-10-CM code exists; M32.19 alone is not enough.",
            cns_rows,
        ),
        "msk-cutaneous": (
            "MskCutaneousLupus", "Musculoskeletal / cutaneous lupus",
            f"SLE arthritis and cutaneous lupus: SNOMED CT and ICD-10-CM L93.0-L93.2 of {KNOWLEDGE} 3c.",
            msk_rows,
        ),
        "vte": (
            "VenousThromboembolism", "Venous thromboembolism, current or history",
            f"ICD-10-CM ranges of {KNOWLEDGE} 3c (I26.*, I80.1*-I80.3, I80.9, I82.2*, I82.4*, I82.5*, "
            "I82.6*, I82.A*-I82.C*, I82.890, I82.90, O22.3*, O87.1, O88.2*; history Z86.711, Z86.718) "
            "selected from ../shared/terminology/icd_i26/i80/i82/z86.tsv, vte_preg.tsv and "
            "air_thromb_embol.tsv; SNOMED CT from the VSAC VTE expansion (vte.tsv) and the named "
            "concepts including history 161512003, 161511005.",
            vte_rows,
        ),
        "active-tb": (
            "ActiveTuberculosis", "Active tuberculosis",
            f"ICD-10-CM A15-A19 (../shared/terminology/active_tb.tsv, icd_a15/a17/a18/a19.tsv; A16.* "
            f"from the ICD-10-CM tabular list) and SNOMED CT of {KNOWLEDGE} 3c.",
            active_tb_rows,
        ),
        "latent-tb": (
            "LatentTuberculosis", "Latent tuberculosis infection (untreated)",
            f"ICD-10-CM Z22.7, R76.11, R76.12 ({KNOWLEDGE} 3c). Z86.15 (treated history) is NOT included.",
            latent_rows,
        ),
        "latent-tb-treated": (
            "LatentTuberculosisTreated", "Latent tuberculosis infection, treated (history)",
            f"ICD-10-CM Z86.15 ({KNOWLEDGE} 3c): a positive IGRA does not count as untreated latent TB when present.",
            latent_treated_rows,
        ),
        "herpes-zoster": (
            "HerpesZoster", "Herpes zoster",
            f"ICD-10-CM B02.* (../shared/terminology/icd_b02.tsv) and SNOMED CT 4740000 ({KNOWLEDGE} 3c).",
            zoster_rows,
        ),
        "pregnancy": (
            "Pregnancy", "Pregnancy",
            f"ICD-10-CM Z33.1, Z33.3 (gestational carrier: pregnant) and SNOMED CT 77386006 ({KNOWLEDGE} 3c), "
            "plus the VSAC pregnant-state expansion (../shared/terminology/pregnant_state.tsv).",
            preg_rows,
        ),
        "egfr": (
            "EgfrLoinc", "eGFR (mL/min/1.73m2)",
            f"LOINC of {KNOWLEDGE} 3d and ../shared/terminology/egfr.tsv.",
            egfr_rows,
        ),
        "upcr": (
            "UrineProteinCreatinineRatio", "Urine protein/creatinine ratio and 24-hour urine protein",
            f"LOINC 2890-2, 34366-5 and the 24-hour urine protein 2889-4 ({KNOWLEDGE} 3d).",
            loinc({
                "2890-2": "Protein/Creatinine [Mass Ratio] in Urine",
                "34366-5": None,
                "2889-4": "Protein [Mass/time] in 24 hour Urine",
            }),
        ),
        "alc": (
            "AbsoluteLymphocyteCount", "Absolute lymphocyte count",
            f"LOINC of {KNOWLEDGE} 3d.",
            loinc({
                "731-0": "Lymphocytes [#/volume] in Blood by Automated count",
                "732-8": "Lymphocytes [#/volume] in Blood by Manual count",
                "26474-7": "Lymphocytes [#/volume] in Blood",
            }),
        ),
        "anc": (
            "AbsoluteNeutrophilCount", "Absolute neutrophil count",
            f"LOINC of {KNOWLEDGE} 3d.",
            loinc({
                "751-8": "Neutrophils [#/volume] in Blood by Automated count",
                "753-4": "Neutrophils [#/volume] in Blood by Manual count",
                "26499-4": "Neutrophils [#/volume] in Blood",
            }),
        ),
        "hb": (
            "Hemoglobin", "Hemoglobin",
            f"LOINC 718-7, 59260-0 ({KNOWLEDGE} 3d) and the blood hemoglobin codes of "
            "../shared/terminology/hgb.tsv (panel 24360-0 and plasma 35183-3 excluded).",
            hb_rows,
        ),
        "igra": (
            "InterferonGammaReleaseAssay", "Interferon-gamma release assay (IGRA)",
            f"LOINC of {KNOWLEDGE} 3d.",
            loinc({"71773-6": None, "46217-6": None, "71775-1": None}),
        ),
        "tst": (
            "TuberculinSkinTest", "Tuberculin skin test",
            f"LOINC of {KNOWLEDGE} 3d.",
            loinc({"39263-9": None}),
        ),
        "sledai-2k": (
            "Sledai2k", "SLEDAI-2K score",
            "No LOINC exists (knowledge.md 3d): the local code system sle-assessment. Add a site's own "
            "codes here; a text fallback also matches 'SLEDAI-2K', 'SLEDAI 2K', 'SLEDAI' in code.text/display.",
            [(LOCAL, "sledai-2k", "SLEDAI-2K total score")],
        ),
        "prednisone-equivalent-dose": (
            "PrednisoneEquivalentDose", "Current prednisone-equivalent dose",
            "Local code for an Observation holding the current glucocorticoid dose in mg/day "
            "prednisone-equivalent (knowledge.md 2). Add a site's own codes here.",
            [(LOCAL, "prednisone-equivalent-dose", "Current glucocorticoid dose, prednisone-equivalent (mg/day)")],
        ),
        "zoster-vaccine": (
            "RecombinantZosterVaccine", "Recombinant zoster vaccine",
            f"CVX 187 ({KNOWLEDGE} 2).",
            [(CVX, "187", "zoster vaccine recombinant")],
        ),
    }
    return {
        vid: valueset(vid, name, title, desc, rows)
        for vid, (name, title, desc, rows) in sets.items()
    }


def preg_filter(rows):
    # Z33.2 (encounter for termination) is not a pregnant state; the person concept is kept
    # because VSAC lists it.
    return [r for r in rows if r[1] != "Z33.2"]


def valueset(vid: str, name: str, title: str, description: str, rows) -> dict:
    seen: dict[tuple[str, str], str] = {}
    for system, code, display in rows:
        key = (system, code)
        if key not in seen:
            seen[key] = display
    if not seen:
        sys.exit(f"value set {vid}: empty")
    contains = [
        {"system": s, "code": c, "display": d}
        for (s, c), d in sorted(seen.items(), key=lambda kv: kv[0])
    ]
    return {
        "resourceType": "ValueSet",
        "id": vid,
        "url": f"{BASE}/ValueSet/{vid}",
        "name": name,
        "title": title,
        "status": "active",
        "description": description,
        "expansion": {
            "timestamp": EXPANSION_TIMESTAMP,
            "total": len(contains),
            "contains": contains,
        },
    }


def codesystem() -> dict:
    return {
        "resourceType": "CodeSystem",
        "id": "sle-assessment",
        "url": LOCAL,
        "name": "SleAssessment",
        "title": "SLE assessment codes (jak-sle-cds)",
        "status": "active",
        "content": "complete",
        "caseSensitive": True,
        "description": "Local codes for data without a LOINC code (knowledge.md 3d).",
        "concept": [
            {"code": "sledai-2k", "display": "SLEDAI-2K total score",
             "definition": "Systemic Lupus Erythematosus Disease Activity Index 2000, integer 0-105 (Gladman 2002)."},
            {"code": "prednisone-equivalent-dose", "display": "Current glucocorticoid dose, prednisone-equivalent (mg/day)",
             "definition": "The patient's current systemic glucocorticoid dose expressed in mg/day of prednisone."},
        ],
    }


def render(obj: dict) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="fail when committed files differ")
    args = ap.parse_args()
    if not TERMINOLOGY.is_dir():
        sys.exit(f"{TERMINOLOGY}: not found (clone shared/ beside the repository)")
    files = {OUT / f"{vid}.json": render(vs) for vid, vs in build().items()}
    files[CS_OUT / "sle-assessment.json"] = render(codesystem())
    stale = [p for p, text in files.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    extra = [p for p in OUT.glob("*.json") if p not in files] if OUT.is_dir() else []
    if args.check:
        for p in stale + extra:
            print(f"out of date: {p.relative_to(REPO)}")
        return 1 if stale or extra else 0
    OUT.mkdir(parents=True, exist_ok=True)
    CS_OUT.mkdir(parents=True, exist_ok=True)
    for p in extra:
        p.unlink()
    for p, text in files.items():
        p.write_text(text, encoding="utf-8")
    print(f"wrote {len(files)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
