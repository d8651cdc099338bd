//! Conformance: create, get, update, status subresource, generation,
//! optimistic concurrency, errors as Status.

mod util;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod, ServiceAccount};
use kube::api::{Api, ListParams, PostParams};
use serde_json::json;
use util::{eventually, raw, start, status};

fn deployment(name: &str) -> Deployment {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "app", "image": "nginx:1"}]}}
        }
    }))
    .unwrap()
}

fn cm(name: &str) -> ConfigMap {
    serde_json::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}})).unwrap()
}

#[tokio::test]
async fn create_get_and_metadata() {
    let (_s, c) = start().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(c);
    let made = cms.create(&PostParams::default(), &cm("a")).await.unwrap();
    let m = &made.metadata;
    assert_eq!(m.namespace.as_deref(), Some("default"));
    assert!(m.uid.as_deref().is_some_and(|u| u.len() == 36));
    assert!(m.creation_timestamp.is_some());
    assert!(m.resource_version.is_some());
    assert_eq!(m.generation, None, "configmaps do not track generation");
    let got = cms.get("a").await.unwrap();
    assert_eq!(got.metadata.uid, made.metadata.uid);
    assert_eq!(got.data.unwrap()["k"], "v");
}

#[tokio::test]
async fn already_exists_and_not_found() {
    let (_s, c) = start().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(c);
    cms.create(&PostParams::default(), &cm("a")).await.unwrap();
    let e = status(cms.create(&PostParams::default(), &cm("a")).await.unwrap_err());
    assert_eq!((e.code, e.reason.as_str()), (409, "AlreadyExists"));
    assert_eq!(e.message, "configmaps \"a\" already exists");
    let e = status(cms.get("nope").await.unwrap_err());
    assert_eq!((e.code, e.reason.as_str()), (404, "NotFound"));
    assert_eq!(e.message, "configmaps \"nope\" not found");
    let d = e.details.unwrap();
    assert_eq!((d.name.as_str(), d.kind.as_str()), ("nope", "configmaps"));
}

#[tokio::test]
async fn stale_resource_version_conflicts() {
    let (_s, c) = start().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(c);
    let v1 = cms.create(&PostParams::default(), &cm("a")).await.unwrap();
    let mut v2 = v1.clone();
    v2.data = Some([("k".to_string(), "2".to_string())].into());
    let v2 = cms.replace("a", &PostParams::default(), &v2).await.unwrap();
    assert!(
        v2.metadata.resource_version.as_ref().unwrap().parse::<u64>().unwrap()
            > v1.metadata.resource_version.as_ref().unwrap().parse::<u64>().unwrap()
    );
    let mut stale = v1.clone();
    stale.data = Some([("k".to_string(), "3".to_string())].into());
    let e = status(cms.replace("a", &PostParams::default(), &stale).await.unwrap_err());
    assert_eq!((e.code, e.reason.as_str()), (409, "Conflict"));
    assert!(e.message.contains("the object has been modified"), "{}", e.message);
    // An update without resourceVersion is unconditional.
    let mut unconditional = stale;
    unconditional.metadata.resource_version = None;
    cms.replace("a", &PostParams::default(), &unconditional).await.unwrap();
    assert_eq!(cms.get("a").await.unwrap().data.unwrap()["k"], "3");
}

#[tokio::test]
async fn generate_name() {
    let (_s, c) = start().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(c);
    let mut o = cm("");
    o.metadata.name = None;
    o.metadata.generate_name = Some("web-".into());
    let made = cms.create(&PostParams::default(), &o).await.unwrap();
    let name = made.metadata.name.unwrap();
    assert!(name.starts_with("web-") && name.len() == 9, "{name}");
    o.metadata.generate_name = None;
    let e = status(cms.create(&PostParams::default(), &o).await.unwrap_err());
    assert_eq!((e.code, e.reason.as_str()), (422, "Invalid"));
}

