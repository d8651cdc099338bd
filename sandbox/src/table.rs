//! `meta.k8s.io/v1` Table responses, as kubectl get asks for them.

use serde_json::{Value, json};

use crate::meta;
use crate::registry::ResourceType;
use crate::request::Query;
use crate::store::Obj;

/// How a row's cells are made from an object.
type Cells = fn(&Value) -> Vec<Value>;

/// A Table of `items`. Resources without printer columns of their own get
/// upstream's default columns (Name, Created At).
pub fn table(r: &ResourceType, items: &[Obj], list_meta: Option<Value>, q: &Query) -> Value {
    let (columns, cells) = printer(r);
    let include = q.get("includeObject").unwrap_or("Metadata");
    let rows: Vec<Value> = items
        .iter()
        .map(|o| {
            let object = match include {
                "None" => Value::Null,
                "Object" => (**o).clone(),
                _ => json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o.get("metadata").cloned().unwrap_or(json!({}))}),
            };
            json!({"cells": cells(o), "object": object})
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta.unwrap_or(json!({})),
        "columnDefinitions": columns,
        "rows": rows,
    })
}

/// The columns kubectl shows for a resource, as upstream's printers define them.
fn printer(r: &ResourceType) -> (Vec<Value>, Cells) {
    let c = |n: &str| col(n, "string", "", 0);
    let wide = |n: &str| col(n, "string", "", 1);
    let name = col("Name", "string", "name", 0);
    match (r.group, r.kind) {
        ("", "Pod") => (vec![name, c("Ready"), c("Status"), c("Restarts"), c("Age"), wide("IP"), wide("Node")], pod_cells),
        ("", "Service") => {
            (vec![name, c("Type"), c("Cluster-IP"), c("External-IP"), c("Port(s)"), c("Age"), wide("Selector")], service_cells)
        }
        ("apps", "Deployment") => (
            vec![
                name,
                c("Ready"),
                col("Up-to-date", "integer", "", 0),
                col("Available", "integer", "", 0),
                c("Age"),
                wide("Containers"),
                wide("Images"),
                wide("Selector"),
            ],
            deployment_cells,
        ),
        ("apps", "ReplicaSet") => (
            vec![
                name,
                col("Desired", "integer", "", 0),
                col("Current", "integer", "", 0),
                col("Ready", "integer", "", 0),
                c("Age"),
                wide("Containers"),
                wide("Images"),
                wide("Selector"),
            ],
            replicaset_cells,
        ),
        ("apps", "DaemonSet") => (
            vec![
                name,
                col("Desired", "integer", "", 0),
                col("Current", "integer", "", 0),
                col("Ready", "integer", "", 0),
                col("Up-to-date", "integer", "", 0),
                col("Available", "integer", "", 0),
                c("Node Selector"),
                c("Age"),
            ],
            daemonset_cells,
        ),
        ("batch", "Job") => (vec![name, c("Status"), c("Completions"), c("Duration"), c("Age")], job_cells),
        ("autoscaling", "HorizontalPodAutoscaler") => (
            vec![
                name,
                c("Reference"),
                c("Targets"),
                c("MinPods"),
                col("MaxPods", "string", "", 0),
                col("Replicas", "string", "", 0),
                c("Age"),
            ],
            hpa_cells,
        ),
        ("", "Namespace") => (vec![name, c("Status"), c("Age")], namespace_cells),
        ("", "Node") => (vec![name, c("Status"), c("Roles"), c("Age"), c("Version")], node_cells),
        // Both Event APIs print the internal Event alike (upstream printEvent).
        ("" | "events.k8s.io", "Event") => (
            vec![
                c("Last Seen"),
                c("Type"),
                c("Reason"),
                c("Object"),
                wide("Subobject"),
                wide("Source"),
                c("Message"),
                wide("First Seen"),
                wide("Count"),
                col("Name", "string", "name", 1),
            ],
            event_cells,
        ),
        _ => (vec![name, col("Created At", "date", "", 0)], default_cells),
    }
}

fn int(o: &Value, p: &str) -> i64 {
    o.pointer(p).and_then(Value::as_i64).unwrap_or(0)
}

