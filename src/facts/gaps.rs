//! Data gaps (knowledge.md 2 and 4.6): SLEDAI-2K, eGFR, CBC (ALC, ANC and Hb) and TB
//! screening missing or older than their windows, with the stale value and the values in the
//! window that could not be used.

use super::labs::{LabFacts, LabItem};
use super::{DataGap, GapItem};

fn gap(item: GapItem, lab: &LabItem) -> Option<DataGap> {
    lab.measurement.is_none().then(|| DataGap {
        item,
        stale: lab.stale.clone(),
        unusable: lab.unusable.clone(),
    })
}

/// The gaps, in the order SLEDAI-2K, eGFR, CBC, TB screening. The CBC is a gap when any of
/// ALC, ANC or Hb has no usable value in the window; `stale` is then the first missing
/// component's latest older value.
pub fn derive(labs: &LabFacts) -> Vec<DataGap> {
    let mut out = Vec::new();
    out.extend(gap(GapItem::Sledai, &labs.sledai));
    out.extend(gap(GapItem::Egfr, &labs.egfr));
    let missing: Vec<&LabItem> = [&labs.alc, &labs.anc, &labs.hb]
        .into_iter()
        .filter(|l| l.measurement.is_none())
        .collect();
    if !missing.is_empty() {
        out.push(DataGap {
            item: GapItem::Cbc,
            stale: missing.iter().find_map(|l| l.stale.clone()),
            unusable: missing.iter().flat_map(|l| l.unusable.clone()).collect(),
        });
    }
    if labs.tb.screen.is_none() {
        out.push(DataGap {
            item: GapItem::TbScreening,
            stale: labs.tb.stale.clone(),
            unusable: labs.tb.unusable.clone(),
        });
    }
    out
}
