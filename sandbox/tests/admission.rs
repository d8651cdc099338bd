//! Admission webhooks through the API: configurations registered with
//! admissionregistration.k8s.io/v1 and called by creates, updates, patches,
//! deletes and the scale subresource, in kube-apiserver's order.

use std::time::Duration;

use serde_json::{Value, json};

mod util;
use util::hooks::{Behaviour, Ca, Server, patch};
use util::{raw, start};

const PODS: &str = "/api/v1/namespaces/default/pods";

/// A webhook calling `url`, for `operations` on `resources` of `group`.
#[allow(clippy::too_many_arguments)]
fn hook(name: &str, url: &str, ca: &Ca, group: &str, resources: &[&str], operations: &[&str], extra: Value) -> Value {
    let mut w = json!({
        "name": name,
        "clientConfig": {"url": url, "caBundle": ca.bundle()},
        "rules": [{"operations": operations, "apiGroups": [group], "apiVersions": ["v1"], "resources": resources}],
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
    });
    for (k, v) in extra.as_object().expect("extra is an object") {
        w[k] = v.clone();
    }
    w
}

/// Registers a Mutating- or ValidatingWebhookConfiguration through the API.
async fn register(c: &kube::Client, kind: &str, name: &str, webhooks: Vec<Value>) {
    let plural = format!("{}s", kind.to_lowercase());
    let body = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind, "metadata": {"name": name}, "webhooks": webhooks});
    let (code, v) = raw(c, "POST", &format!("/apis/admissionregistration.k8s.io/v1/{plural}"), "application/json", &body.to_string()).await;
    assert_eq!(code, 201, "{v}");
}

fn pod(name: &str, labels: Value) -> String {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]},
    })
    .to_string()
}

/// A port on 127.0.0.1 where nothing listens.
async fn closed_port() -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    l.local_addr().expect("addr").port()
}

async fn get_pod(c: &kube::Client, name: &str) -> (u16, Value) {
    raw(c, "GET", &format!("{PODS}/{name}"), "application/json", "").await
}

#[tokio::test]
async fn mutating_webhook_patches_are_applied_then_defaulted_and_validated() {
    let ca = Ca::new("test-ca");
    let server = Server::start(&ca, |_, review| {
        // The webhook sees the object before the system fills in its metadata.
        let uid_absent = review.pointer("/request/object/metadata/uid").is_none();
        let mut r = patch(json!([
            {"op": "add", "path": "/metadata/labels/injected", "value": if uid_absent { "yes" } else { "saw-uid" }},
            {"op": "add", "path": "/spec/containers/-", "value": {"name": "sidecar", "image": "busybox:1.36"}},
        ]));
        r["warnings"] = json!(["sidecar injected"]);
        Behaviour::Respond(r)
    })
    .await;
    let (s, c) = start().await;
    register(
        &c,
        "MutatingWebhookConfiguration",
        "inject",
        vec![hook("inject.example.com", &server.url("/mutate"), &ca, "", &["pods"], &["CREATE"], json!({}))],
    )
    .await;
    let req = http::Request::builder()
        .method("POST")
        .uri(PODS)
        .header("content-type", "application/json")
        .body(pod("web", json!({"app": "web"})).into_bytes())
        .unwrap();
    let resp = c.send(req.map(kube::client::Body::from)).await.unwrap();
    assert_eq!(resp.status(), 201);
    let warnings: Vec<String> = resp.headers().get_all("warning").iter().map(|v| v.to_str().unwrap().to_string()).collect();
    assert_eq!(warnings, vec!["299 - \"sidecar injected\"".to_string()]);

    let (code, p) = get_pod(&c, "web").await;
    assert_eq!(code, 200);
    assert_eq!(p["metadata"]["labels"], json!({"app": "web", "injected": "yes"}));
    let sidecar = &p["spec"]["containers"][1];
    assert_eq!(sidecar["name"], "sidecar");
    // Defaults run again on what the webhook added.
    assert_eq!(sidecar["terminationMessagePolicy"], "File");
    assert_eq!(sidecar["imagePullPolicy"], "IfNotPresent");
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    let q = &seen[0].1["request"];
    assert_eq!((q["operation"].as_str(), q["name"].as_str(), q["namespace"].as_str()), (Some("CREATE"), Some("web"), Some("default")));
    // The object reaches the webhook with its defaults.
    assert_eq!(q["object"]["spec"]["restartPolicy"], "Always");

    // A patch that makes the object invalid is caught by validation.
    let breaker = Server::start(&ca, |_, _| Behaviour::Respond(patch(json!([{"op": "remove", "path": "/spec/containers/0/image"}])))).await;
    register(
        &c,
        "MutatingWebhookConfiguration",
        "zz-break",
        vec![hook("break.example.com", &breaker.url("/break"), &ca, "", &["pods"], &["CREATE"], json!({}))],
    )
    .await;
    let (code, v) = raw(&c, "POST", PODS, "application/json", &pod("broken", json!({}))).await;
    assert_eq!(code, 422, "{v}");
    assert_eq!(v["reason"], "Invalid");
    assert_eq!(get_pod(&c, "broken").await.0, 404);
    drop(s);
}

