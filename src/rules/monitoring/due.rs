//! Monitoring due (info, one combined card; knowledge.md 4.11): a blood count within the
//! window; lipids after the start; TB screening in the first year of a therapy started without
//! one; the recombinant zoster vaccine, unless declined. Patient-view fires at every chart
//! opening, so what was addressed (a declined vaccine, a screening on record) is not raised
//! again.

use chrono::{Days, Months, NaiveDate};

use super::{Finding, FindingCode};
use crate::facts::source::window_start_days;
use crate::facts::therapy::{ActiveTherapy, MonitoringFacts};
use crate::facts::{Agent, PatientFacts};
use crate::knowledge::Knowledge;

fn add_weeks(d: NaiveDate, weeks: u32) -> NaiveDate {
    d.checked_add_days(Days::new(u64::from(weeks) * 7))
        .unwrap_or(NaiveDate::MAX)
}

/// Lipids for one therapy: none since `first_check_after_weeks` after the start, once the due
/// window has passed, for a therapy started within the configured months.
pub fn for_therapy(
    m: &MonitoringFacts,
    t: &ActiveTherapy,
    kb: &Knowledge,
    today: NaiveDate,
) -> Vec<Finding> {
    let l = &kb.monitoring.lipids;
    let Some(start) = t.start_date() else {
        return Vec::new();
    };
    let recent_start = today
        .checked_sub_months(Months::new(l.therapy_started_within_months))
        .is_none_or(|from| start >= from);
    let due_weeks = if t.agent == Agent::Tofacitinib {
        l.due_after_weeks_tofacitinib
    } else {
        l.due_after_weeks
    };
    let checked_from = add_weeks(start, l.first_check_after_weeks);
    let checked = m
        .lipids
        .iter()
        .any(|f| f.date.is_some_and(|d| d >= checked_from));
    if !recent_start || today < add_weeks(start, due_weeks) || checked {
        return Vec::new();
    }
    let weeks = (today - start).num_days() / 7;
    vec![Finding::new(
        FindingCode::LipidsDue,
        "lipids",
        format!(
            "Lipids: none since {} weeks after the start ({}, {weeks} weeks ago); the labels ask \
             for them {}.",
            l.first_check_after_weeks,
            start.format("%Y-%m-%d"),
            if t.agent == Agent::Tofacitinib {
                "4-8 weeks after starting"
            } else {
                "about 12 weeks after starting"
            }
        ),
    )
    .with_facts(t.start.iter().cloned().collect())]
}

/// The patient-level items: blood count, TB screening, zoster vaccine.
pub fn for_patient(
    facts: &PatientFacts,
    m: &MonitoringFacts,
    kb: &Knowledge,
    today: NaiveDate,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let days = kb.monitoring.cbc_within_days;
    let from = window_start_days(today, days);
    if !m
        .blood_counts
        .iter()
        .any(|f| f.date.is_some_and(|d| d >= from))
    {
        let latest = m.blood_counts.iter().max_by_key(|f| f.date).cloned();
        out.push(
            Finding::new(
                FindingCode::CbcDue,
                "blood count",
                format!("Blood count: none within {days} days."),
            )
            .with_facts(latest.into_iter().collect()),
        );
    }
    // TB screening: in the first year of a therapy, none on record at all (a screening
    // before the start is what the labels ask for; one since then has closed the gap).
    let first_year = m
        .therapies
        .iter()
        .filter_map(ActiveTherapy::start_date)
        .any(|s| {
            today
                .checked_sub_months(Months::new(kb.monitoring.tb_screening_first_months))
                .is_none_or(|from| s >= from)
        });
    if first_year && m.tb_screens.is_empty() && facts.tb_screening.is_none() {
        out.push(Finding::new(
            FindingCode::TbScreeningDue,
            "TB screening",
            "TB screening: no IGRA or tuberculin skin test on record for a therapy started \
             within the last year.",
        ));
    }
    if facts.zoster_vaccine.is_empty() && m.zoster_declined.is_empty() {
        out.push(Finding::new(
            FindingCode::ZosterVaccineDue,
            "zoster vaccine",
            "Recombinant zoster vaccine: none on record, and not declined.",
        ));
    }
    out
}
