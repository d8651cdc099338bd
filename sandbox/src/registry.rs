//! The resources the sandbox serves, described as kube-apiserver's discovery
//! describes them.

use serde_json::Value;

/// A subresource a resource has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sub {
    Status,
    Scale,
    Binding,
    Eviction,
}

impl Sub {
    pub fn name(self) -> &'static str {
        match self {
            Sub::Status => "status",
            Sub::Scale => "scale",
            Sub::Binding => "binding",
            Sub::Eviction => "eviction",
        }
    }
}

/// The deletion propagation a resource's dependents get when a delete names none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultPropagation {
    Background,
    Orphan,
    /// The resource takes no part in garbage collection (upstream
    /// `rest.Unsupported`): a delete asking for Orphan or Foreground
    /// propagation deletes as Background does.
    Unsupported,
}

/// One served resource at one group/version.
#[derive(Debug)]
pub struct ResourceType {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    /// The plural resource name in URLs.
    pub plural: &'static str,
    pub singular: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub subresources: &'static [Sub],
    /// Whether metadata.generation is kept (set to 1 on create and bumped on spec changes).
    pub generation: bool,
    /// Field selectors beyond metadata.name and metadata.namespace.
    pub fields: &'static [&'static str],
    pub propagation: DefaultPropagation,
    /// Whether an update of an absent object creates it.
    pub create_on_update: bool,
    /// Whether a delete answers with the deleted object rather than a Status.
    pub return_deleted_object: bool,
}

impl ResourceType {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.to_string() } else { format!("{}/{}", self.group, self.version) }
    }

    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    pub fn has(&self, sub: Sub) -> bool {
        self.subresources.contains(&sub)
    }

    /// The value of a field selector's field for `obj`, `None` when the
    /// resource does not support selecting on it.
    pub fn field_value(&self, obj: &Value, field: &str) -> Option<String> {
        match field {
            "metadata.name" => return Some(str_at(obj, &["metadata", "name"])),
            "metadata.namespace" if self.namespaced => return Some(str_at(obj, &["metadata", "namespace"])),
            _ => {}
        }
        if !self.fields.contains(&field) {
            return None;
        }
        if self.kind == "Event" && field == "source" {
            // Upstream's selectable `source`: the source component, else the
            // reporting controller (of the internal Event, both APIs).
            let (source, controller) =
                if self.group.is_empty() { ("source", "reportingComponent") } else { ("deprecatedSource", "reportingController") };
            let component = str_at(obj, &[source, "component"]);
            return Some(if component.is_empty() { str_at(obj, &[controller]) } else { component });
        }
        let path: Vec<&str> = field.split('.').collect();
        let v = at(obj, &path);
        Some(match v {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Bool(b)) => b.to_string(),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Array(a)) if field == "status.podIPs" => {
                a.iter().filter_map(|ip| ip.get("ip").and_then(Value::as_str)).collect::<Vec<_>>().join(",")
            }
            // Absent booleans select as "false", as upstream's conversion functions do.
            None if field == "spec.hostNetwork" || field == "spec.unschedulable" => "false".into(),
            _ => String::new(),
        })
    }
}

pub fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    Some(cur)
}

pub fn str_at(v: &Value, path: &[&str]) -> String {
    at(v, path).and_then(Value::as_str).unwrap_or_default().to_string()
}

const POD_FIELDS: &[&str] = &[
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.podIPs",
    "status.nominatedNodeName",
];

const EVENT_FIELDS: &[&str] = &[
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
];

/// events.k8s.io/v1's field labels (upstream `AddFieldLabelConversionsForEvent`
/// of `pkg/apis/events/v1`, which maps them to the core selectable fields).
const NEW_EVENT_FIELDS: &[&str] = &[
    "regarding.kind",
    "regarding.namespace",
    "regarding.name",
    "regarding.uid",
    "regarding.apiVersion",
    "regarding.resourceVersion",
    "regarding.fieldPath",
    "reason",
    "reportingController",
    "source",
    "type",
];

const fn rt(group: &'static str, version: &'static str, kind: &'static str, plural: &'static str, singular: &'static str) -> ResourceType {
    ResourceType {
        group,
        version,
        kind,
        plural,
        singular,
        namespaced: true,
        short_names: &[],
        categories: &[],
        subresources: &[],
        generation: false,
        fields: &[],
        propagation: DefaultPropagation::Background,
        create_on_update: false,
        return_deleted_object: false,
    }
}

const ALL: &[&str] = &["all"];

