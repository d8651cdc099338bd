//! The admission webhooks (`rudder-admission-webhooks`) on the sandbox, as
//! kube-apiserver calls them: the sandbox's built-in NamespaceLifecycle is
//! off and the webhooks are registered as `rudder-sandbox up` registers
//! them. Each scenario of the issue is a test.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, LimitRange, Namespace, Pod, ResourceQuota};
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use rudder_e2e::{WEBHOOKS, World, eventually};
use serde_json::{Value, json};

async fn world() -> World {
    World::start(&[WEBHOOKS]).await.expect("world")
}

fn pod(name: &str, resources: Value) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "nginx", "resources": resources}]}
    }))
    .expect("a pod")
}

/// The message of a refused request.
fn refusal<T: std::fmt::Debug>(r: kube::Result<T>) -> (u16, String) {
    match r {
        Err(kube::Error::Api(s)) => (s.code, s.message),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn create_quota(world: &World, ns: &str, quota: Value) -> ResourceQuota {
    let quotas: Api<ResourceQuota> = Api::namespaced(world.client.clone(), ns);
    let q: ResourceQuota = serde_json::from_value(quota).expect("a quota");
    let name = q.metadata.name.clone().unwrap();
    quotas.create(&PostParams::default(), &q).await.expect("quota created");
    // The reconciler fills status.hard (and used) before anything is charged.
    eventually(30, &format!("quota {name} to have a status"), || async {
        let q = quotas.get(&name).await.ok()?;
        let s = q.status.clone()?;
        (s.hard.is_some() && s.hard == q.spec.as_ref()?.hard && s.used.is_some()).then_some(q)
    })
    .await
}

fn used(q: &ResourceQuota, resource: &str) -> Option<String> {
    Some(q.status.as_ref()?.used.as_ref()?.get(resource)?.0.clone())
}

#[tokio::test]
async fn a_container_without_resources_gets_the_limit_range_defaults() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    let ranges: Api<LimitRange> = Api::namespaced(world.client.clone(), &ns);
    let range = serde_json::from_value(json!({
        "metadata": {"name": "defaults"},
        "spec": {"limits": [{"type": "Container",
            "default": {"cpu": "500m", "memory": "256Mi"},
            "defaultRequest": {"cpu": "250m", "memory": "128Mi"}}]}
    }))
    .unwrap();
    ranges.create(&PostParams::default(), &range).await.expect("limit range created");
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    let created = pods.create(&PostParams::default(), &pod("plain", json!({}))).await.expect("pod created");
    let resources = created.spec.unwrap().containers[0].resources.clone().expect("resources set");
    let as_map = |m: Option<BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>| {
        m.unwrap_or_default().into_iter().map(|(k, v)| (k, v.0)).collect::<BTreeMap<_, _>>()
    };
    assert_eq!(as_map(resources.limits), BTreeMap::from([("cpu".into(), "500m".into()), ("memory".into(), "256Mi".into())]));
    assert_eq!(as_map(resources.requests), BTreeMap::from([("cpu".into(), "250m".into()), ("memory".into(), "128Mi".into())]));
    let annotations = created.metadata.annotations.unwrap_or_default();
    assert_eq!(
        annotations.get("kubernetes.io/limit-ranger").map(String::as_str),
        Some("LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for container c")
    );
    // A container that says what it wants keeps it.
    let own = pods
        .create(&PostParams::default(), &pod("own", json!({"requests": {"cpu": "100m"}, "limits": {"cpu": "200m"}})))
        .await
        .expect("pod created");
    let r = own.spec.unwrap().containers[0].resources.clone().unwrap();
    assert_eq!(r.limits.unwrap()["cpu"].0, "200m");
    assert_eq!(r.requests.unwrap()["cpu"].0, "100m");
}

#[tokio::test]
async fn a_pod_over_the_max_is_denied_with_upstreams_message() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    let ranges: Api<LimitRange> = Api::namespaced(world.client.clone(), &ns);
    let range = serde_json::from_value(json!({
        "metadata": {"name": "max"},
        "spec": {"limits": [{"type": "Container", "max": {"cpu": "2"}}]}
    }))
    .unwrap();
    ranges.create(&PostParams::default(), &range).await.expect("limit range created");
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    let (code, message) = refusal(pods.create(&PostParams::default(), &pod("big", json!({"limits": {"cpu": "4"}}))).await);
    assert_eq!(code, 403, "{message}");
    assert_eq!(
        message,
        "admission webhook \"limitranger.admission.rudder.dev\" denied the request: pods \"big\" is forbidden: maximum cpu usage per Container is 2, but limit is 4"
    );
    pods.create(&PostParams::default(), &pod("small", json!({"limits": {"cpu": "2"}}))).await.expect("a pod at the max is admitted");
}

