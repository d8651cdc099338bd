//! autoscaling/v1 ↔ autoscaling/v2 HorizontalPodAutoscalers, as
//! kube-apiserver converts them (`pkg/apis/autoscaling/v1/conversion.go`;
//! digest in `controllers/hpa/UPSTREAM.md` §11). v2 is the storage.
//!
//! v1 keeps the CPU utilization target and value in fields; the rest of v2
//! travels in annotations whose values are JSON: the other spec metrics
//! (`metrics`, in the old v2beta1 shapes of the v1 package), every status
//! metric (`current-metrics`), the conditions (`conditions`) and the
//! behavior (`behavior`, Go's encoding of the internal type: Go field
//! names). Reading a v2 object through v1 and writing it back loses
//! nothing; the annotations never reach v2.
//!
//! A v1 request whose round-trip annotation does not decode is refused
//! (400, as upstream's decoding error; the message is the sandbox's own),
//! see [`check_v1`].

use serde_json::{Map, Value, json};

pub const METRICS: &str = "autoscaling.alpha.kubernetes.io/metrics";
pub const CURRENT_METRICS: &str = "autoscaling.alpha.kubernetes.io/current-metrics";
pub const CONDITIONS: &str = "autoscaling.alpha.kubernetes.io/conditions";
pub const BEHAVIOR: &str = "autoscaling.alpha.kubernetes.io/behavior";
const ROUND_TRIP: [&str; 4] = [METRICS, CURRENT_METRICS, CONDITIONS, BEHAVIOR];
/// The CPU utilization of a v1 HPA that names no metric at all.
const DEFAULT_CPU_UTILIZATION: i64 = 80;

fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get(key).filter(|x| !x.is_null())
}

/// Sets `key` when `value` is something (Go's omitempty on pointers).
fn put(m: &mut Map<String, Value>, key: &str, value: Option<&Value>) {
    if let Some(v) = value.filter(|v| !v.is_null()) {
        m.insert(key.into(), v.clone());
    }
}

/// A quantity field that is not a pointer in Go: written, "0" when unset.
fn quantity_or_zero(value: Option<&Value>) -> Value {
    value.filter(|v| !v.is_null()).cloned().unwrap_or_else(|| json!("0"))
}

fn is_cpu_utilization_spec(m: &Value) -> bool {
    m["type"] == "Resource" && m["resource"]["name"] == "cpu" && get(&m["resource"]["target"], "averageUtilization").is_some()
}

