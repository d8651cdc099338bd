//! Conversion between the API versions kube-apiserver serves from one
//! storage, and the shapes Go's encoder gives those objects.
//!
//! Two such pairs are served. autoscaling/v1 and autoscaling/v2
//! HorizontalPodAutoscalers are in [`hpa`] (v2 is the storage).
//!
//! The other pair is core `v1` Events and
//! `events.k8s.io/v1` Events: both are views of the same stored objects
//! (upstream stores `events.k8s.io` Events as core Events, and converts
//! through the internal `core.Event` with `pkg/apis/events/v1/conversion.go`).
//! The store keeps core `v1` Events and converts on the way in and out
//! ([`crate::store`]); the API layer works on the request's version.
//!
//! The mapping is one to one (`regarding` ↔ `involvedObject`, `note` ↔
//! `message`, `reportingController` ↔ `reportingComponent`,
//! `deprecatedSource` ↔ `source`, `deprecatedFirstTimestamp` ↔
//! `firstTimestamp`, `deprecatedLastTimestamp` ↔ `lastTimestamp`,
//! `deprecatedCount` ↔ `count`; the other fields keep their names), so
//! nothing is lost either way. What differs is which empty values Go's
//! encoder writes: an empty string or zero count is left out where the
//! field is `omitempty`, and written where it is not (core `involvedObject`,
//! `source`, `reportingComponent` and `reportingInstance`; events.k8s.io
//! `regarding`, `deprecatedSource` and `series.count`). [`normalize_event`]
//! gives an Event that shape, whichever way it came in, so an Event reads
//! the same through either API whichever API wrote it.
//!
//! Zero times, which Go writes as `null`, are left out here as everywhere
//! in the sandbox.

use serde_json::{Map, Value, json};

use crate::registry::{self, ResourceType};

pub mod hpa;

