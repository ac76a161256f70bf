//! Typed serde views of the FHIR R4 elements the rules read.
//!
//! These are deliberately *views*, not a full FHIR model: every struct ignores unknown fields,
//! and the shape deviations real clients send are tolerated (a single object where R4 has an
//! array, DSTU2 `MedicationOrder`, DSTU2 string statuses, a top-level DSTU2 `doseQuantity`).
//! Parsing happens one resource at a time (see [`parse_resource`]) so that one bad resource
//! is skipped with a reason instead of failing the whole request.
//!
//! Only elements a fact reads are typed: the rest (`category`, `identifier`, `meta`, the
//! narrative) is skipped unread, which is most of the parse's cost saved, and a malformed
//! value there does not make the resource unreadable.

use chrono::NaiveDate;
use serde::de::{self, Deserializer};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::known::{known, Known};

/// An element's text as sent: ids, codes, references, displays. Up to 24 bytes it is held
/// inline (no allocation), which is most of them ("Patient/perf-sle-1", "2160-0").
pub type Text = compact_str::CompactString;

// ---------------------------------------------------------------------------------------------
// Data types
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Coding {
    #[serde(default, deserialize_with = "known")]
    pub system: Option<Known>,
    pub code: Option<Text>,
    pub display: Option<Text>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CodeableConcept {
    #[serde(default, deserialize_with = "one_or_many")]
    pub coding: Vec<Coding>,
    pub text: Option<Text>,
}

impl CodeableConcept {
    /// A concept holding just a code (used for DSTU2 string statuses).
    pub fn from_code(code: &str) -> Self {
        CodeableConcept {
            coding: vec![Coding {
                system: None,
                code: Some(code.into()),
                display: None,
            }],
            text: None,
        }
    }

    /// True when any coding carries `code` (system ignored; used for status concepts).
    pub fn has_code(&self, code: &str) -> bool {
        self.coding.iter().any(|c| c.code.as_deref() == Some(code))
    }

    /// The first human-readable label: text, else the first coding display, else code.
    pub fn label(&self) -> Option<&str> {
        self.text
            .as_deref()
            .or_else(|| self.coding.iter().find_map(|c| c.display.as_deref()))
            .or_else(|| self.coding.iter().find_map(|c| c.code.as_deref()))
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Reference {
    pub reference: Option<Text>,
    pub display: Option<Text>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Quantity {
    pub value: Option<f64>,
    #[serde(default, deserialize_with = "known")]
    pub comparator: Option<Known>,
    #[serde(default, deserialize_with = "known")]
    pub unit: Option<Known>,
    #[serde(default, deserialize_with = "known")]
    pub system: Option<Known>,
    #[serde(default, deserialize_with = "known")]
    pub code: Option<Known>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Period {
    pub start: Option<FhirDate>,
    pub end: Option<FhirDate>,
}

/// A FHIR `date`, `dateTime` or `instant`, reduced to its calendar day.
///
/// Partial dates are accepted ("2024" → 2024-01-01, "2024-05" → 2024-05-01). A value that is
/// not a date at all fails the resource's parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FhirDate(pub NaiveDate);

impl FhirDate {
    pub fn parse(s: &str) -> Option<FhirDate> {
        // A value that starts and ends with a letter or digit has no white space to trim
        // (the usual case; `trim` walks the text's characters).
        let b = match s.as_bytes() {
            [first, .., last] if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() => {
                s.as_bytes()
            }
            _ => s.trim().as_bytes(),
        };
        // Digits only: `str::parse` would also take a sign ("+1").
        let num = |digits: &[u8]| -> Option<u32> {
            digits.iter().try_fold(0u32, |n, d| {
                d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
            })
        };
        let ymd = |y: &[u8], m: &[u8], d: &[u8]| -> Option<FhirDate> {
            let year = i32::try_from(num(y)?).ok()?;
            NaiveDate::from_ymd_opt(year, num(m)?, num(d)?).map(FhirDate)
        };
        match b.len() {
            4 => ymd(b, b"1", b"1"),
            7 if b[4] == b'-' => ymd(&b[0..4], &b[5..7], b"1"),
            n if n >= 10 && b[4] == b'-' && b[7] == b'-' => ymd(&b[0..4], &b[5..7], &b[8..10]),
            _ => None,
        }
    }
}

impl std::fmt::Display for FhirDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl<'de> Deserialize<'de> for FhirDate {
    /// Read from the text as it streams (no copy of the string).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = FhirDate;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<FhirDate, E> {
                // The value stays out of the message: it could be a patient's date.
                FhirDate::parse(s).ok_or_else(|| {
                    E::custom("invalid value, expected a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)")
                })
            }
        }
        d.deserialize_str(V)
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    #[serde(default, deserialize_with = "one_or_many")]
    pub tag: Vec<Coding>,
}

// ---------------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Patient {
    pub id: Option<Text>,
    pub gender: Option<String>,
    pub birth_date: Option<FhirDate>,
}

/// R4 Condition; DSTU2 string statuses and `patient` are accepted.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    pub id: Option<Text>,
    #[serde(default, deserialize_with = "status_concept")]
    pub clinical_status: Option<CodeableConcept>,
    #[serde(default, deserialize_with = "status_concept")]
    pub verification_status: Option<CodeableConcept>,
    pub code: Option<CodeableConcept>,
    #[serde(alias = "patient")]
    pub subject: Option<Reference>,
    pub onset_date_time: Option<FhirDate>,
    pub onset_period: Option<Period>,
    pub abatement_date_time: Option<FhirDate>,
    #[serde(alias = "dateRecorded")]
    pub recorded_date: Option<FhirDate>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ObservationComponent {
    pub code: Option<CodeableConcept>,
    pub value_quantity: Option<Quantity>,
    pub value_codeable_concept: Option<CodeableConcept>,
    pub value_string: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Observation {
    pub id: Option<Text>,
    #[serde(default, deserialize_with = "known")]
    pub status: Option<Known>,
    pub code: Option<CodeableConcept>,
    #[serde(alias = "patient")]
    pub subject: Option<Reference>,
    pub effective_date_time: Option<FhirDate>,
    pub effective_period: Option<Period>,
    pub effective_instant: Option<FhirDate>,
    pub issued: Option<FhirDate>,
    pub value_quantity: Option<Quantity>,
    pub value_codeable_concept: Option<CodeableConcept>,
    pub value_string: Option<String>,
    pub value_integer: Option<i64>,
    pub value_boolean: Option<bool>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub interpretation: Vec<CodeableConcept>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub component: Vec<ObservationComponent>,
}

impl Observation {
    /// The clinically relevant date: effective[x], else issued.
    pub fn date(&self) -> Option<FhirDate> {
        self.effective_date_time
            .or(self.effective_instant)
            .or_else(|| {
                self.effective_period
                    .as_ref()
                    .and_then(|p| p.end.or(p.start))
            })
            .or(self.issued)
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TimingRepeat {
    pub frequency: Option<f64>,
    pub frequency_max: Option<f64>,
    pub period: Option<f64>,
    #[serde(default, deserialize_with = "known")]
    pub period_unit: Option<Known>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Timing {
    pub repeat: Option<TimingRepeat>,
    pub code: Option<CodeableConcept>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DoseAndRate {
    pub dose_quantity: Option<Quantity>,
}

/// R4 Dosage; the DSTU2 top-level `doseQuantity` is kept in [`Dosage::dose_quantity`].
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Dosage {
    pub text: Option<String>,
    pub timing: Option<Timing>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub dose_and_rate: Vec<DoseAndRate>,
    /// DSTU2 `MedicationOrder.dosageInstruction.doseQuantity`.
    pub dose_quantity: Option<Quantity>,
    pub route: Option<CodeableConcept>,
    pub as_needed_boolean: Option<bool>,
}

impl Dosage {
    /// The dose per administration, from R4 `doseAndRate` or the DSTU2 top-level field.
    pub fn dose(&self) -> Option<&Quantity> {
        self.dose_and_rate
            .iter()
            .find_map(|d| d.dose_quantity.as_ref())
            .or(self.dose_quantity.as_ref())
    }
}

/// A medication order: R4 MedicationRequest, or DSTU2 MedicationOrder normalised into it
/// (`patient` → `subject`, `dateWritten` → `authored_on`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MedicationRequest {
    pub id: Option<Text>,
    #[serde(default, deserialize_with = "known")]
    pub status: Option<Known>,
    #[serde(default, deserialize_with = "known")]
    pub intent: Option<Known>,
    pub medication_codeable_concept: Option<CodeableConcept>,
    pub medication_reference: Option<Reference>,
    #[serde(alias = "patient")]
    pub subject: Option<Reference>,
    #[serde(alias = "dateWritten")]
    pub authored_on: Option<FhirDate>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub reason_code: Vec<CodeableConcept>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub dosage_instruction: Vec<Dosage>,
    /// Contained resources (a contained Medication is looked up by `#id`).
    #[serde(default, deserialize_with = "contained")]
    pub contained: Vec<Medication>,
}

/// R4 MedicationAdministration (infusions: rituximab, cyclophosphamide, belimumab...).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MedicationAdministration {
    pub id: Option<Text>,
    #[serde(default, deserialize_with = "known")]
    pub status: Option<Known>,
    pub medication_codeable_concept: Option<CodeableConcept>,
    pub medication_reference: Option<Reference>,
    #[serde(alias = "patient")]
    pub subject: Option<Reference>,
    pub effective_date_time: Option<FhirDate>,
    pub effective_period: Option<Period>,
    #[serde(default, deserialize_with = "contained")]
    pub contained: Vec<Medication>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MedicationStatement {
    pub id: Option<Text>,
    #[serde(default, deserialize_with = "known")]
    pub status: Option<Known>,
    pub medication_codeable_concept: Option<CodeableConcept>,
    pub medication_reference: Option<Reference>,
    #[serde(alias = "patient")]
    pub subject: Option<Reference>,
    pub effective_date_time: Option<FhirDate>,
    pub effective_period: Option<Period>,
    pub date_asserted: Option<FhirDate>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub dosage: Vec<Dosage>,
    #[serde(default, deserialize_with = "contained")]
    pub contained: Vec<Medication>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Ingredient {
    pub item_codeable_concept: Option<CodeableConcept>,
    pub item_reference: Option<Reference>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Medication {
    pub id: Option<Text>,
    pub code: Option<CodeableConcept>,
    pub form: Option<CodeableConcept>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub ingredient: Vec<Ingredient>,
}

/// R4 Immunization; DSTU2 `date` is accepted for `occurrenceDateTime`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Immunization {
    pub id: Option<Text>,
    #[serde(default, deserialize_with = "known")]
    pub status: Option<Known>,
    pub vaccine_code: Option<CodeableConcept>,
    #[serde(alias = "patient")]
    pub subject: Option<Reference>,
    #[serde(alias = "date")]
    pub occurrence_date_time: Option<FhirDate>,
    pub recorded: Option<FhirDate>,
    /// Why a not-done vaccination was not given (a declined vaccine counts as addressed).
    pub status_reason: Option<CodeableConcept>,
    /// DSTU2 only: true when the vaccine was not given.
    pub was_not_given: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OperationOutcomeIssue {
    pub severity: Option<String>,
    pub code: Option<String>,
    pub diagnostics: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OperationOutcome {
    #[serde(default, deserialize_with = "one_or_many")]
    pub issue: Vec<OperationOutcomeIssue>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleLink {
    pub relation: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleEntry {
    pub full_url: Option<String>,
    pub resource: Option<Box<RawValue>>,
}

/// A Bundle whose entries are kept raw, so each resource parses (or fails) on its own.
/// `type` and `total` are optional: the sandbox omits `type`, and `total` is never assumed.
///
/// [`parse_resource`] first reads a Bundle in one pass, every entry typed; only when an entry
/// does not parse (or its `resourceType` is not its first member, or it is itself a Bundle)
/// does it read the entries raw. So either `resources` or `entry` holds the entries; use
/// [`crate::fhir::PatientRecord::add`] to read both.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    #[serde(rename = "type")]
    pub bundle_type: Option<String>,
    pub total: Option<u64>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub link: Vec<BundleLink>,
    /// Entries kept raw (empty when the one-pass read succeeded).
    #[serde(default, deserialize_with = "one_or_many")]
    pub entry: Vec<BundleEntry>,
    /// The entries' resources, when the one-pass read succeeded.
    #[serde(skip)]
    pub resources: Vec<Resource>,
}

impl Bundle {
    /// The `next` page link, when present.
    pub fn next_link(&self) -> Option<&str> {
        self.link
            .iter()
            .find(|l| l.relation.as_deref() == Some("next"))
            .and_then(|l| l.url.as_deref())
    }
}

/// One parsed resource. `Other` keeps the type name of resources the rules do not read. The
/// large views are boxed: a resource is moved several times between the parse and the record,
/// and each move of a 448-byte Observation was a copy (`memcpy` 8 % of the profile).
#[derive(Debug, Clone)]
pub enum Resource {
    Patient(Patient),
    Condition(Box<Condition>),
    Observation(Box<Observation>),
    MedicationRequest(Box<MedicationRequest>),
    MedicationStatement(Box<MedicationStatement>),
    MedicationAdministration(Box<MedicationAdministration>),
    Medication(Medication),
    Immunization(Box<Immunization>),
    OperationOutcome(OperationOutcome),
    Bundle(Bundle),
    Other(String),
}

impl Resource {
    pub fn type_name(&self) -> &str {
        match self {
            Resource::Patient(_) => "Patient",
            Resource::Condition(_) => "Condition",
            Resource::Observation(_) => "Observation",
            Resource::MedicationRequest(_) => "MedicationRequest",
            Resource::MedicationStatement(_) => "MedicationStatement",
            Resource::MedicationAdministration(_) => "MedicationAdministration",
            Resource::Medication(_) => "Medication",
            Resource::Immunization(_) => "Immunization",
            Resource::OperationOutcome(_) => "OperationOutcome",
            Resource::Bundle(_) => "Bundle",
            Resource::Other(t) => t,
        }
    }
}

/// Why one resource could not be read. Never holds patient data: only the resource type
/// (when it could be seen) and serde's message with its location.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseFailure {
    pub resource_type: Option<String>,
    pub reason: String,
}

impl std::fmt::Display for ParseFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.resource_type {
            Some(t) => write!(f, "{t}: {}", self.reason),
            None => write!(f, "resource of unknown type: {}", self.reason),
        }
    }
}

#[derive(Deserialize)]
struct Head<'a> {
    #[serde(rename = "resourceType", borrow)]
    resource_type: Option<std::borrow::Cow<'a, str>>,
}

/// Parse one raw FHIR resource into its typed view. DSTU2 `MedicationOrder` becomes a
/// [`MedicationRequest`].
pub fn parse_resource(raw: &RawValue) -> Result<Resource, ParseFailure> {
    let text = raw.get();
    let rt = match leading_resource_type(text) {
        Some(rt) => std::borrow::Cow::Borrowed(rt),
        None => {
            let head: Head = serde_json::from_str(text).map_err(|e| ParseFailure {
                resource_type: None,
                reason: scrub(&e),
            })?;
            head.resource_type.ok_or_else(|| ParseFailure {
                resource_type: None,
                reason: "no resourceType".into(),
            })?
        }
    };
    if rt == "Bundle" {
        if let Some(bundle) = bundle_in_one_pass(text) {
            return Ok(Resource::Bundle(bundle));
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    typed(&rt, &mut de)
        .and_then(|r| de.end().map(|()| r))
        .map_err(|e| ParseFailure {
            resource_type: Some(rt.to_string()),
            reason: failure_of(&rt, text, &e),
        })
}

/// The typed view of a resource of type `rt` (a Bundle with raw entries).
fn typed<'de, D: Deserializer<'de>>(rt: &str, d: D) -> Result<Resource, D::Error> {
    Ok(match rt {
        "Patient" => Resource::Patient(Patient::deserialize(d)?),
        "Condition" => Resource::Condition(Box::new(Condition::deserialize(d)?)),
        "Observation" => Resource::Observation(Box::new(Observation::deserialize(d)?)),
        "MedicationRequest" | "MedicationOrder" => {
            Resource::MedicationRequest(Box::new(MedicationRequest::deserialize(d)?))
        }
        "MedicationStatement" => {
            Resource::MedicationStatement(Box::new(MedicationStatement::deserialize(d)?))
        }
        "MedicationAdministration" => {
            Resource::MedicationAdministration(Box::new(MedicationAdministration::deserialize(d)?))
        }
        "Medication" => Resource::Medication(Medication::deserialize(d)?),
        "Immunization" => Resource::Immunization(Box::new(Immunization::deserialize(d)?)),
        "OperationOutcome" => Resource::OperationOutcome(OperationOutcome::deserialize(d)?),
        "Bundle" => Resource::Bundle(Bundle::deserialize(d)?),
        other => {
            de::IgnoredAny::deserialize(d)?;
            Resource::Other(other.to_string())
        }
    })
}

/// A Bundle read in a single pass, every entry's resource typed as it streams — the raw
/// read scans and copies each entry once more before parsing it. `None` when any entry
/// needs the raw read (see [`Bundle`]), which then gives the same result as before.
fn bundle_in_one_pass(text: &str) -> Option<Bundle> {
    serde_json::from_str::<OnePassBundle>(text)
        .ok()
        .map(Bundle::from)
}

/// The members of a Bundle the one-pass read keeps, its entries typed as they stream.
#[derive(Deserialize)]
struct OnePassBundle {
    #[serde(rename = "type")]
    bundle_type: Option<String>,
    total: Option<u64>,
    #[serde(default, deserialize_with = "one_or_many")]
    link: Vec<BundleLink>,
    #[serde(default, deserialize_with = "one_or_many")]
    entry: Vec<OnePassEntry>,
}

#[derive(Deserialize)]
struct OnePassEntry {
    resource: Option<Streamed<false>>,
}

impl From<OnePassBundle> for Bundle {
    fn from(b: OnePassBundle) -> Bundle {
        Bundle {
            bundle_type: b.bundle_type,
            total: b.total,
            link: b.link,
            entry: Vec::new(),
            resources: b
                .entry
                .into_iter()
                .filter_map(|e| e.resource.map(|r| r.0))
                .collect(),
        }
    }
}

/// A resource whose first member is `resourceType` (unescaped), typed as it streams. With
/// `BUNDLE` a Bundle is read with its entries (each a `Streamed<false>`): the one-pass read of
/// a request's prefetch value; without it (a Bundle's entry) a nested Bundle is refused.
/// Whatever is refused, or does not parse, is an error: the caller then reads the value raw,
/// where each resource parses (or fails) on its own.
pub(crate) struct Streamed<const BUNDLE: bool>(pub Resource);

impl<'de, const BUNDLE: bool> Deserialize<'de> for Streamed<BUNDLE> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(StreamedVisitor::<BUNDLE>)
    }
}

struct StreamedVisitor<const BUNDLE: bool>;

impl<'de, const BUNDLE: bool> de::Visitor<'de> for StreamedVisitor<BUNDLE> {
    type Value = Streamed<BUNDLE>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a FHIR resource starting with resourceType")
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        if map.next_key::<&'de str>()? != Some("resourceType") {
            return Err(de::Error::custom("resourceType is not the first member"));
        }
        let rt: &'de str = map.next_value()?;
        let rest = de::value::MapAccessDeserializer::new(map);
        match rt {
            "Bundle" if BUNDLE => {
                OnePassBundle::deserialize(rest).map(|b| Streamed(Resource::Bundle(b.into())))
            }
            "Bundle" => Err(de::Error::custom("nested Bundle")),
            _ => typed(rt, rest).map(Streamed),
        }
    }
}

/// The `resourceType` of a resource whose first member it is — as FHIR JSON writes it, and
/// as servers send it — read without parsing the rest (a full pass over the text just to
/// find the type cost as much as the typed parse). `None` when it is not first or is
/// written with escapes: the caller then parses the head.
fn leading_resource_type(text: &str) -> Option<&str> {
    let rest = text.trim_start().strip_prefix('{')?.trim_start();
    let rest = rest.strip_prefix("\"resourceType\"")?.trim_start();
    let rest = rest.strip_prefix(':')?.trim_start().strip_prefix('"')?;
    let name = &rest[..rest.find('"')?];
    (!name.contains('\\')).then_some(name)
}

/// Parse a resource from a JSON text (convenience for tests and callers without a RawValue).
pub fn parse_resource_str(text: &str) -> Result<Resource, ParseFailure> {
    let raw: Box<RawValue> = serde_json::from_str(text).map_err(|e| ParseFailure {
        resource_type: None,
        reason: scrub(&e),
    })?;
    parse_resource(&raw)
}

/// A parse error told without the input: serde_json's messages quote the offending value
/// ("invalid type: integer `19111111`, expected a string"), so only what the code wrote is
/// kept — the expected type, a field name the model defines, or a syntax error with its line
/// and column — never the value.
fn scrub(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let msg = e.to_string();
    let located = format!(" at line {} column {}", e.line(), e.column());
    let message = msg.strip_suffix(&located).unwrap_or(&msg);
    match e.classify() {
        // Syntax and end-of-input messages name the problem, never the input.
        Category::Syntax | Category::Eof | Category::Io => msg,
        Category::Data => match message.rsplit_once(", expected ") {
            Some((_, expected)) => format!("expected {expected}"),
            None if message.starts_with("missing field `")
                || message.starts_with("duplicate field `") =>
            {
                message.to_string()
            }
            None => "invalid value".to_string(),
        },
    }
}

/// Why `text` (a resource of type `rt`) did not parse: the path of the field at fault and
/// what was expected there ("Observation.effectiveDateTime: expected a string"), from a
/// second, path-tracking read (only on failure: the usual read stays untracked).
fn failure_of(rt: &str, text: &str, e: &serde_json::Error) -> String {
    let mut de = serde_json::Deserializer::from_str(text);
    let mut track = serde_path_to_error::Track::new();
    let tracked = typed(
        rt,
        serde_path_to_error::Deserializer::new(&mut de, &mut track),
    )
    .and_then(|_| de.end());
    let reason = match &tracked {
        Err(again) => scrub(again),
        Ok(()) => scrub(e),
    };
    format!("{}: {reason}", field_path(rt, &track.path()))
}

/// `rt.field[2].other`, with map keys the model does not define shown as `?`.
fn field_path(rt: &str, path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = rt.to_string();
    let name = |s: &str| {
        if (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            s.to_string()
        } else {
            "?".to_string()
        }
    };
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => {
                out.push('.');
                out.push_str(&name(key));
            }
            Segment::Enum { variant } => {
                out.push('.');
                out.push_str(&name(variant));
            }
            Segment::Unknown => out.push_str(".?"),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Tolerant deserializers
// ---------------------------------------------------------------------------------------------

/// Accept an array, a single object (sandbox quirk) or null. Streams (no buffering), so it
/// also works for raw values inside arrays.
pub fn one_or_many<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct V<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> de::Visitor<'de> for V<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an array, a single object or null")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }
        fn visit_none<E: de::Error>(self) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Vec<T>, D2::Error> {
            d.deserialize_any(self)
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
            while let Some(x) = seq.next_element()? {
                out.push(x);
            }
            Ok(out)
        }
        fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Vec<T>, A::Error> {
            Ok(vec![T::deserialize(
                de::value::MapAccessDeserializer::new(map),
            )?])
        }
    }
    d.deserialize_any(V(std::marker::PhantomData))
}

/// R4 CodeableConcept, or a DSTU2 plain code string. Dispatches on the JSON type as it
/// streams (an untagged enum would first buffer the value, which cost more than the rest of
/// a Condition's parse).
fn status_concept<'de, D: Deserializer<'de>>(d: D) -> Result<Option<CodeableConcept>, D::Error> {
    struct V;
    impl<'de> de::Visitor<'de> for V {
        type Value = Option<CodeableConcept>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a CodeableConcept, a code string or null")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(self)
        }
        fn visit_str<E: de::Error>(self, code: &str) -> Result<Self::Value, E> {
            Ok(Some(CodeableConcept::from_code(code)))
        }
        fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            CodeableConcept::deserialize(de::value::MapAccessDeserializer::new(map)).map(Some)
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            CodeableConcept::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(Some)
        }
    }
    d.deserialize_any(V)
}

/// Keep contained Medications, skip any other contained resource.
fn contained<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Medication>, D::Error> {
    let raws: Vec<Box<RawValue>> =
        Option::<Vec<Box<RawValue>>>::deserialize(d)?.unwrap_or_default();
    let mut out = Vec::new();
    for raw in raws {
        if let Ok(Resource::Medication(m)) = parse_resource(&raw) {
            out.push(m);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_leading_resource_type_is_read_without_a_parse() {
        assert_eq!(
            leading_resource_type(" {\n \"resourceType\" : \"Patient\", \"id\": \"p\"}"),
            Some("Patient")
        );
        for other in [
            r#"{"id": "p", "resourceType": "Patient"}"#,
            r#"{"resourceType": "Pat\u0069ent"}"#,
            r#"{"resourceType": 3}"#,
            r#"["resourceType"]"#,
            r#"{"resourceType": "Patient"#,
        ] {
            assert_eq!(leading_resource_type(other), None, "{other}");
        }
        // Not first: found by the full parse, with the same result.
        let late = parse_resource_str(r#"{"id": "p", "resourceType": "Patient"}"#).unwrap();
        assert!(matches!(late, Resource::Patient(p) if p.id.as_deref() == Some("p")));
        // Escaped: the full parse unescapes it.
        let escaped = parse_resource_str(r#"{"resourceType": "Pat\u0069ent"}"#).unwrap();
        assert!(matches!(escaped, Resource::Patient(_)));
        // A broken resource is still refused after its type was read.
        let broken = parse_resource_str(r#"{"resourceType": "Patient", "id": 3}"#).unwrap_err();
        assert_eq!(broken.resource_type.as_deref(), Some("Patient"));
    }

    #[test]
    fn dates_accept_partial_and_datetime() {
        assert_eq!(FhirDate::parse("2024").unwrap().to_string(), "2024-01-01");
        assert_eq!(
            FhirDate::parse("2024-05").unwrap().to_string(),
            "2024-05-01"
        );
        assert_eq!(
            FhirDate::parse("2024-05-17T10:00:00+02:00")
                .unwrap()
                .to_string(),
            "2024-05-17"
        );
        assert!(FhirDate::parse("yesterday").is_none());
        assert!(FhirDate::parse("2024-13-01").is_none());
        // Surrounding white space is trimmed, ASCII or not.
        assert_eq!(
            FhirDate::parse(" 2024-05-17\n").unwrap().to_string(),
            "2024-05-17"
        );
        assert_eq!(
            FhirDate::parse("\u{a0}2024-05").unwrap().to_string(),
            "2024-05-01"
        );
        assert_eq!(
            FhirDate::parse("2024-05-17Z").unwrap().to_string(),
            "2024-05-17"
        );
    }

    #[test]
    fn dstu2_medication_order_normalises() {
        let r = parse_resource_str(
            r#"{"resourceType":"MedicationOrder","id":"order-123","patient":{"reference":"Patient/p"},
            "dateWritten":"2024-01-02","medicationCodeableConcept":{"text":"tofacitinib 5 MG Oral Tablet"},
            "dosageInstruction":[{"doseQuantity":{"value":1,"unit":"tablet"},"timing":{"repeat":{"frequency":2,"period":1,"periodUnit":"d"}}}]}"#,
        )
        .unwrap();
        let Resource::MedicationRequest(m) = r else {
            panic!("not a MedicationRequest")
        };
        assert_eq!(m.subject.unwrap().reference.as_deref(), Some("Patient/p"));
        assert_eq!(m.authored_on.unwrap().to_string(), "2024-01-02");
        assert_eq!(m.dosage_instruction[0].dose().unwrap().value, Some(1.0));
    }

    #[test]
    fn single_object_coding_and_string_status() {
        let r = parse_resource_str(
            r#"{"resourceType":"Condition","clinicalStatus":"active","verificationStatus":"confirmed",
            "category":{"text":"problem"},"code":{"coding":{"system":"http://snomed.info/sct","code":"55464009"}}}"#,
        )
        .unwrap();
        let Resource::Condition(c) = r else {
            panic!("not a Condition")
        };
        assert!(c.clinical_status.unwrap().has_code("active"));
        assert_eq!(c.code.unwrap().coding[0].code.as_deref(), Some("55464009"));
    }

    #[test]
    fn statuses_as_concept_code_or_null() {
        let condition = |status: &str| {
            let text = format!(r#"{{"resourceType":"Condition","clinicalStatus":{status}}}"#);
            match parse_resource_str(&text) {
                Ok(Resource::Condition(c)) => Ok(c.clinical_status),
                Ok(_) => panic!("not a Condition"),
                Err(e) => Err(e),
            }
        };
        let r4 = r#"{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"resolved"}]}"#;
        assert!(condition(r4).unwrap().unwrap().has_code("resolved"));
        assert!(condition(r#""remission""#)
            .unwrap()
            .unwrap()
            .has_code("remission"));
        assert_eq!(condition("null").unwrap(), None);
        assert!(condition("3").is_err());
        assert!(condition(r#"{"coding": 3}"#).is_err());
    }

    #[test]
    fn failure_names_type_but_not_values() {
        let e = parse_resource_str(
            r#"{"resourceType":"Observation","status":"final","valueQuantity":{"value":"Jane Doe"}}"#,
        )
        .unwrap_err();
        assert_eq!(e.resource_type.as_deref(), Some("Observation"));
        assert!(!e.reason.contains("Jane"), "{}", e.reason);
    }

    #[test]
    fn failure_names_the_field_and_expected_type_never_the_value() {
        for (body, path, expected) in [
            (
                r#"{"resourceType":"Observation","status":"final","effectiveDateTime":19111111}"#,
                "Observation.effectiveDateTime",
                "expected a string",
            ),
            (
                r#"{"resourceType":"Condition","onsetDateTime":"1911-99-11"}"#,
                "Condition.onsetDateTime",
                "expected a FHIR date",
            ),
            (
                r#"{"resourceType":"Condition","subject":{"reference":19111111}}"#,
                "Condition.subject.reference",
                "expected a string",
            ),
        ] {
            let e = parse_resource_str(body).unwrap_err();
            assert!(e.reason.starts_with(path), "{}", e.reason);
            assert!(e.reason.contains(expected), "{}", e.reason);
            assert!(!e.reason.contains("1911"), "{}", e.reason);
        }
    }

    #[test]
    fn unknown_resource_types_are_kept_as_other() {
        let r = parse_resource_str(r#"{"resourceType":"Encounter","id":"e1"}"#).unwrap();
        assert_eq!(r.type_name(), "Encounter");
    }
}
