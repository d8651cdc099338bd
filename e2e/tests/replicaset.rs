//! The ReplicaSet controller (with the scheduler, on simulated nodes), each
//! scenario of its issue a test. Written against the public API only, so
//! it runs unchanged on a cluster given by E2E_KUBECONFIG.

use std::collections::BTreeSet;

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use rudder_e2e::{World, eventually};
use serde_json::{Value, json};

async fn world() -> World {
    World::start(&["rudder-replicaset-controller", "rudder-scheduler"]).await.expect("world")
}

fn rs(name: &str, replicas: i32, annotations: Value) -> ReplicaSet {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}, "annotations": annotations},
                              "spec": {"terminationGracePeriodSeconds": 1, "containers": [{"name": "c", "image": "nginx"}]}}}
    }))
    .expect("a ReplicaSet")
}

async fn pods_of(pods: &Api<Pod>, app: &str) -> Vec<Pod> {
    pods.list(&ListParams::default().labels(&format!("app={app}"))).await.expect("list").items
}

fn active(pods: &[Pod]) -> Vec<&Pod> {
    pods.iter().filter(|p| p.metadata.deletion_timestamp.is_none()).collect()
}

async fn set_replicas(rss: &Api<ReplicaSet>, name: &str, n: i32) {
    rss.patch(name, &PatchParams::default(), &Patch::Merge(json!({"spec": {"replicas": n}}))).await.expect("scaled");
}

/// Waits until the ReplicaSet's status shows `n` replicas, all ready, for its generation.
async fn settled(rss: &Api<ReplicaSet>, pods: &Api<Pod>, name: &str, n: i32) {
    eventually(120, &format!("{name} settled at {n} ready replicas"), || async {
        let r = rss.get(name).await.ok()?;
        let st = r.status?;
        let count = active(&pods_of(pods, name).await).len();
        (st.replicas == n && st.ready_replicas.unwrap_or(0) == n && st.observed_generation == r.metadata.generation && count == n as usize)
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn scale_up_from_0_to_10_to_100() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    let rss: Api<ReplicaSet> = Api::namespaced(world.client.clone(), &ns);
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    rss.create(&PostParams::default(), &rs("web", 0, json!({}))).await.unwrap();
    settled(&rss, &pods, "web", 0).await;
    set_replicas(&rss, "web", 10).await;
    settled(&rss, &pods, "web", 10).await;
    set_replicas(&rss, "web", 100).await;
    settled(&rss, &pods, "web", 100).await;
    let all = pods_of(&pods, "web").await;
    assert!(all.iter().all(|p| p.metadata.generate_name.as_deref() == Some("web-")));
    assert!(
        all.iter().all(|p| p
            .metadata
            .owner_references
            .as_ref()
            .is_some_and(|o| o[0].kind == "ReplicaSet" && o[0].controller == Some(true)))
    );
}

#[tokio::test]
async fn scale_down_deletes_unscheduled_and_not_ready_pods_first() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    let rss: Api<ReplicaSet> = Api::namespaced(world.client.clone(), &ns);
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    rss.create(&PostParams::default(), &rs("web", 3, json!({}))).await.unwrap();
    settled(&rss, &pods, "web", 3).await;
    // Two orphans the ReplicaSet adopts: one that cannot be scheduled, one never ready.
    for (name, spec, annotations) in [
        ("stuck", json!({"nodeSelector": {"disk": "none"}}), json!({})),
        ("sick", json!({}), json!({"sim.rudder.dev/never-ready": "true"})),
    ] {
        let mut spec = spec;
        spec["containers"] = json!([{"name": "c", "image": "nginx"}]);
        let p: Pod =
            serde_json::from_value(json!({"metadata": {"name": name, "labels": {"app": "web"}, "annotations": annotations}, "spec": spec}))
                .unwrap();
        pods.create(&PostParams::default(), &p).await.unwrap();
    }
    // Five pods for three replicas: the two worst go, the three running ones stay.
    eventually(60, "the two orphans deleted", || async {
        let left: BTreeSet<String> = active(&pods_of(&pods, "web").await).iter().filter_map(|p| p.metadata.name.clone()).collect();
        (left.len() == 3 && !left.contains("stuck") && !left.contains("sick")).then_some(())
    })
    .await;
    settled(&rss, &pods, "web", 3).await;
}

#[tokio::test]
async fn a_pod_deleted_by_hand_is_replaced() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    let rss: Api<ReplicaSet> = Api::namespaced(world.client.clone(), &ns);
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    rss.create(&PostParams::default(), &rs("web", 2, json!({}))).await.unwrap();
    settled(&rss, &pods, "web", 2).await;
    let victim = pods_of(&pods, "web").await[0].metadata.name.clone().unwrap();
    pods.delete(&victim, &Default::default()).await.unwrap();
    eventually(60, "a replacement", || async {
        let names: Vec<String> = active(&pods_of(&pods, "web").await).iter().filter_map(|p| p.metadata.name.clone()).collect();
        (names.len() == 2 && !names.contains(&victim)).then_some(())
    })
    .await;
    settled(&rss, &pods, "web", 2).await;
}