/// core v1 Event field ↔ events.k8s.io/v1 Event field, for the fields
/// whose names differ.
const EVENT_RENAMES: &[(&str, &str)] = &[
    ("involvedObject", "regarding"),
    ("message", "note"),
    ("reportingComponent", "reportingController"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
];

const CORE_V1: &str = "v1";
const EVENTS_V1: &str = "events.k8s.io/v1";

fn is_event(r: &ResourceType) -> bool {
    r.kind == "Event" && (r.group.is_empty() || r.group == "events.k8s.io")
}

fn is_hpa(r: &ResourceType) -> bool {
    r.group == "autoscaling" && r.kind == "HorizontalPodAutoscaler"
}

/// Whether `a` and `b` are the same group and version.
fn same_version(a: &ResourceType, b: &ResourceType) -> bool {
    a.group == b.group && a.version == b.version
}

/// Whether objects of `from` can be converted to `to`: the same resource
/// at another group or version sharing its storage.
pub fn convertible(from: &ResourceType, to: &ResourceType) -> bool {
    same_version(from, to) || (is_event(from) && is_event(to)) || (is_hpa(from) && is_hpa(to))
}

/// `obj`, an object of `from`, as an object of `to`. Objects that cannot
/// be converted (see [`convertible`]) are returned as they are.
pub fn convert(obj: &Value, from: &ResourceType, to: &ResourceType) -> Value {
    if same_version(from, to) || !convertible(from, to) {
        return obj.clone();
    }
    if is_hpa(to) {
        return if to.version == "v1" { hpa::to_v1(obj) } else { hpa::from_v1(obj) };
    }
    let to_events = !to.group.is_empty();
    let Some(m) = obj.as_object() else { return obj.clone() };
    let mut out = Map::new();
    for (k, v) in m {
        let key = EVENT_RENAMES
            .iter()
            .find_map(|(core, events)| if to_events { (k == core).then_some(*events) } else { (k == events).then_some(*core) })
            .unwrap_or(k.as_str());
        out.insert(key.to_string(), v.clone());
    }
    out.insert("apiVersion".into(), json!(to.api_version()));
    out.insert("kind".into(), json!(to.kind));
    let mut out = Value::Object(out);
    normalize_event(&mut out, to_events);
    out
}

/// `obj`, an Event of either API (by its apiVersion), as a core v1 Event;
/// anything else as it is.
pub fn to_core_event(obj: &Value) -> Value {
    match obj.get("apiVersion").and_then(Value::as_str) {
        Some(EVENTS_V1) => match (registry::find("events.k8s.io", "v1", "events"), registry::find("", "v1", "events")) {
            (Some(from), Some(to)) => convert(obj, from, to),
            _ => obj.clone(),
        },
        _ => obj.clone(),
    }
}

/// Renames the top-level field of a managedFields path (`f:note` ...)
/// written through `from_api_version` to its name in `to_api_version`, for
/// a resource of `kind` that has both.
pub fn field_path(kind: &str, from_api_version: &str, to_api_version: &str, path: &mut [String]) {
    if kind != "Event" || from_api_version == to_api_version {
        return;
    }
    let to_events = match (from_api_version, to_api_version) {
        (CORE_V1, EVENTS_V1) => true,
        (EVENTS_V1, CORE_V1) => false,
        _ => return,
    };
    let Some(first) = path.first_mut() else { return };
    let Some(name) = first.strip_prefix("f:") else { return };
    let renamed = EVENT_RENAMES
        .iter()
        .find_map(|(core, events)| if to_events { (name == *core).then_some(*events) } else { (name == *events).then_some(*core) });
    if let Some(r) = renamed {
        *first = format!("f:{r}");
    }
}

/// Gives an Event (core v1, or events.k8s.io/v1 when `events_api`) the
/// shape Go's encoder gives it: `omitempty` fields that are empty left
/// out, the others written even when empty; `null`s left out.
pub fn normalize_event(obj: &mut Value, events_api: bool) {
    let Some(m) = obj.as_object_mut() else { return };
    m.retain(|_, v| !v.is_null());
    let (reference, source, reporting, count) = if events_api {
        ("regarding", "deprecatedSource", "reportingController", "deprecatedCount")
    } else {
        ("involvedObject", "source", "reportingComponent", "count")
    };
    let message = if events_api { "note" } else { "message" };
    // omitempty strings and counts.
    for k in ["reason", message, "type", "action"] {
        drop_empty_string(m, k);
    }
    if events_api {
        drop_empty_string(m, reporting);
        drop_empty_string(m, "reportingInstance");
    } else {
        // Written even when empty.
        for k in [reporting, "reportingInstance"] {
            if !m.get(k).is_some_and(Value::is_string) {
                m.insert(k.into(), json!(""));
            }
        }
    }
    if m.get(count).and_then(Value::as_i64) == Some(0) {
        m.remove(count);
    }
    // Structs: always written, their fields omitempty.
    for k in [reference, source] {
        let v = m.entry(k).or_insert_with(|| json!({}));
        if let Some(inner) = v.as_object_mut() {
            inner.retain(|_, x| !x.is_null() && x.as_str() != Some(""));
        }
    }
    if let Some(related) = m.get_mut("related").and_then(Value::as_object_mut) {
        related.retain(|_, x| !x.is_null() && x.as_str() != Some(""));
    }
    if let Some(series) = m.get_mut("series").and_then(Value::as_object_mut) {
        series.retain(|_, x| !x.is_null());
        if events_api {
            series.entry("count").or_insert(json!(0));
        } else if series.get("count").and_then(Value::as_i64) == Some(0) {
            series.remove("count");
        }
    }
}

fn drop_empty_string(m: &mut Map<String, Value>, k: &str) {
    if m.get(k).and_then(Value::as_str) == Some("") {
        m.remove(k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::find;

    fn core() -> &'static ResourceType {
        find("", "v1", "events").unwrap()
    }

    fn events() -> &'static ResourceType {
        find("events.k8s.io", "v1", "events").unwrap()
    }

    #[test]
    fn events_round_trip_through_core() {
        let new = json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "web.1", "namespace": "default"},
            "eventTime": "2026-01-02T03:04:05.123456Z",
            "series": {"count": 2, "lastObservedTime": "2026-01-02T03:05:05.000000Z"},
            "reportingController": "replicaset-controller", "reportingInstance": "replicaset-controller-host",
            "action": "Create", "reason": "SuccessfulCreate",
            "regarding": {"kind": "ReplicaSet", "namespace": "default", "name": "web", "apiVersion": "apps/v1"},
            "related": {"kind": "Pod", "name": "web-x"},
            "note": "Created pod: web-x", "type": "Normal",
            "deprecatedSource": {},
        });
        let c = convert(&new, events(), core());
        assert_eq!(
            c,
            json!({
                "apiVersion": "v1", "kind": "Event",
                "metadata": {"name": "web.1", "namespace": "default"},
                "eventTime": "2026-01-02T03:04:05.123456Z",
                "series": {"count": 2, "lastObservedTime": "2026-01-02T03:05:05.000000Z"},
                "reportingComponent": "replicaset-controller", "reportingInstance": "replicaset-controller-host",
                "action": "Create", "reason": "SuccessfulCreate",
                "involvedObject": {"kind": "ReplicaSet", "namespace": "default", "name": "web", "apiVersion": "apps/v1"},
                "related": {"kind": "Pod", "name": "web-x"},
                "message": "Created pod: web-x", "type": "Normal",
                "source": {},
            })
        );
        assert_eq!(convert(&c, core(), events()), new);
    }

    #[test]
    fn empty_values_take_each_apis_encoding() {
        let legacy = json!({
            "apiVersion": "v1", "kind": "Event", "metadata": {"name": "a"},
            "involvedObject": {"kind": "Pod", "name": "p", "uid": ""},
            "source": {"component": "kubelet", "host": ""},
            "reportingComponent": "", "reportingInstance": "", "count": 0, "message": "",
        });
        let new = convert(&legacy, core(), events());
        assert_eq!(
            new,
            json!({
                "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "a"},
                "regarding": {"kind": "Pod", "name": "p"},
                "deprecatedSource": {"component": "kubelet"},
            })
        );
        let back = convert(&new, events(), core());
        assert_eq!(
            back,
            json!({
                "apiVersion": "v1", "kind": "Event", "metadata": {"name": "a"},
                "involvedObject": {"kind": "Pod", "name": "p"},
                "source": {"component": "kubelet"},
                "reportingComponent": "", "reportingInstance": "",
            })
        );
        let mut series = json!({"series": {"lastObservedTime": "2026-01-02T03:05:05.000000Z"}});
        normalize_event(&mut series, true);
        assert_eq!(series["series"]["count"], 0);
    }

    #[test]
    fn managed_field_paths_are_renamed() {
        let mut p = vec!["f:note".to_string()];
        field_path("Event", "events.k8s.io/v1", "v1", &mut p);
        assert_eq!(p, ["f:message"]);
        let mut p = vec!["f:involvedObject".to_string(), "f:name".to_string()];
        field_path("Event", "v1", "events.k8s.io/v1", &mut p);
        assert_eq!(p, ["f:regarding", "f:name"]);
        let mut p = vec!["f:reason".to_string()];
        field_path("Event", "v1", "events.k8s.io/v1", &mut p);
        assert_eq!(p, ["f:reason"]);
        let mut p = vec!["f:message".to_string()];
        field_path("ConfigMap", "v1", "events.k8s.io/v1", &mut p);
        assert_eq!(p, ["f:message"]);
    }
}
