//! rudder-scheduler and pods with ResourceClaims (resource.k8s.io/v1): what
//! kube-scheduler v1.36's DynamicResources plugin says and does in each
//! situation Rudder supports. Rudder does not allocate devices (no DRA
//! driver runs on the sandbox), so a pod needing a new allocation stays
//! Pending with upstream's message for a cluster without matching devices.

use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::api::resource::v1::{DeviceClass, ResourceClaim};
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use rudder_e2e::{World, eventually};
use serde_json::{Value, json};

const CLASS: &str = "gpu.example.com";

async fn world() -> World {
    World::start(&["rudder-scheduler"]).await.expect("world")
}

fn pod(name: &str, claims: Value) -> Pod {
    serde_json::from_value(json!({"metadata": {"name": name}, "spec": {
        "schedulerName": "rudder-scheduler",
        "resourceClaims": claims,
        "containers": [{"name": "c", "image": "nginx", "resources": {"claims": [{"name": "gpu"}]}}]
    }}))
    .expect("a pod")
}

fn plain(name: &str) -> Pod {
    serde_json::from_value(json!({"metadata": {"name": name}, "spec": {
        "schedulerName": "rudder-scheduler", "containers": [{"name": "c", "image": "nginx"}]
    }}))
    .expect("a pod")
}

async fn create_claim(world: &World, ns: &str, name: &str) -> ResourceClaim {
    let claim: ResourceClaim = serde_json::from_value(json!({"metadata": {"name": name},
        "spec": {"devices": {"requests": [{"name": "gpu", "exactly": {"deviceClassName": CLASS}}]}}}))
    .unwrap();
    Api::<ResourceClaim>::namespaced(world.client.clone(), ns).create(&PostParams::default(), &claim).await.expect("claim created")
}

/// The claim allocated (as a DRA driver would) to devices on `node`.
async fn allocate(world: &World, ns: &str, name: &str, node: &str) {
    let status = json!({"status": {"allocation": {
        "devices": {"results": [{"request": "gpu", "driver": CLASS, "pool": node, "device": "gpu-0"}]},
        "nodeSelector": {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}
    }}});
    Api::<ResourceClaim>::namespaced(world.client.clone(), ns)
        .patch_status(name, &PatchParams::default(), &Patch::Merge(status))
        .await
        .expect("claim allocated");
}

async fn create_class(world: &World) {
    let class: DeviceClass = serde_json::from_value(json!({"metadata": {"name": CLASS}})).unwrap();
    Api::<DeviceClass>::all(world.client.clone()).create(&PostParams::default(), &class).await.expect("class created");
}

/// Waits until the pod's PodScheduled=False condition and one of its
/// FailedScheduling events both say exactly `expected`.
async fn says_unschedulable(world: &World, ns: &str, name: &str, expected: &str) {
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), ns);
    let events: Api<Event> = Api::namespaced(world.client.clone(), ns);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut last = String::new();
    loop {
        let condition = pods.get(name).await.ok().and_then(|p| {
            p.status?.conditions?.into_iter().find(|c| c.type_ == "PodScheduled" && c.reason.as_deref() == Some("Unschedulable"))
        });
        if let Some(c) = condition {
            last = c.message.unwrap_or_default();
        }
        if last == expected {
            let list = events.list(&ListParams::default().fields(&format!("regarding.name={name}"))).await.expect("events");
            if list.items.iter().any(|e| e.reason.as_deref() == Some("FailedScheduling") && e.note.as_deref() == Some(expected)) {
                return;
            }
        }
        assert!(tokio::time::Instant::now() < deadline, "{name}: wanted\n  {expected}\nlast condition message:\n  {last}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn node_of(pods: &Api<Pod>, name: &str) -> String {
    eventually(60, &format!("{name} to be scheduled"), || async { pods.get(name).await.ok()?.spec?.node_name }).await
}

#[tokio::test]
async fn a_pod_whose_claim_does_not_exist_waits_silently_until_it_does() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    pods.create(&PostParams::default(), &pod("waits", json!([{"name": "gpu", "resourceClaimName": "later"}]))).await.unwrap();
    // A pod created after it is placed: the scheduler has looked at both.
    pods.create(&PostParams::default(), &plain("after")).await.unwrap();
    node_of(&pods, "after").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let p = pods.get("waits").await.unwrap();
    assert!(p.spec.unwrap().node_name.is_none());
    assert!(p.status.and_then(|s| s.conditions).unwrap_or_default().is_empty(), "no PodScheduled condition while claims are missing");
    let events: Api<Event> = Api::namespaced(world.client.clone(), &ns);
    let list = events.list(&ListParams::default().fields("regarding.name=waits")).await.unwrap();
    assert!(list.items.is_empty(), "no scheduling event: {:?}", list.items.iter().map(|e| &e.note).collect::<Vec<_>>());
    // Once the claim exists the pod is tried, and told why it cannot run.
    create_claim(&world, &ns, "later").await;
    says_unschedulable(
        &world,
        &ns,
        "waits",
        "0/3 nodes are available: request gpu: device class gpu.example.com does not exist. no new claims to deallocate, preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    )
    .await;
}

#[tokio::test]
async fn a_claim_from_a_template_not_yet_created_keeps_the_pod_waiting() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    pods.create(&PostParams::default(), &pod("templated", json!([{"name": "gpu", "resourceClaimTemplateName": "gpus"}]))).await.unwrap();
    pods.create(&PostParams::default(), &plain("after")).await.unwrap();
    node_of(&pods, "after").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let p = pods.get("templated").await.unwrap();
    assert!(p.spec.unwrap().node_name.is_none());
    assert!(p.status.and_then(|s| s.conditions).unwrap_or_default().is_empty());
}

