//! The protobuf messages of the Kubernetes v1.36 API that the sandbox
//! decodes, as data: for each message, its fields by number with their JSON
//! name, what they hold and how often.
//!
//! Source: the `generated.proto` files of k8s.io/api v0.36.3 (every group
//! the sandbox serves) and of k8s.io/apimachinery v0.36.3 (meta/v1,
//! resource.Quantity, intstr.IntOrString, runtime), merged with the Go
//! struct tags of the same types (`types.go`), which give what the .proto
//! files do not: the JSON name, `json:",inline"` embedding, and whether Go's
//! JSON leaves a field's zero value out (`omitempty` on a non-pointer scalar).
//! Only the messages reachable from [`KINDS`] are listed; the types whose Go
//! code marshals them by hand are [`Special`].
//!
//! To regenerate (for a new Kubernetes minor): check out both repositories at
//! the new tag; for each root in [`KINDS`], walk the message graph through
//! the .proto files (types starting with `.` are fully qualified, others are
//! relative to the file's package; `map<string, V>` fields are maps), stop at
//! the special types, and write one `F(number, json name, kind, card)` line
//! per field in .proto order, taking the JSON name and `omitempty`/pointer/
//! inline from the Go field whose `protobuf:"...,N,..."` tag has that number.
//! Static names are the package's group and version plus the message name.

