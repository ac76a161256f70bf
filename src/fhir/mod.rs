//! Gathering the patient's FHIR data: typed views of R4 resources ([`model`]), the record the
//! facts are derived from ([`record`]), prefetch handling and the FHIR-server fallback.

pub mod allow;
pub mod client;
pub mod gather;
pub mod known;
pub mod model;
pub mod originals;
pub mod prefetch;
pub mod record;
pub mod scope;
pub mod template;

pub use model::{parse_resource, parse_resource_str, ParseFailure, Resource};
pub use record::PatientRecord;