fn template_cells(o: &Value, p: &str) -> [Value; 3] {
    let containers = o.pointer(p).and_then(Value::as_array).cloned().unwrap_or_default();
    let names: Vec<&str> = containers.iter().filter_map(|c| c.get("name").and_then(Value::as_str)).collect();
    let images: Vec<&str> = containers.iter().filter_map(|c| c.get("image").and_then(Value::as_str)).collect();
    let sel: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector> =
        o.pointer("/spec/selector").and_then(|s| serde_json::from_value(s.clone()).ok());
    let sel = rudder_common::selector::Selector::from_label_selector(sel.as_ref()).map(|s| s.to_string()).unwrap_or_default();
    [json!(names.join(",")), json!(images.join(",")), json!(sel)]
}

fn deployment_cells(o: &Value) -> Vec<Value> {
    let [cs, is, sel] = template_cells(o, "/spec/template/spec/containers");
    vec![
        json!(meta::name(o)),
        json!(format!("{}/{}", int(o, "/status/readyReplicas"), int(o, "/spec/replicas"))),
        json!(int(o, "/status/updatedReplicas")),
        json!(int(o, "/status/availableReplicas")),
        json!(age(o)),
        cs,
        is,
        sel,
    ]
}

fn replicaset_cells(o: &Value) -> Vec<Value> {
    let [cs, is, sel] = template_cells(o, "/spec/template/spec/containers");
    vec![
        json!(meta::name(o)),
        json!(int(o, "/spec/replicas")),
        json!(int(o, "/status/replicas")),
        json!(int(o, "/status/readyReplicas")),
        json!(age(o)),
        cs,
        is,
        sel,
    ]
}

fn daemonset_cells(o: &Value) -> Vec<Value> {
    let ns = o.pointer("/spec/template/spec/nodeSelector").and_then(Value::as_object).map(|m| {
        let mut v: Vec<String> = m.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect();
        v.sort();
        v.join(",")
    });
    vec![
        json!(meta::name(o)),
        json!(int(o, "/status/desiredNumberScheduled")),
        json!(int(o, "/status/currentNumberScheduled")),
        json!(int(o, "/status/numberReady")),
        json!(int(o, "/status/updatedNumberScheduled")),
        json!(int(o, "/status/numberAvailable")),
        json!(ns.filter(|s| !s.is_empty()).unwrap_or_else(|| "<none>".into())),
        json!(age(o)),
    ]
}

fn job_cells(o: &Value) -> Vec<Value> {
    let conds = o.pointer("/status/conditions").and_then(Value::as_array).cloned().unwrap_or_default();
    let is = |t: &str| conds.iter().any(|c| c["type"] == t && c["status"] == "True");
    let status = if is("Complete") {
        "Complete"
    } else if is("Failed") {
        "Failed"
    } else if is("Suspended") {
        "Suspended"
    } else if is("FailureTarget") || is("SuccessCriteriaMet") {
        "Terminating"
    } else {
        "Running"
    };
    let completions = match o.pointer("/spec/completions").and_then(Value::as_i64) {
        Some(n) => format!("{}/{n}", int(o, "/status/succeeded")),
        None => format!("{}/1 of {}", int(o, "/status/succeeded"), int(o, "/spec/parallelism").max(1)),
    };
    // Upstream: nothing before the start, the time since it while running,
    // and start to completion once complete.
    let time = |p: &str| o.pointer(p).and_then(Value::as_str).and_then(|t| t.parse::<jiff::Timestamp>().ok());
    let duration = match (time("/status/startTime"), time("/status/completionTime")) {
        (None, _) => String::new(),
        (Some(start), None) => human_duration(jiff::Timestamp::now().as_second() - start.as_second()),
        (Some(start), Some(done)) => human_duration(done.as_second() - start.as_second()),
    };
    vec![json!(meta::name(o)), json!(status), json!(completions), json!(duration), json!(age(o))]
}