#[tokio::test]
async fn validating_webhook_denial_is_reported_and_nothing_is_stored() {
    let ca = Ca::new("test-ca");
    let server = Server::start(&ca, |_, review| {
        let forbidden = review.pointer("/request/object/metadata/labels/forbidden").is_some();
        // The validating webhook sees the object as it will be stored.
        let has_uid = review.pointer("/request/object/metadata/uid").is_some();
        Behaviour::Respond(if forbidden {
            json!({"allowed": false, "status": {"code": 403, "reason": "Forbidden", "message": "forbidden label"}})
        } else {
            json!({"allowed": has_uid})
        })
    })
    .await;
    let (_s, c) = start().await;
    register(
        &c,
        "ValidatingWebhookConfiguration",
        "policy",
        vec![hook("policy.example.com", &server.url("/validate"), &ca, "", &["pods"], &["CREATE"], json!({}))],
    )
    .await;
    let (code, v) = raw(&c, "POST", PODS, "application/json", &pod("bad", json!({"forbidden": "x"}))).await;
    assert_eq!(code, 403, "{v}");
    assert_eq!(v["reason"], "Forbidden");
    assert_eq!(v["message"], "admission webhook \"policy.example.com\" denied the request: forbidden label");
    assert_eq!(get_pod(&c, "bad").await.0, 404);

    let (code, v) = raw(&c, "POST", PODS, "application/json", &pod("good", json!({}))).await;
    assert_eq!(code, 201, "{v}");
}

#[tokio::test]
async fn failure_policy_fail_rejects_when_the_webhook_is_unreachable() {
    let (_s, c) = start().await;
    let ca = Ca::new("test-ca");
    let url = format!("https://127.0.0.1:{}/down", closed_port().await);
    register(
        &c,
        "ValidatingWebhookConfiguration",
        "down",
        vec![hook("down.example.com", &url, &ca, "", &["pods"], &["CREATE"], json!({"failurePolicy": "Fail"}))],
    )
    .await;
    let (code, v) = raw(&c, "POST", PODS, "application/json", &pod("web", json!({}))).await;
    assert_eq!(code, 500, "{v}");
    assert_eq!(v["reason"], "InternalError");
    let msg = v["message"].as_str().unwrap();
    assert!(msg.starts_with("Internal error occurred: failed calling webhook \"down.example.com\": failed to call webhook: Post"), "{msg}");
    assert_eq!(get_pod(&c, "web").await.0, 404);
}

#[tokio::test]
async fn failure_policy_ignore_admits_when_the_webhook_is_unreachable() {
    let (_s, c) = start().await;
    let ca = Ca::new("test-ca");
    let url = format!("https://127.0.0.1:{}/down", closed_port().await);
    register(
        &c,
        "MutatingWebhookConfiguration",
        "down",
        vec![hook("down.example.com", &url, &ca, "", &["pods"], &["CREATE"], json!({"failurePolicy": "Ignore"}))],
    )
    .await;
    let (code, v) = raw(&c, "POST", PODS, "application/json", &pod("web", json!({}))).await;
    assert_eq!(code, 201, "{v}");
}

