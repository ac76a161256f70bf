//! What one prefetch value means (CDS Hooks 2.0.1 "Providing FHIR Resources"):
//!
//! * key absent → not prefetched: fetch it;
//! * JSON `null` → the client has no data: nothing to fetch;
//! * an OperationOutcome → the client failed to prefetch: treat as absent and fetch;
//! * any other resource, including a searchset Bundle with no entries → data (`total` is
//!   never looked at);
//! * a value that is not a FHIR resource at all → nothing usable: recorded as unreadable and
//!   fetched like an absent key.
//!
//! A request's prefetch is read in the same pass as the rest of its body ([`Prefetch`]'s
//! `Deserialize`): each value typed as it streams. When any value cannot be read that way (a
//! resource that does not parse, `resourceType` not first), the request is read again with
//! each value kept raw and parsed on its own ([`Prefetch::from_raw`]): a bad resource is
//! skipped and counted, never fatal. Both reads give the same result.

use std::collections::HashMap;

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use super::model::{ParseFailure, Resource, Streamed};
use super::parse_resource;

/// The state of one prefetch key.
#[derive(Debug, Clone)]
pub enum Prefetched {
    /// Usable data.
    Data(Box<Resource>),
    /// The client says there is no data.
    NoData,
    /// Not (usably) prefetched: the fallback fetch should get it.
    Missing(Missing),
}

/// Why a key counts as not prefetched.
#[derive(Debug, Clone)]
pub enum Missing {
    Absent,
    OperationOutcome,
    /// Present but not a FHIR resource (the failure goes to `PatientRecord::unreadable`).
    Unreadable(ParseFailure),
}

/// A request's prefetch, each key classified. The gather takes each key's data out of it
/// ([`Prefetch::take`]), so that the record owns the resources without copying them.
#[derive(Debug, Clone, Default)]
pub struct Prefetch {
    values: HashMap<String, Prefetched>,
    /// Keys the client sent (for logs; taking a key does not change it).
    sent: usize,
}

impl Prefetch {
    /// The tolerant read: each raw value classified and parsed on its own.
    pub fn from_raw(raw: HashMap<String, Option<Box<RawValue>>>) -> Prefetch {
        Prefetch::classified(raw, |raw| of_resource(parse_resource(&raw)))
    }

    /// Each key's value classified: `null` is no data, anything else goes through `state`.
    fn classified<V>(
        values: HashMap<String, Option<V>>,
        state: impl Fn(V) -> Prefetched,
    ) -> Prefetch {
        let sent = values.len();
        let values = values
            .into_iter()
            .map(|(key, value)| (key, value.map_or(Prefetched::NoData, &state)))
            .collect();
        Prefetch { values, sent }
    }

    /// Take the state of `key` out (a key not sent, or already taken, is `Absent`).
    pub fn take(&mut self, key: &str) -> Prefetched {
        self.values
            .remove(key)
            .unwrap_or(Prefetched::Missing(Missing::Absent))
    }

    /// How many keys the client sent (values are never logged).
    pub fn keys_sent(&self) -> usize {
        self.sent
    }
}

/// Every key still held, with its state (in no particular order).
impl IntoIterator for Prefetch {
    type Item = (String, Prefetched);
    type IntoIter = std::collections::hash_map::IntoIter<String, Prefetched>;
    fn into_iter(self) -> Self::IntoIter {
        self.values.into_iter()
    }
}

/// The state of a value that is a resource, or failed to parse as one.
fn of_resource(parsed: Result<Resource, ParseFailure>) -> Prefetched {
    match parsed {
        Ok(Resource::OperationOutcome(_)) => Prefetched::Missing(Missing::OperationOutcome),
        Ok(resource) => Prefetched::Data(Box::new(resource)),
        Err(failure) => Prefetched::Missing(Missing::Unreadable(failure)),
    }
}

/// The one-pass read. It fails whenever a value needs the tolerant read, so that the caller
/// reads the request again with [`Prefetch::from_raw`].
impl<'de> Deserialize<'de> for Prefetch {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Prefetch, D::Error> {
        let streamed = HashMap::<String, Option<Streamed<true>>>::deserialize(d)?;
        Ok(Prefetch::classified(streamed, |Streamed(r)| {
            of_resource(Ok(r))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(json: &str) -> Prefetch {
        Prefetch::from_raw(serde_json::from_str(json).unwrap())
    }

    fn classify(p: &Prefetch, key: &str) -> Prefetched {
        p.clone().take(key)
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
