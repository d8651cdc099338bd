//! The metrics APIs, computed from the stored objects on every request:
//!
//! - `metrics.k8s.io/v1beta1` as metrics-server serves it: `PodMetrics`
//!   (`pods`, namespaced) and `NodeMetrics` (`nodes`), get and list, with
//!   the usage of each container taken from the pod's annotations
//!   [`CPU`] and [`MEMORY`] (`sim.rudder.dev/cpu.<container>` overrides one
//!   container);
//! - `custom.metrics.k8s.io/v1beta2` as an adapter built on
//!   custom-metrics-apiserver serves it: `MetricValueList` for one object or
//!   for every object matching a label selector, with values taken from the
//!   described objects' annotations `sim.rudder.dev/metric.<metric>`;
//! - `external.metrics.k8s.io/v1beta1`: `ExternalMetricValueList`, with
//!   values taken from the data of the ConfigMap [`EXTERNAL_CONFIGMAP`] of
//!   the namespace.
//!
//! An annotation or ConfigMap value that is not a quantity counts as absent
//! (the pod gets no metrics, the object no value) and the response carries a
//! `Warning` header saying why; nothing fails the whole request.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use http::Method;
use rudder_common::selector::{FieldSelector, Operator, Selector};
use serde_json::{Map, Value, json};

use crate::api::{Reply, Request};
use crate::defaults::quantity::{self, Format, Qty};
use crate::meta;
use crate::registry::{self, RESOURCES, ResourceType};
use crate::status::{ApiError, ApiResult};
use crate::store::Store;

/// Pod annotation: the CPU usage of every container of the pod.
pub const CPU: &str = "sim.rudder.dev/cpu";
/// Pod annotation: the memory usage of every container of the pod.
pub const MEMORY: &str = "sim.rudder.dev/memory";
/// Annotation prefix of a custom metric's value on the object it describes.
pub const METRIC_PREFIX: &str = "sim.rudder.dev/metric.";
/// The ConfigMap of a namespace whose data are its external metrics.
pub const EXTERNAL_CONFIGMAP: &str = "rudder-sandbox-external-metrics";
/// The `window` of resource metrics: metrics-server's scrape interval as its
/// manifests set it (`--metric-resolution=15s`), printed as Go prints a
/// `time.Duration`.
pub const WINDOW: &str = "15s";

const RESOURCE_GROUP: &str = "metrics.k8s.io";
const CUSTOM_GROUP: &str = "custom.metrics.k8s.io";
const EXTERNAL_GROUP: &str = "external.metrics.k8s.io";

/// The metrics groups and their one version each, in `/apis` order (after
/// the built-in groups, as the aggregator sorts APIServices of priority 100).
const GROUPS: [(&str, &str); 3] = [(CUSTOM_GROUP, "v1beta2"), (EXTERNAL_GROUP, "v1beta1"), (RESOURCE_GROUP, "v1beta1")];

/// At most this many `Warning` headers per response (clients limit how many
/// headers they read).
const MAX_WARNINGS: usize = 10;

/// The `/apis` entries of the metrics groups.
pub fn discovery_groups() -> Vec<Value> {
    GROUPS.iter().map(|(g, v)| group_entry(g, v)).collect()
}

fn group_entry(group: &str, version: &str) -> Value {
    let gv = json!({"groupVersion": format!("{group}/{version}"), "version": version});
    json!({"name": group, "versions": [gv.clone()], "preferredVersion": gv})
}

/// Serves `req` if its path is in one of the metrics groups; `None` leaves
/// it to the rest of the API.
pub fn serve(store: &Store, req: &Request) -> Option<Reply> {
    let group = req.path.strip_prefix("/apis/")?.split('/').next()?;
    let (group, version) = GROUPS.iter().find(|(g, _)| *g == group)?;
    let path = req.path.trim_end_matches('/');
    let segs: Vec<&str> = path.split('/').skip(3).collect();
    let rest = segs.as_slice();
    let mut warnings = Warnings::default();
    let result = route(store, req, group, version, rest, path, &mut warnings);
    let warnings = warnings.finish();
    Some(match result {
        Ok(body) => Reply::Json { code: 200, body, warnings },
        Err(e) => Reply::Json { code: e.code, body: e.to_status(), warnings },
    })
}

/// Why objects were left out of a response, for `Warning` headers.
#[derive(Default)]
struct Warnings(Vec<String>);

impl Warnings {
    fn add(&mut self, w: String) {
        self.0.push(w);
    }

    fn finish(mut self) -> Vec<String> {
        if self.0.len() > MAX_WARNINGS {
            let more = self.0.len() - (MAX_WARNINGS - 1);
            self.0.truncate(MAX_WARNINGS - 1);
            self.0.push(format!("... and {more} more objects with malformed sim.rudder.dev values"));
        }
        self.0
    }
}

