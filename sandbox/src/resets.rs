//! What an update keeps of the request and what it takes back from the
//! stored object, per resource and per endpoint, as kube-apiserver v1.36's
//! update strategies decide it (`PrepareForUpdate` and `GetResetFields` of
//! each resource's strategy and status strategy in
//! `pkg/registry/<group>/<resource>/strategy.go`).
//!
//! An update through the main resource of a kind with a status subresource
//! takes the status back from the stored object; an update through the
//! status subresource takes back the spec (and, for some kinds, some
//! metadata). Everything else of the request is kept, after the generic
//! metadata rules of `rest.BeforeUpdate` (applied by the caller). The same
//! paths are the fields no manager owns through that endpoint
//! (`metadata.managedFields`, see [`crate::managed`]).
//!
//! Adding a resource with a status subresource is one line of [`RESETS`];
//! a served resource with a status subresource and no line answers 501.

use serde_json::{Map, Value, json};

use crate::registry::{ResourceType, Sub};
use crate::status::ApiError;

/// A field of an object, by its JSON names from the root.
pub type FieldPath = &'static [&'static str];

const SPEC: FieldPath = &["spec"];
const STATUS: FieldPath = &["status"];

/// Extra preparation of a status write beyond the reset fields (upstream
/// code in the status strategy's PrepareForUpdate that keeps parts of the
/// old status).
type Prepare = fn(old: &Value, new: &mut Value);

/// One resource's update strategies.
pub struct Resets {
    pub group: &'static str,
    /// The plural resource name (any version).
    pub plural: &'static str,
    /// Taken back from the stored object on an update of the main resource.
    pub main: &'static [FieldPath],
    /// Taken back from the stored object on a write through `/status`.
    pub status: &'static [FieldPath],
    /// Further preparation of a write through `/status`.
    pub prepare_status: Option<Prepare>,
}

const fn resets(group: &'static str, plural: &'static str, main: &'static [FieldPath], status: &'static [FieldPath]) -> Resets {
    Resets { group, plural, main, status, prepare_status: None }
}

/// Every served resource with a status subresource.
pub static RESETS: &[Resets] = &[
    // namespaceStrategy also keeps spec.finalizers (only the finalize
    // subresource changes them); its GetResetFields names only status.
    resets("", "namespaces", &[STATUS, &["spec", "finalizers"]], &[SPEC]),
    // podStatusStrategy: old kubelets corrupted ownerReferences, so the
    // status endpoint keeps them; it never sets deletionTimestamp.
    Resets {
        prepare_status: Some(prepare_pod_status),
        ..resets("", "pods", &[STATUS], &[SPEC, &["metadata", "deletionTimestamp"], &["metadata", "ownerReferences"]])
    },
    Resets { prepare_status: Some(prepare_node_status), ..resets("", "nodes", &[STATUS], &[SPEC]) },
    resets("", "services", &[STATUS], &[SPEC]),
    resets("", "replicationcontrollers", &[STATUS], &[SPEC]),
    resets("", "resourcequotas", &[STATUS], &[SPEC]),
    resets("", "persistentvolumeclaims", &[STATUS], &[SPEC]),
    // deploymentStatusStrategy also keeps the labels (annotations are the
    // status writer's: the controller records the revision with them).
    resets("apps", "deployments", &[STATUS], &[SPEC, &["metadata", "labels"]]),
    resets("apps", "replicasets", &[STATUS], &[SPEC]),
    resets("apps", "daemonsets", &[STATUS], &[SPEC]),
    resets("apps", "statefulsets", &[STATUS], &[SPEC]),
    resets("batch", "jobs", &[STATUS], &[SPEC]),
    resets("batch", "cronjobs", &[STATUS], &[SPEC]),
    resets("autoscaling", "horizontalpodautoscalers", &[STATUS], &[SPEC]),
    resets("policy", "poddisruptionbudgets", &[STATUS], &[SPEC]),
    resets("resource.k8s.io", "resourceclaims", &[STATUS], &[SPEC]),
];

/// The strategies of `r`, None for resources without a status subresource.
pub fn of(r: &ResourceType) -> Option<&'static Resets> {
    RESETS.iter().find(|x| x.group == r.group && x.plural == r.plural)
}

/// The fields a write of `r` through `sub` (None or "" for the main
/// resource; "scale" writes go through the main resource's strategy) takes
/// back from the stored object.
pub fn for_write(r: &ResourceType, sub: Option<&str>) -> Result<&'static [FieldPath], ApiError> {
    match of(r) {
        Some(x) if sub == Some("status") => Ok(x.status),
        Some(x) => Ok(x.main),
        None if r.has(Sub::Status) => Err(ApiError::not_implemented(format!(
            "the sandbox does not know what an update of {} resets from the stored object",
            if r.group.is_empty() { r.plural.to_string() } else { format!("{}.{}", r.plural, r.group) }
        ))),
        None => Ok(&[]),
    }
}

