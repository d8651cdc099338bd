//! Conformance: the three patch types, the scale subresource, deletion
//! (preconditions, finalizers, graceful pod deletion), garbage collection
//! (Background, Foreground, Orphan), namespace deletion, pods/binding and
//! pods/eviction.

mod util;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use k8s_openapi::api::policy::v1::{Eviction, PodDisruptionBudget};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions, PropagationPolicy};
use serde_json::{Value, json};
use util::{eventually, raw, start, status};

fn deployment(name: &str) -> Deployment {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [
                {"name": "app", "image": "nginx:1", "env": [{"name": "A", "value": "1"}]},
                {"name": "sidecar", "image": "envoy:1"}
            ]}}
        }
    }))
    .unwrap()
}

fn pod(name: &str, extra: Value) -> Pod {
    let mut p = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]}
    });
    json_patch::merge(&mut p, &extra);
    serde_json::from_value(p).unwrap()
}

fn containers(d: &Deployment) -> Vec<(String, String)> {
    d.spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap()
        .containers
        .iter()
        .map(|c| (c.name.clone(), c.image.clone().unwrap_or_default()))
        .collect()
}

#[tokio::test]
async fn strategic_merge_patch_merges_containers_by_name() {
    let (_s, c) = start().await;
    let deps: Api<Deployment> = Api::default_namespaced(c);
    deps.create(&PostParams::default(), &deployment("web")).await.unwrap();
    let p = json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:2", "env": [{"name": "B", "value": "2"}]}]}}}});
    let d = deps.patch("web", &PatchParams::default(), &Patch::Strategic(p)).await.unwrap();
    assert_eq!(containers(&d), [("app".to_string(), "nginx:2".to_string()), ("sidecar".to_string(), "envoy:1".to_string())]);
    let env = d.spec.as_ref().unwrap().template.spec.as_ref().unwrap().containers[0].env.clone().unwrap();
    // Upstream orders items the patch adds before the server's own ones.
    assert_eq!(env.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["B", "A"]);
    assert_eq!(d.metadata.generation, Some(2));
}

/// A uid in a patch or an update is a precondition: upstream keeps a
/// missing one, and rejects a different one as an immutable field (422),
/// which is how controllers avoid adopting a recreated object.
#[tokio::test]
async fn a_different_uid_in_a_write_is_rejected_as_immutable() {
    let (_s, c) = start().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(c);
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "u"}, "data": {"a": "1"}})).unwrap();
    let created = cms.create(&PostParams::default(), &cm).await.unwrap();
    let uid = created.metadata.uid.clone().unwrap();

    let same = json!({"metadata": {"uid": uid, "labels": {"x": "y"}}});
    let patched = cms.patch("u", &PatchParams::default(), &Patch::Strategic(same)).await.unwrap();
    assert_eq!(patched.metadata.uid.as_deref(), Some(uid.as_str()));

    for patch in [Patch::Strategic(json!({"metadata": {"uid": "other"}})), Patch::Merge(json!({"metadata": {"uid": "other"}}))] {
        let st = status(cms.patch("u", &PatchParams::default(), &patch).await.unwrap_err());
        assert_eq!(st.code, 422, "{st:?}");
        assert!(st.message.contains(r#"metadata.uid: Invalid value: "other": field is immutable"#), "{}", st.message);
    }
    let mut replaced = patched.clone();
    replaced.metadata.uid = Some("other".into());
    assert_eq!(status(cms.replace("u", &PostParams::default(), &replaced).await.unwrap_err()).code, 422);
    // No uid at all: the stored one is kept.
    replaced.metadata.uid = None;
    let kept = cms.replace("u", &PostParams::default(), &replaced).await.unwrap();
    assert_eq!(kept.metadata.uid.as_deref(), Some(uid.as_str()));
}

#[tokio::test]
async fn merge_patch_replaces_lists() {
    let (_s, c) = start().await;
    let deps: Api<Deployment> = Api::default_namespaced(c);
    deps.create(&PostParams::default(), &deployment("web")).await.unwrap();
    let p =
        json!({"metadata": {"labels": {"a": "b"}}, "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:3"}]}}}});
    let d = deps.patch("web", &PatchParams::default(), &Patch::Merge(p)).await.unwrap();
    assert_eq!(containers(&d), [("app".to_string(), "nginx:3".to_string())]);
    assert_eq!(d.metadata.labels.unwrap()["a"], "b");
}