#[tokio::test]
async fn generation_bumps_only_on_spec_changes_and_status_is_separate() {
    let (_s, c) = start().await;
    let deps: Api<Deployment> = Api::default_namespaced(c);
    let mut d = deployment("web");
    d.status = Some(serde_json::from_value(json!({"replicas": 7})).unwrap());
    let d = deps.create(&PostParams::default(), &d).await.unwrap();
    assert_eq!(d.metadata.generation, Some(1));
    assert!(d.status.as_ref().and_then(|s| s.replicas).is_none(), "status is dropped on create");

    // A label change is not a spec change.
    let mut l = d.clone();
    l.metadata.labels = Some([("x".to_string(), "y".to_string())].into());
    let l = deps.replace("web", &PostParams::default(), &l).await.unwrap();
    assert_eq!(l.metadata.generation, Some(1));

    // The main resource ignores status.
    let mut s = l.clone();
    s.status = Some(serde_json::from_value(json!({"replicas": 5})).unwrap());
    let s = deps.replace("web", &PostParams::default(), &s).await.unwrap();
    assert!(s.status.as_ref().and_then(|s| s.replicas).is_none());

    // The status subresource changes status and nothing else.
    let mut st = s.clone();
    st.status = Some(serde_json::from_value(json!({"replicas": 5, "observedGeneration": 1})).unwrap());
    st.spec.as_mut().unwrap().replicas = Some(9);
    let st = deps.replace_status("web", &PostParams::default(), &st).await.unwrap();
    assert_eq!(st.status.as_ref().unwrap().replicas, Some(5));
    assert_eq!(st.spec.as_ref().unwrap().replicas, Some(2));
    assert_eq!(st.metadata.generation, Some(1));

    // A spec change bumps generation.
    let mut sp = st.clone();
    sp.spec.as_mut().unwrap().replicas = Some(3);
    let sp = deps.replace("web", &PostParams::default(), &sp).await.unwrap();
    assert_eq!(sp.metadata.generation, Some(2));
    assert_eq!(sp.status.unwrap().replicas, Some(5), "status survives a main-resource update");
}

#[tokio::test]
async fn no_op_update_writes_nothing() {
    let (_s, c) = start().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(c);
    let a = cms.create(&PostParams::default(), &cm("a")).await.unwrap();
    let b = cms.replace("a", &PostParams::default(), &a).await.unwrap();
    assert_eq!(a.metadata.resource_version, b.metadata.resource_version);
}

#[tokio::test]
async fn system_namespaces_and_default_service_accounts() {
    let (_s, c) = start().await;
    let ns: Api<Namespace> = Api::all(c.clone());
    let names: Vec<String> = ns.list(&ListParams::default()).await.unwrap().items.into_iter().filter_map(|n| n.metadata.name).collect();
    for want in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        assert!(names.contains(&want.to_string()), "{want} missing from {names:?}");
    }
    let made = ns
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}})).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(made.status.unwrap().phase.as_deref(), Some("Active"));
    assert_eq!(made.metadata.labels.unwrap()["kubernetes.io/metadata.name"], "team-a");
    let sas: Api<ServiceAccount> = Api::namespaced(c, "team-a");
    eventually(5, "default ServiceAccount", || async { sas.get_opt("default").await.unwrap() }).await;
}

#[tokio::test]
async fn dry_run_stores_nothing() {
    let (_s, c) = start().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(c);
    let pp = PostParams { dry_run: true, ..Default::default() };
    let made = cms.create(&pp, &cm("a")).await.unwrap();
    assert_eq!(made.metadata.name.as_deref(), Some("a"));
    assert!(cms.get_opt("a").await.unwrap().is_none());
}