/// Upstream `printHorizontalPodAutoscaler`.
fn hpa_cells(o: &Value) -> Vec<Value> {
    // Upstream prints the internal (v2-shaped) object: v1 prints alike.
    let v2;
    let o = if o.get("apiVersion").and_then(Value::as_str) == Some("autoscaling/v1") {
        v2 = crate::convert::hpa::from_v1(o);
        &v2
    } else {
        o
    };
    let target = |k: &str| o.pointer(&format!("/spec/scaleTargetRef/{k}")).and_then(Value::as_str).unwrap_or_default().to_string();
    let min = o.pointer("/spec/minReplicas").and_then(Value::as_i64).map_or_else(|| "<unset>".to_string(), |m| m.to_string());
    vec![
        json!(meta::name(o)),
        json!(format!("{}/{}", target("kind"), target("name"))),
        json!(hpa_targets(o)),
        json!(min),
        json!(int(o, "/spec/maxReplicas")),
        json!(int(o, "/status/currentReplicas")),
        json!(age(o)),
    ]
}

/// Upstream `formatHPAMetrics`: each metric of the spec with the status
/// entry at the same position (`<unknown>` without one), the first two and
/// how many more.
fn hpa_targets(o: &Value) -> String {
    let specs = o.pointer("/spec/metrics").and_then(Value::as_array).cloned().unwrap_or_default();
    if specs.is_empty() {
        return "<none>".into();
    }
    let statuses = o.pointer("/status/currentMetrics").and_then(Value::as_array).cloned().unwrap_or_default();
    let s = |v: Option<&Value>| v.and_then(Value::as_str).map(String::from);
    let list: Vec<String> = specs
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let status = statuses.get(i).unwrap_or(&Value::Null);
            let unknown = || "<unknown>".to_string();
            let ty = spec.get("type").and_then(Value::as_str).unwrap_or_default();
            let source = |k: &str| spec.get(k).unwrap_or(&Value::Null);
            let current = |k: &str| status.get(k).filter(|v| !v.is_null());
            match ty {
                "External" | "Object" => {
                    let key = if ty == "External" { "external" } else { "object" };
                    let t = source(key).get("target").unwrap_or(&Value::Null);
                    match s(t.get("averageValue")) {
                        Some(avg) => {
                            let cur = current(key).and_then(|c| s(c.pointer("/current/averageValue"))).unwrap_or_else(unknown);
                            format!("{cur}/{avg} (avg)")
                        }
                        None => {
                            let cur = current(key).map_or_else(unknown, |c| s(c.pointer("/current/value")).unwrap_or_default());
                            format!("{cur}/{}", s(t.get("value")).unwrap_or_default())
                        }
                    }
                }
                "Pods" => {
                    let cur = current("pods").map_or_else(unknown, |c| s(c.pointer("/current/averageValue")).unwrap_or_default());
                    format!("{cur}/{}", s(source("pods").pointer("/target/averageValue")).unwrap_or_default())
                }
                "Resource" | "ContainerResource" => {
                    let key = if ty == "Resource" { "resource" } else { "containerResource" };
                    let src = source(key);
                    let name = s(src.get("name")).unwrap_or_default();
                    let t = src.get("target").unwrap_or(&Value::Null);
                    match s(t.get("averageValue")) {
                        Some(avg) => {
                            let cur = current(key).map_or_else(unknown, |c| s(c.pointer("/current/averageValue")).unwrap_or_default());
                            format!("{name}: {cur}/{avg}")
                        }
                        None => {
                            let cur = current(key)
                                .and_then(|c| c.pointer("/current/averageUtilization").and_then(Value::as_i64))
                                .map_or_else(unknown, |u| format!("{u}%"));
                            let target = t
                                .get("averageUtilization")
                                .and_then(Value::as_i64)
                                .map_or_else(|| "<auto>".to_string(), |u| format!("{u}%"));
                            format!("{name}: {cur}/{target}")
                        }
                    }
                }
                _ => "<unknown type>".into(),
            }
        })
        .collect();
    if list.len() > 2 { format!("{} + {} more...", list[..2].join(", "), list.len() - 2) } else { list.join(", ") }
}

fn namespace_cells(o: &Value) -> Vec<Value> {
    vec![json!(meta::name(o)), json!(o.pointer("/status/phase").and_then(Value::as_str).unwrap_or("")), json!(age(o))]
}