/// Sets each of `paths` in `new` to its value in `old` (removing it when
/// `old` has none).
pub fn reset(old: &Value, new: &mut Value, paths: &[FieldPath]) {
    for path in paths {
        let Some((last, parents)) = path.split_last() else { continue };
        let from = parents.iter().try_fold(old, |v, k| v.get(*k)).and_then(|p| p.get(*last));
        match from {
            Some(v) => {
                let mut cur = &mut *new;
                for k in parents {
                    if !cur.get(*k).is_some_and(Value::is_object) {
                        cur[*k] = json!({});
                    }
                    cur = &mut cur[*k];
                }
                cur[*last] = v.clone();
            }
            None => {
                if let Some(m) = parents.iter().try_fold(&mut *new, |v, k| v.get_mut(*k)).and_then(Value::as_object_mut) {
                    m.remove(*last);
                }
            }
        }
    }
}

/// Prepares an update of `r` through `sub` as the strategy does: the reset
/// fields come from `old`, and a status write gets the kind's further
/// preparation.
pub fn prepare(r: &ResourceType, sub: Option<&str>, old: &Value, new: &mut Value) -> Result<(), ApiError> {
    reset(old, new, for_write(r, sub)?);
    if sub == Some("status")
        && let Some(prepare) = of(r).and_then(|x| x.prepare_status)
    {
        prepare(old, new);
    }
    Ok(())
}

fn status_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.get("status").is_some_and(Value::is_object) {
        obj["status"] = json!({});
    }
    obj["status"].as_object_mut().expect("status is an object")
}

fn generation_of(v: Option<&Value>) -> i64 {
    v.and_then(|g| g.get("observedGeneration")).and_then(Value::as_i64).unwrap_or(0)
}

/// podStatusStrategy: the QoS class, set at creation, is kept when the
/// request has none (old kubelets dropped it), and observedGeneration (of
/// the status and of each condition) when the request leaves it unset.
fn prepare_pod_status(old: &Value, new: &mut Value) {
    let qos_unset = new.pointer("/status/qosClass").and_then(Value::as_str).is_none_or(str::is_empty);
    if qos_unset && let Some(q) = old.pointer("/status/qosClass").filter(|q| q.as_str().is_some_and(|q| !q.is_empty())) {
        status_mut(new).insert("qosClass".into(), q.clone());
    }
    let old_generation = generation_of(old.get("status"));
    if generation_of(new.get("status")) == 0 && old_generation != 0 {
        status_mut(new).insert("observedGeneration".into(), json!(old_generation));
    }
    // The old conditions' generations by type, consumed in order (a status
    // may carry a type more than once).
    let mut old_conditions: Vec<(String, i64)> = old
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter().map(|c| (c.get("type").and_then(Value::as_str).unwrap_or_default().to_string(), generation_of(Some(c)))).collect()
        })
        .unwrap_or_default();
    if let Some(conditions) = new.pointer_mut("/status/conditions").and_then(Value::as_array_mut) {
        for c in conditions.iter_mut() {
            let kind = c.get("type").and_then(Value::as_str).unwrap_or_default();
            let previous = old_conditions.iter().position(|(t, _)| t == kind).map(|i| old_conditions.remove(i).1).unwrap_or(0);
            if generation_of(Some(c)) == 0
                && previous != 0
                && let Some(m) = c.as_object_mut()
            {
                m.insert("observedGeneration".into(), json!(previous));
            }
        }
    }
}

