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
        ("", "Namespace") => (vec![name, c("Status"), c("Age")], namespace_cells),
        ("", "Node") => (vec![name, c("Status"), c("Roles"), c("Age"), c("Version")], node_cells),
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
    vec![json!(meta::name(o)), json!(status), json!(completions), json!(""), json!(age(o))]
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

/// Age as kubectl prints it (`5s`, `3m`, `2h`, `4d`).
fn age(o: &Value) -> String {
    let Some(ts) = o.pointer("/metadata/creationTimestamp").and_then(Value::as_str) else {
        return "<unknown>".into();
    };
    let Ok(t) = ts.parse::<jiff::Timestamp>() else {
        return "<unknown>".into();
    };
    let secs = jiff::Timestamp::now().as_second() - t.as_second();
    match secs {
        s if s < 120 => format!("{}s", s.max(0)),
        s if s < 3600 * 3 => format!("{}m", s / 60),
        s if s < 86400 * 2 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}
