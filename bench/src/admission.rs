//! `rudder-bench admission`: the admission webhooks' latency and cost.
//! The sandbox (a child process) holds a namespace with a LimitRange and a
//! ResourceQuota; rudder-admission-webhooks (a child process) serves HTTPS
//! on loopback; this process sends AdmissionReviews of pod creates at a
//! fixed rate (open loop: a request is timed from when it was due, so a
//! slow server cannot slow the load down and hide its own latency), spread
//! over the four webhooks as kube-apiserver would call them for each pod.
//! The ResourceQuota reviews are real charges: each writes the quota's
//! status to the sandbox. Prints p50/p99/max per webhook, the rate
//! achieved, and the server's CPU time per request (requests per second
//! one core could answer).

use std::time::Duration;

use anyhow::Context;

use k8s_openapi::api::core::v1::{LimitRange, ResourceQuota};
use kube::Api;
use kube::api::PostParams;
use serde_json::json;

use crate::cluster::{Cluster, Target};
use crate::record::{Record, Series};

pub struct Params {
    /// Reviews per second.
    pub rate: u64,
    /// How long the load lasts.
    pub seconds: u64,
}

const SERVER: &str = "rudder-admission-webhooks";
const PATHS: [&str; 4] = ["/validate/namespacelifecycle", "/mutate/limitranger", "/validate/limitranger", "/validate/resourcequota"];

fn review(i: u64, ns: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": format!("bench-{i}"),
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
        "requestResource": {"group": "", "version": "v1", "resource": "pods"},
        "name": format!("pod-{i}"), "namespace": ns, "operation": "CREATE",
        "userInfo": {"username": "bench"},
        "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("pod-{i}"), "namespace": ns, "labels": {"app": "bench"}},
            "spec": {"containers": [
                {"name": "app", "image": "app:1", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "128Mi"}}},
                // No memory: the mutating webhook defaults it.
                {"name": "sidecar", "image": "proxy:1", "resources": {"requests": {"cpu": "50m"}, "limits": {"cpu": "50m"}}}]}},
        "oldObject": null, "dryRun": false,
        "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}
    }}))
    .unwrap_or_default()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