#[tokio::test]
async fn a_claim_whose_device_class_exists_cannot_be_allocated_by_rudder() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    create_class(&world).await;
    create_claim(&world, &ns, "gpu").await;
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    pods.create(&PostParams::default(), &pod("needs-gpu", json!([{"name": "gpu", "resourceClaimName": "gpu"}]))).await.unwrap();
    says_unschedulable(
        &world,
        &ns,
        "needs-gpu",
        "0/3 nodes are available: 3 cannot allocate all claims. still not schedulable, preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    )
    .await;
}

#[tokio::test]
async fn an_allocated_claim_takes_the_pod_to_its_node_and_reserves_it() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    let nodes = Api::<Node>::all(world.client.clone()).list(&ListParams::default()).await.unwrap();
    let target = nodes.items.last().unwrap().metadata.name.clone().unwrap();
    create_claim(&world, &ns, "gpu").await;
    allocate(&world, &ns, "gpu", &target).await;
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    pods.create(&PostParams::default(), &pod("on-gpu", json!([{"name": "gpu", "resourceClaimName": "gpu"}]))).await.unwrap();
    assert_eq!(node_of(&pods, "on-gpu").await, target);
    let claim = Api::<ResourceClaim>::namespaced(world.client.clone(), &ns).get("gpu").await.unwrap();
    let uid = pods.get("on-gpu").await.unwrap().metadata.uid.unwrap();
    let reserved = claim.status.and_then(|s| s.reserved_for).unwrap_or_default();
    assert_eq!(reserved.len(), 1, "{reserved:?}");
    assert_eq!((reserved[0].resource.as_str(), reserved[0].name.as_str(), reserved[0].uid.as_str()), ("pods", "on-gpu", uid.as_str()));
}

#[tokio::test]
async fn a_claim_allocated_where_the_pod_cannot_go_is_deallocated() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    create_class(&world).await;
    create_claim(&world, &ns, "gpu").await;
    allocate(&world, &ns, "gpu", "gone-node").await;
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    pods.create(&PostParams::default(), &pod("stranded", json!([{"name": "gpu", "resourceClaimName": "gpu"}]))).await.unwrap();
    says_unschedulable(
        &world,
        &ns,
        "stranded",
        "0/3 nodes are available: 3 resourceclaim not available on the node. deallocation of ResourceClaim completed, preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    )
    .await;
    let claims: Api<ResourceClaim> = Api::namespaced(world.client.clone(), &ns);
    eventually(30, "the allocation to be cleared", || async {
        claims.get("gpu").await.ok()?.status.is_none_or(|s| s.allocation.is_none()).then_some(())
    })
    .await;
    // Tried again with the claim unallocated: nothing Rudder can allocate.
    says_unschedulable(
        &world,
        &ns,
        "stranded",
        "0/3 nodes are available: 3 cannot allocate all claims. still not schedulable, preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    )
    .await;
}
