//! Strategic merge patch: applying a patch (`application/strategic-merge-patch+json`) to an object.
//!
//! This follows kube-apiserver's behaviour (apimachinery's `strategicpatch.StrategicMergeMapPatch`
//! as used by the PATCH handler), working on `serde_json::Value` instead of Go maps:
//!
//! * maps merge recursively, `null` deletes a key;
//! * a list's strategy and merge key come from its position in the schema of the kind (the
//!   `patchStrategy` / `patchMergeKey` struct tags upstream). Lists whose field carries no
//!   strategy, and every list this module does not know about, are replaced as a whole;
//! * lists with strategy `merge` and a merge key are merged element by element; primitive lists
//!   with strategy `merge` are unions;
//! * directives: `$patch: replace|delete` in maps and list elements, `$retainKeys`,
//!   `$deleteFromPrimitiveList/<field>`, `$setElementOrder/<field>`;
//! * the resulting element order is the one upstream produces (patch order first, then server-only
//!   items interleaved by their live order, `$setElementOrder` taking precedence).
//!
//! The schema is a static tree of [`Schema`] nodes (one per Go struct that leads to, or holds,
//! a list with a strategy), keyed by (group, kind) in [`KINDS`]. Extend it by adding fields or
//! kinds there.
//!
//! Where upstream leaves things for the typed decoding that follows the merge to clean up, this
//! module does the cleanup itself so that the stored JSON looks like what kube-apiserver would
//! store: directive keys never appear in the result, and `null` values inside patch content that
//! is taken wholesale (atomic lists, appended list elements, `$patch: replace` maps,
//! `patchStrategy:"replace"` fields) are dropped.

use serde_json::{Map, Value};
use std::fmt;

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// A failed strategic merge patch. The message is worded like upstream's.
///
/// Use [`PatchError::code`], [`PatchError::reason`] and [`PatchError::status_message`] to build
/// the `Status` kube-apiserver would answer with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchError(pub String);

impl fmt::Display for PatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PatchError {}

/// Upstream's fixed error texts (apimachinery `mergepatch` package).
pub const ERR_BAD_JSON_DOC: &str = "invalid JSON document";
pub const ERR_NO_LIST_OF_LISTS: &str = "lists of lists are not supported";
pub const ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST: &str = "invalid patch format of primitive list";
pub const ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS: &str = "invalid patch format of retainKeys";
pub const ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST: &str = "invalid patch format of setElementOrder list";
pub const ERR_PATCH_CONTENT_NOT_MATCH_RETAIN_KEYS: &str = "patch content doesn't match retainKeys list";
pub const ERR_UNSUPPORTED_STRATEGIC_MERGE_PATCH_FORMAT: &str = "strategic merge patch format is not supported";

impl PatchError {
    fn new(msg: impl Into<String>) -> Self {
        PatchError(msg.into())
    }

    /// The HTTP status code kube-apiserver answers with for this error.
    ///
    /// The PATCH handler maps a few well-known errors to 400 (BadRequest) and 422 (Invalid); every
    /// other merge error (a missing merge key, mismatched list element types, an unknown `$patch`
    /// value, ...) is passed through as a plain error, which becomes a 500 `Status` with an empty
    /// reason and the error text as message.
    pub fn code(&self) -> u16 {
        match self.0.as_str() {
            ERR_BAD_JSON_DOC
            | ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST
            | ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS
            | ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST
            | ERR_UNSUPPORTED_STRATEGIC_MERGE_PATCH_FORMAT => 400,
            ERR_NO_LIST_OF_LISTS | ERR_PATCH_CONTENT_NOT_MATCH_RETAIN_KEYS => 422,
            m if m.starts_with("json: cannot unmarshal ") => 400,
            _ => 500,
        }
    }

    /// The `reason` of the upstream `Status` ("" is upstream's `StatusReasonUnknown`).
    pub fn reason(&self) -> &'static str {
        match self.code() {
            400 => "BadRequest",
            422 => "Invalid",
            _ => "",
        }
    }

    /// The `message` of the upstream `Status`. For 422 upstream builds a generic server response
    /// whose message does not carry the error text.
    pub fn status_message(&self) -> String {
        match self.code() {
            422 => "the server rejected our request due to an error in our request".to_string(),
            _ => self.0.clone(),
        }
    }
}

type Result<T> = std::result::Result<T, PatchError>;

// ---------------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------------

/// The `patchStrategy` of a field (besides `retainKeys`, which is a separate flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// No strategy: maps merge, lists are replaced as a whole (atomic).
    Default,
    /// `patchStrategy:"merge"`: lists merge by `merge_key` (or as a set for primitive lists).
    Merge,
    /// `patchStrategy:"replace"`: the patch value replaces the field as a whole.
    Replace,
}

/// A field of a Go struct that matters to strategic merge patch.
#[derive(Debug)]
pub struct Field {
    /// JSON name of the field.
    pub name: &'static str,
    pub strategy: Strategy,
    /// `retainKeys` is part of the field's patch strategy. Applying a patch honours a
    /// `$retainKeys` directive wherever it appears, so this flag only documents the schema
    /// (it matters to patch *generation*, e.g. `kubectl apply`).
    pub retain_keys: bool,
    /// `patchMergeKey`, "" when none.
    pub merge_key: &'static str,
    /// The struct type of the field, or of the list's elements; `None` when nothing below it
    /// needs describing.
    pub schema: Option<&'static Schema>,
}

impl Field {
    const fn new(
        name: &'static str,
        strategy: Strategy,
        retain_keys: bool,
        merge_key: &'static str,
        schema: Option<&'static Schema>,
    ) -> Field {
        Field { name, strategy, retain_keys, merge_key, schema }
    }

    /// A struct-valued field without strategy, described by `schema`.
    pub const fn object(name: &'static str, schema: &'static Schema) -> Field {
        Field::new(name, Strategy::Default, false, "", Some(schema))
    }

    /// A struct-valued field with `patchStrategy:"retainKeys"`.
    pub const fn retain_keys(name: &'static str, schema: Option<&'static Schema>) -> Field {
        Field::new(name, Strategy::Default, true, "", schema)
    }

    /// A field with `patchStrategy:"replace"`.
    pub const fn replace(name: &'static str) -> Field {
        Field::new(name, Strategy::Replace, false, "", None)
    }

    /// A list with `patchStrategy:"merge"` and `patchMergeKey:"<key>"`.
    pub const fn merge(name: &'static str, key: &'static str, elem: Option<&'static Schema>) -> Field {
        Field::new(name, Strategy::Merge, false, key, elem)
    }

    /// A list with `patchStrategy:"merge,retainKeys"` and `patchMergeKey:"<key>"`.
    pub const fn merge_retain_keys(name: &'static str, key: &'static str, elem: Option<&'static Schema>) -> Field {
        Field::new(name, Strategy::Merge, true, key, elem)
    }

    /// A list of primitives with `patchStrategy:"merge"` (a set union).
    pub const fn merge_primitive(name: &'static str) -> Field {
        Field::new(name, Strategy::Merge, false, "", None)
    }

    /// A list without strategy, replaced as a whole. Same as leaving the field out; listed for
    /// documentation of notable atomic lists.
    pub const fn atomic(name: &'static str) -> Field {
        Field::new(name, Strategy::Default, false, "", None)
    }
}

/// A Go struct type: the fields of it that matter to strategic merge patch.
#[derive(Debug)]
pub struct Schema {
    /// Go type name, for documentation and error messages.
    pub name: &'static str,
    pub fields: &'static [Field],
}