#[tokio::test]
async fn a_quota_of_three_pods_admits_exactly_three_of_ten_created_concurrently() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    create_quota(&world, &ns, json!({"metadata": {"name": "pods"}, "spec": {"hard": {"pods": "3"}}})).await;
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    let results = futures::future::join_all((0..10).map(|i| {
        let pods = pods.clone();
        async move { pods.create(&PostParams::default(), &pod(&format!("p{i}"), json!({}))).await }
    }))
    .await;
    let admitted = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(admitted, 3, "{results:?}");
    for r in results.into_iter().filter(|r| r.is_err()) {
        let (code, message) = refusal(r);
        assert_eq!(code, 403, "{message}");
        assert!(message.ends_with("is forbidden: exceeded quota: pods, requested: pods=1, used: pods=3, limited: pods=3"), "{message}");
    }
    let quotas: Api<ResourceQuota> = Api::namespaced(world.client.clone(), &ns);
    assert_eq!(used(&quotas.get("pods").await.unwrap(), "pods").as_deref(), Some("3"));
}

#[tokio::test]
async fn deleting_a_pod_frees_quota_after_the_reconciler_runs() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    create_quota(&world, &ns, json!({"metadata": {"name": "one"}, "spec": {"hard": {"pods": "1"}}})).await;
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    pods.create(&PostParams::default(), &pod("first", json!({}))).await.expect("first pod");
    let (_, message) = refusal(pods.create(&PostParams::default(), &pod("second", json!({}))).await);
    assert!(message.contains("exceeded quota: one"), "{message}");
    pods.delete("first", &DeleteParams { grace_period_seconds: Some(0), ..Default::default() }).await.expect("deleted");
    let quotas: Api<ResourceQuota> = Api::namespaced(world.client.clone(), &ns);
    eventually(30, "the quota to be released", || async { (used(&quotas.get("one").await.ok()?, "pods")? == "0").then_some(()) }).await;
    pods.create(&PostParams::default(), &pod("second", json!({}))).await.expect("room again");
}

#[tokio::test]
async fn a_count_deployments_apps_quota_limits_deployments() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    create_quota(&world, &ns, json!({"metadata": {"name": "deploys"}, "spec": {"hard": {"count/deployments.apps": "1"}}})).await;
    let deployments: Api<Deployment> = Api::namespaced(world.client.clone(), &ns);
    let deployment = |name: &str| -> Deployment {
        serde_json::from_value(json!({
            "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"app": name}}, "template": {
                "metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}
        }))
        .unwrap()
    };
    deployments.create(&PostParams::default(), &deployment("a")).await.expect("the first deployment");
    let (code, message) = refusal(deployments.create(&PostParams::default(), &deployment("b")).await);
    assert_eq!(code, 403);
    assert!(
        message.ends_with(
            "deployments.apps \"b\" is forbidden: exceeded quota: deploys, requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1"
        ),
        "{message}"
    );
    // Pods are not deployments.
    Api::<Pod>::namespaced(world.client.clone(), &ns).create(&PostParams::default(), &pod("p", json!({}))).await.expect("pod");
}

#[tokio::test]
async fn a_best_effort_scoped_quota_counts_only_best_effort_pods() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    create_quota(&world, &ns, json!({"metadata": {"name": "best-effort"}, "spec": {"hard": {"pods": "1"}, "scopes": ["BestEffort"]}}))
        .await;
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    pods.create(&PostParams::default(), &pod("be-1", json!({}))).await.expect("one best-effort pod");
    let (_, message) = refusal(pods.create(&PostParams::default(), &pod("be-2", json!({}))).await);
    assert!(message.contains("exceeded quota: best-effort, requested: pods=1, used: pods=1, limited: pods=1"), "{message}");
    for i in 0..3 {
        let burstable = pod(&format!("burstable-{i}"), json!({"requests": {"cpu": "100m"}}));
        pods.create(&PostParams::default(), &burstable).await.expect("pods with requests are not in the scope");
    }
    let quotas: Api<ResourceQuota> = Api::namespaced(world.client.clone(), &ns);
    assert_eq!(used(&quotas.get("best-effort").await.unwrap(), "pods").as_deref(), Some("1"));
}

