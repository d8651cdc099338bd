//! Helpers for tests that run against the sandbox (its own, the other
//! crates', the e2e suite).

use std::time::Duration;

/// Waits until `f` returns Some, polling every 50 ms; panics naming `what`
/// after `secs` seconds. Tests wait for conditions with a deadline and never
/// assert timings.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A started sandbox and a client for it.
pub async fn start() -> (crate::Sandbox, kube::Client) {
    let sandbox = crate::Sandbox::start().await.expect("sandbox starts");
    let client = sandbox.client().expect("client");
    (sandbox, client)
}
