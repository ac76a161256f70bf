//! Shared set-up of the operations tests: a log sink, and a FHIR server answering the
//! conditions query of an order-select request that leaves that key to be fetched.
#![allow(dead_code)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::fixture_json;

pub const FIXTURE: &str = "sandbox-r4-order-select.json";

/// A log writer whose output the test reads back.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

/// A FHIR server answering `GET /fhir/Condition` with the fixture's own conditions.
pub async fn fhir_serving_conditions() -> MockServer {
    let fhir = MockServer::start().await;
    let conditions = fixture_json(FIXTURE)["prefetch"]["conditions"].clone();
    Mock::given(method("GET"))
        .and(path("/fhir/Condition"))
        .respond_with(ResponseTemplate::new(200).set_body_json(conditions))
        .mount(&fhir)
        .await;
    fhir
}

/// The order-select fixture without its `conditions` prefetch, naming `fhir` as fhirServer.
pub fn request_fetching_conditions(fhir: &MockServer) -> Value {
    let mut req = fixture_json(FIXTURE);
    req["fhirServer"] = json!(format!("{}/fhir", fhir.uri()));
    req["prefetch"]
        .as_object_mut()
        .unwrap()
        .remove("conditions");
    req
}