impl Schema {
    /// The description of field `name`, if any.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

// --- meta/v1 ---------------------------------------------------------------------------------

/// `metav1.ObjectMeta`.
pub static OBJECT_META: Schema = Schema {
    name: "ObjectMeta",
    fields: &[Field::merge("ownerReferences", "uid", None), Field::merge_primitive("finalizers"), Field::atomic("managedFields")],
};

/// Any object about which nothing but its `metadata` needs describing.
pub static OBJECT: Schema = Schema { name: "Object", fields: &[Field::object("metadata", &OBJECT_META)] };

/// A status whose only described field is `conditions`, merged by `type` (Deployment, ReplicaSet,
/// DaemonSet, StatefulSet, Job, ReplicationController, HPA v2, PDB, Namespace, PVC, Service).
pub static CONDITIONS_STATUS: Schema = Schema { name: "Status", fields: &[Field::merge("conditions", "type", None)] };

// --- core/v1: pods ---------------------------------------------------------------------------

const CONTAINER_FIELDS: &[Field] = &[
    Field::merge("ports", "containerPort", None),
    Field::merge("env", "name", None),
    Field::merge("volumeMounts", "mountPath", None),
    Field::merge("volumeDevices", "devicePath", None),
];

/// `corev1.Container`.
pub static CONTAINER: Schema = Schema { name: "Container", fields: CONTAINER_FIELDS };

/// `corev1.EphemeralContainer` (its `EphemeralContainerCommon` is inlined).
pub static EPHEMERAL_CONTAINER: Schema = Schema { name: "EphemeralContainer", fields: CONTAINER_FIELDS };

/// `corev1.PodSpec`.
pub static POD_SPEC: Schema = Schema {
    name: "PodSpec",
    fields: &[
        Field::merge_retain_keys("volumes", "name", None),
        Field::merge("initContainers", "name", Some(&CONTAINER)),
        Field::merge("containers", "name", Some(&CONTAINER)),
        Field::merge("ephemeralContainers", "name", Some(&EPHEMERAL_CONTAINER)),
        Field::merge("imagePullSecrets", "name", None),
        Field::merge("hostAliases", "ip", None),
        Field::merge("topologySpreadConstraints", "topologyKey", None),
        Field::merge("schedulingGates", "name", None),
        Field::merge_retain_keys("resourceClaims", "name", None),
        Field::atomic("tolerations"),
        Field::atomic("readinessGates"),
    ],
};

/// `corev1.PodStatus`. (`containerStatuses` & co. are atomic lists, so the tags inside
/// `ContainerStatus` never apply.)
pub static POD_STATUS: Schema = Schema {
    name: "PodStatus",
    fields: &[
        Field::merge("conditions", "type", None),
        Field::merge("hostIPs", "ip", None),
        Field::merge("podIPs", "ip", None),
        Field::merge_retain_keys("resourceClaimStatuses", "name", None),
    ],
};

/// `corev1.Pod`.
pub static POD: Schema = Schema {
    name: "Pod",
    fields: &[Field::object("metadata", &OBJECT_META), Field::object("spec", &POD_SPEC), Field::object("status", &POD_STATUS)],
};

/// `corev1.PodTemplateSpec`.
pub static POD_TEMPLATE_SPEC: Schema =
    Schema { name: "PodTemplateSpec", fields: &[Field::object("metadata", &OBJECT_META), Field::object("spec", &POD_SPEC)] };

/// `corev1.PodTemplate`.
pub static POD_TEMPLATE: Schema =
    Schema { name: "PodTemplate", fields: &[Field::object("metadata", &OBJECT_META), Field::object("template", &POD_TEMPLATE_SPEC)] };

// --- core/v1: others -------------------------------------------------------------------------

/// `corev1.ServiceSpec`.
pub static SERVICE_SPEC: Schema = Schema { name: "ServiceSpec", fields: &[Field::merge("ports", "port", None)] };

/// `corev1.Service`.
pub static SERVICE: Schema = Schema {
    name: "Service",
    fields: &[Field::object("metadata", &OBJECT_META), Field::object("spec", &SERVICE_SPEC), Field::object("status", &CONDITIONS_STATUS)],
};

/// `corev1.ServiceAccount`.
pub static SERVICE_ACCOUNT: Schema =
    Schema { name: "ServiceAccount", fields: &[Field::object("metadata", &OBJECT_META), Field::merge("secrets", "name", None)] };

/// `corev1.NodeSpec`. Upstream gives `taints` no patch strategy: it is atomic.
pub static NODE_SPEC: Schema = Schema { name: "NodeSpec", fields: &[Field::merge_primitive("podCIDRs"), Field::atomic("taints")] };

/// `corev1.NodeStatus`.
pub static NODE_STATUS: Schema =
    Schema { name: "NodeStatus", fields: &[Field::merge("conditions", "type", None), Field::merge("addresses", "type", None)] };

/// `corev1.Node`.
pub static NODE: Schema = Schema {
    name: "Node",
    fields: &[Field::object("metadata", &OBJECT_META), Field::object("spec", &NODE_SPEC), Field::object("status", &NODE_STATUS)],
};

/// Objects whose only described fields are `metadata` and `status.conditions` (Namespace,
/// PersistentVolumeClaim, HorizontalPodAutoscaler v2).
pub static WITH_STATUS_CONDITIONS: Schema = Schema {
    name: "ObjectWithStatusConditions",
    fields: &[Field::object("metadata", &OBJECT_META), Field::object("status", &CONDITIONS_STATUS)],
};

/// `corev1.ComponentStatus` (conditions at top level).
pub static COMPONENT_STATUS: Schema =
    Schema { name: "ComponentStatus", fields: &[Field::object("metadata", &OBJECT_META), Field::merge("conditions", "type", None)] };

// --- workloads -------------------------------------------------------------------------------

/// A spec whose only described field is a pod `template` (ReplicaSet, DaemonSet, StatefulSet,
/// Job, ReplicationController).
pub static TEMPLATED_SPEC: Schema = Schema { name: "TemplatedSpec", fields: &[Field::object("template", &POD_TEMPLATE_SPEC)] };

/// ReplicaSet, DaemonSet, StatefulSet, Job, ReplicationController: pod template in `spec`,
/// conditions in `status`.
pub static WORKLOAD: Schema = Schema {
    name: "Workload",
    fields: &[Field::object("metadata", &OBJECT_META), Field::object("spec", &TEMPLATED_SPEC), Field::object("status", &CONDITIONS_STATUS)],
};

/// `appsv1.DeploymentSpec`.
pub static DEPLOYMENT_SPEC: Schema =
    Schema { name: "DeploymentSpec", fields: &[Field::object("template", &POD_TEMPLATE_SPEC), Field::retain_keys("strategy", None)] };

/// `appsv1.Deployment`.
pub static DEPLOYMENT: Schema = Schema {
    name: "Deployment",
    fields: &[
        Field::object("metadata", &OBJECT_META),
        Field::object("spec", &DEPLOYMENT_SPEC),
        Field::object("status", &CONDITIONS_STATUS),
    ],
};

/// `batchv1.JobTemplateSpec`.
pub static JOB_TEMPLATE_SPEC: Schema =
    Schema { name: "JobTemplateSpec", fields: &[Field::object("metadata", &OBJECT_META), Field::object("spec", &TEMPLATED_SPEC)] };

/// `batchv1.CronJobSpec`.
pub static CRON_JOB_SPEC: Schema = Schema { name: "CronJobSpec", fields: &[Field::object("jobTemplate", &JOB_TEMPLATE_SPEC)] };

/// `batchv1.CronJob`.
pub static CRON_JOB: Schema =
    Schema { name: "CronJob", fields: &[Field::object("metadata", &OBJECT_META), Field::object("spec", &CRON_JOB_SPEC)] };

// --- policy/v1 -------------------------------------------------------------------------------

/// `policyv1.PodDisruptionBudgetSpec`.
pub static PDB_SPEC: Schema = Schema { name: "PodDisruptionBudgetSpec", fields: &[Field::replace("selector")] };

/// `policyv1.PodDisruptionBudget`.
pub static PDB: Schema = Schema {
    name: "PodDisruptionBudget",
    fields: &[Field::object("metadata", &OBJECT_META), Field::object("spec", &PDB_SPEC), Field::object("status", &CONDITIONS_STATUS)],
};

// --- admissionregistration/v1 ----------------------------------------------------------------

/// `ValidatingWebhook` / `MutatingWebhook`.
pub static WEBHOOK: Schema = Schema { name: "Webhook", fields: &[Field::merge("matchConditions", "name", None)] };

/// `ValidatingWebhookConfiguration` / `MutatingWebhookConfiguration`.
pub static WEBHOOK_CONFIGURATION: Schema = Schema {
    name: "WebhookConfiguration",
    fields: &[Field::object("metadata", &OBJECT_META), Field::merge("webhooks", "name", Some(&WEBHOOK))],
};

/// The built-in kinds, by (API group, kind). Kinds not listed get [`OBJECT`].
pub static KINDS: &[(&str, &str, &Schema)] = &[
    ("", "Pod", &POD),
    ("", "PodTemplate", &POD_TEMPLATE),
    ("", "ReplicationController", &WORKLOAD),
    ("", "Service", &SERVICE),
    ("", "ServiceAccount", &SERVICE_ACCOUNT),
    ("", "Node", &NODE),
    ("", "Namespace", &WITH_STATUS_CONDITIONS),
    ("", "PersistentVolumeClaim", &WITH_STATUS_CONDITIONS),
    ("", "ComponentStatus", &COMPONENT_STATUS),
    ("", "Endpoints", &OBJECT),
    ("", "ConfigMap", &OBJECT),
    ("", "Secret", &OBJECT),
    ("", "Event", &OBJECT),
    ("", "LimitRange", &OBJECT),
    ("", "ResourceQuota", &OBJECT),
    ("", "PersistentVolume", &OBJECT),
    ("apps", "Deployment", &DEPLOYMENT),
    ("apps", "ReplicaSet", &WORKLOAD),
    ("apps", "DaemonSet", &WORKLOAD),
    ("apps", "StatefulSet", &WORKLOAD),
    ("apps", "ControllerRevision", &OBJECT),
    ("batch", "Job", &WORKLOAD),
    ("batch", "CronJob", &CRON_JOB),
    ("autoscaling", "HorizontalPodAutoscaler", &WITH_STATUS_CONDITIONS),
    ("autoscaling", "Scale", &OBJECT),
    ("policy", "PodDisruptionBudget", &PDB),
    ("policy", "Eviction", &OBJECT),
    ("coordination.k8s.io", "Lease", &OBJECT),
    ("events.k8s.io", "Event", &OBJECT),
    ("scheduling.k8s.io", "PriorityClass", &OBJECT),
    ("rbac.authorization.k8s.io", "Role", &OBJECT),
    ("rbac.authorization.k8s.io", "RoleBinding", &OBJECT),
    ("rbac.authorization.k8s.io", "ClusterRole", &OBJECT),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding", &OBJECT),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration", &WEBHOOK_CONFIGURATION),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration", &WEBHOOK_CONFIGURATION),
];

/// Whether (group, kind) is a built-in kind described in [`KINDS`]. Upstream refuses strategic
/// merge patches on custom resources (415 Unsupported Media Type); callers can use this to do
/// the same.
pub fn is_known_kind(group: &str, kind: &str) -> bool {
    KINDS.iter().any(|(g, k, _)| *g == group && *k == kind)
}

/// The schema used for (group, kind): its entry in [`KINDS`], else [`OBJECT`] (every object's
/// `metadata` is an `ObjectMeta`; all its other lists are then atomic).
pub fn schema_for(group: &str, kind: &str) -> &'static Schema {
    KINDS.iter().find(|(g, k, _)| *g == group && *k == kind).map(|(_, _, s)| *s).unwrap_or(&OBJECT)
}

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

/// Applies strategic merge `patch` to `original`, an object of kind (group, kind), e.g.
/// `("apps", "Deployment")` or `("", "Pod")`.
pub fn apply(original: &Value, patch: &Value, group: &str, kind: &str) -> std::result::Result<Value, PatchError> {
    apply_with_schema(original, patch, Some(schema_for(group, kind)))
}

/// Applies strategic merge `patch` to `original` using `schema` (`None`: every list atomic).
pub fn apply_with_schema(original: &Value, patch: &Value, schema: Option<&'static Schema>) -> std::result::Result<Value, PatchError> {
    let original_map = match original {
        Value::Object(m) => m.clone(),
        Value::Null => Map::new(),
        _ => return Err(PatchError::new(ERR_BAD_JSON_DOC)),
    };
    let patch_map = match patch {
        Value::Object(m) => m.clone(),
        // Decoding `null` into the patch map leaves it empty.
        Value::Null => Map::new(),
        other => {
            return Err(PatchError(format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_kind_word(other)
            )));
        }
    };
    let mut result = Value::Object(merge_map(original_map, patch_map, schema)?);
    strip_directives(&mut result);
    Ok(result)
}

fn json_kind_word(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::Null => "null",
        Value::Object(_) => "object",
    }
}

// ---------------------------------------------------------------------------------------------
// Directives
// ---------------------------------------------------------------------------------------------

const DIRECTIVE_MARKER: &str = "$patch";
const DELETE_DIRECTIVE: &str = "delete";
const REPLACE_DIRECTIVE: &str = "replace";
const MERGE_DIRECTIVE: &str = "merge";
const RETAIN_KEYS_DIRECTIVE: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST_PREFIX: &str = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER_PREFIX: &str = "$setElementOrder";

fn is_directive_key(k: &str) -> bool {
    k == DIRECTIVE_MARKER
        || k == RETAIN_KEYS_DIRECTIVE
        || k.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
        || k.starts_with(SET_ELEMENT_ORDER_PREFIX)
}

/// Removes directive keys left anywhere in the result (upstream's typed decoding drops them as
/// unknown fields).
fn strip_directives(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|k, _| !is_directive_key(k));
            m.values_mut().for_each(strip_directives);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_directives),
        _ => {}
    }
}

/// Drops `null` map values, recursively through maps and lists (list elements that are `null`
/// stay).
fn discard_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, v| !v.is_null());
            m.values_mut().for_each(discard_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(discard_nulls),
        _ => {}
    }
}

fn discard_nulls_in_map(mut m: Map<String, Value>) -> Map<String, Value> {
    m.retain(|_, v| !v.is_null());
    m.values_mut().for_each(discard_nulls);
    m
}

/// Drops maps carrying `$patch` (and the list elements that are such maps), recursively.
/// `None` when `v` itself is such a map.
fn remove_directives(v: Value) -> Option<Value> {
    match v {
        Value::Object(m) => {
            if m.contains_key(DIRECTIVE_MARKER) {
                return None;
            }
            let mut out = Map::new();
            for (k, v) in m {
                if let Some(v) = remove_directives(v) {
                    out.insert(k, v);
                }
            }
            Some(Value::Object(out))
        }
        Value::Array(a) => Some(Value::Array(a.into_iter().filter_map(remove_directives).collect())),
        other => Some(other),
    }
}

/// Splits `<prefix>/<key>`; the error depends on the prefix.
fn extract_key(s: &str, prefix: &str) -> Result<String> {
    match s.split_once('/') {
        Some((head, rest)) if head == prefix => Ok(rest.to_string()),
        _ => Err(PatchError::new(if prefix == DELETE_FROM_PRIMITIVE_LIST_PREFIX {
            ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST
        } else {
            ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST
        })),
    }
}

