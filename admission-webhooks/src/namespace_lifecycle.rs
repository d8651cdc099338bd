//! The NamespaceLifecycle admission rule of kube-apiserver v1.36
//! (`k8s.io/apiserver/pkg/admission/plugin/namespace/lifecycle`), as a pure
//! function of the request and of what is known about its namespace.
//!
//! - A delete of `default`, `kube-system` or `kube-public` (the "immortal"
//!   namespaces) is Forbidden: `this namespace may not be deleted`.
//! - Cluster-scoped objects, Namespaces themselves (every operation, their
//!   subresources too), deletes and `localsubjectaccessreviews` (whose
//!   answer must not tell whether a namespace exists) are always allowed.
//! - Everything else (creates, updates) needs the namespace: a missing one
//!   answers the namespace's own 404 `namespaces "x" not found`, for updates
//!   too; a failed lookup is a 500.
//! - Creates in a namespace whose `status.phase` is `Terminating` are
//!   Forbidden, `unable to create new content in namespace x because it is
//!   being terminated`, with a `NamespaceTerminating` cause on
//!   `metadata.namespace` (what client-go's `HasStatusCause` and its event
//!   recorder look for, the latter logging "will not retry" at V(5) rather
//!   than as an error).
//!
//! Upstream looks the namespace up in an informer's cache, waits 50 ms and
//! looks again before refusing a create in a namespace it does not see, and
//! reads the namespace live when it recently saw it deleted: all so that the
//! cache agrees with storage. Callers hand [`admit`] the state storage has
//! (the sandbox reads its store; a webhook should read live when its cache
//! says [`NamespaceState::NotFound`] or `Active` for a namespace it saw
//! deleted), so those mechanics are the caller's.

use serde_json::{Value, json};

/// The plugin's name in `--enable-admission-plugins`.
pub const PLUGIN_NAME: &str = "NamespaceLifecycle";

/// The namespaces that may not be deleted (upstream registers the plugin with
/// `metav1.NamespaceDefault`, `NamespaceSystem`, `NamespacePublic`).
pub const IMMORTAL_NAMESPACES: [&str; 3] = ["default", "kube-system", "kube-public"];

/// The cause type of a create refused in a terminating namespace
/// (`v1.NamespaceTerminatingCause`).
pub const NAMESPACE_TERMINATING_CAUSE: &str = "NamespaceTerminating";

/// The admission operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
    /// Not handled by the plugin: always allowed.
    Connect,
}

/// What the admission attributes say about a request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub operation: Operation,
    /// The group and kind of the request's object (`a.GetKind()`): `Pod` for
    /// pods, `Binding` for pods/binding, `Eviction` (group `policy`) for
    /// pods/eviction, `Namespace` for namespaces and their subresources.
    pub kind_group: &'a str,
    pub kind: &'a str,
    /// The group and resource (plural) requested (`a.GetResource()`), the
    /// subresource left out: what a Forbidden names.
    pub group: &'a str,
    pub resource: &'a str,
    /// The name in the request (`a.GetName()`); empty for creates of objects
    /// with a generateName.
    pub name: &'a str,
    /// The request's namespace, empty for cluster-scoped requests.
    pub namespace: &'a str,
    /// The object of a create or update, whose name (else generateName)
    /// names it in a Forbidden when the request has no name.
    pub object: Option<&'a Value>,
}

/// What is known of the request's namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamespaceState {
    /// The namespace exists and its phase is not `Terminating` (`Active`, or
    /// unset).
    Active,
    /// The namespace exists with `status.phase: Terminating`.
    Terminating,
    /// No namespace of that name.
    NotFound,
    /// The lookup failed; the error's text.
    Unknown(String),
    /// The namespace cache has not synced yet (a webhook's informer).
    NotReady,
}

impl NamespaceState {
    /// The state of an existing Namespace object (JSON as the API serves it).
    pub fn of(namespace: &Value) -> NamespaceState {
        match namespace.pointer("/status/phase").and_then(Value::as_str) {
            Some("Terminating") => NamespaceState::Terminating,
            _ => NamespaceState::Active,
        }
    }
}

/// A cause in a refusal's Status details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// The cause's `reason` field (Go's `StatusCause.Type`).
    pub reason: String,
    pub message: String,
    pub field: String,
}

