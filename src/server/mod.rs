//! The HTTP edge: actix-web app, routes, authentication, CORS and error mapping.

pub mod auth;