#[tokio::test]
async fn orphans_are_adopted_and_pods_that_stop_matching_are_released() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    let rss: Api<ReplicaSet> = Api::namespaced(world.client.clone(), &ns);
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    let orphan: Pod = serde_json::from_value(json!({"metadata": {"name": "orphan", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}}))
    .unwrap();
    pods.create(&PostParams::default(), &orphan).await.unwrap();
    let created = rss.create(&PostParams::default(), &rs("web", 2, json!({}))).await.unwrap();
    let uid = created.metadata.uid.unwrap();
    eventually(60, "the orphan adopted", || async {
        let p = pods.get("orphan").await.ok()?;
        p.metadata.owner_references?.iter().any(|o| o.uid == uid && o.controller == Some(true)).then_some(())
    })
    .await;
    settled(&rss, &pods, "web", 2).await;
    // Relabel an owned pod: released, and replaced.
    pods.patch("orphan", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"labels": {"app": "elsewhere"}}}))).await.unwrap();
    eventually(60, "the pod released", || async {
        let p = pods.get("orphan").await.ok()?;
        p.metadata.owner_references.unwrap_or_default().iter().all(|o| o.uid != uid).then_some(())
    })
    .await;
    settled(&rss, &pods, "web", 2).await;
}

fn rs_with(name: &str, replicas: i32, selector: Value, labels: Value) -> ReplicaSet {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": selector,
                 "template": {"metadata": {"labels": labels},
                              "spec": {"terminationGracePeriodSeconds": 1, "containers": [{"name": "c", "image": "nginx"}]}}}
    }))
    .expect("a ReplicaSet")
}

/// Pods per owning ReplicaSet name.
async fn owners(pods: &Api<Pod>) -> std::collections::BTreeMap<String, usize> {
    let mut out = std::collections::BTreeMap::new();
    for p in pods.list(&ListParams::default()).await.expect("list").items {
        if p.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let owner = p.metadata.owner_references.unwrap_or_default().into_iter().find(|o| o.controller == Some(true)).map(|o| o.name);
        *out.entry(owner.unwrap_or_else(|| "<none>".into())).or_default() += 1;
    }
    out
}

#[tokio::test]
async fn overlapping_selectors_do_not_fight() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    let rss: Api<ReplicaSet> = Api::namespaced(world.client.clone(), &ns);
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    // "wide" selects every app=web pod, including the canary's.
    rss.create(&PostParams::default(), &rs_with("wide", 3, json!({"matchLabels": {"app": "web"}}), json!({"app": "web"}))).await.unwrap();
    let canary = rs_with("canary", 2, json!({"matchLabels": {"app": "web", "track": "canary"}}), json!({"app": "web", "track": "canary"}));
    rss.create(&PostParams::default(), &canary).await.unwrap();
    let expected: std::collections::BTreeMap<String, usize> = [("canary".to_string(), 2), ("wide".to_string(), 3)].into_iter().collect();
    eventually(60, "3 pods for wide and 2 for canary", || async { (owners(&pods).await == expected).then_some(()) }).await;
    // Scaling one leaves the other's pods alone.
    set_replicas(&rss, "wide", 1).await;
    let expected: std::collections::BTreeMap<String, usize> = [("canary".to_string(), 2), ("wide".to_string(), 1)].into_iter().collect();
    eventually(60, "1 pod for wide, still 2 for canary", || async { (owners(&pods).await == expected).then_some(()) }).await;
}

