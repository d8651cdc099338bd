//! The metrics APIs: metrics.k8s.io (PodMetrics, NodeMetrics from pod
//! annotations), custom.metrics.k8s.io (annotations on the described
//! objects), external.metrics.k8s.io (a ConfigMap), their discovery, their
//! errors, and `kubectl top pod|node` against them.
//!
//! kubectl comes from `RUDDER_KUBECTL`, else `PATH`; `scripts/test.sh`
//! installs it. A missing kubectl fails the kubectl tests: they are never
//! skipped.

mod util;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Node, Pod};
use kube::Client;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use util::{Tool, ToolEnv, raw, start};

const PODS: &str = "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods";
const NODES: &str = "/apis/metrics.k8s.io/v1beta1/nodes";
const CUSTOM: &str = "/apis/custom.metrics.k8s.io/v1beta2";
const EXTERNAL: &str = "/apis/external.metrics.k8s.io/v1beta1";

/// A GET: status code, body, and the texts of the `Warning` headers.
async fn get(c: &Client, path: &str) -> (u16, Value, Vec<String>) {
    let req = http::Request::get(path).body(Vec::new()).expect("request");
    let resp = c.send(req.map(kube::client::Body::from)).await.expect("response");
    let code = resp.status().as_u16();
    let warnings = resp.headers().get_all("warning").iter().map(|v| v.to_str().unwrap_or_default().to_string()).collect();
    let bytes = http_body_util::BodyExt::collect(resp.into_body()).await.expect("body").to_bytes();
    let v = serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (code, v, warnings)
}

/// A GET that must answer 200.
async fn ok(c: &Client, path: &str) -> Value {
    let (code, v, _) = get(c, path).await;
    assert_eq!(code, 200, "{path}: {v}");
    v
}

/// Creates a pod (bound to `node` unless empty) with two containers, `app`
/// and `sidecar`, and sets its phase.
async fn pod(c: &Client, ns: &str, name: &str, node: &str, phase: &str, labels: Value, annotations: Value) {
    let mut spec = json!({"containers": [{"name": "app", "image": "nginx:1"}, {"name": "sidecar", "image": "busybox:1"}]});
    if !node.is_empty() {
        spec["nodeName"] = json!(node);
    }
    let p: Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": labels, "annotations": annotations},
        "spec": spec,
    }))
    .expect("pod");
    let pods: Api<Pod> = Api::namespaced(c.clone(), ns);
    pods.create(&PostParams::default(), &p).await.expect("pod created");
    pods.patch_status(name, &PatchParams::default(), &Patch::Merge(json!({"status": {"phase": phase}}))).await.expect("status set");
}

async fn node(c: &Client, name: &str, labels: Value) {
    let n: Node =
        serde_json::from_value(json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels}})).expect("node");
    let nodes: Api<Node> = Api::all(c.clone());
    nodes.create(&PostParams::default(), &n).await.expect("node created");
    let status = json!({"status": {"capacity": {"cpu": "4", "memory": "8Gi"}, "allocatable": {"cpu": "4", "memory": "8Gi"}}});
    nodes.patch_status(name, &PatchParams::default(), &Patch::Merge(status)).await.expect("node status set");
}

async fn namespace(c: &Client, name: &str, annotations: Value) {
    let n: Namespace =
        serde_json::from_value(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "annotations": annotations}}))
            .expect("namespace");
    Api::<Namespace>::all(c.clone()).create(&PostParams::default(), &n).await.expect("namespace created");
}

fn names(list: &Value) -> Vec<String> {
    list["items"].as_array().expect("items").iter().map(|i| i["metadata"]["name"].as_str().unwrap_or_default().to_string()).collect()
}