#[tokio::test]
async fn malformed_bodies_are_bad_requests() {
    let (_s, c) = start().await;
    let (code, body) = raw(&c, "POST", "/api/v1/namespaces/default/configmaps", "application/json", "{not json").await;
    assert_eq!(code, 400, "{body}");
    assert_eq!(body["kind"], "Status");
    assert_eq!(body["reason"], "BadRequest");
    assert!(body["message"].as_str().unwrap().contains("json parse error"), "{body}");

    // Wrong kind for the endpoint.
    let (code, body) = raw(
        &c,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        "application/json",
        r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"}}"#,
    )
    .await;
    assert_eq!(code, 400, "{body}");
    // Missing kind.
    let (code, body) = raw(&c, "POST", "/api/v1/namespaces/default/configmaps", "application/json", r#"{"metadata":{"name":"x"}}"#).await;
    assert_eq!(code, 400, "{body}");
    assert!(body["message"].as_str().unwrap().starts_with("Object 'Kind' is missing"), "{body}");
    // Unknown version and unknown resource.
    let (code, body) = raw(&c, "GET", "/apis/apps/v9/deployments", "application/json", "").await;
    assert_eq!((code, body["reason"].as_str()), (404, Some("NotFound")));
    let (code, _) = raw(&c, "GET", "/api/v1/namespaces/default/widgets", "application/json", "").await;
    assert_eq!(code, 404);
    // Unsupported media type and method.
    let (code, body) = raw(&c, "POST", "/api/v1/namespaces/default/configmaps", "application/xml", "<x/>").await;
    assert_eq!((code, body["reason"].as_str()), (415, Some("UnsupportedMediaType")));
    // A protobuf body that is not a Kubernetes protobuf envelope.
    let (code, body) = raw(&c, "POST", "/api/v1/namespaces/default/configmaps", "application/vnd.kubernetes.protobuf", "xx").await;
    assert_eq!((code, body["reason"].as_str()), (400, Some("BadRequest")), "{body}");
    let (code, body) = raw(&c, "PATCH", "/api/v1/namespaces/default/configmaps/x", "text/plain", "{}").await;
    assert_eq!((code, body["reason"].as_str()), (415, Some("UnsupportedMediaType")));
    let (code, body) = raw(&c, "PUT", "/api/v1/namespaces/default/configmaps", "application/json", "{}").await;
    assert_eq!((code, body["reason"].as_str()), (405, Some("MethodNotAllowed")));
    // Wrong field type.
    let (code, body) = raw(
        &c,
        "POST",
        "/apis/apps/v1/namespaces/default/deployments",
        "application/json",
        r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"x"},"spec":{"replicas":"three"}}"#,
    )
    .await;
    assert_eq!(code, 400, "{body}");
    // Nothing was stored by any of it.
    let cms: Api<ConfigMap> = Api::default_namespaced(c.clone());
    assert!(cms.list(&ListParams::default()).await.unwrap().items.is_empty());
    let pods: Api<Pod> = Api::default_namespaced(c);
    assert!(pods.list(&ListParams::default()).await.unwrap().items.is_empty());
}

#[tokio::test]
async fn name_mismatch_and_namespace_mismatch() {
    let (_s, c) = start().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(c.clone());
    cms.create(&PostParams::default(), &cm("a")).await.unwrap();
    let (code, body) = raw(
        &c,
        "PUT",
        "/api/v1/namespaces/default/configmaps/a",
        "application/json",
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b"}}"#,
    )
    .await;
    assert_eq!(code, 400, "{body}");
    let (code, body) = raw(
        &c,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        "application/json",
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b","namespace":"other"}}"#,
    )
    .await;
    assert_eq!(code, 400, "{body}");
}

fn job(spec: serde_json::Value) -> k8s_openapi::api::batch::v1::Job {
    serde_json::from_value(json!({"metadata": {"name": "batch"}, "spec": spec})).unwrap()
}