/// Upstream decodes the round-trip annotations of a v1 object while
/// converting it, and fails the request if one is not JSON of its type.
pub fn check_v1(obj: &Value) -> Result<(), String> {
    let Some(annotations) = obj["metadata"]["annotations"].as_object() else { return Ok(()) };
    for (key, list) in [(METRICS, true), (CURRENT_METRICS, true), (CONDITIONS, true), (BEHAVIOR, false)] {
        let Some(text) = annotations.get(key).and_then(Value::as_str) else { continue };
        let parsed: Value = serde_json::from_str(text).map_err(|e| format!("the annotation {key} is not JSON: {e}"))?;
        let fits = if list { parsed.as_array().is_some_and(|a| a.iter().all(Value::is_object)) } else { parsed.is_object() };
        if !fits {
            let want = if list { "a list of objects" } else { "an object" };
            return Err(format!("the annotation {key} is not {want}: {text}"));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// v2 → v1

/// A v2 object (the storage) as autoscaling/v1.
pub fn to_v1(obj: &Value) -> Value {
    let mut out = obj.as_object().cloned().unwrap_or_default();
    out.insert("apiVersion".into(), json!("autoscaling/v1"));
    let spec = obj.get("spec").cloned().unwrap_or(json!({}));
    let status = obj.get("status").cloned();
    let metrics = spec.get("metrics").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut annotations: Map<String, Value> = obj["metadata"]["annotations"].as_object().cloned().unwrap_or_default();
    for k in ROUND_TRIP {
        annotations.remove(k);
    }

    let mut v1_spec = Map::new();
    put(&mut v1_spec, "scaleTargetRef", spec.get("scaleTargetRef"));
    put(&mut v1_spec, "minReplicas", spec.get("minReplicas"));
    put(&mut v1_spec, "maxReplicas", spec.get("maxReplicas"));
    if let Some(cpu) = metrics.iter().find(|m| m["type"] == "Resource" && m["resource"]["name"] == "cpu") {
        put(&mut v1_spec, "targetCPUUtilizationPercentage", get(&cpu["resource"]["target"], "averageUtilization"));
    }
    let others: Vec<Value> = metrics.iter().filter(|m| !is_cpu_utilization_spec(m)).map(|m| metric_to_v1(m, "target")).collect();
    if !others.is_empty() {
        annotations.insert(METRICS.into(), json!(Value::Array(others).to_string()));
    }
    if let Some(b) = get(&spec, "behavior") {
        annotations.insert(BEHAVIOR.into(), json!(behavior_to_internal(b).to_string()));
    }
    out.insert("spec".into(), Value::Object(v1_spec));

    if let Some(status) = status {
        let mut v1_status = Map::new();
        for k in ["observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas"] {
            put(&mut v1_status, k, status.get(k));
        }
        let current = status.get("currentMetrics").and_then(Value::as_array).cloned().unwrap_or_default();
        for m in &current {
            if m["type"] == "Resource" && m["resource"]["name"] == "cpu" {
                put(&mut v1_status, "currentCPUUtilizationPercentage", get(&m["resource"]["current"], "averageUtilization"));
            }
        }
        if !current.is_empty() {
            let converted: Vec<Value> = current.iter().map(|m| metric_to_v1(m, "current")).collect();
            annotations.insert(CURRENT_METRICS.into(), json!(Value::Array(converted).to_string()));
        }
        if let Some(c) = status.get("conditions").and_then(Value::as_array).filter(|c| !c.is_empty()) {
            annotations.insert(CONDITIONS.into(), json!(Value::Array(c.clone()).to_string()));
        }
        out.insert("status".into(), Value::Object(v1_status));
    }
    set_annotations(&mut out, annotations);
    Value::Object(out)
}

fn reference(r: &Value) -> Value {
    let mut m = Map::new();
    for k in ["kind", "name", "apiVersion"] {
        put(&mut m, k, r.get(k));
    }
    Value::Object(m)
}

/// A v2 metric (`values` "target": a spec, "current": a status) in the
/// v1 package's shape, whose value fields are named `<values><Field>`.
/// Quantities that are not pointers in Go are written, "0" when unset.
fn metric_to_v1(m: &Value, values: &str) -> Value {
    let status = values == "current";
    let name = |field: &str| format!("{values}{field}");
    // Optional in a spec, always written in a status.
    let spec_optional = |s: &mut Map<String, Value>, key: String, v: Option<&Value>| {
        if status {
            s.insert(key, quantity_or_zero(v));
        } else {
            put(s, &key, v);
        }
    };
    let mut s = Map::new();
    let key = match m["type"].as_str().unwrap_or_default() {
        t @ ("Resource" | "ContainerResource") => {
            let (key, src) = if t == "Resource" { ("resource", &m["resource"]) } else { ("containerResource", &m["containerResource"]) };
            put(&mut s, "name", src.get("name"));
            put(&mut s, "container", src.get("container"));
            put(&mut s, &name("AverageUtilization"), get(&src[values], "averageUtilization"));
            spec_optional(&mut s, name("AverageValue"), get(&src[values], "averageValue"));
            key
        }
        "Pods" => {
            let src = &m["pods"];
            put(&mut s, "metricName", src["metric"].get("name"));
            s.insert(name("AverageValue"), quantity_or_zero(get(&src[values], "averageValue")));
            put(&mut s, "selector", get(&src["metric"], "selector"));
            "pods"
        }
        "Object" => {
            let src = &m["object"];
            s.insert("target".into(), reference(&src["describedObject"]));
            put(&mut s, "metricName", src["metric"].get("name"));
            s.insert(name("Value"), quantity_or_zero(get(&src[values], "value")));
            put(&mut s, "selector", get(&src["metric"], "selector"));
            put(&mut s, "averageValue", get(&src[values], "averageValue"));
            "object"
        }
        "External" => {
            let src = &m["external"];
            put(&mut s, "metricName", src["metric"].get("name"));
            put(&mut s, "metricSelector", get(&src["metric"], "selector"));
            spec_optional(&mut s, name("Value"), get(&src[values], "value"));
            put(&mut s, &name("AverageValue"), get(&src[values], "averageValue"));
            "external"
        }
        _ => return m.clone(),
    };
    json!({"type": m["type"], key: Value::Object(s)})
}

/// `spec.behavior` as Go encodes the internal type: Go field names, nil
/// pointers and slices as `null`.
fn behavior_to_internal(b: &Value) -> Value {
    let rules = |r: Option<&Value>| match r {
        None => Value::Null,
        Some(r) => json!({
            "StabilizationWindowSeconds": r.get("stabilizationWindowSeconds").cloned().unwrap_or(Value::Null),
            "SelectPolicy": r.get("selectPolicy").cloned().unwrap_or(Value::Null),
            "Policies": r.get("policies").and_then(Value::as_array).map(|ps| {
                Value::Array(ps.iter().map(|p| json!({"Type": p["type"], "Value": p["value"], "PeriodSeconds": p["periodSeconds"]})).collect())
            }).unwrap_or(Value::Null),
            "Tolerance": r.get("tolerance").cloned().unwrap_or(Value::Null),
        }),
    };
    json!({"ScaleUp": rules(get(b, "scaleUp")), "ScaleDown": rules(get(b, "scaleDown"))})
}

// ---------------------------------------------------------------------------
// v1 → v2

/// An autoscaling/v1 object as v2 (the storage).
pub fn from_v1(obj: &Value) -> Value {
    let mut out = obj.as_object().cloned().unwrap_or_default();
    out.insert("apiVersion".into(), json!("autoscaling/v2"));
    let spec = obj.get("spec").cloned().unwrap_or(json!({}));
    let mut annotations: Map<String, Value> = obj["metadata"]["annotations"].as_object().cloned().unwrap_or_default();
    let mut take = |key: &str| annotations.remove(key).and_then(|v| v.as_str().and_then(|s| serde_json::from_str::<Value>(s).ok()));
    let other_metrics = take(METRICS);
    let current_metrics = take(CURRENT_METRICS);
    let conditions = take(CONDITIONS);
    let behavior = take(BEHAVIOR);
    for k in ROUND_TRIP {
        annotations.remove(k);
    }

    let mut v2_spec = Map::new();
    put(&mut v2_spec, "scaleTargetRef", spec.get("scaleTargetRef"));
    put(&mut v2_spec, "minReplicas", spec.get("minReplicas"));
    put(&mut v2_spec, "maxReplicas", spec.get("maxReplicas"));
    let mut metrics: Vec<Value> =
        other_metrics.as_ref().and_then(Value::as_array).into_iter().flatten().map(|m| metric_from_v1(m, "target")).collect();
    let cpu =
        |n: &Value| json!({"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": n}}});
    if let Some(n) = get(&spec, "targetCPUUtilizationPercentage") {
        metrics.push(cpu(n));
    }
    if metrics.is_empty() {
        metrics.push(cpu(&json!(DEFAULT_CPU_UTILIZATION)));
    }
    v2_spec.insert("metrics".into(), Value::Array(metrics));
    if let Some(b) = behavior.as_ref().and_then(behavior_from_internal) {
        v2_spec.insert("behavior".into(), b);
    }
    out.insert("spec".into(), Value::Object(v2_spec));

    if let Some(status) = obj.get("status").filter(|s| !s.is_null()) {
        let mut v2_status = Map::new();
        for k in ["observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas"] {
            put(&mut v2_status, k, status.get(k));
        }
        let current = match (&current_metrics, get(status, "currentCPUUtilizationPercentage")) {
            (Some(list), _) => list.as_array().into_iter().flatten().map(|m| metric_from_v1(m, "current")).collect(),
            (None, Some(n)) => vec![json!({"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": n}}})],
            (None, None) => Vec::new(),
        };
        if !current.is_empty() {
            v2_status.insert("currentMetrics".into(), Value::Array(current));
        }
        if let Some(c) = conditions.filter(|c| c.as_array().is_some_and(|a| !a.is_empty())) {
            v2_status.insert("conditions".into(), c);
        }
        out.insert("status".into(), Value::Object(v2_status));
    }
    set_annotations(&mut out, annotations);
    Value::Object(out)
}