#[tokio::test]
async fn a_webhook_that_times_out_fails_closed_or_open_by_policy() {
    let ca = Ca::new("test-ca");
    let server = Server::start(&ca, |_, _| Behaviour::Stall(Duration::from_secs(20))).await;
    let (_s, c) = start().await;
    register(
        &c,
        "ValidatingWebhookConfiguration",
        "slow",
        vec![
            hook(
                "slow-ignored.example.com",
                &server.url("/ignored"),
                &ca,
                "",
                &["pods"],
                &["CREATE"],
                json!({"timeoutSeconds": 1, "failurePolicy": "Ignore"}),
            ),
            hook(
                "slow.example.com",
                &server.url("/slow"),
                &ca,
                "",
                &["pods"],
                &["CREATE"],
                json!({"timeoutSeconds": 1, "failurePolicy": "Fail", "objectSelector": {"matchLabels": {"strict": "yes"}}}),
            ),
        ],
    )
    .await;
    // Only the Ignore webhook matches: its timeout lets the create through.
    let (code, v) = raw(&c, "POST", PODS, "application/json", &pod("lenient", json!({}))).await;
    assert_eq!(code, 201, "{v}");
    // Both match: the Fail webhook's timeout rejects it.
    let (code, v) = raw(&c, "POST", PODS, "application/json", &pod("strict", json!({"strict": "yes"}))).await;
    assert_eq!(code, 500, "{v}");
    let msg = v["message"].as_str().unwrap();
    assert!(msg.contains("failed calling webhook \"slow.example.com\""), "{msg}");
    assert!(msg.ends_with("/slow?timeout=1s\": context deadline exceeded"), "{msg}");
    assert_eq!(get_pod(&c, "strict").await.0, 404);
    let paths: Vec<String> = server.seen().into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths.iter().filter(|p| p.starts_with("/slow")).count(), 1, "{paths:?}");
}

#[tokio::test]
async fn object_selector_decides_which_objects_reach_the_webhook() {
    let ca = Ca::new("test-ca");
    let server = Server::start(&ca, |_, _| Behaviour::Respond(json!({"allowed": true}))).await;
    let (_s, c) = start().await;
    register(
        &c,
        "ValidatingWebhookConfiguration",
        "selective",
        vec![hook(
            "selective.example.com",
            &server.url("/v"),
            &ca,
            "",
            &["pods"],
            &["CREATE"],
            json!({"objectSelector": {"matchLabels": {"webhook": "on"}}}),
        )],
    )
    .await;
    assert_eq!(raw(&c, "POST", PODS, "application/json", &pod("plain", json!({}))).await.0, 201);
    assert!(server.seen().is_empty());
    assert_eq!(raw(&c, "POST", PODS, "application/json", &pod("marked", json!({"webhook": "on"}))).await.0, 201);
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].1["request"]["name"], "marked");
}

