//! Adoption and release of pods by a ReplicaSet through
//! `rudder_common::controller_ref::ControllerRefManager`, against the sandbox.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use rudder_common::controller_ref::{ClaimError, ControllerRefManager, controller_of, controller_ref_for};
use rudder_common::selector::Selector;
use rudder_sandbox::testing::{eventually, start};
use serde_json::json;

async fn create_rs(api: &Api<ReplicaSet>, name: &str, app: &str, finalizer: bool) -> ReplicaSet {
    let mut rs: ReplicaSet = serde_json::from_value(json!({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": name},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": app}},
            "template": {
                "metadata": {"labels": {"app": app}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}
            }
        }
    }))
    .expect("replicaset");
    if finalizer {
        rs.metadata.finalizers = Some(vec!["example.com/hold".into()]);
    }
    api.create(&PostParams::default(), &rs).await.expect("replicaset created")
}

async fn create_pod(api: &Api<Pod>, name: &str, app: &str, owner: Option<&ReplicaSet>, finalizer: bool) -> Pod {
    let mut pod: Pod = serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": app}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}
    }))
    .expect("pod");
    if let Some(owner) = owner {
        pod.metadata.owner_references = Some(vec![controller_ref_for(owner).expect("owner ref")]);
    }
    if finalizer {
        pod.metadata.finalizers = Some(vec!["example.com/hold".into()]);
    }
    api.create(&PostParams::default(), &pod).await.expect("pod created")
}

fn selector(app: &str) -> Selector {
    Selector::from_set(&BTreeMap::from([("app".to_string(), app.to_string())]))
}

fn names(pods: &[Pod]) -> Vec<String> {
    let mut v: Vec<String> = pods.iter().map(|p| p.name_any()).collect();
    v.sort();
    v
}

async fn controller_uid(api: &Api<Pod>, name: &str) -> Option<String> {
    let pod = api.get(name).await.expect("pod");
    controller_of(&pod.metadata).map(|r| r.uid.clone())
}

async fn release_finalizer<K>(api: &Api<K>, name: &str)
where
    K: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let _ = api.patch(name, &PatchParams::default(), &Patch::Merge(json!({"metadata": {"finalizers": null}}))).await;
}

#[tokio::test]
async fn claims_adopt_orphans_release_strays_and_leave_others_alone() {
    let (_sandbox, client) = start().await;
    let rss: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let web = create_rs(&rss, "web", "web", false).await;
    let other = create_rs(&rss, "other", "other", false).await;
    let web_uid = web.metadata.uid.clone().expect("uid");
    let other_uid = other.metadata.uid.clone().expect("uid");

    create_pod(&pods, "orphan", "web", None, false).await;
    create_pod(&pods, "kept", "web", Some(&web), false).await;
    create_pod(&pods, "stray", "changed", Some(&web), false).await;
    create_pod(&pods, "foreign", "web", Some(&other), false).await;
    create_pod(&pods, "unselected", "nope", None, false).await;
    create_pod(&pods, "dying", "web", None, true).await;
    pods.delete("dying", &DeleteParams::default()).await.expect("delete");
    let dying = eventually(10, "the dying pod's deletionTimestamp", || async {
        pods.get("dying").await.ok().filter(|p| p.metadata.deletion_timestamp.is_some())
    })
    .await;
    assert!(dying.metadata.deletion_timestamp.is_some());

    let listed = pods.list(&Default::default()).await.expect("list").items;
    let mut manager = ControllerRefManager::new(pods.clone(), rss.clone(), &web, selector("web")).expect("manager");
    let outcome = manager.claim(listed).await;
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(names(&outcome.claimed), vec!["kept", "orphan"]);
    // The adopted pod comes back as the server has it, with our controller reference.
    let adopted = outcome.claimed.iter().find(|p| p.name_any() == "orphan").expect("orphan claimed");
    let cref = controller_of(&adopted.metadata).expect("controller ref");
    assert_eq!((cref.kind.as_str(), cref.api_version.as_str(), cref.name.as_str()), ("ReplicaSet", "apps/v1", "web"));
    assert_eq!(cref.uid, web_uid);
    assert_eq!(cref.block_owner_deletion, Some(true));

    assert_eq!(controller_uid(&pods, "orphan").await.as_deref(), Some(web_uid.as_str()));
    assert_eq!(controller_uid(&pods, "kept").await.as_deref(), Some(web_uid.as_str()));
    let stray = pods.get("stray").await.expect("stray");
    assert!(stray.metadata.owner_references.as_deref().unwrap_or_default().iter().all(|r| r.uid != web_uid), "{stray:?}");
    assert_eq!(controller_uid(&pods, "foreign").await.as_deref(), Some(other_uid.as_str()));
    assert_eq!(controller_uid(&pods, "unselected").await, None);
    assert_eq!(controller_uid(&pods, "dying").await, None);

    // A second pass changes nothing and keeps both.
    let listed = pods.list(&Default::default()).await.expect("list").items;
    let mut manager = ControllerRefManager::new(pods.clone(), rss.clone(), &web, selector("web")).expect("manager");
    let outcome = manager.claim(listed).await;
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(names(&outcome.claimed), vec!["kept", "orphan"]);

    // Filters narrow what is claimed: a pod failing the filter is released.
    let listed = pods.list(&Default::default()).await.expect("list").items;
    let mut manager = ControllerRefManager::new(pods.clone(), rss.clone(), &web, selector("web")).expect("manager");
    let outcome = manager.claim_filtered(listed, |p: &Pod| p.name_any() != "kept").await;
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(names(&outcome.claimed), vec!["orphan"]);
    assert_eq!(controller_uid(&pods, "kept").await, None);

    release_finalizer(&pods, "dying").await;
}