fn identifier(name: Option<&Value>, selector: Option<&Value>) -> Value {
    let mut m = Map::new();
    put(&mut m, "name", name);
    put(&mut m, "selector", selector);
    Value::Object(m)
}

/// A v1-package metric (`values` "target": a spec, "current": a status)
/// back to v2; a spec's target type is inferred as upstream infers it.
fn metric_from_v1(m: &Value, values: &str) -> Value {
    let status = values == "current";
    let name = |field: &str| format!("{values}{field}");
    let block = |type_: &str, fields: &[(&str, Option<&Value>)]| {
        let mut b = Map::new();
        if !status {
            b.insert("type".into(), json!(type_));
        }
        for (k, v) in fields {
            put(&mut b, k, *v);
        }
        Value::Object(b)
    };
    let (key, out) = match m["type"].as_str().unwrap_or_default() {
        t @ ("Resource" | "ContainerResource") => {
            let (key, src) = if t == "Resource" { ("resource", &m["resource"]) } else { ("containerResource", &m["containerResource"]) };
            let utilization = get(src, &name("AverageUtilization"));
            let zero = quantity_or_zero(get(src, &name("AverageValue")));
            let average = if status { Some(&zero) } else { get(src, &name("AverageValue")) };
            let type_ = if utilization.is_some() { "Utilization" } else { "AverageValue" };
            let mut s = Map::new();
            put(&mut s, "name", src.get("name"));
            put(&mut s, "container", src.get("container"));
            s.insert(values.into(), block(type_, &[("averageUtilization", utilization), ("averageValue", average)]));
            (key, s)
        }
        "Pods" => {
            let src = &m["pods"];
            let average = quantity_or_zero(get(src, &name("AverageValue")));
            let mut s = Map::new();
            s.insert("metric".into(), identifier(src.get("metricName"), get(src, "selector")));
            s.insert(values.into(), block("AverageValue", &[("averageValue", Some(&average))]));
            ("pods", s)
        }
        "Object" => {
            let src = &m["object"];
            let value = quantity_or_zero(get(src, &name("Value")));
            let average = get(src, "averageValue");
            // An AverageValue target carries no value (upstream v1.36, PR #137856).
            let b = match (status, average) {
                (true, _) => block("", &[("value", Some(&value)), ("averageValue", average)]),
                (false, Some(a)) => block("AverageValue", &[("averageValue", Some(a))]),
                (false, None) => block("Value", &[("value", Some(&value))]),
            };
            let mut s = Map::new();
            s.insert("describedObject".into(), reference(&src["target"]));
            s.insert("metric".into(), identifier(src.get("metricName"), get(src, "selector")));
            s.insert(values.into(), b);
            ("object", s)
        }
        "External" => {
            let src = &m["external"];
            let zero = quantity_or_zero(get(src, &name("Value")));
            let value = if status { Some(&zero) } else { get(src, &name("Value")) };
            let type_ = if value.is_some() { "Value" } else { "AverageValue" };
            let mut s = Map::new();
            s.insert("metric".into(), identifier(src.get("metricName"), get(src, "metricSelector")));
            s.insert(values.into(), block(type_, &[("value", value), ("averageValue", get(src, &name("AverageValue")))]));
            ("external", s)
        }
        _ => return m.clone(),
    };
    let mut o = Map::new();
    o.insert("type".into(), m["type"].clone());
    o.insert(key.into(), Value::Object(out));
    Value::Object(o)
}

