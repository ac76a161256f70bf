//! The HTTP edge: actix-web app, routes, authentication, CORS and error mapping.
//!
//! [`app::Application`] binds and runs the server; [`pipeline::Pipeline`] answers one hook
//! call (shared with the `evaluate` command); [`routes`] maps the endpoints: `GET
//! /cds-services`, `POST /cds-services/{id}`, `POST /cds-services/{id}/feedback`, `GET
//! /livez` (alias `/healthz`), `GET /readyz` ([`probes`]).

pub mod app;
pub mod audience;
pub mod auth;
pub mod body;
pub mod cors;
pub mod discovery;
pub mod error;
pub mod feedback;
pub mod hooks;
pub mod metrics;
pub mod pipeline;
pub mod probes;
pub mod routes;
pub mod telemetry;

pub use app::Application;
pub use pipeline::{Evaluation, HookError, Pipeline};
