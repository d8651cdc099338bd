//! Authentication by bearer token and, opt-in, kube-apiserver's RBAC
//! authorizer (`--authorization-mode=RBAC`).
//!
//! **Who.** A request with no token, or with the token of the sandbox's own
//! kubeconfig (`rudder-sandbox`), is `system:admin` in `system:masters`:
//! the sandbox's single administrator, as a client certificate of that
//! group is on a real cluster. [`Tokens::issue`] makes a token for a
//! ServiceAccount (`system:serviceaccount:<ns>:<name>`, groups
//! `system:serviceaccounts`, `system:serviceaccounts:<ns>`,
//! `system:authenticated`), as a projected token would be; any other token
//! is a 401 `Unauthorized`.
//!
//! **What.** With RBAC on, a request is allowed when the user is in
//! `system:masters`, or when a ClusterRoleBinding, or a RoleBinding of the
//! request's namespace, binds the user (User, Group or ServiceAccount
//! subject) to a role with a rule that covers it: verbs, API groups,
//! resources (`res`, `res/sub`, `*`, `*/sub`), resourceNames (which never
//! cover a request without a name), and for requests that are not on a
//! resource, nonResourceURLs (exact, or a prefix ending in `*`; only
//! through ClusterRoleBindings). A ClusterRole with an `aggregationRule`
//! has the rules of every ClusterRole its selectors match (what upstream's
//! clusterrole-aggregation controller writes into it). Request attributes
//! are read off the path as upstream's RequestInfoFactory reads them, so
//! the metrics APIs are authorized like any other resource. A refusal is
//! upstream's 403 (`pods is forbidden: User "u" cannot list resource "pods"
//! in API group "" in the namespace "ns"`) and is recorded, so that tests
//! can fail on any.
//!
//! Turning RBAC on seeds upstream's `system:discovery` ClusterRole and its
//! binding to `system:authenticated`, and nothing else: the other bootstrap
//! roles are not there.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{Value, json};

use crate::registry;
use crate::status::ApiError;
use crate::store::Store;

/// The token of the sandbox's own kubeconfig.
pub const ADMIN_TOKEN: &str = "rudder-sandbox";

/// An authenticated user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub groups: Vec<String>,
}

/// The admin, once: what the sandbox's own controllers write as.
pub static ADMIN: std::sync::LazyLock<User> = std::sync::LazyLock::new(User::admin);

impl User {
    pub fn admin() -> User {
        User { name: "system:admin".into(), groups: vec!["system:masters".into(), "system:authenticated".into()] }
    }

    pub fn service_account(namespace: &str, name: &str) -> User {
        User {
            name: format!("system:serviceaccount:{namespace}:{name}"),
            groups: vec!["system:serviceaccounts".into(), format!("system:serviceaccounts:{namespace}"), "system:authenticated".into()],
        }
    }
}

/// The tokens the sandbox knows.
#[derive(Default)]
pub struct Tokens(Mutex<HashMap<String, User>>);

impl Tokens {
    /// A new token for `user`.
    pub fn issue(&self, user: User) -> String {
        let token = format!("sandbox-{}", uuid::Uuid::new_v4().simple());
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(token.clone(), user);
        token
    }

    /// Who the `Authorization` header names.
    pub fn authenticate(&self, authorization: Option<&str>) -> Result<User, ApiError> {
        let token = match authorization {
            None => return Ok(User::admin()),
            Some(h) => match h.strip_prefix("Bearer ").map(str::trim) {
                Some(t) => t,
                None => return Err(unauthorized()),
            },
        };
        if token == ADMIN_TOKEN {
            return Ok(User::admin());
        }
        self.0.lock().unwrap_or_else(|e| e.into_inner()).get(token).cloned().ok_or_else(unauthorized)
    }
}

fn unauthorized() -> ApiError {
    ApiError::new(401, "Unauthorized", "Unauthorized")
}

/// What a request asks, as the authorizer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attributes {
    Resource { verb: String, group: String, resource: String, sub: String, namespace: String, name: String },
    Path { verb: String, path: String },
}

