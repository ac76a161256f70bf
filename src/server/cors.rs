//! CORS for browser-based CDS clients (CDS Hooks 2.0.1 "Cross-Origin Resource Sharing"): any
//! origin, GET/POST/OPTIONS, the `Authorization` and `Content-Type` headers, and Private
//! Network Access (`Access-Control-Allow-Private-Network: true` on a preflight that asks
//! for it), for EHR browsers calling a service on the hospital network.

use actix_cors::Cors;
use actix_web::http::{header, Method};

/// Preflight answers are cached by browsers for this long (seconds).
const PREFLIGHT_MAX_AGE: usize = 86_400;

pub fn cors() -> Cors {
    Cors::default()
        .allow_any_origin()
        .allowed_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .allow_private_network_access()
        .max_age(PREFLIGHT_MAX_AGE)
}