fn route(store: &Store, req: &Request, group: &str, version: &str, rest: &[&str], path: &str, w: &mut Warnings) -> ApiResult<Value> {
    let op = match rest {
        [] => Op::Group,
        [v] if v == &version => Op::Resources,
        [v, rest @ ..] if v == &version => match group {
            RESOURCE_GROUP => resource_route(rest).ok_or_else(|| ApiError::no_route(path))?,
            CUSTOM_GROUP => custom_route(rest).ok_or_else(|| ApiError::no_route(path))?,
            _ => match rest {
                ["namespaces", ns, metric] if !ns.is_empty() && !metric.is_empty() => Op::External { ns, metric },
                _ => return Err(ApiError::no_route(path)),
            },
        },
        _ => return Err(ApiError::no_route(path)),
    };
    if req.method != Method::GET {
        // As go-restful answers a method no route of the path has.
        let mut e = ApiError::method_not_allowed("the server does not allow this method on the requested resource");
        e.details = Some(json!({}));
        return Err(e);
    }
    let q = &req.query;
    let table = req.accept.as_deref().is_some_and(|a| a.split(',').next().is_some_and(|a| a.contains("as=Table")));
    match op {
        Op::Group => {
            let mut g = group_entry(group, version);
            g["kind"] = json!("APIGroup");
            g["apiVersion"] = json!("v1");
            Ok(g)
        }
        Op::Resources => Ok(json!({
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": format!("{group}/{version}"),
            "resources": match group {
                RESOURCE_GROUP => resource_discovery(),
                CUSTOM_GROUP => custom_discovery(store),
                _ => external_discovery(store),
            },
        })),
        Op::PodList { ns } => {
            check_no_watch("pods", q)?;
            let sel = ListSelectors::parse(q)?;
            let (_, pods) = store.list(pods_type(), ns);
            let now = meta::now();
            let items: Vec<Value> =
                pods.iter().filter(|p| sel.matches(p)).filter_map(|p| pod_metrics(p, &now).unwrap_or_else(|e| skip(w, p, e))).collect();
            Ok(if table { metrics_table(&items, q) } else { metrics_list("PodMetricsList", items) })
        }
        Op::PodGet { ns, name } => {
            let pod = store
                .get(pods_type(), ns, name)
                .filter(|p| phase(p) == "Running")
                // metrics-server only knows Running pods: others are not found in its pod lister.
                .ok_or_else(|| ApiError::not_found("", "pods", name))?;
            let now = meta::now();
            let m = pod_metrics(&pod, &now)
                .unwrap_or_else(|e| skip(w, &pod, e))
                .ok_or_else(|| ApiError::not_found(RESOURCE_GROUP, "podmetrics", &format!("{ns}/{name}")))?;
            Ok(if table { metrics_table(&[m], q) } else { with_type(m, "PodMetrics") })
        }
        Op::NodeList => {
            check_no_watch("nodes", q)?;
            let sel = ListSelectors::parse(q)?;
            let (_, nodes) = store.list(nodes_type(), None);
            let nodes: Vec<_> = nodes.into_iter().filter(|n| sel.matches(n)).collect();
            let names: BTreeSet<&str> = nodes.iter().map(|n| meta::name(n)).collect();
            let (_, pods) = store.list(pods_type(), None);
            let usage = node_usage(pods.iter().map(|p| &**p).filter(|p| names.contains(node_name(p))), w);
            let now = meta::now();
            let items: Vec<Value> = nodes.iter().map(|n| node_metrics(n, usage.get(meta::name(n)), &now)).collect();
            Ok(if table { metrics_table(&items, q) } else { metrics_list("NodeMetricsList", items) })
        }
        Op::NodeGet { name } => {
            // Upstream's node lister names the resource "node".
            let node = store.get(nodes_type(), "", name).ok_or_else(|| ApiError::not_found("", "node", name))?;
            let (_, pods) = store.list(pods_type(), None);
            let usage = node_usage(pods.iter().map(|p| &**p).filter(|p| node_name(p) == name), w);
            let m = node_metrics(&node, usage.get(name), &meta::now());
            Ok(if table { metrics_table(&[m], q) } else { with_type(m, "NodeMetrics") })
        }
        Op::Custom { ns, resource, name, metric } => custom_metric(store, q, ns, resource, name, metric, w),
        Op::External { ns, metric } => external_metric(store, q, ns, metric, w),
    }
}