fn job_template(labels: serde_json::Value) -> serde_json::Value {
    json!({"metadata": {"labels": labels}, "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}})
}

/// The Job strategy generates the selector and the template's labels from
/// the UID on create; the Job's labels default to the template's.
#[tokio::test]
async fn jobs_get_a_selector_generated_from_their_uid() {
    let (_s, c) = start().await;
    let jobs: Api<k8s_openapi::api::batch::v1::Job> = Api::default_namespaced(c);
    let created = jobs.create(&PostParams::default(), &job(json!({"template": job_template(json!(null))}))).await.expect("created");
    let uid = created.metadata.uid.clone().unwrap();
    let spec = created.spec.unwrap();
    let expected: std::collections::BTreeMap<String, String> = [
        ("batch.kubernetes.io/controller-uid", uid.as_str()),
        ("batch.kubernetes.io/job-name", "batch"),
        ("controller-uid", uid.as_str()),
        ("job-name", "batch"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(spec.template.metadata.unwrap().labels.unwrap(), expected);
    assert_eq!(
        spec.selector.unwrap().match_labels.unwrap(),
        [("batch.kubernetes.io/controller-uid".to_string(), uid.clone())].into_iter().collect()
    );
    assert_eq!(spec.manual_selector, Some(false));
    assert_eq!(created.metadata.labels.unwrap(), expected);

    // Labels of the template's own stay the Job's labels.
    jobs.delete("batch", &Default::default()).await.unwrap();
    let created = jobs.create(&PostParams::default(), &job(json!({"template": job_template(json!({"app": "x"}))}))).await.expect("created");
    assert_eq!(created.metadata.labels.unwrap(), [("app".to_string(), "x".to_string())].into_iter().collect());
}

#[tokio::test]
async fn a_manual_job_selector_is_required_and_must_match() {
    let (_s, c) = start().await;
    let jobs: Api<k8s_openapi::api::batch::v1::Job> = Api::default_namespaced(c);
    let err = jobs
        .create(&PostParams::default(), &job(json!({"manualSelector": true, "template": job_template(json!({"app": "x"}))})))
        .await
        .expect_err("no selector");
    let st = status(err);
    assert_eq!(st.code, 422);
    assert!(st.message.contains("spec.selector: Required value"), "{}", st.message);
    // Without manualSelector a selector of one's own is kept (the uid label
    // is added to it): a template it does not match is rejected.
    let err = jobs
        .create(
            &PostParams::default(),
            &job(json!({"selector": {"matchLabels": {"app": "y"}}, "template": job_template(json!({"app": "x"}))})),
        )
        .await
        .expect_err("mismatched selector");
    let st = status(err);
    assert_eq!(st.code, 422);
    assert!(st.message.contains("`selector` does not match template `labels`"), "{}", st.message);
}

/// ReplicationControllers are served (the scheduler watches them), their
/// selector defaulted from the template and checked against it; the scale
/// subresource renders the label map.
#[tokio::test]
async fn replication_controllers() {
    let (_s, c) = start().await;
    let rcs: Api<k8s_openapi::api::core::v1::ReplicationController> = Api::default_namespaced(c.clone());
    let template = json!({"metadata": {"labels": {"app": "old"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
    let rc = serde_json::from_value(json!({"metadata": {"name": "old"}, "spec": {"replicas": 2, "template": template}})).unwrap();
    let created = rcs.create(&PostParams::default(), &rc).await.expect("created");
    assert_eq!(created.spec.unwrap().selector.unwrap(), [("app".to_string(), "old".to_string())].into_iter().collect());
    let scale = rcs.get_scale("old").await.expect("scale");
    assert_eq!(scale.status.unwrap().selector.as_deref(), Some("app=old"));
    let bad =
        serde_json::from_value(json!({"metadata": {"name": "bad"}, "spec": {"selector": {"app": "other"}, "template": template}})).unwrap();
    let st = status(rcs.create(&PostParams::default(), &bad).await.expect_err("mismatch"));
    assert_eq!(st.code, 422);
    assert!(st.message.contains("`selector` does not match template `labels`"), "{}", st.message);
}
