//! Dynamic admission webhooks, as kube-apiserver v1.36 calls them: the
//! `MutatingAdmissionWebhook` and `ValidatingAdmissionWebhook` plugins.
//!
//! [`Webhooks::mutate`] runs the matching webhooks of every
//! MutatingWebhookConfiguration one after the other (configurations sorted by
//! name, webhooks in their order), applies each JSONPatch answer to the
//! object and reinvokes `reinvocationPolicy: IfNeeded` webhooks once when a
//! later webhook changed the object. [`Webhooks::validate`] calls the
//! matching webhooks of every ValidatingWebhookConfiguration at the same time
//! and reports the first denial, in webhook order.
//!
//! What decides whether a webhook is called, as upstream decides it:
//! `namespaceSelector` (labels of the object's namespace; of the namespace
//! itself for a create or update of a Namespace; cluster-scoped objects other
//! than namespaces always match), `objectSelector` (labels of the object or
//! of the old object), `rules` (operations, groups, versions, resources with
//! `res/sub`, `*`, `*/*`, `*/scale`, and scope) and `matchPolicy`. Requests
//! for webhook (and admission policy) configurations never go to webhooks.
//!
//! Where the sandbox differs from kube-apiserver, it says so loudly:
//!
//! * `matchConditions` are CEL expressions, which the sandbox does not
//!   evaluate: a webhook that would be called and has some answers 501
//!   NotImplemented instead of being called.
//! * `matchPolicy: Equivalent` matching through another version of the same
//!   resource is served for Events and HPAs, as upstream serves it: a webhook whose
//!   rules name core v1 `events` is called for events.k8s.io/v1 Events and
//!   back, with `kind` and `resource` of the version it matched,
//!   `requestKind` and `requestResource` of the request, `object` and
//!   `oldObject` converted to the matched version, and a mutating
//!   webhook's patch applied to that and converted back. The same holds
//!   for autoscaling/v1 ↔ autoscaling/v2 HorizontalPodAutoscalers.
//! * `clientConfig.service` names an in-cluster Service the sandbox cannot
//!   reach: the call fails (a call error, so `failurePolicy` applies).
//! * Messages of transport errors imitate Go's for the common cases
//!   (connection refused, deadline exceeded, unknown certificate authority)
//!   and otherwise carry the Rust error's text.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use base64::Engine;
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhook, MutatingWebhookConfiguration, RuleWithOperations, ValidatingWebhook, ValidatingWebhookConfiguration,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use rudder_common::field::go_quote;
use rudder_common::selector::Selector;
use serde_json::{Value, json};

use crate::meta;
use crate::registry::{self, ResourceType};
use crate::status::ApiError;
use crate::store::Store;

/// The timeout of a webhook call when the webhook names none.
const DEFAULT_TIMEOUT_SECONDS: i32 = 10;
/// The longest timeout a webhook may ask for.
const MAX_TIMEOUT_SECONDS: i32 = 30;
/// How much of an unstructured error body goes into the error message.
const MAX_UNSTRUCTURED_BODY: usize = 2048;
/// How many HTTP clients are kept before the cache starts over.
const MAX_CLIENTS: usize = 64;

/// The admission operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
    Connect,
}

impl Operation {
    /// The name used in rules and in admission reviews.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
    }
}

/// What is being admitted.
#[derive(Debug, Clone)]
pub struct Attributes<'a> {
    pub resource: &'static ResourceType,
    pub subresource: Option<&'a str>,
    pub operation: Operation,
    /// The object's name (for a create with generateName, the generated one).
    pub name: &'a str,
    /// The object's namespace; "" for cluster-scoped objects. For Namespace
    /// objects the namespace is the namespace's own name, as upstream sets
    /// it, whatever is passed here.
    pub namespace: &'a str,
    /// The new object (none for a delete). [`Webhooks::mutate`] uses the
    /// object it is given instead.
    pub object: Option<&'a Value>,
    /// The stored object, for updates and deletes.
    pub old_object: Option<&'a Value>,
    pub dry_run: bool,
    /// The CreateOptions, UpdateOptions or DeleteOptions of the request,
    /// with apiVersion `meta.k8s.io/v1` and kind, as upstream sends them.
    pub options: Option<Value>,
    /// Who asked (the authenticated user; the admin for the sandbox's own
    /// controllers), the review's `userInfo`.
    pub user: &'a crate::rbac::User,
}