/// What a request in a metrics group asks for.
enum Op<'a> {
    Group,
    Resources,
    PodList {
        ns: Option<&'a str>,
    },
    PodGet {
        ns: &'a str,
        name: &'a str,
    },
    NodeList,
    NodeGet {
        name: &'a str,
    },
    /// `ns` is `None` for the root-scoped paths.
    Custom {
        ns: Option<&'a str>,
        resource: &'a str,
        name: &'a str,
        metric: &'a str,
    },
    External {
        ns: &'a str,
        metric: &'a str,
    },
}

/// The paths metrics-server serves under `/apis/metrics.k8s.io/v1beta1`.
fn resource_route<'a>(rest: &[&'a str]) -> Option<Op<'a>> {
    let op = match rest {
        ["pods"] => Op::PodList { ns: None },
        ["namespaces", ns, "pods"] => Op::PodList { ns: Some(ns) },
        ["namespaces", ns, "pods", name] => Op::PodGet { ns, name },
        ["nodes"] => Op::NodeList,
        ["nodes", name] => Op::NodeGet { name },
        _ => return None,
    };
    let empty = match &op {
        Op::PodList { ns: Some(ns) } => ns.is_empty(),
        Op::PodGet { ns, name } => ns.is_empty() || name.is_empty(),
        Op::NodeGet { name } => name.is_empty(),
        _ => false,
    };
    (!empty).then_some(op)
}

/// The paths custom-metrics-apiserver serves under
/// `/apis/custom.metrics.k8s.io/v1beta2`.
fn custom_route<'a>(rest: &[&'a str]) -> Option<Op<'a>> {
    let op = match rest {
        // Metrics describing a namespace itself.
        ["namespaces", ns, "metrics", metric] => Op::Custom { ns: None, resource: "namespaces", name: ns, metric },
        ["namespaces", ns, resource, name, metric] => Op::Custom { ns: Some(ns), resource, name, metric },
        [resource, name, metric] => Op::Custom { ns: None, resource, name, metric },
        _ => return None,
    };
    match &op {
        Op::Custom { ns, resource, name, metric } => {
            (!ns.is_some_and(str::is_empty) && !resource.is_empty() && !name.is_empty() && !metric.is_empty()).then_some(op)
        }
        _ => None,
    }
}

fn pods_type() -> &'static ResourceType {
    registry::find("", "v1", "pods").expect("pods are served")
}

fn nodes_type() -> &'static ResourceType {
    registry::find("", "v1", "nodes").expect("nodes are served")
}

fn with_type(mut v: Value, kind: &str) -> Value {
    if let Some(m) = v.as_object_mut() {
        m.insert("kind".into(), json!(kind));
        m.insert("apiVersion".into(), json!(format!("{RESOURCE_GROUP}/v1beta1")));
    }
    v
}

fn metrics_list(kind: &str, items: Vec<Value>) -> Value {
    json!({"kind": kind, "apiVersion": format!("{RESOURCE_GROUP}/v1beta1"), "metadata": {}, "items": items})
}

/// The apiserver's answer to a watch of a resource that cannot be watched.
fn check_no_watch(resource: &str, q: &crate::request::Query) -> ApiResult<()> {
    if q.flag("watch") {
        let mut e = ApiError::method_not_allowed(format!("watch is not supported on resources of kind \"{resource}.{RESOURCE_GROUP}\""));
        e.details = Some(json!({"group": RESOURCE_GROUP, "kind": resource}));
        return Err(e);
    }
    Ok(())
}

/// Records why `obj` was left out, and leaves it out.
fn skip<T>(w: &mut Warnings, obj: &Value, why: String) -> Option<T> {
    let ns = meta::namespace(obj);
    let what = if ns.is_empty() { meta::name(obj).to_string() } else { format!("{ns}/{}", meta::name(obj)) };
    w.add(format!("pod {what} has no metrics: {why}"));
    None
}

// ---------------------------------------------------------------------------
// metrics.k8s.io

fn resource_discovery() -> Value {
    json!([
        {"name": "nodes", "singularName": "", "namespaced": false, "kind": "NodeMetrics", "verbs": ["get", "list"]},
        {"name": "pods", "singularName": "", "namespaced": true, "kind": "PodMetrics", "verbs": ["get", "list"]},
    ])
}

/// `labelSelector` and `fieldSelector` of a metrics-server list: field
/// selectors may only name `metadata.name` and `metadata.namespace`, as for
/// any resource without field label conversions of its own.
struct ListSelectors {
    labels: Selector,
    fields: FieldSelector,
}