/// A refusal, as the `metav1.Status` kube-apiserver answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub code: u16,
    /// `Forbidden`, `NotFound` or `InternalError`.
    pub reason: &'static str,
    pub message: String,
    /// The details' group, kind (the resource, for these errors) and name.
    pub group: String,
    pub kind: String,
    pub name: String,
    pub causes: Vec<Cause>,
}

impl Denial {
    /// `apierrors.NewInternalError`: a 500 saying the server could not decide.
    pub fn internal(message: &str) -> Denial {
        Denial {
            code: 500,
            reason: "InternalError",
            message: format!("Internal error occurred: {message}"),
            group: String::new(),
            kind: String::new(),
            name: String::new(),
            causes: Vec::new(),
        }
    }

    /// The `metav1.Status` (JSON, `apiVersion: v1`), with empty details
    /// fields left out as Go's `omitempty` does.
    pub fn to_status(&self) -> Value {
        let mut details = serde_json::Map::new();
        for (k, v) in [("name", &self.name), ("group", &self.group), ("kind", &self.kind)] {
            if !v.is_empty() {
                details.insert(k.into(), json!(v));
            }
        }
        if !self.causes.is_empty() {
            let causes: Vec<Value> = self
                .causes
                .iter()
                .map(|c| {
                    let mut m = serde_json::Map::new();
                    for (k, v) in [("reason", &c.reason), ("message", &c.message), ("field", &c.field)] {
                        if !v.is_empty() {
                            m.insert(k.into(), json!(v));
                        }
                    }
                    Value::Object(m)
                })
                .collect();
            details.insert("causes".into(), Value::Array(causes));
        }
        let mut s = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if !details.is_empty() {
            s["details"] = Value::Object(details);
        }
        s
    }
}

/// The decision on a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny(Denial),
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow)
    }
}

/// `group/resource` as `GroupResource.String()` prints it: `pods`,
/// `deployments.apps`.
fn qualified(group: &str, resource: &str) -> String {
    if group.is_empty() { resource.to_string() } else { format!("{resource}.{group}") }
}

/// `apierrors.NewForbidden(resource, name, err)`.
pub fn forbidden(group: &str, resource: &str, name: &str, why: &str) -> Denial {
    let what = qualified(group, resource);
    let message = if name.is_empty() { format!("{what} is forbidden: {why}") } else { format!("{what} \"{name}\" is forbidden: {why}") };
    Denial { code: 403, reason: "Forbidden", message, group: group.into(), kind: resource.into(), name: name.into(), causes: Vec::new() }
}

/// The name `admission.NewForbidden` gives a request: its name, else the
/// object's name, else its generateName, else `Unknown`.
fn request_name(req: &Request<'_>) -> String {
    if !req.name.is_empty() {
        return req.name.to_string();
    }
    let field = |f: &str| {
        req.object.and_then(|o| o.pointer(&format!("/metadata/{f}"))).and_then(Value::as_str).filter(|s| !s.is_empty()).map(String::from)
    };
    field("name").or_else(|| field("generateName")).unwrap_or_else(|| "Unknown".into())
}

fn is_namespace_kind(req: &Request<'_>) -> bool {
    req.kind_group.is_empty() && req.kind == "Namespace"
}

/// Resources that give a view into permissions in a namespace: answering
/// "not found" for them would tell who asks whether a namespace exists.
fn is_access_review(req: &Request<'_>) -> bool {
    req.group == "authorization.k8s.io" && req.resource == "localsubjectaccessreviews"
}

/// Whether [`admit`] needs the namespace's state for this request (it calls
/// `namespace` only then).
pub fn needs_namespace(req: &Request<'_>) -> bool {
    !matches!(req.operation, Operation::Connect | Operation::Delete)
        && !req.namespace.is_empty()
        && !is_namespace_kind(req)
        && !is_access_review(req)
}