/// Every resource the sandbox serves, in discovery order.
pub static RESOURCES: &[ResourceType] = &[
    ResourceType {
        namespaced: false,
        short_names: &["ns"],
        subresources: &[Sub::Status],
        fields: &["status.phase"],
        ..rt("", "v1", "Namespace", "namespaces", "namespace")
    },
    ResourceType {
        short_names: &["po"],
        categories: ALL,
        subresources: &[Sub::Status, Sub::Binding, Sub::Eviction],
        generation: true,
        fields: POD_FIELDS,
        return_deleted_object: true,
        ..rt("", "v1", "Pod", "pods", "pod")
    },
    ResourceType {
        namespaced: false,
        short_names: &["no"],
        subresources: &[Sub::Status],
        fields: &["spec.unschedulable"],
        ..rt("", "v1", "Node", "nodes", "node")
    },
    ResourceType {
        short_names: &["svc"],
        categories: ALL,
        subresources: &[Sub::Status],
        return_deleted_object: true,
        ..rt("", "v1", "Service", "services", "service")
    },
    ResourceType {
        short_names: &["rc"],
        categories: ALL,
        subresources: &[Sub::Status, Sub::Scale],
        generation: true,
        fields: &["status.replicas"],
        ..rt("", "v1", "ReplicationController", "replicationcontrollers", "replicationcontroller")
    },
    ResourceType { short_names: &["ep"], create_on_update: true, ..rt("", "v1", "Endpoints", "endpoints", "endpoints") },
    ResourceType { short_names: &["cm"], ..rt("", "v1", "ConfigMap", "configmaps", "configmap") },
    ResourceType { fields: &["type"], ..rt("", "v1", "Secret", "secrets", "secret") },
    ResourceType { short_names: &["sa"], ..rt("", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount") },
    ResourceType {
        short_names: &["ev"],
        fields: EVENT_FIELDS,
        propagation: DefaultPropagation::Unsupported,
        create_on_update: true,
        ..rt("", "v1", "Event", "events", "event")
    },
    ResourceType { short_names: &["limits"], ..rt("", "v1", "LimitRange", "limitranges", "limitrange") },
    ResourceType {
        short_names: &["quota"],
        subresources: &[Sub::Status],
        ..rt("", "v1", "ResourceQuota", "resourcequotas", "resourcequota")
    },
    ResourceType {
        short_names: &["pvc"],
        subresources: &[Sub::Status],
        ..rt("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", "persistentvolumeclaim")
    },
    ResourceType { ..rt("", "v1", "PodTemplate", "podtemplates", "podtemplate") },
    ResourceType {
        short_names: &["deploy"],
        categories: ALL,
        subresources: &[Sub::Status, Sub::Scale],
        generation: true,
        ..rt("apps", "v1", "Deployment", "deployments", "deployment")
    },
    ResourceType {
        short_names: &["rs"],
        categories: ALL,
        subresources: &[Sub::Status, Sub::Scale],
        generation: true,
        fields: &["status.replicas"],
        ..rt("apps", "v1", "ReplicaSet", "replicasets", "replicaset")
    },
    ResourceType {
        short_names: &["ds"],
        categories: ALL,
        subresources: &[Sub::Status],
        generation: true,
        ..rt("apps", "v1", "DaemonSet", "daemonsets", "daemonset")
    },
    ResourceType {
        short_names: &["sts"],
        categories: ALL,
        subresources: &[Sub::Status, Sub::Scale],
        generation: true,
        ..rt("apps", "v1", "StatefulSet", "statefulsets", "statefulset")
    },
    ResourceType { ..rt("apps", "v1", "ControllerRevision", "controllerrevisions", "controllerrevision") },
    ResourceType {
        categories: ALL,
        subresources: &[Sub::Status],
        generation: true,
        fields: &["status.successful"],
        propagation: DefaultPropagation::Orphan,
        ..rt("batch", "v1", "Job", "jobs", "job")
    },
    ResourceType {
        short_names: &["cj"],
        categories: ALL,
        subresources: &[Sub::Status],
        generation: true,
        ..rt("batch", "v1", "CronJob", "cronjobs", "cronjob")
    },
    ResourceType {
        short_names: &["hpa"],
        categories: ALL,
        subresources: &[Sub::Status],
        generation: true,
        ..rt("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", "horizontalpodautoscaler")
    },
    // Served from the v2 objects, converted as kube-apiserver converts them
    // (crate::convert::hpa); v2 stays the storage and the preferred version.
    ResourceType {
        short_names: &["hpa"],
        categories: ALL,
        subresources: &[Sub::Status],
        generation: true,
        ..rt("autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", "horizontalpodautoscaler")
    },
    ResourceType { create_on_update: true, ..rt("coordination.k8s.io", "v1", "Lease", "leases", "lease") },
    ResourceType {
        short_names: &["ev"],
        fields: NEW_EVENT_FIELDS,
        propagation: DefaultPropagation::Unsupported,
        create_on_update: true,
        ..rt("events.k8s.io", "v1", "Event", "events", "event")
    },
    ResourceType {
        short_names: &["pdb"],
        subresources: &[Sub::Status],
        generation: true,
        ..rt("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", "poddisruptionbudget")
    },
    ResourceType {
        namespaced: false,
        short_names: &["pc"],
        ..rt("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", "priorityclass")
    },
    // Dynamic resource allocation (GA in v1.36): the objects the scheduler
    // reads; no resourceclaim controller or DRA driver runs in the sandbox.
    ResourceType { namespaced: false, generation: true, ..rt("resource.k8s.io", "v1", "DeviceClass", "deviceclasses", "deviceclass") },
    ResourceType { subresources: &[Sub::Status], ..rt("resource.k8s.io", "v1", "ResourceClaim", "resourceclaims", "resourceclaim") },
    ResourceType { ..rt("resource.k8s.io", "v1", "ResourceClaimTemplate", "resourceclaimtemplates", "resourceclaimtemplate") },
    ResourceType {
        namespaced: false,
        generation: true,
        fields: &["spec.nodeName", "spec.driver"],
        ..rt("resource.k8s.io", "v1", "ResourceSlice", "resourceslices", "resourceslice")
    },
    ResourceType { ..rt("rbac.authorization.k8s.io", "v1", "Role", "roles", "role") },
    ResourceType { ..rt("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", "rolebinding") },
    ResourceType { namespaced: false, ..rt("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", "clusterrole") },
    ResourceType {
        namespaced: false,
        ..rt("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", "clusterrolebinding")
    },
    ResourceType {
        namespaced: false,
        categories: &["api-extensions"],
        generation: true,
        ..rt(
            "admissionregistration.k8s.io",
            "v1",
            "MutatingWebhookConfiguration",
            "mutatingwebhookconfigurations",
            "mutatingwebhookconfiguration",
        )
    },
    ResourceType {
        namespaced: false,
        categories: &["api-extensions"],
        generation: true,
        ..rt(
            "admissionregistration.k8s.io",
            "v1",
            "ValidatingWebhookConfiguration",
            "validatingwebhookconfigurations",
            "validatingwebhookconfiguration",
        )
    },
];

/// The resource whose objects `r`'s objects are stored as: kube-apiserver
/// stores events.k8s.io Events as core Events, so both APIs list, watch and
/// change the same objects (converted by [`crate::convert`]); versions of
/// one group and resource share the first one's storage.
pub fn storage_of(r: &ResourceType) -> &'static ResourceType {
    let (group, plural) = if r.group == "events.k8s.io" && r.plural == "events" { ("", "events") } else { (r.group, r.plural) };
    RESOURCES.iter().find(|x| x.group == group && x.plural == plural).expect("registered resource")
}

/// Finds a served resource by group, version and plural name.
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static ResourceType> {
    RESOURCES.iter().find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// Finds a served resource by group, version and kind.
pub fn find_kind(group: &str, version: &str, kind: &str) -> Option<&'static ResourceType> {
    RESOURCES.iter().find(|r| r.group == group && r.version == version && r.kind == kind)
}

/// The served group/versions, in discovery order, core first.
pub fn group_versions() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for r in RESOURCES {
        if !out.contains(&(r.group, r.version)) {
            out.push((r.group, r.version));
        }
    }
    out
}