impl ListSelectors {
    fn parse(q: &crate::request::Query) -> ApiResult<Self> {
        let labels = match q.some("labelSelector") {
            Some(s) => Selector::parse(s).map_err(|e| ApiError::bad_request(e.to_string()))?,
            None => Selector::everything(),
        };
        let fields = match q.some("fieldSelector") {
            Some(s) => FieldSelector::parse(s).map_err(|e| ApiError::bad_request(e.to_string()))?,
            None => FieldSelector::everything(),
        };
        for r in fields.requirements() {
            if r.field != "metadata.name" && r.field != "metadata.namespace" {
                return Err(ApiError::bad_request(format!(
                    "\"{}\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
                    r.field
                )));
            }
        }
        Ok(Self { labels, fields })
    }

    fn matches(&self, obj: &Value) -> bool {
        self.labels.matches(&meta::labels(obj))
            && self.fields.matches(|f| match f {
                "metadata.name" => Some(meta::name(obj).to_string()),
                "metadata.namespace" => Some(meta::namespace(obj).to_string()),
                _ => None,
            })
    }
}

/// CPU in nanocores and memory in bytes, as metrics-server keeps them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Usage {
    cpu: u128,
    memory: u128,
}

impl Usage {
    fn add(&mut self, o: Usage) {
        self.cpu = self.cpu.saturating_add(o.cpu);
        self.memory = self.memory.saturating_add(o.memory);
    }

    /// A `ResourceList` with upstream's canonical quantities: CPU in
    /// DecimalSI (`250m`, `1500m`, `12345n`), memory in BinarySI (`128Mi`,
    /// `1000000`).
    fn to_json(self) -> Value {
        let cpu = Qty { neg: false, mant: self.cpu, scale: -9, format: Format::DecimalSI };
        let memory = Qty { neg: false, mant: self.memory, scale: 0, format: Format::BinarySI };
        json!({"cpu": cpu.to_string(), "memory": memory.to_string()})
    }
}

fn phase(pod: &Value) -> &str {
    pod.pointer("/status/phase").and_then(Value::as_str).unwrap_or_default()
}

fn node_name(pod: &Value) -> &str {
    pod.pointer("/spec/nodeName").and_then(Value::as_str).unwrap_or_default()
}

/// A value for a message: quoted, ASCII-escaped (warnings go into HTTP
/// headers) and cut short.
fn quoted(s: &str) -> String {
    let mut out: String = s.chars().take(64).collect::<String>().escape_default().collect();
    if s.chars().count() > 64 {
        out.push_str("...");
    }
    format!("\"{out}\"")
}

fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.pointer("/metadata/annotations").and_then(|a| a.get(key)).and_then(Value::as_str)
}

/// A quantity in whole units of 10^`scale` (-9 for nanocores, 0 for bytes),
/// rounded up as upstream rounds quantities; negative values are refused.
fn units(s: &str, scale: i32) -> Result<u128, String> {
    let q = quantity::parse(s).map_err(str::to_string)?;
    if q.is_zero() {
        return Ok(0);
    }
    if q.neg {
        return Err("must not be negative".into());
    }
    let q = q.round_up(scale);
    u32::try_from(q.scale - scale)
        .ok()
        .and_then(|e| 10u128.checked_pow(e))
        .and_then(|p| q.mant.checked_mul(p))
        .ok_or_else(|| "value too large".to_string())
}