/// A message: its fields.
pub struct Msg(pub &'static [F]);

/// One field: number, JSON name (empty when inlined), kind, cardinality.
pub struct F(pub u64, pub &'static str, pub Kind, pub Card);

/// What a field (or a map's value) holds.
#[derive(Clone, Copy)]
pub enum Kind {
    S,
    B,
    BOOL,
    I32,
    I64,
    M(&'static Msg),
    X(Special),
}

/// Messages whose Go types marshal themselves, in protobuf and in JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Special {
    /// `string` field 1; JSON: the string.
    Quantity,
    /// `type` 1 (0 int, 1 string), `intVal` 2, `strVal` 3; JSON: a number or a string.
    IntOrString,
    /// `seconds` 1, `nanos` 2 (ignored upstream); JSON: RFC 3339 in whole seconds, null when empty.
    Time,
    /// As Time, JSON with microseconds.
    MicroTime,
    /// `duration` 1 in nanoseconds; JSON: Go's `time.Duration` string.
    Duration,
    /// `raw` 1: JSON bytes.
    RawExtension,
    /// `Raw` 1: JSON bytes.
    FieldsV1,
}

/// How often a field occurs, and how its value becomes JSON.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Card {
    /// Optional; emitted whenever present.
    ONE,
    /// A non-pointer scalar with `omitempty`: gogo writes it always, Go's JSON leaves its zero value out.
    OMIT,
    /// Repeated: a JSON array.
    REP,
    /// `map<string, kind>`: entries with key 1 and value 2; a JSON object.
    MAP,
    /// A Go struct embedded with `json:",inline"`: its fields join the parent's.
    INLINE,
}

use Card::*;
use Kind::*;

/// The kinds whose protobuf bodies the sandbox decodes: apiVersion, kind, message.
pub static KINDS: &[(&str, &str, &Msg)] = &[
    ("v1", "Namespace", &CORE_V1_NAMESPACE),
    ("v1", "Pod", &CORE_V1_POD),
    ("v1", "Node", &CORE_V1_NODE),
    ("v1", "Service", &CORE_V1_SERVICE),
    ("v1", "ReplicationController", &CORE_V1_REPLICATION_CONTROLLER),
    ("v1", "Endpoints", &CORE_V1_ENDPOINTS),
    ("v1", "ConfigMap", &CORE_V1_CONFIG_MAP),
    ("v1", "Secret", &CORE_V1_SECRET),
    ("v1", "ServiceAccount", &CORE_V1_SERVICE_ACCOUNT),
    ("v1", "Event", &CORE_V1_EVENT),
    ("v1", "LimitRange", &CORE_V1_LIMIT_RANGE),
    ("v1", "ResourceQuota", &CORE_V1_RESOURCE_QUOTA),
    ("v1", "PersistentVolumeClaim", &CORE_V1_PERSISTENT_VOLUME_CLAIM),
    ("v1", "PodTemplate", &CORE_V1_POD_TEMPLATE),
    ("v1", "Binding", &CORE_V1_BINDING),
    ("apps/v1", "Deployment", &APPS_V1_DEPLOYMENT),
    ("apps/v1", "ReplicaSet", &APPS_V1_REPLICA_SET),
    ("apps/v1", "DaemonSet", &APPS_V1_DAEMON_SET),
    ("apps/v1", "StatefulSet", &APPS_V1_STATEFUL_SET),
    ("apps/v1", "ControllerRevision", &APPS_V1_CONTROLLER_REVISION),
    ("batch/v1", "Job", &BATCH_V1_JOB),
    ("batch/v1", "CronJob", &BATCH_V1_CRON_JOB),
    ("autoscaling/v2", "HorizontalPodAutoscaler", &AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER),
    ("autoscaling/v1", "HorizontalPodAutoscaler", &AUTOSCALING_V1_HORIZONTAL_POD_AUTOSCALER),
    ("autoscaling/v1", "Scale", &AUTOSCALING_V1_SCALE),
    ("coordination.k8s.io/v1", "Lease", &COORDINATION_V1_LEASE),
    ("events.k8s.io/v1", "Event", &EVENTS_V1_EVENT),
    ("policy/v1", "PodDisruptionBudget", &POLICY_V1_POD_DISRUPTION_BUDGET),
    ("policy/v1", "Eviction", &POLICY_V1_EVICTION),
    ("scheduling.k8s.io/v1", "PriorityClass", &SCHEDULING_V1_PRIORITY_CLASS),
    ("rbac.authorization.k8s.io/v1", "Role", &RBAC_V1_ROLE),
    ("rbac.authorization.k8s.io/v1", "RoleBinding", &RBAC_V1_ROLE_BINDING),
    ("rbac.authorization.k8s.io/v1", "ClusterRole", &RBAC_V1_CLUSTER_ROLE),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", &RBAC_V1_CLUSTER_ROLE_BINDING),
    ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", &ADMISSIONREGISTRATION_V1_MUTATING_WEBHOOK_CONFIGURATION),
    ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", &ADMISSIONREGISTRATION_V1_VALIDATING_WEBHOOK_CONFIGURATION),
    ("networking.k8s.io/v1", "Ingress", &NETWORKING_V1_INGRESS),
    ("meta.k8s.io/v1", "DeleteOptions", &META_V1_DELETE_OPTIONS),
];

pub static META_V1_OWNER_REFERENCE: Msg = Msg(&[
    F(5, "apiVersion", S, ONE),
    F(1, "kind", S, ONE),
    F(3, "name", S, ONE),
    F(4, "uid", S, ONE),
    F(6, "controller", BOOL, ONE),
    F(7, "blockOwnerDeletion", BOOL, ONE),
]);
pub static META_V1_MANAGED_FIELDS_ENTRY: Msg = Msg(&[
    F(1, "manager", S, OMIT),
    F(2, "operation", S, OMIT),
    F(3, "apiVersion", S, OMIT),
    F(4, "time", X(Special::Time), ONE),
    F(6, "fieldsType", S, OMIT),
    F(7, "fieldsV1", X(Special::FieldsV1), ONE),
    F(8, "subresource", S, OMIT),
]);
pub static META_V1_OBJECT_META: Msg = Msg(&[
    F(1, "name", S, OMIT),
    F(2, "generateName", S, OMIT),
    F(3, "namespace", S, OMIT),
    F(4, "selfLink", S, OMIT),
    F(5, "uid", S, OMIT),
    F(6, "resourceVersion", S, OMIT),
    F(7, "generation", I64, OMIT),
    F(8, "creationTimestamp", X(Special::Time), ONE),
    F(9, "deletionTimestamp", X(Special::Time), ONE),
    F(10, "deletionGracePeriodSeconds", I64, ONE),
    F(11, "labels", S, MAP),
    F(12, "annotations", S, MAP),
    F(13, "ownerReferences", M(&META_V1_OWNER_REFERENCE), REP),
    F(14, "finalizers", S, REP),
    F(17, "managedFields", M(&META_V1_MANAGED_FIELDS_ENTRY), REP),
]);
pub static CORE_V1_NAMESPACE_SPEC: Msg = Msg(&[F(1, "finalizers", S, REP)]);
pub static CORE_V1_NAMESPACE_CONDITION: Msg = Msg(&[
    F(1, "type", S, ONE),
    F(2, "status", S, ONE),
    F(4, "lastTransitionTime", X(Special::Time), ONE),
    F(5, "reason", S, OMIT),
    F(6, "message", S, OMIT),
]);
pub static CORE_V1_NAMESPACE_STATUS: Msg = Msg(&[F(1, "phase", S, OMIT), F(2, "conditions", M(&CORE_V1_NAMESPACE_CONDITION), REP)]);
pub static CORE_V1_NAMESPACE: Msg = Msg(&[
    F(1, "metadata", M(&META_V1_OBJECT_META), ONE),
    F(2, "spec", M(&CORE_V1_NAMESPACE_SPEC), ONE),
    F(3, "status", M(&CORE_V1_NAMESPACE_STATUS), ONE),
]);
pub static CORE_V1_HOST_PATH_VOLUME_SOURCE: Msg = Msg(&[F(1, "path", S, ONE), F(2, "type", S, ONE)]);
pub static CORE_V1_EMPTY_DIR_VOLUME_SOURCE: Msg = Msg(&[F(1, "medium", S, OMIT), F(2, "sizeLimit", X(Special::Quantity), ONE)]);
pub static CORE_V1_GCE_PERSISTENT_DISK_VOLUME_SOURCE: Msg =
    Msg(&[F(1, "pdName", S, ONE), F(2, "fsType", S, OMIT), F(3, "partition", I32, OMIT), F(4, "readOnly", BOOL, OMIT)]);
pub static CORE_V1_AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE: Msg =
    Msg(&[F(1, "volumeID", S, ONE), F(2, "fsType", S, OMIT), F(3, "partition", I32, OMIT), F(4, "readOnly", BOOL, OMIT)]);
pub static CORE_V1_GIT_REPO_VOLUME_SOURCE: Msg = Msg(&[F(1, "repository", S, ONE), F(2, "revision", S, OMIT), F(3, "directory", S, OMIT)]);
pub static CORE_V1_KEY_TO_PATH: Msg = Msg(&[F(1, "key", S, ONE), F(2, "path", S, ONE), F(3, "mode", I32, ONE)]);
pub static CORE_V1_SECRET_VOLUME_SOURCE: Msg = Msg(&[
    F(1, "secretName", S, OMIT),
    F(2, "items", M(&CORE_V1_KEY_TO_PATH), REP),
    F(3, "defaultMode", I32, ONE),
    F(4, "optional", BOOL, ONE),
]);
pub static CORE_V1_NFS_VOLUME_SOURCE: Msg = Msg(&[F(1, "server", S, ONE), F(2, "path", S, ONE), F(3, "readOnly", BOOL, OMIT)]);
pub static CORE_V1_LOCAL_OBJECT_REFERENCE: Msg = Msg(&[F(1, "name", S, OMIT)]);
pub static CORE_V1_ISCSI_VOLUME_SOURCE: Msg = Msg(&[
    F(1, "targetPortal", S, ONE),
    F(2, "iqn", S, ONE),
    F(3, "lun", I32, ONE),
    F(4, "iscsiInterface", S, OMIT),
    F(5, "fsType", S, OMIT),
    F(6, "readOnly", BOOL, OMIT),
    F(7, "portals", S, REP),
    F(8, "chapAuthDiscovery", BOOL, OMIT),
    F(11, "chapAuthSession", BOOL, OMIT),
    F(10, "secretRef", M(&CORE_V1_LOCAL_OBJECT_REFERENCE), ONE),
    F(12, "initiatorName", S, ONE),
]);
pub static CORE_V1_GLUSTERFS_VOLUME_SOURCE: Msg = Msg(&[F(1, "endpoints", S, ONE), F(2, "path", S, ONE), F(3, "readOnly", BOOL, OMIT)]);
pub static CORE_V1_PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE: Msg = Msg(&[F(1, "claimName", S, ONE), F(2, "readOnly", BOOL, OMIT)]);
pub static CORE_V1_RBD_VOLUME_SOURCE: Msg = Msg(&[
    F(1, "monitors", S, REP),
    F(2, "image", S, ONE),
    F(3, "fsType", S, OMIT),
    F(4, "pool", S, OMIT),
    F(5, "user", S, OMIT),
    F(6, "keyring", S, OMIT),
    F(7, "secretRef", M(&CORE_V1_LOCAL_OBJECT_REFERENCE), ONE),
    F(8, "readOnly", BOOL, OMIT),
]);
pub static CORE_V1_FLEX_VOLUME_SOURCE: Msg = Msg(&[
    F(1, "driver", S, ONE),
    F(2, "fsType", S, OMIT),
    F(3, "secretRef", M(&CORE_V1_LOCAL_OBJECT_REFERENCE), ONE),
    F(4, "readOnly", BOOL, OMIT),
    F(5, "options", S, MAP),
]);
pub static CORE_V1_CINDER_VOLUME_SOURCE: Msg = Msg(&[
    F(1, "volumeID", S, ONE),
    F(2, "fsType", S, OMIT),
    F(3, "readOnly", BOOL, OMIT),
    F(4, "secretRef", M(&CORE_V1_LOCAL_OBJECT_REFERENCE), ONE),
]);
pub static CORE_V1_CEPH_FS_VOLUME_SOURCE: Msg = Msg(&[
    F(1, "monitors", S, REP),
    F(2, "path", S, OMIT),
    F(3, "user", S, OMIT),
    F(4, "secretFile", S, OMIT),
    F(5, "secretRef", M(&CORE_V1_LOCAL_OBJECT_REFERENCE), ONE),
    F(6, "readOnly", BOOL, OMIT),
]);
pub static CORE_V1_FLOCKER_VOLUME_SOURCE: Msg = Msg(&[F(1, "datasetName", S, OMIT), F(2, "datasetUUID", S, OMIT)]);
pub static CORE_V1_OBJECT_FIELD_SELECTOR: Msg = Msg(&[F(1, "apiVersion", S, OMIT), F(2, "fieldPath", S, ONE)]);
pub static CORE_V1_RESOURCE_FIELD_SELECTOR: Msg =
    Msg(&[F(1, "containerName", S, OMIT), F(2, "resource", S, ONE), F(3, "divisor", X(Special::Quantity), ONE)]);
pub static CORE_V1_DOWNWARD_API_VOLUME_FILE: Msg = Msg(&[
    F(1, "path", S, ONE),
    F(2, "fieldRef", M(&CORE_V1_OBJECT_FIELD_SELECTOR), ONE),
    F(3, "resourceFieldRef", M(&CORE_V1_RESOURCE_FIELD_SELECTOR), ONE),
    F(4, "mode", I32, ONE),
]);
pub static CORE_V1_DOWNWARD_API_VOLUME_SOURCE: Msg =
    Msg(&[F(1, "items", M(&CORE_V1_DOWNWARD_API_VOLUME_FILE), REP), F(2, "defaultMode", I32, ONE)]);
pub static CORE_V1_FC_VOLUME_SOURCE: Msg =
    Msg(&[F(1, "targetWWNs", S, REP), F(2, "lun", I32, ONE), F(3, "fsType", S, OMIT), F(4, "readOnly", BOOL, OMIT), F(5, "wwids", S, REP)]);
pub static CORE_V1_AZURE_FILE_VOLUME_SOURCE: Msg =
    Msg(&[F(1, "secretName", S, ONE), F(2, "shareName", S, ONE), F(3, "readOnly", BOOL, OMIT)]);
pub static CORE_V1_CONFIG_MAP_VOLUME_SOURCE: Msg = Msg(&[
    F(1, "", M(&CORE_V1_LOCAL_OBJECT_REFERENCE), INLINE),
    F(2, "items", M(&CORE_V1_KEY_TO_PATH), REP),
    F(3, "defaultMode", I32, ONE),
    F(4, "optional", BOOL, ONE),
]);
pub static CORE_V1_VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE: Msg =
    Msg(&[F(1, "volumePath", S, ONE), F(2, "fsType", S, OMIT), F(3, "storagePolicyName", S, OMIT), F(4, "storagePolicyID", S, OMIT)]);
pub static CORE_V1_QUOBYTE_VOLUME_SOURCE: Msg = Msg(&[
    F(1, "registry", S, ONE),
    F(2, "volume", S, ONE),
    F(3, "readOnly", BOOL, OMIT),
    F(4, "user", S, OMIT),
    F(5, "group", S, OMIT),
    F(6, "tenant", S, OMIT),
]);
pub static CORE_V1_AZURE_DISK_VOLUME_SOURCE: Msg = Msg(&[
    F(1, "diskName", S, ONE),
    F(2, "diskURI", S, ONE),
    F(3, "cachingMode", S, ONE),
    F(4, "fsType", S, ONE),
    F(5, "readOnly", BOOL, ONE),
    F(6, "kind", S, ONE),
]);
pub static CORE_V1_PHOTON_PERSISTENT_DISK_VOLUME_SOURCE: Msg = Msg(&[F(1, "pdID", S, ONE), F(2, "fsType", S, OMIT)]);
pub static CORE_V1_SECRET_PROJECTION: Msg =
    Msg(&[F(1, "", M(&CORE_V1_LOCAL_OBJECT_REFERENCE), INLINE), F(2, "items", M(&CORE_V1_KEY_TO_PATH), REP), F(4, "optional", BOOL, ONE)]);
pub static CORE_V1_DOWNWARD_API_PROJECTION: Msg = Msg(&[F(1, "items", M(&CORE_V1_DOWNWARD_API_VOLUME_FILE), REP)]);
pub static CORE_V1_CONFIG_MAP_PROJECTION: Msg =
    Msg(&[F(1, "", M(&CORE_V1_LOCAL_OBJECT_REFERENCE), INLINE), F(2, "items", M(&CORE_V1_KEY_TO_PATH), REP), F(4, "optional", BOOL, ONE)]);
pub static CORE_V1_SERVICE_ACCOUNT_TOKEN_PROJECTION: Msg =
    Msg(&[F(1, "audience", S, OMIT), F(2, "expirationSeconds", I64, ONE), F(3, "path", S, ONE)]);
pub static META_V1_LABEL_SELECTOR_REQUIREMENT: Msg = Msg(&[F(1, "key", S, ONE), F(2, "operator", S, ONE), F(3, "values", S, REP)]);
pub static META_V1_LABEL_SELECTOR: Msg =
    Msg(&[F(1, "matchLabels", S, MAP), F(2, "matchExpressions", M(&META_V1_LABEL_SELECTOR_REQUIREMENT), REP)]);
pub static CORE_V1_CLUSTER_TRUST_BUNDLE_PROJECTION: Msg = Msg(&[
    F(1, "name", S, ONE),
    F(2, "signerName", S, ONE),
    F(3, "labelSelector", M(&META_V1_LABEL_SELECTOR), ONE),
    F(5, "optional", BOOL, ONE),
    F(4, "path", S, ONE),
]);
pub static CORE_V1_POD_CERTIFICATE_PROJECTION: Msg = Msg(&[
    F(1, "signerName", S, OMIT),
    F(2, "keyType", S, OMIT),
    F(3, "maxExpirationSeconds", I32, ONE),
    F(4, "credentialBundlePath", S, OMIT),
    F(5, "keyPath", S, OMIT),
    F(6, "certificateChainPath", S, OMIT),
    F(7, "userAnnotations", S, MAP),
]);
pub static CORE_V1_VOLUME_PROJECTION: Msg = Msg(&[
    F(1, "secret", M(&CORE_V1_SECRET_PROJECTION), ONE),
    F(2, "downwardAPI", M(&CORE_V1_DOWNWARD_API_PROJECTION), ONE),
    F(3, "configMap", M(&CORE_V1_CONFIG_MAP_PROJECTION), ONE),
    F(4, "serviceAccountToken", M(&CORE_V1_SERVICE_ACCOUNT_TOKEN_PROJECTION), ONE),
    F(5, "clusterTrustBundle", M(&CORE_V1_CLUSTER_TRUST_BUNDLE_PROJECTION), ONE),
    F(6, "podCertificate", M(&CORE_V1_POD_CERTIFICATE_PROJECTION), ONE),
]);
pub static CORE_V1_PROJECTED_VOLUME_SOURCE: Msg =
    Msg(&[F(1, "sources", M(&CORE_V1_VOLUME_PROJECTION), REP), F(2, "defaultMode", I32, ONE)]);
pub static CORE_V1_PORTWORX_VOLUME_SOURCE: Msg = Msg(&[F(1, "volumeID", S, ONE), F(2, "fsType", S, OMIT), F(3, "readOnly", BOOL, OMIT)]);
pub static CORE_V1_SCALE_IO_VOLUME_SOURCE: Msg = Msg(&[
    F(1, "gateway", S, ONE),
    F(2, "system", S, ONE),
    F(3, "secretRef", M(&CORE_V1_LOCAL_OBJECT_REFERENCE), ONE),
    F(4, "sslEnabled", BOOL, OMIT),
    F(5, "protectionDomain", S, OMIT),
    F(6, "storagePool", S, OMIT),
    F(7, "storageMode", S, OMIT),
    F(8, "volumeName", S, OMIT),
    F(9, "fsType", S, OMIT),
    F(10, "readOnly", BOOL, OMIT),
]);
pub static CORE_V1_STORAGE_OS_VOLUME_SOURCE: Msg = Msg(&[
    F(1, "volumeName", S, OMIT),
    F(2, "volumeNamespace", S, OMIT),
    F(3, "fsType", S, OMIT),
    F(4, "readOnly", BOOL, OMIT),
    F(5, "secretRef", M(&CORE_V1_LOCAL_OBJECT_REFERENCE), ONE),
]);
pub static CORE_V1_CSI_VOLUME_SOURCE: Msg = Msg(&[
    F(1, "driver", S, ONE),
    F(2, "readOnly", BOOL, ONE),
    F(3, "fsType", S, ONE),
    F(4, "volumeAttributes", S, MAP),
    F(5, "nodePublishSecretRef", M(&CORE_V1_LOCAL_OBJECT_REFERENCE), ONE),
]);
pub static CORE_V1_VOLUME_RESOURCE_REQUIREMENTS: Msg =
    Msg(&[F(1, "limits", X(Special::Quantity), MAP), F(2, "requests", X(Special::Quantity), MAP)]);
pub static CORE_V1_TYPED_LOCAL_OBJECT_REFERENCE: Msg = Msg(&[F(1, "apiGroup", S, ONE), F(2, "kind", S, ONE), F(3, "name", S, ONE)]);
pub static CORE_V1_TYPED_OBJECT_REFERENCE: Msg =
    Msg(&[F(1, "apiGroup", S, ONE), F(2, "kind", S, ONE), F(3, "name", S, ONE), F(4, "namespace", S, ONE)]);
pub static CORE_V1_PERSISTENT_VOLUME_CLAIM_SPEC: Msg = Msg(&[
    F(1, "accessModes", S, REP),
    F(4, "selector", M(&META_V1_LABEL_SELECTOR), ONE),
    F(2, "resources", M(&CORE_V1_VOLUME_RESOURCE_REQUIREMENTS), ONE),
    F(3, "volumeName", S, OMIT),
    F(5, "storageClassName", S, ONE),
    F(6, "volumeMode", S, ONE),
    F(7, "dataSource", M(&CORE_V1_TYPED_LOCAL_OBJECT_REFERENCE), ONE),
    F(8, "dataSourceRef", M(&CORE_V1_TYPED_OBJECT_REFERENCE), ONE),
    F(9, "volumeAttributesClassName", S, ONE),
]);
pub static CORE_V1_PERSISTENT_VOLUME_CLAIM_TEMPLATE: Msg =
    Msg(&[F(1, "metadata", M(&META_V1_OBJECT_META), ONE), F(2, "spec", M(&CORE_V1_PERSISTENT_VOLUME_CLAIM_SPEC), ONE)]);
pub static CORE_V1_EPHEMERAL_VOLUME_SOURCE: Msg = Msg(&[F(1, "volumeClaimTemplate", M(&CORE_V1_PERSISTENT_VOLUME_CLAIM_TEMPLATE), ONE)]);
pub static CORE_V1_IMAGE_VOLUME_SOURCE: Msg = Msg(&[F(1, "reference", S, OMIT), F(2, "pullPolicy", S, OMIT)]);
pub static CORE_V1_VOLUME_SOURCE: Msg = Msg(&[
    F(1, "hostPath", M(&CORE_V1_HOST_PATH_VOLUME_SOURCE), ONE),
    F(2, "emptyDir", M(&CORE_V1_EMPTY_DIR_VOLUME_SOURCE), ONE),
    F(3, "gcePersistentDisk", M(&CORE_V1_GCE_PERSISTENT_DISK_VOLUME_SOURCE), ONE),
    F(4, "awsElasticBlockStore", M(&CORE_V1_AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE), ONE),
    F(5, "gitRepo", M(&CORE_V1_GIT_REPO_VOLUME_SOURCE), ONE),
    F(6, "secret", M(&CORE_V1_SECRET_VOLUME_SOURCE), ONE),
    F(7, "nfs", M(&CORE_V1_NFS_VOLUME_SOURCE), ONE),
    F(8, "iscsi", M(&CORE_V1_ISCSI_VOLUME_SOURCE), ONE),
    F(9, "glusterfs", M(&CORE_V1_GLUSTERFS_VOLUME_SOURCE), ONE),
    F(10, "persistentVolumeClaim", M(&CORE_V1_PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE), ONE),
    F(11, "rbd", M(&CORE_V1_RBD_VOLUME_SOURCE), ONE),
    F(12, "flexVolume", M(&CORE_V1_FLEX_VOLUME_SOURCE), ONE),
    F(13, "cinder", M(&CORE_V1_CINDER_VOLUME_SOURCE), ONE),
    F(14, "cephfs", M(&CORE_V1_CEPH_FS_VOLUME_SOURCE), ONE),
    F(15, "flocker", M(&CORE_V1_FLOCKER_VOLUME_SOURCE), ONE),
    F(16, "downwardAPI", M(&CORE_V1_DOWNWARD_API_VOLUME_SOURCE), ONE),
    F(17, "fc", M(&CORE_V1_FC_VOLUME_SOURCE), ONE),
    F(18, "azureFile", M(&CORE_V1_AZURE_FILE_VOLUME_SOURCE), ONE),
    F(19, "configMap", M(&CORE_V1_CONFIG_MAP_VOLUME_SOURCE), ONE),
    F(20, "vsphereVolume", M(&CORE_V1_VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE), ONE),
    F(21, "quobyte", M(&CORE_V1_QUOBYTE_VOLUME_SOURCE), ONE),
    F(22, "azureDisk", M(&CORE_V1_AZURE_DISK_VOLUME_SOURCE), ONE),
    F(23, "photonPersistentDisk", M(&CORE_V1_PHOTON_PERSISTENT_DISK_VOLUME_SOURCE), ONE),
    F(26, "projected", M(&CORE_V1_PROJECTED_VOLUME_SOURCE), ONE),
    F(24, "portworxVolume", M(&CORE_V1_PORTWORX_VOLUME_SOURCE), ONE),
    F(25, "scaleIO", M(&CORE_V1_SCALE_IO_VOLUME_SOURCE), ONE),
    F(27, "storageos", M(&CORE_V1_STORAGE_OS_VOLUME_SOURCE), ONE),
    F(28, "csi", M(&CORE_V1_CSI_VOLUME_SOURCE), ONE),
    F(29, "ephemeral", M(&CORE_V1_EPHEMERAL_VOLUME_SOURCE), ONE),
    F(30, "image", M(&CORE_V1_IMAGE_VOLUME_SOURCE), ONE),
]);
pub static CORE_V1_VOLUME: Msg = Msg(&[F(1, "name", S, ONE), F(2, "", M(&CORE_V1_VOLUME_SOURCE), INLINE)]);
pub static CORE_V1_CONTAINER_PORT: Msg = Msg(&[
    F(1, "name", S, OMIT),
    F(2, "hostPort", I32, OMIT),
    F(3, "containerPort", I32, ONE),
    F(4, "protocol", S, OMIT),
    F(5, "hostIP", S, OMIT),
]);
pub static CORE_V1_CONFIG_MAP_ENV_SOURCE: Msg = Msg(&[F(1, "", M(&CORE_V1_LOCAL_OBJECT_REFERENCE), INLINE), F(2, "optional", BOOL, ONE)]);
pub static CORE_V1_SECRET_ENV_SOURCE: Msg = Msg(&[F(1, "", M(&CORE_V1_LOCAL_OBJECT_REFERENCE), INLINE), F(2, "optional", BOOL, ONE)]);
pub static CORE_V1_ENV_FROM_SOURCE: Msg = Msg(&[
    F(1, "prefix", S, OMIT),
    F(2, "configMapRef", M(&CORE_V1_CONFIG_MAP_ENV_SOURCE), ONE),
    F(3, "secretRef", M(&CORE_V1_SECRET_ENV_SOURCE), ONE),
]);
pub static CORE_V1_CONFIG_MAP_KEY_SELECTOR: Msg =
    Msg(&[F(1, "", M(&CORE_V1_LOCAL_OBJECT_REFERENCE), INLINE), F(2, "key", S, ONE), F(3, "optional", BOOL, ONE)]);
pub static CORE_V1_SECRET_KEY_SELECTOR: Msg =
    Msg(&[F(1, "", M(&CORE_V1_LOCAL_OBJECT_REFERENCE), INLINE), F(2, "key", S, ONE), F(3, "optional", BOOL, ONE)]);
pub static CORE_V1_FILE_KEY_SELECTOR: Msg =
    Msg(&[F(1, "volumeName", S, ONE), F(2, "path", S, ONE), F(3, "key", S, ONE), F(4, "optional", BOOL, ONE)]);
pub static CORE_V1_ENV_VAR_SOURCE: Msg = Msg(&[
    F(1, "fieldRef", M(&CORE_V1_OBJECT_FIELD_SELECTOR), ONE),
    F(2, "resourceFieldRef", M(&CORE_V1_RESOURCE_FIELD_SELECTOR), ONE),
    F(3, "configMapKeyRef", M(&CORE_V1_CONFIG_MAP_KEY_SELECTOR), ONE),
    F(4, "secretKeyRef", M(&CORE_V1_SECRET_KEY_SELECTOR), ONE),
    F(5, "fileKeyRef", M(&CORE_V1_FILE_KEY_SELECTOR), ONE),
]);
pub static CORE_V1_ENV_VAR: Msg = Msg(&[F(1, "name", S, ONE), F(2, "value", S, OMIT), F(3, "valueFrom", M(&CORE_V1_ENV_VAR_SOURCE), ONE)]);
pub static CORE_V1_RESOURCE_CLAIM: Msg = Msg(&[F(1, "name", S, ONE), F(2, "request", S, OMIT)]);
pub static CORE_V1_RESOURCE_REQUIREMENTS: Msg = Msg(&[
    F(1, "limits", X(Special::Quantity), MAP),
    F(2, "requests", X(Special::Quantity), MAP),
    F(3, "claims", M(&CORE_V1_RESOURCE_CLAIM), REP),
]);
pub static CORE_V1_CONTAINER_RESIZE_POLICY: Msg = Msg(&[F(1, "resourceName", S, ONE), F(2, "restartPolicy", S, ONE)]);
pub static CORE_V1_CONTAINER_RESTART_RULE_ON_EXIT_CODES: Msg = Msg(&[F(1, "operator", S, OMIT), F(2, "values", I32, REP)]);
pub static CORE_V1_CONTAINER_RESTART_RULE: Msg =
    Msg(&[F(1, "action", S, OMIT), F(2, "exitCodes", M(&CORE_V1_CONTAINER_RESTART_RULE_ON_EXIT_CODES), ONE)]);
pub static CORE_V1_VOLUME_MOUNT: Msg = Msg(&[
    F(1, "name", S, ONE),
    F(2, "readOnly", BOOL, OMIT),
    F(7, "recursiveReadOnly", S, ONE),
    F(3, "mountPath", S, ONE),
    F(4, "subPath", S, OMIT),
    F(5, "mountPropagation", S, ONE),
    F(6, "subPathExpr", S, OMIT),
]);
pub static CORE_V1_VOLUME_DEVICE: Msg = Msg(&[F(1, "name", S, ONE), F(2, "devicePath", S, ONE)]);
pub static CORE_V1_EXEC_ACTION: Msg = Msg(&[F(1, "command", S, REP)]);
pub static CORE_V1_HTTP_HEADER: Msg = Msg(&[F(1, "name", S, ONE), F(2, "value", S, ONE)]);
pub static CORE_V1_HTTP_GET_ACTION: Msg = Msg(&[
    F(1, "path", S, OMIT),
    F(2, "port", X(Special::IntOrString), ONE),
    F(3, "host", S, OMIT),
    F(4, "scheme", S, OMIT),
    F(5, "httpHeaders", M(&CORE_V1_HTTP_HEADER), REP),
]);
pub static CORE_V1_TCP_SOCKET_ACTION: Msg = Msg(&[F(1, "port", X(Special::IntOrString), ONE), F(2, "host", S, OMIT)]);
pub static CORE_V1_GRPC_ACTION: Msg = Msg(&[F(1, "port", I32, ONE), F(2, "service", S, ONE)]);
pub static CORE_V1_PROBE_HANDLER: Msg = Msg(&[
    F(1, "exec", M(&CORE_V1_EXEC_ACTION), ONE),
    F(2, "httpGet", M(&CORE_V1_HTTP_GET_ACTION), ONE),
    F(3, "tcpSocket", M(&CORE_V1_TCP_SOCKET_ACTION), ONE),
    F(4, "grpc", M(&CORE_V1_GRPC_ACTION), ONE),
]);
pub static CORE_V1_PROBE: Msg = Msg(&[
    F(1, "", M(&CORE_V1_PROBE_HANDLER), INLINE),
    F(2, "initialDelaySeconds", I32, OMIT),
    F(3, "timeoutSeconds", I32, OMIT),
    F(4, "periodSeconds", I32, OMIT),
    F(5, "successThreshold", I32, OMIT),
    F(6, "failureThreshold", I32, OMIT),
    F(7, "terminationGracePeriodSeconds", I64, ONE),
]);
pub static CORE_V1_SLEEP_ACTION: Msg = Msg(&[F(1, "seconds", I64, ONE)]);
pub static CORE_V1_LIFECYCLE_HANDLER: Msg = Msg(&[
    F(1, "exec", M(&CORE_V1_EXEC_ACTION), ONE),
    F(2, "httpGet", M(&CORE_V1_HTTP_GET_ACTION), ONE),
    F(3, "tcpSocket", M(&CORE_V1_TCP_SOCKET_ACTION), ONE),
    F(4, "sleep", M(&CORE_V1_SLEEP_ACTION), ONE),
]);
pub static CORE_V1_LIFECYCLE: Msg = Msg(&[
    F(1, "postStart", M(&CORE_V1_LIFECYCLE_HANDLER), ONE),
    F(2, "preStop", M(&CORE_V1_LIFECYCLE_HANDLER), ONE),
    F(3, "stopSignal", S, ONE),
]);
pub static CORE_V1_CAPABILITIES: Msg = Msg(&[F(1, "add", S, REP), F(2, "drop", S, REP)]);
pub static CORE_V1_SE_LINUX_OPTIONS: Msg =
    Msg(&[F(1, "user", S, OMIT), F(2, "role", S, OMIT), F(3, "type", S, OMIT), F(4, "level", S, OMIT)]);
pub static CORE_V1_WINDOWS_SECURITY_CONTEXT_OPTIONS: Msg = Msg(&[
    F(1, "gmsaCredentialSpecName", S, ONE),
    F(2, "gmsaCredentialSpec", S, ONE),
    F(3, "runAsUserName", S, ONE),
    F(4, "hostProcess", BOOL, ONE),
]);
pub static CORE_V1_SECCOMP_PROFILE: Msg = Msg(&[F(1, "type", S, ONE), F(2, "localhostProfile", S, ONE)]);
pub static CORE_V1_APP_ARMOR_PROFILE: Msg = Msg(&[F(1, "type", S, ONE), F(2, "localhostProfile", S, ONE)]);
pub static CORE_V1_SECURITY_CONTEXT: Msg = Msg(&[
    F(1, "capabilities", M(&CORE_V1_CAPABILITIES), ONE),
    F(2, "privileged", BOOL, ONE),
    F(3, "seLinuxOptions", M(&CORE_V1_SE_LINUX_OPTIONS), ONE),
    F(10, "windowsOptions", M(&CORE_V1_WINDOWS_SECURITY_CONTEXT_OPTIONS), ONE),
    F(4, "runAsUser", I64, ONE),
    F(8, "runAsGroup", I64, ONE),
    F(5, "runAsNonRoot", BOOL, ONE),
    F(6, "readOnlyRootFilesystem", BOOL, ONE),
    F(7, "allowPrivilegeEscalation", BOOL, ONE),
    F(9, "procMount", S, ONE),
    F(11, "seccompProfile", M(&CORE_V1_SECCOMP_PROFILE), ONE),
    F(12, "appArmorProfile", M(&CORE_V1_APP_ARMOR_PROFILE), ONE),
]);
pub static CORE_V1_CONTAINER: Msg = Msg(&[
    F(1, "name", S, ONE),
    F(2, "image", S, OMIT),
    F(3, "command", S, REP),
    F(4, "args", S, REP),
    F(5, "workingDir", S, OMIT),
    F(6, "ports", M(&CORE_V1_CONTAINER_PORT), REP),
    F(19, "envFrom", M(&CORE_V1_ENV_FROM_SOURCE), REP),
    F(7, "env", M(&CORE_V1_ENV_VAR), REP),
    F(8, "resources", M(&CORE_V1_RESOURCE_REQUIREMENTS), ONE),
    F(23, "resizePolicy", M(&CORE_V1_CONTAINER_RESIZE_POLICY), REP),
    F(24, "restartPolicy", S, ONE),
    F(25, "restartPolicyRules", M(&CORE_V1_CONTAINER_RESTART_RULE), REP),
    F(9, "volumeMounts", M(&CORE_V1_VOLUME_MOUNT), REP),
    F(21, "volumeDevices", M(&CORE_V1_VOLUME_DEVICE), REP),
    F(10, "livenessProbe", M(&CORE_V1_PROBE), ONE),
    F(11, "readinessProbe", M(&CORE_V1_PROBE), ONE),
    F(22, "startupProbe", M(&CORE_V1_PROBE), ONE),
    F(12, "lifecycle", M(&CORE_V1_LIFECYCLE), ONE),
    F(13, "terminationMessagePath", S, OMIT),
    F(20, "terminationMessagePolicy", S, OMIT),
    F(14, "imagePullPolicy", S, OMIT),
    F(15, "securityContext", M(&CORE_V1_SECURITY_CONTEXT), ONE),
    F(16, "stdin", BOOL, OMIT),
    F(17, "stdinOnce", BOOL, OMIT),
    F(18, "tty", BOOL, OMIT),
]);
pub static CORE_V1_EPHEMERAL_CONTAINER_COMMON: Msg = Msg(&[
    F(1, "name", S, ONE),
    F(2, "image", S, OMIT),
    F(3, "command", S, REP),
    F(4, "args", S, REP),
    F(5, "workingDir", S, OMIT),
    F(6, "ports", M(&CORE_V1_CONTAINER_PORT), REP),
    F(19, "envFrom", M(&CORE_V1_ENV_FROM_SOURCE), REP),
    F(7, "env", M(&CORE_V1_ENV_VAR), REP),
    F(8, "resources", M(&CORE_V1_RESOURCE_REQUIREMENTS), ONE),
    F(23, "resizePolicy", M(&CORE_V1_CONTAINER_RESIZE_POLICY), REP),
    F(24, "restartPolicy", S, ONE),
    F(25, "restartPolicyRules", M(&CORE_V1_CONTAINER_RESTART_RULE), REP),
    F(9, "volumeMounts", M(&CORE_V1_VOLUME_MOUNT), REP),
    F(21, "volumeDevices", M(&CORE_V1_VOLUME_DEVICE), REP),
    F(10, "livenessProbe", M(&CORE_V1_PROBE), ONE),
    F(11, "readinessProbe", M(&CORE_V1_PROBE), ONE),
    F(22, "startupProbe", M(&CORE_V1_PROBE), ONE),
    F(12, "lifecycle", M(&CORE_V1_LIFECYCLE), ONE),
    F(13, "terminationMessagePath", S, OMIT),
    F(20, "terminationMessagePolicy", S, OMIT),
    F(14, "imagePullPolicy", S, OMIT),
    F(15, "securityContext", M(&CORE_V1_SECURITY_CONTEXT), ONE),
    F(16, "stdin", BOOL, OMIT),
    F(17, "stdinOnce", BOOL, OMIT),
    F(18, "tty", BOOL, OMIT),
]);
pub static CORE_V1_EPHEMERAL_CONTAINER: Msg =
    Msg(&[F(1, "", M(&CORE_V1_EPHEMERAL_CONTAINER_COMMON), INLINE), F(2, "targetContainerName", S, OMIT)]);
pub static CORE_V1_SYSCTL: Msg = Msg(&[F(1, "name", S, ONE), F(2, "value", S, ONE)]);
pub static CORE_V1_POD_SECURITY_CONTEXT: Msg = Msg(&[
    F(1, "seLinuxOptions", M(&CORE_V1_SE_LINUX_OPTIONS), ONE),
    F(8, "windowsOptions", M(&CORE_V1_WINDOWS_SECURITY_CONTEXT_OPTIONS), ONE),
    F(2, "runAsUser", I64, ONE),
    F(6, "runAsGroup", I64, ONE),
    F(3, "runAsNonRoot", BOOL, ONE),
    F(4, "supplementalGroups", I64, REP),
    F(12, "supplementalGroupsPolicy", S, ONE),
    F(5, "fsGroup", I64, ONE),
    F(7, "sysctls", M(&CORE_V1_SYSCTL), REP),
    F(9, "fsGroupChangePolicy", S, ONE),
    F(10, "seccompProfile", M(&CORE_V1_SECCOMP_PROFILE), ONE),
    F(11, "appArmorProfile", M(&CORE_V1_APP_ARMOR_PROFILE), ONE),
    F(13, "seLinuxChangePolicy", S, ONE),
]);
pub static CORE_V1_NODE_SELECTOR_REQUIREMENT: Msg = Msg(&[F(1, "key", S, ONE), F(2, "operator", S, ONE), F(3, "values", S, REP)]);
pub static CORE_V1_NODE_SELECTOR_TERM: Msg = Msg(&[
    F(1, "matchExpressions", M(&CORE_V1_NODE_SELECTOR_REQUIREMENT), REP),
    F(2, "matchFields", M(&CORE_V1_NODE_SELECTOR_REQUIREMENT), REP),
]);
pub static CORE_V1_NODE_SELECTOR: Msg = Msg(&[F(1, "nodeSelectorTerms", M(&CORE_V1_NODE_SELECTOR_TERM), REP)]);
pub static CORE_V1_PREFERRED_SCHEDULING_TERM: Msg =
    Msg(&[F(1, "weight", I32, ONE), F(2, "preference", M(&CORE_V1_NODE_SELECTOR_TERM), ONE)]);
pub static CORE_V1_NODE_AFFINITY: Msg = Msg(&[
    F(1, "requiredDuringSchedulingIgnoredDuringExecution", M(&CORE_V1_NODE_SELECTOR), ONE),
    F(2, "preferredDuringSchedulingIgnoredDuringExecution", M(&CORE_V1_PREFERRED_SCHEDULING_TERM), REP),
]);
pub static CORE_V1_POD_AFFINITY_TERM: Msg = Msg(&[
    F(1, "labelSelector", M(&META_V1_LABEL_SELECTOR), ONE),
    F(2, "namespaces", S, REP),
    F(3, "topologyKey", S, ONE),
    F(4, "namespaceSelector", M(&META_V1_LABEL_SELECTOR), ONE),
    F(5, "matchLabelKeys", S, REP),
    F(6, "mismatchLabelKeys", S, REP),
]);
pub static CORE_V1_WEIGHTED_POD_AFFINITY_TERM: Msg =
    Msg(&[F(1, "weight", I32, ONE), F(2, "podAffinityTerm", M(&CORE_V1_POD_AFFINITY_TERM), ONE)]);
pub static CORE_V1_POD_AFFINITY: Msg = Msg(&[
    F(1, "requiredDuringSchedulingIgnoredDuringExecution", M(&CORE_V1_POD_AFFINITY_TERM), REP),
    F(2, "preferredDuringSchedulingIgnoredDuringExecution", M(&CORE_V1_WEIGHTED_POD_AFFINITY_TERM), REP),
]);
pub static CORE_V1_POD_ANTI_AFFINITY: Msg = Msg(&[
    F(1, "requiredDuringSchedulingIgnoredDuringExecution", M(&CORE_V1_POD_AFFINITY_TERM), REP),
    F(2, "preferredDuringSchedulingIgnoredDuringExecution", M(&CORE_V1_WEIGHTED_POD_AFFINITY_TERM), REP),
]);
pub static CORE_V1_AFFINITY: Msg = Msg(&[
    F(1, "nodeAffinity", M(&CORE_V1_NODE_AFFINITY), ONE),
    F(2, "podAffinity", M(&CORE_V1_POD_AFFINITY), ONE),
    F(3, "podAntiAffinity", M(&CORE_V1_POD_ANTI_AFFINITY), ONE),
]);
pub static CORE_V1_TOLERATION: Msg = Msg(&[
    F(1, "key", S, OMIT),
    F(2, "operator", S, OMIT),
    F(3, "value", S, OMIT),
    F(4, "effect", S, OMIT),
    F(5, "tolerationSeconds", I64, ONE),
]);
pub static CORE_V1_HOST_ALIAS: Msg = Msg(&[F(1, "ip", S, ONE), F(2, "hostnames", S, REP)]);
pub static CORE_V1_POD_DNS_CONFIG_OPTION: Msg = Msg(&[F(1, "name", S, OMIT), F(2, "value", S, ONE)]);
pub static CORE_V1_POD_DNS_CONFIG: Msg =
    Msg(&[F(1, "nameservers", S, REP), F(2, "searches", S, REP), F(3, "options", M(&CORE_V1_POD_DNS_CONFIG_OPTION), REP)]);
pub static CORE_V1_POD_READINESS_GATE: Msg = Msg(&[F(1, "conditionType", S, ONE)]);
pub static CORE_V1_TOPOLOGY_SPREAD_CONSTRAINT: Msg = Msg(&[
    F(1, "maxSkew", I32, ONE),
    F(2, "topologyKey", S, ONE),
    F(3, "whenUnsatisfiable", S, ONE),
    F(4, "labelSelector", M(&META_V1_LABEL_SELECTOR), ONE),
    F(5, "minDomains", I32, ONE),
    F(6, "nodeAffinityPolicy", S, ONE),
    F(7, "nodeTaintsPolicy", S, ONE),
    F(8, "matchLabelKeys", S, REP),
]);
pub static CORE_V1_POD_OS: Msg = Msg(&[F(1, "name", S, ONE)]);
pub static CORE_V1_POD_SCHEDULING_GATE: Msg = Msg(&[F(1, "name", S, ONE)]);
pub static CORE_V1_POD_RESOURCE_CLAIM: Msg =
    Msg(&[F(1, "name", S, ONE), F(3, "resourceClaimName", S, ONE), F(4, "resourceClaimTemplateName", S, ONE)]);
pub static CORE_V1_POD_SCHEDULING_GROUP: Msg = Msg(&[F(1, "podGroupName", S, ONE)]);
pub static CORE_V1_POD_SPEC: Msg = Msg(&[
    F(1, "volumes", M(&CORE_V1_VOLUME), REP),
    F(20, "initContainers", M(&CORE_V1_CONTAINER), REP),
    F(2, "containers", M(&CORE_V1_CONTAINER), REP),
    F(34, "ephemeralContainers", M(&CORE_V1_EPHEMERAL_CONTAINER), REP),
    F(3, "restartPolicy", S, OMIT),
    F(4, "terminationGracePeriodSeconds", I64, ONE),
    F(5, "activeDeadlineSeconds", I64, ONE),
    F(6, "dnsPolicy", S, OMIT),
    F(7, "nodeSelector", S, MAP),
    F(8, "serviceAccountName", S, OMIT),
    F(9, "serviceAccount", S, OMIT),
    F(21, "automountServiceAccountToken", BOOL, ONE),
    F(10, "nodeName", S, OMIT),
    F(11, "hostNetwork", BOOL, OMIT),
    F(12, "hostPID", BOOL, OMIT),
    F(13, "hostIPC", BOOL, OMIT),
    F(27, "shareProcessNamespace", BOOL, ONE),
    F(14, "securityContext", M(&CORE_V1_POD_SECURITY_CONTEXT), ONE),
    F(15, "imagePullSecrets", M(&CORE_V1_LOCAL_OBJECT_REFERENCE), REP),
    F(16, "hostname", S, OMIT),
    F(17, "subdomain", S, OMIT),
    F(18, "affinity", M(&CORE_V1_AFFINITY), ONE),
    F(19, "schedulerName", S, OMIT),
    F(22, "tolerations", M(&CORE_V1_TOLERATION), REP),
    F(23, "hostAliases", M(&CORE_V1_HOST_ALIAS), REP),
    F(24, "priorityClassName", S, OMIT),
    F(25, "priority", I32, ONE),
    F(26, "dnsConfig", M(&CORE_V1_POD_DNS_CONFIG), ONE),
    F(28, "readinessGates", M(&CORE_V1_POD_READINESS_GATE), REP),
    F(29, "runtimeClassName", S, ONE),
    F(30, "enableServiceLinks", BOOL, ONE),
    F(31, "preemptionPolicy", S, ONE),
    F(32, "overhead", X(Special::Quantity), MAP),
    F(33, "topologySpreadConstraints", M(&CORE_V1_TOPOLOGY_SPREAD_CONSTRAINT), REP),
    F(35, "setHostnameAsFQDN", BOOL, ONE),
    F(36, "os", M(&CORE_V1_POD_OS), ONE),
    F(37, "hostUsers", BOOL, ONE),
    F(38, "schedulingGates", M(&CORE_V1_POD_SCHEDULING_GATE), REP),
    F(39, "resourceClaims", M(&CORE_V1_POD_RESOURCE_CLAIM), REP),
    F(40, "resources", M(&CORE_V1_RESOURCE_REQUIREMENTS), ONE),
    F(41, "hostnameOverride", S, ONE),
    F(43, "schedulingGroup", M(&CORE_V1_POD_SCHEDULING_GROUP), ONE),
]);
pub static CORE_V1_POD_CONDITION: Msg = Msg(&[
    F(1, "type", S, ONE),
    F(7, "observedGeneration", I64, OMIT),
    F(2, "status", S, ONE),
    F(3, "lastProbeTime", X(Special::Time), ONE),
    F(4, "lastTransitionTime", X(Special::Time), ONE),
    F(5, "reason", S, OMIT),
    F(6, "message", S, OMIT),
]);
pub static CORE_V1_HOST_IP: Msg = Msg(&[F(1, "ip", S, ONE)]);
pub static CORE_V1_POD_IP: Msg = Msg(&[F(1, "ip", S, ONE)]);
pub static CORE_V1_CONTAINER_STATE_WAITING: Msg = Msg(&[F(1, "reason", S, OMIT), F(2, "message", S, OMIT)]);
pub static CORE_V1_CONTAINER_STATE_RUNNING: Msg = Msg(&[F(1, "startedAt", X(Special::Time), ONE)]);
pub static CORE_V1_CONTAINER_STATE_TERMINATED: Msg = Msg(&[
    F(1, "exitCode", I32, ONE),
    F(2, "signal", I32, OMIT),
    F(3, "reason", S, OMIT),
    F(4, "message", S, OMIT),
    F(5, "startedAt", X(Special::Time), ONE),
    F(6, "finishedAt", X(Special::Time), ONE),
    F(7, "containerID", S, OMIT),
]);
pub static CORE_V1_CONTAINER_STATE: Msg = Msg(&[
    F(1, "waiting", M(&CORE_V1_CONTAINER_STATE_WAITING), ONE),
    F(2, "running", M(&CORE_V1_CONTAINER_STATE_RUNNING), ONE),
    F(3, "terminated", M(&CORE_V1_CONTAINER_STATE_TERMINATED), ONE),
]);
pub static CORE_V1_IMAGE_VOLUME_STATUS: Msg = Msg(&[F(1, "imageRef", S, OMIT)]);
pub static CORE_V1_VOLUME_STATUS: Msg = Msg(&[F(1, "image", M(&CORE_V1_IMAGE_VOLUME_STATUS), ONE)]);
pub static CORE_V1_VOLUME_MOUNT_STATUS: Msg = Msg(&[
    F(1, "name", S, ONE),
    F(2, "mountPath", S, ONE),
    F(3, "readOnly", BOOL, OMIT),
    F(4, "recursiveReadOnly", S, ONE),
    F(5, "volumeStatus", M(&CORE_V1_VOLUME_STATUS), ONE),
]);
pub static CORE_V1_LINUX_CONTAINER_USER: Msg = Msg(&[F(1, "uid", I64, ONE), F(2, "gid", I64, ONE), F(3, "supplementalGroups", I64, REP)]);
pub static CORE_V1_CONTAINER_USER: Msg = Msg(&[F(1, "linux", M(&CORE_V1_LINUX_CONTAINER_USER), ONE)]);
pub static CORE_V1_RESOURCE_HEALTH: Msg = Msg(&[F(1, "resourceID", S, ONE), F(2, "health", S, OMIT), F(6, "message", S, ONE)]);
pub static CORE_V1_RESOURCE_STATUS: Msg = Msg(&[F(1, "name", S, ONE), F(2, "resources", M(&CORE_V1_RESOURCE_HEALTH), REP)]);
pub static CORE_V1_CONTAINER_STATUS: Msg = Msg(&[
    F(1, "name", S, ONE),
    F(2, "state", M(&CORE_V1_CONTAINER_STATE), ONE),
    F(3, "lastState", M(&CORE_V1_CONTAINER_STATE), ONE),
    F(4, "ready", BOOL, ONE),
    F(5, "restartCount", I32, ONE),
    F(6, "image", S, ONE),
    F(7, "imageID", S, ONE),
    F(8, "containerID", S, OMIT),
    F(9, "started", BOOL, ONE),
    F(10, "allocatedResources", X(Special::Quantity), MAP),
    F(11, "resources", M(&CORE_V1_RESOURCE_REQUIREMENTS), ONE),
    F(12, "volumeMounts", M(&CORE_V1_VOLUME_MOUNT_STATUS), REP),
    F(13, "user", M(&CORE_V1_CONTAINER_USER), ONE),
    F(14, "allocatedResourcesStatus", M(&CORE_V1_RESOURCE_STATUS), REP),
    F(15, "stopSignal", S, ONE),
]);
pub static CORE_V1_POD_RESOURCE_CLAIM_STATUS: Msg = Msg(&[F(1, "name", S, ONE), F(2, "resourceClaimName", S, ONE)]);
pub static CORE_V1_CONTAINER_EXTENDED_RESOURCE_REQUEST: Msg =
    Msg(&[F(1, "containerName", S, ONE), F(2, "resourceName", S, ONE), F(3, "requestName", S, ONE)]);
pub static CORE_V1_POD_EXTENDED_RESOURCE_CLAIM_STATUS: Msg =
    Msg(&[F(1, "requestMappings", M(&CORE_V1_CONTAINER_EXTENDED_RESOURCE_REQUEST), REP), F(2, "resourceClaimName", S, ONE)]);
pub static CORE_V1_NODE_ALLOCATABLE_RESOURCE_CLAIM_STATUS: Msg =
    Msg(&[F(1, "resourceClaimName", S, ONE), F(2, "containers", S, REP), F(3, "resources", X(Special::Quantity), MAP)]);
pub static CORE_V1_POD_STATUS: Msg = Msg(&[
    F(17, "observedGeneration", I64, OMIT),
    F(1, "phase", S, OMIT),
    F(2, "conditions", M(&CORE_V1_POD_CONDITION), REP),
    F(3, "message", S, OMIT),
    F(4, "reason", S, OMIT),
    F(11, "nominatedNodeName", S, OMIT),
    F(5, "hostIP", S, OMIT),
    F(16, "hostIPs", M(&CORE_V1_HOST_IP), REP),
    F(6, "podIP", S, OMIT),
    F(12, "podIPs", M(&CORE_V1_POD_IP), REP),
    F(7, "startTime", X(Special::Time), ONE),
    F(10, "initContainerStatuses", M(&CORE_V1_CONTAINER_STATUS), REP),
    F(8, "containerStatuses", M(&CORE_V1_CONTAINER_STATUS), REP),
    F(9, "qosClass", S, OMIT),
    F(13, "ephemeralContainerStatuses", M(&CORE_V1_CONTAINER_STATUS), REP),
    F(14, "resize", S, OMIT),
    F(15, "resourceClaimStatuses", M(&CORE_V1_POD_RESOURCE_CLAIM_STATUS), REP),
    F(18, "extendedResourceClaimStatus", M(&CORE_V1_POD_EXTENDED_RESOURCE_CLAIM_STATUS), ONE),
    F(19, "allocatedResources", X(Special::Quantity), MAP),
    F(20, "resources", M(&CORE_V1_RESOURCE_REQUIREMENTS), ONE),
    F(21, "nodeAllocatableResourceClaimStatuses", M(&CORE_V1_NODE_ALLOCATABLE_RESOURCE_CLAIM_STATUS), REP),
]);
pub static CORE_V1_POD: Msg = Msg(&[
    F(1, "metadata", M(&META_V1_OBJECT_META), ONE),
    F(2, "spec", M(&CORE_V1_POD_SPEC), ONE),
    F(3, "status", M(&CORE_V1_POD_STATUS), ONE),
]);
pub static CORE_V1_TAINT: Msg =
    Msg(&[F(1, "key", S, ONE), F(2, "value", S, OMIT), F(3, "effect", S, ONE), F(4, "timeAdded", X(Special::Time), ONE)]);
pub static CORE_V1_CONFIG_MAP_NODE_CONFIG_SOURCE: Msg = Msg(&[
    F(1, "namespace", S, ONE),
    F(2, "name", S, ONE),
    F(3, "uid", S, OMIT),
    F(4, "resourceVersion", S, OMIT),
    F(5, "kubeletConfigKey", S, ONE),
]);
pub static CORE_V1_NODE_CONFIG_SOURCE: Msg = Msg(&[F(2, "configMap", M(&CORE_V1_CONFIG_MAP_NODE_CONFIG_SOURCE), ONE)]);
pub static CORE_V1_NODE_SPEC: Msg = Msg(&[
    F(1, "podCIDR", S, OMIT),
    F(7, "podCIDRs", S, REP),
    F(3, "providerID", S, OMIT),
    F(4, "unschedulable", BOOL, OMIT),
    F(5, "taints", M(&CORE_V1_TAINT), REP),
    F(6, "configSource", M(&CORE_V1_NODE_CONFIG_SOURCE), ONE),
    F(2, "externalID", S, OMIT),
]);
pub static CORE_V1_NODE_CONDITION: Msg = Msg(&[
    F(1, "type", S, ONE),
    F(2, "status", S, ONE),
    F(3, "lastHeartbeatTime", X(Special::Time), ONE),
    F(4, "lastTransitionTime", X(Special::Time), ONE),
    F(5, "reason", S, OMIT),
    F(6, "message", S, OMIT),
]);
pub static CORE_V1_NODE_ADDRESS: Msg = Msg(&[F(1, "type", S, ONE), F(2, "address", S, ONE)]);
pub static CORE_V1_DAEMON_ENDPOINT: Msg = Msg(&[F(1, "Port", I32, ONE)]);
pub static CORE_V1_NODE_DAEMON_ENDPOINTS: Msg = Msg(&[F(1, "kubeletEndpoint", M(&CORE_V1_DAEMON_ENDPOINT), ONE)]);
pub static CORE_V1_NODE_SWAP_STATUS: Msg = Msg(&[F(1, "capacity", I64, ONE)]);
pub static CORE_V1_NODE_SYSTEM_INFO: Msg = Msg(&[
    F(1, "machineID", S, ONE),
    F(2, "systemUUID", S, ONE),
    F(3, "bootID", S, ONE),
    F(4, "kernelVersion", S, ONE),
    F(5, "osImage", S, ONE),
    F(6, "containerRuntimeVersion", S, ONE),
    F(7, "kubeletVersion", S, ONE),
    F(8, "kubeProxyVersion", S, ONE),
    F(9, "operatingSystem", S, ONE),
    F(10, "architecture", S, ONE),
    F(11, "swap", M(&CORE_V1_NODE_SWAP_STATUS), ONE),
]);
pub static CORE_V1_CONTAINER_IMAGE: Msg = Msg(&[F(1, "names", S, REP), F(2, "sizeBytes", I64, OMIT)]);
pub static CORE_V1_ATTACHED_VOLUME: Msg = Msg(&[F(1, "name", S, ONE), F(2, "devicePath", S, ONE)]);
pub static CORE_V1_NODE_CONFIG_STATUS: Msg = Msg(&[
    F(1, "assigned", M(&CORE_V1_NODE_CONFIG_SOURCE), ONE),
    F(2, "active", M(&CORE_V1_NODE_CONFIG_SOURCE), ONE),
    F(3, "lastKnownGood", M(&CORE_V1_NODE_CONFIG_SOURCE), ONE),
    F(4, "error", S, OMIT),
]);
pub static CORE_V1_NODE_RUNTIME_HANDLER_FEATURES: Msg =
    Msg(&[F(1, "recursiveReadOnlyMounts", BOOL, ONE), F(2, "userNamespaces", BOOL, ONE)]);
pub static CORE_V1_NODE_RUNTIME_HANDLER: Msg =
    Msg(&[F(1, "name", S, ONE), F(2, "features", M(&CORE_V1_NODE_RUNTIME_HANDLER_FEATURES), ONE)]);
pub static CORE_V1_NODE_FEATURES: Msg = Msg(&[F(1, "supplementalGroupsPolicy", BOOL, ONE)]);
pub static CORE_V1_NODE_STATUS: Msg = Msg(&[
    F(1, "capacity", X(Special::Quantity), MAP),
    F(2, "allocatable", X(Special::Quantity), MAP),
    F(3, "phase", S, OMIT),
    F(4, "conditions", M(&CORE_V1_NODE_CONDITION), REP),
    F(5, "addresses", M(&CORE_V1_NODE_ADDRESS), REP),
    F(6, "daemonEndpoints", M(&CORE_V1_NODE_DAEMON_ENDPOINTS), ONE),
    F(7, "nodeInfo", M(&CORE_V1_NODE_SYSTEM_INFO), ONE),
    F(8, "images", M(&CORE_V1_CONTAINER_IMAGE), REP),
    F(9, "volumesInUse", S, REP),
    F(10, "volumesAttached", M(&CORE_V1_ATTACHED_VOLUME), REP),
    F(11, "config", M(&CORE_V1_NODE_CONFIG_STATUS), ONE),
    F(12, "runtimeHandlers", M(&CORE_V1_NODE_RUNTIME_HANDLER), REP),
    F(13, "features", M(&CORE_V1_NODE_FEATURES), ONE),
    F(14, "declaredFeatures", S, REP),
]);
pub static CORE_V1_NODE: Msg = Msg(&[
    F(1, "metadata", M(&META_V1_OBJECT_META), ONE),
    F(2, "spec", M(&CORE_V1_NODE_SPEC), ONE),
    F(3, "status", M(&CORE_V1_NODE_STATUS), ONE),
]);
pub static CORE_V1_SERVICE_PORT: Msg = Msg(&[
    F(1, "name", S, OMIT),
    F(2, "protocol", S, OMIT),
    F(6, "appProtocol", S, ONE),
    F(3, "port", I32, ONE),
    F(4, "targetPort", X(Special::IntOrString), ONE),
    F(5, "nodePort", I32, OMIT),
]);
pub static CORE_V1_CLIENT_IP_CONFIG: Msg = Msg(&[F(1, "timeoutSeconds", I32, ONE)]);
pub static CORE_V1_SESSION_AFFINITY_CONFIG: Msg = Msg(&[F(1, "clientIP", M(&CORE_V1_CLIENT_IP_CONFIG), ONE)]);
pub static CORE_V1_SERVICE_SPEC: Msg = Msg(&[
    F(1, "ports", M(&CORE_V1_SERVICE_PORT), REP),
    F(2, "selector", S, MAP),
    F(3, "clusterIP", S, OMIT),
    F(18, "clusterIPs", S, REP),
    F(4, "type", S, OMIT),
    F(5, "externalIPs", S, REP),
    F(7, "sessionAffinity", S, OMIT),
    F(8, "loadBalancerIP", S, OMIT),
    F(9, "loadBalancerSourceRanges", S, REP),
    F(10, "externalName", S, OMIT),
    F(11, "externalTrafficPolicy", S, OMIT),
    F(12, "healthCheckNodePort", I32, OMIT),
    F(13, "publishNotReadyAddresses", BOOL, OMIT),
    F(14, "sessionAffinityConfig", M(&CORE_V1_SESSION_AFFINITY_CONFIG), ONE),
    F(19, "ipFamilies", S, REP),
    F(17, "ipFamilyPolicy", S, ONE),
    F(20, "allocateLoadBalancerNodePorts", BOOL, ONE),
    F(21, "loadBalancerClass", S, ONE),
    F(22, "internalTrafficPolicy", S, ONE),
    F(23, "trafficDistribution", S, ONE),
]);
pub static CORE_V1_PORT_STATUS: Msg = Msg(&[F(1, "port", I32, ONE), F(2, "protocol", S, ONE), F(3, "error", S, ONE)]);
pub static CORE_V1_LOAD_BALANCER_INGRESS: Msg =
    Msg(&[F(1, "ip", S, OMIT), F(2, "hostname", S, OMIT), F(3, "ipMode", S, ONE), F(4, "ports", M(&CORE_V1_PORT_STATUS), REP)]);
pub static CORE_V1_LOAD_BALANCER_STATUS: Msg = Msg(&[F(1, "ingress", M(&CORE_V1_LOAD_BALANCER_INGRESS), REP)]);
pub static META_V1_CONDITION: Msg = Msg(&[
    F(1, "type", S, ONE),
    F(2, "status", S, ONE),
    F(3, "observedGeneration", I64, OMIT),
    F(4, "lastTransitionTime", X(Special::Time), ONE),
    F(5, "reason", S, ONE),
    F(6, "message", S, ONE),
]);
pub static CORE_V1_SERVICE_STATUS: Msg =
    Msg(&[F(1, "loadBalancer", M(&CORE_V1_LOAD_BALANCER_STATUS), ONE), F(2, "conditions", M(&META_V1_CONDITION), REP)]);
pub static CORE_V1_SERVICE: Msg = Msg(&[
    F(1, "metadata", M(&META_V1_OBJECT_META), ONE),
    F(2, "spec", M(&CORE_V1_SERVICE_SPEC), ONE),
    F(3, "status", M(&CORE_V1_SERVICE_STATUS), ONE),
]);
pub static CORE_V1_POD_TEMPLATE_SPEC: Msg = Msg(&[F(1, "metadata", M(&META_V1_OBJECT_META), ONE), F(2, "spec", M(&CORE_V1_POD_SPEC), ONE)]);
pub static CORE_V1_REPLICATION_CONTROLLER_SPEC: Msg = Msg(&[
    F(1, "replicas", I32, ONE),
    F(4, "minReadySeconds", I32, OMIT),
    F(2, "selector", S, MAP),
    F(3, "template", M(&CORE_V1_POD_TEMPLATE_SPEC), ONE),
]);
pub static CORE_V1_REPLICATION_CONTROLLER_CONDITION: Msg = Msg(&[
    F(1, "type", S, ONE),
    F(2, "status", S, ONE),
    F(3, "lastTransitionTime", X(Special::Time), ONE),
    F(4, "reason", S, OMIT),
    F(5, "message", S, OMIT),
]);
pub static CORE_V1_REPLICATION_CONTROLLER_STATUS: Msg = Msg(&[
    F(1, "replicas", I32, ONE),
    F(2, "fullyLabeledReplicas", I32, OMIT),
    F(4, "readyReplicas", I32, OMIT),
    F(5, "availableReplicas", I32, OMIT),
    F(3, "observedGeneration", I64, OMIT),
    F(6, "conditions", M(&CORE_V1_REPLICATION_CONTROLLER_CONDITION), REP),
]);
pub static CORE_V1_REPLICATION_CONTROLLER: Msg = Msg(&[
    F(1, "metadata", M(&META_V1_OBJECT_META), ONE),
    F(2, "spec", M(&CORE_V1_REPLICATION_CONTROLLER_SPEC), ONE),
    F(3, "status", M(&CORE_V1_REPLICATION_CONTROLLER_STATUS), ONE),
]);
pub static CORE_V1_OBJECT_REFERENCE: Msg = Msg(&[
    F(1, "kind", S, OMIT),
    F(2, "namespace", S, OMIT),
    F(3, "name", S, OMIT),
    F(4, "uid", S, OMIT),
    F(5, "apiVersion", S, OMIT),
    F(6, "resourceVersion", S, OMIT),
    F(7, "fieldPath", S, OMIT),
]);
pub static CORE_V1_ENDPOINT_ADDRESS: Msg =
    Msg(&[F(1, "ip", S, ONE), F(3, "hostname", S, OMIT), F(4, "nodeName", S, ONE), F(2, "targetRef", M(&CORE_V1_OBJECT_REFERENCE), ONE)]);
pub static CORE_V1_ENDPOINT_PORT: Msg =
    Msg(&[F(1, "name", S, OMIT), F(2, "port", I32, ONE), F(3, "protocol", S, OMIT), F(4, "appProtocol", S, ONE)]);
pub static CORE_V1_ENDPOINT_SUBSET: Msg = Msg(&[
    F(1, "addresses", M(&CORE_V1_ENDPOINT_ADDRESS), REP),
    F(2, "notReadyAddresses", M(&CORE_V1_ENDPOINT_ADDRESS), REP),
    F(3, "ports", M(&CORE_V1_ENDPOINT_PORT), REP),
]);
pub static CORE_V1_ENDPOINTS: Msg =
    Msg(&[F(1, "metadata", M(&META_V1_OBJECT_META), ONE), F(2, "subsets", M(&CORE_V1_ENDPOINT_SUBSET), REP)]);
pub static CORE_V1_CONFIG_MAP: Msg =
    Msg(&[F(1, "metadata", M(&META_V1_OBJECT_META), ONE), F(4, "immutable", BOOL, ONE), F(2, "data", S, MAP), F(3, "binaryData", B, MAP)]);
pub static CORE_V1_SECRET: Msg = Msg(&[
    F(1, "metadata", M(&META_V1_OBJECT_META), ONE),
    F(5, "immutable", BOOL, ONE),
    F(2, "data", B, MAP),
    F(4, "stringData", S, MAP),
    F(3, "type", S, OMIT),
]);
pub static CORE_V1_SERVICE_ACCOUNT: Msg = Msg(&[
    F(1, "metadata", M(&META_V1_OBJECT_META), ONE),
    F(2, "secrets", M(&CORE_V1_OBJECT_REFERENCE), REP),
    F(3, "imagePullSecrets", M(&CORE_V1_LOCAL_OBJECT_REFERENCE), REP),
    F(4, "automountServiceAccountToken", BOOL, ONE),
]);
pub static CORE_V1_EVENT_SOURCE: Msg = Msg(&[F(1, "component", S, OMIT), F(2, "host", S, OMIT)]);
pub static CORE_V1_EVENT_SERIES: Msg = Msg(&[F(1, "count", I32, OMIT), F(2, "lastObservedTime", X(Special::MicroTime), ONE)]);
pub static CORE_V1_EVENT: Msg = Msg(&[
    F(1, "metadata", M(&META_V1_OBJECT_META), ONE),
    F(2, "involvedObject", M(&CORE_V1_OBJECT_REFERENCE), ONE),
    F(3, "reason", S, OMIT),
    F(4, "message", S, OMIT),
    F(5, "source", M(&CORE_V1_EVENT_SOURCE), ONE),
    F(6, "firstTimestamp", X(Special::Time), ONE),
    F(7, "lastTimestamp", X(Special::Time), ONE),
    F(8, "count", I32, OMIT),
    F(9, "type", S, OMIT),
    F(10, "eventTime", X(Special::MicroTime), ONE),
    F(11, "series", M(&CORE_V1_EVENT_SERIES), ONE),
    F(12, "action", S, OMIT),
    F(13, "related", M(&CORE_V1_OBJECT_REFERENCE), ONE),
    F(14, "reportingComponent", S, ONE),
    F(15, "reportingInstance", S, ONE),
]);
pub static CORE_V1_LIMIT_RANGE_ITEM: Msg = Msg(&[
    F(1, "type", S, ONE),
    F(2, "max", X(Special::Quantity), MAP),
    F(3, "min", X(Special::Quantity), MAP),
    F(4, "default", X(Special::Quantity), MAP),
    F(5, "defaultRequest", X(Special::Quantity), MAP),
    F(6, "maxLimitRequestRatio", X(Special::Quantity), MAP),
]);
pub static CORE_V1_LIMIT_RANGE_SPEC: Msg = Msg(&[F(1, "limits", M(&CORE_V1_LIMIT_RANGE_ITEM), REP)]);
pub static CORE_V1_LIMIT_RANGE: Msg =
    Msg(&[F(1, "metadata", M(&META_V1_OBJECT_META), ONE), F(2, "spec", M(&CORE_V1_LIMIT_RANGE_SPEC), ONE)]);
pub static CORE_V1_SCOPED_RESOURCE_SELECTOR_REQUIREMENT: Msg =
    Msg(&[F(1, "scopeName", S, ONE), F(2, "operator", S, ONE), F(3, "values", S, REP)]);
pub static CORE_V1_SCOPE_SELECTOR: Msg = Msg(&[F(1, "matchExpressions", M(&CORE_V1_SCOPED_RESOURCE_SELECTOR_REQUIREMENT), REP)]);
pub static CORE_V1_RESOURCE_QUOTA_SPEC: Msg =
    Msg(&[F(1, "hard", X(Special::Quantity), MAP), F(2, "scopes", S, REP), F(3, "scopeSelector", M(&CORE_V1_SCOPE_SELECTOR), ONE)]);
pub static CORE_V1_RESOURCE_QUOTA_STATUS: Msg = Msg(&[F(1, "hard", X(Special::Quantity), MAP), F(2, "used", X(Special::Quantity), MAP)]);
pub static CORE_V1_RESOURCE_QUOTA: Msg = Msg(&[
    F(1, "metadata", M(&META_V1_OBJECT_META), ONE),
    F(2, "spec", M(&CORE_V1_RESOURCE_QUOTA_SPEC), ONE),
    F(3, "status", M(&CORE_V1_RESOURCE_QUOTA_STATUS), ONE),
]);
pub static CORE_V1_PERSISTENT_VOLUME_CLAIM_CONDITION: Msg = Msg(&[
    F(1, "type", S, ONE),
    F(2, "status", S, ONE),
    F(3, "lastProbeTime", X(Special::Time), ONE),
    F(4, "lastTransitionTime", X(Special::Time), ONE),
    F(5, "reason", S, OMIT),
    F(6, "message", S, OMIT),
]);
pub static CORE_V1_MODIFY_VOLUME_STATUS: Msg = Msg(&[F(1, "targetVolumeAttributesClassName", S, OMIT), F(2, "status", S, ONE)]);
pub static CORE_V1_PERSISTENT_VOLUME_CLAIM_STATUS: Msg = Msg(&[
    F(1, "phase", S, OMIT),
    F(2, "accessModes", S, REP),
    F(3, "capacity", X(Special::Quantity), MAP),
    F(4, "conditions", M(&CORE_V1_PERSISTENT_VOLUME_CLAIM_CONDITION), REP),
    F(5, "allocatedResources", X(Special::Quantity), MAP),
    F(7, "allocatedResourceStatuses", S, MAP),
    F(8, "currentVolumeAttributesClassName", S, ONE),
    F(9, "modifyVolumeStatus", M(&CORE_V1_MODIFY_VOLUME_STATUS), ONE),
]);
pub static CORE_V1_PERSISTENT_VOLUME_CLAIM: Msg = Msg(&[
    F(1, "metadata", M(&META_V1_OBJECT_META), ONE),
    F(2, "spec", M(&CORE_V1_PERSISTENT_VOLUME_CLAIM_SPEC), ONE),
    F(3, "status", M(&CORE_V1_PERSISTENT_VOLUME_CLAIM_STATUS), ONE),
]);
pub static CORE_V1_POD_TEMPLATE: Msg =
    Msg(&[F(1, "metadata", M(&META_V1_OBJECT_META), ONE), F(2, "template", M(&CORE_V1_POD_TEMPLATE_SPEC), ONE)]);
pub static CORE_V1_BINDING: Msg = Msg(&[F(1, "metadata", M(&META_V1_OBJECT_META), ONE), F(2, "target", M(&CORE_V1_OBJECT_REFERENCE), ONE)]);
pub static APPS_V1_ROLLING_UPDATE_DEPLOYMENT: Msg =
    Msg(&[F(1, "maxUnavailable", X(Special::IntOrString), ONE), F(2, "maxSurge", X(Special::IntOrString), ONE)]);
pub static APPS_V1_DEPLOYMENT_STRATEGY: Msg =
    Msg(&[F(1, "type", S, OMIT), F(2, "rollingUpdate", M(&APPS_V1_ROLLING_UPDATE_DEPLOYMENT), ONE)]);
pub static APPS_V1_DEPLOYMENT_SPEC: Msg = Msg(&[
    F(1, "replicas", I32, ONE),
    F(2, "selector", M(&META_V1_LABEL_SELECTOR), ONE),
    F(3, "template", M(&CORE_V1_POD_TEMPLATE_SPEC), ONE),
    F(4, "strategy", M(&APPS_V1_DEPLOYMENT_STRATEGY), ONE),
    F(5, "minReadySeconds", I32, OMIT),
    F(6, "revisionHistoryLimit", I32, ONE),
    F(7, "paused", BOOL, OMIT),
    F(9, "progressDeadlineSeconds", I32, ONE),
]);
pub static APPS_V1_DEPLOYMENT_CONDITION: Msg = Msg(&[
    F(1, "type", S, ONE),
    F(2, "status", S, ONE),
    F(6, "lastUpdateTime", X(Special::Time), ONE),
    F(7, "lastTransitionTime", X(Special::Time), ONE),
    F(4, "reason", S, OMIT),
    F(5, "message", S, OMIT),
]);
pub static APPS_V1_DEPLOYMENT_STATUS: Msg = Msg(&[
    F(1, "observedGeneration", I64, OMIT),
    F(2, "replicas", I32, OMIT),
    F(3, "updatedReplicas", I32, OMIT),
    F(7, "readyReplicas", I32, OMIT),
    F(4, "availableReplicas", I32, OMIT),
    F(5, "unavailableReplicas", I32, OMIT),
    F(9, "terminatingReplicas", I32, ONE),
    F(6, "conditions", M(&APPS_V1_DEPLOYMENT_CONDITION), REP),
    F(8, "collisionCount", I32, ONE),
]);
pub static APPS_V1_DEPLOYMENT: Msg = Msg(&[
    F(1, "metadata", M(&META_V1_OBJECT_META), ONE),
    F(2, "spec", M(&APPS_V1_DEPLOYMENT_SPEC), ONE),
    F(3, "status", M(&APPS_V1_DEPLOYMENT_STATUS), ONE),
]);
pub static APPS_V1_REPLICA_SET_SPEC: Msg = Msg(&[
    F(1, "replicas", I32, ONE),
    F(4, "minReadySeconds", I32, OMIT),
    F(2, "selector", M(&META_V1_LABEL_SELECTOR), ONE),
    F(3, "template", M(&CORE_V1_POD_TEMPLATE_SPEC), ONE),
]);
pub static APPS_V1_REPLICA_SET_CONDITION: Msg = Msg(&[
    F(1, "type", S, ONE),
    F(2, "status", S, ONE),
    F(3, "lastTransitionTime", X(Special::Time), ONE),
    F(4, "reason", S, OMIT),
    F(5, "message", S, OMIT),
]);
pub static APPS_V1_REPLICA_SET_STATUS: Msg = Msg(&[
    F(1, "replicas", I32, ONE),
    F(2, "fullyLabeledReplicas", I32, OMIT),
    F(4, "readyReplicas", I32, OMIT),
    F(5, "availableReplicas", I32, OMIT),
    F(7, "terminatingReplicas", I32, ONE),
    F(3, "observedGeneration", I64, OMIT),
    F(6, "conditions", M(&APPS_V1_REPLICA_SET_CONDITION), REP),
]);
pub static APPS_V1_REPLICA_SET: Msg = Msg(&[
    F(1, "metadata", M(&META_V1_OBJECT_META), ONE),
    F(2, "spec", M(&APPS_V1_REPLICA_SET_SPEC), ONE),
    F(3, "status", M(&APPS_V1_REPLICA_SET_STATUS), ONE),
]);
pub static APPS_V1_ROLLING_UPDATE_DAEMON_SET: Msg =
    Msg(&[F(1, "maxUnavailable", X(Special::IntOrString), ONE), F(2, "maxSurge", X(Special::IntOrString), ONE)]);
pub static APPS_V1_DAEMON_SET_UPDATE_STRATEGY: Msg =
    Msg(&[F(1, "type", S, OMIT), F(2, "rollingUpdate", M(&APPS_V1_ROLLING_UPDATE_DAEMON_SET), ONE)]);
pub static APPS_V1_DAEMON_SET_SPEC: Msg = Msg(&[
    F(1, "selector", M(&META_V1_LABEL_SELECTOR), ONE),
    F(2, "template", M(&CORE_V1_POD_TEMPLATE_SPEC), ONE),
    F(3, "updateStrategy", M(&APPS_V1_DAEMON_SET_UPDATE_STRATEGY), ONE),
    F(4, "minReadySeconds", I32, OMIT),
    F(6, "revisionHistoryLimit", I32, ONE),
]);
pub static APPS_V1_DAEMON_SET_CONDITION: Msg = Msg(&[
    F(1, "type", S, ONE),
    F(2, "status", S, ONE),
    F(3, "lastTransitionTime", X(Special::Time), ONE),
    F(4, "reason", S, OMIT),
    F(5, "message", S, OMIT),
]);
pub static APPS_V1_DAEMON_SET_STATUS: Msg = Msg(&[
    F(1, "currentNumberScheduled", I32, ONE),
    F(2, "numberMisscheduled", I32, ONE),
    F(3, "desiredNumberScheduled", I32, ONE),
    F(4, "numberReady", I32, ONE),
    F(5, "observedGeneration", I64, OMIT),
    F(6, "updatedNumberScheduled", I32, OMIT),
    F(7, "numberAvailable", I32, OMIT),
    F(8, "numberUnavailable", I32, OMIT),
    F(9, "collisionCount", I32, ONE),
    F(10, "conditions", M(&APPS_V1_DAEMON_SET_CONDITION), REP),
]);
pub static APPS_V1_DAEMON_SET: Msg = Msg(&[
    F(1, "metadata", M(&META_V1_OBJECT_META), ONE),
    F(2, "spec", M(&APPS_V1_DAEMON_SET_SPEC), ONE),
    F(3, "status", M(&APPS_V1_DAEMON_SET_STATUS), ONE),
]);
pub static APPS_V1_ROLLING_UPDATE_STATEFUL_SET_STRATEGY: Msg =
    Msg(&[F(1, "partition", I32, ONE), F(2, "maxUnavailable", X(Special::IntOrString), ONE)]);
pub static APPS_V1_STATEFUL_SET_UPDATE_STRATEGY: Msg =
    Msg(&[F(1, "type", S, OMIT), F(2, "rollingUpdate", M(&APPS_V1_ROLLING_UPDATE_STATEFUL_SET_STRATEGY), ONE)]);
pub static APPS_V1_STATEFUL_SET_PERSISTENT_VOLUME_CLAIM_RETENTION_POLICY: Msg =
    Msg(&[F(1, "whenDeleted", S, OMIT), F(2, "whenScaled", S, OMIT)]);
pub static APPS_V1_STATEFUL_SET_ORDINALS: Msg = Msg(&[F(1, "start", I32, ONE)]);
pub static APPS_V1_STATEFUL_SET_SPEC: Msg = Msg(&[
    F(1, "replicas", I32, ONE),
    F(2, "selector", M(&META_V1_LABEL_SELECTOR), ONE),
    F(3, "template", M(&CORE_V1_POD_TEMPLATE_SPEC), ONE),
    F(4, "volumeClaimTemplates", M(&CORE_V1_PERSISTENT_VOLUME_CLAIM), REP),
    F(5, "serviceName", S, ONE),
    F(6, "podManagementPolicy", S, OMIT),
    F(7, "updateStrategy", M(&APPS_V1_STATEFUL_SET_UPDATE_STRATEGY), ONE),
    F(8, "revisionHistoryLimit", I32, ONE),
    F(9, "minReadySeconds", I32, OMIT),
    F(10, "persistentVolumeClaimRetentionPolicy", M(&APPS_V1_STATEFUL_SET_PERSISTENT_VOLUME_CLAIM_RETENTION_POLICY), ONE),
    F(11, "ordinals", M(&APPS_V1_STATEFUL_SET_ORDINALS), ONE),
]);
pub static APPS_V1_STATEFUL_SET_CONDITION: Msg = Msg(&[
    F(1, "type", S, ONE),
    F(2, "status", S, ONE),
    F(3, "lastTransitionTime", X(Special::Time), ONE),
    F(4, "reason", S, OMIT),
    F(5, "message", S, OMIT),
]);
pub static APPS_V1_STATEFUL_SET_STATUS: Msg = Msg(&[
    F(1, "observedGeneration", I64, OMIT),
    F(2, "replicas", I32, ONE),
    F(3, "readyReplicas", I32, OMIT),
    F(4, "currentReplicas", I32, OMIT),
    F(5, "updatedReplicas", I32, OMIT),
    F(6, "currentRevision", S, OMIT),
    F(7, "updateRevision", S, OMIT),
    F(9, "collisionCount", I32, ONE),
    F(10, "conditions", M(&APPS_V1_STATEFUL_SET_CONDITION), REP),
    F(11, "availableReplicas", I32, ONE),
]);
pub static APPS_V1_STATEFUL_SET: Msg = Msg(&[
    F(1, "metadata", M(&META_V1_OBJECT_META), ONE),
    F(2, "spec", M(&APPS_V1_STATEFUL_SET_SPEC), ONE),
    F(3, "status", M(&APPS_V1_STATEFUL_SET_STATUS), ONE),
]);
pub static APPS_V1_CONTROLLER_REVISION: Msg =
    Msg(&[F(1, "metadata", M(&META_V1_OBJECT_META), ONE), F(2, "data", X(Special::RawExtension), ONE), F(3, "revision", I64, ONE)]);
pub static BATCH_V1_POD_FAILURE_POLICY_ON_EXIT_CODES_REQUIREMENT: Msg =
    Msg(&[F(1, "containerName", S, ONE), F(2, "operator", S, ONE), F(3, "values", I32, REP)]);
pub static BATCH_V1_POD_FAILURE_POLICY_ON_POD_CONDITIONS_PATTERN: Msg = Msg(&[F(1, "type", S, ONE), F(2, "status", S, ONE)]);
pub static BATCH_V1_POD_FAILURE_POLICY_RULE: Msg = Msg(&[
    F(1, "action", S, ONE),
    F(2, "onExitCodes", M(&BATCH_V1_POD_FAILURE_POLICY_ON_EXIT_CODES_REQUIREMENT), ONE),
    F(3, "onPodConditions", M(&BATCH_V1_POD_FAILURE_POLICY_ON_POD_CONDITIONS_PATTERN), REP),
]);
pub static BATCH_V1_POD_FAILURE_POLICY: Msg = Msg(&[F(1, "rules", M(&BATCH_V1_POD_FAILURE_POLICY_RULE), REP)]);
pub static BATCH_V1_SUCCESS_POLICY_RULE: Msg = Msg(&[F(1, "succeededIndexes", S, ONE), F(2, "succeededCount", I32, ONE)]);
pub static BATCH_V1_SUCCESS_POLICY: Msg = Msg(&[F(1, "rules", M(&BATCH_V1_SUCCESS_POLICY_RULE), REP)]);
pub static BATCH_V1_JOB_SPEC: Msg = Msg(&[
    F(1, "parallelism", I32, ONE),
    F(2, "completions", I32, ONE),
    F(3, "activeDeadlineSeconds", I64, ONE),
    F(11, "podFailurePolicy", M(&BATCH_V1_POD_FAILURE_POLICY), ONE),
    F(16, "successPolicy", M(&BATCH_V1_SUCCESS_POLICY), ONE),
    F(7, "backoffLimit", I32, ONE),
    F(12, "backoffLimitPerIndex", I32, ONE),
    F(13, "maxFailedIndexes", I32, ONE),
    F(4, "selector", M(&META_V1_LABEL_SELECTOR), ONE),
    F(5, "manualSelector", BOOL, ONE),
    F(6, "template", M(&CORE_V1_POD_TEMPLATE_SPEC), ONE),
    F(8, "ttlSecondsAfterFinished", I32, ONE),
    F(9, "completionMode", S, ONE),
    F(10, "suspend", BOOL, ONE),
    F(14, "podReplacementPolicy", S, ONE),
    F(15, "managedBy", S, ONE),
]);
pub static BATCH_V1_JOB_CONDITION: Msg = Msg(&[
    F(1, "type", S, ONE),
    F(2, "status", S, ONE),
    F(3, "lastProbeTime", X(Special::Time), ONE),
    F(4, "lastTransitionTime", X(Special::Time), ONE),
    F(5, "reason", S, OMIT),
    F(6, "message", S, OMIT),
]);
pub static BATCH_V1_UNCOUNTED_TERMINATED_PODS: Msg = Msg(&[F(1, "succeeded", S, REP), F(2, "failed", S, REP)]);
pub static BATCH_V1_JOB_STATUS: Msg = Msg(&[
    F(1, "conditions", M(&BATCH_V1_JOB_CONDITION), REP),
    F(2, "startTime", X(Special::Time), ONE),
    F(3, "completionTime", X(Special::Time), ONE),
    F(4, "active", I32, OMIT),
    F(5, "succeeded", I32, OMIT),
    F(6, "failed", I32, OMIT),
    F(11, "terminating", I32, ONE),
    F(7, "completedIndexes", S, OMIT),
    F(10, "failedIndexes", S, ONE),
    F(8, "uncountedTerminatedPods", M(&BATCH_V1_UNCOUNTED_TERMINATED_PODS), ONE),
    F(9, "ready", I32, ONE),
]);
pub static BATCH_V1_JOB: Msg = Msg(&[
    F(1, "metadata", M(&META_V1_OBJECT_META), ONE),
    F(2, "spec", M(&BATCH_V1_JOB_SPEC), ONE),
    F(3, "status", M(&BATCH_V1_JOB_STATUS), ONE),
]);
pub static BATCH_V1_JOB_TEMPLATE_SPEC: Msg =
    Msg(&[F(1, "metadata", M(&META_V1_OBJECT_META), ONE), F(2, "spec", M(&BATCH_V1_JOB_SPEC), ONE)]);
pub static BATCH_V1_CRON_JOB_SPEC: Msg = Msg(&[
    F(1, "schedule", S, ONE),
    F(8, "timeZone", S, ONE),
    F(2, "startingDeadlineSeconds", I64, ONE),
    F(3, "concurrencyPolicy", S, OMIT),
    F(4, "suspend", BOOL, ONE),
    F(5, "jobTemplate", M(&BATCH_V1_JOB_TEMPLATE_SPEC), ONE),
    F(6, "successfulJobsHistoryLimit", I32, ONE),
    F(7, "failedJobsHistoryLimit", I32, ONE),
]);
pub static BATCH_V1_CRON_JOB_STATUS: Msg = Msg(&[
    F(1, "active", M(&CORE_V1_OBJECT_REFERENCE), REP),
    F(4, "lastScheduleTime", X(Special::Time), ONE),
    F(5, "lastSuccessfulTime", X(Special::Time), ONE),
]);
pub static BATCH_V1_CRON_JOB: Msg = Msg(&[
    F(1, "metadata", M(&META_V1_OBJECT_META), ONE),
    F(2, "spec", M(&BATCH_V1_CRON_JOB_SPEC), ONE),
    F(3, "status", M(&BATCH_V1_CRON_JOB_STATUS), ONE),
]);
pub static AUTOSCALING_V2_CROSS_VERSION_OBJECT_REFERENCE: Msg =
    Msg(&[F(1, "kind", S, ONE), F(2, "name", S, ONE), F(3, "apiVersion", S, OMIT)]);
pub static AUTOSCALING_V2_METRIC_TARGET: Msg = Msg(&[
    F(1, "type", S, ONE),
    F(2, "value", X(Special::Quantity), ONE),
    F(3, "averageValue", X(Special::Quantity), ONE),
    F(4, "averageUtilization", I32, ONE),
]);
pub static AUTOSCALING_V2_METRIC_IDENTIFIER: Msg = Msg(&[F(1, "name", S, ONE), F(2, "selector", M(&META_V1_LABEL_SELECTOR), ONE)]);
pub static AUTOSCALING_V2_OBJECT_METRIC_SOURCE: Msg = Msg(&[
    F(1, "describedObject", M(&AUTOSCALING_V2_CROSS_VERSION_OBJECT_REFERENCE), ONE),
    F(2, "target", M(&AUTOSCALING_V2_METRIC_TARGET), ONE),
    F(3, "metric", M(&AUTOSCALING_V2_METRIC_IDENTIFIER), ONE),
]);
pub static AUTOSCALING_V2_PODS_METRIC_SOURCE: Msg =
    Msg(&[F(1, "metric", M(&AUTOSCALING_V2_METRIC_IDENTIFIER), ONE), F(2, "target", M(&AUTOSCALING_V2_METRIC_TARGET), ONE)]);
pub static AUTOSCALING_V2_RESOURCE_METRIC_SOURCE: Msg = Msg(&[F(1, "name", S, ONE), F(2, "target", M(&AUTOSCALING_V2_METRIC_TARGET), ONE)]);
pub static AUTOSCALING_V2_CONTAINER_RESOURCE_METRIC_SOURCE: Msg =
    Msg(&[F(1, "name", S, ONE), F(2, "target", M(&AUTOSCALING_V2_METRIC_TARGET), ONE), F(3, "container", S, ONE)]);
pub static AUTOSCALING_V2_EXTERNAL_METRIC_SOURCE: Msg =
    Msg(&[F(1, "metric", M(&AUTOSCALING_V2_METRIC_IDENTIFIER), ONE), F(2, "target", M(&AUTOSCALING_V2_METRIC_TARGET), ONE)]);
pub static AUTOSCALING_V2_METRIC_SPEC: Msg = Msg(&[
    F(1, "type", S, ONE),
    F(2, "object", M(&AUTOSCALING_V2_OBJECT_METRIC_SOURCE), ONE),
    F(3, "pods", M(&AUTOSCALING_V2_PODS_METRIC_SOURCE), ONE),
    F(4, "resource", M(&AUTOSCALING_V2_RESOURCE_METRIC_SOURCE), ONE),
    F(7, "containerResource", M(&AUTOSCALING_V2_CONTAINER_RESOURCE_METRIC_SOURCE), ONE),
    F(5, "external", M(&AUTOSCALING_V2_EXTERNAL_METRIC_SOURCE), ONE),
]);
pub static AUTOSCALING_V2_HPA_SCALING_POLICY: Msg = Msg(&[F(1, "type", S, ONE), F(2, "value", I32, ONE), F(3, "periodSeconds", I32, ONE)]);
pub static AUTOSCALING_V2_HPA_SCALING_RULES: Msg = Msg(&[
    F(3, "stabilizationWindowSeconds", I32, ONE),
    F(1, "selectPolicy", S, ONE),
    F(2, "policies", M(&AUTOSCALING_V2_HPA_SCALING_POLICY), REP),
    F(4, "tolerance", X(Special::Quantity), ONE),
]);
pub static AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER_BEHAVIOR: Msg =
    Msg(&[F(1, "scaleUp", M(&AUTOSCALING_V2_HPA_SCALING_RULES), ONE), F(2, "scaleDown", M(&AUTOSCALING_V2_HPA_SCALING_RULES), ONE)]);
pub static AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER_SPEC: Msg = Msg(&[
    F(1, "scaleTargetRef", M(&AUTOSCALING_V2_CROSS_VERSION_OBJECT_REFERENCE), ONE),
    F(2, "minReplicas", I32, ONE),
    F(3, "maxReplicas", I32, ONE),
    F(4, "metrics", M(&AUTOSCALING_V2_METRIC_SPEC), REP),
    F(5, "behavior", M(&AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER_BEHAVIOR), ONE),
]);
pub static AUTOSCALING_V2_METRIC_VALUE_STATUS: Msg =
    Msg(&[F(1, "value", X(Special::Quantity), ONE), F(2, "averageValue", X(Special::Quantity), ONE), F(3, "averageUtilization", I32, ONE)]);
pub static AUTOSCALING_V2_OBJECT_METRIC_STATUS: Msg = Msg(&[
    F(1, "metric", M(&AUTOSCALING_V2_METRIC_IDENTIFIER), ONE),
    F(2, "current", M(&AUTOSCALING_V2_METRIC_VALUE_STATUS), ONE),
    F(3, "describedObject", M(&AUTOSCALING_V2_CROSS_VERSION_OBJECT_REFERENCE), ONE),
]);
pub static AUTOSCALING_V2_PODS_METRIC_STATUS: Msg =
    Msg(&[F(1, "metric", M(&AUTOSCALING_V2_METRIC_IDENTIFIER), ONE), F(2, "current", M(&AUTOSCALING_V2_METRIC_VALUE_STATUS), ONE)]);
pub static AUTOSCALING_V2_RESOURCE_METRIC_STATUS: Msg =
    Msg(&[F(1, "name", S, ONE), F(2, "current", M(&AUTOSCALING_V2_METRIC_VALUE_STATUS), ONE)]);
pub static AUTOSCALING_V2_CONTAINER_RESOURCE_METRIC_STATUS: Msg =
    Msg(&[F(1, "name", S, ONE), F(2, "current", M(&AUTOSCALING_V2_METRIC_VALUE_STATUS), ONE), F(3, "container", S, ONE)]);
pub static AUTOSCALING_V2_EXTERNAL_METRIC_STATUS: Msg =
    Msg(&[F(1, "metric", M(&AUTOSCALING_V2_METRIC_IDENTIFIER), ONE), F(2, "current", M(&AUTOSCALING_V2_METRIC_VALUE_STATUS), ONE)]);
pub static AUTOSCALING_V2_METRIC_STATUS: Msg = Msg(&[
    F(1, "type", S, ONE),
    F(2, "object", M(&AUTOSCALING_V2_OBJECT_METRIC_STATUS), ONE),
    F(3, "pods", M(&AUTOSCALING_V2_PODS_METRIC_STATUS), ONE),
    F(4, "resource", M(&AUTOSCALING_V2_RESOURCE_METRIC_STATUS), ONE),
    F(7, "containerResource", M(&AUTOSCALING_V2_CONTAINER_RESOURCE_METRIC_STATUS), ONE),
    F(5, "external", M(&AUTOSCALING_V2_EXTERNAL_METRIC_STATUS), ONE),
]);
pub static AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER_CONDITION: Msg = Msg(&[
    F(1, "type", S, ONE),
    F(2, "status", S, ONE),
    F(3, "lastTransitionTime", X(Special::Time), ONE),
    F(4, "reason", S, OMIT),
    F(5, "message", S, OMIT),
]);
pub static AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER_STATUS: Msg = Msg(&[
    F(1, "observedGeneration", I64, ONE),
    F(2, "lastScaleTime", X(Special::Time), ONE),
    F(3, "currentReplicas", I32, OMIT),
    F(4, "desiredReplicas", I32, ONE),
    F(5, "currentMetrics", M(&AUTOSCALING_V2_METRIC_STATUS), REP),
    F(6, "conditions", M(&AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER_CONDITION), REP),
]);
pub static AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER: Msg = Msg(&[
    F(1, "metadata", M(&META_V1_OBJECT_META), ONE),
    F(2, "spec", M(&AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER_SPEC), ONE),
    F(3, "status", M(&AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER_STATUS), ONE),
]);
pub static AUTOSCALING_V1_CROSS_VERSION_OBJECT_REFERENCE: Msg =
    Msg(&[F(1, "kind", S, ONE), F(2, "name", S, ONE), F(3, "apiVersion", S, OMIT)]);
pub static AUTOSCALING_V1_HORIZONTAL_POD_AUTOSCALER_SPEC: Msg = Msg(&[
    F(1, "scaleTargetRef", M(&AUTOSCALING_V1_CROSS_VERSION_OBJECT_REFERENCE), ONE),
    F(2, "minReplicas", I32, ONE),
    F(3, "maxReplicas", I32, ONE),
    F(4, "targetCPUUtilizationPercentage", I32, ONE),
]);
pub static AUTOSCALING_V1_HORIZONTAL_POD_AUTOSCALER_STATUS: Msg = Msg(&[
    F(1, "observedGeneration", I64, ONE),
    F(2, "lastScaleTime", X(Special::Time), ONE),
    F(3, "currentReplicas", I32, ONE),
    F(4, "desiredReplicas", I32, ONE),
    F(5, "currentCPUUtilizationPercentage", I32, ONE),
]);
pub static AUTOSCALING_V1_HORIZONTAL_POD_AUTOSCALER: Msg = Msg(&[
    F(1, "metadata", M(&META_V1_OBJECT_META), ONE),
    F(2, "spec", M(&AUTOSCALING_V1_HORIZONTAL_POD_AUTOSCALER_SPEC), ONE),
    F(3, "status", M(&AUTOSCALING_V1_HORIZONTAL_POD_AUTOSCALER_STATUS), ONE),
]);
pub static AUTOSCALING_V1_SCALE_SPEC: Msg = Msg(&[F(1, "replicas", I32, OMIT)]);
pub static AUTOSCALING_V1_SCALE_STATUS: Msg = Msg(&[F(1, "replicas", I32, ONE), F(2, "selector", S, OMIT)]);
pub static AUTOSCALING_V1_SCALE: Msg = Msg(&[
    F(1, "metadata", M(&META_V1_OBJECT_META), ONE),
    F(2, "spec", M(&AUTOSCALING_V1_SCALE_SPEC), ONE),
    F(3, "status", M(&AUTOSCALING_V1_SCALE_STATUS), ONE),
]);
pub static COORDINATION_V1_LEASE_SPEC: Msg = Msg(&[
    F(1, "holderIdentity", S, ONE),
    F(2, "leaseDurationSeconds", I32, ONE),
    F(3, "acquireTime", X(Special::MicroTime), ONE),
    F(4, "renewTime", X(Special::MicroTime), ONE),
    F(5, "leaseTransitions", I32, ONE),
    F(6, "strategy", S, ONE),
    F(7, "preferredHolder", S, ONE),
]);
pub static COORDINATION_V1_LEASE: Msg =
    Msg(&[F(1, "metadata", M(&META_V1_OBJECT_META), ONE), F(2, "spec", M(&COORDINATION_V1_LEASE_SPEC), ONE)]);
pub static EVENTS_V1_EVENT_SERIES: Msg = Msg(&[F(1, "count", I32, ONE), F(2, "lastObservedTime", X(Special::MicroTime), ONE)]);
pub static EVENTS_V1_EVENT: Msg = Msg(&[
    F(1, "metadata", M(&META_V1_OBJECT_META), ONE),
    F(2, "eventTime", X(Special::MicroTime), ONE),
    F(3, "series", M(&EVENTS_V1_EVENT_SERIES), ONE),
    F(4, "reportingController", S, OMIT),
    F(5, "reportingInstance", S, OMIT),
    F(6, "action", S, OMIT),
    F(7, "reason", S, OMIT),
    F(8, "regarding", M(&CORE_V1_OBJECT_REFERENCE), ONE),
    F(9, "related", M(&CORE_V1_OBJECT_REFERENCE), ONE),
    F(10, "note", S, OMIT),
    F(11, "type", S, OMIT),
    F(12, "deprecatedSource", M(&CORE_V1_EVENT_SOURCE), ONE),
    F(13, "deprecatedFirstTimestamp", X(Special::Time), ONE),
    F(14, "deprecatedLastTimestamp", X(Special::Time), ONE),
    F(15, "deprecatedCount", I32, OMIT),
]);
pub static POLICY_V1_POD_DISRUPTION_BUDGET_SPEC: Msg = Msg(&[
    F(1, "minAvailable", X(Special::IntOrString), ONE),
    F(2, "selector", M(&META_V1_LABEL_SELECTOR), ONE),
    F(3, "maxUnavailable", X(Special::IntOrString), ONE),
    F(4, "unhealthyPodEvictionPolicy", S, ONE),
]);
pub static POLICY_V1_POD_DISRUPTION_BUDGET_STATUS: Msg = Msg(&[
    F(1, "observedGeneration", I64, OMIT),
    F(2, "disruptedPods", X(Special::Time), MAP),
    F(3, "disruptionsAllowed", I32, ONE),
    F(4, "currentHealthy", I32, ONE),
    F(5, "desiredHealthy", I32, ONE),
    F(6, "expectedPods", I32, ONE),
    F(7, "conditions", M(&META_V1_CONDITION), REP),
]);
pub static POLICY_V1_POD_DISRUPTION_BUDGET: Msg = Msg(&[
    F(1, "metadata", M(&META_V1_OBJECT_META), ONE),
    F(2, "spec", M(&POLICY_V1_POD_DISRUPTION_BUDGET_SPEC), ONE),
    F(3, "status", M(&POLICY_V1_POD_DISRUPTION_BUDGET_STATUS), ONE),
]);
pub static META_V1_PRECONDITIONS: Msg = Msg(&[F(1, "uid", S, ONE), F(2, "resourceVersion", S, ONE)]);
pub static META_V1_DELETE_OPTIONS: Msg = Msg(&[
    F(1, "gracePeriodSeconds", I64, ONE),
    F(2, "preconditions", M(&META_V1_PRECONDITIONS), ONE),
    F(3, "orphanDependents", BOOL, ONE),
    F(4, "propagationPolicy", S, ONE),
    F(5, "dryRun", S, REP),
    F(6, "ignoreStoreReadErrorWithClusterBreakingPotential", BOOL, ONE),
]);
pub static POLICY_V1_EVICTION: Msg =
    Msg(&[F(1, "metadata", M(&META_V1_OBJECT_META), ONE), F(2, "deleteOptions", M(&META_V1_DELETE_OPTIONS), ONE)]);
pub static SCHEDULING_V1_PRIORITY_CLASS: Msg = Msg(&[
    F(1, "metadata", M(&META_V1_OBJECT_META), ONE),
    F(2, "value", I32, ONE),
    F(3, "globalDefault", BOOL, OMIT),
    F(4, "description", S, OMIT),
    F(5, "preemptionPolicy", S, ONE),
]);
pub static RBAC_V1_POLICY_RULE: Msg = Msg(&[
    F(1, "verbs", S, REP),
    F(2, "apiGroups", S, REP),
    F(3, "resources", S, REP),
    F(4, "resourceNames", S, REP),
    F(5, "nonResourceURLs", S, REP),
]);
pub static RBAC_V1_ROLE: Msg = Msg(&[F(1, "metadata", M(&META_V1_OBJECT_META), ONE), F(2, "rules", M(&RBAC_V1_POLICY_RULE), REP)]);
pub static RBAC_V1_SUBJECT: Msg = Msg(&[F(1, "kind", S, ONE), F(2, "apiGroup", S, OMIT), F(3, "name", S, ONE), F(4, "namespace", S, OMIT)]);
pub static RBAC_V1_ROLE_REF: Msg = Msg(&[F(1, "apiGroup", S, ONE), F(2, "kind", S, ONE), F(3, "name", S, ONE)]);
pub static RBAC_V1_ROLE_BINDING: Msg = Msg(&[
    F(1, "metadata", M(&META_V1_OBJECT_META), ONE),
    F(2, "subjects", M(&RBAC_V1_SUBJECT), REP),
    F(3, "roleRef", M(&RBAC_V1_ROLE_REF), ONE),
]);
pub static RBAC_V1_AGGREGATION_RULE: Msg = Msg(&[F(1, "clusterRoleSelectors", M(&META_V1_LABEL_SELECTOR), REP)]);
pub static RBAC_V1_CLUSTER_ROLE: Msg = Msg(&[
    F(1, "metadata", M(&META_V1_OBJECT_META), ONE),
    F(2, "rules", M(&RBAC_V1_POLICY_RULE), REP),
    F(3, "aggregationRule", M(&RBAC_V1_AGGREGATION_RULE), ONE),
]);
pub static RBAC_V1_CLUSTER_ROLE_BINDING: Msg = Msg(&[
    F(1, "metadata", M(&META_V1_OBJECT_META), ONE),
    F(2, "subjects", M(&RBAC_V1_SUBJECT), REP),
    F(3, "roleRef", M(&RBAC_V1_ROLE_REF), ONE),
]);
pub static ADMISSIONREGISTRATION_V1_SERVICE_REFERENCE: Msg =
    Msg(&[F(1, "namespace", S, ONE), F(2, "name", S, ONE), F(3, "path", S, ONE), F(4, "port", I32, ONE)]);
pub static ADMISSIONREGISTRATION_V1_WEBHOOK_CLIENT_CONFIG: Msg =
    Msg(&[F(3, "url", S, ONE), F(1, "service", M(&ADMISSIONREGISTRATION_V1_SERVICE_REFERENCE), ONE), F(2, "caBundle", B, OMIT)]);
pub static ADMISSIONREGISTRATION_V1_RULE: Msg =
    Msg(&[F(1, "apiGroups", S, REP), F(2, "apiVersions", S, REP), F(3, "resources", S, REP), F(4, "scope", S, ONE)]);
pub static ADMISSIONREGISTRATION_V1_RULE_WITH_OPERATIONS: Msg =
    Msg(&[F(1, "operations", S, REP), F(2, "", M(&ADMISSIONREGISTRATION_V1_RULE), INLINE)]);
pub static ADMISSIONREGISTRATION_V1_MATCH_CONDITION: Msg = Msg(&[F(1, "name", S, ONE), F(2, "expression", S, ONE)]);
pub static ADMISSIONREGISTRATION_V1_MUTATING_WEBHOOK: Msg = Msg(&[
    F(1, "name", S, ONE),
    F(2, "clientConfig", M(&ADMISSIONREGISTRATION_V1_WEBHOOK_CLIENT_CONFIG), ONE),
    F(3, "rules", M(&ADMISSIONREGISTRATION_V1_RULE_WITH_OPERATIONS), REP),
    F(4, "failurePolicy", S, ONE),
    F(9, "matchPolicy", S, ONE),
    F(5, "namespaceSelector", M(&META_V1_LABEL_SELECTOR), ONE),
    F(11, "objectSelector", M(&META_V1_LABEL_SELECTOR), ONE),
    F(6, "sideEffects", S, ONE),
    F(7, "timeoutSeconds", I32, ONE),
    F(8, "admissionReviewVersions", S, REP),
    F(10, "reinvocationPolicy", S, ONE),
    F(12, "matchConditions", M(&ADMISSIONREGISTRATION_V1_MATCH_CONDITION), REP),
]);
pub static ADMISSIONREGISTRATION_V1_MUTATING_WEBHOOK_CONFIGURATION: Msg =
    Msg(&[F(1, "metadata", M(&META_V1_OBJECT_META), ONE), F(2, "webhooks", M(&ADMISSIONREGISTRATION_V1_MUTATING_WEBHOOK), REP)]);
pub static ADMISSIONREGISTRATION_V1_VALIDATING_WEBHOOK: Msg = Msg(&[
    F(1, "name", S, ONE),
    F(2, "clientConfig", M(&ADMISSIONREGISTRATION_V1_WEBHOOK_CLIENT_CONFIG), ONE),
    F(3, "rules", M(&ADMISSIONREGISTRATION_V1_RULE_WITH_OPERATIONS), REP),
    F(4, "failurePolicy", S, ONE),
    F(9, "matchPolicy", S, ONE),
    F(5, "namespaceSelector", M(&META_V1_LABEL_SELECTOR), ONE),
    F(10, "objectSelector", M(&META_V1_LABEL_SELECTOR), ONE),
    F(6, "sideEffects", S, ONE),
    F(7, "timeoutSeconds", I32, ONE),
    F(8, "admissionReviewVersions", S, REP),
    F(11, "matchConditions", M(&ADMISSIONREGISTRATION_V1_MATCH_CONDITION), REP),
]);
pub static ADMISSIONREGISTRATION_V1_VALIDATING_WEBHOOK_CONFIGURATION: Msg =
    Msg(&[F(1, "metadata", M(&META_V1_OBJECT_META), ONE), F(2, "webhooks", M(&ADMISSIONREGISTRATION_V1_VALIDATING_WEBHOOK), REP)]);
pub static NETWORKING_V1_SERVICE_BACKEND_PORT: Msg = Msg(&[F(1, "name", S, OMIT), F(2, "number", I32, OMIT)]);
pub static NETWORKING_V1_INGRESS_SERVICE_BACKEND: Msg =
    Msg(&[F(1, "name", S, ONE), F(2, "port", M(&NETWORKING_V1_SERVICE_BACKEND_PORT), ONE)]);
pub static NETWORKING_V1_INGRESS_BACKEND: Msg = Msg(&[
    F(4, "service", M(&NETWORKING_V1_INGRESS_SERVICE_BACKEND), ONE),
    F(3, "resource", M(&CORE_V1_TYPED_LOCAL_OBJECT_REFERENCE), ONE),
]);
pub static NETWORKING_V1_INGRESS_TLS: Msg = Msg(&[F(1, "hosts", S, REP), F(2, "secretName", S, OMIT)]);
pub static NETWORKING_V1_HTTP_INGRESS_PATH: Msg =
    Msg(&[F(1, "path", S, OMIT), F(3, "pathType", S, ONE), F(2, "backend", M(&NETWORKING_V1_INGRESS_BACKEND), ONE)]);
pub static NETWORKING_V1_HTTP_INGRESS_RULE_VALUE: Msg = Msg(&[F(1, "paths", M(&NETWORKING_V1_HTTP_INGRESS_PATH), REP)]);
pub static NETWORKING_V1_INGRESS_RULE_VALUE: Msg = Msg(&[F(1, "http", M(&NETWORKING_V1_HTTP_INGRESS_RULE_VALUE), ONE)]);
pub static NETWORKING_V1_INGRESS_RULE: Msg = Msg(&[F(1, "host", S, OMIT), F(2, "", M(&NETWORKING_V1_INGRESS_RULE_VALUE), INLINE)]);
pub static NETWORKING_V1_INGRESS_SPEC: Msg = Msg(&[
    F(4, "ingressClassName", S, ONE),
    F(1, "defaultBackend", M(&NETWORKING_V1_INGRESS_BACKEND), ONE),
    F(2, "tls", M(&NETWORKING_V1_INGRESS_TLS), REP),
    F(3, "rules", M(&NETWORKING_V1_INGRESS_RULE), REP),
]);
pub static NETWORKING_V1_INGRESS_PORT_STATUS: Msg = Msg(&[F(1, "port", I32, ONE), F(2, "protocol", S, ONE), F(3, "error", S, ONE)]);
pub static NETWORKING_V1_INGRESS_LOAD_BALANCER_INGRESS: Msg =
    Msg(&[F(1, "ip", S, OMIT), F(2, "hostname", S, OMIT), F(4, "ports", M(&NETWORKING_V1_INGRESS_PORT_STATUS), REP)]);
pub static NETWORKING_V1_INGRESS_LOAD_BALANCER_STATUS: Msg = Msg(&[F(1, "ingress", M(&NETWORKING_V1_INGRESS_LOAD_BALANCER_INGRESS), REP)]);
pub static NETWORKING_V1_INGRESS_STATUS: Msg = Msg(&[F(1, "loadBalancer", M(&NETWORKING_V1_INGRESS_LOAD_BALANCER_STATUS), ONE)]);
pub static NETWORKING_V1_INGRESS: Msg = Msg(&[
    F(1, "metadata", M(&META_V1_OBJECT_META), ONE),
    F(2, "spec", M(&NETWORKING_V1_INGRESS_SPEC), ONE),
    F(3, "status", M(&NETWORKING_V1_INGRESS_STATUS), ONE),
]);