#[tokio::test]
async fn gone_objects_are_not_errors() {
    let (_sandbox, client) = start().await;
    let rss: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let web = create_rs(&rss, "web", "web", false).await;
    let orphan = create_pod(&pods, "orphan", "web", None, false).await;
    let owned = create_pod(&pods, "owned", "changed", Some(&web), false).await;
    pods.delete("orphan", &DeleteParams { grace_period_seconds: Some(0), ..Default::default() }).await.expect("delete");
    pods.delete("owned", &DeleteParams { grace_period_seconds: Some(0), ..Default::default() }).await.expect("delete");
    eventually(10, "both pods gone", || async {
        let left = pods.list(&Default::default()).await.ok()?.items.len();
        (left == 0).then_some(())
    })
    .await;
    let mut manager = ControllerRefManager::new(pods.clone(), rss.clone(), &web, selector("web")).expect("manager");
    let outcome = manager.claim(vec![orphan.clone(), owned.clone()]).await;
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert!(outcome.claimed.is_empty());
    assert!(manager.adopt(&orphan).await.expect("404 is not an error").is_none());
    manager.release(&owned).await.expect("404 is not an error");

    // Releasing a pod that no longer has our reference is fine too.
    let plain = create_pod(&pods, "plain", "x", None, false).await;
    manager.release(&plain).await.expect("releasing a pod we do not own");
    assert!(pods.get("plain").await.expect("plain").metadata.owner_references.unwrap_or_default().is_empty());
}

#[tokio::test]
async fn no_adoption_while_the_owner_is_being_deleted() {
    let (_sandbox, client) = start().await;
    let rss: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let stale = create_rs(&rss, "doomed", "web", true).await;
    create_pod(&pods, "owned-stray", "changed", Some(&stale), false).await;
    create_pod(&pods, "orphan", "web", None, false).await;
    rss.delete("doomed", &DeleteParams::default()).await.expect("delete");
    let deleting = eventually(10, "the owner's deletionTimestamp", || async {
        rss.get("doomed").await.ok().filter(|r| r.metadata.deletion_timestamp.is_some())
    })
    .await;

    // An owner that knows it is being deleted neither adopts nor releases.
    let listed = pods.list(&Default::default()).await.expect("list").items;
    let mut manager = ControllerRefManager::new(pods.clone(), rss.clone(), &deleting, selector("web")).expect("manager");
    let outcome = manager.claim(listed).await;
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert!(outcome.claimed.is_empty());
    assert_eq!(controller_uid(&pods, "orphan").await, None);
    assert_eq!(controller_uid(&pods, "owned-stray").await, stale.metadata.uid.clone());

    // A stale copy of the owner learns it from the fresh GET and refuses to adopt.
    let orphan = pods.get("orphan").await.expect("orphan");
    let mut manager = ControllerRefManager::new(pods.clone(), rss.clone(), &stale, selector("web")).expect("manager");
    let outcome = manager.claim(vec![orphan.clone()]).await;
    assert!(outcome.claimed.is_empty());
    assert_eq!(outcome.errors.len(), 1);
    let msg = outcome.errors[0].to_string();
    let prefix = format!("can't adopt Pod default/orphan ({}): default/doomed has just been deleted at ", orphan.uid().unwrap_or_default());
    assert!(msg.starts_with(&prefix), "{msg}");
    assert!(msg.ends_with(" +0000 UTC"), "{msg}");
    assert!(matches!(outcome.errors[0], ClaimError::CannotAdopt { .. }));
    assert_eq!(controller_uid(&pods, "orphan").await, None);

    release_finalizer(&rss, "doomed").await;
}

