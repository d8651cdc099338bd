//! Admission webhooks against real HTTPS webhook servers on 127.0.0.1:
//! mutation, denial, failure policies, timeouts, certificate checks,
//! reinvocation and dry runs.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use rudder_sandbox::registry::{ResourceType, find};
use rudder_sandbox::status::ApiError;
use rudder_sandbox::store::Store;
use rudder_sandbox::webhooks::{Attributes, Operation, Webhooks};
use serde_json::{Value, json};

mod util;
use util::hooks::{Behaviour, Ca, Server, patch};

// ---------------------------------------------------------------------------
// Configurations and requests

fn pods() -> &'static ResourceType {
    find("", "v1", "pods").unwrap()
}

/// A webhook for pod creates and updates, calling `url`.
fn webhook(name: &str, url: &str, ca_bundle: &str, extra: Value) -> Value {
    let mut w = json!({
        "name": name,
        "clientConfig": {"url": url, "caBundle": ca_bundle},
        "rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}],
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
    });
    for (k, v) in extra.as_object().unwrap() {
        w[k] = v.clone();
    }
    w
}

fn configure(store: &Store, kind: &str, name: &str, webhooks: Vec<Value>) {
    let plural = format!("{}s", kind.to_lowercase());
    let r = find("admissionregistration.k8s.io", "v1", &plural).unwrap();
    store
        .create(r, json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind, "metadata": {"name": name}, "webhooks": webhooks}))
        .unwrap();
}

fn pod(labels: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "labels": labels},
        "spec": {"containers": [{"name": "app", "image": "nginx:1"}]},
    })
}

fn create<'a>(object: &'a Value) -> Attributes<'a> {
    Attributes {
        resource: pods(),
        subresource: None,
        operation: Operation::Create,
        name: "web",
        namespace: "default",
        object: Some(object),
        old_object: None,
        dry_run: false,
        options: Some(json!({"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"})),
        user: &rudder_sandbox::rbac::ADMIN,
    }
}

fn setup() -> (Arc<Store>, Webhooks) {
    let store = Arc::new(Store::default());
    let w = Webhooks::new(store.clone());
    (store, w)
}

fn assert_call_error(e: &ApiError, hook: &str) {
    assert_eq!((e.code, e.reason), (500, "InternalError"), "{e}");
    let prefix = format!("Internal error occurred: failed calling webhook \"{hook}\": failed to call webhook: Post \"https://127.0.0.1:");
    assert!(e.message.starts_with(&prefix), "{}", e.message);
}

// ---------------------------------------------------------------------------
// Tests

