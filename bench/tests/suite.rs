//! The suite at its smoke size: every scenario runs end to end on the
//! sandbox and writes its record, its plot and its row of the table. What
//! is checked is what each scenario must have done (every pod, binding,
//! Job, HPA, review), never how fast. (It needs the component binaries next
//! to rudder-bench: `cargo test --workspace` builds them.)

mod util;

use util::{figure, record, requests};

#[tokio::test]
async fn the_smoke_suite_runs_every_scenario_and_writes_its_results() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let stdout = util::bench(&["suite", "--size", "smoke", "--out", out]).await;
    let ids = [
        "sandbox-objects",
        "replicaset-scale",
        "deployment-rollout",
        "daemonset-rollout",
        "job-throughput",
        "scheduler-throughput-plain",
        "scheduler-throughput-spread",
        "scheduler-throughput-anti-affinity",
        "hpa-sync",
        "admission-latency",
    ];
    let table = std::fs::read_to_string(dir.path().join("README.md")).unwrap();
    for id in ids {
        let r = record(dir.path(), id);
        assert!(r["converged_seconds"].as_f64().is_some(), "{id} did not converge: {r}");
        assert_eq!(r["target"], "sandbox", "{r}");
        assert!(table.contains(&format!("| `{id}` |")), "{id} missing from the table:\n{table}");
        if id != "sandbox-objects" {
            let svg = std::fs::read_to_string(dir.path().join(format!("{id}.svg"))).unwrap();
            assert!(svg.starts_with("<svg") && svg.contains(id), "{id}: {svg}");
            let c = &r["components"][0];
            assert!(c["cpu_seconds"].as_f64().is_some() && c["peak_rss_mib"].as_f64().is_some(), "{r}");
        }
        if !matches!(id, "sandbox-objects" | "admission-latency") {
            let ceiling = &r["ceiling"];
            assert!(ceiling["seconds"].as_f64().is_some() && ceiling["ratio"].as_f64().is_some(), "{id}: {r}");
        }
    }

    // 3 ReplicaSets x 10: every pod created by the controller, bound by the scheduler.
    let rs = record(dir.path(), "replicaset-scale");
    assert!(requests(&rs, "rudder-replicaset-controller", "POST") >= 30, "{rs}");
    assert!(requests(&rs, "rudder-scheduler", "POST") >= 30, "{rs}");
    assert_eq!(rs["ceiling"]["writes"], "30 pod creates, 30 bindings");
    let points = rs["series"][0]["points"].as_array().unwrap();
    assert_eq!(points.last().unwrap()[1], 30.0, "{rs}");
    // 3 Deployments x 4 replaced: the ReplicaSet controller deleted the 12 old pods.
    let dep = record(dir.path(), "deployment-rollout");
    assert!(requests(&dep, "rudder-replicaset-controller", "DELETE") >= 12, "{dep}");
    assert_eq!(dep["phases"].as_array().unwrap().len(), 2, "{dep}");
    // 4 nodes: a pod each, then replaced.
    let ds = record(dir.path(), "daemonset-rollout");
    assert!(requests(&ds, "rudder-daemonset-controller", "DELETE") >= 4, "{ds}");
    // 3 Jobs x 4 completions, every pod counted.
    let job = record(dir.path(), "job-throughput");
    assert_eq!(figure(&job, "pods counted succeeded"), 12.0, "{job}");
    // Every scheduler shape bound its 60 pods (one binding each).
    for shape in ["plain", "spread", "anti-affinity"] {
        let s = record(dir.path(), &format!("scheduler-throughput-{shape}"));
        assert!(requests(&s, "rudder-scheduler", "POST") >= 60, "{s}");
        assert_eq!(s["variant"], shape);
    }
    let hpa = record(dir.path(), "hpa-sync");
    assert!(figure(&hpa, "CPU per HPA sync") >= 0.0, "{hpa}");
    assert_eq!(hpa["series"][0]["points"].as_array().unwrap().last().unwrap()[1], 5.0, "{hpa}");
    // 200 reviews, none failed; the 50 quota reviews and 5 of the warm-up charged once each.
    let adm = record(dir.path(), "admission-latency");
    assert_eq!(figure(&adm, "reviews failed"), 0.0, "{adm}");
    assert_eq!(figure(&adm, "quota status.used.pods"), 55.0, "{adm}");
    for path in ["/validate/namespacelifecycle", "/mutate/limitranger", "/validate/limitranger", "/validate/resourcequota"] {
        assert!(figure(&adm, &format!("{path} p999")) > 0.0, "{adm}");
    }
    let objects = record(dir.path(), "sandbox-objects");
    assert!(figure(&objects, "server peak RSS") > 0.0, "{objects}");
    assert!(stdout.contains("results in"), "{stdout}");
}

/// One scenario by its old name, its record written where asked; a bad
/// flag is refused before anything starts.
#[tokio::test]
async fn a_single_scenario_writes_its_record_and_bad_flags_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let stdout = util::bench(&["replicaset", "--replicasets", "2", "--replicas", "3", "--nodes", "2", "--out", out]).await;
    assert!(stdout.starts_with("replicaset-scale (nodes=2, replicas=3, replicasets=2) on sandbox"), "{stdout}");
    let r = record(dir.path(), "replicaset-scale");
    assert!(r["converged_seconds"].as_f64().is_some(), "{r}");
    assert!(std::fs::read_to_string(dir.path().join("README.md")).unwrap().contains("| `replicaset-scale` |"));

    let exe = env!("CARGO_BIN_EXE_rudder-bench");
    for args in [
        &["suite", "--only", "no-such-scenario"][..],
        &["replicaset-scale", "--component", "x=http://127.0.0.1:1"][..],
        &["suite", "--target-kubeconfig", "/k", "--component", "no-equals"][..],
    ] {
        let out = tokio::process::Command::new(exe).args(args).output().await.unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    // An unreachable cluster: a clear error, exit 1.
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, rudder_sandbox::kubeconfig_yaml("http://127.0.0.1:1")).unwrap();
    let out = tokio::process::Command::new(exe)
        .args(["replicaset-scale", "--target-kubeconfig", kubeconfig.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("rudder-bench:") && stderr.contains("namespace"), "{stderr}");
}