/// The names of the containers the kubelet reports: the regular ones and
/// the restartable init containers (sidecars).
fn container_names(pod: &Value) -> Vec<&str> {
    let names = |key: &str, sidecars: bool| -> Vec<&str> {
        pod.pointer(&format!("/spec/{key}"))
            .and_then(Value::as_array)
            .map(|cs| {
                cs.iter()
                    .filter(|c| !sidecars || c.get("restartPolicy").and_then(Value::as_str) == Some("Always"))
                    .filter_map(|c| c.get("name").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out = names("containers", false);
    out.extend(names("initContainers", true));
    out
}

/// The usage of each container of a pod from its annotations (0 where
/// none is set), or why an annotation cannot be read.
fn container_usage(pod: &Value) -> Result<Vec<(&str, Usage)>, String> {
    let read = |base: &str, container: &str, scale: i32| -> Result<u128, String> {
        let own = format!("{base}.{container}");
        let (key, value) = match annotation(pod, &own) {
            Some(v) => (own.as_str(), v),
            None => match annotation(pod, base) {
                Some(v) => (base, v),
                None => return Ok(0),
            },
        };
        units(value, scale).map_err(|e| format!("annotation {key}: {}: {e}", quoted(value)))
    };
    container_names(pod).into_iter().map(|c| Ok((c, Usage { cpu: read(CPU, c, -9)?, memory: read(MEMORY, c, 0)? }))).collect()
}

/// The PodMetrics of a pod (without kind and apiVersion, as list items
/// are): `None` when metrics-server would have none (the pod is not
/// Running or not bound to a node), an error when an annotation is not a
/// quantity.
fn pod_metrics(pod: &Value, now: &str) -> Result<Option<Value>, String> {
    if phase(pod) != "Running" || node_name(pod).is_empty() {
        return Ok(None);
    }
    let containers: Vec<Value> = container_usage(pod)?.into_iter().map(|(name, u)| json!({"name": name, "usage": u.to_json()})).collect();
    let mut metadata = json!({"name": meta::name(pod), "namespace": meta::namespace(pod), "creationTimestamp": now});
    copy_labels(pod, &mut metadata);
    Ok(Some(json!({"metadata": metadata, "timestamp": now, "window": WINDOW, "containers": containers})))
}

fn copy_labels(from: &Value, metadata: &mut Value) {
    if let Some(l) = from.pointer("/metadata/labels").and_then(Value::as_object).filter(|l| !l.is_empty()) {
        metadata["labels"] = Value::Object(l.clone());
    }
}

/// The summed usage of the pods that count for their node's metrics
/// (Running, bound), by node name; pods with malformed annotations are
/// left out with a warning.
fn node_usage<'a>(pods: impl Iterator<Item = &'a Value>, w: &mut Warnings) -> HashMap<String, Usage> {
    let mut out: HashMap<String, Usage> = HashMap::new();
    for p in pods {
        if phase(p) != "Running" || node_name(p).is_empty() {
            continue;
        }
        match container_usage(p) {
            Ok(cs) => {
                let sum = out.entry(node_name(p).to_string()).or_default();
                for (_, u) in cs {
                    sum.add(u);
                }
            }
            Err(e) => {
                skip::<()>(w, p, e);
            }
        }
    }
    out
}

fn node_metrics(node: &Value, usage: Option<&Usage>, now: &str) -> Value {
    let mut metadata = json!({"name": meta::name(node), "creationTimestamp": now});
    copy_labels(node, &mut metadata);
    json!({"metadata": metadata, "timestamp": now, "window": WINDOW, "usage": usage.copied().unwrap_or_default().to_json()})
}

/// metrics-server's Table: Name, one column per resource, Window.
fn metrics_table(items: &[Value], q: &crate::request::Query) -> Value {
    let mut columns = Vec::new();
    if !items.is_empty() {
        columns = vec![
            json!({"name": "Name", "type": "string", "format": "name", "description": "Name of the resource", "priority": 0}),
            json!({"name": "cpu", "type": "string", "format": "quantity", "description": "", "priority": 0}),
            json!({"name": "memory", "type": "string", "format": "quantity", "description": "", "priority": 0}),
            json!({"name": "Window", "type": "string", "format": "duration", "description": "", "priority": 0}),
        ];
    }
    let rows: Vec<Value> = items
        .iter()
        .map(|m| {
            let usage = match m.get("containers").and_then(Value::as_array) {
                Some(cs) => sum_usage(cs.iter().filter_map(|c| c.get("usage"))),
                None => m.get("usage").cloned().unwrap_or(json!({})),
            };
            let object = match q.get("includeObject").unwrap_or("Metadata") {
                "None" => Value::Null,
                "Object" => with_type(m.clone(), if m.get("containers").is_some() { "PodMetrics" } else { "NodeMetrics" }),
                _ => json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": m["metadata"]}),
            };
            json!({"cells": [m["metadata"]["name"], usage["cpu"], usage["memory"], WINDOW], "object": object})
        })
        .collect();
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {}, "columnDefinitions": columns, "rows": rows})
}

/// The sum of containers' usage lists (as rendered by [`Usage::to_json`]).
fn sum_usage<'a>(lists: impl Iterator<Item = &'a Value>) -> Value {
    let mut sum = Usage::default();
    for l in lists {
        let get = |k: &str, scale| l.get(k).and_then(Value::as_str).and_then(|s| units(s, scale).ok()).unwrap_or(0);
        sum.add(Usage { cpu: get("cpu", -9), memory: get("memory", 0) });
    }
    sum.to_json()
}

// ---------------------------------------------------------------------------
// custom.metrics.k8s.io

/// The metric of one described object: its annotation's value.
enum Found {
    Value(String),
    Absent,
}

fn custom_value(obj: &Value, metric: &str, resource: &ResourceType, w: &mut Warnings) -> Found {
    let key = format!("{METRIC_PREFIX}{metric}");
    let Some(raw) = annotation(obj, &key) else {
        return Found::Absent;
    };
    match quantity::parse(raw) {
        Ok(q) => Found::Value(q.to_string()),
        Err(e) => {
            let ns = meta::namespace(obj);
            let name = if ns.is_empty() { meta::name(obj).to_string() } else { format!("{ns}/{}", meta::name(obj)) };
            w.add(format!("{} {name} has no metric {metric}: annotation {key}: {}: {e}", resource.kind, quoted(raw)));
            Found::Absent
        }
    }
}