#[tokio::test]
async fn pod_metrics_from_annotations_with_a_container_override() {
    let (_s, c) = start().await;
    let annotations = json!({"sim.rudder.dev/cpu": "250m", "sim.rudder.dev/memory": "128Mi", "sim.rudder.dev/cpu.sidecar": "0.05"});
    pod(&c, "default", "web", "n1", "Running", json!({"app": "web"}), annotations).await;
    pod(&c, "default", "quiet", "n1", "Running", json!({}), json!({})).await;

    let m = ok(&c, &format!("{PODS}/web")).await;
    assert_eq!(m["kind"], "PodMetrics");
    assert_eq!(m["apiVersion"], "metrics.k8s.io/v1beta1");
    let md = &m["metadata"];
    assert_eq!((md["name"].as_str(), md["namespace"].as_str()), (Some("web"), Some("default")));
    assert_eq!(md["labels"], json!({"app": "web"}), "labels are copied from the pod");
    assert!(md["creationTimestamp"].as_str().is_some_and(|t| t.ends_with('Z')), "{md}");
    assert!(m["timestamp"].as_str().is_some_and(|t| t.len() == 20), "{m}");
    assert_eq!(m["window"], "15s");
    assert_eq!(
        m["containers"],
        json!([
            {"name": "app", "usage": {"cpu": "250m", "memory": "128Mi"}},
            {"name": "sidecar", "usage": {"cpu": "50m", "memory": "128Mi"}},
        ])
    );

    // No annotations: every container uses nothing.
    let m = ok(&c, &format!("{PODS}/quiet")).await;
    assert!(m["metadata"].get("labels").is_none(), "no labels, no labels field: {m}");
    assert_eq!(
        m["containers"],
        json!([{"name": "app", "usage": {"cpu": "0", "memory": "0"}}, {"name": "sidecar", "usage": {"cpu": "0", "memory": "0"}}])
    );

    // The list: kind and apiVersion once, items sorted by name, without their own.
    let l = ok(&c, PODS).await;
    assert_eq!((l["kind"].as_str(), l["apiVersion"].as_str()), (Some("PodMetricsList"), Some("metrics.k8s.io/v1beta1")));
    assert_eq!(l["metadata"], json!({}));
    assert_eq!(names(&l), ["quiet", "web"]);
    assert!(l["items"][0].get("kind").is_none());
}

#[tokio::test]
async fn pods_that_are_not_running_or_not_bound_have_no_metrics() {
    let (_s, c) = start().await;
    let cpu = json!({"sim.rudder.dev/cpu": "1"});
    pod(&c, "default", "pending", "n1", "Pending", json!({}), cpu.clone()).await;
    pod(&c, "default", "done", "n1", "Succeeded", json!({}), cpu.clone()).await;
    pod(&c, "default", "unbound", "", "Running", json!({}), cpu.clone()).await;
    pod(&c, "default", "running", "n1", "Running", json!({}), cpu).await;

    // metrics-server's pod lister holds Running pods only: others are not found there.
    for name in ["pending", "done", "nope"] {
        let (code, s, _) = get(&c, &format!("{PODS}/{name}")).await;
        assert_eq!((code, s["reason"].as_str()), (404, Some("NotFound")), "{s}");
        assert_eq!(s["message"], format!("pods \"{name}\" not found"));
        assert_eq!(s["details"], json!({"name": name, "kind": "pods"}));
    }
    // Running, but no kubelet reports it: no metrics known.
    let (code, s, _) = get(&c, &format!("{PODS}/unbound")).await;
    assert_eq!(code, 404);
    assert_eq!(s["message"], "podmetrics.metrics.k8s.io \"default/unbound\" not found");
    assert_eq!(s["details"], json!({"name": "default/unbound", "group": "metrics.k8s.io", "kind": "podmetrics"}));

    assert_eq!(names(&ok(&c, PODS).await), ["running"]);
}

