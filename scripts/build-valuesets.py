#!/usr/bin/env python3
"""Build the FHIR ValueSet files under hooks/valuesets/ (and the local CodeSystem under
hooks/codesystems/) from the shared terminology expansions (../shared/terminology/*.tsv)
and the codes named in ../shared/clinical/knowledge.md sections 2, 3b, 3c and 3d; then the
code-filtered Observation prefetch templates of hooks/services.json from those value sets.

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
# ../shared beside the repository; a git worktree nested deeper (../../shared) works too.
TERMINOLOGY = next(
    (d / "shared" / "terminology" for d in REPO.parents if (d / "shared" / "terminology").is_dir()),
    REPO.parent / "shared" / "terminology",
)
OUT = REPO / "hooks" / "valuesets"
SERVICES = REPO / "hooks" / "services.json"
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


def isa(*patterns: str) -> list[str]:
    """ICD-10-CM patterns of knowledge.md as `is-a` roots (ICD-10-CM's hierarchy is its code
    prefix): 'A40.*' -> A40; 'B02.3*' -> B02.3; 'G00.*-G02.*' -> G00, G01, G02;
    'K65.0-K65.2' -> K65.0, K65.1, K65.2 (each with its descendants, as the range in
    `matches` reads it); a code without '*' -> itself and its descendants."""
    roots: list[str] = []
    for p in patterns:
        if "-" in p:
            lo, hi = (x.removesuffix("*").removesuffix(".") for x in p.split("-"))
            n = 0
            while n < min(len(lo), len(hi)) and lo[n] == hi[n]:
                n += 1
            stem, a, b = lo[:n], lo[n:], hi[n:]
            if len(a) != len(b) or not (a.isdigit() and b.isdigit()) or int(a) > int(b):
                sys.exit(f"pattern {p}: cannot expand the range")
            roots += [f"{stem}{i:0{len(a)}d}" for i in range(int(a), int(b) + 1)]
        else:
            roots.append(p.removesuffix("*").removesuffix("."))
    return roots


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
    z22 = read_tsv("icd_z22.tsv")
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
    preg_rows = preg_filter(preg) + named(SCT, {"77386006": "Pregnant (finding)"}, "3c")

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
    out = {
        vid: valueset(vid, name, title, desc, rows)
        for vid, (name, title, desc, rows) in sets.items()
    }
    for vid, (name, title, desc, rows, roots, exclude) in build_v2(preg_rows, b02, z22).items():
        if vid in out and vid != "pregnancy":
            sys.exit(f"value set {vid} defined twice")
        out[vid] = valueset(vid, name, title, desc, rows, roots, exclude)
    return out


# Version 2 of knowledge.md (sections 2, 3b, 3c, 3d): sets with ICD-10-CM `is-a` roots.
# Each entry: (name, title, description, enumerated rows, is-a roots, excluded (roots, codes)).
NO_EXCLUDE: tuple[list[str], list[str]] = ([], [])


def build_v2(preg_rows, b02, z22) -> dict[str, tuple]:
    icd = lambda codes: named(ICD, codes, "3c")  # noqa: E731
    sct = lambda codes: named(SCT, codes, "3c")  # noqa: E731
    loinc = lambda codes: named(LOINC, codes, "3d")  # noqa: E731
    isa_note = (
        " ICD-10-CM categories are given as compose.include is-a filters (a code and all its "
        "descendants, read by code prefix); expansion.contains lists the enumerated codes."
    )
    return {
        "serious-infection-acute": (
            "SeriousInfectionAcute", "Serious infection, acute",
            "ICD-10-CM A04.7*, A40.*, A41.*, A81.2, B00.3, B00.4, B00.7, B02.0, B02.1, B02.3*, "
            "B02.7, B02.8, B02.9 (not B02.2*: post-herpetic sequelae), B25.*, B37.7, B37.81, B38.*, "
            "B39.*, B44.*, B45.*, B46.*, B59, G00.*-G02.*, G06.*, I30.1, I33.*, I40.0, J09.X1, "
            "J10.0*, J11.0*, J12.*-J18.*, J85.*, J86.*, K65.0-K65.2 (not K65.3, K65.4), L03.*, "
            "M00.*, M46.2-M46.5, M86.0*-M86.2*, N10, T81.4*, U07.1; SNOMED CT 91302008 sepsis, "
            "233604007 pneumonia, 128045006 cellulitis, 4740000 herpes zoster, 7180009 meningitis, "
            "45816000 pyelonephritis. LIMIT: knowledge.md asks for the infective descendants of "
            "233604007 and 7180009 (aseptic meningitis is an NPSLE manifestation); no SNOMED CT "
            "release is available offline, so only the listed parent concepts themselves are "
            "members: a Condition coded only with a SNOMED descendant (e.g. bacterial pneumonia) "
            "is not matched unless it also carries one of the ICD-10-CM codes." + isa_note,
            select(b02, ["B02.0", "B02.1", "B02.3*", "B02.7", "B02.8", "B02.9"])
            + icd({
                "A81.2": "Progressive multifocal leukoencephalopathy",
                "B00.3": "Herpesviral meningitis",
                "B00.4": "Herpesviral encephalitis",
                "B00.7": "Disseminated herpesviral disease",
                "B37.7": "Candidal sepsis",
                "B37.81": "Candidal esophagitis",
                "B59": "Pneumocystosis",
                "I30.1": "Infective pericarditis",
                "I40.0": "Infective myocarditis",
                "J09.X1": "Influenza due to identified novel influenza A virus with pneumonia",
                "N10": "Acute pyelonephritis",
                "U07.1": "COVID-19",
            })
            + sct({
                "91302008": "Sepsis (disorder)",
                "233604007": "Pneumonia (disorder)",
                "128045006": "Cellulitis (disorder)",
                "4740000": "Herpes zoster (disorder)",
                "7180009": "Meningitis (disorder)",
                "45816000": "Pyelonephritis (disorder)",
            }),
            isa("A04.7*", "A40.*", "A41.*", "B02.3*", "B25.*", "B38.*", "B39.*", "B44.*",
                "B45.*", "B46.*", "G00.*-G02.*", "G06.*", "I33.*", "J10.0*", "J11.0*",
                "J12.*-J18.*", "J85.*", "J86.*", "K65.0-K65.2", "L03.*", "M00.*",
                "M46.2-M46.5", "M86.0*-M86.2*", "T81.4*"),
            NO_EXCLUDE,
        ),
        "serious-infection-chronic": (
            "SeriousInfectionChronic", "Serious infection, chronic (counts while active)",
            "ICD-10-CM A31.* (non-tuberculous mycobacteria), M86.3*-M86.6* (chronic osteomyelitis), "
            "T84.5* (infected joint prosthesis); SNOMED CT 60168000 osteomyelitis." + isa_note,
            sct({"60168000": "Osteomyelitis (disorder)"}),
            isa("A31.*", "M86.3*-M86.6*", "T84.5*"),
            NO_EXCLUDE,
        ),
        "antiphospholipid": (
            "AntiphospholipidSyndrome", "Antiphospholipid syndrome",
            "ICD-10-CM D68.61, D68.62; SNOMED CT 26843008, 402865003 (SLE-associated).",
            icd({
                "D68.61": "Antiphospholipid syndrome",
                "D68.62": "Lupus anticoagulant syndrome",
            })
            + sct({
                "26843008": "Antiphospholipid syndrome (disorder)",
                "402865003": "Systemic lupus erythematosus-related antiphospholipid syndrome (disorder)",
            }),
            [],
            NO_EXCLUDE,
        ),
        "arterial-thrombosis": (
            "ArterialThrombosis", "Arterial embolism and thrombosis",
            "ICD-10-CM I74.*." + isa_note,
            [],
            isa("I74.*"),
            NO_EXCLUDE,
        ),
        "pregnancy": (
            "Pregnancy", "Pregnancy",
            "ICD-10-CM Z33.1, Z33.3 (gestational carrier: pregnant), O09.* (supervision of "
            "high-risk pregnancy), Z34.* (supervision of normal pregnancy), Z3A.* (weeks of "
            "gestation); SNOMED CT 77386006, 72892002; plus the VSAC pregnant-state expansion "
            "(../shared/terminology/pregnant_state.tsv). Z33.2 (encounter for termination) is "
            "not a pregnant state." + isa_note,
            preg_rows + sct({"72892002": "Normal pregnancy (finding)"}),
            isa("O09.*", "Z34.*", "Z3A.*"),
            NO_EXCLUDE,
        ),
        "lactation": (
            "Lactation", "Lactating (breast-feeding)",
            "ICD-10-CM Z39.1.",
            icd({"Z39.1": "Encounter for care and examination of lactating mother"}),
            [],
            NO_EXCLUDE,
        ),
        "hepatitis-b": (
            "HepatitisB", "Hepatitis B, active or carrier",
            "ICD-10-CM B16.*, B17.0, B18.0, B18.1, B19.1*, Z22.51." + isa_note,
            select(z22, ["Z22.51"])
            + icd({
                "B17.0": "Acute delta-(super) infection of hepatitis B carrier",
                "B18.0": "Chronic viral hepatitis B with delta-agent",
                "B18.1": "Chronic viral hepatitis B without delta-agent",
            }),
            isa("B16.*", "B19.1*"),
            NO_EXCLUDE,
        ),
        "hepatitis-c": (
            "HepatitisC", "Hepatitis C, active or carrier",
            "ICD-10-CM B17.1*, B18.2, B19.2*, Z22.52." + isa_note,
            select(z22, ["Z22.52"]) + icd({"B18.2": "Chronic viral hepatitis C"}),
            isa("B17.1*", "B19.2*"),
            NO_EXCLUDE,
        ),
        "hepatic-failure": (
            "HepaticFailure", "Hepatic failure",
            "ICD-10-CM K72.*." + isa_note,
            [],
            isa("K72.*"),
            NO_EXCLUDE,
        ),
        "cirrhosis": (
            "Cirrhosis", "Cirrhosis of liver",
            "ICD-10-CM K70.3* (alcoholic cirrhosis), K74.6* (other and unspecified cirrhosis)." + isa_note,
            [],
            isa("K70.3*", "K74.6*"),
            NO_EXCLUDE,
        ),
        "hepatic-decompensation": (
            "HepaticDecompensation", "Signs of hepatic decompensation",
            "ICD-10-CM ascites R18.*, esophageal varices I85.*, hepatic encephalopathy K76.82 or "
            "K72.9*: with cirrhosis, hepatic impairment is severe." + isa_note,
            icd({"K76.82": "Hepatic encephalopathy"}),
            isa("R18.*", "I85.*", "K72.9*"),
            NO_EXCLUDE,
        ),
        "smoking-condition": (
            "SmokingCondition", "Tobacco smoking, current or history (Condition)",
            "ICD-10-CM F17.21* (nicotine dependence, cigarettes), F17.29* (other tobacco "
            "product), Z87.891 (personal history of nicotine dependence)." + isa_note,
            icd({"Z87.891": "Personal history of nicotine dependence"}),
            isa("F17.21*", "F17.29*"),
            NO_EXCLUDE,
        ),
        "smoking-status": (
            "SmokingStatusSmoker", "Smoking status answers meaning current or former smoker",
            "Values of a smoking-status Observation (LOINC 72166-2) that mean a current or "
            "former smoker: SNOMED CT and LOINC answer codes. Never-smoker and unknown answers "
            "(LA18978-9, LA18980-5, SNOMED 266919005, 266927001) are not members.",
            sct({
                "449868002": "Smokes tobacco daily (finding)",
                "428041000124106": "Occasional tobacco smoker (finding)",
                "77176002": "Smoker (finding)",
                "428071000124103": "Current heavy tobacco smoker (finding)",
                "428061000124105": "Current light tobacco smoker (finding)",
                "8517006": "Ex-smoker (finding)",
                "230063004": "Heavy cigarette smoker (finding)",
                "230060001": "Light cigarette smoker (finding)",
            })
            + named(LOINC, {
                "LA18976-3": "Current every day smoker",
                "LA18977-1": "Current some day smoker",
                "LA18979-7": "Smoker, current status unknown",
                "LA18981-3": "Heavy tobacco smoker",
                "LA18982-1": "Light tobacco smoker",
                "LA15920-4": "Former smoker",
            }, "2"),
            [],
            NO_EXCLUDE,
        ),
        "ascvd": (
            "AtheroscleroticCardiovascularDisease", "Atherosclerotic cardiovascular disease",
            "ICD-10-CM I20-I25 (ischaemic heart disease), I63 (cerebral infarction), I65-I66 "
            "(cerebral artery occlusion/stenosis), I69.3* (sequelae of cerebral infarction), "
            "I70.2* (atherosclerosis of the extremities), I73.9, I74.*, G45.* (TIA), Z86.73, "
            "Z95.1, Z95.5, Z98.61." + isa_note,
            icd({
                "I73.9": "Peripheral vascular disease, unspecified",
                "Z86.73": "Personal history of transient ischemic attack (TIA), and cerebral "
                          "infarction without residual deficits",
                "Z95.1": "Presence of aortocoronary bypass graft",
                "Z95.5": "Presence of coronary angioplasty implant and graft",
                "Z98.61": "Coronary angioplasty status",
            }),
            isa("I20-I25", "I63.*", "I65-I66", "I69.3*", "I70.2*", "I74.*", "G45.*"),
            NO_EXCLUDE,
        ),
        "malignancy": (
            "Malignancy", "Malignancy, current or history",
            "ICD-10-CM C00-C96 (including C4A, C7A, C7B) except C44.* (other skin: basal and "
            "squamous cell carcinoma of the skin), D45, D46.*, D47.1, D47.3, D47.Z*, and history "
            "Z85.* except Z85.828 (history of other skin cancer). Excluded codes are "
            "compose.exclude entries." + isa_note,
            icd({
                "D45": "Polycythemia vera",
                "D47.1": "Chronic myeloproliferative disease",
                "D47.3": "Essential (hemorrhagic) thrombocythemia",
            }),
            isa("C00-C96") + ["C4A", "C7A", "C7B"] + isa("D46.*", "D47.Z*", "Z85.*"),
            (isa("C44.*"), ["Z85.828"]),
        ),
        "myocardial-infarction": (
            "MyocardialInfarction", "Myocardial infarction",
            "ICD-10-CM I21-I22 (acute and subsequent myocardial infarction)." + isa_note,
            [],
            isa("I21-I22"),
            NO_EXCLUDE,
        ),
        "stroke": (
            "IschemicStroke", "Cerebral infarction",
            "ICD-10-CM I63.*." + isa_note,
            [],
            isa("I63.*"),
            NO_EXCLUDE,
        ),
        "diverticular": (
            "DiverticularDisease", "Diverticular disease of intestine",
            "ICD-10-CM K57.*." + isa_note,
            [],
            isa("K57.*"),
            NO_EXCLUDE,
        ),
        "live-vaccine": (
            "LiveVaccine", "Live vaccines (CVX)",
            "CVX codes of live vaccines: zoster live 121; MMR 03, MMRV 94, measles/mumps/rubella "
            "monovalent and combinations 04, 05, 06, 07, 38; varicella 21; yellow fever 37, 183, "
            "184; oral typhoid 25; LAIV 111, 125, 149, 151; BCG 19; oral polio 02, 182; "
            "adenovirus oral 54, 55, 143; vaccinia 75; cholera live oral 174. CVX 188 (zoster, "
            "unspecified formulation) is not a member: it says nothing about the live vaccine "
            "either way.",
            named(CVX, {
                "02": "trivalent poliovirus vaccine, live, oral",
                "03": "measles, mumps and rubella virus vaccine",
                "04": "measles and rubella virus vaccine",
                "05": "measles virus vaccine",
                "06": "rubella virus vaccine",
                "07": "mumps virus vaccine",
                "19": "Bacillus Calmette-Guerin vaccine",
                "21": "varicella virus vaccine",
                "25": "typhoid vaccine, live, oral",
                "37": "yellow fever vaccine",
                "38": "rubella and mumps virus vaccine",
                "54": "adenovirus vaccine, type 4, live, oral",
                "55": "adenovirus vaccine, type 7, live, oral",
                "75": "vaccinia (smallpox) vaccine",
                "94": "measles, mumps, rubella, and varicella virus vaccine",
                "111": "influenza virus vaccine, live, attenuated, for intranasal use",
                "121": "zoster vaccine, live",
                "125": "Novel Influenza-H1N1-09, live virus for nasal administration",
                "143": "Adenovirus types 4 and 7",
                "149": "influenza, live, intranasal, quadrivalent",
                "151": "influenza nasal, unspecified formulation",
                "174": "cholera, live attenuated",
                "182": "Oral Polio Vaccine, Unspecified formulation",
                "183": "Yellow fever vaccine alternate formulation",
                "184": "Yellow fever, unspecified formulation",
            }, "3b"),
            [],
            NO_EXCLUDE,
        ),
        "pregnancy-status": (
            "PregnancyStatusCode", "Pregnancy status (Observation code)",
            "LOINC 82810-3.",
            loinc({"82810-3": "Pregnancy status"}),
            [], NO_EXCLUDE,
        ),
        "hcg": (
            "HcgPregnancyTest", "Pregnancy test, hCG (Observation code)",
            "LOINC 2106-3 (urine), 2118-8 (serum or plasma), qualitative.",
            loinc({
                "2106-3": "Choriogonadotropin (pregnancy test) [Presence] in Urine",
                "2118-8": "Choriogonadotropin (pregnancy test) [Presence] in Serum or Plasma",
            }),
            [], NO_EXCLUDE,
        ),
        "breastfeeding-status": (
            "BreastfeedingStatusCode", "Breast-feeding status (Observation code)",
            "LOINC 63895-7.",
            loinc({"63895-7": "Breastfeeding status"}),
            [], NO_EXCLUDE,
        ),
        "smoking-status-code": (
            "SmokingStatusCode", "Tobacco smoking status (Observation code)",
            "LOINC 72166-2.",
            loinc({"72166-2": "Tobacco smoking status"}),
            [], NO_EXCLUDE,
        ),
        "hbsag": (
            "HepatitisBSurfaceAntigen", "Hepatitis B surface antigen (Observation code)",
            "LOINC 5196-1, 5195-3.",
            loinc({
                "5196-1": "Hepatitis B virus surface Ag [Presence] in Serum or Plasma by Immunoassay",
                "5195-3": "Hepatitis B virus surface Ag [Presence] in Serum",
            }),
            [], NO_EXCLUDE,
        ),
        "anti-hbc": (
            "HepatitisBCoreAntibody", "Hepatitis B core antibody, total (Observation code)",
            "LOINC 16933-4, 13952-7.",
            loinc({
                "16933-4": "Hepatitis B virus core Ab [Presence] in Serum",
                "13952-7": "Hepatitis B virus core Ab [Presence] in Serum or Plasma by Immunoassay",
            }),
            [], NO_EXCLUDE,
        ),
        "hcv-antibody": (
            "HepatitisCAntibody", "Hepatitis C virus antibody (Observation code)",
            "LOINC 16128-1, 13955-0.",
            loinc({
                "16128-1": "Hepatitis C virus Ab [Presence] in Serum",
                "13955-0": "Hepatitis C virus Ab [Presence] in Serum or Plasma by Immunoassay",
            }),
            [], NO_EXCLUDE,
        ),
        "hbv-dna": (
            "HepatitisBDna", "Hepatitis B virus DNA (Observation code)",
            "The service's choice (the clinical specification names no code): the common HBV DNA "
            "viral-load LOINC codes 29615-2 (copies/volume) and 42595-9 (IU/volume), NAA. A site "
            "using another HBV DNA code adds it here.",
            loinc({
                "29615-2": "Hepatitis B virus DNA [#/volume] (viral load) in Serum or Plasma by NAA with probe detection",
                "42595-9": "Hepatitis B virus DNA [Units/volume] (viral load) in Serum or Plasma by NAA with probe detection",
            }),
            [], NO_EXCLUDE,
        ),
        "hcv-rna": (
            "HepatitisCRna", "Hepatitis C virus RNA (Observation code)",
            "The service's choice (the clinical specification names no code): HCV RNA LOINC "
            "codes 11259-9 (presence), 11011-4 (IU/volume) and 38180-6 (log IU/volume), NAA. A "
            "site using another HCV RNA code adds it here.",
            loinc({
                "11259-9": "Hepatitis C virus RNA [Presence] in Serum or Plasma by NAA with probe detection",
                "11011-4": "Hepatitis C virus RNA [Units/volume] (viral load) in Serum or Plasma by NAA with probe detection",
                "38180-6": "Hepatitis C virus RNA [log units/volume] (viral load) in Serum or Plasma by NAA with probe detection",
            }),
            [], NO_EXCLUDE,
        ),
        "lipids": (
            "Lipids", "Lipid results (Observation code)",
            "LOINC lipid panel 24331-1, 57698-3; cholesterol 2093-3, 14647-2 (molar); "
            "triglycerides 2571-8, 14927-8; HDL cholesterol 2085-9, 14646-4; LDL cholesterol "
            "13457-7, 18262-6, 22748-8, 39469-2.",
            loinc({
                "24331-1": "Lipid 1996 panel - Serum or Plasma",
                "57698-3": "Lipid panel with direct LDL - Serum or Plasma",
                "2093-3": "Cholesterol [Mass/volume] in Serum or Plasma",
                "14647-2": "Cholesterol [Moles/volume] in Serum or Plasma",
                "2571-8": "Triglyceride [Mass/volume] in Serum or Plasma",
                "14927-8": "Triglyceride [Moles/volume] in Serum or Plasma",
                "2085-9": "Cholesterol in HDL [Mass/volume] in Serum or Plasma",
                "14646-4": "Cholesterol in HDL [Moles/volume] in Serum or Plasma",
                "13457-7": "Cholesterol in LDL [Mass/volume] in Serum or Plasma by calculation",
                "18262-6": "Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay",
                "22748-8": "Cholesterol in LDL [Moles/volume] in Serum or Plasma",
                "39469-2": "Cholesterol in LDL [Moles/volume] in Serum or Plasma by calculation",
            }),
            [], NO_EXCLUDE,
        ),
    }


def preg_filter(rows):
    # Z33.2 (encounter for termination) is not a pregnant state; the person concept is kept
    # because VSAC lists it.
    return [r for r in rows if r[1] != "Z33.2"]


def valueset(vid: str, name: str, title: str, description: str, rows,
             roots: list[str] | None = None,
             exclude: tuple[list[str], list[str]] = NO_EXCLUDE) -> dict:
    """A ValueSet: enumerated `rows` in expansion.contains; ICD-10-CM `roots` (a code and its
    descendants) as compose.include is-a filters; `exclude` (is-a roots, exact codes) as
    compose.exclude. Enumerated rows never contain an excluded code."""
    roots = roots or []
    ex_roots, ex_codes = exclude
    seen: dict[tuple[str, str], str] = {}
    for system, code, display in rows:
        key = (system, code)
        if system == ICD and (code in ex_codes or any(code.startswith(r) for r in ex_roots)):
            sys.exit(f"value set {vid}: {code} is both listed and excluded")
        if key not in seen:
            seen[key] = display
    if not seen and not roots:
        sys.exit(f"value set {vid}: empty")
    if len(set(roots)) != len(roots):
        sys.exit(f"value set {vid}: an is-a root is listed twice")
    contains = [
        {"system": s, "code": c, "display": d}
        for (s, c), d in sorted(seen.items(), key=lambda kv: kv[0])
    ]
    vs = {
        "resourceType": "ValueSet",
        "id": vid,
        "url": f"{BASE}/ValueSet/{vid}",
        "name": name,
        "title": title,
        "status": "active",
        "description": description,
    }
    if roots:
        compose: dict = {"include": [
            {"system": ICD, "filter": [{"property": "concept", "op": "is-a", "value": r}]}
            for r in roots
        ]}
        excludes = [
            {"system": ICD, "filter": [{"property": "concept", "op": "is-a", "value": r}]}
            for r in ex_roots
        ]
        if ex_codes:
            excludes.append({"system": ICD, "concept": [{"code": c} for c in ex_codes]})
        if excludes:
            compose["exclude"] = excludes
        vs["compose"] = compose
    vs["expansion"] = {
        "timestamp": EXPANSION_TIMESTAMP,
        "total": len(contains),
        "contains": contains,
    }
    return vs


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


# --------------------------------------------------------------------------------------------
# Observation prefetch templates (hooks/services.json), derived from the value sets
# --------------------------------------------------------------------------------------------

# Prefetch key -> the value sets whose Observation codes it fetches. Every Observation code a
# rule reads must be in one of them (tests/data_reach.rs checks it from the value sets). ICD-10-CM
# members are diagnosis codes, read from Conditions (an unfiltered query), not searched for in
# Observation.code.
OBSERVATION_QUERIES: list[tuple[str, list[str]]] = [
    ("labs", ["egfr", "upcr", "alc", "anc", "hb", "igra", "tst",
              "hbsag", "anti-hbc", "hcv-antibody", "hbv-dna", "hcv-rna", "serology-context"]),
    ("status", ["pregnancy-status", "hcg", "breastfeeding-status", "smoking-status-code",
                "lipids", "sledai-2k", "prednisone-equivalent-dose"]),
    ("vte-history", ["vte"]),
]
# Fetched for the clinician's context (knowledge.md 3d), read by no rule: anti-dsDNA, C3, C4.
CONTEXT_LABS = [{"system": LOINC, "code": c} for c in ("5130-0", "4485-9", "4498-2")]
# A rendered query stays under this many characters with a 64-character patient id: the
# public CDS Hooks sandbox has trouble with very long prefetch URLs. Longer lists are split
# into "<key>", "<key>-2", ... of balanced size.
MAX_QUERY = 1500
PATIENT_ID_ROOM = 64
OBSERVATION_PREFIX = "Observation?patient={{context.patientId}}&code="


def observation_templates(valuesets: dict[str, dict]) -> dict[str, str]:
    templates: dict[str, str] = {}
    for key, vids in OBSERVATION_QUERIES:
        tokens: list[str] = []
        for vid in vids:
            members = CONTEXT_LABS if vid == "serology-context" else valuesets[vid]["expansion"]["contains"]
            for c in members:
                token = f"{c['system']}|{c['code']}"
                if c["system"] != ICD and token not in tokens:
                    tokens.append(token)
        room = MAX_QUERY - len(OBSERVATION_PREFIX) + len("{{context.patientId}}") - PATIENT_ID_ROOM
        total = len(",".join(tokens))
        parts = -(-total // room)
        while True:
            size = -(-len(tokens) // parts)
            chunks = [tokens[i:i + size] for i in range(0, len(tokens), size)]
            if all(len(",".join(ch)) <= room for ch in chunks):
                break
            parts += 1
        for n, chunk in enumerate(chunks, 1):
            name = key if n == 1 else f"{key}-{n}"
            templates[name] = OBSERVATION_PREFIX + ",".join(chunk)
    return templates


def owned_key(key: str) -> bool:
    base = key.rsplit("-", 1)[0] if key.rsplit("-", 1)[-1].isdigit() else key
    return base in {k for k, _ in OBSERVATION_QUERIES}


def services_text(valuesets: dict[str, dict]) -> str:
    """hooks/services.json with the generated Observation templates in every service that
    gathers Conditions (the order services and any later one); everything else unchanged."""
    generated = observation_templates(valuesets)
    doc = json.loads(SERVICES.read_text(encoding="utf-8"))
    for service in doc["services"]:
        prefetch = service.get("prefetch", {})
        if "conditions" not in prefetch:
            continue
        out: dict[str, str] = {}
        placed = False
        for key, template in prefetch.items():
            if owned_key(key):
                if not placed:
                    out.update(generated)
                    placed = True
                continue
            out[key] = template
        if not placed:
            out.update(generated)
        service["prefetch"] = out
    return json.dumps(doc, indent=2, ensure_ascii=False)


def render(obj: dict) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="fail when committed files differ")
    args = ap.parse_args()
    if not TERMINOLOGY.is_dir():
        sys.exit(f"{TERMINOLOGY}: not found (clone shared/ beside the repository)")
    valuesets = build()
    files = {OUT / f"{vid}.json": render(vs) for vid, vs in valuesets.items()}
    files[CS_OUT / "sle-assessment.json"] = render(codesystem())
    files[SERVICES] = services_text(valuesets)
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