#[tokio::test]
async fn mutation_patches_the_object_and_the_review_is_complete() {
    let ca = Ca::new("test-ca");
    let server = Server::start(&ca, |_, _| {
        let mut r = patch(json!([{"op": "add", "path": "/metadata/labels/injected", "value": "yes"}]));
        r["warnings"] = json!(["mutated by test"]);
        Behaviour::Respond(r)
    })
    .await;
    let (store, w) = setup();
    configure(
        &store,
        "MutatingWebhookConfiguration",
        "inject",
        vec![webhook("inject.example.com", &server.url("/mutate"), &ca.bundle(), json!({}))],
    );
    let p = pod(json!({"app": "web"}));
    let (out, warnings) = w.mutate(&create(&p), p.clone()).await.unwrap();
    assert_eq!(out["metadata"]["labels"], json!({"app": "web", "injected": "yes"}));
    assert_eq!(warnings, vec!["mutated by test".to_string()]);
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    let (target, review) = &seen[0];
    assert_eq!(target, "/mutate?timeout=10s");
    assert_eq!(review["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(review["kind"], "AdmissionReview");
    let q = &review["request"];
    assert_eq!(q["uid"].as_str().unwrap().len(), 36);
    assert_eq!(q["kind"], json!({"group": "", "version": "v1", "kind": "Pod"}));
    assert_eq!(q["resource"], json!({"group": "", "version": "v1", "resource": "pods"}));
    assert_eq!(q["requestKind"], q["kind"]);
    assert_eq!(q["requestResource"], q["resource"]);
    assert_eq!((q["name"].as_str(), q["namespace"].as_str(), q["operation"].as_str()), (Some("web"), Some("default"), Some("CREATE")));
    assert_eq!(q["userInfo"], json!({"username": "system:admin", "groups": ["system:masters", "system:authenticated"]}));
    assert_eq!(q["object"], p);
    assert_eq!(q["oldObject"], Value::Null);
    assert_eq!(q["dryRun"], false);
    assert_eq!(q["options"]["kind"], "CreateOptions");

    // Rules that do not match: not called.
    let mut del = create(&p);
    del.operation = Operation::Delete;
    del.object = None;
    del.old_object = Some(&p);
    let (out, _) = w.mutate(&del, Value::Null).await.unwrap();
    assert_eq!(out, Value::Null);
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn denials_carry_the_webhook_status() {
    let ca = Ca::new("test-ca");
    let server = Server::start(&ca, |path, _| {
        Behaviour::Respond(match path {
            "/deny" => json!({"allowed": false, "status": {"code": 403, "reason": "Forbidden", "message": "no pods today"}}),
            "/bare" => json!({"allowed": false}),
            _ => json!({"allowed": true, "warnings": ["looked at it"]}),
        })
    })
    .await;
    let (store, w) = setup();
    configure(
        &store,
        "ValidatingWebhookConfiguration",
        "a-allow",
        vec![webhook("allow.example.com", &server.url("/allow"), &ca.bundle(), json!({}))],
    );
    let p = pod(json!({}));
    assert_eq!(w.validate(&create(&p)).await.unwrap(), vec!["looked at it".to_string()]);

    configure(
        &store,
        "ValidatingWebhookConfiguration",
        "b-deny",
        vec![webhook("deny.example.com", &server.url("/deny"), &ca.bundle(), json!({}))],
    );
    let e = w.validate(&create(&p)).await.unwrap_err();
    assert_eq!((e.code, e.reason), (403, "Forbidden"));
    assert_eq!(e.message, "admission webhook \"deny.example.com\" denied the request: no pods today");
    let status = e.to_status();
    assert_eq!(status["message"], "admission webhook \"deny.example.com\" denied the request: no pods today");

    // The first denial in webhook order wins.
    configure(
        &store,
        "ValidatingWebhookConfiguration",
        "c-bare",
        vec![webhook("bare.example.com", &server.url("/bare"), &ca.bundle(), json!({}))],
    );
    let e = w.validate(&create(&p)).await.unwrap_err();
    assert!(e.message.starts_with("admission webhook \"deny.example.com\""), "{}", e.message);
    let store2 = Arc::new(Store::default());
    let w2 = Webhooks::new(store2.clone());
    configure(
        &store2,
        "ValidatingWebhookConfiguration",
        "c-bare",
        vec![webhook("bare.example.com", &server.url("/bare"), &ca.bundle(), json!({}))],
    );
    let e = w2.validate(&create(&p)).await.unwrap_err();
    assert_eq!((e.code, e.message.as_str()), (400, "admission webhook \"bare.example.com\" denied the request without explanation"));

    // A mutating webhook's denial stops the chain.
    configure(
        &store2,
        "MutatingWebhookConfiguration",
        "m-deny",
        vec![webhook("mdeny.example.com", &server.url("/deny"), &ca.bundle(), json!({}))],
    );
    let e = w2.mutate(&create(&p), p.clone()).await.unwrap_err();
    assert_eq!(e.message, "admission webhook \"mdeny.example.com\" denied the request: no pods today");
}

#[tokio::test]
async fn failure_policy_decides_when_the_webhook_is_down() {
    let ca = Ca::new("test-ca");
    // A port nobody listens on any more.
    let down = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let url = format!("https://{down}/validate");
    let (store, w) = setup();
    configure(
        &store,
        "ValidatingWebhookConfiguration",
        "ignored",
        vec![webhook("ignored.example.com", &url, &ca.bundle(), json!({"failurePolicy": "Ignore"}))],
    );
    configure(
        &store,
        "MutatingWebhookConfiguration",
        "ignored",
        vec![webhook("mignored.example.com", &url, &ca.bundle(), json!({"failurePolicy": "Ignore"}))],
    );
    let p = pod(json!({}));
    assert_eq!(w.validate(&create(&p)).await.unwrap(), Vec::<String>::new());
    assert_eq!(w.mutate(&create(&p), p.clone()).await.unwrap().0, p);

    configure(
        &store,
        "ValidatingWebhookConfiguration",
        "strict",
        vec![webhook("strict.example.com", &url, &ca.bundle(), json!({"failurePolicy": "Fail"}))],
    );
    let e = w.validate(&create(&p)).await.unwrap_err();
    assert_call_error(&e, "strict.example.com");
    assert!(e.message.ends_with(&format!("/validate?timeout=10s\": dial tcp {down}: connect: connection refused")), "{}", e.message);
    // Fail is the default.
    configure(&store, "MutatingWebhookConfiguration", "strict", vec![webhook("mstrict.example.com", &url, &ca.bundle(), json!({}))]);
    let e = w.mutate(&create(&p), p.clone()).await.unwrap_err();
    assert_call_error(&e, "mstrict.example.com");
}

#[tokio::test]
async fn a_webhook_that_does_not_answer_in_time_fails_the_call() {
    let ca = Ca::new("test-ca");
    let server = Server::start(&ca, |_, _| Behaviour::Stall(Duration::from_secs(20))).await;
    let (store, w) = setup();
    configure(
        &store,
        "ValidatingWebhookConfiguration",
        "slow",
        vec![webhook("slow.example.com", &server.url("/slow"), &ca.bundle(), json!({"timeoutSeconds": 1}))],
    );
    let p = pod(json!({}));
    let e = w.validate(&create(&p)).await.unwrap_err();
    assert_call_error(&e, "slow.example.com");
    assert!(e.message.ends_with("/slow?timeout=1s\": context deadline exceeded"), "{}", e.message);
    drop(server);
}

#[tokio::test]
async fn a_certificate_from_another_authority_is_rejected() {
    let ca = Ca::new("test-ca");
    let other = Ca::new("other-ca");
    let server = Server::start(&ca, |_, _| Behaviour::Respond(json!({"allowed": true}))).await;
    let (store, w) = setup();
    configure(
        &store,
        "ValidatingWebhookConfiguration",
        "tls",
        vec![webhook("tls.example.com", &server.url("/v"), &other.bundle(), json!({}))],
    );
    let p = pod(json!({}));
    let e = w.validate(&create(&p)).await.unwrap_err();
    assert_call_error(&e, "tls.example.com");
    assert!(e.message.ends_with("tls: failed to verify certificate: x509: certificate signed by unknown authority"), "{}", e.message);
    assert!(server.seen().is_empty());

    // A caBundle that is not PEM.
    let (store, w) = setup();
    let junk = base64::engine::general_purpose::STANDARD.encode("not a certificate");
    configure(&store, "ValidatingWebhookConfiguration", "junk", vec![webhook("junk.example.com", &server.url("/v"), &junk, json!({}))]);
    let e = w.validate(&create(&p)).await.unwrap_err();
    assert_eq!(
        e.message,
        "Internal error occurred: failed calling webhook \"junk.example.com\": could not get REST client: unable to load root certificates: unable to parse bytes as PEM block"
    );
}

#[tokio::test]
async fn if_needed_webhooks_are_reinvoked_after_later_changes() {
    let ca = Ca::new("test-ca");
    let server = Server::start(&ca, |path, review| {
        let labels = review.pointer("/request/object/metadata/labels").cloned().unwrap_or(json!({}));
        Behaviour::Respond(match path {
            // Records whether it saw the label the second webhook adds.
            "/first" => patch(json!([{"op": "add", "path": "/metadata/annotations",
                "value": {"saw-b": labels.get("b").is_some().to_string()}}])),
            "/second" => patch(json!([{"op": "add", "path": "/metadata/labels/b", "value": "yes"}])),
            _ => json!({"allowed": true}),
        })
    })
    .await;
    let (store, w) = setup();
    configure(
        &store,
        "MutatingWebhookConfiguration",
        "1-first",
        vec![webhook("first.example.com", &server.url("/first"), &ca.bundle(), json!({"reinvocationPolicy": "IfNeeded"}))],
    );
    configure(
        &store,
        "MutatingWebhookConfiguration",
        "2-second",
        vec![webhook("second.example.com", &server.url("/second"), &ca.bundle(), json!({}))],
    );
    let p = pod(json!({}));
    let (out, _) = w.mutate(&create(&p), p.clone()).await.unwrap();
    assert_eq!(out["metadata"]["labels"]["b"], "yes");
    assert_eq!(out["metadata"]["annotations"]["saw-b"], "true");
    let paths: Vec<String> = server.seen().into_iter().map(|(t, _)| t).collect();
    assert_eq!(paths, ["/first?timeout=10s", "/second?timeout=10s", "/first?timeout=10s"]);

    // Without IfNeeded, no second call.
    let (store, w) = setup();
    configure(
        &store,
        "MutatingWebhookConfiguration",
        "1-first",
        vec![webhook("first.example.com", &server.url("/first"), &ca.bundle(), json!({}))],
    );
    configure(
        &store,
        "MutatingWebhookConfiguration",
        "2-second",
        vec![webhook("second.example.com", &server.url("/second"), &ca.bundle(), json!({}))],
    );
    let (out, _) = w.mutate(&create(&p), p.clone()).await.unwrap();
    assert_eq!(out["metadata"]["annotations"]["saw-b"], "false");
    assert_eq!(server.seen().len(), 5);
}

#[tokio::test]
async fn dry_runs_only_reach_webhooks_without_side_effects() {
    let ca = Ca::new("test-ca");
    let server = Server::start(&ca, |_, _| Behaviour::Respond(json!({"allowed": true}))).await;
    let (store, w) = setup();
    configure(
        &store,
        "ValidatingWebhookConfiguration",
        "safe",
        vec![webhook("safe.example.com", &server.url("/v"), &ca.bundle(), json!({"sideEffects": "NoneOnDryRun"}))],
    );
    let p = pod(json!({}));
    let mut dry = create(&p);
    dry.dry_run = true;
    w.validate(&dry).await.unwrap();
    assert_eq!(server.seen()[0].1["request"]["dryRun"], true);

    configure(
        &store,
        "ValidatingWebhookConfiguration",
        "unsafe",
        vec![webhook("unsafe.example.com", &server.url("/v"), &ca.bundle(), json!({"sideEffects": "Some", "failurePolicy": "Ignore"}))],
    );
    let e = w.validate(&dry).await.unwrap_err();
    assert_eq!((e.code, e.reason), (400, "BadRequest"));
    assert_eq!(e.message, "admission webhook \"unsafe.example.com\" does not support dry run");
    assert_eq!(server.seen().len(), 2, "only the safe webhook was called again");
}

#[tokio::test]
async fn bad_answers_and_unreachable_services_are_call_errors() {
    let ca = Ca::new("test-ca");
    let server = Server::start(&ca, |path, _| {
        Behaviour::Respond(match path {
            "/patching-validator" => patch(json!([])),
            "/wrong-uid" => json!({"allowed": true, "uid": "someone-else"}),
            _ => json!({"allowed": true}),
        })
    })
    .await;
    let p = pod(json!({}));

    let (store, w) = setup();
    configure(
        &store,
        "ValidatingWebhookConfiguration",
        "v",
        vec![webhook("pv.example.com", &server.url("/patching-validator"), &ca.bundle(), json!({}))],
    );
    let e = w.validate(&create(&p)).await.unwrap_err();
    assert_eq!(
        e.message,
        "Internal error occurred: failed calling webhook \"pv.example.com\": received invalid webhook response: validating webhook may not return response.patch"
    );

    let (store, w) = setup();
    configure(
        &store,
        "MutatingWebhookConfiguration",
        "m",
        vec![webhook("uid.example.com", &server.url("/wrong-uid"), &ca.bundle(), json!({}))],
    );
    let e = w.mutate(&create(&p), p.clone()).await.unwrap_err();
    assert!(e.message.contains("received invalid webhook response: expected response.uid="), "{}", e.message);

    let (store, w) = setup();
    let svc = json!({"name": "svc-hook.example.com", "clientConfig": {"service": {"namespace": "hooks", "name": "hook", "path": "/v"}},
        "rules": [{"operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"]}],
        "sideEffects": "None", "admissionReviewVersions": ["v1"]});
    configure(&store, "ValidatingWebhookConfiguration", "svc", vec![svc.clone()]);
    let e = w.validate(&create(&p)).await.unwrap_err();
    assert!(
        e.message.starts_with(
            "Internal error occurred: failed calling webhook \"svc-hook.example.com\": failed to call webhook: Post \"https://hook.hooks.svc:443/v?timeout=10s\": rudder-sandbox cannot reach in-cluster services"
        ),
        "{}",
        e.message
    );
    let (store, w) = setup();
    let mut ignored = svc;
    ignored["failurePolicy"] = json!("Ignore");
    configure(&store, "ValidatingWebhookConfiguration", "svc", vec![ignored]);
    w.validate(&create(&p)).await.unwrap();

    // Webhook configurations themselves never go to webhooks.
    let (store, w) = setup();
    configure(
        &store,
        "ValidatingWebhookConfiguration",
        "v",
        vec![webhook(
            "pv.example.com",
            &server.url("/patching-validator"),
            &ca.bundle(),
            json!({
        "rules": [{"operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"]}]}),
        )],
    );
    let cfg = json!({"metadata": {"name": "x"}});
    let mut a = create(&cfg);
    a.resource = find("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations").unwrap();
    a.namespace = "";
    w.validate(&a).await.unwrap();
}