#[tokio::test]
async fn set_based_selectors_select_by_expression() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    let rss: Api<ReplicaSet> = Api::namespaced(world.client.clone(), &ns);
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    let selector = json!({"matchExpressions": [
        {"key": "app", "operator": "In", "values": ["web", "api"]},
        {"key": "track", "operator": "NotIn", "values": ["canary"]},
        {"key": "team", "operator": "Exists"},
    ]});
    rss.create(&PostParams::default(), &rs_with("expr", 3, selector, json!({"app": "api", "team": "a"}))).await.unwrap();
    // An orphan the expressions exclude stays alone; one they select is adopted.
    for (name, labels) in
        [("excluded", json!({"app": "api", "team": "a", "track": "canary"})), ("included", json!({"app": "web", "team": "b"}))]
    {
        let p: Pod = serde_json::from_value(
            json!({"metadata": {"name": name, "labels": labels}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}),
        )
        .unwrap();
        pods.create(&PostParams::default(), &p).await.unwrap();
    }
    let expected: std::collections::BTreeMap<String, usize> = [("<none>".to_string(), 1), ("expr".to_string(), 3)].into_iter().collect();
    eventually(60, "three pods for expr, the excluded orphan untouched", || async { (owners(&pods).await == expected).then_some(()) })
        .await;
    let included = pods.get("included").await.ok().filter(|p| p.metadata.deletion_timestamp.is_none());
    let excluded = pods.get("excluded").await.unwrap();
    assert!(excluded.metadata.owner_references.unwrap_or_default().is_empty());
    if let Some(p) = included {
        assert_eq!(p.metadata.owner_references.unwrap()[0].name, "expr");
    }
}

#[tokio::test]
async fn deleting_cascades_and_orphaning_leaves_pods_without_owner() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    let rss: Api<ReplicaSet> = Api::namespaced(world.client.clone(), &ns);
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    rss.create(&PostParams::default(), &rs("gone", 2, json!({}))).await.unwrap();
    rss.create(&PostParams::default(), &rs("kept", 2, json!({}))).await.unwrap();
    settled(&rss, &pods, "gone", 2).await;
    settled(&rss, &pods, "kept", 2).await;
    rss.delete("gone", &kube::api::DeleteParams::background()).await.unwrap();
    rss.delete("kept", &kube::api::DeleteParams::orphan()).await.unwrap();
    eventually(60, "gone's pods deleted", || async { pods_of(&pods, "gone").await.is_empty().then_some(()) }).await;
    eventually(60, "kept's pods orphaned", || async {
        let left = pods_of(&pods, "kept").await;
        (left.len() == 2 && left.iter().all(|p| p.metadata.owner_references.as_ref().is_none_or(|o| o.is_empty()))).then_some(())
    })
    .await;
}

fn condition(rs: &ReplicaSet, type_: &str) -> Option<k8s_openapi::api::apps::v1::ReplicaSetCondition> {
    rs.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == type_).cloned()
}

