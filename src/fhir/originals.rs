//! The JSON texts a record was read from (the request body, the FHIR server's pages), kept
//! as received so that a resource the service sends back can be given exactly as the EHR
//! holds it.
//!
//! An update action replaces the whole resource: an order rebuilt from the typed view would
//! lose what the view does not keep (dosage text, dispense request, notes...). Holding the
//! texts costs a reference count, not a copy; they are read again only when an update of a
//! recorded order is about to be suggested.

use bytes::Bytes;
use serde_json::{Map, Value};

/// How deep the search goes: request → prefetch → Bundle → entry → resource, with room for a
/// Bundle nested in a prefetch value. Contained resources are never searched.
const MAX_DEPTH: usize = 8;

#[derive(Debug, Clone, Default)]
pub struct Originals {
    texts: Vec<Bytes>,
}

impl Originals {
    /// Keep one text the record's resources were read from.
    pub fn push(&mut self, text: Bytes) {
        self.texts.push(text);
    }

    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// The first resource of one of `types` with `id`, as it was received. Texts are searched
    /// in the order they were kept (the request before the server's pages), as the record
    /// keeps the first resource of a given type and id.
    pub fn find(&self, types: &[&str], id: &str) -> Option<Map<String, Value>> {
        self.texts.iter().find_map(|text| {
            let value: Value = serde_json::from_slice(text).ok()?;
            find_in(value, types, id, 0)
        })
    }
}

fn find_in(value: Value, types: &[&str], id: &str, depth: usize) -> Option<Map<String, Value>> {
    if depth > MAX_DEPTH {
        return None;
    }
    match value {
        Value::Object(mut object) => {
            let resource_type = object.get("resourceType").and_then(Value::as_str);
            if resource_type.is_some_and(|t| types.contains(&t))
                && object.get("id").and_then(Value::as_str) == Some(id)
            {
                return Some(object);
            }
            // A resource's own members are not searched (its contained resources are not
            // records of their own); a Bundle's entries and the request's members are.
            let descend = resource_type.is_none() || resource_type == Some("Bundle");
            if !descend {
                return None;
            }
            object.remove("contained");
            object
                .into_iter()
                .find_map(|(_, v)| find_in(v, types, id, depth + 1))
        }
        Value::Array(items) => items
            .into_iter()
            .find_map(|v| find_in(v, types, id, depth + 1)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn originals(texts: &[Value]) -> Originals {
        let mut o = Originals::default();
        for t in texts {
            o.push(Bytes::from(t.to_string()));
        }
        o
    }

    #[test]
    fn finds_a_prefetched_order_with_every_member_it_was_sent_with() {
        let body = json!({
            "hook": "patient-view",
            "context": {"patientId": "p1"},
            "prefetch": {"medications": {"resourceType": "Bundle", "entry": [
                {"resource": {"resourceType": "MedicationRequest", "id": "a", "status": "active"}},
                {"resource": {"resourceType": "MedicationRequest", "id": "jak", "status": "active",
                    "dispenseRequest": {"quantity": {"value": 30}}, "note": [{"text": "keep"}]}}
            ]}}
        });
        let found = originals(&[body])
            .find(&["MedicationRequest"], "jak")
            .unwrap();
        assert_eq!(found["dispenseRequest"]["quantity"]["value"], 30);
        assert_eq!(found["note"][0]["text"], "keep");
    }

    #[test]
    fn type_and_id_must_both_match_and_contained_resources_are_not_records() {
        let page = json!({"resourceType": "Bundle", "entry": [
            {"resource": {"resourceType": "MedicationStatement", "id": "jak"}},
            {"resource": {"resourceType": "MedicationRequest", "id": "other",
                "contained": [{"resourceType": "MedicationRequest", "id": "jak"}]}}
        ]});
        let o = originals(&[page]);
        assert!(o.find(&["MedicationRequest"], "jak").is_none());
        assert!(o.find(&["MedicationStatement"], "jak").is_some());
    }

    #[test]
    fn the_first_text_wins_and_a_dstu2_order_is_found_by_its_own_type() {
        let first = json!({"resourceType": "MedicationOrder", "id": "m", "note": "first"});
        let second = json!({"resourceType": "MedicationRequest", "id": "m", "note": "second"});
        let o = originals(&[first, second]);
        let found = o
            .find(&["MedicationRequest", "MedicationOrder"], "m")
            .unwrap();
        assert_eq!(found["note"], "first");
        assert!(Originals::default()
            .find(&["MedicationRequest"], "m")
            .is_none());
    }
}