#[tokio::test]
async fn no_adoption_when_the_owner_was_replaced() {
    let (_sandbox, client) = start().await;
    let rss: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let old = create_rs(&rss, "phoenix", "web", false).await;
    let old_uid = old.uid().expect("uid");
    rss.delete("phoenix", &DeleteParams::default()).await.expect("delete");
    eventually(10, "the old owner gone", || async { rss.get_opt("phoenix").await.ok().filter(Option::is_none) }).await;
    let new = create_rs(&rss, "phoenix", "web", false).await;
    let new_uid = new.uid().expect("uid");
    assert_ne!(old_uid, new_uid);
    let orphan = create_pod(&pods, "orphan", "web", None, false).await;
    let second = create_pod(&pods, "second", "web", None, false).await;

    let mut manager = ControllerRefManager::new(pods.clone(), rss.clone(), &old, selector("web")).expect("manager");
    let outcome = manager.claim(vec![orphan.clone(), second.clone()]).await;
    assert!(outcome.claimed.is_empty());
    let msgs: Vec<String> = outcome.errors.iter().map(ToString::to_string).collect();
    // Both adoptions fail with the one answer of the check.
    assert_eq!(
        msgs,
        vec![
            format!(
                "can't adopt Pod default/orphan ({}): can't recheck DeletionTimestamp: original ReplicaSet default/phoenix is gone: got uid {new_uid}, wanted {old_uid}",
                orphan.uid().unwrap_or_default()
            ),
            format!(
                "can't adopt Pod default/second ({}): can't recheck DeletionTimestamp: original ReplicaSet default/phoenix is gone: got uid {new_uid}, wanted {old_uid}",
                second.uid().unwrap_or_default()
            ),
        ]
    );
    assert_eq!(controller_uid(&pods, "orphan").await, None);

    // The new owner adopts.
    let mut manager = ControllerRefManager::new(pods.clone(), rss.clone(), &new, selector("web")).expect("manager");
    let outcome = manager.claim(vec![orphan]).await;
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(controller_uid(&pods, "orphan").await, Some(new_uid));

    // An owner that is gone altogether cannot adopt either.
    rss.delete("phoenix", &DeleteParams::default()).await.expect("delete");
    eventually(10, "the owner gone", || async { rss.get_opt("phoenix").await.ok().filter(Option::is_none) }).await;
    let mut manager = ControllerRefManager::new(pods.clone(), rss.clone(), &old, selector("web")).expect("manager");
    let err = manager.adopt(&second).await.expect_err("owner gone");
    assert!(err.to_string().contains("can't recheck DeletionTimestamp: "), "{err}");
}

#[tokio::test]
async fn adoption_and_release_carry_finalizers() {
    let (_sandbox, client) = start().await;
    let rss: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let web = create_rs(&rss, "web", "web", false).await;
    let orphan = create_pod(&pods, "orphan", "web", None, false).await;
    let mut manager = ControllerRefManager::new(pods.clone(), rss.clone(), &web, selector("web"))
        .expect("manager")
        .with_finalizers(["example.com/tracking"])
        .with_field_manager("rudder-test");
    let outcome = manager.claim(vec![orphan]).await;
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let pod = pods.get("orphan").await.expect("pod");
    assert_eq!(pod.metadata.finalizers.as_deref(), Some(&["example.com/tracking".to_string()][..]));
    assert!(controller_of(&pod.metadata).is_some());
    manager.release(&pod).await.expect("release");
    let pod = pods.get("orphan").await.expect("pod");
    assert!(pod.metadata.finalizers.as_deref().unwrap_or_default().is_empty());
    assert!(controller_of(&pod.metadata).is_none());
}

/// A pod deleted and recreated under the same name (new uid) between the
/// list and the write: the uid in the patch makes the API server refuse it
/// (422), so the new pod is neither adopted nor released by mistake.
#[tokio::test]
async fn a_recreated_object_is_neither_adopted_nor_released() {
    let (_sandbox, client) = start().await;
    let rss: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let web = create_rs(&rss, "web", "web", false).await;
    let other = create_rs(&rss, "other", "other", false).await;
    let stale_orphan = create_pod(&pods, "orphan", "web", None, false).await;
    let stale_owned = create_pod(&pods, "owned", "changed", Some(&web), false).await;
    for name in ["orphan", "owned"] {
        pods.delete(name, &DeleteParams { grace_period_seconds: Some(0), ..Default::default() }).await.expect("delete");
    }
    eventually(10, "both pods gone", || async { (pods.list(&Default::default()).await.ok()?.items.is_empty()).then_some(()) }).await;
    create_pod(&pods, "orphan", "web", None, false).await;
    create_pod(&pods, "owned", "changed", Some(&other), false).await;

    let mut manager = ControllerRefManager::new(pods.clone(), rss.clone(), &web, selector("web")).expect("manager");
    assert!(manager.adopt(&stale_orphan).await.is_err(), "adopting a recreated pod is refused");
    assert!(pods.get("orphan").await.expect("orphan").metadata.owner_references.unwrap_or_default().is_empty());
    manager.release(&stale_owned).await.expect("a 422 on release is not an error");
    assert_eq!(controller_uid(&pods, "owned").await, other.metadata.uid.clone(), "the new pod keeps its owner");
}