// ---------------------------------------------------------------------------------------------
// Merging
// ---------------------------------------------------------------------------------------------

/// What the schema says about one field.
#[derive(Clone, Copy)]
struct Meta {
    strategy: Strategy,
    merge_key: &'static str,
    schema: Option<&'static Schema>,
}

fn lookup(schema: Option<&'static Schema>, key: &str) -> Meta {
    match schema.and_then(|s| s.field(key)) {
        Some(f) => Meta { strategy: f.strategy, merge_key: f.merge_key, schema: f.schema },
        None => Meta { strategy: Strategy::Default, merge_key: "", schema: None },
    }
}

fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    schema: Option<&'static Schema>,
) -> Result<Map<String, Value>> {
    if let Some(directive) = patch.get(DIRECTIVE_MARKER) {
        return if directive.as_str() == Some(REPLACE_DIRECTIVE) {
            patch.remove(DIRECTIVE_MARKER);
            Ok(discard_nulls_in_map(patch))
        } else if directive.as_str() == Some(DELETE_DIRECTIVE) {
            Ok(Map::new())
        } else {
            Err(err_bad_patch_type(directive, &patch))
        };
    }

    apply_retain_keys(&mut original, &mut patch)?;
    merge_set_element_order_lists(&mut original, &mut patch, schema)?;

    for (raw_key, patch_v) in patch {
        let (key, is_delete_list) = if raw_key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX) {
            let k = extract_key(&raw_key, DELETE_FROM_PRIMITIVE_LIST_PREFIX)?;
            (if k.is_empty() { raw_key } else { k }, true)
        } else {
            (raw_key, false)
        };

        if patch_v.is_null() {
            original.remove(&key);
            continue;
        }

        let same_type = original.get(&key).is_some_and(|o| go_type(o) == go_type(&patch_v));
        if !same_type {
            // Absent from the original, or of another type: take the patch value.
            if !is_delete_list {
                let mut v = patch_v;
                discard_nulls(&mut v);
                match remove_directives(v) {
                    Some(v) => {
                        original.insert(key, v);
                    }
                    None => {
                        original.remove(&key);
                    }
                }
            }
            continue;
        }

        let original_v = original.remove(&key).unwrap_or(Value::Null);
        let merged = match (original_v, patch_v) {
            (Value::Object(o), Value::Object(p)) => {
                let meta = lookup(schema, &key);
                if meta.strategy == Strategy::Replace {
                    Value::Object(discard_nulls_in_map(p))
                } else {
                    Value::Object(merge_map(o, p, meta.schema)?)
                }
            }
            (Value::Array(o), Value::Array(p)) => Value::Array(merge_list_field(o, p, lookup(schema, &key), is_delete_list)?.0),
            (_, p) => p,
        };
        original.insert(key, merged);
    }
    Ok(original)
}

/// `$retainKeys`: validates the patch against the list, then clears the other keys of
/// `original`.
fn apply_retain_keys(original: &mut Map<String, Value>, patch: &mut Map<String, Value>) -> Result<()> {
    let Some(retain) = patch.remove(RETAIN_KEYS_DIRECTIVE) else {
        return Ok(());
    };
    let Value::Array(retain) = retain else {
        return Err(PatchError::new(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS));
    };
    let retained = |k: &str| retain.iter().any(|v| v.as_str() == Some(k));
    for (k, v) in patch.iter() {
        if v.is_null() || k.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX) || k.starts_with(SET_ELEMENT_ORDER_PREFIX) {
            continue;
        }
        if !retained(k) {
            return Err(PatchError::new(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS));
        }
    }
    original.retain(|k, _| retained(k));
    Ok(())
}

/// Handles every `$setElementOrder/<field>` of `patch`: merges `<field>` and orders the result,
/// removing both from `patch`.
fn merge_set_element_order_lists(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    schema: Option<&'static Schema>,
) -> Result<()> {
    let keys: Vec<String> = patch.keys().filter(|k| k.starts_with(SET_ELEMENT_ORDER_PREFIX)).cloned().collect();
    for key in keys {
        let order_v = patch.remove(&key).unwrap_or(Value::Null);
        let Value::Array(order) = order_v else {
            return Err(err_bad_arg_type(SLICE_TYPE, &order_v));
        };
        let field = extract_key(&key, SET_ELEMENT_ORDER_PREFIX)?;
        let original_list = match original.get(&field) {
            None => None,
            Some(Value::Array(a)) => Some(a.clone()),
            Some(other) => return Err(err_bad_arg_type(SLICE_TYPE, other)),
        };
        let patch_list = match patch.get(&field) {
            None => None,
            Some(Value::Array(a)) => Some(a.clone()),
            Some(other) => return Err(err_bad_arg_type(SLICE_TYPE, other)),
        };
        let meta = lookup(schema, &field);
        let merge_key = meta.merge_key;
        validate_patch_with_set_order_list(patch_list.as_deref().unwrap_or(&[]), &order, merge_key)?;

        let live = original_list.clone().unwrap_or_default();
        let (merged, live) = match (&original_list, &patch_list) {
            (Some(o), None) => (o.clone(), live),
            (None, Some(p)) => {
                let mut v = Value::Array(p.clone());
                discard_nulls(&mut v);
                match remove_directives(v) {
                    Some(Value::Array(a)) => (a, live),
                    _ => (Vec::new(), live),
                }
            }
            (Some(o), Some(p)) => merge_list_field(o.clone(), p.clone(), meta, false)?,
            (None, None) => continue,
        };

        let (in_order, server_only) =
            if merge_key.is_empty() { partition_primitives(merged, &order) } else { partition_maps(merged, &order, merge_key)? };
        let kind = slice_element_type(&[original_list.as_deref().unwrap_or(&[]), patch_list.as_deref().unwrap_or(&[])])?;
        let ordered = normalize_element_order(in_order, server_only, &order, &live, merge_key, kind)?;
        original.insert(field.clone(), Value::Array(ordered));
        patch.remove(&field);
    }
    Ok(())
}

/// Checks that the items of the patch list appear in the `$setElementOrder` list, in the same
/// relative order (deletions and other directive items aside).
fn validate_patch_with_set_order_list(patch_list: &[Value], order: &[Value], merge_key: &str) -> Result<()> {
    if order.is_empty() || patch_list.is_empty() {
        return Ok(());
    }
    let non_delete: Vec<Value> = if merge_key.is_empty() { patch_list.to_vec() } else { split_delete_items(patch_list.to_vec())?.0 };
    let (mut pi, mut oi) = (0, 0);
    while pi < non_delete.len() && oi < order.len() {
        if non_delete[pi].as_object().is_some_and(|m| m.contains_key(DIRECTIVE_MARKER)) {
            pi += 1;
            continue;
        }
        if merge_key_value_equal(&non_delete[pi], &order[oi], merge_key)? {
            pi += 1;
        }
        oi += 1;
    }
    if pi < non_delete.len() && oi >= order.len() {
        return Err(PatchError(format!(
            "The order in patch list:\n{}\n doesn't match {} list:\n{}\n",
            go_fmt_slice(patch_list),
            SET_ELEMENT_ORDER_PREFIX,
            go_fmt_slice(order)
        )));
    }
    Ok(())
}

fn merge_key_value_equal(left: &Value, right: &Value, merge_key: &str) -> Result<bool> {
    if merge_key.is_empty() {
        return Ok(go_eq(left, right));
    }
    let l = left.as_object().ok_or_else(|| err_bad_arg_type(MAP_TYPE, left))?;
    let r = right.as_object().ok_or_else(|| err_bad_arg_type(MAP_TYPE, right))?;
    let lv = l.get(merge_key).ok_or_else(|| err_no_merge_key(l, merge_key))?;
    let rv = r.get(merge_key).ok_or_else(|| err_no_merge_key(r, merge_key))?;
    Ok(go_eq(lv, rv))
}

/// Merges two lists of field `meta`. Deletion lists (`$deleteFromPrimitiveList`) go through the
/// list merge whatever the field's strategy.
///
/// Also returns the original list as upstream sees it afterwards: upstream deletes and appends
/// list items in place, so the caller's view of the original (its live order, used again by
/// `$setElementOrder` handling) may have been overwritten. See [`BackedList`].
fn merge_list_field(original: Vec<Value>, patch: Vec<Value>, meta: Meta, is_delete_list: bool) -> Result<(Vec<Value>, Vec<Value>)> {
    if meta.strategy == Strategy::Merge || is_delete_list {
        merge_list(original, patch, meta, is_delete_list)
    } else {
        let mut v = Value::Array(patch);
        discard_nulls(&mut v);
        match v {
            Value::Array(a) => Ok((a, original)),
            _ => Ok((Vec::new(), original)),
        }
    }
}

fn merge_list(original: Vec<Value>, patch: Vec<Value>, meta: Meta, is_delete_list: bool) -> Result<(Vec<Value>, Vec<Value>)> {
    if original.is_empty() && patch.is_empty() {
        return Ok((original, Vec::new()));
    }
    let kind = slice_element_type(&[&original, &patch])?;
    let merge_key = meta.merge_key;

    let (original, patch, merged, live) = if kind != GoType::Map {
        if is_delete_list {
            let kept = original.iter().filter(|v| !patch.iter().any(|d| go_eq(v, d))).cloned().collect();
            return Ok((kept, original));
        }
        let mut merged: Vec<Value> = Vec::with_capacity(original.len() + patch.len());
        for v in original.iter().chain(patch.iter()) {
            if !merged.iter().any(|m| go_eq(m, v)) {
                merged.push(v.clone());
            }
        }
        let live = original.clone();
        (original, patch, merged, live)
    } else {
        if merge_key.is_empty() {
            let elem = if meta.schema.is_some() { "struct" } else { "string" };
            return Err(PatchError(format!("cannot merge lists without merge key for {elem}")));
        }
        let mut list = BackedList::new(original);
        let patch = apply_special_elements(&mut list, patch, merge_key)?;
        let original = list.items.clone();
        merge_elements(&mut list, &patch, merge_key, meta.schema)?;
        (original, patch, list.items, list.backing)
    };

    let (in_patch, server_only) =
        if merge_key.is_empty() { partition_primitives(merged, &patch) } else { partition_maps(merged, &patch, merge_key)? };
    Ok((normalize_element_order(in_patch, server_only, &patch, &original, merge_key, kind)?, live))
}

/// A list being edited the way upstream edits a Go slice in place: `items` is the list,
/// `backing` what the caller's (unchanged, full-length) view of the original list shows.
/// Removing an item shifts the following items left over the backing array (its last slot
/// keeps its old value), and appending writes into the backing array while the list is shorter
/// than the original. Replacing the whole list detaches it.
struct BackedList {
    items: Vec<Value>,
    backing: Vec<Value>,
    attached: bool,
}

impl BackedList {
    fn new(original: Vec<Value>) -> Self {
        BackedList { items: original.clone(), backing: original, attached: true }
    }

    fn remove(&mut self, i: usize) {
        if self.attached {
            for j in i..self.items.len() - 1 {
                self.backing[j] = self.items[j + 1].clone();
            }
        }
        self.items.remove(i);
    }

    fn set(&mut self, i: usize, v: Value) {
        if self.attached && i < self.backing.len() {
            self.backing[i] = v.clone();
        }
        self.items[i] = v;
    }

    fn push(&mut self, v: Value) {
        let i = self.items.len();
        if self.attached && i < self.backing.len() {
            self.backing[i] = v.clone();
        }
        self.items.push(v);
    }