#[tokio::test]
async fn a_failing_create_sets_replica_failure_and_recovers_when_fixed() {
    use k8s_openapi::api::events::v1::Event;
    use k8s_openapi::api::scheduling::v1::PriorityClass;
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    let rss: Api<ReplicaSet> = Api::namespaced(world.client.clone(), &ns);
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    // The Priority admission plugin refuses pods naming a PriorityClass
    // that does not exist (403), as kube-apiserver does.
    let class = format!("{ns}-class");
    let mut r = rs("web", 3, json!({}));
    r.spec.as_mut().unwrap().template.as_mut().unwrap().spec.as_mut().unwrap().priority_class_name = Some(class.clone());
    rss.create(&PostParams::default(), &r).await.unwrap();

    let failure = eventually(60, "ReplicaFailure True", || async {
        condition(&rss.get("web").await.ok()?, "ReplicaFailure").filter(|c| c.status == "True")
    })
    .await;
    assert_eq!(failure.reason.as_deref(), Some("FailedCreate"));
    let msg = failure.message.unwrap_or_default();
    assert_eq!(msg, format!("pods \"web-\" is forbidden: no PriorityClass with name {class} was found"));
    let events: Api<Event> = Api::namespaced(world.client.clone(), &ns);
    let warned = eventually(30, "a FailedCreate event", || async {
        let list = events.list(&ListParams::default()).await.ok()?;
        list.items
            .into_iter()
            .find(|e| e.reason.as_deref() == Some("FailedCreate") && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("web"))
    })
    .await;
    assert_eq!(warned.type_.as_deref(), Some("Warning"));
    assert_eq!(warned.note.unwrap_or_default(), format!("Error creating: {msg}"));
    assert!(pods_of(&pods, "web").await.is_empty());

    // Fixed: the class exists. The retries (backing off) create the pods
    // and the condition goes away.
    let pcs: Api<PriorityClass> = Api::all(world.client.clone());
    let pc: PriorityClass = serde_json::from_value(json!({"metadata": {"name": class}, "value": 1000})).unwrap();
    pcs.create(&PostParams::default(), &pc).await.unwrap();
    settled(&rss, &pods, "web", 3).await;
    eventually(30, "ReplicaFailure gone", || async { condition(&rss.get("web").await.ok()?, "ReplicaFailure").is_none().then_some(()) })
        .await;
    let _ = pcs.delete(&class, &Default::default()).await;
}

#[tokio::test]
async fn a_restart_mid_scale_up_creates_no_extra_pods() {
    use futures::StreamExt;
    use kube::runtime::watcher;
    use std::sync::{Arc, Mutex};
    // A slow client (5 requests/s) so that the scale-up is still under way
    // when the controller is killed.
    let mut world = World::start_with_args(&[
        ("rudder-replicaset-controller", &["--kube-api-qps=5", "--kube-api-burst=5"][..]),
        ("rudder-scheduler", &[][..]),
    ])
    .await
    .expect("world");
    let ns = world.namespace().await.unwrap();
    let rss: Api<ReplicaSet> = Api::namespaced(world.client.clone(), &ns);
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    // Every pod ever created for the ReplicaSet, by uid.
    let seen = Arc::new(Mutex::new(BTreeSet::new()));
    let record = seen.clone();
    let watch = tokio::spawn(watcher(pods.clone(), watcher::Config::default().labels("app=web")).for_each(move |e| {
        if let Ok(watcher::Event::Apply(p) | watcher::Event::InitApply(p)) = e {
            record.lock().unwrap().insert(p.metadata.uid.unwrap_or_default());
        }
        futures::future::ready(())
    }));
    let replicas = 40;
    rss.create(&PostParams::default(), &rs("web", replicas, json!({}))).await.unwrap();
    let before = eventually(60, "some pods created", || async {
        let n = pods_of(&pods, "web").await.len();
        (n >= 5).then_some(n)
    })
    .await;
    if !world.external() {
        assert!(before < replicas as usize, "the scale-up had already finished ({before} pods): nothing was tested");
    }
    world.restart("rudder-replicaset-controller").await.expect("restarted");
    settled(&rss, &pods, "web", replicas).await;
    eventually(30, "the watch saw every pod", || async { (seen.lock().unwrap().len() >= replicas as usize).then_some(()) }).await;
    watch.abort();
    let created = seen.lock().unwrap().len();
    assert_eq!(created, replicas as usize, "pods created in all, across the restart");
}
