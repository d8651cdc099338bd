//! Conformance: what a write through the status subresource keeps of the
//! request and what it takes back from the stored object, per resource (as
//! upstream's status strategies), the reverse for the main resource, and
//! the managed fields such writes record.

mod util;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use util::{raw, start};

fn workload(kind: &str, name: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": kind,
        "metadata": {"name": name, "labels": {"team": "a"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "app", "image": "nginx:1"}]}},
        },
    })
}

fn annotation<'a>(o: &'a Value, k: &str) -> Option<&'a str> {
    o["metadata"]["annotations"][k].as_str()
}

/// The managedFields entry of `manager` written through `subresource`.
fn entry<'a>(o: &'a Value, manager: &str, subresource: Option<&str>) -> &'a Value {
    o["metadata"]["managedFields"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["manager"] == manager && e["subresource"].as_str() == subresource))
        .unwrap_or_else(|| panic!("no managedFields entry of {manager} ({subresource:?}) in {o}"))
}

async fn merge_patch(c: &kube::Client, path: &str, patch: Value) -> (u16, Value) {
    raw(c, "PATCH", path, "application/merge-patch+json", &patch.to_string()).await
}

#[tokio::test]
async fn deployment_status_writes_keep_annotations_but_not_labels_or_spec() {
    let (_s, c) = start().await;
    let deps: Api<Deployment> = Api::default_namespaced(c.clone());
    let made = deps.create(&PostParams::default(), &serde_json::from_value(workload("Deployment", "web")).unwrap()).await.unwrap();

    // UpdateStatus, as the Deployment controller records a revision.
    let mut d = serde_json::to_value(&made).unwrap();
    d["metadata"]["annotations"] = json!({"deployment.kubernetes.io/revision": "1"});
    d["metadata"]["labels"] = json!({"team": "b"});
    d["spec"]["replicas"] = json!(9);
    d["status"] = json!({"replicas": 2, "observedGeneration": 1});
    let pp = PostParams { field_manager: Some("deployment-controller".into()), ..Default::default() };
    let got = deps.replace_status("web", &pp, &serde_json::from_value(d).unwrap()).await.unwrap();
    let v = serde_json::to_value(&got).unwrap();
    assert_eq!(annotation(&v, "deployment.kubernetes.io/revision"), Some("1"), "the annotation sticks: {v}");
    assert_eq!(v["metadata"]["labels"], json!({"team": "a"}), "labels are reset");
    assert_eq!(v["spec"]["replicas"], 2, "spec is reset");
    assert_eq!(v["status"]["replicas"], 2);
    assert_eq!(v["metadata"]["generation"], 1, "a status write never bumps generation");
    // The writer owns what it changed, through the status subresource.
    let mine = entry(&v, "deployment-controller", Some("status"));
    assert_eq!(mine["operation"], "Update");
    let fields = &mine["fieldsV1"];
    assert!(fields["f:metadata"]["f:annotations"].get("f:deployment.kubernetes.io/revision").is_some(), "{fields}");
    assert!(fields["f:metadata"].get("f:labels").is_none() && fields.get("f:spec").is_none(), "{fields}");
    assert_eq!(fields["f:status"], json!({"f:observedGeneration": {}, "f:replicas": {}}));
    assert_eq!(deps.get("web").await.unwrap().metadata.annotations.unwrap()["deployment.kubernetes.io/revision"], "1");

    // A merge patch of the status subresource: the same.
    let (code, v) = merge_patch(
        &c,
        "/apis/apps/v1/namespaces/default/deployments/web/status?fieldManager=patcher",
        json!({"metadata": {"annotations": {"x": "y"}, "labels": {"team": "c"}}, "spec": {"replicas": 5}, "status": {"replicas": 3}}),
    )
    .await;
    assert_eq!(code, 200, "{v}");
    assert_eq!((annotation(&v, "x"), annotation(&v, "deployment.kubernetes.io/revision")), (Some("y"), Some("1")));
    assert_eq!(v["metadata"]["labels"], json!({"team": "a"}));
    assert_eq!(v["spec"]["replicas"], 2);
    assert_eq!(v["status"]["replicas"], 3);
    assert_eq!(v["metadata"]["generation"], 1);
    let patcher = &entry(&v, "patcher", Some("status"))["fieldsV1"];
    assert!(patcher["f:metadata"]["f:annotations"].get("f:x").is_some(), "{patcher}");
    assert!(patcher["f:metadata"].get("f:labels").is_none() && patcher.get("f:spec").is_none(), "{patcher}");

    // The main resource keeps status; a change of its annotations bumps
    // the generation (upstream's deploymentStrategy), one of its labels
    // does not.
    let (code, v) = merge_patch(
        &c,
        "/apis/apps/v1/namespaces/default/deployments/web",
        json!({"metadata": {"labels": {"team": "d"}}, "status": {"replicas": 7}}),
    )
    .await;
    assert_eq!(code, 200, "{v}");
    assert_eq!((v["metadata"]["labels"]["team"].as_str(), v["status"]["replicas"].as_i64()), (Some("d"), Some(3)));
    assert_eq!(v["metadata"]["generation"], 1);
    let (_, v) =
        merge_patch(&c, "/apis/apps/v1/namespaces/default/deployments/web", json!({"metadata": {"annotations": {"x": "z"}}})).await;
    assert_eq!(v["metadata"]["generation"], 2, "{v}");
}

