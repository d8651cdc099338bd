//! Server-side apply and managedFields, as kube-apiserver does them.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

mod util;
use util::{raw, start, status};

fn deployment(replicas: i64, image: &str, labels: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
        },
    })
}

fn entries(o: &Value) -> Vec<(String, String)> {
    o["metadata"]["managedFields"]
        .as_array()
        .map(|a| {
            a.iter().map(|e| (e["manager"].as_str().unwrap_or("").to_string(), e["operation"].as_str().unwrap_or("").to_string())).collect()
        })
        .unwrap_or_default()
}

async fn apply(c: &kube::Client, manager: &str, force: bool, body: &Value) -> (u16, Value) {
    let force = if force { "&force=true" } else { "" };
    let path = format!("/apis/apps/v1/namespaces/default/deployments/web?fieldManager={manager}{force}");
    raw(c, "PATCH", &path, "application/apply-patch+yaml", &serde_yaml::to_string(body).unwrap()).await
}

#[tokio::test]
async fn apply_creates_the_object_then_updates_it_with_one_apply_entry() {
    let (_s, c) = start().await;
    let (code, v) = apply(&c, "helm", false, &deployment(2, "nginx:1.27", json!({"team": "a"}))).await;
    assert_eq!(code, 201, "{v}");
    assert_eq!(v["spec"]["replicas"], 2);
    // Defaults apply as for any create.
    assert_eq!(v["spec"]["strategy"]["type"], "RollingUpdate");
    assert_eq!(entries(&v), vec![("helm".to_string(), "Apply".to_string())]);
    let mf = &v["metadata"]["managedFields"][0];
    assert_eq!(mf["apiVersion"], "apps/v1");
    assert_eq!(mf["fieldsType"], "FieldsV1");
    assert_eq!(mf["fieldsV1"]["f:spec"]["f:replicas"], json!({}));
    assert_eq!(mf["fieldsV1"]["f:metadata"], json!({"f:labels": {"f:team": {}}}));
    assert!(mf["fieldsV1"].get("f:status").is_none());

    let (code, v) = apply(&c, "helm", false, &deployment(3, "nginx:1.27", json!({"team": "a"}))).await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["spec"]["replicas"], 3);
    assert_eq!(v["metadata"]["generation"], 2);
    assert_eq!(entries(&v), vec![("helm".to_string(), "Apply".to_string())]);

    // The same configuration again changes nothing.
    let (code, again) = apply(&c, "helm", false, &deployment(3, "nginx:1.27", json!({"team": "a"}))).await;
    assert_eq!(code, 200);
    assert_eq!(again["metadata"]["resourceVersion"], v["metadata"]["resourceVersion"]);
}

#[tokio::test]
async fn fields_left_out_of_the_configuration_are_removed_unless_others_own_them() {
    let (_s, c) = start().await;
    assert_eq!(apply(&c, "helm", false, &deployment(1, "nginx:1.27", json!({"team": "a", "tier": "web"}))).await.0, 201);
    // Another manager adds a label with an ordinary patch.
    let (code, v) = raw(
        &c,
        "PATCH",
        "/apis/apps/v1/namespaces/default/deployments/web?fieldManager=kubectl-label",
        "application/merge-patch+json",
        r#"{"metadata":{"labels":{"owner":"ops"}}}"#,
    )
    .await;
    assert_eq!(code, 200, "{v}");
    assert!(entries(&v).contains(&("kubectl-label".to_string(), "Update".to_string())));
    let (code, v) = apply(&c, "helm", false, &deployment(1, "nginx:1.27", json!({"team": "a"}))).await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["metadata"]["labels"], json!({"team": "a", "owner": "ops"}));
}