#[tokio::test]
async fn updates_and_patches_reach_webhooks_with_the_old_object() {
    let ca = Ca::new("test-ca");
    let server = Server::start(&ca, |_, review| {
        let frozen = review.pointer("/request/oldObject/metadata/labels/frozen").is_some();
        Behaviour::Respond(if frozen {
            json!({"allowed": false, "status": {"message": "frozen pods do not change"}})
        } else {
            json!({"allowed": true})
        })
    })
    .await;
    let (_s, c) = start().await;
    assert_eq!(raw(&c, "POST", PODS, "application/json", &pod("web", json!({"app": "web"}))).await.0, 201);
    register(
        &c,
        "ValidatingWebhookConfiguration",
        "updates",
        vec![hook("updates.example.com", &server.url("/u"), &ca, "", &["pods"], &["UPDATE"], json!({}))],
    )
    .await;
    let (code, v) =
        raw(&c, "PATCH", &format!("{PODS}/web"), "application/merge-patch+json", r#"{"metadata":{"labels":{"frozen":"1"}}}"#).await;
    assert_eq!(code, 200, "{v}");
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    let q = &seen[0].1["request"];
    assert_eq!(q["operation"], "UPDATE");
    assert_eq!(q["options"]["kind"], "UpdateOptions");
    assert_eq!(q["oldObject"]["metadata"]["labels"], json!({"app": "web"}));
    assert_eq!(q["object"]["metadata"]["labels"], json!({"app": "web", "frozen": "1"}));

    // Now frozen: a full update is denied, with upstream's default code 400.
    let (_, mut current) = get_pod(&c, "web").await;
    current["metadata"]["labels"]["app"] = json!("changed");
    let (code, v) = raw(&c, "PUT", &format!("{PODS}/web"), "application/json", &current.to_string()).await;
    assert_eq!(code, 400, "{v}");
    assert_eq!(v["message"], "admission webhook \"updates.example.com\" denied the request: frozen pods do not change");
    assert_eq!(get_pod(&c, "web").await.1["metadata"]["labels"]["app"], "web");
}

#[tokio::test]
async fn deletes_reach_webhooks_with_the_stored_object_and_options() {
    let ca = Ca::new("test-ca");
    let server = Server::start(&ca, |_, review| {
        let protected = review.pointer("/request/oldObject/metadata/labels/protected").is_some();
        Behaviour::Respond(json!({"allowed": !protected, "status": {"code": 403, "message": "protected"}}))
    })
    .await;
    let (_s, c) = start().await;
    assert_eq!(raw(&c, "POST", PODS, "application/json", &pod("keep", json!({"protected": "yes"}))).await.0, 201);
    assert_eq!(raw(&c, "POST", PODS, "application/json", &pod("drop", json!({}))).await.0, 201);
    register(
        &c,
        "ValidatingWebhookConfiguration",
        "deletes",
        vec![hook("deletes.example.com", &server.url("/d"), &ca, "", &["pods"], &["DELETE"], json!({}))],
    )
    .await;
    let (code, v) = raw(&c, "DELETE", &format!("{PODS}/keep"), "application/json", "").await;
    assert_eq!(code, 403, "{v}");
    assert_eq!(get_pod(&c, "keep").await.0, 200);
    let (code, v) = raw(&c, "DELETE", &format!("{PODS}/drop?propagationPolicy=Foreground"), "application/json", "").await;
    assert!(code == 200 || code == 202, "{code} {v}");
    let seen = server.seen();
    let q = &seen.last().unwrap().1["request"];
    assert_eq!((q["operation"].as_str(), q["name"].as_str()), (Some("DELETE"), Some("drop")));
    assert_eq!(q["object"], Value::Null);
    assert_eq!(q["oldObject"]["metadata"]["name"], "drop");
    assert_eq!(q["options"], json!({"kind": "DeleteOptions", "apiVersion": "meta.k8s.io/v1", "propagationPolicy": "Foreground"}));
}

#[tokio::test]
async fn the_scale_subresource_reaches_webhooks_as_a_scale() {
    let ca = Ca::new("test-ca");
    let server = Server::start(&ca, |_, review| {
        let replicas = review.pointer("/request/object/spec/replicas").and_then(Value::as_i64).unwrap_or(0);
        Behaviour::Respond(json!({"allowed": replicas <= 5, "status": {"message": "at most 5 replicas"}}))
    })
    .await;
    let (_s, c) = start().await;
    let d = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}},
    });
    let deployments = "/apis/apps/v1/namespaces/default/deployments";
    assert_eq!(raw(&c, "POST", deployments, "application/json", &d.to_string()).await.0, 201);
    register(
        &c,
        "ValidatingWebhookConfiguration",
        "scale",
        vec![hook("scale.example.com", &server.url("/s"), &ca, "apps", &["deployments/scale"], &["UPDATE"], json!({}))],
    )
    .await;
    let scale = format!("{deployments}/web/scale");
    let (code, v) = raw(&c, "PATCH", &scale, "application/merge-patch+json", r#"{"spec":{"replicas":3}}"#).await;
    assert_eq!(code, 200, "{v}");
    let (code, v) = raw(&c, "PATCH", &scale, "application/merge-patch+json", r#"{"spec":{"replicas":9}}"#).await;
    assert_eq!(code, 400, "{v}");
    assert_eq!(v["message"], "admission webhook \"scale.example.com\" denied the request: at most 5 replicas");
    let (_, got) = raw(&c, "GET", &format!("{deployments}/web"), "application/json", "").await;
    assert_eq!(got["spec"]["replicas"], 3);
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    let q = &seen[0].1["request"];
    assert_eq!(q["kind"], json!({"group": "autoscaling", "version": "v1", "kind": "Scale"}));
    assert_eq!(q["subResource"], "scale");
    assert_eq!(q["oldObject"]["spec"]["replicas"], 1);
    // A plain update of the deployment is not a scale: the webhook is not called.
    let (code, _) = raw(&c, "PATCH", &format!("{deployments}/web"), "application/merge-patch+json", r#"{"spec":{"replicas":7}}"#).await;
    assert_eq!(code, 200);
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test]
async fn dry_run_creates_reach_webhooks_without_side_effects_and_store_nothing() {
    let ca = Ca::new("test-ca");
    let server = Server::start(&ca, |_, _| Behaviour::Respond(json!({"allowed": true}))).await;
    let (_s, c) = start().await;
    register(
        &c,
        "ValidatingWebhookConfiguration",
        "dry",
        vec![
            hook("pure.example.com", &server.url("/pure"), &ca, "", &["pods"], &["CREATE"], json!({})),
            hook(
                "on-dry-run.example.com",
                &server.url("/on-dry-run"),
                &ca,
                "",
                &["pods"],
                &["CREATE"],
                json!({"sideEffects": "NoneOnDryRun", "objectSelector": {"matchLabels": {"effects": "yes"}}}),
            ),
        ],
    )
    .await;
    let (code, v) = raw(&c, "POST", &format!("{PODS}?dryRun=All"), "application/json", &pod("web", json!({}))).await;
    assert_eq!(code, 201, "{v}");
    assert_eq!(get_pod(&c, "web").await.0, 404);
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].1["request"]["dryRun"], true);
    assert_eq!(seen[0].1["request"]["options"]["dryRun"], json!(["All"]));
    // NoneOnDryRun webhooks are called too, told it is a dry run.
    let (code, v) = raw(&c, "POST", &format!("{PODS}?dryRun=All"), "application/json", &pod("web2", json!({"effects": "yes"}))).await;
    assert_eq!(code, 201, "{v}");
    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().any(|(p, r)| p.starts_with("/on-dry-run") && r["request"]["dryRun"] == true));
    assert_eq!(get_pod(&c, "web2").await.0, 404);
}

