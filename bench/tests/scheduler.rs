//! The scheduler benchmark runs end to end on a few nodes and pods, in each
//! shape: every pod is bound; the figures are printed, never asserted.
//! (It needs the rudder-scheduler binary next to rudder-bench: `cargo test
//! --workspace` builds it.)

mod util;

#[tokio::test]
async fn scheduler_benchmark_binds_every_pod() {
    for shape in ["plain", "spread", "anti-affinity"] {
        let stdout = util::bench(&["scheduler", "--nodes", "20", "--pods", "60", "--group", "5", "--shape", shape]).await;
        assert!(stdout.contains("bound                60 of 60"), "{shape}: {stdout}");
        assert!(stdout.contains("scheduler peak RSS"), "{stdout}");
    }
}