#[tokio::test]
async fn changing_a_field_another_manager_owns_is_a_conflict_with_upstream_wording() {
    let (_s, c) = start().await;
    assert_eq!(apply(&c, "helm", false, &deployment(1, "nginx:1.27", json!({}))).await.0, 201);
    let (code, v) = raw(
        &c,
        "PATCH",
        "/apis/apps/v1/namespaces/default/deployments/web?fieldManager=hand-edit",
        "application/merge-patch+json",
        r#"{"spec":{"replicas":4}}"#,
    )
    .await;
    assert_eq!(code, 200, "{v}");
    let (code, v) = apply(&c, "other", false, &deployment(2, "nginx:1.27", json!({}))).await;
    assert_eq!(code, 409, "{v}");
    assert_eq!(v["reason"], "Conflict");
    assert_eq!(v["message"], "Apply failed with 1 conflict: conflict with \"hand-edit\" using apps/v1: .spec.replicas");
    assert_eq!(
        v["details"]["causes"],
        json!([{"reason": "FieldManagerConflict", "message": "conflict with \"hand-edit\" using apps/v1", "field": ".spec.replicas"}])
    );
    // Nothing changed.
    let (_, got) = raw(&c, "GET", "/apis/apps/v1/namespaces/default/deployments/web", "", "").await;
    assert_eq!(got["spec"]["replicas"], 4);
}

#[tokio::test]
async fn force_takes_the_fields_from_their_owners() {
    let (_s, c) = start().await;
    assert_eq!(apply(&c, "helm", false, &deployment(1, "nginx:1.27", json!({}))).await.0, 201);
    let (code, v) = apply(&c, "other", true, &deployment(5, "nginx:1.28", json!({}))).await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["spec"]["replicas"], 5);
    assert_eq!(v["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.28");
    let other = v["metadata"]["managedFields"].as_array().unwrap().iter().find(|e| e["manager"] == "other").unwrap().clone();
    assert_eq!(other["fieldsV1"]["f:spec"]["f:replicas"], json!({}));
    let helm = v["metadata"]["managedFields"].as_array().unwrap().iter().find(|e| e["manager"] == "helm").unwrap().clone();
    assert!(helm["fieldsV1"]["f:spec"].get("f:replicas").is_none(), "{helm}");
    // helm, applying its old configuration again, now conflicts.
    let (code, v) = apply(&c, "helm", false, &deployment(1, "nginx:1.27", json!({}))).await;
    assert_eq!(code, 409, "{v}");
    assert_eq!(
        v["message"],
        "Apply failed with 2 conflicts: conflicts with \"other\":\n- .spec.replicas\n- .spec.template.spec.containers[name=\"app\"].image"
    );
}

#[tokio::test]
async fn apply_needs_a_field_manager_and_a_matching_kind_and_name() {
    let (_s, c) = start().await;
    let path = "/api/v1/namespaces/default/configmaps/a";
    let body = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n";
    let (code, v) = raw(&c, "PATCH", path, "application/apply-patch+yaml", body).await;
    assert_eq!(code, 422, "{v}");
    assert_eq!(v["message"], "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch");
    let (code, v) =
        raw(&c, "PATCH", &format!("{path}?fieldManager=x"), "application/apply-patch+yaml", "apiVersion: v1\nkind: ConfigMap\n").await;
    assert_eq!(code, 400, "{v}");
    assert_eq!(v["message"], "the name of the object () does not match the name on the URL (a)");
    let (code, v) = raw(
        &c,
        "PATCH",
        &format!("{path}?fieldManager=x"),
        "application/apply-patch+yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\n",
    )
    .await;
    assert_eq!(code, 400, "{v}");
    let (code, v) = raw(&c, "PATCH", &format!("{path}?fieldManager=x"), "application/apply-patch+yaml", "data: [unclosed").await;
    assert_eq!(code, 400, "{v}");
    assert!(v["message"].as_str().unwrap().starts_with("error decoding YAML: "), "{v}");
    let (code, v) = raw(&c, "PATCH", &format!("{path}?fieldManager=x"), "application/apply-patch+cbor", "").await;
    assert_eq!(code, 415, "{v}");
    // Nothing was created.
    assert_eq!(raw(&c, "GET", path, "", "").await.0, 404);
    // A good one, then a dry run that stores nothing.
    assert_eq!(raw(&c, "PATCH", &format!("{path}?fieldManager=x"), "application/apply-patch+yaml", body).await.0, 201);
    let changed = body.replace("k: v", "k: w");
    let (code, v) = raw(&c, "PATCH", &format!("{path}?fieldManager=x&dryRun=All"), "application/apply-patch+yaml", &changed).await;
    assert_eq!((code, v["data"]["k"].as_str()), (200, Some("w")));
    assert_eq!(raw(&c, "GET", path, "", "").await.1["data"]["k"], "v");
}