#[tokio::test]
async fn the_priority_plugin_forbids_unknown_classes_naming_the_pod_as_upstream() {
    let (_s, c) = start().await;
    let body = |meta: Value| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta,
               "spec": {"priorityClassName": "nope", "containers": [{"name": "c", "image": "nginx"}]}})
        .to_string()
    };
    // Admission runs before the name is generated: generateName is named.
    let (code, v) = raw(&c, "POST", PODS, "application/json", &body(json!({"generateName": "web-"}))).await;
    assert_eq!(code, 403, "{v}");
    assert_eq!(v["reason"], "Forbidden");
    assert_eq!(v["message"], "pods \"web-\" is forbidden: no PriorityClass with name nope was found");
    let (code, v) = raw(&c, "POST", PODS, "application/json", &body(json!({"name": "p"}))).await;
    assert_eq!(code, 403, "{v}");
    assert_eq!(v["message"], "pods \"p\" is forbidden: no PriorityClass with name nope was found");
}

#[tokio::test]
async fn webhooks_for_core_events_see_events_k8s_io_events_converted() {
    let ca = Ca::new("test-ca");
    // Registered for core/v1 events only (matchPolicy defaults to Equivalent).
    let server = Server::start(&ca, |_, review| {
        let message = review.pointer("/request/object/message").and_then(Value::as_str).unwrap_or_default();
        Behaviour::Respond(patch(json!([{"op": "replace", "path": "/message", "value": format!("{message} (checked)")}])))
    })
    .await;
    let (_s, c) = start().await;
    register(
        &c,
        "MutatingWebhookConfiguration",
        "events",
        vec![hook("events.example.com", &server.url("/events"), &ca, "", &["events"], &["CREATE"], json!({}))],
    )
    .await;
    let event = json!({
        "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "web.1"},
        "eventTime": "2026-01-02T03:04:05.123456Z", "reportingController": "replicaset-controller",
        "reportingInstance": "replicaset-controller-a", "action": "Create", "reason": "SuccessfulCreate", "type": "Normal",
        "note": "Created pod: web-x", "regarding": {"kind": "ReplicaSet", "namespace": "default", "name": "web"},
    });
    let (code, v) = raw(&c, "POST", "/apis/events.k8s.io/v1/namespaces/default/events", "application/json", &event.to_string()).await;
    assert_eq!(code, 201, "{v}");
    assert_eq!(v["note"], "Created pod: web-x (checked)", "the patch to the core form is converted back");
    assert_eq!(v["apiVersion"], "events.k8s.io/v1");
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    let q = &seen[0].1["request"];
    assert_eq!(q["kind"], json!({"group": "", "version": "v1", "kind": "Event"}));
    assert_eq!(q["resource"], json!({"group": "", "version": "v1", "resource": "events"}));
    assert_eq!(q["requestKind"], json!({"group": "events.k8s.io", "version": "v1", "kind": "Event"}));
    assert_eq!(q["requestResource"], json!({"group": "events.k8s.io", "version": "v1", "resource": "events"}));
    assert_eq!(q["object"]["apiVersion"], "v1");
    assert_eq!(q["object"]["involvedObject"]["name"], "web");
    assert_eq!(q["object"]["reportingComponent"], "replicaset-controller");
    assert!(q["object"].get("note").is_none(), "{q}");
}

