//! The scheduler benchmark runs end to end on a few nodes and pods, in each
//! shape: every pod is bound; the figures are printed, never asserted.
//! (It needs the rudder-scheduler binary next to rudder-bench: `cargo test
//! --workspace` builds it.)

#[tokio::test]
async fn scheduler_benchmark_binds_every_pod() {
    let exe = env!("CARGO_BIN_EXE_rudder-bench");
    for shape in ["plain", "spread", "anti-affinity"] {
        let out = tokio::process::Command::new(exe)
            .args(["scheduler", "--nodes", "20", "--pods", "60", "--group", "5", "--shape", shape])
            .kill_on_drop(true)
            .output()
            .await
            .expect("rudder-bench runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{shape}: {stdout}{}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains("bound                60 of 60"), "{shape}: {stdout}");
        assert!(stdout.contains("scheduler peak RSS"), "{stdout}");
    }
}