fn node_cells(o: &Value) -> Vec<Value> {
    let conds = o.pointer("/status/conditions").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut status = match conds.iter().find(|c| c["type"] == "Ready").and_then(|c| c["status"].as_str()) {
        Some("True") => "Ready".to_string(),
        _ => "NotReady".to_string(),
    };
    if o.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        status.push_str(",SchedulingDisabled");
    }
    let mut roles: Vec<String> =
        meta::labels(o).keys().filter_map(|k| k.strip_prefix("node-role.kubernetes.io/").map(String::from)).collect();
    roles.sort();
    let roles = if roles.is_empty() { "<none>".to_string() } else { roles.join(",") };
    vec![
        json!(meta::name(o)),
        json!(status),
        json!(roles),
        json!(age(o)),
        json!(o.pointer("/status/nodeInfo/kubeletVersion").and_then(Value::as_str).unwrap_or("")),
    ]
}

/// Upstream `printEvent` (server-side, so with the wide columns), on the
/// core form of an Event of either API.
fn event_cells(o: &Value) -> Vec<Value> {
    let o = crate::convert::to_core_event(o);
    let s = |p: &str| o.pointer(p).and_then(Value::as_str).unwrap_or_default().to_string();
    let since = |p: &str| o.pointer(p).and_then(Value::as_str).map(since);
    let first = since("/firstTimestamp").or_else(|| since("/eventTime")).unwrap_or_else(|| "<unknown>".into());
    let mut last = since("/lastTimestamp").unwrap_or_else(|| first.clone());
    let mut count = o.pointer("/count").and_then(Value::as_i64).unwrap_or(0);
    if o.get("series").is_some_and(Value::is_object) {
        last = since("/series/lastObservedTime").unwrap_or_else(|| "<unknown>".into());
        count = o.pointer("/series/count").and_then(Value::as_i64).unwrap_or(0);
    } else if count == 0 {
        // Singleton events of the new API have no count.
        count = 1;
    }
    let kind = s("/involvedObject/kind").to_lowercase();
    let target = match s("/involvedObject/name") {
        n if n.is_empty() => kind,
        n => format!("{kind}/{n}"),
    };
    let first_non_empty = |a: String, b: String| if a.is_empty() { b } else { a };
    let component = first_non_empty(s("/source/component"), s("/reportingComponent"));
    let instance = first_non_empty(s("/source/host"), s("/reportingInstance"));
    let source = if instance.is_empty() { component } else { format!("{component}, {instance}") };
    vec![
        json!(last),
        json!(s("/type")),
        json!(s("/reason")),
        json!(target),
        json!(s("/involvedObject/fieldPath")),
        json!(source),
        json!(s("/message").trim()),
        json!(first),
        json!(count),
        json!(meta::name(&o)),
    ]
}

/// The time since an RFC 3339 timestamp, as upstream's `HumanDuration`
/// prints it; `<unknown>` when it does not parse.
fn since(ts: &str) -> String {
    match ts.parse::<jiff::Timestamp>() {
        Ok(t) => human_duration(jiff::Timestamp::now().as_second() - t.as_second()),
        Err(_) => "<unknown>".into(),
    }
}

/// Upstream `duration.HumanDuration` of a number of seconds.
fn human_duration(secs: i64) -> String {
    if secs < -1 {
        return "<invalid>".into();
    }
    if secs < 0 {
        return "0s".into();
    }
    if secs < 120 {
        return format!("{secs}s");
    }
    let minutes = secs / 60;
    if minutes < 10 {
        let s = secs % 60;
        return if s == 0 { format!("{minutes}m") } else { format!("{minutes}m{s}s") };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = secs / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 { format!("{hours}h") } else { format!("{hours}h{m}m") };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 { format!("{}d", hours / 24) } else { format!("{}d{h}h", hours / 24) };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 { format!("{}y", hours / 24 / 365) } else { format!("{}y{dy}d", hours / 24 / 365) };
    }
    format!("{}y", hours / 24 / 365)
}

fn col(name: &str, ty: &str, format: &str, priority: i64) -> Value {
    json!({"name": name, "type": ty, "format": format, "description": "", "priority": priority})
}