#[tokio::test]
async fn json_patch_and_its_test_operation() {
    let (_s, c) = start().await;
    let deps: Api<Deployment> = Api::default_namespaced(c);
    deps.create(&PostParams::default(), &deployment("web")).await.unwrap();
    let p: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/spec/replicas", "value": 2},
        {"op": "replace", "path": "/spec/replicas", "value": 5}
    ]))
    .unwrap();
    let d = deps.patch("web", &PatchParams::default(), &Patch::<()>::Json(p)).await.unwrap();
    assert_eq!(d.spec.unwrap().replicas, Some(5));
    let failing: json_patch::Patch = serde_json::from_value(json!([{"op": "test", "path": "/spec/replicas", "value": 2}])).unwrap();
    let e = status(deps.patch("web", &PatchParams::default(), &Patch::<()>::Json(failing)).await.unwrap_err());
    assert_eq!(e.code, 422);
    assert_eq!(deps.get("web").await.unwrap().spec.unwrap().replicas, Some(5), "a failed patch changes nothing");
}

#[tokio::test]
async fn patch_with_stale_resource_version_conflicts() {
    let (_s, c) = start().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(c);
    let a = cms
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}})).unwrap(),
        )
        .await
        .unwrap();
    cms.patch("a", &PatchParams::default(), &Patch::Merge(json!({"data": {"x": "1"}}))).await.unwrap();
    let stale = json!({"metadata": {"resourceVersion": a.metadata.resource_version}, "data": {"x": "2"}});
    let e = status(cms.patch("a", &PatchParams::default(), &Patch::Merge(stale)).await.unwrap_err());
    assert_eq!((e.code, e.reason.as_str()), (409, "Conflict"));
}

#[tokio::test]
async fn scale_subresource() {
    let (_s, c) = start().await;
    let deps: Api<Deployment> = Api::default_namespaced(c);
    deps.create(&PostParams::default(), &deployment("web")).await.unwrap();
    let s = deps.get_scale("web").await.unwrap();
    assert_eq!(s.spec.unwrap().replicas, Some(2));
    assert_eq!(s.status.unwrap().selector.as_deref(), Some("app=web"));
    deps.patch_scale("web", &PatchParams::default(), &Patch::Merge(json!({"spec": {"replicas": 4}}))).await.unwrap();
    assert_eq!(deps.get("web").await.unwrap().spec.unwrap().replicas, Some(4));
}

#[tokio::test]
async fn delete_preconditions() {
    let (_s, c) = start().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(c);
    cms.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}})).unwrap(),
    )
    .await
    .unwrap();
    let dp =
        DeleteParams { preconditions: Some(Preconditions { uid: Some("not-it".into()), resource_version: None }), ..Default::default() };
    let e = status(cms.delete("a", &dp).await.unwrap_err());
    assert_eq!(e.code, 409);
    assert!(e.message.contains("Precondition failed: UID in precondition: not-it"), "{}", e.message);
    assert!(cms.get_opt("a").await.unwrap().is_some());
}

#[tokio::test]
async fn finalizers_hold_deletion_until_removed() {
    let (_s, c) = start().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(c);
    let o = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "finalizers": ["example.com/hold"]}});
    cms.create(&PostParams::default(), &serde_json::from_value(o).unwrap()).await.unwrap();
    let r = cms.delete("a", &DeleteParams::default()).await.unwrap();
    let held = r.left().expect("the object is returned while finalizers hold it");
    assert!(held.metadata.deletion_timestamp.is_some());
    assert_eq!(held.metadata.deletion_grace_period_seconds, Some(0));
    // No new finalizers on a deleting object.
    let e = status(
        cms.patch("a", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"finalizers": ["example.com/hold", "x/y"]}})))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 422);
    cms.patch("a", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"finalizers": null}}))).await.unwrap();
    assert!(cms.get_opt("a").await.unwrap().is_none());
}