/// A resource as the custom metrics API names it: `pods`,
/// `deployments.apps` (`deployments` alone also finds the apps one, as a
/// RESTMapper does for an empty group).
fn find_resource(name: &str) -> Option<&'static ResourceType> {
    let (plural, group) = name.split_once('.').unwrap_or((name, ""));
    RESOURCES.iter().find(|r| r.plural == plural && r.group == group).or_else(|| {
        if !group.is_empty() {
            return None;
        }
        let mut all = RESOURCES.iter().filter(|r| r.plural == plural);
        let first = all.next()?;
        all.all(|r| r.group == first.group).then_some(first)
    })
}

/// `GroupResource.String()`.
fn group_resource(r: &ResourceType) -> String {
    if r.group.is_empty() { r.plural.to_string() } else { format!("{}.{}", r.plural, r.group) }
}

/// custom-metrics-apiserver's not-found errors (a Status without details).
fn metric_not_found(message: String) -> ApiError {
    ApiError::new(404, "NotFound", message)
}

fn custom_metric(
    store: &Store,
    q: &crate::request::Query,
    ns: Option<&str>,
    resource: &str,
    name: &str,
    metric: &str,
    w: &mut Warnings,
) -> ApiResult<Value> {
    let labels = match q.some("labelSelector") {
        Some(s) => Selector::parse(s).map_err(|e| ApiError::bad_request(e.to_string()))?,
        None => Selector::everything(),
    };
    let metric_selector = q.get("metricLabelSelector").unwrap_or_default();
    let metric_labels = Selector::parse(metric_selector).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let selector_json = label_selector_json(&metric_labels)?;
    let Some(r) = find_resource(resource).filter(|r| r.namespaced == ns.is_some()) else {
        return Err(metric_not_found(format!("the server could not find the metric {metric} for {resource}")));
    };
    let gr = group_resource(r);
    // The sandbox's metrics have no labels of their own.
    let labels_match = metric_labels.matches(&BTreeMap::new());
    let now = meta::now();
    let item = |obj: &Value, value: String| {
        let mut described = json!({"kind": r.kind, "name": meta::name(obj), "apiVersion": format!("{}/{}", r.group, r.version)});
        if r.namespaced {
            described["namespace"] = json!(meta::namespace(obj));
        }
        json!({
            "describedObject": described,
            "metric": {"name": metric, "selector": selector_json},
            "timestamp": now,
            "value": value,
        })
    };
    let items = if name == "*" {
        let (_, objects) = store.list(r, ns);
        let mut items = Vec::new();
        for o in objects.iter().filter(|o| labels.matches(&meta::labels(o))) {
            if let Found::Value(v) = custom_value(o, metric, r, w)
                && labels_match
            {
                items.push(item(o, v));
            }
        }
        items
    } else {
        let found = store.get(r, ns.unwrap_or_default(), name).map(|o| (custom_value(&o, metric, r, w), o));
        match found {
            Some((Found::Value(v), o)) if labels_match => vec![item(&o, v)],
            Some((Found::Value(_), _)) => {
                return Err(metric_not_found(format!(
                    "the server could not find the metric {metric} for {gr} {name} with selector {metric_labels}"
                )));
            }
            _ => return Err(metric_not_found(format!("the server could not find the metric {metric} for {gr} {name}"))),
        }
    };
    Ok(json!({"kind": "MetricValueList", "apiVersion": format!("{CUSTOM_GROUP}/v1beta2"), "metadata": {}, "items": items}))
}

/// `metav1.ParseToLabelSelector` of the metric label selector, as the
/// `metric.selector` of a MetricValue: `null` when empty.
fn label_selector_json(s: &Selector) -> ApiResult<Value> {
    if s.is_empty() {
        return Ok(Value::Null);
    }
    let mut match_labels = Map::new();
    let mut exprs = Vec::new();
    for r in s.requirements() {
        let op = match r.operator {
            Operator::Equals | Operator::DoubleEquals => {
                match_labels.insert(r.key.clone(), json!(r.values.first().cloned().unwrap_or_default()));
                continue;
            }
            Operator::In => "In",
            // `!=` is `notin` with one value.
            Operator::NotIn | Operator::NotEquals => "NotIn",
            Operator::Exists => "Exists",
            Operator::DoesNotExist => "DoesNotExist",
            Operator::GreaterThan | Operator::LessThan => {
                return Err(ApiError::bad_request(format!("\"{}\" isn't supported in label selectors", r.operator)));
            }
        };
        let values: BTreeSet<&String> = r.values.iter().collect();
        let mut e = json!({"key": r.key, "operator": op});
        if !values.is_empty() {
            e["values"] = json!(values);
        }
        exprs.push(e);
    }
    let mut out = json!({});
    if !match_labels.is_empty() {
        out["matchLabels"] = Value::Object(match_labels);
    }
    if !exprs.is_empty() {
        out["matchExpressions"] = json!(exprs);
    }
    Ok(out)
}