/// Upstream's RequestInfoFactory: a request on `/api/v1/...` or
/// `/apis/<group>/<version>/...` below the version is on a resource;
/// anything else is on a path.
pub fn attributes(method: &str, path: &str, watch: bool) -> Attributes {
    let lower = method.to_ascii_lowercase();
    let on_path = || Attributes::Path { verb: lower.clone(), path: path.to_string() };
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, rest) = match parts.as_slice() {
        ["api", _version, rest @ ..] if !rest.is_empty() => ("", rest),
        ["apis", g, _version, rest @ ..] if !rest.is_empty() => (*g, rest),
        _ => return on_path(),
    };
    let (watch_path, rest) = match rest {
        ["watch", rest @ ..] => (true, rest),
        _ => (false, rest),
    };
    let mut namespace = String::new();
    let mut rest: Vec<&str> = rest.to_vec();
    if rest.first() == Some(&"namespaces") && rest.len() > 1 {
        namespace = rest[1].to_string();
        // `namespaces/<ns>/<resource>...`; but `namespaces/<ns>/status` and
        // `/finalize` are the namespace's own subresources.
        if rest.len() > 2 && !matches!(rest[2], "status" | "finalize") {
            rest.drain(..2);
        }
    }
    let resource = rest.first().copied().unwrap_or_default().to_string();
    let name = rest.get(1).copied().unwrap_or_default().to_string();
    let sub = rest.get(2..).map(|s| s.join("/")).unwrap_or_default();
    let named = !name.is_empty();
    let verb = match lower.as_str() {
        "get" | "head" if watch_path || watch => "watch",
        "get" | "head" if named => "get",
        "get" | "head" => "list",
        "post" => "create",
        "put" => "update",
        "patch" => "patch",
        "delete" if named => "delete",
        "delete" => "deletecollection",
        other => other,
    };
    Attributes::Resource { verb: verb.into(), group: group.into(), resource, sub, namespace, name }
}

fn strs(v: &Value, key: &str) -> Vec<String> {
    v.get(key).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(String::from).collect()).unwrap_or_default()
}

fn covers(list: &[String], want: &str) -> bool {
    list.iter().any(|x| x == "*" || x == want)
}

/// Whether one PolicyRule covers the request.
pub fn rule_allows(rule: &Value, attrs: &Attributes) -> bool {
    if !covers(&strs(rule, "verbs"), attrs_verb(attrs)) {
        return false;
    }
    match attrs {
        Attributes::Resource { group, resource, sub, name, .. } => {
            if !covers(&strs(rule, "apiGroups"), group) {
                return false;
            }
            let combined = if sub.is_empty() { resource.clone() } else { format!("{resource}/{sub}") };
            let resources = strs(rule, "resources");
            let resource_ok = resources.iter().any(|r| r == "*" || *r == combined || (!sub.is_empty() && *r == format!("*/{sub}")));
            if !resource_ok {
                return false;
            }
            let names = strs(rule, "resourceNames");
            names.is_empty() || names.iter().any(|n| n == name)
        }
        Attributes::Path { path, .. } => strs(rule, "nonResourceURLs")
            .iter()
            .any(|u| u == "*" || u == path || u.strip_suffix('*').is_some_and(|prefix| path.starts_with(prefix))),
    }
}

fn attrs_verb(a: &Attributes) -> &str {
    match a {
        Attributes::Resource { verb, .. } | Attributes::Path { verb, .. } => verb,
    }
}

fn kind_of(plural: &str) -> &'static registry::ResourceType {
    registry::find("rbac.authorization.k8s.io", "v1", plural).expect("the RBAC resources are registered")
}

fn subject_is(subject: &Value, user: &User, binding_namespace: &str) -> bool {
    let name = subject.get("name").and_then(Value::as_str).unwrap_or_default();
    match subject.get("kind").and_then(Value::as_str) {
        Some("User") => user.name == name,
        Some("Group") => user.groups.iter().any(|g| g == name),
        Some("ServiceAccount") => {
            let ns = subject.get("namespace").and_then(Value::as_str).filter(|s| !s.is_empty()).unwrap_or(binding_namespace);
            user.name == format!("system:serviceaccount:{ns}:{name}")
        }
        _ => false,
    }
}

/// The rules of a ClusterRole, aggregated ones included.
fn cluster_role_rules(store: &Store, name: &str) -> Vec<Value> {
    let Some(role) = store.get(kind_of("clusterroles"), "", name) else { return vec![] };
    let mut rules: Vec<Value> = role.get("rules").and_then(Value::as_array).cloned().unwrap_or_default();
    if let Some(selectors) = role.pointer("/aggregationRule/clusterRoleSelectors").and_then(Value::as_array) {
        let (_, all) = store.list(kind_of("clusterroles"), None);
        for other in all.iter().filter(|o| o.pointer("/metadata/name").and_then(Value::as_str) != Some(name)) {
            let labels = other.pointer("/metadata/labels").cloned().unwrap_or(json!({}));
            let matches = selectors.iter().any(|s| {
                let sel: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector> = serde_json::from_value(s.clone()).ok();
                let labels: std::collections::BTreeMap<String, String> = serde_json::from_value(labels.clone()).unwrap_or_default();
                sel.and_then(|sel| rudder_common::selector::Selector::from_label_selector(Some(&sel)).ok())
                    .is_some_and(|sel| sel.matches(&labels))
            });
            if matches {
                rules.extend(other.get("rules").and_then(Value::as_array).cloned().unwrap_or_default());
            }
        }
    }
    rules
}

