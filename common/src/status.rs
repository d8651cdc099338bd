//! Status writes that never drop what this binary does not know.
//!
//! A controller that updates a whole object (or a whole status) it read
//! through typed structs erases every field a newer API server added: the
//! structs dropped them on the way in. Instead, [`merge_diff`] turns the
//! status as read and the status as computed into a JSON merge patch
//! holding only what changed (`null` for what was removed), and
//! [`patch_status`] sends it to the `status` subresource. Fields this binary
//! cannot see are never in either side, so never in the patch.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The JSON merge patch (RFC 7386) turning `old` into `new`; None when they are equal.
/// Lists are replaced whole, as merge patches do.
pub fn merge_diff(old: &Value, new: &Value) -> Option<Value> {
    if old == new {
        return None;
    }
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            let mut patch = Map::new();
            for (k, nv) in n {
                match o.get(k) {
                    Some(ov) => {
                        if let Some(d) = merge_diff(ov, nv) {
                            patch.insert(k.clone(), d);
                        }
                    }
                    None => {
                        patch.insert(k.clone(), nv.clone());
                    }
                }
            }
            for k in o.keys() {
                if !n.contains_key(k) {
                    patch.insert(k.clone(), Value::Null);
                }
            }
            Some(Value::Object(patch))
        }
        _ => Some(new.clone()),
    }
}

/// The patch of `obj`'s status from `old` to `new`, carrying `obj`'s
/// resourceVersion as a precondition when given (a 409
/// Conflict then means the status was computed from a stale object).
pub fn status_patch<S: Serialize>(old: Option<&S>, new: &S, resource_version: Option<&str>) -> Result<Option<Value>, serde_json::Error> {
    let old = match old {
        Some(o) => serde_json::to_value(o)?,
        None => Value::Object(Map::new()),
    };
    let Some(diff) = merge_diff(&old, &serde_json::to_value(new)?) else { return Ok(None) };
    let mut patch = serde_json::json!({ "status": diff });
    if let Some(rv) = resource_version {
        patch["metadata"] = serde_json::json!({ "resourceVersion": rv });
    }
    Ok(Some(patch))
}

/// Writes `new` as `obj`'s status with a merge patch of what changed; no
/// request when nothing did. Returns the object as written, or None.
pub async fn patch_status<K, S>(api: &kube::Api<K>, obj: &K, old: Option<&S>, new: &S, precondition: bool) -> Result<Option<K>, kube::Error>
where
    K: kube::Resource + Clone + DeserializeOwned + std::fmt::Debug,
    S: Serialize,
{
    let meta = obj.meta();
    let rv = if precondition { meta.resource_version.as_deref() } else { None };
    let Some(patch) = status_patch(old, new, rv).map_err(kube::Error::SerdeError)? else { return Ok(None) };
    let name = meta.name.as_deref().unwrap_or_default();
    api.patch_status(name, &kube::api::PatchParams::default(), &kube::api::Patch::Merge(&patch)).await.map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::ReplicaSetStatus;
    use serde_json::json;

    #[test]
    fn only_changes_are_sent_and_removals_are_null() {
        let old = json!({"replicas": 3, "readyReplicas": 2, "conditions": [{"type": "ReplicaFailure"}], "unknownToUs": 1});
        let new = json!({"replicas": 3, "readyReplicas": 3, "unknownToUs": 1});
        assert_eq!(merge_diff(&old, &new), Some(json!({"readyReplicas": 3, "conditions": null})));
        assert_eq!(merge_diff(&new, &new), None);
        // Lists are replaced whole.
        assert_eq!(merge_diff(&json!({"a": [1, 2]}), &json!({"a": [2]})), Some(json!({"a": [2]})));
        assert_eq!(merge_diff(&json!({"a": {"b": 1, "c": 2}}), &json!({"a": {"b": 1}})), Some(json!({"a": {"c": null}})));
    }

    #[test]
    fn a_typed_status_patch_leaves_fields_it_cannot_see() {
        let old = ReplicaSetStatus { replicas: 3, ready_replicas: Some(1), observed_generation: Some(4), ..Default::default() };
        let new = ReplicaSetStatus { replicas: 3, ready_replicas: Some(3), observed_generation: Some(5), ..Default::default() };
        let patch = status_patch(Some(&old), &new, Some("42")).expect("serializes").expect("a change");
        assert_eq!(patch, json!({"status": {"readyReplicas": 3, "observedGeneration": 5}, "metadata": {"resourceVersion": "42"}}));
        assert_eq!(status_patch(Some(&new), &new, None).expect("serializes"), None);
    }
}