/// The behavior annotation back to `spec.behavior`; `None` for one that
/// sets nothing (upstream keeps only a non-empty behavior).
fn behavior_from_internal(b: &Value) -> Option<Value> {
    let rules = |r: Option<&Value>| {
        let r = r?;
        let mut m = Map::new();
        put(&mut m, "stabilizationWindowSeconds", get(r, "StabilizationWindowSeconds"));
        put(&mut m, "selectPolicy", get(r, "SelectPolicy"));
        if let Some(ps) = get(r, "Policies").and_then(Value::as_array) {
            let ps: Vec<Value> =
                ps.iter().map(|p| json!({"type": p["Type"], "value": p["Value"], "periodSeconds": p["PeriodSeconds"]})).collect();
            m.insert("policies".into(), Value::Array(ps));
        }
        put(&mut m, "tolerance", get(r, "Tolerance"));
        Some(Value::Object(m))
    };
    let mut out = Map::new();
    put(&mut out, "scaleUp", rules(get(b, "ScaleUp")).as_ref());
    put(&mut out, "scaleDown", rules(get(b, "ScaleDown")).as_ref());
    (!out.is_empty()).then_some(Value::Object(out))
}

fn set_annotations(obj: &mut Map<String, Value>, annotations: Map<String, Value>) {
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else { return };
    if annotations.is_empty() {
        meta.remove("annotations");
    } else {
        meta.insert("annotations".into(), Value::Object(annotations));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v2() -> Value {
        json!({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": "ns", "annotations": {"team": "a"}},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "minReplicas": 1, "maxReplicas": 10,
                "metrics": [
                    {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "2"}}},
                    {"type": "Object", "object": {"describedObject": {"apiVersion": "v1", "kind": "Service", "name": "front"},
                     "metric": {"name": "rps"}, "target": {"type": "AverageValue", "averageValue": "5"}}},
                    {"type": "External", "external": {"metric": {"name": "queue", "selector": {"matchLabels": {"q": "jobs"}}},
                     "target": {"type": "Value", "value": "30"}}},
                    {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}
                ],
                "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300, "selectPolicy": "Max",
                             "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}}
            },
            "status": {
                "currentReplicas": 2, "desiredReplicas": 4,
                "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 90, "averageValue": "450m"}}}],
                "conditions": [{"type": "AbleToScale", "status": "True", "reason": "SucceededRescale", "message": "m",
                                "lastTransitionTime": "2026-12-07T00:00:00Z"}]
            }
        })
    }

    #[test]
    fn v2_reads_as_v1_with_the_rest_in_annotations() {
        let v1 = to_v1(&v2());
        assert_eq!(v1["apiVersion"], "autoscaling/v1");
        assert_eq!(v1["spec"]["targetCPUUtilizationPercentage"], 50);
        assert!(v1["spec"].get("metrics").is_none() && v1["spec"].get("behavior").is_none());
        assert_eq!(v1["status"]["currentCPUUtilizationPercentage"], 90);
        let a = &v1["metadata"]["annotations"];
        assert_eq!(a["team"], "a");
        let metrics: Value = serde_json::from_str(a[METRICS].as_str().unwrap()).unwrap();
        assert_eq!(
            metrics,
            json!([
                {"type": "Pods", "pods": {"metricName": "qps", "targetAverageValue": "2"}},
                {"type": "Object", "object": {"target": {"kind": "Service", "name": "front", "apiVersion": "v1"},
                 "metricName": "rps", "targetValue": "0", "averageValue": "5"}},
                {"type": "External", "external": {"metricName": "queue", "metricSelector": {"matchLabels": {"q": "jobs"}}, "targetValue": "30"}}
            ])
        );
        let current: Value = serde_json::from_str(a[CURRENT_METRICS].as_str().unwrap()).unwrap();
        assert_eq!(
            current,
            json!([{"type": "Resource", "resource": {"name": "cpu", "currentAverageUtilization": 90, "currentAverageValue": "450m"}}])
        );
        let behavior: Value = serde_json::from_str(a[BEHAVIOR].as_str().unwrap()).unwrap();
        assert_eq!(
            behavior,
            json!({"ScaleUp": null, "ScaleDown": {"StabilizationWindowSeconds": 300, "SelectPolicy": "Max",
                   "Policies": [{"Type": "Percent", "Value": 100, "PeriodSeconds": 15}], "Tolerance": null}})
        );
        assert!(a[CONDITIONS].as_str().unwrap().contains("SucceededRescale"));
    }

    #[test]
    fn a_v2_object_survives_the_round_trip_through_v1() {
        let back = from_v1(&to_v1(&v2()));
        let mut want = v2();
        // The CPU metric comes back last (it already is), the annotations go.
        assert_eq!(back["spec"], want["spec"]);
        assert_eq!(back["status"], want["status"]);
        want["metadata"]["annotations"] = json!({"team": "a"});
        assert_eq!(back["metadata"], want["metadata"]);
        assert_eq!(back["apiVersion"], "autoscaling/v2");
    }

    #[test]
    fn every_kind_of_status_metric_survives_the_round_trip() {
        let mut h = v2();
        h["status"]["currentMetrics"] = json!([
            {"type": "Pods", "pods": {"metric": {"name": "qps"}, "current": {"averageValue": "3"}}},
            {"type": "Object", "object": {"describedObject": {"apiVersion": "v1", "kind": "Service", "name": "front"},
             "metric": {"name": "rps"}, "current": {"value": "10"}}},
            {"type": "External", "external": {"metric": {"name": "queue", "selector": {"matchLabels": {"q": "jobs"}}},
             "current": {"value": "5", "averageValue": "2500m"}}},
            {"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "app",
             "current": {"averageUtilization": 70, "averageValue": "350m"}}}
        ]);
        let v1 = to_v1(&h);
        let current: Value = serde_json::from_str(v1["metadata"]["annotations"][CURRENT_METRICS].as_str().unwrap()).unwrap();
        assert_eq!(current[0], json!({"type": "Pods", "pods": {"metricName": "qps", "currentAverageValue": "3"}}));
        assert_eq!(current[2]["external"]["currentAverageValue"], "2500m");
        assert_eq!(from_v1(&v1)["status"], h["status"]);
    }

    #[test]
    fn a_plain_v1_object_gets_its_cpu_metric_or_the_80_percent_default() {
        let v1 = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "a"},
                        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "a"}, "maxReplicas": 3, "targetCPUUtilizationPercentage": 60},
                        "status": {"currentReplicas": 1, "desiredReplicas": 1, "currentCPUUtilizationPercentage": 20}});
        let v2 = from_v1(&v1);
        assert_eq!(
            v2["spec"]["metrics"],
            json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}}}])
        );
        assert_eq!(
            v2["status"]["currentMetrics"],
            json!([{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 20}}}])
        );
        let mut bare = v1.clone();
        bare["spec"].as_object_mut().unwrap().remove("targetCPUUtilizationPercentage");
        assert_eq!(from_v1(&bare)["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"], 80);
    }

    #[test]
    fn a_round_trip_annotation_that_does_not_decode_is_refused() {
        let with = |k: &str, v: &str| json!({"metadata": {"annotations": {k: v}}});
        assert!(check_v1(&json!({"metadata": {}})).is_ok());
        assert!(check_v1(&with(METRICS, "[]")).is_ok());
        assert!(check_v1(&with(BEHAVIOR, "{\"ScaleUp\": null}")).is_ok());
        assert!(check_v1(&with(METRICS, "not json")).unwrap_err().contains("is not JSON"));
        assert!(check_v1(&with(CONDITIONS, "{}")).unwrap_err().contains("not a list of objects"));
        assert!(check_v1(&with(BEHAVIOR, "[]")).unwrap_err().contains("not an object"));
    }

    #[test]
    fn stale_or_malformed_round_trip_annotations_never_reach_v2() {
        let v1 = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
                        "metadata": {"name": "a", "annotations": {METRICS: "not json", CONDITIONS: "[]"}},
                        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "a"}, "maxReplicas": 3, "targetCPUUtilizationPercentage": 60}});
        let v2 = from_v1(&v1);
        assert!(v2["metadata"].get("annotations").is_none(), "{v2}");
        assert_eq!(v2["spec"]["metrics"].as_array().unwrap().len(), 1);
    }
}