/// RBAC's decision.
pub fn allows(store: &Store, user: &User, attrs: &Attributes) -> bool {
    if user.groups.iter().any(|g| g == "system:masters") {
        return true;
    }
    let role_rules = |binding: &Value, namespace: &str| -> Vec<Value> {
        let kind = binding.pointer("/roleRef/kind").and_then(Value::as_str).unwrap_or_default();
        let name = binding.pointer("/roleRef/name").and_then(Value::as_str).unwrap_or_default();
        match kind {
            "ClusterRole" => cluster_role_rules(store, name),
            "Role" if !namespace.is_empty() => store
                .get(kind_of("roles"), namespace, name)
                .and_then(|r| r.get("rules").and_then(Value::as_array).cloned())
                .unwrap_or_default(),
            _ => vec![],
        }
    };
    let bound = |binding: &Value, ns: &str| {
        binding.get("subjects").and_then(Value::as_array).is_some_and(|subjects| subjects.iter().any(|s| subject_is(s, user, ns)))
    };
    let (_, cluster_bindings) = store.list(kind_of("clusterrolebindings"), None);
    for b in cluster_bindings.iter().filter(|b| bound(b, "")) {
        if role_rules(b, "").iter().any(|r| rule_allows(r, attrs)) {
            return true;
        }
    }
    if let Attributes::Resource { namespace, .. } = attrs
        && !namespace.is_empty()
    {
        let (_, bindings) = store.list(kind_of("rolebindings"), Some(namespace));
        for b in bindings.iter().filter(|b| bound(b, namespace)) {
            // Non-resource rules mean nothing in a namespace.
            if role_rules(b, namespace).iter().any(|r| rule_allows(r, attrs)) {
                return true;
            }
        }
    }
    false
}

/// Upstream's refusal (`responsewriters.forbiddenMessage` in a Forbidden).
pub fn forbidden(user: &User, attrs: &Attributes) -> ApiError {
    match attrs {
        Attributes::Path { verb, path } => {
            ApiError::new(403, "Forbidden", format!("forbidden: User {:?} cannot {verb} path {path:?}", user.name))
        }
        Attributes::Resource { verb, group, resource, sub, namespace, name } => {
            let what = if sub.is_empty() { resource.clone() } else { format!("{resource}/{sub}") };
            let scope = if namespace.is_empty() { "at the cluster scope".to_string() } else { format!("in the namespace {namespace:?}") };
            let why = format!("User {:?} cannot {verb} resource {what:?} in API group {group:?} {scope}", user.name);
            ApiError::forbidden(group, resource, name, &why)
        }
    }
}