#[tokio::test]
async fn replicaset_status_writes_keep_labels_and_annotations_but_not_spec() {
    let (_s, c) = start().await;
    let rss: Api<ReplicaSet> = Api::default_namespaced(c.clone());
    let made = rss.create(&PostParams::default(), &serde_json::from_value(workload("ReplicaSet", "web")).unwrap()).await.unwrap();
    let mut r = serde_json::to_value(&made).unwrap();
    r["metadata"]["annotations"] = json!({"a": "1"});
    r["metadata"]["labels"] = json!({"team": "b"});
    r["spec"]["replicas"] = json!(9);
    r["status"] = json!({"replicas": 2, "observedGeneration": 1});
    let got = serde_json::to_value(rss.replace_status("web", &PostParams::default(), &serde_json::from_value(r).unwrap()).await.unwrap())
        .unwrap();
    assert_eq!(annotation(&got, "a"), Some("1"));
    assert_eq!(got["metadata"]["labels"], json!({"team": "b"}), "replicasets/status does not reset labels");
    assert_eq!((got["spec"]["replicas"].as_i64(), got["status"]["replicas"].as_i64()), (Some(2), Some(2)));

    let (code, v) = merge_patch(
        &c,
        "/apis/apps/v1/namespaces/default/replicasets/web/status",
        json!({"metadata": {"labels": {"team": "c"}, "annotations": {"b": "2"}}, "spec": {"replicas": 5}, "status": {"replicas": 1}}),
    )
    .await;
    assert_eq!(code, 200, "{v}");
    assert_eq!((v["metadata"]["labels"]["team"].as_str(), annotation(&v, "b")), (Some("c"), Some("2")));
    assert_eq!((v["spec"]["replicas"].as_i64(), v["status"]["replicas"].as_i64()), (Some(2), Some(1)));
    assert_eq!(v["metadata"]["generation"], 1);
    // The main resource ignores status and does not bump generation for
    // annotations (only Deployments do).
    let (_, v) = merge_patch(
        &c,
        "/apis/apps/v1/namespaces/default/replicasets/web",
        json!({"metadata": {"annotations": {"b": "3"}}, "status": {"replicas": 9}}),
    )
    .await;
    assert_eq!(
        (annotation(&v, "b"), v["status"]["replicas"].as_i64(), v["metadata"]["generation"].as_i64()),
        (Some("3"), Some(1), Some(1))
    );
}

#[tokio::test]
async fn pod_status_writes_keep_metadata_but_owner_references_and_deletion() {
    let (_s, c) = start().await;
    let pods: Api<Pod> = Api::default_namespaced(c.clone());
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "labels": {"app": "p"}},
        "spec": {"containers": [{"name": "app", "image": "nginx:1"}]},
    });
    let made = pods.create(&PostParams::default(), &serde_json::from_value(pod).unwrap()).await.unwrap();
    assert_eq!(made.status.as_ref().unwrap().qos_class.as_deref(), Some("BestEffort"));

    // An UpdateStatus that also tries metadata, spec, ownerReferences and a
    // deletionTimestamp, with a status without the QoS class.
    let mut p = serde_json::to_value(&made).unwrap();
    p["metadata"]["labels"] = json!({"app": "q"});
    p["metadata"]["annotations"] = json!({"k": "v"});
    p["metadata"]["ownerReferences"] =
        json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "7f3c9e1a-0000-4000-8000-000000000001"}]);
    p["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
    p["spec"]["nodeName"] = json!("somewhere");
    p["status"] =
        json!({"phase": "Running", "observedGeneration": 1, "conditions": [{"type": "Ready", "status": "True", "observedGeneration": 1}]});
    let got =
        serde_json::to_value(pods.replace_status("p", &PostParams::default(), &serde_json::from_value(p).unwrap()).await.unwrap()).unwrap();
    assert_eq!(got["metadata"]["labels"], json!({"app": "q"}), "pods/status keeps labels");
    assert_eq!(annotation(&got, "k"), Some("v"));
    assert!(got["metadata"].get("ownerReferences").is_none(), "{got}");
    assert!(got["metadata"].get("deletionTimestamp").is_none(), "{got}");
    assert!(got["spec"].get("nodeName").is_none(), "{got}");
    assert_eq!((got["status"]["phase"].as_str(), got["status"]["qosClass"].as_str()), (Some("Running"), Some("BestEffort")));

    // A status that leaves observedGeneration unset keeps the stored ones.
    let (code, v) = merge_patch(
        &c,
        "/api/v1/namespaces/default/pods/p/status",
        json!({"metadata": {"labels": {"app": "r"}}, "status": {"observedGeneration": null, "conditions": [{"type": "Ready", "status": "False"}]}}),
    )
    .await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["metadata"]["labels"]["app"], "r");
    assert_eq!(v["status"]["observedGeneration"], 1, "{v}");
    assert_eq!(v["status"]["conditions"][0]["observedGeneration"], 1, "{v}");
    assert_eq!(v["status"]["conditions"][0]["status"], "False");
}

