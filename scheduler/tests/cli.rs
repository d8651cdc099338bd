//! Bad input to the binary: a clear message and a non-zero exit, before
//! anything connects anywhere.

use std::process::Command;

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rudder-scheduler")).args(args).output().expect("rudder-scheduler runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).to_string())
}

#[test]
fn a_missing_configuration_file_is_named() {
    let (code, err) = run(&["--config", "/nonexistent/scheduler.yaml"]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot read /nonexistent/scheduler.yaml"), "{err}");
}

#[test]
fn an_invalid_configuration_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scheduler.yaml");
    std::fs::write(&path, "profiles:\n  - schedulerName: a\n  - schedulerName: a\npercentageOfNodesToScore: 150\n").unwrap();
    let (code, err) = run(&["--config", path.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("profiles[1].schedulerName: Duplicate value: \"a\""), "{err}");
    assert!(err.contains("percentageOfNodesToScore: Invalid value: 150"), "{err}");
}

#[test]
fn bad_plugin_arguments_name_the_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scheduler.yaml");
    std::fs::write(
        &path,
        "profiles:\n  - schedulerName: a\n    pluginConfig:\n      - name: NodeResourcesFit\n        args: {scoringStrategy: {type: Sometimes}}\n",
    )
    .unwrap();
    let (code, err) = run(&["--config", path.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("profile \"a\": plugin NodeResourcesFit:"), "{err}");
}

#[test]
fn a_bad_flag_exits_2_naming_it() {
    let (code, err) = run(&["--kube-api-qps", "fast"]);
    assert_eq!(code, 2);
    assert!(err.contains("--kube-api-qps"), "{err}");
}