/// Verbs of a resource, as discovery lists them.
pub fn verbs(_r: &ResourceType) -> Vec<&'static str> {
    vec!["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_resource_is_unique() {
        for (i, a) in RESOURCES.iter().enumerate() {
            for b in &RESOURCES[i + 1..] {
                assert!(!(a.group == b.group && a.version == b.version && a.plural == b.plural), "{} twice", a.plural);
            }
        }
    }

    #[test]
    fn pod_field_selectors() {
        let pods = find("", "v1", "pods").unwrap();
        let p = json!({"metadata": {"name": "a", "namespace": "n"}, "spec": {"nodeName": "x"}, "status": {"phase": "Running"}});
        assert_eq!(pods.field_value(&p, "spec.nodeName").as_deref(), Some("x"));
        assert_eq!(pods.field_value(&p, "status.phase").as_deref(), Some("Running"));
        assert_eq!(pods.field_value(&p, "spec.hostNetwork").as_deref(), Some("false"));
        assert_eq!(pods.field_value(&p, "status.podIP").as_deref(), Some(""));
        assert_eq!(pods.field_value(&p, "spec.bogus"), None);
        let ns = find("", "v1", "namespaces").unwrap();
        assert_eq!(ns.field_value(&p, "metadata.namespace"), None);
    }

    #[test]
    fn event_field_selectors() {
        let core = find("", "v1", "events").unwrap();
        let new = find("events.k8s.io", "v1", "events").unwrap();
        let e = json!({"involvedObject": {"name": "web"}, "source": {}, "reportingComponent": "rs-controller"});
        assert_eq!(core.field_value(&e, "involvedObject.name").as_deref(), Some("web"));
        assert_eq!(core.field_value(&e, "source").as_deref(), Some("rs-controller"), "source falls back to the reporting controller");
        assert_eq!(core.field_value(&e, "regarding.name"), None);
        let n = json!({"regarding": {"name": "web"}, "deprecatedSource": {"component": "kubelet"}, "reportingController": "x"});
        assert_eq!(new.field_value(&n, "regarding.name").as_deref(), Some("web"));
        assert_eq!(new.field_value(&n, "source").as_deref(), Some("kubelet"));
        assert_eq!(new.field_value(&n, "reportingController").as_deref(), Some("x"));
        assert_eq!(new.field_value(&n, "involvedObject.name"), None);
        assert!(std::ptr::eq(storage_of(new), core));
    }
}
