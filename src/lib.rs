//! jak-sle-cds: a CDS Hooks 2.0 service that advises on JAK-inhibitor orders for patients
//! with systemic lupus erythematosus.
//!
//! The flow through the modules follows the request:
//! [`cds`] (protocol types in) → [`fhir`] (data gathered from prefetch or the FHIR server) →
//! [`facts`] (clinical facts, each with its source) → [`rules`] (decisions, pure functions) →
//! [`cards`] (CDS Hooks cards out). [`knowledge`] holds the clinical knowledge loaded from
//! `hooks/`; [`server`] is the HTTP edge; [`store`] keeps feedback and audit records;
//! [`engine`] ties facts, rules and cards together for one request. [`report`] and
//! [`cohort`] serve the CDS committee: the feedback report and the population dry run.

pub mod cards;
pub mod cds;
pub mod cohort;
pub mod config;
pub mod engine;
pub mod facts;
pub mod fhir;
pub mod knowledge;
pub mod report;
pub mod rules;
pub mod server;
pub mod store;
