//! Status merge patches against the sandbox: only what changed is written,
//! nothing when nothing changed, and a stale resourceVersion is a conflict.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetSpec, ReplicaSetStatus};
use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::Api;
use kube::api::{ObjectMeta, PostParams};
use rudder_common::status::patch_status;

fn replicaset() -> ReplicaSet {
    let labels = BTreeMap::from([("app".to_string(), "web".to_string())]);
    ReplicaSet {
        metadata: ObjectMeta { name: Some("web".into()), ..Default::default() },
        spec: Some(ReplicaSetSpec {
            replicas: Some(3),
            selector: LabelSelector { match_labels: Some(labels.clone()), ..Default::default() },
            template: Some(PodTemplateSpec {
                metadata: Some(ObjectMeta { labels: Some(labels), ..Default::default() }),
                spec: Some(PodSpec {
                    containers: vec![Container { name: "c".into(), image: Some("nginx".into()), ..Default::default() }],
                    ..Default::default()
                }),
            }),
            ..Default::default()
        }),
        status: None,
    }
}

#[tokio::test]
async fn status_is_merge_patched_and_a_stale_precondition_conflicts() {
    let sandbox = rudder_sandbox::Sandbox::start().await.expect("sandbox");
    let api: Api<ReplicaSet> = Api::namespaced(sandbox.client().expect("client"), "default");
    let rs = api.create(&PostParams::default(), &replicaset()).await.expect("created");

    let first = ReplicaSetStatus { replicas: 3, ready_replicas: Some(2), observed_generation: Some(1), ..Default::default() };
    let written = patch_status(&api, &rs, rs.status.as_ref(), &first, true).await.expect("patched").expect("a write");
    assert_eq!(written.status.as_ref(), Some(&first));

    // Nothing changed: no write, same resourceVersion.
    assert!(patch_status(&api, &written, written.status.as_ref(), &first, true).await.expect("no-op").is_none());
    assert_eq!(api.get("web").await.expect("get").metadata.resource_version, written.metadata.resource_version);

    // A removed field is cleared.
    let second = ReplicaSetStatus { ready_replicas: None, ..first.clone() };
    let cleared = patch_status(&api, &written, written.status.as_ref(), &second, true).await.expect("patched").expect("a write");
    assert_eq!(cleared.status.and_then(|s| s.ready_replicas), None);

    // Computed from the stale object: 409.
    let third = ReplicaSetStatus { replicas: 1, ..first };
    match patch_status(&api, &written, written.status.as_ref(), &third, true).await {
        Err(kube::Error::Api(s)) => assert_eq!(s.code, 409, "{s:?}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
}