#[tokio::test]
async fn bound_pods_are_deleted_gracefully_unbound_at_once() {
    let (_s, c) = start().await;
    let pods: Api<Pod> = Api::default_namespaced(c);
    pods.create(&PostParams::default(), &pod("unbound", json!({}))).await.unwrap();
    pods.create(&PostParams::default(), &pod("bound", json!({"spec": {"nodeName": "n1"}}))).await.unwrap();
    pods.delete("unbound", &DeleteParams::default()).await.unwrap();
    assert!(pods.get_opt("unbound").await.unwrap().is_none());
    let r = pods.delete("bound", &DeleteParams::default()).await.unwrap();
    let p = r.left().unwrap();
    assert_eq!(p.metadata.deletion_grace_period_seconds, Some(30));
    assert!(pods.get_opt("bound").await.unwrap().is_some(), "a bound pod waits for its kubelet");
    pods.delete("bound", &DeleteParams { grace_period_seconds: Some(0), ..Default::default() }).await.unwrap();
    assert!(pods.get_opt("bound").await.unwrap().is_none());
}

/// A ReplicaSet owned by a Deployment, and a pod owned by the ReplicaSet.
async fn owner_chain(c: &kube::Client, block: bool) -> (Deployment, ReplicaSet, Pod) {
    let deps: Api<Deployment> = Api::default_namespaced(c.clone());
    let rss: Api<ReplicaSet> = Api::default_namespaced(c.clone());
    let pods: Api<Pod> = Api::default_namespaced(c.clone());
    let d = deps.create(&PostParams::default(), &deployment("web")).await.unwrap();
    let oref = |kind: &str, name: &str, uid: &str, api: &str| json!([{"apiVersion": api, "kind": kind, "name": name, "uid": uid, "controller": true, "blockOwnerDeletion": block}]);
    let rs: ReplicaSet = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "web-1", "ownerReferences": oref("Deployment", "web", d.metadata.uid.as_deref().unwrap(), "apps/v1")},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}
    }))
    .unwrap();
    let rs = rss.create(&PostParams::default(), &rs).await.unwrap();
    let p = pods
        .create(
            &PostParams::default(),
            &pod(
                "web-1-a",
                json!({"metadata": {"ownerReferences": oref("ReplicaSet", "web-1", rs.metadata.uid.as_deref().unwrap(), "apps/v1")}}),
            ),
        )
        .await
        .unwrap();
    (d, rs, p)
}

#[tokio::test]
async fn background_deletion_cascades() {
    let (_s, c) = start().await;
    owner_chain(&c, false).await;
    let deps: Api<Deployment> = Api::default_namespaced(c.clone());
    let pods: Api<Pod> = Api::default_namespaced(c.clone());
    let rss: Api<ReplicaSet> = Api::default_namespaced(c.clone());
    deps.delete("web", &DeleteParams::background()).await.unwrap();
    assert!(deps.get_opt("web").await.unwrap().is_none(), "the owner goes at once");
    eventually(10, "the ReplicaSet and pod to be collected", || async {
        (rss.get_opt("web-1").await.unwrap().is_none() && pods.get_opt("web-1-a").await.unwrap().is_none()).then_some(())
    })
    .await;
}

#[tokio::test]
async fn foreground_deletion_waits_for_dependents() {
    let (_s, c) = start().await;
    owner_chain(&c, true).await;
    let deps: Api<Deployment> = Api::default_namespaced(c.clone());
    let rss: Api<ReplicaSet> = Api::default_namespaced(c.clone());
    let pods: Api<Pod> = Api::default_namespaced(c.clone());
    let r = deps.delete("web", &DeleteParams::foreground()).await.unwrap();
    let d = r.left().expect("the owner stays while dependents go");
    assert!(d.metadata.finalizers.unwrap().contains(&"foregroundDeletion".to_string()));
    eventually(10, "everything to be gone, owner last", || async {
        (deps.get_opt("web").await.unwrap().is_none()
            && rss.get_opt("web-1").await.unwrap().is_none()
            && pods.get_opt("web-1-a").await.unwrap().is_none())
        .then_some(())
    })
    .await;
}

