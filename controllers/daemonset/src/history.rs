//! A DaemonSet's history in apps/v1 ControllerRevisions, as upstream's
//! daemon controller keeps it (`constructHistory`, `snapshot`, `Match`,
//! `getPatch`, `dedupCurHistories`, `cleanupHistory`): one revision per
//! template, named `<ds>-<hash>`, whose data is the patch that restores
//! the template (what `kubectl rollout undo daemonset` applies), numbered
//! by `revision`.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use rudder_common::template_hash::pod_template_hash;
use serde_json::{Value, json};

use crate::pods::REVISION_HASH_LABEL;

/// Upstream `getPatch`: `{"spec":{"template":<template, "$patch":"replace">}}`
/// as Go's encoding/json writes it after a round trip through maps (see
/// [`go_json`]); the fields Go always writes (`metadata`, `spec`,
/// `spec.containers`, each container's `resources`) are there even when
/// absent here. Since v1.34 a zero `creationTimestamp` is omitted.
pub fn revision_data(ds: &DaemonSet) -> Vec<u8> {
    let template = ds.spec.as_ref().map(|s| s.template.clone()).unwrap_or_default();
    let mut t = serde_json::to_value(&template).unwrap_or_else(|_| json!({}));
    go_zero_fields(&mut t);
    t["$patch"] = json!("replace");
    go_json(&json!({"spec": {"template": t}}))
}

/// A JSON value as Go's encoding/json writes a generic map: compact, every
/// object's keys sorted (serde_json's maps are), and strings HTML-safe
/// (`<`, `>`, `&`, U+2028 and U+2029 escaped as `\u003c` and so on; these
/// characters can only occur inside strings).
pub fn go_json(v: &Value) -> Vec<u8> {
    let text = serde_json::to_string(v).unwrap_or_default();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.into_bytes()
}

/// The struct-typed fields Go's encoding/json writes even when empty.
fn go_zero_fields(template: &mut Value) {
    let Some(t) = template.as_object_mut() else { return };
    t.entry("metadata").or_insert_with(|| json!({}));
    let spec = t.entry("spec").or_insert_with(|| json!({}));
    if let Some(spec) = spec.as_object_mut() {
        spec.entry("containers").or_insert(Value::Null);
        for list in ["containers", "initContainers", "ephemeralContainers"] {
            if let Some(Value::Array(cs)) = spec.get_mut(list) {
                for c in cs.iter_mut().filter_map(Value::as_object_mut) {
                    c.entry("resources").or_insert_with(|| json!({}));
                }
            }
        }
    }
}

/// Upstream `Match`: whether the revision holds the DaemonSet's current template.
pub fn matches(ds: &DaemonSet, revision: &ControllerRevision) -> bool {
    revision.data.as_ref().is_some_and(|d| raw_bytes(d) == revision_data(ds))
}

/// A revision's data as Go wrote it (kept as a JSON value here, it is
/// written back the same way).
fn raw_bytes(data: &RawExtension) -> Vec<u8> {
    go_json(&data.0)
}

/// The `controller-revision-hash` of the DaemonSet's current template
/// (upstream `controller.ComputeHash` with `status.collisionCount`).
pub fn current_hash(ds: &DaemonSet) -> String {
    let template = ds.spec.as_ref().map(|s| s.template.clone()).unwrap_or_default();
    pod_template_hash(&template, ds.status.as_ref().and_then(|s| s.collision_count))
}

/// Upstream `snapshot`'s object: the revision `revision` of the DaemonSet's
/// current template (name `<ds>-<hash>`, the template's labels plus the
/// hash label, the DaemonSet's annotations, its ControllerRef).
pub fn new_revision(ds: &DaemonSet, revision: i64) -> ControllerRevision {
    let hash = current_hash(ds);
    let name = format!("{}-{hash}", ds.metadata.name.as_deref().unwrap_or_default());
    let mut labels: BTreeMap<String, String> =
        ds.spec.as_ref().and_then(|s| s.template.metadata.as_ref()).and_then(|m| m.labels.clone()).unwrap_or_default();
    labels.insert(REVISION_HASH_LABEL.into(), hash);
    let data: Value = serde_json::from_slice(&revision_data(ds)).unwrap_or(Value::Null);
    ControllerRevision {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some(name),
            namespace: ds.metadata.namespace.clone(),
            labels: Some(labels),
            annotations: ds.metadata.annotations.clone(),
            owner_references: rudder_common::controller_ref::controller_ref_for(ds).map(|r| vec![r]),
            ..Default::default()
        },
        data: Some(RawExtension(data)),
        revision,
    }
}