/// The decision of NamespaceLifecycle on `req`; `namespace` gives the state
/// of the request's namespace and is called only when it matters.
pub fn admit(req: &Request<'_>, namespace: impl FnOnce(&str) -> NamespaceState) -> Decision {
    if req.operation == Operation::Connect {
        return Decision::Allow;
    }
    if req.operation == Operation::Delete && is_namespace_kind(req) && IMMORTAL_NAMESPACES.contains(&req.name) {
        return Decision::Deny(forbidden(req.group, req.resource, req.name, "this namespace may not be deleted"));
    }
    if !needs_namespace(req) {
        return Decision::Allow;
    }
    match namespace(req.namespace) {
        NamespaceState::NotReady => {
            Decision::Deny(forbidden(req.group, req.resource, &request_name(req), "not yet ready to handle request"))
        }
        NamespaceState::Unknown(e) => Decision::Deny(Denial {
            code: 500,
            reason: "InternalError",
            message: format!("Internal error occurred: {e}"),
            group: String::new(),
            kind: String::new(),
            name: String::new(),
            causes: vec![Cause { reason: String::new(), message: e, field: String::new() }],
        }),
        NamespaceState::NotFound => Decision::Deny(Denial {
            code: 404,
            reason: "NotFound",
            message: format!("namespaces \"{}\" not found", req.namespace),
            group: String::new(),
            kind: "namespaces".into(),
            name: req.namespace.into(),
            causes: Vec::new(),
        }),
        NamespaceState::Terminating if req.operation == Operation::Create => {
            let ns = req.namespace;
            let mut d = forbidden(
                req.group,
                req.resource,
                &request_name(req),
                &format!("unable to create new content in namespace {ns} because it is being terminated"),
            );
            d.causes.push(Cause {
                reason: NAMESPACE_TERMINATING_CAUSE.into(),
                message: format!("namespace {ns} is being terminated"),
                field: "metadata.namespace".into(),
            });
            Decision::Deny(d)
        }
        NamespaceState::Terminating | NamespaceState::Active => Decision::Allow,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod_create<'a>(ns: &'a str, obj: &'a Value) -> Request<'a> {
        Request {
            operation: Operation::Create,
            kind_group: "",
            kind: "Pod",
            group: "",
            resource: "pods",
            name: "",
            namespace: ns,
            object: Some(obj),
        }
    }

    fn ns_request(op: Operation, name: &str) -> Request<'_> {
        Request { operation: op, kind_group: "", kind: "Namespace", group: "", resource: "namespaces", name, namespace: "", object: None }
    }

    fn never(_: &str) -> NamespaceState {
        panic!("the namespace was looked up")
    }

    fn denial(d: Decision) -> Denial {
        match d {
            Decision::Deny(d) => d,
            Decision::Allow => panic!("allowed"),
        }
    }

    #[test]
    fn creates_in_a_terminating_namespace_are_forbidden_with_the_cause() {
        let obj = json!({"metadata": {"generateName": "web-"}});
        let d = denial(admit(&pod_create("shop", &obj), |_| NamespaceState::Terminating));
        assert_eq!(d.code, 403);
        assert_eq!(d.reason, "Forbidden");
        assert_eq!(d.message, "pods \"web-\" is forbidden: unable to create new content in namespace shop because it is being terminated");
        assert_eq!(
            d.causes,
            vec![Cause {
                reason: "NamespaceTerminating".into(),
                message: "namespace shop is being terminated".into(),
                field: "metadata.namespace".into()
            }]
        );
        let s = d.to_status();
        assert_eq!(
            s["details"],
            json!({"name": "web-", "kind": "pods", "causes": [{"reason": "NamespaceTerminating", "message": "namespace shop is being terminated", "field": "metadata.namespace"}]})
        );
    }

    #[test]
    fn the_forbidden_names_the_request_then_the_object_then_unknown() {
        let named = json!({"metadata": {"name": "a", "generateName": "g-"}});
        let d = denial(admit(
            &Request { group: "apps", resource: "deployments", kind_group: "apps", kind: "Deployment", ..pod_create("n", &named) },
            |_| NamespaceState::Terminating,
        ));
        assert!(d.message.starts_with("deployments.apps \"a\" is forbidden: "), "{}", d.message);
        assert_eq!((d.group.as_str(), d.kind.as_str()), ("apps", "deployments"));
        let nameless = json!({"metadata": {}});
        let d = denial(admit(&pod_create("n", &nameless), |_| NamespaceState::Terminating));
        assert!(d.message.starts_with("pods \"Unknown\" is forbidden"), "{}", d.message);
        // A subresource create names the parent object's resource and name.
        let binding = json!({"metadata": {"name": "p"}, "target": {"name": "node"}});
        let req = Request { kind: "Binding", name: "p", ..pod_create("n", &binding) };
        assert!(denial(admit(&req, |_| NamespaceState::Terminating)).message.starts_with("pods \"p\" is forbidden"));
    }

    #[test]
    fn updates_in_a_terminating_namespace_are_allowed() {
        let obj = json!({"metadata": {"name": "a"}});
        let req = Request { operation: Operation::Update, name: "a", ..pod_create("n", &obj) };
        assert!(admit(&req, |_| NamespaceState::Terminating).is_allowed());
        assert!(admit(&req, |_| NamespaceState::Active).is_allowed());
    }

    #[test]
    fn a_missing_namespace_is_not_found_for_creates_and_updates() {
        let obj = json!({"metadata": {"name": "a"}});
        for op in [Operation::Create, Operation::Update] {
            let d = denial(admit(&Request { operation: op, ..pod_create("nope", &obj) }, |_| NamespaceState::NotFound));
            assert_eq!((d.code, d.reason, d.message.as_str()), (404, "NotFound", "namespaces \"nope\" not found"));
            assert_eq!(d.to_status()["details"], json!({"name": "nope", "kind": "namespaces"}));
        }
    }

    #[test]
    fn lookup_failures_and_unsynced_caches() {
        let obj = json!({"metadata": {"name": "a"}});
        let d = denial(admit(&pod_create("n", &obj), |_| NamespaceState::Unknown("etcd is down".into())));
        assert_eq!((d.code, d.reason, d.message.as_str()), (500, "InternalError", "Internal error occurred: etcd is down"));
        let d = denial(admit(&pod_create("n", &obj), |_| NamespaceState::NotReady));
        assert_eq!(d.message, "pods \"a\" is forbidden: not yet ready to handle request");
    }

    #[test]
    fn immortal_namespaces_cannot_be_deleted() {
        for name in IMMORTAL_NAMESPACES {
            let d = denial(admit(&ns_request(Operation::Delete, name), never));
            assert_eq!(d.message, format!("namespaces \"{name}\" is forbidden: this namespace may not be deleted"));
            assert_eq!(d.to_status()["details"], json!({"name": name, "kind": "namespaces"}));
        }
        // kube-node-lease is a system namespace, but not immortal.
        assert!(admit(&ns_request(Operation::Delete, "kube-node-lease"), never).is_allowed());
        assert!(admit(&ns_request(Operation::Delete, "shop"), never).is_allowed());
        // Updating them is fine.
        assert!(admit(&ns_request(Operation::Update, "default"), never).is_allowed());
    }

    #[test]
    fn exempt_requests_do_not_look_the_namespace_up() {
        let obj = json!({"metadata": {"name": "a"}});
        // Namespaces themselves, creates and status updates alike.
        assert!(admit(&ns_request(Operation::Create, "new"), never).is_allowed());
        // Cluster-scoped objects.
        let node = Request { kind: "Node", resource: "nodes", namespace: "", ..pod_create("", &obj) };
        assert!(admit(&node, never).is_allowed());
        // Deletes of namespaced objects.
        assert!(admit(&Request { operation: Operation::Delete, name: "a", ..pod_create("n", &obj) }, never).is_allowed());
        // Connect is not handled.
        assert!(admit(&Request { operation: Operation::Connect, ..pod_create("n", &obj) }, never).is_allowed());
        // Access reviews.
        let review = Request {
            group: "authorization.k8s.io",
            resource: "localsubjectaccessreviews",
            kind_group: "authorization.k8s.io",
            kind: "LocalSubjectAccessReview",
            ..pod_create("n", &obj)
        };
        assert!(admit(&review, never).is_allowed());
        assert!(!needs_namespace(&review));
        assert!(needs_namespace(&pod_create("n", &obj)));
    }

    #[test]
    fn creates_in_an_active_namespace_are_allowed() {
        let obj = json!({"metadata": {"name": "a"}});
        assert!(
            admit(&pod_create("n", &obj), |ns| {
                assert_eq!(ns, "n");
                NamespaceState::Active
            })
            .is_allowed()
        );
    }

    #[test]
    fn namespace_state_from_the_object() {
        assert_eq!(NamespaceState::of(&json!({"status": {"phase": "Terminating"}})), NamespaceState::Terminating);
        assert_eq!(NamespaceState::of(&json!({"status": {"phase": "Active"}})), NamespaceState::Active);
        assert_eq!(NamespaceState::of(&json!({})), NamespaceState::Active);
    }
}
