//! The harness itself: a fresh namespace per test, and pods placed on the
//! simulated nodes run to completion there.

use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::PostParams;
use rudder_e2e::{World, eventually};
use serde_json::json;

#[tokio::test]
async fn each_test_gets_a_fresh_namespace_and_pods_run_on_simulated_nodes() {
    let world = World::start(&[]).await.expect("world");
    let (a, b) = (world.namespace().await.expect("namespace"), world.namespace().await.expect("namespace"));
    assert_ne!(a, b);
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &a);
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "once"},
        "spec": {"nodeName": "sim-node-2", "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}
    }))
    .expect("pod");
    pods.create(&PostParams::default(), &pod).await.expect("created");
    eventually(20, "the pod to succeed", || async {
        pods.get("once").await.ok().filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Succeeded"))
    })
    .await;
}

#[tokio::test]
async fn a_missing_binary_is_a_clear_error() {
    if std::env::var_os("E2E_KUBECONFIG").is_some() {
        return;
    }
    let err = World::start(&["rudder-no-such-controller"]).await.err().expect("an error");
    assert!(err.to_string().contains("rudder-no-such-controller was not found"), "{err}");
}

/// A Rudder binary runs as a real child process against the world: the
/// sample controller of rudder-common marks labelled ConfigMaps.
#[tokio::test]
async fn binaries_run_as_child_processes_against_the_world() {
    if std::env::var_os("E2E_KUBECONFIG").is_some() {
        return; // the sample controller is not part of an installed Rudder
    }
    let world = World::start(&["rudder-sample-controller"]).await.expect("world");
    let ns = world.namespace().await.expect("namespace");
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(world.client.clone(), &ns);
    let cm = serde_json::from_value(json!({"metadata": {"name": "hello", "labels": {"rudder.dev/sample": "yes"}}})).expect("configmap");
    cms.create(&PostParams::default(), &cm).await.expect("created");
    eventually(30, "the sample controller to reconcile", || async {
        cms.get("hello").await.ok()?.metadata.annotations?.get("rudder.dev/reconciled-by").cloned()
    })
    .await;
    assert!(world.log("rudder-sample-controller").contains("serving /metrics"), "{}", world.log("rudder-sample-controller"));
}
