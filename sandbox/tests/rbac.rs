//! Authentication and the opt-in RBAC authorizer, as kube-apiserver with
//! `--authorization-mode=RBAC`: a ServiceAccount's token gets what its
//! bindings grant and a 403 in upstream's words for the rest; aggregation,
//! resourceNames, non-resource URLs; unknown tokens are 401.

mod util;

use kube::Client;
use rudder_sandbox::{Config, Options, Sandbox};
use serde_json::{Value, json};
use util::raw;

async fn rbac_sandbox() -> (Sandbox, Client) {
    let cfg = Config { api: Options { rbac: true, ..Default::default() }, ..Default::default() };
    let s = Sandbox::start_with(cfg).await.expect("sandbox");
    let admin = s.client().expect("client");
    (s, admin)
}

async fn client_from(kubeconfig: &str) -> Client {
    let kc = kube::config::Kubeconfig::from_yaml(kubeconfig).expect("kubeconfig");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await.expect("config");
    Client::try_from(cfg).expect("client")
}

async fn post(c: &Client, path: &str, body: Value) -> (u16, Value) {
    raw(c, "POST", path, "application/json", &body.to_string()).await
}

async fn get(c: &Client, path: &str) -> (u16, Value) {
    raw(c, "GET", path, "application/json", "").await
}

async fn grant(admin: &Client, ns: &str, role: Value, sa: &str) {
    let name = role["metadata"]["name"].as_str().unwrap().to_string();
    let cluster = role["kind"] == "ClusterRole";
    let (code, body) = if cluster {
        post(admin, "/apis/rbac.authorization.k8s.io/v1/clusterroles", role).await
    } else {
        post(admin, &format!("/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles"), role).await
    };
    assert_eq!(code, 201, "{body}");
    let binding = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": if cluster { "ClusterRoleBinding" } else { "RoleBinding" },
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": if cluster { "ClusterRole" } else { "Role" }, "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": ns}]
    });
    let path = if cluster {
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings".to_string()
    } else {
        format!("/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings")
    };
    let (code, body) = post(admin, &path, binding).await;
    assert_eq!(code, 201, "{body}");
}

#[tokio::test]
async fn a_service_account_gets_what_its_role_binding_grants_and_a_403_for_the_rest() {
    let (s, admin) = rbac_sandbox().await;
    let sa = client_from(&s.service_account_kubeconfig("default", "reader")).await;
    let (code, body) = get(&sa, "/api/v1/namespaces/default/pods").await;
    assert_eq!(code, 403, "{body}");
    assert_eq!(
        body["message"],
        "pods is forbidden: User \"system:serviceaccount:default:reader\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\""
    );
    assert_eq!(body["reason"], "Forbidden");
    assert_eq!(body["details"]["kind"], "pods");
    grant(
        &admin,
        "default",
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "pod-reader"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]}),
        "reader",
    )
    .await;
    assert_eq!(get(&sa, "/api/v1/namespaces/default/pods").await.0, 200);
    let (code, body) = get(&sa, "/api/v1/pods").await;
    assert_eq!(code, 403, "a RoleBinding grants nothing cluster-wide");
    assert_eq!(
        body["message"],
        "pods is forbidden: User \"system:serviceaccount:default:reader\" cannot list resource \"pods\" in API group \"\" at the cluster scope"
    );
    let (code, body) =
        post(&sa, "/api/v1/namespaces/default/configmaps", json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}))
            .await;
    assert_eq!(code, 403, "{body}");
    // Discovery is every authenticated user's (system:discovery).
    assert_eq!(get(&sa, "/apis").await.0, 200);
    assert_eq!(get(&sa, "/api/v1").await.0, 200);
    // The administrator is in system:masters.
    assert_eq!(get(&admin, "/api/v1/pods").await.0, 200);
    assert_eq!(s.denials().len(), 3, "{:?}", s.denials());
}

#[tokio::test]
async fn subresources_resource_names_and_non_resource_urls() {
    let (s, admin) = rbac_sandbox().await;
    let sa = client_from(&s.service_account_kubeconfig("default", "elector")).await;
    grant(
        &admin,
        "default",
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "lease"},
        "rules": [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
                  {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "resourceNames": ["mine"], "verbs": ["get", "update"]}]}),
        "elector",
    )
    .await;
    let lease = |name: &str| json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": name}});
    assert_eq!(post(&sa, "/apis/coordination.k8s.io/v1/namespaces/default/leases", lease("mine")).await.0, 201);
    assert_eq!(post(&admin, "/apis/coordination.k8s.io/v1/namespaces/default/leases", lease("theirs")).await.0, 201);
    assert_eq!(get(&sa, "/apis/coordination.k8s.io/v1/namespaces/default/leases/mine").await.0, 200);
    assert_eq!(get(&sa, "/apis/coordination.k8s.io/v1/namespaces/default/leases/theirs").await.0, 403);
    assert_eq!(get(&sa, "/apis/coordination.k8s.io/v1/namespaces/default/leases").await.0, 403, "names never cover a list");
    // A subresource needs its own rule.
    grant(
        &admin,
        "default",
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "binder"},
        "rules": [{"apiGroups": [""], "resources": ["pods/binding"], "verbs": ["create"]},
                  {"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]}),
        "elector",
    )
    .await;
    let (code, body) = get(&sa, "/api/v1/namespaces/default/pods/p").await;
    assert_eq!(code, 403, "{body}");
    assert_eq!(
        body["message"],
        "pods \"p\" is forbidden: User \"system:serviceaccount:default:elector\" cannot get resource \"pods\" in API group \"\" in the namespace \"default\""
    );
    let (code, body) = get(&sa, "/version").await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = get(&sa, "/openapi/v3").await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = raw(&sa, "DELETE", "/version", "application/json", "").await;
    assert_eq!(code, 403, "{body}");
    assert_eq!(body["message"], "forbidden: User \"system:serviceaccount:default:elector\" cannot delete path \"/version\"");
}

#[tokio::test]
async fn an_aggregated_cluster_role_has_the_rules_of_the_roles_it_selects() {
    let (s, admin) = rbac_sandbox().await;
    let sa = client_from(&s.service_account_kubeconfig("default", "viewer")).await;
    let (code, body) = post(
        &admin,
        "/apis/rbac.authorization.k8s.io/v1/clusterroles",
        json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "config-viewer", "labels": {"example.com/aggregate-to-view": "true"}},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}]}),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    grant(
        &admin,
        "default",
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "view"},
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"example.com/aggregate-to-view": "true"}}]}}),
        "viewer",
    )
    .await;
    assert_eq!(get(&sa, "/api/v1/configmaps").await.0, 200);
    assert_eq!(get(&sa, "/api/v1/secrets").await.0, 403);
}

#[tokio::test]
async fn unknown_tokens_are_unauthorized_and_without_rbac_every_user_may_do_anything() {
    let (s, _) = rbac_sandbox().await;
    let kc = s.kubeconfig().replace("token: rudder-sandbox", "token: made-up");
    let (code, body) = get(&client_from(&kc).await, "/api/v1/pods").await;
    assert_eq!(code, 401, "{body}");
    assert_eq!(body["reason"], "Unauthorized");

    let plain = Sandbox::start().await.unwrap();
    let sa = client_from(&plain.service_account_kubeconfig("default", "anyone")).await;
    assert_eq!(get(&sa, "/api/v1/secrets").await.0, 200, "AlwaysAllow");
}