fn default_cells(o: &Value) -> Vec<Value> {
    vec![json!(meta::name(o)), o.pointer("/metadata/creationTimestamp").cloned().unwrap_or(Value::Null)]
}

fn pod_cells(o: &Value) -> Vec<Value> {
    let statuses = o.pointer("/status/containerStatuses").and_then(Value::as_array).cloned().unwrap_or_default();
    let total = o.pointer("/spec/containers").and_then(Value::as_array).map_or(0, Vec::len);
    let ready = statuses.iter().filter(|s| s.get("ready").and_then(Value::as_bool) == Some(true)).count();
    let restarts: i64 = statuses.iter().filter_map(|s| s.get("restartCount").and_then(Value::as_i64)).sum();
    let mut status = o
        .pointer("/status/reason")
        .and_then(Value::as_str)
        .or_else(|| o.pointer("/status/phase").and_then(Value::as_str))
        .unwrap_or("Pending")
        .to_string();
    if meta::is_deleting(o) {
        status = "Terminating".into();
    }
    vec![
        json!(meta::name(o)),
        json!(format!("{ready}/{total}")),
        json!(status),
        json!(restarts.to_string()),
        json!(age(o)),
        json!(o.pointer("/status/podIP").and_then(Value::as_str).unwrap_or("<none>")),
        json!(o.pointer("/spec/nodeName").and_then(Value::as_str).unwrap_or("<none>")),
    ]
}

/// Upstream's `printService`: the first ClusterIP, the external address by
/// type, `port[:nodePort]/protocol` per port.
fn service_cells(o: &Value) -> Vec<Value> {
    let strs = |ptr: &str| -> Vec<String> {
        o.pointer(ptr).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(String::from).collect()).unwrap_or_default()
    };
    let ty = o.pointer("/spec/type").and_then(Value::as_str).unwrap_or("");
    let cluster_ip = strs("/spec/clusterIPs").first().cloned().unwrap_or_else(|| "<none>".into());
    let external = strs("/spec/externalIPs");
    let external = match ty {
        "ClusterIP" | "NodePort" if !external.is_empty() => external.join(","),
        "ClusterIP" | "NodePort" => "<none>".into(),
        "LoadBalancer" => {
            let ingress = o.pointer("/status/loadBalancer/ingress").and_then(Value::as_array).cloned().unwrap_or_default();
            let mut lb: Vec<String> = ingress
                .iter()
                .filter_map(|i| {
                    let ip = i.get("ip").and_then(Value::as_str).filter(|s| !s.is_empty());
                    ip.or_else(|| i.get("hostname").and_then(Value::as_str).filter(|s| !s.is_empty())).map(String::from)
                })
                .collect();
            // Server-side tables are generated wide: no truncation.
            let lb_str = lb.join(",");
            if !external.is_empty() {
                lb.extend(external);
                lb.join(",")
            } else if !lb_str.is_empty() {
                lb_str
            } else {
                "<pending>".into()
            }
        }
        "ExternalName" => o.pointer("/spec/externalName").and_then(Value::as_str).unwrap_or("").to_string(),
        _ => "<unknown>".into(),
    };
    let ports: Vec<String> = o
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| {
            let port = p.get("port").and_then(Value::as_i64).unwrap_or(0);
            let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("");
            match p.get("nodePort").and_then(Value::as_i64).filter(|n| *n > 0) {
                Some(n) => format!("{port}:{n}/{proto}"),
                None => format!("{port}/{proto}"),
            }
        })
        .collect();
    let ports = if ports.is_empty() { "<none>".to_string() } else { ports.join(",") };
    let selector: Vec<String> = o
        .pointer("/spec/selector")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    let selector = if selector.is_empty() { "<none>".to_string() } else { selector.join(",") };
    vec![json!(meta::name(o)), json!(ty), json!(cluster_ip), json!(external), json!(ports), json!(age(o)), json!(selector)]
}

