//! What one prefetch value means (CDS Hooks 2.0.1 "Providing FHIR Resources"):
//!
//! * key absent → not prefetched: fetch it;
//! * JSON `null` → the client has no data: nothing to fetch;
//! * an OperationOutcome → the client failed to prefetch: treat as absent and fetch;
//! * any other resource, including a searchset Bundle with no entries → data (`total` is
//!   never looked at);
//! * a value that is not a FHIR resource at all → nothing usable: recorded as unreadable and
//!   fetched like an absent key.

use std::collections::HashMap;

use serde_json::value::RawValue;

use super::model::{ParseFailure, Resource};
use super::parse_resource;

/// The state of one prefetch key.
#[derive(Debug)]
pub enum Prefetched {
    /// Usable data.
    Data(Box<Resource>),
    /// The client says there is no data.
    NoData,
    /// Not (usably) prefetched: the fallback fetch should get it.
    Missing(Missing),
}

/// Why a key counts as not prefetched.
#[derive(Debug)]
pub enum Missing {
    Absent,
    OperationOutcome,
    /// Present but not a FHIR resource (the failure goes to `PatientRecord::unreadable`).
    Unreadable(ParseFailure),
}

/// Classify the prefetch value of `key`.
pub fn classify(prefetch: &HashMap<String, Option<Box<RawValue>>>, key: &str) -> Prefetched {
    match prefetch.get(key) {
        None => Prefetched::Missing(Missing::Absent),
        Some(None) => Prefetched::NoData,
        Some(Some(raw)) => match parse_resource(raw) {
            Ok(Resource::OperationOutcome(_)) => Prefetched::Missing(Missing::OperationOutcome),
            Ok(resource) => Prefetched::Data(Box::new(resource)),
            Err(failure) => Prefetched::Missing(Missing::Unreadable(failure)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(json: &str) -> HashMap<String, Option<Box<RawValue>>> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn each_kind_of_value() {
        let p = map(r#"{"nul": null,
                "oo": {"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"timeout"}]},
                "empty": {"resourceType":"Bundle","type":"searchset"},
                "emptyTotal": {"resourceType":"Bundle","type":"searchset","total":0,"entry":[]},
                "patient": {"resourceType":"Patient","id":"p"},
                "junk": "not a resource"}"#);
        assert!(matches!(
            classify(&p, "absent"),
            Prefetched::Missing(Missing::Absent)
        ));
        assert!(matches!(classify(&p, "nul"), Prefetched::NoData));
        assert!(matches!(
            classify(&p, "oo"),
            Prefetched::Missing(Missing::OperationOutcome)
        ));
        assert!(matches!(
            classify(&p, "empty"),
            Prefetched::Data(r) if matches!(*r, Resource::Bundle(_))
        ));
        assert!(matches!(
            classify(&p, "emptyTotal"),
            Prefetched::Data(r) if matches!(*r, Resource::Bundle(_))
        ));
        assert!(matches!(
            classify(&p, "patient"),
            Prefetched::Data(r) if matches!(*r, Resource::Patient(_))
        ));
        assert!(matches!(
            classify(&p, "junk"),
            Prefetched::Missing(Missing::Unreadable(_))
        ));
    }
}
