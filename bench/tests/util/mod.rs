//! What every benchmark smoke test does: run `rudder-bench` with arguments,
//! check it succeeded, and hand back what it printed.

/// Runs `rudder-bench ARGS`; its stdout, once it exited 0 (else the test
/// fails with both outputs).
pub async fn bench(args: &[&str]) -> String {
    let exe = env!("CARGO_BIN_EXE_rudder-bench");
    let out = tokio::process::Command::new(exe).args(args).kill_on_drop(true).output().await.expect("rudder-bench runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    stdout
}
