//! The application: shared state, start-up checks, binding and running the HTTP server.

use std::net::TcpListener;

use actix_web::dev::{Server, Service};
use actix_web::middleware::{NormalizePath, TrailingSlash};
use actix_web::{web, App, HttpServer};

use crate::config::Config;
use crate::knowledge::Knowledge;
use crate::store::Store;

use super::audience::{check_audience_source, remember_original_path, AudienceSource};
use super::auth::{Verifier, VerifierOptions};
use super::cors::cors;
use super::pipeline::Pipeline;
use super::routes;
use super::{metrics, telemetry};

/// What every handler shares. Read-only after start-up.
#[derive(Debug)]
pub struct AppState {
    pub config: Config,
    pub pipeline: Pipeline,
    pub verifier: Verifier,
    pub store: Store,
    /// The discovery document, serialised once.
    pub discovery: web::Bytes,
    /// Where the URL tokens must name comes from.
    pub audience: AudienceSource,
}

impl AppState {
    pub fn public_url(&self) -> Option<&str> {
        self.config.server.public_url.as_deref()
    }

    /// Deadline on reading one request body (`limits.body_timeout_ms`).
    pub fn body_deadline(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.config.limits.body_timeout_ms)
    }
}

/// A bound, not yet running server (and its metrics listener, when configured).
pub struct Application {
    port: u16,
    server: Server,
    metrics: Option<(u16, Server)>,
}

impl Application {
    /// Check the configuration, load the services, set up auth and the store, and bind
    /// `server.listen` (port 0 picks a free port; see [`Application::port`]).
    pub async fn build(config: Config, knowledge: Knowledge) -> anyhow::Result<Application> {
        config.check().map_err(|e| anyhow::anyhow!("config: {e}"))?;
        let pipeline = Pipeline::new(&config, knowledge)?;
        // The store first: on PostgreSQL the replicas share its jti replay table.
        let store = Store::open(&config.store).await?;
        let options = VerifierOptions {
            replay_table: store.replay_table(),
            ..VerifierOptions::default()
        };
        let verifier = Verifier::with_options(&config.auth, options).await?;
        if !config.auth.required {
            tracing::warn!(
                "auth.required = false: CDS clients are NOT authenticated; use only for local tests"
            );
        }
        pipeline.log_modes();
        let extension = pipeline.knowledge().version.extension();
        let discovery = web::Bytes::from(
            pipeline
                .catalog()
                .discovery_document(&extension)
                .to_string(),
        );
        let listener = TcpListener::bind(config.server.listen)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.server.listen))?;
        let bound = listener.local_addr()?;
        let port = bound.port();
        check_audience_source(&config, bound).map_err(|e| anyhow::anyhow!("config: {e}"))?;
        let trusted = config
            .proxy
            .networks()
            .map_err(|e| anyhow::anyhow!("config: {e}"))?;
        let audience = AudienceSource::new(config.server.public_url.as_deref(), trusted, bound);
        let metrics = match config.metrics.listen {
            Some(addr) => Some(metrics_server(addr)?),
            None => None,
        };
        let state = web::Data::new(AppState {
            config,
            pipeline,
            verifier,
            store,
            discovery,
            audience,
        });
        let server = HttpServer::new(move || {
            App::new()
                .wrap(NormalizePath::new(TrailingSlash::Trim))
                .wrap_fn(|req, srv| {
                    remember_original_path(&req);
                    srv.call(req)
                })
                .wrap(cors())
                .wrap(actix_web::middleware::from_fn(metrics::record_http))
                .wrap(actix_web::middleware::from_fn(telemetry::trace_request))
                .app_data(state.clone())
                .configure(routes::configure)
        })
        .listen(listener)?
        .run();
        tracing::info!(port, "listening");
        Ok(Application {
            port,
            server,
            metrics,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the metrics listener, when `[metrics] listen` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// A handle to stop the server (`handle.stop(true).await` finishes the requests in
    /// flight first), e.g. to restart it in tests or on an orchestrator's signal.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serve until the process is stopped (SIGINT/SIGTERM stop it gracefully); the metrics
    /// listener stops with the API server.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = self.metrics.map(|(_, server)| {
            let handle = server.handle();
            (handle, tokio::spawn(server))
        });
        let result = self.server.await;
        if let Some((handle, task)) = metrics {
            handle.stop(true).await;
            let _ = task.await;
        }
        result
    }
}

/// The metrics listener: `GET /metrics` only, one worker.
fn metrics_server(addr: std::net::SocketAddr) -> anyhow::Result<(u16, Server)> {
    let listener = TcpListener::bind(addr)
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr} (metrics): {e}"))?;
    let port = listener.local_addr()?.port();
    let server = HttpServer::new(|| App::new().configure(metrics::configure))
        .workers(1)
        .disable_signals()
        .listen(listener)?
        .run();
    tracing::info!(port, "metrics listening");
    Ok((port, server))
}