#[tokio::test]
async fn orphan_deletion_leaves_dependents_without_owner() {
    let (_s, c) = start().await;
    owner_chain(&c, false).await;
    let rss: Api<ReplicaSet> = Api::default_namespaced(c.clone());
    let pods: Api<Pod> = Api::default_namespaced(c.clone());
    rss.delete("web-1", &DeleteParams::orphan()).await.unwrap();
    eventually(10, "the ReplicaSet to be gone", || async { rss.get_opt("web-1").await.unwrap().is_none().then_some(()) }).await;
    let p = pods.get("web-1-a").await.unwrap();
    assert!(p.metadata.owner_references.unwrap_or_default().is_empty(), "the orphan lost its owner reference");
}

#[tokio::test]
async fn jobs_orphan_their_pods_by_default() {
    let (_s, c) = start().await;
    let reg = rudder_sandbox::registry::find("batch", "v1", "jobs").unwrap();
    assert_eq!(reg.propagation, rudder_sandbox::registry::DefaultPropagation::Orphan);
    let _ = c;
    let _ = PropagationPolicy::Orphan;
}

#[tokio::test]
async fn dependents_of_missing_owners_are_collected() {
    let (_s, c) = start().await;
    let pods: Api<Pod> = Api::default_namespaced(c);
    let refs = json!({"metadata": {"ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "gone", "uid": "00000000-0000-0000-0000-000000000000"}]}});
    pods.create(&PostParams::default(), &pod("dangling", refs)).await.unwrap();
    eventually(10, "the dangling pod to be collected", || async { pods.get_opt("dangling").await.unwrap().is_none().then_some(()) }).await;
}

#[tokio::test]
async fn namespace_deletion_empties_then_removes_it() {
    let (_s, c) = start().await;
    let nss: Api<Namespace> = Api::all(c.clone());
    nss.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})).unwrap(),
    )
    .await
    .unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "team");
    for n in ["a", "b"] {
        cms.create(
            &PostParams::default(),
            &serde_json::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": n}})).unwrap(),
        )
        .await
        .unwrap();
    }
    let r = nss.delete("team", &DeleteParams::default()).await.unwrap();
    assert!(r.left().is_some(), "the namespace is returned while it terminates");
    eventually(10, "the namespace to be gone", || async { nss.get_opt("team").await.unwrap().is_none().then_some(()) }).await;
    assert!(cms.get_opt("a").await.unwrap().is_none());
}

#[tokio::test]
async fn binding_assigns_a_node_once() {
    let (_s, c) = start().await;
    let pods: Api<Pod> = Api::default_namespaced(c.clone());
    pods.create(&PostParams::default(), &pod("p", json!({}))).await.unwrap();
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"}, "target": {"apiVersion": "v1", "kind": "Node", "name": "n1"}});
    let (code, body) = raw(&c, "POST", "/api/v1/namespaces/default/pods/p/binding", "application/json", &binding.to_string()).await;
    assert_eq!(code, 201, "{body}");
    let p = pods.get("p").await.unwrap();
    assert_eq!(p.spec.unwrap().node_name.as_deref(), Some("n1"));
    let conds = p.status.unwrap().conditions.unwrap();
    assert!(conds.iter().any(|c| c.type_ == "PodScheduled" && c.status == "True"));
    let (code, body) = raw(&c, "POST", "/api/v1/namespaces/default/pods/p/binding", "application/json", &binding.to_string()).await;
    assert_eq!(code, 409, "{body}");
}