/// nodeStatusStrategy: status.config (of the removed dynamic kubelet
/// configuration) can only be kept, not set.
fn prepare_node_status(old: &Value, new: &mut Value) {
    if old.pointer("/status/config").is_none()
        && let Some(s) = new.get_mut("status").and_then(Value::as_object_mut)
    {
        s.remove("config");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{RESOURCES, find};

    #[test]
    fn every_resource_with_a_status_subresource_has_its_strategies() {
        for r in RESOURCES.iter().filter(|r| r.has(Sub::Status)) {
            assert!(of(r).is_some(), "{}/{} has a status subresource and no line in RESETS", r.group, r.plural);
        }
        for x in RESETS {
            let r = RESOURCES.iter().find(|r| r.group == x.group && r.plural == x.plural);
            assert!(r.is_some_and(|r| r.has(Sub::Status)), "{}/{} in RESETS is not served with a status subresource", x.group, x.plural);
            assert!(x.main.contains(&STATUS), "{}: the main resource keeps the status", x.plural);
            assert!(x.status.contains(&SPEC), "{}: the status subresource keeps the spec", x.plural);
        }
        let cms = find("", "v1", "configmaps").unwrap();
        assert_eq!(for_write(cms, None).unwrap(), &[] as &[FieldPath]);
    }

    #[test]
    fn a_status_write_keeps_the_request_but_the_reset_fields() {
        let deployments = find("apps", "v1", "deployments").unwrap();
        let old = json!({
            "metadata": {"name": "web", "labels": {"app": "web"}, "annotations": {"a": "1"}},
            "spec": {"replicas": 2},
            "status": {"replicas": 1},
        });
        let mut new = json!({
            "metadata": {"name": "web", "labels": {"app": "other"}, "annotations": {"deployment.kubernetes.io/revision": "1"}},
            "spec": {"replicas": 9},
            "status": {"replicas": 2},
        });
        prepare(deployments, Some("status"), &old, &mut new).unwrap();
        assert_eq!(
            new,
            json!({
                "metadata": {"name": "web", "labels": {"app": "web"}, "annotations": {"deployment.kubernetes.io/revision": "1"}},
                "spec": {"replicas": 2},
                "status": {"replicas": 2},
            })
        );
        // Absent in the stored object: absent after the write.
        let mut new = json!({"metadata": {"name": "web", "labels": {"x": "y"}}, "status": {}});
        prepare(deployments, Some("status"), &json!({"metadata": {"name": "web"}, "spec": {}}), &mut new).unwrap();
        assert_eq!(new, json!({"metadata": {"name": "web"}, "spec": {}, "status": {}}));
        // The main resource keeps everything but the status.
        let mut new = json!({"metadata": {"labels": {"x": "y"}}, "spec": {"replicas": 3}, "status": {"replicas": 7}});
        prepare(deployments, None, &old, &mut new).unwrap();
        assert_eq!(new, json!({"metadata": {"labels": {"x": "y"}}, "spec": {"replicas": 3}, "status": {"replicas": 1}}));
    }

    #[test]
    fn nested_paths_are_reset_inside_their_parents() {
        let namespaces = find("", "v1", "namespaces").unwrap();
        let old = json!({"spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}});
        let mut new = json!({"metadata": {"labels": {"a": "b"}}, "status": {"phase": "Terminating"}});
        prepare(namespaces, None, &old, &mut new).unwrap();
        assert_eq!(new, json!({"metadata": {"labels": {"a": "b"}}, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}));
        let mut new = json!({"spec": {"finalizers": ["x"], "other": 1}});
        reset(&json!({"spec": {}}), &mut new, &[&["spec", "finalizers"]]);
        assert_eq!(new, json!({"spec": {"other": 1}}));
    }

    #[test]
    fn pods_status_keeps_owner_references_deletion_qos_and_observed_generations() {
        let pods = find("", "v1", "pods").unwrap();
        let owner = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "1", "controller": true}]);
        let old = json!({
            "metadata": {"name": "p", "ownerReferences": owner, "labels": {"a": "1"}},
            "spec": {"nodeName": "n"},
            "status": {
                "phase": "Running", "qosClass": "BestEffort", "observedGeneration": 3,
                "conditions": [{"type": "Ready", "status": "True", "observedGeneration": 2}, {"type": "Ready", "status": "True", "observedGeneration": 1}],
            },
        });
        let mut new = json!({
            "metadata": {"name": "p", "labels": {"a": "2"}, "annotations": {"b": "1"}, "deletionTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"nodeName": "m"},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}, {"type": "Ready", "status": "False", "observedGeneration": 5}, {"type": "Other", "status": "True"}]},
        });
        prepare(pods, Some("status"), &old, &mut new).unwrap();
        assert_eq!(
            new,
            json!({
                "metadata": {"name": "p", "labels": {"a": "2"}, "annotations": {"b": "1"}, "ownerReferences": owner},
                "spec": {"nodeName": "n"},
                "status": {
                    "phase": "Running", "qosClass": "BestEffort", "observedGeneration": 3,
                    "conditions": [
                        {"type": "Ready", "status": "False", "observedGeneration": 2},
                        {"type": "Ready", "status": "False", "observedGeneration": 5},
                        {"type": "Other", "status": "True"},
                    ],
                },
            })
        );
    }

    #[test]
    fn nodes_status_cannot_set_config() {
        let nodes = find("", "v1", "nodes").unwrap();
        let mut new = json!({"spec": {"unschedulable": true}, "status": {"config": {"active": {}}, "phase": "Running"}});
        prepare(nodes, Some("status"), &json!({"spec": {}}), &mut new).unwrap();
        assert_eq!(new, json!({"spec": {}, "status": {"phase": "Running"}}));
    }
}
