//! Malformed AdmissionReviews thrown at the HTTPS server (property test,
//! fixed seeds so a failure repeats): whatever the body, the server answers
//! (never a dropped connection, never a hang), with a 400 for what is not a
//! review and an AdmissionReview carrying the request's uid for what is;
//! a refusal of code 500 only where the server could not decide (here: the
//! API server is unreachable), and it keeps serving afterwards.
//!
//! The caches are filled by hand with a namespace, a LimitRange and a quota
//! on a resource nothing charges, so that decisions need no API server.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{LimitRange, Namespace, ResourceQuota};
use kube::runtime::watcher::Event;
use rudder_admission_webhooks::server::{self, Config, Plugin, State, metrics::Metrics, tls};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

const PATHS: [&str; 4] = ["/mutate/limitranger", "/validate/limitranger", "/validate/resourcequota", "/validate/namespacelifecycle"];

struct Server {
    addr: std::net::SocketAddr,
    connector: tokio_rustls::TlsConnector,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    // An API server that is not there.
    start_with("http://127.0.0.1:1", Duration::from_secs(5), true).await
}

/// A server whose API server is at `api`; `seeded`: the LimitRange and
/// quota caches hold one object each (else they are listed and empty).
async fn start_with(api: &str, request_timeout: Duration, seeded: bool) -> Server {
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    let cert = params.self_signed(&key).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();

    let client = kube::Client::try_from(kube::Config::new(api.parse().unwrap())).unwrap();
    let config = Config { plugins: Plugin::ALL.to_vec(), request_timeout, quota_resync: Duration::from_secs(300), quota_workers: 1 };
    let state = State::new(client, config, Metrics::new(&mut prometheus_client::registry::Registry::default()));
    let (namespaces, ranges, quotas) = state.caches();
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": "ns"}, "status": {"phase": "Active"}})).unwrap();
    namespaces.apply(&Event::Init);
    namespaces.apply(&Event::InitApply(ns));
    namespaces.apply(&Event::InitDone);
    let range: LimitRange = serde_json::from_value(json!({"metadata": {"name": "r", "namespace": "ns"}, "spec": {"limits": [
        {"type": "Container", "max": {"cpu": "2"}, "default": {"cpu": "1"}, "maxLimitRequestRatio": {"memory": "2"}},
        {"type": "PersistentVolumeClaim", "max": {"storage": "1Gi"}}]}}))
    .unwrap();
    ranges.apply(&Event::Init);
    if seeded {
        ranges.apply(&Event::InitApply(range));
    }
    ranges.apply(&Event::InitDone);
    let quota: ResourceQuota = serde_json::from_value(json!({"metadata": {"name": "q", "namespace": "ns", "resourceVersion": "1"},
        "spec": {"hard": {"count/widgets.example.com": "1"}}, "status": {"hard": {"count/widgets.example.com": "1"}, "used": {"count/widgets.example.com": "0"}}}))
    .unwrap();
    quotas.apply(&Event::Init);
    if seeded {
        quotas.apply(&Event::InitApply(quota));
    }
    quotas.apply(&Event::InitDone);

    let reloader = tls::Reloader::new(cert_path, key_path).unwrap();
    let tls_config = Arc::new(tls::server_config(reloader.certificate.clone()).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(server::serve(listener, tls_config, state, std::future::pending()));

    let mut roots = RootCertStore::empty();
    roots.add(CertificateDer::from(cert.der().to_vec())).unwrap();
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let client_config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Server { addr, connector: tokio_rustls::TlsConnector::from(Arc::new(client_config)), _dir: dir }
}

impl Server {
    /// POSTs `body` to `path`; the status code and the body of the answer.
    async fn post(&self, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
        let exchange = async {
            let tcp = tokio::net::TcpStream::connect(self.addr).await.unwrap();
            let mut tls = self.connector.connect(ServerName::try_from("localhost").unwrap(), tcp).await.unwrap();
            let head = format!(
                "POST {path}?timeout=10s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            tls.write_all(head.as_bytes()).await.unwrap();
            // The server may answer (and close) before reading a body it refuses.
            let _ = tls.write_all(body).await;
            let mut answer = Vec::new();
            let _ = tls.read_to_end(&mut answer).await;
            answer
        };
        let answer = tokio::time::timeout(Duration::from_secs(10), exchange).await.expect("an answer within 10 s");
        let text = String::from_utf8_lossy(&answer);
        let code = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or_else(|| panic!("no HTTP answer: {text:?}"));
        let split = answer.windows(4).position(|w| w == b"\r\n\r\n").map_or(answer.len(), |i| i + 4);
        (code, dechunk(&answer[split..]))
    }
}

/// The body of a chunked answer (or the body itself).
fn dechunk(body: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(body);
    let mut out = Vec::new();
    let mut rest: &str = &text;
    loop {
        let Some((size, after)) = rest.split_once("\r\n") else { return body.to_vec() };
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { return body.to_vec() };
        if n == 0 || after.len() < n {
            return if n == 0 { out } else { body.to_vec() };
        }
        out.extend_from_slice(&after.as_bytes()[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
}

fn valid(uid: &str) -> Value {
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": uid,
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
        "name": "p", "namespace": "ns", "operation": "CREATE",
        "userInfo": {"username": "u"},
        "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns", "annotations": {"a": "b"}},
            "spec": {"containers": [{"name": "c", "image": "nginx", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"memory": "256Mi"}}}],
                "initContainers": [{"name": "i", "image": "busybox", "restartPolicy": "Always"}],
                "overhead": {"cpu": "10m"}, "resources": {"limits": {"cpu": "2"}}}},
        "oldObject": null, "dryRun": false, "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"}
    }})
}