#[tokio::test]
async fn node_metrics_sum_the_running_pods_on_each_node() {
    let (_s, c) = start().await;
    node(&c, "n1", json!({"zone": "a"})).await;
    node(&c, "n2", json!({"zone": "b"})).await;
    node(&c, "n3", json!({"zone": "b"})).await;
    let a = json!({"sim.rudder.dev/cpu": "100m", "sim.rudder.dev/memory": "64Mi"});
    pod(&c, "default", "a", "n1", "Running", json!({}), a.clone()).await;
    pod(&c, "default", "b", "n1", "Running", json!({}), json!({"sim.rudder.dev/cpu.app": "1", "sim.rudder.dev/memory": "1G"})).await;
    pod(&c, "default", "c", "n1", "Pending", json!({}), a.clone()).await;
    namespace(&c, "other", json!({})).await;
    pod(&c, "other", "d", "n2", "Running", json!({}), a).await;

    let m = ok(&c, &format!("{NODES}/n1")).await;
    assert_eq!((m["kind"].as_str(), m["apiVersion"].as_str()), (Some("NodeMetrics"), Some("metrics.k8s.io/v1beta1")));
    assert_eq!(m["metadata"]["name"], "n1");
    assert!(m["metadata"].get("namespace").is_none());
    assert_eq!(m["metadata"]["labels"], json!({"zone": "a"}));
    assert_eq!(m["window"], "15s");
    // a: 2 × (100m, 64Mi); b: 1 + 0 cores, 2 × 1G.
    assert_eq!(m["usage"], json!({"cpu": "1200m", "memory": "2084197Ki"}));

    let l = ok(&c, NODES).await;
    assert_eq!(l["kind"], "NodeMetricsList");
    assert_eq!(names(&l), ["n1", "n2", "n3"]);
    assert_eq!(l["items"][1]["usage"], json!({"cpu": "200m", "memory": "128Mi"}));
    assert_eq!(l["items"][2]["usage"], json!({"cpu": "0", "memory": "0"}));

    let l = ok(&c, &format!("{NODES}?labelSelector=zone%3Db")).await;
    assert_eq!(names(&l), ["n2", "n3"]);
    let l = ok(&c, &format!("{NODES}?fieldSelector=metadata.name%3Dn3")).await;
    assert_eq!(names(&l), ["n3"]);

    // Upstream's node lister names the resource "node".
    let (code, s, _) = get(&c, &format!("{NODES}/nope")).await;
    assert_eq!((code, s["message"].as_str()), (404, Some("node \"nope\" not found")), "{s}");
}

