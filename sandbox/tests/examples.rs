//! Every manifest in `examples/` is accepted by the sandbox through
//! `kubectl apply -f`, as a user following the README would run it. (What
//! the components then do with them is tested in e2e/.)

mod util;

use util::{Tool, ToolEnv};

fn examples() -> Vec<std::path::PathBuf> {
    // The directory cargo runs the test for (at run time: a test binary
    // reused from a build elsewhere carries that build's path).
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string());
    let dir = std::path::Path::new(&manifest).join("../examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn every_example_applies_and_its_objects_exist() {
    let files = examples();
    assert!(files.len() >= 5, "{files:?}");
    for file in files {
        // Each in its own sandbox: the examples do not depend on each other.
        let env = ToolEnv::start().await;
        let path = file.to_str().unwrap();
        let (ok, out, err) = env.run_tool(Tool::Kubectl, &["apply", "-f", path], "").await;
        assert!(ok, "kubectl apply -f {path}: {out}{err}");
        let (ok, out, err) = env.run_tool(Tool::Kubectl, &["get", "-f", path, "-o", "name"], "").await;
        assert!(ok, "kubectl get -f {path}: {out}{err}");
        let documents = std::fs::read_to_string(&file).unwrap().lines().filter(|l| l.starts_with("kind: ")).count();
        assert_eq!(out.lines().count(), documents, "{path}: {out}");
        // Applying again changes nothing.
        let (ok, out, err) = env.run_tool(Tool::Kubectl, &["apply", "-f", path], "").await;
        assert!(ok && out.lines().all(|l| l.ends_with(" unchanged")), "{path}: {out}{err}");
    }
}
