//! Immunization facts (knowledge.md 2): doses of recombinant zoster vaccine (value set
//! "zoster-vaccine", CVX 187) with status completed. not-done, entered-in-error, a missing
//! status and DSTU2 `wasNotGiven: true` do not count.

use super::source::{code_label, coding_in, reference};
use super::FactSource;
use crate::fhir::model::Immunization;
use crate::knowledge::Knowledge;

pub fn zoster_vaccine(immunizations: &[Immunization], kb: &Knowledge) -> Vec<FactSource> {
    immunizations
        .iter()
        .filter(|i| {
            i.status
                .as_deref()
                .is_some_and(|s| s.trim().eq_ignore_ascii_case("completed"))
                && i.was_not_given != Some(true)
        })
        .filter_map(|i| {
            let code = i.vaccine_code.as_ref()?;
            let coding = coding_in(kb, "zoster-vaccine", code)?;
            Some(FactSource {
                reference: reference("Immunization", i.id.as_deref()),
                date: i.occurrence_date_time.or(i.recorded).map(|d| d.0),
                what: format!(
                    "{} ({}), completed",
                    code.label().unwrap_or("Recombinant zoster vaccine"),
                    code_label(coding)
                ),
            })
        })
        .collect()
}