/// What `constructHistory` decides from the DaemonSet's revisions.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPlan {
    /// Revisions lacking the hash label get their own name as its value (an update each).
    pub relabel: Vec<String>,
    /// The current revision: an existing one (by name), or one to create.
    pub current: Current,
    /// Older revisions (by name), not the current template.
    pub old: Vec<String>,
    /// Duplicates of the current template to delete, after relabelling the
    /// pods whose hash label differs from the kept one's.
    pub duplicates: Vec<String>,
    /// The revision number the current revision must have (an update when it is lower).
    pub revision: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Current {
    Existing { name: String, hash: String, revision: i64 },
    Create(Box<ControllerRevision>),
}

/// Upstream `constructHistory` and `dedupCurHistories` without their I/O:
/// revisions matching the current template are current (the highest
/// revision kept, the others duplicates); the current revision number is
/// one more than the highest old one.
pub fn plan_history(ds: &DaemonSet, revisions: &[ControllerRevision]) -> HistoryPlan {
    let mut relabel = Vec::new();
    let (mut current, mut old): (Vec<&ControllerRevision>, Vec<&ControllerRevision>) = (Vec::new(), Vec::new());
    for r in revisions {
        if !r.metadata.labels.as_ref().is_some_and(|l| l.contains_key(REVISION_HASH_LABEL)) {
            relabel.push(name(r).to_string());
        }
        if matches(ds, r) { current.push(r) } else { old.push(r) }
    }
    let revision = old.iter().map(|r| r.revision).max().unwrap_or(0) + 1;
    let (current, duplicates) = match current.iter().copied().fold(None::<&ControllerRevision>, |keep, r| match keep {
        Some(k) if r.revision < k.revision => Some(k),
        _ => Some(r),
    }) {
        None => (Current::Create(Box::new(new_revision(ds, revision))), Vec::new()),
        Some(keep) => {
            let dups = current.iter().filter(|r| name(r) != name(keep)).map(|r| name(r).to_string()).collect();
            (Current::Existing { name: name(keep).to_string(), hash: hash_of(keep), revision: keep.revision }, dups)
        }
    };
    HistoryPlan { relabel, current, old: old.iter().map(|r| name(r).to_string()).collect(), duplicates, revision }
}

fn name(r: &ControllerRevision) -> &str {
    r.metadata.name.as_deref().unwrap_or_default()
}

/// A revision's hash: its label, or (unlabelled, as upstream relabels it) its name.
pub fn hash_of(r: &ControllerRevision) -> String {
    r.metadata.labels.as_ref().and_then(|l| l.get(REVISION_HASH_LABEL)).cloned().unwrap_or_else(|| name(r).to_string())
}

/// Upstream `cleanupHistory`: beyond `revisionHistoryLimit` (default 10)
/// old revisions, the oldest ones whose hash no pod (terminal ones
/// included) carries are deleted, until the count is back to the limit.
pub fn revisions_to_delete(ds: &DaemonSet, old: &[&ControllerRevision], live_hashes: &BTreeSet<String>) -> Vec<String> {
    let limit = ds.spec.as_ref().and_then(|s| s.revision_history_limit).unwrap_or(10).max(0) as usize;
    let mut to_kill = old.len().saturating_sub(limit);
    let mut sorted: Vec<&&ControllerRevision> = old.iter().collect();
    sorted.sort_by(|a, b| a.revision.cmp(&b.revision).then_with(|| name(a).cmp(name(b))));
    let mut out = Vec::new();
    for r in sorted {
        if to_kill == 0 {
            break;
        }
        if live_hashes.contains(&hash_of(r)) {
            continue;
        }
        out.push(name(r).to_string());
        to_kill -= 1;
    }
    out
}

