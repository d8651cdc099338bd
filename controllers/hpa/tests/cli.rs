//! Bad input to the binary: a clear message and a non-zero exit, nothing
//! started.

use std::process::Command;

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rudder-hpa-controller")).args(args).output().expect("the binary runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).to_string())
}

#[test]
fn bad_flags_are_refused_naming_them() {
    let (code, err) = run(&["--concurrent-horizontal-pod-autoscaler-syncs", "0"]);
    assert_eq!(code, 2);
    assert!(err.contains("--concurrent-horizontal-pod-autoscaler-syncs"), "{err}");
    let (code, err) = run(&["--horizontal-pod-autoscaler-sync-period", "soon"]);
    assert_eq!(code, 2);
    assert!(err.contains("--horizontal-pod-autoscaler-sync-period"), "{err}");
}

#[test]
fn a_missing_kubeconfig_is_named() {
    let (code, err) = run(&["--kubeconfig", "/nonexistent/kubeconfig", "--leader-elect=false"]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot load kubeconfig /nonexistent/kubeconfig"), "{err}");
}