#[tokio::test]
async fn eviction_honours_pod_disruption_budgets() {
    let (s, _) = start().await;
    let c = util::no_retry(&s);
    let pods: Api<Pod> = Api::default_namespaced(c.clone());
    let pdbs: Api<PodDisruptionBudget> = Api::default_namespaced(c.clone());
    pods.create(&PostParams::default(), &pod("p", json!({"spec": {"nodeName": "n1"}}))).await.unwrap();
    pods.patch_status("p", &PatchParams::default(), &Patch::Merge(json!({"status": {"phase": "Running"}}))).await.unwrap();
    let pdb: PodDisruptionBudget =
        serde_json::from_value(json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "b"}, "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}})).unwrap();
    let pdb = pdbs.create(&PostParams::default(), &pdb).await.unwrap();
    let status_of = |allowed: i32| json!({"status": {"disruptionsAllowed": allowed, "currentHealthy": 1, "desiredHealthy": 1, "expectedPods": 1, "observedGeneration": pdb.metadata.generation}});
    pdbs.patch_status("b", &PatchParams::default(), &Patch::Merge(status_of(0))).await.unwrap();
    let e = status(pods.evict("p", &Default::default()).await.unwrap_err());
    assert_eq!(e.code, 429);
    assert!(pods.get_opt("p").await.unwrap().is_some());
    pdbs.patch_status("b", &PatchParams::default(), &Patch::Merge(status_of(1))).await.unwrap();
    pods.evict("p", &Default::default()).await.unwrap();
    let p = pods.get("p").await.unwrap();
    assert!(p.metadata.deletion_timestamp.is_some(), "the evicted pod is deleting");
    let _ = Eviction::default();
}

/// As kube-apiserver since v1.26: an eviction marks the pod with the
/// `DisruptionTarget` condition before deleting it (what a Job's pod
/// failure policy matches), but for a dry run; a failed precondition
/// leaves the pod untouched.
#[tokio::test]
async fn eviction_marks_the_pod_as_a_disruption_target() {
    let (s, _) = start().await;
    let c = util::no_retry(&s);
    let pods: Api<Pod> = Api::default_namespaced(c.clone());
    pods.create(&PostParams::default(), &pod("p", json!({"spec": {"nodeName": "n1"}}))).await.unwrap();
    pods.patch_status("p", &PatchParams::default(), &Patch::Merge(json!({"status": {"phase": "Running"}}))).await.unwrap();
    let disruption = |p: &Pod| p.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == "DisruptionTarget").cloned();

    let dry = json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "p"}});
    let (code, body) = raw(&c, "POST", "/api/v1/namespaces/default/pods/p/eviction?dryRun=All", "application/json", &dry.to_string()).await;
    assert_eq!(code, 201, "{body}");
    let p = pods.get("p").await.unwrap();
    assert!(disruption(&p).is_none() && p.metadata.deletion_timestamp.is_none(), "a dry run changes nothing: {p:?}");

    let wrong_uid = json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "p"},
                           "deleteOptions": {"preconditions": {"uid": "not-the-uid"}}});
    let (code, body) = raw(&c, "POST", "/api/v1/namespaces/default/pods/p/eviction", "application/json", &wrong_uid.to_string()).await;
    assert_eq!(code, 409, "{body}");
    assert!(disruption(&pods.get("p").await.unwrap()).is_none());

    let rv = pods.get("p").await.unwrap().metadata.resource_version;
    let with_rv = json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "p"},
                         "deleteOptions": {"preconditions": {"resourceVersion": rv}}});
    let (code, body) = raw(&c, "POST", "/api/v1/namespaces/default/pods/p/eviction", "application/json", &with_rv.to_string()).await;
    assert_eq!(code, 201, "the precondition holds for the pod before the condition is written: {body}");
    let p = pods.get("p").await.unwrap();
    assert!(p.metadata.deletion_timestamp.is_some(), "the evicted pod is deleting");
    let cond = disruption(&p).expect("a DisruptionTarget condition");
    assert_eq!(
        (cond.status.as_str(), cond.reason.as_deref(), cond.message.as_deref()),
        ("True", Some("EvictionByEvictionAPI"), Some("Eviction API: evicting"))
    );
    assert!(cond.last_transition_time.is_some());
}
