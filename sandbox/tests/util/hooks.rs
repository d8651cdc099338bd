//! A test certificate authority and a small HTTPS admission webhook
//! server on 127.0.0.1, for the webhook tests.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

// ---------------------------------------------------------------------------
// Certificates

pub struct Ca {
    pub issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        Ca { issuer: CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap() }
    }

    /// The caBundle field: base64 of the PEM.
    pub fn bundle(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.issuer.pem())
    }

    /// A serving certificate for 127.0.0.1.
    pub fn serving(&self) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, "webhook");
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.der().clone(), PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())))
    }
}

// ---------------------------------------------------------------------------
// A small HTTPS webhook server

/// What the server does with one admission review.
pub enum Behaviour {
    /// Answers with this `response` (uid filled in from the request).
    Respond(Value),
    /// Answers nothing for this long, then allows.
    Stall(Duration),
}

pub type Handler = Arc<dyn Fn(&str, &Value) -> Behaviour + Send + Sync>;

/// A webhook server on 127.0.0.1; dropping it stops it and every open
/// connection.
pub struct Server {
    pub addr: SocketAddr,
    /// The reviews received, with the request path.
    seen: Arc<Mutex<Vec<(String, Value)>>>,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// A server with a fresh certificate `ca` signed for 127.0.0.1.
    pub async fn start(ca: &Ca, handler: impl Fn(&str, &Value) -> Behaviour + Send + Sync + 'static) -> Server {
        let (cert, key) = ca.serving();
        Server::start_with(cert, key, handler).await
    }

    /// A server with this certificate and key.
    pub async fn start_with(
        cert: CertificateDer<'static>,
        key: PrivateKeyDer<'static>,
        handler: impl Fn(&str, &Value) -> Behaviour + Send + Sync + 'static,
    ) -> Server {
        let handler: Handler = Arc::new(handler);
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        let task = tokio::spawn(async move {
            // Dropped (and so aborted) with the accept loop.
            let mut connections = JoinSet::new();
            loop {
                let Ok((tcp, _)) = listener.accept().await else { continue };
                let acceptor = acceptor.clone();
                let handler = handler.clone();
                let seen = seen2.clone();
                connections.spawn(async move {
                    if let Ok(tls) = acceptor.accept(tcp).await {
                        serve_one(tls, handler, seen).await;
                    }
                });
                while connections.try_join_next().is_some() {}
            }
        });
        Server { addr, seen, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    pub fn seen(&self) -> Vec<(String, Value)> {
        self.seen.lock().unwrap().clone()
    }
}

/// Reads one HTTP/1.1 request and answers it, then closes the connection.
pub async fn serve_one<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    mut s: S,
    handler: Handler,
    seen: Arc<Mutex<Vec<(String, Value)>>>,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let target = head.split_whitespace().nth(1).unwrap_or_default().to_string();
    let path = target.split('?').next().unwrap_or_default().to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("content-length")).map(|(_, v)| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let review: Value = serde_json::from_slice(&buf[head_end..head_end + length]).unwrap_or(Value::Null);
    seen.lock().unwrap().push((target.clone(), review.clone()));
    let uid = review.pointer("/request/uid").cloned().unwrap_or(Value::Null);
    let mut response = match handler(&path, &review) {
        Behaviour::Respond(r) => r,
        Behaviour::Stall(d) => {
            tokio::time::sleep(d).await;
            json!({"allowed": true})
        }
    };
    if response.get("uid").is_none() {
        response["uid"] = uid;
    }
    let body = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}).to_string();
    let reply =
        format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
    let _ = s.write_all(reply.as_bytes()).await;
    let _ = s.shutdown().await;
}

pub fn patch(ops: Value) -> Value {
    json!({"allowed": true, "patchType": "JSONPatch", "patch": base64::engine::general_purpose::STANDARD.encode(ops.to_string())})
}
