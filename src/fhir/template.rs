//! Prefetch-template rendering (CDS Hooks 2.0.1 "Prefetch tokens").
//!
//! Tokens are `{{context.<field>}}` for a root-level *primitive* context field (string,
//! number or boolean) and the user tokens `{{userPractitionerId}}`,
//! `{{userPractitionerRoleId}}`, `{{userPatientId}}`, `{{userRelatedPersonId}}`, taken from
//! `context.userId` ("Practitioner/123" gives `userPractitionerId` = "123").
//!
//! Substituted values are percent-encoded so that a context value can never add query
//! parameters or path segments: in the query every reserved character is encoded; in the
//! path a value may keep `/` (so `{{context.userId}}` can be a read of "Practitioner/123") but
//! an empty, `.` or `..` segment makes the template unfillable. A template whose token cannot
//! be filled is not rendered at all.

use serde_json::{Map, Value};

/// Why a template could not be rendered (names the token, never its value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("token {0} has no usable value in the context")]
    Unfillable(String),
    #[error("unterminated token")]
    Unterminated,
}

/// Render `template` with the hook `context`. The result is a relative FHIR request
/// ("Condition?patient=123").
pub fn render(template: &str, context: &Map<String, Value>) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    let mut in_query = false;
    while let Some(start) = rest.find("{{") {
        let literal = &rest[..start];
        in_query |= literal.contains('?');
        out.push_str(literal);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or(TemplateError::Unterminated)?;
        let token = after[..end].trim();
        let value =
            token_value(token, context).ok_or_else(|| TemplateError::Unfillable(token.into()))?;
        if in_query {
            out.push_str(&encode_component(&value));
        } else {
            out.push_str(
                &encode_path(&value).ok_or_else(|| TemplateError::Unfillable(token.into()))?,
            );
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The raw value of one token, when the context has it.
fn token_value(token: &str, context: &Map<String, Value>) -> Option<String> {
    if let Some(field) = token.strip_prefix("context.") {
        if field.is_empty() || field.contains('.') {
            return None; // only root-level fields are tokens
        }
        return primitive(context.get(field)?);
    }
    let wanted = match token {
        "userPractitionerId" => "Practitioner",
        "userPractitionerRoleId" => "PractitionerRole",
        "userPatientId" => "Patient",
        "userRelatedPersonId" => "RelatedPerson",
        _ => return None,
    };
    let user = primitive(context.get("userId")?)?;
    let mut segments = user.trim_end_matches('/').rsplit('/');
    let id = segments.next()?;
    let kind = segments.next()?;
    (kind == wanted && !id.is_empty()).then(|| id.to_string())
}

fn primitive(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Percent-encode everything except RFC 3986 unreserved characters.
pub fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Encode a value used in the path: each `/`-separated segment on its own; a segment that
/// is empty, `.` or `..` is refused.
fn encode_path(value: &str) -> Option<String> {
    let mut out = Vec::new();
    for seg in value.split('/') {
        if seg.is_empty() || seg == "." || seg == ".." {
            return None;
        }
        out.push(encode_component(seg));
    }
    Some(out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn context_tokens_are_replaced_and_encoded() {
        let c =
            ctx(json!({"patientId": "p 1&x=2", "encounterId": "e1", "userId": "Practitioner/7"}));
        assert_eq!(
            render("Condition?patient={{context.patientId}}", &c).unwrap(),
            "Condition?patient=p%201%26x%3D2"
        );
        assert_eq!(
            render(
                "Encounter?_id={{context.encounterId}}&practitioner={{context.userId}}",
                &c
            )
            .unwrap(),
            "Encounter?_id=e1&practitioner=Practitioner%2F7"
        );
        assert_eq!(
            render(
                "Patient/{{ context.patientId }}",
                &ctx(json!({"patientId": "abc-1"}))
            )
            .unwrap(),
            "Patient/abc-1"
        );
    }

    #[test]
    fn user_tokens_come_from_user_id() {
        let c = ctx(json!({"userId": "Practitioner/123"}));
        assert_eq!(
            render("Practitioner/{{userPractitionerId}}", &c).unwrap(),
            "Practitioner/123"
        );
        assert_eq!(
            render("PractitionerRole?_id={{userPractitionerRoleId}}", &c),
            Err(TemplateError::Unfillable("userPractitionerRoleId".into()))
        );
        let full = ctx(json!({"userId": "https://ehr.example/fhir/PractitionerRole/r9"}));
        assert_eq!(
            render("PractitionerRole?_id={{userPractitionerRoleId}}", &full).unwrap(),
            "PractitionerRole?_id=r9"
        );
        assert_eq!(
            render("{{context.userId}}", &c).unwrap(),
            "Practitioner/123",
            "a read template keeps the reference's slash"
        );
    }

    #[test]
    fn unfillable_tokens_refuse_the_template() {
        let c = ctx(json!({"patientId": "", "medication": {"id": "m"}, "n": 5, "x": null}));
        for t in [
            "Condition?patient={{context.patientId}}",
            "Medication/{{context.medication.id}}",
            "Medication/{{context.medication}}",
            "X?y={{context.x}}",
            "X?y={{context.missing}}",
            "X?y={{unknownToken}}",
            "X?y={{context.",
        ] {
            assert!(render(t, &c).is_err(), "{t}");
        }
        assert_eq!(render("X?count={{context.n}}", &c).unwrap(), "X?count=5");
    }

    #[test]
    fn path_values_cannot_climb() {
        let c = ctx(json!({"patientId": "../admin", "b": "a//b"}));
        assert!(render("Patient/{{context.patientId}}", &c).is_err());
        assert!(render("Patient/{{context.b}}", &c).is_err());
        assert_eq!(
            render("Patient?_id={{context.patientId}}", &c).unwrap(),
            "Patient?_id=..%2Fadmin"
        );
    }

    proptest::proptest! {
        #[test]
        fn query_values_never_add_parameters(v in "\\PC{1,40}") {
            let c = ctx(json!({"patientId": v.clone()}));
            let r = render("Condition?patient={{context.patientId}}&x=1", &c).unwrap();
            let value = r
                .strip_prefix("Condition?patient=")
                .and_then(|r| r.strip_suffix("&x=1"))
                .unwrap();
            proptest::prop_assert!(value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
            let decoded = url::form_urlencoded::parse(format!("v={value}").as_bytes())
                .next()
                .map(|(_, d)| d.into_owned());
            proptest::prop_assert_eq!(decoded, Some(v));
        }
    }
}