#[tokio::test]
async fn kube_rs_server_side_apply_and_updates_record_their_managers() {
    let (_s, c) = start().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(c.clone());
    let created = cms
        .create(
            &PostParams { field_manager: Some("creator".into()), ..Default::default() },
            &serde_json::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"x": "1"}}))
                .unwrap(),
        )
        .await
        .unwrap();
    let mf = created.metadata.managed_fields.clone().unwrap();
    assert_eq!(mf.len(), 1);
    assert_eq!((mf[0].manager.as_deref(), mf[0].operation.as_deref()), (Some("creator"), Some("Update")));
    assert_eq!(mf[0].fields_v1.as_ref().unwrap().0["f:data"]["f:x"], json!({}));

    let cfg = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"y": "2"}});
    let applied = cms.patch("a", &PatchParams::apply("rudder-test"), &Patch::Apply(&cfg)).await.unwrap();
    let data = applied.data.unwrap();
    assert_eq!((data["x"].as_str(), data["y"].as_str()), ("1", "2"));
    let managers: Vec<(String, String)> = applied
        .metadata
        .managed_fields
        .unwrap()
        .into_iter()
        .map(|e| (e.manager.unwrap_or_default(), e.operation.unwrap_or_default()))
        .collect();
    assert_eq!(managers, vec![("rudder-test".to_string(), "Apply".to_string()), ("creator".to_string(), "Update".to_string())]);

    // Taking x over needs force.
    let take = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"x": "9", "y": "2"}});
    let e = status(cms.patch("a", &PatchParams::apply("rudder-test"), &Patch::Apply(&take)).await.unwrap_err());
    assert_eq!((e.code, e.reason.as_str()), (409, "Conflict"));
    let forced = cms.patch("a", &PatchParams::apply("rudder-test").force(), &Patch::Apply(&take)).await.unwrap();
    assert_eq!(forced.data.unwrap()["x"], "9");
}

#[tokio::test]
async fn status_is_applied_through_the_status_subresource_only() {
    let (_s, c) = start().await;
    let deps: Api<Deployment> = Api::default_namespaced(c.clone());
    assert_eq!(apply(&c, "helm", false, &deployment(1, "nginx:1.27", json!({}))).await.0, 201);
    // Status in a main-resource apply is ignored.
    let mut with_status = deployment(1, "nginx:1.27", json!({}));
    with_status["status"] = json!({"replicas": 7});
    let (code, v) = apply(&c, "helm", false, &with_status).await;
    assert_eq!(code, 200, "{v}");
    assert!(v["status"].get("replicas").is_none(), "{v}");
    // Through the status subresource it is taken, owned with subresource status.
    let st = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "status": {"replicas": 7}});
    let got = deps.patch_status("web", &PatchParams::apply("controller"), &Patch::Apply(&st)).await.unwrap();
    assert_eq!(got.status.unwrap().replicas, Some(7));
    let entry = got.metadata.managed_fields.unwrap().into_iter().find(|e| e.manager.as_deref() == Some("controller")).unwrap();
    assert_eq!(entry.subresource.as_deref(), Some("status"));
    assert_eq!(entry.fields_v1.unwrap().0, json!({"f:status": {"f:replicas": {}}}));
    assert_eq!(got.spec.unwrap().replicas, Some(1));
}