/// Every custom metric some object has, as custom-metrics-apiserver lists
/// them: `<resource>/<metric>`, verb get.
fn custom_discovery(store: &Store) -> Value {
    let mut found: BTreeSet<(String, bool)> = BTreeSet::new();
    let mut seen: BTreeSet<(&str, &str)> = BTreeSet::new();
    for r in RESOURCES {
        if !seen.insert((r.group, r.plural)) {
            continue;
        }
        let (_, objects) = store.list(r, None);
        for o in &objects {
            let Some(annotations) = o.pointer("/metadata/annotations").and_then(Value::as_object) else {
                continue;
            };
            for k in annotations.keys() {
                if let Some(metric) = k.strip_prefix(METRIC_PREFIX).filter(|m| !m.is_empty()) {
                    found.insert((format!("{}/{metric}", group_resource(r)), r.namespaced));
                }
            }
        }
    }
    let entries: Vec<Value> = found
        .into_iter()
        .map(|(name, namespaced)| {
            json!({"name": name, "singularName": "", "namespaced": namespaced, "kind": "MetricValueList", "verbs": ["get"]})
        })
        .collect();
    json!(entries)
}

// ---------------------------------------------------------------------------
// external.metrics.k8s.io

fn configmaps_type() -> &'static ResourceType {
    registry::find("", "v1", "configmaps").expect("configmaps are served")
}

fn external_metric(store: &Store, q: &crate::request::Query, ns: &str, metric: &str, w: &mut Warnings) -> ApiResult<Value> {
    let labels = match q.some("labelSelector") {
        Some(s) => Selector::parse(s).map_err(|e| ApiError::bad_request(e.to_string()))?,
        None => Selector::everything(),
    };
    let mut items = Vec::new();
    if let Some(cm) = store.get(configmaps_type(), ns, EXTERNAL_CONFIGMAP)
        && labels.matches(&meta::labels(&cm))
        && let Some(raw) = cm.pointer("/data").and_then(|d| d.get(metric)).and_then(Value::as_str)
    {
        match quantity::parse(raw) {
            Ok(v) => {
                let metric_labels = cm.pointer("/metadata/labels").cloned().filter(Value::is_object).unwrap_or(json!({}));
                items.push(json!({"metricName": metric, "metricLabels": metric_labels, "timestamp": meta::now(), "value": v.to_string()}));
            }
            Err(e) => w.add(format!("no external metric {metric} in namespace {ns}: ConfigMap {EXTERNAL_CONFIGMAP}: {}: {e}", quoted(raw))),
        }
    }
    Ok(json!({"kind": "ExternalMetricValueList", "apiVersion": format!("{EXTERNAL_GROUP}/v1beta1"), "metadata": {}, "items": items}))
}