#[tokio::test]
async fn creating_in_a_terminating_namespace_is_denied() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    // A finalizer keeps the namespace Terminating.
    let cms: Api<ConfigMap> = Api::namespaced(world.client.clone(), &ns);
    let held: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "held", "finalizers": ["e2e.rudder.dev/hold"]}})).unwrap();
    cms.create(&PostParams::default(), &held).await.expect("configmap");
    let namespaces: Api<Namespace> = Api::all(world.client.clone());
    namespaces.delete(&ns, &DeleteParams::default()).await.expect("namespace deleted");
    eventually(30, "the namespace to be Terminating", || async {
        (namespaces.get(&ns).await.ok()?.status?.phase? == "Terminating").then_some(())
    })
    .await;
    let (code, message) =
        refusal(Api::<Pod>::namespaced(world.client.clone(), &ns).create(&PostParams::default(), &pod("late", json!({}))).await);
    assert_eq!(code, 403);
    assert_eq!(
        message,
        format!(
            "admission webhook \"namespacelifecycle.admission.rudder.dev\" denied the request: pods \"late\" is forbidden: unable to create new content in namespace {ns} because it is being terminated"
        )
    );
    // Let the namespace go.
    cms.patch("held", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"finalizers": null}}))).await.expect("finalizer removed");
}

#[tokio::test]
async fn deleting_kube_system_is_denied() {
    let world = world().await;
    let namespaces: Api<Namespace> = Api::all(world.client.clone());
    let (code, message) = refusal(namespaces.delete("kube-system", &DeleteParams::default()).await);
    assert_eq!(code, 403);
    assert_eq!(
        message,
        "admission webhook \"namespacelifecycle.admission.rudder.dev\" denied the request: namespaces \"kube-system\" is forbidden: this namespace may not be deleted"
    );
    assert!(namespaces.get("kube-system").await.unwrap().metadata.deletion_timestamp.is_none());
    if world.external() {
        return; // the metrics are read from the process the sandbox world starts
    }
    // The refusal is counted as upstream's admission metrics count it.
    let metrics = world.metrics(WEBHOOKS).await.unwrap();
    let line = "apiserver_admission_webhook_rejection_count{name=\"NamespaceLifecycle\",type=\"validate\",operation=\"DELETE\",rejection_code=\"403\",error_type=\"no_error\"} 1";
    assert!(metrics.contains(line), "{metrics}");
    assert!(
        metrics.contains(
            "apiserver_admission_controller_admission_duration_seconds_count{name=\"NamespaceLifecycle\",type=\"validate\",operation=\"DELETE\",rejected=\"true\"} 1"
        ),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_creation_in_a_missing_namespace_is_not_found() {
    let world = world().await;
    let cms: Api<ConfigMap> = Api::namespaced(world.client.clone(), "nowhere");
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "c"}})).unwrap();
    let (code, message) = refusal(cms.create(&PostParams::default(), &cm).await);
    assert_eq!(code, 404, "{message}");
    assert!(message.ends_with("namespaces \"nowhere\" not found"), "{message}");
}

#[tokio::test]
async fn a_rotated_certificate_is_served_without_a_restart() {
    let mut world = world().await;
    if world.external() {
        return; // on a cluster, the chart's certificate (cert-manager or its own CA) is what rotates
    }
    let pid = world.children()[0].id();
    world.rotate_webhook_certificate().await.unwrap();
    // The API server now trusts only the new authority: requests pass again
    // once the server has reloaded its files.
    world.webhooks_answer().await.expect("the new certificate is served");
    assert!(world.children()[0].try_wait().unwrap().is_none(), "the server is still running");
    assert_eq!(world.children()[0].id(), pid);
    assert!(world.log(WEBHOOKS).contains("serving certificate reloaded"), "{}", world.log(WEBHOOKS));
}

/// `examples/limits-and-quota.yaml`, applied with kubectl as its comments
/// say: the pod gets the defaults, the quota counts it, a pod over the
/// maximum is refused.
#[tokio::test]
async fn the_limits_and_quota_example_does_what_its_comments_say() {
    let world = world().await;
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string());
    let example = std::path::Path::new(&manifest).join("../examples/limits-and-quota.yaml");
    let (status, out) = world.kubectl(&["apply", "-f", example.to_str().unwrap()]).await.unwrap();
    assert!(status.success(), "{out}");
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), "team-a");
    let p = pods.get("defaults").await.unwrap();
    let r = p.spec.unwrap().containers[0].resources.clone().unwrap();
    assert_eq!(r.limits.unwrap()["cpu"].0, "500m");
    assert_eq!(r.requests.unwrap()["memory"].0, "128Mi");
    let quotas: Api<ResourceQuota> = Api::namespaced(world.client.clone(), "team-a");
    eventually(30, "the quota to count the pod", || async {
        let q = quotas.get("team-a").await.ok()?;
        (used(&q, "pods")? == "1" && used(&q, "requests.cpu")? == "100m").then_some(())
    })
    .await;
    let big = pod("big", json!({"requests": {"cpu": "3"}, "limits": {"cpu": "3"}}));
    let (code, message) = refusal(pods.create(&PostParams::default(), &big).await);
    assert_eq!(code, 403);
    assert!(message.ends_with("maximum cpu usage per Container is 2, but limit is 3"), "{message}");
}