    fn replace_all(&mut self, items: Vec<Value>) {
        self.items = items;
        self.attached = false;
    }
}

/// Applies the list items carrying `$patch` (delete / replace) to `original`; returns the patch
/// without those items.
fn apply_special_elements(original: &mut BackedList, patch: Vec<Value>, merge_key: &str) -> Result<Vec<Value>> {
    let mut plain = Vec::new();
    let mut replace = false;
    for v in patch {
        let Some(m) = v.as_object() else {
            plain.push(v);
            continue;
        };
        let Some(directive) = m.get(DIRECTIVE_MARKER) else {
            plain.push(v);
            continue;
        };
        match directive.as_str() {
            Some(DELETE_DIRECTIVE) => {
                let Some(key_value) = m.get(merge_key) else {
                    return Err(err_no_merge_key(m, merge_key));
                };
                let matches = |o: &Value| o.as_object().and_then(|o| o.get(merge_key)).is_some_and(|ov| go_eq(ov, key_value));
                while let Some(i) = original.items.iter().position(matches) {
                    original.remove(i);
                }
            }
            Some(REPLACE_DIRECTIVE) => replace = true,
            Some(MERGE_DIRECTIVE) => {
                return Err(PatchError::new("merging lists cannot yet be specified in the patch"));
            }
            _ => return Err(err_bad_patch_type(directive, m)),
        }
    }
    if replace {
        let mut v = Value::Array(plain);
        discard_nulls(&mut v);
        if let Value::Array(plain) = v {
            original.replace_all(plain);
        }
        return Ok(Vec::new());
    }
    Ok(plain)
}

/// Merges each patch item into the first original item with the same merge key value, or
/// appends it.
fn merge_elements(original: &mut BackedList, patch: &[Value], merge_key: &str, elem_schema: Option<&'static Schema>) -> Result<()> {
    for v in patch {
        let Some(m) = v.as_object() else {
            return Err(err_bad_arg_type(MAP_TYPE, v));
        };
        let Some(key_value) = m.get(merge_key) else {
            return Err(err_no_merge_key(m, merge_key));
        };
        let mut found = None;
        for (i, o) in original.items.iter().enumerate() {
            let Some(om) = o.as_object() else {
                return Err(PatchError(format!("value for key {i} is not a map")));
            };
            if om.get(merge_key).is_some_and(|ov| go_eq(ov, key_value)) {
                found = Some(i);
                break;
            }
        }
        match found {
            Some(i) => {
                let o = match std::mem::take(&mut original.items[i]) {
                    Value::Object(o) => o,
                    _ => Map::new(),
                };
                original.set(i, Value::Object(merge_map(o, m.clone(), elem_schema)?));
            }
            None => {
                let mut v = v.clone();
                discard_nulls(&mut v);
                original.push(v);
            }
        }
    }
    Ok(())
}

/// Splits `merged` into the items present in `by` and the others (primitives: by value).
fn partition_primitives(merged: Vec<Value>, by: &[Value]) -> (Vec<Value>, Vec<Value>) {
    merged.into_iter().partition(|v| by.iter().any(|b| go_eq(b, v)))
}

/// Splits `merged` into the items whose merge key value appears in `by` and the others.
fn partition_maps(merged: Vec<Value>, by: &[Value], merge_key: &str) -> Result<(Vec<Value>, Vec<Value>)> {
    let mut present = Vec::new();
    let mut absent = Vec::new();
    for v in merged {
        let m = v.as_object().ok_or_else(|| err_bad_arg_type(MAP_TYPE, &v))?;
        let key_value = m.get(merge_key).ok_or_else(|| err_no_merge_key(m, merge_key))?;
        let mut found = false;
        for (i, b) in by.iter().enumerate() {
            let bm = b.as_object().ok_or_else(|| PatchError(format!("value for key {i} is not a map")))?;
            if bm.get(merge_key).is_some_and(|bv| go_eq(bv, key_value)) {
                found = true;
                break;
            }
        }
        if found { present.push(v) } else { absent.push(v) }
    }
    Ok((present, absent))
}

/// Sorts `in_patch` by `patch_order` and `server_only` by `server_order`, then interleaves them.
fn normalize_element_order(
    in_patch: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: &str,
    kind: GoType,
) -> Result<Vec<Value>> {
    let in_patch = normalize_slice_order(in_patch, patch_order, merge_key, kind)?;
    let server_only = normalize_slice_order(server_only, server_order, merge_key, kind)?;
    Ok(merge_sorted(server_only, in_patch, server_order, merge_key, kind))
}

/// Position of `v` in `list` (by merge key value for maps), like upstream's `index`.
fn index_of(list: &[Value], v: &Value, merge_key: &str, kind: GoType) -> Option<usize> {
    if kind == GoType::Map {
        let key_of = |x: &Value| x.as_object().and_then(|m| m.get(merge_key)).cloned().unwrap_or(Value::Null);
        let wanted = key_of(v);
        list.iter().position(|x| go_eq(&key_of(x), &wanted))
    } else {
        list.iter().position(|x| go_eq(x, v))
    }
}

/// Stable-sorts `to_sort` by position in `order`; items marked `$patch: delete` go last.
fn normalize_slice_order(to_sort: Vec<Value>, order: &[Value], merge_key: &str, kind: GoType) -> Result<Vec<Value>> {
    let (to_sort, to_delete) = if kind == GoType::Map {
        for list in [&to_sort[..], order] {
            for item in list {
                let m = item.as_object().ok_or_else(|| err_bad_arg_type(MAP_TYPE, item))?;
                if !m.contains_key(merge_key) {
                    return Err(err_no_merge_key(m, merge_key));
                }
            }
        }
        split_delete_items(to_sort)?
    } else {
        (to_sort, Vec::new())
    };
    let mut keyed: Vec<(Option<usize>, Value)> = to_sort.into_iter().map(|v| (index_of(order, &v, merge_key, kind), v)).collect();
    // Upstream's comparator: ordered by position when both are found, "less" otherwise.
    go_stable_sort(&mut keyed, &|a: &(Option<usize>, Value), b: &(Option<usize>, Value)| match (a.0, b.0) {
        (Some(x), Some(y)) => x < y,
        _ => true,
    });
    let mut out: Vec<Value> = keyed.into_iter().map(|(_, v)| v).collect();
    out.extend(to_delete);
    Ok(out)
}

/// Splits list items into those not marked `$patch: delete` and those marked.
fn split_delete_items(list: Vec<Value>) -> Result<(Vec<Value>, Vec<Value>)> {
    let mut keep = Vec::new();
    let mut delete = Vec::new();
    for v in list {
        let m = v.as_object().ok_or_else(|| err_bad_arg_type(MAP_TYPE, &v))?;
        if m.get(DIRECTIVE_MARKER).and_then(Value::as_str) == Some(DELETE_DIRECTIVE) {
            delete.push(v);
        } else {
            keep.push(v);
        }
    }
    Ok((keep, delete))
}

/// Interleaves two sorted lists: an item of `left` goes first only when both items are found in
/// `server_order` and it comes first there.
fn merge_sorted(left: Vec<Value>, right: Vec<Value>, server_order: &[Value], merge_key: &str, kind: GoType) -> Vec<Value> {
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => matches!(
                (index_of(server_order, l, merge_key, kind), index_of(server_order, r, merge_key, kind)),
                (Some(li), Some(ri)) if li < ri
            ),
        };
        let next = if take_left { left.next() } else { right.next() };
        out.extend(next);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Go semantics helpers: value types, equality, formatting, stable sort
// ---------------------------------------------------------------------------------------------

/// The Go dynamic type a JSON value decodes to on the server (integers as int64).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GoType {
    Nil,
    Bool,
    Int64,
    Float64,
    String,
    Map,
    Slice,
}

const MAP_TYPE: &str = "map[string]interface {}";
const SLICE_TYPE: &str = "[]interface {}";

fn go_type(v: &Value) -> GoType {
    match v {
        Value::Null => GoType::Nil,
        Value::Bool(_) => GoType::Bool,
        Value::Number(n) if n.is_i64() => GoType::Int64,
        Value::Number(_) => GoType::Float64,
        Value::String(_) => GoType::String,
        Value::Object(_) => GoType::Map,
        Value::Array(_) => GoType::Slice,
    }
}

fn go_type_name(t: GoType) -> &'static str {
    match t {
        GoType::Nil => "%!s(<nil>)",
        GoType::Bool => "bool",
        GoType::Int64 => "int64",
        GoType::Float64 => "float64",
        GoType::String => "string",
        GoType::Map => MAP_TYPE,
        GoType::Slice => SLICE_TYPE,
    }
}

/// Go's `==` on decoded values (same dynamic type and value). Go panics comparing maps or
/// slices; here they compare deeply.
fn go_eq(a: &Value, b: &Value) -> bool {
    let (ta, tb) = (go_type(a), go_type(b));
    if ta != tb {
        return false;
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if ta == GoType::Float64 => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// The common element type of the lists, as upstream's `sliceElementType`.
fn slice_element_type(slices: &[&[Value]]) -> Result<GoType> {
    let mut prev: Option<GoType> = None;
    for s in slices {
        for v in s.iter() {
            let t = go_type(v);
            match prev {
                None => {
                    if t == GoType::Slice {
                        return Err(PatchError::new(ERR_NO_LIST_OF_LISTS));
                    }
                    if t == GoType::Nil {
                        // Upstream dereferences a nil type here (a panic); report it as a
                        // type mismatch.
                        return Err(err_types_not_identical(slices));
                    }
                    prev = Some(t);
                }
                Some(p) if p != t => return Err(err_types_not_identical(slices)),
                Some(_) => {}
            }
        }
    }
    prev.ok_or_else(|| PatchError::new("no elements in any of the given slices"))
}

fn err_types_not_identical(slices: &[&[Value]]) -> PatchError {
    let inner: Vec<String> = slices.iter().map(|s| go_fmt_slice(s)).collect();
    PatchError(format!("list element types are not identical: [{}]", inner.join(" ")))
}

fn err_no_merge_key(m: &Map<String, Value>, key: &str) -> PatchError {
    PatchError(format!("map: {} does not contain declared merge key: {}", go_fmt_map(m, false), key))
}

fn err_bad_arg_type(expected: &str, actual: &Value) -> PatchError {
    PatchError(format!("expected a {}, but received a {}", expected, go_type_name(go_type(actual))))
}

fn err_bad_patch_type(directive: &Value, m: &Map<String, Value>) -> PatchError {
    let mut d = String::new();
    go_fmt(directive, true, &mut d);
    PatchError(format!("unknown patch type: {} in map: {}", d, go_fmt_map(m, false)))
}

fn go_fmt_slice(s: &[Value]) -> String {
    let mut out = String::new();
    go_fmt_list(s, false, &mut out);
    out
}

fn go_fmt_map(m: &Map<String, Value>, verb_s: bool) -> String {
    let mut out = String::new();
    go_fmt_object(m, verb_s, &mut out);
    out
}

/// Formats like Go's `%v` (or `%s` when `verb_s`) on a decoded JSON value.
fn go_fmt(v: &Value, verb_s: bool, out: &mut String) {
    let wrap = |out: &mut String, ty: &str, val: &str| {
        if verb_s {
            out.push_str(&format!("%!s({ty}={val})"));
        } else {
            out.push_str(val);
        }
    };
    match v {
        Value::Null => out.push_str(if verb_s { "%!s(<nil>)" } else { "<nil>" }),
        Value::Bool(b) => wrap(out, "bool", if *b { "true" } else { "false" }),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => wrap(out, "int64", &i.to_string()),
            (None, Some(f)) => wrap(out, "float64", &go_float(f)),
            _ => wrap(out, "float64", &n.to_string()),
        },
        Value::String(s) => out.push_str(s),
        Value::Object(m) => go_fmt_object(m, verb_s, out),
        Value::Array(a) => go_fmt_list(a, verb_s, out),
    }
}

fn go_fmt_object(m: &Map<String, Value>, verb_s: bool, out: &mut String) {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    out.push_str("map[");
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(k);
        out.push(':');
        go_fmt(&m[k.as_str()], verb_s, out);
    }
    out.push(']');
}

