//! Conformance: what kube-apiserver does to a DaemonSet beyond the generic
//! rules: the template generation (internal `spec.templateGeneration`,
//! shown in apps/v1 as the `deprecated.daemonset.template.generation`
//! annotation) starts at 1 and grows by one with each template change; a
//! client cannot set it; the status subresource keeps it.

mod util;

use serde_json::{Value, json};
use util::{raw, start};

const ANNOTATION: &str = "deprecated.daemonset.template.generation";

fn ds(image: &str, annotations: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "annotations": annotations},
        "spec": {"selector": {"matchLabels": {"app": "agent"}},
                 "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [{"name": "a", "image": image}]}}}})
}

fn generation(o: &Value) -> (&str, i64) {
    (o["metadata"]["annotations"][ANNOTATION].as_str().unwrap_or("<none>"), o["metadata"]["generation"].as_i64().unwrap_or(0))
}

#[tokio::test]
async fn the_template_generation_follows_template_changes() {
    let (_s, c) = start().await;
    let base = "/apis/apps/v1/namespaces/default/daemonsets";
    let (code, body) = raw(&c, "POST", base, "application/json", &ds("agent:1", json!({})).to_string()).await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(generation(&body), ("1", 1));
    let path = format!("{base}/agent");
    let patch = |p: Value| {
        let (c, path) = (c.clone(), path.clone());
        async move { raw(&c, "PATCH", &path, "application/merge-patch+json", &p.to_string()).await }
    };
    // A change outside the template: generation moves, template generation not.
    let (code, body) = patch(json!({"spec": {"minReadySeconds": 5}})).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(generation(&body), ("1", 2));
    // A template change moves both; a client's value is ignored.
    let p = json!({"metadata": {"annotations": {ANNOTATION: "40"}},
                   "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "agent:2"}]}}}});
    let (code, body) = patch(p).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(generation(&body), ("2", 3));
    let (code, body) = patch(json!({"metadata": {"annotations": {ANNOTATION: "7"}}})).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(generation(&body), ("2", 3));
    // The status subresource keeps it.
    let status = format!("{base}/agent/status");
    let (code, body) = raw(&c, "PATCH", &status, "application/merge-patch+json", &json!({"status": {"numberReady": 1}}).to_string()).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(generation(&body), ("2", 3));
}

#[tokio::test]
async fn a_template_generation_asked_for_on_create_is_kept_but_not_below_one() {
    let (_s, c) = start().await;
    let base = "/apis/apps/v1/namespaces/default/daemonsets";
    let (code, body) = raw(&c, "POST", base, "application/json", &ds("agent:1", json!({ANNOTATION: "5"})).to_string()).await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(generation(&body), ("5", 1));
    let mut other = ds("agent:1", json!({ANNOTATION: "zero"}));
    other["metadata"]["name"] = json!("other");
    let (code, body) = raw(&c, "POST", base, "application/json", &other.to_string()).await;
    assert_eq!(code, 400, "{body}");
}
