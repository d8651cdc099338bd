//! The HPA benchmark runs end to end on a few HPAs: every one is synced;
//! the figures are printed, never asserted. (It needs the rudder-hpa-controller
//! binary next to rudder-bench: `cargo test --workspace` builds it.)

mod util;

#[tokio::test]
async fn hpa_benchmark_syncs_every_hpa() {
    let stdout = util::bench(&["hpa", "--hpas", "5", "--nodes", "2", "--sync-period", "1", "--periods", "1"]).await;
    assert!(!stdout.contains("never"), "{stdout}");
    assert!(stdout.contains("controller start → every HPA synced once"), "{stdout}");
    assert!(stdout.contains("rudder-hpa-controller") && stdout.contains("peak RSS"), "{stdout}");
}