fn random_value(rng: &mut fastrand::Rng, depth: u32) -> Value {
    match rng.u8(0..10) {
        0 => Value::Null,
        1 => json!(rng.bool()),
        2 => json!(rng.i64(..)),
        3 => json!(rng.f64() * 1e300),
        4 => json!(
            ["", "0", "-1", "1e999", "1.5.5", "NaN", "∞", "1Ki", "0.000000001", "9223372036854775807", "Pod", "CREATE", "UPDATE"]
                [rng.usize(..13)]
        ),
        5 => json!((0..rng.usize(0..40)).map(|_| rng.char(..)).collect::<String>()),
        6 if depth < 3 => Value::Array((0..rng.usize(0..4)).map(|_| random_value(rng, depth + 1)).collect()),
        7 if depth < 3 => {
            let keys = ["cpu", "memory", "name", "resources", "limits", "requests", "containers", "type", "phase", "x"];
            Value::Object((0..rng.usize(0..4)).map(|_| (keys[rng.usize(..keys.len())].to_string(), random_value(rng, depth + 1))).collect())
        }
        _ => json!({}),
    }
}

/// Every place in `v` (JSON pointers).
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => m.iter().for_each(|(k, c)| pointers(c, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out)),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, c)| pointers(c, format!("{at}/{i}"), out)),
        _ => {}
    }
}

/// A valid review with a few places replaced by random values.
fn mutated(rng: &mut fastrand::Rng, uid: &str) -> Value {
    let mut v = valid(uid);
    for _ in 0..rng.usize(1..4) {
        let mut all = Vec::new();
        pointers(&v, String::new(), &mut all);
        let at = all[rng.usize(1..all.len())].clone();
        // Keep the uid: the answer must carry it.
        if at == "/request/uid" || at == "/request" {
            continue;
        }
        if let Some(slot) = v.pointer_mut(&at) {
            *slot = random_value(rng, 0);
        }
    }
    v
}