#[tokio::test]
async fn list_pod_metrics_with_selectors_and_across_namespaces() {
    let (_s, c) = start().await;
    let cpu = json!({"sim.rudder.dev/cpu": "10m"});
    pod(&c, "default", "a1", "n1", "Running", json!({"app": "a", "tier": "web"}), cpu.clone()).await;
    pod(&c, "default", "a2", "n1", "Running", json!({"app": "a"}), cpu.clone()).await;
    pod(&c, "default", "b1", "n1", "Running", json!({"app": "b"}), cpu.clone()).await;
    namespace(&c, "other", json!({})).await;
    pod(&c, "other", "a3", "n1", "Running", json!({"app": "a"}), cpu).await;

    assert_eq!(names(&ok(&c, &format!("{PODS}?labelSelector=app%3Da")).await), ["a1", "a2"]);
    assert_eq!(names(&ok(&c, &format!("{PODS}?labelSelector=app%3Da,tier")).await), ["a1"]);
    assert_eq!(names(&ok(&c, &format!("{PODS}?labelSelector=app+notin+(a)")).await), ["b1"]);
    assert_eq!(names(&ok(&c, &format!("{PODS}?fieldSelector=metadata.name%21%3Da1")).await), ["a2", "b1"]);
    let all = ok(&c, "/apis/metrics.k8s.io/v1beta1/pods?labelSelector=app%3Da").await;
    assert_eq!(names(&all), ["a1", "a2", "a3"]);
    assert_eq!(all["items"][2]["metadata"]["namespace"], "other");

    let (code, s, _) = get(&c, &format!("{PODS}?fieldSelector=spec.nodeName%3Dn1")).await;
    assert_eq!((code, s["reason"].as_str()), (400, Some("BadRequest")));
    assert_eq!(s["message"], "\"spec.nodeName\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"");
    let (code, s, _) = get(&c, &format!("{PODS}?labelSelector=app+in+(")).await;
    assert_eq!((code, s["reason"].as_str()), (400, Some("BadRequest")), "{s}");

    // kubectl get asks for a Table.
    let req = http::Request::get(format!("{PODS}?labelSelector=app%3Db"))
        .header("accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
        .body(Vec::new())
        .expect("request");
    let t: Value = c.request(req).await.expect("table");
    assert_eq!(t["kind"], "Table");
    let cols: Vec<&str> = t["columnDefinitions"].as_array().expect("columns").iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(cols, ["Name", "cpu", "memory", "Window"]);
    assert_eq!(t["rows"][0]["cells"], json!(["b1", "20m", "0", "15s"]));
    assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
}

#[tokio::test]
async fn discovery_lists_the_metrics_groups() {
    let (_s, c) = start().await;
    let groups = ok(&c, "/apis").await;
    let listed: Vec<&str> = groups["groups"].as_array().expect("groups").iter().filter_map(|g| g["name"].as_str()).collect();
    for g in ["metrics.k8s.io", "custom.metrics.k8s.io", "external.metrics.k8s.io"] {
        assert!(listed.contains(&g), "{g} in {listed:?}");
    }
    let m = groups["groups"].as_array().expect("groups").iter().find(|g| g["name"] == "metrics.k8s.io").expect("metrics.k8s.io");
    assert_eq!(m["preferredVersion"], json!({"groupVersion": "metrics.k8s.io/v1beta1", "version": "v1beta1"}));

    let g = ok(&c, "/apis/metrics.k8s.io").await;
    assert_eq!((g["kind"].as_str(), g["name"].as_str()), (Some("APIGroup"), Some("metrics.k8s.io")));
    assert_eq!(g["versions"], json!([{"groupVersion": "metrics.k8s.io/v1beta1", "version": "v1beta1"}]));
    let r = ok(&c, "/apis/metrics.k8s.io/v1beta1").await;
    assert_eq!((r["kind"].as_str(), r["groupVersion"].as_str()), (Some("APIResourceList"), Some("metrics.k8s.io/v1beta1")));
    assert_eq!(
        r["resources"],
        json!([
            {"name": "nodes", "singularName": "", "namespaced": false, "kind": "NodeMetrics", "verbs": ["get", "list"]},
            {"name": "pods", "singularName": "", "namespaced": true, "kind": "PodMetrics", "verbs": ["get", "list"]},
        ])
    );
    assert_eq!(ok(&c, "/apis/custom.metrics.k8s.io").await["preferredVersion"]["version"], "v1beta2");
    assert_eq!(ok(&c, "/apis/external.metrics.k8s.io").await["preferredVersion"]["version"], "v1beta1");
    assert_eq!(get(&c, "/apis/metrics.k8s.io/v1").await.0, 404);
    assert_eq!(get(&c, "/apis/custom.metrics.k8s.io/v1beta1").await.0, 404);

    // The custom and external metrics some object has.
    assert_eq!(ok(&c, CUSTOM).await["resources"], json!([]));
    pod(&c, "default", "p", "n1", "Running", json!({}), json!({"sim.rudder.dev/metric.requests": "5"})).await;
    namespace(&c, "team", json!({"sim.rudder.dev/metric.budget": "3"})).await;
    let r = ok(&c, CUSTOM).await;
    assert_eq!(
        r["resources"],
        json!([
            {"name": "namespaces/budget", "singularName": "", "namespaced": false, "kind": "MetricValueList", "verbs": ["get"]},
            {"name": "pods/requests", "singularName": "", "namespaced": true, "kind": "MetricValueList", "verbs": ["get"]},
        ])
    );
    external_configmap(&c, "default", json!({}), json!({"queue_depth": "30"})).await;
    let r = ok(&c, EXTERNAL).await;
    assert_eq!(
        r["resources"],
        json!([{"name": "queue_depth", "singularName": "", "namespaced": true, "kind": "ExternalMetricValueList", "verbs": ["get"]}])
    );
}

#[tokio::test]
async fn only_get_and_list_are_allowed() {
    let (_s, c) = start().await;
    pod(&c, "default", "web", "n1", "Running", json!({}), json!({})).await;
    let body = r#"{"apiVersion":"metrics.k8s.io/v1beta1","kind":"PodMetrics","metadata":{"name":"web"}}"#;
    for (method, path) in [
        ("POST", PODS.to_string()),
        ("PUT", format!("{PODS}/web")),
        ("PATCH", format!("{PODS}/web")),
        ("DELETE", format!("{PODS}/web")),
        ("DELETE", PODS.to_string()),
        ("POST", NODES.to_string()),
        ("POST", format!("{CUSTOM}/namespaces/default/pods/*/requests")),
        ("POST", format!("{EXTERNAL}/namespaces/default/queue")),
        ("POST", "/apis/metrics.k8s.io/v1beta1".to_string()),
    ] {
        let (code, s) = raw(&c, method, &path, "application/merge-patch+json", body).await;
        assert_eq!((code, s["reason"].as_str()), (405, Some("MethodNotAllowed")), "{method} {path}: {s}");
        assert_eq!(s["message"], "the server does not allow this method on the requested resource");
    }
    let (code, s, _) = get(&c, &format!("{PODS}?watch=true")).await;
    assert_eq!(code, 405);
    assert_eq!(s["message"], "watch is not supported on resources of kind \"pods.metrics.k8s.io\"");
    assert_eq!(s["details"], json!({"group": "metrics.k8s.io", "kind": "pods"}));
    let (code, s, _) = get(&c, &format!("{NODES}?watch=1")).await;
    assert_eq!((code, s["message"].as_str()), (405, Some("watch is not supported on resources of kind \"nodes.metrics.k8s.io\"")));
    for path in [
        "/apis/metrics.k8s.io/v1beta1/watch/nodes".to_string(),
        format!("{PODS}/web/status"),
        "/apis/metrics.k8s.io/v1beta1/pods/web".to_string(),
        "/apis/metrics.k8s.io/v1beta1/namespaces/default/nodes".to_string(),
        "/apis/metrics.k8s.io/v1beta1/deployments".to_string(),
        format!("{CUSTOM}/namespaces/default/pods/web"),
        format!("{EXTERNAL}/queue"),
    ] {
        let (code, s, _) = get(&c, &path).await;
        assert_eq!((code, s["reason"].as_str()), (404, Some("NotFound")), "{path}: {s}");
    }
}

#[tokio::test]
async fn custom_metrics_for_pods_by_label_selector() {
    let (_s, c) = start().await;
    let m = |v: &str| json!({"sim.rudder.dev/metric.http_requests": v});
    pod(&c, "default", "web-1", "n1", "Running", json!({"app": "web"}), m("10")).await;
    pod(&c, "default", "web-2", "n1", "Pending", json!({"app": "web"}), m("2500m")).await;
    pod(&c, "default", "web-3", "n1", "Running", json!({"app": "web"}), json!({})).await;
    pod(&c, "default", "db-1", "n1", "Running", json!({"app": "db"}), m("7")).await;

    let l = ok(&c, &format!("{CUSTOM}/namespaces/default/pods/*/http_requests?labelSelector=app%3Dweb")).await;
    assert_eq!((l["kind"].as_str(), l["apiVersion"].as_str()), (Some("MetricValueList"), Some("custom.metrics.k8s.io/v1beta2")));
    let items = l["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "pods without the metric are left out: {l}");
    assert_eq!(
        items[0]["describedObject"],
        json!({"kind": "Pod", "namespace": "default", "name": "web-1", "apiVersion": "/v1"}),
        "as custom-metrics-apiserver's helpers.ReferenceFor makes it"
    );
    assert_eq!(items[0]["metric"], json!({"name": "http_requests", "selector": null}));
    assert_eq!(items[0]["value"], "10");
    assert!(items[0]["timestamp"].as_str().is_some_and(|t| t.len() == 20));
    assert!(items[0].get("windowSeconds").is_none());
    assert_eq!((items[1]["describedObject"]["name"].as_str(), items[1]["value"].as_str()), (Some("web-2"), Some("2500m")));

    // Every pod of the namespace; a metric label selector is echoed back.
    let l = ok(&c, &format!("{CUSTOM}/namespaces/default/pods/*/http_requests?metricLabelSelector=%21verb")).await;
    assert_eq!(l["items"].as_array().map(Vec::len), Some(3));
    assert_eq!(l["items"][0]["metric"]["selector"], json!({"matchExpressions": [{"key": "verb", "operator": "DoesNotExist"}]}));
    // The sandbox's metrics have no labels: a selector requiring one matches none.
    let l = ok(&c, &format!("{CUSTOM}/namespaces/default/pods/*/http_requests?metricLabelSelector=verb%3DGET")).await;
    assert_eq!(l["items"], json!([]));
    // An unknown metric: no items.
    let l = ok(&c, &format!("{CUSTOM}/namespaces/default/pods/*/nope?labelSelector=app%3Dweb")).await;
    assert_eq!(l["items"], json!([]));

    // One pod by name.
    let l = ok(&c, &format!("{CUSTOM}/namespaces/default/pods/db-1/http_requests")).await;
    assert_eq!(l["items"][0]["value"], "7");
}

#[tokio::test]
async fn custom_metrics_for_an_object_and_a_namespace() {
    let (_s, c) = start().await;
    let d: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "annotations": {"sim.rudder.dev/metric.queue_length": "1.5k"}},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "app", "image": "nginx:1"}]}}
        }
    }))
    .expect("deployment");
    Api::<Deployment>::default_namespaced(c.clone()).create(&PostParams::default(), &d).await.expect("deployment created");

    // The HPA's client names the resource with its group.
    for resource in ["deployments.apps", "deployments"] {
        let l = ok(&c, &format!("{CUSTOM}/namespaces/default/{resource}/web/queue_length")).await;
        let item = &l["items"][0];
        assert_eq!(item["describedObject"], json!({"kind": "Deployment", "namespace": "default", "name": "web", "apiVersion": "apps/v1"}));
        assert_eq!(item["value"], "1500");
    }
    let l =
        ok(&c, &format!("{CUSTOM}/namespaces/default/deployments.apps/web/queue_length?metricLabelSelector=%21a%2Cc+notin+(e,d)")).await;
    assert_eq!(
        l["items"][0]["metric"]["selector"],
        json!({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}, {"key": "c", "operator": "NotIn", "values": ["d", "e"]}]})
    );
    let (code, s, _) = get(&c, &format!("{CUSTOM}/namespaces/default/deployments.apps/web/queue_length?metricLabelSelector=a%3Db")).await;
    assert_eq!((code, s["reason"].as_str()), (404, Some("NotFound")));
    assert_eq!(s["message"], "the server could not find the metric queue_length for deployments.apps web with selector a=b");

    // custom-metrics-apiserver's wording for what it does not know.
    let (code, s, _) = get(&c, &format!("{CUSTOM}/namespaces/default/deployments.apps/web/nope")).await;
    assert_eq!((code, s["message"].as_str()), (404, Some("the server could not find the metric nope for deployments.apps web")));
    let (code, s, _) = get(&c, &format!("{CUSTOM}/namespaces/default/deployments.apps/gone/queue_length")).await;
    assert_eq!((code, s["message"].as_str()), (404, Some("the server could not find the metric queue_length for deployments.apps gone")));
    let (code, s, _) = get(&c, &format!("{CUSTOM}/namespaces/default/widgets/web/queue_length")).await;
    assert_eq!((code, s["message"].as_str()), (404, Some("the server could not find the metric queue_length for widgets")));

    // A namespace describes itself (the HPA's Object metric on a Namespace).
    namespace(&c, "team", json!({"sim.rudder.dev/metric.budget": "42"})).await;
    let l = ok(&c, &format!("{CUSTOM}/namespaces/team/metrics/budget")).await;
    assert_eq!(l["items"][0]["describedObject"], json!({"kind": "Namespace", "name": "team", "apiVersion": "/v1"}));
    assert_eq!(l["items"][0]["value"], "42");
    assert_eq!(ok(&c, &format!("{CUSTOM}/namespaces/team/budget")).await["items"][0]["value"], "42");

    // Cluster-scoped objects: root-scoped paths.
    node(&c, "n1", json!({})).await;
    Api::<Node>::all(c.clone())
        .patch("n1", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"annotations": {"sim.rudder.dev/metric.temp": "-3"}}})))
        .await
        .expect("node annotated");
    let l = ok(&c, &format!("{CUSTOM}/nodes/n1/temp")).await;
    assert_eq!(l["items"][0]["describedObject"], json!({"kind": "Node", "name": "n1", "apiVersion": "/v1"}));
    assert_eq!(l["items"][0]["value"], "-3");
    assert_eq!(ok(&c, &format!("{CUSTOM}/nodes/*/temp")).await["items"].as_array().map(Vec::len), Some(1));
}

