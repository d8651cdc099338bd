//! Namespace deletion while Rudder's controllers still act in it: the
//! scenario of the tracker's issue 22 (a Deployment of 10, its image changed,
//! the namespace deleted half a second later, with the ReplicaSet and
//! Deployment controllers and the scheduler running on simulated nodes).
//! Written against the public API only, so it runs unchanged on a cluster
//! given by E2E_KUBECONFIG.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::discovery::{Discovery, Scope};
use kube::{Api, ResourceExt};
use rudder_e2e::{World, eventually};
use serde_json::json;

const CONTROLLERS: [&str; 3] = ["rudder-deployment-controller", "rudder-replicaset-controller", "rudder-scheduler"];

fn deployment(name: &str, replicas: i32, image: &str) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"terminationGracePeriodSeconds": 1, "containers": [{"name": "web", "image": image}]}}}
    }))
    .expect("a Deployment")
}

/// Every object left in `ns`, of every namespaced resource discovery lists
/// that can be listed: "kind/name".
async fn leftovers(client: &kube::Client, ns: &str) -> Vec<String> {
    let discovery = Discovery::new(client.clone()).run().await.expect("discovery");
    let mut left = Vec::new();
    for group in discovery.groups() {
        for (ar, caps) in group.recommended_resources() {
            if caps.scope != Scope::Namespaced || !caps.supports_operation(kube::discovery::verbs::LIST) {
                continue;
            }
            let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
            if let Ok(list) = api.list(&ListParams::default()).await {
                left.extend(list.items.iter().map(|o| format!("{}/{}", ar.kind, o.name_any())));
            }
        }
    }
    left
}

#[tokio::test]
async fn a_namespace_deleted_mid_rollout_is_gone_and_leaves_nothing_behind() {
    let world = World::start(&CONTROLLERS).await.expect("world");
    let ns = world.namespace().await.expect("namespace");
    let c = world.client.clone();
    let deployments: Api<Deployment> = Api::namespaced(c.clone(), &ns);
    let pods: Api<Pod> = Api::namespaced(c.clone(), &ns);
    deployments.create(&PostParams::default(), &deployment("web", 10, "nginx:1")).await.expect("created");
    // The controllers are at work: pods exist, and Events about them.
    let events: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(c.clone(), &ns);
    eventually(120, "pods and events of the first rollout", || async {
        let pods = pods.list(&ListParams::default()).await.ok()?.items.len();
        let events = events.list(&ListParams::default()).await.ok()?.items.len();
        (pods >= 5 && events > 0).then_some(())
    })
    .await;
    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:2"}]}}}});
    deployments.patch("web", &PatchParams::default(), &Patch::Strategic(patch)).await.expect("image changed");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    Api::<Namespace>::all(c.clone()).delete(&ns, &DeleteParams::default()).await.expect("namespace deleted");

    let nss: Api<Namespace> = Api::all(c.clone());
    eventually(120, "the namespace to be gone", || async { nss.get_opt(&ns).await.ok()?.is_none().then_some(()) }).await;
    let left = leftovers(&c, &ns).await;
    assert!(left.is_empty(), "left behind in {ns}: {left:?}");
    // The controllers' later writes into the deleted namespace are refused
    // (NamespaceLifecycle): nothing reappears, and the namespace stays gone.
    assert!(nss.get_opt(&ns).await.expect("get").is_none());
    let left = leftovers(&c, &ns).await;
    assert!(left.is_empty(), "written into {ns} after it was gone: {left:?}");
}