/// Checks one answer; returns whether it was an internal error.
fn check(code: u16, body: &[u8], sent: &Value) -> bool {
    assert!(code == 200 || code == 400, "HTTP {code} for {sent}: {}", String::from_utf8_lossy(body));
    if code == 400 {
        assert!(!body.is_empty(), "a 400 says why");
        return false;
    }
    let answer: Value = serde_json::from_slice(body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)));
    assert_eq!(answer["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(answer["kind"], "AdmissionReview");
    assert_eq!(answer["response"]["uid"], sent["request"]["uid"], "{answer}");
    let allowed = answer["response"]["allowed"].as_bool().expect("allowed is a boolean");
    if !allowed {
        let status = &answer["response"]["status"];
        assert!(status["message"].as_str().is_some_and(|m| !m.is_empty()), "{answer}");
        let code = status["code"].as_u64().unwrap_or(0);
        assert!((400..600).contains(&code), "{answer}");
        return code >= 500;
    }
    false
}

#[tokio::test]
async fn malformed_reviews_get_a_400_or_an_answer_never_a_crash() {
    let server = start().await;
    let mut rng = fastrand::Rng::with_seed(18);
    let mut internal = 0;
    for i in 0..300 {
        let path = PATHS[i % PATHS.len()];
        let uid = format!("uid-{i}");
        let sent = mutated(&mut rng, &uid);
        let (code, body) = server.post(path, &serde_json::to_vec(&sent).unwrap()).await;
        if check(code, &body, &sent) {
            internal += 1;
            let text = String::from_utf8_lossy(&body);
            assert!(text.contains("Internal error occurred"), "a 500 is an internal error: {text}");
        }
    }
    // Everything here is decidable from the caches: nothing should need
    // the (absent) API server but a namespace lookup of a mangled name.
    eprintln!("{internal} internal errors of 300");
    assert!(internal <= 30, "{internal} internal errors of 300");
}

#[tokio::test]
async fn bodies_that_are_not_reviews_get_a_400() {
    let server = start().await;
    let mut rng = fastrand::Rng::with_seed(7);
    let mut bodies: Vec<Vec<u8>> = vec![
        vec![],
        b"null".to_vec(),
        b"{".to_vec(),
        b"[1,2]".to_vec(),
        br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#.to_vec(),
        br#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"u"}}"#.to_vec(),
        br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"","operation":"CREATE"}}"#.to_vec(),
        format!("{{\"a\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(),
    ];
    for _ in 0..100 {
        bodies.push((0..rng.usize(0..200)).map(|_| rng.u8(..)).collect());
    }
    for (i, body) in bodies.iter().enumerate() {
        let (code, answer) = server.post(PATHS[i % PATHS.len()], body).await;
        assert_eq!(code, 400, "body {:?}: {}", String::from_utf8_lossy(body), String::from_utf8_lossy(&answer));
    }
    // Oversized: refused before it is read whole.
    let big = vec![b' '; 8 * 1024 * 1024];
    let (code, answer) = server.post("/validate/namespacelifecycle", &big).await;
    assert_eq!(code, 400, "{}", String::from_utf8_lossy(&answer));
    // Unknown paths and methods are not reviews either.
    assert_eq!(server.post("/validate/nothing", b"{}").await.0, 404);
    assert_eq!(server.post("/mutate/resourcequota", b"{}").await.0, 404);
    // And the server still decides.
    let sent = valid("after");
    let (code, body) = server.post("/validate/namespacelifecycle", &serde_json::to_vec(&sent).unwrap()).await;
    assert!(!check(code, &body, &sent));
}

#[tokio::test]
async fn a_valid_pod_gets_its_defaults_and_an_over_the_max_pod_is_refused() {
    let server = start().await;
    let mut sent = valid("defaults");
    sent["request"]["object"]["spec"]["containers"][0]["resources"] = json!({});
    let (code, body) = server.post("/mutate/limitranger", &serde_json::to_vec(&sent).unwrap()).await;
    assert_eq!(code, 200);
    let answer: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(answer["response"]["allowed"], true);
    assert_eq!(answer["response"]["patchType"], "JSONPatch");

    let mut sent = valid("max");
    sent["request"]["object"]["spec"]["containers"][0]["resources"] = json!({"limits": {"cpu": "4"}});
    let (_, body) = server.post("/validate/limitranger", &serde_json::to_vec(&sent).unwrap()).await;
    let answer: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(answer["response"]["allowed"], false);
    assert_eq!(answer["response"]["status"]["code"], 403);
    let message = answer["response"]["status"]["message"].as_str().unwrap();
    assert!(message.contains("maximum cpu usage per Container is 2, but limit is 4"), "{message}");
}

/// An API server that accepts connections and never answers: a decision
/// that needs it (LimitRanger's live list of an empty cache) is cut at the
/// request timeout and answered with a 500, not left hanging.
#[tokio::test]
async fn a_decision_that_hangs_is_answered_with_a_500_at_the_request_timeout() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", silent.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((c, _)) = silent.accept().await {
            held.push(c);
        }
    });
    let server = start_with(&api, Duration::from_millis(300), false).await;
    let sent = valid("slow");
    let (code, body) = server.post("/validate/limitranger", &serde_json::to_vec(&sent).unwrap()).await;
    assert_eq!(code, 200);
    let answer: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(answer["response"]["uid"], "slow");
    assert_eq!(answer["response"]["allowed"], false);
    assert_eq!(answer["response"]["status"]["code"], 500);
    assert_eq!(answer["response"]["status"]["message"], "Internal error occurred: the LimitRanger webhook did not decide within 300ms");
}