impl Attributes<'_> {
    fn is_namespace(&self) -> bool {
        self.resource.group.is_empty() && self.resource.plural == "namespaces"
    }

    /// The namespace upstream's admission attributes carry.
    fn effective_namespace(&self) -> &str {
        if self.is_namespace() { self.name } else { self.namespace }
    }

    fn sub(&self) -> &str {
        self.subresource.unwrap_or_default()
    }

    /// The request's resource.
    fn gvr(&self) -> Gvr {
        Gvr { group: self.resource.group, version: self.resource.version, resource: self.resource.plural }
    }

    /// The kind of the object the request carries: the subresource's kind
    /// for scale, binding and eviction.
    fn gvk(&self) -> Gvk {
        match self.subresource {
            Some("scale") => Gvk { group: "autoscaling", version: "v1", kind: "Scale" },
            Some("binding") => Gvk { group: "", version: "v1", kind: "Binding" },
            Some("eviction") => Gvk { group: "policy", version: "v1", kind: "Eviction" },
            _ => Gvk { group: self.resource.group, version: self.resource.version, kind: self.resource.kind },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Gvr {
    group: &'static str,
    version: &'static str,
    resource: &'static str,
}

impl Gvr {
    fn to_json(self) -> Value {
        json!({"group": self.group, "version": self.version, "resource": self.resource})
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Gvk {
    group: &'static str,
    version: &'static str,
    kind: &'static str,
}

impl Gvk {
    fn to_json(self) -> Value {
        json!({"group": self.group, "version": self.version, "kind": self.kind})
    }
}

/// The same resource served at another group or version, sharing storage
/// (upstream's EquivalentResourceMapper, for the resources the sandbox
/// serves as kube-apiserver v1.36 serves them).
fn equivalents(r: Gvr) -> &'static [(Gvr, Gvk)] {
    const HPA_V1: &[(Gvr, Gvk)] = &[(
        Gvr { group: "autoscaling", version: "v1", resource: "horizontalpodautoscalers" },
        Gvk { group: "autoscaling", version: "v1", kind: "HorizontalPodAutoscaler" },
    )];
    const HPA_V2: &[(Gvr, Gvk)] = &[(
        Gvr { group: "autoscaling", version: "v2", resource: "horizontalpodautoscalers" },
        Gvk { group: "autoscaling", version: "v2", kind: "HorizontalPodAutoscaler" },
    )];
    const CORE_EVENTS: &[(Gvr, Gvk)] =
        &[(Gvr { group: "", version: "v1", resource: "events" }, Gvk { group: "", version: "v1", kind: "Event" })];
    const NEW_EVENTS: &[(Gvr, Gvk)] = &[(
        Gvr { group: "events.k8s.io", version: "v1", resource: "events" },
        Gvk { group: "events.k8s.io", version: "v1", kind: "Event" },
    )];
    match (r.group, r.resource) {
        ("autoscaling", "horizontalpodautoscalers") if r.version == "v2" => HPA_V1,
        ("autoscaling", "horizontalpodautoscalers") if r.version == "v1" => HPA_V2,
        ("events.k8s.io", "events") => CORE_EVENTS,
        ("", "events") => NEW_EVENTS,
        _ => &[],
    }
}

/// The resource a webhook matched through an equivalent resource is sent
/// objects of, when the sandbox serves it and can convert to it (Events:
/// core v1 ↔ events.k8s.io/v1); `None` for a webhook matched by the
/// request's own resource, or when the objects cannot be converted.
fn invoked_resource(inv: Invocation, attrs: &Attributes<'_>) -> Option<&'static ResourceType> {
    if inv.resource == attrs.gvr() || attrs.subresource.is_some() {
        return None;
    }
    registry::find(inv.resource.group, inv.resource.version, inv.resource.resource)
        .filter(|to| crate::convert::convertible(attrs.resource, to) && !std::ptr::eq(*to, attrs.resource))
}

/// An object of the request's resource as the webhook sees it: converted to
/// the equivalent resource the webhook matched, if it matched one.
fn as_invoked(inv: Invocation, attrs: &Attributes<'_>, obj: &Value) -> Value {
    match invoked_resource(inv, attrs) {
        Some(to) => crate::convert::convert(obj, attrs.resource, to),
        None => obj.clone(),
    }
}

/// Whether the request is for an admission configuration, which webhooks
/// never see (upstream's IsExemptAdmissionConfigurationResource).
fn is_exempt(attrs: &Attributes<'_>) -> bool {
    let k = attrs.gvk();
    k.group == "admissionregistration.k8s.io"
        && matches!(
            k.kind,
            "ValidatingWebhookConfiguration"
                | "MutatingWebhookConfiguration"
                | "ValidatingAdmissionPolicy"
                | "ValidatingAdmissionPolicyBinding"
                | "MutatingAdmissionPolicy"
                | "MutatingAdmissionPolicyBinding"
        )
}

// ---------------------------------------------------------------------------
// Webhooks as read from their configurations

/// One webhook of a configuration, mutating or validating.
#[derive(Debug, Clone)]
struct Hook {
    kind: Kind,
    configuration: String,
    name: String,
    url: Option<String>,
    /// namespace, name, port, path.
    service: Option<(String, String, i32, String)>,
    ca_bundle: Vec<u8>,
    rules: Vec<RuleWithOperations>,
    ignore_failures: bool,
    /// `matchPolicy: Equivalent`, the default.
    equivalent: bool,
    namespace_selector: Option<LabelSelector>,
    object_selector: Option<LabelSelector>,
    /// `None` when absent (or empty).
    side_effects: Option<String>,
    timeout_seconds: i32,
    review_versions: Vec<String>,
    match_conditions: Vec<String>,
    reinvoke_if_needed: bool,
}

impl Hook {
    #[allow(clippy::too_many_arguments)]
    fn new(
        kind: Kind,
        configuration: &str,
        name: String,
        client_config: k8s_openapi::api::admissionregistration::v1::WebhookClientConfig,
        rules: Option<Vec<RuleWithOperations>>,
        failure_policy: Option<String>,
        match_policy: Option<String>,
        namespace_selector: Option<LabelSelector>,
        object_selector: Option<LabelSelector>,
        side_effects: String,
        timeout_seconds: Option<i32>,
        review_versions: Vec<String>,
        match_conditions: Option<Vec<k8s_openapi::api::admissionregistration::v1::MatchCondition>>,
        reinvocation_policy: Option<String>,
    ) -> Hook {
        Hook {
            kind,
            configuration: configuration.to_string(),
            name,
            url: client_config.url.filter(|u| !u.is_empty()),
            service: client_config.service.map(|s| (s.namespace, s.name, s.port.unwrap_or(443), s.path.unwrap_or_default())),
            ca_bundle: client_config.ca_bundle.map(|b| b.0).unwrap_or_default(),
            rules: rules.unwrap_or_default(),
            // Defaulted to Fail.
            ignore_failures: failure_policy.as_deref() == Some("Ignore"),
            // Defaulted to Equivalent.
            equivalent: match_policy.as_deref() != Some("Exact"),
            namespace_selector,
            object_selector,
            side_effects: Some(side_effects).filter(|s| !s.is_empty()),
            timeout_seconds: timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECONDS).clamp(1, MAX_TIMEOUT_SECONDS),
            review_versions,
            match_conditions: match_conditions.unwrap_or_default().into_iter().map(|c| c.name).collect(),
            reinvoke_if_needed: reinvocation_policy.as_deref() == Some("IfNeeded"),
        }
    }

    fn from_mutating(configuration: &str, h: MutatingWebhook) -> Hook {
        Hook::new(
            Kind::Mutating,
            configuration,
            h.name,
            h.client_config,
            h.rules,
            h.failure_policy,
            h.match_policy,
            h.namespace_selector,
            h.object_selector,
            h.side_effects,
            h.timeout_seconds,
            h.admission_review_versions,
            h.match_conditions,
            h.reinvocation_policy,
        )
    }

    fn from_validating(configuration: &str, h: ValidatingWebhook) -> Hook {
        Hook::new(
            Kind::Validating,
            configuration,
            h.name,
            h.client_config,
            h.rules,
            h.failure_policy,
            h.match_policy,
            h.namespace_selector,
            h.object_selector,
            h.side_effects,
            h.timeout_seconds,
            h.admission_review_versions,
            h.match_conditions,
            None,
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Mutating,
    Validating,
}

/// Who to call and as what: the resource and kind the webhook is sent,
/// which differ from the request's when the webhook matched an equivalent
/// resource.
#[derive(Debug, Clone, Copy)]
struct Invocation {
    resource: Gvr,
    kind: Gvk,
}

// ---------------------------------------------------------------------------
// Matching

/// Whether one rule matches (upstream's rules.Matcher).
fn rule_matches(rule: &RuleWithOperations, op: Operation, r: Gvr, sub: &str, namespace: &str) -> bool {
    let is_namespace = r.group.is_empty() && r.version == "v1" && r.resource == "namespaces";
    let scope = match rule.scope.as_deref() {
        None | Some("*") => true,
        Some("Namespaced") => !is_namespace && !namespace.is_empty(),
        Some("Cluster") => is_namespace || namespace.is_empty(),
        Some(_) => false,
    };
    let listed = |items: &Option<Vec<String>>, wanted: &str| items.iter().flatten().any(|i| i == "*" || i == wanted);
    scope
        && listed(&rule.operations, op.as_str())
        && listed(&rule.api_groups, r.group)
        && listed(&rule.api_versions, r.version)
        && rule.resources.iter().flatten().any(|res| {
            let (res, res_sub) = res.split_once('/').unwrap_or((res, ""));
            (res == "*" || res == r.resource) && (res_sub == "*" || res_sub == sub)
        })
}

fn parse_selector(s: Option<&LabelSelector>) -> Result<Selector, ApiError> {
    match s {
        // An absent selector is defaulted to {} by the API: everything.
        None => Ok(Selector::everything()),
        Some(s) => Selector::from_label_selector(Some(s)).map_err(|e| internal_error(&e.to_string())),
    }
}

fn has_labels_matching(obj: Option<&Value>, s: &Selector) -> bool {
    obj.is_some_and(|o| o.is_object() && s.matches(&meta::labels(o)))
}

/// The object the webhooks see: none for a delete, or when the caller has
/// none to show.
fn present(obj: Option<&Value>) -> Option<&Value> {
    obj.filter(|o| !o.is_null())
}

// ---------------------------------------------------------------------------
// Errors

/// Why a webhook call did not give an answer.
#[derive(Debug)]
enum CallFailure {
    /// Could not talk to the webhook (upstream's ErrCallingWebhook): the
    /// failure policy decides. The text follows `failed calling webhook "x": `.
    Calling(String),
    /// The webhook denied the request, or the request cannot go on.
    Fatal(ApiError),
}

/// Upstream's apierrors.NewInternalError.
fn internal_error(err: &str) -> ApiError {
    ApiError {
        code: 500,
        reason: "InternalError",
        message: format!("Internal error occurred: {err}"),
        details: Some(json!({"causes": [{"message": err}]})),
    }
}

/// The error text of a call error (upstream's ErrCallingWebhook.Error).
fn calling_error_text(hook: &str, reason: &str) -> String {
    format!("failed calling webhook {}: {reason}", go_quote(hook))
}

/// A call error turned into the request's error, for `failurePolicy: Fail`.
fn calling_error(hook: &str, reason: &str) -> ApiError {
    internal_error(&calling_error_text(hook, reason))
}

/// Upstream's NewDryRunUnsupportedErr.
fn dry_run_unsupported(hook: &str) -> ApiError {
    ApiError::bad_request(format!("admission webhook {} does not support dry run", go_quote(hook)))
}

/// A denial (upstream's webhook errors.ToStatusErr): the webhook's Status
/// with a code of at least 400 and the webhook named in the message.
fn denial(hook: &str, result: Option<&Value>) -> ApiError {
    let empty = json!({});
    let result = result.filter(|r| r.is_object()).unwrap_or(&empty);
    let code = result.get("code").and_then(Value::as_i64).unwrap_or(0);
    let code = if (400..=u16::MAX as i64).contains(&code) { code as u16 } else { 400 };
    let reason = result.get("reason").and_then(Value::as_str).unwrap_or_default();
    let message = result.get("message").and_then(Value::as_str).unwrap_or_default();
    let denied_by = format!("admission webhook {} denied the request", go_quote(hook));
    let message = if !message.is_empty() {
        format!("{denied_by}: {message}")
    } else if !reason.is_empty() {
        format!("{denied_by}: {reason}")
    } else {
        format!("{denied_by} without explanation")
    };
    let details = result.get("details").filter(|d| d.as_object().is_some_and(|m| !m.is_empty())).cloned();
    ApiError { code, reason: intern_reason(reason), message, details }
}

/// A Status reason as the `&'static str` [`ApiError`] carries. Webhooks may
/// answer any reason; distinct ones are kept once (up to a bound, after
/// which unknown reasons are reported empty).
fn intern_reason(reason: &str) -> &'static str {
    const KNOWN: &[&str] = &[
        "",
        "Unauthorized",
        "Forbidden",
        "NotFound",
        "AlreadyExists",
        "Conflict",
        "Gone",
        "Invalid",
        "ServerTimeout",
        "StoreReadError",
        "Timeout",
        "TooManyRequests",
        "BadRequest",
        "MethodNotAllowed",
        "NotAcceptable",
        "RequestEntityTooLarge",
        "UnsupportedMediaType",
        "InternalError",
        "Expired",
        "ServiceUnavailable",
        "NotImplemented",
        "Unknown",
    ];
    const MAX_INTERNED: usize = 1024;
    static INTERNED: LazyLock<Mutex<HashSet<&'static str>>> = LazyLock::new(|| Mutex::new(KNOWN.iter().copied().collect()));
    let mut set = INTERNED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(r) = set.get(reason) {
        return r;
    }
    if set.len() >= MAX_INTERNED {
        tracing::warn!(reason, "too many distinct webhook Status reasons; reporting an empty reason");
        return "";
    }
    let r: &'static str = Box::leak(reason.to_string().into_boxed_str());
    set.insert(r);
    r
}

// ---------------------------------------------------------------------------
// The plugin

/// The webhook admission plugins over the sandbox's store.
pub struct Webhooks {
    store: Arc<Store>,
    /// HTTP clients by scheme and authority of the webhook URL and CA bundle.
    clients: Mutex<HashMap<(String, Vec<u8>), kube::Client>>,
}

/// What an answered call brought back.
struct Answer {
    allowed: bool,
    result: Option<Value>,
    patch: Option<Vec<u8>>,
    patch_type: Option<String>,
    warnings: Vec<String>,
}

impl Webhooks {
    pub fn new(store: Arc<Store>) -> Self {
        Self { store, clients: Mutex::new(HashMap::new()) }
    }

    /// Runs the matching MutatingWebhookConfigurations' webhooks in upstream
    /// order (configurations sorted by name, webhooks in order), applying
    /// each JSONPatch response to the object in turn, and reinvoking
    /// `IfNeeded` webhooks once when a later webhook changed the object.
    /// Returns the mutated object and the webhooks' warnings. `object` is
    /// the object as it stands (`Value::Null` when there is none, as for a
    /// delete); `attrs.object` is not used.
    pub async fn mutate(&self, attrs: &Attributes<'_>, object: Value) -> Result<(Value, Vec<String>), ApiError> {
        let mut warnings = Vec::new();
        if is_exempt(attrs) {
            return Ok((object, warnings));
        }
        let hooks = self.hooks(Kind::Mutating)?;
        if hooks.is_empty() {
            return Ok((object, warnings));
        }
        let mut object = object;
        // Upstream's webhookReinvokeContext: the IfNeeded webhooks called
        // since the object last changed, and those to call again.
        let mut previously_invoked: HashSet<usize> = HashSet::new();
        let mut reinvoke: HashSet<usize> = HashSet::new();
        let mut should_reinvoke = false;
        for round in 0..2 {
            if round == 1 && !should_reinvoke {
                break;
            }
            for (i, hook) in hooks.iter().enumerate() {
                let Some(inv) = self.should_call(hook, attrs, present(Some(&object)))? else {
                    continue;
                };
                if round == 1 && !reinvoke.contains(&i) {
                    continue;
                }
                let outcome = self.call_mutating(hook, inv, attrs, &mut object, &mut warnings).await;
                if matches!(outcome, Ok(true)) {
                    reinvoke.extend(previously_invoked.drain());
                    should_reinvoke = true;
                }
                if hook.reinvoke_if_needed {
                    previously_invoked.insert(i);
                }
                match outcome {
                    Ok(_) => {}
                    Err(CallFailure::Calling(reason)) if hook.ignore_failures => {
                        tracing::warn!(webhook = %hook.name, error = %calling_error_text(&hook.name, &reason), "Failed calling webhook, failing open");
                    }
                    Err(CallFailure::Calling(reason)) => {
                        tracing::warn!(webhook = %hook.name, error = %calling_error_text(&hook.name, &reason), "Failed calling webhook, failing closed");
                        return Err(calling_error(&hook.name, &reason));
                    }
                    Err(CallFailure::Fatal(e)) => return Err(e),
                }
            }
        }
        Ok((object, warnings))
    }

    /// Runs the matching ValidatingWebhookConfigurations' webhooks, all at
    /// once as upstream does. Returns their warnings, or the first error in
    /// webhook order (upstream returns the first to arrive).
    pub async fn validate(&self, attrs: &Attributes<'_>) -> Result<Vec<String>, ApiError> {
        if is_exempt(attrs) {
            return Ok(Vec::new());
        }
        let hooks = self.hooks(Kind::Validating)?;
        let object = present(attrs.object);
        let mut relevant = Vec::new();
        for hook in &hooks {
            if let Some(inv) = self.should_call(hook, attrs, object)? {
                relevant.push((hook, inv));
            }
        }
        if relevant.is_empty() {
            return Ok(Vec::new());
        }
        let outcomes = futures::future::join_all(relevant.iter().map(|(hook, inv)| async move {
            let mut warnings = Vec::new();
            let outcome = self.call_validating(hook, *inv, attrs, object, &mut warnings).await;
            (warnings, outcome)
        }))
        .await;
        let mut warnings = Vec::new();
        let mut first_error = None;
        for ((hook, _), (w, outcome)) in relevant.iter().zip(outcomes) {
            warnings.extend(w);
            let err = match outcome {
                Ok(()) => continue,
                Err(CallFailure::Calling(reason)) if hook.ignore_failures => {
                    tracing::warn!(webhook = %hook.name, error = %calling_error_text(&hook.name, &reason), "Failed calling webhook, failing open");
                    continue;
                }
                Err(CallFailure::Calling(reason)) => {
                    tracing::warn!(webhook = %hook.name, error = %calling_error_text(&hook.name, &reason), "Failed calling webhook, failing closed");
                    calling_error(&hook.name, &reason)
                }
                Err(CallFailure::Fatal(e)) => {
                    tracing::warn!(webhook = %hook.name, error = %e, "rejected by webhook");
                    e
                }
            };
            first_error.get_or_insert(err);
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(warnings),
        }
    }

    /// The webhooks of every configuration of a kind, configurations sorted
    /// by name.
    fn hooks(&self, kind: Kind) -> Result<Vec<Hook>, ApiError> {
        let plural = match kind {
            Kind::Mutating => "mutatingwebhookconfigurations",
            Kind::Validating => "validatingwebhookconfigurations",
        };
        let r = registry::find("admissionregistration.k8s.io", "v1", plural).expect("webhook configurations are served");
        // The store lists cluster-scoped objects sorted by name.
        let (_, configs) = self.store.list(r, None);
        let mut hooks = Vec::new();
        for c in configs {
            let name = meta::name(&c).to_string();
            let unreadable =
                |e: serde_json::Error| internal_error(&format!("rudder-sandbox cannot read {} {}: {e}", r.kind, go_quote(&name)));
            match kind {
                Kind::Mutating => {
                    let c: MutatingWebhookConfiguration = serde_json::from_value((*c).clone()).map_err(unreadable)?;
                    hooks.extend(c.webhooks.unwrap_or_default().into_iter().map(|h| Hook::from_mutating(&name, h)));
                }
                Kind::Validating => {
                    let c: ValidatingWebhookConfiguration = serde_json::from_value((*c).clone()).map_err(unreadable)?;
                    hooks.extend(c.webhooks.unwrap_or_default().into_iter().map(|h| Hook::from_validating(&name, h)));
                }
            }
        }
        Ok(hooks)
    }

    /// Whether a webhook is to be called for the request, and as what
    /// (upstream's ShouldCallHook). `object` is the object as it stands.
    fn should_call(&self, hook: &Hook, attrs: &Attributes<'_>, object: Option<&Value>) -> Result<Option<Invocation>, ApiError> {
        let ns_match = self.namespace_matches(hook, attrs, object);
        if matches!(ns_match, Ok(false)) {
            return Ok(None);
        }
        let obj_match = parse_selector(hook.object_selector.as_ref())
            .map(|s| s.is_empty() || has_labels_matching(object, &s) || has_labels_matching(present(attrs.old_object), &s));
        if matches!(obj_match, Ok(false)) {
            return Ok(None);
        }
        let gvr = attrs.gvr();
        let ns = attrs.effective_namespace();
        let sub = attrs.sub();
        let mut invocation = None;
        if hook.rules.iter().any(|rule| rule_matches(rule, attrs.operation, gvr, sub, ns)) {
            invocation = Some(Invocation { resource: gvr, kind: attrs.gvk() });
        } else if hook.equivalent {
            'rules: for rule in &hook.rules {
                for (eq, kind) in equivalents(gvr) {
                    if rule_matches(rule, attrs.operation, *eq, sub, ns) {
                        invocation = Some(Invocation { resource: *eq, kind: *kind });
                        break 'rules;
                    }
                }
            }
        }
        let Some(invocation) = invocation else {
            return Ok(None);
        };
        ns_match?;
        obj_match?;
        if !hook.match_conditions.is_empty() {
            return Err(ApiError::not_implemented(format!(
                "rudder-sandbox does not evaluate matchConditions (CEL): webhook {} of {} {} has matchConditions {:?}",
                go_quote(&hook.name),
                match hook.kind {
                    Kind::Mutating => "MutatingWebhookConfiguration",
                    Kind::Validating => "ValidatingWebhookConfiguration",
                },
                go_quote(&hook.configuration),
                hook.match_conditions
            )));
        }
        if invocation.resource != gvr && invoked_resource(invocation, attrs).is_none() {
            let k = invocation.kind;
            let want = if k.group.is_empty() { k.version.to_string() } else { format!("{}/{}", k.group, k.version) };
            return Err(ApiError::not_implemented(format!(
                "rudder-sandbox cannot convert {} {} to {want} {} for webhook {} (matchPolicy Equivalent); list {} in the rule's apiGroups and apiVersions",
                attrs.resource.api_version(),
                attrs.resource.kind,
                k.kind,
                go_quote(&hook.name),
                attrs.resource.api_version()
            )));
        }
        Ok(Some(invocation))
    }

    /// Whether the namespaceSelector matches (upstream's namespace Matcher).
    fn namespace_matches(&self, hook: &Hook, attrs: &Attributes<'_>, object: Option<&Value>) -> Result<bool, ApiError> {
        let ns = attrs.effective_namespace();
        if ns.is_empty() && !attrs.is_namespace() {
            // Cluster-scoped objects other than namespaces are never exempted.
            return Ok(true);
        }
        let selector = parse_selector(hook.namespace_selector.as_ref())?;
        if selector.is_empty() {
            return Ok(true);
        }
        let labels =
            if attrs.is_namespace() && attrs.subresource.is_none() && matches!(attrs.operation, Operation::Create | Operation::Update) {
                // The namespace being written: the store does not have it yet.
                object.map(meta::labels).unwrap_or_default()
            } else {
                let namespaces = registry::find("", "v1", "namespaces").expect("namespaces are served");
                match self.store.get(namespaces, "", ns) {
                    Some(n) => meta::labels(&n),
                    None => return Err(ApiError::not_found("", "namespaces", ns)),
                }
            };
        Ok(selector.matches(&labels))
    }

    // -----------------------------------------------------------------------
    // Calling

    /// Calls a mutating webhook and applies its patch. `Ok(true)` when the
    /// object changed.
    async fn call_mutating(
        &self,
        hook: &Hook,
        inv: Invocation,
        attrs: &Attributes<'_>,
        object: &mut Value,
        warnings: &mut Vec<String>,
    ) -> Result<bool, CallFailure> {
        let sent = present(Some(object)).map(|o| as_invoked(inv, attrs, o));
        let answer = self.call(hook, inv, attrs, sent.as_ref()).await?;
        warnings.extend(answer.warnings);
        if !answer.allowed {
            return Err(CallFailure::Fatal(denial(&hook.name, answer.result.as_ref())));
        }
        let Some(patch) = answer.patch.filter(|p| !p.is_empty()) else {
            return Ok(false);
        };
        let patch: json_patch::Patch = serde_json::from_slice(&patch)
            .map_err(|e| CallFailure::Calling(format!("received undecodable patch in webhook response: {e}")))?;
        if patch.0.is_empty() {
            return Ok(false);
        }
        if object.is_null() {
            return Err(CallFailure::Fatal(internal_error(&format!(
                "admission webhook {} attempted to modify the object, which is not supported for this operation",
                go_quote(&hook.name)
            ))));
        }
        match answer.patch_type.as_deref() {
            Some("JSONPatch") => {}
            other => {
                return Err(CallFailure::Calling(format!("unsupported patch type {}", go_quote(other.unwrap_or_default()))));
            }
        }
        let mut patched = sent.unwrap_or(Value::Null);
        json_patch::patch(&mut patched, &patch).map_err(|e| CallFailure::Fatal(internal_error(&e.to_string())))?;
        if let Some(seen) = invoked_resource(inv, attrs) {
            // Back to the request's version (upstream converts the patched object).
            patched = crate::convert::convert(&patched, seen, attrs.resource);
        }
        if attrs.subresource.is_none() {
            // Upstream decodes the patched object into its type and defaults it.
            let r = attrs.resource;
            patched =
                crate::defaults::apply_defaults(r.group, r.version, r.kind, patched).map_err(|e| CallFailure::Fatal(internal_error(&e)))?;
        }
        let changed = patched != *object;
        *object = patched;
        Ok(changed)
    }

    async fn call_validating(
        &self,
        hook: &Hook,
        inv: Invocation,
        attrs: &Attributes<'_>,
        object: Option<&Value>,
        warnings: &mut Vec<String>,
    ) -> Result<(), CallFailure> {
        let sent = object.map(|o| as_invoked(inv, attrs, o));
        let answer = self.call(hook, inv, attrs, sent.as_ref()).await?;
        warnings.extend(answer.warnings);
        if answer.allowed { Ok(()) } else { Err(CallFailure::Fatal(denial(&hook.name, answer.result.as_ref()))) }
    }

    /// Sends the admission review and checks the answer. `object` is already
    /// of the invoked resource's version (see [`as_invoked`]).
    async fn call(&self, hook: &Hook, inv: Invocation, attrs: &Attributes<'_>, object: Option<&Value>) -> Result<Answer, CallFailure> {
        if attrs.dry_run {
            match hook.side_effects.as_deref() {
                None => return Err(CallFailure::Calling("Webhook SideEffects is nil".into())),
                Some("None" | "NoneOnDryRun") => {}
                Some(_) => return Err(CallFailure::Fatal(dry_run_unsupported(&hook.name))),
            }
        }
        let Some(version) = hook.review_versions.iter().find(|v| *v == "v1" || *v == "v1beta1") else {
            return Err(CallFailure::Calling(
                "could not create admission objects: webhook does not accept known AdmissionReview versions (v1, v1beta1)".into(),
            ));
        };
        let uid = uuid::Uuid::new_v4().to_string();
        let review = admission_review(version, &uid, inv, attrs, object);
        let body = serde_json::to_vec(&review).map_err(|e| CallFailure::Calling(format!("could not create admission objects: {e}")))?;
        let reply = self.post(hook, body).await?;
        let review = decode_reply(reply).map_err(|e| CallFailure::Calling(format!("failed to call webhook: {e}")))?;
        verify_response(version, &uid, hook.kind, review)
            .map_err(|e| CallFailure::Calling(format!("received invalid webhook response: {e}")))
    }

    /// POSTs the review to the webhook within its timeout.
    async fn post(&self, hook: &Hook, body: Vec<u8>) -> Result<Reply, CallFailure> {
        let secs = hook.timeout_seconds;
        let (url, client) = match (&hook.url, &hook.service) {
            (Some(url), _) => {
                let (base, path) = split_url(url)
                    .map_err(|e| CallFailure::Calling(format!("could not get REST client: {}", calling_error_text(&hook.name, &e))))?;
                let client =
                    self.client(&base, &hook.ca_bundle).map_err(|e| CallFailure::Calling(format!("could not get REST client: {e}")))?;
                (format!("{base}{path}?timeout={secs}s"), Some((client, format!("{path}?timeout={secs}s"))))
            }
            (None, Some((ns, name, port, path))) => {
                let url = format!("https://{name}.{ns}.svc:{port}{}?timeout={secs}s", clean_path(path));
                (url, None)
            }
            (None, None) => {
                return Err(CallFailure::Calling(format!(
                    "could not get REST client: {}",
                    calling_error_text(&hook.name, "webhook configuration must have either service or URL")
                )));
            }
        };
        let Some((client, path_and_query)) = client else {
            return Err(CallFailure::Calling(format!(
                "failed to call webhook: Post {}: rudder-sandbox cannot reach in-cluster services; give the webhook a clientConfig.url",
                go_quote(&url)
            )));
        };
        let request = http::Request::post(path_and_query)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json, */*")
            .header(http::header::USER_AGENT, "rudder-sandbox/admission")
            .body(kube::client::Body::from(body))
            .map_err(|e| CallFailure::Calling(format!("failed to call webhook: Post {}: {e}", go_quote(&url))))?;
        let dial_addr = dial_address(&url);
        let exchange = async {
            let response = client.send(request).await.map_err(|e| describe_error(&e, &dial_addr))?;
            let (parts, body) = response.into_parts();
            let body = body.collect_bytes().await.map_err(|e| {
                format!("unexpected error when reading response body. Please retry. Original error: {}", describe_error(&e, &dial_addr))
            })?;
            let content_type = parts.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(String::from);
            Ok::<_, String>(Reply { status: parts.status.as_u16(), content_type, body: body.to_vec() })
        };
        match tokio::time::timeout(Duration::from_secs(secs as u64), exchange).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(e)) => Err(CallFailure::Calling(format!("failed to call webhook: Post {}: {e}", go_quote(&url)))),
            Err(_) => Err(CallFailure::Calling(format!("failed to call webhook: Post {}: context deadline exceeded", go_quote(&url)))),
        }
    }

    /// The cached client for a webhook base URL and CA bundle.
    fn client(&self, base: &str, ca_bundle: &[u8]) -> Result<kube::Client, String> {
        let key = (base.to_string(), ca_bundle.to_vec());
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = clients.get(&key) {
            return Ok(c.clone());
        }
        let uri: http::Uri = base.parse().map_err(|e| format!("Unparsable URL: {e}"))?;
        let mut cfg = kube::Config::new(uri);
        if !ca_bundle.is_empty() {
            cfg.root_cert = Some(pem_certificates(ca_bundle)?);
        }
        cfg.default_retry = false;
        cfg.read_timeout = None;
        let client = kube::Client::try_from(cfg).map_err(|e| e.to_string())?;
        if clients.len() >= MAX_CLIENTS {
            clients.clear();
        }
        clients.insert(key, client.clone());
        Ok(client)
    }
}

/// The raw HTTP answer.
struct Reply {
    status: u16,
    content_type: Option<String>,
    body: Vec<u8>,
}

/// The admission review sent to a webhook (upstream's
/// CreateV1AdmissionReview and CreateV1beta1AdmissionReview).
fn admission_review(version: &str, uid: &str, inv: Invocation, attrs: &Attributes<'_>, object: Option<&Value>) -> Value {
    let mut request = serde_json::Map::new();
    request.insert("uid".into(), json!(uid));
    request.insert("kind".into(), inv.kind.to_json());
    request.insert("resource".into(), inv.resource.to_json());
    if let Some(sub) = attrs.subresource.filter(|s| !s.is_empty()) {
        request.insert("subResource".into(), json!(sub));
    }
    request.insert("requestKind".into(), attrs.gvk().to_json());
    request.insert("requestResource".into(), attrs.gvr().to_json());
    if let Some(sub) = attrs.subresource.filter(|s| !s.is_empty()) {
        request.insert("requestSubResource".into(), json!(sub));
    }
    if !attrs.name.is_empty() {
        request.insert("name".into(), json!(attrs.name));
    }
    let ns = attrs.effective_namespace();
    if !ns.is_empty() {
        request.insert("namespace".into(), json!(ns));
    }
    request.insert("operation".into(), json!(attrs.operation.as_str()));
    request.insert("userInfo".into(), json!({"username": attrs.user.name, "groups": attrs.user.groups}));
    request.insert("object".into(), object.cloned().unwrap_or(Value::Null));
    request.insert("oldObject".into(), present(attrs.old_object).map(|o| as_invoked(inv, attrs, o)).unwrap_or(Value::Null));
    request.insert("dryRun".into(), json!(attrs.dry_run));
    request.insert("options".into(), attrs.options.clone().unwrap_or(Value::Null));
    json!({
        "kind": "AdmissionReview",
        "apiVersion": format!("admission.k8s.io/{version}"),
        "request": Value::Object(request),
    })
}

/// Decodes the HTTP answer as client-go's REST client does: errors for
/// non-2xx codes, empty bodies and Status objects.
fn decode_reply(reply: Reply) -> Result<Value, String> {
    let Reply { status, content_type, body } = reply;
    if !(200..=206).contains(&status) {
        // A Status in the body is the error.
        if let Ok(v) = serde_json::from_slice::<Value>(&body)
            && v.get("kind").and_then(Value::as_str) == Some("Status")
        {
            return Err(v.get("message").and_then(Value::as_str).unwrap_or_default().to_string());
        }
        let text = content_type.as_deref().is_none_or(|ct| ct.trim_start().to_ascii_lowercase().starts_with("text/"));
        let message = if text {
            let end = body.len().min(MAX_UNSTRUCTURED_BODY);
            String::from_utf8_lossy(&body[..end]).trim().to_string()
        } else {
            "unknown".to_string()
        };
        return Err(generic_server_response(status, &message));
    }
    if body.is_empty() {
        return Err(format!(
            "0-length response with status code: {status} and content type: {}",
            content_type.as_deref().unwrap_or("application/json")
        ));
    }
    let v: Value = serde_json::from_slice(&body).map_err(|e| format!("couldn't decode the webhook response: {e}"))?;
    if !v.is_object() {
        return Err(format!("couldn't decode the webhook response: expected an object, got {}", truncated(&body)));
    }
    match v.get("kind").and_then(Value::as_str) {
        None | Some("") => Err(format!("Object 'Kind' is missing in '{}'", truncated(&body))),
        Some("Status") if v.get("status").and_then(Value::as_str) != Some("Success") => {
            Err(v.get("message").and_then(Value::as_str).unwrap_or_default().to_string())
        }
        Some(_) => Ok(v),
    }
}

fn truncated(body: &[u8]) -> String {
    let end = body.len().min(MAX_UNSTRUCTURED_BODY);
    String::from_utf8_lossy(&body[..end]).into_owned()
}

/// The message upstream's NewGenericServerResponse gives an HTTP code.
fn generic_server_response(code: u16, server_message: &str) -> String {
    match code {
        409 => "the server reported a conflict".into(),
        404 => "the server could not find the requested resource".into(),
        400 => "the server rejected our request for an unknown reason".into(),
        401 => "the server has asked for the client to provide credentials".into(),
        403 | 415 => server_message.into(),
        406 if !server_message.is_empty() && server_message != "unknown" => server_message.into(),
        406 => "the server was unable to respond with a content type that the client supports".into(),
        405 => "the server does not allow this method on the requested resource".into(),
        422 => "the server rejected our request due to an error in our request".into(),
        503 => "the server is currently unable to handle the request".into(),
        504 => "the server was unable to return a response in the time allotted, but may still be processing the request".into(),
        429 => "the server has received too many requests and has asked us to try again later".into(),
        c if c >= 500 => format!("an error on the server ({}) has prevented the request from succeeding", go_quote(server_message)),
        c => format!("the server responded with the status code {c} but did not return more information"),
    }
}

/// Checks the review that came back (upstream's VerifyAdmissionResponse).
fn verify_response(version: &str, uid: &str, kind: Kind, review: Value) -> Result<Answer, String> {
    let api_version = review.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    let review_kind = review.get("kind").and_then(Value::as_str).unwrap_or_default();
    let expected = format!("admission.k8s.io/{version}");
    if api_version != expected || review_kind != "AdmissionReview" {
        return Err(format!("expected webhook response of {expected}, Kind=AdmissionReview, got {api_version}, Kind={review_kind}"));
    }
    let Some(response) = review.get("response").filter(|r| r.is_object()) else {
        return Err("webhook response was absent".into());
    };
    if version == "v1" {
        let got = response.get("uid").and_then(Value::as_str).unwrap_or_default();
        if got != uid {
            return Err(format!("expected response.uid={}, got {}", go_quote(uid), go_quote(got)));
        }
    }
    let patch = match response.get("patch") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => {
            Some(base64::engine::general_purpose::STANDARD.decode(s).map_err(|e| format!("illegal base64 data in response.patch: {e}"))?)
        }
        Some(other) => return Err(format!("response.patch must be a base64 string, got {other}")),
    }
    .filter(|p| !p.is_empty());
    let patch_type = match response.get("patchType") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_str().unwrap_or_default().to_string()),
    };
    let (patch, patch_type) = match (kind, version) {
        (Kind::Mutating, "v1") => {
            if patch.is_some() && patch_type.is_none() {
                return Err("webhook returned response.patch but not response.patchType".into());
            }
            if patch.is_none() && patch_type.is_some() {
                return Err("webhook returned response.patchType but not response.patch".into());
            }
            if patch_type.as_deref() == Some("") {
                return Err("webhook returned invalid response.patchType of \"\"".into());
            }
            (patch, patch_type)
        }
        (Kind::Mutating, _) => {
            let patch_type = patch.as_ref().map(|_| "JSONPatch".to_string());
            (patch, patch_type)
        }
        (Kind::Validating, "v1") => {
            if patch.is_some() {
                return Err("validating webhook may not return response.patch".into());
            }
            if patch_type.is_some() {
                return Err("validating webhook may not return response.patchType".into());
            }
            (None, None)
        }
        (Kind::Validating, _) => (None, None),
    };
    Ok(Answer {
        allowed: response.get("allowed").and_then(Value::as_bool).unwrap_or(false),
        result: response.get("status").filter(|s| !s.is_null()).cloned(),
        patch,
        patch_type,
        warnings: response
            .get("warnings")
            .and_then(Value::as_array)
            .map(|w| w.iter().filter_map(Value::as_str).map(String::from).collect())
            .unwrap_or_default(),
    })
}

/// Splits a webhook URL into `scheme://authority` and its cleaned path.
fn split_url(url: &str) -> Result<(String, String), String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("Unparsable URL: {e}"))?;
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        return Err(format!("Unparsable URL: {url} is not absolute"));
    };
    Ok((format!("{scheme}://{authority}"), clean_path(uri.path())))
}

/// The path as Go's path.Join("/", p) leaves it: rooted, without a
/// trailing slash.
fn clean_path(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    format!("/{}", parts.join("/"))
}

/// `host:port` of a URL, as Go's dialer names it.
fn dial_address(url: &str) -> String {
    let Ok(uri) = url.parse::<http::Uri>() else {
        return url.to_string();
    };
    let host = uri.host().unwrap_or_default();
    let port = uri.port_u16().unwrap_or(if uri.scheme_str() == Some("http") { 80 } else { 443 });
    format!("{host}:{port}")
}

/// A transport error in the words Go's HTTP client uses for the common
/// cases, else the innermost error's text.
fn describe_error(e: &(dyn std::error::Error + 'static), dial_addr: &str) -> String {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut last = e.to_string();
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return format!("dial tcp {dial_addr}: connect: connection refused"),
                std::io::ErrorKind::ConnectionReset => return format!("read tcp {dial_addr}: read: connection reset by peer"),
                _ => {}
            }
        }
        let text = err.to_string();
        if text.contains("UnknownIssuer") {
            return "tls: failed to verify certificate: x509: certificate signed by unknown authority".into();
        }
        if text.contains("NotValidForName") {
            return format!("tls: failed to verify certificate: x509: certificate is not valid for {dial_addr}");
        }
        if text.contains("invalid peer certificate: Expired") {
            return "tls: failed to verify certificate: x509: certificate has expired or is not yet valid".into();
        }
        last = text;
        cur = err.source();
    }
    last
}

/// The DER certificates of a PEM bundle.
fn pem_certificates(pem: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    const BAD: &str = "unable to load root certificates: unable to parse bytes as PEM block";
    let text = std::str::from_utf8(pem).map_err(|_| BAD.to_string())?;
    let mut certs = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + "-----BEGIN ".len()..];
        let Some(label_end) = after.find("-----") else { break };
        let label = &after[..label_end];
        let body_start = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = body_start.find(&end_marker) else {
            return Err(BAD.into());
        };
        if label == "CERTIFICATE" {
            let b64: String = body_start[..end].chars().filter(|c| !c.is_whitespace()).collect();
            let der = base64::engine::general_purpose::STANDARD.decode(b64).map_err(|_| BAD.to_string())?;
            certs.push(der);
        }
        rest = &body_start[end + end_marker.len()..];
    }
    if certs.is_empty() {
        return Err(BAD.into());
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::find;

    fn rule(ops: &[&str], groups: &[&str], versions: &[&str], resources: &[&str], scope: Option<&str>) -> RuleWithOperations {
        let v = |s: &[&str]| Some(s.iter().map(|x| x.to_string()).collect());
        RuleWithOperations {
            operations: v(ops),
            api_groups: v(groups),
            api_versions: v(versions),
            resources: v(resources),
            scope: scope.map(String::from),
        }
    }

    fn gvr(group: &'static str, version: &'static str, resource: &'static str) -> Gvr {
        Gvr { group, version, resource }
    }

    #[test]
    fn rules_match_operations_groups_versions_resources() {
        let pods = gvr("", "v1", "pods");
        let r = rule(&["CREATE"], &[""], &["v1"], &["pods"], None);
        assert!(rule_matches(&r, Operation::Create, pods, "", "default"));
        assert!(!rule_matches(&r, Operation::Update, pods, "", "default"));
        assert!(!rule_matches(&r, Operation::Create, gvr("apps", "v1", "pods"), "", "default"));
        assert!(!rule_matches(&r, Operation::Create, gvr("", "v2", "pods"), "", "default"));
        assert!(!rule_matches(&r, Operation::Create, pods, "status", "default"), "a bare resource is not its subresources");
        let any = rule(&["*"], &["*"], &["*"], &["*"], Some("*"));
        assert!(rule_matches(&any, Operation::Delete, gvr("apps", "v1", "deployments"), "", "ns"));
        assert!(!rule_matches(&any, Operation::Update, gvr("apps", "v1", "deployments"), "scale", "ns"));
        let all = rule(&["*"], &["*"], &["*"], &["*/*"], None);
        assert!(rule_matches(&all, Operation::Update, gvr("apps", "v1", "deployments"), "scale", "ns"));
        assert!(rule_matches(&all, Operation::Create, pods, "", "ns"));
        let status = rule(&["UPDATE"], &[""], &["v1"], &["pods/status"], None);
        assert!(rule_matches(&status, Operation::Update, pods, "status", "ns"));
        assert!(!rule_matches(&status, Operation::Update, pods, "", "ns"));
        let scale = rule(&["UPDATE"], &["apps"], &["v1"], &["*/scale"], None);
        assert!(rule_matches(&scale, Operation::Update, gvr("apps", "v1", "replicasets"), "scale", "ns"));
        assert!(!rule_matches(&scale, Operation::Update, gvr("apps", "v1", "replicasets"), "status", "ns"));
        let pods_any_sub = rule(&["CREATE"], &[""], &["v1"], &["pods/*"], None);
        assert!(rule_matches(&pods_any_sub, Operation::Create, pods, "binding", "ns"));
        // As upstream: `res/*` also covers the resource itself.
        assert!(rule_matches(&pods_any_sub, Operation::Create, pods, "", "ns"));
        assert!(!rule_matches(&pods_any_sub, Operation::Create, gvr("", "v1", "nodes"), "", ""));
        let empty = RuleWithOperations::default();
        assert!(!rule_matches(&empty, Operation::Create, pods, "", "ns"));
    }

    #[test]
    fn rule_scopes() {
        let ns = gvr("", "v1", "namespaces");
        let nodes = gvr("", "v1", "nodes");
        let pods = gvr("", "v1", "pods");
        let cluster = rule(&["*"], &["*"], &["*"], &["*"], Some("Cluster"));
        let namespaced = rule(&["*"], &["*"], &["*"], &["*"], Some("Namespaced"));
        assert!(rule_matches(&cluster, Operation::Create, nodes, "", ""));
        assert!(!rule_matches(&namespaced, Operation::Create, nodes, "", ""));
        assert!(rule_matches(&namespaced, Operation::Create, pods, "", "default"));
        assert!(!rule_matches(&cluster, Operation::Create, pods, "", "default"));
        // A namespace's own namespace is its name, and it is cluster-scoped.
        assert!(rule_matches(&cluster, Operation::Create, ns, "", "team-a"));
        assert!(!rule_matches(&namespaced, Operation::Create, ns, "", "team-a"));
        let bogus = rule(&["*"], &["*"], &["*"], &["*"], Some("Galaxy"));
        assert!(!rule_matches(&bogus, Operation::Create, pods, "", "default"));
    }

    fn hook(rules: Vec<RuleWithOperations>) -> Hook {
        Hook {
            kind: Kind::Validating,
            configuration: "cfg".into(),
            name: "hook.example.com".into(),
            url: Some("https://127.0.0.1:1/x".into()),
            service: None,
            ca_bundle: Vec::new(),
            rules,
            ignore_failures: false,
            equivalent: true,
            namespace_selector: None,
            object_selector: None,
            side_effects: Some("None".into()),
            timeout_seconds: 10,
            review_versions: vec!["v1".into()],
            match_conditions: Vec::new(),
            reinvoke_if_needed: false,
        }
    }

    fn attrs<'a>(r: &'static ResourceType, op: Operation, ns: &'a str, object: Option<&'a Value>) -> Attributes<'a> {
        Attributes {
            resource: r,
            subresource: None,
            operation: op,
            name: "x",
            namespace: ns,
            object,
            old_object: None,
            dry_run: false,
            options: None,
            user: &crate::rbac::ADMIN,
        }
    }

    fn selector(v: Value) -> Option<LabelSelector> {
        Some(serde_json::from_value(v).unwrap())
    }

    fn namespace(store: &Store, name: &str, labels: Value) {
        let r = find("", "v1", "namespaces").unwrap();
        store.create(r, json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})).unwrap();
    }

    #[test]
    fn namespace_selectors() {
        let store = Arc::new(Store::default());
        namespace(&store, "prod", json!({"env": "prod"}));
        namespace(&store, "dev", json!({"env": "dev"}));
        let w = Webhooks::new(store);
        let mut h = hook(vec![rule(&["*"], &["*"], &["*"], &["*"], None)]);
        h.namespace_selector = selector(json!({"matchLabels": {"env": "prod"}}));
        let cms = find("", "v1", "configmaps").unwrap();
        let cm = json!({"metadata": {"name": "x"}});
        assert!(w.should_call(&h, &attrs(cms, Operation::Create, "prod", Some(&cm)), Some(&cm)).unwrap().is_some());
        assert!(w.should_call(&h, &attrs(cms, Operation::Create, "dev", Some(&cm)), Some(&cm)).unwrap().is_none());
        let e = w.should_call(&h, &attrs(cms, Operation::Create, "gone", Some(&cm)), Some(&cm)).unwrap_err();
        assert_eq!((e.code, e.message.as_str()), (404, "namespaces \"gone\" not found"));
        // Cluster-scoped objects other than namespaces always match.
        let nodes = find("", "v1", "nodes").unwrap();
        assert!(w.should_call(&h, &attrs(nodes, Operation::Create, "", Some(&cm)), Some(&cm)).unwrap().is_some());
        // A namespace being created or updated is matched on its own labels.
        let nss = find("", "v1", "namespaces").unwrap();
        let new_ns = json!({"metadata": {"name": "x", "labels": {"env": "prod"}}});
        assert!(w.should_call(&h, &attrs(nss, Operation::Create, "", Some(&new_ns)), Some(&new_ns)).unwrap().is_some());
        let other_ns = json!({"metadata": {"name": "x", "labels": {"env": "dev"}}});
        assert!(w.should_call(&h, &attrs(nss, Operation::Update, "", Some(&other_ns)), Some(&other_ns)).unwrap().is_none());
        // A namespace being deleted is matched on the stored namespace.
        let mut del = attrs(nss, Operation::Delete, "", None);
        del.name = "prod";
        assert!(w.should_call(&h, &del, None).unwrap().is_some());
        del.name = "dev";
        assert!(w.should_call(&h, &del, None).unwrap().is_none());
        // No lookup when the selector is empty.
        h.namespace_selector = selector(json!({}));
        assert!(w.should_call(&h, &attrs(cms, Operation::Create, "gone", Some(&cm)), Some(&cm)).unwrap().is_some());
        // No error when the rules do not match anyway.
        h.namespace_selector = selector(json!({"matchLabels": {"env": "prod"}}));
        h.rules = vec![rule(&["DELETE"], &["*"], &["*"], &["*"], None)];
        assert!(w.should_call(&h, &attrs(cms, Operation::Create, "gone", Some(&cm)), Some(&cm)).unwrap().is_none());
    }

    #[test]
    fn object_selectors_match_new_or_old_object() {
        let w = Webhooks::new(Arc::new(Store::default()));
        let mut h = hook(vec![rule(&["*"], &["*"], &["*"], &["*"], None)]);
        h.object_selector = selector(json!({"matchExpressions": [{"key": "team", "operator": "In", "values": ["a"]}]}));
        let cms = find("", "v1", "configmaps").unwrap();
        let a = json!({"metadata": {"labels": {"team": "a"}}});
        let b = json!({"metadata": {"labels": {"team": "b"}}});
        assert!(w.should_call(&h, &attrs(cms, Operation::Create, "", Some(&a)), Some(&a)).unwrap().is_some());
        assert!(w.should_call(&h, &attrs(cms, Operation::Create, "", Some(&b)), Some(&b)).unwrap().is_none());
        let mut upd = attrs(cms, Operation::Update, "", Some(&b));
        upd.old_object = Some(&a);
        assert!(w.should_call(&h, &upd, Some(&b)).unwrap().is_some(), "old object matches");
        let mut del = attrs(cms, Operation::Delete, "", None);
        del.old_object = Some(&a);
        assert!(w.should_call(&h, &del, None).unwrap().is_some());
        del.old_object = Some(&b);
        assert!(w.should_call(&h, &del, None).unwrap().is_none());
        h.object_selector = selector(json!({"matchExpressions": [{"key": "team", "operator": "Sometimes"}]}));
        let e = w.should_call(&h, &attrs(cms, Operation::Create, "", Some(&a)), Some(&a)).unwrap_err();
        assert_eq!(e.code, 500);
        assert!(e.message.starts_with("Internal error occurred: "), "{}", e.message);
    }

    #[test]
    fn hpa_versions_are_equivalent_and_match_conditions_are_refused_loudly() {
        let w = Webhooks::new(Arc::new(Store::default()));
        let hpas = find("autoscaling", "v2", "horizontalpodautoscalers").unwrap();
        let obj = json!({"metadata": {}});
        let h = hook(vec![rule(&["CREATE"], &["autoscaling"], &["v1"], &["horizontalpodautoscalers"], None)]);
        // A v1 rule matches a v2 request through the equivalent resource.
        let inv = w.should_call(&h, &attrs(hpas, Operation::Create, "ns", Some(&obj)), Some(&obj)).unwrap().unwrap();
        assert_eq!((inv.kind.version, inv.resource.version), ("v1", "v1"));
        let mut exact = h.clone();
        exact.equivalent = false;
        assert!(w.should_call(&exact, &attrs(hpas, Operation::Create, "ns", Some(&obj)), Some(&obj)).unwrap().is_none());
        let direct = hook(vec![rule(&["CREATE"], &["autoscaling"], &["*"], &["horizontalpodautoscalers"], None)]);
        let inv = w.should_call(&direct, &attrs(hpas, Operation::Create, "ns", Some(&obj)), Some(&obj)).unwrap().unwrap();
        assert_eq!(inv.kind.kind, "HorizontalPodAutoscaler");
        let mut cel = direct.clone();
        cel.match_conditions = vec!["not-kube-system".into()];
        let e = w.should_call(&cel, &attrs(hpas, Operation::Create, "ns", Some(&obj)), Some(&obj)).unwrap_err();
        assert_eq!((e.code, e.reason), (501, "NotImplemented"));
        assert!(e.message.contains("matchConditions"), "{}", e.message);
    }

    #[test]
    fn equivalent_events_are_sent_converted() {
        let w = Webhooks::new(Arc::new(Store::default()));
        let new_events = find("events.k8s.io", "v1", "events").unwrap();
        let obj = json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e", "namespace": "ns"},
            "regarding": {"kind": "Pod", "name": "p"}, "note": "hi", "deprecatedSource": {},
        });
        let old = json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e", "namespace": "ns"},
            "regarding": {"kind": "Pod", "name": "p"}, "note": "before", "deprecatedSource": {},
        });
        let h = hook(vec![rule(&["UPDATE"], &[""], &["v1"], &["events"], None)]);
        let mut a = attrs(new_events, Operation::Update, "ns", Some(&obj));
        a.old_object = Some(&old);
        let inv = w.should_call(&h, &a, Some(&obj)).unwrap().expect("matched through core v1 events");
        assert_eq!(inv.resource, gvr("", "v1", "events"));
        let sent = as_invoked(inv, &a, &obj);
        let r = admission_review("v1", "u", inv, &a, Some(&sent));
        let q = &r["request"];
        assert_eq!(q["kind"], json!({"group": "", "version": "v1", "kind": "Event"}));
        assert_eq!(q["requestKind"], json!({"group": "events.k8s.io", "version": "v1", "kind": "Event"}));
        assert_eq!(q["requestResource"], json!({"group": "events.k8s.io", "version": "v1", "resource": "events"}));
        assert_eq!((q["object"]["apiVersion"].as_str(), q["object"]["message"].as_str()), (Some("v1"), Some("hi")));
        assert_eq!(q["object"]["involvedObject"], json!({"kind": "Pod", "name": "p"}));
        assert_eq!((q["oldObject"]["apiVersion"].as_str(), q["oldObject"]["message"].as_str()), (Some("v1"), Some("before")));
        let mut exact = h.clone();
        exact.equivalent = false;
        assert!(w.should_call(&exact, &a, Some(&obj)).unwrap().is_none());
    }

    #[test]
    fn subresource_kinds_and_review_shape() {
        let deploys = find("apps", "v1", "deployments").unwrap();
        let scale = json!({"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "web"}});
        let mut a = attrs(deploys, Operation::Update, "default", Some(&scale));
        a.subresource = Some("scale");
        a.name = "web";
        a.dry_run = true;
        a.options = Some(json!({"kind": "UpdateOptions", "apiVersion": "meta.k8s.io/v1"}));
        let inv = Invocation { resource: a.gvr(), kind: a.gvk() };
        let r = admission_review("v1", "u-1", inv, &a, Some(&scale));
        assert_eq!(r["apiVersion"], "admission.k8s.io/v1");
        let q = &r["request"];
        assert_eq!(q["kind"], json!({"group": "autoscaling", "version": "v1", "kind": "Scale"}));
        assert_eq!(q["resource"], json!({"group": "apps", "version": "v1", "resource": "deployments"}));
        assert_eq!(q["subResource"], "scale");
        assert_eq!(q["requestSubResource"], "scale");
        assert_eq!(q["namespace"], "default");
        assert_eq!(q["operation"], "UPDATE");
        assert_eq!(q["userInfo"]["username"], "system:admin");
        assert_eq!(q["userInfo"]["groups"], json!(["system:masters", "system:authenticated"]));
        assert_eq!(q["oldObject"], Value::Null);
        assert_eq!(q["dryRun"], true);
        assert_eq!(q["options"]["kind"], "UpdateOptions");
        // A namespace's namespace is its name.
        let nss = find("", "v1", "namespaces").unwrap();
        let mut n = attrs(nss, Operation::Create, "", None);
        n.name = "team-a";
        let r = admission_review("v1", "u", Invocation { resource: n.gvr(), kind: n.gvk() }, &n, None);
        assert_eq!(r["request"]["namespace"], "team-a");
        assert!(r["request"].get("subResource").is_none());
    }

    #[test]
    fn admission_configurations_are_exempt() {
        let r = find("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations").unwrap();
        assert!(is_exempt(&attrs(r, Operation::Create, "", None)));
        let r = find("", "v1", "configmaps").unwrap();
        assert!(!is_exempt(&attrs(r, Operation::Create, "", None)));
    }

    #[test]
    fn denial_wording_matches_upstream() {
        let e = denial("foo", None);
        assert_eq!((e.code, e.message.as_str()), (400, "admission webhook \"foo\" denied the request without explanation"));
        let e = denial("foo", Some(&json!({"message": "you shall not pass"})));
        assert_eq!((e.code, e.message.as_str()), (400, "admission webhook \"foo\" denied the request: you shall not pass"));
        let e = denial("foo", Some(&json!({"reason": "Forbidden"})));
        assert_eq!((e.message.as_str(), e.reason), ("admission webhook \"foo\" denied the request: Forbidden", "Forbidden"));
        let e = denial("foo", Some(&json!({"code": 403, "message": "no", "reason": "Forbidden"})));
        assert_eq!((e.code, e.reason), (403, "Forbidden"));
        for low in [200, 300, 399] {
            assert_eq!(denial("foo", Some(&json!({"code": low}))).code, 400);
        }
        assert_eq!(denial("foo", Some(&json!({"code": 500}))).code, 500);
        let e = denial("foo", Some(&json!({"code": 422, "reason": "[policy] custom words", "details": {"causes": [{"field": "spec"}]}})));
        assert_eq!(e.reason, "[policy] custom words");
        assert_eq!(e.details.unwrap()["causes"][0]["field"], "spec");
    }

    #[test]
    fn call_error_wording_matches_upstream() {
        let e = calling_error("hook.example.com", "failed to call webhook: Post \"https://h/x?timeout=1s\": context deadline exceeded");
        assert_eq!(e.code, 500);
        assert_eq!(e.reason, "InternalError");
        assert_eq!(
            e.message,
            "Internal error occurred: failed calling webhook \"hook.example.com\": failed to call webhook: Post \"https://h/x?timeout=1s\": context deadline exceeded"
        );
        assert_eq!(
            e.details.unwrap()["causes"][0]["message"],
            "failed calling webhook \"hook.example.com\": failed to call webhook: Post \"https://h/x?timeout=1s\": context deadline exceeded"
        );
        let e = dry_run_unsupported("x");
        assert_eq!((e.code, e.reason, e.message.as_str()), (400, "BadRequest", "admission webhook \"x\" does not support dry run"));
    }

    #[test]
    fn responses_are_verified() {
        let ok = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": {"uid": "u", "allowed": true}});
        assert!(verify_response("v1", "u", Kind::Validating, ok.clone()).unwrap().allowed);
        let e = verify_response("v1", "other", Kind::Validating, ok).err().unwrap();
        assert_eq!(e, "expected response.uid=\"other\", got \"u\"");
        let absent = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"});
        assert_eq!(verify_response("v1", "u", Kind::Mutating, absent).err().unwrap(), "webhook response was absent");
        let patch = base64::engine::general_purpose::STANDARD.encode(b"[]");
        let patched = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "response": {"uid": "u", "allowed": true, "patch": patch}});
        assert_eq!(
            verify_response("v1", "u", Kind::Mutating, patched.clone()).err().unwrap(),
            "webhook returned response.patch but not response.patchType"
        );
        assert_eq!(
            verify_response("v1", "u", Kind::Validating, patched).err().unwrap(),
            "validating webhook may not return response.patch"
        );
        let beta = json!({"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview",
            "response": {"allowed": true, "patch": patch}});
        assert_eq!(verify_response("v1beta1", "u", Kind::Mutating, beta).unwrap().patch_type.as_deref(), Some("JSONPatch"));
        let wrong = json!({"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview", "response": {"uid": "u"}});
        assert_eq!(
            verify_response("v1", "u", Kind::Validating, wrong).err().unwrap(),
            "expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got admission.k8s.io/v1beta1, Kind=AdmissionReview"
        );
    }

    #[test]
    fn unstructured_http_errors() {
        let reply = |status, ct: Option<&str>, body: &str| Reply { status, content_type: ct.map(String::from), body: body.into() };
        assert_eq!(
            decode_reply(reply(500, Some("text/plain"), " boom \n")).unwrap_err(),
            "an error on the server (\"boom\") has prevented the request from succeeding"
        );
        assert_eq!(
            decode_reply(reply(500, Some("application/octet-stream"), "boom")).unwrap_err(),
            "an error on the server (\"unknown\") has prevented the request from succeeding"
        );
        assert_eq!(decode_reply(reply(404, None, "")).unwrap_err(), "the server could not find the requested resource");
        assert_eq!(
            decode_reply(reply(400, Some("application/json"), r#"{"kind":"Status","message":"bad things"}"#)).unwrap_err(),
            "bad things"
        );
        assert_eq!(
            decode_reply(reply(200, Some("application/json"), "")).unwrap_err(),
            "0-length response with status code: 200 and content type: application/json"
        );
        assert_eq!(decode_reply(reply(200, None, r#"{"a":1}"#)).unwrap_err(), "Object 'Kind' is missing in '{\"a\":1}'");
    }

    #[test]
    fn urls_and_pem() {
        assert_eq!(split_url("https://127.0.0.1:8443/mutate/").unwrap(), ("https://127.0.0.1:8443".into(), "/mutate".into()));
        assert_eq!(split_url("https://hooks.example.com").unwrap(), ("https://hooks.example.com".into(), "/".into()));
        assert!(split_url("/relative").is_err());
        assert_eq!(dial_address("https://hooks.example.com/x?timeout=10s"), "hooks.example.com:443");
        assert_eq!(dial_address("https://127.0.0.1:8443/x"), "127.0.0.1:8443");
        let der = b"not really a certificate";
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let pem = format!("junk\n-----BEGIN CERTIFICATE-----\n{}\n{}\n-----END CERTIFICATE-----\n", &b64[..10], &b64[10..]);
        assert_eq!(pem_certificates(pem.as_bytes()).unwrap(), vec![der.to_vec()]);
        assert_eq!(pem_certificates(b"nothing here").unwrap_err(), "unable to load root certificates: unable to parse bytes as PEM block");
    }

    #[test]
    fn go_quoting() {
        assert_eq!(go_quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
    }
}