/// Every external metric some namespace's ConfigMap has.
fn external_discovery(store: &Store) -> Value {
    let (_, cms) = store.list(configmaps_type(), None);
    let names: BTreeSet<&str> = cms
        .iter()
        .filter(|c| meta::name(c) == EXTERNAL_CONFIGMAP)
        .filter_map(|c| c.get("data").and_then(Value::as_object))
        .flat_map(|d| d.keys().map(String::as_str))
        .collect();
    let entries: Vec<Value> = names
        .into_iter()
        .map(|n| json!({"name": n, "singularName": "", "namespaced": true, "kind": "ExternalMetricValueList", "verbs": ["get"]}))
        .collect();
    json!(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(annotations: Value, phase: &str) -> Value {
        json!({
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}, "annotations": annotations},
            "spec": {
                "nodeName": "n1",
                "containers": [{"name": "app"}, {"name": "log"}],
                "initContainers": [{"name": "init"}, {"name": "proxy", "restartPolicy": "Always"}],
            },
            "status": {"phase": phase},
        })
    }

    #[test]
    fn quantities_are_canonical_nanocores_and_bytes() {
        let u = |cpu: &str, mem: &str| Usage { cpu: units(cpu, -9).unwrap(), memory: units(mem, 0).unwrap() }.to_json();
        assert_eq!(u("250m", "128Mi"), json!({"cpu": "250m", "memory": "128Mi"}));
        assert_eq!(u("1.5", "1G"), json!({"cpu": "1500m", "memory": "1000000000"}));
        assert_eq!(u("0.000001", "1Ki"), json!({"cpu": "1u", "memory": "1Ki"}));
        assert_eq!(u("2", "0.5"), json!({"cpu": "2", "memory": "1"}));
        assert_eq!(u("0", "0.000"), json!({"cpu": "0", "memory": "0"}));
        assert!(units("-1", 0).is_err());
        assert!(units("abc", 0).unwrap_err().starts_with("quantities must match"));
        assert!(units("1Q", 0).is_err());
    }

    #[test]
    fn containers_default_and_override() {
        let p = pod(json!({"sim.rudder.dev/cpu": "100m", "sim.rudder.dev/cpu.log": "20m", "sim.rudder.dev/memory.app": "64Mi"}), "Running");
        let m = pod_metrics(&p, "2026-01-01T00:00:00Z").unwrap().unwrap();
        assert_eq!(
            m["containers"],
            json!([
                {"name": "app", "usage": {"cpu": "100m", "memory": "64Mi"}},
                {"name": "log", "usage": {"cpu": "20m", "memory": "0"}},
                {"name": "proxy", "usage": {"cpu": "100m", "memory": "0"}},
            ])
        );
        assert_eq!(
            m["metadata"],
            json!({"name": "web", "namespace": "default", "labels": {"app": "web"}, "creationTimestamp": "2026-01-01T00:00:00Z"})
        );
        assert_eq!(m["window"], "15s");
        assert!(pod_metrics(&pod(json!({}), "Pending"), "t").unwrap().is_none());
        let e = pod_metrics(&pod(json!({"sim.rudder.dev/memory.log": "lots"}), "Running"), "t").unwrap_err();
        assert!(e.starts_with("annotation sim.rudder.dev/memory.log: \"lots\": quantities must match"), "{e}");
    }

    #[test]
    fn node_usage_sums_running_bound_pods() {
        let a = pod(json!({"sim.rudder.dev/cpu": "100m", "sim.rudder.dev/memory": "1Mi"}), "Running");
        let b = pod(json!({"sim.rudder.dev/cpu": "1"}), "Pending");
        let c = pod(json!({"sim.rudder.dev/cpu": "x"}), "Running");
        let mut w = Warnings::default();
        let u = node_usage([&a, &b, &c].into_iter(), &mut w);
        assert_eq!(u["n1"].to_json(), json!({"cpu": "300m", "memory": "3Mi"}));
        assert_eq!(w.0.len(), 1);
    }

    #[test]
    fn routes() {
        assert!(matches!(resource_route(&["namespaces", "d", "pods", "x"]), Some(Op::PodGet { ns: "d", name: "x" })));
        assert!(resource_route(&["pods", "x"]).is_none());
        assert!(resource_route(&["namespaces", "d", "nodes"]).is_none());
        assert!(resource_route(&["nodes", "x", "status"]).is_none());
        assert!(matches!(
            custom_route(&["namespaces", "d", "metrics", "m"]),
            Some(Op::Custom { ns: None, resource: "namespaces", name: "d", metric: "m" })
        ));
        assert!(matches!(custom_route(&["namespaces", "d", "pods", "*", "m"]), Some(Op::Custom { ns: Some("d"), .. })));
        assert!(matches!(custom_route(&["nodes", "n", "m"]), Some(Op::Custom { ns: None, resource: "nodes", .. })));
        assert!(custom_route(&["namespaces", "d", "pods", "x"]).is_none());
    }

    #[test]
    fn resources_by_custom_metrics_names() {
        assert_eq!(find_resource("pods").map(|r| r.kind), Some("Pod"));
        assert_eq!(find_resource("deployments.apps").map(|r| r.kind), Some("Deployment"));
        assert_eq!(find_resource("deployments").map(|r| r.kind), Some("Deployment"));
        assert_eq!(find_resource("events").map(|r| r.group), Some(""));
        assert!(find_resource("deployments.batch").is_none());
        assert!(find_resource("widgets").is_none());
    }

    #[test]
    fn metric_selectors_as_label_selectors() {
        let s = |x: &str| label_selector_json(&Selector::parse(x).unwrap());
        assert_eq!(s("").unwrap(), Value::Null);
        assert_eq!(
            s("a=1,b in (y,x),!c,d,e!=2").unwrap(),
            json!({"matchLabels": {"a": "1"}, "matchExpressions": [
                {"key": "b", "operator": "In", "values": ["x", "y"]},
                {"key": "c", "operator": "DoesNotExist"},
                {"key": "d", "operator": "Exists"},
                {"key": "e", "operator": "NotIn", "values": ["2"]},
            ]})
        );
        assert_eq!(s("a>1").unwrap_err().code, 400);
    }
}
