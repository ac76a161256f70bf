//! The Kubernetes manifests in deploy/kubernetes/ agree with the service: the probe paths are
//! served (and on the port the configuration listens on), the metrics port and path are the
//! metrics listener's, every `JAK_SLE_CDS__…` variable the Deployment sets is a configuration
//! key (the ConfigMap's TOML with those variables over it loads), and the Deployment is set up
//! as documented (2 replicas, read-only root filesystem, non-root, resources).

mod common;

use std::path::{Path, PathBuf};

use common::test_config;
use jak_sle_cds::config::Config;
use jak_sle_cds::server::pipeline::load_knowledge;
use jak_sle_cds::server::Application;
use serde_json::Value;

fn manifest_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes")
}

fn manifest(name: &str) -> Value {
    let text = std::fs::read_to_string(manifest_dir().join(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn container() -> Value {
    manifest("deployment.yaml")["spec"]["template"]["spec"]["containers"][0].clone()
}

/// The containerPort of the named port.
fn container_port(name: &str) -> u16 {
    container()["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["containerPort"].as_u64())
        .unwrap_or_else(|| panic!("no container port {name}")) as u16
}

fn config_toml() -> String {
    manifest("configmap.yaml")["data"]["config.toml"]
        .as_str()
        .expect("config.toml in the ConfigMap")
        .to_string()
}

#[test]
fn kustomization_lists_every_manifest() {
    let listed: Vec<String> = manifest("kustomization.yaml")["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    let mut on_disk: Vec<String> = std::fs::read_dir(manifest_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml") && n != "kustomization.yaml")
        .collect();
    on_disk.sort();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(sorted, on_disk);
}

#[test]
fn ports_match_the_configuration() {
    let config = Config::from_toml(&config_toml()).expect("the ConfigMap's TOML parses");
    config.check().expect("the ConfigMap's TOML is valid");
    assert_eq!(config.server.listen.port(), container_port("http"));
    let metrics = config.metrics.listen.expect("[metrics] listen is set");
    assert_eq!(metrics.port(), container_port("metrics"));
    let annotations = &manifest("deployment.yaml")["spec"]["template"]["metadata"]["annotations"];
    assert_eq!(
        annotations["prometheus.io/port"].as_str(),
        Some(metrics.port().to_string().as_str())
    );
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        assert_eq!(container()[probe]["httpGet"]["port"], "http", "{probe}");
    }
    assert_eq!(container()["livenessProbe"]["httpGet"]["path"], "/livez");
    assert_eq!(container()["readinessProbe"]["httpGet"]["path"], "/readyz");
    // The Service forwards to named container ports.
    for port in manifest("service.yaml")["spec"]["ports"]
        .as_array()
        .unwrap()
    {
        container_port(port["targetPort"].as_str().unwrap());
    }
}

#[test]
fn the_deployment_is_hardened_and_replicated() {
    let deployment = manifest("deployment.yaml");
    assert_eq!(deployment["spec"]["replicas"], 2);
    let c = container();
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(
        deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"],
        true
    );
    assert!(c["resources"]["requests"]["cpu"].is_string());
    assert!(c["resources"]["limits"]["memory"].is_string());
    let labels = &deployment["spec"]["template"]["metadata"]["labels"];
    let pdb = manifest("poddisruptionbudget.yaml");
    assert_eq!(&pdb["spec"]["selector"]["matchLabels"], labels);
    assert_eq!(&manifest("service.yaml")["spec"]["selector"], labels);
    assert_eq!(pdb["spec"]["minAvailable"], 1);
}

#[test]
fn every_configuration_variable_is_a_configuration_key() {
    let dir = tempfile::tempdir().unwrap();
    let config_file = dir.path().join("config.toml");
    std::fs::write(&config_file, config_toml()).unwrap();
    let mounts: Vec<String> = container()["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mountPath"].as_str().unwrap().to_string())
        .collect();
    let mut vars = Vec::new();
    for var in container()["env"].as_array().unwrap() {
        let name = var["name"].as_str().unwrap().to_string();
        if !name.starts_with("JAK_SLE_CDS__") {
            continue;
        }
        let value = if let Some(v) = var["value"].as_str() {
            v.to_string()
        } else {
            let secret = &var["valueFrom"]["secretKeyRef"];
            assert!(secret["name"].is_string(), "{name}: value or secretKeyRef");
            // Whatever the Secret holds: a value of the right shape.
            "postgres://cds:secret@db.example.org/cds".to_string()
        };
        if name.ends_with("_FILE") {
            assert!(
                mounts.iter().any(|m| value.starts_with(&format!("{m}/"))),
                "{name}: {value} is not on a mounted volume"
            );
            // The mounted file, stood in for by a local one.
            let local = dir.path().join(Path::new(&value).file_name().unwrap());
            std::fs::write(&local, "a-secret-value\n").unwrap();
            vars.push((name, local.display().to_string()));
        } else {
            vars.push((name, value));
        }
    }
    assert!(vars.len() >= 2, "{vars:?}");
    let loaded = Config::load_with_env(Some(&config_file), vars.clone())
        .unwrap_or_else(|e| panic!("the Deployment's variables do not fit the configuration: {e}"));
    assert_eq!(loaded.overrides.len(), vars.len());
    assert!(loaded.config.store.url.starts_with("postgres://"));
    assert_eq!(
        loaded.config.store.audit_salt.as_deref(),
        Some("a-secret-value")
    );
}

#[tokio::test]
async fn the_probe_and_metrics_paths_are_served() {
    let mut config = test_config();
    config.metrics.listen = Some("127.0.0.1:0".parse().unwrap());
    let knowledge = load_knowledge(&config).unwrap();
    let app = Application::build(config, knowledge).await.unwrap();
    let (api, metrics) = (app.port(), app.metrics_port().unwrap());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let c = container();
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        let path = c[probe]["httpGet"]["path"].as_str().unwrap();
        let res = client
            .get(format!("http://127.0.0.1:{api}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{probe} {path}");
    }
    let annotations = &manifest("deployment.yaml")["spec"]["template"]["metadata"]["annotations"];
    let path = annotations["prometheus.io/path"].as_str().unwrap();
    let res = client
        .get(format!("http://127.0.0.1:{metrics}{path}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("http_server_request_duration_seconds"));
}
