//! The admission webhooks as `rudder-sandbox up` registers them: its
//! generated certificates serve HTTPS the API server trusts, and its
//! configurations send the right operations to the right paths.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use kube::Api;
use kube::api::{DeleteParams, PostParams};
use rudder_sandbox::up::{certs::Certs, webhooks};
use serde_json::{Value, json};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

mod util;
use util::hooks::{Behaviour, Server};
use util::start;

/// A webhook server with `up`'s certificate, registered as `up` does.
async fn registered(client: &kube::Client, handler: impl Fn(&str, &Value) -> Behaviour + Send + Sync + 'static) -> Server {
    let certs = Certs::generate().expect("certificates");
    let cert = CertificateDer::from_pem_slice(certs.cert_pem.as_bytes()).expect("certificate PEM");
    let key = PrivateKeyDer::from_pem_slice(certs.key_pem.as_bytes()).expect("key PEM");
    let server = Server::start_with(cert, key, handler).await;
    webhooks::register(client, &format!("https://{}", server.addr), &certs.ca_bundle()).await.expect("registered");
    server
}

fn allow(_: &str, _: &Value) -> Behaviour {
    Behaviour::Respond(json!({"allowed": true}))
}

fn paths(server: &Server, kind: &str, operation: &str) -> BTreeSet<String> {
    server
        .seen()
        .into_iter()
        .filter(|(_, review)| review["request"]["kind"]["kind"] == kind && review["request"]["operation"] == operation)
        // The API server adds ?timeout=10s as kube-apiserver does.
        .map(|(path, _)| path.split('?').next().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn creates_and_namespace_deletes_reach_the_webhooks_over_https() {
    let (_sandbox, client) = start().await;
    let server = registered(&client, allow).await;
    let ns = Namespace { metadata: kube::api::ObjectMeta { name: Some("apps".into()), ..Default::default() }, ..Default::default() };
    Api::<Namespace>::all(client.clone()).create(&PostParams::default(), &ns).await.expect("namespace created");
    let pod: Pod =
        serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}})).unwrap();
    Api::<Pod>::namespaced(client.clone(), "apps").create(&PostParams::default(), &pod).await.expect("pod created");
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "c"}})).unwrap();
    Api::<ConfigMap>::namespaced(client.clone(), "apps").create(&PostParams::default(), &cm).await.expect("configmap created");

    let expect = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        paths(&server, "Pod", "CREATE"),
        expect(&["/mutate/limitranger", "/validate/limitranger", "/validate/namespacelifecycle", "/validate/resourcequota"])
    );
    assert_eq!(paths(&server, "ConfigMap", "CREATE"), expect(&["/validate/namespacelifecycle", "/validate/resourcequota"]));
    // Namespaces are cluster-scoped: their creation is not the namespaced plugins' business.
    assert!(paths(&server, "Namespace", "CREATE").is_empty(), "{:?}", server.seen());

    Api::<Namespace>::all(client.clone()).delete("apps", &DeleteParams::default()).await.expect("namespace deleted");
    assert_eq!(paths(&server, "Namespace", "DELETE"), expect(&["/validate/namespacelifecycle"]));
}

#[tokio::test]
async fn a_denial_is_the_users_error_and_a_dead_webhook_fails_closed() {
    let (_sandbox, client) = start().await;
    let server = registered(&client, |path, review| {
        if path == "/validate/namespacelifecycle" && review["request"]["name"] == "late" {
            Behaviour::Respond(
                json!({"allowed": false, "status": {"code": 403, "reason": "Forbidden", "message": "namespace default is terminating"}}),
            )
        } else {
            Behaviour::Respond(json!({"allowed": true}))
        }
    })
    .await;
    let cms = Api::<ConfigMap>::namespaced(client.clone(), "default");
    let late: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "late"}})).unwrap();
    let kube::Error::Api(status) = cms.create(&PostParams::default(), &late).await.expect_err("denied") else { panic!("not a Status") };
    assert_eq!(status.code, 403);
    assert!(
        status.message.contains("namespacelifecycle.admission.rudder.dev") && status.message.contains("terminating"),
        "{}",
        status.message
    );

    // These webhooks replace built-in plugins that cannot be skipped: with
    // the server gone, writes they guard fail instead of passing unchecked.
    drop(server);
    let other: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "other"}})).unwrap();
    let kube::Error::Api(status) = cms.create(&PostParams::default(), &other).await.expect_err("failed closed") else {
        panic!("not a Status")
    };
    assert_eq!(status.code, 500, "{status:?}");
    assert!(status.message.contains("failed calling webhook"), "{}", status.message);
    assert!(cms.get_opt("other").await.unwrap().is_none());
}