/// The bytes of a revision's data, as stored (for comparisons in tests and logs).
pub fn data_string(r: &ControllerRevision) -> String {
    r.data.as_ref().map(|d| String::from_utf8_lossy(&raw_bytes(d)).into_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ds(image: &str) -> DaemonSet {
        serde_json::from_value(json!({"metadata": {"name": "agent", "namespace": "kube-system", "uid": "u1",
                                                    "annotations": {"deprecated.daemonset.template.generation": "1"}},
            "spec": {"selector": {"matchLabels": {"app": "agent"}},
                     "template": {"metadata": {"labels": {"app": "agent"}},
                                  "spec": {"containers": [{"name": "a", "image": image, "terminationMessagePath": "/dev/termination-log"}],
                                           "restartPolicy": "Always", "dnsPolicy": "ClusterFirst"}}}}))
        .unwrap()
    }

    #[test]
    fn the_data_is_the_template_patch_as_go_writes_it() {
        let data = String::from_utf8(revision_data(&ds("agent:1"))).unwrap();
        assert_eq!(
            data,
            r#"{"spec":{"template":{"$patch":"replace","metadata":{"labels":{"app":"agent"}},"spec":{"containers":[{"image":"agent:1","name":"a","resources":{},"terminationMessagePath":"/dev/termination-log"}],"dnsPolicy":"ClusterFirst","restartPolicy":"Always"}}}}"#
        );
        // Go's HTML-safe strings.
        let mut odd = ds("agent:1");
        odd.spec.as_mut().unwrap().template.spec.as_mut().unwrap().containers[0].args = Some(vec!["a<b && c>d \u{2028}".into()]);
        let data = String::from_utf8(revision_data(&odd)).unwrap();
        assert!(data.contains(r#""args":["a\u003cb \u0026\u0026 c\u003ed \u2028"]"#), "{data}");
        // A stored revision is compared as Go wrote it.
        let r = new_revision(&odd, 1);
        assert!(matches(&odd, &r));
    }

    #[test]
    fn a_new_template_gets_a_new_revision_numbered_after_the_old_ones() {
        let v1 = ds("agent:1");
        let r1 = new_revision(&v1, 1);
        assert_eq!(r1.metadata.name.as_deref(), Some(format!("agent-{}", current_hash(&v1)).as_str()));
        assert_eq!(r1.metadata.labels.as_ref().unwrap().get(REVISION_HASH_LABEL), Some(&current_hash(&v1)));
        assert_eq!(r1.metadata.owner_references.as_ref().unwrap()[0].kind, "DaemonSet");
        assert!(matches(&v1, &r1));
        let v2 = ds("agent:2");
        assert!(!matches(&v2, &r1));
        let plan = plan_history(&v2, std::slice::from_ref(&r1));
        assert_eq!(plan.old, [r1.metadata.name.clone().unwrap()]);
        assert_eq!(plan.revision, 2);
        let Current::Create(r2) = plan.current else { panic!("a revision to create") };
        assert_eq!(r2.revision, 2);
        // Rolled back to v1: the old revision is current again, numbered 3.
        let plan = plan_history(&v1, &[r1.clone(), *r2.clone()]);
        assert_eq!(plan.revision, 3);
        assert!(matches!(plan.current, Current::Existing { revision: 1, .. }));
    }

    #[test]
    fn duplicates_keep_the_highest_revision() {
        let v1 = ds("agent:1");
        let mut a = new_revision(&v1, 1);
        let mut b = new_revision(&v1, 4);
        a.metadata.name = Some("agent-a".into());
        b.metadata.name = Some("agent-b".into());
        b.metadata.labels = None;
        let plan = plan_history(&v1, &[a, b]);
        assert_eq!(plan.duplicates, ["agent-a"]);
        assert_eq!(plan.relabel, ["agent-b"]);
        assert_eq!(plan.current, Current::Existing { name: "agent-b".into(), hash: "agent-b".into(), revision: 4 });
    }

    #[test]
    fn cleanup_keeps_the_limit_and_live_revisions() {
        let mut d = ds("agent:9");
        d.spec.as_mut().unwrap().revision_history_limit = Some(1);
        let old: Vec<ControllerRevision> = (1..=4)
            .map(|i| {
                let mut r = new_revision(&ds(&format!("agent:{i}")), i);
                r.metadata.labels.as_mut().unwrap().insert(REVISION_HASH_LABEL.into(), format!("h{i}"));
                r
            })
            .collect();
        let refs: Vec<&ControllerRevision> = old.iter().collect();
        let live = BTreeSet::from(["h1".to_string()]);
        let names = |v: &[usize]| v.iter().map(|i| old[*i].metadata.name.clone().unwrap()).collect::<Vec<_>>();
        assert_eq!(revisions_to_delete(&d, &refs, &live), names(&[1, 2, 3]));
        assert_eq!(revisions_to_delete(&d, &refs, &BTreeSet::new()), names(&[0, 1, 2]));
        d.spec.as_mut().unwrap().revision_history_limit = None;
        assert!(revisions_to_delete(&d, &refs, &BTreeSet::new()).is_empty());
    }
}