/// For resources of the table: a merge patch of /status that changes the
/// spec, a label and an annotation.
#[tokio::test]
async fn other_status_subresources_reset_the_spec_and_keep_metadata() {
    let (_s, c) = start().await;
    let cases: &[(&str, &str, Value, Value)] = &[
        (
            "/api/v1/namespaces/default/services",
            "svc",
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"}, "spec": {"selector": {"app": "a"}, "ports": [{"port": 80}]}}),
            json!({"spec": {"selector": {"app": "b"}}, "status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.9"}]}}}),
        ),
        (
            "/apis/batch/v1/namespaces/default/jobs",
            "job",
            json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "job"}, "spec": {"template": {"spec": {
                "restartPolicy": "Never", "containers": [{"name": "app", "image": "busybox"}]}}}}),
            json!({"spec": {"parallelism": 3}, "status": {"active": 1}}),
        ),
        (
            "/apis/policy/v1/namespaces/default/poddisruptionbudgets",
            "pdb",
            json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "pdb"},
                "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "a"}}}}),
            json!({"spec": {"minAvailable": 2}, "status": {"currentHealthy": 1, "desiredHealthy": 1, "disruptionsAllowed": 0, "expectedPods": 1}}),
        ),
        (
            "/api/v1/namespaces",
            "team-a",
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}),
            json!({"spec": {"finalizers": []}, "status": {"phase": "Active"}}),
        ),
    ];
    for (base, name, obj, patch) in cases {
        let (code, made) = raw(&c, "POST", base, "application/json", &obj.to_string()).await;
        assert_eq!(code, 201, "{made}");
        let mut patch = patch.clone();
        patch["metadata"] = json!({"labels": {"via": "status"}, "annotations": {"via": "status"}});
        let (code, v) = merge_patch(&c, &format!("{base}/{name}/status"), patch.clone()).await;
        assert_eq!(code, 200, "{base}: {v}");
        assert_eq!(v["spec"], made["spec"], "{base}: the spec is reset");
        assert_eq!((v["metadata"]["labels"]["via"].as_str(), annotation(&v, "via")), (Some("status"), Some("status")), "{base}: {v}");
        for (k, want) in patch["status"].as_object().unwrap() {
            assert_eq!(&v["status"][k], want, "{base}: status.{k}");
        }
    }
    // A namespace's main resource keeps spec.finalizers (only the finalize
    // subresource changes them) and the status.
    let (code, v) =
        merge_patch(&c, "/api/v1/namespaces/team-a", json!({"spec": {"finalizers": []}, "status": {"phase": "Terminating"}})).await;
    assert_eq!(code, 200, "{v}");
    assert_eq!((v["spec"]["finalizers"].clone(), v["status"]["phase"].as_str()), (json!(["kubernetes"]), Some("Active")));
}