fn go_fmt_list(a: &[Value], verb_s: bool, out: &mut String) {
    out.push('[');
    for (i, v) in a.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        go_fmt(v, verb_s, out);
    }
    out.push(']');
}

/// Go's `%v` for a float64 (`strconv.FormatFloat(f, 'g', -1, 64)`): shortest digits, exponent
/// form when the decimal exponent is < -4 or >= 6.
fn go_float(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    if !f.is_finite() {
        return if f.is_nan() {
            "NaN".into()
        } else if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let sci = format!("{f:e}");
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.abs()));
    } else {
        let dp = exp + 1; // digits before the decimal point
        if dp <= 0 {
            out.push_str("0.");
            out.push_str(&"0".repeat((-dp) as usize));
            out.push_str(&digits);
        } else if dp as usize >= digits.len() {
            out.push_str(&digits);
            out.push_str(&"0".repeat(dp as usize - digits.len()));
        } else {
            out.push_str(&digits[..dp as usize]);
            out.push('.');
            out.push_str(&digits[dp as usize..]);
        }
    }
    out
}

/// Go's `sort.SliceStable` (insertion sort on blocks of 20, then SymMerge), reproduced so that
/// upstream's not-quite-consistent comparator yields the same order.
fn go_stable_sort<T>(v: &mut [T], less: &dyn Fn(&T, &T) -> bool) {
    let n = v.len();
    let mut block = 20;
    let (mut a, mut b) = (0, block);
    while b <= n {
        insertion_sort(v, a, b, less);
        a = b;
        b += block;
    }
    insertion_sort(v, a, n, less);
    while block < n {
        a = 0;
        b = 2 * block;
        while b <= n {
            sym_merge(v, a, a + block, b, less);
            a = b;
            b += 2 * block;
        }
        let m = a + block;
        if m < n {
            sym_merge(v, a, m, n, less);
        }
        block *= 2;
    }
}

fn insertion_sort<T>(v: &mut [T], a: usize, b: usize, less: &dyn Fn(&T, &T) -> bool) {
    for i in a + 1..b {
        let mut j = i;
        while j > a && less(&v[j], &v[j - 1]) {
            v.swap(j, j - 1);
            j -= 1;
        }
    }
}

fn sym_merge<T>(v: &mut [T], a: usize, m: usize, b: usize, less: &dyn Fn(&T, &T) -> bool) {
    if m - a == 1 {
        let (mut i, mut j) = (m, b);
        while i < j {
            let h = (i + j) / 2;
            if less(&v[h], &v[a]) {
                i = h + 1;
            } else {
                j = h;
            }
        }
        for k in a..i - 1 {
            v.swap(k, k + 1);
        }
        return;
    }
    if b - m == 1 {
        let (mut i, mut j) = (a, m);
        while i < j {
            let h = (i + j) / 2;
            if !less(&v[m], &v[h]) {
                i = h + 1;
            } else {
                j = h;
            }
        }
        let mut k = m;
        while k > i {
            v.swap(k, k - 1);
            k -= 1;
        }
        return;
    }
    let mid = (a + b) / 2;
    let n = mid + m;
    let (mut start, mut r) = if m > mid { (n - b, mid) } else { (a, m) };
    let p = n - 1;
    while start < r {
        let c = (start + r) / 2;
        if !less(&v[p - c], &v[c]) {
            start = c + 1;
        } else {
            r = c;
        }
    }
    let end = n - start;
    if start < m && m < end {
        rotate(v, start, m, end);
    }
    if a < start && start < mid {
        sym_merge(v, a, start, mid, less);
    }
    if mid < end && end < b {
        sym_merge(v, mid, end, b, less);
    }
}

fn rotate<T>(v: &mut [T], a: usize, m: usize, b: usize) {
    let mut i = m - a;
    let mut j = b - m;
    while i != j {
        if i > j {
            swap_range(v, m - i, m, j);
            i -= j;
        } else {
            swap_range(v, m - i, m + j - i, i);
            j -= i;
        }
    }
    swap_range(v, m - i, m, i);
}