async fn external_configmap(c: &Client, ns: &str, labels: Value, data: Value) {
    let cm: ConfigMap = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "rudder-sandbox-external-metrics", "labels": labels},
        "data": data,
    }))
    .expect("configmap");
    Api::<ConfigMap>::namespaced(c.clone(), ns).create(&PostParams::default(), &cm).await.expect("configmap created");
}

#[tokio::test]
async fn external_metrics_from_the_namespace_configmap() {
    let (_s, c) = start().await;
    let path = format!("{EXTERNAL}/namespaces/default/queue_messages_ready");
    // No ConfigMap yet: no values.
    let l = ok(&c, &path).await;
    assert_eq!((l["kind"].as_str(), l["apiVersion"].as_str()), (Some("ExternalMetricValueList"), Some("external.metrics.k8s.io/v1beta1")));
    assert_eq!(l["items"], json!([]));

    external_configmap(&c, "default", json!({"queue": "jobs"}), json!({"queue_messages_ready": "30", "lag": "1.5"})).await;
    let l = ok(&c, &path).await;
    let item = &l["items"][0];
    assert_eq!(item["metricName"], "queue_messages_ready");
    assert_eq!(item["metricLabels"], json!({"queue": "jobs"}));
    assert_eq!(item["value"], "30");
    assert!(item["timestamp"].as_str().is_some_and(|t| t.len() == 20));
    assert_eq!(ok(&c, &format!("{EXTERNAL}/namespaces/default/lag")).await["items"][0]["value"], "1500m");

    // The labelSelector is matched against the ConfigMap's labels.
    assert_eq!(ok(&c, &format!("{path}?labelSelector=queue%3Djobs")).await["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(ok(&c, &format!("{path}?labelSelector=queue%3Demails")).await["items"], json!([]));
    // Other namespaces have their own.
    assert_eq!(ok(&c, &format!("{EXTERNAL}/namespaces/kube-system/queue_messages_ready")).await["items"], json!([]));
    assert_eq!(ok(&c, &format!("{EXTERNAL}/namespaces/default/unknown")).await["items"], json!([]));
}

#[tokio::test]
async fn malformed_values_count_as_absent_with_a_warning() {
    let (_s, c) = start().await;
    node(&c, "n1", json!({})).await;
    pod(&c, "default", "good", "n1", "Running", json!({}), json!({"sim.rudder.dev/cpu": "100m"})).await;
    pod(&c, "default", "bad", "n1", "Running", json!({}), json!({"sim.rudder.dev/cpu": "100m", "sim.rudder.dev/memory.sidecar": "lots"}))
        .await;

    let (code, s, warnings) = get(&c, &format!("{PODS}/bad")).await;
    assert_eq!(code, 404);
    assert_eq!(s["message"], "podmetrics.metrics.k8s.io \"default/bad\" not found");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].starts_with("299 - "), "{warnings:?}");
    assert!(warnings[0].contains("pod default/bad has no metrics: annotation sim.rudder.dev/memory.sidecar"), "{warnings:?}");
    assert!(warnings[0].contains("quantities must match the regular expression"), "{warnings:?}");

    let (code, l, warnings) = get(&c, PODS).await;
    assert_eq!(code, 200);
    assert_eq!(names(&l), ["good"]);
    assert_eq!(warnings.len(), 1);
    let (_, n, warnings) = get(&c, &format!("{NODES}/n1")).await;
    assert_eq!(n["usage"]["cpu"], "200m", "the malformed pod is left out of its node's sum");
    assert_eq!(warnings.len(), 1);

    // Negative usage is no usage either.
    pod(&c, "default", "negative", "n1", "Running", json!({}), json!({"sim.rudder.dev/cpu": "-1"})).await;
    let (code, _, warnings) = get(&c, &format!("{PODS}/negative")).await;
    assert_eq!(code, 404);
    assert!(warnings[0].contains("must not be negative"), "{warnings:?}");

    // Custom and external metrics: the object has no value.
    pod(&c, "default", "odd", "n1", "Running", json!({"app": "odd"}), json!({"sim.rudder.dev/metric.rps": "fast"})).await;
    let (code, s, warnings) = get(&c, &format!("{CUSTOM}/namespaces/default/pods/odd/rps")).await;
    assert_eq!((code, s["message"].as_str()), (404, Some("the server could not find the metric rps for pods odd")));
    assert!(warnings[0].contains("Pod default/odd has no metric rps"), "{warnings:?}");
    let (code, l, warnings) = get(&c, &format!("{CUSTOM}/namespaces/default/pods/*/rps")).await;
    assert_eq!((code, &l["items"]), (200, &json!([])));
    assert_eq!(warnings.len(), 1);
    external_configmap(&c, "default", json!({}), json!({"depth": "deep"})).await;
    let (code, l, warnings) = get(&c, &format!("{EXTERNAL}/namespaces/default/depth")).await;
    assert_eq!((code, &l["items"]), (200, &json!([])));
    assert!(warnings[0].contains("no external metric depth in namespace default"), "{warnings:?}");
}

