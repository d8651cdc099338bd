//! What every benchmark smoke test does: run `rudder-bench` with arguments,
//! check it succeeded, and hand back what it printed or the records it wrote.

use std::path::Path;

use serde_json::Value;

/// Runs `rudder-bench ARGS`; its stdout, once it exited 0 (else the test
/// fails with both outputs).
pub async fn bench(args: &[&str]) -> String {
    let exe = env!("CARGO_BIN_EXE_rudder-bench");
    let out = tokio::process::Command::new(exe).args(args).kill_on_drop(true).output().await.expect("rudder-bench runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// The record `<id>.json` in `dir`.
#[allow(dead_code)]
pub fn record(dir: &Path, id: &str) -> Value {
    let path = dir.join(format!("{id}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("a JSON record")
}

/// The API requests of `component` in `record` made with `method`.
#[allow(dead_code)]
pub fn requests(record: &Value, component: &str, method: &str) -> u64 {
    let c = record["components"].as_array().expect("components").iter().find(|c| c["name"] == component);
    c.unwrap_or_else(|| panic!("no {component} in {record}"))["api_requests"][method].as_u64().unwrap_or(0)
}

/// A figure of `record` by name.
#[allow(dead_code)]
pub fn figure(record: &Value, name: &str) -> f64 {
    let f = record["figures"].as_array().expect("figures").iter().find(|f| f["name"] == name);
    f.unwrap_or_else(|| panic!("no figure {name} in {record}"))["value"].as_f64().expect("a number")
}