/// Age as kubectl prints it (`5s`, `3m`, `2h`, `4d`).
/// The AGE column (upstream `translateTimestampSince`: `HumanDuration`).
fn age(o: &Value) -> String {
    o.pointer("/metadata/creationTimestamp").and_then(Value::as_str).map_or_else(|| "<unknown>".into(), since)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations() {
        let cases = [
            (-5, "<invalid>"),
            (-1, "0s"),
            (59, "59s"),
            (119, "119s"),
            (125, "2m5s"),
            (600, "10m"),
            (3 * 3600, "3h"),
            (7 * 3600 + 60, "7h1m"),
            (30 * 3600, "30h"),
            (49 * 3600, "2d1h"),
            (10 * 86400, "10d"),
            (800 * 86400, "2y70d"),
        ];
        for (secs, want) in cases {
            assert_eq!(human_duration(secs), want, "{secs}s");
        }
    }

    #[test]
    fn events_print_alike_through_both_apis() {
        let core = json!({
            "apiVersion": "v1", "kind": "Event", "metadata": {"name": "web.1"},
            "involvedObject": {"kind": "ReplicaSet", "name": "web", "fieldPath": "spec"},
            "reason": "SuccessfulCreate", "message": " Created pod: web-x ", "type": "Normal",
            "source": {}, "reportingComponent": "replicaset-controller", "reportingInstance": "rc-1",
        });
        let new = crate::convert::convert(
            &core,
            crate::registry::find("", "v1", "events").unwrap(),
            crate::registry::find("events.k8s.io", "v1", "events").unwrap(),
        );
        let cells = event_cells(&core);
        assert_eq!(cells, event_cells(&new));
        assert_eq!(
            cells,
            vec![
                json!("<unknown>"),
                json!("Normal"),
                json!("SuccessfulCreate"),
                json!("replicaset/web"),
                json!("spec"),
                json!("replicaset-controller, rc-1"),
                json!("Created pod: web-x"),
                json!("<unknown>"),
                json!(1),
                json!("web.1"),
            ]
        );
    }

    #[test]
    fn hpa_targets_as_kubectl_prints_them() {
        let hpa = |metrics: Value, current: Value| json!({"metadata": {"name": "web"}, "spec": {"metrics": metrics}, "status": {"currentMetrics": current}});
        let cpu = json!({"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}});
        let mem = json!({"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}}});
        let pods = json!({"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "10"}}});
        let ext = json!({"type": "External", "external": {"metric": {"name": "queue"}, "target": {"type": "AverageValue", "averageValue": "10"}}});
        assert_eq!(hpa_targets(&hpa(json!([]), json!(null))), "<none>");
        assert_eq!(hpa_targets(&hpa(json!([cpu]), json!(null))), "cpu: <unknown>/50%");
        let cpu_status =
            json!({"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 95, "averageValue": "475m"}}});
        assert_eq!(hpa_targets(&hpa(json!([cpu]), json!([cpu_status]))), "cpu: 95%/50%");
        let pods_status = json!({"type": "Pods", "pods": {"metric": {"name": "qps"}, "current": {"averageValue": "20"}}});
        assert_eq!(hpa_targets(&hpa(json!([pods, ext]), json!([pods_status]))), "20/10, <unknown>/10 (avg)");
        assert_eq!(hpa_targets(&hpa(json!([cpu, mem, pods]), json!([cpu_status]))), "cpu: 95%/50%, memory: <unknown>/100Mi + 1 more...");
        let cells = hpa_cells(&json!({"metadata": {"name": "web", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 10, "metrics": [cpu]},
            "status": {"currentReplicas": 3}}));
        assert_eq!(
            &cells[..6],
            [json!("web"), json!("Deployment/web"), json!("cpu: <unknown>/50%"), json!("<unset>"), json!(10), json!(3)]
        );
        // Through autoscaling/v1, the same row.
        let v1 = json!({"apiVersion": "autoscaling/v1", "metadata": {"name": "web", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 10, "targetCPUUtilizationPercentage": 50},
            "status": {"currentReplicas": 3, "desiredReplicas": 3, "currentCPUUtilizationPercentage": 95}});
        assert_eq!(&hpa_cells(&v1)[..3], [json!("web"), json!("Deployment/web"), json!("cpu: 95%/50%")]);
    }
}