#[tokio::test]
async fn server_side_apply_to_status_owns_only_what_the_status_write_keeps() {
    let (_s, c) = start().await;
    let deps: Api<Deployment> = Api::default_namespaced(c.clone());
    // helm applies the object; the controller applies to the status with a
    // different spec and label, which it neither changes nor owns, so there
    // is no conflict (upstream's TestApplyResetFields).
    deps.patch("web", &PatchParams::apply("helm"), &Patch::Apply(workload("Deployment", "web"))).await.unwrap();
    let mut st = workload("Deployment", "web");
    st["metadata"]["labels"] = json!({"team": "z"});
    st["metadata"]["annotations"] = json!({"deployment.kubernetes.io/revision": "1"});
    st["spec"]["replicas"] = json!(9);
    st["status"] = json!({"replicas": 2});
    let got = serde_json::to_value(deps.patch_status("web", &PatchParams::apply("controller"), &Patch::Apply(&st)).await.unwrap()).unwrap();
    assert_eq!((got["spec"]["replicas"].as_i64(), got["metadata"]["labels"]["team"].as_str()), (Some(2), Some("a")));
    assert_eq!(annotation(&got, "deployment.kubernetes.io/revision"), Some("1"));
    assert_eq!(got["status"]["replicas"], 2);
    let mine = &entry(&got, "controller", Some("status"))["fieldsV1"];
    assert_eq!(mine["f:metadata"], json!({"f:annotations": {"f:deployment.kubernetes.io/revision": {}}}), "{mine}");
    assert_eq!(mine["f:status"], json!({"f:replicas": {}}));
    assert!(mine.get("f:spec").is_none(), "{mine}");
    let helm = &entry(&got, "helm", None)["fieldsV1"];
    assert!(helm.get("f:status").is_none() && helm["f:spec"].get("f:replicas").is_some(), "{helm}");

    // The same configuration applied to the main resource conflicts with
    // helm's spec and labels.
    let path = "/apis/apps/v1/namespaces/default/deployments/web?fieldManager=controller";
    let (code, e) = raw(&c, "PATCH", path, "application/apply-patch+yaml", &serde_yaml::to_string(&st).unwrap()).await;
    assert_eq!(code, 409, "{e}");
    let fields: Vec<&str> = e["details"]["causes"].as_array().unwrap().iter().filter_map(|c| c["field"].as_str()).collect();
    assert_eq!(fields, vec![".metadata.labels.team", ".spec.replicas"], "{e}");
    // A different status applied by another manager conflicts with the
    // controller's, named with its subresource.
    let mut other = workload("Deployment", "web");
    other["status"] = json!({"replicas": 5});
    let path = "/apis/apps/v1/namespaces/default/deployments/web/status?fieldManager=helm";
    let (code, e) = raw(&c, "PATCH", path, "application/apply-patch+yaml", &serde_yaml::to_string(&other).unwrap()).await;
    assert_eq!(code, 409, "{e}");
    assert_eq!(e["details"]["causes"][0]["field"], ".status.replicas", "{e}");
    assert_eq!(e["details"]["causes"][0]["message"], "conflict with \"controller\" with subresource \"status\"", "{e}");
}

/// A Job's status writes are validated as kube-apiserver v1.36's Job status
/// strategy does (counters never decrease, terminal conditions need their
/// companions); the main resource's writes leave the status alone.
#[tokio::test]
async fn job_status_writes_are_validated_as_upstream() {
    let (_s, c) = start().await;
    let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}});
    let (code, body) = raw(&c, "POST", "/apis/batch/v1/namespaces/default/jobs", "application/json", &job.to_string()).await;
    assert_eq!(code, 201, "{body}");
    let path = "/apis/batch/v1/namespaces/default/jobs/j/status";
    let (code, body) = merge_patch(&c, path, json!({"status": {"startTime": "2026-01-01T00:00:00Z", "succeeded": 2}})).await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = merge_patch(&c, path, json!({"status": {"succeeded": 1}})).await;
    assert_eq!(code, 422, "{body}");
    assert_eq!(body["reason"], "Invalid");
    assert_eq!(body["message"], "Job.batch \"j\" is invalid: status.succeeded: Invalid value: 1: cannot decrease the succeeded counter");
    let complete = json!({"status": {"completionTime": "2026-01-01T00:00:05Z",
        "conditions": [{"type": "Complete", "status": "True", "lastTransitionTime": "2026-01-01T00:00:05Z"}]}});
    let (code, body) = merge_patch(&c, path, complete).await;
    assert_eq!(code, 422, "{body}");
    assert_eq!(
        body["message"],
        "Job.batch \"j\" is invalid: status.conditions: Invalid value: cannot set Complete=True condition without the SuccessCriteriaMet=true condition"
    );
    assert_eq!(body["details"]["causes"][0]["field"], "status.conditions");
    // The main resource takes its status from the stored object: no error.
    let (code, body) = merge_patch(&c, "/apis/batch/v1/namespaces/default/jobs/j", json!({"status": {"succeeded": 0}})).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"]["succeeded"], 2);
}