/// A review names who asked, as kube-apiserver's `userInfo`: the admin of
/// the sandbox's kubeconfig, or a ServiceAccount by its token.
#[tokio::test]
async fn the_review_names_the_user_who_asked() {
    let ca = Ca::new("test-ca");
    let server = Server::start(&ca, |_, _| Behaviour::Respond(json!({"allowed": true}))).await;
    let (s, admin) = start().await;
    register(
        &admin,
        "ValidatingWebhookConfiguration",
        "who",
        vec![hook("who.example.com", &server.url("/validate"), &ca, "", &["pods"], &["CREATE", "DELETE"], json!({}))],
    )
    .await;
    let kc = kube::config::Kubeconfig::from_yaml(&s.service_account_kubeconfig("default", "builder")).unwrap();
    let sa = kube::Client::try_from(kube::Config::from_custom_kubeconfig(kc, &Default::default()).await.unwrap()).unwrap();
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::namespaced(sa, "default");
    let p: k8s_openapi::api::core::v1::Pod = serde_json::from_str(&pod("by-sa", json!({}))).unwrap();
    pods.create(&Default::default(), &p).await.unwrap();
    let admin_pods: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::namespaced(admin, "default");
    admin_pods.delete("by-sa", &kube::api::DeleteParams::default().grace_period(0)).await.unwrap();

    let users: Vec<(String, Value)> = server
        .seen()
        .iter()
        .map(|(_, r)| (r["request"]["operation"].as_str().unwrap().to_string(), r["request"]["userInfo"].clone()))
        .collect();
    assert_eq!(
        users,
        vec![
            (
                "CREATE".to_string(),
                json!({"username": "system:serviceaccount:default:builder",
                       "groups": ["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"]})
            ),
            ("DELETE".to_string(), json!({"username": "system:admin", "groups": ["system:masters", "system:authenticated"]})),
        ]
    );
}