fn swap_range<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        v.swap(a + i, b + i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // A schema shaped like the one upstream's own tests use: a merge list of items keyed by
    // `name`, an atomic list, a merge list of integers, a replace-strategy field and a
    // retainKeys field.
    static ITEM: Schema = Schema {
        name: "Item",
        fields: &[
            Field::merge("mergingList", "name", Some(&ITEM)),
            Field::atomic("nonMergingList"),
            Field::merge_primitive("mergingIntList"),
            Field::replace("replacingItem"),
            Field::retain_keys("retainKeysMap", Some(&RETAINED)),
            Field::merge_retain_keys("retainKeysMergingList", "name", Some(&ITEM)),
        ],
    };
    static RETAINED: Schema =
        Schema { name: "Retained", fields: &[Field::merge_primitive("mergingIntList"), Field::merge("mergingList", "name", Some(&ITEM))] };

    fn item(original: Value, patch: Value) -> Value {
        apply_with_schema(&original, &patch, Some(&ITEM)).unwrap_or_else(|e| panic!("unexpected error: {e}"))
    }

    fn item_err(original: Value, patch: Value) -> PatchError {
        apply_with_schema(&original, &patch, Some(&ITEM)).expect_err("expected an error")
    }

    fn kube(original: Value, patch: Value, group: &str, kind: &str) -> Value {
        apply(&original, &patch, group, kind).unwrap_or_else(|e| panic!("unexpected error: {e}"))
    }

    // --- maps ---------------------------------------------------------------------------------

    #[test]
    fn maps_merge_recursively_and_null_deletes() {
        let got = item(
            json!({"name": "a", "simpleMap": {"k1": "v1", "k2": "v2"}, "value": "x"}),
            json!({"simpleMap": {"k2": null, "k3": "v3"}, "value": null, "other": "o"}),
        );
        assert_eq!(got, json!({"name": "a", "simpleMap": {"k1": "v1", "k3": "v3"}, "other": "o"}));
    }

    #[test]
    fn null_for_an_absent_key_is_ignored() {
        assert_eq!(item(json!({"name": "a"}), json!({"value": null})), json!({"name": "a"}));
    }

    #[test]
    fn nulls_inside_added_values_are_dropped_but_not_list_elements() {
        let got = item(
            json!({}),
            json!({
                "complex": {"keep": 1, "drop": null},
                "objects": [{"inner": {"a": "x", "b": null}}],
                "scalars": ["k1", null, "k2"],
            }),
        );
        assert_eq!(got, json!({"complex": {"keep": 1}, "objects": [{"inner": {"a": "x"}}], "scalars": ["k1", null, "k2"]}));
    }

    #[test]
    fn nulls_already_in_the_original_stay() {
        let got = item(json!({"thing": null, "complex": {"key": null}}), json!({"nested": {"value": 5}}));
        assert_eq!(got, json!({"thing": null, "complex": {"key": null}, "nested": {"value": 5}}));
    }

    #[test]
    fn patch_delete_directive_empties_a_nested_map() {
        let got = item(json!({"simpleMap": {"k1": 1, "k2": 1}}), json!({"simpleMap": {"$patch": "delete"}}));
        assert_eq!(got, json!({"simpleMap": {}}));
    }

    #[test]
    fn patch_replace_directive_replaces_a_map() {
        assert_eq!(item(json!({"name": 1, "value": 1}), json!({"$patch": "replace"})), json!({}));
        assert_eq!(item(json!({"name": 1, "value": 1}), json!({"$patch": "replace", "other": "a"})), json!({"other": "a"}));
        let got = item(json!({"simpleMap": {"a": "1", "b": "2"}}), json!({"simpleMap": {"$patch": "replace", "c": "3", "d": null}}));
        assert_eq!(got, json!({"simpleMap": {"c": "3"}}));
    }

    #[test]
    fn directive_maps_for_absent_keys_are_dropped() {
        // Upstream drops a value carrying `$patch` when there is nothing to apply it to.
        let got = item(json!({"name": "a"}), json!({"simpleMap": {"$patch": "replace", "x": "y"}}));
        assert_eq!(got, json!({"name": "a"}));
    }

    #[test]
    fn unknown_map_directive_is_an_error() {
        let err = item_err(json!({"simpleMap": {"a": "b"}}), json!({"simpleMap": {"$patch": "merge"}}));
        assert_eq!(err.0, "unknown patch type: merge in map: map[$patch:merge]");
        assert_eq!(err.code(), 500);
        let err = item_err(json!({"simpleMap": {"a": "b"}}), json!({"simpleMap": {"$patch": 3, "x": 1.5}}));
        assert_eq!(err.0, "unknown patch type: %!s(int64=3) in map: map[$patch:3 x:1.5]");
    }

    #[test]
    fn replace_strategy_field_is_replaced_whole() {
        let got = item(json!({"replacingItem": {"a": 1, "b": {"c": 2}}}), json!({"replacingItem": {"b": {"d": 3}}}));
        assert_eq!(got, json!({"replacingItem": {"b": {"d": 3}}}));
    }

    #[test]
    fn type_change_takes_the_patch_value() {
        let got = item(json!({"simpleMap": {"a": "b"}, "n": 1}), json!({"simpleMap": ["x"], "n": 1.5}));
        assert_eq!(got, json!({"simpleMap": ["x"], "n": 1.5}));
    }

    // --- merge lists --------------------------------------------------------------------------

    #[test]
    fn merging_primitive_list_is_a_deduplicated_union() {
        let got = item(json!({"mergingIntList": [1, 2]}), json!({"mergingIntList": [2, 3]}));
        assert_eq!(got, json!({"mergingIntList": [1, 2, 3]}));
        let got = item(json!({"mergingIntList": [1, 2]}), json!({"mergingIntList": [3, 3]}));
        assert_eq!(got, json!({"mergingIntList": [3, 1, 2]}));
    }

    #[test]
    fn merge_list_items_merge_by_key() {
        let got = item(
            json!({"mergingList": [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}]}),
            json!({"mergingList": [{"name": "b", "other": "x"}]}),
        );
        assert_eq!(got, json!({"mergingList": [{"name": "a", "value": "1"}, {"name": "b", "value": "2", "other": "x"}]}));
    }

    #[test]
    fn merge_list_nested_in_merge_list() {
        let got = item(
            json!({"mergingList": [{"name": "a", "mergingList": [{"name": "x", "value": "1"}, {"name": "y"}]}]}),
            json!({"mergingList": [{"name": "a", "mergingList": [{"name": "y", "value": "2"}]}]}),
        );
        assert_eq!(got, json!({"mergingList": [{"name": "a", "mergingList": [{"name": "x", "value": "1"}, {"name": "y", "value": "2"}]}]}));
    }

    #[test]
    fn non_merging_list_is_replaced() {
        let got =
            item(json!({"nonMergingList": [{"name": "a"}, {"name": "b"}]}), json!({"nonMergingList": [{"name": "c", "value": null}]}));
        assert_eq!(got, json!({"nonMergingList": [{"name": "c"}]}));
    }

    #[test]
    fn new_items_without_set_element_order_come_before_server_only_items() {
        // Upstream puts the patch's items first when it cannot place them relative to the live
        // items.
        let got = item(json!({"mergingList": [{"name": "a"}, {"name": "b"}]}), json!({"mergingList": [{"name": "c"}]}));
        assert_eq!(got, json!({"mergingList": [{"name": "c"}, {"name": "a"}, {"name": "b"}]}));
    }

    #[test]
    fn order_of_the_patch_is_preserved() {
        let got = item(
            json!({"mergingList": [{"name": 1}, {"name": 2, "value": "b"}, {"name": 3}]}),
            json!({"mergingList": [{"name": 3, "value": "c"}, {"name": 1, "value": "a"}, {"name": 2, "other": "x"}]}),
        );
        assert_eq!(
            got,
            json!({"mergingList": [{"name": 3, "value": "c"}, {"name": 1, "value": "a"}, {"name": 2, "value": "b", "other": "x"}]})
        );
        // Items the patch does not mention keep their place among the live items.
        let got = item(
            json!({"mergingList": [{"name": 1}, {"name": 2, "value": "b"}, {"name": 3}]}),
            json!({"mergingList": [{"name": 3, "value": "c"}, {"name": 1, "value": "a"}]}),
        );
        assert_eq!(got, json!({"mergingList": [{"name": 2, "value": "b"}, {"name": 3, "value": "c"}, {"name": 1, "value": "a"}]}));
        let got = item(json!({"mergingIntList": [1, 2, 3]}), json!({"mergingIntList": [3, 1]}));
        assert_eq!(got, json!({"mergingIntList": [2, 3, 1]}));
    }

    #[test]
    fn delete_directive_in_list_removes_every_match() {
        let got = item(
            json!({"mergingList": [{"name": 1}, {"name": 1}, {"name": 2, "value": "a"}, {"name": 3}, {"name": 3}]}),
            json!({"mergingList": [{"name": 1, "$patch": "delete"}, {"name": 3, "$patch": "delete"}]}),
        );
        assert_eq!(got, json!({"mergingList": [{"name": 2, "value": "a"}]}));
    }

    #[test]
    fn delete_directive_for_missing_item_is_harmless() {
        let got = item(json!({"mergingList": [{"name": 1}]}), json!({"mergingList": [{"name": 2, "$patch": "delete"}]}));
        assert_eq!(got, json!({"mergingList": [{"name": 1}]}));
    }

    #[test]
    fn replace_directive_in_list_replaces_it() {
        let got = item(json!({"mergingList": [{"name": 1}, {"name": 2}]}), json!({"mergingList": [{"$patch": "replace"}]}));
        assert_eq!(got, json!({"mergingList": []}));
        let got = item(
            json!({"mergingList": [{"name": 1, "value": "a"}, {"name": 2}]}),
            json!({"mergingList": [{"name": 3}, {"$patch": "replace"}, {"name": 1}]}),
        );
        assert_eq!(got, json!({"mergingList": [{"name": 3}, {"name": 1}]}));
    }

    #[test]
    fn merge_directive_in_list_is_refused() {
        let err = item_err(json!({"mergingList": [{"name": 1}]}), json!({"mergingList": [{"$patch": "merge"}]}));
        assert_eq!(err.0, "merging lists cannot yet be specified in the patch");
    }

    #[test]
    fn list_directives_for_absent_list_are_dropped() {
        let got = item(json!({"name": "hi"}), json!({"mergingList": [{"name": "hello"}, {"name": "gone", "$patch": "delete"}]}));
        assert_eq!(got, json!({"name": "hi", "mergingList": [{"name": "hello"}]}));
    }

    #[test]
    fn missing_merge_key_is_an_error_worded_like_upstream() {
        let err = item_err(json!({"mergingList": [{"name": 1, "value": "a"}]}), json!({"mergingList": [{"value": "b"}]}));
        assert_eq!(err.0, "map: map[value:b] does not contain declared merge key: name");
        assert_eq!(err.code(), 500);
        assert_eq!(err.reason(), "");
        let err = item_err(json!({"mergingList": [{"name": 1}]}), json!({"mergingList": [{"$patch": "delete"}]}));
        assert_eq!(err.0, "map: map[$patch:delete] does not contain declared merge key: name");
    }

    #[test]
    fn mixed_element_types_and_lists_of_lists_are_errors() {
        let err = item_err(json!({"mergingIntList": [1, 2]}), json!({"mergingIntList": ["a"]}));
        assert_eq!(err.0, "list element types are not identical: [[1 2] [a]]");
        let err = item_err(json!({"mergingIntList": [[1]]}), json!({"mergingIntList": [[2]]}));
        assert_eq!(err.0, ERR_NO_LIST_OF_LISTS);
        assert_eq!(err.code(), 422);
        assert_eq!(err.status_message(), "the server rejected our request due to an error in our request");
    }

    // --- $deleteFromPrimitiveList -------------------------------------------------------------

    #[test]
    fn delete_from_primitive_list() {
        let got = item(json!({"mergingIntList": [1, 2, 3]}), json!({"$deleteFromPrimitiveList/mergingIntList": [2]}));
        assert_eq!(got, json!({"mergingIntList": [1, 3]}));
        // Works on lists without merge strategy too.
        let got = item(json!({"nonMergingIntList": [1, 2, 3]}), json!({"$deleteFromPrimitiveList/nonMergingIntList": [2]}));
        assert_eq!(got, json!({"nonMergingIntList": [1, 3]}));
        // Deleting what is not there adds nothing.
        let got = item(json!({"mergingIntList": [1, 2]}), json!({"$deleteFromPrimitiveList/mergingIntList": [3]}));
        assert_eq!(got, json!({"mergingIntList": [1, 2]}));
        let got = item(json!({"foo": ["bar"]}), json!({"$deleteFromPrimitiveList/mergingIntList": [3]}));
        assert_eq!(got, json!({"foo": ["bar"]}));
        let got = item(json!({"mergingIntList": null}), json!({"$deleteFromPrimitiveList/mergingIntList": [3]}));
        assert_eq!(got, json!({"mergingIntList": null}));
    }

    #[test]
    fn delete_from_primitive_list_with_bad_key_is_a_bad_request() {
        let err = item_err(json!({}), json!({"$deleteFromPrimitiveList": [1]}));
        assert_eq!(err.0, ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST);
        assert_eq!((err.code(), err.reason()), (400, "BadRequest"));
    }

    // --- $setElementOrder ---------------------------------------------------------------------

    #[test]
    fn set_element_order_orders_patch_and_live_items() {
        // Adding an item between live ones; live-only fields survive.
        let got = item(
            json!({"mergingList": [{"name": 1, "other": "a"}, {"name": 2, "value": 2, "other": "b"}]}),
            json!({
                "$setElementOrder/mergingList": [{"name": 1}, {"name": 4}, {"name": 2}, {"name": 3}],
                "mergingList": [{"name": 4, "value": 4}, {"name": 3, "value": 3}],
            }),
        );
        assert_eq!(
            got,
            json!({"mergingList": [
                {"name": 1, "other": "a"}, {"name": 4, "value": 4},
                {"name": 2, "value": 2, "other": "b"}, {"name": 3, "value": 3},
            ]})
        );
        // Server-only items stay after the ordered ones they followed.
        let got = item(
            json!({"name": "hi", "mergingList": [{"name": "hello2"}]}),
            json!({"$setElementOrder/mergingList": [{"name": "hello"}, {"name": "doesntexist"}], "mergingList": [{"name": "hello"}]}),
        );
        assert_eq!(got, json!({"name": "hi", "mergingList": [{"name": "hello"}, {"name": "hello2"}]}));
    }

    #[test]
    fn set_element_order_alone_reorders() {
        let got = item(
            json!({"mergingList": [{"name": 1, "value": "a"}, {"name": 3}]}),
            json!({"$setElementOrder/mergingList": [{"name": 3}, {"name": 2}, {"name": 1}]}),
        );
        assert_eq!(got, json!({"mergingList": [{"name": 3}, {"name": 1, "value": "a"}]}));
        let got = item(json!({"mergingIntList": [1, 3]}), json!({"$setElementOrder/mergingIntList": [3, 2, 1]}));
        assert_eq!(got, json!({"mergingIntList": [3, 1]}));
    }

    #[test]
    fn set_element_order_with_deletions_and_primitives() {
        let got = item(
            json!({"mergingIntList": [1, 2, 3, 4]}),
            json!({"$setElementOrder/mergingIntList": [1, 2], "$deleteFromPrimitiveList/mergingIntList": [3]}),
        );
        assert_eq!(got, json!({"mergingIntList": [1, 2, 4]}));
    }

    #[test]
    fn set_element_order_sees_the_live_list_as_upstream_rewrites_it() {
        // Upstream deletes and appends in place, so the live order it consults afterwards is
        // the rewritten one; the new item lands after the server-only one.
        let got = item(
            json!({"mergingList": [{"name": 1}, {"name": 2, "other": "b"}, {"name": 4, "other": "c"}]}),
            json!({
                "$setElementOrder/mergingList": [{"name": 2}, {"name": 3}],
                "mergingList": [{"name": 3}, {"name": 1, "$patch": "delete"}],
            }),
        );
        assert_eq!(got, json!({"mergingList": [{"name": 2, "other": "b"}, {"name": 4, "other": "c"}, {"name": 3}]}));
    }

    #[test]
    fn set_element_order_must_agree_with_the_patch_list() {
        let err = item_err(
            json!({"mergingList": [{"name": 1}, {"name": 3}, {"name": 2}]}),
            json!({
                "$setElementOrder/mergingList": [{"name": 1}, {"name": 2}, {"name": 3}],
                "mergingList": [{"name": 3, "value": 3}, {"name": 1, "value": 1}],
            }),
        );
        assert_eq!(
            err.0,
            "The order in patch list:\n[map[name:3 value:3] map[name:1 value:1]]\n doesn't match $setElementOrder list:\n[map[name:1] map[name:2] map[name:3]]\n"
        );
        let err =
            item_err(json!({"mergingIntList": [1, 3, 2]}), json!({"$setElementOrder/mergingIntList": [1, 2, 3], "mergingIntList": [3, 1]}));
        assert!(err.0.contains("doesn't match"), "{err}");
    }

    #[test]
    fn malformed_set_element_order() {
        let err = item_err(json!({}), json!({"$setElementOrderX/mergingList": []}));
        assert_eq!((err.0.as_str(), err.code()), (ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST, 400));
        let err = item_err(json!({}), json!({"$setElementOrder/mergingList": {"name": 1}}));
        assert_eq!(err.0, "expected a []interface {}, but received a map[string]interface {}");
    }

    // --- $retainKeys --------------------------------------------------------------------------

    #[test]
    fn retain_keys_clears_unlisted_fields() {
        let got = item(
            json!({"retainKeysMap": {"name": "foo", "value": "a", "other": "b"}}),
            json!({"retainKeysMap": {"$retainKeys": ["name", "value"], "value": "c"}}),
        );
        assert_eq!(got, json!({"retainKeysMap": {"name": "foo", "value": "c"}}));
        let got = item(
            json!({"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "a", "other": "x"}]}),
            json!({"retainKeysMergingList": [{"name": "foo", "$retainKeys": ["name", "value"]}]}),
        );
        assert_eq!(got, json!({"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "a"}]}));
    }

    #[test]
    fn retain_keys_must_cover_the_patch() {
        let err = item_err(json!({"retainKeysMap": {"name": "foo"}}), json!({"retainKeysMap": {"$retainKeys": ["name"], "value": "x"}}));
        assert_eq!((err.0.as_str(), err.code()), (ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS, 400));
        let err = item_err(json!({"retainKeysMap": {}}), json!({"retainKeysMap": {"$retainKeys": "name"}}));
        assert_eq!(err.0, ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS);
        // Nulls and parallel lists need not be listed.
        let got = item(
            json!({"retainKeysMap": {"name": "foo", "value": "v", "mergingIntList": [1, 2]}}),
            json!({"retainKeysMap": {
                "$retainKeys": ["name", "mergingIntList"],
                "value": null,
                "$deleteFromPrimitiveList/mergingIntList": [1],
            }}),
        );
        assert_eq!(got, json!({"retainKeysMap": {"name": "foo", "mergingIntList": [2]}}));
    }

    // --- top level ----------------------------------------------------------------------------

    #[test]
    fn non_object_patch_is_a_bad_request() {
        let err = apply(&json!({}), &json!([1]), "", "Pod").unwrap_err();
        assert_eq!(err.0, "json: cannot unmarshal array into Go value of type map[string]interface {}");
        assert_eq!(err.code(), 400);
        assert_eq!(apply(&json!({"a": 1}), &Value::Null, "", "Pod").unwrap(), json!({"a": 1}));
    }

    #[test]
    fn directive_keys_never_reach_the_result() {
        let got = item(
            json!({"mergingList": [{"name": "a"}]}),
            json!({"mergingList": [{
                "name": "b",
                "$setElementOrder/mergingList": [{"name": "x"}],
                "$retainKeys": ["name"],
                "mergingList": [{"name": "x", "$patch": "delete"}],
            }]}),
        );
        assert_eq!(got, json!({"mergingList": [{"name": "b", "mergingList": [{"name": "x"}]}, {"name": "a"}]}));
    }

    // --- Kubernetes kinds ---------------------------------------------------------------------

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "finalizers": ["a/one"], "labels": {"app": "web"}},
            "spec": {
                "replicas": 2,
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "containers": [
                            {"name": "app", "image": "nginx:1", "ports": [{"containerPort": 80, "protocol": "TCP"}],
                             "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
                            {"name": "sidecar", "image": "envoy:1"},
                        ],
                        "tolerations": [{"key": "k1", "operator": "Exists"}, {"key": "k2", "operator": "Exists"}],
                    },
                },
            },
            "status": {"conditions": [
                {"type": "Available", "status": "True"},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
            ]},
        })
    }

    fn containers(v: &Value) -> &Value {
        &v["spec"]["template"]["spec"]["containers"]
    }

    #[test]
    fn set_image_keeps_the_other_container() {
        let got = kube(
            deployment(),
            json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:2"}]}}}}),
            "apps",
            "Deployment",
        );
        let want = json!([
            {"name": "app", "image": "nginx:2", "ports": [{"containerPort": 80, "protocol": "TCP"}],
             "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
            {"name": "sidecar", "image": "envoy:1"},
        ]);
        assert_eq!(containers(&got), &want);
        assert_eq!(got["spec"]["replicas"], 2);
        assert_eq!(got["spec"]["template"]["spec"]["tolerations"], deployment()["spec"]["template"]["spec"]["tolerations"]);
    }

    #[test]
    fn kubectl_style_patch_with_set_element_order() {
        // What `kubectl set image deployment/web sidecar=envoy:2` sends.
        let got = kube(
            deployment(),
            json!({"spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}],
                "containers": [{"name": "sidecar", "image": "envoy:2"}],
            }}}}),
            "apps",
            "Deployment",
        );
        assert_eq!(containers(&got)[0]["name"], "app");
        assert_eq!(containers(&got)[0]["image"], "nginx:1");
        assert_eq!(containers(&got)[1], json!({"name": "sidecar", "image": "envoy:2"}));
        // Reordering through $setElementOrder alone.
        let got = kube(
            deployment(),
            json!({"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "sidecar"}, {"name": "app"}]}}}}),
            "apps",
            "Deployment",
        );
        assert_eq!(containers(&got)[0]["name"], "sidecar");
        assert_eq!(containers(&got)[1]["name"], "app");
        // Adding a container at the end, as kubectl does.
        let got = kube(
            deployment(),
            json!({"spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}, {"name": "log"}],
                "containers": [{"name": "log", "image": "fluentd"}],
            }}}}),
            "apps",
            "Deployment",
        );
        let names: Vec<&str> = containers(&got).as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["app", "sidecar", "log"]);
    }

    #[test]
    fn env_merges_by_name() {
        let got = kube(
            deployment(),
            json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "env": [
                {"name": "B", "value": "two"},
                {"name": "C", "value": "3"},
            ]}]}}}}),
            "apps",
            "Deployment",
        );
        // A precedes B in the live list, so it stays first; C is new and follows B.
        assert_eq!(
            containers(&got)[0]["env"],
            json!([{"name": "A", "value": "1"}, {"name": "B", "value": "two"}, {"name": "C", "value": "3"}])
        );
        let got = kube(
            deployment(),
            json!({"spec": {"template": {"spec": {"containers": [{"name": "app",
                "$setElementOrder/env": [{"name": "A"}, {"name": "B"}, {"name": "C"}],
                "env": [{"name": "C", "value": "3"}],
            }]}}}}),
            "apps",
            "Deployment",
        );
        assert_eq!(
            containers(&got)[0]["env"],
            json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}, {"name": "C", "value": "3"}])
        );
    }

    #[test]
    fn delete_a_container_and_an_env_var() {
        let got = kube(
            deployment(),
            json!({"spec": {"template": {"spec": {"containers": [
                {"name": "sidecar", "$patch": "delete"},
                {"name": "app", "env": [{"name": "A", "$patch": "delete"}]},
            ]}}}}),
            "apps",
            "Deployment",
        );
        assert_eq!(containers(&got).as_array().unwrap().len(), 1);
        assert_eq!(containers(&got)[0]["env"], json!([{"name": "B", "value": "2"}]));
    }

    #[test]
    fn container_ports_merge_by_container_port() {
        let got = kube(
            deployment(),
            json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "ports": [
                {"containerPort": 80, "name": "http"}, {"containerPort": 443},
            ]}]}}}}),
            "apps",
            "Deployment",
        );
        assert_eq!(containers(&got)[0]["ports"], json!([{"containerPort": 80, "protocol": "TCP", "name": "http"}, {"containerPort": 443}]));
    }

    #[test]
    fn tolerations_are_replaced() {
        let got = kube(
            deployment(),
            json!({"spec": {"template": {"spec": {"tolerations": [{"key": "k3", "operator": "Exists"}]}}}}),
            "apps",
            "Deployment",
        );
        assert_eq!(got["spec"]["template"]["spec"]["tolerations"], json!([{"key": "k3", "operator": "Exists"}]));
    }

    #[test]
    fn finalizers_are_a_set() {
        let got = kube(deployment(), json!({"metadata": {"finalizers": ["a/two", "a/one"]}}), "apps", "Deployment");
        assert_eq!(got["metadata"]["finalizers"], json!(["a/two", "a/one"]));
        let got = kube(deployment(), json!({"metadata": {"finalizers": ["b/new"]}}), "", "ConfigMap");
        assert_eq!(got["metadata"]["finalizers"], json!(["b/new", "a/one"]));
        let got = kube(deployment(), json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a/one"]}}), "apps", "Deployment");
        assert_eq!(got["metadata"]["finalizers"], json!([]));
        let got = kube(
            deployment(),
            json!({"metadata": {"$setElementOrder/finalizers": ["a/one", "b/new"], "finalizers": ["b/new"]}}),
            "apps",
            "Deployment",
        );
        assert_eq!(got["metadata"]["finalizers"], json!(["a/one", "b/new"]));
    }

    #[test]
    fn status_conditions_merge_by_type() {
        let got = kube(
            deployment(),
            json!({"status": {"conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]}}),
            "apps",
            "Deployment",
        );
        assert_eq!(
            got["status"]["conditions"],
            json!([
                {"type": "Available", "status": "True"},
                {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"},
            ])
        );
        // A new condition type, without $setElementOrder, lands before the server-only ones.
        let got =
            kube(deployment(), json!({"status": {"conditions": [{"type": "ReplicaFailure", "status": "True"}]}}), "apps", "Deployment");
        let types: Vec<&str> = got["status"]["conditions"].as_array().unwrap().iter().map(|c| c["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["ReplicaFailure", "Available", "Progressing"]);
        for (group, kind) in [
            ("", "Pod"),
            ("apps", "ReplicaSet"),
            ("apps", "DaemonSet"),
            ("apps", "StatefulSet"),
            ("batch", "Job"),
            ("autoscaling", "HorizontalPodAutoscaler"),
            ("policy", "PodDisruptionBudget"),
            ("", "Namespace"),
            ("", "Node"),
        ] {
            let got = kube(
                json!({"status": {"conditions": [{"type": "A", "status": "True"}, {"type": "B", "status": "True"}]}}),
                json!({"status": {"conditions": [{"type": "B", "status": "False"}]}}),
                group,
                kind,
            );
            assert_eq!(
                got["status"]["conditions"],
                json!([{"type": "A", "status": "True"}, {"type": "B", "status": "False"}]),
                "{group}/{kind}"
            );
        }
    }

    #[test]
    fn deployment_strategy_retain_keys() {
        // `kubectl apply` switching to Recreate sends $retainKeys for the strategy.
        let got = kube(deployment(), json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}), "apps", "Deployment");
        assert_eq!(got["spec"]["strategy"], json!({"type": "Recreate"}));
        // Without it the maps merge.
        let got = kube(deployment(), json!({"spec": {"strategy": {"type": "Recreate"}}}), "apps", "Deployment");
        assert_eq!(got["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
    }

    #[test]
    fn volumes_merge_by_name_with_retain_keys_for_the_source() {
        let pod = json!({"spec": {
            "containers": [{"name": "c", "volumeMounts": [{"name": "v", "mountPath": "/a"}]}],
            "volumes": [{"name": "v", "emptyDir": {}}, {"name": "w", "configMap": {"name": "cm"}}],
        }});
        let got = kube(
            pod,
            json!({"spec": {
                "volumes": [{"name": "v", "$retainKeys": ["name", "secret"], "secret": {"secretName": "s"}}],
                "containers": [{"name": "c", "volumeMounts": [{"name": "v2", "mountPath": "/b"}]}],
            }}),
            "",
            "Pod",
        );
        assert_eq!(
            got["spec"]["volumes"],
            json!([{"name": "v", "secret": {"secretName": "s"}}, {"name": "w", "configMap": {"name": "cm"}}])
        );
        assert_eq!(
            got["spec"]["containers"][0]["volumeMounts"],
            json!([{"name": "v2", "mountPath": "/b"}, {"name": "v", "mountPath": "/a"}])
        );
    }

    #[test]
    fn pod_spec_lists_in_every_template() {
        let patch_spec = json!({"imagePullSecrets": [{"name": "new"}], "containers": [{"name": "c", "image": "i:2"}]});
        let spec = json!({"imagePullSecrets": [{"name": "old"}], "containers": [{"name": "c", "image": "i:1"}, {"name": "d"}]});
        let want =
            json!({"imagePullSecrets": [{"name": "new"}, {"name": "old"}], "containers": [{"name": "c", "image": "i:2"}, {"name": "d"}]});
        let got = kube(json!({"spec": spec.clone()}), json!({"spec": patch_spec.clone()}), "", "Pod");
        assert_eq!(got["spec"], want);
        let got = kube(json!({"template": {"spec": spec.clone()}}), json!({"template": {"spec": patch_spec.clone()}}), "", "PodTemplate");
        assert_eq!(got["template"]["spec"], want);
        for (group, kind) in [
            ("apps", "Deployment"),
            ("apps", "ReplicaSet"),
            ("apps", "DaemonSet"),
            ("apps", "StatefulSet"),
            ("batch", "Job"),
            ("", "ReplicationController"),
        ] {
            let got = kube(
                json!({"spec": {"template": {"spec": spec.clone()}}}),
                json!({"spec": {"template": {"spec": patch_spec.clone()}}}),
                group,
                kind,
            );
            assert_eq!(got["spec"]["template"]["spec"], want, "{group}/{kind}");
        }
        let got = kube(
            json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": spec.clone()}}}}}),
            json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": patch_spec.clone()}}}}}),
            "batch",
            "CronJob",
        );
        assert_eq!(got["spec"]["jobTemplate"]["spec"]["template"]["spec"], want);
    }

    #[test]
    fn other_pod_spec_keys() {
        let got = kube(
            json!({"spec": {
                "initContainers": [{"name": "i", "image": "a"}],
                "ephemeralContainers": [{"name": "debug", "env": [{"name": "X", "value": "1"}]}],
                "hostAliases": [{"ip": "10.0.0.1", "hostnames": ["a"]}],
                "topologySpreadConstraints": [{"topologyKey": "zone", "maxSkew": 1}],
                "schedulingGates": [{"name": "g1"}],
                "resourceClaims": [{"name": "gpu", "resourceClaimName": "c"}],
                "readinessGates": [{"conditionType": "a"}],
            }}),
            json!({"spec": {
                "initContainers": [{"name": "i", "image": "b"}],
                "ephemeralContainers": [{"name": "debug", "env": [{"name": "Y", "value": "2"}]}],
                "hostAliases": [{"ip": "10.0.0.1", "hostnames": ["b"]}],
                "topologySpreadConstraints": [{"topologyKey": "zone", "maxSkew": 2}],
                "schedulingGates": [{"name": "g1", "$patch": "delete"}],
                "resourceClaims": [{"name": "gpu", "resourceClaimTemplateName": "t", "$retainKeys": ["name", "resourceClaimTemplateName"]}],
                "readinessGates": [{"conditionType": "b"}],
            }}),
            "",
            "Pod",
        );
        assert_eq!(
            got["spec"],
            json!({
                "initContainers": [{"name": "i", "image": "b"}],
                "ephemeralContainers": [{"name": "debug", "env": [{"name": "Y", "value": "2"}, {"name": "X", "value": "1"}]}],
                "hostAliases": [{"ip": "10.0.0.1", "hostnames": ["b"]}],
                "topologySpreadConstraints": [{"topologyKey": "zone", "maxSkew": 2}],
                "schedulingGates": [],
                "resourceClaims": [{"name": "gpu", "resourceClaimTemplateName": "t"}],
                "readinessGates": [{"conditionType": "b"}],
            })
        );
    }

    #[test]
    fn pod_status_lists() {
        let got = kube(
            json!({"status": {"podIPs": [{"ip": "10.0.0.1"}], "hostIPs": [{"ip": "192.168.0.1"}],
                              "containerStatuses": [{"name": "a", "ready": true}, {"name": "b", "ready": true}]}}),
            json!({"status": {"podIPs": [{"ip": "fd00::1"}], "containerStatuses": [{"name": "a", "ready": false}]}}),
            "",
            "Pod",
        );
        assert_eq!(got["status"]["podIPs"], json!([{"ip": "fd00::1"}, {"ip": "10.0.0.1"}]));
        // containerStatuses has no patch strategy: replaced.
        assert_eq!(got["status"]["containerStatuses"], json!([{"name": "a", "ready": false}]));
    }

    #[test]
    fn owner_references_merge_by_uid_and_managed_fields_are_atomic() {
        let got = kube(
            json!({"metadata": {
                "ownerReferences": [{"uid": "u1", "kind": "ReplicaSet", "name": "rs1", "controller": true}],
                "managedFields": [{"manager": "a"}, {"manager": "b"}],
            }}),
            json!({"metadata": {
                "ownerReferences": [{"uid": "u1", "controller": false}, {"uid": "u2", "kind": "ReplicaSet", "name": "rs2"}],
                "managedFields": [{"manager": "c"}],
            }}),
            "",
            "Pod",
        );
        assert_eq!(
            got["metadata"]["ownerReferences"],
            json!([{"uid": "u1", "kind": "ReplicaSet", "name": "rs1", "controller": false}, {"uid": "u2", "kind": "ReplicaSet", "name": "rs2"}])
        );
        assert_eq!(got["metadata"]["managedFields"], json!([{"manager": "c"}]));
    }

    #[test]
    fn service_ports_merge_by_port() {
        let got = kube(
            json!({"spec": {"ports": [{"port": 80, "targetPort": 8080, "name": "http"}, {"port": 443, "name": "https"}],
                            "externalIPs": ["1.1.1.1"]}}),
            json!({"spec": {"ports": [{"port": 80, "targetPort": 9090}], "externalIPs": ["2.2.2.2"]}}),
            "",
            "Service",
        );
        assert_eq!(
            got["spec"],
            json!({"ports": [{"port": 80, "targetPort": 9090, "name": "http"}, {"port": 443, "name": "https"}], "externalIPs": ["2.2.2.2"]})
        );
    }

    #[test]
    fn node_lists() {
        let got = kube(
            json!({
                "spec": {"taints": [{"key": "a", "effect": "NoSchedule"}], "podCIDRs": ["10.0.0.0/24"]},
                "status": {
                    "addresses": [{"type": "InternalIP", "address": "10.1.1.1"}, {"type": "Hostname", "address": "n1"}],
                    "conditions": [{"type": "Ready", "status": "True"}, {"type": "MemoryPressure", "status": "False"}],
                },
            }),
            json!({
                "spec": {"taints": [{"key": "b", "effect": "NoExecute"}], "podCIDRs": ["fd00::/64"]},
                "status": {
                    "addresses": [{"type": "InternalIP", "address": "10.1.1.2"}],
                    "conditions": [{"type": "Ready", "status": "False"}],
                },
            }),
            "",
            "Node",
        );
        // Upstream's NodeSpec.Taints carries no patch strategy: the list is replaced.
        assert_eq!(got["spec"]["taints"], json!([{"key": "b", "effect": "NoExecute"}]));
        assert_eq!(got["spec"]["podCIDRs"], json!(["fd00::/64", "10.0.0.0/24"]));
        assert_eq!(
            got["status"]["addresses"],
            json!([{"type": "InternalIP", "address": "10.1.1.2"}, {"type": "Hostname", "address": "n1"}])
        );
        assert_eq!(
            got["status"]["conditions"],
            json!([{"type": "Ready", "status": "False"}, {"type": "MemoryPressure", "status": "False"}])
        );
    }

    #[test]
    fn pdb_selector_is_replaced() {
        let got = kube(
            json!({"spec": {"minAvailable": 1, "selector": {"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "x", "operator": "Exists"}]}}}),
            json!({"spec": {"selector": {"matchLabels": {"b": "2"}}}}),
            "policy",
            "PodDisruptionBudget",
        );
        assert_eq!(got["spec"], json!({"minAvailable": 1, "selector": {"matchLabels": {"b": "2"}}}));
    }

    #[test]
    fn webhooks_merge_by_name() {
        let got = kube(
            json!({"webhooks": [{"name": "a.example.com", "sideEffects": "None", "matchConditions": [{"name": "m1", "expression": "true"}]}]}),
            json!({"webhooks": [{"name": "a.example.com", "matchConditions": [{"name": "m2", "expression": "false"}]}]}),
            "admissionregistration.k8s.io",
            "ValidatingWebhookConfiguration",
        );
        assert_eq!(
            got["webhooks"],
            json!([{"name": "a.example.com", "sideEffects": "None",
                    "matchConditions": [{"name": "m2", "expression": "false"}, {"name": "m1", "expression": "true"}]}])
        );
    }

    #[test]
    fn unknown_kinds_and_fields_replace_lists() {
        let got = kube(
            json!({"metadata": {"finalizers": ["a"]}, "spec": {"items": [{"name": "x", "v": 1}]}}),
            json!({"metadata": {"finalizers": ["b"]}, "spec": {"items": [{"name": "x", "w": 2}]}}),
            "example.com",
            "Widget",
        );
        assert_eq!(got, json!({"metadata": {"finalizers": ["b", "a"]}, "spec": {"items": [{"name": "x", "w": 2}]}}));
        assert!(!is_known_kind("example.com", "Widget"));
        assert!(is_known_kind("apps", "Deployment"));
        let got = apply_with_schema(&json!({"l": [1, 2]}), &json!({"l": [3]}), None).unwrap();
        assert_eq!(got, json!({"l": [3]}));
    }

    #[test]
    fn every_kind_describes_metadata() {
        for (group, kind, schema) in KINDS {
            let meta = schema.field("metadata").unwrap_or_else(|| panic!("{group}/{kind} has no metadata"));
            assert!(std::ptr::eq(meta.schema.unwrap(), &OBJECT_META), "{group}/{kind}");
        }
    }

    // --- Go helpers ---------------------------------------------------------------------------

    #[test]
    fn go_formatting() {
        let v = json!({"b": [1, 2.5, "s", true, null], "a": {"x": 1e6, "y": 0.00001, "z": 123456.0}});
        let mut out = String::new();
        go_fmt(&v, false, &mut out);
        assert_eq!(out, "map[a:map[x:1e+06 y:1e-05 z:123456] b:[1 2.5 s true <nil>]]");
        let mut out = String::new();
        go_fmt(&json!([1, "s", null, 0.5]), true, &mut out);
        assert_eq!(out, "[%!s(int64=1) s %!s(<nil>) %!s(float64=0.5)]");
        assert_eq!(go_float(-1.25e-7), "-1.25e-07");
        assert_eq!(go_float(1.7976931348623157e308), "1.7976931348623157e+308");
        assert_eq!(go_float(0.0001), "0.0001");
        assert_eq!(go_float(999999.5), "999999.5");
    }

    #[test]
    fn go_equality_distinguishes_ints_and_floats() {
        assert!(go_eq(&json!(80), &json!(80)));
        assert!(!go_eq(&json!(80), &json!(80.0)));
        // An int64 and a float64 in one list are a type mismatch upstream.
        let err = item_err(json!({"mergingIntList": [1]}), json!({"mergingIntList": [1.0]}));
        assert_eq!(err.0, "list element types are not identical: [[1] [1]]");
    }

    #[test]
    fn go_stable_sort_matches_a_stable_sort_for_consistent_orders() {
        // Pseudo-random keys with many duplicates, long enough to exercise the block merges.
        let mut seed = 12345u64;
        for n in [0usize, 1, 5, 19, 20, 21, 40, 41, 63, 100, 257] {
            let mut v: Vec<(u64, usize)> = (0..n)
                .map(|i| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    ((seed >> 33) % 7, i)
                })
                .collect();
            let mut want = v.clone();
            want.sort_by_key(|e| e.0);
            go_stable_sort(&mut v, &|a: &(u64, usize), b: &(u64, usize)| a.0 < b.0);
            assert_eq!(v, want, "n = {n}");
        }
    }
}