// ----- kubectl top -----

/// Runs kubectl (bounded) with nothing but the sandbox's kubeconfig; returns
/// stdout, panicking with stderr if it fails.
async fn kubectl(env: &ToolEnv, args: &[&str]) -> String {
    let (ok, stdout, stderr) = env.run_tool(Tool::Kubectl, args, "").await;
    assert!(ok, "kubectl {args:?} failed: {stderr}\n{stdout}");
    stdout
}

/// The whitespace-separated cells of each line.
fn rows(out: &str) -> Vec<Vec<String>> {
    out.lines().map(|l| l.split_whitespace().map(String::from).collect()).filter(|r: &Vec<String>| !r.is_empty()).collect()
}

#[tokio::test]
async fn kubectl_top_pod_and_node() {
    let env = ToolEnv::start().await;
    let c = env.client();
    node(&c, "n1", json!({"zone": "a"})).await;
    node(&c, "n2", json!({"zone": "b"})).await;
    let usage = json!({"sim.rudder.dev/cpu": "250m", "sim.rudder.dev/memory": "96Mi", "sim.rudder.dev/cpu.sidecar": "100m"});
    pod(&c, "default", "web", "n1", "Running", json!({"app": "web"}), usage).await;
    pod(&c, "default", "db", "n2", "Running", json!({"app": "db"}), json!({"sim.rudder.dev/memory": "1Gi"})).await;

    let out = kubectl(&env, &["top", "pod"]).await;
    assert_eq!(
        rows(&out),
        [vec!["NAME", "CPU(cores)", "MEMORY(bytes)"], vec!["db", "0m", "2048Mi"], vec!["web", "350m", "192Mi"]],
        "{out}"
    );
    let out = kubectl(&env, &["top", "pod", "-l", "app=web", "--containers"]).await;
    assert_eq!(
        rows(&out),
        [vec!["POD", "NAME", "CPU(cores)", "MEMORY(bytes)"], vec!["web", "app", "250m", "96Mi"], vec!["web", "sidecar", "100m", "96Mi"]],
        "{out}"
    );
    let out = kubectl(&env, &["top", "pod", "db"]).await;
    assert_eq!(rows(&out)[1], ["db", "0m", "2048Mi"], "{out}");

    let out = kubectl(&env, &["top", "node"]).await;
    assert_eq!(
        rows(&out),
        [
            vec!["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"],
            vec!["n1", "350m", "8%", "192Mi", "2%"],
            vec!["n2", "0m", "0%", "2048Mi", "25%"]
        ],
        "{out}"
    );
    let out = kubectl(&env, &["top", "node", "-l", "zone=b"]).await;
    assert_eq!(rows(&out).len(), 2, "{out}");
    let out = kubectl(&env, &["top", "node", "n1"]).await;
    assert_eq!(rows(&out)[1][0], "n1", "{out}");

    // kubectl get finds the kinds through discovery and prints metrics-server's Table.
    let out = kubectl(&env, &["get", "podmetrics", "web"]).await;
    assert_eq!(rows(&out), [vec!["NAME", "CPU", "MEMORY", "WINDOW"], vec!["web", "350m", "192Mi", "15s"]], "{out}");
    let out = kubectl(&env, &["get", "nodemetrics", "-o", "name"]).await;
    assert_eq!(out.lines().collect::<Vec<_>>(), ["nodemetrics.metrics.k8s.io/n1", "nodemetrics.metrics.k8s.io/n2"], "{out}");
}