/// What turning RBAC on creates: `system:discovery`, bound to every
/// authenticated user.
pub fn bootstrap() -> Vec<(&'static str, Value)> {
    let labels = json!({"kubernetes.io/bootstrapping": "rbac-defaults"});
    vec![
        (
            "clusterroles",
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": {"name": "system:discovery", "labels": labels, "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}},
                "rules": [{"verbs": ["get"], "nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"]}]}),
        ),
        (
            "clusterrolebindings",
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": "system:discovery", "labels": labels, "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:discovery"},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"}]}),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(verb: &str, group: &str, resource: &str, sub: &str, ns: &str, name: &str) -> Attributes {
        Attributes::Resource {
            verb: verb.into(),
            group: group.into(),
            resource: resource.into(),
            sub: sub.into(),
            namespace: ns.into(),
            name: name.into(),
        }
    }

    #[test]
    fn paths_read_as_upstream_reads_them() {
        assert_eq!(attributes("GET", "/api/v1/namespaces/ns/pods", false), res("list", "", "pods", "", "ns", ""));
        assert_eq!(attributes("GET", "/api/v1/namespaces/ns/pods", true), res("watch", "", "pods", "", "ns", ""));
        assert_eq!(attributes("GET", "/api/v1/watch/pods", false), res("watch", "", "pods", "", "", ""));
        assert_eq!(attributes("POST", "/api/v1/namespaces/ns/pods/p/binding", false), res("create", "", "pods", "binding", "ns", "p"));
        assert_eq!(
            attributes("PATCH", "/apis/apps/v1/namespaces/ns/replicasets/r/status", false),
            res("patch", "apps", "replicasets", "status", "ns", "r")
        );
        assert_eq!(attributes("GET", "/api/v1/namespaces/ns", false), res("get", "", "namespaces", "", "ns", "ns"));
        assert_eq!(attributes("DELETE", "/api/v1/namespaces/ns/pods", false), res("deletecollection", "", "pods", "", "ns", ""));
        assert_eq!(
            attributes("GET", "/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/pods/*/qps", false),
            res("get", "custom.metrics.k8s.io", "pods", "qps", "ns", "*")
        );
        assert_eq!(attributes("GET", "/apis/apps/v1", false), Attributes::Path { verb: "get".into(), path: "/apis/apps/v1".into() });
        assert_eq!(attributes("GET", "/version", false), Attributes::Path { verb: "get".into(), path: "/version".into() });
    }

    #[test]
    fn rules_cover_what_they_name() {
        let rule = json!({"verbs": ["get", "update"], "apiGroups": ["apps"], "resources": ["deployments/scale"]});
        assert!(rule_allows(&rule, &res("get", "apps", "deployments", "scale", "ns", "d")));
        assert!(!rule_allows(&rule, &res("get", "apps", "deployments", "", "ns", "d")));
        assert!(!rule_allows(&rule, &res("patch", "apps", "deployments", "scale", "ns", "d")));
        let any_scale = json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*/scale"]});
        assert!(rule_allows(&any_scale, &res("update", "example.com", "widgets", "scale", "ns", "w")));
        assert!(!rule_allows(&any_scale, &res("update", "example.com", "widgets", "", "ns", "w")));
        let named =
            json!({"verbs": ["get", "update"], "apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "resourceNames": ["mine"]});
        assert!(rule_allows(&named, &res("get", "coordination.k8s.io", "leases", "", "ns", "mine")));
        assert!(!rule_allows(&named, &res("get", "coordination.k8s.io", "leases", "", "ns", "theirs")));
        assert!(!rule_allows(&named, &res("list", "coordination.k8s.io", "leases", "", "ns", "")), "a name list never covers a list");
        let urls = json!({"verbs": ["get"], "nonResourceURLs": ["/apis/*", "/version"]});
        assert!(rule_allows(&urls, &Attributes::Path { verb: "get".into(), path: "/apis/apps/v1".into() }));
        assert!(!rule_allows(&urls, &Attributes::Path { verb: "get".into(), path: "/api".into() }));
    }

    #[test]
    fn refusals_read_as_upstream_words_them() {
        let sa = User::service_account("rudder-system", "rudder-job");
        let e = forbidden(&sa, &res("list", "", "pods", "", "ns", ""));
        assert_eq!(e.code, 403);
        assert_eq!(
            e.message,
            "pods is forbidden: User \"system:serviceaccount:rudder-system:rudder-job\" cannot list resource \"pods\" in API group \"\" in the namespace \"ns\""
        );
        let e = forbidden(&sa, &res("update", "apps", "deployments", "scale", "", "web"));
        assert_eq!(
            e.message,
            "deployments.apps \"web\" is forbidden: User \"system:serviceaccount:rudder-system:rudder-job\" cannot update resource \"deployments/scale\" in API group \"apps\" at the cluster scope"
        );
        let e = forbidden(&sa, &Attributes::Path { verb: "get".into(), path: "/apis".into() });
        assert_eq!(e.message, "forbidden: User \"system:serviceaccount:rudder-system:rudder-job\" cannot get path \"/apis\"");
    }

    #[test]
    fn tokens_name_their_users() {
        let t = Tokens::default();
        assert_eq!(t.authenticate(None).unwrap(), User::admin());
        assert_eq!(t.authenticate(Some("Bearer rudder-sandbox")).unwrap(), User::admin());
        let token = t.issue(User::service_account("ns", "sa"));
        assert_eq!(t.authenticate(Some(&format!("Bearer {token}"))).unwrap().name, "system:serviceaccount:ns:sa");
        assert_eq!(t.authenticate(Some("Bearer nope")).unwrap_err().code, 401);
        assert_eq!(t.authenticate(Some("Basic eDp5")).unwrap_err().code, 401);
    }
}