pub async fn run(p: Params, target: &Target) -> anyhow::Result<Record> {
    anyhow::ensure!(target.is_sandbox(), "admission-latency runs on the sandbox only: it calls the webhook server it starts");
    let size = [("rate", format!("{}/s", p.rate)), ("seconds", p.seconds.to_string())];
    let mut record = Record::new("admission-latency", None, &size, &target.label());
    let mut cluster = Cluster::start(target, 1).await?;
    let ns = cluster.ns.clone();
    let range: LimitRange = serde_json::from_value(json!({"metadata": {"name": "limits"}, "spec": {"limits": [
        {"type": "Container", "default": {"cpu": "200m", "memory": "128Mi"}, "defaultRequest": {"cpu": "100m", "memory": "64Mi"}, "max": {"cpu": "2"}},
        {"type": "Pod", "max": {"cpu": "4"}}]}}))?;
    cluster.api::<LimitRange>().create(&PostParams::default(), &range).await?;
    let quota: ResourceQuota = serde_json::from_value(json!({"metadata": {"name": "quota"},
        "spec": {"hard": {"pods": "1000000000", "requests.cpu": "1000000"}}}))?;
    let quotas: Api<ResourceQuota> = cluster.api();
    quotas.create(&PostParams::default(), &quota).await?;

    // The server, its certificate from a throw-away authority.
    let certs = rudder_sandbox::up::certs::Certs::generate()?;
    let files = certs.write(cluster.dir())?;
    let port = rudder_sandbox::up::free_port()?;
    let args = vec![
        "--bind-address=127.0.0.1".to_string(),
        format!("--secure-port={port}"),
        format!("--tls-cert-file={}", files.cert.display()),
        format!("--tls-private-key-file={}", files.key.display()),
    ];
    cluster.start_component(SERVER, &args).await?;
    let pid = cluster.pid(SERVER).context("the webhook server has no pid")?;
    let counted = cluster
        .converge("quota counted", 1, std::time::Instant::now(), None, |_| {
            let quotas = quotas.clone();
            async move {
                let counted = quotas.get("quota").await?.status.and_then(|s| s.used).is_some();
                Ok((u64::from(counted), counted))
            }
        })
        .await?;
    anyhow::ensure!(counted.is_some(), "the reconciler never counted the quota");

    // A client as kube-apiserver's: HTTPS, the CA bundle, pooled connections.
    let mut config = kube::Config::new(format!("https://127.0.0.1:{port}").parse()?);
    config.root_cert = Some(vec![rustls_der(&certs.ca_pem)?]);
    let webhook = kube::Client::try_from(config)?;

    // Warm up (connections, caches), then the measured load.
    for i in 0..20 {
        call(&webhook, PATHS[i % PATHS.len()], review(i as u64, &ns)).await?;
    }
    cluster.mark().await;
    let interval = Duration::from_secs_f64(1.0 / p.rate.max(1) as f64);
    let total = p.rate * p.seconds;
    let cpu_before = crate::cpu_seconds(pid);
    let bar = indicatif::ProgressBar::new(total);
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(total as usize);
    for i in 0..total {
        let due = start + interval * i as u32;
        tokio::time::sleep_until(due).await;
        bar.set_position(i);
        let (webhook, path, body) = (webhook.clone(), PATHS[i as usize % PATHS.len()], review(1000 + i, &ns));
        tasks.push(tokio::spawn(async move {
            let ok = call(&webhook, path, body).await;
            (path, due, due.elapsed(), ok)
        }));
    }
    bar.finish_and_clear();
    let mut latencies: Vec<(&str, Duration)> = Vec::with_capacity(tasks.len());
    let mut answered: Vec<f64> = Vec::with_capacity(tasks.len());
    let mut failures = 0;
    let mut first_failure = None;
    for t in tasks {
        let (path, due, took, ok) = t.await?;
        match ok {
            Ok(()) => {
                latencies.push((path, took));
                answered.push((due - start + took).as_secs_f64());
            }
            Err(e) => {
                failures += 1;
                first_failure.get_or_insert(e.to_string());
            }
        }
    }
    let wall = start.elapsed();
    let cpu = crate::cpu_seconds(pid) - cpu_before;
    record.phase("load", Some(wall));

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    for path in PATHS.iter().copied().chain(std::iter::once("all")) {
        let mut these: Vec<Duration> = latencies.iter().filter(|(p, _)| path == "all" || *p == path).map(|(_, d)| *d).collect();
        these.sort();
        let headline = path == "all";
        record.figure(&format!("{path} p50"), ms(percentile(&these, 0.50)), "ms", headline);
        record.figure(&format!("{path} p99"), ms(percentile(&these, 0.99)), "ms", headline);
        record.figure(&format!("{path} p999"), ms(percentile(&these, 0.999)), "ms", headline);
        record.figure(&format!("{path} max"), ms(these.last().copied().unwrap_or_default()), "ms", false);
    }
    record.figure("reviews per second achieved", latencies.len() as f64 / wall.as_secs_f64(), "reviews/s", false);
    record.figure("reviews failed", failures as f64, "", false);
    record.figure("reviews per second per core", latencies.len() as f64 / cpu.max(1e-9), "reviews/s", true);
    if let Some(e) = first_failure {
        eprintln!("admission-latency: {failures} reviews failed; the first: {e}");
    }
    let used = quotas.get("quota").await?.status.and_then(|s| s.used).and_then(|u| u.get("pods").map(|q| q.0.clone()));
    record.figure("quota status.used.pods", used.and_then(|u| u.parse().ok()).unwrap_or(-1.0), "", false);
    answered.sort_by(f64::total_cmp);
    let step = (answered.len() / 200).max(1);
    let points =
        answered.iter().enumerate().filter(|(i, _)| i % step == 0 || *i + 1 == answered.len()).map(|(i, t)| (*t, (i + 1) as f64)).collect();
    record.series.push(Series { name: "reviews answered".into(), points });
    cluster.finish(&mut record).await?;
    Ok(record)
}

/// The DER of a PEM certificate.
fn rustls_der(pem: &str) -> anyhow::Result<Vec<u8>> {
    use base64::Engine;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    Ok(base64::engine::general_purpose::STANDARD.decode(body)?)
}

/// One review; an error unless answered 200 with an AdmissionReview that allows.
async fn call(client: &kube::Client, path: &str, body: Vec<u8>) -> anyhow::Result<()> {
    let request = http::Request::post(format!("{path}?timeout=10s")).header("content-type", "application/json").body(body)?;
    let answer: serde_json::Value = client.request(request).await?;
    anyhow::ensure!(answer["response"]["allowed"] == true, "{path}: not allowed: {}", answer["response"]["status"]);
    Ok(())
}
